use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use streamvault_core::ports::{BlobStore, ByteStream, HealthCheck};
use streamvault_core::{Error, Result};

/// Read size for streaming from disk: large enough that per-chunk overhead is small next to
/// the copy, small enough that a thousand slow readers hold well under 100 MiB between them.
const READ_CHUNK: usize = 64 * 1024;

/// Blobs in a local directory, read and written with plain file-system calls (no object-store
/// layer in the hot path of playback); a finished upload is linked into place, not copied.
pub struct LocalBlobStore {
    root: PathBuf,
}

fn io_err(what: &str, e: std::io::Error) -> Error {
    Error::unavailable(format!("blob store: {what}"), e)
}

impl LocalBlobStore {
    pub fn new(root: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&root).map_err(|e| io_err(&format!("cannot create {}", root.display()), e))?;
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        // Keys are made by blob_key(); refuse anything that could leave the root all the same.
        if key.is_empty() || key.starts_with('/') || key.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
            return Err(Error::bug(format!("refusing blob key {key:?}")));
        }
        Ok(self.root.join(key))
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    fn is_remote(&self) -> bool {
        false
    }

    async fn exists(&self, key: &str) -> Result<bool> {
        tokio::fs::try_exists(self.path(key)?).await.map_err(|e| io_err("stat", e))
    }

    async fn size(&self, key: &str) -> Result<Option<u64>> {
        match tokio::fs::metadata(self.path(key)?).await {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("stat", e)),
        }
    }

    async fn put_file(&self, key: &str, src: &Path, _size: u64, _content_type: &str) -> Result<()> {
        let dst = self.path(key)?;
        if let Some(dir) = dst.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| io_err("mkdir", e))?;
        }
        // A second link to the source (no copy), made under a temporary name and renamed into
        // place: readers see no blob or the whole blob, and the source stays for its owner to
        // remove. Across file systems, a copy takes the link's place.
        let tmp = dst.with_extension(format!("tmp-{}", streamvault_core::ids::new_id().simple()));
        if tokio::fs::hard_link(src, &tmp).await.is_err() {
            tokio::fs::copy(src, &tmp).await.map_err(|e| io_err("copy", e))?;
        }
        if let Err(e) = tokio::fs::rename(&tmp, &dst).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io_err("rename", e));
        }
        Ok(())
    }

    async fn read(&self, key: &str, range: Range<u64>) -> Result<ByteStream> {
        let path = self.path(key)?;
        let file = match tokio::task::spawn_blocking(move || std::fs::File::open(path)).await {
            Ok(Ok(f)) => Arc::new(f),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::NotFound("blob")),
            Ok(Err(e)) => return Err(io_err("open", e)),
            Err(e) => return Err(Error::internal(e)),
        };
        Ok(pread_stream(file, range).boxed())
    }

    async fn presign_get(&self, _: &str, _: Duration, _: &str, _: Option<&str>) -> Result<Option<String>> {
        Ok(None)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("delete", e)),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        match tokio::fs::remove_dir_all(self.path(prefix.trim_end_matches('/'))?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("delete", e)),
        }
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.path(key).ok()
    }
}

/// Positioned reads on the blocking pool, one chunk per poll. Unlike `tokio::fs::File` behind a
/// `ReaderStream`, which keep a buffer each, nothing is held between polls: a slow client costs
/// the one chunk hyper is waiting to write, and no more.
fn pread_stream(file: Arc<std::fs::File>, range: Range<u64>) -> impl futures::Stream<Item = std::io::Result<Bytes>> {
    futures::stream::unfold((file, range.start, range.end), |(file, pos, end)| async move {
        if pos >= end {
            return None;
        }
        let len = usize::try_from((end - pos).min(READ_CHUNK as u64)).unwrap_or(READ_CHUNK);
        let f = file.clone();
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; len];
            let n = f.read_at(&mut buf, pos)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>(buf)
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        match read {
            Ok(buf) if buf.is_empty() => {
                // The file is shorter than its recorded size: end the body with an error.
                Some((Err(std::io::ErrorKind::UnexpectedEof.into()), (file, end, end)))
            }
            Ok(buf) => {
                let next = pos + buf.len() as u64;
                Some((Ok(Bytes::from(buf)), (file, next, end)))
            }
            Err(e) => Some((Err(e), (file, end, end))),
        }
    })
}

#[async_trait]
impl HealthCheck for LocalBlobStore {
    fn name(&self) -> &'static str {
        "storage"
    }

    async fn check(&self) -> Result<()> {
        match tokio::fs::metadata(&self.root).await {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(Error::retry_later(format!("{} is not a directory", self.root.display()))),
            Err(e) => Err(io_err(&self.root.display().to_string(), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_read_ranges_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::new(dir.path().join("blobs")).unwrap();
        let src = dir.path().join("staged");
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let key = streamvault_core::ports::blob_key(&"ab".repeat(32));
        store.put_file(&key, &src, data.len() as u64, "video/mp4").await.unwrap();
        assert!(store.exists(&key).await.unwrap());
        for r in [0..1, 0..1_000_000, 999_999..1_000_000, 12_345..700_001] {
            let got: Vec<u8> = store.read(&key, r.clone()).await.unwrap().map(|c| c.unwrap().to_vec()).concat().await;
            assert_eq!(got, data[r.start as usize..r.end as usize]);
        }
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert!(!store.exists(&key).await.unwrap());
        assert!(matches!(store.read(&key, 0..1).await, Err(Error::NotFound(_))));
        assert!(store.path("../etc/passwd").is_err());
        assert!(store.path("a//b").is_err());
    }
}
