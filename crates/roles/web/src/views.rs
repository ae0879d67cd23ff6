//! What each template receives.

use askama::Template;

pub struct Layout {
    pub title: String,
    /// The signed-in user's name.
    pub user: Option<String>,
    pub csrf: String,
    /// The main navigation's current entry: "home", "feed", "history", "playlists", "upload",
    /// "messages", "drive", "settings" or "".
    pub nav: &'static str,
}

pub struct Card {
    pub id: String,
    pub title: String,
    pub author: String,
    pub duration: String,
    pub views: i64,
    pub age: String,
    pub thumbnail_url: Option<String>,
    pub status: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub layout: Layout,
    /// The signed-in viewer's unfinished videos ("Continue watching").
    pub resume: Vec<HistoryView>,
    pub cards: Vec<Card>,
    pub q: String,
    pub sort: String,
    pub next_url: Option<String>,
}

pub struct WatchVideo {
    pub id: String,
    pub title: String,
    pub description: String,
    pub author: String,
    pub views: i64,
    pub age: String,
    pub duration: String,
    pub status: String,
    pub progress: u8,
    pub failure_reason: Option<String>,
    pub mp4_url: String,
    pub hls_url: Option<String>,
    pub thumbnail_url: Option<String>,
    pub storyboard_url: Option<String>,
    pub is_owner: bool,
    pub likes: i64,
    pub dislikes: i64,
    /// The author's followers, and whether the viewer is one.
    pub followers: u64,
    pub following: bool,
}

pub struct CommentView {
    pub id: String,
    pub author: String,
    pub content: String,
    pub age: String,
    /// Its replies, oldest first (a reply has none).
    pub replies: Vec<CommentView>,
}

#[derive(Template)]
#[template(path = "watch.html")]
pub struct WatchPage {
    pub layout: Layout,
    pub video: WatchVideo,
    pub comments: Vec<CommentView>,
    pub comment_error: Option<String>,
    /// Watched as part of a playlist.
    pub list: Option<ListPanel>,
}

#[derive(Template)]
#[template(path = "upload.html")]
pub struct UploadPage {
    pub layout: Layout,
}

#[derive(Template)]
#[template(path = "channel.html")]
pub struct ChannelPage {
    pub layout: Layout,
    pub name: String,
    pub video_count: u64,
    pub followers: u64,
    /// The viewer follows it.
    pub following: bool,
    /// The viewer is this channel.
    pub is_self: bool,
    /// Its public playlists.
    pub playlists: Vec<PlaylistRow>,
    pub cards: Vec<Card>,
    pub next_url: Option<String>,
}

pub struct Crumb {
    pub id: String,
    pub name: String,
}

pub struct FolderView {
    pub id: String,
    pub name: String,
}

pub struct FileView {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub size_h: String,
    pub mime: String,
    pub modified_age: String,
    pub download_url: String,
}

#[derive(Template)]
#[template(path = "drive.html")]
pub struct DrivePage {
    pub layout: Layout,
    pub folder_id: String,
    pub crumbs: Vec<Crumb>,
    pub folders: Vec<FolderView>,
    pub files: Vec<FileView>,
    pub usage_bytes: u64,
    pub quota_bytes: Option<u64>,
    pub usage_h: String,
    pub quota_h: String,
    pub next_url: Option<String>,
}

#[derive(Template)]
#[template(path = "auth.html")]
pub struct AuthPage {
    pub layout: Layout,
    /// "signup" or "signin".
    pub mode: &'static str,
    pub username: String,
    pub error: Option<String>,
    pub next: String,
}

pub struct SessionView {
    pub client: String,
    pub created_age: String,
    pub last_seen_age: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    pub layout: Layout,
    pub sessions: Vec<SessionView>,
    pub message: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub heading: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "feed.html")]
pub struct FeedPage {
    pub layout: Layout,
    pub cards: Vec<Card>,
    pub next_url: Option<String>,
}

/// A watched video: its card, how far, and when.
pub struct HistoryView {
    pub card: Card,
    /// "1:23".
    pub position: String,
    /// How far through, 0–100 (0 when the length is unknown).
    pub percent: u8,
    pub watched_age: String,
    /// The watch page, at the moment the viewer stopped.
    pub resume_url: String,
}

#[derive(Template)]
#[template(path = "history.html")]
pub struct HistoryPage {
    pub layout: Layout,
    pub items: Vec<HistoryView>,
    pub paused: bool,
    pub next_url: Option<String>,
}

pub struct NotificationView {
    pub actor: String,
    /// "published “Title”".
    pub what: String,
    pub link: String,
    pub age: String,
    pub read: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    pub layout: Layout,
    pub items: Vec<NotificationView>,
    /// Each kind: its form name, what it reads as, and whether it is on.
    pub settings: Vec<(&'static str, &'static str, bool)>,
    pub unread: u64,
    pub next_url: Option<String>,
}

pub struct PlaylistRow {
    pub id: String,
    pub name: String,
    pub builtin: bool,
    pub visibility: &'static str,
}

#[derive(Template)]
#[template(path = "playlists.html")]
pub struct PlaylistsPage {
    pub layout: Layout,
    pub playlists: Vec<PlaylistRow>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "playlist.html")]
pub struct PlaylistPage {
    pub layout: Layout,
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub visibility: &'static str,
    pub is_owner: bool,
    pub video_count: u64,
    /// The first video, playing the list.
    pub play_all: Option<String>,
    pub cards: Vec<Card>,
    pub next_url: Option<String>,
}

/// The playlist a video is watched in, with the way to the next one.
pub struct ListPanel {
    pub id: String,
    pub name: String,
    pub items: Vec<ListItem>,
    /// The next video's page, in the list.
    pub next: Option<String>,
}

pub struct ListItem {
    pub id: String,
    pub title: String,
    pub current: bool,
}

pub struct ConversationRow {
    pub name: String,
    pub preview: String,
    /// The last message is the viewer's.
    pub mine: bool,
    pub age: String,
    pub unread: u64,
}

#[derive(Template)]
#[template(path = "messages.html")]
pub struct ConversationsPage {
    pub layout: Layout,
    pub conversations: Vec<ConversationRow>,
}

pub struct MessageView {
    pub from: String,
    pub text: String,
    pub age: String,
    pub mine: bool,
}

#[derive(Template)]
#[template(path = "thread.html")]
pub struct ThreadPage {
    pub layout: Layout,
    pub peer: String,
    /// Oldest first.
    pub messages: Vec<MessageView>,
    pub error: Option<String>,
}
