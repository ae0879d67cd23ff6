//! Integers as JSON Schema counts them: `12` and `12.0` are the same integer (schema-driven
//! clients send either), in bodies and in query strings.

use serde::{Deserialize, Deserializer};

use streamvault_core::paging::MAX_EXACT;

/// For `Option<u64>` body fields: a whole number in any JSON form, or `null`.
pub fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        U(u64),
        F(f64),
    }
    match Option::<Num>::deserialize(d)? {
        None => Ok(None),
        Some(Num::U(n)) => Ok(Some(n)),
        Some(Num::F(f)) if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= MAX_EXACT => Ok(Some(f as u64)),
        Some(Num::F(f)) => Err(serde::de::Error::custom(format!("{f} is not a whole, non-negative number"))),
    }
}

/// As [`integer`], for a field that may be absent (`#[serde(default)]`) but not `null`.
pub fn present_integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match integer(d)? {
        None => Err(serde::de::Error::custom("null is not a number")),
        some => Ok(some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_in_any_form() {
        use streamvault_core::paging::parse_whole;
        for (s, want) in [("12", Some(12)), ("12.0", Some(12)), ("1.2e1", Some(12)), ("0", Some(0)), ("12.5", None)] {
            assert_eq!(parse_whole(s), want, "{s}");
        }
        for bad in ["", "-1", "1e400", "NaN", "inf", "0x10", " 1", "1.0.0"] {
            assert_eq!(parse_whole(bad), None, "{bad}");
        }
        #[derive(Deserialize)]
        struct B {
            #[serde(default, deserialize_with = "integer")]
            n: Option<u64>,
        }
        let n = |j: &str| serde_json::from_str::<B>(j).map(|b| b.n).ok();
        assert_eq!(n(r#"{"n": 332.0}"#), Some(Some(332)));
        assert_eq!(n(r#"{"n": 332}"#), Some(Some(332)));
        assert_eq!(n(r#"{"n": null}"#), Some(None));
        assert_eq!(n(r#"{}"#), Some(None));
        assert_eq!(n(r#"{"n": 1.5}"#), None);
        assert_eq!(n(r#"{"n": -1}"#), None);
    }
}
