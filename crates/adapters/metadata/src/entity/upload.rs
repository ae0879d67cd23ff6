use sea_orm::entity::prelude::*;

/// A resumable (tus) upload in progress, and for a while after it finished.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "uploads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_id: Uuid,
    pub length: Option<i64>,
    pub offset: i64,
    pub metadata: String,
    pub filename: Option<String>,
    pub video_id: Option<Uuid>,
    /// `none`, `partial` or `final`.
    pub concat: String,
    /// Comma-separated start offsets of the stored segments.
    pub segments: String,
    /// Comma-separated part ids of a final upload.
    pub parts: String,
    pub result: Option<String>,
    /// The SHA-256 of the bytes so far, as a serialized hasher (hex), when appends hash as
    /// they go.
    pub hash_state: Option<String>,
    /// On a local store: the file (under `uploads/<id>/`) the bytes are appended to.
    pub data_file: Option<String>,
    /// The replica request appending to it right now, and until when.
    pub lock_holder: Option<String>,
    pub lock_until: Option<i64>,
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
