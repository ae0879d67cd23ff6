use url::Url;

/// Hides the password in a URL and the values of query parameters that look like secrets, so
/// that `config check` and logs can show where a backend is without handing out its keys.
pub fn mask_url(raw: &str) -> String {
    let Ok(mut url) = Url::parse(raw) else {
        return raw.to_owned();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    let secret = |k: &str| {
        let k = k.to_ascii_lowercase();
        ["secret", "password", "token", "key", "credential"].iter().any(|s| k.contains(s))
    };
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret(&k) { "***".to_owned() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords_and_secret_params() {
        assert_eq!(mask_url("mysql://root:hunter2@db:3306/sv"), "mysql://root:***@db:3306/sv");
        assert_eq!(
            mask_url("s3://bucket?endpoint=http://x&secret_access_key=abc&region=r"),
            "s3://bucket?endpoint=http%3A%2F%2Fx&secret_access_key=***&region=r"
        );
        assert_eq!(mask_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
