//! The accept loop: hyper with settings `axum::serve` does not expose.
//!
//! - hyper buffers up to `max_buf_size` of a response per connection (about 400 KiB by default)
//!   while the client is slow to read; a thousand slow video viewers would hold 400 MiB. The cap
//!   here is below one read chunk, so hyper stops pulling from the body once a chunk is queued
//!   and a stalled connection holds about one chunk (measured: ~100 KiB per slow client, see
//!   tests/stream_memory.rs). It also bounds a request head to 32 KiB.
//! - A client must send its request head within the header timeout (slowloris), and a write
//!   that stays blocked for the write timeout (a client that stopped reading its download) ends
//!   the connection, which frees its stream slot. (A stalled request body is timed out on the
//!   body itself, see `App::router`: a read timeout on the socket would also fire during a long
//!   download, while hyper watches the socket for the client going away.)
//! - Mapped blob bytes in a response leave by `sendfile` ([`crate::zero_copy`]).
//! - Every request carries its connection's peer address (`ConnectInfo`), for the client
//!   address resolution of `streamvault_http::client`.
//!
//! HTTP/2 is served too (h2c, or behind a TLS-terminating proxy).

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_io_timeout::TimeoutStream;
use tower_http::add_extension::AddExtension;

#[cfg(target_os = "linux")]
use crate::zero_copy::ZeroCopy;

const MAX_BUF: usize = 32 * 1024;

/// The connection-level timeouts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub header: Duration,
    pub write: Duration,
}

/// Serves `router` on `listener` until `stop` turns true, then waits for open connections to
/// finish their in-flight requests (the caller bounds how long).
pub(crate) async fn serve(listener: TcpListener, router: Router, timeouts: Timeouts, mut stop: watch::Receiver<bool>) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().max_buf_size(MAX_BUF).timer(TokioTimer::new()).header_read_timeout(timeouts.header);
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // `sendfile` of mapped blob bytes is Linux's; elsewhere the bytes are written.
                #[cfg(target_os = "linux")]
                let stream = ZeroCopy::new(stream);
                let mut io = TimeoutStream::new(stream);
                io.set_write_timeout(Some(timeouts.write));
                let service = TowerToHyperService::new(AddExtension::new(router.clone(), ConnectInfo::<SocketAddr>(peer)));
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(Box::pin(io)), service).into_owned();
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
