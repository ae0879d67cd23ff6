//! Redis adapters on fred, shared by every replica: the session store, the login throttle, the
//! event bus (pub/sub), viewer counts (sorted sets) and the stamps of cached reads.

mod bus;
mod client;
mod sessions;
mod stamps;
mod throttle;
mod viewers;

pub use bus::RedisBus;
pub use client::RedisClient;
pub use sessions::RedisSessionStore;
pub use stamps::RedisStamps;
pub use throttle::RedisLoginThrottle;
pub use viewers::RedisViewers;
