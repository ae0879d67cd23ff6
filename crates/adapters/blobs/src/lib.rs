//! The blob-store port: a local directory (the default; hand-written: long ranges are mapped
//! and leave by `sendfile` ([`mapped`]), short ones are positioned reads of one chunk per poll,
//! so that a slow reader holds no buffer, see "Memory per slow client" in
//! `docs/architecture.md`), and, on Apache OpenDAL, S3-compatible object storage (Garage,
//! MinIO, Ceph RGW, AWS) and Aliyun OSS through its native service.

mod local;
pub mod mapped;
mod remote;
mod url_config;

use std::sync::Arc;

use streamvault_core::Result;
use streamvault_core::ports::{BlobStore, HealthCheck};

pub use local::LocalBlobStore;
pub use remote::RemoteBlobStore;

/// Opens the store named by `STREAMVAULT_STORAGE_URL` (`fs://`, `s3://`, `oss://`).
pub fn open(url: &str) -> Result<(Arc<dyn BlobStore>, Arc<dyn HealthCheck>)> {
    install_http_transport();
    match url_config::parse(url)? {
        url_config::Target::Local(root) => {
            let store = Arc::new(LocalBlobStore::new(root)?);
            Ok((store.clone(), store))
        }
        url_config::Target::Remote(op) => {
            let store = Arc::new(RemoteBlobStore::new(op));
            Ok((store.clone(), store))
        }
    }
}

/// OpenDAL without its default features has no HTTP transport until one is installed, and
/// reqwest without a default TLS provider needs rustls on `ring` (no aws-lc: a minute of build
/// each time, which `.ci/run` refuses).
pub fn install_http_transport() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        opendal_http_transport_reqwest::install_default();
    });
}
