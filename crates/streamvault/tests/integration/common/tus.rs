//! A tus 1.0 client against a [`TestServer`]: the requests the tus tests make over and over.

use base64::Engine;
use reqwest::{Method, RequestBuilder, Response, StatusCode};

use super::{TestServer, user};

/// The content type of an append (`PATCH`).
pub const PATCH_TYPE: &str = "application/offset+octet-stream";

/// `s` in base64, as `Upload-Metadata` values are written.
pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A tus request (`Tus-Resumable: 1.0.0`) to `path`, as the holder of session `token`.
pub fn request(srv: &TestServer, token: &str, m: Method, path: &str) -> RequestBuilder {
    srv.req(m, path).header("tus-resumable", "1.0.0").bearer_auth(token)
}

/// The file a finished upload became (`Streamvault-File-Id`).
pub fn file_id(res: &Response) -> String {
    res.headers()
        .get("streamvault-file-id")
        .unwrap_or_else(|| panic!("no file id: {:?}", res.headers()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Where a created upload is (`Location`).
pub fn location(res: &Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// One user's tus client.
pub struct Tus<'a> {
    pub srv: &'a TestServer,
    pub token: String,
}

impl<'a> Tus<'a> {
    /// The client of a new user.
    pub async fn signup(srv: &'a TestServer) -> Tus<'a> {
        Tus { token: srv.signup(&user()).await, srv }
    }

    pub fn req(&self, m: Method, path: &str) -> RequestBuilder {
        request(self.srv, &self.token, m, path)
    }

    /// `POST`s a new upload of `length` bytes (with `Upload-Metadata` when given) and checks
    /// the 201.
    async fn post(&self, length: u64, metadata: Option<&str>) -> Response {
        let mut req = self.req(Method::POST, "/stream/v1/tus/").header("upload-length", length);
        if let Some(metadata) = metadata {
            req = req.header("upload-metadata", metadata);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res
    }

    /// Creates an upload of `length` bytes with `metadata`, checks what the creation answers
    /// (offset 0, an expiry), and returns its path.
    pub async fn create(&self, length: u64, metadata: &str) -> String {
        let res = self.post(length, Some(metadata)).await;
        assert_eq!(res.headers()["upload-offset"], "0");
        assert!(res.headers().contains_key("upload-expires"));
        location(&res)
    }

    /// Creates an upload of `length` bytes without metadata and returns its path; only the 201
    /// is checked.
    pub async fn create_bare(&self, length: u64) -> String {
        location(&self.post(length, None).await)
    }

    pub async fn patch(&self, url: &str, offset: u64, data: &[u8]) -> Response {
        self.req(Method::PATCH, url)
            .header("upload-offset", offset)
            .header("content-type", PATCH_TYPE)
            .body(data.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// The upload's offset, from a `HEAD`.
    pub async fn offset(&self, url: &str) -> u64 {
        let res = self.req(Method::HEAD, url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "HEAD {url}");
        res.headers()["upload-offset"].to_str().unwrap().parse().unwrap()
    }

    async fn get_file(&self, file_id: &str) -> Response {
        let res = self
            .srv
            .req(Method::GET, &format!("/stream/v1/files/{file_id}"))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res
    }

    /// A file's bytes.
    pub async fn download(&self, file_id: &str) -> Vec<u8> {
        self.get_file(file_id).await.bytes().await.unwrap().to_vec()
    }

    /// A file's bytes and its ETag (unquoted).
    pub async fn download_tagged(&self, file_id: &str) -> (Vec<u8>, String) {
        let res = self.get_file(file_id).await;
        let etag = res.headers()["etag"].to_str().unwrap().trim_matches('"').to_owned();
        (res.bytes().await.unwrap().to_vec(), etag)
    }
}
