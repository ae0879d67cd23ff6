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
}

/// One open connection's seat, given back when dropped.
pub struct Seat {
    taken: Arc<Mutex<Taken>>,
    holders: Vec<String>,
}

impl Seats {
    pub fn new(max: usize) -> Self {
        Self { taken: Arc::default(), max }
    }

    /// A seat counted against each of `holders` (a key and its share: the user, and the
    /// address it comes from): 429 when one of them holds its share, 503 when the replica is
    /// full.
    pub fn take(&self, holders: &[(String, usize)]) -> Result<Seat> {
        let mut t = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        if holders.iter().any(|(k, share)| t.by_client.get(k).copied().unwrap_or(0) >= *share) {
            return Err(Error::TooManyRequests { retry_after: Duration::from_secs(5) });
        }
        if t.total >= self.max {
            return Err(Error::retry_later("this replica has no room for another live connection"));
        }
        t.total += 1;
        for (k, _) in holders {
            *t.by_client.entry(k.clone()).or_default() += 1;
        }
        Ok(Seat { taken: self.taken.clone(), holders: holders.iter().map(|(k, _)| k.clone()).collect() })
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
        for k in &self.holders {
            if let Some(n) = t.by_client.get_mut(k) {
                *n -= 1;
                if *n == 0 {
                    t.by_client.remove(k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_holds_its_share_and_the_replica_its_total() {
        let seats = Seats::new(3);
        let one = |k: &str| vec![(k.to_owned(), 2)];
        let a1 = seats.take(&one("a")).unwrap();
        let _a2 = seats.take(&one("a")).unwrap();
        assert!(matches!(seats.take(&one("a")), Err(Error::TooManyRequests { .. })));
        let _b = seats.take(&one("b")).unwrap();
        assert!(matches!(seats.take(&one("c")), Err(Error::Unavailable { .. })), "the replica is full");
        drop(a1);
        assert_eq!(seats.taken(), 2);
        let _c = seats.take(&one("c")).unwrap();
        assert!(matches!(seats.take(&one("a")), Err(Error::Unavailable { .. })));
    }

    #[test]
    fn users_from_one_address_share_its_seats() {
        let seats = Seats::new(100);
        let from = |user: &str| vec![(user.to_owned(), 2), ("addr".to_owned(), 3)];
        let _u1 = seats.take(&from("u1")).unwrap();
        let _u2 = seats.take(&from("u1")).unwrap();
        let u3 = seats.take(&from("u2")).unwrap();
        assert!(matches!(seats.take(&from("u3")), Err(Error::TooManyRequests { .. })), "the address is full");
        drop(u3);
        let _u4 = seats.take(&from("u3")).unwrap();
    }
}
