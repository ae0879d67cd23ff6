use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use streamvault_core::ports::HealthCheck;

use crate::observe;

#[derive(Clone)]
struct Checks {
    checks: Arc<Vec<Arc<dyn HealthCheck>>>,
    admin_token: Option<Arc<str>>,
}

/// `/healthz` (the process is alive), `/readyz` (every backend it needs answers, else 503) and
/// `/metrics` (Prometheus text format). Which backend failed, and how (file paths, server
/// messages), is for operators: `/readyz` reports it only with the admin token.
pub fn routes(checks: Vec<Arc<dyn HealthCheck>>, admin_token: Option<Arc<str>>) -> Router {
    // Install the recorder now: what is recorded before it exists is lost.
    observe::metrics_handle();
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(observe::render_metrics))
        .with_state(Checks { checks: Arc::new(checks), admin_token })
}

async fn readyz(State(Checks { checks, admin_token }): State<Checks>, headers: HeaderMap) -> Response {
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
    let mut body = json!({"status": if ready { "ready" } else { "unavailable" }});
    let report = Value::Object(report);
    if crate::operator::check(&headers, admin_token.as_deref()).is_ok() {
        body["checks"] = report;
    } else if !ready {
        tracing::warn!(checks = %report, "not ready");
    }
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
