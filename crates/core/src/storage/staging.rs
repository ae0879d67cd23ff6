use crate::ErrorCode;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::sniff::sniff_video;
use crate::quota::Reservation;
use crate::{Error, Result, ids};

/// How much of the start of an upload is looked at to recognise its container.
const SNIFF_BYTES: usize = 8 * 1024;

/// An upload in progress: bytes go to a file in the staging directory as they arrive, hashed
/// on the way; the size limit and the owner's quota are enforced while reading. Dropped before
/// [`Staging::finish`] (an error, a client that went away), the file is removed and what it
/// held against the quota let go: nothing is left behind.
pub struct Staging {
    file: Option<tokio::fs::File>,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
    max: u64,
    head: Vec<u8>,
    video: bool,
    mime: Option<&'static str>,
    allow_empty: bool,
    reservation: Option<Reservation>,
}

/// A finished staging file, removed on drop (the blob store keeps its own link or copy), with
/// what it holds against its owner's quota until that is charged.
pub struct Staged {
    path: PathBuf,
    pub sha256: String,
    pub size: u64,
    /// The media type recognised from the first bytes, if any.
    pub mime: Option<&'static str>,
    reservation: Option<Reservation>,
}

impl Staging {
    pub(crate) async fn create(dir: &Path, max: u64, video: bool, reservation: Option<Reservation>) -> Result<Self> {
        let path = dir.join(format!("{}.part", ids::new_id().simple()));
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| Error::unavailable(format!("staging: cannot create {}", path.display()), e))?;
        Ok(Self {
            file: Some(file),
            path,
            hasher: Sha256::new(),
            size: 0,
            max,
            head: Vec::new(),
            video,
            mime: None,
            allow_empty: false,
            reservation,
        })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The upload says it is `length` bytes long: 413 at once past the size limit or the
    /// quota (which holds them from now on).
    pub async fn expect(&mut self, length: u64) -> Result<()> {
        if length > self.max {
            return Err(Error::TooLarge(format!("the upload is larger than the limit of {} bytes", self.max)));
        }
        match self.reservation.as_mut() {
            Some(r) => r.expect(length).await,
            None => Ok(()),
        }
    }

    /// Appends a chunk. Fails with 413 past the limit and, for videos, with 415 as soon as the
    /// first bytes show it is not a video container.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        let size = self.size + chunk.len() as u64;
        if size > self.max {
            return Err(Error::TooLarge(format!("the upload is larger than the limit of {} bytes", self.max)));
        }
        if self.head.len() < SNIFF_BYTES {
            let want = SNIFF_BYTES.saturating_sub(self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..want]);
            if self.video && self.head.len() >= SNIFF_BYTES {
                self.sniff()?;
            }
        }
        if let Some(r) = self.reservation.as_mut() {
            r.cover(size).await?;
        }
        self.hasher.update(chunk);
        let file = self.file.as_mut().ok_or_else(|| Error::internal("staging file already closed"))?;
        file.write_all(chunk).await.map_err(|e| Error::unavailable("staging: write failed", e))?;
        self.size = size;
        Ok(())
    }

    fn sniff(&mut self) -> Result<()> {
        match sniff_video(&self.head) {
            Some(mime) => {
                self.mime = Some(mime);
                Ok(())
            }
            None => Err(Error::UnsupportedMediaType(
                "not a video container this server takes (MP4, MOV, WebM, Matroska, AVI, MPEG, FLV, WMV)".into(),
            )),
        }
    }

    /// Lets [`Staging::finish`] take zero bytes (an empty drive file).
    pub fn allow_empty(mut self) -> Self {
        self.allow_empty = true;
        self
    }

    /// Flushes the file to disk and returns the finished upload.
    pub async fn finish(mut self) -> Result<Staged> {
        if self.size == 0 && !self.allow_empty {
            return Err(Error::invalid(ErrorCode::EmptyUpload, "the upload has no bytes"));
        }
        if self.video && self.mime.is_none() {
            self.sniff()?;
        }
        if !self.video {
            self.mime = infer::get(&self.head).map(|k| k.mime_type());
        }
        let mut file = self.file.take().ok_or_else(|| Error::internal("staging file already closed"))?;
        file.flush().await.map_err(|e| Error::unavailable("staging: flush failed", e))?;
        file.sync_all().await.map_err(|e| Error::unavailable("staging: sync failed", e))?;
        drop(file);
        let staged = Staged {
            path: std::mem::take(&mut self.path),
            sha256: hex::encode(self.hasher.clone().finalize()),
            size: self.size,
            mime: self.mime,
            reservation: self.reservation.take(),
        };
        Ok(staged)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Staged {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A finished file made elsewhere (an upload appended in place and hashed as it went); it
    /// is removed on drop like any staged file.
    pub fn adopt(path: PathBuf, sha256: String, size: u64, mime: Option<&'static str>) -> Staged {
        Staged { path, sha256, size, mime, reservation: None }
    }

    /// The quota holds that pay for these bytes, to be let go when they are charged.
    pub fn holds(&self) -> Vec<uuid::Uuid> {
        self.reservation.iter().map(Reservation::hold).collect()
    }

    /// The bytes were charged (their holds let go in the same transaction).
    pub fn charged(&mut self) {
        if let Some(r) = self.reservation.take() {
            r.settle();
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_head() -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0x20];
        v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2avc1mp41");
        v
    }

    #[tokio::test]
    async fn hashes_limits_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Staging::create(dir.path(), 100_000, true, None).await.unwrap();
        let mut data = mp4_head();
        data.resize(50_000, 7);
        for chunk in data.chunks(999) {
            s.write(chunk).await.unwrap();
        }
        let staged = s.finish().await.unwrap();
        assert_eq!(staged.size, 50_000);
        assert_eq!(staged.sha256, hex::encode(Sha256::digest(&data)));
        assert_eq!(staged.mime, Some("video/mp4"));
        assert_eq!(std::fs::read(staged.path()).unwrap(), data);
        drop(staged);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "dropped without commit: removed");

        let mut s = Staging::create(dir.path(), 10_000, true, None).await.unwrap();
        s.write(&mp4_head()).await.unwrap();
        let err = s.write(&[0u8; 10_000]).await.unwrap_err();
        assert!(matches!(err, Error::TooLarge(_)));
        drop(s);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "an oversize upload leaves nothing");

        let mut s = Staging::create(dir.path(), 100_000, true, None).await.unwrap();
        let err = s.write(&[b'x'; 9000]).await.unwrap_err();
        assert!(matches!(err, Error::UnsupportedMediaType(_)));
        drop(s);
        let s = Staging::create(dir.path(), 100_000, true, None).await.unwrap();
        assert!(s.finish().await.is_err(), "empty");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
