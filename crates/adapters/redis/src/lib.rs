//! Redis adapters on fred: the session store and the login throttle that every replica shares.

mod client;
mod sessions;
mod throttle;

pub use client::RedisClient;
pub use sessions::RedisSessionStore;
pub use throttle::RedisLoginThrottle;
