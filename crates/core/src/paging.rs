//! Keyset pagination with opaque cursors. A cursor names the last row of a page (its id, and
//! for "popular" its view count), so pages neither repeat nor skip rows when new rows arrive.

use crate::ErrorCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::{Error, Result};

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub id: Uuid,
    /// The sort key of the last row when it is not the id itself.
    pub rank: Option<i64>,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let raw = match self.rank {
            Some(rank) => format!("{rank}:{}", self.id.simple()),
            None => self.id.simple().to_string(),
        };
        URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(s: &str) -> Result<Self> {
        let bad = || Error::invalid(ErrorCode::BadCursor, "cursor is not one this server issued");
        let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (rank, id) = match raw.split_once(':') {
            Some((rank, id)) => (Some(rank.parse().map_err(|_| bad())?), id),
            None => (None, raw.as_str()),
        };
        Ok(Cursor { id: Uuid::try_parse(id).map_err(|_| bad())?, rank })
    }
}

/// A validated page request.
/// The largest integer a JSON number (an IEEE double) holds exactly.
pub const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// A whole, non-negative number as text: digits, or a decimal or exponent form whose value is
/// whole (`12`, `12.0`, `1.2e1`), as JSON Schema counts integers and schema-driven clients
/// write them.
pub fn parse_whole(s: &str) -> Option<u64> {
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    if !s.bytes().all(|b| b.is_ascii_digit() || b".eE+-".contains(&b)) {
        return None;
    }
    let f = s.parse::<f64>().ok()?;
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= MAX_EXACT).then_some(f as u64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Cursor>,
}

impl PageRequest {
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self> {
        // `limit=` is not a number either: 400, as the schema says.
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(l) => match parse_whole(l) {
                Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(Error::invalid(
                        ErrorCode::BadLimit,
                        format!("limit must be a number from 1 to {MAX_LIMIT}"),
                    ));
                }
            },
        };
        let after = cursor.filter(|c| !c.is_empty()).map(Cursor::decode).transpose()?;
        Ok(PageRequest { limit, after })
    }
}

/// One page of results and the cursor of the next page, if there is one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only says there is more.
    pub fn from_rows(mut rows: Vec<T>, limit: u64, cursor_of: impl Fn(&T) -> Cursor) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next = if more { rows.last().map(cursor_of) } else { None };
        Page { items: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor { id: Uuid::now_v7(), rank: None };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        let r = Cursor { id: Uuid::now_v7(), rank: Some(-42) };
        assert_eq!(Cursor::decode(&r.encode()).unwrap(), r);
        for bad in ["", "!!", "bm90LWEtdXVpZA", "eDp5"] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(PageRequest::parse(Some("100"), None).unwrap().limit, 100);
        for bad in ["0", "101", "-1", "ten"] {
            assert!(PageRequest::parse(Some(bad), None).is_err(), "{bad}");
        }
    }

    #[test]
    fn next_cursor_only_when_more_rows() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let p = Page::from_rows(ids.clone(), 2, |id| Cursor { id: *id, rank: None });
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.next.unwrap().id, ids[1]);
        let p = Page::from_rows(ids[..2].to_vec(), 2, |id| Cursor { id: *id, rank: None });
        assert!(p.next.is_none());
    }
}
