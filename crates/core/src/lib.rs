//! The domain core of streamvault.
//!
//! Everything here is independent of HTTP and of any storage engine: the roles call the
//! services in this crate, and the services reach state only through the traits in [`ports`],
//! which the adapter crates (`streamvault-metadata`, `streamvault-redis`) implement.

pub mod accounts;
pub mod cleanup;
pub mod drive;
pub mod error;
pub mod ids;
pub mod media;
pub mod paging;
pub mod ports;
pub mod quota;
pub mod storage;
mod sweep;
pub mod text;
pub mod uploads;
pub mod videos;

pub use error::{Error, Result};
