//! The social layer (issue 15): ratings, follows and the feed, notifications, playlists and
//! history, on every metadata backend, with their authorization, pagination and races.

mod follows;
mod history;
mod messages;
mod playlists;
mod races;
mod ratings;
mod replies;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use streamvault_testkit::TestDb;

use crate::common::{TestServer, body, user};

/// A signed-up user: name and session token.
pub struct Member {
    pub name: String,
    pub token: String,
}

pub async fn member(srv: &TestServer) -> Member {
    let name = user();
    let token = srv.signup(&name).await;
    Member { name, token }
}

/// `n` members, signed up a few at a time.
pub async fn members(srv: &TestServer, n: usize) -> Vec<Member> {
    let mut all = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
        all.extend(futures::future::join_all(chunk.iter().map(|_| member(srv))).await);
    }
    all
}

/// A public video of `m` (made `ready` behind the app's back, as the worker would), by id.
pub async fn public_video(srv: &TestServer, db: &TestDb, m: &Member, title: &str) -> String {
    let vid = srv.create_video(&m.name, &m.token, title).await["id"].as_str().unwrap().to_owned();
    srv.set_video(db, &vid, "ready", 0).await;
    vid
}

/// `method path` as `m` (anonymous with `None`), with an optional JSON body.
pub async fn call(
    srv: &TestServer,
    m: Option<&Member>,
    method: Method,
    path: &str,
    json: Option<Value>,
) -> reqwest::Response {
    let mut req = match m {
        Some(m) => srv.authed(method, path, &m.token),
        None => srv.req(method, path),
    };
    if let Some(j) = json {
        req = req.json(&j);
    }
    req.send().await.unwrap()
}

/// The JSON of a call that must answer `status`.
pub async fn expect(
    srv: &TestServer,
    m: Option<&Member>,
    method: Method,
    path: &str,
    json: Option<Value>,
    status: StatusCode,
) -> Value {
    let res = call(srv, m, method.clone(), path, json).await;
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Every page of a list (`key` holds the items), following `next_cursor`, with `between` run
/// after each page; the ids in order.
pub async fn walk<F, Fut>(
    srv: &TestServer,
    m: &Member,
    path: &str,
    key: &str,
    id: impl Fn(&Value) -> String,
    mut between: F,
) -> Vec<String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let sep = if path.contains('?') { '&' } else { '?' };
    for _ in 0..1000 {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=2&cursor={c}"),
            None => format!("{path}{sep}limit=2"),
        };
        let page = body(call(srv, Some(m), Method::GET, &url, None).await).await;
        ids.extend(page[key].as_array().unwrap_or_else(|| panic!("{url}: {page}")).iter().map(&id));
        between().await;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
    panic!("{path}: more than 1000 pages")
}

/// A random UUID, naming nothing.
pub fn nothing() -> String {
    uuid::Uuid::now_v7().to_string()
}
