use sea_orm::entity::prelude::*;

/// An open instant-upload challenge (single use, short-lived).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "challenges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub nonce: String,
    pub owner_id: Uuid,
    pub sha256: String,
    pub size: i64,
    pub offset: i64,
    pub length: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
