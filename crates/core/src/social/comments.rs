//! Comments as the social layer sees them: posting one tells whom it concerns.

use super::{NewNotification, NotificationKind, Social};
use crate::Result;
use crate::accounts::{User, now_ms};
use crate::ids::VideoId;
use crate::videos::Comment;

impl Social {
    /// Posts a comment; the video's owner hears of it (not of their own).
    pub async fn post_comment(&self, author: &User, video: VideoId, content: &str) -> Result<Comment> {
        let comment = self.videos.post_comment(author, video, content).await?;
        let v = self.videos.get(Some(author), video).await?;
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
