//! View counting. A play is counted in memory and written in batches: a thousand viewers
//! starting at once make one `UPDATE` per video per flush, not a thousand writes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::ids::VideoId;

use crate::Result;
use crate::ports::VideoRepo;

#[derive(Clone)]
pub struct ViewCounter {
    pending: Arc<Mutex<HashMap<VideoId, u64>>>,
    videos: Arc<dyn VideoRepo>,
}

impl ViewCounter {
    pub fn new(videos: Arc<dyn VideoRepo>) -> Self {
        Self { pending: Arc::default(), videos }
    }

    pub fn record(&self, id: VideoId) {
        *self.lock().entry(id).or_insert(0) += 1;
    }

    /// Writes the counted views. Counts that fail to write are kept for the next flush.
    pub async fn flush(&self) -> Result<()> {
        let batch = std::mem::take(&mut *self.lock());
        let mut failed = None;
        for (id, n) in batch {
            if let Err(e) = self.videos.add_views(id, n).await {
                *self.lock().entry(id).or_insert(0) += n;
                failed = Some(e);
            }
        }
        failed.map_or(Ok(()), Err)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<VideoId, u64>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}
