//! tus `Upload-Metadata`, kept as the client sent it and read where it matters.

use crate::ErrorCode;
use std::collections::HashMap;

use base64::Engine;

use crate::{Error, Result};

/// `Upload-Metadata`: `key base64,key base64,key` (a key may have no value).
pub fn parse_metadata(raw: &str) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let bytes = base64::engine::general_purpose::STANDARD.decode(value.trim()).map_err(|_| {
            Error::invalid(ErrorCode::BadMetadata, format!("Upload-Metadata value of {key:?} is not base64"))
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::invalid(ErrorCode::BadMetadata, format!("Upload-Metadata value of {key:?} is not UTF-8"))
        })?;
        out.insert(key.to_owned(), text);
    }
    Ok(out)
}

/// The drive folder a finished upload goes to (`folder_id`), if the metadata names one.
pub fn folder_of(raw: &str) -> Option<crate::ids::FolderId> {
    parse_metadata(raw).ok()?.get("folder_id").and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod fuzz {
    use std::collections::HashMap;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use proptest::prelude::*;

    use super::{folder_of, parse_metadata};
    use crate::Error;

    /// One pair as a client may write it: a key without whitespace or commas, its value (left
    /// out when empty and `bare`), and spaces around and between them.
    type Pair = (String, String, bool, usize, usize, usize);

    fn pair() -> impl Strategy<Value = Pair> {
        ("[^\\s,]{1,12}", "\\PC{0,24}", any::<bool>(), 0usize..3, 1usize..3, 0usize..3)
    }

    fn write(pairs: &[Pair]) -> String {
        let items: Vec<String> = pairs
            .iter()
            .map(|(key, value, bare, before, gap, after)| {
                let value = if value.is_empty() && *bare {
                    String::new()
                } else {
                    format!("{}{}", " ".repeat(*gap), STANDARD.encode(value))
                };
                format!("{}{key}{value}{}", " ".repeat(*before), " ".repeat(*after))
            })
            .collect();
        items.join(",")
    }

    proptest! {
        /// Whatever the client sends, parsing answers (a map or a 400) without panicking.
        #[test]
        fn any_metadata_text_never_panics(raw in prop_oneof![
            "\\PC{0,80}",
            "([a-z_]{1,8}( [A-Za-z0-9+/=]{0,12})?,?){0,6}",
            "[a-z ,=+/]{0,40}",
        ]) {
            match parse_metadata(&raw) {
                Ok(_) => {}
                Err(e) => prop_assert!(matches!(e, Error::Invalid { code: crate::ErrorCode::BadMetadata, .. }), "{e:?}"),
            }
            let _ = folder_of(&raw);
        }

        /// `key base64,key base64,key` written by the rules reads back as the map the pairs
        /// make (a repeated key keeps its last value).
        #[test]
        fn encoded_metadata_reads_back_as_its_map(
            pairs in prop::collection::vec(pair(), 0..8),
            trailing in any::<bool>(),
        ) {
            let mut raw = write(&pairs);
            if trailing {
                raw.push(',');
            }
            let mut model = HashMap::new();
            for (key, value, ..) in &pairs {
                model.insert(key.clone(), value.clone());
            }
            prop_assert_eq!(parse_metadata(&raw).ok(), Some(model), "{}", raw);
        }

        /// A value that is base64 of bytes that are not UTF-8 is refused; of UTF-8, kept.
        #[test]
        fn values_must_be_utf8(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            let raw = format!("k {}", STANDARD.encode(&bytes));
            match String::from_utf8(bytes) {
                Ok(text) => {
                    prop_assert_eq!(parse_metadata(&raw).ok().and_then(|m| m.get("k").cloned()), Some(text));
                }
                Err(_) => prop_assert!(parse_metadata(&raw).is_err(), "{}", raw),
            }
        }

        /// A value with a character base64 does not have is refused, wherever it is.
        #[test]
        fn values_must_be_base64(
            before in "[A-Za-z0-9+/]{0,12}",
            bad in "[^A-Za-z0-9+/=\\s,]",
            after in "[A-Za-z0-9+/=]{0,12}",
        ) {
            let raw = format!("filename {before}{bad}{after}");
            prop_assert!(parse_metadata(&raw).is_err());
        }

        /// The folder a finished upload goes to is the `folder_id` the client named.
        #[test]
        fn folder_of_reads_the_folder_id(bits in any::<u128>(), others in prop::collection::vec(pair(), 0..4)) {
            let id = uuid::Uuid::from_u128(bits);
            let others: Vec<Pair> = others.into_iter().filter(|p| p.0 != "folder_id").collect();
            let raw = format!("{},folder_id {}", write(&others), STANDARD.encode(id.to_string()));
            prop_assert_eq!(folder_of(&raw), Some(id.into()), "{}", raw);
        }
    }
}
