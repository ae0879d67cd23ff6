//! Behaviour every adapter of a port must show, run against each real backend.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use streamvault_core::ErrorCode;

use chrono::{DateTime, Utc};
use streamvault_core::Error;
use streamvault_core::accounts::{Session, User};
use streamvault_core::ids::{Id, SessionId, UploadId, UserId};
use streamvault_core::ports::{
    Acquired, AppendRecord, AppendedBytes, BlobStore, EventBus, Job, JobQueue, LeasedJob, Limit, LoginThrottle, Missed,
    NewJob, QuotaLedger, SUBSCRIBER_BACKLOG, SessionStore, Subscription, UploadRepo, UserRepo, ViewerRegistry,
    Watching, blob_key,
};
use streamvault_core::ports::{Scope, Stamps, ViewRun};
use streamvault_core::uploads::{Concat, Upload};
use uuid::Uuid;

use crate::unique_name;

fn now_ms() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap()
}

fn user(name: &str) -> User {
    User {
        id: UserId::new(),
        name: name.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$x$y".into(),
        created_at: now_ms(),
    }
}

pub async fn user_repo(repo: Arc<dyn UserRepo>) {
    let name = unique_name("Ann_");
    let u = user(&name);
    repo.insert(&u).await.unwrap();
    assert_eq!(repo.find_by_id(u.id).await.unwrap().as_ref(), Some(&u), "round-trips exactly");
    assert_eq!(repo.find_by_name(&name.to_lowercase()).await.unwrap().as_ref(), Some(&u), "lookup ignores case");
    assert_eq!(repo.find_by_name(&name.to_uppercase()).await.unwrap().as_ref(), Some(&u));
    assert_eq!(repo.find_by_name("nobody-here").await.unwrap(), None);
    assert_eq!(repo.find_by_id(UserId::new()).await.unwrap(), None);

    let dup = repo.insert(&user(&name.to_uppercase())).await.unwrap_err();
    assert!(matches!(dup, Error::Conflict { code: ErrorCode::UsernameTaken, .. }), "{dup:?}");

    // Racing inserts of one name: exactly one wins, the rest are conflicts, never a 500.
    let contested = unique_name("race_");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let repo = repo.clone();
            let name = contested.clone();
            tokio::spawn(async move { repo.insert(&user(&name)).await })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => wins += 1,
            Err(Error::Conflict { .. }) => {}
            Err(other) => panic!("unexpected error in a racing insert: {other:?}"),
        }
    }
    assert_eq!(wins, 1);
}

