//! Comments as the social layer sees them: posting one tells whom it concerns.

use super::{NewNotification, NotificationKind, Social};
use std::time::Duration;

use crate::Result;
use crate::accounts::{User, now_ms};
use crate::ids::VideoId;
use crate::ports::Limit;
use crate::videos::Comment;

/// Comments per user: a burst, and a day's worth (on every path: API, seed API, pages).
const COMMENT_LIMITS: [Limit; 2] =
    [Limit { max: 30, window: Duration::from_secs(60) }, Limit { max: 1000, window: Duration::from_secs(24 * 3600) }];

impl Social {
    /// Posts a comment; the video's owner hears of it (not of their own). At most
    /// [`COMMENT_LIMITS`] per user (429).
    pub async fn post_comment(&self, author: &User, video: VideoId, content: &str) -> Result<Comment> {
        let v = self.videos.get(Some(author), video).await?;
        self.not_blocked(v.author_id, author.id, "you cannot comment on this channel's videos").await?;
        self.rate_limit("comment", author.id, &COMMENT_LIMITS).await?;
        let comment = self.videos.post_comment(author, video, content).await?;
        if v.author_id != author.id {
            let note = NewNotification {
                user_id: v.author_id,
                kind: NotificationKind::Comment,
                actor_id: author.id,
                subject: comment.id.uuid(),
                video_id: Some(video),
                comment_id: Some(comment.id),
                at: now_ms(),
            };
            self.notify(&[note]).await;
        }
        Ok(comment)
    }
}
