//! Resources more than one role answers with, in one JSON shape.

use serde::Serialize;
use streamvault_core::drive::DriveFile;

/// A drive file, as the API lists it and the stream role reports an upload of it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FileJson {
    id: String,
    name: String,
    size: u64,
    sha256: String,
    mime: String,
    folder_id: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<DriveFile> for FileJson {
    fn from(f: DriveFile) -> Self {
        FileJson {
            id: f.id.to_string(),
            name: f.name,
            size: f.size,
            sha256: f.sha256,
            mime: f.mime,
            folder_id: f.folder_id.map(|i| i.to_string()),
            created_at: f.created_at.to_rfc3339(),
            updated_at: f.updated_at.to_rfc3339(),
        }
    }
}
