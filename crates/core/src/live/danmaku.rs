//! Posting and reading bullet comments. Reads are by segment of six minutes of video time, as
//! bilibili's players fetch them; every post goes out on the event bus to the video's viewers
//! on every replica (a hint: a viewer that missed it reads the segment again).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Live;
use super::line;
use super::model::{Danmaku, Mode, Size};
use crate::accounts::User;
use crate::ids::{DanmakuId, Id, VideoId};
use crate::ports::{DanmakuRepo, Limit, LoginThrottle};
use crate::videos::Videos;
use crate::{Error, ErrorCode, Result};

/// Video time per segment: 6 minutes.
pub const SEGMENT_MS: u64 = 6 * 60 * 1000;
/// The most a segment returns; the most recent win.
pub const PER_SEGMENT: u64 = 3000;
/// Characters in a bullet comment.
pub const MAX_CHARS: usize = 100;
/// How long its author may take one back.
pub const RETRACT_WITHIN: Duration = Duration::from_secs(120);
/// One bullet comment per user this often, and this many a day.
pub const COOLDOWN: Duration = Duration::from_secs(3);
pub const DAILY_CAP: u32 = 1000;

/// The latest moment a bullet comment may have, whatever the video: 24 hours.
pub const MAX_T_MS: u64 = 24 * 3600 * 1000;
/// An owner's blocked words: how many, and how long each.
pub const MAX_BLOCKED_WORDS: usize = 200;
pub const MAX_WORD_CHARS: usize = 30;
/// Buckets of the density strip over a video's length (fewer for a short one: a second each
/// at least).
pub const DENSITY_BUCKETS: u64 = 100;

/// What a viewer posts.
#[derive(Debug, Clone)]
pub struct Post {
    pub t_ms: u64,
    pub mode: Option<String>,
    pub color: Option<u32>,
    pub size: Option<String>,
    pub text: String,
}

/// What viewers see: the sender only as a pseudonym that is the same within one video and
/// cannot be traced back (an HMAC under a server key, not a bare hash of the id).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Shown {
    pub id: DanmakuId,
    pub t_ms: u64,
    pub mode: &'static str,
    pub color: u32,
    pub size: &'static str,
    pub text: String,
    pub sender: String,
}

/// A video's bullet comments at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub enabled: bool,
    pub count: u64,
    pub segment_ms: u64,
    /// Segments the video's length spans (at least one).
    pub segments: u64,
}

/// Where bullet comments cluster over a video: `counts[i]` fall in
/// `[i·bucket_ms, (i+1)·bucket_ms)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Density {
    pub bucket_ms: u64,
    pub counts: Vec<u64>,
}

/// A bullet comment for export, with what bilibili's format carries beyond [`Shown`].
#[derive(Debug, Clone)]
pub struct Exported {
    pub danmaku: Danmaku,
    pub sender: String,
}

/// The blocked word a text contains, if any: compared without regard to case or width.
fn blocked<'w>(words: &'w [String], text: &str) -> Option<&'w str> {
    let text = line::fold(text);
    words.iter().map(String::as_str).find(|w| text.contains(&line::fold(w)))
}

/// The bus topic of a video's live events.
pub fn topic(video: VideoId) -> String {
    format!("video:{video}")
}

#[derive(Clone)]
pub struct Bullets {
    repo: Arc<dyn DanmakuRepo>,
    /// A user the video's owner blocked sends none on their videos.
    blocks: Arc<dyn crate::ports::BlockRepo>,
    videos: Videos,
    throttle: Arc<dyn LoginThrottle>,
    live: Live,
    key: Arc<[u8]>,
}

impl Bullets {
    pub fn new(
        repo: Arc<dyn DanmakuRepo>,
        blocks: Arc<dyn crate::ports::BlockRepo>,
        videos: Videos,
        throttle: Arc<dyn LoginThrottle>,
        live: Live,
        key: &[u8],
    ) -> Self {
        Self { repo, blocks, videos, throttle, live, key: key.into() }
    }

    fn pseudonym(&self, video: VideoId, sender: crate::ids::UserId) -> String {
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(format!("danmaku:v1:{video}:{sender}").as_bytes());
        hex::encode(&m.finalize().into_bytes()[..8])
    }

    pub fn show(&self, d: &Danmaku) -> Shown {
        Shown {
            id: d.id,
            t_ms: d.t_ms,
            mode: d.mode.as_str(),
            color: d.color,
            size: d.size.as_str(),
            text: d.text.clone(),
            sender: self.pseudonym(d.video_id, d.sender),
        }
    }

