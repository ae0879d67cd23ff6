//! Redis adapters on fred, shared by every replica: the session store, the login throttle, the
//! event bus (pub/sub) and viewer counts (sorted sets).

mod bus;
mod client;
mod sessions;
mod throttle;
mod viewers;

pub use bus::RedisBus;
pub use client::RedisClient;
pub use sessions::RedisSessionStore;
pub use throttle::RedisLoginThrottle;
pub use viewers::RedisViewers;
