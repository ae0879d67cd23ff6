//! The read cache: finished response bodies of the hot reads (a video, its comments, a
//! channel's videos, the home feed, search), kept in the process with the [stamps](Stamps) of
//! what they were built from. A hit costs one look at the stamps (memory on one process, one
//! Redis round trip across replicas) instead of the queries; a write anywhere changes a stamp
//! ([`stamped`]), so the next read on every replica builds afresh. Each kept read carries its
//! `ETag`, so a client holding it gets a 304.
//!
//! Order matters: the stamps are read *before* the body is built, so a write that lands while
//! a body is being built leaves it under stamps that are already old, and it is never served.

mod coalesced;
mod stamped;

pub use coalesced::CoalescedStamps;
pub use stamped::{StampedCommentRepo, StampedRatingRepo, StampedVideoRepo};

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::Result;
use crate::ports::{Scope, Stamps};

/// A finished body and its validator.
#[derive(Debug)]
pub struct Read {
    pub body: Bytes,
    /// A strong `ETag`, quoted.
    pub etag: String,
    stamps: Vec<u64>,
}

impl Read {
    fn new(body: Vec<u8>, stamps: Vec<u64>) -> Self {
        Read { etag: etag_of(&body), body: Bytes::from(body), stamps }
    }

    /// A body built for one caller, not kept.
    pub fn built(body: Vec<u8>) -> Self {
        Self::new(body, Vec::new())
    }
}

/// A strong `ETag` for `body`: the first 128 bits of its SHA-256, hex, quoted.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..16]))
}

#[derive(Clone)]
pub struct ReadCache {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    entries: moka::sync::Cache<String, Arc<Read>>,
    stamps: Arc<dyn Stamps>,
}

impl ReadCache {
    /// No cache: every read is built.
    pub fn off() -> Self {
        ReadCache { inner: None }
    }

