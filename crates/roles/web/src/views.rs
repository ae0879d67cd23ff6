//! What each template receives.

use askama::Template;

pub struct Layout {
    pub title: String,
    /// The signed-in user's name.
    pub user: Option<String>,
    pub csrf: String,
    /// The main navigation's current entry: "home", "upload", "drive", "settings" or "".
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
}

pub struct CommentView {
    pub id: String,
    pub author: String,
    pub content: String,
    pub age: String,
}

#[derive(Template)]
#[template(path = "watch.html")]
pub struct WatchPage {
    pub layout: Layout,
    pub video: WatchVideo,
    pub comments: Vec<CommentView>,
    pub comment_error: Option<String>,
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
