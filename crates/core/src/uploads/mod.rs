//! Resumable uploads (the protocol is tus 1.0, in the stream role): create, append, finish,
//! join, terminate, expire. Protocol-free here.
//!
//! Each append streams its body into a staging file and then into the blob store as one
//! segment (`uploads/<id>/<offset>`), so the next append may land on any replica; the
//! metadata store holds the offset, the segment list and a lock with a lease that makes appends
//! exclusive across replicas. A client that goes away mid-append keeps every byte that arrived.
//! The finished upload is assembled from its segments through the usual staging (hash, sniff,
//! size limit) into a content-addressed blob, and becomes a drive file or a video's source.

mod checksum;
mod metadata;
mod running_hash;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

pub use checksum::{ALGORITHMS, Checksum};
pub use metadata::parse_metadata;
use running_hash::RunningHash;

use crate::drive::{Drive, validate_name};
use crate::ports::{Concat, Upload, UploadRepo, User};
use crate::storage::{Staged, Staging, Storage, read_head, sniff_video};
use crate::videos::Videos;
use crate::{Error, Result, ids};

/// An append holds the upload's lock this long, renewed while bytes keep coming. Short, so
/// that a client resuming after a replica died waits seconds, not minutes.
const LOCK_LEASE: Duration = Duration::from_secs(8);
const LOCK_RENEW: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct Uploads {
    repo: Arc<dyn UploadRepo>,
    storage: Storage,
    drive: Drive,
    videos: Videos,
    /// An upload untouched this long expires.
    expiry: Duration,
    /// Bytes a user may keep in files and unfinished uploads; `None` for no limit.
    quota: Option<u64>,
}

/// What a client asks for when it creates an upload.
#[derive(Debug, Default, Clone)]
pub struct NewUpload {
    /// `None` to tell it later (deferred length).
    pub length: Option<u64>,
    pub metadata: String,
    pub filename: Option<String>,
    pub video_id: Option<Uuid>,
    /// The drive folder the finished file goes to (also in `metadata`, where it is kept).
    pub folder_id: Option<Uuid>,
    pub partial: bool,
}

/// One append: where the client thinks the upload is, and what it says about the body.
pub struct Append {
    pub offset: u64,
    /// The length, when the upload deferred it and the client now says it.
    pub length: Option<u64>,
    pub checksum: Option<Checksum>,
}

/// The outcome of an append.
pub enum Appended {
    /// The body was taken in full.
    Done(Upload),
    /// The client went away mid-body; the bytes that arrived are kept.
    Cut(Upload),
}

impl Uploads {
    pub fn new(
        repo: Arc<dyn UploadRepo>,
        storage: Storage,
        drive: Drive,
        videos: Videos,
        expiry: Duration,
        quota: Option<u64>,
    ) -> Self {
        Self { repo, storage, drive, videos, expiry, quota }
    }

    pub fn max_size(&self) -> u64 {
        self.storage.max_upload()
    }

    pub fn quota(&self) -> Option<u64> {
        self.quota
    }

    /// Bytes the user's files and unfinished uploads take.
    pub async fn usage(&self, owner: &User) -> Result<u64> {
        Ok(self.drive.usage(owner).await? + self.repo.pending_bytes(owner.id).await?)
    }

