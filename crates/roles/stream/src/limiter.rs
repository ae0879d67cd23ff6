//! The seed's `ConnLimiter`: at most N concurrent streams per replica. The slot is held by the
//! response body, not the handler, so it is freed when the last byte is sent or the client
//! goes away (hyper drops the body), not when the headers leave.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use streamvault_core::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Clone)]
pub struct StreamLimiter {
    slots: Arc<Semaphore>,
    max: usize,
}

impl StreamLimiter {
    pub fn new(max: usize) -> Self {
        Self { slots: Arc::new(Semaphore::new(max)), max }
    }

    /// A slot, or 429 with `Retry-After` when all are taken.
    pub fn try_acquire(&self) -> Result<Slot, Error> {
        let permit = self.slots.clone().try_acquire_owned().map_err(|_| {
            metrics::counter!("stream_rejected_total").increment(1);
            Error::TooManyRequests { retry_after: Duration::from_secs(1) }
        })?;
        metrics::gauge!("stream_slots_in_use").increment(1.0);
        Ok(Slot { _permit: permit })
    }

    pub fn in_use(&self) -> usize {
        self.max - self.slots.available_permits()
    }
}

/// A taken slot; given back on drop.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        metrics::gauge!("stream_slots_in_use").decrement(1.0);
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
        let l = StreamLimiter::new(2);
        let a = Held::new(futures::stream::iter([1, 2]), l.try_acquire().unwrap());
        let b = Held::new(futures::stream::iter([3]), l.try_acquire().unwrap());
        assert!(l.try_acquire().is_err());
        assert_eq!(l.in_use(), 2);
        let collected: Vec<_> = a.collect().await;
        assert_eq!(collected, [1, 2]);
        assert_eq!(l.in_use(), 1, "finished: slot back");
        drop(b);
        assert_eq!(l.in_use(), 0, "dropped mid-way: slot back");
    }
}