/// `users` must hold the ids used here, for stores that enforce the foreign key.
pub async fn session_store(store: Arc<dyn SessionStore>, users: Arc<dyn UserRepo>) {
    let idle = Duration::from_secs(3600);
    let alice = user(&unique_name("alice_"));
    let bob = user(&unique_name("bob_"));
    users.insert(&alice).await.unwrap();
    users.insert(&bob).await.unwrap();

    let session = |u: &User, ua: Option<&str>| {
        let now = now_ms();
        Session {
            id: SessionId::new(),
            token_hash: format!("{:064x}", Uuid::now_v7().as_u128()),
            user_id: u.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + chrono::Duration::hours(1),
            user_agent: ua.map(str::to_owned),
        }
    };
    let a1 = session(&alice, Some("Mozilla/5.0 ünïcödé 🎬 'quoted' \"double\""));
    let a2 = session(&alice, None);
    let b1 = session(&bob, None);
    for s in [&a1, &a2, &b1] {
        store.create(s, idle).await.unwrap();
    }
    assert_eq!(store.find_by_token_hash(&a1.token_hash).await.unwrap().as_ref(), Some(&a1));
    assert_eq!(store.find_by_token_hash(&"0".repeat(64)).await.unwrap(), None);

    let mut listed: Vec<SessionId> = store.list_for_user(alice.id).await.unwrap().iter().map(|s| s.id).collect();
    listed.sort();
    let mut expected = vec![a1.id, a2.id];
    expected.sort();
    assert_eq!(listed, expected);

    let later = a1.last_seen_at + chrono::Duration::seconds(30);
    store.touch(&a1, later, idle).await.unwrap();
    assert_eq!(store.find_by_token_hash(&a1.token_hash).await.unwrap().unwrap().last_seen_at, later);

    assert!(!store.delete(bob.id, a1.id).await.unwrap(), "another user's session is not deleted");
    assert!(store.find_by_token_hash(&a1.token_hash).await.unwrap().is_some());
    assert!(store.delete(alice.id, a1.id).await.unwrap());
    assert!(!store.delete(alice.id, a1.id).await.unwrap(), "deleting twice finds nothing");
    assert_eq!(store.find_by_token_hash(&a1.token_hash).await.unwrap(), None);
    store.touch(&a1, later, idle).await.unwrap();
    assert_eq!(store.find_by_token_hash(&a1.token_hash).await.unwrap(), None, "a touch does not resurrect");

    let a3 = session(&alice, None);
    store.create(&a3, idle).await.unwrap();
    assert_eq!(store.delete_all_for_user(alice.id, Some(a3.id)).await.unwrap(), 1);
    let left: Vec<SessionId> = store.list_for_user(alice.id).await.unwrap().iter().map(|s| s.id).collect();
    assert_eq!(left, vec![a3.id]);
    assert_eq!(store.list_for_user(bob.id).await.unwrap().len(), 1, "bob is untouched");

    // Expired by the absolute deadline: purged (or, in stores with native expiry, gone).
    let mut old = session(&bob, None);
    old.created_at = now_ms() - chrono::Duration::hours(2);
    old.last_seen_at = now_ms();
    old.expires_at = now_ms() + chrono::Duration::milliseconds(300);
    store.create(&old, idle).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    store.purge_expired(Utc::now(), idle).await.unwrap();
    assert_eq!(store.find_by_token_hash(&old.token_hash).await.unwrap(), None);
    assert!(store.find_by_token_hash(&b1.token_hash).await.unwrap().is_some(), "live sessions survive a purge");
}

/// A job told apart from the others by `tag` (any kind will do: queues do not look inside).
pub fn tagged_job(tag: &str, dedup: Option<String>) -> NewJob {
    NewJob { job: Job::CollectBlob { sha256: tag.into() }, run_at: Utc::now(), dedup_key: dedup }
}

fn tag_of(j: &LeasedJob) -> String {
    match j.job().unwrap() {
        Job::CollectBlob { sha256 } => sha256,
        other => panic!("not a tagged job: {other:?}"),
    }
}

/// `t` without its sub-millisecond part.
pub fn whole_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).expect("in range")
}

