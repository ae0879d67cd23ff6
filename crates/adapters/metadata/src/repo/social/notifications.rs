use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, JoinType, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, RelationDef, Select, Set,
};
use streamvault_core::ids::{NotificationId, UserId};
use streamvault_core::paging::{Cursor, Page, PageRequest};
use streamvault_core::ports::NotificationRepo;
use streamvault_core::social::{NewNotification, Notification, NotificationKind};
use streamvault_core::{Error, Result};
use uuid::Uuid;

use super::{INSERT_CHUNK, names_by_id, visible_to};
use crate::MetadataStore;
use crate::entity::social::{notification, notification_setting};
use crate::entity::{user, video};
use crate::error::{db_err, retry_deadlock};
use crate::repo::{from_ms, to_ms};

#[derive(Clone)]
pub struct SqlNotificationRepo {
    store: MetadataStore,
}

impl SqlNotificationRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

#[derive(FromQueryResult)]
struct Row {
    id: Uuid,
    kind: String,
    actor_id: Uuid,
    actor_name: String,
    video_id: Option<Uuid>,
    video_name: Option<String>,
    video_author_id: Option<Uuid>,
    comment_id: Option<Uuid>,
    created_at: i64,
    read_at: Option<i64>,
}

/// `user`'s notifications, without those about a video they may no longer see (deleted, or
/// not public any more): its title, renamed since, is the owner's alone.
fn of_user(user: UserId) -> Select<notification::Entity> {
    let video: RelationDef = notification::Entity::belongs_to(video::Entity)
        .from(notification::Column::VideoId)
        .to(video::Column::Id)
        .into();
    notification::Entity::find()
        .join(JoinType::LeftJoin, video)
        .filter(notification::Column::UserId.eq(user.uuid()))
        .filter(Condition::any().add(notification::Column::VideoId.is_null()).add(visible_to(Some(user.uuid()))))
}

fn unread() -> Condition {
    Condition::all().add(notification::Column::ReadAt.is_null())
}

