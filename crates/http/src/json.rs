use axum::extract::{FromRequest, Request};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use streamvault_core::Error;
use streamvault_core::ErrorCode;

use crate::ApiError;

/// The largest JSON body the API takes.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// A JSON request body. Unlike `axum::Json` it does not insist on a `Content-Type` (the seed's
/// client sends none), and every failure comes back as the usual error body: 400 for malformed
/// JSON or a wrong field, 413 past [`MAX_JSON_BYTES`] (after lingering on the rest of the body,
/// so the client sees the answer). Every body the API takes is an object: serde would also read
/// a struct from an array of its fields in order, which the schema does not allow, so anything
/// but an object is refused before serde sees it.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let mut body = req.into_body().into_data_stream();
        let mut buf = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk =
                chunk.map_err(|e| Error::invalid(ErrorCode::BadBody, format!("the request body ended early: {e}")))?;
            if buf.len() + chunk.len() > MAX_JSON_BYTES {
                crate::body::linger(body).await;
                return Err(Error::TooLarge(format!("request body larger than {MAX_JSON_BYTES} bytes")).into());
            }
            buf.extend_from_slice(&chunk);
        }
        parse(&buf).map(JsonBody).map_err(ApiError)
    }
}

/// A whole request body as `T`: an object (see [`JsonBody`]) that serde reads, else 400
/// `bad_json`. For handlers that read their body themselves (an optional one).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if !is_object(body) {
        return Err(Error::invalid(ErrorCode::BadJson, "the request body must be a JSON object"));
    }
    serde_json::from_slice(body)
        .map_err(|e| Error::invalid(ErrorCode::BadJson, format!("request body is not valid JSON for this call: {e}")))
}

/// Whether the text opens an object (after JSON's whitespace); serde checks the rest.
fn is_object(body: &[u8]) -> bool {
    body.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) == Some(&b'{')
}

#[cfg(test)]
mod fuzz {
    use axum::body::Body;
    use axum::extract::{FromRequest, Request};
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::{Map, Value};
    use streamvault_core::Error;
    use streamvault_core::ErrorCode;

    use super::{JsonBody, MAX_JSON_BYTES};

    /// The seed's login and registration body.
    #[derive(Debug, Deserialize, PartialEq)]
    struct Login {
        user_name: Option<String>,
        pwd: Option<String>,
    }

    /// JSON values without floats (whose text serde_json need not read back to the same bits).
    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
            Just(Value::String("\u{0}\"\\\u{1f}\u{2028}".to_owned())),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A field of the seed's body: absent, null, a string, or any other JSON.
    fn field() -> impl Strategy<Value = Option<Value>> {
        prop::option::of(prop_oneof![Just(Value::Null), "\\PC{0,10}".prop_map(Value::String), json()])
    }

    /// The seed's body, with other fields beside its two.
    fn login_like() -> impl Strategy<Value = Value> {
        (field(), field(), prop::collection::btree_map("[a-z_]{1,8}", json(), 0..3)).prop_map(|(u, p, extra)| {
            let mut m: Map<String, Value> = extra.into_iter().collect();
            for (k, v) in [("user_name", u), ("pwd", p)] {
                match v {
                    Some(v) => m.insert(k.to_owned(), v),
                    None => m.remove(k),
                };
            }
            Value::Object(m)
        })
    }

