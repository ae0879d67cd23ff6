//! Blob bytes that can leave by `sendfile`: a range of a local blob is mapped into memory (never
//! read by us) and handed to hyper as `Bytes`, and every live mapping is recorded here with its
//! file and offset. The connection's writer (`streamvault::zero_copy`) looks up each buffer
//! hyper asks it to write; one that lies in a mapping goes from the page cache to the socket
//! with `sendfile`, without passing through user space: what nginx does with `sendfile on`.
//! Anything else that reads the bytes (HTTP/2 framing, a proxy in front of the stream role, a
//! test) reads them from the mapping, which is correct, only not zero-copy.
//!
//! A slow client holds a mapping (address space), not memory: the pages are the page cache's,
//! and since nothing touches them they are not in this process's RSS.
//!
//! Mapped files must not shrink while mapped (a read of a page past the end would be SIGBUS):
//! blobs are content-addressed and written once, by rename, and are never truncated; deleting
//! one leaves the mapped inode alive until the mapping goes.

use std::collections::BTreeMap;
use std::fs::File;
use std::ops::Range;
use std::sync::{Arc, LazyLock, RwLock};

use bytes::Bytes;

/// A mapped range of a file: where it starts in memory, how long it is, and the file offset
/// of its first byte.
struct Region {
    len: usize,
    file: Arc<File>,
    offset: u64,
}

/// Live mappings by start address.
static REGIONS: LazyLock<RwLock<BTreeMap<usize, Region>>> = LazyLock::new(Default::default);

/// A mapping that unregisters itself when the last `Bytes` pointing into it is dropped.
struct Mapping {
    map: memmap2::Mmap,
}

impl AsRef<[u8]> for Mapping {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        let start = self.map.as_ptr() as usize;
        REGIONS.write().unwrap_or_else(|e| e.into_inner()).remove(&start);
    }
}

fn page_size() -> u64 {
    static PAGE: LazyLock<u64> = LazyLock::new(|| {
        // SAFETY: sysconf has no preconditions.
        let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        u64::try_from(n).ok().filter(|n| *n > 0).unwrap_or(4096)
    });
    *PAGE
}

/// The bytes `range` of `file` (which must hold them), mapped and recorded; empty ranges
/// cannot be mapped.
pub fn map(file: Arc<File>, range: Range<u64>) -> std::io::Result<Bytes> {
    let len = usize::try_from(range.end.saturating_sub(range.start)).map_err(std::io::Error::other)?;
    if len == 0 {
        return Ok(Bytes::new());
    }
    // Mappings start on a page boundary.
    let aligned = range.start - range.start % page_size();
    let skip = usize::try_from(range.start - aligned).map_err(std::io::Error::other)?;
    // SAFETY: the mapping is read-only and private to this process, and the file is a blob,
    // which is never written or truncated after it is stored (see the module's comment); the
    // caller checked that the file holds `range`.
    let map = unsafe { memmap2::MmapOptions::new().offset(aligned).len(skip + len).map(&*file)? };
    let start = map.as_ptr() as usize;
    REGIONS.write().unwrap_or_else(|e| e.into_inner()).insert(start, Region { len: skip + len, file, offset: aligned });
    Ok(Bytes::from_owner(Mapping { map }).slice(skip..))
}

/// If `buf` lies inside a live mapping: its file and the file offset of `buf`'s first byte.
/// The mapping stays alive while the caller holds the `Bytes` `buf` borrows from.
pub fn find(buf: &[u8]) -> Option<(Arc<File>, u64)> {
    if buf.is_empty() {
        return None;
    }
    let at = buf.as_ptr() as usize;
    let regions = REGIONS.read().unwrap_or_else(|e| e.into_inner());
    let (start, region) = regions.range(..=at).next_back()?;
    let end = start + region.len;
    (at + buf.len() <= end).then(|| (region.file.clone(), region.offset + (at - start) as u64))
}

/// Whether a mapping starting at `addr` is live (for tests).
#[cfg(test)]
fn is_live(addr: usize) -> bool {
    REGIONS.read().unwrap_or_else(|e| e.into_inner()).contains_key(&addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_bytes_are_found_with_their_file_offset_and_forgotten_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        let bytes = map(file, 5_000..90_001).unwrap();
        assert_eq!(&bytes[..], &data[5_000..90_001]);
        let (_, offset) = find(&bytes).unwrap();
        assert_eq!(offset, 5_000);
        let (_, offset) = find(&bytes[1_000..2_000]).unwrap();
        assert_eq!(offset, 6_000);
        assert!(find(&data[..10]).is_none(), "heap bytes are not mapped");
        // The mapping starts on the page boundary before offset 5,000.
        let start = bytes.as_ptr() as usize - (5_000 % page_size()) as usize;
        assert!(is_live(start));
        let part = bytes.slice(100..200);
        drop(bytes);
        assert!(is_live(start), "a slice keeps the mapping");
        drop(part);
        assert!(!is_live(start));
    }
}
