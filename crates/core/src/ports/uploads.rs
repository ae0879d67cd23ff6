use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Result;

/// How an upload takes part in concatenation (tus `Upload-Concat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concat {
    /// An ordinary upload: it becomes a file (or a video's source) when complete.
    None,
    /// A part, to be joined by a final upload; complete parts stay as they are.
    Partial,
    /// The join of parts: complete from its creation.
    Final,
}

impl Concat {
    pub fn as_str(self) -> &'static str {
        match self {
            Concat::None => "none",
            Concat::Partial => "partial",
            Concat::Final => "final",
        }
    }

    pub fn parse(s: &str) -> Concat {
        match s {
            "partial" => Concat::Partial,
            "final" => Concat::Final,
            _ => Concat::None,
        }
    }
}

/// A resumable upload: its bytes so far live in segments (one per append) in the blob store,
/// so that any replica can take the next append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: Uuid,
    pub owner_id: Uuid,
    /// `None` until the client says (tus creation-defer-length).
    pub length: Option<u64>,
    pub offset: u64,
    /// The client's `Upload-Metadata`, as sent, to hand back on `HEAD`.
    pub metadata: String,
    pub filename: Option<String>,
    /// When set, the finished upload becomes this video's source.
    pub video_id: Option<Uuid>,
    pub concat: Concat,
    /// The stored segments, in order: `<start offset, 20 digits>-<writer>`, unique per append
    /// so that a writer that lost its lock can never overwrite the winner's bytes.
    pub segments: Vec<String>,
    /// For a final upload: its parts, in order.
    pub parts: Vec<Uuid>,
    /// What the finished upload became: `file:<id>` or `video:<id>`.
    pub result: Option<String>,
    /// The running SHA-256 of the bytes so far (a serialized hasher, hex), where appends write
    /// in place and hash as they go.
    pub hash_state: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl Upload {
    pub fn is_complete(&self) -> bool {
        self.length == Some(self.offset)
    }

    /// The name of a segment starting at `start`, written by `writer`.
    pub fn segment_name(start: u64, writer: &str) -> String {
        format!("{start:020}-{writer}")
    }

    /// The blob-store key of a segment.
    pub fn segment_key(&self, name: &str) -> String {
        format!("uploads/{}/{name}", self.id)
    }

    /// `(key, start, end)` of each segment.
    pub fn segment_ranges(&self) -> Vec<(String, u64, u64)> {
        let start = |name: &String| name.split('-').next().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        let mut out = Vec::new();
        for (i, name) in self.segments.iter().enumerate() {
            let end = self.segments.get(i + 1).map(start).unwrap_or(self.offset);
            out.push((self.segment_key(name), start(name), end));
        }
        out
    }
}

#[async_trait]
pub trait UploadRepo: Send + Sync {
    async fn insert(&self, upload: &Upload) -> Result<()>;
    async fn get(&self, id: Uuid) -> Result<Option<Upload>>;
    /// Takes the upload's lock for `holder` for `lease` (when free, run out, or already
    /// `holder`'s). This is what makes appends exclusive across replicas.
    async fn lock(&self, id: Uuid, holder: &str, lease: Duration) -> Result<bool>;
    async fn unlock(&self, id: Uuid, holder: &str) -> Result<()>;
    /// Records segment `name`, `[from, to)`, appended by the lock's holder, and the length if
    /// it was deferred. `false` when the lock was lost or the offset is no longer `from`.
    #[allow(clippy::too_many_arguments)]
    async fn append(
        &self,
        id: Uuid,
        holder: &str,
        name: &str,
        from: u64,
        to: u64,
        length: Option<u64>,
        hash_state: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Records what the finished upload became.
    async fn finish(&self, id: Uuid, result: &str) -> Result<()>;
    async fn delete(&self, id: Uuid) -> Result<bool>;
    /// Uploads whose expiry has passed.
    async fn expired(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<Upload>>;
    /// Bytes the owner's unfinished uploads have declared.
    async fn pending_bytes(&self, owner_id: Uuid) -> Result<u64>;
}
