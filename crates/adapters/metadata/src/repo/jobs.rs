use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use streamvault_core::Result;
use streamvault_core::ids::JobId;
use streamvault_core::ports::{
    Claim, JobAdmin, JobInfo, JobOutbox, JobQueue, JobState, LeasedJob, NewJob, OutboxJob, QueueStats,
};

use super::{from_ms, to_ms};
use crate::MetadataStore;
use crate::entity::job;
use crate::error::db_err;

/// Attempts before a job is dead-lettered, unless the worker says otherwise.
pub(crate) const DEFAULT_MAX_ATTEMPTS: i32 = 10;

/// Inserts a queued job on `conn` (a transaction, so it commits with the change that caused
/// it). A pending job with the same de-duplication key wins; the new one is dropped.
pub(crate) async fn enqueue(conn: &impl ConnectionTrait, new: &NewJob) -> Result<()> {
    let now = to_ms(chrono::Utc::now());
    let row = job::ActiveModel {
        id: Set(streamvault_core::ids::new_id()),
        kind: Set(new.job.kind().to_owned()),
        payload: Set(new.job.payload()),
        dedup_key: Set(new.dedup_key.clone()),
        state: Set(JobState::Queued.as_str().into()),
        run_at: Set(to_ms(new.run_at)),
        attempts: Set(0),
        max_attempts: Set(DEFAULT_MAX_ATTEMPTS),
        lease_until: Set(None),
        leased_by: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    job::Entity::insert(row)
        .on_conflict_do_nothing_on([job::Column::DedupKey])
        .exec_without_returning(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// The embedded job queue: the `jobs` table, leased with an optimistic update so that two
/// workers can never hold one job at once (the loser's `UPDATE … WHERE attempts = n` matches
/// nothing), on every backend.
#[derive(Clone)]
pub struct SqlJobQueue {
    store: MetadataStore,
}

impl SqlJobQueue {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

fn due(now: i64) -> Condition {
    Condition::any()
        .add(Condition::all().add(job::Column::State.eq(JobState::Queued.as_str())).add(job::Column::RunAt.lte(now)))
        .add(
            Condition::all()
                .add(job::Column::State.eq(JobState::Running.as_str()))
                .add(job::Column::LeaseUntil.lt(now)),
        )
}

#[async_trait]
impl JobQueue for SqlJobQueue {
    async fn enqueue(&self, job: &NewJob) -> Result<()> {
        enqueue(self.store.connection(), job).await
    }

    async fn lease(&self, worker: &str, lease: Duration) -> Result<Option<LeasedJob>> {
        let conn = self.store.connection();
        // A few tries: another worker may win the row we picked.
        for _ in 0..5 {
            let now = to_ms(Utc::now());
            let Some(c) = job::Entity::find()
                .filter(due(now))
                .order_by_asc(job::Column::RunAt)
                .order_by_asc(job::Column::Id)
                .one(conn)
                .await
                .map_err(db_err)?
            else {
                return Ok(None);
            };
            let lease_ms = ms(lease);
            let won = job::Entity::update_many()
                .col_expr(job::Column::State, Expr::value(JobState::Running.as_str()))
                .col_expr(job::Column::LeaseUntil, Expr::value(now.saturating_add(lease_ms)))
                .col_expr(job::Column::LeasedBy, Expr::value(worker))
                .col_expr(job::Column::Attempts, Expr::value(c.attempts + 1))
                .col_expr(job::Column::UpdatedAt, Expr::value(now))
                .filter(job::Column::Id.eq(c.id))
                .filter(job::Column::Attempts.eq(c.attempts))
                .filter(due(now))
                .exec(conn)
                .await
                .map_err(db_err)?
                .rows_affected
                == 1;
            if won {
                let attempt = c.attempts + 1;
                return Ok(Some(leased(c, attempt, worker)));
            }
        }
        Ok(None)
    }

    async fn extend(&self, j: &LeasedJob, lease: Duration) -> Result<bool> {
        let now = to_ms(Utc::now());
        let res = job::Entity::update_many()
            .col_expr(job::Column::LeaseUntil, Expr::value(now.saturating_add(ms(lease))))
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.eq(j.id.uuid()))
            .filter(job::Column::State.eq(JobState::Running.as_str()))
            .filter(job::Column::LeasedBy.eq(j.worker.as_str()))
            .filter(job::Column::Attempts.eq(i32::try_from(j.attempt).unwrap_or(i32::MAX)))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected == 1)
    }

    async fn complete(&self, j: &LeasedJob) -> Result<()> {
        let now = to_ms(Utc::now());
        job::Entity::update_many()
            .col_expr(job::Column::State, Expr::value(JobState::Done.as_str()))
            .col_expr(job::Column::DedupKey, Expr::value(Option::<String>::None))
            .col_expr(job::Column::LeaseUntil, Expr::value(Option::<i64>::None))
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.eq(j.id.uuid()))
            .filter(job::Column::LeasedBy.eq(j.worker.as_str()))
            .filter(job::Column::Attempts.eq(i32::try_from(j.attempt).unwrap_or(i32::MAX)))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn fail(&self, j: &LeasedJob, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        let now = to_ms(Utc::now());
        let error: String = error.chars().take(2000).collect();
        let mut q = job::Entity::update_many()
            .col_expr(job::Column::LastError, Expr::value(error))
            .col_expr(job::Column::LeaseUntil, Expr::value(Option::<i64>::None))
            .col_expr(job::Column::UpdatedAt, Expr::value(now));
        q = match retry_at {
            Some(at) => q
                .col_expr(job::Column::State, Expr::value(JobState::Queued.as_str()))
                .col_expr(job::Column::RunAt, Expr::value(to_ms(at))),
            // Dead-lettered: kept for an operator, and its key is free again.
            None => q
                .col_expr(job::Column::State, Expr::value(JobState::Dead.as_str()))
                .col_expr(job::Column::DedupKey, Expr::value(Option::<String>::None)),
        };
        q.filter(job::Column::Id.eq(j.id.uuid()))
            .filter(job::Column::LeasedBy.eq(j.worker.as_str()))
            .filter(job::Column::Attempts.eq(i32::try_from(j.attempt).unwrap_or(i32::MAX)))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

fn leased(m: job::Model, attempt: i32, worker: &str) -> LeasedJob {
    LeasedJob {
        id: m.id.into(),
        kind: m.kind,
        payload: m.payload,
        attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
        max_attempts: u32::try_from(m.max_attempts).unwrap_or(1),
        worker: worker.to_owned(),
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// States of the outbox, when a broker carries the jobs: `queued` (written, not yet handed
/// over), `relaying` (a relay is publishing it), `sent` (the broker has it), then `running`,
/// `done` or `dead` as in the embedded queue.
#[async_trait]
impl JobOutbox for SqlJobQueue {
    async fn take_for_relay(&self, relay: &str, lease: Duration, limit: u64) -> Result<Vec<OutboxJob>> {
        let conn = self.store.connection();
        let now = to_ms(Utc::now());
        let ready = Condition::any()
            .add(
                Condition::all().add(job::Column::State.eq(JobState::Queued.as_str())).add(job::Column::RunAt.lte(now)),
            )
            .add(
                Condition::all()
                    .add(job::Column::State.eq(JobState::Relaying.as_str()))
                    .add(job::Column::LeaseUntil.lt(now)),
            );
        let candidates = job::Entity::find()
            .filter(ready.clone())
            .order_by_asc(job::Column::RunAt)
            .limit(limit)
            .all(conn)
            .await
            .map_err(db_err)?;
        let mut taken = Vec::new();
        for c in candidates {
            // Optimistic, like `lease`: of two relays, one publishes the job.
            let won = job::Entity::update_many()
                .col_expr(job::Column::State, Expr::value(JobState::Relaying.as_str()))
                .col_expr(job::Column::LeaseUntil, Expr::value(now.saturating_add(ms(lease))))
                .col_expr(job::Column::LeasedBy, Expr::value(relay))
                .col_expr(job::Column::UpdatedAt, Expr::value(now))
                .filter(job::Column::Id.eq(c.id))
                .filter(job::Column::UpdatedAt.eq(c.updated_at))
                .filter(ready.clone())
                .exec(conn)
                .await
                .map_err(db_err)?
                .rows_affected
                == 1;
            if won {
                taken.push(OutboxJob { id: c.id.into(), run_at: from_ms(c.run_at) });
            }
        }
        Ok(taken)
    }

    async fn mark_sent(&self, id: JobId) -> Result<()> {
        let id: uuid::Uuid = id.into();
        job::Entity::update_many()
            .col_expr(job::Column::State, Expr::value(JobState::Sent.as_str()))
            .col_expr(job::Column::LeaseUntil, Expr::value(Option::<i64>::None))
            .col_expr(job::Column::LeasedBy, Expr::value(Option::<String>::None))
            .col_expr(job::Column::UpdatedAt, Expr::value(to_ms(Utc::now())))
            .filter(job::Column::Id.eq(id))
            .filter(job::Column::State.eq(JobState::Relaying.as_str()))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn claim(&self, id: JobId, worker: &str, lease: Duration) -> Result<Claim> {
        let id: uuid::Uuid = id.into();
        let conn = self.store.connection();
        for _ in 0..3 {
            let now = to_ms(Utc::now());
            let Some(c) = job::Entity::find_by_id(id).one(conn).await.map_err(db_err)? else {
                return Ok(Claim::Gone);
            };
            match JobState::parse(&c.state) {
                // A retry's time has not come: this is a stray copy (the first delivery, back
                // because its ack was lost with the connection that failed it).
                Some(JobState::Sent) if c.run_at > now => return Ok(Claim::Busy(from_ms(c.run_at))),
                // Published again by a relay that died before recording the hand-over.
                Some(JobState::Sent | JobState::Relaying) => {}
                Some(JobState::Running) if c.lease_until.is_some_and(|t| t < now) => {}
                Some(JobState::Running) => return Ok(Claim::Busy(from_ms(c.lease_until.unwrap_or(now)))),
                _ => return Ok(Claim::Gone),
            }
            let won = job::Entity::update_many()
                .col_expr(job::Column::State, Expr::value(JobState::Running.as_str()))
                .col_expr(job::Column::LeaseUntil, Expr::value(now.saturating_add(ms(lease))))
                .col_expr(job::Column::LeasedBy, Expr::value(worker))
                .col_expr(job::Column::Attempts, Expr::value(c.attempts + 1))
                .col_expr(job::Column::UpdatedAt, Expr::value(now))
                .filter(job::Column::Id.eq(id))
                .filter(job::Column::Attempts.eq(c.attempts))
                .filter(job::Column::State.eq(c.state.as_str()))
                .exec(conn)
                .await
                .map_err(db_err)?
                .rows_affected
                == 1;
            if won {
                let attempt = c.attempts + 1;
                return Ok(Claim::Won(leased(c, attempt, worker)));
            }
        }
        Ok(Claim::Busy(Utc::now() + chrono::Duration::seconds(1)))
    }

    async fn retry_later(&self, j: &LeasedJob, error: &str, retry_at: DateTime<Utc>) -> Result<()> {
        let error: String = error.chars().take(2000).collect();
        job::Entity::update_many()
            .col_expr(job::Column::State, Expr::value(JobState::Sent.as_str()))
            .col_expr(job::Column::RunAt, Expr::value(to_ms(retry_at)))
            .col_expr(job::Column::LastError, Expr::value(error))
            .col_expr(job::Column::LeaseUntil, Expr::value(Option::<i64>::None))
            .col_expr(job::Column::UpdatedAt, Expr::value(to_ms(Utc::now())))
            .filter(job::Column::Id.eq(j.id.uuid()))
            .filter(job::Column::LeasedBy.eq(j.worker.as_str()))
            .filter(job::Column::Attempts.eq(i32::try_from(j.attempt).unwrap_or(i32::MAX)))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

fn info(m: job::Model) -> Result<JobInfo> {
    let state = JobState::parse(&m.state)
        .ok_or_else(|| streamvault_core::Error::bug(format!("job {} has unknown state {:?}", m.id, m.state)))?;
    Ok(JobInfo {
        id: m.id.into(),
        kind: m.kind,
        state,
        payload: m.payload,
        attempts: u32::try_from(m.attempts).unwrap_or(0),
        max_attempts: u32::try_from(m.max_attempts).unwrap_or(0),
        run_at: from_ms(m.run_at),
        leased_by: m.leased_by,
        last_error: m.last_error,
        created_at: from_ms(m.created_at),
        updated_at: from_ms(m.updated_at),
    })
}

#[async_trait]
impl JobAdmin for SqlJobQueue {
    async fn list(&self, state: Option<JobState>, limit: u64) -> Result<Vec<JobInfo>> {
        let mut q = job::Entity::find();
        if let Some(state) = state {
            q = q.filter(job::Column::State.eq(state.as_str()));
        }
        let rows = q.order_by_desc(job::Column::Id).limit(limit).all(self.store.connection()).await.map_err(db_err)?;
        rows.into_iter().map(info).collect()
    }

    async fn get(&self, id: JobId) -> Result<Option<JobInfo>> {
        let id: uuid::Uuid = id.into();
        job::Entity::find_by_id(id).one(self.store.connection()).await.map_err(db_err)?.map(info).transpose()
    }

    async fn retry(&self, id: JobId) -> Result<bool> {
        let id: uuid::Uuid = id.into();
        let now = to_ms(Utc::now());
        let res = job::Entity::update_many()
            .col_expr(job::Column::State, Expr::value(JobState::Queued.as_str()))
            .col_expr(job::Column::RunAt, Expr::value(now))
            .col_expr(job::Column::Attempts, Expr::value(0))
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.eq(id))
            // `sent`: handed to RabbitMQ and lost there (a purged queue); sent again, and a
            // copy that still turns up finds the job claimed or done.
            .filter(job::Column::State.is_in([JobState::Dead, JobState::Queued, JobState::Sent].map(JobState::as_str)))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn purge(&self, state: JobState) -> Result<u64> {
        if !state.is_finished() {
            return Ok(0);
        }
        let res = job::Entity::delete_many()
            .filter(job::Column::State.eq(state.as_str()))
            .exec(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected)
    }

    async fn stats(&self) -> Result<QueueStats> {
        let conn = self.store.connection();
        let count = |state: JobState| job::Entity::find().filter(job::Column::State.eq(state.as_str())).count(conn);
        let now = to_ms(Utc::now());
        let oldest = job::Entity::find()
            .filter(due(now))
            .order_by_asc(job::Column::RunAt)
            .one(conn)
            .await
            .map_err(db_err)?
            .map(|j| u64::try_from((now - j.run_at).max(0) / 1000).unwrap_or(0))
            .unwrap_or(0);
        Ok(QueueStats {
            // Jobs a broker carries are waiting too.
            queued: count(JobState::Queued).await.map_err(db_err)?
                + count(JobState::Relaying).await.map_err(db_err)?
                + count(JobState::Sent).await.map_err(db_err)?,
            running: count(JobState::Running).await.map_err(db_err)?,
            dead: count(JobState::Dead).await.map_err(db_err)?,
            oldest_due_secs: oldest,
        })
    }
}
