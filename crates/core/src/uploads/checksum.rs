//! tus checksums: `Upload-Checksum: <algorithm> <base64 digest>` of one append's body.

use crate::ErrorCode;
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
        let bad = |m: &str| Error::invalid(ErrorCode::BadChecksum, m.to_owned());
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

#[cfg(test)]
mod fuzz {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use proptest::prelude::*;
    use sha1::Digest;

    use super::Checksum;
    use crate::Error;

    proptest! {
        /// Any header text is parsed or refused with a 400, never a panic; what is accepted
        /// names an offered algorithm and a digest in canonical, padded base64 of its length.
        #[test]
        fn any_checksum_text_never_panics(raw in prop_oneof![
            "\\PC{0,60}",
            " {0,2}(sha1|sha256|SHA1|md5|sha512) {1,3}[A-Za-z0-9+/=]{0,50} {0,2}",
            " {0,2}(sha1|sha256)[ \t][ -~]{0,50}",
        ]) {
            match Checksum::parse(&raw) {
                Ok(_) => {
                    let (algo, digest) = raw.trim().split_once(' ').unwrap_or_default();
                    let digest = digest.trim();
                    let len = match algo {
                        "sha1" => 20,
                        "sha256" => 32,
                        _ => return Err(TestCaseError::fail(format!("accepted {raw:?}"))),
                    };
                    let bytes = STANDARD.decode(digest).unwrap_or_default();
                    prop_assert_eq!(bytes.len(), len);
                    prop_assert_eq!(STANDARD.encode(&bytes), digest);
                }
                Err(e) => prop_assert!(matches!(e, Error::Invalid { code: crate::ErrorCode::BadChecksum, .. }), "{e:?}"),
            }
        }

        /// `<algorithm> <base64>` is accepted exactly when the digest has the algorithm's length.
        #[test]
        fn a_digest_is_accepted_only_at_its_algorithms_length(
            sha256 in any::<bool>(),
            digest in prop::collection::vec(any::<u8>(), 0..48),
            before in " {0,2}",
            gap in " {1,3}",
            after in " {0,2}",
        ) {
            let algo = if sha256 { "sha256" } else { "sha1" };
            let raw = format!("{before}{algo}{gap}{}{after}", STANDARD.encode(&digest));
            let fits = digest.len() == if sha256 { 32 } else { 20 };
            prop_assert_eq!(Checksum::parse(&raw).is_ok(), fits, "{}", raw);
        }

        /// A body checks out against its own digest, however it is split into chunks, and not
        /// against another body's.
        #[test]
        fn a_body_verifies_against_its_own_digest(
            sha256 in any::<bool>(),
            body in prop::collection::vec(any::<u8>(), 0..300),
            cut in any::<prop::sample::Index>(),
            tweak in any::<prop::sample::Index>(),
        ) {
            let digest = if sha256 { sha2::Sha256::digest(&body).to_vec() } else { sha1::Sha1::digest(&body).to_vec() };
            let raw = format!("{} {}", if sha256 { "sha256" } else { "sha1" }, STANDARD.encode(&digest));
            let checksum = Checksum::parse(&raw).map_err(|e| TestCaseError::fail(format!("{raw}: {e}")))?;
            let (a, b) = body.split_at(cut.index(body.len() + 1));
            let mut h = checksum.hasher();
            h.update(a);
            h.update(b);
            prop_assert!(checksum.verify(h).is_ok());
            let mut other = body.clone();
            if other.is_empty() {
                other.push(0);
            } else {
                let i = tweak.index(other.len());
                other[i] ^= 1;
            }
            let mut h = checksum.hasher();
            h.update(&other);
            prop_assert!(matches!(checksum.verify(h), Err(Error::ChecksumMismatch(_))));
        }
    }
}
