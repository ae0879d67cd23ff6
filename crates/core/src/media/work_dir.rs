//! A job's scratch directory for ffmpeg's outputs, removed when the job is done with it.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

pub(super) struct WorkDir {
    path: PathBuf,
}

fn io(e: std::io::Error) -> Error {
    Error::unavailable("media work dir", e)
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

/// Removes the directories under `base` untouched for `older_than`: those of jobs whose worker
/// died here and that ran again elsewhere. Returns how many went.
pub(super) async fn sweep(base: PathBuf, older_than: std::time::Duration) -> Result<u64> {
    tokio::task::spawn_blocking(move || {
        crate::sweep::sweep(&base, older_than, |p| p.is_dir(), |p| std::fs::remove_dir_all(p)).map_err(io)
    })
    .await
    .map_err(Error::internal)?
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn sweeps_only_what_is_old_enough() {
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(base.path().join("a-hls/v0")).unwrap();
        std::fs::write(base.path().join("a-hls/v0/seg00000.m4s"), b"x").unwrap();
        assert_eq!(sweep(base.path().to_owned(), Duration::from_secs(3600)).await.unwrap(), 0);
        assert!(base.path().join("a-hls").exists());
        assert_eq!(sweep(base.path().to_owned(), Duration::ZERO).await.unwrap(), 1);
        assert!(!base.path().join("a-hls").exists());
        assert_eq!(sweep(base.path().join("missing"), Duration::ZERO).await.unwrap(), 0);
        // A job's own directory goes with it.
        let dir = WorkDir::fresh(base.path(), "b-stills").await.unwrap();
        let path = dir.path().to_owned();
        assert!(path.is_dir());
        drop(dir);
        assert!(!path.exists());
    }
}
