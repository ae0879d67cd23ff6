use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::{Figment, Provider};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{ConfigError, env_name};
use crate::mask::mask_url;
use crate::roles::RoleSet;

/// The raw layered settings, one field per configuration key (`STREAMVAULT_<FIELD>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(deserialize_with = "lenient_string")]
    pub roles: String,
    #[serde(deserialize_with = "lenient_string")]
    pub listen: String,
    pub data_dir: PathBuf,
    /// Empty means `sqlite://<data_dir>/streamvault.db`.
    #[serde(deserialize_with = "lenient_string")]
    pub database_url: String,
    /// Empty means `fs://<data_dir>/blobs`.
    #[serde(deserialize_with = "lenient_string")]
    pub storage_url: String,
    /// Empty means sessions live in the metadata store.
    #[serde(deserialize_with = "lenient_string")]
    pub session_url: String,
    /// Empty means jobs live in the metadata store.
    #[serde(deserialize_with = "lenient_string")]
    pub queue_url: String,
    /// Redis for the event bus and viewer counts between replicas; empty: in the process.
    #[serde(deserialize_with = "lenient_string")]
    pub bus_url: String,
    pub session_idle_secs: u64,
    pub session_absolute_secs: u64,
    pub login_max_failures: u32,
    pub login_window_secs: u64,
    /// Failed logins tolerated per client address per login window (every account together).
    pub login_ip_max_failures: u32,
    /// The proxies (addresses or CIDR blocks, comma-separated) whose `X-Forwarded-For` and
    /// `Forwarded` headers name the client; empty trusts none and takes the peer address.
    #[serde(deserialize_with = "lenient_string")]
    pub trusted_proxies: String,
    /// Which forwarding headers the trusted proxies write: `x-forwarded` or `forwarded`.
    #[serde(deserialize_with = "lenient_string")]
    pub proxy_headers: String,
    /// A connection that has not sent a whole request head within this long is closed.
    pub header_timeout_secs: u64,
    /// A connection whose reads make no progress this long (a stalled request body, an idle
    /// keep-alive) is closed.
    pub read_timeout_secs: u64,
    /// A response whose bytes the client does not take for this long ends (its stream slot is
    /// freed).
    pub write_timeout_secs: u64,
    pub shutdown_grace_secs: u64,
    /// How long a deleted video's bytes are kept before the worker removes them.
    pub delete_grace_secs: u64,
    /// The largest upload taken, in bytes.
    pub max_upload_bytes: u64,
    /// An unfinished upload untouched for this long is abandoned; its bytes are removed.
    pub upload_expiry_secs: u64,
    /// Bytes each user may keep in the drive (files and unfinished uploads); 0 for no limit.
    pub quota_bytes: u64,
    /// Concurrent streams per replica; one more gets 429.
    pub max_streams: u32,
    /// Concurrent streams per client address per replica; one more gets 429.
    pub max_streams_per_client: u32,
    /// How long a resumable upload's append holds its lock without renewing it.
    pub upload_lock_secs: u64,
    /// How long a worker holds a job without renewing it: a dead worker's job runs again
    /// this long after its last heartbeat.
    pub job_lease_secs: u64,
    /// The first retry of a failed job waits this long; later ones double.
    pub job_retry_secs: u64,
    /// A viewer whose player sent no heartbeat for this long no longer counts as watching.
    pub watching_ttl_secs: u64,
    /// A verified session is kept in the process this long (0: not at all).
    pub session_cache_secs: u64,
    /// Memory for finished bodies of the hot reads, in MiB (0: none kept).
    pub read_cache_mb: u64,
    /// The longest a finished read is kept, whatever the stamps say.
    pub read_cache_secs: u64,
    /// Open live connections (`/api/v1/videos/{vid}/live`) per replica; one more gets 503.
    pub live_max_connections: u32,
    /// Open live connections per user, or per anonymous address, per replica; one more gets 429.
    pub live_max_per_client: u32,
    /// Open live connections from one address, signed in or not, per replica; one more gets 429.
    pub live_max_per_address: u32,
    /// Comments one user may post a minute, and a day (every path); one more gets 429.
    pub comments_per_minute: u32,
    pub comments_per_day: u32,
    /// Private messages one user may send a minute, and a day; one more gets 429.
    pub messages_per_minute: u32,
    pub messages_per_day: u32,
    /// `redirect` (to a presigned URL) or `proxy`, for blobs in object storage.
    #[serde(deserialize_with = "lenient_string")]
    pub playback: String,
    pub db_max_connections: u32,
    /// `auto` (JSON unless stderr is a terminal), `json` or `text`.
    #[serde(deserialize_with = "lenient_string")]
    pub log_format: String,
    /// A tracing filter, e.g. `info` or `streamvault=debug,sqlx=warn`.
    #[serde(deserialize_with = "lenient_string")]
    pub log: String,
    /// The bearer token of the operators' API (`/api/v1/admin/...`); empty turns it off.
    #[serde(deserialize_with = "lenient_string")]
    pub admin_token: String,
    /// ffmpeg processes a worker runs at once.
    pub media_concurrency: u32,
    /// A transcode running longer than this fails its video.
    pub media_time_limit_secs: u64,
    /// The `nice` level ffmpeg runs at (0 to 19; 0 runs it without `nice`).
    pub media_nice: i32,
    /// Split mode: the api replicas a web-only process forwards `/api/` to (comma-separated
    /// base URLs); empty when this process serves the API or a proxy in front routes it.
    #[serde(deserialize_with = "lenient_string")]
    pub api_upstreams: String,
    /// The same for the stream replicas and `/stream/`.
    #[serde(deserialize_with = "lenient_string")]
    pub stream_upstreams: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            roles: "all".into(),
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            storage_url: String::new(),
            session_url: String::new(),
            queue_url: String::new(),
            bus_url: String::new(),
            session_idle_secs: 14 * 24 * 3600,
            session_absolute_secs: 90 * 24 * 3600,
            login_max_failures: 5,
            login_window_secs: 300,
            login_ip_max_failures: 30,
            trusted_proxies: String::new(),
            proxy_headers: "x-forwarded".into(),
            header_timeout_secs: 10,
            read_timeout_secs: 60,
            write_timeout_secs: 60,
            shutdown_grace_secs: 30,
            delete_grace_secs: 600,
            max_upload_bytes: 4 * 1024 * 1024 * 1024,
            upload_expiry_secs: 24 * 3600,
            quota_bytes: 0,
            max_streams: 512,
            max_streams_per_client: 32,
            upload_lock_secs: 8,
            job_lease_secs: 30,
            job_retry_secs: 5,
            watching_ttl_secs: 45,
            session_cache_secs: 10,
            read_cache_mb: 64,
            read_cache_secs: 60,
            live_max_connections: 20_000,
            live_max_per_client: 16,
            live_max_per_address: 256,
            comments_per_minute: 30,
            comments_per_day: 1000,
            messages_per_minute: 20,
            messages_per_day: 500,
            playback: "redirect".into(),
            db_max_connections: 16,
            log_format: "auto".into(),
            log: "info".into(),
            admin_token: String::new(),
            media_concurrency: 1,
            media_time_limit_secs: 4 * 3600,
            media_nice: 10,
            api_upstreams: String::new(),
            stream_upstreams: String::new(),
        }
    }
}

