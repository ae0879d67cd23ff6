//! Looking into the object storage a server writes to.

use std::time::Duration;

use opendal::Operator;
use streamvault_testkit::S3Target;

use super::poll::poll;
use super::{TestServer, files_under};

/// The bucket of `s3` below `root`, read directly (not through the server).
pub fn bucket(s3: &S3Target, root: &str) -> Operator {
    let b = opendal::services::S3::default()
        .bucket(&s3.bucket)
        .endpoint(&s3.endpoint)
        .region(&s3.region)
        .root(root)
        .access_key_id(&s3.access_key_id)
        .secret_access_key(&s3.secret_access_key);
    Operator::new(b).unwrap()
}

/// The keys of every object below `prefix`, sorted.
pub async fn objects(op: &Operator, prefix: &str) -> opendal::Result<Vec<String>> {
    let mut keys: Vec<String> = op
        .list_with(prefix)
        .recursive(true)
        .await?
        .into_iter()
        .filter(|e| e.metadata().is_file())
        .map(|e| e.path().to_owned())
        .collect();
    keys.sort();
    Ok(keys)
}

/// Waits until the node holds no bytes for transfer (its `holding` directory is empty),
/// checking up to `tries` times `every` apart; `false` if it never does.
pub async fn transferred(srv: &TestServer, tries: u32, every: Duration) -> bool {
    poll(tries, every, || async { files_under(&srv.data_dir().join("holding")).is_empty() }).await
}
