//! Resumable uploads (the protocol is tus 1.0, in the stream role): create, append, finish,
//! join, terminate, expire. Protocol-free here.
//!
//! - `lease`: the cross-replica lock that makes appends exclusive, and what a writer that
//!   lost it may no longer do.
//! - `place`: where an upload's bytes live between appends (in place on a local disk, one
//!   segment per append on object storage).
//! - `pump`: one append's body into its file, within the upload's room and the owner's quota.
//! - `finish`: a complete upload becomes a content-addressed blob and a drive file or a
//!   video's original.

mod checksum;
mod finish;
mod lease;
mod metadata;
mod model;
mod place;
mod pump;
mod running_hash;

use crate::ErrorCode;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::Stream;
use uuid::Uuid;

pub use checksum::{ALGORITHMS, Checksum};
use lease::Lease;
pub use lease::LockTiming;
pub use metadata::parse_metadata;
pub use model::*;
use place::Place;

use crate::accounts::User;
use crate::drive::{Drive, validate_name};
use crate::ids::{FolderId, Id, UploadId, VideoId};
use crate::ports::{AppendRecord, UploadRepo};
use crate::quota::Quota;
use crate::storage::Storage;
use crate::videos::Videos;
use crate::{Error, Result};

#[derive(Clone)]
pub struct Uploads {
    repo: Arc<dyn UploadRepo>,
    storage: Storage,
    drive: Drive,
    videos: Videos,
    quota: Quota,
    /// An upload untouched this long expires.
    expiry: Duration,
    lock: LockTiming,
}

/// What a client asks for when it creates an upload.
#[derive(Debug, Default, Clone)]
pub struct NewUpload {
    /// `None` to tell it later (deferred length).
    pub length: Option<u64>,
    pub metadata: String,
    pub filename: Option<String>,
    pub video_id: Option<VideoId>,
    /// The drive folder the finished file goes to (also in `metadata`, where it is kept).
    pub folder_id: Option<FolderId>,
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

/// One append about to be written: whose, to which upload, what the client sent, and the
/// upload's length (`new_length` when this append tells a deferred one).
struct Writing<'a> {
    owner: &'a User,
    up: &'a Upload,
    req: &'a Append,
    new_length: Option<u64>,
    length: u64,
}

impl Uploads {
    pub fn new(
        repo: Arc<dyn UploadRepo>,
        storage: Storage,
        drive: Drive,
        videos: Videos,
        expiry: Duration,
        lock: LockTiming,
    ) -> Self {
        let quota = drive.quota().clone();
        Self { repo, storage, drive, videos, quota, expiry, lock }
    }

    pub fn max_size(&self) -> u64 {
        self.storage.max_upload()
    }

    fn expires(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::from_std(self.expiry).unwrap_or_default()
    }

    fn place(&self) -> Place {
        Place::of(&self.storage)
    }

    /// 413 when an upload of `length` bytes is over the size limit.
    fn check_size(&self, length: u64) -> Result<()> {
        let max = self.storage.max_upload();
        if length > max {
            return Err(Error::TooLarge(format!("the upload is larger than the limit of {max} bytes")));
        }
        Ok(())
    }

    pub async fn create(&self, owner: &User, new: NewUpload) -> Result<Upload> {
        if let Some(length) = new.length {
            self.check_size(length)?;
        }
        if let Some(name) = &new.filename {
            validate_name(name)?;
        }
        if let Some(f) = new.folder_id {
            if new.video_id.is_some() {
                return Err(Error::invalid(ErrorCode::BadMetadata, "a video's source does not go in a drive folder"));
            }
            self.drive.folder(owner, f).await?;
        }
        if let Some(vid) = new.video_id {
            if new.partial {
                return Err(Error::invalid(ErrorCode::BadMetadata, "a partial upload cannot be a video's source"));
            }
            self.videos.upload_target(owner, vid).await?;
        }
        let upload = Upload {
            id: UploadId::new(),
            owner_id: owner.id,
            length: new.length,
            offset: 0,
            metadata: new.metadata,
            filename: new.filename,
            video_id: new.video_id,
            concat: if new.partial { Concat::Partial } else { Concat::None },
            segments: Vec::new(),
            data_file: None,
            parts: Vec::new(),
            result: None,
            hash_state: None,
            expires_at: self.expires(),
            created_at: Utc::now(),
        };
        // A declared length is held against the quota at once (413 now, not halfway).
        if let Some(length) = upload.length {
            self.quota.hold_upload(upload.id, owner.id, length).await?;
        }
        if let Err(e) = self.repo.insert(&upload).await {
            let _ = self.quota.release(upload.id.uuid()).await;
            return Err(e);
        }
        // An empty upload is complete at once.
        if upload.length == Some(0) && upload.concat == Concat::None {
            return self.finish(owner, upload).await;
        }
        Ok(upload)
    }