/// Environment values are parsed as TOML-ish scalars by figment, so `STREAMVAULT_LOG=1` would
/// arrive as a number; string keys take any scalar as its text.
fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        S(String),
        U(u64),
        I(i64),
        F(f64),
        B(bool),
    }
    Ok(match Scalar::deserialize(d)? {
        Scalar::S(s) => s,
        Scalar::U(v) => v.to_string(),
        Scalar::I(v) => v.to_string(),
        Scalar::F(v) => v.to_string(),
        Scalar::B(v) => v.to_string(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playback {
    Redirect,
    Proxy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Json,
    Text,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub roles: RoleSet,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub storage_url: String,
    pub session_url: Option<String>,
    pub queue_url: Option<String>,
    pub bus_url: Option<String>,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub login_max_failures: u32,
    pub login_window: Duration,
    pub login_ip_max_failures: u32,
    pub proxies: crate::net::Proxies,
    pub header_timeout: Duration,
    pub read_timeout: Duration,
    pub write_timeout: Duration,
    pub shutdown_grace: Duration,
    pub delete_grace: Duration,
    pub max_upload_bytes: u64,
    pub upload_expiry: Duration,
    /// Per-user drive quota; `None` for no limit.
    pub quota_bytes: Option<u64>,
    pub max_streams: u32,
    pub max_streams_per_client: u32,
    pub upload_lock: Duration,
    pub job_lease: Duration,
    pub job_retry: Duration,
    pub watching_ttl: Duration,
    pub session_cache: Duration,
    /// Bytes of finished reads kept; zero keeps none.
    pub read_cache_bytes: u64,
    pub read_cache_ttl: Duration,
    pub live_max_connections: u32,
    pub live_max_per_client: u32,
    pub live_max_per_address: u32,
    pub comments_per_minute: u32,
    pub comments_per_day: u32,
    pub messages_per_minute: u32,
    pub messages_per_day: u32,
    pub playback: Playback,
    pub db_max_connections: u32,
    pub log_format: LogFormat,
    pub log: String,
    /// The operators' API token; `None` turns that API off.
    pub admin_token: Option<String>,
    pub media_concurrency: u32,
    pub media_time_limit: Duration,
    pub media_nice: i32,
    pub api_upstreams: Vec<String>,
    pub stream_upstreams: Vec<String>,
}

/// Reads the layers and validates them. `flags` is the top layer (command-line options that
/// were given); pass `Serialized::globals(())`-like empty providers when there are none.
pub fn load(config_file: Option<&Path>, flags: impl Provider) -> Result<Config, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(path) = config_file {
        if !path.is_file() {
            return Err(ConfigError {
                key: "--config".into(),
                source_hint: String::new(),
                message: format!("{} is not a readable file", path.display()),
            });
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    let figment = figment.merge(Env::prefixed("STREAMVAULT_").filter(|k| !is_reserved(k.as_str()))).merge(flags);
    refuse_unknown(&figment)?;
    let settings: Settings = figment.extract().map_err(|e| from_figment(&figment, e))?;
    validate(settings, |field| source_hint(&figment, field))
}

/// `STREAMVAULT_TEST_*` (the tests' own knobs) and `STREAMVAULT_GARAGE_*` (`deploy/local/`)
/// share the prefix but are not settings; a server the tests spawn inherits them.
fn is_reserved(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("test_") || key.starts_with("garage_")
}

/// A key no setting has (a typo, or a setting of another version) stops start-up, named, with
/// the nearest real key when one is close.
fn refuse_unknown(figment: &Figment) -> Result<(), ConfigError> {
    let known: Vec<String> = match figment::value::Value::serialize(Settings::default()) {
        Ok(figment::value::Value::Dict(_, d)) => d.into_keys().collect(),
        _ => Vec::new(),
    };
    let given: figment::value::Dict = figment.extract().unwrap_or_default();
    for key in given.keys() {
        if known.iter().any(|k| k == key) {
            continue;
        }
        let nearest = known
            .iter()
            .map(|k| (strsim::levenshtein(k, key), k))
            .filter(|(d, _)| *d <= 3)
            .min()
            .map(|(_, k)| format!("; did you mean {}?", env_name(k)))
            .unwrap_or_default();
        return Err(ConfigError::new(key, source_hint(figment, key), format!("there is no such setting{nearest}")));
    }
    Ok(())
}

fn from_figment(figment: &Figment, e: figment::Error) -> ConfigError {
    let field = e.path.first().cloned().unwrap_or_else(|| "config".into());
    let message = e.kind.to_string();
    ConfigError::new(&field, source_hint(figment, &field), message)
}

fn source_hint(figment: &Figment, field: &str) -> String {
    match figment.find_metadata(field) {
        Some(m) if m.name.contains("TOML") => match &m.source {
            Some(src) => format!(" (from {src})"),
            None => " (from the config file)".into(),
        },
        Some(m) if m.name.contains("environment") => " (from the environment)".into(),
        _ => String::new(),
    }
}

fn validate(s: Settings, hint: impl Fn(&str) -> String) -> Result<Config, ConfigError> {
    let bad = |field: &str, msg: String| ConfigError::new(field, hint(field), msg);

    let roles = RoleSet::parse(&s.roles).map_err(|m| bad("roles", m))?;
    let listen: SocketAddr =
        s.listen.parse().map_err(|_| bad("listen", format!("{:?} is not an address like 127.0.0.1:8080", s.listen)))?;
    if s.data_dir.as_os_str().is_empty() {
        return Err(bad("data_dir", "must not be empty".into()));
    }

    let database_url = if s.database_url.is_empty() {
        format!("sqlite://{}?mode=rwc", s.data_dir.join("streamvault.db").display())
    } else {
        s.database_url.clone()
    };
    let database_url = check_scheme(&database_url, &["sqlite", "mysql", "mariadb", "postgres", "postgresql"])
        .map_err(|m| bad("database_url", m))?;

    let storage_url = if s.storage_url.is_empty() {
        format!("fs://{}", s.data_dir.join("blobs").display())
    } else {
        s.storage_url.clone()
    };
    check_scheme(&storage_url, &["fs", "s3", "oss"]).map_err(|m| bad("storage_url", m))?;

    let optional = |field: &str, raw: &str, schemes: &[&str]| -> Result<Option<String>, ConfigError> {
        if raw.is_empty() {
            return Ok(None);
        }
        check_scheme(raw, schemes).map(Some).map_err(|m| bad(field, m))
    };
    let session_url = optional("session_url", &s.session_url, &["redis", "rediss"])?;
    let queue_url = optional("queue_url", &s.queue_url, &["amqp", "amqps"])?;
    let bus_url = optional("bus_url", &s.bus_url, &["redis", "rediss"])?;

    let positive = |field: &str, v: u64| -> Result<Duration, ConfigError> {
        if v == 0 { Err(bad(field, "must be greater than 0".into())) } else { Ok(Duration::from_secs(v)) }
    };
    // Heartbeats come every third of the lease: under 3 s they would come too close together.
    let job_lease = |v: u64| {
        if v < 3 { Err(bad("job_lease_secs", "must be at least 3".into())) } else { Ok(Duration::from_secs(v)) }
    };
    let session_idle = positive("session_idle_secs", s.session_idle_secs)?;
    let session_absolute = positive("session_absolute_secs", s.session_absolute_secs)?;
    let login_window = positive("login_window_secs", s.login_window_secs)?;
    if s.login_max_failures == 0 {
        return Err(bad("login_max_failures", "must be greater than 0".into()));
    }
    if s.max_upload_bytes == 0 {
        return Err(bad("max_upload_bytes", "must be greater than 0".into()));
    }
    if s.max_streams == 0 {
        return Err(bad("max_streams", "must be greater than 0".into()));
    }
    if s.max_streams_per_client == 0 {
        return Err(bad("max_streams_per_client", "must be greater than 0".into()));
    }
    if s.live_max_connections == 0 {
        return Err(bad("live_max_connections", "must be greater than 0".into()));
    }
    if s.live_max_per_address == 0 {
        return Err(bad("live_max_per_address", "must be greater than 0".into()));
    }
    for (name, v) in [
        ("comments_per_minute", s.comments_per_minute),
        ("comments_per_day", s.comments_per_day),
        ("messages_per_minute", s.messages_per_minute),
        ("messages_per_day", s.messages_per_day),
    ] {
        if v == 0 {
            return Err(bad(name, "must be greater than 0".into()));
        }
    }
    if s.live_max_per_client == 0 {
        return Err(bad("live_max_per_client", "must be greater than 0".into()));
    }
    if s.login_ip_max_failures == 0 {
        return Err(bad("login_ip_max_failures", "must be greater than 0".into()));
    }
    let proxies = crate::net::Proxies {
        trusted: crate::net::TrustedProxies::parse(&s.trusted_proxies).map_err(|m| bad("trusted_proxies", m))?,
        headers: crate::net::ProxyHeaders::parse(&s.proxy_headers).map_err(|m| bad("proxy_headers", m))?,
    };
    let playback = match s.playback.as_str() {
        "redirect" => Playback::Redirect,
        "proxy" => Playback::Proxy,
        other => return Err(bad("playback", format!("{other:?} is not one of redirect, proxy"))),
    };
    if s.db_max_connections == 0 {
        return Err(bad("db_max_connections", "must be greater than 0".into()));
    }
    let log_format = match s.log_format.as_str() {
        "auto" => LogFormat::Auto,
        "json" => LogFormat::Json,
        "text" => LogFormat::Text,
        other => return Err(bad("log_format", format!("{other:?} is not one of auto, json, text"))),
    };

    let media_concurrency = match s.media_concurrency {
        0 => return Err(bad("media_concurrency", "must be greater than 0".into())),
        n => n,
    };
    let media_nice = match s.media_nice {
        n @ 0..=19 => n,
        n => return Err(bad("media_nice", format!("{n} is not between 0 and 19"))),
    };
    let admin_token = match s.admin_token.as_str() {
        "" => None,
        t if t.len() < 32 => return Err(bad("admin_token", "must be at least 32 characters".into())),
        t => Some(t.to_owned()),
    };

    Ok(Config {
        roles,
        listen,
        data_dir: s.data_dir,
        database_url,
        storage_url,
        session_url,
        queue_url,
        bus_url,
        session_idle,
        session_absolute,
        login_max_failures: s.login_max_failures,
        login_window,
        login_ip_max_failures: s.login_ip_max_failures,
        proxies,
        header_timeout: positive("header_timeout_secs", s.header_timeout_secs)?,
        read_timeout: positive("read_timeout_secs", s.read_timeout_secs)?,
        write_timeout: positive("write_timeout_secs", s.write_timeout_secs)?,
        shutdown_grace: Duration::from_secs(s.shutdown_grace_secs),
        delete_grace: Duration::from_secs(s.delete_grace_secs),
        max_upload_bytes: s.max_upload_bytes,
        upload_expiry: positive("upload_expiry_secs", s.upload_expiry_secs)?,
        quota_bytes: (s.quota_bytes > 0).then_some(s.quota_bytes),
        max_streams: s.max_streams,
        max_streams_per_client: s.max_streams_per_client,
        upload_lock: positive("upload_lock_secs", s.upload_lock_secs)?,
        job_lease: job_lease(s.job_lease_secs)?,
        job_retry: positive("job_retry_secs", s.job_retry_secs)?,
        watching_ttl: positive("watching_ttl_secs", s.watching_ttl_secs)?,
        session_cache: Duration::from_secs(s.session_cache_secs),
        read_cache_bytes: s.read_cache_mb.saturating_mul(1024 * 1024),
        read_cache_ttl: Duration::from_secs(s.read_cache_secs),
        live_max_connections: s.live_max_connections,
        live_max_per_client: s.live_max_per_client,
        live_max_per_address: s.live_max_per_address,
        comments_per_minute: s.comments_per_minute,
        comments_per_day: s.comments_per_day,
        messages_per_minute: s.messages_per_minute,
        messages_per_day: s.messages_per_day,
        playback,
        db_max_connections: s.db_max_connections,
        log_format,
        log: s.log,
        admin_token,
        media_concurrency,
        media_time_limit: positive("media_time_limit_secs", s.media_time_limit_secs)?,
        media_nice,
        api_upstreams: upstreams(&s.api_upstreams).map_err(|m| bad("api_upstreams", m))?,
        stream_upstreams: upstreams(&s.stream_upstreams).map_err(|m| bad("stream_upstreams", m))?,
    })
}

/// A comma-separated list of http(s) base URLs.
fn upstreams(raw: &str) -> Result<Vec<String>, String> {
    raw.split(',').map(str::trim).filter(|u| !u.is_empty()).map(|u| check_scheme(u, &["http", "https"])).collect()
}

/// Checks that `raw` is a URL with one of `schemes`; `mariadb://` is normalised to `mysql://`.
fn check_scheme(raw: &str, schemes: &[&str]) -> Result<String, String> {
    let url = Url::parse(raw).map_err(|e| format!("{:?} is not a URL ({e})", mask_url(raw)))?;
    if !schemes.contains(&url.scheme()) {
        let expected: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
        return Err(format!("unsupported scheme {:?} (expected {})", url.scheme(), expected.join(", ")));
    }
    if url.scheme() == "mariadb" {
        return Ok(raw.replacen("mariadb://", "mysql://", 1));
    }
    Ok(raw.to_owned())
}

impl Config {
    /// The effective configuration as `(KEY, value)` lines with secrets masked, for
    /// `streamvault config check`.
    pub fn describe(&self) -> Vec<(String, String)> {
        let opt = |v: &Option<String>, default: &str| v.as_deref().map(mask_url).unwrap_or_else(|| default.to_owned());
        vec![
            (env_name("roles"), self.roles.to_string()),
            (env_name("listen"), self.listen.to_string()),
            (env_name("data_dir"), self.data_dir.display().to_string()),
            (env_name("database_url"), mask_url(&self.database_url)),
            (env_name("storage_url"), mask_url(&self.storage_url)),
            (env_name("session_url"), opt(&self.session_url, "(metadata store)")),
            (env_name("queue_url"), opt(&self.queue_url, "(metadata store)")),
            (env_name("bus_url"), opt(&self.bus_url, "(in-process)")),
            (env_name("session_idle_secs"), self.session_idle.as_secs().to_string()),
            (env_name("session_absolute_secs"), self.session_absolute.as_secs().to_string()),
            (env_name("login_max_failures"), self.login_max_failures.to_string()),
            (env_name("login_window_secs"), self.login_window.as_secs().to_string()),
            (env_name("login_ip_max_failures"), self.login_ip_max_failures.to_string()),
            (env_name("trusted_proxies"), self.proxies.trusted.to_string()),
            (env_name("proxy_headers"), self.proxies.headers.as_str().to_owned()),
            (env_name("header_timeout_secs"), self.header_timeout.as_secs().to_string()),
            (env_name("read_timeout_secs"), self.read_timeout.as_secs().to_string()),
            (env_name("write_timeout_secs"), self.write_timeout.as_secs().to_string()),
            (env_name("shutdown_grace_secs"), self.shutdown_grace.as_secs().to_string()),
            (env_name("delete_grace_secs"), self.delete_grace.as_secs().to_string()),
            (env_name("max_upload_bytes"), self.max_upload_bytes.to_string()),
            (env_name("upload_expiry_secs"), self.upload_expiry.as_secs().to_string()),
            (env_name("quota_bytes"), self.quota_bytes.map_or_else(|| "0 (no limit)".to_owned(), |q| q.to_string())),
            (env_name("max_streams"), self.max_streams.to_string()),
            (env_name("max_streams_per_client"), self.max_streams_per_client.to_string()),
            (env_name("upload_lock_secs"), self.upload_lock.as_secs().to_string()),
            (env_name("job_lease_secs"), self.job_lease.as_secs().to_string()),
            (env_name("job_retry_secs"), self.job_retry.as_secs().to_string()),
            (env_name("watching_ttl_secs"), self.watching_ttl.as_secs().to_string()),
            (env_name("session_cache_secs"), self.session_cache.as_secs().to_string()),
            (env_name("read_cache_mb"), (self.read_cache_bytes / (1024 * 1024)).to_string()),
            (env_name("read_cache_secs"), self.read_cache_ttl.as_secs().to_string()),
            (env_name("live_max_connections"), self.live_max_connections.to_string()),
            (env_name("live_max_per_client"), self.live_max_per_client.to_string()),
            (env_name("live_max_per_address"), self.live_max_per_address.to_string()),
            (env_name("comments_per_minute"), self.comments_per_minute.to_string()),
            (env_name("comments_per_day"), self.comments_per_day.to_string()),
            (env_name("messages_per_minute"), self.messages_per_minute.to_string()),
            (env_name("messages_per_day"), self.messages_per_day.to_string()),
            (env_name("playback"), format!("{:?}", self.playback).to_ascii_lowercase()),
            (env_name("db_max_connections"), self.db_max_connections.to_string()),
            (env_name("log_format"), format!("{:?}", self.log_format).to_ascii_lowercase()),
            (env_name("log"), self.log.clone()),
            (env_name("admin_token"), if self.admin_token.is_some() { "****" } else { "(admin API off)" }.to_owned()),
        ]
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;
    use figment::Jail;

    fn no_flags() -> Serialized<serde_json::Value> {
        Serialized::globals(serde_json::json!({}))
    }

    #[test]
    fn defaults_are_the_laptop_setup() {
        Jail::expect_with(|_| {
            let c = load(None, no_flags()).unwrap();
            assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
            assert_eq!(c.roles, RoleSet::all());
            assert_eq!(c.database_url, "sqlite://./data/streamvault.db?mode=rwc");
            assert_eq!(c.storage_url, "fs://./data/blobs");
            assert_eq!(c.session_url, None);
            Ok(())
        });
    }

    #[test]
    fn layers_override_in_order() {
        Jail::expect_with(|jail| {
            jail.create_file("sv.toml", "listen = \"127.0.0.1:1\"\ndata_dir = \"/from-file\"\nlog = \"debug\"")?;
            jail.set_env("STREAMVAULT_LISTEN", "127.0.0.1:2");
            jail.set_env("STREAMVAULT_SESSION_IDLE_SECS", "60");
            jail.set_env("STREAMVAULT_DATABASE_URL", "mariadb://root@127.0.0.1/x");
            let flags = Serialized::globals(serde_json::json!({"listen": "127.0.0.1:3"}));
            let c = load(Some(Path::new("sv.toml")), flags).unwrap();
            assert_eq!(c.listen.to_string(), "127.0.0.1:3");
            assert_eq!(c.data_dir, PathBuf::from("/from-file"));
            assert_eq!(c.log, "debug");
            assert_eq!(c.session_idle, Duration::from_secs(60));
            assert_eq!(c.database_url, "mysql://root@127.0.0.1/x");
            Ok(())
        });
    }

    #[test]
    fn bad_values_name_their_key() {
        Jail::expect_with(|jail| {
            jail.set_env("STREAMVAULT_LISTEN", "nowhere");
            let e = load(None, no_flags()).unwrap_err().to_string();
            assert!(e.contains("STREAMVAULT_LISTEN") && e.contains("environment"), "{e}");
            jail.set_env("STREAMVAULT_LISTEN", "127.0.0.1:0");
            jail.set_env("STREAMVAULT_SESSION_IDLE_SECS", "soon");
            let e = load(None, no_flags()).unwrap_err().to_string();
            assert!(e.contains("STREAMVAULT_SESSION_IDLE_SECS"), "{e}");
            jail.set_env("STREAMVAULT_SESSION_IDLE_SECS", "5");
            jail.set_env("STREAMVAULT_DATABASE_URL", "oracle://x");
            let e = load(None, no_flags()).unwrap_err().to_string();
            assert!(e.contains("STREAMVAULT_DATABASE_URL") && e.contains("oracle"), "{e}");
            jail.set_env("STREAMVAULT_DATABASE_URL", "");
            jail.set_env("STREAMVAULT_ROLES", "api,cdn");
            let e = load(None, no_flags()).unwrap_err().to_string();
            assert!(e.contains("STREAMVAULT_ROLES") && e.contains("cdn"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_stop_start_up() {
        Jail::expect_with(|jail| {
            jail.set_env("STREAMVAULT_LSITEN", "127.0.0.1:1");
            let e = load(None, no_flags()).unwrap_err().to_string();
            assert!(e.contains("STREAMVAULT_LSITEN") && e.contains("environment"), "{e}");
            assert!(e.contains("did you mean STREAMVAULT_LISTEN?"), "{e}");
            jail.clear_env();
            jail.create_file("sv.toml", "quota = 5")?;
            let e = load(Some(Path::new("sv.toml")), no_flags()).unwrap_err().to_string();
            assert!(e.contains("STREAMVAULT_QUOTA ") && e.contains("sv.toml"), "{e}");
            // The tests' and scripts' own variables share the prefix and are not settings.
            jail.set_env("STREAMVAULT_TEST_LOG", "debug");
            jail.set_env("STREAMVAULT_GARAGE_DIR", "/tmp/g");
            assert!(load(None, no_flags()).is_ok());
            Ok(())
        });
    }

    #[test]
    fn numeric_looking_strings_stay_strings() {
        Jail::expect_with(|jail| {
            jail.set_env("STREAMVAULT_LOG", "1");
            assert_eq!(load(None, no_flags()).unwrap().log, "1");
            Ok(())
        });
    }

    #[test]
    fn describe_masks_secrets() {
        Jail::expect_with(|jail| {
            jail.set_env("STREAMVAULT_DATABASE_URL", "postgres://u:pw@h/db");
            jail.set_env("STREAMVAULT_SESSION_URL", "redis://:sekrit@h:6379");
            let text = format!("{:?}", load(None, no_flags()).unwrap().describe());
            assert!(!text.contains("pw@") && !text.contains("sekrit"), "{text}");
            Ok(())
        });
    }
}
