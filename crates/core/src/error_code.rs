//! Every public `error_code` in one place. A client matches on these strings, so they are
//! stable: add codes, never rename one. The OpenAPI document lists them ([`ErrorCode::ALL`]).

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $text:literal,)*) => {
        /// A stable, machine-readable reason sent with every error as `error_code`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $name,)*
        }

        impl ErrorCode {
            /// Every code, in the order listed here.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$name),*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $text,)*
                }
            }
        }
    };
}

codes! {
    // One per kind of error (each with its status, in the HTTP crate's `status_of`).
    /// 401: no valid session or token.
    Unauthenticated = "unauthenticated",
    /// 403.
    Forbidden = "forbidden",
    /// 404: unknown, or hidden from this caller.
    NotFound = "not_found",
    /// 423: another request holds the upload.
    Locked = "locked",
    /// 460: the bytes do not match `Upload-Checksum`.
    ChecksumMismatch = "checksum_mismatch",
    /// 410.
    Gone = "gone",
    /// 413: over a size limit or the quota.
    PayloadTooLarge = "payload_too_large",
    /// 415.
    UnsupportedMediaType = "unsupported_media_type",
    /// 429: see `Retry-After`.
    TooManyRequests = "too_many_requests",
    /// 503: a backend is down; see `Retry-After`.
    BackendUnavailable = "backend_unavailable",
    /// 500.
    InternalError = "internal_error",
    /// 502 from the gateway: no replica of the role answered.
    UpstreamUnavailable = "upstream_unavailable",

    // 400: the request, field by field.
    MissingField = "missing_field",
    BadBody = "bad_body",
    BadJson = "bad_json",
    BadQuery = "bad_query",
    BadPath = "bad_path",
    BadHeader = "bad_header",
    BadLimit = "bad_limit",
    BadCursor = "bad_cursor",
    BadName = "bad_name",
    BadText = "bad_text",
    TooLong = "too_long",
    InvalidUsername = "invalid_username",
    InvalidPassword = "invalid_password",
    BadExpiry = "bad_expiry",
    BadSha256 = "bad_sha256",
    BadMultipart = "bad_multipart",
    /// The body ended before its declared length.
    IncompleteBody = "incomplete_body",
    /// The connection was cut mid-body.
    BodyCut = "body_cut",
    EmptyUpload = "empty_upload",
    LengthMismatch = "length_mismatch",
    // Bullet comments.
    /// A moment outside the video.
    BadTime = "bad_time",
    BadMode = "bad_mode",
    BadColor = "bad_color",
    BadSize = "bad_size",
    // tus.
    BadMetadata = "bad_metadata",
    BadConcat = "bad_concat",
    BadLength = "bad_length",
    BadChecksum = "bad_checksum",
    // The social layer.
    BadVisibility = "bad_visibility",
    BadKind = "bad_kind",
    BadPosition = "bad_position",

    // 409: the state does not allow it.
    UsernameTaken = "username_taken",
    AlreadyUploaded = "already_uploaded",
    UploadComplete = "upload_complete",
    OffsetMismatch = "offset_mismatch",
    FolderCycle = "folder_cycle",
    /// A per-user count limit (playlists, items in one) is reached.
    LimitReached = "limit_reached",
    /// The built-in playlists cannot be renamed or deleted.
    BuiltinPlaylist = "builtin_playlist",
    /// A user cannot follow (or message) themselves.
    SelfTarget = "self_target",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert!(c.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()), "{c}");
        }
    }
}
