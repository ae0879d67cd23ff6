//! Ids are UUID v7: time-ordered, so primary-key indexes stay append-mostly and ids sort by age.

pub use uuid::Uuid;

pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Parses an id from a path segment; anything that is not a UUID names nothing.
pub fn parse_id(raw: &str, what: &'static str) -> crate::Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| crate::Error::NotFound(what))
}
