use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// Lower-cased name; unique, so "Alice" and "alice" cannot both exist.
    #[sea_orm(unique)]
    pub name_key: String,
    pub password_hash: String,
    pub created_at: i64,
    /// The quota counter: bytes of the user's files, video originals and uploads in flight.
    pub used_bytes: i64,
    /// Bumped by every change to the user's folder tree, which serialises them.
    pub drive_rev: i64,
    /// The user paused their watch history: nothing is recorded.
    pub history_paused: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
