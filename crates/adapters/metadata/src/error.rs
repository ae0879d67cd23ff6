use sea_orm::{DbErr, RuntimeErr};
use streamvault_core::Error;

/// Maps a database error to the domain: a backend that cannot be reached is `Unavailable`
/// (503, retryable), anything else is an internal error.
pub(crate) fn db_err(e: DbErr) -> Error {
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
