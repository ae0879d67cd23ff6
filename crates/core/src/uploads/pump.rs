//! Copies one append's body into a file: within the room the upload has left, under its lock,
//! with its bytes held against the owner's quota before they are written, hashing as it goes.
//!
//! Memory: chunks are gathered while they are already there (up to a batch of 1 MiB) and
//! written as soon as the body has nothing more to give at once, so a client that stalls
//! leaves nothing buffered here: its cost is the connection's own read buffer (32 KiB). The
//! batches of all uploads together hold at most [`BUDGET`]: past it, an upload writes what it
//! has and waits for room. Writes and hashing run on the blocking pool, off the reactor.

use std::fs::File;
use std::io::{IoSlice, Write};

use bytes::Bytes;
use futures::{FutureExt, Stream, StreamExt};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::checksum::{Checksum, Hasher};
use super::lease::Lease;
use super::running_hash::RunningHash;
use crate::quota::Reservation;
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
    pub file: File,
    pub running: Option<RunningHash>,
    pub digest: Option<Hasher>,
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
) -> Result<(Pumped, File)>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    sink.digest = bounds.checksum.map(Checksum::hasher);
    let mut n: u64 = 0;
    let mut batch: Vec<Bytes> = Vec::new();
    let mut gathered: u64 = 0;
    let mut held: Vec<SemaphorePermit<'static>> = Vec::new();
    let mut cut = false;
    loop {
        // The first chunk of a batch is waited for; the rest only taken while already there.
        let item = if batch.is_empty() {
            body.next().await
        } else {
            match body.next().now_or_never() {
                Some(item) => item,
                None => {
                    sink =
                        write(sink, std::mem::take(&mut batch), lease, reservation, bounds.base + n + gathered).await?;
                    n += std::mem::take(&mut gathered);
                    held.clear();
                    continue;
                }
            }
        };
        match item {
            None => break,
            Some(Err(e)) => {
                tracing::info!(received = n + gathered, error = %e, "client went away mid-append");
                cut = true;
                break;
            }
            Some(Ok(chunk)) => {
                if n + gathered + chunk.len() as u64 > bounds.room {
                    return Err(Error::TooLarge(format!(
                        "the body goes past the upload's length of {} bytes",
                        bounds.base + bounds.room
                    )));
                }
                // Renewed as bytes arrive: a writer whose client stalled past its lease finds
                // out here, before it writes anything more.
                lease.keep().await?;
                let permit = match ROOM.try_acquire_many(kib(chunk.len())) {
                    Ok(p) => p,
                    Err(_) => {
                        // The budget is spent: write what this upload holds, then wait for room.
                        if !batch.is_empty() {
                            let total = bounds.base + n + gathered;
                            sink = write(sink, std::mem::take(&mut batch), lease, reservation, total).await?;
                            n += std::mem::take(&mut gathered);
                            held.clear();
                        }
                        ROOM.acquire_many(kib(chunk.len())).await.map_err(Error::internal)?
                    }
                };
                held.push(permit);
                gathered += chunk.len() as u64;
                batch.push(chunk);
                if gathered >= BATCH as u64 {
                    sink =
                        write(sink, std::mem::take(&mut batch), lease, reservation, bounds.base + n + gathered).await?;
                    n += std::mem::take(&mut gathered);
                    held.clear();
                }
            }
        }
    }
    if !batch.is_empty() {
        sink = write(sink, batch, lease, reservation, bounds.base + n + gathered).await?;
        n += gathered;
    }
    drop(held);
    let Sink { file, running, digest } = sink;
    let file = tokio::task::spawn_blocking(move || file.sync_data().map(|()| file))
        .await
        .map_err(Error::internal)?
        .map_err(|e| Error::unavailable("upload write", e))?;
    Ok((Pumped { n, cut, digest, running }, file))
}

/// Writes a batch (and hashes it) on the blocking pool, once the quota covers `total` and the
/// lease still holds.
async fn write(
    sink: Sink,
    batch: Vec<Bytes>,
    lease: &Lease,
    reservation: &mut Reservation,
    total: u64,
) -> Result<Sink> {
    reservation.cover(total).await?;
    lease.check()?;
    tokio::task::spawn_blocking(move || {
        let mut sink = sink;
        for chunk in &batch {
            if let Some(r) = sink.running.as_mut() {
                r.update(chunk);
            }
            if let Some(d) = sink.digest.as_mut() {
                d.update(chunk);
            }
        }
        write_all_vectored(&mut sink.file, &batch).map(|()| sink)
    })
    .await
    .map_err(Error::internal)?
    .map_err(|e| Error::unavailable("upload write", e))
}

/// `Write::write_all_vectored` (not stable yet): every byte of `bufs`, in as few calls as the
/// kernel takes.
fn write_all_vectored(file: &mut File, bufs: &[Bytes]) -> std::io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(b)).collect();
    let mut rest = &mut slices[..];
    IoSlice::advance_slices(&mut rest, 0);
    while !rest.is_empty() {
        match file.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut rest, written),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
