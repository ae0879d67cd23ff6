//! Likes and dislikes: one rating per user and video, counted on the video.

use super::{Rating, RatingCounts, Social};
use crate::accounts::{User, now_ms};
use crate::ids::VideoId;
use crate::{Error, Result};

impl Social {
    /// Sets (or with `None` takes back) `user`'s rating of a video they may see; the video's
    /// counts after it. Idempotent: the same rating twice counts once.
    pub async fn rate(&self, user: &User, video: VideoId, rating: Option<Rating>) -> Result<RatingCounts> {
        self.videos.get(Some(user), video).await?;
        self.stores.ratings.rate(video, user.id, rating, now_ms()).await?.ok_or(Error::NotFound("video"))
    }

    /// `user`'s rating of a video they may see, and its counts.
    pub async fn rating(&self, user: &User, video: VideoId) -> Result<(Option<Rating>, RatingCounts)> {
        let v = self.videos.get(Some(user), video).await?;
        let rating = self.stores.ratings.rating_of(video, user.id).await?;
        Ok((rating, RatingCounts { likes: v.likes, dislikes: v.dislikes }))
    }
}
