//! Copies one append's body into a file: within the room the upload has left, under its lock,
//! with its bytes held against the owner's quota before they are written, hashing as it goes.
//!
//! Three stages overlap, so that neither the network nor the hashing waits for the disk: while
//! one batch's blocks are written ([`AppendFile`], direct I/O where the file system takes it),
//! the next batch is hashed and copied into blocks, and the one after is gathered from the
//! body. A write checks the lease's deadline on its own thread, so nothing is written after
//! the lock may have passed to another writer, and every path waits for every write before it
//! returns (the caller releases the lock next). No thread waits on the client: the blocking
//! tasks are spawned per batch.
//!
//! A batch goes to the writer as soon as the writer is free, so batches grow (up to 1 MiB)
//! only while it is behind. Measured (BENCHMARKS.md): waiting for fuller batches, hashing and
//! copying on two threads, or two batches' writes in flight instead of one, were all slower on
//! two cores.
//!
//! Memory: a client that stalls leaves at most its batch here until the writes in flight end,
//! then nothing: its cost is the connection's own read buffer (32 KiB). An append holds at
//! most the batch being gathered, the one being copied and the blocks being written, and the
//! batches of all uploads together hold at most [`BUDGET`] (a batch's share is given back once
//! its blocks are written): past it, an upload hands over what it has and waits for room.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::checksum::{Checksum, Hasher};
use super::lease::{self, Lease};
use super::running_hash::RunningHash;
use crate::quota::Reservation;
use crate::storage::AppendFile;
use crate::{Error, Result};

/// At most this much of a body is gathered before it is written.
const BATCH: usize = 1 << 20;
/// What every upload's gathered batches may hold together, in KiB.
const BUDGET: usize = 64 * 1024;

/// The room left in [`BUDGET`].
static ROOM: std::sync::LazyLock<Semaphore> = std::sync::LazyLock::new(|| Semaphore::new(BUDGET));

/// KiB of the budget a chunk takes (never more than all of it).
fn kib(len: usize) -> u32 {
    u32::try_from(len.div_ceil(1024).min(BUDGET)).unwrap_or(u32::MAX)
}

/// What one append took.
pub(super) struct Pumped {
    /// Bytes written.
    pub n: u64,
    /// The client went away before the end of its body; the bytes that arrived are written.
    pub cut: bool,
    /// The body's digest, when the client sent `Upload-Checksum`.
    pub digest: Option<Hasher>,
    pub running: Option<RunningHash>,
}

/// Where the bytes go, and the hashes they feed.
pub(super) struct Sink {
    pub file: AppendFile,
    pub running: Option<RunningHash>,
    pub digest: Option<Hasher>,
    /// The last batch's blocks, being written.
    pub written: InFlight,
}

impl Sink {
    pub fn new(file: AppendFile, running: Option<RunningHash>) -> Self {
        Sink { file, running, digest: None, written: InFlight::default() }
    }
}

/// The write of a batch's blocks. Waited for even when whatever holds it unwinds (a panic
/// while the next batch is hashed): no write may outlive the append, since the lock goes next.
#[derive(Default)]
pub(super) struct InFlight(Option<JoinHandle<Result<()>>>);

impl InFlight {
    /// Waits for the write, from a blocking thread.
    fn wait_blocking(&mut self) -> Result<()> {
        match self.0.take() {
            Some(write) => futures::executor::block_on(write).map_err(Error::internal)?,
            None => Ok(()),
        }
    }

    async fn wait(&mut self) -> Result<()> {
        match self.0.as_mut() {
            Some(write) => {
                let done = write.await;
                self.0 = None;
                done.map_err(Error::internal)?
            }
            None => Ok(()),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let _ = self.wait_blocking();
    }
}

fn failed(e: std::io::Error) -> Error {
    Error::unavailable("upload write", e)
}

/// The limits one append runs within.
pub(super) struct Bounds<'a> {
    /// Bytes this append may still write (to the upload's length, or the size limit).
    pub room: u64,
    /// The upload's offset before this append: the quota covers `base + written`.
    pub base: u64,
    pub checksum: Option<&'a Checksum>,
}

pub(super) async fn pump<S, E>(
    body: &mut S,
    mut sink: Sink,
    lease: &mut Lease,
    reservation: &mut Reservation,
    bounds: Bounds<'_>,
) -> Result<(Pumped, AppendFile)>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    sink.digest = bounds.checksum.map(Checksum::hasher);
    let mut batches =
        Batches { writer: Writer::Idle(Box::new(sink)), n: 0, batch: Vec::new(), gathered: 0, held: Vec::new() };
    let received = batches.receive(body, lease, reservation, &bounds).await;
    // Every write is waited for on every path, so that none follows the lock's release. A
    // write that failed (a full disk) says more than what the body was refused for meanwhile.
    let (sink, cut) = match (batches.writer.drain().await, received) {
        (Err(failed), received) => {
            if let Err(e) = received {
                tracing::info!(error = %e.report(), "append refused while its write failed");
            }
            return Err(failed);
        }
        (Ok(_), Err(refused)) => return Err(refused),
        (Ok(None), Ok(_)) => return Err(Error::internal("an upload write failed earlier")),
        (Ok(Some(sink)), Ok(cut)) => (sink, cut),
    };
    let Sink { file, running, digest, .. } = *sink;
    // The sync writes the carried block too: under the lease, like every write.
    let until = lease.write_deadline();
    let file = tokio::task::spawn_blocking(move || {
        lease::check_before(until)?;
        let mut file = file;
        file.sync().map_err(failed)?;
        Ok(file)
    })
    .await
    .map_err(Error::internal)??;
    Ok((Pumped { n: batches.n, cut, digest, running }, file))
}

