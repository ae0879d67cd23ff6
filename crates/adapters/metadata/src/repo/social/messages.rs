use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationDef, Set, TransactionTrait,
};
use streamvault_core::Result;
use streamvault_core::ids::UserId;
use streamvault_core::paging::{Cursor, Page, PageRequest};
use streamvault_core::ports::MessageRepo;
use streamvault_core::social::{Conversation, Message};
use uuid::Uuid;

use super::{after_ranked, names_by_id};
use crate::MetadataStore;
use crate::entity::social::{conversation, message};
use crate::entity::user;
use crate::error::{db_err, retry_deadlock};
use crate::repo::{from_ms, to_ms};

#[derive(Clone)]
pub struct SqlMessageRepo {
    store: MetadataStore,
}

impl SqlMessageRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

/// The conversation's key: its two users in id order.
fn pair(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    if a < b { (a, b) } else { (b, a) }
}

#[derive(FromQueryResult)]
struct MessageRow {
    id: Uuid,
    sender_id: Uuid,
    sender_name: String,
    recipient_id: Uuid,
    body: String,
    created_at: i64,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        Message {
            id: r.id.into(),
            sender_id: r.sender_id.into(),
            sender_name: r.sender_name,
            recipient_id: r.recipient_id.into(),
            body: r.body,
            created_at: from_ms(r.created_at),
        }
    }
}

fn with_sender() -> sea_orm::Select<message::Entity> {
    let sender: RelationDef =
        message::Entity::belongs_to(user::Entity).from(message::Column::SenderId).to(user::Column::Id).into();
    message::Entity::find()
        .select_only()
        .columns([
            message::Column::Id,
            message::Column::SenderId,
            message::Column::RecipientId,
            message::Column::Body,
            message::Column::CreatedAt,
        ])
        .column_as(user::Column::Name, "sender_name")
        .join(JoinType::InnerJoin, sender)
}

/// Moves `user`'s row of the conversation with `peer` to `m`, adding `unread`: one upsert, so
/// two first messages of a conversation make its row once.
async fn touch(
    txn: &sea_orm::DatabaseTransaction,
    user: Uuid,
    peer: Uuid,
    m: &Message,
    unread: i64,
) -> Result<(), DbErr> {
    let row = conversation::ActiveModel {
        user_id: Set(user),
        peer_id: Set(peer),
        last_message_id: Set(m.id.uuid()),
        last_at: Set(to_ms(m.created_at)),
        unread: Set(unread),
    };
    // The stored count, named with its table: `excluded` has one too (PostgreSQL would find
    // a bare name ambiguous).
    let stored = Expr::col((conversation::Entity, conversation::Column::Unread));
    conversation::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([conversation::Column::UserId, conversation::Column::PeerId])
                .update_columns([conversation::Column::LastMessageId, conversation::Column::LastAt])
                .value(conversation::Column::Unread, stored.add(unread))
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

impl SqlMessageRepo {
    async fn try_send(&self, m: &Message) -> Result<(), DbErr> {
        let (from, to) = (m.sender_id.uuid(), m.recipient_id.uuid());
        let (low, high) = pair(from, to);
        // SQLite takes its write lock at `BEGIN`, as `MetadataStore::begin` does.
        let opts = sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = self.store.connection().begin_with_options(opts).await?;
        message::ActiveModel {
            id: Set(m.id.uuid()),
            low_id: Set(low),
            high_id: Set(high),
            sender_id: Set(from),
            recipient_id: Set(to),
            body: Set(m.body.clone()),
            created_at: Set(to_ms(m.created_at)),
        }
        .insert(&txn)
        .await?;
        // The two rows in one order whoever writes: two messages of a pair crossing take their
        // row locks in the same order.
        for user in [low, high] {
            let (peer, unread) = if user == from { (to, 0) } else { (from, 1) };
            touch(&txn, user, peer, m, unread).await?;
        }
        txn.commit().await
    }
}

#[async_trait]
impl MessageRepo for SqlMessageRepo {
    async fn send(&self, m: &Message) -> Result<()> {
        retry_deadlock(|| self.try_send(m)).await.map_err(db_err)
    }

    async fn thread(&self, user: UserId, peer: UserId, page: PageRequest) -> Result<Page<Message>> {
        let (low, high) = pair(user.uuid(), peer.uuid());
        let mut q = with_sender().filter(message::Column::LowId.eq(low)).filter(message::Column::HighId.eq(high));
        if let Some(after) = page.after {
            q = q.filter(message::Column::Id.lt(after.id));
        }
        let rows = q
            .order_by_desc(message::Column::Id)
            .limit(page.limit + 1)
            .into_model::<MessageRow>()
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        let items = rows.into_iter().map(Message::from).collect();
        Ok(Page::from_rows(items, page.limit, |m: &Message| Cursor { id: m.id.uuid(), rank: None }))
    }

    async fn conversations(&self, user: UserId, page: PageRequest) -> Result<Page<Conversation>> {
        let mut q = conversation::Entity::find().filter(conversation::Column::UserId.eq(user.uuid()));
        if let Some(after) = page.after {
            q = q.filter(after_ranked(conversation::Column::LastAt, conversation::Column::PeerId, after, true));
        }
        let conn = self.store.connection();
        let rows = q
            .order_by_desc(conversation::Column::LastAt)
            .order_by_desc(conversation::Column::PeerId)
            .limit(page.limit + 1)
            .all(conn)
            .await
            .map_err(db_err)?;
        // The page's last messages and peers' names: one query each.
        let last: std::collections::HashMap<Uuid, Message> = if rows.is_empty() {
            Default::default()
        } else {
            with_sender()
                .filter(message::Column::Id.is_in(rows.iter().map(|r| r.last_message_id)))
                .into_model::<MessageRow>()
                .all(conn)
                .await
                .map_err(db_err)?
                .into_iter()
                .map(|r| (r.id, Message::from(r)))
                .collect()
        };
        let names = names_by_id(conn, rows.iter().map(|r| r.peer_id)).await?;
        let items: Vec<_> = rows
            .into_iter()
            .filter_map(|r| {
                Some(Conversation {
                    peer_id: r.peer_id.into(),
                    peer_name: names.get(&r.peer_id)?.clone(),
                    last: last.get(&r.last_message_id)?.clone(),
                    unread: u64::try_from(r.unread).unwrap_or(0),
                })
            })
            .collect();
        Ok(Page::from_rows(items, page.limit, |c: &Conversation| Cursor {
            id: c.peer_id.uuid(),
            rank: Some(to_ms(c.last.created_at)),
        }))
    }

    async fn mark_read(&self, user: UserId, peer: UserId) -> Result<()> {
        conversation::Entity::update_many()
            .col_expr(conversation::Column::Unread, Expr::value(0i64))
            .filter(conversation::Column::UserId.eq(user.uuid()))
            .filter(conversation::Column::PeerId.eq(peer.uuid()))
            .filter(conversation::Column::Unread.gt(0i64))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn unread(&self, user: UserId) -> Result<u64> {
        // Summed here: `SUM` answers a different type on each backend.
        let counts: Vec<i64> = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Unread)
            .filter(conversation::Column::UserId.eq(user.uuid()))
            .filter(conversation::Column::Unread.gt(0i64))
            .into_tuple()
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(counts.into_iter().map(|n| u64::try_from(n).unwrap_or(0)).sum())
    }
}
