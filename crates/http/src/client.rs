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
use streamvault_config::net::{Proxies, ProxyHeaders, canonical};

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
        match self.limit_addr() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("{v6}/64"),
        }
    }

    /// The same as an address (an IPv6 client's /64 with the rest zero): a key that costs no
    /// allocation, for limits kept in this process.
    pub fn limit_addr(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        }
    }

    /// `scheme://host`, the origin absolute URLs handed to this client start with.
    pub fn base_url(&self) -> Option<String> {
        self.host.as_ref().map(|h| format!("{}://{h}", self.scheme))
    }
}

/// Resolves the client of every request (see the module's documentation).
pub async fn middleware(State(proxies): State<Arc<Proxies>>, mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let origin = resolve(peer.ip(), req.headers(), &proxies);
        req.extensions_mut().insert(origin);
    }
    next.run(req).await
}

/// One hop as a trusted proxy recorded it: the address it got the request from, and the
/// scheme and host that request used (when the header family says).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Hop {
    r#for: Option<String>,
    proto: Option<String>,
    host: Option<String>,
}

pub fn resolve(peer: IpAddr, headers: &HeaderMap, proxies: &Proxies) -> ClientOrigin {
    let peer = canonical(peer);
    let host = header(headers, "host").map(str::to_owned);
    if !proxies.trusted.contains(peer) {
        return ClientOrigin { addr: peer, scheme: "http".into(), host };
    }
    // Walk from the right (the hop the peer appended) leftwards past trusted proxies: the first
    // untrusted address is the client, and the hop that names it was written by a trusted
    // proxy, so its scheme and host are the ones the client used. Anything further left was
    // written by the client.
    let hops = match proxies.headers {
        ProxyHeaders::Forwarded => parse_forwarded(headers),
        ProxyHeaders::XForwarded => x_forwarded(headers),
    };
    let mut addr = peer;
    let mut origin_hop = None;
    for hop in hops.iter().rev() {
        match hop.r#for.as_deref().and_then(parse_addr) {
            Some(ip) if proxies.trusted.contains(ip) => {
                addr = ip;
                origin_hop = Some(hop);
            }
            Some(ip) => {
                addr = ip;
                origin_hop = Some(hop);
                break;
            }
            // An unreadable hop: nothing to its left can be believed.
            None => break,
        }
    }
    let scheme = origin_hop
        .and_then(|h| h.proto.clone())
        .filter(|p| p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("http"))
        .map_or_else(|| "http".to_owned(), |p| p.to_ascii_lowercase());
    let host = origin_hop.and_then(|h| h.host.clone()).filter(|h| valid_host(h)).or(host);
    ClientOrigin { addr, scheme, host }
}

