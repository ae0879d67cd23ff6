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
/// Ranges at least this long are mapped and leave by `sendfile` ([`crate::mapped`]); shorter
/// ones are read, which costs less than a mapping.
const MAP_MIN: u64 = 256 * 1024;
/// Mapped ranges go to hyper in frames this long (address space only, not memory).
const MAP_FRAME: usize = 4 * 1024 * 1024;

/// Blobs in a local directory, read and written with plain file-system calls (no object-store
/// layer in the hot path of playback); a finished upload is linked into place, not copied.
pub struct LocalBlobStore {
    root: PathBuf,
    /// Whole content-addressed blobs, mapped, by key: a play of a popular video costs no open,
    /// no mapping and no trip to the blocking pool. Such a key always holds the same bytes, so
    /// a kept mapping cannot go stale; each holds a file descriptor, hence the small bound.
    mapped: moka::sync::Cache<String, Bytes>,
}

fn io_err(what: &str, e: std::io::Error) -> Error {
    Error::unavailable(format!("blob store: {what}"), e)
}

impl LocalBlobStore {
    pub fn new(root: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&root).map_err(|e| io_err(&format!("cannot create {}", root.display()), e))?;
        // A time to live, not to idle: a deleted blob's mapping (and its disk space) goes within a minute.
        let mapped = moka::sync::Cache::builder().max_capacity(128).time_to_live(Duration::from_secs(60)).build();
        Ok(Self { root, mapped })
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
        let long = range.end - range.start.min(range.end) >= MAP_MIN;
        // Content-addressed: the same key is the same bytes forever, so the mapping is kept.
        let keep = long && key.starts_with("sha256/");
        if keep
            && let Some(whole) = self.mapped.get(key)
            && whole.len() as u64 >= range.end
        {
            return Ok(mapped_stream(whole.slice(range.start as usize..range.end as usize)).boxed());
        }
        let path = self.path(key)?;
        let wanted = range.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let file = Arc::new(std::fs::File::open(path)?);
            if !long {
                return Ok(Err(file));
            }
            // A mapping past the end of the file would fault when read: it must hold the range.
            let len = file.metadata()?.len();
            if len < wanted.end {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            crate::mapped::map(file, if keep { 0..len } else { wanted }).map(Ok)
        })
        .await;
        match opened {
            Ok(Ok(Ok(mapped))) if keep => {
                self.mapped.insert(key.to_owned(), mapped.clone());
                Ok(mapped_stream(mapped.slice(range.start as usize..range.end as usize)).boxed())
            }
            Ok(Ok(Ok(mapped))) => Ok(mapped_stream(mapped).boxed()),
            Ok(Ok(Err(file))) => Ok(pread_stream(file, range).boxed()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound("blob")),
            Ok(Err(e)) => Err(io_err("open", e)),
            Err(e) => Err(Error::internal(e)),
        }
    }

    async fn presign_get(&self, _: &str, _: Duration, _: &str, _: Option<&str>) -> Result<Option<String>> {
        Ok(None)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.mapped.invalidate(key);
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

/// A mapped range in frames of `MAP_FRAME`: slices of one mapping, no copy, no memory held.
fn mapped_stream(bytes: Bytes) -> impl futures::Stream<Item = std::io::Result<Bytes>> {
    let frames = bytes.len().div_ceil(MAP_FRAME);
    futures::stream::iter(
        (0..frames).map(move |i| Ok(bytes.slice(i * MAP_FRAME..bytes.len().min((i + 1) * MAP_FRAME)))),
    )
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
        for _ in 0..2 {
            // Long: mapped, and the second time from the kept mapping.
            let got: Vec<u8> =
                store.read(&key, 300_000..900_000).await.unwrap().map(|c| c.unwrap().to_vec()).concat().await;
            assert_eq!(got, data[300_000..900_000]);
        }
        store.delete(&key).await.unwrap();
        assert!(
            matches!(store.read(&key, 300_000..900_000).await, Err(Error::NotFound(_))),
            "a deleted blob's mapping goes"
        );
        store.delete(&key).await.unwrap();
        assert!(!store.exists(&key).await.unwrap());
        assert!(matches!(store.read(&key, 0..1).await, Err(Error::NotFound(_))));
        assert!(store.path("../etc/passwd").is_err());
        assert!(store.path("a//b").is_err());
    }
}
