//! Who the client is: its address, and the public origin it reached us at.
//!
//! The peer of the connection is the client, unless it is one of the trusted proxies
//! (`STREAMVAULT_TRUSTED_PROXIES`): then the forwarding headers it added say who is behind it.
//! `X-Forwarded-For` is read from the right (the hop the trusted proxy appended) leftwards, past
//! every further trusted proxy, to the first address that is not one: anything to its left was
//! written by the client and proves nothing. A client's own `X-Forwarded-For`, sent straight to
//! us, is never read.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use streamvault_config::net::{TrustedProxies, canonical};

/// What the request's connection and trusted proxies say about the client; set on every
/// request by [`middleware`] (absent when the request did not come over a connection, as in
/// tests that call the router directly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOrigin {
    pub addr: IpAddr,
    /// The scheme and host the client used (`https`, `video.example`): from the trusted
    /// proxy's headers, or this connection's (`http` and its `Host`).
    pub scheme: String,
    pub host: Option<String>,
}

impl ClientOrigin {
    /// The address as a key for per-client limits: an IPv6 client stands for its /64, which
    /// one subscriber holds entirely.
    pub fn key(&self) -> String {
        match self.addr {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        }
    }

    /// `scheme://host`, the origin absolute URLs handed to this client start with.
    pub fn base_url(&self) -> Option<String> {
        self.host.as_ref().map(|h| format!("{}://{h}", self.scheme))
    }
}

/// Resolves the client of every request (see the module's documentation).
pub async fn middleware(State(trusted): State<Arc<TrustedProxies>>, mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let origin = resolve(peer.ip(), req.headers(), &trusted);
        req.extensions_mut().insert(origin);
    }
    next.run(req).await
}

pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> ClientOrigin {
    let peer = canonical(peer);
    let host = header(headers, "host").map(str::to_owned);
    if !trusted.contains(peer) {
        return ClientOrigin { addr: peer, scheme: "http".into(), host };
    }
    let forwarded = parse_forwarded(headers);
    let hops: Vec<String> = if forwarded.iter().any(|f| f.r#for.is_some()) {
        forwarded.iter().filter_map(|f| f.r#for.clone()).collect()
    } else {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .collect()
    };
    let mut addr = peer;
    for hop in hops.iter().rev() {
        match parse_addr(hop) {
            Some(ip) if trusted.contains(ip) => addr = ip,
            Some(ip) => {
                addr = ip;
                break;
            }
            // An unreadable hop: nothing to its left can be believed.
            None => break,
        }
    }
    // The scheme and host the outermost trusted proxy saw.
    let first = forwarded.first();
    let scheme = first
        .and_then(|f| f.proto.clone())
        .or_else(|| header(headers, "x-forwarded-proto").map(|p| p.split(',').next().unwrap_or(p).trim().to_owned()))
        .filter(|p| p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("http"))
        .map_or_else(|| "http".to_owned(), |p| p.to_ascii_lowercase());
    let host = first
        .and_then(|f| f.host.clone())
        .or_else(|| header(headers, "x-forwarded-host").map(|h| h.split(',').next().unwrap_or(h).trim().to_owned()))
        .filter(|h| valid_host(h))
        .or(host);
    ClientOrigin { addr, scheme, host }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A host (and port) as it may appear in a URL: no path, userinfo or spaces.
fn valid_host(h: &str) -> bool {
    !h.is_empty() && h.len() <= 255 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

/// An address as forwarding headers write it: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:80`, `::1`,
/// `"[::1]"` (RFC 7239 quotes IPv6).
fn parse_addr(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    let inner = s.strip_prefix('[').and_then(|r| r.split(']').next())?;
    inner.parse::<IpAddr>().ok().map(canonical)
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Forwarded {
    r#for: Option<String>,
    proto: Option<String>,
    host: Option<String>,
}

/// RFC 7239 `Forwarded`: elements separated by commas (across header lines), pairs by `;`.
fn parse_forwarded(headers: &HeaderMap) -> Vec<Forwarded> {
    let mut out = Vec::new();
    for value in headers.get_all("forwarded").iter().filter_map(|v| v.to_str().ok()) {
        for element in value.split(',') {
            let mut f = Forwarded::default();
            for pair in element.split(';') {
                let Some((k, v)) = pair.split_once('=') else { continue };
                let v = v.trim().trim_matches('"').to_owned();
                match k.trim().to_ascii_lowercase().as_str() {
                    "for" => f.r#for = Some(v),
                    "proto" => f.proto = Some(v),
                    "host" => f.host = Some(v),
                    _ => {}
                }
            }
            out.push(f);
        }
    }
    out
}

/// The client of the request, when it came over a connection.
pub struct Client(pub Option<ClientOrigin>);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(parts.extensions.get::<ClientOrigin>().cloned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let t = TrustedProxies::parse("10.0.0.1").unwrap();
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=2.2.2.2;proto=https"), ("host", "a:1")]);
        let o = resolve(ip("9.9.9.9"), &h, &t);
        assert_eq!(o.addr, ip("9.9.9.9"));
        assert_eq!(o.base_url().as_deref(), Some("http://a:1"));
        let none = TrustedProxies::default();
        assert_eq!(resolve(ip("9.9.9.9"), &h, &none).addr, ip("9.9.9.9"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_spoofed_hops_are_skipped() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // The client sent "6.6.6.6" itself; the proxy appended the real peer.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 5.5.5.5"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "video.example"),
        ]);
        let o = resolve(ip("10.0.0.2"), &h, &t);
        assert_eq!(o.addr, ip("5.5.5.5"));
        assert_eq!(o.base_url().as_deref(), Some("https://video.example"));
        // Two trusted proxies in a row.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 5.5.5.5, 10.1.1.1")]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &t).addr, ip("5.5.5.5"));
        // Over several header lines, and RFC 7239.
        let h = headers(&[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "5.5.5.5")]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &t).addr, ip("5.5.5.5"));
        let h = headers(&[("forwarded", "for=6.6.6.6, for=\"[2001:db8::1]:443\";proto=https;host=v.example")]);
        let o = resolve(ip("10.0.0.2"), &h, &t);
        assert_eq!(o.addr, ip("2001:db8::1"));
        assert_eq!(o.key(), "2001:db8::/64");
        // Garbage stops the walk at the last trusted hop; a bad host is ignored.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, nonsense"), ("x-forwarded-host", "evil/path"), ("host", "h")]);
        let o = resolve(ip("10.0.0.2"), &h, &t);
        assert_eq!(o.addr, ip("10.0.0.2"));
        assert_eq!(o.host.as_deref(), Some("h"));
        // v4-mapped peers.
        assert_eq!(resolve(ip("::ffff:10.0.0.2"), &headers(&[("x-forwarded-for", "5.5.5.5")]), &t).addr, ip("5.5.5.5"));
    }
}
