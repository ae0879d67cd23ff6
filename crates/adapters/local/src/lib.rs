//! In-process adapters: the embedded defaults of ports whose state can live in one process
//! (a single-replica deployment), each with a scale-out adapter elsewhere (Redis).

mod throttle;

pub use throttle::LocalLoginThrottle;
