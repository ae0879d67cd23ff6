use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use streamvault_core::Result;
use streamvault_core::ports::PeriodicLease;

use super::to_ms;
use crate::MetadataStore;
use crate::entity::periodic_lease as lease;
use crate::error::db_err;

/// Periodic-task leases in the metadata store: a conditional `UPDATE` (or the first `INSERT`)
/// decides which replica runs a task in a period; no consensus of our own.
#[derive(Clone)]
pub struct SqlPeriodicLease {
    store: MetadataStore,
}

impl SqlPeriodicLease {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

#[async_trait]
impl PeriodicLease for SqlPeriodicLease {
    async fn try_acquire(&self, task: &str, holder: &str, period: Duration) -> Result<bool> {
        let conn = self.store.connection();
        let now = to_ms(Utc::now());
        let until = now.saturating_add(i64::try_from(period.as_millis()).unwrap_or(i64::MAX));
        let taken = lease::Entity::update_many()
            .col_expr(lease::Column::Holder, Expr::value(holder))
            .col_expr(lease::Column::Until, Expr::value(until))
            .filter(lease::Column::Name.eq(task))
            .filter(lease::Column::Until.lte(now))
            .exec(conn)
            .await
            .map_err(db_err)?
            .rows_affected;
        if taken == 1 {
            return Ok(true);
        }
        // The very first period: whoever inserts the row holds it.
        let row = lease::ActiveModel { name: Set(task.to_owned()), holder: Set(holder.to_owned()), until: Set(until) };
        let inserted = lease::Entity::insert(row)
            .on_conflict_do_nothing_on([lease::Column::Name])
            .exec_without_returning(conn)
            .await
            .map_err(db_err)?;
        Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(1)))
    }
}
