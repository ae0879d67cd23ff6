//! Notifications: stored per recipient (one per kind and subject), each kind on unless the user
//! turned it off; an open page hears of a new one through the event bus.

use std::collections::BTreeSet;

use bytes::Bytes;

use super::{NewNotification, Notification, NotificationKind, Social};
use crate::Result;
use crate::accounts::{User, now_ms};
use crate::ids::{NotificationId, UserId};
use crate::paging::{Page, PageRequest};
use crate::ports::Subscription;

/// Every kind with its setting (on unless turned off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSettings {
    pub kinds: Vec<(NotificationKind, bool)>,
}

/// The bus topic on which a user's open pages hear that something arrived.
fn topic(user: UserId) -> String {
    format!("notify:{user}")
}

impl Social {
    /// As [`notify_or_fail`](Self::notify_or_fail), for a write that has committed and must
    /// not fail for it: a failure is logged.
    pub(crate) async fn notify(&self, notes: &[NewNotification]) {
        if let Err(e) = self.notify_or_fail(notes).await {
            tracing::warn!(error = %e.report(), "notifications not stored");
        }
    }

    /// Stores the notifications of recipients who did not turn their kind off, and tells
    /// their open pages.
    pub(crate) async fn notify_or_fail(&self, notes: &[NewNotification]) -> Result<()> {
        let mut kept = Vec::with_capacity(notes.len());
        for kind in notes.iter().map(|n| n.kind).collect::<BTreeSet<_>>() {
            let of_kind: Vec<_> = notes.iter().filter(|n| n.kind == kind).collect();
            let users: Vec<_> = of_kind.iter().map(|n| n.user_id).collect();
            let muted: BTreeSet<_> = self.stores.notifications.muted(kind, &users).await?.into_iter().collect();
            kept.extend(of_kind.into_iter().filter(|n| !muted.contains(&n.user_id)).cloned());
        }
        if kept.is_empty() || self.stores.notifications.insert(&kept).await? == 0 {
            return Ok(());
        }
        for user in kept.iter().map(|n| n.user_id).collect::<BTreeSet<_>>() {
            // A hint: a page that misses it sees the notification at its next poll.
            if let Err(e) = self.bus.publish(&topic(user), Bytes::from_static(b"1")).await {
                tracing::debug!(error = %e.report(), "notification hint not sent");
            }
        }
        Ok(())
    }

    pub async fn notifications(&self, user: &User, unread_only: bool, page: PageRequest) -> Result<Page<Notification>> {
        self.stores.notifications.list(user.id, unread_only, page).await
    }

    pub async fn unread_notifications(&self, user: &User) -> Result<u64> {
        self.stores.notifications.unread(user.id).await
    }

    /// Marks one notification (404 unless it is `user`'s) or all of them read; how many were
    /// unread.
    pub async fn mark_read(&self, user: &User, id: Option<NotificationId>) -> Result<u64> {
        self.stores.notifications.mark_read(user.id, id, now_ms()).await
    }

    pub async fn notification_settings(&self, user: &User) -> Result<NotificationSettings> {
        let stored = self.stores.notifications.settings(user.id).await?;
        let kinds = NotificationKind::ALL
            .into_iter()
            .map(|k| (k, stored.iter().find(|(s, _)| *s == k).is_none_or(|(_, on)| *on)))
            .collect();
        Ok(NotificationSettings { kinds })
    }

    pub async fn set_notification_settings(
        &self,
        user: &User,
        changes: &[(NotificationKind, bool)],
    ) -> Result<NotificationSettings> {
        for (kind, on) in changes {
            self.stores.notifications.set_setting(user.id, *kind, *on).await?;
        }
        self.notification_settings(user).await
    }

    /// Hints that something arrived for `user`, from any replica, from now on.
    pub fn notification_hints(&self, user: &User) -> Subscription {
        self.bus.subscribe(&topic(user.id))
    }
}
