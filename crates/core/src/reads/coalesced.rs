//! Stamp reads that arrive together go to a shared stamp store as one call (group commit, for
//! reads). Across replicas every kept read asks Redis for its stamps; under load most of a
//! replica's cost per read was that round trip (fred's hand-offs, two sockets' system calls and
//! Redis's own), once per request. Here one task sends the reads: while one call is out, the
//! reads that arrive queue, and the next call asks for all their scopes at once.
//!
//! Still exact: a read joins only a call sent *after* it arrived, so a stamp changed before a
//! read began is always seen by it (a write on one replica is in the next read on any other).
//! A read costs at most the call in flight plus its own; an idle store sees one call per read,
//! as before.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use crate::ports::{Scope, Stamps};
use crate::{Error, Result};

/// The most reads answered by one call (so at most this many distinct keys in one `MGET`). A
/// slow store makes batches grow instead of a queue: at [`CALL_TIMEOUT`] this still answers
/// 4,000 reads a second.
const MAX_BATCH: usize = 1024;
/// Reads queued for the next calls (beside the batch of the call that is out). Past this a
/// read is told the stamps are unavailable, and it is built from the database instead (the
/// read cache's bypass), so a store that stalls under a flood costs no memory here.
const MAX_WAITING: usize = 4 * MAX_BATCH;
/// The longest one call may take, whatever the store bounds itself to: a read waits at most
/// the call that is out and its own.
const CALL_TIMEOUT: Duration = Duration::from_millis(250);

type Answer = std::result::Result<Vec<u64>, Arc<str>>;

struct Ask {
    scopes: Vec<Scope>,
    answer: oneshot::Sender<Answer>,
}

/// Wraps a shared store's [`Stamps`]; bumps pass straight through.
pub struct CoalescedStamps {
    inner: Arc<dyn Stamps>,
    asks: mpsc::Sender<Ask>,
}

impl CoalescedStamps {
    /// Starts the task that sends the calls (it ends when this is dropped). Needs a runtime.
    pub fn new(inner: Arc<dyn Stamps>) -> Self {
        Self::with_timeout(inner, CALL_TIMEOUT)
    }

    /// With another bound on one call (tests on a loaded machine, where a call to a healthy
    /// store can take longer than the production bound).
    pub fn with_timeout(inner: Arc<dyn Stamps>, timeout: Duration) -> Self {
        let (asks, queue) = mpsc::channel(MAX_WAITING);
        tokio::spawn(send_calls(inner.clone(), queue, timeout));
        CoalescedStamps { inner, asks }
    }
}

async fn send_calls(inner: Arc<dyn Stamps>, mut queue: mpsc::Receiver<Ask>, timeout: Duration) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // `recv_many` waits for the first ask, then takes those already queued: all of them arrived
    // before the call below is sent.
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // A caller that went away no longer needs its scopes.
        batch.retain(|ask: &Ask| !ask.answer.is_closed());
        if batch.is_empty() {
            continue;
        }
        let mut index: HashMap<Scope, usize> = HashMap::new();
        let mut scopes = Vec::new();
        for scope in batch.iter().flat_map(|ask| &ask.scopes) {
            index.entry(*scope).or_insert_with(|| {
                scopes.push(*scope);
                scopes.len() - 1
            });
        }
        let result: std::result::Result<Vec<u64>, Arc<str>> =
            match tokio::time::timeout(timeout, inner.current(&scopes)).await {
                Ok(Ok(stamps)) if stamps.len() == scopes.len() => Ok(stamps),
                // Never index past an answer that is short: that would end this task, and with it
                // the cache, for the life of the process.
                Ok(Ok(stamps)) => Err(format!("the store answered {} of {} stamps", stamps.len(), scopes.len()).into()),
                Ok(Err(e)) => Err(e.to_string().into()),
                Err(_) => Err(format!("no answer within {} ms", timeout.as_millis()).into()),
            };
        for ask in batch.drain(..) {
            let answer = match &result {
                Ok(stamps) => Ok(ask.scopes.iter().map(|s| stamps[index[s]]).collect()),
                Err(e) => Err(e.clone()),
            };
            let _ = ask.answer.send(answer);
        }
    }
}

