use sea_orm::entity::prelude::*;

/// The durable job table: the embedded job queue, and the outbox that makes "change + job" one
/// transaction.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub payload: String,
    /// Unique while the job is pending; cleared when it finishes, so the key can be reused.
    pub dedup_key: Option<String>,
    /// `queued`, `running`, `done` or `dead`.
    pub state: String,
    pub run_at: i64,
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_until: Option<i64>,
    pub leased_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
