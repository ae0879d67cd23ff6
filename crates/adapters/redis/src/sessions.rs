use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fred::prelude::{Expiration, KeysInterface, SetOptions, SetsInterface};
use serde::{Deserialize, Serialize};
use streamvault_core::accounts::Session;
use streamvault_core::ids::{SessionId, UserId};
use streamvault_core::ports::SessionStore;
use streamvault_core::{Error, Result};

use crate::client::{RedisClient, redis_err};

/// Sessions in Redis, for replicas that should not hit the database on every request.
///
/// Keys: `session:{token_hash}` holds the session (JSON) and expires with it;
/// `session-id:{id}` maps the public id back to the token hash; `user-sessions:{user_id}` is
/// the set of a user's session ids, pruned lazily when listed.
#[derive(Clone)]
pub struct RedisSessionStore {
    redis: RedisClient,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    id: SessionId,
    user_id: UserId,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    user_agent: Option<String>,
}

impl RedisSessionStore {
    pub fn new(redis: RedisClient) -> Self {
        Self { redis }
    }

    fn session_key(&self, token_hash: &str) -> String {
        self.redis.key(&["session", token_hash])
    }

    fn id_key(&self, id: SessionId) -> String {
        self.redis.key(&["session-id", &id.to_string()])
    }

    fn user_key(&self, user_id: UserId) -> String {
        self.redis.key(&["user-sessions", &user_id.to_string()])
    }

    async fn write(&self, s: &Session, now: DateTime<Utc>, idle: Duration, only_if_exists: bool) -> Result<bool> {
        let ttl = (s.deadline(idle) - now).num_milliseconds();
        if ttl <= 0 {
            return Ok(false);
        }
        let stored = Stored {
            id: s.id,
            user_id: s.user_id,
            created_at: s.created_at.timestamp_millis(),
            last_seen_at: s.last_seen_at.timestamp_millis(),
            expires_at: s.expires_at.timestamp_millis(),
            user_agent: s.user_agent.clone(),
        };
        let json = serde_json::to_string(&stored).map_err(Error::internal)?;
        // XX on touch: a touch racing a logout must not bring the session back.
        let opts = only_if_exists.then_some(SetOptions::XX);
        let set: Option<String> = self
            .redis
            .client
            .set(self.session_key(&s.token_hash), json, Some(Expiration::PX(ttl)), opts.clone(), false)
            .await
            .map_err(redis_err)?;
        if set.is_none() {
            return Ok(false);
        }
        self.redis
            .client
            .set::<(), _, _>(self.id_key(s.id), s.token_hash.as_str(), Some(Expiration::PX(ttl)), opts, false)
            .await
            .map_err(redis_err)?;
        Ok(true)
    }

    async fn load(&self, token_hash: &str) -> Result<Option<Session>> {
        let raw: Option<String> = self.redis.client.get(self.session_key(token_hash)).await.map_err(redis_err)?;
        let Some(raw) = raw else { return Ok(None) };
        let s: Stored = serde_json::from_str(&raw).map_err(Error::internal)?;
        let t = |ms| DateTime::from_timestamp_millis(ms).unwrap_or_default();
        Ok(Some(Session {
            id: s.id,
            token_hash: token_hash.to_owned(),
            user_id: s.user_id,
            created_at: t(s.created_at),
            last_seen_at: t(s.last_seen_at),
            expires_at: t(s.expires_at),
            user_agent: s.user_agent,
        }))
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn create(&self, s: &Session, idle: Duration) -> Result<()> {
        let user_key = self.user_key(s.user_id);
        self.redis.client.sadd::<(), _, _>(&user_key, s.id.to_string()).await.map_err(redis_err)?;
        // The index outlives any one session; it is refreshed on every login.
        let keep = (s.expires_at - s.created_at).num_milliseconds().max(1);
        self.redis.client.pexpire::<(), _>(&user_key, keep, None).await.map_err(redis_err)?;
        self.write(s, Utc::now(), idle, false).await?;
        Ok(())
    }

    async fn find_by_token_hash(&self, token_hash: &str) -> Result<Option<Session>> {
        self.load(token_hash).await
    }

    async fn touch(&self, s: &Session, at: DateTime<Utc>, idle: Duration) -> Result<()> {
        let mut s = s.clone();
        s.last_seen_at = at;
        self.write(&s, at, idle, true).await?;
        Ok(())
    }

    async fn list_for_user(&self, user_id: UserId) -> Result<Vec<Session>> {
        let user_key = self.user_key(user_id);
        let ids: Vec<String> = self.redis.client.smembers(&user_key).await.map_err(redis_err)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let hash: Option<String> = match id.parse::<SessionId>() {
                Ok(sid) => self.redis.client.get(self.id_key(sid)).await.map_err(redis_err)?,
                Err(_) => None,
            };
            let session = match hash {
                Some(h) => self.load(&h).await?.filter(|s| s.user_id == user_id),
                None => None,
            };
            match session {
                Some(s) => out.push(s),
                None => self.redis.client.srem::<(), _, _>(&user_key, id).await.map_err(redis_err)?,
            }
        }
        Ok(out)
    }

    async fn delete(&self, user_id: UserId, session_id: SessionId) -> Result<bool> {
        let hash: Option<String> = self.redis.client.get(self.id_key(session_id)).await.map_err(redis_err)?;
        let Some(hash) = hash else { return Ok(false) };
        match self.load(&hash).await? {
            Some(s) if s.user_id == user_id => {}
            _ => return Ok(false),
        }
        let deleted: i64 =
            self.redis.client.del(vec![self.session_key(&hash), self.id_key(session_id)]).await.map_err(redis_err)?;
        self.redis.client.srem::<(), _, _>(self.user_key(user_id), session_id.to_string()).await.map_err(redis_err)?;
        Ok(deleted > 0)
    }

    async fn delete_all_for_user(&self, user_id: UserId, keep: Option<SessionId>) -> Result<u64> {
        let mut n = 0;
        for s in self.list_for_user(user_id).await? {
            if Some(s.id) != keep && self.delete(user_id, s.id).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn purge_expired(&self, _now: DateTime<Utc>, _idle: Duration) -> Result<u64> {
        // Redis expires sessions by itself; stale index entries are pruned when listed.
        Ok(0)
    }
}
