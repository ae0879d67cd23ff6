use std::io::IsTerminal;

use streamvault_config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Logs go to stderr: JSON when it is not a terminal (a service manager or a collector reads
/// them), human-readable text otherwise.
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().flatten_event(true).with_span_list(false).try_init() } else { builder.try_init() };
}