/// Polls `lease` until a job comes or `within` passes: a broker delivers asynchronously, the
/// SQL queue at once.
pub async fn next_job(q: &dyn JobQueue, worker: &str, lease: Duration, within: Duration) -> Option<LeasedJob> {
    let start = std::time::Instant::now();
    loop {
        if let Some(j) = q.lease(worker, lease).await.unwrap() {
            return Some(j);
        }
        if start.elapsed() >= within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What every job queue does, in the database or through a broker: a job is delivered once
/// and done is done; a failure waits for its retry time, then goes to the dead letters;
/// de-duplication by key while pending; workers draining jobs get each exactly once.
pub async fn job_queue(q: Arc<dyn JobQueue>) {
    let (lease, wait, quiet) = (Duration::from_secs(60), Duration::from_secs(5), Duration::from_millis(400));
    assert!(next_job(q.as_ref(), "w1", lease, quiet).await.is_none(), "empty");

    // One holder at a time; done is done.
    q.enqueue(&tagged_job("a", None)).await.unwrap();
    let j = next_job(q.as_ref(), "w1", lease, wait).await.expect("due job");
    assert_eq!((tag_of(&j).as_str(), j.attempt), ("a", 1));
    assert!(next_job(q.as_ref(), "w2", lease, quiet).await.is_none(), "leased jobs are not handed out twice");
    q.complete(&j).await.unwrap();
    assert!(next_job(q.as_ref(), "w2", lease, quiet).await.is_none(), "done is done");

    // Retry at a later time, then the dead-letter list.
    q.enqueue(&tagged_job("c", None)).await.unwrap();
    let c1 = next_job(q.as_ref(), "w1", lease, wait).await.unwrap();
    // Whole milliseconds, as queues keep times; watched until shortly before it, however long
    // recording the failure took.
    let retry_at = whole_ms(Utc::now() + chrono::Duration::milliseconds(1500));
    q.fail(&c1, "boom", Some(retry_at)).await.unwrap();
    if let Ok(early) = (retry_at - Utc::now() - chrono::Duration::milliseconds(400)).to_std() {
        assert!(next_job(q.as_ref(), "w1", lease, early).await.is_none(), "not before its retry time");
    }
    let c2 = next_job(q.as_ref(), "w1", lease, wait).await.expect("retried");
    assert!(Utc::now() >= retry_at, "delivered early");
    assert_eq!((c2.id, c2.attempt), (c1.id, 2));
    q.fail(&c2, "boom again", None).await.unwrap();
    assert!(next_job(q.as_ref(), "w1", lease, quiet).await.is_none(), "dead jobs do not run");

    // De-duplication by key while pending; the key is free once the job finished.
    let key = unique_name("k");
    q.enqueue(&tagged_job("d", Some(key.clone()))).await.unwrap();
    q.enqueue(&tagged_job("d", Some(key.clone()))).await.unwrap();
    let d = next_job(q.as_ref(), "w1", lease, wait).await.unwrap();
    assert!(next_job(q.as_ref(), "w2", lease, quiet).await.is_none(), "one job per pending key");
    q.complete(&d).await.unwrap();
    q.enqueue(&tagged_job("d", Some(key))).await.unwrap();
    let d2 = next_job(q.as_ref(), "w1", lease, wait).await.expect("key reusable after completion");
    q.complete(&d2).await.unwrap();

    // Four workers draining twenty jobs: each job exactly once.
    for _ in 0..20 {
        q.enqueue(&tagged_job("e", None)).await.unwrap();
    }
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let q = q.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(j) = next_job(q.as_ref(), &format!("w{w}"), lease, Duration::from_secs(2)).await {
                    got.push(j.id);
                    q.complete(&j).await.unwrap();
                }
                got
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), unique.len()), (20, 20), "every job once, none twice");
}

