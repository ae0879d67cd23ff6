//! Videos and their comments: the seed's REST resources, with ownership rules.

mod model;
mod views;

pub use model::*;
pub use views::ViewCounter;

use crate::ErrorCode;
use std::sync::Arc;
use std::time::Duration;

use crate::ids::{CommentId, VideoId};
use chrono::Utc;

use crate::accounts::User;
use crate::paging::{Page, PageRequest};
use crate::ports::jobs::{Job, NewJob};
use crate::ports::{Charge, CommentRepo, Referenced, UserRepo, VideoRepo};
use crate::storage::{Staged, Storage, StoredBlob};
use crate::{Error, Result, ids, text};

pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 5000;
pub const MAX_COMMENT: usize = 2000;
pub const MAX_QUERY: usize = 200;

#[derive(Clone)]
pub struct Videos {
    videos: Arc<dyn VideoRepo>,
    comments: Arc<dyn CommentRepo>,
    users: Arc<dyn UserRepo>,
    storage: Storage,
    delete_grace: Duration,
}

/// A public channel: the user and how many public videos they have.
#[derive(Debug, Clone)]
pub struct Channel {
    pub user: User,
    pub video_count: u64,
}

impl Videos {
    pub fn new(
        videos: Arc<dyn VideoRepo>,
        comments: Arc<dyn CommentRepo>,
        users: Arc<dyn UserRepo>,
        storage: Storage,
        delete_grace: Duration,
    ) -> Self {
        Self { videos, comments, users, storage, delete_grace }
    }

    pub async fn create(&self, author: &User, name: &str, description: &str) -> Result<Video> {
        text::check("name", name, MAX_TITLE)?;
        text::check_optional("description", description, MAX_DESCRIPTION)?;
        let now = crate::accounts::now_ms();
        let video = Video {
            id: ids::new_id().into(),
            author_id: author.id,
            author_name: author.name.clone(),
            name: name.to_owned(),
            description: description.to_owned(),
            status: VideoStatus::Created,
            views: 0,
            likes: 0,
            dislikes: 0,
            created_at: now,
            updated_at: now,
            source: None,
            media: Default::default(),
            outputs: Default::default(),
        };
        self.videos.insert(&video).await?;
        Ok(video)
    }

    /// The video if `viewer` may see it: public videos to anyone, all to their owner.
    pub async fn get(&self, viewer: Option<&User>, id: VideoId) -> Result<Video> {
        match self.videos.get_for_read(id).await? {
            Some(v) if v.status.is_public() || viewer.is_some_and(|u| u.id == v.author_id) => Ok(v),
            _ => Err(Error::NotFound("video")),
        }
    }

    /// `GET /user/{name}/videos/{vid}`: the video must also be `author_name`'s.
    pub async fn get_by_author(&self, viewer: Option<&User>, author_name: &str, id: VideoId) -> Result<Video> {
        let v = self.get(viewer, id).await?;
        if crate::accounts::username_key(&v.author_name) != crate::accounts::username_key(author_name) {
            return Err(Error::NotFound("video"));
        }
        Ok(v)
    }

    pub async fn list_by_author(
        &self,
        viewer: Option<&User>,
        author_name: &str,
        page: PageRequest,
    ) -> Result<Page<Video>> {
        let author = self.find_user(author_name).await?;
        let visibility =
            if viewer.is_some_and(|u| u.id == author.id) { Visibility::All } else { Visibility::PublicOnly };
        self.videos.list_by_author(author.id, visibility, page).await
    }

    pub async fn discover(&self, sort: VideoSort, query: Option<&str>, page: PageRequest) -> Result<Page<Video>> {
        if let Some(q) = query
            && q.chars().count() > MAX_QUERY
        {
            return Err(Error::invalid(ErrorCode::TooLong, format!("q must be at most {MAX_QUERY} characters")));
        }
        let query = query.map(str::trim).filter(|q| !q.is_empty());
        let key = query.map(|q| text::search_key(&[q]));
        self.videos.discover(sort, key.as_deref(), page).await
    }

