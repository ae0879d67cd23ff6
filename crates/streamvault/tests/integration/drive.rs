//! The cloud drive's API: listing and ordering, folders, rename and move, deletion with the
//! bytes going later, quotas in `/me`, instant upload with proof, and share links.

use std::time::Duration;

use crate::common::poll::poll;
use crate::common::{TestServer, body, expect_error, fake_mp4, files_under, sha256_hex, user};
use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sha2::Digest;
use streamvault_testkit::{Backend, TestDb, per_backend};

struct Drive<'a> {
    srv: &'a TestServer,
    token: String,
}

impl Drive<'_> {
    fn req(&self, m: Method, path: &str) -> reqwest::RequestBuilder {
        self.srv.req(m, path).bearer_auth(&self.token)
    }

    async fn put(&self, name: &str, data: &[u8]) -> Value {
        self.srv.new_file(&self.token, name, data.to_vec()).await
    }

    async fn json(&self, m: Method, path: &str, b: Value) -> (StatusCode, Value) {
        let res = self.req(m, path).json(&b).send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let res = self.req(Method::GET, path).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        body(res).await
    }

    /// Every file of a listing, page by page.
    async fn all(&self, query: &str, limit: u64) -> Vec<String> {
        let mut names = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = self.get(&format!("/api/v1/files?{query}&limit={limit}&cursor={cursor}")).await;
            names.extend(page["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_owned(),
                None => return names,
            }
        }
    }
}

/// A server for the files-and-folders scenarios, or `None` (skip) without `backend`.
async fn drive_server(backend: Backend) -> Option<(TestDb, TestServer)> {
    let db = TestDb::create(backend).await?;
    let srv = TestServer::start(&db, json!({"delete_grace_secs": 1, "quota_bytes": 10_000_000})).await;
    Some((db, srv))
}

/// Puts the four files the listing scenarios order: `b.txt` (300 bytes), `a.txt` (100),
/// `d.txt` (200) and `c.txt` (200), in that order.
async fn put_four(me: &Drive<'_>) {
    let sizes = [("b.txt", 300), ("a.txt", 100), ("d.txt", 200), ("c.txt", 200)];
    for (i, (name, size)) in sizes.iter().enumerate() {
        me.put(name, &fake_mp4(*size, i as u64)).await;
    }
}