/// The body, gathered into batches and handed to the writer.
struct Batches {
    writer: Writer,
    /// Bytes handed to the writer.
    n: u64,
    batch: Vec<Bytes>,
    gathered: u64,
    held: Vec<SemaphorePermit<'static>>,
}

impl Batches {
    /// Takes the whole body: whether the client went away before its end.
    async fn receive<S, E>(
        &mut self,
        body: &mut S,
        lease: &mut Lease,
        reservation: &mut Reservation,
        bounds: &Bounds<'_>,
    ) -> Result<bool>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        loop {
            if !self.batch.is_empty() && !self.writer.is_busy() {
                // The writer is free: it takes what is here while the next batch gathers.
                self.hand_over(lease, reservation, bounds.base).await?;
            }
            let item = if self.batch.is_empty() {
                body.next().await
            } else {
                // The writer is busy: gather until it is done, or until the batch is full.
                tokio::select! {
                    item = body.next() => item,
                    () = self.writer.settled() => continue,
                }
            };
            match item {
                None => break,
                Some(Err(e)) => {
                    tracing::info!(received = self.n + self.gathered, error = %e, "client went away mid-append");
                    self.hand_over(lease, reservation, bounds.base).await?;
                    return Ok(true);
                }
                Some(Ok(chunk)) => {
                    if self.n + self.gathered + chunk.len() as u64 > bounds.room {
                        return Err(Error::TooLarge(format!(
                            "the body goes past the upload's length of {} bytes",
                            bounds.base + bounds.room
                        )));
                    }
                    // Renewed as bytes arrive: a writer whose client stalled past its lease
                    // finds out here, before it hands anything more over.
                    lease.keep().await?;
                    let permit = match ROOM.try_acquire_many(kib(chunk.len())) {
                        Ok(p) => p,
                        Err(_) => {
                            // The budget is spent: hand over what this upload holds, then wait.
                            self.hand_over(lease, reservation, bounds.base).await?;
                            ROOM.acquire_many(kib(chunk.len())).await.map_err(Error::internal)?
                        }
                    };
                    self.held.push(permit);
                    self.gathered += chunk.len() as u64;
                    self.batch.push(chunk);
                    if self.gathered >= BATCH as u64 {
                        self.hand_over(lease, reservation, bounds.base).await?;
                    }
                }
            }
        }
        self.hand_over(lease, reservation, bounds.base).await?;
        Ok(false)
    }

    /// Hands the gathered batch (if any) to the writer, once the quota covers it and the lease
    /// still holds.
    async fn hand_over(&mut self, lease: &Lease, reservation: &mut Reservation, base: u64) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        if !self.writer.is_busy() {
            // A write that failed stops the append now, before anything else is checked.
            self.writer.settled().await;
            self.writer.failure()?;
        }
        reservation.cover(base + self.n + self.gathered).await?;
        lease.check()?;
        let batch = std::mem::take(&mut self.batch);
        let held = std::mem::take(&mut self.held);
        self.writer.write(batch, held, lease.write_deadline()).await?;
        self.n += std::mem::take(&mut self.gathered);
        Ok(())
    }
}

/// The file's side: idle, or writing one batch on the blocking pool.
enum Writer {
    Idle(Box<Sink>),
    Busy(JoinHandle<Result<Box<Sink>>>),
    /// A write failed: its error, until it is returned.
    Failed(Option<Error>),
}

impl Writer {
    fn is_busy(&self) -> bool {
        matches!(self, Writer::Busy(write) if !write.is_finished())
    }

    /// Waits for the write in flight, if any. Cancel-safe: the write stays in flight.
    async fn settled(&mut self) {
        if let Writer::Busy(write) = self {
            *self = match write.await {
                Ok(Ok(sink)) => Writer::Idle(sink),
                Ok(Err(e)) => Writer::Failed(Some(e)),
                Err(e) => Writer::Failed(Some(Error::internal(e))),
            };
        }
    }

