//! Private messages (站内信): conversations of two users, stored verbatim, read by those two
//! alone. Rate limited per sender; a block stops them; each new one notifies the recipient.

use super::{Conversation, MAX_MESSAGE, Message, NewNotification, NotificationKind, Social};
use crate::accounts::{User, now_ms};
use crate::ids::{Id, MessageId};
use crate::paging::{Page, PageRequest};
use crate::{Error, ErrorCode, Result, text};

impl Social {
    /// `user` sends `body` to `name`.
    pub async fn send_message(&self, user: &User, name: &str, body: &str) -> Result<Message> {
        text::check("text", body, MAX_MESSAGE)?;
        let peer = self.videos.find_user(name).await?;
        if peer.id == user.id {
            return Err(Error::conflict(ErrorCode::SelfTarget, "you cannot message yourself"));
        }
        self.not_blocked(peer.id, user.id, "you cannot message this user").await?;
        self.rate_limit("message", user.id, &self.limits.messages).await?;
        let message = Message {
            id: MessageId::new(),
            sender_id: user.id,
            sender_name: user.name.clone(),
            recipient_id: peer.id,
            body: body.to_owned(),
            created_at: now_ms(),
        };
        self.stores.messages.send(&message).await?;
        let note = NewNotification {
            user_id: peer.id,
            kind: NotificationKind::Message,
            actor_id: user.id,
            subject: message.id.uuid(),
            video_id: None,
            comment_id: None,
            at: message.created_at,
        };
        self.notify(&[note]).await;
        Ok(message)
    }

    /// The conversation of `user` with `name`, newest first; reading it marks it read.
    pub async fn thread(&self, user: &User, name: &str, page: PageRequest) -> Result<Page<Message>> {
        let peer = self.videos.find_user(name).await?;
        let messages = self.stores.messages.thread(user.id, peer.id, page).await?;
        if page.after.is_none() {
            self.stores.messages.mark_read(user.id, peer.id).await?;
        }
        Ok(messages)
    }

    pub async fn conversations(&self, user: &User, page: PageRequest) -> Result<Page<Conversation>> {
        self.stores.messages.conversations(user.id, page).await
    }

    pub async fn unread_messages(&self, user: &User) -> Result<u64> {
        self.stores.messages.unread(user.id).await
    }
}
