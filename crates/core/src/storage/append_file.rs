//! A file appended to around the page cache (`O_DIRECT`) where the file system allows it.
//!
//! Why: on the machines measured (BENCHMARKS.md, issue 16), writing an upload into the page
//! cache and syncing it at the end of each append ran at ~300 MB/s, while direct writes of
//! 256 KiB or more, synced the same way, ran at 1.3-1.6 GB/s; the copy into the page cache was
//! also a third of the server's CPU. Durability is unchanged: [`AppendFile::sync`] still ends
//! with `fdatasync`, which flushes the device's cache and the file's length.
//!
//! Direct I/O takes buffers, lengths and offsets aligned to the device's block. Bytes are copied
//! into aligned buffers and written in whole blocks ([`Block`]s, which never overlap, so several
//! can be written at once); the last partial block is carried in memory (less than [`ALIGN`]
//! bytes) and written, with what follows it, by the next batch. [`AppendFile::sync`] writes it
//! padded and cuts the file back to its length. Where the file system refuses `O_DIRECT`
//! (tmpfs, some FUSE file systems), at open or at any write, the same calls go through the page
//! cache.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use memmap2::MmapMut;

/// The alignment of direct writes: a multiple of every logical block size in use (512, 4096).
pub const ALIGN: usize = 4096;
/// The aligned buffer a batch is copied into: writes are at most this large.
const BUFFER: usize = 1 << 20;
/// Buffers kept for reuse once their blocks are written; more are unmapped.
const POOL: usize = 8;

static BUFFERS: Mutex<Vec<MmapMut>> = Mutex::new(Vec::new());

/// A buffer of [`BUFFER`] bytes aligned to the page (so to [`ALIGN`]): an anonymous map, so
/// that a freed one goes back to the system at once rather than to an allocator's arena.
struct Aligned {
    map: Option<MmapMut>,
    len: usize,
}

impl Aligned {
    /// A pooled buffer, or a new one.
    fn take() -> io::Result<Aligned> {
        let reused = BUFFERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        let map = match reused {
            Some(map) => map,
            None => MmapMut::map_anon(BUFFER)?,
        };
        Ok(Aligned { map: Some(map), len: 0 })
    }

    fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or_default()
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self.map.as_deref_mut().unwrap_or_default()
    }

    fn cap(&self) -> usize {
        self.bytes().len()
    }

    fn filled(&self) -> &[u8] {
        &self.bytes()[..self.len]
    }

    /// Copies as much of `bytes` as fits: how much that was.
    fn fill(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.cap() - self.len);
        let at = self.len;
        self.bytes_mut()[at..at + n].copy_from_slice(&bytes[..n]);
        self.len += n;
        n
    }

    /// The first `len` bytes, zero-padded to whole blocks.
    fn padded(&mut self) -> &[u8] {
        let (len, whole) = (self.len, self.len.next_multiple_of(ALIGN));
        self.bytes_mut()[len..whole].fill(0);
        &self.bytes()[..whole]
    }
}

impl Drop for Aligned {
    fn drop(&mut self) {
        let mut pool = BUFFERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if pool.len() < POOL
            && let Some(map) = self.map.take()
        {
            pool.push(map);
        }
    }
}

/// The file's handle, shared by the writes of one append, which may run at once: each writes
/// its own whole blocks.
struct Disk {
    path: PathBuf,
    file: File,
    direct: bool,
    /// A handle through the page cache, once a direct write was refused.
    cached: OnceLock<File>,
}

impl Disk {
    fn open(path: &Path, direct: bool) -> io::Result<File> {
        let mut options = OpenOptions::new();
        options.read(true).write(true);
        if direct {
            options.custom_flags(libc::O_DIRECT);
        }
        options.open(path)
    }

    /// Writes `bytes` at `at` (aligned while direct); a direct write the file system refuses
    /// goes through the page cache, and so does every write after it.
    fn write_at(&self, bytes: &[u8], at: u64) -> io::Result<()> {
        if let Some(cached) = self.cached.get() {
            return cached.write_all_at(bytes, at);
        }
        match self.file.write_all_at(bytes, at) {
            Err(e) if self.direct && refused(&e) => {
                tracing::debug!(path = %self.path.display(), "direct write refused; writing through the page cache");
                let opened = Self::open(&self.path, false)?;
                self.cached.get_or_init(|| opened).write_all_at(bytes, at)
            }
            done => done,
        }
    }
}

