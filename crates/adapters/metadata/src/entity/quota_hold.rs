use sea_orm::entity::prelude::*;

/// Bytes an upload in flight holds against its owner's quota (they are in `users.used_bytes`
/// too). A hold without expiry belongs to a resumable upload and goes with it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quota_holds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_id: Uuid,
    pub bytes: i64,
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
