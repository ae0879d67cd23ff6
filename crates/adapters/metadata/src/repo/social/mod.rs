//! The social layer's stores.

pub(crate) mod blocks;
pub(crate) mod follows;
pub(crate) mod history;
pub(crate) mod messages;
pub(crate) mod notifications;
pub(crate) mod playlists;
pub(crate) mod ratings;

use std::collections::HashMap;

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, RelationDef, Select};
use streamvault_core::paging::Cursor;
use uuid::Uuid;

use crate::entity::video;

/// Rows inserted per statement: far under every backend's limit on bound parameters.
pub(crate) const INSERT_CHUNK: usize = 500;

/// The videos `viewer` may see: live, and public or their own (the rule of `Videos::get`).
pub(crate) fn visible_to(viewer: Option<Uuid>) -> Condition {
    let mut visible = Condition::any().add(super::videos::public_only());
    if let Some(viewer) = viewer {
        visible = visible.add(video::Column::AuthorId.eq(viewer));
    }
    Condition::all().add(video::Column::DeletedAt.is_null()).add(visible)
}

/// `q` (a query of videos) joined with `E`, whose `column` names the video.
pub(crate) fn videos_joined<E: EntityTrait>(q: Select<video::Entity>, column: E::Column) -> Select<video::Entity> {
    let rel: RelationDef = E::belongs_to(video::Entity).from(column).to(video::Column::Id).into();
    q.join_rev(sea_orm::JoinType::InnerJoin, rel)
}

/// Locks the live video `id` for this transaction (`None`: it is gone).
pub(crate) async fn lock_video(txn: &sea_orm::DatabaseTransaction, id: Uuid) -> Result<Option<Uuid>, sea_orm::DbErr> {
    video::Entity::find()
        .select_only()
        .column(video::Column::Id)
        .filter(video::Column::Id.eq(id))
        .filter(video::Column::DeletedAt.is_null())
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .one(txn)
        .await
}

/// The live videos of `ids`, by id (a page's rows joined back to their videos in one query).
pub(crate) async fn videos_by_id(
    store: &crate::MetadataStore,
    ids: Vec<Uuid>,
) -> streamvault_core::Result<HashMap<Uuid, streamvault_core::videos::Video>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found = super::videos::fetch(store, super::videos::live().filter(video::Column::Id.is_in(ids))).await?;
    Ok(found.into_iter().map(|v| (v.id.uuid(), v)).collect())
}

/// The user names of `ids`, by id.
pub(crate) async fn names_by_id(
    conn: &impl sea_orm::ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> streamvault_core::Result<HashMap<Uuid, String>> {
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = crate::entity::user::Entity::find()
        .select_only()
        .columns([crate::entity::user::Column::Id, crate::entity::user::Column::Name])
        .filter(crate::entity::user::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await
        .map_err(crate::error::db_err)?;
    Ok(rows.into_iter().collect())
}

/// The rows after `after` in `(rank, id)` order, for keyset pages ranked by a column (a time,
/// a position) with the id breaking ties: newest first (`descending`) or in order.
pub(crate) fn after_ranked(rank: impl ColumnTrait, id: impl ColumnTrait, after: Cursor, descending: bool) -> Condition {
    let at = after.rank.unwrap_or(if descending { i64::MAX } else { i64::MIN });
    let (past_rank, past_id) = if descending { (rank.lt(at), id.lt(after.id)) } else { (rank.gt(at), id.gt(after.id)) };
    Condition::any().add(past_rank).add(Condition::all().add(rank.eq(at)).add(past_id))
}

/// Locks `user`'s row for the transaction: a follow of theirs and a block by them take turns,
/// so a follow can never slip in beside a block. (Nothing else here wants that row exclusively,
/// so the foreign-key share locks of other writers wait for it without a cycle.)
pub(crate) async fn lock_user(txn: &sea_orm::DatabaseTransaction, user: Uuid) -> streamvault_core::Result<()> {
    crate::entity::user::Entity::find_by_id(user)
        .select_only()
        .column(crate::entity::user::Column::Id)
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .one(txn)
        .await
        .map_err(crate::error::db_err)?;
    Ok(())
}