    /// Keeps up to `max_bytes` of bodies, each at most `ttl` (a bound for a stamp change that
    /// never arrived: a shared stamp store that was down during a write).
    pub fn new(stamps: Arc<dyn Stamps>, max_bytes: u64, ttl: Duration) -> Self {
        if max_bytes == 0 || ttl.is_zero() {
            return Self::off();
        }
        let entries = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &String, v: &Arc<Read>| {
                u32::try_from(k.len() + v.body.len() + v.etag.len() + 64).unwrap_or(u32::MAX)
            })
            .time_to_live(ttl)
            .build();
        ReadCache { inner: Some(Arc::new(Inner { entries, stamps })) }
    }

    /// The read kept under `key` if nothing in `scopes` changed since it was built; otherwise
    /// `build`'s body, kept for the next caller. `key` names the read exactly (route,
    /// parameters, and the viewer when the body depends on who asks) and always goes with the
    /// same `scopes`. A failed build is not kept.
    pub async fn get_or_build<F, Fut>(&self, key: String, scopes: &[Scope], build: F) -> Result<Arc<Read>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<u8>>>,
    {
        let Some(inner) = &self.inner else {
            return Ok(Arc::new(Read::new(build().await?, Vec::new())));
        };
        let stamps = match inner.stamps.current(scopes).await {
            Ok(stamps) => stamps,
            Err(e) => {
                // The stamp store is down: nothing kept can be trusted, but the read can be built.
                tracing::debug!(error = %e, "read cache bypassed: stamps unavailable");
                metrics::counter!("read_cache_total", "outcome" => "bypass").increment(1);
                return Ok(Arc::new(Read::new(build().await?, Vec::new())));
            }
        };
        if let Some(kept) = inner.entries.get(&key)
            && kept.stamps == stamps
        {
            metrics::counter!("read_cache_total", "outcome" => "hit").increment(1);
            return Ok(kept);
        }
        metrics::counter!("read_cache_total", "outcome" => "miss").increment(1);
        let read = Arc::new(Read::new(build().await?, stamps));
        inner.entries.insert(key, read.clone());
        Ok(read)
    }

    /// Whether reads are kept at all.
    pub fn is_on(&self) -> bool {
        self.inner.is_some()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use async_trait::async_trait;

    use super::*;
    use crate::Error;
    use crate::ids::VideoId;

    #[derive(Default)]
    struct MapStamps {
        map: Mutex<HashMap<Scope, u64>>,
        down: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl Stamps for MapStamps {
        async fn current(&self, scopes: &[Scope]) -> Result<Vec<u64>> {
            if self.down.load(Ordering::SeqCst) {
                return Err(Error::unavailable("stamps", std::io::Error::other("down")));
            }
            let map = self.map.lock().unwrap();
            Ok(scopes.iter().map(|s| map.get(s).copied().unwrap_or(0)).collect())
        }
        async fn bump(&self, scopes: &[Scope]) -> Result<()> {
            let mut map = self.map.lock().unwrap();
            for s in scopes {
                *map.entry(*s).or_default() += 1;
            }
            Ok(())
        }
    }

    fn counting(builds: &AtomicU32, body: &'static str) -> impl Future<Output = Result<Vec<u8>>> {
        builds.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(body.as_bytes().to_vec()))
    }

    #[tokio::test]
    async fn a_read_is_kept_until_a_scope_it_depends_on_changes() {
        let stamps = Arc::new(MapStamps::default());
        let cache = ReadCache::new(stamps.clone(), 1 << 20, Duration::from_secs(60));
        let (v, other) = (VideoId::from(crate::ids::new_id()), VideoId::from(crate::ids::new_id()));
        let scopes = [Scope::Video(v), Scope::Comments(v)];
        let builds = AtomicU32::new(0);
        let a = cache.get_or_build("k".into(), &scopes, || counting(&builds, "one")).await.unwrap();
        let b = cache.get_or_build("k".into(), &scopes, || counting(&builds, "two")).await.unwrap();
        assert_eq!((a.body.as_ref(), b.body.as_ref(), builds.load(Ordering::SeqCst)), (&b"one"[..], &b"one"[..], 1));
        assert_eq!(a.etag, etag_of(b"one"));
        stamps.bump(&[Scope::Comments(other), Scope::Videos]).await.unwrap();
        let c = cache.get_or_build("k".into(), &scopes, || counting(&builds, "three")).await.unwrap();
        assert_eq!(c.body.as_ref(), b"one", "another video's comments and the listings are not this read's");
        stamps.bump(&[Scope::Comments(v)]).await.unwrap();
        let d = cache.get_or_build("k".into(), &scopes, || counting(&builds, "four")).await.unwrap();
        assert_eq!((d.body.as_ref(), builds.load(Ordering::SeqCst)), (&b"four"[..], 2));
        assert_ne!(d.etag, a.etag);
    }

    #[tokio::test]
    async fn a_write_during_a_build_leaves_that_body_unserved() {
        let stamps = Arc::new(MapStamps::default());
        let cache = ReadCache::new(stamps.clone(), 1 << 20, Duration::from_secs(60));
        let scopes = [Scope::Videos];
        // The build reads the old rows; the write commits and bumps before the build ends.
        let s = stamps.clone();
        let old = cache
            .get_or_build("k".into(), &scopes, || async move {
                s.bump(&[Scope::Videos]).await?;
                Ok(b"old".to_vec())
            })
            .await
            .unwrap();
        assert_eq!(old.body.as_ref(), b"old", "the caller that built it gets it");
        let next = cache.get_or_build("k".into(), &scopes, || async { Ok(b"new".to_vec()) }).await.unwrap();
        assert_eq!(next.body.as_ref(), b"new");
    }

    #[tokio::test]
    async fn failures_are_not_kept_and_a_down_stamp_store_bypasses_the_cache() {
        let stamps = Arc::new(MapStamps::default());
        let cache = ReadCache::new(stamps.clone(), 1 << 20, Duration::from_secs(60));
        let scopes = [Scope::Videos];
        let err = cache.get_or_build("k".into(), &scopes, || async { Err(Error::NotFound("video")) }).await;
        assert!(matches!(err, Err(Error::NotFound(_))));
        cache.get_or_build("k".into(), &scopes, || async { Ok(b"kept".to_vec()) }).await.unwrap();
        stamps.down.store(true, Ordering::SeqCst);
        let r = cache.get_or_build("k".into(), &scopes, || async { Ok(b"fresh".to_vec()) }).await.unwrap();
        assert_eq!(r.body.as_ref(), b"fresh", "kept reads are not trusted without their stamps");
        stamps.down.store(false, Ordering::SeqCst);
        let r = cache.get_or_build("k".into(), &scopes, || async { Ok(b"again".to_vec()) }).await.unwrap();
        assert_eq!(r.body.as_ref(), b"kept");
    }

    #[tokio::test]
    async fn an_off_cache_builds_every_time() {
        let builds = AtomicU32::new(0);
        for cache in [ReadCache::off(), ReadCache::new(Arc::new(MapStamps::default()), 0, Duration::from_secs(1))] {
            assert!(!cache.is_on());
            cache.get_or_build("k".into(), &[Scope::Videos], || counting(&builds, "x")).await.unwrap();
            cache.get_or_build("k".into(), &[Scope::Videos], || counting(&builds, "x")).await.unwrap();
        }
        assert_eq!(builds.load(Ordering::SeqCst), 4);
    }
}
