//! Waiting for what the server does in the background (workers, transfers, expiry).

use std::future::Future;
use std::time::Duration;

/// Checks `done` up to `tries` times, sleeping `every` after each miss; whether it came true.
pub async fn poll<F, Fut>(tries: u32, every: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..tries {
        if done().await {
            return true;
        }
        tokio::time::sleep(every).await;
    }
    false
}

/// [`poll`], failing the test with `what` when `done` never comes true.
pub async fn eventually<F, Fut>(what: &str, tries: u32, every: Duration, done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    assert!(poll(tries, every, done).await, "not within {tries} checks {every:?} apart: {what}");
}
