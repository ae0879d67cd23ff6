//! tus `Upload-Metadata`, kept as the client sent it and read where it matters.

use std::collections::HashMap;

use base64::Engine;

use crate::{Error, Result};

/// `Upload-Metadata`: `key base64,key base64,key` (a key may have no value).
pub fn parse_metadata(raw: &str) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| Error::invalid("bad_metadata", format!("Upload-Metadata value of {key:?} is not base64")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::invalid("bad_metadata", format!("Upload-Metadata value of {key:?} is not UTF-8")))?;
        out.insert(key.to_owned(), text);
    }
    Ok(out)
}

/// The drive folder a finished upload goes to (`folder_id`), if the metadata names one.
pub fn folder_of(raw: &str) -> Option<uuid::Uuid> {
    parse_metadata(raw).ok()?.get("folder_id").and_then(|v| uuid::Uuid::parse_str(v).ok())
}
