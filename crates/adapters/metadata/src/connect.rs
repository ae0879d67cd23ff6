use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use streamvault_core::ports::HealthCheck;
use streamvault_core::{Error, Result};

use crate::error::db_err;
use crate::migration::Migrator;

/// Turns on SQLite's query planner stability guarantee for a new connection. Without it, since
/// SQLite 3.47 a bound `LIMIT ?` (every page here) marks the statement to be compiled again
/// whenever the parameter is bound, and sqlx binds on every run: a profile of the home feed
/// put 17 % of the server's CPU in `sqlite3Reprepare`. With it, a statement keeps one plan
/// whatever its parameters (which costs nothing here: no `ANALYZE` statistics, and searches
/// are `LIKE '%…%'`, which no index serves). There is no PRAGMA for it; it is a
/// `sqlite3_db_config` option.
async fn stable_plans(conn: &mut sea_orm::sqlx::SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle();
    // SAFETY: `db` is this connection's open handle, held locked for the call; the option takes
    // an int (1: on) and an optional int pointer for the new value (none).
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db.as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        tracing::warn!(rc, "SQLite's query planner stability guarantee could not be turned on");
    }
    Ok(())
}

/// A pool on the metadata database, shared by every repository.
#[derive(Clone)]
pub struct MetadataStore {
    db: DatabaseConnection,
}

impl MetadataStore {
    /// Connects to `url` (`sqlite://`, `mysql://`, `postgres://`). For SQLite the parent
    /// directory is created, and WAL with a busy timeout lets readers and one writer overlap.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        if let Some(path) = sqlite_path(url)
            && let Some(dir) = Path::new(&path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::unavailable(format!("cannot create {}", dir.display()), e))?;
        }
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            })
            .map_sqlx_sqlite_pool_opts(|o| o.after_connect(|conn, _| Box::pin(stable_plans(conn))));
        let db = Database::connect(opts).await.map_err(|e| Error::unavailable("database", e))?;
        Ok(Self { db })
    }

    pub fn from_connection(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A transaction that writes. On SQLite it takes the write lock at `BEGIN` (`IMMEDIATE`):
    /// a deferred one that reads first and then writes fails with `SQLITE_BUSY` when another
    /// writer went in between, instead of waiting for it. Other engines lock row by row.
    pub async fn begin(&self) -> Result<DatabaseTransaction> {
        let opts = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        self.db.begin_with_options(opts).await.map_err(db_err)
    }

    /// Applies every pending migration. Safe to run from several replicas at once on MySQL and
    /// PostgreSQL only when one of them runs `streamvault migrate` first; see docs/deploy.md.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await.map_err(|e| Error::internal_in("migration failed", e))
    }

    /// The applied and pending migrations, oldest first, as `(name, applied)`.
    pub async fn migration_status(&self) -> Result<Vec<(String, bool)>> {
        let status = Migrator::get_migration_with_status(&self.db).await.map_err(db_err)?;
        Ok(status
            .into_iter()
            .map(|m| (m.name().to_owned(), matches!(m.status(), sea_orm_migration::MigrationStatus::Applied)))
            .collect())
    }

    pub async fn close(self) {
        let _ = self.db.close().await;
    }
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

#[async_trait]
impl HealthCheck for MetadataStore {
    fn name(&self) -> &'static str {
        "database"
    }

    async fn check(&self) -> Result<()> {
        tokio_timeout(self.db.ping()).await
    }
}

async fn tokio_timeout(fut: impl std::future::Future<Output = Result<(), sea_orm::DbErr>>) -> Result<()> {
    // sqlx has no per-query timeout on every backend; a hung server must still fail readiness.
    match tokio::time::timeout(Duration::from_secs(3), fut).await {
        Ok(r) => r.map_err(|e| Error::unavailable("database", e)),
        Err(_) => Err(Error::retry_later("database: ping timed out")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_paths() {
        assert_eq!(super::sqlite_path("sqlite://./data/x.db?mode=rwc").as_deref(), Some("./data/x.db"));
        assert_eq!(super::sqlite_path("sqlite::memory:"), None);
        assert_eq!(super::sqlite_path("mysql://x"), None);
    }

    /// Every pooled SQLite connection has the query planner stability guarantee on (without
    /// it, statements with a bound `LIMIT` are compiled again on every run).
    #[tokio::test]
    async fn sqlite_connections_keep_stable_plans() {
        let store = super::MetadataStore::connect("sqlite::memory:", 2).await.unwrap();
        let pool = store.connection().get_sqlite_connection_pool();
        for _ in 0..2 {
            let mut conn = pool.acquire().await.unwrap();
            let mut handle = conn.lock_handle().await.unwrap();
            let mut on: std::ffi::c_int = -1;
            // SAFETY: an open handle, locked for the call; -1 reads the option into `on`.
            let rc = unsafe {
                libsqlite3_sys::sqlite3_db_config(
                    handle.as_raw_handle().as_ptr(),
                    libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
                    -1 as std::ffi::c_int,
                    &mut on as *mut std::ffi::c_int,
                )
            };
            assert_eq!((rc, on), (libsqlite3_sys::SQLITE_OK, 1));
        }
    }
}
