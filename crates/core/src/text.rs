//! Validation of user-written text. Text is stored and returned verbatim (no trimming, no
//! normalisation); only its length in characters and emptiness are checked.

use crate::ErrorCode;
use crate::{Error, Result};

/// Checks that `value` has 1..=`max` characters and is not only white space.
pub fn check(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(ErrorCode::MissingField, format!("{field} must not be empty")));
    }
    check_len(field, value, max)
}

/// Like [`check`], but empty is allowed.
pub fn check_optional(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() { Ok(()) } else { check_len(field, value, max) }
}

fn check_len(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::invalid(ErrorCode::TooLong, format!("{field} must be at most {max} characters")));
    }
    if value.contains('\0') {
        return Err(Error::invalid(ErrorCode::BadText, format!("{field} must not contain NUL characters")));
    }
    Ok(())
}

/// The form text is searched in: Unicode lower case, computed here so that every database
/// compares the same way (SQLite's `LOWER` only knows ASCII).
pub fn search_key(parts: &[&str]) -> String {
    parts.iter().map(|p| p.to_lowercase()).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters() {
        assert!(check("content", &"é".repeat(2000), 2000).is_ok());
        assert!(check("content", &"é".repeat(2001), 2000).is_err());
        assert!(check("content", "  \n\t", 2000).is_err());
        assert!(check("content", "", 2000).is_err());
        assert!(check_optional("description", "", 10).is_ok());
        assert!(check("content", "a\0b", 10).is_err());
    }

    #[test]
    fn search_key_lowercases_unicode() {
        assert_eq!(search_key(&["ÄÖÜ Straße", "ÉCOLE"]), "äöü straße\nécole");
    }
}
