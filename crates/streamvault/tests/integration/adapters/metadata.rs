//! The repository test-suite, on a fresh database of each backend.

use std::sync::Arc;

use streamvault_metadata::{MetadataStore, SqlJobQueue, SqlQuotaLedger, SqlSessionStore, SqlUploadRepo, SqlUserRepo};
use streamvault_testkit::{Backend, TestDb, contract, per_backend};

async fn store(db: &TestDb) -> MetadataStore {
    let store = MetadataStore::connect(&db.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    store
}

async fn users(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let store = store(&db).await;
    contract::user_repo(Arc::new(SqlUserRepo::new(store.clone()))).await;
    store.close().await;
    db.drop_db().await;
}

async fn sessions(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let store = store(&db).await;
    contract::session_store(Arc::new(SqlSessionStore::new(store.clone())), Arc::new(SqlUserRepo::new(store.clone())))
        .await;
    store.close().await;
    db.drop_db().await;
}

/// Migrations are versioned and idempotent: a second run (a restart) applies nothing.
async fn migrations(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let store = store(&db).await;
    store.migrate().await.unwrap();
    let status = store.migration_status().await.unwrap();
    assert!(!status.is_empty());
    assert!(status.iter().all(|(_, applied)| *applied), "{status:?}");
    store.close().await;
    db.drop_db().await;
}

async fn jobs(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let store = store(&db).await;
    contract::job_queue(Arc::new(SqlJobQueue::new(store.clone()))).await;
    contract::job_leases(Arc::new(SqlJobQueue::new(store.clone()))).await;
    store.close().await;
    db.drop_db().await;
}

async fn quota(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let store = store(&db).await;
    contract::quota_ledger(Arc::new(SqlQuotaLedger::new(store.clone())), Arc::new(SqlUserRepo::new(store.clone())))
        .await;
    store.close().await;
    db.drop_db().await;
}

async fn upload_lock(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let store = store(&db).await;
    contract::upload_lock(Arc::new(SqlUploadRepo::new(store.clone())), Arc::new(SqlUserRepo::new(store.clone()))).await;
    store.close().await;
    db.drop_db().await;
}

per_backend!(users, sessions, migrations, jobs, quota, upload_lock);
