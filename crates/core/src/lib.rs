//! The domain core of streamvault.
//!
//! Everything here is independent of HTTP and of any storage engine: the roles call the
//! services in this crate, and the services reach state only through the traits in [`ports`],
//! which the crates under `crates/adapters/` implement. Each domain folder holds its models
//! (`model.rs`) and services; ids are typed ([`ids`]); every failure is an [`Error`], which the
//! HTTP edge maps to one status and one public code.

pub mod accounts;
pub mod cleanup;
pub mod drive;
pub mod error;
mod error_code;
pub mod ids;
pub mod live;
pub mod media;
pub mod paging;
pub mod ports;
pub mod quota;
pub mod reads;
pub mod social;
pub mod storage;
mod sweep;
pub mod text;
pub mod uploads;
pub mod videos;

pub use error::{BoxError, Error, ErrorCode, Result};
