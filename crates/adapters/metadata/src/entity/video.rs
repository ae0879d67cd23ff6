use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "videos")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub author_id: Uuid,
    pub name: String,
    pub description: String,
    /// Unicode-lower-cased title and description, for case-insensitive search on every backend.
    pub search_key: String,
    pub status: String,
    pub views: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set on delete: the row is hidden at once and removed by the worker later.
    pub deleted_at: Option<i64>,
    /// The uploaded original: its blob, size and sniffed container type.
    pub source_sha256: Option<String>,
    pub source_size: Option<i64>,
    pub source_mime: Option<String>,
    pub uploaded_at: Option<i64>,
    /// What probing the original found.
    pub duration_ms: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub bitrate: Option<i64>,
    /// Why processing failed, for the owner.
    pub failure_reason: Option<String>,
    /// How far the transcode is, 0–100.
    pub progress: i16,
    /// The poster and storyboard are stored.
    pub has_stills: bool,
    /// The HLS ladder as JSON; null until transcoded.
    pub renditions: Option<String>,
    /// Counted with each rating, in its transaction.
    pub likes: i64,
    pub dislikes: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::user::Entity", from = "Column::AuthorId", to = "super::user::Column::Id")]
    Author,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Author.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