    /// Waits for the batch in hand (its error, if it failed), then starts this one: it is
    /// hashed and copied into blocks while the last batch's blocks are written, and its own
    /// are written once those are.
    async fn write(&mut self, batch: Vec<Bytes>, held: Vec<SemaphorePermit<'static>>, until: Instant) -> Result<()> {
        let mut sink = self.finish().await?;
        *self = Writer::Busy(tokio::task::spawn_blocking(move || {
            let blocks = lease::check_before(until).and_then(|()| {
                let Sink { file, running, digest, .. } = &mut *sink;
                let mut blocks = file.batch().map_err(failed)?;
                // Each chunk is hashed, then copied, while it is in the cache.
                for chunk in &batch {
                    if let Some(r) = running.as_mut() {
                        r.update(chunk);
                    }
                    if let Some(d) = digest.as_mut() {
                        d.update(chunk);
                    }
                    blocks.push(chunk).map_err(failed)?;
                }
                Ok(blocks.end())
            });
            drop(batch);
            // One batch's blocks in flight at a time, and none left behind by a failure.
            sink.written.wait_blocking()?;
            let blocks = blocks?;
            sink.written.0 = Some(tokio::task::spawn_blocking(move || {
                // The lease is checked on the thread that writes, right before it does.
                lease::check_before(until)?;
                for block in blocks {
                    block.write().map_err(failed)?;
                }
                // The budget is given back once the bytes are written.
                drop(held);
                Ok(())
            }));
            Ok(sink)
        }));
        Ok(())
    }

    /// The sink once every batch handed over is written: `None` when a write failed and its
    /// error was returned already.
    async fn drain(&mut self) -> Result<Option<Box<Sink>>> {
        let mut sink = match std::mem::replace(self, Writer::Failed(None)) {
            Writer::Idle(sink) => sink,
            Writer::Busy(write) => write.await.map_err(Error::internal)??,
            Writer::Failed(None) => return Ok(None),
            Writer::Failed(Some(e)) => return Err(e),
        };
        sink.written.wait().await?;
        Ok(Some(sink))
    }

    /// The error of a write that failed and was not returned yet.
    fn failure(&mut self) -> Result<()> {
        if let Writer::Failed(failed) = self
            && let Some(e) = failed.take()
        {
            return Err(e);
        }
        Ok(())
    }

    /// The sink, once every write handed over is done; the first failure otherwise.
    async fn finish(&mut self) -> Result<Box<Sink>> {
        match std::mem::replace(self, Writer::Failed(None)) {
            Writer::Idle(sink) => Ok(sink),
            Writer::Busy(write) => write.await.map_err(Error::internal)?,
            Writer::Failed(e) => Err(e.unwrap_or_else(|| Error::internal("an upload write failed earlier"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::time::Duration;

    use super::*;

    fn sink() -> (Sink, tempfile::NamedTempFile) {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        let file = AppendFile::open(tmp.path(), 0).unwrap();
        (Sink::new(file, Some(RunningHash::restore(None).unwrap())), tmp)
    }

    #[tokio::test]
    async fn batches_are_written_and_hashed_in_order() {
        let (sink, tmp) = sink();
        let mut writer = Writer::Idle(Box::new(sink));
        let until = Instant::now() + Duration::from_secs(60);
        let mut whole = Vec::new();
        for i in 0..50u8 {
            let batch: Vec<Bytes> =
                (0..3).map(|j| Bytes::from(vec![i.wrapping_mul(7) ^ j; 1000 + usize::from(i)])).collect();
            whole.extend(batch.iter().flat_map(|b| b.iter().copied()));
            writer.write(batch, Vec::new(), until).await.unwrap();
        }
        let mut sink = writer.drain().await.unwrap().unwrap();
        sink.file.sync().unwrap();
        let mut stored = Vec::new();
        tmp.reopen().unwrap().read_to_end(&mut stored).unwrap();
        assert_eq!(stored, whole);
        let want = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&whole));
        assert_eq!(sink.running.unwrap().finish(), want);
    }

    #[tokio::test]
    async fn a_batch_whose_lease_ran_out_while_it_waited_is_not_written() {
        let (sink, tmp) = sink();
        let mut writer = Writer::Idle(Box::new(sink));
        let past = Instant::now() - Duration::from_millis(1);
        writer.write(vec![Bytes::from_static(b"late")], Vec::new(), past).await.unwrap();
        // The refusal surfaces at the next hand-over or at the end, and nothing was written.
        let err =
            writer.write(vec![Bytes::from_static(b"more")], Vec::new(), Instant::now() + Duration::from_secs(60)).await;
        assert!(matches!(err, Err(Error::Locked(_))), "{err:?}");
        assert!(writer.failure().is_ok(), "the failure was returned once");
        assert!(writer.finish().await.is_err(), "a failed writer never hands its sink back");
        assert_eq!(tmp.as_file().metadata().unwrap().len(), 0);
    }

    #[tokio::test]
    async fn a_failed_write_is_reported_once_before_anything_else() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        let sink = Sink::new(AppendFile::open(tmp.path(), 0).unwrap(), None);
        let mut writer = Writer::Idle(Box::new(sink));
        assert!(writer.failure().is_ok());
        writer
            .write(vec![Bytes::from_static(b"x")], Vec::new(), Instant::now() - Duration::from_millis(1))
            .await
            .unwrap();
        writer.settled().await;
        assert!(!writer.is_busy());
        assert!(matches!(writer.failure(), Err(Error::Locked(_))));
        assert!(writer.failure().is_ok());
    }
}
