/// A setting that cannot be used, named by the key an operator would set.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {key}{source_hint}: {message}")]
pub struct ConfigError {
    /// The environment-variable spelling of the key, e.g. `STREAMVAULT_LISTEN`.
    pub key: String,
    /// Where the bad value came from, e.g. " (from config.toml)".
    pub source_hint: String,
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(field: &str, source_hint: String, message: impl Into<String>) -> Self {
        Self { key: env_name(field), source_hint, message: message.into() }
    }
}

pub(crate) fn env_name(field: &str) -> String {
    format!("STREAMVAULT_{}", field.to_ascii_uppercase())
}
