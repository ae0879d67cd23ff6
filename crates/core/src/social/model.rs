//! What the social layer is made of: ratings, follows, notifications, playlists and history.

use chrono::{DateTime, Utc};

use crate::ids::{CommentId, MessageId, NotificationId, PlaylistId, UserId, VideoId};
use crate::videos::Video;

/// A viewer's opinion of a video (PeerTube's rating). No rating is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rating {
    Like,
    Dislike,
}

impl Rating {
    /// As stored.
    pub fn value(self) -> i16 {
        match self {
            Rating::Like => 1,
            Rating::Dislike => -1,
        }
    }

    pub fn from_value(v: i16) -> Option<Self> {
        match v {
            1 => Some(Rating::Like),
            -1 => Some(Rating::Dislike),
            _ => None,
        }
    }
}

/// A video's counts after a rating changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RatingCounts {
    pub likes: i64,
    pub dislikes: i64,
}

/// How many follow a channel, and how many it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FollowCounts {
    pub followers: u64,
    pub following: u64,
}

/// A channel someone follows, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    pub user_id: UserId,
    pub name: String,
    pub since: DateTime<Utc>,
}

/// What a notification tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NotificationKind {
    /// A followed channel published a video.
    NewVideo,
    /// Someone commented on the user's video.
    Comment,
    /// Someone replied to the user's comment.
    Reply,
    /// Someone named the user (`@name`) in a comment.
    Mention,
    /// Someone followed the user.
    NewFollower,
    /// A private message arrived.
    Message,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 6] = [
        NotificationKind::NewVideo,
        NotificationKind::Comment,
        NotificationKind::Reply,
        NotificationKind::Mention,
        NotificationKind::NewFollower,
        NotificationKind::Message,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::NewVideo => "new_video",
            NotificationKind::Comment => "comment",
            NotificationKind::Reply => "reply",
            NotificationKind::Mention => "mention",
            NotificationKind::NewFollower => "new_follower",
            NotificationKind::Message => "message",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A notification to store: one per recipient, kind and subject, however often it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub actor_id: UserId,
    /// What it is about (the video, the comment, the follower): the key that makes a second
    /// sending of the same notification a no-op.
    pub subject: uuid::Uuid,
    pub video_id: Option<VideoId>,
    pub comment_id: Option<CommentId>,
    pub at: DateTime<Utc>,
}

/// A stored notification, with the names it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub actor_id: UserId,
    pub actor_name: String,
    pub video_id: Option<VideoId>,
    pub video_name: Option<String>,
    /// The author of the video, for its link.
    pub video_author: Option<String>,
    pub comment_id: Option<CommentId>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// Who may see a playlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaylistVisibility {
    /// The owner alone.
    Private,
    /// Anyone with its link; not listed on the channel.
    Unlisted,
    /// Anyone, and listed on the channel.
    Public,
}

impl PlaylistVisibility {
    pub fn as_str(self) -> &'static str {
        match self {
            PlaylistVisibility::Private => "private",
            PlaylistVisibility::Unlisted => "unlisted",
            PlaylistVisibility::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Private, Self::Unlisted, Self::Public].into_iter().find(|v| v.as_str() == s)
    }
}

/// The two playlists every user has, which cannot be deleted or renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// 收藏.
    Favorites,
    WatchLater,
}

impl Builtin {
    pub const ALL: [Builtin; 2] = [Builtin::Favorites, Builtin::WatchLater];

    pub fn as_str(self) -> &'static str {
        match self {
            Builtin::Favorites => "favorites",
            Builtin::WatchLater => "watch_later",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }

    pub fn title(self) -> &'static str {
        match self {
            Builtin::Favorites => "Favorites",
            Builtin::WatchLater => "Watch later",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playlist {
    pub id: PlaylistId,
    pub owner_id: UserId,
    /// The owner's user name, joined in on reads.
    pub owner_name: String,
    pub builtin: Option<Builtin>,
    pub name: String,
    pub description: String,
    pub visibility: PlaylistVisibility,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change to a playlist: at least one field.
#[derive(Debug, Clone, Default)]
pub struct PlaylistPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<PlaylistVisibility>,
}

/// What putting a video in a playlist did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// Added (at the end, or where asked).
    Added,
    /// It was there; moved where asked (or left where it was).
    Kept,
    /// The playlist holds as many as it may.
    Full,
    /// The playlist is gone.
    NoPlaylist,
}

/// One video of a playlist, in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaylistEntry {
    pub video: Video,
    /// The ordering key (sparse); the page's order is what counts.
    pub position: i64,
    pub added_at: DateTime<Utc>,
}

/// A video the user watched, and how far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub video: Video,
    pub position_ms: u64,
    pub watched_at: DateTime<Utc>,
}

/// A private message, stored verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub sender_id: UserId,
    /// The sender's user name, joined in on reads.
    pub sender_name: String,
    pub recipient_id: UserId,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// One of a user's conversations: with whom, its last message, and how many they have not
/// read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub peer_id: UserId,
    pub peer_name: String,
    pub last: Message,
    pub unread: u64,
}

/// Someone a user blocked, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub user_id: UserId,
    pub name: String,
    pub since: DateTime<Utc>,
}
