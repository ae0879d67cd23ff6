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
        // "bytes=-0" alone asks for no bytes at all: unsatisfiable. In a set of several (the
        // parser reports only its last element's fault) it is ignored with the rest, as is
        // anything else that does not parse, as RFC 9110 asks: the whole representation goes.
        Err(RangeUnsatisfiableError::ZeroSuffix) if !raw.contains(',') => return Plan::Unsatisfiable,
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

/// An HTTP date in any of the three forms RFC 9110 (5.6.7) says a recipient must accept:
/// IMF-fixdate, RFC 850 and asctime.
pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    httpdate::parse_http_date(s)
        .ok()
        .map(DateTime::<Utc>::from)
        // A numeric zone (`+0000`) is not HTTP's form, but was read before: still taken.
        .or_else(|| DateTime::parse_from_rfc2822(s).ok().map(|d| d.with_timezone(&Utc)))
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form a server sends. Before 1970
/// (which no stored file is) it is the epoch.
pub fn http_date(t: DateTime<Utc>) -> String {
    httpdate::fmt_http_date(std::time::SystemTime::from(t.max(DateTime::UNIX_EPOCH)))
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
        assert_eq!(p("bytes=0-1,-0", 10), Plan::Full, "a set of several: the whole file");
        assert_eq!(p("bytes=abc,-0", 10), Plan::Full, "unreadable: ignored");
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

    /// What a header value can hold on the wire: tab, visible ASCII and space, and obs-text
    /// (bytes 0x80..=0xff, which make the value unreadable as text).
    fn header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..=0x7e, 0x80u8..=0xff], 0..max)
    }

    /// Headers from raw bytes; a value `HeaderValue` refuses is left out (the server never sees it).
    fn raw(pairs: &[(&'static str, Option<&[u8]>)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, val) in pairs {
            if let Some(val) = val
                && let Ok(val) = HeaderValue::from_bytes(val)
            {
                m.insert(*k, val);
            }
        }
        m
    }

    /// A Range header as a client (or an attacker) might write it: raw bytes, `bytes=` and
    /// junk, or digits, dashes, commas and spaces in any order.
    fn range_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            header_bytes(48),
            header_bytes(48).prop_map(|b| [b"bytes=".as_slice(), &b[..]].concat()),
            "bytes=[0-9,\\- ]{0,48}".prop_map(String::into_bytes),
            "bytes=[0-9]{15,45}-[0-9]{0,45}".prop_map(String::into_bytes),
            "bytes=(-?[0-9]{0,3}-?[0-9]{0,3},){2,200}".prop_map(String::into_bytes),
        ]
    }

    fn any_size() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..100, any::<u64>(), Just(u64::MAX)]
    }

    /// One element of a range set.
    #[derive(Debug, Clone)]
    enum Spec {
        /// `a-b`
        Bounded(u64, u64),
        /// `a-`
        Open(u64),
        /// `-n`, n > 0
        Suffix(u64),
        /// Something no parser may read as a range.
        Junk(&'static str),
    }

    impl Spec {
        fn text(&self) -> String {
            match self {
                Spec::Bounded(a, b) => format!("{a}-{b}"),
                Spec::Open(a) => format!("{a}-"),
                Spec::Suffix(n) => format!("-{n}"),
                Spec::Junk(j) => (*j).to_owned(),
            }
        }
    }

    fn position() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..64, any::<u64>(), Just(u64::MAX), Just(u64::MAX - 1)]
    }

    fn spec() -> impl Strategy<Value = Spec> {
        prop_oneof![
            (position(), position()).prop_map(|(a, b)| Spec::Bounded(a, b)),
            position().prop_map(Spec::Open),
            position().prop_map(|n| Spec::Suffix(n.max(1))),
            prop::sample::select(vec![
                "",
                "abc",
                "1-2-3",
                "--1",
                "+1-2",
                "01-2",
                "1-02",
                "-",
                "18446744073709551616-",
                "0-18446744073709551616",
                "-18446744073709551616",
                "1 -2",
                "0x10-0x20",
            ])
            .prop_map(Spec::Junk),
        ]
    }

    /// RFC 9110 section 14 for a range set, as this server answers it: anything malformed is
    /// ignored (200), several ranges get 200, one range is served if it overlaps the file.
    fn model(specs: &[Spec], leading_space: bool, size: u64) -> Plan {
        if leading_space || specs.iter().any(|s| matches!(s, Spec::Junk(_))) {
            return Plan::Full;
        }
        let [one] = specs else { return Plan::Full };
        let (start, end) = match *one {
            Spec::Bounded(a, b) if a > b => return Plan::Unsatisfiable,
            Spec::Bounded(a, b) => (a, b.saturating_add(1).min(size)),
            Spec::Open(a) => (a, size),
            Spec::Suffix(n) => (size.saturating_sub(n), size),
            Spec::Junk(_) => unreachable!("handled above"),
        };
        if start < end { Plan::Partial(start..end) } else { Plan::Unsatisfiable }
    }

    proptest! {
        /// Whatever bytes the four headers hold, planning never panics, a 206 is always a
        /// non-empty range inside the file, and without a readable Range there is no 206 or 416.
        #[test]
        fn arbitrary_header_bytes_never_panic_and_stay_in_bounds(
            range in prop::option::of(range_bytes()),
            if_range in prop::option::of(header_bytes(40)),
            inm in prop::option::of(header_bytes(40)),
            ims in prop::option::of(header_bytes(40)),
            size in any_size(),
        ) {
            let headers = raw(&[
                ("range", range.as_deref()),
                ("if-range", if_range.as_deref()),
                ("if-none-match", inm.as_deref()),
                ("if-modified-since", ims.as_deref()),
            ]);
            let p = plan(&headers, size, &v());
            if let Plan::Partial(r) = &p {
                prop_assert!(r.start < r.end && r.end <= size, "{r:?} outside a file of {size} bytes");
            }
            if headers.get(RANGE).is_none_or(|r| r.to_str().is_err()) {
                prop_assert!(matches!(p, Plan::Full | Plan::NotModified), "{p:?} without a readable Range");
            }
        }

        /// Range sets of valid and malformed elements, huge and overflowing numbers, with and
        /// without a space after each comma, against the model.
        #[test]
        fn range_sets_match_the_model(
            specs in prop::collection::vec(spec(), 1..6),
            spaced in any::<bool>(),
            leading_space in prop::bool::weighted(0.1),
            size in any_size(),
        ) {
            let list: Vec<String> = specs.iter().map(Spec::text).collect();
            let lead = if leading_space { " " } else { "" };
            let header = format!("bytes={lead}{}", list.join(if spaced { ", " } else { "," }));
            let expected = model(&specs, leading_space, size);
            prop_assert_eq!(plan(&h(&[("range", &header)]), size, &v()), expected, "{}", header);
        }

        /// A suffix at least as long as the file asks for all of it.
        #[test]
        fn a_suffix_longer_than_the_file_is_the_whole_file(size in 1u64..u64::MAX, extra in any::<u64>()) {
            let n = size.saturating_add(extra);
            prop_assert_eq!(plan(&h(&[("range", &format!("bytes=-{n}"))]), size, &v()), Plan::Partial(0..size));
        }

        /// A value that is not text (obs-text bytes) is as if the header were not sent: it never
        /// makes a request conditional or partial.
        #[test]
        fn an_unreadable_header_counts_as_absent(
            range in prop::option::of(prop::sample::select(vec!["bytes=1-2", "bytes=-3", "bytes=4-", "bytes=0-1,3-4"])),
            if_range in prop::option::of(prop::sample::select(vec!["\"abc\"", "W/\"abc\"", "\"old\""])),
            inm in prop::option::of(prop::sample::select(vec!["\"abc\"", "*", "\"zzz\""])),
            ims in prop::option::of(prop_oneof![Just(0i64), Just(-1), Just(1)]),
            which in 0usize..4,
            before in header_bytes(16),
            high in 0x80u8..=0xff,
            after in header_bytes(16),
            size in 0u64..20,
        ) {
            let ims = ims.map(|off| http_date(v().last_modified + chrono::TimeDelta::seconds(off)));
            let mut values: [Option<Vec<u8>>; 4] = [
                range.map(|s| s.as_bytes().to_vec()),
                if_range.map(|s| s.as_bytes().to_vec()),
                inm.map(|s| s.as_bytes().to_vec()),
                ims.map(String::into_bytes),
            ];
            let names = ["range", "if-range", "if-none-match", "if-modified-since"];
            let build = |values: &[Option<Vec<u8>>; 4]| {
                let pairs: Vec<(&'static str, Option<&[u8]>)> =
                    names.iter().zip(values).map(|(n, val)| (*n, val.as_deref())).collect();
                raw(&pairs)
            };
            values[which] = None;
            let absent = plan(&build(&values), size, &v());
            values[which] = Some([before.as_slice(), &[high][..], after.as_slice()].concat());
            prop_assert_eq!(plan(&build(&values), size, &v()), absent, "unreadable {}", names[which]);
        }

        /// If-None-Match, If-Modified-Since (ignored when If-None-Match is sent), If-Range and a
        /// single range, against RFC 9110 sections 13.1 and 13.2.
        #[test]
        fn conditional_requests_match_the_model(
            inm in prop::option::of((any::<bool>(), prop::collection::vec(
                prop::sample::select(vec!["\"abc\"", "W/\"abc\"", "\"abd\"", "W/\"zzz\"", "abc", "\"ABC\"", "*x"]),
                0..4,
            ), any::<bool>())),
            ims in prop::option::of(prop_oneof![
                (-100i64..100).prop_map(Ok::<i64, String>),
                "[a-z ]{0,12}".prop_map(Err::<i64, String>),
            ]),
            range in prop::option::of((0u64..120, 0u64..120)),
            if_range in prop::option::of((0u8..6, 1i64..100_000)),
            size in 0u64..100,
        ) {
            let lm = v().last_modified;
            let mut pairs: Vec<(&'static str, String)> = Vec::new();
            let inm_matches = inm.as_ref().map(|(star, tags, spaced)| {
                pairs.push((
                    "if-none-match",
                    if *star { "*".to_owned() } else { tags.join(if *spaced { ", " } else { "," }) },
                ));
                *star || tags.iter().any(|t| *t == "\"abc\"" || *t == "W/\"abc\"")
            });
            let ims_matches = ims.as_ref().map(|d| match d {
                Ok(off) => {
                    pairs.push(("if-modified-since", http_date(lm + chrono::TimeDelta::seconds(*off))));
                    *off >= 0
                }
                Err(junk) => {
                    pairs.push(("if-modified-since", junk.clone()));
                    false
                }
            });
            let (a, b) = range.map_or((0, 0), |(a, b)| (a.min(b), a.max(b)));
            if range.is_some() {
                pairs.push(("range", format!("bytes={a}-{b}")));
            }
            // The partial copy is ours only for the strong tag or the exact date.
            let if_range_matches = if_range.map(|(kind, off)| {
                let (value, matches) = match kind {
                    0 => ("\"abc\"".to_owned(), true),
                    1 => ("W/\"abc\"".to_owned(), false),
                    2 => ("\"old\"".to_owned(), false),
                    3 => (http_date(lm), true),
                    4 => (http_date(lm + chrono::TimeDelta::seconds(off)), false),
                    _ => ("yesterday".to_owned(), false),
                };
                pairs.push(("if-range", value));
                matches
            });
            let refs: Vec<(&'static str, &str)> = pairs.iter().map(|(k, val)| (*k, val.as_str())).collect();
            let not_modified = inm_matches.unwrap_or(ims_matches.unwrap_or(false));
            let expected = if not_modified {
                Plan::NotModified
            } else if range.is_none() || if_range_matches == Some(false) {
                Plan::Full
            } else if a >= size {
                Plan::Unsatisfiable
            } else {
                Plan::Partial(a..(b + 1).min(size))
            };
            prop_assert_eq!(plan(&h(&refs), size, &v()), expected, "{:?}", refs);
        }

        /// The dates this server sends are the dates it reads back, to the second.
        #[test]
        fn http_dates_round_trip(secs in 0i64..253_402_300_800, nanos in 0u32..1_000_000_000) {
            let t = DateTime::from_timestamp(secs, nanos).ok_or_else(|| TestCaseError::reject("no such time"))?;
            let back = parse_http_date(&http_date(t));
            prop_assert_eq!(back.map(|d| d.timestamp()), Some(secs));
        }

        #[test]
        fn parsing_any_date_text_never_panics(s in "\\PC{0,40}", t in "[A-Za-z0-9,: +-]{0,40}") {
            let _ = parse_http_date(&s);
            let _ = parse_http_date(&t);
        }
    }
}
