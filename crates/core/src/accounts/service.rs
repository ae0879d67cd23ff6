use crate::ErrorCode;
use std::sync::Arc;
use std::time::Duration;

use crate::ids::{Id, SessionId, UserId};
use chrono::Utc;

use super::password::{PasswordHasher, validate_password};
use super::session_cache::{SESSIONS_TOPIC, SessionCache};
use super::token::{SessionToken, hash_token};
use super::username::{username_key, validate_username};
use crate::accounts::{Session, User};
use crate::ports::{EventBus, LoginThrottle, SessionStore, ThrottlePolicy, UserRepo};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused for this long dies.
    pub idle: Duration,
    /// A session dies this long after login, however busy.
    pub absolute: Duration,
    /// `last_seen_at` is written at most this often per session, so reads do not become writes.
    pub touch_every: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(14 * 24 * 3600),
            absolute: Duration::from_secs(90 * 24 * 3600),
            touch_every: Duration::from_secs(60),
        }
    }
}

/// Who is logging in: what the client said about itself (shown in the session list) and the
/// address it comes from (as the trusted proxies report it), which logins are throttled by.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    /// The client's address as a throttling key (an IPv6 address stands for its /64).
    pub address: Option<String>,
}

/// A freshly created session, with the only copy of its token.
#[derive(Debug)]
pub struct Issued {
    pub user: User,
    pub session: Session,
    pub token: SessionToken,
}

/// The caller of a request, once its token checked out.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub session: Session,
}

#[derive(Clone)]
pub struct Accounts {
    users: Arc<dyn UserRepo>,
    sessions: Arc<dyn SessionStore>,
    throttle: Arc<dyn LoginThrottle>,
    limits: ThrottlePolicy,
    hasher: PasswordHasher,
    policy: SessionPolicy,
    cache: SessionCache,
    /// Where ended sessions are announced to the other replicas' caches.
    bus: Option<Arc<dyn EventBus>>,
}

impl Accounts {
    pub fn new(
        users: Arc<dyn UserRepo>,
        sessions: Arc<dyn SessionStore>,
        throttle: Arc<dyn LoginThrottle>,
        limits: ThrottlePolicy,
        policy: SessionPolicy,
    ) -> Self {
        Self {
            users,
            sessions,
            throttle,
            limits,
            hasher: PasswordHasher::default(),
            policy,
            cache: SessionCache::new(Duration::ZERO),
            bus: None,
        }
    }

    /// Keeps verified sessions `ttl` in the process, forgetting ended ones on every replica
    /// through `bus` (the caller runs [`SessionCache::follow`] on it).
    pub fn with_session_cache(mut self, bus: Arc<dyn EventBus>, ttl: Duration) -> Self {
        self.cache = SessionCache::new(ttl);
        self.bus = Some(bus);
        self
    }

    pub fn session_cache(&self) -> &SessionCache {
        &self.cache
    }

    /// A session of `user` ended (or all did): no replica accepts it from its cache any more.
    async fn ended(&self, user: UserId) {
        self.cache.forget_user(user);
        if let Some(bus) = &self.bus
            && let Err(e) = bus.publish(SESSIONS_TOPIC, bytes::Bytes::from(user.to_string())).await
        {
            // The others' entries run out with their time-to-live.
            tracing::warn!(user_id = %user, error = %e.report(), "ended session not announced to the other replicas");
        }
    }

    /// How long a session may live at most: the web pages' cookie lasts as long.
    pub fn session_lifetime(&self) -> Duration {
        self.policy.absolute
    }

    pub async fn signup(&self, name: &str, pwd: &str, client: ClientInfo) -> Result<Issued> {
        validate_username(name)?;
        validate_password(pwd)?;
        // Cheap pre-check so a taken name does not cost an argon2 hash; the unique index
        // still decides races.
        if self.users.find_by_name(name).await?.is_some() {
            return Err(taken());
        }
        let user = User {
            id: UserId::new(),
            name: name.to_owned(),
            password_hash: self.hasher.hash(pwd).await?,
            created_at: now_ms(),
        };
        self.users.insert(&user).await?;
        tracing::info!(user_id = %user.id, "account created");
        self.issue(user, client).await
    }

    pub async fn login(&self, name: &str, pwd: &str, client: ClientInfo) -> Result<Issued> {
        // A name that cannot exist is a bad credential, not a malformed request: do not tell
        // an attacker which rule it broke.
        let account = account_key(name);
        let address = client.address.as_deref().map(address_key);
        self.attempt(&account, address.as_deref()).await?;
        let user = if validate_username(name).is_ok() { self.users.find_by_name(name).await? } else { None };
        let ok = self.hasher.verify(pwd, user.as_ref().map(|u| u.password_hash.as_str())).await?;
        match user {
            Some(user) if ok => {
                self.succeeded(&account, address.as_deref()).await?;
                self.issue(user, client).await
            }
            _ => Err(Error::Unauthenticated("wrong user name or password")),
        }
    }

    /// Counts an attempt on the client's address and on the account before any password is
    /// checked; 429 when either has used its attempts for the window. The address is checked
    /// first, and its attempt taken back when the account refuses (no password was tried).
    async fn attempt(&self, account: &str, address: Option<&str>) -> Result<()> {
        if let Some(addr) = address
            && let Some(retry_after) = self.throttle.attempt(addr, self.limits.client).await?
        {
            tracing::warn!(client = %addr, "logins from this address throttled");
            return Err(Error::TooManyRequests { retry_after });
        }
        if let Some(retry_after) = self.throttle.attempt(account, self.limits.account).await? {
            if let Some(addr) = address {
                self.throttle.forgive(addr).await?;
            }
            tracing::warn!(account, "login throttled after repeated failures");
            return Err(Error::TooManyRequests { retry_after });
        }
        Ok(())
    }

