use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, FromQueryResult, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Select, Set,
};
use streamvault_core::ids::{UserId, VideoId};
use streamvault_core::paging::{Cursor, Page, PageRequest};
use streamvault_core::ports::{Charge, NewJob, Referenced, VideoRepo};
use streamvault_core::text::search_key;
use streamvault_core::videos::{
    RenditionInfo, Video, VideoMedia, VideoOutputs, VideoPatch, VideoSort, VideoSource, VideoStatus, Visibility,
};
use streamvault_core::{Error, Result};
use uuid::Uuid;

use super::{from_ms, i64_of, jobs, quota, to_ms};
use crate::MetadataStore;
use crate::entity::{comment, user, video};
use crate::error::db_err;

#[derive(Clone)]
pub struct SqlVideoRepo {
    store: MetadataStore,
}

impl SqlVideoRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }

    /// An update of one live video that also bumps `updated_at`.
    fn live_update(&self, id: Uuid) -> sea_orm::UpdateMany<video::Entity> {
        video::Entity::update_many()
            .col_expr(video::Column::UpdatedAt, Expr::value(to_ms(Utc::now())))
            .filter(video::Column::Id.eq(id))
            .filter(video::Column::DeletedAt.is_null())
    }
}

/// Runs `update` and, if it changed a row, enqueues `jobs` in the same transaction: the change
/// and the work it causes commit together or not at all. `false` when no row matched.
async fn update_then_enqueue(
    store: &MetadataStore,
    update: sea_orm::UpdateMany<video::Entity>,
    jobs: &[NewJob],
) -> Result<bool> {
    let txn = store.begin().await?;
    if update.exec(&txn).await.map_err(db_err)?.rows_affected == 0 {
        txn.rollback().await.map_err(db_err)?;
        return Ok(false);
    }
    for job in jobs {
        jobs::enqueue(&txn, job).await?;
    }
    txn.commit().await.map_err(db_err)?;
    Ok(true)
}

/// Failure reasons fit their column (500 characters).
fn clip_reason(reason: &str) -> String {
    reason.chars().take(500).collect()
}

#[derive(FromQueryResult)]
struct Row {
    id: Uuid,
    author_id: Uuid,
    author_name: String,
    name: String,
    description: String,
    status: String,
    views: i64,
    created_at: i64,
    updated_at: i64,
    source_sha256: Option<String>,
    source_size: Option<i64>,
    source_mime: Option<String>,
    uploaded_at: Option<i64>,
    duration_ms: Option<i64>,
    width: Option<i32>,
    height: Option<i32>,
    video_codec: Option<String>,
    audio_codec: Option<String>,
    bitrate: Option<i64>,
    failure_reason: Option<String>,
    progress: i16,
    has_stills: bool,
    renditions: Option<String>,
    likes: i64,
    dislikes: i64,
}

impl Row {
    fn into_domain(self) -> Result<Video> {
        let status = VideoStatus::parse(&self.status)
            .ok_or_else(|| Error::bug(format!("video {} has unknown status {:?}", self.id, self.status)))?;
        Ok(Video {
            id: self.id.into(),
            author_id: self.author_id.into(),
            author_name: self.author_name,
            name: self.name,
            description: self.description,
            status,
            views: self.views,
            likes: self.likes,
            dislikes: self.dislikes,
            created_at: from_ms(self.created_at),
            updated_at: from_ms(self.updated_at),
            source: match (self.source_sha256, self.source_size, self.source_mime, self.uploaded_at) {
                (Some(sha256), Some(size), Some(mime), Some(at)) => {
                    Some(VideoSource { sha256, size: u64::try_from(size).unwrap_or(0), mime, uploaded_at: from_ms(at) })
                }
                _ => None,
            },
            media: VideoMedia {
                duration_ms: self.duration_ms.and_then(|v| u64::try_from(v).ok()),
                width: self.width.and_then(|v| u32::try_from(v).ok()),
                height: self.height.and_then(|v| u32::try_from(v).ok()),
                video_codec: self.video_codec,
                audio_codec: self.audio_codec,
                bitrate: self.bitrate.and_then(|v| u64::try_from(v).ok()),
                failure_reason: self.failure_reason,
            },
            outputs: VideoOutputs {
                progress: u8::try_from(self.progress.clamp(0, 100)).unwrap_or(0),
                has_stills: self.has_stills,
                // Written by us only; an unreadable value reads as "not transcoded".
                renditions: self.renditions.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default(),
            },
        })
    }
}

