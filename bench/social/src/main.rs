//! The subscription feed and the fan-out job, measured in one run on one database (issue 15).
//!
//! 10,000 channels of 10 public videos each (100,000 videos, in time order across channels); a
//! reader follows 1,000 of them. Their feed page is read two ways, alternated, each `--rounds`
//! times:
//! - **inbox** (what streamvault does): the feed's own rows, `(user, video)`, filled when a
//!   video becomes public (the fan-out job) or a follow starts; a page is one range of that
//!   key, newest first, joined to its 20 videos;
//! - **join** (the peer: fan-out on read, what a feed without an inbox runs): the followed
//!   channels' public videos, newest first, through the follows and the videos' indexes, with
//!   the same columns and author join.
//!
//! Both are timed on the first page and on a page deep in the feed (after 5,000 videos).
//! Then a channel with 1,000 followers publishes: the fan-out job (`Social::fan_out_video`,
//! feed rows and notifications for every follower, in batches) is timed per video.
//!
//!   cargo run --release -p social_bench -- --backend sqlite|mysql|postgres [--rounds 50]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use streamvault_core::ids::{UserId, VideoId};
use streamvault_core::paging::{Cursor, PageRequest};
use streamvault_core::ports::FollowRepo;
use streamvault_core::social::{Social, SocialStores};
use streamvault_core::storage::Storage;
use streamvault_core::videos::Videos;
use streamvault_metadata::{
    MetadataStore, SqlBlobIndex, SqlBlockRepo, SqlCommentRepo, SqlFollowRepo, SqlHistoryRepo, SqlMessageRepo,
    SqlNotificationRepo, SqlPlaylistRepo, SqlRatingRepo, SqlUserRepo, SqlVideoRepo,
};
use streamvault_testkit::{Backend, TestDb};
use uuid::Uuid;

#[derive(Parser)]
struct Args {
    /// sqlite, mysql (MariaDB) or postgres (servers from STREAMVAULT_TEST_*_URL).
    #[arg(long, default_value = "sqlite")]
    backend: String,
    #[arg(long, default_value_t = 10_000)]
    channels: usize,
    /// Of which the reader follows this many (spread evenly).
    #[arg(long, default_value_t = 1000)]
    followed: usize,
    #[arg(long, default_value_t = 10)]
    videos_per_channel: usize,
    #[arg(long, default_value_t = 1000)]
    followers: usize,
    /// Timed reads of each kind.
    #[arg(long, default_value_t = 50)]
    rounds: usize,
    /// Fan-outs timed.
    #[arg(long, default_value_t = 5)]
    fan_outs: usize,
}

const ROWS_PER_INSERT: usize = 400;

async fn insert_rows(
    db: &DatabaseConnection,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<sea_orm::Value>>,
) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut q = Query::insert();
        q.into_table(Alias::new(table)).columns(cols.iter().map(|c| Alias::new(*c)));
        for row in chunk {
            q.values_panic(row.iter().cloned().map(Expr::val));
        }
        db.execute(&q).await.with_context(|| format!("insert into {table}"))?;
    }
    Ok(())
}

fn user_row(id: Uuid, name: &str, at: i64) -> Vec<sea_orm::Value> {
    vec![id.into(), name.into(), name.to_lowercase().into(), "x".into(), at.into()]
}

fn video_row(id: Uuid, author: Uuid, at: i64) -> Vec<sea_orm::Value> {
    let name = format!("video {id}");
    vec![
        id.into(),
        author.into(),
        name.clone().into(),
        "".into(),
        name.into(),
        "ready".into(),
        0i64.into(),
        at.into(),
        at.into(),
    ]
}