    pub async fn channel(&self, name: &str) -> Result<Channel> {
        let user = self.find_user(name).await?;
        let video_count = self.videos.count_public_by_author(user.id).await?;
        Ok(Channel { user, video_count })
    }

    /// Owner-only edits; `author_name` is the name in the path, which must be the caller's.
    pub async fn update(&self, actor: &User, author_name: &str, id: VideoId, patch: VideoPatch) -> Result<Video> {
        self.owned(actor, author_name, id).await?;
        if let Some(name) = &patch.name {
            text::check("name", name, MAX_TITLE)?;
        }
        if let Some(d) = &patch.description {
            text::check_optional("description", d, MAX_DESCRIPTION)?;
        }
        self.videos.update(id, &patch, crate::accounts::now_ms()).await?.ok_or(Error::NotFound("video"))
    }

    /// Hides the video at once and queues the removal of its bytes after the grace period.
    pub async fn delete(&self, actor: &User, author_name: &str, id: VideoId) -> Result<()> {
        let video = self.owned(actor, author_name, id).await?;
        let now = Utc::now();
        let job = NewJob::once(Job::DeleteVideo { video_id: id, sha256: video.source.map(|s| s.sha256) }, id);
        let job =
            NewJob { run_at: now + chrono::Duration::from_std(self.delete_grace).map_err(Error::internal)?, ..job };
        if self.videos.soft_delete(id, now, &job).await? { Ok(()) } else { Err(Error::NotFound("video")) }
    }

    /// 403 when the path names someone else (authenticated, not the owner); 404 when the video
    /// is not the caller's.
    async fn owned(&self, actor: &User, author_name: &str, id: VideoId) -> Result<Video> {
        if crate::accounts::username_key(&actor.name) != crate::accounts::username_key(author_name) {
            return Err(Error::Forbidden("only the owner may change this video"));
        }
        match self.videos.get(id).await? {
            Some(v) if v.author_id == actor.id => Ok(v),
            _ => Err(Error::NotFound("video")),
        }
    }

    pub async fn comments(&self, viewer: Option<&User>, video_id: VideoId, page: PageRequest) -> Result<Page<Comment>> {
        // One query for a video with comments: the visibility check rides in the list's join.
        let listed = self.comments.list_if_visible(video_id, viewer.map(|u| u.id), page).await?;
        if listed.items.is_empty() {
            // No comments, or nothing this viewer may see: the video says which (404).
            self.get(viewer, video_id).await?;
        }
        Ok(listed)
    }

    /// The newest comments, newest first (the seed's listing).
    pub async fn latest_comments(&self, viewer: Option<&User>, video_id: VideoId, limit: u64) -> Result<Vec<Comment>> {
        self.get(viewer, video_id).await?;
        self.comments.latest(video_id, limit).await
    }

    /// Posts a comment on `video` (one `author` may see: [`Videos::get`]), or a reply to
    /// `parent` (a comment of the same video; a reply to a reply answers its top-level
    /// comment: one level of replies). With the comment, the top-level comment it answers.
    pub async fn post_comment(
        &self,
        author: &User,
        video: &Video,
        content: &str,
        parent: Option<CommentId>,
    ) -> Result<(Comment, Option<Comment>)> {
        let video_id = video.id;
        text::check("content", content, MAX_COMMENT)?;
        let answered = match parent {
            None => None,
            Some(p) => match self.comments.get(p).await? {
                Some(c) if c.video_id == video_id => match c.parent_id {
                    None => Some(c),
                    Some(top) => self.comments.get(top).await?,
                },
                _ => return Err(Error::NotFound("comment")),
            },
        };
        let parent_id = match (&answered, parent) {
            (Some(top), _) => Some(top.id),
            // Its top-level comment went meanwhile: the reply goes with it.
            (None, Some(_)) => return Err(Error::NotFound("comment")),
            (None, None) => None,
        };
        let comment = Comment {
            id: ids::new_id().into(),
            video_id,
            author_id: author.id,
            author_name: author.name.clone(),
            content: content.to_owned(),
            created_at: crate::accounts::now_ms(),
            parent_id,
        };
        self.comments.insert(&comment).await?;
        Ok((comment, answered))
    }

