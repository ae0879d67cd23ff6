//! How numbers and times read on a page.

use chrono::{DateTime, Utc};

/// "just now", "5 minutes ago", "3 days ago", "2 years ago".
pub fn age(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (now - at).num_seconds().max(0);
    let (n, unit) = match s {
        0..60 => return "just now".into(),
        60..3600 => (s / 60, "minute"),
        3600..86_400 => (s / 3600, "hour"),
        86_400..2_592_000 => (s / 86_400, "day"),
        2_592_000..31_536_000 => (s / 2_592_000, "month"),
        _ => (s / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// "0:07", "12:34", "1:02:03"; empty when unknown.
pub fn duration(ms: Option<u64>) -> String {
    let Some(ms) = ms else { return String::new() };
    let s = (ms + 500) / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

/// "812 B", "1.5 KiB", "23.4 MiB".
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 { format!("{v:.1} {}", UNITS[unit]) } else { format!("{v:.0} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_a_person_wrote_it() {
        let now = Utc::now();
        assert_eq!(age(now, now), "just now");
        assert_eq!(age(now - chrono::Duration::minutes(1), now), "1 minute ago");
        assert_eq!(age(now - chrono::Duration::days(3), now), "3 days ago");
        assert_eq!(age(now - chrono::Duration::days(800), now), "2 years ago");
        assert_eq!(duration(Some(7_400)), "0:07");
        assert_eq!(duration(Some(754_000)), "12:34");
        assert_eq!(duration(Some(3_723_000)), "1:02:03");
        assert_eq!(duration(None), "");
        assert_eq!(
            (size(812), size(1536), size(24 * 1024 * 1024 + 400_000)),
            ("812 B".into(), "1.5 KiB".into(), "24 MiB".into())
        );
    }
}