/// Leases that run out, for a queue that hands out jobs by lease alone (the SQL queue): an
/// expired lease is taken over and its old holder can no longer finish it; a heartbeat keeps
/// a long job's lease. (Through a broker a job is taken over when its worker's connection
/// drops: the adapter's own test shows that.)
pub async fn job_leases(q: Arc<dyn JobQueue>) {
    let lease = Duration::from_secs(60);
    q.enqueue(&tagged_job("b", None)).await.unwrap();
    let first = q.lease("w1", Duration::from_millis(100)).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let second = q.lease("w2", lease).await.unwrap().expect("expired lease is re-leased");
    assert_eq!((second.id, second.attempt), (first.id, 2));
    q.complete(&first).await.unwrap();
    assert_eq!(q.lease("w3", Duration::from_millis(1)).await.unwrap(), None, "the stale holder did not end it");
    q.complete(&second).await.unwrap();

    q.enqueue(&tagged_job("hb", None)).await.unwrap();
    let hb = q.lease("w1", Duration::from_millis(150)).await.unwrap().unwrap();
    assert!(q.extend(&hb, lease).await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(q.lease("w2", lease).await.unwrap(), None, "an extended lease is not taken over");
    q.complete(&hb).await.unwrap();
    assert!(!q.extend(&hb, lease).await.unwrap(), "nothing to extend once done");
}

/// `a` and `b` are two handles on one throttle's state (the same process's, or two replicas'
/// clients of one Redis): every attempt counts on both.
pub async fn login_throttle(a: Arc<dyn LoginThrottle>, b: Arc<dyn LoginThrottle>) {
    let limit = Limit { max: 3, window: Duration::from_secs(2) };
    let key = unique_name("acct:");
    for i in 0..3 {
        let t = if i % 2 == 0 { &a } else { &b };
        assert_eq!(t.attempt(&key, limit).await.unwrap(), None, "attempt {i} is within the limit");
    }
    let wait = b.attempt(&key, limit).await.unwrap().expect("the fourth attempt, on either, is refused");
    assert!(wait <= limit.window && wait > Duration::ZERO, "{wait:?}");
    assert!(a.attempt(&key, limit).await.unwrap().is_some(), "and stays refused");
    assert_eq!(a.attempt(&unique_name("acct:"), limit).await.unwrap(), None, "other keys are not affected");
    tokio::time::sleep(wait + Duration::from_millis(150)).await;
    assert_eq!(a.attempt(&key, limit).await.unwrap(), None, "a new window starts when the last one ends");

    // forgive takes one back; reset forgets all.
    let k2 = unique_name("ip:");
    for _ in 0..3 {
        assert_eq!(a.attempt(&k2, limit).await.unwrap(), None);
    }
    b.forgive(&k2).await.unwrap();
    assert_eq!(a.attempt(&k2, limit).await.unwrap(), None, "a forgiven attempt frees one");
    assert!(a.attempt(&k2, limit).await.unwrap().is_some());
    b.reset(&k2).await.unwrap();
    assert_eq!(a.attempt(&k2, limit).await.unwrap(), None, "reset forgets every attempt");
    a.forgive(&unique_name("none:")).await.unwrap();

    // A burst of 40 concurrent attempts: exactly `max` pass, however they interleave.
    let k3 = unique_name("burst:");
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let t = if i % 2 == 0 { a.clone() } else { b.clone() };
            let k = k3.clone();
            tokio::spawn(async move { t.attempt(&k, Limit { max: 5, window: Duration::from_secs(60) }).await.unwrap() })
        })
        .collect();
    let mut passed = 0;
    for t in tasks {
        if t.await.unwrap().is_none() {
            passed += 1;
        }
    }
    assert_eq!(passed, 5, "a burst cannot get more than the limit through");
}

/// The quota ledger: holds count against a user's limit, a settle sets a hold to the bytes
/// stored, a let-go hold stays gone (a stalled append settling after its upload was terminated
/// must not bring it back), expired holds are reaped.
pub async fn quota_ledger(ledger: Arc<dyn QuotaLedger>, users: Arc<dyn UserRepo>) {
    let u = user(&unique_name("quota_"));
    users.insert(&u).await.unwrap();
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    assert!(ledger.reserve(a, u.id, 600, Some(1000), None).await.unwrap());
    assert!(!ledger.reserve(b, u.id, 500, Some(1000), None).await.unwrap(), "600 + 500 is past 1000");
    assert_eq!(ledger.used(u.id).await.unwrap(), 600, "a refused reservation holds nothing");
    assert!(ledger.reserve(b, u.id, 400, Some(1000), None).await.unwrap());
    assert!(ledger.reserve(b, u.id, 300, Some(1000), None).await.unwrap(), "a hold never shrinks by reserving");
    assert_eq!(ledger.used(u.id).await.unwrap(), 1000);

    ledger.settle(a, u.id, 100).await.unwrap();
    assert_eq!(ledger.used(u.id).await.unwrap(), 500, "settled to what is stored");
    ledger.release(a).await.unwrap();
    assert_eq!(ledger.used(u.id).await.unwrap(), 400);
    ledger.settle(a, u.id, 100).await.unwrap();
    assert_eq!(ledger.used(u.id).await.unwrap(), 400, "a hold let go stays gone");
    ledger.release(Uuid::now_v7()).await.unwrap();
    ledger.settle(b, u.id, 0).await.unwrap();
    assert_eq!(ledger.used(u.id).await.unwrap(), 0, "settling to zero lets go");

    let expiring = Uuid::now_v7();
    let past = Utc::now() - chrono::Duration::seconds(1);
    assert!(ledger.reserve(expiring, u.id, 50, None, Some(past)).await.unwrap());
    assert_eq!(ledger.used(u.id).await.unwrap(), 50);
    assert!(ledger.reap_expired(Utc::now()).await.unwrap() >= 1);
    assert_eq!(ledger.used(u.id).await.unwrap(), 0, "an expired hold is reaped");

    // Racing reservations cannot overshoot the limit together.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let ledger = ledger.clone();
            tokio::spawn(async move { ledger.reserve(Uuid::now_v7(), u.id, 300, Some(1000), None).await.unwrap() })
        })
        .collect();
    let mut granted = 0;
    for t in tasks {
        granted += u64::from(t.await.unwrap());
    }
    assert_eq!(granted, 3, "3 × 300 fit in 1000, a fourth does not");
    assert_eq!(ledger.used(u.id).await.unwrap(), 900);
}

