use crate::ErrorCode;
use crate::{Error, Result};

/// Usernames are `[A-Za-z0-9_-]{3,32}`: safe in URLs, paths and HTML without escaping.
pub fn validate_username(name: &str) -> Result<()> {
    let ok_len = (3..=32).contains(&name.len());
    let ok_chars = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok_len && ok_chars {
        Ok(())
    } else {
        Err(Error::invalid(
            ErrorCode::InvalidUsername,
            "user_name must be 3 to 32 characters of A-Z, a-z, 0-9, '_' or '-'",
        ))
    }
}

/// The key under which a name is unique: "Alice" and "alice" are one account, so nobody can
/// impersonate another by changing case.
pub fn username_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["abc", "A_b-9", &"x".repeat(32)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "ab", &"x".repeat(33), "a b", "ünï", "a/b", "../x", "a.b", "<script>"] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }
}
