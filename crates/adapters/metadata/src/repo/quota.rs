//! The quota counter (`users.used_bytes`), the holds of uploads in flight, and blob reference
//! counts: the statements that move them inside other repositories' transactions.
//!
//! Lock order, everywhere: the user's row first (every transaction that touches a user's
//! holds or counter starts by updating it, which also serialises its folder-tree changes),
//! then holds, then blob rows. SQLite takes its one write lock at that first update.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use streamvault_core::ids::UserId;
use streamvault_core::ports::{Charge, QuotaLedger};
use streamvault_core::{Error, Result};
use uuid::Uuid;

use super::{i64_of, to_ms};
use crate::MetadataStore;
use crate::entity::{blob, quota_hold, user};
use crate::error::db_err;

/// Takes the user's row lock (a no-op write) in `txn`; `NotFound("user")` when it is gone.
pub(crate) async fn lock_user(txn: &impl ConnectionTrait, owner: Uuid) -> Result<()> {
    let res = user::Entity::update_many()
        .col_expr(user::Column::UsedBytes, Expr::col(user::Column::UsedBytes).add(0i64))
        .filter(user::Column::Id.eq(owner))
        .exec(txn)
        .await
        .map_err(db_err)?;
    if res.rows_affected == 0 { Err(Error::NotFound("user")) } else { Ok(()) }
}

/// Takes the user's row lock and bumps their folder-tree revision: the lock every change to
/// the folder tree (and every file placed in a folder) takes first.
pub(crate) async fn lock_tree(txn: &impl ConnectionTrait, owner: Uuid) -> Result<()> {
    let res = user::Entity::update_many()
        .col_expr(user::Column::DriveRev, Expr::col(user::Column::DriveRev).add(1i64))
        .filter(user::Column::Id.eq(owner))
        .exec(txn)
        .await
        .map_err(db_err)?;
    if res.rows_affected == 0 { Err(Error::NotFound("user")) } else { Ok(()) }
}

/// Adds `delta` to the user's counter; with `limit`, only if the result stays within it.
/// `false` when it would not.
async fn add_used(txn: &impl ConnectionTrait, owner: Uuid, delta: i64, limit: Option<u64>) -> Result<bool> {
    let mut q = user::Entity::update_many()
        .col_expr(user::Column::UsedBytes, Expr::col(user::Column::UsedBytes).add(delta))
        .filter(user::Column::Id.eq(owner));
    if let (Some(limit), true) = (limit, delta > 0) {
        q = q.filter(Expr::col(user::Column::UsedBytes).add(delta).lte(i64_of(limit)));
    }
    Ok(q.exec(txn).await.map_err(db_err)?.rows_affected == 1)
}

/// Charges `size` bytes to `owner` in `txn` (whose user row is locked): the holds in `charge`
/// go, and the difference is added to the counter; `TooLarge` past the limit.
pub(crate) async fn charge(txn: &impl ConnectionTrait, owner: Uuid, charge: &Charge, size: u64) -> Result<()> {
    let mut held: i64 = 0;
    if !charge.holds.is_empty() {
        let rows = quota_hold::Entity::find()
            .filter(quota_hold::Column::Id.is_in(charge.holds.clone()))
            .filter(quota_hold::Column::OwnerId.eq(owner))
            .lock_exclusive()
            .all(txn)
            .await
            .map_err(db_err)?;
        held = rows.iter().map(|h| h.bytes).sum();
        quota_hold::Entity::delete_many()
            .filter(quota_hold::Column::Id.is_in(rows.iter().map(|h| h.id).collect::<Vec<_>>()))
            .exec(txn)
            .await
            .map_err(db_err)?;
    }
    let delta = i64_of(size) - held;
    if delta != 0 && !add_used(txn, owner, delta, charge.limit).await? {
        return Err(Error::TooLarge(format!(
            "the upload does not fit in the quota of {} bytes",
            charge.limit.unwrap_or_default()
        )));
    }
    Ok(())
}

/// Gives `size` bytes back to `owner` (a file or a video deleted).
pub(crate) async fn refund(txn: &impl ConnectionTrait, owner: Uuid, size: u64) -> Result<()> {
    add_used(txn, owner, -i64_of(size), None).await.map(|_| ())
}

/// Counts a new reference on a live blob; `false` when the blob is gone or being collected.
pub(crate) async fn add_ref(txn: &impl ConnectionTrait, sha256: &str) -> Result<bool> {
    let res = blob::Entity::update_many()
        .col_expr(blob::Column::Refs, Expr::col(blob::Column::Refs).add(1i64))
        .filter(blob::Column::Sha256.eq(sha256))
        .filter(blob::Column::State.eq(super::blobs::LIVE))
        .exec(txn)
        .await
        .map_err(db_err)?;
    Ok(res.rows_affected == 1)
}

