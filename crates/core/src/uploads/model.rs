//! What a resumable upload is made of.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ids::{FileId, UploadId, UserId, VideoId};

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

    pub fn parse(s: &str) -> Option<Concat> {
        match s {
            "none" => Some(Concat::None),
            "partial" => Some(Concat::Partial),
            "final" => Some(Concat::Final),
            _ => None,
        }
    }
}

/// What a finished upload became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadResult {
    File(FileId),
    Video(VideoId),
}

impl UploadResult {
    /// As stored: `file:<id>` or `video:<id>`.
    pub fn encode(self) -> String {
        match self {
            UploadResult::File(id) => format!("file:{id}"),
            UploadResult::Video(id) => format!("video:{id}"),
        }
    }

    pub fn decode(s: &str) -> Option<UploadResult> {
        let (kind, id) = s.split_once(':')?;
        let id = Uuid::parse_str(id).ok()?;
        match kind {
            "file" => Some(UploadResult::File(id.into())),
            "video" => Some(UploadResult::Video(id.into())),
            _ => None,
        }
    }
}

/// One append's bytes as an object (object storage cannot append): named by where it starts
/// and by its writer, so that a writer that lost the lock can never overwrite the winner's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub start: u64,
    pub writer: String,
}

impl Segment {
    /// `<start, 20 digits>-<writer>`: names sort by offset.
    pub fn name(&self) -> String {
        format!("{:020}-{}", self.start, self.writer)
    }

    pub fn parse(name: &str) -> Option<Segment> {
        let (start, writer) = name.split_once('-')?;
        Some(Segment { start: start.parse().ok()?, writer: writer.to_owned() })
    }
}

/// A resumable upload. Its bytes live under `uploads/<id>/` in the blob store: on a local
/// store one file appended in place (`data_file`), on object storage one segment per append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: UploadId,
    pub owner_id: UserId,
    /// `None` until the client says (tus creation-defer-length).
    pub length: Option<u64>,
    pub offset: u64,
    /// The client's `Upload-Metadata`, as sent, to hand back on `HEAD`.
    pub metadata: String,
    pub filename: Option<String>,
    /// When set, the finished upload becomes this video's source.
    pub video_id: Option<VideoId>,
    pub concat: Concat,
    /// Object storage: the stored segments, in order.
    pub segments: Vec<Segment>,
    /// Local store: the file the bytes are appended to.
    pub data_file: Option<String>,
    /// For a final upload: its parts, in order.
    pub parts: Vec<UploadId>,
    pub result: Option<UploadResult>,
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

    /// Where everything the upload stores lives in the blob store.
    pub fn prefix(&self) -> String {
        upload_prefix(self.id)
    }

    /// The blob-store key of a file of the upload (a segment, the data file).
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix())
    }

    /// `(key, start, end)` of each segment.
    pub fn segment_ranges(&self) -> Vec<(String, u64, u64)> {
        let mut out = Vec::new();
        for (i, s) in self.segments.iter().enumerate() {
            let end = self.segments.get(i + 1).map_or(self.offset, |next| next.start);
            out.push((self.key(&s.name()), s.start, end));
        }
        out
    }
}

pub fn upload_prefix(id: UploadId) -> String {
    format!("uploads/{id}/")
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::{Concat, Segment, UploadResult};

    proptest! {
        /// A segment's object name reads back as the segment, whatever its writer is called.
        #[test]
        fn segment_names_round_trip(start in any::<u64>(), writer in "\\PC{0,30}") {
            let s = Segment { start, writer };
            prop_assert_eq!(Segment::parse(&s.name()), Some(s));
        }

        /// Names sort by offset, as a listing of the upload's segments does.
        #[test]
        fn segment_names_sort_by_offset(a in any::<u64>(), b in any::<u64>(), wa in "\\PC{0,10}", wb in "\\PC{0,10}") {
            let (na, nb) = (Segment { start: a, writer: wa }.name(), Segment { start: b, writer: wb }.name());
            if a < b {
                prop_assert!(na < nb, "{} {}", na, nb);
            }
        }

        /// Any object name parses or not without panicking; what parses names itself again.
        #[test]
        fn any_segment_name_never_panics(name in prop_oneof!["\\PC{0,40}", "[+0-9]{0,25}-\\PC{0,10}"]) {
            if let Some(s) = Segment::parse(&name) {
                prop_assert_eq!(Segment::parse(&s.name()), Some(s));
            }
        }

        #[test]
        fn upload_results_round_trip(bits in any::<u128>(), video in any::<bool>()) {
            let id = Uuid::from_u128(bits);
            let r = if video { UploadResult::Video(id.into()) } else { UploadResult::File(id.into()) };
            prop_assert_eq!(UploadResult::decode(&r.encode()), Some(r));
        }

        /// Stored text that is not a result decodes to nothing, never a panic; what decodes is
        /// a file or a video and encodes back to a result that decodes the same.
        #[test]
        fn any_stored_result_never_panics(s in prop_oneof![
            "\\PC{0,50}",
            "(file|video|File|other)?:[0-9a-fA-F\\-{}:urn]{0,45}",
        ]) {
            if let Some(r) = UploadResult::decode(&s) {
                prop_assert!(s.starts_with("file:") || s.starts_with("video:"), "{}", s);
                prop_assert_eq!(UploadResult::decode(&r.encode()), Some(r));
            }
        }

        #[test]
        fn concat_kinds_round_trip(s in "\\PC{0,10}") {
            for c in [Concat::None, Concat::Partial, Concat::Final] {
                prop_assert_eq!(Concat::parse(c.as_str()), Some(c));
            }
            if let Some(c) = Concat::parse(&s) {
                prop_assert_eq!(c.as_str(), s.as_str());
            }
        }
    }
}
