use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use streamvault_core::ports::HealthCheck;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
    documented().with_state(Checks { checks: Arc::new(checks), admin_token }).into()
}

fn documented() -> OpenApiRouter<Checks> {
    OpenApiRouter::new()
        .routes(crate::routes::at("GET", "/healthz", routes!(healthz)))
        .routes(crate::routes::at("GET", "/readyz", routes!(readyz)))
        .routes(crate::routes::at("GET", "/metrics", routes!(metrics)))
}

/// This part of the site's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

/// The process's answer to a probe.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Status {
    /// `ok`; `/readyz`: `ready` or `unavailable`.
    status: String,
    /// `/readyz` with the admin token: each backend, `ok` or what went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<std::collections::BTreeMap<String, String>>,
}

/// The process is alive (a liveness probe).
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Status)))]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Every backend this process needs answers (a readiness probe). Which one failed, and how, is
/// reported only to operators (the admin token); anyone else gets the bare status.
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "operations",
    security((), ("admin" = [])),
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "A backend does not answer", body = Status),
    ))]
async fn readyz(State(Checks { checks, admin_token }): State<Checks>, headers: HeaderMap) -> Response {
    let results = futures_join(&checks).await;
    let mut report = Map::new();
    let mut ready = true;
    for (name, result) in results {
        let value = match result {
            Ok(()) => Value::from("ok"),
            Err(e) => {
                ready = false;
                Value::from(e.report())
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

/// Counters, gauges and histograms in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "operations",
    responses((status = 200, description = "The metrics", content_type = "text/plain; version=0.0.4", body = String)))]
async fn metrics() -> Response {
    observe::render_metrics().await
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
