//! Caps on open live connections, per replica and per client: each holds a subscription and a
//! socket, so a burst of connections from one client must not take every seat.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::{Error, Result};

#[derive(Default)]
struct Taken {
    total: usize,
    by_client: HashMap<String, usize>,
}

#[derive(Clone)]
pub struct Seats {
    taken: Arc<Mutex<Taken>>,
    max: usize,
    per_client: usize,
}

/// One open connection's seat, given back when dropped.
pub struct Seat {
    taken: Arc<Mutex<Taken>>,
    client: String,
}

impl Seats {
    pub fn new(max: usize, per_client: usize) -> Self {
        Self { taken: Arc::default(), max, per_client }
    }

    /// A seat for `client`: 429 when the client holds its share, 503 when the replica is full.
    pub fn take(&self, client: &str) -> Result<Seat> {
        let mut t = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        if t.by_client.get(client).copied().unwrap_or(0) >= self.per_client {
            return Err(Error::TooManyRequests { retry_after: Duration::from_secs(5) });
        }
        if t.total >= self.max {
            return Err(Error::retry_later("this replica has no room for another live connection"));
        }
        t.total += 1;
        *t.by_client.entry(client.to_owned()).or_default() += 1;
        Ok(Seat { taken: self.taken.clone(), client: client.to_owned() })
    }

    /// Seats taken now.
    pub fn taken(&self) -> usize {
        self.taken.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut t = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        t.total -= 1;
        if let Some(n) = t.by_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                t.by_client.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_holds_its_share_and_the_replica_its_total() {
        let seats = Seats::new(3, 2);
        let a1 = seats.take("a").unwrap();
        let _a2 = seats.take("a").unwrap();
        assert!(matches!(seats.take("a"), Err(Error::TooManyRequests { .. })));
        let _b = seats.take("b").unwrap();
        assert!(matches!(seats.take("c"), Err(Error::Unavailable { .. })), "the replica is full");
        drop(a1);
        assert_eq!(seats.taken(), 2);
        let _c = seats.take("c").unwrap();
        assert!(matches!(seats.take("a"), Err(Error::Unavailable { .. })));
    }
}
