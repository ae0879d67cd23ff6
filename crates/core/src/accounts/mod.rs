//! Accounts and sessions: sign-up, login, authentication of a bearer token, logout.

mod model;
mod password;
mod service;
mod session_cache;
mod token;
mod username;

pub use model::*;
pub use password::{PasswordHasher, validate_password};
pub use service::{Accounts, Authenticated, ClientInfo, Issued, SessionPolicy, now_ms};
pub use session_cache::{SESSIONS_TOPIC, SessionCache};
pub use token::{SessionToken, hash_token};
pub use username::{username_key, validate_username};
