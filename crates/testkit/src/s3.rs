use std::collections::HashMap;

use crate::services::require;
use crate::unique_name;

/// An S3 bucket to test against: Garage on loopback, started by `deploy/local/garage.sh up`
/// (which `.ci/run` calls), or whatever `STREAMVAULT_TEST_S3_*` names.
#[derive(Debug, Clone)]
pub struct S3Target {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl S3Target {
    /// Reads the target, or returns `None` (skip) outside CI when there is none.
    pub async fn find() -> Option<S3Target> {
        let mut vars: HashMap<String, String> =
            std::env::vars().filter(|(k, _)| k.starts_with("STREAMVAULT_TEST_S3_")).collect();
        if !vars.contains_key("STREAMVAULT_TEST_S3_ENDPOINT") {
            let dir = std::env::var("STREAMVAULT_GARAGE_DIR")
                .unwrap_or_else(|_| format!("{}/.cache/streamvault-garage", std::env::var("HOME").unwrap_or_default()));
            if let Ok(text) = std::fs::read_to_string(format!("{dir}/env")) {
                for line in text.lines() {
                    if let Some((k, v)) = line.split_once('=') {
                        vars.insert(k.trim().to_owned(), v.trim().to_owned());
                    }
                }
            }
        }
        let endpoint =
            vars.get("STREAMVAULT_TEST_S3_ENDPOINT").cloned().unwrap_or_else(|| "http://127.0.0.1:3900".into());
        let addr = endpoint.trim_start_matches("http://").trim_end_matches('/').to_owned();
        if !require("Garage (S3)", &addr).await {
            return None;
        }
        let get = |k: &str| vars.get(&format!("STREAMVAULT_TEST_S3_{k}")).cloned();
        let (Some(access_key_id), Some(secret_access_key)) = (get("ACCESS_KEY_ID"), get("SECRET_ACCESS_KEY")) else {
            panic!("Garage answers at {addr} but no credentials: run deploy/local/garage.sh up");
        };
        Some(S3Target {
            endpoint,
            region: get("REGION").unwrap_or_else(|| "garage".into()),
            bucket: get("BUCKET").unwrap_or_else(|| "streamvault".into()),
            access_key_id,
            secret_access_key,
        })
    }

    /// A `STREAMVAULT_STORAGE_URL` for this bucket under a prefix of its own.
    pub fn storage_url(&self, root: &str) -> String {
        format!(
            "s3://{}?endpoint={}&region={}&root={}&access_key_id={}&secret_access_key={}",
            self.bucket, self.endpoint, self.region, root, self.access_key_id, self.secret_access_key
        )
    }

    /// A fresh prefix, so tests sharing the bucket do not see each other's objects.
    pub fn unique_root(&self) -> String {
        format!("/{}/", unique_name("t"))
    }
}
