use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use opendal::Operator;
use streamvault_core::ports::{BlobStore, ByteStream, HealthCheck};
use streamvault_core::{Error, Result};
use tokio::io::AsyncReadExt;

/// Part size for multipart uploads to object storage (S3 allows 5 MiB to 5 GiB).
const PART: usize = 8 * 1024 * 1024;
/// Ranged reads from object storage are fetched in pieces of this size.
const READ_CHUNK: usize = 1024 * 1024;

/// Blobs in object storage (S3-compatible or Aliyun OSS) through OpenDAL.
pub struct RemoteBlobStore {
    op: Operator,
}

fn dal_err(e: opendal::Error) -> Error {
    if e.kind() == opendal::ErrorKind::NotFound {
        Error::NotFound("blob")
    } else {
        Error::unavailable("object storage", e)
    }
}

impl RemoteBlobStore {
    pub fn new(op: Operator) -> Self {
        Self { op }
    }
}

#[async_trait]
impl BlobStore for RemoteBlobStore {
    fn is_remote(&self) -> bool {
        true
    }

    async fn exists(&self, key: &str) -> Result<bool> {
        self.op.exists(key).await.map_err(dal_err)
    }

    async fn size(&self, key: &str) -> Result<Option<u64>> {
        match self.op.stat(key).await {
            Ok(meta) => Ok(Some(meta.content_length())),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(dal_err(e)),
        }
    }

    async fn put_file(&self, key: &str, src: &Path, _size: u64, content_type: &str) -> Result<()> {
        let mut file = tokio::fs::File::open(src).await.map_err(|e| Error::unavailable("staging file", e))?;
        let mut w =
            self.op.writer_with(key).chunk(PART).concurrent(4).content_type(content_type).await.map_err(dal_err)?;
        let mut buf = vec![0u8; PART];
        loop {
            let n = file.read(&mut buf).await.map_err(|e| Error::unavailable("staging file", e))?;
            if n == 0 {
                break;
            }
            if let Err(e) = w.write(buf[..n].to_vec()).await {
                let _ = w.abort().await;
                return Err(dal_err(e));
            }
        }
        w.close().await.map_err(dal_err)?;
        Ok(())
    }

    async fn read(&self, key: &str, range: Range<u64>) -> Result<ByteStream> {
        let reader = self.op.reader_with(key).chunk(READ_CHUNK).await.map_err(dal_err)?;
        let stream = reader.into_bytes_stream(range).await.map_err(dal_err)?;
        Ok(Box::pin(stream.map_err(std::io::Error::other)))
    }

    async fn presign_get(
        &self,
        key: &str,
        ttl: Duration,
        content_type: &str,
        disposition: Option<&str>,
    ) -> Result<Option<String>> {
        let mut req = self.op.presign_read_with(key, ttl).override_content_type(content_type);
        if let Some(d) = disposition {
            req = req.override_content_disposition(d);
        }
        let signed = req.await.map_err(dal_err)?;
        Ok(Some(signed.uri().to_string()))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.op.delete(key).await.map_err(dal_err)
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        self.op.delete_with(prefix).recursive(true).await.map_err(dal_err)
    }
}

#[async_trait]
impl HealthCheck for RemoteBlobStore {
    fn name(&self) -> &'static str {
        "storage"
    }

    async fn check(&self) -> Result<()> {
        match tokio::time::timeout(Duration::from_secs(3), self.op.check()).await {
            Ok(r) => r.map_err(dal_err),
            Err(_) => Err(Error::retry_later("object storage: check timed out")),
        }
    }
}