#[async_trait]
impl NotificationRepo for SqlNotificationRepo {
    async fn insert(&self, notes: &[NewNotification]) -> Result<u64> {
        let mut made = 0;
        for chunk in notes.chunks(INSERT_CHUNK) {
            let rows = chunk.iter().map(|n| notification::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(n.user_id.uuid()),
                kind: Set(n.kind.as_str().to_owned()),
                actor_id: Set(n.actor_id.uuid()),
                subject_id: Set(n.subject),
                video_id: Set(n.video_id.map(|v| v.uuid())),
                comment_id: Set(n.comment_id.map(|c| c.uuid())),
                created_at: Set(to_ms(n.at)),
                read_at: Set(None),
            });
            let rows: Vec<_> = rows.collect();
            let res = retry_deadlock(|| {
                notification::Entity::insert_many(rows.clone())
                    .on_conflict_do_nothing_on([
                        notification::Column::UserId,
                        notification::Column::Kind,
                        notification::Column::SubjectId,
                    ])
                    .exec_without_returning(self.store.connection())
            })
            .await
            .map_err(db_err)?;
            if let sea_orm::TryInsertResult::Inserted(n) = res {
                made += n;
            }
        }
        Ok(made)
    }

    async fn list(&self, user: UserId, unread_only: bool, page: PageRequest) -> Result<Page<Notification>> {
        let actor: RelationDef = notification::Entity::belongs_to(user::Entity)
            .from(notification::Column::ActorId)
            .to(user::Column::Id)
            .into();
        let mut q = of_user(user)
            .select_only()
            .columns([
                notification::Column::Id,
                notification::Column::Kind,
                notification::Column::ActorId,
                notification::Column::VideoId,
                notification::Column::CommentId,
                notification::Column::CreatedAt,
                notification::Column::ReadAt,
            ])
            .column_as(user::Column::Name, "actor_name")
            .column_as(video::Column::Name, "video_name")
            .column_as(video::Column::AuthorId, "video_author_id")
            .join(JoinType::InnerJoin, actor);
        if unread_only {
            q = q.filter(unread());
        }
        if let Some(after) = page.after {
            q = q.filter(notification::Column::Id.lt(after.id));
        }
        let conn = self.store.connection();
        let rows = q
            .order_by_desc(notification::Column::Id)
            .limit(page.limit + 1)
            .into_model::<Row>()
            .all(conn)
            .await
            .map_err(db_err)?;
        // The videos' authors, for links: one query for the page.
        let names = names_by_id(conn, rows.iter().filter_map(|r| r.video_author_id)).await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            let kind = NotificationKind::parse(&r.kind)
                .ok_or_else(|| Error::bug(format!("notification {} has unknown kind {:?}", r.id, r.kind)))?;
            items.push(Notification {
                id: r.id.into(),
                kind,
                actor_id: r.actor_id.into(),
                actor_name: r.actor_name,
                video_id: r.video_id.map(Into::into),
                video_name: r.video_name,
                video_author: r.video_author_id.and_then(|a| names.get(&a).cloned()),
                comment_id: r.comment_id.map(Into::into),
                created_at: from_ms(r.created_at),
                read: r.read_at.is_some(),
            });
        }
        Ok(Page::from_rows(items, page.limit, |n: &Notification| Cursor { id: n.id.uuid(), rank: None }))
    }

    async fn unread(&self, user: UserId) -> Result<u64> {
        of_user(user).filter(unread()).count(self.store.connection()).await.map_err(db_err)
    }

    async fn mark_read(&self, user: UserId, id: Option<NotificationId>, at: DateTime<Utc>) -> Result<u64> {
        let mut q = notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, sea_orm::sea_query::Expr::value(to_ms(at)))
            .filter(notification::Column::UserId.eq(user.uuid()))
            .filter(unread());
        if let Some(id) = id {
            q = q.filter(notification::Column::Id.eq(id.uuid()));
        }
        let n = retry_deadlock(|| q.clone().exec(self.store.connection())).await.map_err(db_err)?.rows_affected;
        if let (0, Some(id)) = (n, id) {
            // Read already, or not this user's (which says nothing of whose it is).
            let theirs = notification::Entity::find()
                .filter(notification::Column::Id.eq(id.uuid()))
                .filter(notification::Column::UserId.eq(user.uuid()))
                .count(self.store.connection())
                .await
                .map_err(db_err)?;
            if theirs == 0 {
                return Err(Error::NotFound("notification"));
            }
        }
        Ok(n)
    }

    async fn settings(&self, user: UserId) -> Result<Vec<(NotificationKind, bool)>> {
        let rows = notification_setting::Entity::find()
            .filter(notification_setting::Column::UserId.eq(user.uuid()))
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        // A kind this build does not know (written by a newer one) is left out.
        Ok(rows.into_iter().filter_map(|r| NotificationKind::parse(&r.kind).map(|k| (k, r.enabled))).collect())
    }

    async fn set_setting(&self, user: UserId, kind: NotificationKind, enabled: bool) -> Result<()> {
        notification_setting::Entity::insert(notification_setting::ActiveModel {
            user_id: Set(user.uuid()),
            kind: Set(kind.as_str().to_owned()),
            enabled: Set(enabled),
        })
        .on_conflict(
            OnConflict::columns([notification_setting::Column::UserId, notification_setting::Column::Kind])
                .update_column(notification_setting::Column::Enabled)
                .to_owned(),
        )
        .exec_without_returning(self.store.connection())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn muted(&self, kind: NotificationKind, users: &[UserId]) -> Result<Vec<UserId>> {
        let mut muted = Vec::new();
        for chunk in users.chunks(INSERT_CHUNK) {
            let ids: Vec<Uuid> = notification_setting::Entity::find()
                .select_only()
                .column(notification_setting::Column::UserId)
                .filter(notification_setting::Column::Kind.eq(kind.as_str()))
                .filter(notification_setting::Column::Enabled.eq(false))
                .filter(notification_setting::Column::UserId.is_in(chunk.iter().map(|u| u.uuid())))
                .into_tuple()
                .all(self.store.connection())
                .await
                .map_err(db_err)?;
            muted.extend(ids.into_iter().map(UserId::from));
        }
        Ok(muted)
    }
}
