//! The blob stores against their real backends: a local directory and object storage
//! (Garage), held to one contract.

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
async fn local_login_throttle() {
    // One process: both handles are the same counts.
    let t = Arc::new(streamvault_local::LocalLoginThrottle::new());
    contract::login_throttle(t.clone(), t).await;
}