const USER_COLS: [&str; 5] = ["id", "name", "name_key", "password_hash", "created_at"];
const VIDEO_COLS: [&str; 9] =
    ["id", "author_id", "name", "description", "search_key", "status", "views", "created_at", "updated_at"];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let backend = match args.backend.as_str() {
        "sqlite" => Backend::Sqlite,
        "mysql" | "mariadb" => Backend::MySql,
        "postgres" | "postgresql" => Backend::Postgres,
        other => anyhow::bail!("unknown backend {other}"),
    };
    let test_db = TestDb::create(backend).await.context("the database server is not there")?;
    let store = MetadataStore::connect(&test_db.url, 8).await.map_err(|e| anyhow::anyhow!(e.report()))?;
    store.migrate().await.map_err(|e| anyhow::anyhow!(e.report()))?;
    let db = Database::connect(&test_db.url).await?;
    let now = chrono::Utc::now().timestamp_millis();

    // The world: channels, their videos in time order across channels, a reader following all.
    let t0 = Instant::now();
    let reader = Uuid::now_v7();
    let channels: Vec<Uuid> = (0..args.channels).map(|_| Uuid::now_v7()).collect();
    let mut users = vec![user_row(reader, "reader", now)];
    users.extend(channels.iter().enumerate().map(|(i, id)| user_row(*id, &format!("ch{i:05}"), now)));
    insert_rows(&db, "users", &USER_COLS, users).await?;
    let mut videos = Vec::with_capacity(args.channels * args.videos_per_channel);
    for _ in 0..args.videos_per_channel {
        for ch in &channels {
            videos.push(video_row(Uuid::now_v7(), *ch, now));
        }
    }
    let total_videos = videos.len();
    insert_rows(&db, "videos", &VIDEO_COLS, videos).await?;
    let step = (args.channels / args.followed.max(1)).max(1);
    let followed: Vec<Uuid> = channels.iter().step_by(step).take(args.followed).copied().collect();
    let follows = followed.iter().map(|ch| vec![reader.into(), (*ch).into(), now.into()]).collect();
    insert_rows(&db, "follows", &["follower_id", "followee_id", "created_at"], follows).await?;
    // The reader's inbox, as the fan-out job leaves it.
    let lit = match backend {
        Backend::Sqlite => format!("X'{}'", reader.simple()),
        Backend::MySql => format!("UNHEX('{}')", reader.simple()),
        Backend::Postgres => format!("'{reader}'::uuid"),
    };
    let fill = format!(
        "INSERT INTO feed_entries (user_id, video_id, author_id) SELECT {lit}, id, author_id FROM videos \
         WHERE author_id IN (SELECT followee_id FROM follows WHERE follower_id = {lit})"
    );
    db.execute_raw(Statement::from_string(db.get_database_backend(), fill)).await?;
    if backend == Backend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    } else if backend == Backend::MySql {
        db.execute_unprepared("ANALYZE TABLE videos, follows, feed_entries").await?;
    } else {
        db.execute_unprepared("ANALYZE").await?;
    }
    println!(
        "seeded {} channels, {total_videos} videos, 1 reader following {}, in {:.1} s ({:?})",
        args.channels,
        followed.len(),
        t0.elapsed().as_secs_f64(),
        backend
    );

    let follows_repo = SqlFollowRepo::new(store.clone());
    let reader_id = UserId::from(reader);
    let first = PageRequest { limit: 20, after: None };
    // A cursor deep in the feed: after the 5,000th newest (or half the feed, if smaller).
    let depth = (followed.len() * args.videos_per_channel / 2).clamp(100, 5000) / 100 * 100;
    let deep_after = {
        let page = follows_repo
            .feed(reader_id, PageRequest { limit: 100, after: None })
            .await
            .map_err(|e| anyhow::anyhow!(e.report()))?;
        let mut cursor = page.next;
        for _ in 1..depth / 100 {
            let p = follows_repo
                .feed(reader_id, PageRequest { limit: 100, after: cursor })
                .await
                .map_err(|e| anyhow::anyhow!(e.report()))?;
            cursor = p.next;
        }
        cursor.context("the feed is deeper than that")?
    };
    let deep = PageRequest { limit: 20, after: Some(deep_after) };

    // The peer: fan-out on read.
    let join = |after: Option<Cursor>| {
        let (v, u) = (Alias::new("videos"), Alias::new("users"));
        let mut q = Query::select();
        q.column((v.clone(), sea_orm::sea_query::Asterisk))
            .expr_as(Expr::col((u.clone(), Alias::new("name"))), Alias::new("author_name"))
            .from(v.clone())
            .inner_join(
                u.clone(),
                Expr::col((u.clone(), Alias::new("id"))).equals((v.clone(), Alias::new("author_id"))),
            )
            .and_where(
                Expr::col((v.clone(), Alias::new("author_id"))).in_subquery(
                    Query::select()
                        .column(Alias::new("followee_id"))
                        .from(Alias::new("follows"))
                        .and_where(Expr::col(Alias::new("follower_id")).eq(reader))
                        .to_owned(),
                ),
            )
            .and_where(Expr::col((v.clone(), Alias::new("status"))).is_in(["uploaded", "processing", "ready"]))
            .and_where(Expr::col((v.clone(), Alias::new("deleted_at"))).is_null());
        if let Some(c) = after {
            q.and_where(Expr::col((v.clone(), Alias::new("id"))).lt(c.id));
        }
        q.order_by((v, Alias::new("id")), sea_orm::sea_query::Order::Desc).limit(21);
        q
    };
    // Same answer both ways (the inbox is right).
    let inbox_ids: Vec<Uuid> = follows_repo
        .feed(reader_id, deep)
        .await
        .map_err(|e| anyhow::anyhow!(e.report()))?
        .items
        .iter()
        .map(|v| v.id.uuid())
        .collect();
    let join_rows = db.query_all(&join(Some(deep_after))).await?;
    let join_ids: Vec<Uuid> =
        join_rows.iter().take(20).map(|r| r.try_get_by_index::<Uuid>(0)).collect::<Result<_, _>>()?;
    anyhow::ensure!(inbox_ids == join_ids, "the inbox and the join disagree");

    let mut results = Vec::new();
    let deep_label = format!("after {depth}");
    for (label, page) in [("first page", first), (deep_label.as_str(), deep)] {
        let (mut inbox, mut peer) = (Vec::new(), Vec::new());
        for _ in 0..args.rounds {
            let t = Instant::now();
            let p = follows_repo.feed(reader_id, page).await.map_err(|e| anyhow::anyhow!(e.report()))?;
            inbox.push(t.elapsed());
            anyhow::ensure!(p.items.len() == 20);
            let t = Instant::now();
            let rows = db.query_all(&join(page.after)).await?;
            peer.push(t.elapsed());
            anyhow::ensure!(rows.len() == 21);
        }
        results.push((label, median(inbox), median(peer)));
    }
    println!(
        "\nfeed page of 20 ({} follows, {total_videos} videos), medians of {} rounds:",
        followed.len(),
        args.rounds
    );
    println!("{:<14} {:>12} {:>12} {:>10}", "page", "inbox µs", "join µs", "join/inbox");
    for (label, inbox, peer) in &results {
        println!(
            "{label:<14} {:>12.0} {:>12.0} {:>10.1}",
            micros(*inbox),
            micros(*peer),
            micros(*peer) / micros(*inbox)
        );
    }

    // The fan-out: a channel with `followers` followers publishes.
    let star = Uuid::now_v7();
    let fans: Vec<Uuid> = (0..args.followers).map(|_| Uuid::now_v7()).collect();
    let mut users = vec![user_row(star, "star", now)];
    users.extend(fans.iter().enumerate().map(|(i, id)| user_row(*id, &format!("fan{i:05}"), now)));
    insert_rows(&db, "users", &USER_COLS, users).await?;
    let follows = fans.iter().map(|f| vec![(*f).into(), star.into(), now.into()]).collect();
    insert_rows(&db, "follows", &["follower_id", "followee_id", "created_at"], follows).await?;
    let dir = tempfile::tempdir()?;
    let (blobs, _) = streamvault_blobs::open(&format!("fs://{}", dir.path().join("blobs").display()))
        .map_err(|e| anyhow::anyhow!(e.report()))?;
    let storage =
        Storage::new(blobs, Arc::new(SqlBlobIndex::new(store.clone())), dir.path().join("staging"), 1 << 20, None)
            .map_err(|e| anyhow::anyhow!(e.report()))?;
    let videos = Videos::new(
        Arc::new(SqlVideoRepo::new(store.clone())),
        Arc::new(SqlCommentRepo::new(store.clone())),
        Arc::new(SqlUserRepo::new(store.clone())),
        storage,
        Duration::from_secs(60),
    );
    let stores = SocialStores {
        ratings: Arc::new(SqlRatingRepo::new(store.clone())),
        follows: Arc::new(SqlFollowRepo::new(store.clone())),
        notifications: Arc::new(SqlNotificationRepo::new(store.clone())),
        playlists: Arc::new(SqlPlaylistRepo::new(store.clone())),
        history: Arc::new(SqlHistoryRepo::new(store.clone())),
        messages: Arc::new(SqlMessageRepo::new(store.clone())),
        blocks: Arc::new(SqlBlockRepo::new(store.clone())),
    };
    let social = Social::new(
        videos,
        stores,
        Arc::new(streamvault_local::LocalBus::new()),
        Arc::new(streamvault_local::LocalLoginThrottle::new()),
        Default::default(),
    );
    let mut times = Vec::new();
    for _ in 0..args.fan_outs {
        let vid = Uuid::now_v7();
        insert_rows(&db, "videos", &VIDEO_COLS, vec![video_row(vid, star, now)]).await?;
        let t = Instant::now();
        social.fan_out_video(VideoId::from(vid)).await.map_err(|e| anyhow::anyhow!(e.report()))?;
        times.push(t.elapsed());
    }
    let fan = median(times);
    let reached = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM notifications".to_owned(),
        ))
        .await?
        .context("a count")?
        .try_get_by_index::<i64>(0)?;
    anyhow::ensure!(reached as usize == args.followers * args.fan_outs, "every follower notified once per video");
    println!(
        "\nfan-out of one video to {} followers (feed rows + notifications), median of {}: {:.1} ms ({:.1} µs per follower)",
        args.followers,
        args.fan_outs,
        fan.as_secs_f64() * 1e3,
        micros(fan) / args.followers as f64
    );
    db.close().await.ok();
    store.close().await;
    test_db.drop_db().await;
    Ok(())
}
