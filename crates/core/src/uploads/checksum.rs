//! tus checksums: `Upload-Checksum: <algorithm> <base64 digest>` of one append's body.

use base64::Engine;
use sha1::Digest;

use crate::{Error, Result};

/// The algorithms offered (`Tus-Checksum-Algorithm`).
pub const ALGORITHMS: &str = "sha1,sha256";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    sha256: bool,
    expected: Vec<u8>,
}

pub enum Hasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }
}

impl Checksum {
    /// Parses the header's value; 400 for an algorithm not offered or a malformed digest.
    pub fn parse(header: &str) -> Result<Checksum> {
        let bad = |m: &str| Error::invalid("bad_checksum", m.to_owned());
        let (algo, digest) =
            header.trim().split_once(' ').ok_or_else(|| bad("Upload-Checksum is \"<algorithm> <base64>\""))?;
        let sha256 = match algo {
            "sha1" => false,
            "sha256" => true,
            _ => return Err(bad("unsupported checksum algorithm (sha1, sha256 are)")),
        };
        let expected = base64::engine::general_purpose::STANDARD
            .decode(digest.trim())
            .map_err(|_| bad("the checksum is not base64"))?;
        if expected.len() != if sha256 { 32 } else { 20 } {
            return Err(bad("the checksum has the wrong length for its algorithm"));
        }
        Ok(Checksum { sha256, expected })
    }

    pub fn hasher(&self) -> Hasher {
        if self.sha256 { Hasher::Sha256(sha2::Sha256::new()) } else { Hasher::Sha1(sha1::Sha1::new()) }
    }

    /// 460 when the body's digest is not the one the client sent.
    pub fn verify(&self, h: Hasher) -> Result<()> {
        let got: Vec<u8> = match h {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        };
        if got == self.expected {
            Ok(())
        } else {
            Err(Error::ChecksumMismatch("the body does not match Upload-Checksum".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_checks_and_refuses() {
        // sha1("hello") and sha256("hello"), base64.
        let ok1 = Checksum::parse("sha1 qvTGHdzF6KLavt4PO0gs2a6pQ00=").unwrap();
        let mut h = ok1.hasher();
        h.update(b"hel");
        h.update(b"lo");
        assert!(ok1.verify(h).is_ok());
        let ok256 = Checksum::parse("sha256 LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=").unwrap();
        let mut h = ok256.hasher();
        h.update(b"hello");
        assert!(ok256.verify(h).is_ok());
        let mut h = ok256.hasher();
        h.update(b"hellO");
        assert!(matches!(ok256.verify(h), Err(Error::ChecksumMismatch(_))));
        for bad in ["md5 AAAA", "sha1", "sha1 !!!", "sha256 qvTGHdzF6KLavt4PO0gs2a6pQ00="] {
            assert!(matches!(Checksum::parse(bad), Err(Error::Invalid { .. })), "{bad}");
        }
    }
}