    /// Posts a bullet comment on a video the user may watch: 400 for a bad one, 403 when the
    /// owner turned them off, 429 past the cooldown or the daily cap.
    pub async fn post(&self, user: &User, video: VideoId, p: Post) -> Result<Shown> {
        let (v, _) = self.videos.playable(Some(user), video).await?;
        if v.author_id != user.id && self.blocks.is_blocked(v.author_id, user.id).await? {
            return Err(Error::Forbidden("you cannot comment on this channel's videos"));
        }
        let chars = p.text.chars().count();
        if chars == 0 || chars > MAX_CHARS {
            return Err(Error::invalid(ErrorCode::BadText, format!("text is 1 to {MAX_CHARS} characters")));
        }
        line::check(&p.text, "text")?;
        // Until the video is probed its length is not known: the longest a video may be.
        let end = v.media.duration_ms.unwrap_or(MAX_T_MS).min(MAX_T_MS);
        if p.t_ms > end {
            return Err(Error::invalid(ErrorCode::BadTime, format!("t_ms is within the video: 0 to {end}")));
        }
        let mode = match p.mode.as_deref() {
            None => Mode::Scroll,
            Some(m) => {
                Mode::parse(m).ok_or_else(|| Error::invalid(ErrorCode::BadMode, "mode is scroll, top or bottom"))?
            }
        };
        let size = match p.size.as_deref() {
            None => Size::Normal,
            Some(s) => {
                Size::parse(s).ok_or_else(|| Error::invalid(ErrorCode::BadSize, "size is small, normal or large"))?
            }
        };
        let color = p.color.unwrap_or(0xFF_FF_FF);
        if color > 0xFF_FF_FF {
            return Err(Error::invalid(ErrorCode::BadColor, "color is a 24-bit RGB number (0 to 16777215)"));
        }
        if !self.repo.enabled(video).await? {
            return Err(Error::Forbidden("bullet comments are turned off for this video"));
        }
        let who = user.id.to_string();
        self.throttle
            .attempt_all(&[
                (format!("danmaku:{who}"), Limit { max: 1, window: COOLDOWN }),
                (format!("danmaku-day:{who}"), Limit { max: DAILY_CAP, window: Duration::from_secs(24 * 3600) }),
            ])
            .await?;
        // Held back, not refused: the sender is not told which word it was (nor that it was
        // held), the owner's viewers never see it.
        let held = blocked(&self.repo.blocked_words(v.author_id).await?, &p.text).is_some();
        let d = Danmaku {
            id: DanmakuId::new(),
            video_id: video,
            t_ms: p.t_ms,
            mode,
            color,
            size,
            text: p.text,
            sender: user.id,
            created_at: crate::accounts::now_ms(),
            hidden: held,
        };
        self.repo.insert(&d).await?;
        let shown = self.show(&d);
        if held {
            return Ok(shown);
        }
        // Stored all the same if this fails: viewers who missed it read it with the segment.
        self.live.announce(video, serde_json::json!({ "type": "danmaku", "danmaku": shown })).await;
        Ok(shown)
    }

    /// Segment `n` (video time `[n·6 min, (n+1)·6 min)`) of a video the viewer may watch.
    pub async fn segment(&self, viewer: Option<&User>, video: VideoId, n: u64) -> Result<Vec<Shown>> {
        let (v, _) = self.videos.playable(viewer, video).await?;
        let from = n.saturating_mul(SEGMENT_MS);
        let mut to = from.saturating_add(SEGMENT_MS);
        if let Some(length) = v.media.duration_ms {
            // Ones posted past the end before the length was known belong to the last segment;
            // a segment past it is empty, however far.
            let last = length.saturating_sub(1) / SEGMENT_MS;
            match n.cmp(&last) {
                std::cmp::Ordering::Greater => return Ok(Vec::new()),
                std::cmp::Ordering::Equal => to = MAX_T_MS + 1,
                std::cmp::Ordering::Less => {}
            }
        }
        let list = self.repo.segment(video, from, to, PER_SEGMENT).await?;
        Ok(list.iter().map(|d| self.show(d)).collect())
    }

    pub async fn meta(&self, viewer: Option<&User>, video: VideoId) -> Result<Meta> {
        let (v, _) = self.videos.playable(viewer, video).await?;
        let enabled = self.repo.enabled(video).await?;
        self.meta_of(&v, enabled).await
    }

    async fn meta_of(&self, v: &crate::videos::Video, enabled: bool) -> Result<Meta> {
        let segments = v.media.duration_ms.map_or(1, |d| d.div_ceil(SEGMENT_MS).max(1));
        Ok(Meta { enabled, count: self.repo.count(v.id).await?, segment_ms: SEGMENT_MS, segments })
    }

    /// Its author takes it back (within two minutes), or the video's owner hides it.
    pub async fn remove(&self, user: &User, video: VideoId, id: DanmakuId) -> Result<()> {
        let (v, _) = self.videos.playable(Some(user), video).await?;
        let d = self.repo.get(id).await?.filter(|d| d.video_id == video).ok_or(Error::NotFound("danmaku"))?;
        let age = Utc::now().signed_duration_since(d.created_at).to_std().unwrap_or_default();
        // Its author may take back one that was held back too: answering otherwise would tell
        // them it was held.
        if d.sender == user.id && age <= RETRACT_WITHIN {
            self.repo.delete(id).await?;
        } else if d.hidden {
            return Err(Error::NotFound("danmaku"));
        } else if v.author_id == user.id {
            self.repo.hide(id).await?;
        } else if d.sender == user.id {
            return Err(Error::Forbidden("a bullet comment can be taken back within two minutes"));
        } else {
            return Err(Error::Forbidden("only its author or the video's owner can remove it"));
        }
        if !d.hidden {
            // Players that have it stop showing it.
            self.live.announce(video, serde_json::json!({ "type": "removed", "id": id })).await;
        }
        Ok(())
    }

