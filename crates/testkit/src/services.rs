use std::time::Duration;

use tokio::net::TcpStream;

/// True when running under CI, where every backend must be present.
pub fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false)
}

/// Whether the service at `addr` accepts TCP connections. Returns `false` to skip on a
/// developer's machine and panics under CI.
pub async fn require(service: &str, addr: &str) -> bool {
    let up = matches!(tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(addr)).await, Ok(Ok(_)));
    if !up {
        assert!(!in_ci(), "{service} at {addr} is required under CI but does not answer");
        eprintln!("SKIP: {service} at {addr} does not answer; start it to run this test");
    }
    up
}

/// The Redis to test against (`STREAMVAULT_TEST_REDIS_URL`, default the local one), or `None`
/// to skip.
pub async fn redis_url() -> Option<String> {
    let url = std::env::var("STREAMVAULT_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let addr = url.trim_start_matches("redis://").trim_end_matches('/').to_owned();
    require("Redis", &addr).await.then_some(url)
}

/// The RabbitMQ to test against (`STREAMVAULT_TEST_AMQP_URL`, default the local one) with a
/// queue prefix of its own, or `None` to skip.
pub async fn amqp_url() -> Option<String> {
    let url =
        std::env::var("STREAMVAULT_TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let addr = url.split('@').next_back().unwrap_or_default().split('/').next().unwrap_or_default().to_owned();
    let sep = if url.contains('?') { '&' } else { '?' };
    require("RabbitMQ", &addr).await.then(|| format!("{url}{sep}prefix={}", unique_name("t")))
}

/// A name no other test (or earlier run) uses: usernames, database names, key prefixes.
pub fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    // The random tail, not the timestamp head: names made in the same millisecond differ.
    format!("{prefix}{}", &id[20..])
}

/// An HTTP client for tests. reqwest is built without a default TLS provider here (aws-lc
/// would add a minute to every build; `.ci/run` refuses it), so install `ring` first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
