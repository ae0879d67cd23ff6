use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use streamvault_core::ports::HealthCheck;

use crate::observe;

#[derive(Clone)]
struct Checks(Arc<Vec<Arc<dyn HealthCheck>>>);

/// `/healthz` (the process is alive), `/readyz` (every backend it needs answers, else 503) and
/// `/metrics` (Prometheus text format).
pub fn routes(checks: Vec<Arc<dyn HealthCheck>>) -> Router {
    // Install the recorder now: what is recorded before it exists is lost.
    observe::metrics_handle();
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(observe::render_metrics))
        .with_state(Checks(Arc::new(checks)))
}

async fn readyz(State(Checks(checks)): State<Checks>) -> Response {
    let results = futures_join(&checks).await;
    let mut report = Map::new();
    let mut ready = true;
    for (name, result) in results {
        let value = match result {
            Ok(()) => Value::from("ok"),
            Err(e) => {
                ready = false;
                Value::from(e.to_string())
            }
        };
        report.insert(name.to_owned(), value);
    }
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({"status": if ready { "ready" } else { "unavailable" }, "checks": report});
    (status, Json(body)).into_response()
}

async fn futures_join(checks: &[Arc<dyn HealthCheck>]) -> Vec<(&'static str, streamvault_core::Result<()>)> {
    let mut set = tokio::task::JoinSet::new();
    for (i, c) in checks.iter().enumerate() {
        let c = c.clone();
        set.spawn(async move { (i, c.name(), c.check().await) });
    }
    let mut out: Vec<_> = set.join_all().await;
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter().map(|(_, n, r)| (n, r)).collect()
}
