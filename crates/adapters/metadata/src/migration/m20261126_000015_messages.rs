//! Private messages (站内信) and blocks. A message belongs to the conversation of its two users
//! (`low_id`, `high_id`: the pair in id order, the thread's index); each user has a row per
//! conversation with its last message and their unread count, moved in the message's own
//! transaction, so the conversation list is one index range. A block stands between two users.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::util::{cascade, create_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    LowId,
    HighId,
    SenderId,
    RecipientId,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    UserId,
    PeerId,
    LastMessageId,
    LastAt,
    Unread,
}

#[derive(DeriveIden)]
enum Blocks {
    Table,
    BlockerId,
    BlockedId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, Messages::Table)
                    .col(pk_uuid(Messages::Id))
                    .col(uuid(Messages::LowId))
                    .col(uuid(Messages::HighId))
                    .col(uuid(Messages::SenderId))
                    .col(uuid(Messages::RecipientId))
                    .col(text(Messages::Body))
                    .col(big_integer(Messages::CreatedAt))
                    .foreign_key(&mut cascade(
                        "fk_messages_sender",
                        (Messages::Table, Messages::SenderId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_messages_recipient",
                        (Messages::Table, Messages::RecipientId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_pair")
                    .table(Messages::Table)
                    .col(Messages::LowId)
                    .col(Messages::HighId)
                    .col(Messages::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                create_table(manager, Conversations::Table)
                    .col(uuid(Conversations::UserId))
                    .col(uuid(Conversations::PeerId))
                    .col(uuid(Conversations::LastMessageId))
                    .col(big_integer(Conversations::LastAt))
                    .col(big_integer(Conversations::Unread).default(0))
                    .primary_key(Index::create().col(Conversations::UserId).col(Conversations::PeerId))
                    .foreign_key(&mut cascade(
                        "fk_conversations_user",
                        (Conversations::Table, Conversations::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_conversations_peer",
                        (Conversations::Table, Conversations::PeerId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversations_recent")
                    .table(Conversations::Table)
                    .col(Conversations::UserId)
                    .col(Conversations::LastAt)
                    .col(Conversations::PeerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                create_table(manager, Blocks::Table)
                    .col(uuid(Blocks::BlockerId))
                    .col(uuid(Blocks::BlockedId))
                    .col(big_integer(Blocks::CreatedAt))
                    .primary_key(Index::create().col(Blocks::BlockerId).col(Blocks::BlockedId))
                    .foreign_key(&mut cascade(
                        "fk_blocks_blocker",
                        (Blocks::Table, Blocks::BlockerId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_blocks_blocked",
                        (Blocks::Table, Blocks::BlockedId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await
    }
}
