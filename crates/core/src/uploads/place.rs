//! Where an upload's bytes live between appends, in the blob store under `uploads/<id>/`:
//!
//! - [`Place::InPlace`], on a local store: one file appended in place, hashed as it goes (the
//!   hasher's state is saved with each append), so that the finished upload is linked into the
//!   store without being read again. When a writer takes an upload over from one whose lease
//!   ran out, it first copies the recorded bytes to a file of its own: the old writer may still
//!   hold the old file open, and nothing another handle can write to is ever published.
//! - [`Place::Segments`], on object storage (which cannot append): each append is one object
//!   named after its start and its writer, so a writer that lost the lock never overwrites the
//!   winner's bytes; the finished upload is assembled once.

use std::fs::File;
use std::path::PathBuf;

use futures::StreamExt;

use super::pump::Sink;
use super::running_hash::RunningHash;
use crate::ports::{Acquired, AppendedBytes};
use crate::storage::{AppendFile, Staged, Staging, Storage, read_head, sniff_video};
use crate::uploads::{Segment, Upload};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    InPlace,
    Segments,
}

/// Where one append writes.
pub(super) struct Target {
    /// In place: the data file's name; with segments: the segment's name.
    pub name: String,
    /// The file written: the data file, or the staging file stored as the segment.
    pub path: PathBuf,
    /// A staging file, removed when the append is over.
    scratch: bool,
}

impl Drop for Target {
    fn drop(&mut self) {
        if self.scratch {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::unavailable(format!("upload {what}"), e)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    what: &'static str,
) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(Error::internal)?.map_err(io(what))
}

impl Place {
    pub(super) fn of(storage: &Storage) -> Place {
        if storage.blobs.local_path("uploads/probe").is_some() { Place::InPlace } else { Place::Segments }
    }

    /// What to record of an append of `n` bytes written to `target`: the data file (always,
    /// since a takeover moves to a new one), or the segment (none for an empty append).
    pub(super) fn recorded(self, target: &Target, n: u64) -> Option<AppendedBytes> {
        match self {
            Place::InPlace => Some(AppendedBytes::File(target.name.clone())),
            Place::Segments if n > 0 => Segment::parse(&target.name).map(AppendedBytes::Segment),
            Place::Segments => None,
        }
    }

    /// Opens where an append by `holder` writes, positioned at the upload's offset.
    pub(super) async fn open(
        self,
        storage: &Storage,
        up: &Upload,
        holder: &str,
        acquired: Acquired,
    ) -> Result<(Target, Sink)> {
        match self {
            Place::InPlace => {
                let path_of = |name: &str| {
                    storage
                        .blobs
                        .local_path(&up.key(name))
                        .ok_or_else(|| Error::internal("no local path for an upload"))
                };
                let (name, copy_from) = match (&up.data_file, acquired) {
                    // The last writer let go cleanly: it closed its file, which is ours now.
                    (Some(current), Acquired::Free) => (current.clone(), None),
                    // Taken over (or the first append): a file no earlier writer ever opened.
                    (current, _) => (format!("data-{holder}"), current.clone().filter(|_| up.offset > 0)),
                };
                let path = path_of(&name)?;
                let from = copy_from.map(|c| path_of(&c)).transpose()?;
                let offset = up.offset;
                let p = path.clone();
                let file = blocking(
                    move || {
                        if let Some(dir) = p.parent() {
                            std::fs::create_dir_all(dir)?;
                        }
                        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(&p)?;
                        if let Some(from) = from {
                            // Only the recorded bytes: whatever a stalled writer adds past them
                            // was never acknowledged.
                            let mut src = File::open(from)?;
                            std::io::copy(&mut std::io::Read::take(&mut src, offset), &mut file)?;
                        }
                        // Bytes past the recorded offset are from an append that was cut or
                        // failed before it was recorded: they go.
                        file.set_len(offset)?;
                        drop(file);
                        AppendFile::open(&p, offset)
                    },
                    "file",
                )
                .await?;
                let running = Some(RunningHash::restore(up.hash_state.as_deref())?);
                Ok((Target { name, path, scratch: false }, Sink::new(file, running)))
            }
            Place::Segments => {
                let path = storage.staging_path(&format!("tus-{}-{}-{holder}", up.id, up.offset));
                let p = path.clone();
                // Read back at once to be stored: through the page cache.
                let file = blocking(move || AppendFile::create_cached(&p), "staging").await?;
                let name = Segment { start: up.offset, writer: holder.to_owned() }.name();
                Ok((Target { name, path, scratch: true }, Sink::new(file, None)))
            }
        }
    }

