//! The `streamvault` binary as a library: command line, wiring of ports to adapters, and the
//! server lifecycle. Tests start servers through [`server::start`].

pub mod app;
pub mod cli;
mod http_server;
pub mod logging;
pub mod server;
#[cfg(target_os = "linux")]
mod zero_copy;
