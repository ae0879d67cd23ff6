//! Playback: `GET`/`HEAD /stream/v1/videos/{vid}` and the seed's `GET /videos/{vid}`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use streamvault_core::ids::parse_id;
use streamvault_http::ApiError;
use streamvault_http::auth::MaybeAuth;

use crate::StreamState;
use crate::serve::{Representation, serve_blob};

pub async fn play(
    State(st): State<StreamState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(vid): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let viewer = viewer.map(|a| a.user);
    let (video, src) = st.videos.playable(viewer.as_ref(), parse_id(&vid, "video")?).await?;
    let rep = Representation {
        sha256: &src.sha256,
        size: src.size,
        mime: &src.mime,
        last_modified: src.uploaded_at,
        // Public videos may sit in shared caches for a while; others only in the viewer's.
        cache_control: if video.status.is_public() { "public, max-age=3600" } else { "private, max-age=0" },
        disposition: None,
    };
    let served = serve_blob(&st, &method, &headers, rep).await?;
    if served.body_from_zero {
        // A play starts at byte 0; later ranges are seeks within the same view.
        st.views.record(video.id);
    }
    Ok(served.response)
}
