//! The repositories of what cached reads are built from, each write followed by a change of
//! the stamps it touches. Wrapping the repositories (not the services) catches every writer:
//! the API, the media jobs, the view counter, the purge.
//!
//! A stamp change that fails (the shared store down) does not fail the write, which has
//! committed: it is logged, and the cache's time-to-live bounds how long a replica may still
//! serve what it kept.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;
use crate::ids::{CommentId, UserId, VideoId};
use crate::paging::{Page, PageRequest};
use crate::ports::jobs::NewJob;
use crate::ports::{Charge, CommentRepo, RatingRepo, Referenced, Scope, Stamps, VideoRepo};
use crate::social::{Rating, RatingCounts};
use crate::videos::{
    Comment, RenditionInfo, Video, VideoMedia, VideoPatch, VideoSort, VideoSource, VideoStatus, Visibility,
};

async fn bump(stamps: &dyn Stamps, scopes: &[Scope]) {
    if let Err(e) = stamps.bump(scopes).await {
        metrics::counter!("read_cache_stamp_failures_total").increment(1);
        tracing::warn!(error = %e, ?scopes, "cached reads may be stale until their time-to-live: stamps unavailable");
    }
}

/// How many video rows [`StampedVideoRepo::get`] keeps.
const KEPT_VIDEOS: u64 = 10_000;

pub struct StampedVideoRepo {
    inner: Arc<dyn VideoRepo>,
    stamps: Arc<dyn Stamps>,
    /// Rows read lately for viewers ([`VideoRepo::get_for_read`]), with the stamp they were
    /// read under: every play and every comment list checks its video, and most of them the
    /// same few. Writers and jobs read the row itself (`get`): a row kept here may be a bump
    /// behind on another replica, which is fine for a viewer and not for a decision.
    kept: moka::sync::Cache<VideoId, (u64, Option<Video>)>,
}

impl StampedVideoRepo {
    /// Keeps rows read at most `ttl` (the bound if a stamp change was lost).
    pub fn new(inner: Arc<dyn VideoRepo>, stamps: Arc<dyn Stamps>, ttl: std::time::Duration) -> Self {
        let kept = moka::sync::Cache::builder()
            .max_capacity(KEPT_VIDEOS)
            .time_to_live(ttl.max(std::time::Duration::from_millis(1)))
            .build();
        Self { inner, stamps, kept }
    }

    /// A video changed: it, and every listing it may be in.
    async fn changed<T>(&self, id: VideoId, done: Result<T>) -> Result<T> {
        if done.is_ok() {
            // This replica's kept row goes at once, whatever becomes of the bump.
            self.kept.invalidate(&id);
            bump(self.stamps.as_ref(), &[Scope::Videos, Scope::Video(id)]).await;
        }
        done
    }
}