    /// The body cut into chunks at arbitrary points, as it may arrive from the network.
    fn request(
        body: &[u8],
        cuts: &[prop::sample::Index],
        content_type: Option<&str>,
    ) -> Result<Request, TestCaseError> {
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(body.len() + 1)).collect();
        at.extend([0, body.len()]);
        at.sort_unstable();
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            at.windows(2).map(|w| Ok(body[w[0]..w[1]].to_vec())).collect();
        let mut builder = Request::builder().method("POST").uri("/api/v1/user/login");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder
            .body(Body::from_stream(futures::stream::iter(chunks)))
            .map_err(|e| TestCaseError::fail(format!("request: {e}")))
    }

    fn runtime() -> Result<tokio::runtime::Runtime, TestCaseError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))
    }

    async fn extract<T: serde::de::DeserializeOwned>(req: Request) -> Result<T, Error> {
        <JsonBody<T> as FromRequest<()>>::from_request(req, &()).await.map(|JsonBody(v)| v).map_err(|e| e.0)
    }

    fn content_type() -> impl Strategy<Value = Option<String>> {
        prop::option::of(prop_oneof![
            Just("application/json".to_owned()),
            Just("text/plain;charset=UTF-8".to_owned()),
            Just("application/x-www-form-urlencoded".to_owned()),
            "[ -~]{0,30}",
        ])
    }

    proptest! {
        /// Arbitrary bytes, whatever the Content-Type, in arbitrary chunks: no panic, a value
        /// exactly when serde_json reads the whole body as an object, else a 400 `bad_json`.
        #[test]
        fn any_body_is_a_value_or_bad_json(
            body in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..200),
                "[\\[\\]{}\":,0-9a-z \\\\.eE+\\-]{0,80}".prop_map(String::into_bytes),
            ],
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
            content_type in content_type(),
        ) {
            let expected = serde_json::from_slice::<Value>(&body).ok().filter(Value::is_object);
            let rt = runtime()?;
            let got = rt.block_on(extract::<Value>(request(&body, &cuts, content_type.as_deref())?));
            match (got, expected) {
                (Ok(v), Some(e)) => prop_assert_eq!(v, e),
                (Err(Error::Invalid { code: ErrorCode::BadJson, .. }), None) => {}
                (got, expected) => prop_assert!(false, "{got:?}, expected {expected:?}"),
            }
            // Into a struct, the same bytes are read or refused as bad JSON (the struct skips
            // fields it does not know without checking their numbers' range, so it may accept
            // what a Value refuses).
            let login = rt.block_on(extract::<Login>(request(&body, &cuts, content_type.as_deref())?));
            prop_assert!(matches!(login, Ok(_) | Err(Error::Invalid { code: ErrorCode::BadJson, .. })), "{login:?}");
        }

        /// Any JSON object (deeply nested, escapes, big numbers) reads back as itself; any other
        /// value at the top is refused.
        #[test]
        fn any_json_value_reads_back(
            value in json(),
            pretty in any::<bool>(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
            content_type in content_type(),
        ) {
            let body = if pretty { serde_json::to_vec_pretty(&value) } else { serde_json::to_vec(&value) };
            let body = body.map_err(|e| TestCaseError::fail(e.to_string()))?;
            let got = runtime()?.block_on(extract::<Value>(request(&body, &cuts, content_type.as_deref())?));
            if value.is_object() {
                prop_assert_eq!(got.ok(), Some(value));
            } else {
                prop_assert!(matches!(got, Err(Error::Invalid { code: ErrorCode::BadJson, .. })), "{got:?}");
            }
        }

        /// The seed's `{"user_name","pwd"}`: an object whose two fields are strings, null or
        /// absent (other fields ignored) is read; any other JSON is a 400, never a panic.
        #[test]
        fn the_seeds_login_body_is_read_or_refused(
            value in prop_oneof![login_like(), json()],
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        ) {
            let body = serde_json::to_vec(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let got = runtime()?.block_on(extract::<Login>(request(&body, &cuts, None)?));
            let text = |v: Option<&Value>| match v {
                None | Some(Value::Null) => Some(None),
                Some(Value::String(s)) => Some(Some(s.clone())),
                Some(_) => None,
            };
            // An array of exactly the struct's fields, which serde alone would read, is refused.
            let expected = match &value {
                Value::Object(m) => text(m.get("user_name")).zip(text(m.get("pwd"))),
                _ => None,
            };
            match (got, expected) {
                (Ok(l), Some((user_name, pwd))) => prop_assert_eq!(l, Login { user_name, pwd }),
                (Err(Error::Invalid { code: ErrorCode::BadJson, .. }), None) => {}
                (got, expected) => prop_assert!(false, "{got:?}, expected {expected:?} for {value}"),
            }
        }

        /// Up to MAX_JSON_BYTES a body is read; one byte more is a 413, however it is chunked.
        #[test]
        fn bodies_past_the_limit_are_too_large(
            len in (MAX_JSON_BYTES - 16)..(MAX_JSON_BYTES + 16),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        ) {
            // Leading whitespace, then `{}`: valid JSON of exactly `len` bytes.
            let mut body = vec![b' '; len - 2];
            body.extend_from_slice(b"{}");
            let got = runtime()?.block_on(extract::<Value>(request(&body, &cuts, Some("application/json"))?));
            if len <= MAX_JSON_BYTES {
                prop_assert!(got.is_ok(), "{got:?} at {len} bytes");
            } else {
                prop_assert!(matches!(got, Err(Error::TooLarge(_))), "{got:?} at {len} bytes");
            }
        }
    }
}
