use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use opendal::layers::{RetryLayer, TimeoutLayer};
use opendal::{Operator, services};
use streamvault_core::{Error, Result};
use url::Url;

pub(crate) enum Target {
    Local(PathBuf),
    Remote(Operator),
}

fn bad(msg: impl Into<String>) -> Error {
    Error::retry_later(format!("STREAMVAULT_STORAGE_URL: {}", msg.into()))
}

/// `fs:///abs/path`, `fs://./rel/path`;
/// `s3://bucket?endpoint=http://host:3900&region=garage[&root=prefix][&access_key_id=…&secret_access_key=…][&virtual_host_style=true]`
/// (credentials otherwise from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` and the usual AWS
/// configuration); `oss://bucket?endpoint=https://oss-cn-hangzhou.aliyuncs.com[&root=prefix]`
/// (credentials otherwise from `ALIBABA_CLOUD_ACCESS_KEY_ID`/`ALIBABA_CLOUD_ACCESS_KEY_SECRET`).
pub(crate) fn parse(raw: &str) -> Result<Target> {
    if let Some(path) = raw.strip_prefix("fs://") {
        if path.is_empty() {
            return Err(bad("fs:// needs a directory"));
        }
        return Ok(Target::Local(PathBuf::from(path)));
    }
    let url = Url::parse(raw).map_err(|e| bad(e.to_string()))?;
    let bucket = url.host_str().filter(|b| !b.is_empty()).ok_or_else(|| bad("the bucket is missing"))?.to_owned();
    let q: HashMap<String, String> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let root = q.get("root").map(String::as_str).unwrap_or("/");
    let op = match url.scheme() {
        "s3" => {
            let mut b = services::S3::default().bucket(&bucket).root(root);
            if let Some(e) = q.get("endpoint") {
                b = b.endpoint(e);
            }
            b = b.region(q.get("region").map(String::as_str).unwrap_or("us-east-1"));
            if let (Some(id), Some(secret)) = (q.get("access_key_id"), q.get("secret_access_key")) {
                b = b.access_key_id(id).secret_access_key(secret);
            }
            if q.get("virtual_host_style").is_some_and(|v| v == "true") {
                b = b.enable_virtual_host_style();
            }
            Operator::new(b).map_err(|e| bad(e.to_string()))?
        }
        "oss" => {
            let mut b = services::Oss::default().bucket(&bucket).root(root);
            let endpoint = q.get("endpoint").ok_or_else(|| bad("oss:// needs endpoint=…"))?;
            b = b.endpoint(endpoint);
            if let (Some(id), Some(secret)) = (q.get("access_key_id"), q.get("access_key_secret")) {
                b = b.access_key_id(id).access_key_secret(secret);
            }
            Operator::new(b).map_err(|e| bad(e.to_string()))?
        }
        other => return Err(bad(format!("unsupported scheme {other:?}"))),
    };
    // Transient network errors are retried, briefly (a player waits on them); a store that is
    // down or hung fails within seconds, as a 503, instead of hanging a request.
    let op = op
        .layer(TimeoutLayer::new().with_timeout(Duration::from_secs(30)).with_io_timeout(Duration::from_secs(10)))
        .layer(
            RetryLayer::new()
                .with_max_times(2)
                .with_min_delay(Duration::from_millis(200))
                .with_max_delay(Duration::from_secs(2))
                .with_jitter(),
        );
    Ok(Target::Remote(op))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(url: &str) -> Operator {
        match parse(url) {
            Ok(Target::Remote(op)) => op,
            Ok(Target::Local(p)) => panic!("{url} parsed as local {}", p.display()),
            Err(e) => panic!("{url}: {e}"),
        }
    }

    #[test]
    fn s3_and_oss_urls_configure_their_services() {
        let op = remote("s3://media?endpoint=http://127.0.0.1:3900&region=garage&root=/sv/");
        let info = op.info();
        assert_eq!((info.scheme(), info.name().as_str(), info.root().as_str()), ("s3", "media", "/sv/"));

        // Aliyun OSS, the seeds' store, through OpenDAL's native service.
        let op =
            remote("oss://vault?endpoint=https://oss-cn-hangzhou.aliyuncs.com&access_key_id=id&access_key_secret=s");
        let info = op.info();
        assert_eq!((info.scheme(), info.name().as_str()), ("oss", "vault"));
        assert!(info.capability().presign_read, "OSS playback can redirect to presigned URLs");
    }

    #[test]
    fn local_and_bad_urls() {
        assert!(
            matches!(parse("fs://./data/blobs"), Ok(Target::Local(p)) if p == std::path::Path::new("./data/blobs"))
        );
        for bad in ["fs://", "s3://", "oss://vault", "ftp://host/x", "not a url"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