#[async_trait]
impl Stamps for CoalescedStamps {
    async fn current(&self, scopes: &[Scope]) -> Result<Vec<u64>> {
        let (answer, answered) = oneshot::channel();
        self.asks.try_send(Ask { scopes: scopes.to_vec(), answer }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Error::retry_later("stamps: too many reads waiting"),
            mpsc::error::TrySendError::Closed(_) => Error::retry_later("stamps: the reading task has ended"),
        })?;
        answered
            .await
            .map_err(|_| Error::retry_later("stamps: the reading task has ended"))?
            .map_err(|e| Error::retry_later(format!("stamps: {e}")))
    }

    async fn bump(&self, scopes: &[Scope]) -> Result<()> {
        self.inner.bump(scopes).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::ids::{VideoId, new_id};

    /// A store whose reads take a while and are counted.
    #[derive(Default)]
    struct SlowStamps {
        map: Mutex<HashMap<Scope, u64>>,
        calls: AtomicU32,
        down: AtomicBool,
    }

    #[async_trait]
    impl Stamps for SlowStamps {
        async fn current(&self, scopes: &[Scope]) -> Result<Vec<u64>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            // The values are those at the moment the call is sent, as Redis answers an MGET.
            let values: Vec<u64> = {
                let map = self.map.lock().unwrap();
                scopes.iter().map(|s| map.get(s).copied().unwrap_or(0)).collect()
            };
            tokio::time::sleep(Duration::from_millis(20)).await;
            if self.down.load(Ordering::SeqCst) {
                return Err(Error::unavailable("stamps", std::io::Error::other("down")));
            }
            Ok(values)
        }
        async fn bump(&self, scopes: &[Scope]) -> Result<()> {
            let mut map = self.map.lock().unwrap();
            for s in scopes {
                *map.entry(*s).or_default() += 1;
            }
            Ok(())
        }
    }

    fn video() -> VideoId {
        VideoId::from(new_id())
    }

    #[tokio::test]
    async fn reads_that_arrive_together_share_calls_and_each_gets_its_own_scopes() {
        let store = Arc::new(SlowStamps::default());
        let stamps = Arc::new(CoalescedStamps::new(store.clone()));
        let videos: Vec<VideoId> = (0..50).map(|_| video()).collect();
        for (i, v) in videos.iter().enumerate() {
            for _ in 0..i {
                store.bump(&[Scope::Comments(*v)]).await.unwrap();
            }
        }
        let reads = videos.iter().enumerate().map(|(i, v)| {
            let stamps = stamps.clone();
            let v = *v;
            tokio::spawn(async move { (i, stamps.current(&[Scope::Videos, Scope::Comments(v)]).await.unwrap()) })
        });
        for read in futures::future::join_all(reads).await {
            let (i, got) = read.unwrap();
            assert_eq!(got, vec![0, i as u64]);
        }
        let calls = store.calls.load(Ordering::SeqCst);
        assert!(calls <= 3, "50 reads at once made {calls} calls");
    }

    #[tokio::test]
    async fn a_read_never_joins_a_call_sent_before_it_arrived() {
        let store = Arc::new(SlowStamps::default());
        let stamps = Arc::new(CoalescedStamps::new(store.clone()));
        let v = video();
        // A read is in flight with the old stamp; a write lands; a read that begins now must
        // see the write even though a call for the same scope is still out.
        let early = {
            let stamps = stamps.clone();
            tokio::spawn(async move { stamps.current(&[Scope::Video(v)]).await.unwrap() })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        stamps.bump(&[Scope::Video(v)]).await.unwrap();
        let late = stamps.current(&[Scope::Video(v)]).await.unwrap();
        assert_eq!(early.await.unwrap(), vec![0]);
        assert_eq!(late, vec![1]);
        assert_eq!(store.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_call_fails_each_read_in_it_and_the_next_ones_go_on() {
        let store = Arc::new(SlowStamps::default());
        let stamps = Arc::new(CoalescedStamps::new(store.clone()));
        store.down.store(true, Ordering::SeqCst);
        let reads = (0..5).map(|_| {
            let stamps = stamps.clone();
            tokio::spawn(async move { stamps.current(&[Scope::Videos]).await })
        });
        for read in futures::future::join_all(reads).await {
            assert!(matches!(read.unwrap(), Err(Error::Unavailable { .. })));
        }
        store.down.store(false, Ordering::SeqCst);
        assert_eq!(stamps.current(&[Scope::Videos]).await.unwrap(), vec![0]);
    }

    /// A store that never answers.
    #[derive(Default)]
    struct StuckStamps {
        called: AtomicBool,
    }

    #[async_trait]
    impl Stamps for StuckStamps {
        async fn current(&self, _: &[Scope]) -> Result<Vec<u64>> {
            self.called.store(true, Ordering::SeqCst);
            std::future::pending().await
        }
        async fn bump(&self, _: &[Scope]) -> Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_stalled_store_turns_reads_away_once_the_queue_is_full() {
        let store = Arc::new(StuckStamps::default());
        let stamps = Arc::new(CoalescedStamps::with_timeout(store.clone(), Duration::from_secs(600)));
        let read = || {
            let stamps = stamps.clone();
            tokio::spawn(async move { stamps.current(&[Scope::Videos]).await })
        };
        // One call goes out and never returns...
        let mut waiting = vec![read()];
        let called = async {
            while !store.called.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), called).await.expect("the call went out");
        // ...the reads after it fill the queue...
        waiting.extend((0..MAX_WAITING).map(|_| read()));
        let full = async {
            while stamps.asks.capacity() > 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), full).await.expect("the queue filled");
        assert!(waiting.iter().all(|w| !w.is_finished()), "all of them are waiting");
        // ...and the next is turned away at once, to be built from the database.
        let refused = tokio::time::timeout(Duration::from_secs(5), stamps.current(&[Scope::Videos])).await;
        assert!(matches!(&refused, Ok(Err(e)) if e.to_string().contains("too many reads waiting")), "{refused:?}");
        for w in waiting {
            w.abort();
        }
    }

    #[tokio::test]
    async fn a_store_that_never_answers_fails_its_reads_after_the_bound() {
        let stamps = CoalescedStamps::with_timeout(Arc::new(StuckStamps::default()), Duration::from_millis(50));
        let got = tokio::time::timeout(Duration::from_secs(10), stamps.current(&[Scope::Videos])).await;
        assert!(matches!(&got, Ok(Err(e)) if e.to_string().contains("no answer within 50 ms")), "{got:?}");
    }

    /// A store that answers fewer stamps than it was asked for.
    struct ShortStamps;

    #[async_trait]
    impl Stamps for ShortStamps {
        async fn current(&self, _: &[Scope]) -> Result<Vec<u64>> {
            Ok(vec![1])
        }
        async fn bump(&self, _: &[Scope]) -> Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_short_answer_fails_the_read_and_the_task_lives_on() {
        let stamps = CoalescedStamps::new(Arc::new(ShortStamps));
        let v = video();
        for _ in 0..2 {
            let got = stamps.current(&[Scope::Videos, Scope::Video(v)]).await;
            assert!(matches!(&got, Err(e) if e.to_string().contains("answered 1 of 2")), "{got:?}");
        }
        assert_eq!(stamps.current(&[Scope::Videos]).await.unwrap(), vec![1]);
    }

    #[tokio::test]
    async fn a_caller_that_goes_away_stalls_nobody() {
        let store = Arc::new(SlowStamps::default());
        let stamps = Arc::new(CoalescedStamps::new(store.clone()));
        for _ in 0..10 {
            let stamps = stamps.clone();
            let read = tokio::spawn(async move { stamps.current(&[Scope::Videos]).await });
            tokio::time::sleep(Duration::from_millis(1)).await;
            read.abort();
        }
        let got = tokio::time::timeout(Duration::from_secs(2), stamps.current(&[Scope::Videos])).await;
        assert_eq!(got.expect("answered").unwrap(), vec![0]);
    }
}
