use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, FromQueryResult, JoinType,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationDef, Select, Set,
};
use streamvault_core::ids::{PlaylistId, UserId, VideoId};
use streamvault_core::paging::{Cursor, Page, PageRequest};
use streamvault_core::ports::PlaylistRepo;
use streamvault_core::social::{Builtin, Placed, Playlist, PlaylistEntry, PlaylistPatch, PlaylistVisibility};
use streamvault_core::{Error, Result};
use uuid::Uuid;

use super::{after_ranked, videos_by_id, videos_joined, visible_to};
use crate::MetadataStore;
use crate::entity::social::{playlist, playlist_item};
use crate::entity::{user, video};
use crate::error::db_err;
use crate::repo::videos::live;
use crate::repo::{from_ms, to_ms};

/// The room between neighbours' ordering keys: a move takes a midpoint, so about twenty moves
/// into one gap before the playlist is numbered afresh.
const GAP: i64 = 1 << 20;

#[derive(Clone)]
pub struct SqlPlaylistRepo {
    store: MetadataStore,
}

impl SqlPlaylistRepo {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

#[derive(FromQueryResult)]
struct Row {
    id: Uuid,
    owner_id: Uuid,
    owner_name: String,
    builtin: Option<String>,
    name: String,
    description: String,
    visibility: String,
    created_at: i64,
    updated_at: i64,
}

impl Row {
    fn into_domain(self) -> Result<Playlist> {
        let visibility = PlaylistVisibility::parse(&self.visibility)
            .ok_or_else(|| Error::bug(format!("playlist {} has unknown visibility {:?}", self.id, self.visibility)))?;
        Ok(Playlist {
            id: self.id.into(),
            owner_id: self.owner_id.into(),
            owner_name: self.owner_name,
            builtin: self.builtin.as_deref().and_then(Builtin::parse),
            name: self.name,
            description: self.description,
            visibility,
            created_at: from_ms(self.created_at),
            updated_at: from_ms(self.updated_at),
        })
    }
}

fn with_owner() -> Select<playlist::Entity> {
    let owner: RelationDef =
        playlist::Entity::belongs_to(user::Entity).from(playlist::Column::OwnerId).to(user::Column::Id).into();
    playlist::Entity::find()
        .select_only()
        .columns([
            playlist::Column::Id,
            playlist::Column::OwnerId,
            playlist::Column::Builtin,
            playlist::Column::Name,
            playlist::Column::Description,
            playlist::Column::Visibility,
            playlist::Column::CreatedAt,
            playlist::Column::UpdatedAt,
        ])
        .column_as(user::Column::Name, "owner_name")
        .join(JoinType::InnerJoin, owner)
}

async fn fetch_playlists(conn: &impl ConnectionTrait, q: Select<playlist::Entity>) -> Result<Vec<Playlist>> {
    let rows = q.into_model::<Row>().all(conn).await.map_err(db_err)?;
    rows.into_iter().map(Row::into_domain).collect()
}

/// The playlist's items `viewer` may see, as video rows joined with their place.
fn visible_items(id: Uuid, viewer: Option<Uuid>) -> Select<video::Entity> {
    videos_joined::<playlist_item::Entity>(live(), playlist_item::Column::VideoId)
        .filter(playlist_item::Column::PlaylistId.eq(id))
        .filter(visible_to(viewer))
}

/// The ordering keys of the items the owner sees, in order, `video` left out, from the
/// `skip`-th: at most `take`.
async fn keys(txn: &DatabaseTransaction, id: Uuid, owner: Uuid, video: Uuid, skip: u64, take: u64) -> Result<Vec<i64>> {
    visible_items(id, Some(owner))
        .select_only()
        .column(playlist_item::Column::Position)
        .filter(playlist_item::Column::VideoId.ne(video))
        .order_by_asc(playlist_item::Column::Position)
        .order_by_asc(playlist_item::Column::VideoId)
        .offset(skip)
        .limit(take)
        .into_tuple()
        .all(txn)
        .await
        .map_err(db_err)
}

/// Numbers every item of the playlist afresh, `GAP` apart, keeping their order.
async fn renumber(txn: &DatabaseTransaction, id: Uuid) -> Result<()> {
    let order: Vec<Uuid> = playlist_item::Entity::find()
        .select_only()
        .column(playlist_item::Column::VideoId)
        .filter(playlist_item::Column::PlaylistId.eq(id))
        .order_by_asc(playlist_item::Column::Position)
        .order_by_asc(playlist_item::Column::VideoId)
        .into_tuple()
        .all(txn)
        .await
        .map_err(db_err)?;
    for (i, vid) in order.into_iter().enumerate() {
        playlist_item::Entity::update_many()
            .col_expr(playlist_item::Column::Position, Expr::value((i as i64 + 1) * GAP))
            .filter(playlist_item::Column::PlaylistId.eq(id))
            .filter(playlist_item::Column::VideoId.eq(vid))
            .exec(txn)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

/// The ordering key that puts an item at `position` among the others, if there is room.
async fn key_at(txn: &DatabaseTransaction, id: Uuid, owner: Uuid, video: Uuid, position: u64) -> Result<Option<i64>> {
    let (before, after) = if position == 0 {
        (None, keys(txn, id, owner, video, 0, 1).await?.first().copied())
    } else {
        let pair = keys(txn, id, owner, video, position - 1, 2).await?;
        match pair.first() {
            // Past the end: after the last item.
            None => (last_key(txn, id).await?, None),
            Some(&b) => (Some(b), pair.get(1).copied()),
        }
    };
    Ok(match (before, after) {
        (None, None) => Some(GAP),
        (Some(b), None) => b.checked_add(GAP),
        (None, Some(a)) => a.checked_sub(GAP),
        (Some(b), Some(a)) if a - b >= 2 => Some(b + (a - b) / 2),
        _ => None,
    })
}

async fn last_key(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<i64>> {
    playlist_item::Entity::find()
        .select_only()
        .column(playlist_item::Column::Position)
        .filter(playlist_item::Column::PlaylistId.eq(id))
        .order_by_desc(playlist_item::Column::Position)
        .limit(1)
        .into_tuple()
        .one(conn)
        .await
        .map_err(db_err)
}

#[async_trait]
impl PlaylistRepo for SqlPlaylistRepo {
    async fn ensure_builtins(&self, owner: UserId, at: DateTime<Utc>) -> Result<()> {
        let conn = self.store.connection();
        let have = playlist::Entity::find()
            .filter(playlist::Column::OwnerId.eq(owner.uuid()))
            .filter(playlist::Column::Builtin.is_not_null())
            .count(conn)
            .await
            .map_err(db_err)?;
        if have >= Builtin::ALL.len() as u64 {
            return Ok(());
        }
        // In order, so that their time-ordered ids list Favorites first.
        for b in Builtin::ALL {
            playlist::Entity::insert(playlist::ActiveModel {
                id: Set(Uuid::now_v7()),
                owner_id: Set(owner.uuid()),
                builtin: Set(Some(b.as_str().to_owned())),
                name: Set(b.title().to_owned()),
                description: Set(String::new()),
                visibility: Set(PlaylistVisibility::Private.as_str().to_owned()),
                created_at: Set(to_ms(at)),
                updated_at: Set(to_ms(at)),
            })
            .on_conflict_do_nothing_on([playlist::Column::OwnerId, playlist::Column::Builtin])
            .exec_without_returning(conn)
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }

    async fn create(&self, p: &Playlist, max: u64) -> Result<bool> {
        let txn = self.store.begin().await?;
        // The owner's row, locked: two creations at the limit take turns.
        user::Entity::find_by_id(p.owner_id.uuid()).lock_exclusive().one(&txn).await.map_err(db_err)?;
        let have = playlist::Entity::find()
            .filter(playlist::Column::OwnerId.eq(p.owner_id.uuid()))
            .count(&txn)
            .await
            .map_err(db_err)?;
        // The built-in ones do not count against the limit.
        if have >= max + Builtin::ALL.len() as u64 {
            txn.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        playlist::ActiveModel {
            id: Set(p.id.uuid()),
            owner_id: Set(p.owner_id.uuid()),
            builtin: Set(None),
            name: Set(p.name.clone()),
            description: Set(p.description.clone()),
            visibility: Set(p.visibility.as_str().to_owned()),
            created_at: Set(to_ms(p.created_at)),
            updated_at: Set(to_ms(p.updated_at)),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn get(&self, id: PlaylistId) -> Result<Option<Playlist>> {
        let q = with_owner().filter(playlist::Column::Id.eq(id.uuid()));
        Ok(fetch_playlists(self.store.connection(), q).await?.pop())
    }

    async fn list(&self, owner: UserId, public_only: bool, page: PageRequest) -> Result<Page<Playlist>> {
        let mut q = with_owner().filter(playlist::Column::OwnerId.eq(owner.uuid()));
        if public_only {
            q = q.filter(playlist::Column::Visibility.eq(PlaylistVisibility::Public.as_str()));
        }
        if let Some(after) = page.after {
            q = q.filter(playlist::Column::Id.gt(after.id));
        }
        let q = q.order_by_asc(playlist::Column::Id).limit(page.limit + 1);
        let rows = fetch_playlists(self.store.connection(), q).await?;
        Ok(Page::from_rows(rows, page.limit, |p| Cursor { id: p.id.uuid(), rank: None }))
    }

    async fn update(&self, id: PlaylistId, patch: &PlaylistPatch, at: DateTime<Utc>) -> Result<Option<Playlist>> {
        let mut q = playlist::Entity::update_many()
            .col_expr(playlist::Column::UpdatedAt, Expr::value(to_ms(at)))
            .filter(playlist::Column::Id.eq(id.uuid()));
        if let Some(name) = &patch.name {
            q = q.col_expr(playlist::Column::Name, Expr::value(name.clone()));
        }
        if let Some(d) = &patch.description {
            q = q.col_expr(playlist::Column::Description, Expr::value(d.clone()));
        }
        if let Some(v) = patch.visibility {
            q = q.col_expr(playlist::Column::Visibility, Expr::value(v.as_str()));
        }
        if q.exec(self.store.connection()).await.map_err(db_err)?.rows_affected == 0 {
            return Ok(None);
        }
        self.get(id).await
    }

    async fn delete(&self, id: PlaylistId) -> Result<bool> {
        let res = playlist::Entity::delete_by_id(id.uuid()).exec(self.store.connection()).await.map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn put_item(
        &self,
        id: PlaylistId,
        video_id: VideoId,
        position: Option<u64>,
        at: DateTime<Utc>,
        max: u64,
    ) -> Result<Placed> {
        let (pid, vid) = (id.uuid(), video_id.uuid());
        let txn = self.store.begin().await?;
        // The playlist's row, locked: changes to one playlist take turns.
        let owner: Option<Uuid> = playlist::Entity::find_by_id(pid)
            .select_only()
            .column(playlist::Column::OwnerId)
            .lock_exclusive()
            .into_tuple()
            .one(&txn)
            .await
            .map_err(db_err)?;
        let Some(owner) = owner else {
            txn.rollback().await.map_err(db_err)?;
            return Ok(Placed::NoPlaylist);
        };
        let existing = playlist_item::Entity::find_by_id((pid, vid)).one(&txn).await.map_err(db_err)?;
        let added = existing.is_none();
        if added {
            let held = playlist_item::Entity::find()
                .filter(playlist_item::Column::PlaylistId.eq(pid))
                .count(&txn)
                .await
                .map_err(db_err)?;
            if held >= max {
                txn.rollback().await.map_err(db_err)?;
                return Ok(Placed::Full);
            }
        }
        let key = match (position, &existing) {
            (None, Some(item)) => item.position,
            (None, None) => last_key(&txn, pid).await?.map_or(GAP, |k| k.saturating_add(GAP)),
            (Some(p), _) => match key_at(&txn, pid, owner, vid, p).await? {
                Some(k) => k,
                None => {
                    renumber(&txn, pid).await?;
                    key_at(&txn, pid, owner, vid, p).await?.ok_or_else(|| Error::bug("no room after renumbering"))?
                }
            },
        };
        match existing {
            Some(item) => {
                let mut item: playlist_item::ActiveModel = item.into();
                item.position = Set(key);
                item.update(&txn).await.map_err(db_err)?;
            }
            None => {
                playlist_item::ActiveModel {
                    playlist_id: Set(pid),
                    video_id: Set(vid),
                    position: Set(key),
                    added_at: Set(to_ms(at)),
                }
                .insert(&txn)
                .await
                .map_err(db_err)?;
            }
        }
        playlist::Entity::update_many()
            .col_expr(playlist::Column::UpdatedAt, Expr::value(to_ms(at)))
            .filter(playlist::Column::Id.eq(pid))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(if added { Placed::Added } else { Placed::Kept })
    }

    async fn remove_item(&self, id: PlaylistId, video: VideoId) -> Result<bool> {
        let res = playlist_item::Entity::delete_by_id((id.uuid(), video.uuid()))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn items(&self, id: PlaylistId, viewer: Option<UserId>, page: PageRequest) -> Result<Page<PlaylistEntry>> {
        let mut q = visible_items(id.uuid(), viewer.map(|v| v.uuid()));
        if let Some(after) = page.after {
            q = q.filter(after_ranked(playlist_item::Column::Position, playlist_item::Column::VideoId, after, false));
        }
        // The page's places first, then their videos: each row joined back by its id.
        let places: Vec<(Uuid, i64, i64)> = q
            .select_only()
            .column(playlist_item::Column::VideoId)
            .column(playlist_item::Column::Position)
            .column(playlist_item::Column::AddedAt)
            .order_by_asc(playlist_item::Column::Position)
            .order_by_asc(playlist_item::Column::VideoId)
            .limit(page.limit + 1)
            .into_tuple()
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        let mut videos = videos_by_id(&self.store, places.iter().map(|p| p.0).collect()).await?;
        let items: Vec<_> = places
            .into_iter()
            .filter_map(|(vid, position, added)| {
                videos.remove(&vid).map(|video| PlaylistEntry { video, position, added_at: from_ms(added) })
            })
            .collect();
        Ok(Page::from_rows(items, page.limit, |e| Cursor { id: e.video.id.uuid(), rank: Some(e.position) }))
    }

    async fn count_items(&self, id: PlaylistId, viewer: Option<UserId>) -> Result<u64> {
        visible_items(id.uuid(), viewer.map(|v| v.uuid())).count(self.store.connection()).await.map_err(db_err)
    }

    async fn holding(&self, owner: UserId, video: VideoId) -> Result<Vec<PlaylistId>> {
        let rel: RelationDef = playlist_item::Entity::belongs_to(playlist::Entity)
            .from(playlist_item::Column::PlaylistId)
            .to(playlist::Column::Id)
            .into();
        let ids: Vec<Uuid> = playlist_item::Entity::find()
            .select_only()
            .column(playlist_item::Column::PlaylistId)
            .join(JoinType::InnerJoin, rel)
            .filter(playlist::Column::OwnerId.eq(owner.uuid()))
            .filter(playlist_item::Column::VideoId.eq(video.uuid()))
            .order_by_asc(playlist_item::Column::PlaylistId)
            .into_tuple()
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(ids.into_iter().map(PlaylistId::from).collect())
    }
}