    /// Stores what an append wrote where the next append (on any replica) finds it.
    pub(super) async fn keep(self, storage: &Storage, up: &Upload, target: &Target, n: u64) -> Result<()> {
        match self {
            Place::InPlace => Ok(()),
            Place::Segments => {
                if n > 0 {
                    let key = up.key(&target.name);
                    storage.blobs.put_file(&key, &target.path, n, "application/octet-stream").await?;
                }
                Ok(())
            }
        }
    }

    /// Undoes [`Place::keep`] for an append that could not be recorded (its lock was lost).
    pub(super) async fn discard(self, storage: &Storage, up: &Upload, target: &Target) {
        if self == Place::Segments
            && let Err(e) = storage.blobs.delete(&up.key(&target.name)).await
        {
            tracing::warn!(upload_id = %up.id, error = %e.report(), "an unrecorded segment stays until the upload goes");
        }
    }

    /// The complete upload's bytes as a staged file, hashed and sniffed like any upload: the
    /// data file itself in place, or the segments assembled.
    pub(super) async fn staged(self, storage: &Storage, up: &Upload) -> Result<Staged> {
        match (self, &up.data_file) {
            (Place::InPlace, Some(name)) if up.offset > 0 => {
                let path = storage.blobs.local_path(&up.key(name)).ok_or_else(|| Error::internal("no local path"))?;
                let sha256 = RunningHash::restore(up.hash_state.as_deref())?.finish();
                let head = read_head(&path).await;
                let mime = match up.video_id {
                    Some(_) => Some(sniff_video(&head).ok_or_else(|| {
                        Error::UnsupportedMediaType("not a video container this server takes".into())
                    })?),
                    None => infer::get(&head).map(|k| k.mime_type()),
                };
                Ok(Staged::adopt(path, sha256, up.offset, mime))
            }
            _ => {
                let mut staging = storage.stage_held(up.video_id.is_some()).await?;
                self.copy_into(storage, up, &mut staging).await?;
                // An empty drive file is a file too; an empty video is not a video.
                if up.video_id.is_none() { staging.allow_empty() } else { staging }.finish().await
            }
        }
    }

    /// Appends the upload's bytes to `staging` (assembly, concatenation).
    pub(super) async fn copy_into(self, storage: &Storage, up: &Upload, staging: &mut Staging) -> Result<()> {
        let ranges = match (self, &up.data_file) {
            (Place::InPlace, Some(name)) if up.offset > 0 => vec![(up.key(name), 0, up.offset)],
            (Place::InPlace, _) => Vec::new(),
            (Place::Segments, _) => up.segment_ranges(),
        };
        for (key, start, end) in ranges {
            let mut stream = storage.blobs.read(&key, 0..end - start).await?;
            while let Some(chunk) = stream.next().await {
                staging.write(&chunk.map_err(io("read"))?).await?;
            }
        }
        Ok(())
    }

    /// Removes everything the upload stored: recorded or not, in place or segments.
    pub(super) async fn drop_all(storage: &Storage, up: &Upload) {
        if let Err(e) = storage.blobs.delete_prefix(&up.prefix()).await {
            tracing::warn!(upload_id = %up.id, error = %e.report(), "upload bytes not removed");
        }
    }
}
