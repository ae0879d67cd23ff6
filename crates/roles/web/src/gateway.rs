//! The gateway (split mode): the web role forwards `/api/` and `/stream/` to their pools, so a
//! browser talks to one origin. Round robin over the upstreams that pass their health check
//! (`GET /healthz` every 2 s), bodies streamed both ways (an upload or a video never sits in
//! memory), every end-to-end header passed on (Range, conditionals, cookies, CSRF token), and
//! redirects (presigned object-storage URLs) handed to the client, not followed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures::TryStreamExt;
use streamvault_http::ClientOrigin;
use tokio::sync::watch;
use tokio::task::JoinHandle;

const CHECK_EVERY: Duration = Duration::from_secs(2);

/// Headers that describe one hop, not the message (RFC 9110 §7.6.1), and `host`.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

struct Upstream {
    base: String,
    healthy: AtomicBool,
}

/// One role's replicas.
struct Pool {
    role: &'static str,
    upstreams: Vec<Upstream>,
    next: AtomicUsize,
}

impl Pool {
    fn new(role: &'static str, bases: &[String]) -> Option<Arc<Pool>> {
        let upstreams: Vec<Upstream> = bases
            .iter()
            .map(|b| Upstream { base: b.trim_end_matches('/').to_owned(), healthy: AtomicBool::new(true) })
            .collect();
        (!upstreams.is_empty()).then(|| Arc::new(Pool { role, upstreams, next: AtomicUsize::new(0) }))
    }

    /// Upstreams in the order to try: round robin from the next healthy one; unhealthy ones
    /// last (a pool that looks all down is still tried: the check may be behind).
    fn order(&self) -> Vec<&Upstream> {
        let n = self.upstreams.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let ring = (0..n).map(|i| &self.upstreams[(start + i) % n]);
        let (up, down): (Vec<_>, Vec<_>) = ring.partition(|u| u.healthy.load(Ordering::Relaxed));
        up.into_iter().chain(down).collect()
    }
}

#[derive(Clone)]
pub struct Gateway {
    api: Option<Arc<Pool>>,
    stream: Option<Arc<Pool>>,
    client: reqwest::Client,
}

impl Gateway {
    /// A gateway for the pools given (an empty list: that role is served here, or elsewhere).
    pub fn new(api: &[String], stream: &[String]) -> Option<Gateway> {
        let (api, stream) = (Pool::new("api", api), Pool::new("stream", stream));
        if api.is_none() && stream.is_none() {
            return None;
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .ok()?;
        Some(Gateway { api, stream, client })
    }

    pub fn router(self) -> Router {
        let mut r = Router::new();
        if let Some(pool) = &self.api {
            let s = (self.client.clone(), pool.clone());
            r = r.route("/api/{*rest}", any(forward).with_state(s.clone())).route("/api", any(forward).with_state(s));
        }
        if let Some(pool) = &self.stream {
            let s = (self.client.clone(), pool.clone());
            r = r.route("/stream/{*rest}", any(forward).with_state(s));
        }
        r
    }

    /// Checks every upstream's `/healthz` until `stop`.
    pub fn spawn_health_checks(&self, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
        let pools: Vec<Arc<Pool>> = [self.api.clone(), self.stream.clone()].into_iter().flatten().collect();
        let client = self.client.clone();
        tokio::spawn(async move {
            loop {
                for pool in &pools {
                    for u in &pool.upstreams {
                        let ok = client
                            .get(format!("{}/healthz", u.base))
                            .timeout(Duration::from_secs(1))
                            .send()
                            .await
                            .is_ok_and(|r| r.status().is_success());
                        if u.healthy.swap(ok, Ordering::Relaxed) != ok {
                            tracing::warn!(role = pool.role, upstream = %u.base, healthy = ok, "upstream health changed");
                        }
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(CHECK_EVERY) => {}
                    _ = stop.changed() => return,
                }
            }
        })
    }
}

fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    // `Connection` may name more hop-by-hop headers.
    let named: Vec<String> = headers
        .get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::with_capacity(headers.len());
    for (k, v) in headers {
        let name = k.as_str();
        if !HOP_BY_HOP.contains(&name) && !named.iter().any(|n| n == name) {
            out.append(k.clone(), v.clone());
        }
    }
    out
}

/// The request's path and query as an upstream will route it: dot segments (`..`, `%2e%2e`)
/// resolved the way every URL parser on the way resolves them. `None` when that leaves the
/// pool's prefix: the gateway forwards `/api/` and `/stream/`, nothing else an upstream has.
fn forwarded_path(uri: &axum::http::Uri, prefix: &str) -> Option<String> {
    let raw = uri.path_and_query().map_or("/", |p| p.as_str());
    let base = url::Url::parse("http://gateway.invalid/").ok()?;
    let u = base.join(raw).ok()?;
    if u.origin() != base.origin() {
        return None;
    }
    let path = u.path();
    if path != prefix.trim_end_matches('/') && !path.starts_with(prefix) {
        return None;
    }
    Some(match u.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    })
}