/// The cross-replica lock of a resumable upload, and the appends it guards: one holder at a
/// time; a holder that lost the lock (its lease ran out, another took it over) can neither
/// renew it nor record an append; many writers racing for a free lock, one wins.
pub async fn upload_lock(repo: Arc<dyn UploadRepo>, users: Arc<dyn UserRepo>) {
    let owner = user(&unique_name("up_"));
    users.insert(&owner).await.unwrap();
    let now = now_ms();
    let up = Upload {
        id: UploadId::new(),
        owner_id: owner.id,
        length: Some(100),
        offset: 0,
        metadata: String::new(),
        filename: None,
        video_id: None,
        concat: Concat::None,
        segments: Vec::new(),
        data_file: None,
        parts: Vec::new(),
        result: None,
        hash_state: None,
        expires_at: now + chrono::Duration::hours(1),
        created_at: now,
    };
    repo.insert(&up).await.unwrap();
    let id = up.id;
    let lease = Duration::from_secs(30);
    let append = |holder: &str, from: u64, to: u64| AppendRecord {
        id,
        holder: holder.into(),
        from,
        to,
        bytes: Some(AppendedBytes::File(format!("data-{holder}"))),
        length: None,
        hash_state: None,
        expires_at: now + chrono::Duration::hours(1),
    };

    assert_eq!(repo.acquire(id, "a", lease).await.unwrap(), Some(Acquired::Free));
    assert_eq!(repo.acquire(id, "b", lease).await.unwrap(), None, "held: nobody else gets it");
    assert!(!repo.renew(id, "b", lease).await.unwrap(), "only the holder renews");
    assert!(repo.renew(id, "a", lease).await.unwrap());
    assert!(!repo.record(&append("b", 0, 10)).await.unwrap(), "only the holder records");
    assert!(repo.record(&append("a", 0, 10)).await.unwrap());
    assert_eq!(repo.get(id).await.unwrap().unwrap().offset, 10);
    assert!(!repo.record(&append("a", 0, 20)).await.unwrap(), "an append from a stale offset is refused");
    repo.release(id, "b").await.unwrap();
    assert_eq!(repo.acquire(id, "c", lease).await.unwrap(), None, "a release by another is no release");
    repo.release(id, "a").await.unwrap();

    // A lease that ran out: taken over, and the old holder can never get it back.
    assert_eq!(repo.acquire(id, "d", Duration::from_millis(300)).await.unwrap(), Some(Acquired::Free));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!repo.renew(id, "d", lease).await.unwrap(), "a lapsed lease is not renewed");
    assert_eq!(repo.acquire(id, "e", lease).await.unwrap(), Some(Acquired::TakenOver));
    assert!(!repo.record(&append("d", 10, 20)).await.unwrap(), "the stalled holder writes nothing more");
    assert!(repo.record(&append("e", 10, 20)).await.unwrap());
    repo.release(id, "e").await.unwrap();

    // Eight writers race for the free lock: exactly one wins.
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let repo = repo.clone();
            tokio::spawn(async move { repo.acquire(id, &format!("r{i}"), lease).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for r in racers {
        won += usize::from(r.await.unwrap().is_some());
    }
    assert_eq!(won, 1, "one writer at a time");
    assert_eq!(repo.get(id).await.unwrap().unwrap().offset, 20);
    assert!(repo.delete(id).await.unwrap());
    assert_eq!(repo.acquire(id, "z", lease).await.unwrap(), None, "a deleted upload has no lock");
}

/// Content-addressed storage, local or remote: a stored file reads back whole and by range, the
/// source stays with its owner, deletes are idempotent, and a prefix goes at once.
pub async fn blob_store(store: Arc<dyn BlobStore>, scratch: &std::path::Path) {
    use futures::TryStreamExt;
    let read = |key: String, range: std::ops::Range<u64>| {
        let store = store.clone();
        async move {
            let chunks: Vec<_> = store.read(&key, range).await?.try_collect().await.unwrap();
            Ok::<_, Error>(chunks.concat())
        }
    };
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let src = scratch.join(unique_name("blob-"));
    std::fs::write(&src, &data).unwrap();
    let sha = format!("{:064x}", Uuid::now_v7().as_u128());
    let key = blob_key(&sha);

    assert!(!store.exists(&key).await.unwrap());
    assert_eq!(store.size(&key).await.unwrap(), None);
    // A missing blob fails to read: at once (a directory), or on its first bytes (object
    // storage answers the GET lazily; callers ask `size` first).
    let missing = match store.read(&key, 0..1).await {
        Err(e) => matches!(e, Error::NotFound(_)),
        Ok(stream) => stream.try_collect::<Vec<_>>().await.is_err(),
    };
    assert!(missing, "a missing blob does not read");
    store.put_file(&key, &src, data.len() as u64, "application/octet-stream").await.unwrap();
    assert!(src.exists(), "the source stays with its owner");
    assert!(store.exists(&key).await.unwrap());
    assert_eq!(store.size(&key).await.unwrap(), Some(data.len() as u64));
    assert_eq!(read(key.clone(), 0..data.len() as u64).await.unwrap(), data);
    assert_eq!(read(key.clone(), 65_530..200_001).await.unwrap(), &data[65_530..200_001], "a range");
    store.put_file(&key, &src, data.len() as u64, "application/octet-stream").await.unwrap();
    assert_eq!(read(key.clone(), 0..data.len() as u64).await.unwrap(), data, "storing again changes nothing");
    let presigned = store.presign_get(&key, Duration::from_secs(60), "video/mp4", None).await.unwrap();
    assert_eq!(presigned.is_some(), store.is_remote(), "object storage presigns; a directory cannot");
    store.delete(&key).await.unwrap();
    assert!(!store.exists(&key).await.unwrap());
    store.delete(&key).await.unwrap();

    let video = streamvault_core::ids::VideoId::new();
    let prefix = streamvault_core::ports::media_prefix(video);
    for name in ["poster.jpg", "hls/master.m3u8", "hls/v0/seg0.m4s"] {
        store.put_file(&format!("{prefix}{name}"), &src, data.len() as u64, "application/octet-stream").await.unwrap();
    }
    store.delete_prefix(&prefix).await.unwrap();
    for name in ["poster.jpg", "hls/master.m3u8", "hls/v0/seg0.m4s"] {
        assert!(!store.exists(&format!("{prefix}{name}")).await.unwrap(), "{name} went with its prefix");
    }
    store.delete_prefix(&prefix).await.unwrap();
    std::fs::remove_file(&src).unwrap();
}

/// The next message, within two seconds.
async fn next(s: &mut Subscription) -> Result<Bytes, Missed> {
    tokio::time::timeout(Duration::from_secs(2), s.recv()).await.expect("delivered in time")
}

/// `a` and `b` are two replicas' handles on one event bus (for an in-process bus, the same one
/// twice): a subscriber gets what either publishes on its topic, in order, and nothing of other
/// topics; one that does not read is cut off from what it missed while the others go on.
pub async fn event_bus(a: Arc<dyn EventBus>, b: Arc<dyn EventBus>) {
    let within = Duration::from_secs(2);
    let topic = unique_name("video:");
    let mut on_a = a.subscribe(&topic);
    let mut on_b = b.subscribe(&topic);
    let mut elsewhere = a.subscribe(&unique_name("video:"));
    b.publish(&topic, Bytes::from_static(b"one")).await.unwrap();
    a.publish(&topic, Bytes::from_static(b"two")).await.unwrap();
    for s in [&mut on_a, &mut on_b] {
        assert_eq!(next(s).await.unwrap(), "one");
        assert_eq!(next(s).await.unwrap(), "two", "in order");
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(300), elsewhere.recv()).await.is_err(),
        "other topics hear nothing"
    );

    // A subscriber that stops reading misses what it fell behind by; a reader keeps up.
    let mut stalled = a.subscribe(&topic);
    let total = SUBSCRIBER_BACKLOG + 50;
    let reader = tokio::spawn(async move {
        let mut got = 0;
        while got < total {
            match tokio::time::timeout(within, on_b.recv()).await.expect("the reader keeps getting messages") {
                Ok(_) => got += 1,
                Err(Missed::Lagged(n)) => panic!("a reader that keeps up lost {n}"),
                Err(Missed::Closed) => panic!("closed"),
            }
        }
    });
    for i in 0..total {
        b.publish(&topic, Bytes::from(i.to_string())).await.unwrap();
        // A publisher is a request among others: the reader gets its turn.
        tokio::task::yield_now().await;
    }
    reader.await.unwrap();
    assert!(matches!(next(&mut stalled).await, Err(Missed::Lagged(_))), "the stalled one is told it missed some");
    drop(on_a);
}

