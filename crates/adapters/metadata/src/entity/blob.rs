use sea_orm::entity::prelude::*;

/// A stored blob, once per content: its SHA-256 is its key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "blobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sha256: String,
    pub size: i64,
    pub created_at: i64,
    /// Set while the bytes wait on one node's disk for transfer to remote primary storage.
    pub held_by: Option<String>,
    /// Files and videos (deleted or not) that point at the blob.
    pub refs: i64,
    /// `live`, or `collecting` while its bytes are being removed.
    pub state: String,
    /// Until when the collector that marked it `collecting` holds it.
    pub collect_until: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