/// What the upstream is told about the client, in place of whatever the client said: the
/// address and origin this gateway resolved (through its own trusted proxies). The upstreams
/// trust the gateway, so nothing the client wrote itself may pass through.
fn forwarding(headers: &mut HeaderMap, origin: Option<&ClientOrigin>, fallback_host: Option<&HeaderValue>) {
    for name in ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"] {
        headers.remove(name);
    }
    let Some(o) = origin else {
        if let Some(host) = fallback_host {
            headers.insert(HeaderName::from_static("x-forwarded-host"), host.clone());
        }
        return;
    };
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set("x-forwarded-for", o.addr.to_string());
    set("x-forwarded-proto", o.scheme.clone());
    let node = match o.addr {
        std::net::IpAddr::V6(v6) => format!("\"[{v6}]\""),
        v4 => v4.to_string(),
    };
    let mut fwd = format!("for={node};proto={}", o.scheme);
    if let Some(host) = &o.host {
        set("x-forwarded-host", host.clone());
        fwd.push_str(&format!(";host=\"{host}\""));
    }
    set("forwarded", fwd);
}

async fn forward(State((client, pool)): State<(reqwest::Client, Arc<Pool>)>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let prefix = if pool.role == "api" { "/api/" } else { "/stream/" };
    let Some(path) = forwarded_path(&parts.uri, prefix) else {
        return (StatusCode::NOT_FOUND, [("content-type", "application/json")], NOT_FORWARDED).into_response();
    };
    let mut headers = end_to_end(&parts.headers);
    forwarding(&mut headers, parts.extensions.get::<ClientOrigin>(), parts.headers.get("host"));
    // A request without a body can go to the next upstream if the first cannot be reached;
    // a streamed body cannot be replayed.
    let replayable = parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD;
    let mut body = Some(body);
    for u in pool.order() {
        let mut rb = client.request(parts.method.clone(), format!("{}{path}", u.base)).headers(headers.clone());
        if !replayable && let Some(b) = body.take() {
            rb = rb.body(reqwest::Body::wrap_stream(b.into_data_stream()));
        }
        match rb.send().await {
            Ok(res) => return relay(res),
            Err(e) if e.is_connect() && replayable => {
                u.healthy.store(false, Ordering::Relaxed);
                tracing::warn!(role = pool.role, upstream = %u.base, error = %e, "upstream unreachable; trying the next");
            }
            Err(e) => {
                tracing::warn!(role = pool.role, upstream = %u.base, error = %e, "upstream failed");
                if e.is_connect() {
                    u.healthy.store(false, Ordering::Relaxed);
                }
                return unavailable(pool.role);
            }
        }
    }
    unavailable(pool.role)
}

fn relay(res: reqwest::Response) -> Response {
    let status = res.status();
    let headers = end_to_end(res.headers());
    let mut out = Response::new(Body::from_stream(res.bytes_stream().map_err(std::io::Error::other)));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}

const NOT_FORWARDED: &str = r#"{"error":"route not found","error_code":"not_found"}"#;

fn unavailable(role: &str) -> Response {
    let body = serde_json_error(role);
    (StatusCode::BAD_GATEWAY, [("content-type", "application/json"), ("retry-after", "2")], body).into_response()
}

