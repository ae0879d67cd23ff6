//! Ids are UUID v7: time-ordered, so primary-key indexes stay append-mostly and ids sort by age.
//!
//! Each kind of thing has its own id type, so a folder's id cannot be passed where a file's is
//! wanted. They are parsed once, at the edge: a path segment that is not a UUID names nothing
//! (404 for that kind), as the seed answered.

use std::fmt;
use std::str::FromStr;

pub use uuid::Uuid;

pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// An id of one kind of thing.
pub trait Id: Copy + Eq + fmt::Display + From<Uuid> + Into<Uuid> {
    /// What it names, for "no such video" (and the 404 a malformed one gets).
    const WHAT: &'static str;

    fn new() -> Self {
        Self::from(new_id())
    }

    /// From a path segment or a field: anything that is not a UUID names nothing (404).
    fn parse(raw: &str) -> crate::Result<Self> {
        Uuid::parse_str(raw).map(Self::from).map_err(|_| crate::Error::NotFound(Self::WHAT))
    }
}

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident => $what:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Id for $name {
            const WHAT: &'static str = $what;
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = crate::Error;

            fn from_str(s: &str) -> crate::Result<Self> {
                <Self as Id>::parse(s)
            }
        }

        /// From a path segment: a malformed id fails with "no such ..." (see
        /// [`NoSuch`]), which the HTTP edge answers with 404.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Uuid::parse_str(&raw).map(Self).map_err(|_| serde::de::Error::custom(NoSuch($what)))
            }
        }
    )*

        /// Every kind of id, by what it names.
        pub const KINDS: &[&str] = &[$($what),*];
    };
}

ids! {
    /// A user account.
    UserId => "user";
    /// One signed-in session of a user (not its token).
    SessionId => "session";
    VideoId => "video";
    CommentId => "comment";
    /// A file in a user's drive.
    FileId => "file";
    FolderId => "folder";
    /// A resumable (tus) upload.
    UploadId => "upload";
    /// A background job.
    JobId => "job";
    /// A bullet comment (弹幕).
    DanmakuId => "danmaku";
    NotificationId => "notification";
    PlaylistId => "playlist";
    /// A private message.
    MessageId => "message";
}

/// The message a malformed id fails to deserialize with: `no such video`. The HTTP edge reads
/// it back ([`NoSuch::parse`]) to answer 404 for that kind, as for an id that names nothing.
pub struct NoSuch(pub &'static str);

impl fmt::Display for NoSuch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no such {}", self.0)
    }
}

impl NoSuch {
    /// The kind a deserialization message names, if it is one of [`NoSuch`]'s.
    pub fn parse(message: &str) -> Option<&'static str> {
        // The last one: the value that failed to parse comes before it, and may say anything.
        let what = message.rsplit("no such ").next().filter(|_| message.contains("no such "))?;
        KINDS.iter().copied().find(|k| what.starts_with(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_once_and_say_what_they_name() {
        let u = new_id();
        let v: VideoId = serde_json::from_value(serde_json::json!(u.to_string())).unwrap();
        assert_eq!(v.uuid(), u);
        assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(u.to_string()));
        let e = serde_json::from_value::<FolderId>(serde_json::json!("nope")).unwrap_err().to_string();
        assert_eq!(NoSuch::parse(&e), Some("folder"), "{e}");
        assert!(matches!(FileId::parse("x"), Err(crate::Error::NotFound("file"))));
        assert_eq!(
            "01a21637-6d62-70ad-ab7d-926b37342f01".parse::<JobId>().unwrap().to_string(),
            "01a21637-6d62-70ad-ab7d-926b37342f01"
        );
    }
}