    /// The caller's upload; another user's, or one that expired, is not found.
    pub async fn get(&self, owner: &User, id: UploadId) -> Result<Upload> {
        match self.repo.get(id).await? {
            Some(u) if u.owner_id == owner.id && u.expires_at > Utc::now() => Ok(u),
            _ => Err(Error::NotFound("upload")),
        }
    }

    /// Appends `body` at `req.offset`. Exclusive across replicas: a concurrent append gets
    /// [`Error::Locked`].
    pub async fn append<S, E>(&self, owner: &User, id: UploadId, req: Append, body: S) -> Result<Appended>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.get(owner, id).await?;
        let mut lease = Lease::acquire(&self.repo, id, "a", self.lock).await?;
        let res = self.append_locked(owner, id, &mut lease, req, body).await;
        lease.release().await;
        res
    }

    async fn append_locked<S, E>(
        &self,
        owner: &User,
        id: UploadId,
        lease: &mut Lease,
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
        if up.result.is_some() {
            return Err(Error::Conflict {
                code: ErrorCode::UploadComplete,
                message: "the upload is already complete".into(),
            });
        }
        if up.is_complete() {
            // Complete but not finished (a finish that failed): finish it now.
            return match up.concat {
                Concat::None => Ok(Appended::Done(self.finish(owner, up).await?)),
                _ => Err(Error::Conflict {
                    code: ErrorCode::UploadComplete,
                    message: "the upload is already complete".into(),
                }),
            };
        }
        if req.offset != up.offset {
            return Err(Error::Conflict {
                code: ErrorCode::OffsetMismatch,
                message: format!("the upload is at offset {}, not {}", up.offset, req.offset),
            });
        }
        let length = match (up.length, req.length) {
            (Some(have), Some(said)) if have != said => {
                return Err(Error::invalid(
                    ErrorCode::LengthMismatch,
                    "Upload-Length differs from the upload's length",
                ));
            }
            (Some(have), _) => have,
            (None, Some(said)) => {
                if said < up.offset {
                    return Err(Error::invalid(ErrorCode::BadLength, "Upload-Length is below the upload's offset"));
                }
                self.check_size(said)?;
                self.quota.hold_upload(up.id, owner.id, said).await?;
                said
            }
            (None, None) => self.storage.max_upload(),
        };
        let new_length = up.length.is_none().then_some(req.length).flatten();
        let res = self.write_append(Writing { owner, up: &up, req: &req, new_length, length }, lease, &mut body).await;
        if up.length.is_none() && new_length.is_none() {
            // A deferred length holds exactly what is stored: what this append held ahead (a
            // step at a time), or refused, or lost when the client went away, goes back.
            // An upload terminated meanwhile has let its hold go already.
            if let Some(now) = self.repo.get(id).await? {
                self.quota.settle_upload(up.id, owner.id, now.offset).await?;
            }
        }
        let cut = res?;
        let up = self.repo.get(id).await?.ok_or(Error::NotFound("upload"))?;
        if cut {
            return Ok(Appended::Cut(up));
        }
        if up.is_complete() && up.concat == Concat::None {
            return Ok(Appended::Done(self.finish(owner, up).await?));
        }
        Ok(Appended::Done(up))
    }

    /// Writes one append's body and records it (under the lock): whether the client went away
    /// before its end.
    async fn write_append<S, E>(&self, w: Writing<'_>, lease: &mut Lease, body: &mut S) -> Result<bool>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let Writing { owner, up, req, new_length, length } = w;
        let place = self.place();
        let (target, sink) = place.open(&self.storage, up, lease.holder(), lease.acquired).await?;
        let mut reservation = self.quota.upload_reservation(up.id, owner.id, length);
        let bounds = pump::Bounds { room: length - up.offset, base: up.offset, checksum: req.checksum.as_ref() };
        let (pumped, file) = pump::pump(body, sink, lease, &mut reservation, bounds).await?;
        // The append's handle closes before anything is recorded or published.
        drop(file);
        let (n, cut) = (pumped.n, pumped.cut);
        if let (Some(want), Some(got)) = (&req.checksum, pumped.digest) {
            if cut {
                return Err(Error::ChecksumMismatch("the body ended early and cannot be checked".into()));
            }
            want.verify(got)?;
        }
        place.keep(&self.storage, up, &target, n).await?;
        let record = AppendRecord {
            id: up.id,
            holder: lease.holder().to_owned(),
            from: up.offset,
            to: up.offset + n,
            bytes: place.recorded(&target, n),
            length: new_length,
            hash_state: pumped.running.as_ref().map(running_hash::RunningHash::save),
            expires_at: self.expires(),
        };
        if !self.repo.record(&record).await? {
            place.discard(&self.storage, up, &target).await;
            return Err(Error::Conflict {
                code: ErrorCode::OffsetMismatch,
                message: "the upload moved on meanwhile".into(),
            });
        }
        // A taken-over upload's old file: whoever still holds it open writes to nothing.
        if let Some(old) = up.data_file.as_deref().filter(|old| *old != target.name) {
            let _ = self.storage.blobs.delete(&up.key(old)).await;
        }
        Ok(cut)
    }

    /// Joins complete partial uploads, in order, into a new finished upload.
    pub async fn concat(
        &self,
        owner: &User,
        parts: &[UploadId],
        metadata: String,
        filename: Option<String>,
        folder_id: Option<FolderId>,
    ) -> Result<Upload> {
        if parts.is_empty() {
            return Err(Error::invalid(ErrorCode::BadConcat, "a final upload needs at least one part"));
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
                return Err(Error::invalid(ErrorCode::BadConcat, format!("upload {id} is not a partial upload")));
            }
            if !p.is_complete() {
                return Err(Error::invalid(ErrorCode::BadConcat, format!("upload {id} is not complete")));
            }
            loaded.push(p);
        }
        let total: u64 = loaded.iter().map(|p| p.offset).sum();
        self.check_size(total)?;
        let up = Upload {
            id: UploadId::new(),
            owner_id: owner.id,
            length: Some(total),
            offset: total,
            metadata,
            filename,
            video_id: None,
            concat: Concat::Final,
            segments: Vec::new(),
            data_file: None,
            parts: parts.to_vec(),
            result: None,
            hash_state: None,
            expires_at: self.expires(),
            created_at: Utc::now(),
        };
        // The parts' bytes are already held against the quota: their holds pay for the file.
        let mut staging = self.storage.stage_held(false).await?;
        let place = self.place();
        for p in &loaded {
            place.copy_into(&self.storage, p, &mut staging).await?;
        }
        let staged = staging.allow_empty().finish().await?;
        self.repo.insert(&up).await?;
        let holds: Vec<Uuid> = parts.iter().map(|p| p.uuid()).collect();
        let up = self.finish_staged(owner, up, staged, &holds).await?;
        for p in &loaded {
            Place::drop_all(&self.storage, p).await;
            self.repo.delete(p.id).await?;
        }
        Ok(up)
    }

    /// Ends an upload and drops its bytes (tus termination).
    pub async fn terminate(&self, owner: &User, id: UploadId) -> Result<()> {
        let up = self.get(owner, id).await?;
        let lease = Lease::acquire(&self.repo, id, "terminate-", self.lock).await?;
        self.remove(&up).await?;
        lease.release().await;
        Ok(())
    }

    /// The upload's bytes, its hold on the quota, and its row go.
    async fn remove(&self, up: &Upload) -> Result<()> {
        Place::drop_all(&self.storage, up).await;
        self.quota.release(up.id.uuid()).await?;
        self.repo.delete(up.id).await?;
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
                let Ok(lease) = Lease::acquire(&self.repo, up.id, "expire-", self.lock).await else { continue };
                self.remove(&up).await?;
                lease.release().await;
                removed += 1;
            }
            n += removed;
            if removed == 0 {
                return Ok(n);
            }
        }
    }
}
