//! Test support shared by the crates' integration tests.
//!
//! Tests talk to the real services on this machine (see README, "Tests"). When one is missing a
//! test skips with a message, except under CI (`CI=true`), where a missing service fails it.

pub mod contract;
mod db;
mod proxy;
mod s3;
mod services;

pub use db::{Backend, TestDb};
pub use proxy::TcpProxy;
pub use s3::S3Target;
pub use services::{amqp_url, http_client, in_ci, redis_url, require, unique_name};

/// Generates one `#[tokio::test]` per metadata backend for each `async fn name(Backend)`.
#[macro_export]
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name($crate::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mariadb() { super::$name($crate::Backend::MySql).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name($crate::Backend::Postgres).await }
        }
    )*};
}
