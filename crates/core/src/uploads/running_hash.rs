//! A SHA-256 that survives between appends: its state is saved with the upload's offset, so
//! the finished upload's hash is known without reading its bytes again.

use sha2_resumable::digest::common::hazmat::{SerializableState, SerializedState};
use sha2_resumable::{Digest, Sha256};

use crate::{Error, Result};

pub struct RunningHash(Sha256);

impl RunningHash {
    /// From a saved state (hex), or a fresh hasher.
    pub fn restore(saved: Option<&str>) -> Result<Self> {
        let Some(hex_state) = saved.filter(|s| !s.is_empty()) else { return Ok(RunningHash(Sha256::new())) };
        let bad = || Error::internal("an upload's saved hash state is corrupt");
        let bytes = hex::decode(hex_state).map_err(|_| bad())?;
        let state = SerializedState::<Sha256>::try_from(bytes.as_slice()).map_err(|_| bad())?;
        Sha256::deserialize(&state).map(RunningHash).map_err(|_| bad())
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn save(&self) -> String {
        hex::encode(self.0.serialize())
    }

    pub fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_saved_and_restored_between_appends_is_the_whole_hash() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut h = RunningHash::restore(None).unwrap();
        let mut saved = String::new();
        for chunk in data.chunks(777) {
            h.update(chunk);
            saved = h.save();
            h = RunningHash::restore(Some(&saved)).unwrap();
        }
        let whole = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data));
        assert_eq!(RunningHash::restore(Some(&saved)).unwrap().finish(), whole);
        assert!(RunningHash::restore(Some("zz")).is_err());
        assert!(RunningHash::restore(Some("00")).is_err());
    }
}
