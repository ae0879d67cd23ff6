//! Per-request observability: a request id, one structured log line, and Prometheus metrics
//! (`http_requests_total`, `http_request_duration_seconds`, `http_requests_in_flight`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Gauge, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::{Instrument, Level};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once; later calls reuse it).
pub fn metrics_handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("http_request_duration_seconds".into()), &buckets)
            .expect("bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Only fails if another recorder was installed first, in which case ours stays unused
        // and /metrics shows what this handle saw (nothing): harmless, and cannot happen in
        // the binary.
        let _ = metrics::set_global_recorder(recorder);
        // Histogram samples wait in a bucket until upkeep folds them in; without a scrape to
        // do it they would pile up for the life of the process (8 bytes per request).
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no metrics upkeep thread: histograms are folded in only when scraped");
        }
        handle
    })
}

/// How often histogram samples are folded in when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

pub async fn render_metrics() -> Response {
    let handle = metrics_handle();
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response()
}

/// Accepts a caller's request id when it is short and printable (a load balancer's), else
/// makes one (encoded on the stack: one allocation, the header's own).
fn request_id(req: &Request) -> HeaderValue {
    req.headers()
        .get(&REQUEST_ID)
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.as_bytes().iter().all(u8::is_ascii_graphic))
        .cloned()
        .unwrap_or_else(|| {
            let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
            HeaderValue::from_bytes(uuid::Uuid::now_v7().hyphenated().encode_lower(&mut buf).as_bytes())
                .expect("a uuid is a header value")
        })
}

/// A method as a metric label: the standard ones by name, any other (a client may send any
/// token) as one label, so that callers cannot make series without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// The handles of one route and method: its duration, and its count per status.
struct MethodHandles {
    method: &'static str,
    duration: Histogram,
    requests: Vec<(u16, Counter)>,
}

impl MethodHandles {
    fn record(&mut self, route: &str, status: u16, seconds: f64) {
        self.duration.record(seconds);
        if let Some((_, c)) = self.requests.iter().find(|(s, _)| *s == status) {
            c.increment(1);
            return;
        }
        let labels = [("method", self.method.to_owned()), ("route", route.to_owned()), ("status", status.to_string())];
        let c = metrics::counter!("http_requests_total", &labels);
        c.increment(1);
        self.requests.push((status, c));
    }
}

thread_local! {
    /// Each worker thread's metric handles by route template (a bounded set: the routes, and
    /// "unmatched"). Looking a series up in the registry costs a key built from owned labels
    /// and a locked map; a request here costs a hash of its route.
    static HANDLES: RefCell<HashMap<Box<str>, Vec<MethodHandles>>> = {
        // Handles taken before the recorder is installed would count into nothing.
        metrics_handle();
        RefCell::default()
    };
}

fn record(method: &'static str, route: &str, status: u16, seconds: f64) {
    HANDLES.with_borrow_mut(|routes| {
        let on = |methods: &mut Vec<MethodHandles>| match methods.iter_mut().find(|m| m.method == method) {
            Some(m) => m.record(route, status, seconds),
            None => {
                let labels = [("method", method.to_owned()), ("route", route.to_owned())];
                let duration = metrics::histogram!("http_request_duration_seconds", &labels);
                let mut m = MethodHandles { method, duration, requests: Vec::new() };
                m.record(route, status, seconds);
                methods.push(m);
            }
        };
        if let Some(methods) = routes.get_mut(route) {
            return on(methods);
        }
        let mut methods = Vec::new();
        on(&mut methods);
        routes.insert(route.into(), methods);
    });
}

/// The gauge `name`, kept in `cell` once taken: a hot path then skips the registry lookup.
/// Taken after the recorder is installed, which a handle taken before would never reach.
pub fn kept_gauge(cell: &'static OnceLock<Gauge>, name: &'static str) -> &'static Gauge {
    cell.get_or_init(|| {
        metrics_handle();
        metrics::gauge!(name)
    })
}

fn in_flight() -> &'static Gauge {
    static IN_FLIGHT: OnceLock<Gauge> = OnceLock::new();
    kept_gauge(&IN_FLIGHT, "http_requests_in_flight")
}

pub async fn middleware(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = request_id(&req);
    let method = method_label(req.method());
    // The route template, not the path, keeps metric cardinality bounded.
    let route = req.extensions().get::<MatchedPath>().cloned();
    // The access log's own copies, only when it is written.
    let logged = tracing::enabled!(Level::INFO).then(|| (req.method().clone(), req.uri().clone()));

    in_flight().increment(1.0);
    let span = tracing::info_span!("request", request_id = id.to_str().unwrap_or_default());
    let mut res = next.run(req).instrument(span.clone()).await;
    in_flight().decrement(1.0);

    let status = res.status().as_u16();
    let elapsed = start.elapsed();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    record(method, route, status, elapsed.as_secs_f64());
    if let Some((method, uri)) = logged {
        span.in_scope(|| {
            tracing::info!(
                method = %method,
                path = uri.path(),
                route,
                status,
                latency_ms = elapsed.as_secs_f64() * 1000.0,
                "request"
            );
        });
    }
    res.headers_mut().insert(REQUEST_ID, id);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_every_thread_add_up_in_one_series_and_methods_stay_bounded() {
        let route = "/test/counts";
        let threads: Vec<_> =
            (0..3).map(|_| std::thread::spawn(move || (0..5).for_each(|_| record("GET", route, 200, 0.001)))).collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        record("GET", route, 404, 0.001);
        for made_up in ["FOO", "PROPFIND", "X-ANYTHING"] {
            record(method_label(&Method::from_bytes(made_up.as_bytes()).unwrap()), route, 405, 0.001);
        }
        metrics_handle().run_upkeep();
        let text = metrics_handle().render();
        for line in [
            r#"http_requests_total{method="GET",route="/test/counts",status="200"} 15"#,
            r#"http_requests_total{method="GET",route="/test/counts",status="404"} 1"#,
            r#"http_requests_total{method="OTHER",route="/test/counts",status="405"} 3"#,
            r#"http_request_duration_seconds_count{method="GET",route="/test/counts"} 16"#,
        ] {
            assert!(text.lines().any(|l| l == line), "no {line} in:\n{text}");
        }
        assert!(!text.contains("FOO") && !text.contains("PROPFIND"), "{text}");
    }

    #[test]
    fn a_proxys_request_id_is_kept_and_anything_else_replaced() {
        let with = |v: &str| {
            let req = Request::builder().header(REQUEST_ID, v).body(axum::body::Body::empty()).unwrap();
            request_id(&req)
        };
        assert_eq!(with("lb-1234"), "lb-1234");
        for bad in ["", "has space", &"x".repeat(65)] {
            let id = with(bad);
            assert!(uuid::Uuid::parse_str(id.to_str().unwrap()).is_ok(), "{bad:?} gave {id:?}");
        }
    }
}
