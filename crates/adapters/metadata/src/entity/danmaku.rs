use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "danmaku")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub video_id: Uuid,
    pub t_ms: i64,
    pub mode: i16,
    pub color: i32,
    pub size: i16,
    pub text: String,
    pub sender_id: Uuid,
    pub created_at: i64,
    pub hidden: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