/// A reference to the blob went for good.
pub(crate) async fn drop_ref(txn: &impl ConnectionTrait, sha256: &str) -> Result<()> {
    blob::Entity::update_many()
        .col_expr(blob::Column::Refs, Expr::col(blob::Column::Refs).sub(1i64))
        .filter(blob::Column::Sha256.eq(sha256))
        .filter(blob::Column::Refs.gt(0i64))
        .exec(txn)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[derive(Clone)]
pub struct SqlQuotaLedger {
    store: MetadataStore,
}

impl SqlQuotaLedger {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }
}

impl SqlQuotaLedger {
    /// Deletes a hold (only if it expired before `expired_before`, when given) and takes its
    /// bytes off its owner's counter, in one transaction; `true` when it went.
    async fn let_go(&self, hold: Uuid, expired_before: Option<i64>) -> Result<bool> {
        let conn = self.store.connection();
        let Some(h) = quota_hold::Entity::find_by_id(hold).one(conn).await.map_err(db_err)? else { return Ok(false) };
        let txn = self.store.begin().await?;
        lock_user(&txn, h.owner_id).await?;
        let mut delete = quota_hold::Entity::delete_many().filter(quota_hold::Column::Id.eq(hold));
        if let Some(before) = expired_before {
            delete = delete.filter(quota_hold::Column::ExpiresAt.lt(before));
        }
        // The bytes as they are now, under the user's lock (the hold may have grown).
        let bytes: Option<i64> = quota_hold::Entity::find_by_id(hold)
            .select_only()
            .column(quota_hold::Column::Bytes)
            .into_tuple()
            .one(&txn)
            .await
            .map_err(db_err)?;
        let gone = delete.exec(&txn).await.map_err(db_err)?.rows_affected == 1;
        if gone {
            add_used(&txn, h.owner_id, -bytes.unwrap_or(h.bytes), None).await?;
        }
        txn.commit().await.map_err(db_err)?;
        Ok(gone)
    }
}

#[async_trait]
impl QuotaLedger for SqlQuotaLedger {
    async fn reserve(
        &self,
        hold: Uuid,
        owner: UserId,
        bytes: u64,
        limit: Option<u64>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let owner: Uuid = owner.into();
        let txn = self.store.begin().await?;
        lock_user(&txn, owner).await?;
        let existing = quota_hold::Entity::find_by_id(hold).one(&txn).await.map_err(db_err)?;
        let have = existing.as_ref().map_or(0, |h| h.bytes);
        let want = i64_of(bytes);
        if want > have && !add_used(&txn, owner, want - have, limit).await? {
            txn.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        let expires_at = expires_at.map(to_ms);
        match existing {
            Some(h) => {
                let mut am: quota_hold::ActiveModel = h.into();
                am.bytes = Set(Ord::max(want, have));
                am.expires_at = Set(expires_at);
                am.update(&txn).await.map_err(db_err)?;
            }
            None => {
                quota_hold::ActiveModel {
                    id: Set(hold),
                    owner_id: Set(owner),
                    bytes: Set(want),
                    expires_at: Set(expires_at),
                    created_at: Set(to_ms(Utc::now())),
                }
                .insert(&txn)
                .await
                .map_err(db_err)?;
            }
        }
        txn.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn settle(&self, hold: Uuid, owner: UserId, bytes: u64) -> Result<()> {
        let owner: Uuid = owner.into();
        if bytes == 0 {
            return self.let_go(hold, None).await.map(|_| ());
        }
        let txn = self.store.begin().await?;
        lock_user(&txn, owner).await?;
        // Only a hold that is still there: one let go meanwhile (its upload terminated or
        // expired while a stalled append ran on) stays gone.
        let Some(existing) = quota_hold::Entity::find_by_id(hold).one(&txn).await.map_err(db_err)? else {
            return Ok(());
        };
        let want = i64_of(bytes);
        add_used(&txn, owner, want - existing.bytes, None).await?;
        let mut am: quota_hold::ActiveModel = existing.into();
        am.bytes = Set(want);
        am.update(&txn).await.map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn release(&self, hold: Uuid) -> Result<()> {
        self.let_go(hold, None).await.map(|_| ())
    }

    async fn reap_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        let expired: Vec<Uuid> = quota_hold::Entity::find()
            .select_only()
            .column(quota_hold::Column::Id)
            .filter(quota_hold::Column::ExpiresAt.lt(to_ms(now)))
            .limit(1000)
            .into_tuple()
            .all(self.store.connection())
            .await
            .map_err(db_err)?;
        let mut n = 0;
        for id in expired {
            // One by one, each in its own transaction with its owner's counter; one renewed
            // meanwhile stays.
            n += u64::from(self.let_go(id, Some(to_ms(now))).await?);
        }
        Ok(n)
    }

    async fn used(&self, owner: UserId) -> Result<u64> {
        let owner: Uuid = owner.into();
        let used: Option<i64> = user::Entity::find_by_id(owner)
            .select_only()
            .column(user::Column::UsedBytes)
            .into_tuple()
            .one(self.store.connection())
            .await
            .map_err(db_err)?;
        Ok(used.map_or(0, |u| u64::try_from(u).unwrap_or(0)))
    }
}
