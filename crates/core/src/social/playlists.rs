//! Playlists: each user's own, private, unlisted or public, and two built-in ones every user
//! has ("Favorites" and "Watch later") that cannot be renamed or deleted. A playlist shows the
//! videos its reader may see, in order: a video deleted later leaves no hole.

use super::{
    MAX_PLAYLIST_DESCRIPTION, MAX_PLAYLIST_ITEMS, MAX_PLAYLIST_NAME, MAX_PLAYLISTS, Placed, Playlist, PlaylistEntry,
    PlaylistPatch, PlaylistVisibility, Social,
};
use crate::accounts::{User, now_ms};
use crate::ids::{Id, PlaylistId, VideoId};
use crate::paging::{Page, PageRequest};
use crate::{Error, ErrorCode, Result, text};

/// A playlist as its reader sees it: with how many of its videos they may see.
#[derive(Debug, Clone)]
pub struct PlaylistView {
    pub playlist: Playlist,
    pub video_count: u64,
}

fn check_patch(name: Option<&str>, description: Option<&str>) -> Result<()> {
    if let Some(name) = name {
        text::check("name", name, MAX_PLAYLIST_NAME)?;
    }
    if let Some(d) = description {
        text::check_optional("description", d, MAX_PLAYLIST_DESCRIPTION)?;
    }
    Ok(())
}

impl Social {
    /// `user`'s playlists (the built-in ones first, made on first use).
    pub async fn my_playlists(&self, user: &User, page: PageRequest) -> Result<Page<Playlist>> {
        self.stores.playlists.ensure_builtins(user.id, now_ms()).await?;
        self.stores.playlists.list(user.id, false, page).await
    }

    /// The public playlists of the channel `name`.
    pub async fn channel_playlists(&self, name: &str, page: PageRequest) -> Result<Page<Playlist>> {
        let owner = self.videos.find_user(name).await?;
        self.stores.playlists.list(owner.id, true, page).await
    }

    pub async fn create_playlist(
        &self,
        user: &User,
        name: &str,
        description: &str,
        visibility: PlaylistVisibility,
    ) -> Result<Playlist> {
        text::check("name", name, MAX_PLAYLIST_NAME)?;
        check_patch(None, Some(description))?;
        let at = now_ms();
        // The built-in ones come first: made before any of the user's own.
        self.stores.playlists.ensure_builtins(user.id, at).await?;
        let playlist = Playlist {
            id: PlaylistId::new(),
            owner_id: user.id,
            owner_name: user.name.clone(),
            builtin: None,
            name: name.to_owned(),
            description: description.to_owned(),
            visibility,
            created_at: at,
            updated_at: at,
        };
        if !self.stores.playlists.create(&playlist, MAX_PLAYLISTS).await? {
            return Err(Error::conflict(
                ErrorCode::LimitReached,
                format!("a user may have at most {MAX_PLAYLISTS} playlists"),
            ));
        }
        Ok(playlist)
    }

    /// The playlist if `viewer` may see it: public and unlisted ones to anyone, private ones
    /// to their owner.
    pub async fn playlist(&self, viewer: Option<&User>, id: PlaylistId) -> Result<PlaylistView> {
        let playlist = self.visible_playlist(viewer, id).await?;
        let video_count = self.stores.playlists.count_items(id, viewer.map(|u| u.id)).await?;
        Ok(PlaylistView { playlist, video_count })
    }

    async fn visible_playlist(&self, viewer: Option<&User>, id: PlaylistId) -> Result<Playlist> {
        match self.stores.playlists.get(id).await? {
            Some(p) if p.visibility != PlaylistVisibility::Private || viewer.is_some_and(|u| u.id == p.owner_id) => {
                Ok(p)
            }
            _ => Err(Error::NotFound("playlist")),
        }
    }

    /// The playlist, if it is `user`'s: 403 for one they may see but not change, 404 else.
    async fn own_playlist(&self, user: &User, id: PlaylistId) -> Result<Playlist> {
        let p = self.visible_playlist(Some(user), id).await?;
        if p.owner_id != user.id {
            return Err(Error::Forbidden("only the owner may change this playlist"));
        }
        Ok(p)
    }

    pub async fn update_playlist(&self, user: &User, id: PlaylistId, patch: PlaylistPatch) -> Result<Playlist> {
        let p = self.own_playlist(user, id).await?;
        check_patch(patch.name.as_deref(), patch.description.as_deref())?;
        if p.builtin.is_some() && (patch.name.is_some() || patch.description.is_some()) {
            return Err(Error::conflict(
                ErrorCode::BuiltinPlaylist,
                "a built-in playlist keeps its name; only its visibility changes",
            ));
        }
        self.stores.playlists.update(id, &patch, now_ms()).await?.ok_or(Error::NotFound("playlist"))
    }

    pub async fn delete_playlist(&self, user: &User, id: PlaylistId) -> Result<()> {
        let p = self.own_playlist(user, id).await?;
        if p.builtin.is_some() {
            return Err(Error::conflict(ErrorCode::BuiltinPlaylist, "a built-in playlist cannot be deleted"));
        }
        if self.stores.playlists.delete(id).await? { Ok(()) } else { Err(Error::NotFound("playlist")) }
    }

    /// Puts a video the user may see in their playlist, at the end or at `position`.
    /// `true` when it was added (not there before).
    pub async fn put_item(&self, user: &User, id: PlaylistId, video: VideoId, position: Option<u64>) -> Result<bool> {
        if position.is_some_and(|p| p > MAX_PLAYLIST_ITEMS) {
            return Err(Error::invalid(
                ErrorCode::BadPosition,
                format!("position must be from 0 to {MAX_PLAYLIST_ITEMS}"),
            ));
        }
        self.own_playlist(user, id).await?;
        self.videos.get(Some(user), video).await?;
        match self.stores.playlists.put_item(id, video, position, now_ms(), MAX_PLAYLIST_ITEMS).await? {
            Placed::Added => Ok(true),
            Placed::Kept => Ok(false),
            Placed::Full => Err(Error::conflict(
                ErrorCode::LimitReached,
                format!("a playlist holds at most {MAX_PLAYLIST_ITEMS} videos"),
            )),
            Placed::NoPlaylist => Err(Error::NotFound("playlist")),
        }
    }

    pub async fn remove_item(&self, user: &User, id: PlaylistId, video: VideoId) -> Result<()> {
        self.own_playlist(user, id).await?;
        if self.stores.playlists.remove_item(id, video).await? { Ok(()) } else { Err(Error::NotFound("video")) }
    }

    pub async fn playlist_items(
        &self,
        viewer: Option<&User>,
        id: PlaylistId,
        page: PageRequest,
    ) -> Result<Page<PlaylistEntry>> {
        self.visible_playlist(viewer, id).await?;
        self.stores.playlists.items(id, viewer.map(|u| u.id), page).await
    }

    /// Which of `user`'s playlists hold the video (for "save to playlist").
    pub async fn playlists_holding(&self, user: &User, video: VideoId) -> Result<Vec<PlaylistId>> {
        self.stores.playlists.holding(user.id, video).await
    }
}
