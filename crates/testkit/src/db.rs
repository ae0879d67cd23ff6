use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::services::{require, unique_name};

/// The three metadata backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MySql,
    Postgres,
}

/// A fresh, empty database on one backend, dropped by [`TestDb::drop_db`].
pub struct TestDb {
    pub backend: Backend,
    /// The URL to hand to streamvault.
    pub url: String,
    name: String,
    admin_url: String,
    _dir: Option<tempfile::TempDir>,
}

fn server_url(backend: Backend) -> String {
    match backend {
        Backend::MySql => {
            std::env::var("STREAMVAULT_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
        }
        Backend::Postgres => std::env::var("STREAMVAULT_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into()),
        Backend::Sqlite => String::new(),
    }
}

fn host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let rest = rest.rsplit('@').next().unwrap_or(rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

impl TestDb {
    /// Creates the database, or returns `None` (skip) when the server is absent outside CI.
    pub async fn create(backend: Backend) -> Option<TestDb> {
        let name = unique_name("svt_");
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("create temp dir");
                let url = format!("sqlite://{}/meta.db?mode=rwc", dir.path().display());
                Some(TestDb { backend, url, name, admin_url: String::new(), _dir: Some(dir) })
            }
            Backend::MySql | Backend::Postgres => {
                let server = server_url(backend);
                let label = if backend == Backend::MySql { "MariaDB" } else { "PostgreSQL" };
                if !require(label, &host_port(&server)).await {
                    return None;
                }
                let (admin_url, create) = match backend {
                    Backend::MySql => (
                        format!("{server}/test"),
                        format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
                    ),
                    _ => (format!("{server}/postgres"), format!("CREATE DATABASE {name}")),
                };
                let admin = Database::connect(&admin_url).await.expect("connect to the test database server");
                admin.execute_unprepared(&create).await.expect("create test database");
                admin.close().await.ok();
                let url = format!("{server}/{name}");
                Some(TestDb { backend, url, name, admin_url, _dir: None })
            }
        }
    }

    pub async fn connect(&self) -> DatabaseConnection {
        Database::connect(&self.url).await.expect("connect to test database")
    }

    /// Drops the database (SQLite: the temporary directory goes with `self`).
    pub async fn drop_db(self) {
        if self.backend == Backend::Sqlite {
            return;
        }
        let Ok(admin) = Database::connect(&self.admin_url).await else { return };
        let sql = match self.backend {
            Backend::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            _ => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        let _ = admin.execute_unprepared(&sql).await;
        let _ = admin.close().await;
    }
}
