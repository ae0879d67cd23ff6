//! Conditional and range requests (RFC 9110 sections 13 and 14), as a pure decision over the
//! request headers and the representation's size and validators. tower-http's `ServeFile`
//! ignores `If-Range`, so this is ours.

use std::ops::Range;

use axum::http::HeaderMap;
use axum::http::header::{IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, RANGE};
use chrono::{DateTime, Utc};
use http_range_header::{EndPosition, RangeUnsatisfiableError, StartPosition, parse_range_header};

/// What identifies this version of the bytes.
pub struct Validators<'a> {
    /// A strong entity tag, quoted: `"<sha256>"`.
    pub etag: &'a str,
    pub last_modified: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// 304: the client's copy is current.
    NotModified,
    /// 200 with every byte.
    Full,
    /// 206 with these bytes.
    Partial(Range<u64>),
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

pub fn plan(headers: &HeaderMap, size: u64, v: &Validators<'_>) -> Plan {
    if let Some(inm) = header_str(headers, &IF_NONE_MATCH) {
        // Weak comparison: W/"x" matches "x".
        if inm.trim() == "*" || inm.split(',').any(|t| t.trim().trim_start_matches("W/") == v.etag) {
            return Plan::NotModified;
        }
    } else if let Some(ims) = header_str(headers, &IF_MODIFIED_SINCE).and_then(parse_http_date)
        && v.last_modified.timestamp() <= ims.timestamp()
    {
        return Plan::NotModified;
    }

    let Some(range) = header_str(headers, &RANGE) else { return Plan::Full };
    if let Some(if_range) = header_str(headers, &IF_RANGE)
        && !if_range_matches(if_range.trim(), v)
    {
        // The client's partial copy is stale: send it the whole new representation.
        return Plan::Full;
    }
    single_range(range, size)
}

/// An `If-Range` entity tag must match strongly (a weak tag never does); a date must be the
/// exact `Last-Modified`.
fn if_range_matches(if_range: &str, v: &Validators<'_>) -> bool {
    if if_range.starts_with('"') {
        return if_range == v.etag;
    }
    if if_range.starts_with("W/") {
        return false;
    }
    parse_http_date(if_range).is_some_and(|d| d.timestamp() == v.last_modified.timestamp())
}

fn single_range(raw: &str, size: u64) -> Plan {
    let parsed = match parse_range_header(raw) {
        Ok(p) => p,
        // "bytes=-0" asks for no bytes at all: unsatisfiable. Anything else that does not
        // parse is ignored, as RFC 9110 asks, and the whole representation is sent.
        Err(RangeUnsatisfiableError::ZeroSuffix) => return Plan::Unsatisfiable,
        Err(_) => return Plan::Full,
    };
    // Several ranges would need multipart/byteranges; a server may answer them with 200.
    let [r] = parsed.ranges.as_slice() else { return Plan::Full };
    let (start, end) = match (r.start, r.end) {
        (StartPosition::FromLast(n), _) => (size.saturating_sub(n), size),
        (StartPosition::Index(s), EndPosition::LastByte) => (s, size),
        (StartPosition::Index(s), EndPosition::Index(e)) => (s, e.saturating_add(1).min(size)),
    };
    if start >= size || start >= end { Plan::Unsatisfiable } else { Plan::Partial(start..end) }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &axum::http::HeaderName) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only format a server sends.
pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s.trim()).ok().map(|d| d.with_timezone(&Utc))
}

pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    fn v() -> Validators<'static> {
        Validators { etag: "\"abc\"", last_modified: DateTime::from_timestamp(1_700_000_000, 0).unwrap() }
    }

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, val) in pairs {
            m.insert(*k, HeaderValue::from_str(val).unwrap());
        }
        m
    }

    #[test]
    fn range_forms() {
        let p = |r: &str, size| plan(&h(&[("range", r)]), size, &v());
        assert_eq!(p("bytes=0-0", 10), Plan::Partial(0..1));
        assert_eq!(p("bytes=2-", 10), Plan::Partial(2..10));
        assert_eq!(p("bytes=-3", 10), Plan::Partial(7..10));
        assert_eq!(p("bytes=-30", 10), Plan::Partial(0..10), "a suffix longer than the file is the whole file");
        assert_eq!(p("bytes=5-100", 10), Plan::Partial(5..10), "the end is clamped");
        assert_eq!(p("bytes=10-", 10), Plan::Unsatisfiable);
        assert_eq!(p("bytes=10-20", 10), Plan::Unsatisfiable);
        assert_eq!(p("bytes=-0", 10), Plan::Unsatisfiable);
        assert_eq!(p("bytes=0-", 0), Plan::Unsatisfiable);
        assert_eq!(p("bytes=0-1,4-5", 10), Plan::Full, "several ranges get the whole file");
        assert_eq!(p("bytes=5-2", 10), Plan::Unsatisfiable, "a reversed range is rejected");
        for malformed in ["bytes=abc", "items=0-1", "bytes=", "0-1", "bytes=--1"] {
            assert_eq!(p(malformed, 10), Plan::Full, "{malformed} is ignored");
        }
    }

    #[test]
    fn conditionals() {
        let lm = http_date(v().last_modified);
        assert_eq!(plan(&h(&[("if-none-match", "\"abc\"")]), 10, &v()), Plan::NotModified);
        assert_eq!(plan(&h(&[("if-none-match", "W/\"abc\", \"x\"")]), 10, &v()), Plan::NotModified);
        assert_eq!(plan(&h(&[("if-none-match", "\"zzz\"")]), 10, &v()), Plan::Full);
        assert_eq!(plan(&h(&[("if-modified-since", &lm)]), 10, &v()), Plan::NotModified);
        assert_eq!(plan(&h(&[("if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT")]), 10, &v()), Plan::Full);
        let r = ("range", "bytes=1-2");
        assert_eq!(plan(&h(&[r, ("if-range", "\"abc\"")]), 10, &v()), Plan::Partial(1..3));
        assert_eq!(plan(&h(&[r, ("if-range", "\"old\"")]), 10, &v()), Plan::Full, "stale validator: whole file");
        assert_eq!(plan(&h(&[r, ("if-range", "W/\"abc\"")]), 10, &v()), Plan::Full, "weak never matches");
        assert_eq!(plan(&h(&[r, ("if-range", &lm)]), 10, &v()), Plan::Partial(1..3));
        assert_eq!(plan(&h(&[r, ("if-range", "Sat, 01 Jan 2000 00:00:00 GMT")]), 10, &v()), Plan::Full);
        assert_eq!(parse_http_date(&lm), Some(v().last_modified));
    }

    proptest! {
        /// Against a direct model of RFC 9110 for `bytes=a-b`, `bytes=a-` and `bytes=-n`.
        #[test]
        fn single_ranges_match_the_model(size in 0u64..5000, a in 0u64..6000, b in 0u64..6000, form in 0u8..3) {
            let (header, expected) = match form {
                0 => {
                    let (s, e) = (a.min(b), a.max(b));
                    let exp = if s >= size { Plan::Unsatisfiable } else { Plan::Partial(s..(e + 1).min(size)) };
                    (format!("bytes={s}-{e}"), exp)
                }
                1 => (format!("bytes={a}-"), if a >= size { Plan::Unsatisfiable } else { Plan::Partial(a..size) }),
                _ => {
                    let n = a;
                    let exp = if n == 0 || size == 0 { Plan::Unsatisfiable } else { Plan::Partial(size.saturating_sub(n)..size) };
                    (format!("bytes=-{n}"), exp)
                }
            };
            prop_assert_eq!(plan(&h(&[("range", &header)]), size, &v()), expected);
        }
    }
}
