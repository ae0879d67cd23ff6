//! A complete upload becomes what it was for: its bytes a content-addressed blob, referenced
//! by a new drive file or by the video it is the original of, paid for by the upload's hold
//! on the quota, in one transaction.

use uuid::Uuid;

use super::place::Place;
use super::{Uploads, metadata};
use crate::Result;
use crate::accounts::User;
use crate::drive::Placement;
use crate::storage::Staged;
use crate::uploads::{Upload, UploadResult};

impl Uploads {
    /// Finishes a complete upload (its lock held, or just created).
    pub(super) async fn finish(&self, owner: &User, up: Upload) -> Result<Upload> {
        let staged = self.place().staged(&self.storage, &up).await?;
        let holds = [up.id.uuid()];
        self.finish_staged(owner, up, staged, &holds).await
    }

    /// Records `staged` (the upload's bytes) as what the upload was for, letting `holds` go.
    pub(super) async fn finish_staged(
        &self,
        owner: &User,
        up: Upload,
        mut staged: Staged,
        holds: &[Uuid],
    ) -> Result<Upload> {
        let result = match up.video_id {
            Some(vid) => {
                let charge = self.quota.charge(holds.to_vec());
                self.videos.store_source(vid, &mut staged, &charge).await?;
                UploadResult::Video(vid)
            }
            None => {
                let name = up.filename.clone().unwrap_or_else(|| format!("upload-{}", up.id));
                // A folder deleted while the upload ran: the file lands at the top.
                let folder = metadata::folder_of(&up.metadata);
                let mime = staged.mime.unwrap_or("application/octet-stream");
                let place = Placement { name: &name, folder, fall_back: true };
                let (_, file) = self.drive.store(owner, place, &mut staged, mime, holds).await?;
                UploadResult::File(file.id)
            }
        };
        drop(staged);
        self.repo.finish(up.id, result).await?;
        Place::drop_all(&self.storage, &up).await;
        tracing::info!(upload_id = %up.id, size = up.offset, result = %result.encode(), "upload finished");
        Ok(Upload { result: Some(result), segments: Vec::new(), data_file: None, ..up })
    }
}