/// Live (not deleted) videos joined with their author's name.
pub(crate) fn live() -> Select<video::Entity> {
    video::Entity::find()
        .select_only()
        .columns([
            video::Column::Id,
            video::Column::AuthorId,
            video::Column::Name,
            video::Column::Description,
            video::Column::Status,
            video::Column::Views,
            video::Column::CreatedAt,
            video::Column::UpdatedAt,
            video::Column::SourceSha256,
            video::Column::SourceSize,
            video::Column::SourceMime,
            video::Column::UploadedAt,
            video::Column::DurationMs,
            video::Column::Width,
            video::Column::Height,
            video::Column::VideoCodec,
            video::Column::AudioCodec,
            video::Column::Bitrate,
            video::Column::FailureReason,
            video::Column::Progress,
            video::Column::HasStills,
            video::Column::Renditions,
            video::Column::Likes,
            video::Column::Dislikes,
        ])
        .column_as(user::Column::Name, "author_name")
        .join(JoinType::InnerJoin, video::Relation::Author.def())
        .filter(video::Column::DeletedAt.is_null())
}

pub(crate) fn public_only() -> Condition {
    Condition::all().add(video::Column::Status.is_in(VideoStatus::PUBLIC.map(VideoStatus::as_str)))
}

/// `%`, `_` and the escape character itself match literally.
fn like_pattern(needle: &str) -> LikeExpr {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    LikeExpr::new(p).escape('\\')
}

pub(crate) async fn fetch(store: &MetadataStore, q: Select<video::Entity>) -> Result<Vec<Video>> {
    let rows = q.into_model::<Row>().all(store.connection()).await.map_err(db_err)?;
    rows.into_iter().map(Row::into_domain).collect()
}

fn by_id(v: &Video) -> Cursor {
    Cursor { id: v.id.into(), rank: None }
}