    /// The comment's author or the video's owner may delete it.
    pub async fn delete_comment(&self, actor: &User, video_id: VideoId, comment_id: CommentId) -> Result<()> {
        let video = self.get(Some(actor), video_id).await?;
        let comment = match self.comments.get(comment_id).await? {
            Some(c) if c.video_id == video_id => c,
            _ => return Err(Error::NotFound("comment")),
        };
        if actor.id != comment.author_id && actor.id != video.author_id {
            return Err(Error::Forbidden("only the comment's author or the video's owner may delete it"));
        }
        if self.comments.delete(video_id, comment_id).await? { Ok(()) } else { Err(Error::NotFound("comment")) }
    }

    /// The video `actor` may upload the original of: their own, without one yet.
    pub async fn upload_target(&self, actor: &User, id: VideoId) -> Result<Video> {
        let video = self.videos.get(id).await?.ok_or(Error::NotFound("video"))?;
        if video.author_id != actor.id {
            return Err(Error::Forbidden("only the owner may upload this video's bytes"));
        }
        if video.source.is_some() {
            return Err(Error::Conflict {
                code: ErrorCode::AlreadyUploaded,
                message: "this video already has its bytes".into(),
            });
        }
        Ok(video)
    }

    /// Stores staged bytes (by content) as the original of `owner`'s video `id`, which becomes
    /// `uploaded`; the bytes are charged to the owner's quota (with `holds` let go) in the
    /// same transaction. 409 when another upload won the race: the bytes it stored for
    /// nothing are collected.
    pub async fn store_source(&self, id: VideoId, staged: &mut Staged, charge: &Charge) -> Result<(StoredBlob, Video)> {
        let mime = staged.mime.unwrap_or("application/octet-stream");
        let stored = self
            .storage
            .store(staged, |blob| async move {
                let source = VideoSource {
                    sha256: blob.sha256,
                    size: blob.size,
                    mime: mime.to_owned(),
                    uploaded_at: crate::accounts::now_ms(),
                };
                // Public from now on: its followers hear of it (after the commit, by the job).
                let jobs = [crate::media::Media::first_job(id), NewJob::once(Job::FanOutVideo { video_id: id }, id)];
                Ok(match self.videos.attach_source(id, &source, charge, &jobs).await? {
                    Referenced::Made(true) => Referenced::Made(()),
                    Referenced::Made(false) => {
                        // Deleted, or another upload won the race.
                        return Err(match self.videos.get(id).await? {
                            None => Error::NotFound("video"),
                            Some(_) => Error::Conflict {
                                code: ErrorCode::AlreadyUploaded,
                                message: "this video already has its bytes".into(),
                            },
                        });
                    }
                    Referenced::BlobGone => Referenced::BlobGone,
                })
            })
            .await?;
        staged.charged();
        let video = self.videos.get(id).await?.ok_or(Error::NotFound("video"))?;
        Ok((stored.0, video))
    }

    /// A video `viewer` may play, with its original.
    pub async fn playable(&self, viewer: Option<&User>, id: VideoId) -> Result<(Video, VideoSource)> {
        let video = self.get(viewer, id).await?;
        let source = video.source.clone().ok_or(Error::NotFound("video"))?;
        Ok((video, source))
    }

    /// The counter plays are recorded in; the stream role flushes it.
    pub fn views(&self) -> ViewCounter {
        ViewCounter::new(self.videos.clone())
    }

    /// The user named `name` (404 for a name that cannot exist).
    pub async fn find_user(&self, name: &str) -> Result<User> {
        if crate::accounts::validate_username(name).is_err() {
            return Err(Error::NotFound("user"));
        }
        self.users.find_by_name(name).await?.ok_or(Error::NotFound("user"))
    }
}
