//! The operators' credential: `Authorization: Bearer $STREAMVAULT_ADMIN_TOKEN`.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use sha2::{Digest, Sha256};
use streamvault_core::Error;

/// Whether the request carries the admin token: 401 without one, 403 with a wrong one or while
/// the admin API is off (no token configured).
pub fn check(headers: &HeaderMap, expected: Option<&str>) -> Result<(), Error> {
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(Error::Unauthenticated("the admin token is required"))?;
    let Some(expected) = expected else {
        return Err(Error::Forbidden("the admin API is off (set STREAMVAULT_ADMIN_TOKEN)"));
    };
    // Digests compare in time independent of where the strings differ.
    if Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes()) {
        Ok(())
    } else {
        Err(Error::Forbidden("wrong admin token"))
    }
}