/// A file being appended to, from a known length.
pub struct AppendFile {
    disk: Arc<Disk>,
    /// Where `carry` starts: a multiple of [`ALIGN`] while direct.
    pos: u64,
    /// The bytes of the last partial block, not written yet.
    carry: Vec<u8>,
}

fn refused(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidInput
}

impl AppendFile {
    /// Opens `path`, which holds exactly `len` bytes, to append after them.
    pub fn open(path: &Path, len: u64) -> io::Result<AppendFile> {
        Self::open_as(path, len, true)
    }

    /// Creates (or empties) `path` to append to through the page cache: for a scratch file
    /// that is read back at once.
    pub fn create_cached(path: &Path) -> io::Result<AppendFile> {
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path)?;
        let disk = Disk { path: path.into(), file, direct: false, cached: OnceLock::new() };
        Ok(AppendFile { disk: Arc::new(disk), pos: 0, carry: Vec::new() })
    }

    fn open_as(path: &Path, len: u64, direct: bool) -> io::Result<AppendFile> {
        let opened = if direct {
            match Disk::open(path, true).and_then(|f| read_block(&f, len).map(|carry| (f, carry))) {
                Ok(opened) => Some(opened),
                Err(e) if refused(&e) => {
                    tracing::debug!(path = %path.display(), "direct I/O refused; writing through the page cache");
                    None
                }
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        let direct = opened.is_some();
        let (file, carry) = match opened {
            Some(opened) => opened,
            None => (Disk::open(path, false)?, Vec::new()),
        };
        let disk = Disk { path: path.into(), file, direct, cached: OnceLock::new() };
        Ok(AppendFile { disk: Arc::new(disk), pos: len - carry.len() as u64, carry })
    }

    /// Whether writes bypass the page cache.
    pub fn is_direct(&self) -> bool {
        self.disk.direct && self.disk.cached.get().is_none()
    }

    /// The file's length once its blocks are written and it is synced: everything appended.
    fn len(&self) -> u64 {
        self.pos + self.carry.len() as u64
    }

    /// Starts a batch of appends. Nothing is written until the batch's [`Block`]s are.
    pub fn batch(&mut self) -> io::Result<Batch<'_>> {
        let mut buf = Aligned::take()?;
        buf.fill(&self.carry);
        self.carry.clear();
        Ok(Batch { file: self, buf, blocks: Vec::new() })
    }

    /// `buf` (whole blocks) as the next [`Block`].
    fn block(&mut self, buf: Aligned) -> Block {
        let at = self.pos;
        self.pos += buf.len as u64;
        Block { disk: Arc::clone(&self.disk), buf, at }
    }

    /// Makes everything appended durable: the carried block (padded, then the file cut back
    /// to its length), the data and the length. Every [`Block`] must have been written.
    pub fn sync(&mut self) -> io::Result<()> {
        if !self.carry.is_empty() {
            let mut buf = Aligned::take()?;
            buf.fill(&self.carry);
            self.disk.write_at(buf.padded(), self.pos)?;
            self.disk.file.set_len(self.len())?;
        }
        self.disk.file.sync_data()
    }
}

/// Whole blocks of an [`AppendFile`], to be written: in any order, and at once with others,
/// since no two overlap.
#[must_use = "a block is appended only once it is written"]
pub struct Block {
    disk: Arc<Disk>,
    buf: Aligned,
    at: u64,
}

impl Block {
    pub fn write(self) -> io::Result<()> {
        self.disk.write_at(self.buf.filled(), self.at)
    }
}

/// One batch of appends to an [`AppendFile`].
pub struct Batch<'a> {
    file: &'a mut AppendFile,
    buf: Aligned,
    blocks: Vec<Block>,
}

