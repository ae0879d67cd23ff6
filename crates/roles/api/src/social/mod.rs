//! The social layer's routes: ratings, follows and the feed, notifications, playlists and
//! watch history. Everything under `/me` is the caller's own: anonymous callers get 401, and
//! nothing of one user is ever reachable through another's session.

pub mod follows;
pub mod history;
pub mod messages;
pub mod notifications;
pub mod playlists;
pub mod ratings;