    /// Where bullet comments cluster over the video, for the strip above the progress bar.
    pub async fn density(&self, viewer: Option<&User>, video: VideoId) -> Result<Density> {
        let (v, _) = self.videos.playable(viewer, video).await?;
        let length = v.media.duration_ms.unwrap_or(SEGMENT_MS).max(1);
        let bucket_ms = length.div_ceil(DENSITY_BUCKETS).max(1000);
        let mut counts = vec![0; usize::try_from(length.div_ceil(bucket_ms)).unwrap_or(1).max(1)];
        for (at, n) in self.repo.density(video, bucket_ms).await? {
            // Ones past the end (the length was not known when they were posted) go last.
            let i = usize::try_from(at / bucket_ms).unwrap_or(usize::MAX).min(counts.len() - 1);
            counts[i] += n;
        }
        Ok(Density { bucket_ms, counts })
    }

    /// Every visible bullet comment of the video, segment by segment (each as it is read),
    /// for export.
    pub async fn export(&self, viewer: Option<&User>, video: VideoId) -> Result<Vec<Exported>> {
        let (v, _) = self.videos.playable(viewer, video).await?;
        // Until the video is probed its length is not known: one read, as one segment.
        let ranges: Vec<(u64, u64)> = match v.media.duration_ms {
            Some(d) => {
                // The last segment takes in any posted past the end before the length was known.
                let last = d.min(MAX_T_MS).saturating_sub(1) / SEGMENT_MS;
                (0..=last)
                    .map(|n| (n * SEGMENT_MS, if n == last { MAX_T_MS + 1 } else { (n + 1) * SEGMENT_MS }))
                    .collect()
            }
            None => vec![(0, MAX_T_MS + 1)],
        };
        let mut all = Vec::new();
        for (from, to) in ranges {
            for d in self.repo.segment(video, from, to, PER_SEGMENT).await? {
                let sender = self.pseudonym(video, d.sender);
                all.push(Exported { danmaku: d, sender });
            }
        }
        Ok(all)
    }

    /// The words held back from bullet comments on the user's videos.
    pub async fn blocked_words(&self, owner: &User) -> Result<Vec<String>> {
        self.repo.blocked_words(owner.id).await
    }

    /// Replaces the user's blocked words (each 1 to 30 characters on one line, at most 200;
    /// the same word twice, in any case, once). Comments already posted stay as they are.
    pub async fn set_blocked_words(&self, owner: &User, words: Vec<String>) -> Result<Vec<String>> {
        // Counted before anything else is done with them.
        if words.len() > MAX_BLOCKED_WORDS {
            return Err(Error::invalid(ErrorCode::TooLong, format!("at most {MAX_BLOCKED_WORDS} blocked words")));
        }
        let mut list: Vec<String> = Vec::with_capacity(words.len());
        let mut seen = std::collections::HashSet::new();
        for w in words {
            let w = w.trim();
            let chars = w.chars().count();
            if chars == 0 || chars > MAX_WORD_CHARS {
                return Err(Error::invalid(
                    ErrorCode::BadText,
                    format!("a blocked word is 1 to {MAX_WORD_CHARS} characters"),
                ));
            }
            line::check(w, "a blocked word")?;
            if seen.insert(line::fold(w)) {
                list.push(w.to_owned());
            }
        }
        self.repo.set_blocked_words(owner.id, &list).await?;
        Ok(list)
    }

    /// The owner turns bullet comments on or off for a video; the meta after it.
    pub async fn set_enabled(&self, user: &User, video: VideoId, on: bool) -> Result<Meta> {
        let (v, _) = self.videos.playable(Some(user), video).await?;
        if v.author_id != user.id {
            return Err(Error::Forbidden("only the video's owner turns bullet comments on or off"));
        }
        self.repo.set_enabled(video, on).await?;
        self.meta_of(&v, on).await
    }
}

#[cfg(test)]
mod tests {
    use super::blocked;

    #[test]
    fn blocked_words_match_anywhere_in_any_case() {
        let words = vec!["Spoiler".to_owned(), "剧透".to_owned()];
        assert_eq!(blocked(&words, "no SPOILERS please"), Some("Spoiler"));
        assert_eq!(blocked(&words, "前方剧透!"), Some("剧透"));
        assert_eq!(blocked(&words, "nice shot"), None);
        assert_eq!(blocked(&[], "anything"), None);
    }
}
