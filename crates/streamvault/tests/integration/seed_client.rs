//! The seed's own web client, unchanged, against the api role (its `:8000`) and the stream role
//! (its `:9000`): every request exactly as its page script (jQuery) and its Go web server send
//! them. The Go server forwards API calls as `POST /api` envelopes, copying every browser
//! header onto the upstream request (the `session` and `username` cookies its script set, its
//! `X-Session-Id`, the form-urlencoded `Content-Type` jQuery used for the envelope) and hands
//! back only status and body; uploads and playback it reverse-proxies as they are, cookies and
//! the browser's `Host` and `Origin` included.

use reqwest::header::{CONTENT_TYPE, COOKIE, HOST, ORIGIN, RANGE};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use streamvault_testkit::{Backend, TestDb, per_backend};

use crate::common::{TestServer, fake_mp4, user};

/// The browser's view: the Go web server's host, and the cookies its script keeps.
struct Browser<'a> {
    api: &'a TestServer,
    stream: &'a TestServer,
    web_host: String,
    session: Option<String>,
    username: Option<String>,
}

impl Browser<'_> {
    fn cookies(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(s) = &self.session {
            parts.push(format!("session={s}"));
        }
        if let Some(u) = &self.username {
            parts.push(format!("username={u}"));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// What the Go server's `request()` sends upstream for an envelope: the browser's headers
    /// (cookies, `X-Session-Id` when the script set it, jQuery's form `Content-Type`), the
    /// envelope's method and `req_body`.
    fn envelope(&self, method: Method, path: &str, req_body: Option<Value>, with_session: bool) -> RequestBuilder {
        let mut rb = self
            .api
            .req(method, path)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded; charset=UTF-8")
            .header(ORIGIN, format!("http://{}", self.web_host))
            .header("accept-encoding", "gzip, deflate, br");
        if let Some(c) = self.cookies() {
            rb = rb.header(COOKIE, c);
        }
        if with_session {
            rb = rb.header("x-session-id", self.session.clone().unwrap_or_default());
        }
        if let Some(b) = req_body {
            rb = rb.body(b.to_string());
        }
        rb
    }

    /// The Go server's reverse proxy to the stream server keeps the browser's `Host`.
    fn proxied(&self, method: Method, path: &str) -> RequestBuilder {
        let mut rb = self.stream.req(method, path).header(HOST, &self.web_host).header("x-forwarded-for", "127.0.0.1");
        if let Some(c) = self.cookies() {
            rb = rb.header(COOKIE, c);
        }
        rb
    }
}

/// Status and body as the Go server hands them back (it keeps no header).
async fn relayed(rb: RequestBuilder) -> (StatusCode, String) {
    let res = rb.send().await.unwrap();
    let status = res.status();
    assert!(res.headers().get("content-encoding").is_none(), "the Go proxy drops Content-Encoding");
    (status, res.text().await.unwrap())
}

fn multipart_video(data: Vec<u8>) -> reqwest::multipart::Form {
    // jQuery sends the page's FormData: the file in field `file`.
    let part = reqwest::multipart::Part::bytes(data).file_name("clip.mp4").mime_str("video/mp4").unwrap();
    reqwest::multipart::Form::new().part("file", part)
}

async fn seed_flow(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    // The seed runs its api and stream servers apart: two roles, one database, one store here.
    let blobs = tempfile::tempdir().unwrap();
    let storage_url = format!("fs://{}", blobs.path().display());
    let api = TestServer::start(&db, json!({"roles": "api,worker", "storage_url": storage_url})).await;
    let stream = TestServer::start(&db, json!({"roles": "stream", "storage_url": storage_url})).await;
    let name = user();
    let mut b =
        Browser { api: &api, stream: &stream, web_host: "127.0.0.1:8080".into(), session: None, username: None };

    // Register: `POST :8000/user`, then the script keeps the session in cookies.
    let (status, text) =
        relayed(b.envelope(Method::POST, "/user", Some(json!({"user_name": name, "pwd": "seed-pass-1"})), false)).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let reg: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reg["success"], true);
    b.session = Some(reg["session_id"].as_str().unwrap().to_owned());
    b.username = Some(name.clone());

    // The user page: its id, then its videos (`null` while there are none: the page checks).
    let (status, text) = relayed(b.envelope(Method::GET, &format!("/user/{name}"), None, true)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let uid = serde_json::from_str::<Value>(&text).unwrap()["id"].clone();
    let (status, text) = relayed(b.envelope(Method::GET, &format!("/user/{name}/videos"), None, true)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["videos"], Value::Null, "{text}");

    // Upload: the video's row through the api, then its bytes to the stream server through the
    // Go proxy, carrying nothing but the cookies.
    let (status, text) = relayed(b.envelope(
        Method::POST,
        &format!("/user/{name}/videos"),
        Some(json!({"author_id": uid, "name": "holiday"})),
        true,
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let vid = serde_json::from_str::<Value>(&text).unwrap()["id"].as_str().unwrap().to_owned();
    let data = fake_mp4(400 * 1024, 3);
    let res = b
        .proxied(Method::POST, &format!("/upload/{vid}"))
        .header(ORIGIN, format!("http://{}", b.web_host))
        .multipart(multipart_video(data.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "the seed's upload with its session cookie");

    // The list now has the video first, as the page reads `videos[0]`.
    let (_, text) = relayed(b.envelope(Method::GET, &format!("/user/{name}/videos"), None, true)).await;
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["videos"][0]["id"], vid.as_str());
    assert_eq!(list["videos"][0]["name"], "holiday");
    assert!(list["videos"][0]["display_ctime"].is_string());

    // Play: the <video> element's GET with a range, through the proxy, cookies only.
    let res = b.proxied(Method::GET, &format!("/videos/{vid}")).header(RANGE, "bytes=0-1023").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().to_vec(), data[..1024].to_vec());

    // Comments: none (`null`), then one posted (the page waits for the body `ok`), then listed
    // newest first.
    let (_, text) = relayed(b.envelope(Method::GET, &format!("/videos/{vid}/comments"), None, true)).await;
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["comments"], Value::Null, "{text}");
    for content in ["first!", "second"] {
        let (status, text) = relayed(b.envelope(
            Method::POST,
            &format!("/videos/{vid}/comments"),
            Some(json!({"author_id": uid, "content": content})),
            true,
        ))
        .await;
        assert_eq!((status, text.as_str()), (StatusCode::CREATED, "ok"));
    }
    let (_, text) = relayed(b.envelope(Method::GET, &format!("/videos/{vid}/comments"), None, true)).await;
    let comments: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(comments["comments"][0]["content"], "second", "newest first: {text}");
    assert_eq!(comments["comments"][1]["author"], name.as_str());

    // Sign out (the script drops its cookies) and in again.
    b.session = None;
    b.username = None;
    let (status, text) = relayed(b.envelope(
        Method::POST,
        &format!("/user/{name}"),
        Some(json!({"user_name": name, "pwd": "seed-pass-1"})),
        false,
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    b.session = Some(serde_json::from_str::<Value>(&text).unwrap()["session_id"].as_str().unwrap().to_owned());
    b.username = Some(name.clone());

    // Delete: 204, and the list is empty again.
    let (status, _) = relayed(b.envelope(Method::DELETE, &format!("/user/{name}/videos/{vid}"), None, true)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, text) = relayed(b.envelope(Method::GET, &format!("/user/{name}/videos"), None, true)).await;
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["videos"], Value::Null);

    // The cookie counts on the seed's byte routes only, and not from another site's page.
    let vid2 = {
        let (_, text) =
            relayed(b.envelope(Method::POST, &format!("/user/{name}/videos"), Some(json!({"name": "x"})), true)).await;
        serde_json::from_str::<Value>(&text).unwrap()["id"].as_str().unwrap().to_owned()
    };
    let res = b
        .proxied(Method::POST, &format!("/upload/{vid2}"))
        .header(ORIGIN, "https://evil.example")
        .multipart(multipart_video(fake_mp4(64 * 1024, 4)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "the seed cookie from another origin");
    let res = b
        .proxied(Method::POST, &format!("/stream/v1/videos/{vid2}/upload"))
        .multipart(multipart_video(fake_mp4(64 * 1024, 4)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the seed cookie is not a session on /stream/v1");
    // And /api/v1 keeps its own format.
    let res = api.authed(Method::GET, &format!("/api/v1/videos/{vid}/comments"), b.session.as_deref().unwrap());
    assert_eq!(res.send().await.unwrap().status(), StatusCode::NOT_FOUND, "the deleted video");
    let v1 = api.authed(Method::GET, &format!("/api/v1/user/{name}/videos"), b.session.as_deref().unwrap());
    let v1: Value = v1.send().await.unwrap().json().await.unwrap();
    assert!(v1["videos"].is_array(), "paginated lists under /api/v1: {v1}");

    stream.stop().await;
    api.stop().await;
    db.drop_db().await;
}

per_backend!(seed_flow);
