//! Share links: a URL that downloads one file without a session until it expires. The URL
//! carries the file id and the expiry, signed with HMAC-SHA256 under a key every replica
//! shares (kept in the metadata store). Deleting the file ends every link to it.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::{Error, Result};

/// The longest a link may live.
pub const MAX_TTL_SECS: u64 = 30 * 24 * 3600;

#[derive(Clone)]
pub struct ShareLinks {
    key: std::sync::Arc<[u8]>,
}

impl ShareLinks {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.into() }
    }

    fn mac(&self, file_id: Uuid, expires: i64) -> Hmac<Sha256> {
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(format!("share:v1:{file_id}:{expires}").as_bytes());
        m
    }

    /// The path (and query) of a link to `file_id` until `expires`.
    pub fn path(&self, file_id: Uuid, expires: DateTime<Utc>) -> String {
        let exp = expires.timestamp();
        let sig = hex::encode(self.mac(file_id, exp).finalize().into_bytes());
        format!("/stream/v1/shared/{file_id}?expires={exp}&sig={sig}")
    }

    /// 403 for a signature this server did not make, 410 for an expired link.
    pub fn verify(&self, file_id: Uuid, expires: i64, sig: &str) -> Result<()> {
        let bad = || Error::Forbidden("the link's signature is not valid");
        let sig = hex::decode(sig).map_err(|_| bad())?;
        self.mac(file_id, expires).verify_slice(&sig).map_err(|_| bad())?;
        if expires < Utc::now().timestamp() {
            return Err(Error::Gone("the link has expired"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_verifies_and_refuses() {
        let links = ShareLinks::new(b"k1");
        let id = Uuid::now_v7();
        let exp = Utc::now() + chrono::Duration::hours(1);
        let path = links.path(id, exp);
        let sig = path.rsplit("sig=").next().unwrap();
        assert!(links.verify(id, exp.timestamp(), sig).is_ok());
        assert!(matches!(links.verify(id, exp.timestamp() + 1, sig), Err(Error::Forbidden(_))), "a changed expiry");
        assert!(matches!(links.verify(Uuid::now_v7(), exp.timestamp(), sig), Err(Error::Forbidden(_))));
        assert!(matches!(ShareLinks::new(b"k2").verify(id, exp.timestamp(), sig), Err(Error::Forbidden(_))));
        assert!(matches!(links.verify(id, exp.timestamp(), "zz"), Err(Error::Forbidden(_))));
        let old = Utc::now() - chrono::Duration::seconds(5);
        let p = links.path(id, old);
        assert!(matches!(links.verify(id, old.timestamp(), p.rsplit("sig=").next().unwrap()), Err(Error::Gone(_))));
    }
}