fn serde_json_error(role: &str) -> String {
    format!(r#"{{"error":"no {role} replica answered","error_code":"upstream_unavailable"}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_prefers_healthy_upstreams() {
        let pool = Pool::new("api", &["http://a".into(), "http://b/".into(), "http://c".into()]).unwrap();
        let firsts: Vec<String> = (0..3).map(|_| pool.order()[0].base.clone()).collect();
        assert_eq!(firsts, ["http://a", "http://b", "http://c"]);
        pool.upstreams[1].healthy.store(false, Ordering::Relaxed);
        for _ in 0..4 {
            let order = pool.order();
            assert_ne!(order[0].base, "http://b");
            assert_eq!(order.last().unwrap().base, "http://b", "the unhealthy one last");
        }
    }

    #[test]
    fn paths_are_normalised_and_kept_inside_the_prefix() {
        let p = |s: &str, prefix: &str| forwarded_path(&s.parse().unwrap(), prefix);
        assert_eq!(p("/api/v1/me?x=1", "/api/").as_deref(), Some("/api/v1/me?x=1"));
        assert_eq!(p("/api/v1/../v1/me", "/api/").as_deref(), Some("/api/v1/me"));
        assert_eq!(p("/api", "/api/").as_deref(), Some("/api"));
        for bad in [
            "/api/../user/x",
            "/api/%2e%2e/metrics",
            "/api/%2E%2e/readyz",
            "/api/v1/../../healthz",
            "/stream/../api/v1/me",
        ] {
            assert_eq!(p(bad, if bad.starts_with("/stream") { "/stream/" } else { "/api/" }), None, "{bad}");
        }
        assert_eq!(
            p("/stream/v1/files/%2e%2e%2fx", "/stream/").as_deref(),
            Some("/stream/v1/files/%2e%2e%2fx"),
            "an encoded slash is not a separator"
        );
    }

    #[test]
    fn the_client_cannot_speak_for_the_gateway() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6".parse().unwrap());
        h.insert("forwarded", "for=6.6.6.6".parse().unwrap());
        let o =
            ClientOrigin { addr: "5.5.5.5".parse().unwrap(), scheme: "https".into(), host: Some("v.example".into()) };
        forwarding(&mut h, Some(&o), None);
        assert_eq!(h["x-forwarded-for"], "5.5.5.5");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(h["x-forwarded-host"], "v.example");
        assert_eq!(h["forwarded"], "for=5.5.5.5;proto=https;host=\"v.example\"");
    }

    #[test]
    fn strips_hop_by_hop_headers_and_those_connection_names() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "close, x-trace"),
            ("x-trace", "1"),
            ("range", "bytes=0-1"),
            ("host", "a"),
            ("cookie", "c=1"),
        ] {
            h.append(HeaderName::from_static(k), v.parse().unwrap());
        }
        let out = end_to_end(&h);
        assert!(out.get("range").is_some() && out.get("cookie").is_some());
        assert!(out.get("connection").is_none() && out.get("x-trace").is_none() && out.get("host").is_none());
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::forwarded_path;

    /// Paths built from the pieces that normalisation is about: dot segments plain and
    /// percent-encoded in any case, backslashes, doubled slashes, encoded slashes.
    fn path() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "/", "//", "\\", "..", ".", "%2e", "%2E", "%2e%2e", ".%2e", "%2e.", "%2E%2e", "%2f", "%5c", "api",
            "stream", "v1", "me", "metrics", "?", "#", "%", ";", "@", ":", "x",
        ]);
        prop_oneof![
            prop::collection::vec(piece.clone(), 0..12).prop_map(|p| format!("/{}", p.concat())),
            prop::collection::vec(piece.clone(), 0..12).prop_map(|p| format!("/api/{}", p.concat())),
            prop::collection::vec(piece, 0..12).prop_map(|p| format!("/stream/{}", p.concat())),
            "/[ -~]{0,40}",
            "\\PC{0,40}",
        ]
    }

    /// A dot segment, as a URL parser reads one.
    fn is_dot(segment: &str) -> bool {
        let s = segment.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".."
    }

    proptest! {
        /// Whatever the request's path, forwarding never panics, and what is forwarded is inside
        /// the pool's prefix, has no dot segment left, and is what an upstream's URL parser reads
        /// it as (normalising it again changes nothing).
        #[test]
        fn forwarded_paths_stay_inside_the_prefix(
            raw in path(),
            prefix in prop::sample::select(vec!["/api/", "/stream/"]),
        ) {
            let Ok(uri) = raw.parse::<axum::http::Uri>() else { return Ok(()) };
            let Some(out) = forwarded_path(&uri, prefix) else { return Ok(()) };
            let (path, query) = out.split_once('?').map_or((out.as_str(), None), |(p, q)| (p, Some(q)));
            prop_assert!(path.starts_with(prefix) || path == prefix.trim_end_matches('/'), "{:?} -> {:?}", raw, out);
            prop_assert!(!path.split('/').any(is_dot), "{:?} -> {:?}", raw, out);
            let dotted = path.contains("/../") || path.contains("/./") || path.contains('\\');
            prop_assert!(!dotted, "{:?} -> {:?}", raw, out);
            // The upstream (reqwest, then its router) parses `base + out` again.
            let again = url::Url::parse(&format!("http://upstream.invalid{out}"))
                .map_err(|e| TestCaseError::fail(format!("{raw:?} -> {out:?}: {e}")))?;
            prop_assert_eq!(again.path(), path, "{:?}", raw);
            prop_assert_eq!(again.query(), query, "{:?}", raw);
        }
    }
}
