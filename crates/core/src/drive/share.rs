//! Share links: a link that downloads one file without a session until it expires. The URL
//! carries the file id and the expiry, signed with HMAC-SHA256 under a key every replica
//! shares (kept in the metadata store). Deleting the file ends every link to it.

use crate::ids::FileId;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Error, Result};

/// The longest a link may live.
pub const MAX_TTL_SECS: u64 = 30 * 24 * 3600;

/// What a share link carries: the file, its expiry (Unix seconds) and the signature over both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLink {
    pub file_id: FileId,
    pub expires: i64,
    pub sig: String,
}

#[derive(Clone)]
pub struct ShareLinks {
    key: std::sync::Arc<[u8]>,
}

impl ShareLinks {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.into() }
    }

    fn mac(&self, file_id: FileId, expires: i64) -> Hmac<Sha256> {
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(format!("share:v1:{file_id}:{expires}").as_bytes());
        m
    }

    /// A link to `file_id` until `expires` (the HTTP edge turns it into a URL).
    pub fn sign(&self, file_id: FileId, expires: DateTime<Utc>) -> SignedLink {
        let expires = expires.timestamp();
        let sig = hex::encode(self.mac(file_id, expires).finalize().into_bytes());
        SignedLink { file_id, expires, sig }
    }

    /// 403 for a signature this server did not make, 410 for an expired link.
    pub fn verify(&self, file_id: FileId, expires: i64, sig: &str) -> Result<()> {
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
        let id = crate::ids::new_id().into();
        let exp = Utc::now() + chrono::Duration::hours(1);
        let link = links.sign(id, exp);
        let sig = &link.sig;
        assert!(links.verify(id, exp.timestamp(), sig).is_ok());
        assert!(matches!(links.verify(id, exp.timestamp() + 1, sig), Err(Error::Forbidden(_))), "a changed expiry");
        assert!(matches!(links.verify(crate::ids::new_id().into(), exp.timestamp(), sig), Err(Error::Forbidden(_))));
        assert!(matches!(ShareLinks::new(b"k2").verify(id, exp.timestamp(), sig), Err(Error::Forbidden(_))));
        assert!(matches!(links.verify(id, exp.timestamp(), "zz"), Err(Error::Forbidden(_))));
        let old = Utc::now() - chrono::Duration::seconds(5);
        let link = links.sign(id, old);
        assert!(matches!(links.verify(id, link.expires, &link.sig), Err(Error::Gone(_))));
    }
}