/// `a` and `b` are two replicas' handles on one viewer registry (the same one twice in
/// process): a viewer counts once however often and wherever it beats, until it falls silent
/// for the time-to-live; the peak stays.
pub async fn viewer_registry(a: Arc<dyn ViewerRegistry>, b: Arc<dyn ViewerRegistry>) {
    // Times with room for a loaded machine: a beat meant to keep something alive comes well
    // within its limit, one meant to let it lapse comes well past it.
    let ttl = Duration::from_millis(2000);
    let video = streamvault_core::ids::VideoId::new();
    assert_eq!(a.watching(video, ttl).await.unwrap(), Watching::default(), "nobody yet");
    assert_eq!(a.heartbeat(video, "u1", ttl).await.unwrap(), Watching { now: 1, peak: 1 });
    assert_eq!(b.heartbeat(video, "u1", ttl).await.unwrap(), Watching { now: 1, peak: 1 }, "one viewer, two replicas");
    assert_eq!(b.heartbeat(video, "u2", ttl).await.unwrap(), Watching { now: 2, peak: 2 });
    assert_eq!(a.watching(video, ttl).await.unwrap(), Watching { now: 2, peak: 2 });
    assert_eq!(a.watching(streamvault_core::ids::VideoId::new(), ttl).await.unwrap().now, 0, "per video");

    // Concurrent heartbeats of fifty viewers count fifty.
    let beats: Vec<_> = (0..50)
        .map(|i| {
            let r = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { r.heartbeat(video, &format!("v{i}"), ttl).await.unwrap() })
        })
        .collect();
    for t in beats {
        t.await.unwrap();
    }
    assert_eq!(a.watching(video, ttl).await.unwrap(), Watching { now: 52, peak: 52 });

    // u1 keeps beating; everyone else falls silent.
    tokio::time::sleep(Duration::from_millis(1250)).await;
    a.heartbeat(video, "u1", ttl).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1250)).await;
    assert_eq!(b.watching(video, ttl).await.unwrap(), Watching { now: 1, peak: 52 }, "the silent expired");

    // A view: a run of heartbeats 1.5 s long, none more than 2 s apart, across replicas;
    // counted once, then not again for `again`.
    let run =
        ViewRun { need: Duration::from_millis(1500), gap: Duration::from_millis(2000), again: Duration::from_secs(8) };
    let step = Duration::from_millis(300);
    let (views, _) = beat_run(&a, &b, video, "w1", run, step, run.need + step * 2).await;
    assert_eq!(views, 1, "a run past `need` is one view, counted once");
    let (views, _) = beat_run(&a, &b, video, "w1", run, step, run.need + step * 2).await;
    assert_eq!(views, 0, "not again so soon, however long");

    // A gap breaks a run: 0.3 s, then silence past the gap, then a new run.
    assert!(!a.watched(video, "w2", run).await.unwrap());
    tokio::time::sleep(step).await;
    assert!(!a.watched(video, "w2", run).await.unwrap());
    tokio::time::sleep(run.gap * 2).await;
    // The new run's beats are no view until it is `need` long (from its own start, not w2's
    // first beat); then two replicas race on the heartbeat that makes the view: one counts it.
    let (views, start) = beat_run(&a, &b, video, "w2", run, step, run.need - step * 2).await;
    assert_eq!(views, 0, "the gap began a new run");
    tokio::time::sleep_until((start + run.need + Duration::from_millis(500)).into()).await;
    let (x, y) = tokio::join!(a.watched(video, "w2", run), b.watched(video, "w2", run));
    assert_eq!(u8::from(x.unwrap()) + u8::from(y.unwrap()), 1, "one of the racing heartbeats counts it");
}

