//! The site's own URLs that responses carry. Core names things by id; where the stream role
//! serves them is decided here, at the HTTP edge, next to the routes.

use streamvault_core::drive::SignedLink;
use streamvault_core::ids::VideoId;
use streamvault_core::media::{HLS_MASTER, POSTER, STORYBOARD_VTT};
use streamvault_core::videos::Video;

/// Where the stream role serves a video's derived file `name` (e.g. `poster.jpg`).
pub fn media(id: VideoId, name: &str) -> String {
    format!("/stream/v1/videos/{id}/media/{name}")
}

/// The path and query of a signed share link.
pub fn shared(link: &SignedLink) -> String {
    format!("/stream/v1/shared/{}?expires={}&sig={}", link.file_id, link.expires, link.sig)
}

/// A video's derived media, once the jobs that make them have stored them.
pub trait VideoUrls {
    /// The poster, once the stills are stored.
    fn thumbnail_url(&self) -> Option<String>;
    /// The storyboard's WebVTT index (cues point into the sprite next to it).
    fn storyboard_url(&self) -> Option<String>;
    /// The HLS master playlist, once the ladder is stored.
    fn hls_url(&self) -> Option<String>;
}

impl VideoUrls for Video {
    fn thumbnail_url(&self) -> Option<String> {
        self.outputs.has_stills.then(|| media(self.id, POSTER))
    }

    fn storyboard_url(&self) -> Option<String> {
        self.outputs.has_stills.then(|| media(self.id, STORYBOARD_VTT))
    }

    fn hls_url(&self) -> Option<String> {
        (!self.outputs.renditions.is_empty()).then(|| media(self.id, HLS_MASTER))
    }
}