#[async_trait]
impl VideoRepo for StampedVideoRepo {
    async fn insert(&self, video: &Video) -> Result<()> {
        self.changed(video.id, self.inner.insert(video).await).await
    }
    async fn get(&self, id: VideoId) -> Result<Option<Video>> {
        self.inner.get(id).await
    }
    async fn get_for_read(&self, id: VideoId) -> Result<Option<Video>> {
        // The stamp is read before the row, as for any kept read (see `reads`).
        let Ok(stamp) = self.stamps.current(&[Scope::Video(id)]).await else { return self.inner.get(id).await };
        let stamp = stamp.first().copied().unwrap_or_default();
        if let Some((at, video)) = self.kept.get(&id)
            && at == stamp
        {
            return Ok(video);
        }
        let video = self.inner.get(id).await?;
        self.kept.insert(id, (stamp, video.clone()));
        Ok(video)
    }
    async fn list_by_author(
        &self,
        author_id: UserId,
        visibility: Visibility,
        page: PageRequest,
    ) -> Result<Page<Video>> {
        self.inner.list_by_author(author_id, visibility, page).await
    }
    async fn discover(&self, sort: VideoSort, query: Option<&str>, page: PageRequest) -> Result<Page<Video>> {
        self.inner.discover(sort, query, page).await
    }
    async fn count_public_by_author(&self, author_id: UserId) -> Result<u64> {
        self.inner.count_public_by_author(author_id).await
    }
    async fn update(&self, id: VideoId, patch: &VideoPatch, at: DateTime<Utc>) -> Result<Option<Video>> {
        self.changed(id, self.inner.update(id, patch, at).await).await
    }
    async fn soft_delete(&self, id: VideoId, at: DateTime<Utc>, job: &NewJob) -> Result<bool> {
        self.changed(id, self.inner.soft_delete(id, at, job).await).await
    }
    async fn attach_source(
        &self,
        id: VideoId,
        source: &VideoSource,
        charge: &Charge,
        jobs: &[NewJob],
    ) -> Result<Referenced<bool>> {
        self.changed(id, self.inner.attach_source(id, source, charge, jobs).await).await
    }
    async fn set_status(&self, id: VideoId, from: VideoStatus, to: VideoStatus) -> Result<bool> {
        self.changed(id, self.inner.set_status(id, from, to).await).await
    }
    async fn set_media(&self, id: VideoId, status: VideoStatus, media: &VideoMedia, jobs: &[NewJob]) -> Result<bool> {
        self.changed(id, self.inner.set_media(id, status, media, jobs).await).await
    }
    async fn fail_processing(&self, id: VideoId, reason: &str) -> Result<bool> {
        self.changed(id, self.inner.fail_processing(id, reason).await).await
    }
    async fn set_progress(&self, id: VideoId, progress: u8) -> Result<()> {
        self.changed(id, self.inner.set_progress(id, progress).await).await
    }
    async fn set_stills(&self, id: VideoId, made: bool, next: &[NewJob]) -> Result<bool> {
        self.changed(id, self.inner.set_stills(id, made, next).await).await
    }
    async fn set_renditions(&self, id: VideoId, renditions: &[RenditionInfo]) -> Result<bool> {
        self.changed(id, self.inner.set_renditions(id, renditions).await).await
    }
    async fn restart_processing(&self, id: VideoId, job: &NewJob) -> Result<bool> {
        self.changed(id, self.inner.restart_processing(id, job).await).await
    }
    async fn unprocessed(&self, limit: u64) -> Result<Vec<VideoId>> {
        self.inner.unprocessed(limit).await
    }
    async fn add_views(&self, id: VideoId, n: u64) -> Result<()> {
        self.changed(id, self.inner.add_views(id, n).await).await
    }
    async fn purge_deleted(&self, id: VideoId) -> Result<Option<Option<String>>> {
        let done = self.inner.purge_deleted(id).await;
        if done.is_ok() {
            self.kept.invalidate(&id);
            // Its comments went with it.
            bump(self.stamps.as_ref(), &[Scope::Videos, Scope::Video(id), Scope::Comments(id)]).await;
        }
        done
    }
}

pub struct StampedCommentRepo {
    inner: Arc<dyn CommentRepo>,
    stamps: Arc<dyn Stamps>,
}

impl StampedCommentRepo {
    pub fn new(inner: Arc<dyn CommentRepo>, stamps: Arc<dyn Stamps>) -> Self {
        Self { inner, stamps }
    }
}

#[async_trait]
impl CommentRepo for StampedCommentRepo {
    async fn insert(&self, comment: &Comment) -> Result<()> {
        self.inner.insert(comment).await?;
        bump(self.stamps.as_ref(), &[Scope::Comments(comment.video_id)]).await;
        Ok(())
    }
    async fn get(&self, id: CommentId) -> Result<Option<Comment>> {
        self.inner.get(id).await
    }
    async fn list(&self, video_id: VideoId, page: PageRequest) -> Result<Page<Comment>> {
        self.inner.list(video_id, page).await
    }
    async fn list_if_visible(
        &self,
        video_id: VideoId,
        viewer: Option<UserId>,
        page: PageRequest,
    ) -> Result<Page<Comment>> {
        self.inner.list_if_visible(video_id, viewer, page).await
    }
    async fn latest(&self, video_id: VideoId, limit: u64) -> Result<Vec<Comment>> {
        self.inner.latest(video_id, limit).await
    }
    async fn delete(&self, video_id: VideoId, id: CommentId) -> Result<bool> {
        let deleted = self.inner.delete(video_id, id).await?;
        bump(self.stamps.as_ref(), &[Scope::Comments(video_id)]).await;
        Ok(deleted)
    }
}

/// Ratings change a video's counts: its kept reads and the lists showing them go.
pub struct StampedRatingRepo {
    inner: Arc<dyn RatingRepo>,
    stamps: Arc<dyn Stamps>,
}

impl StampedRatingRepo {
    pub fn new(inner: Arc<dyn RatingRepo>, stamps: Arc<dyn Stamps>) -> Self {
        Self { inner, stamps }
    }
}

#[async_trait]
impl RatingRepo for StampedRatingRepo {
    async fn rate(
        &self,
        video: VideoId,
        user: UserId,
        rating: Option<Rating>,
        at: DateTime<Utc>,
    ) -> Result<Option<RatingCounts>> {
        let counts = self.inner.rate(video, user, rating, at).await?;
        bump(self.stamps.as_ref(), &[Scope::Videos, Scope::Video(video)]).await;
        Ok(counts)
    }
    async fn rating_of(&self, video: VideoId, user: UserId) -> Result<Option<Rating>> {
        self.inner.rating_of(video, user).await
    }
}