    /// The right password: the account's failures are forgotten, and the address gets its
    /// attempt back (only that one: a success must not clear an address's guesses at others).
    async fn succeeded(&self, account: &str, address: Option<&str>) -> Result<()> {
        self.throttle.reset(account).await?;
        if let Some(addr) = address {
            self.throttle.forgive(addr).await?;
        }
        Ok(())
    }

    async fn issue(&self, user: User, client: ClientInfo) -> Result<Issued> {
        let token = SessionToken::generate();
        let now = now_ms();
        let session = Session {
            id: SessionId::new(),
            token_hash: token.hash(),
            user_id: user.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + chrono::Duration::from_std(self.policy.absolute).map_err(Error::internal)?,
            user_agent: client.user_agent.map(|ua| ua.chars().take(256).collect()),
        };
        self.sessions.create(&session, self.policy.idle).await?;
        Ok(Issued { user, session, token })
    }

    /// Resolves a bearer token to its user; any failure is a plain 401.
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated> {
        const INVALID: Error = Error::Unauthenticated("invalid or expired session");
        if token.is_empty() || token.len() > 128 {
            return Err(INVALID);
        }
        let key = hash_token(token);
        let now = Utc::now();
        if let Some(hit) = self.cache.get(&key)
            && hit.session.is_live(now, self.policy.idle)
        {
            return Ok(hit);
        }
        let Some(session) = self.sessions.find_by_token_hash(&key).await? else {
            return Err(INVALID);
        };
        if !session.is_live(now, self.policy.idle) {
            // Expired: gone for good. A failed delete only leaves it to the periodic purge.
            let _ = self.sessions.delete(session.user_id, session.id).await;
            return Err(INVALID);
        }
        let Some(user) = self.users.find_by_id(session.user_id).await? else {
            return Err(INVALID);
        };
        // Short idle timeouts need finer-grained touches than the default minute.
        let touch_every = self.policy.touch_every.min(self.policy.idle / 4);
        let stale = (now - session.last_seen_at).to_std().unwrap_or_default() >= touch_every;
        if stale {
            self.sessions.touch(&session, now, self.policy.idle).await?;
        }
        let auth = Authenticated { user, session };
        self.cache.put(key, auth.clone());
        Ok(auth)
    }

    /// Changes the password after checking the current one (throttled like a login), and ends
    /// every other session: whoever knew the old password is signed out.
    pub async fn change_password(&self, auth: &Authenticated, current: &str, new: &str) -> Result<()> {
        let account = account_key(&auth.user.name);
        self.attempt(&account, None).await?;
        let stored = self.users.find_by_id(auth.user.id).await?.ok_or(Error::Unauthenticated("the account is gone"))?;
        if !self.hasher.verify(current, Some(&stored.password_hash)).await? {
            return Err(Error::Forbidden("the current password is wrong"));
        }
        self.succeeded(&account, None).await?;
        validate_password(new)?;
        self.users.set_password_hash(auth.user.id, &self.hasher.hash(new).await?).await?;
        self.sessions.delete_all_for_user(auth.user.id, Some(auth.session.id)).await?;
        self.ended(auth.user.id).await;
        tracing::info!(user_id = %auth.user.id, "password changed; other sessions ended");
        Ok(())
    }

    pub async fn logout(&self, auth: &Authenticated) -> Result<()> {
        self.sessions.delete(auth.user.id, auth.session.id).await?;
        self.ended(auth.user.id).await;
        Ok(())
    }

    /// The user's live sessions, newest first.
    pub async fn sessions_of(&self, user_id: UserId) -> Result<Vec<Session>> {
        let now = Utc::now();
        let mut all = self.sessions.list_for_user(user_id).await?;
        all.retain(|s| s.is_live(now, self.policy.idle));
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(all)
    }

    /// Ends one of the user's sessions; another user's session id is simply not found.
    pub async fn end_session(&self, user_id: UserId, session_id: SessionId) -> Result<()> {
        if !self.sessions.delete(user_id, session_id).await? {
            return Err(Error::NotFound("session"));
        }
        self.ended(user_id).await;
        Ok(())
    }

    /// "Sign out everywhere else".
    pub async fn end_other_sessions(&self, auth: &Authenticated) -> Result<u64> {
        let n = self.sessions.delete_all_for_user(auth.user.id, Some(auth.session.id)).await?;
        self.ended(auth.user.id).await;
        Ok(n)
    }

    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        self.sessions.purge_expired(Utc::now(), self.policy.idle).await
    }
}

/// The throttling key of an account (names are unique ignoring case).
fn account_key(name: &str) -> String {
    format!("acct:{}", username_key(name))
}

/// The throttling key of a client address.
fn address_key(address: &str) -> String {
    format!("addr:{address}")
}

fn taken() -> Error {
    Error::Conflict { code: ErrorCode::UsernameTaken, message: "that user name is taken".into() }
}

/// Stored times have millisecond precision on every backend; truncate up front so that what
/// the domain holds equals what a read returns.
pub fn now_ms() -> chrono::DateTime<Utc> {
    let now = Utc::now();
    chrono::DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}
