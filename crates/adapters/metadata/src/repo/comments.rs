use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Select, Set,
};
use streamvault_core::Result;
use streamvault_core::ids::{CommentId, UserId, VideoId};
use streamvault_core::paging::{Cursor, Page, PageRequest};
use streamvault_core::ports::CommentRepo;
use streamvault_core::videos::Comment;
use streamvault_core::videos::VideoStatus;
use uuid::Uuid;

use super::{from_ms, to_ms};
use crate::MetadataStore;
use crate::entity::{comment, user, video};
use crate::error::db_err;

#[derive(Clone)]
pub struct SqlCommentRepo {
    store: MetadataStore,
}

impl SqlCommentRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

#[derive(FromQueryResult)]
struct Row {
    id: Uuid,
    video_id: Uuid,
    author_id: Uuid,
    author_name: String,
    content: String,
    created_at: i64,
    parent_id: Option<Uuid>,
}

impl From<Row> for Comment {
    fn from(r: Row) -> Self {
        Comment {
            id: r.id.into(),
            video_id: r.video_id.into(),
            author_id: r.author_id.into(),
            author_name: r.author_name,
            content: r.content,
            created_at: from_ms(r.created_at),
            parent_id: r.parent_id.map(Into::into),
        }
    }
}

fn with_author() -> Select<comment::Entity> {
    comment::Entity::find()
        .select_only()
        .columns([
            comment::Column::Id,
            comment::Column::VideoId,
            comment::Column::AuthorId,
            comment::Column::Content,
            comment::Column::CreatedAt,
            comment::Column::ParentId,
        ])
        .column_as(user::Column::Name, "author_name")
        .join(JoinType::InnerJoin, comment::Relation::Author.def())
}

async fn fetch(store: &MetadataStore, q: Select<comment::Entity>) -> Result<Vec<Comment>> {
    let rows = q.into_model::<Row>().all(store.connection()).await.map_err(db_err)?;
    Ok(rows.into_iter().map(Comment::from).collect())
}

#[async_trait]
impl CommentRepo for SqlCommentRepo {
    async fn insert(&self, c: &Comment) -> Result<()> {
        comment::ActiveModel {
            id: Set(c.id.into()),
            video_id: Set(c.video_id.into()),
            author_id: Set(c.author_id.into()),
            content: Set(c.content.clone()),
            created_at: Set(to_ms(c.created_at)),
            parent_id: Set(c.parent_id.map(|p| p.uuid())),
        }
        .insert(self.store.connection())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get(&self, id: CommentId) -> Result<Option<Comment>> {
        let id: Uuid = id.into();
        Ok(fetch(&self.store, with_author().filter(comment::Column::Id.eq(id))).await?.pop())
    }

    async fn list(&self, video_id: VideoId, page: PageRequest) -> Result<Page<Comment>> {
        let video_id: Uuid = video_id.into();
        let mut q = with_author().filter(comment::Column::VideoId.eq(video_id));
        if let Some(after) = page.after {
            q = q.filter(comment::Column::Id.gt(after.id));
        }
        let rows = fetch(&self.store, q.order_by_asc(comment::Column::Id).limit(page.limit + 1)).await?;
        Ok(Page::from_rows(rows, page.limit, |c| Cursor { id: c.id.into(), rank: None }))
    }

    async fn list_if_visible(
        &self,
        video_id: VideoId,
        viewer: Option<UserId>,
        page: PageRequest,
    ) -> Result<Page<Comment>> {
        let video_id: Uuid = video_id.into();
        // The rule of `Videos::get`: not deleted, and public or the viewer's own.
        let mut visible =
            Condition::any().add(video::Column::Status.is_in(VideoStatus::PUBLIC.map(VideoStatus::as_str)));
        if let Some(viewer) = viewer {
            visible = visible.add(video::Column::AuthorId.eq(Uuid::from(viewer)));
        }
        let mut q = with_author()
            .join(
                JoinType::InnerJoin,
                comment::Entity::belongs_to(video::Entity).from(comment::Column::VideoId).to(video::Column::Id).into(),
            )
            .filter(comment::Column::VideoId.eq(video_id))
            .filter(video::Column::DeletedAt.is_null())
            .filter(visible);
        if let Some(after) = page.after {
            q = q.filter(comment::Column::Id.gt(after.id));
        }
        let rows = fetch(&self.store, q.order_by_asc(comment::Column::Id).limit(page.limit + 1)).await?;
        Ok(Page::from_rows(rows, page.limit, |c| Cursor { id: c.id.into(), rank: None }))
    }

    async fn latest(&self, video_id: VideoId, limit: u64) -> Result<Vec<Comment>> {
        let video_id: Uuid = video_id.into();
        let q = with_author().filter(comment::Column::VideoId.eq(video_id));
        fetch(&self.store, q.order_by_desc(comment::Column::Id).limit(limit)).await
    }

    async fn delete(&self, video_id: VideoId, id: CommentId) -> Result<bool> {
        let id: Uuid = id.into();
        // The comment and its replies, at once.
        let res = comment::Entity::delete_many()
            .filter(Condition::any().add(comment::Column::Id.eq(id)).add(comment::Column::ParentId.eq(id)))
            .filter(comment::Column::VideoId.eq(video_id.uuid()))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }
}
