//! HTTP plumbing every role shares: the error body, authentication of the caller, JSON bodies,
//! health and readiness, Prometheus metrics and the per-request log line.

pub mod auth;
pub mod body;
pub mod client;
pub mod error;
pub mod health;
pub mod json;
pub mod number;
pub mod observe;
pub mod operator;
pub mod path;
pub mod query;
pub mod resources;
pub mod routes;
pub mod schema;
pub mod shared;
pub mod urls;
pub mod validated;

pub use auth::{Auth, CSRF_COOKIE, HasAccounts, SESSION_COOKIE};
pub use client::{Client, ClientOrigin};
pub use error::ApiError;
pub use json::JsonBody;
pub use query::QueryParams;