impl Batch<'_> {
    pub fn push(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let n = self.buf.fill(bytes);
            bytes = &bytes[n..];
            if self.buf.len == self.buf.cap() {
                let full = std::mem::replace(&mut self.buf, Aligned::take()?);
                self.blocks.push(self.file.block(full));
            }
        }
        Ok(())
    }

    /// The batch's whole blocks, to be written; a partial last block is carried to the next
    /// batch (or to [`AppendFile::sync`]).
    pub fn end(self) -> Vec<Block> {
        let Batch { file, mut buf, mut blocks, .. } = self;
        let whole = buf.len / ALIGN * ALIGN;
        file.carry = buf.filled()[whole..].to_vec();
        if whole > 0 {
            buf.len = whole;
            blocks.push(file.block(buf));
        }
        blocks
    }
}

/// The bytes of the partial block that ends a file of `len` bytes (read with an aligned
/// buffer, as direct reads need).
fn read_block(file: &File, len: u64) -> io::Result<Vec<u8>> {
    let partial = (len % ALIGN as u64) as usize;
    if partial == 0 {
        return Ok(Vec::new());
    }
    let mut buf = Aligned::take()?;
    let at = len - partial as u64;
    let mut got = 0;
    while got < partial {
        match file.read_at(&mut buf.bytes_mut()[got..ALIGN], at + got as u64) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file is shorter than recorded")),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(buf.bytes()[..partial].to_vec())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Appends `batches` (each a list of pushes) to a file that starts with `head`, reopening
    /// it between batches when `reopen` says so, as a new append does.
    fn append_all(head: &[u8], batches: &[Vec<Vec<u8>>], reopen: &[bool], direct: bool) -> (Vec<u8>, bool) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        std::fs::write(&path, head).unwrap();
        let mut file = AppendFile::open_as(&path, head.len() as u64, direct).unwrap();
        let was_direct = file.is_direct();
        let mut want = head.to_vec();
        for (i, batch) in batches.iter().enumerate() {
            let mut b = file.batch().unwrap();
            for push in batch {
                b.push(push).unwrap();
                want.extend_from_slice(push);
            }
            let mut blocks = b.end();
            if i % 2 == 1 {
                // Blocks never overlap: the order they are written in does not matter.
                blocks.reverse();
            }
            for block in blocks {
                block.write().unwrap();
            }
            assert_eq!(file.len(), want.len() as u64);
            if reopen.get(i).copied().unwrap_or(false) {
                file.sync().unwrap();
                file = AppendFile::open_as(&path, want.len() as u64, direct).unwrap();
            }
        }
        file.sync().unwrap();
        drop(file);
        let stored = std::fs::read(&path).unwrap();
        assert_eq!(stored.len(), want.len());
        assert!(stored == want, "the file holds what was appended");
        (stored, was_direct)
    }

    fn bytes(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
    }

    #[test]
    fn direct_appends_at_unaligned_lengths_keep_every_byte() {
        let batches = vec![
            vec![bytes(5000, 1), bytes(3, 2)],
            vec![bytes(BUFFER + 17, 3)],
            vec![bytes(ALIGN, 4), bytes(1, 5)],
            vec![],
            vec![bytes(3 * BUFFER - 1, 6)],
        ];
        let (_, direct) = append_all(&bytes(123, 9), &batches, &[true, false, true, true], true);
        // Where the temporary directory is on tmpfs the page-cache path ran instead (the next
        // test covers it); CI's is on a disk, where direct I/O must have been used.
        assert!(direct || std::env::var_os("CI").is_none(), "direct I/O was refused in the temporary directory");
    }

    #[test]
    fn the_page_cache_path_keeps_every_byte() {
        let batches = vec![vec![bytes(5000, 1)], vec![bytes(BUFFER + 17, 3), bytes(9, 3)]];
        let (_, direct) = append_all(&bytes(10, 9), &batches, &[true], false);
        assert!(!direct);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn any_split_of_appends_is_stored_whole(
            head in 0usize..9000,
            batches in prop::collection::vec(prop::collection::vec(0usize..70_000, 0..4), 1..6),
            reopen in prop::collection::vec(any::<bool>(), 6),
            direct in any::<bool>(),
        ) {
            let batches: Vec<Vec<Vec<u8>>> = batches
                .iter()
                .enumerate()
                .map(|(i, b)| b.iter().map(|&len| bytes(len, i as u8)).collect())
                .collect();
            append_all(&bytes(head, 77), &batches, &reopen, direct);
        }
    }
}