/// `X-Forwarded-For` as hops. `X-Forwarded-Proto` and `-Host` carry one value per request in
/// practice (nginx sets, not appends, them): the rightmost is the nearest proxy's, and it goes
/// with the client's hop, which that proxy's chain of trusted proxies vouched for.
fn x_forwarded(headers: &HeaderMap) -> Vec<Hop> {
    let last = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (proto, host) = (last("x-forwarded-proto"), last("x-forwarded-host"));
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| Hop { r#for: Some(h.to_owned()), proto: proto.clone(), host: host.clone() })
        .collect()
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

/// RFC 7239 `Forwarded`: elements separated by commas (across header lines), pairs by `;`.
fn parse_forwarded(headers: &HeaderMap) -> Vec<Hop> {
    let mut out = Vec::new();
    for value in headers.get_all("forwarded").iter().filter_map(|v| v.to_str().ok()) {
        for element in value.split(',') {
            let mut f = Hop::default();
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
    use streamvault_config::net::TrustedProxies;

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

    fn proxies(list: &str, headers: ProxyHeaders) -> Proxies {
        Proxies { trusted: TrustedProxies::parse(list).unwrap(), headers }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let t = proxies("10.0.0.1", ProxyHeaders::XForwarded);
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=2.2.2.2;proto=https"), ("host", "a:1")]);
        let o = resolve(ip("9.9.9.9"), &h, &t);
        assert_eq!(o.addr, ip("9.9.9.9"));
        assert_eq!(o.base_url().as_deref(), Some("http://a:1"));
        let none = Proxies::default();
        assert_eq!(resolve(ip("9.9.9.9"), &h, &none).addr, ip("9.9.9.9"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_spoofed_hops_are_skipped() {
        let t = proxies("10.0.0.0/8", ProxyHeaders::XForwarded);
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
        // Over several header lines.
        let h = headers(&[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "5.5.5.5")]);
        assert_eq!(resolve(ip("10.0.0.2"), &h, &t).addr, ip("5.5.5.5"));
        // Garbage stops the walk at the last trusted hop; a bad host is ignored.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, nonsense"), ("x-forwarded-host", "evil/path"), ("host", "h")]);
        let o = resolve(ip("10.0.0.2"), &h, &t);
        assert_eq!(o.addr, ip("10.0.0.2"));
        assert_eq!(o.host.as_deref(), Some("h"));
        // v4-mapped peers.
        assert_eq!(resolve(ip("::ffff:10.0.0.2"), &headers(&[("x-forwarded-for", "5.5.5.5")]), &t).addr, ip("5.5.5.5"));
    }

    /// The family the proxies do not write is never read: nginx passes a client's `Forwarded`
    /// on untouched, and a client must not name its own address or the site's host with it.
    #[test]
    fn the_other_header_family_is_the_clients_and_ignored() {
        let t = proxies("10.0.0.0/8", ProxyHeaders::XForwarded);
        let h = headers(&[
            ("forwarded", "for=203.0.113.7;proto=http;host=evil.example"),
            ("x-forwarded-for", "5.5.5.5"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "video.example"),
        ]);
        let o = resolve(ip("10.0.0.2"), &h, &t);
        assert_eq!((o.addr, o.base_url().as_deref()), (ip("5.5.5.5"), Some("https://video.example")));

        // RFC 7239 proxies: a client's X-Forwarded-For is ignored, and the scheme and host
        // come from the element naming the client (a trusted proxy wrote it), not from an
        // element the client wrote further left.
        let t = proxies("10.0.0.0/8", ProxyHeaders::Forwarded);
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.7"),
            (
                "forwarded",
                "for=6.6.6.6;host=evil.example;proto=http, for=\"[2001:db8::1]:443\";proto=https;host=v.example",
            ),
        ]);
        let o = resolve(ip("10.0.0.2"), &h, &t);
        assert_eq!(o.addr, ip("2001:db8::1"));
        assert_eq!(o.key(), "2001:db8::/64");
        assert_eq!(o.base_url().as_deref(), Some("https://v.example"));
    }
}

#[cfg(test)]
mod fuzz {
    use std::collections::HashSet;
    use std::net::{IpAddr, SocketAddr};

    use axum::http::{HeaderMap, HeaderValue};
    use proptest::prelude::*;
    use streamvault_config::net::{Proxies, ProxyHeaders, TrustedProxies, canonical};

    use super::resolve;

    /// Addresses that overlap (blocks, v4-mapped v6), so that hops are often trusted.
    const POOL: &[&str] = &[
        "10.0.0.1",
        "10.0.0.2",
        "10.1.2.3",
        "192.168.1.7",
        "1.2.3.4",
        "5.5.5.5",
        "::1",
        "2001:db8::1",
        "2001:db8::2",
        "fe80::1",
        "::ffff:10.0.0.1",
        "::ffff:5.5.5.5",
    ];

    fn addr() -> impl Strategy<Value = IpAddr> {
        prop::sample::select(POOL).prop_filter_map("an address", |s| s.parse::<IpAddr>().ok())
    }

    /// Pool addresses, some widened to a block, as `STREAMVAULT_TRUSTED_PROXIES` lists them.
    fn nets() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec((addr(), prop::option::of(0u8..=128)), 0..4).prop_map(|nets| {
            nets.iter()
                .map(|(ip, len)| match len {
                    Some(len) => format!("{ip}/{}", len % if ip.is_ipv4() { 33 } else { 129 }),
                    None => ip.to_string(),
                })
                .collect()
        })
    }

    fn trusted() -> impl Strategy<Value = TrustedProxies> {
        nets().prop_filter_map("a trusted set", |list| TrustedProxies::parse(&list.join(",")).ok())
    }

    fn family() -> impl Strategy<Value = ProxyHeaders> {
        prop_oneof![Just(ProxyHeaders::XForwarded), Just(ProxyHeaders::Forwarded)]
    }

    /// One hop as forwarding headers write it, or junk.
    fn hop() -> impl Strategy<Value = String> {
        prop_oneof![
            addr().prop_map(|ip| ip.to_string()),
            (addr(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port).to_string()),
            addr().prop_map(|ip| format!("\"[{ip}]\"")),
            addr().prop_map(|ip| format!("[{ip}]")),
            "[ -~]{0,12}",
            "[0-9a-f.:\\[\\]\"]{0,16}",
        ]
    }

    fn header_value(max: usize) -> impl Strategy<Value = HeaderValue> {
        prop::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..=0x7e, 0x80u8..=0xff], 0..max)
            .prop_filter_map("a valid header value", |b| HeaderValue::from_bytes(&b).ok())
    }

    /// A forwarding header: a list of hops (RFC 7239 elements for `Forwarded`), or raw bytes.
    fn forwarding(rfc7239: bool) -> impl Strategy<Value = HeaderValue> {
        let element = (hop(), prop::option::of("[ -~]{0,8}"), prop::option::of("[ -~]{0,8}")).prop_map(
            move |(hop, proto, host)| {
                if !rfc7239 {
                    return hop;
                }
                let mut e = format!("for={hop}");
                if let Some(p) = proto {
                    e.push_str(&format!(";proto={p}"));
                }
                if let Some(h) = host {
                    e.push_str(&format!(";Host={h}"));
                }
                e
            },
        );
        prop_oneof![
            prop::collection::vec(element, 0..5)
                .prop_filter_map("a valid header value", |hops| HeaderValue::from_str(&hops.join(", ")).ok()),
            header_value(60),
        ]
    }

    /// Every address written anywhere in these header values (any substring that reads as one).
    fn mentioned(values: &[&HeaderValue]) -> HashSet<IpAddr> {
        let mut out = HashSet::new();
        for v in values {
            let Ok(s) = v.to_str() else { continue };
            for i in 0..s.len() {
                for j in i + 1..=s.len().min(i + 46) {
                    if let Ok(ip) = s[i..j].parse::<IpAddr>() {
                        out.insert(canonical(ip));
                    }
                }
            }
        }
        out
    }

    proptest! {
        /// Arbitrary forwarding headers and trusted sets never panic; an untrusted peer is the
        /// client whatever it says; a forwarded client is an address some header wrote; the
        /// scheme is http or https, and a host that is not the request's is a bare host.
        #[test]
        fn resolving_any_forwarding_headers_never_panics(
            peer in prop_oneof![
                addr(),
                any::<[u8; 4]>().prop_map(IpAddr::from),
                any::<[u8; 16]>().prop_map(IpAddr::from),
            ],
            trusted in prop_oneof![Just(TrustedProxies::default()), trusted()],
            family in family(),
            xff in prop::collection::vec(forwarding(false), 0..3),
            fwd in prop::collection::vec(forwarding(true), 0..3),
            proto in prop::option::of(prop_oneof![text("(https?|HTTPS|ftp)(, ?https?)?"), header_value(12)]),
            xhost in prop::option::of(prop_oneof![text("[ -~]{0,20}"), header_value(20)]),
            host in prop::option::of(text("[a-z0-9.:\\-]{1,20}")),
        ) {
            let mut h = HeaderMap::new();
            for v in &xff {
                h.append("x-forwarded-for", v.clone());
            }
            for v in &fwd {
                h.append("forwarded", v.clone());
            }
            if let Some(v) = proto {
                h.insert("x-forwarded-proto", v);
            }
            if let Some(v) = xhost {
                h.insert("x-forwarded-host", v);
            }
            if let Some(v) = &host {
                h.insert("host", v.clone());
            }
            let o = resolve(peer, &h, &Proxies { trusted: trusted.clone(), headers: family });
            let peer = canonical(peer);
            let host = host.as_ref().and_then(|v| v.to_str().ok());
            prop_assert!(o.scheme == "http" || o.scheme == "https", "{:?}", o.scheme);
            if !trusted.contains(peer) {
                prop_assert_eq!(o.addr, peer);
                prop_assert_eq!(o.scheme.as_str(), "http");
                prop_assert_eq!(o.host.as_deref(), host);
            } else if o.addr != peer {
                // Only the family the proxies write names the client.
                let written: Vec<&HeaderValue> =
                    if family == ProxyHeaders::Forwarded { fwd.iter().collect() } else { xff.iter().collect() };
                prop_assert!(mentioned(&written).contains(&o.addr), "{} is in no header: {:?}", o.addr, h);
            }
            if let Some(got) = o.host.as_deref().filter(|g| Some(*g) != host) {
                let bare = got.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b));
                prop_assert!(bare && !got.is_empty() && got.len() <= 255, "{:?}", got);
            }
        }

        /// Behind a trusted proxy, `X-Forwarded-For` of plain addresses is read from the right,
        /// past trusted hops, to the first untrusted one (the leftmost when all are trusted).
        #[test]
        fn the_client_is_the_rightmost_untrusted_hop(
            peer in addr(),
            others in nets(),
            hops in prop::collection::vec(addr(), 0..6),
            lines in 1usize..3,
        ) {
            // The peer is listed among the trusted proxies (a v4-mapped entry matches nothing,
            // as peers are compared in their IPv4 form).
            let list = format!("{peer},{}", others.join(","));
            let trusted = TrustedProxies::parse(&list).map_err(TestCaseError::fail)?;
            let mut h = HeaderMap::new();
            for chunk in hops.chunks(hops.len().div_ceil(lines).max(1)) {
                let line: Vec<String> = chunk.iter().map(ToString::to_string).collect();
                let value = HeaderValue::from_str(&line.join(", ")).map_err(|e| TestCaseError::fail(e.to_string()))?;
                h.append("x-forwarded-for", value);
            }
            let hops: Vec<IpAddr> = hops.into_iter().map(canonical).collect();
            let walked = hops.iter().rev().find(|ip| !trusted.contains(**ip)).or(hops.first()).copied();
            let expected = if trusted.contains(peer) { walked.unwrap_or(canonical(peer)) } else { canonical(peer) };
            let proxies = Proxies { trusted: trusted.clone(), headers: ProxyHeaders::XForwarded };
            prop_assert_eq!(resolve(peer, &h, &proxies).addr, expected);
        }
    }

    fn text(pattern: &'static str) -> impl Strategy<Value = HeaderValue> {
        pattern.prop_filter_map("a valid header value", |s| HeaderValue::from_str(&s).ok())
    }
}
