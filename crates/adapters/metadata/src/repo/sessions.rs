use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, Set};
use streamvault_core::Result;
use streamvault_core::accounts::Session;
use streamvault_core::ids::{SessionId, UserId};
use streamvault_core::ports::SessionStore;
use uuid::Uuid;

use super::{from_ms, to_ms};
use crate::MetadataStore;
use crate::entity::session;
use crate::error::db_err;

/// Sessions in the metadata store: the default, so one process needs nothing else, and every
/// replica on a shared database sees every session.
#[derive(Clone)]
pub struct SqlSessionStore {
    store: MetadataStore,
}

impl SqlSessionStore {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

fn to_domain(m: session::Model) -> Session {
    Session {
        id: m.id.into(),
        token_hash: m.token_hash,
        user_id: m.user_id.into(),
        created_at: from_ms(m.created_at),
        last_seen_at: from_ms(m.last_seen_at),
        expires_at: from_ms(m.expires_at),
        user_agent: m.user_agent,
    }
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    async fn create(&self, s: &Session, _idle: Duration) -> Result<()> {
        session::ActiveModel {
            id: Set(s.id.into()),
            token_hash: Set(s.token_hash.clone()),
            user_id: Set(s.user_id.into()),
            created_at: Set(to_ms(s.created_at)),
            last_seen_at: Set(to_ms(s.last_seen_at)),
            expires_at: Set(to_ms(s.expires_at)),
            user_agent: Set(s.user_agent.clone()),
        }
        .insert(self.store.connection())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn find_by_token_hash(&self, token_hash: &str) -> Result<Option<Session>> {
        let found = session::Entity::find()
            .filter(session::Column::TokenHash.eq(token_hash))
            .one(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(found.map(to_domain))
    }

    async fn touch(&self, s: &Session, at: DateTime<Utc>, _idle: Duration) -> Result<()> {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(to_ms(at)))
            .filter(session::Column::Id.eq(s.id.uuid()))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn list_for_user(&self, user_id: UserId) -> Result<Vec<Session>> {
        let user_id: Uuid = user_id.into();
        let rows = session::Entity::find()
            .filter(session::Column::UserId.eq(user_id))
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(to_domain).collect())
    }

    async fn delete(&self, user_id: UserId, session_id: SessionId) -> Result<bool> {
        let user_id: Uuid = user_id.into();
        let session_id: Uuid = session_id.into();
        let res = session::Entity::delete_many()
            .filter(session::Column::Id.eq(session_id))
            .filter(session::Column::UserId.eq(user_id))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn delete_all_for_user(&self, user_id: UserId, keep: Option<SessionId>) -> Result<u64> {
        let user_id: Uuid = user_id.into();
        let keep: Option<Uuid> = keep.map(Uuid::from);
        let mut q = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id));
        if let Some(keep) = keep {
            q = q.filter(session::Column::Id.ne(keep));
        }
        Ok(q.exec(self.store.connection()).await.map_err(db_err)?.rows_affected)
    }

    async fn purge_expired(&self, now: DateTime<Utc>, idle: Duration) -> Result<u64> {
        let idle_ms = i64::try_from(idle.as_millis()).unwrap_or(i64::MAX);
        let now_ms = to_ms(now);
        let res = session::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(session::Column::ExpiresAt.lte(now_ms))
                    .add(session::Column::LastSeenAt.lte(now_ms.saturating_sub(idle_ms))),
            )
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected)
    }
}
