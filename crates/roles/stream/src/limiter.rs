//! The seed's `ConnLimiter`: at most N concurrent streams per replica, and at most M of them
//! per client address, so that one client cannot take every slot. The slot is held by the
//! response body, not the handler, so it is freed when the last byte is sent, the client goes
//! away, or its connection's write timeout ends a download the client stopped reading (hyper
//! drops the body), not when the headers leave.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use metrics::Gauge;
use streamvault_core::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Clone)]
pub struct StreamLimiter {
    slots: Arc<Semaphore>,
    max: usize,
    per_client: usize,
    clients: Clients,
}

/// Streams in use per client address (an IPv6 client's /64, `ClientOrigin::limit_addr`).
type Clients = Arc<Mutex<HashMap<IpAddr, usize>>>;

fn slots_in_use() -> &'static Gauge {
    static GAUGE: OnceLock<Gauge> = OnceLock::new();
    streamvault_http::observe::kept_gauge(&GAUGE, "stream_slots_in_use")
}

fn refused(why: &'static str) -> Error {
    metrics::counter!("stream_rejected_total", "why" => why).increment(1);
    Error::TooManyRequests { retry_after: Duration::from_secs(1) }
}

impl StreamLimiter {
    pub fn new(max: usize, per_client: usize) -> Self {
        Self { slots: Arc::new(Semaphore::new(max)), max, per_client, clients: Arc::default() }
    }

    fn clients(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        // The map only holds counts, kept right by every Slot's drop.
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for `client` (its address key, when known), or 429 with `Retry-After` when all
    /// slots, or all of this client's, are taken.
    pub fn try_acquire(&self, client: Option<IpAddr>) -> Result<Slot, Error> {
        if let Some(c) = client {
            let mut clients = self.clients();
            let n = clients.entry(c).or_insert(0);
            if *n >= self.per_client {
                return Err(refused("client"));
            }
            *n += 1;
        }
        let held = client.map(|c| (self.clients.clone(), c));
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                drop(Slot { _permit: None, client: held });
                return Err(refused("replica"));
            }
        };
        slots_in_use().increment(1.0);
        Ok(Slot { _permit: Some(permit), client: held })
    }

    pub fn in_use(&self) -> usize {
        self.max - self.slots.available_permits()
    }
}

/// A taken slot; given back on drop.
pub struct Slot {
    _permit: Option<OwnedSemaphorePermit>,
    client: Option<(Clients, IpAddr)>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self._permit.is_some() {
            slots_in_use().decrement(1.0);
        }
        if let Some((clients, key)) = self.client.take() {
            let mut clients = clients.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = clients.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    clients.remove(&key);
                }
            }
        }
    }
}

/// A body stream that holds a slot until it ends or is dropped.
pub struct Held<S> {
    inner: S,
    slot: Option<Slot>,
}

impl<S> Held<S> {
    pub fn new(inner: S, slot: Slot) -> Self {
        Self { inner, slot: Some(slot) }
    }
}

impl<S: Stream + Unpin> Stream for Held<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(None) = next {
            self.slot = None;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn slots_return_when_the_stream_ends_or_is_dropped() {
        let l = StreamLimiter::new(2, 2);
        let a = Held::new(futures::stream::iter([1, 2]), l.try_acquire(None).unwrap());
        let b = Held::new(futures::stream::iter([3]), l.try_acquire(None).unwrap());
        assert!(l.try_acquire(None).is_err());
        assert_eq!(l.in_use(), 2);
        let collected: Vec<_> = a.collect().await;
        assert_eq!(collected, [1, 2]);
        assert_eq!(l.in_use(), 1, "finished: slot back");
        drop(b);
        assert_eq!(l.in_use(), 0, "dropped mid-way: slot back");
    }

    #[test]
    fn one_client_cannot_take_every_slot() {
        let l = StreamLimiter::new(4, 2);
        let [a, b, c, d] = [1, 2, 3, 4].map(|i| Some(IpAddr::from([192, 0, 2, i])));
        let a1 = l.try_acquire(a).unwrap();
        let _a2 = l.try_acquire(a).unwrap();
        assert!(l.try_acquire(a).is_err(), "a third for one client");
        let _b = l.try_acquire(b).unwrap();
        let _c = l.try_acquire(c).unwrap();
        assert!(l.try_acquire(d).is_err(), "the replica is full");
        assert_eq!(l.clients().get(&d.unwrap()), None, "a refused client holds nothing");
        drop(a1);
        let _a3 = l.try_acquire(a).unwrap();
        assert_eq!(l.in_use(), 4);
    }
}
