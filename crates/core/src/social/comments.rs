//! Comments as the social layer sees them: posting one tells whom it concerns.

use super::{NewNotification, NotificationKind, Social, mentioned};
use crate::Result;
use crate::accounts::User;
use crate::ids::{CommentId, VideoId};
use crate::videos::Comment;

impl Social {
    /// Posts a comment, or a reply to `parent`. Whom it concerns hears of it: the video's
    /// owner (`comment`), the author of the comment it answers (`reply`), and the users it
    /// names with `@` (`mention`), each once and never of their own, and never from someone
    /// they blocked. At most the comment limits per user, on every path (429); a commenter the
    /// video's owner blocked is refused.
    pub async fn post_comment(
        &self,
        author: &User,
        video: VideoId,
        content: &str,
        parent: Option<CommentId>,
    ) -> Result<Comment> {
        let v = self.videos.get(Some(author), video).await?;
        self.not_blocked(v.author_id, author.id, "you cannot comment on this channel's videos").await?;
        self.rate_limit("comment", author.id, &self.limits.comments).await?;
        let (comment, answered) = self.videos.post_comment(author, &v, content, parent).await?;
        let note = |user_id, kind| NewNotification {
            user_id,
            kind,
            actor_id: author.id,
            subject: comment.id.uuid(),
            video_id: Some(video),
            comment_id: Some(comment.id),
            at: comment.created_at,
        };
        let mut notes = vec![note(v.author_id, NotificationKind::Comment)];
        if let Some(answered) = answered {
            notes.push(note(answered.author_id, NotificationKind::Reply));
        }
        for name in mentioned(content) {
            // A name that is nobody's mentions nobody.
            if let Ok(user) = self.videos.find_user(&name).await {
                notes.push(note(user.id, NotificationKind::Mention));
            }
        }
        // Each person once (the first reason wins), never the author, never who blocked them.
        let mut told = vec![author.id];
        let mut kept = Vec::with_capacity(notes.len());
        for n in notes {
            if told.contains(&n.user_id) || self.stores.blocks.is_blocked(n.user_id, author.id).await? {
                continue;
            }
            told.push(n.user_id);
            kept.push(n);
        }
        self.notify(&kept).await;
        Ok(comment)
    }
}
