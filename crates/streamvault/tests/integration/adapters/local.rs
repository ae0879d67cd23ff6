//! The in-process adapters and the blob stores, held to the contracts their scale-out
//! counterparts meet: a local directory and object storage (Garage); the login throttle, the
//! event bus and viewer counts of a single replica.

use std::sync::Arc;

use streamvault_testkit::{S3Target, contract};

#[tokio::test]
async fn local_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = streamvault_blobs::open(&format!("fs://{}", dir.path().join("blobs").display())).unwrap();
    contract::blob_store(store, dir.path()).await;
}

#[tokio::test]
async fn object_storage() {
    let Some(s3) = S3Target::find().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = streamvault_blobs::open(&s3.storage_url(&s3.unique_root())).unwrap();
    contract::blob_store(store, dir.path()).await;
}

#[tokio::test]
async fn local_event_bus() {
    let bus = Arc::new(streamvault_local::LocalBus::new());
    contract::event_bus(bus.clone(), bus).await;
}

#[tokio::test]
async fn local_viewer_registry() {
    let viewers = Arc::new(streamvault_local::LocalViewers::new());
    contract::viewer_registry(viewers.clone(), viewers).await;
}

#[tokio::test]
async fn local_stamps() {
    let stamps = Arc::new(streamvault_local::LocalStamps::new());
    contract::stamps(stamps.clone(), stamps).await;
}

#[tokio::test]
async fn local_login_throttle() {
    // One process: both handles are the same counts.
    let t = Arc::new(streamvault_local::LocalLoginThrottle::new());
    contract::login_throttle(t.clone(), t).await;
}
