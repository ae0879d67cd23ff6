//! The social layer: ratings (likes and dislikes, counted on the video row in the same
//! transaction), follows, each follower's feed (an inbox written by the fan-out job, so a feed
//! page is one index range whatever the number of follows and videos), notifications with
//! per-kind settings, playlists with their items, and watch history.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::util::{cascade, create_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    HistoryPaused,
}

#[derive(DeriveIden)]
enum Videos {
    Table,
    Id,
    Likes,
    Dislikes,
}

#[derive(DeriveIden)]
enum VideoRatings {
    Table,
    VideoId,
    UserId,
    Rating,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Follows {
    Table,
    FollowerId,
    FolloweeId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FeedEntries {
    Table,
    UserId,
    VideoId,
    AuthorId,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    ActorId,
    /// What the notification is about, for its deduplication: one per recipient, kind and
    /// subject (a video, a comment, a follower), so a job run twice notifies once.
    SubjectId,
    VideoId,
    CommentId,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum NotificationSettings {
    Table,
    UserId,
    Kind,
    Enabled,
}

#[derive(DeriveIden)]
enum Playlists {
    Table,
    Id,
    OwnerId,
    /// `favorites` or `watch_later` for the two every user has; null for the user's own.
    Builtin,
    Name,
    Description,
    Visibility,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlaylistItems {
    Table,
    PlaylistId,
    VideoId,
    /// Sparse ordering key: a move takes the midpoint of its new neighbours.
    Position,
    AddedAt,
}

#[derive(DeriveIden)]
enum WatchHistory {
    Table,
    UserId,
    VideoId,
    PositionMs,
    WatchedAt,
}

fn index(name: &str, table: impl IntoIden + 'static, cols: Vec<impl IntoIden + 'static>) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(c);
    }
    idx
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [Videos::Likes, Videos::Dislikes] {
            manager
                .alter_table(Table::alter().table(Videos::Table).add_column(big_integer(col).default(0)).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter().table(Users::Table).add_column(boolean(Users::HistoryPaused).default(false)).to_owned(),
            )
            .await?;

        manager
            .create_table(
                create_table(manager, VideoRatings::Table)
                    .col(uuid(VideoRatings::VideoId))
                    .col(uuid(VideoRatings::UserId))
                    .col(small_integer(VideoRatings::Rating))
                    .col(big_integer(VideoRatings::CreatedAt))
                    .primary_key(Index::create().col(VideoRatings::VideoId).col(VideoRatings::UserId))
                    .foreign_key(&mut cascade(
                        "fk_ratings_video",
                        (VideoRatings::Table, VideoRatings::VideoId),
                        (Videos::Table, Videos::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_ratings_user",
                        (VideoRatings::Table, VideoRatings::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_ratings_user",
                VideoRatings::Table,
                vec![VideoRatings::UserId, VideoRatings::VideoId],
            ))
            .await?;

        manager
            .create_table(
                create_table(manager, Follows::Table)
                    .col(uuid(Follows::FollowerId))
                    .col(uuid(Follows::FolloweeId))
                    .col(big_integer(Follows::CreatedAt))
                    .primary_key(Index::create().col(Follows::FollowerId).col(Follows::FolloweeId))
                    .foreign_key(&mut cascade(
                        "fk_follows_follower",
                        (Follows::Table, Follows::FollowerId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_follows_followee",
                        (Follows::Table, Follows::FolloweeId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // A channel's followers, in the order the fan-out walks them.
        manager
            .create_index(index("idx_follows_followee", Follows::Table, vec![Follows::FolloweeId, Follows::FollowerId]))
            .await?;
        // A user's follows, newest first.
        manager
            .create_index(index(
                "idx_follows_follower_at",
                Follows::Table,
                vec![Follows::FollowerId, Follows::CreatedAt, Follows::FolloweeId],
            ))
            .await?;

        manager
            .create_table(
                create_table(manager, FeedEntries::Table)
                    .col(uuid(FeedEntries::UserId))
                    .col(uuid(FeedEntries::VideoId))
                    .col(uuid(FeedEntries::AuthorId))
                    .primary_key(Index::create().col(FeedEntries::UserId).col(FeedEntries::VideoId))
                    .foreign_key(&mut cascade(
                        "fk_feed_user",
                        (FeedEntries::Table, FeedEntries::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_feed_video",
                        (FeedEntries::Table, FeedEntries::VideoId),
                        (Videos::Table, Videos::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // An unfollow takes that channel's entries out of the follower's feed.
        manager
            .create_index(index(
                "idx_feed_user_author",
                FeedEntries::Table,
                vec![FeedEntries::UserId, FeedEntries::AuthorId],
            ))
            .await?;
        manager.create_index(index("idx_feed_video", FeedEntries::Table, vec![FeedEntries::VideoId])).await?;

        manager
            .create_table(
                create_table(manager, Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::UserId))
                    .col(string_len(Notifications::Kind, 32))
                    .col(uuid(Notifications::ActorId))
                    .col(uuid(Notifications::SubjectId))
                    .col(uuid_null(Notifications::VideoId))
                    .col(uuid_null(Notifications::CommentId))
                    .col(big_integer(Notifications::CreatedAt))
                    .col(big_integer_null(Notifications::ReadAt))
                    .foreign_key(&mut cascade(
                        "fk_notifications_user",
                        (Notifications::Table, Notifications::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_notifications_actor",
                        (Notifications::Table, Notifications::ActorId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_notifications_video",
                        (Notifications::Table, Notifications::VideoId),
                        (Videos::Table, Videos::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_notifications_subject",
                    Notifications::Table,
                    vec![Notifications::UserId, Notifications::Kind, Notifications::SubjectId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_notifications_user",
                Notifications::Table,
                vec![Notifications::UserId, Notifications::Id],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_notifications_unread",
                Notifications::Table,
                vec![Notifications::UserId, Notifications::ReadAt],
            ))
            .await?;
        manager
            .create_index(index("idx_notifications_video", Notifications::Table, vec![Notifications::VideoId]))
            .await?;
        manager
            .create_table(
                create_table(manager, NotificationSettings::Table)
                    .col(uuid(NotificationSettings::UserId))
                    .col(string_len(NotificationSettings::Kind, 32))
                    .col(boolean(NotificationSettings::Enabled))
                    .primary_key(Index::create().col(NotificationSettings::UserId).col(NotificationSettings::Kind))
                    .foreign_key(&mut cascade(
                        "fk_notification_settings_user",
                        (NotificationSettings::Table, NotificationSettings::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                create_table(manager, Playlists::Table)
                    .col(pk_uuid(Playlists::Id))
                    .col(uuid(Playlists::OwnerId))
                    .col(string_len_null(Playlists::Builtin, 16))
                    .col(string_len(Playlists::Name, 400))
                    .col(text(Playlists::Description))
                    .col(string_len(Playlists::Visibility, 16))
                    .col(big_integer(Playlists::CreatedAt))
                    .col(big_integer(Playlists::UpdatedAt))
                    .foreign_key(&mut cascade(
                        "fk_playlists_owner",
                        (Playlists::Table, Playlists::OwnerId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // One of each built-in per user (nulls, the user's own playlists, never collide).
        manager
            .create_index(
                index("idx_playlists_builtin", Playlists::Table, vec![Playlists::OwnerId, Playlists::Builtin])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_playlists_owner", Playlists::Table, vec![Playlists::OwnerId, Playlists::Id]))
            .await?;
        manager
            .create_table(
                create_table(manager, PlaylistItems::Table)
                    .col(uuid(PlaylistItems::PlaylistId))
                    .col(uuid(PlaylistItems::VideoId))
                    .col(big_integer(PlaylistItems::Position))
                    .col(big_integer(PlaylistItems::AddedAt))
                    .primary_key(Index::create().col(PlaylistItems::PlaylistId).col(PlaylistItems::VideoId))
                    .foreign_key(&mut cascade(
                        "fk_playlist_items_playlist",
                        (PlaylistItems::Table, PlaylistItems::PlaylistId),
                        (Playlists::Table, Playlists::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_playlist_items_video",
                        (PlaylistItems::Table, PlaylistItems::VideoId),
                        (Videos::Table, Videos::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_playlist_items_order",
                PlaylistItems::Table,
                vec![PlaylistItems::PlaylistId, PlaylistItems::Position],
            ))
            .await?;
        manager
            .create_index(index("idx_playlist_items_video", PlaylistItems::Table, vec![PlaylistItems::VideoId]))
            .await?;

        manager
            .create_table(
                create_table(manager, WatchHistory::Table)
                    .col(uuid(WatchHistory::UserId))
                    .col(uuid(WatchHistory::VideoId))
                    .col(big_integer(WatchHistory::PositionMs))
                    .col(big_integer(WatchHistory::WatchedAt))
                    .primary_key(Index::create().col(WatchHistory::UserId).col(WatchHistory::VideoId))
                    .foreign_key(&mut cascade(
                        "fk_history_user",
                        (WatchHistory::Table, WatchHistory::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_history_video",
                        (WatchHistory::Table, WatchHistory::VideoId),
                        (Videos::Table, Videos::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_history_recent",
                WatchHistory::Table,
                vec![WatchHistory::UserId, WatchHistory::WatchedAt, WatchHistory::VideoId],
            ))
            .await?;
        manager.create_index(index("idx_history_video", WatchHistory::Table, vec![WatchHistory::VideoId])).await
    }
}
