//! Follows, the subscription feed, and the job that fans a new video out to followers.
//!
//! The feed is an inbox: a row per follower and video, written when the video becomes public
//! (by [`Social::fan_out_video`], a durable job) and when a follow starts (the channel's newest
//! videos). A feed page is then one range of the `(user, video)` key, newest first, whatever
//! the number of follows and videos; what became private or was deleted since is left out
//! by the page's join.

use super::{FAN_OUT_BATCH, FEED_BACKFILL, FollowCounts, Followed, NewNotification, NotificationKind, Social};
use crate::accounts::{User, now_ms};
use crate::ids::{UserId, VideoId};
use crate::paging::{Page, PageRequest};
use crate::videos::Video;
use crate::{Error, ErrorCode, Result};

impl Social {
    /// `user` follows the channel `name` (idempotent). The channel hears of a new follower.
    /// The channel's counts after it, and whether `user` follows it.
    pub async fn follow(&self, user: &User, name: &str) -> Result<(FollowCounts, bool)> {
        let channel = self.videos.find_user(name).await?;
        if channel.id == user.id {
            return Err(Error::conflict(ErrorCode::SelfTarget, "you cannot follow yourself"));
        }
        let at = now_ms();
        // Refused (403) when the channel blocked the user.
        if self.stores.follows.follow(user.id, channel.id, at, FEED_BACKFILL).await? {
            let note = NewNotification {
                user_id: channel.id,
                kind: NotificationKind::NewFollower,
                actor_id: user.id,
                subject: user.id.uuid(),
                video_id: None,
                comment_id: None,
                at,
            };
            self.notify(&[note]).await;
        }
        self.follow_state(Some(user), channel.id).await
    }

    /// `user` stops following `name` (idempotent); its videos leave their feed. The channel's
    /// counts after it.
    pub async fn unfollow(&self, user: &User, name: &str) -> Result<(FollowCounts, bool)> {
        let channel = self.videos.find_user(name).await?;
        self.stores.follows.unfollow(user.id, channel.id).await?;
        self.follow_state(Some(user), channel.id).await
    }

    /// The channel's counts, and whether `viewer` follows it.
    pub async fn follow_state(&self, viewer: Option<&User>, channel: UserId) -> Result<(FollowCounts, bool)> {
        let counts = self.stores.follows.counts(channel).await?;
        let following = match viewer {
            Some(v) if v.id != channel => self.stores.follows.is_following(v.id, channel).await?,
            _ => false,
        };
        Ok((counts, following))
    }

    pub async fn following(&self, user: &User, page: PageRequest) -> Result<Page<Followed>> {
        self.stores.follows.following(user.id, page).await
    }

    /// The newest public videos of the channels `user` follows.
    pub async fn feed(&self, user: &User, page: PageRequest) -> Result<Page<Video>> {
        self.stores.follows.feed(user.id, page).await
    }

    /// [`Job::FanOutVideo`](crate::ports::Job::FanOutVideo): the video goes into every
    /// follower's feed, and those who did not turn it off are notified. Done in batches of
    /// followers; run again (a retry, a second delivery) it adds nothing.
    pub async fn fan_out_video(&self, id: VideoId) -> Result<()> {
        // Not public (yet, or any more): nothing to tell. It is queued again when it is.
        let video = match self.videos.get(None, id).await {
            Ok(v) => v,
            Err(Error::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut after = None;
        loop {
            let batch = self.stores.follows.followers_after(video.author_id, after, FAN_OUT_BATCH).await?;
            let Some(last) = batch.last().copied() else { break };
            self.stores.follows.add_to_feeds(id, video.author_id, &batch).await?;
            let at = now_ms();
            let notes: Vec<_> = batch
                .iter()
                .map(|&user_id| NewNotification {
                    user_id,
                    kind: NotificationKind::NewVideo,
                    actor_id: video.author_id,
                    subject: id.uuid(),
                    video_id: Some(id),
                    comment_id: None,
                    at,
                })
                .collect();
            self.notify_or_fail(&notes).await?;
            if (batch.len() as u64) < FAN_OUT_BATCH {
                break;
            }
            after = Some(last);
        }
        Ok(())
    }
}
