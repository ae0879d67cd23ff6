use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::{Error, Result};

const MIN_CHARS: usize = 8;
const MAX_CHARS: usize = 128;

pub fn validate_password(pwd: &str) -> Result<()> {
    let n = pwd.chars().count();
    if (MIN_CHARS..=MAX_CHARS).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid("invalid_password", format!("pwd must be {MIN_CHARS} to {MAX_CHARS} characters")))
    }
}

/// argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane). Hashing is CPU-bound
/// for tens of milliseconds, so it runs on the blocking pool, never on a reactor thread.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Arc<Argon2<'static>>,
    /// Each hash takes 19 MiB for its duration: a burst of logins waits for a permit instead of
    /// taking gigabytes.
    permits: Arc<Semaphore>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let params = Params::new(Params::DEFAULT_M_COST, Params::DEFAULT_T_COST, Params::DEFAULT_P_COST, None)
            .expect("argon2 default parameters are valid");
        let parallel = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self {
            argon2: Arc::new(Argon2::new(Algorithm::Argon2id, Version::V0x13, params)),
            permits: Arc::new(Semaphore::new(parallel * 2)),
        }
    }
}

impl PasswordHasher {
    pub async fn hash(&self, pwd: &str) -> Result<String> {
        let _permit = self.permits.acquire().await.map_err(Error::internal)?;
        let argon2 = self.argon2.clone();
        let pwd = pwd.to_owned();
        tokio::task::spawn_blocking(move || {
            argon2.hash_password(pwd.as_bytes()).map(|h| h.to_string()).map_err(Error::internal)
        })
        .await
        .map_err(Error::internal)?
    }

    /// Verifies `pwd` against a stored PHC string. With `None` (unknown user) it checks against
    /// a fixed dummy hash, so that a login for a missing account costs the same time.
    pub async fn verify(&self, pwd: &str, stored: Option<&str>) -> Result<bool> {
        let _permit = self.permits.acquire().await.map_err(Error::internal)?;
        let argon2 = self.argon2.clone();
        let pwd = pwd.to_owned();
        let stored = match stored {
            Some(s) => s.to_owned(),
            None => dummy_hash(&argon2)?.to_owned(),
        };
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&stored).map_err(Error::internal)?;
            Ok(argon2.verify_password(pwd.as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(Error::internal)?
    }
}

fn dummy_hash(argon2: &Argon2<'_>) -> Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h);
    }
    let h = argon2.hash_password(b"streamvault-no-such-user").map_err(Error::internal)?.to_string();
    Ok(DUMMY.get_or_init(|| h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let h = PasswordHasher::default();
        let a = h.hash("correct horse").await.unwrap();
        let b = h.hash("correct horse").await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("correct horse"));
        assert!(h.verify("correct horse", Some(&a)).await.unwrap());
        assert!(!h.verify("wrong horse", Some(&a)).await.unwrap());
        assert!(!h.verify("correct horse", None).await.unwrap());
    }

    #[test]
    fn password_length_counts_characters() {
        assert!(validate_password("1234567").is_err());
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password(&"é".repeat(128)).is_ok());
        assert!(validate_password(&"é".repeat(129)).is_err());
    }
}