/// Listing in each order, page by page; files are private; bad queries are refused.
async fn listing_and_paging(backend: Backend) {
    let Some((db, srv)) = drive_server(backend).await else { return };
    let me = Drive { token: srv.signup(&user()).await, srv: &srv };
    let other = Drive { token: srv.signup(&user()).await, srv: &srv };
    put_four(&me).await;
    assert_eq!(me.all("sort=name", 3).await, ["a.txt", "b.txt", "c.txt", "d.txt"]);
    assert_eq!(me.all("sort=name&order=desc", 3).await, ["d.txt", "c.txt", "b.txt", "a.txt"]);
    assert_eq!(me.all("sort=date", 1).await, ["c.txt", "d.txt", "a.txt", "b.txt"], "newest first");
    assert_eq!(me.all("sort=size", 2).await, ["a.txt", "d.txt", "c.txt", "b.txt"], "ties by id");
    assert_eq!(me.all("sort=size&order=desc", 3).await, ["b.txt", "c.txt", "d.txt", "a.txt"]);
    assert!(other.all("sort=name", 10).await.is_empty(), "files are private");
    let page = me.get("/api/v1/files?sort=name&limit=1").await;
    let f = &page["files"][0];
    for key in ["id", "name", "size", "sha256", "mime", "folder_id", "created_at"] {
        assert!(f.get(key).is_some(), "{key} in {f}");
    }
    let size_cursor = me.get("/api/v1/files?sort=size&limit=1").await["next_cursor"].as_str().unwrap().to_owned();
    let res = me.req(Method::GET, &format!("/api/v1/files?sort=name&cursor={size_cursor}")).send().await.unwrap();
    expect_error(res, StatusCode::BAD_REQUEST).await;
    for q in ["sort=colour", "order=up", "limit=0", "cursor=garbage"] {
        let res = me.req(Method::GET, &format!("/api/v1/files?{q}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{q}");
    }
    assert_eq!(srv.req(Method::GET, "/api/v1/files").send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    srv.stop().await;
    db.drop_db().await;
}

/// Folders, renames and moves of files, usage in `/me`, and deletion with the bytes going later.
async fn files_and_folders(backend: Backend) {
    let Some((db, srv)) = drive_server(backend).await else { return };
    let me = Drive { token: srv.signup(&user()).await, srv: &srv };
    let other = Drive { token: srv.signup(&user()).await, srv: &srv };
    put_four(&me).await;

    // Folders: create, nest, rename, move, never into themselves.
    let (s, docs) = me.json(Method::POST, "/api/v1/folders", json!({"name": "Docs"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let docs = docs["id"].as_str().unwrap().to_owned();
    let (s, sub) = me.json(Method::POST, "/api/v1/folders", json!({"name": "2026", "parent_id": docs})).await;
    assert_eq!(s, StatusCode::CREATED);
    let sub = sub["id"].as_str().unwrap().to_owned();
    assert_eq!(me.json(Method::POST, "/api/v1/folders", json!({"name": "a/b"})).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(me.json(Method::POST, "/api/v1/folders", json!({})).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        other.json(Method::POST, "/api/v1/folders", json!({"name": "x", "parent_id": docs})).await.0,
        StatusCode::NOT_FOUND
    );
    let top = me.get("/api/v1/folders").await;
    assert_eq!(top["folders"].as_array().unwrap().len(), 1);
    assert_eq!(me.get(&format!("/api/v1/folders?parent_id={docs}")).await["folders"][0]["name"], "2026");
    let (s, _) = me.json(Method::PATCH, &format!("/api/v1/folders/{docs}"), json!({"parent_id": sub})).await;
    assert_eq!(s, StatusCode::CONFLICT, "into its own subfolder");
    let (s, _) = me.json(Method::PATCH, &format!("/api/v1/folders/{docs}"), json!({"parent_id": docs})).await;
    assert_eq!(s, StatusCode::CONFLICT, "into itself");
    let (s, renamed) = me
        .json(Method::PATCH, &format!("/api/v1/folders/{sub}"), json!({"name": "Year 2026", "parent_id": null}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((renamed["name"].as_str(), renamed["parent_id"].as_str()), (Some("Year 2026"), None));
    assert_eq!(
        other.json(Method::PATCH, &format!("/api/v1/folders/{sub}"), json!({"name": "mine"})).await.0,
        StatusCode::NOT_FOUND
    );
    me.json(Method::PATCH, &format!("/api/v1/folders/{sub}"), json!({"parent_id": docs})).await;

    // Files: rename, move into a folder and back, never into someone else's.
    let report = me.put("report.pdf", &fake_mp4(5000, 50)).await;
    let rid = report["id"].as_str().unwrap().to_owned();
    let (s, f) = me
        .json(Method::PATCH, &format!("/api/v1/files/{rid}"), json!({"name": "Report (final).pdf", "folder_id": sub}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((f["name"].as_str(), f["folder_id"].as_str()), (Some("Report (final).pdf"), Some(sub.as_str())));
    assert_eq!(me.all(&format!("folder_id={sub}"), 10).await, ["Report (final).pdf"]);
    assert!(!me.all("sort=name", 10).await.contains(&"Report (final).pdf".to_owned()), "not at the top any more");
    assert_eq!(
        me.json(Method::PATCH, &format!("/api/v1/files/{rid}"), json!({"name": ".."})).await.0,
        StatusCode::BAD_REQUEST
    );
    let (_, theirs) = other.json(Method::POST, "/api/v1/folders", json!({"name": "theirs"})).await;
    let theirs = theirs["id"].as_str().unwrap().to_owned();
    assert_eq!(
        me.json(Method::PATCH, &format!("/api/v1/files/{rid}"), json!({"folder_id": theirs})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.json(Method::PATCH, &format!("/api/v1/files/{rid}"), json!({"name": "x"})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.req(Method::DELETE, &format!("/api/v1/files/{rid}")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // Usage in /me follows the files.
    let usage = me.get("/api/v1/me").await;
    assert_eq!(usage["usage_bytes"], 300 + 100 + 200 + 200 + 5000);
    assert_eq!(usage["quota_bytes"], 10_000_000);

    // Deleting a folder deletes what is inside at once; the bytes go after the grace period,
    // except those another file still uses.
    let keep = fake_mp4(7000, 70);
    let (_, f1) = (0, me.put("dup-1.bin", &keep).await);
    let f2 = me.put("dup-2.bin", &keep).await;
    me.json(Method::PATCH, &format!("/api/v1/files/{}", f1["id"].as_str().unwrap()), json!({"folder_id": docs})).await;
    assert_eq!(
        me.req(Method::DELETE, &format!("/api/v1/folders/{docs}")).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        me.req(Method::GET, &format!("/api/v1/files/{rid}")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        me.req(Method::GET, &format!("/api/v1/folders?parent_id={sub}")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        me.req(Method::GET, &format!("/stream/v1/files/{rid}")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let blobs = srv.data_dir().join("blobs/sha256");
    let report_sha = report["sha256"].as_str().unwrap().to_owned();
    let gone = |sha: &str| !files_under(&blobs).iter().any(|p| p.ends_with(sha));
    let collected = poll(100, Duration::from_millis(100), || async { gone(&report_sha) }).await;
    assert!(collected, "the deleted file's bytes were collected");
    assert!(!gone(&sha256_hex(&keep)), "bytes another file uses stay");
    let res = me.req(Method::GET, &format!("/stream/v1/files/{}", f2["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), &keep[..]);
    assert_eq!(
        me.req(Method::DELETE, &format!("/api/v1/files/{}", f2["id"].as_str().unwrap())).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        me.req(Method::DELETE, &format!("/api/v1/files/{}", f2["id"].as_str().unwrap())).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let collected = poll(100, Duration::from_millis(100), || async { gone(&sha256_hex(&keep)) }).await;
    assert!(collected, "the last reference took the bytes with it");
    srv.stop().await;
    db.drop_db().await;
}

/// Instant upload: unknown content is 404; known content needs a proof that only someone with
/// the bytes can give; challenges are single-use and per user.
async fn instant_upload(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({"quota_bytes": 1_000_000})).await;
    let alice = Drive { token: srv.signup(&user()).await, srv: &srv };
    let bob = Drive { token: srv.signup(&user()).await, srv: &srv };
    let data = fake_mp4(300_000, 90);
    let sha = sha256_hex(&data);
    let ask = |d: &Drive, extra: Value| {
        let mut b = json!({"sha256": sha, "size": data.len(), "name": "copy.mp4"});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        let path = "/api/v1/files/instant";
        let req = d.req(Method::POST, path).json(&b);
        async move {
            let res = req.send().await.unwrap();
            let s = res.status();
            (s, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    assert_eq!(ask(&bob, json!({})).await.0, StatusCode::NOT_FOUND, "unknown content");
    alice.put("original.mp4", &data).await;
    assert_eq!(ask(&bob, json!({"size": 299_999})).await.0, StatusCode::NOT_FOUND, "the size must match too");
    assert_eq!(ask(&bob, json!({"sha256": "XYZ"})).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(ask(&bob, json!({"size": 2_000_000})).await.0, StatusCode::PAYLOAD_TOO_LARGE, "over the quota");

    let (s, c) = ask(&bob, json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (offset, length, nonce) = (
        c["challenge"]["offset"].as_u64().unwrap() as usize,
        c["challenge"]["length"].as_u64().unwrap() as usize,
        c["challenge"]["nonce"].as_str().unwrap().to_owned(),
    );
    assert!(length > 0 && offset + length <= data.len());
    let proof = |range: &[u8], nonce: &str| {
        let mut h = sha2::Sha256::new();
        h.update(hex::decode(nonce).unwrap());
        h.update(range);
        hex::encode(h.finalize())
    };
    // Knowing the hash is not enough: a guess is refused, and burns the challenge.
    let (s, _) = ask(&bob, json!({"nonce": nonce, "proof": proof(&[0u8; 16], &nonce)})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let good = proof(&data[offset..offset + length], &nonce);
    assert_eq!(ask(&bob, json!({"nonce": nonce, "proof": good})).await.0, StatusCode::FORBIDDEN, "single use");

    let (_, c) = ask(&bob, json!({})).await;
    let nonce = c["challenge"]["nonce"].as_str().unwrap().to_owned();
    let (offset, length) =
        (c["challenge"]["offset"].as_u64().unwrap() as usize, c["challenge"]["length"].as_u64().unwrap() as usize);
    let good = proof(&data[offset..offset + length], &nonce);
    assert_eq!(
        ask(&alice, json!({"nonce": nonce, "proof": good})).await.0,
        StatusCode::FORBIDDEN,
        "another user's challenge"
    );
    let (_, c) = ask(&bob, json!({})).await;
    let nonce = c["challenge"]["nonce"].as_str().unwrap().to_owned();
    let (offset, length) =
        (c["challenge"]["offset"].as_u64().unwrap() as usize, c["challenge"]["length"].as_u64().unwrap() as usize);
    let (s, f) = ask(&bob, json!({"nonce": nonce, "proof": proof(&data[offset..offset + length], &nonce)})).await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    assert_eq!(
        (f["sha256"].as_str(), f["name"].as_str(), f["mime"].as_str()),
        (Some(sha.as_str()), Some("copy.mp4"), Some("video/mp4"))
    );
    let res = bob.req(Method::GET, &format!("/stream/v1/files/{}", f["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), &data[..], "the instant file downloads");
    assert_eq!(bob.get("/api/v1/me").await["usage_bytes"], 300_000);
    srv.stop().await;
    db.drop_db().await;
}

/// Share links download without a session until they expire or the file goes.
async fn share_links(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let srv = TestServer::start(&db, json!({})).await;
    let me = Drive { token: srv.signup(&user()).await, srv: &srv };
    let data = fake_mp4(40_000, 91);
    let f = me.put("shared.mp4", &data).await;
    let id = f["id"].as_str().unwrap().to_owned();
    let (s, link) = me.json(Method::POST, &format!("/api/v1/files/{id}/share"), json!({"expires_in_secs": 600})).await;
    assert_eq!(s, StatusCode::CREATED);
    let path = link["path"].as_str().unwrap().to_owned();
    assert!(link["url"].as_str().unwrap().ends_with(&path));
    let res = srv.req(Method::GET, &path).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "no session needed");
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("shared.mp4"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), &data[..]);
    let res = srv.req(Method::GET, &path).header("range", "bytes=10-19").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);

    let tampered = path.replace("expires=", "expires=1");
    assert_eq!(srv.req(Method::GET, &tampered).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let unsigned = path.split('?').next().unwrap().to_owned();
    assert_eq!(srv.req(Method::GET, &unsigned).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    // An expired link, signed with the deployment's key (from the metadata store).
    let conn = db.connect().await;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT value FROM secrets WHERE name = 'share_key'",
        ))
        .await
        .unwrap()
        .unwrap();
    let key: String = row.try_get_by_index(0).unwrap();
    conn.close().await.ok();
    let links = streamvault_core::drive::ShareLinks::new(key.as_bytes());
    let old = streamvault_http::urls::shared(
        &links.sign(id.parse().unwrap(), chrono::Utc::now() - chrono::Duration::seconds(10)),
    );
    assert_eq!(srv.req(Method::GET, &old).send().await.unwrap().status(), StatusCode::GONE);

    // An array is not the body's object, though serde alone would read `[]` as all defaults.
    for bad in [json!({"expires_in_secs": 10}), json!({"expires_in_secs": 999_999_999}), json!([]), json!([600])] {
        assert_eq!(me.json(Method::POST, &format!("/api/v1/files/{id}/share"), bad).await.0, StatusCode::BAD_REQUEST);
    }
    let other = Drive { token: srv.signup(&user()).await, srv: &srv };
    assert_eq!(
        other.json(Method::POST, &format!("/api/v1/files/{id}/share"), json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        me.req(Method::DELETE, &format!("/api/v1/files/{id}")).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        srv.req(Method::GET, &path).send().await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "deleting the file ends the link"
    );
    srv.stop().await;
    db.drop_db().await;
}

per_backend!(listing_and_paging, files_and_folders, instant_upload, share_links);