    fn expires(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.expiry).unwrap_or_default()
    }

    /// 413 when `length` more bytes exceed the upload limit or the owner's quota.
    pub async fn check_size(&self, owner: &User, length: u64) -> Result<()> {
        let max = self.storage.max_upload();
        if length > max {
            return Err(Error::TooLarge(format!("the upload is larger than the limit of {max} bytes")));
        }
        if let Some(quota) = self.quota {
            let used = self.usage(owner).await?;
            if used.saturating_add(length) > quota {
                return Err(Error::TooLarge(format!(
                    "the upload does not fit in the quota: {used} of {quota} bytes are used"
                )));
            }
        }
        Ok(())
    }

    pub async fn create(&self, owner: &User, new: NewUpload) -> Result<Upload> {
        if let Some(length) = new.length {
            self.check_size(owner, length).await?;
        }
        if let Some(name) = &new.filename {
            validate_name(name)?;
        }
        if let Some(f) = new.folder_id {
            if new.video_id.is_some() {
                return Err(Error::invalid("bad_metadata", "a video's source does not go in a drive folder"));
            }
            self.drive.folder(owner, f).await?;
        }
        if let Some(vid) = new.video_id {
            if new.partial {
                return Err(Error::invalid("bad_metadata", "a partial upload cannot be a video's source"));
            }
            self.videos.upload_target(owner, vid).await?;
        }
        let upload = Upload {
            id: ids::new_id(),
            owner_id: owner.id,
            length: new.length,
            offset: 0,
            metadata: new.metadata,
            filename: new.filename,
            video_id: new.video_id,
            concat: if new.partial { Concat::Partial } else { Concat::None },
            segments: Vec::new(),
            parts: Vec::new(),
            result: None,
            hash_state: None,
            expires_at: self.expires(),
            created_at: Utc::now(),
        };
        self.repo.insert(&upload).await?;
        // An empty upload is complete at once.
        if upload.length == Some(0) && upload.concat == Concat::None {
            return self.finish(owner, upload).await;
        }
        Ok(upload)
    }

    /// The caller's upload; another user's, or one that expired, is not found.
    pub async fn get(&self, owner: &User, id: Uuid) -> Result<Upload> {
        match self.repo.get(id).await? {
            Some(u) if u.owner_id == owner.id && u.expires_at > Utc::now() => Ok(u),
            _ => Err(Error::NotFound("upload")),
        }
    }

    /// Appends `body` at `req.offset`. Exclusive across replicas: a concurrent append gets
    /// [`Error::Locked`].
    pub async fn append<S, E>(&self, owner: &User, id: Uuid, req: Append, body: S) -> Result<Appended>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let holder = format!("a{}", &Uuid::now_v7().simple().to_string()[16..]);
        self.get(owner, id).await?;
        if !self.repo.lock(id, &holder, LOCK_LEASE).await? {
            return Err(Error::Locked("another request is appending to this upload"));
        }
        let res = self.append_locked(owner, id, &holder, req, body).await;
        if let Err(e) = self.repo.unlock(id, &holder).await {
            tracing::warn!(upload_id = %id, error = %e, "upload lock not released; its lease will run out");
        }
        res
    }

    async fn append_locked<S, E>(
        &self,
        owner: &User,
        id: Uuid,
        holder: &str,
        req: Append,
        mut body: S,
    ) -> Result<Appended>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let up = self.get(owner, id).await?;
        if up.concat == Concat::Final {
            return Err(Error::Forbidden("a final upload cannot be appended to"));
        }
        if up.result.is_some() || up.is_complete() {
            return Err(Error::Conflict { code: "upload_complete", message: "the upload is already complete".into() });
        }
        if req.offset != up.offset {
            return Err(Error::Conflict {
                code: "offset_mismatch",
                message: format!("the upload is at offset {}, not {}", up.offset, req.offset),
            });
        }
        let length = match (up.length, req.length) {
            (Some(have), Some(said)) if have != said => {
                return Err(Error::invalid("length_mismatch", "Upload-Length differs from the upload's length"));
            }
            (Some(have), _) => have,
            (None, Some(said)) => {
                if said < up.offset {
                    return Err(Error::invalid("bad_length", "Upload-Length is below the upload's offset"));
                }
                self.check_size(owner, said).await?;
                said
            }
            (None, None) => self.storage.max_upload(),
        };
        let room = length - up.offset;

        let new_length = up.length.is_none().then_some(req.length).flatten();
        let (_, cut) = match self.in_place(&up) {
            Some(path) => self.append_in_place(&up, holder, &req, new_length, room, &path, &mut body).await?,
            None => self.append_segment(&up, holder, &req, new_length, room, &mut body).await?,
        };
        let up = self.repo.get(id).await?.ok_or(Error::NotFound("upload"))?;
        if cut {
            return Ok(Appended::Cut(up));
        }
        if up.is_complete() && up.concat == Concat::None {
            return Ok(Appended::Done(self.finish(owner, up).await?));
        }
        Ok(Appended::Done(up))
    }

    /// Where a local blob store keeps this upload's bytes in one file, appended in place;
    /// `None` on object storage, which cannot append (each append is a segment object there).
    fn in_place(&self, up: &Upload) -> Option<std::path::PathBuf> {
        self.storage.blobs.local_path(&data_key(up.id))
    }

    /// Appends in place, hashing as it goes: the finished file is renamed into the store, never
    /// read again. Returns the bytes taken and whether the client went away.
    #[allow(clippy::too_many_arguments)]
    async fn append_in_place<S, E>(
        &self,
        up: &Upload,
        holder: &str,
        req: &Append,
        new_length: Option<u64>,
        room: u64,
        path: &std::path::Path,
        body: &mut S,
    ) -> Result<(u64, bool)>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        use tokio::io::AsyncSeekExt;
        let io = |e: std::io::Error| Error::Unavailable(format!("upload file: {e}"));
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        let mut file =
            tokio::fs::OpenOptions::new().write(true).create(true).truncate(false).open(path).await.map_err(io)?;
        // Bytes past the recorded offset are from an append that was cut or crashed before it
        // was recorded: they go.
        file.set_len(up.offset).await.map_err(io)?;
        file.seek(std::io::SeekFrom::Start(up.offset)).await.map_err(io)?;
        let mut running = RunningHash::restore(up.hash_state.as_deref())?;
        let (n, cut, digest) = self.pump(up, holder, req, room, body, &mut file, Some(&mut running)).await?;
        if let Err(e) = self.check_sum(req, cut, digest) {
            file.set_len(up.offset).await.map_err(io)?;
            return Err(e);
        }
        let state = running.save();
        if !self
            .repo
            .append(up.id, holder, "", up.offset, up.offset + n, new_length, Some(&state), self.expires())
            .await?
        {
            return Err(Error::Conflict { code: "offset_mismatch", message: "the upload moved on meanwhile".into() });
        }
        Ok((n, cut))
    }

    /// Appends one segment object (object storage): staged first, stored whole or not at all.
    async fn append_segment<S, E>(
        &self,
        up: &Upload,
        holder: &str,
        req: &Append,
        new_length: Option<u64>,
        room: u64,
        body: &mut S,
    ) -> Result<(u64, bool)>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let part = self.storage.staging_path(&format!("tus-{}-{}", up.id, up.offset));
        let mut file = tokio::fs::File::create(&part).await.map_err(|e| Error::Unavailable(format!("staging: {e}")))?;
        let _guard = RemoveOnDrop(part.clone());
        let (n, cut, digest) = self.pump(up, holder, req, room, body, &mut file, None).await?;
        drop(file);
        self.check_sum(req, cut, digest)?;
        let name = Upload::segment_name(up.offset, holder);
        if n > 0 {
            self.storage.blobs.put_file(&up.segment_key(&name), &part, n, "application/octet-stream").await?;
        }
        if !self.repo.append(up.id, holder, &name, up.offset, up.offset + n, new_length, None, self.expires()).await? {
            // Lost the lock meanwhile: this writer's segment is not the upload's.
            self.storage.blobs.delete(&up.segment_key(&name)).await.ok();
            return Err(Error::Conflict { code: "offset_mismatch", message: "the upload moved on meanwhile".into() });
        }
        Ok((n, cut))
    }

    /// Copies the body into `file` (and `running`), within `room`, renewing the lock as it
    /// goes; stops at the first body error (a client that went away) and keeps what came.
    #[allow(clippy::too_many_arguments)]
    async fn pump<S, E>(
        &self,
        up: &Upload,
        holder: &str,
        req: &Append,
        room: u64,
        body: &mut S,
        file: &mut tokio::fs::File,
        mut running: Option<&mut RunningHash>,
    ) -> Result<(u64, bool, Option<checksum::Hasher>)>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let io = |e: std::io::Error| Error::Unavailable(format!("upload write: {e}"));
        // Request bodies arrive in chunks of a few KiB; a write each would be a trip to the
        // blocking pool each. Batches of 1 MiB keep the disk busy at a fraction of the cost.
        let mut out = tokio::io::BufWriter::with_capacity(1 << 20, &mut *file);
        let mut digest = req.checksum.as_ref().map(Checksum::hasher);
        let mut n: u64 = 0;
        let mut cut = false;
        let mut renewed = tokio::time::Instant::now();
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    tracing::info!(upload_id = %up.id, received = n, error = %e, "client went away mid-append");
                    cut = true;
                    break;
                }
            };
            if n + chunk.len() as u64 > room {
                return Err(Error::TooLarge(format!(
                    "the body goes past the upload's length of {} bytes",
                    up.offset + room
                )));
            }
            // Renewed before writing, so a writer whose lease ran out while its client stalled
            // never writes over the bytes of the writer that took the upload over.
            if renewed.elapsed() >= LOCK_RENEW {
                if !self.repo.lock(up.id, holder, LOCK_LEASE).await? {
                    return Err(Error::Locked("the upload's lock was lost"));
                }
                renewed = tokio::time::Instant::now();
            }
            if let Some(d) = digest.as_mut() {
                d.update(&chunk);
            }
            if let Some(r) = running.as_deref_mut() {
                r.update(&chunk);
            }
            out.write_all(&chunk).await.map_err(io)?;
            n += chunk.len() as u64;
        }
        out.flush().await.map_err(io)?;
        drop(out);
        file.flush().await.map_err(io)?;
        file.sync_data().await.map_err(io)?;
        Ok((n, cut, digest))
    }

    /// The body against `Upload-Checksum`; a cut body cannot be checked, so none of it counts.
    fn check_sum(&self, req: &Append, cut: bool, digest: Option<checksum::Hasher>) -> Result<()> {
        let (Some(want), Some(got)) = (&req.checksum, digest) else { return Ok(()) };
        if cut {
            return Err(Error::ChecksumMismatch("the body ended early and cannot be checked".into()));
        }
        want.verify(got)
    }

    /// Makes a complete upload what it was for: its bytes become a content-addressed blob (in
    /// place: renamed, with the hash kept while appending; as segments: assembled once).
    async fn finish(&self, owner: &User, up: Upload) -> Result<Upload> {
        if let Some(path) = self.in_place(&up).filter(|p| up.offset > 0 && p.exists()) {
            let sha256 = RunningHash::restore(up.hash_state.as_deref())?.finish();
            let head = read_head(&path).await;
            let mime = match up.video_id {
                Some(_) => Some(
                    sniff_video(&head)
                        .ok_or_else(|| Error::UnsupportedMediaType("not a video container this server takes".into()))?,
                ),
                None => infer::get(&head).map(|k| k.mime_type()),
            };
            let staged = Staged::adopt(path, sha256, up.offset, mime);
            return self.record_finished(owner, up, staged).await;
        }
        let mut staging = match up.video_id {
            Some(_) => self.storage.stage_video().await?,
            None => self.storage.stage_file().await?,
        };
        self.copy_segments(&up, &mut staging).await?;
        self.finish_from(owner, up, staging).await
    }

    async fn finish_from(&self, owner: &User, up: Upload, staging: Staging) -> Result<Upload> {
        // An empty drive file is a file too; an empty video is not a video.
        let staged = if up.video_id.is_none() { staging.allow_empty() } else { staging }.finish().await?;
        self.record_finished(owner, up, staged).await
    }

    async fn record_finished(&self, owner: &User, up: Upload, staged: Staged) -> Result<Upload> {
        let mime = staged.mime.unwrap_or("application/octet-stream");
        let stored = self.storage.commit(staged).await?;
        let result = match up.video_id {
            Some(vid) => {
                self.videos.attach_source(vid, stored.sha256.clone(), stored.size, mime).await?;
                format!("video:{vid}")
            }
            None => {
                let name = up.filename.clone().unwrap_or_else(|| format!("upload-{}", up.id));
                let file = match metadata::folder_of(&up.metadata) {
                    // A folder deleted while the upload ran: the file lands at the top.
                    Some(f) => match self.drive.add_in(owner, &name, Some(f), &stored, mime).await {
                        Err(Error::NotFound(_)) => self.drive.add(owner, &name, &stored, mime).await?,
                        other => other?,
                    },
                    None => self.drive.add(owner, &name, &stored, mime).await?,
                };
                format!("file:{}", file.id)
            }
        };
        self.repo.finish(up.id, &result).await?;
        self.drop_segments(&up).await;
        tracing::info!(upload_id = %up.id, size = stored.size, deduplicated = !stored.new, %result, "upload finished");
        Ok(Upload { result: Some(result), segments: Vec::new(), ..up })
    }

    /// `(key, start, end)` of where the upload's bytes are.
    fn ranges(&self, up: &Upload) -> Vec<(String, u64, u64)> {
        match self.in_place(up) {
            Some(_) if up.offset > 0 => vec![(data_key(up.id), 0, up.offset)],
            Some(_) => Vec::new(),
            None => up.segment_ranges(),
        }
    }

    async fn copy_segments(&self, up: &Upload, staging: &mut Staging) -> Result<()> {
        for (key, start, end) in self.ranges(up) {
            let mut stream = self.storage.blobs.read(&key, 0..end - start).await?;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| Error::Unavailable(format!("reading upload segment: {e}")))?;
                staging.write(&chunk).await?;
            }
        }
        Ok(())
    }

    async fn drop_segments(&self, up: &Upload) {
        let mut keys: Vec<String> = up.segment_ranges().into_iter().map(|(k, _, _)| k).collect();
        if self.in_place(up).is_some() {
            keys.push(data_key(up.id));
        }
        for key in keys {
            if let Err(e) = self.storage.blobs.delete(&key).await {
                tracing::warn!(upload_id = %up.id, key, error = %e, "upload bytes not removed");
            }
        }
    }

    /// Joins complete partial uploads, in order, into a new finished upload.
    pub async fn concat(
        &self,
        owner: &User,
        parts: &[Uuid],
        metadata: String,
        filename: Option<String>,
        folder_id: Option<Uuid>,
    ) -> Result<Upload> {
        if parts.is_empty() {
            return Err(Error::invalid("bad_concat", "a final upload needs at least one part"));
        }
        if let Some(name) = &filename {
            validate_name(name)?;
        }
        if let Some(f) = folder_id {
            self.drive.folder(owner, f).await?;
        }
        let mut loaded = Vec::with_capacity(parts.len());
        for id in parts {
            let p = self.get(owner, *id).await?;
            if p.concat != Concat::Partial {
                return Err(Error::invalid("bad_concat", format!("upload {id} is not a partial upload")));
            }
            if !p.is_complete() {
                return Err(Error::invalid("bad_concat", format!("upload {id} is not complete")));
            }
            loaded.push(p);
        }
        let total: u64 = loaded.iter().map(|p| p.offset).sum();
        self.check_size(owner, total).await?;
        let up = Upload {
            id: ids::new_id(),
            owner_id: owner.id,
            length: Some(total),
            offset: total,
            metadata,
            filename,
            video_id: None,
            concat: Concat::Final,
            segments: Vec::new(),
            parts: parts.to_vec(),
            result: None,
            hash_state: None,
            expires_at: self.expires(),
            created_at: Utc::now(),
        };
        let mut staging = self.storage.stage_file().await?;
        for p in &loaded {
            self.copy_segments(p, &mut staging).await?;
        }
        self.repo.insert(&up).await?;
        let up = self.finish_from(owner, up, staging).await?;
        for p in &loaded {
            self.drop_segments(p).await;
            self.repo.delete(p.id).await?;
        }
        Ok(up)
    }

    /// Ends an upload and drops its bytes (tus termination).
    pub async fn terminate(&self, owner: &User, id: Uuid) -> Result<()> {
        let up = self.get(owner, id).await?;
        let holder = format!("terminate-{}", &Uuid::now_v7().simple().to_string()[16..]);
        if !self.repo.lock(id, &holder, LOCK_LEASE).await? {
            return Err(Error::Locked("another request is appending to this upload"));
        }
        self.drop_segments(&up).await;
        self.repo.delete(id).await?;
        Ok(())
    }

    /// Removes expired uploads and their bytes; returns how many went.
    pub async fn expire(&self) -> Result<u64> {
        let mut n = 0;
        loop {
            let batch = self.repo.expired(Utc::now(), 100).await?;
            if batch.is_empty() {
                return Ok(n);
            }
            let mut removed = 0;
            for up in batch {
                // One mid-append keeps its lock; a later sweep takes it.
                let holder = format!("expire-{}", &Uuid::now_v7().simple().to_string()[16..]);
                if !self.repo.lock(up.id, &holder, LOCK_LEASE).await? {
                    continue;
                }
                self.drop_segments(&up).await;
                self.repo.delete(up.id).await?;
                removed += 1;
            }
            n += removed;
            if removed == 0 {
                return Ok(n);
            }
        }
    }
}

/// The key of an upload's bytes when they are appended in place.
fn data_key(id: Uuid) -> String {
    format!("uploads/{id}/data")
}

/// Removes a staging file on every way out (`put_file` may have moved it already).
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