#[async_trait]
impl VideoRepo for SqlVideoRepo {
    async fn insert(&self, v: &Video) -> Result<()> {
        video::ActiveModel {
            id: Set(v.id.into()),
            author_id: Set(v.author_id.into()),
            name: Set(v.name.clone()),
            description: Set(v.description.clone()),
            search_key: Set(search_key(&[&v.name, &v.description])),
            status: Set(v.status.as_str().to_owned()),
            views: Set(v.views),
            created_at: Set(to_ms(v.created_at)),
            updated_at: Set(to_ms(v.updated_at)),
            deleted_at: Set(None),
            source_sha256: Set(v.source.as_ref().map(|s| s.sha256.clone())),
            source_size: Set(v.source.as_ref().map(|s| i64::try_from(s.size).unwrap_or(i64::MAX))),
            source_mime: Set(v.source.as_ref().map(|s| s.mime.clone())),
            uploaded_at: Set(v.source.as_ref().map(|s| to_ms(s.uploaded_at))),
            duration_ms: Set(None),
            width: Set(None),
            height: Set(None),
            video_codec: Set(None),
            audio_codec: Set(None),
            bitrate: Set(None),
            failure_reason: Set(None),
            progress: Set(0),
            has_stills: Set(false),
            renditions: Set(None),
            likes: Set(0),
            dislikes: Set(0),
        }
        .insert(self.store.connection())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get(&self, id: VideoId) -> Result<Option<Video>> {
        let id: Uuid = id.into();
        Ok(fetch(&self.store, live().filter(video::Column::Id.eq(id))).await?.pop())
    }

    async fn list_by_author(
        &self,
        author_id: UserId,
        visibility: Visibility,
        page: PageRequest,
    ) -> Result<Page<Video>> {
        let author_id: Uuid = author_id.into();
        let mut q = live().filter(video::Column::AuthorId.eq(author_id));
        if visibility == Visibility::PublicOnly {
            q = q.filter(public_only());
        }
        if let Some(after) = page.after {
            q = q.filter(video::Column::Id.lt(after.id));
        }
        let rows = fetch(&self.store, q.order_by_desc(video::Column::Id).limit(page.limit + 1)).await?;
        Ok(Page::from_rows(rows, page.limit, by_id))
    }

    async fn discover(&self, sort: VideoSort, query: Option<&str>, page: PageRequest) -> Result<Page<Video>> {
        let mut q = live().filter(public_only());
        if let Some(needle) = query {
            q = q.filter(video::Column::SearchKey.like(like_pattern(needle)));
        }
        let rows = match sort {
            VideoSort::Latest => {
                if let Some(after) = page.after {
                    q = q.filter(video::Column::Id.lt(after.id));
                }
                fetch(&self.store, q.order_by_desc(video::Column::Id).limit(page.limit + 1)).await?
            }
            VideoSort::Popular => {
                if let Some(after) = page.after {
                    let views = after.rank.unwrap_or(i64::MAX);
                    q =
                        q.filter(Condition::any().add(video::Column::Views.lt(views)).add(
                            Condition::all().add(video::Column::Views.eq(views)).add(video::Column::Id.lt(after.id)),
                        ));
                }
                let q = q.order_by_desc(video::Column::Views).order_by_desc(video::Column::Id);
                fetch(&self.store, q.limit(page.limit + 1)).await?
            }
        };
        Ok(match sort {
            VideoSort::Latest => Page::from_rows(rows, page.limit, by_id),
            VideoSort::Popular => {
                Page::from_rows(rows, page.limit, |v| Cursor { id: v.id.into(), rank: Some(v.views) })
            }
        })
    }

    async fn count_public_by_author(&self, author_id: UserId) -> Result<u64> {
        let author_id: Uuid = author_id.into();
        video::Entity::find()
            .filter(video::Column::AuthorId.eq(author_id))
            .filter(video::Column::DeletedAt.is_null())
            .filter(public_only())
            .count(self.store.connection())
            .await
            .map_err(db_err)
    }

    async fn update(&self, id: VideoId, patch: &VideoPatch, at: DateTime<Utc>) -> Result<Option<Video>> {
        let id: Uuid = id.into();
        let txn = self.store.begin().await?;
        let Some(row) =
            video::Entity::find_by_id(id).filter(video::Column::DeletedAt.is_null()).one(&txn).await.map_err(db_err)?
        else {
            return Ok(None);
        };
        let name = patch.name.clone().unwrap_or_else(|| row.name.clone());
        let description = patch.description.clone().unwrap_or_else(|| row.description.clone());
        let key = search_key(&[&name, &description]);
        let mut am: video::ActiveModel = row.into();
        am.name = Set(name);
        am.description = Set(description);
        am.search_key = Set(key);
        am.updated_at = Set(to_ms(at));
        am.update(&txn).await.map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        self.get(id.into()).await
    }

    async fn soft_delete(&self, id: VideoId, at: DateTime<Utc>, job: &NewJob) -> Result<bool> {
        let id: Uuid = id.into();
        let conn = self.store.connection();
        let Some(row) =
            video::Entity::find_by_id(id).filter(video::Column::DeletedAt.is_null()).one(conn).await.map_err(db_err)?
        else {
            return Ok(false);
        };
        let txn = self.store.begin().await?;
        quota::lock_user(&txn, row.author_id).await?;
        let res = video::Entity::update_many()
            .col_expr(video::Column::DeletedAt, Expr::value(to_ms(at)))
            .filter(video::Column::Id.eq(id))
            .filter(video::Column::DeletedAt.is_null())
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            txn.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        // The original stops counting against the author's quota (read again under the lock:
        // an upload may have attached it meanwhile).
        let size: Option<i64> = video::Entity::find_by_id(id)
            .select_only()
            .column(video::Column::SourceSize)
            .into_tuple::<Option<i64>>()
            .one(&txn)
            .await
            .map_err(db_err)?
            .flatten();
        if let Some(size) = size {
            quota::refund(&txn, row.author_id, u64::try_from(size).unwrap_or(0)).await?;
        }
        jobs::enqueue(&txn, job).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn attach_source(
        &self,
        id: VideoId,
        source: &VideoSource,
        charge: &Charge,
        jobs: &[NewJob],
    ) -> Result<Referenced<bool>> {
        let id: Uuid = id.into();
        let conn = self.store.connection();
        let Some(row) =
            video::Entity::find_by_id(id).filter(video::Column::DeletedAt.is_null()).one(conn).await.map_err(db_err)?
        else {
            return Ok(Referenced::Made(false));
        };
        let txn = self.store.begin().await?;
        quota::lock_user(&txn, row.author_id).await?;
        let res = video::Entity::update_many()
            .col_expr(video::Column::SourceSha256, Expr::value(source.sha256.clone()))
            .col_expr(video::Column::SourceSize, Expr::value(i64_of(source.size)))
            .col_expr(video::Column::SourceMime, Expr::value(source.mime.clone()))
            .col_expr(video::Column::UploadedAt, Expr::value(to_ms(source.uploaded_at)))
            .col_expr(video::Column::UpdatedAt, Expr::value(to_ms(source.uploaded_at)))
            .col_expr(video::Column::Status, Expr::value(VideoStatus::Uploaded.as_str()))
            .filter(video::Column::Id.eq(id))
            .filter(video::Column::DeletedAt.is_null())
            .filter(video::Column::SourceSha256.is_null())
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            txn.rollback().await.map_err(db_err)?;
            return Ok(Referenced::Made(false));
        }
        quota::charge(&txn, row.author_id, charge, source.size).await?;
        if !quota::add_ref(&txn, &source.sha256).await? {
            txn.rollback().await.map_err(db_err)?;
            return Ok(Referenced::BlobGone);
        }
        for job in jobs {
            jobs::enqueue(&txn, job).await?;
        }
        txn.commit().await.map_err(db_err)?;
        Ok(Referenced::Made(true))
    }

    async fn set_status(&self, id: VideoId, from: VideoStatus, to: VideoStatus) -> Result<bool> {
        let id: Uuid = id.into();
        let res = video::Entity::update_many()
            .col_expr(video::Column::Status, Expr::value(to.as_str()))
            .col_expr(video::Column::UpdatedAt, Expr::value(to_ms(Utc::now())))
            .filter(video::Column::Id.eq(id))
            .filter(video::Column::Status.eq(from.as_str()))
            .filter(video::Column::DeletedAt.is_null())
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn set_media(&self, id: VideoId, status: VideoStatus, m: &VideoMedia, next: &[NewJob]) -> Result<bool> {
        let id: Uuid = id.into();
        let i = |v: Option<u64>| v.map(|v| i64::try_from(v).unwrap_or(i64::MAX));
        let n = |v: Option<u32>| v.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
        let update = video::Entity::update_many()
            .col_expr(video::Column::Status, Expr::value(status.as_str()))
            .col_expr(video::Column::DurationMs, Expr::value(i(m.duration_ms)))
            .col_expr(video::Column::Width, Expr::value(n(m.width)))
            .col_expr(video::Column::Height, Expr::value(n(m.height)))
            .col_expr(video::Column::VideoCodec, Expr::value(m.video_codec.clone()))
            .col_expr(video::Column::AudioCodec, Expr::value(m.audio_codec.clone()))
            .col_expr(video::Column::Bitrate, Expr::value(i(m.bitrate)))
            .col_expr(video::Column::FailureReason, Expr::value(m.failure_reason.as_deref().map(clip_reason)))
            .col_expr(video::Column::UpdatedAt, Expr::value(to_ms(Utc::now())))
            .filter(video::Column::Id.eq(id))
            .filter(video::Column::DeletedAt.is_null());
        update_then_enqueue(&self.store, update, next).await
    }

    async fn fail_processing(&self, id: VideoId, reason: &str) -> Result<bool> {
        let id: Uuid = id.into();
        let res = self
            .live_update(id)
            .col_expr(video::Column::Status, Expr::value(VideoStatus::Failed.as_str()))
            .col_expr(video::Column::FailureReason, Expr::value(clip_reason(reason)))
            .filter(video::Column::Status.eq(VideoStatus::Processing.as_str()))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn set_progress(&self, id: VideoId, progress: u8) -> Result<()> {
        let id: Uuid = id.into();
        // No `updated_at` bump: progress is not an edit (and the HTTP validators of outputs
        // hang on it).
        video::Entity::update_many()
            .col_expr(video::Column::Progress, Expr::value(i16::from(Ord::min(progress, 100))))
            .filter(video::Column::Id.eq(id))
            .filter(video::Column::DeletedAt.is_null())
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn set_stills(&self, id: VideoId, made: bool, next: &[NewJob]) -> Result<bool> {
        let id: Uuid = id.into();
        let update = self.live_update(id).col_expr(video::Column::HasStills, Expr::value(made));
        update_then_enqueue(&self.store, update, next).await
    }

    async fn set_renditions(&self, id: VideoId, renditions: &[RenditionInfo]) -> Result<bool> {
        let id: Uuid = id.into();
        let json = serde_json::to_string(renditions).map_err(Error::internal)?;
        let txn = self.store.begin().await?;
        let res = self
            .live_update(id)
            .col_expr(video::Column::Renditions, Expr::value(json))
            .col_expr(video::Column::Progress, Expr::value(100i16))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        self.live_update(id)
            .col_expr(video::Column::Status, Expr::value(VideoStatus::Ready.as_str()))
            .filter(video::Column::Status.eq(VideoStatus::Processing.as_str()))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn restart_processing(&self, id: VideoId, job: &NewJob) -> Result<bool> {
        let id: Uuid = id.into();
        let restart = self
            .live_update(id)
            .col_expr(video::Column::Status, Expr::value(VideoStatus::Uploaded.as_str()))
            .col_expr(video::Column::Progress, Expr::value(0i16))
            .col_expr(video::Column::HasStills, Expr::value(false))
            .col_expr(video::Column::Renditions, Expr::value(Option::<String>::None))
            .col_expr(video::Column::FailureReason, Expr::value(Option::<String>::None))
            .filter(video::Column::SourceSha256.is_not_null());
        update_then_enqueue(&self.store, restart, std::slice::from_ref(job)).await
    }

    async fn unprocessed(&self, limit: u64) -> Result<Vec<VideoId>> {
        let statuses = [VideoStatus::Uploaded.as_str(), VideoStatus::Ready.as_str()];
        let ids = video::Entity::find()
            .select_only()
            .column(video::Column::Id)
            .filter(video::Column::DeletedAt.is_null())
            .filter(video::Column::SourceSha256.is_not_null())
            .filter(video::Column::Renditions.is_null())
            .filter(video::Column::Status.is_in(statuses))
            .order_by_asc(video::Column::Id)
            .limit(limit)
            .into_tuple::<Uuid>()
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(ids.into_iter().map(VideoId::from).collect())
    }

    async fn add_views(&self, id: VideoId, n: u64) -> Result<()> {
        let id: Uuid = id.into();
        video::Entity::update_many()
            .col_expr(video::Column::Views, Expr::col(video::Column::Views).add(i64::try_from(n).unwrap_or(i64::MAX)))
            .filter(video::Column::Id.eq(id))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn purge_deleted(&self, id: VideoId) -> Result<Option<Option<String>>> {
        let id: Uuid = id.into();
        let txn = self.store.begin().await?;
        let Some(row) = video::Entity::find_by_id(id).one(&txn).await.map_err(db_err)? else {
            return Ok(None);
        };
        if row.deleted_at.is_none() {
            return Ok(None);
        }
        comment::Entity::delete_many().filter(comment::Column::VideoId.eq(id)).exec(&txn).await.map_err(db_err)?;
        video::Entity::delete_by_id(id).exec(&txn).await.map_err(db_err)?;
        if let Some(sha) = &row.source_sha256 {
            quota::drop_ref(&txn, sha).await?;
        }
        txn.commit().await.map_err(db_err)?;
        Ok(Some(row.source_sha256))
    }
}
