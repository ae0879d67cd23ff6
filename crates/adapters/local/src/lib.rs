//! In-process adapters: the embedded defaults of ports whose state can live in one process
//! (a single-replica deployment): the login throttle, the event bus, viewer counts. Each has a
//! scale-out adapter in Redis.

mod bus;
mod stamps;
mod throttle;
mod viewers;

pub use bus::LocalBus;
pub use stamps::LocalStamps;
pub use throttle::LocalLoginThrottle;
pub use viewers::LocalViewers;
