use sea_orm::{DbErr, RuntimeErr};
use streamvault_core::Error;

/// Maps a database error to the domain: a backend that cannot be reached, and a transaction
/// the database gave up on (a deadlock), are `Unavailable` (503, retryable); anything else is
/// an internal error.
pub(crate) fn db_err(e: DbErr) -> Error {
    if is_deadlock(&e) {
        return Error::unavailable("database: transaction aborted by a deadlock", e);
    }
    match &e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Error::unavailable("database", e),
        DbErr::Exec(RuntimeErr::SqlxError(se)) | DbErr::Query(RuntimeErr::SqlxError(se))
            if matches!(
                se.as_ref(),
                sea_orm::sqlx::Error::Io(_) | sea_orm::sqlx::Error::PoolTimedOut | sea_orm::sqlx::Error::PoolClosed
            ) =>
        {
            Error::unavailable("database", e)
        }
        _ => Error::internal_in("database", e),
    }
}

pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// A transaction the database aborted so that another could go on (SQLSTATE 40001, a
/// serialization failure or MySQL's deadlock; 40P01, PostgreSQL's deadlock): running it again
/// succeeds.
pub(crate) fn is_deadlock(e: &DbErr) -> bool {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(se)) | DbErr::Query(RuntimeErr::SqlxError(se)) => match se.as_ref() {
            sea_orm::sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40001" | "40P01")),
            _ => false,
        },
        _ => false,
    }
}

/// Runs `work` again when the database aborted it for a deadlock (`is_deadlock`), twice at
/// most: writers that touch many rows by an index (marking notifications read, fanning out)
/// and foreign-key share locks can meet in InnoDB in either order.
pub(crate) async fn retry_deadlock<T, F, Fut>(mut work: F) -> Result<T, DbErr>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbErr>>,
{
    let mut attempt = 0;
    loop {
        match work().await {
            Err(e) if is_deadlock(&e) && attempt < 2 => attempt += 1,
            done => return done,
        }
    }
}
