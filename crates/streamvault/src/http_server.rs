//! The accept loop: hyper with settings `axum::serve` does not expose.
//!
//! hyper buffers up to `max_buf_size` of a response per connection (about 400 KiB by default)
//! while the client is slow to read; a thousand slow video viewers would hold 400 MiB. The cap
//! here is below one read chunk, so hyper stops pulling from the body once a chunk is queued
//! and a stalled connection holds about one chunk (measured: ~100 KiB per slow client, see
//! tests/stream_memory.rs). It also bounds a request head to 32 KiB. HTTP/2 is served too
//! (h2c, or behind a TLS-terminating proxy).

use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

const MAX_BUF: usize = 32 * 1024;

/// Serves `router` on `listener` until `stop` turns true, then waits for open connections to
/// finish their in-flight requests (the caller bounds how long).
pub(crate) async fn serve(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_buf_size(MAX_BUF)
        .timer(TokioTimer::new())
        // A client that never finishes its request head does not hold a connection forever.
        .header_read_timeout(Duration::from_secs(30));
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(router.clone());
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = async { let _ = stop.wait_for(|s| *s).await; } => break,
        }
    }
    drop(listener);
    graceful.shutdown().await;
}
