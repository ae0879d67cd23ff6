//! A job's scratch directory for ffmpeg's outputs, removed when the job is done with it.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

pub(super) struct WorkDir {
    path: PathBuf,
}

fn io(e: std::io::Error) -> Error {
    Error::Unavailable(format!("media work dir: {e}"))
}

impl WorkDir {
    /// An empty `base/name`: whatever an earlier run of the same job left there goes first.
    pub(super) async fn fresh(base: &Path, name: &str) -> Result<Self> {
        let path = base.join(name);
        match tokio::fs::remove_dir_all(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        tokio::fs::create_dir_all(&path).await.map_err(io)?;
        Ok(Self { path })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Every file under it, as `/`-separated relative names, sorted.
    pub(super) async fn files(&self) -> Result<Vec<String>> {
        let root = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).map_err(io)? {
                    let path = entry.map_err(io)?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if let Ok(rel) = path.strip_prefix(&root) {
                        let parts: Vec<_> = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect();
                        out.push(parts.join("/"));
                    }
                }
            }
            out.sort();
            Ok(out)
        })
        .await
        .map_err(Error::internal)?
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