/// Beats `viewer` every `step`, alternating replicas, until `length` has passed since the
/// first beat; returns how many beats counted a view, and when the first was sent. A beat may
/// only count once the run is `need` long, measured from before its first beat.
async fn beat_run(
    a: &Arc<dyn ViewerRegistry>,
    b: &Arc<dyn ViewerRegistry>,
    video: streamvault_core::ids::VideoId,
    viewer: &str,
    run: ViewRun,
    step: Duration,
    length: Duration,
) -> (usize, std::time::Instant) {
    let start = std::time::Instant::now();
    let mut views = 0;
    for i in 0.. {
        let r = if i % 2 == 0 { a } else { b };
        let counted = r.watched(video, viewer, run).await.unwrap();
        assert!(
            !counted || start.elapsed() >= run.need,
            "counted at {:?}, before the run was long enough",
            start.elapsed()
        );
        views += usize::from(counted);
        if start.elapsed() >= length {
            break;
        }
        tokio::time::sleep(step.min(length.saturating_sub(start.elapsed()))).await;
    }
    (views, start)
}

/// Stamps: `a` and `b` are two replicas' handles on the same store (the same one twice for an
/// in-process store). A bump on either is seen by the next read on both, for that scope only.
pub async fn stamps(a: Arc<dyn Stamps>, b: Arc<dyn Stamps>) {
    let (v, w) = (streamvault_core::ids::VideoId::new(), streamvault_core::ids::VideoId::new());
    let scopes = [Scope::Videos, Scope::Video(v), Scope::Comments(v), Scope::Video(w)];
    let first = a.current(&scopes).await.unwrap();
    assert_eq!(first.len(), scopes.len());
    assert_eq!(b.current(&scopes).await.unwrap(), first, "no write: both replicas see the same stamps");
    assert_eq!(a.current(&scopes).await.unwrap(), first, "reading changes nothing");

    a.bump(&[Scope::Comments(v)]).await.unwrap();
    let after = b.current(&scopes).await.unwrap();
    assert_ne!(after[2], first[2], "the bumped scope changed for the other replica");
    assert_eq!(after[3], first[3], "another video's stamp did not");

    // Bumps racing from both replicas: every scope they touch ends changed, on both.
    let before = a.current(&scopes).await.unwrap();
    let bumps: Vec<_> = (0..20)
        .map(|i| {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { s.bump(&[Scope::Videos, Scope::Video(v)]).await.unwrap() })
        })
        .collect();
    for t in bumps {
        t.await.unwrap();
    }
    let (ra, rb) = (a.current(&scopes).await.unwrap(), b.current(&scopes).await.unwrap());
    assert_eq!(ra, rb);
    assert_ne!(ra[0], before[0]);
    assert_ne!(ra[1], before[1]);
    assert_eq!(ra[3], before[3]);
}
