//! Clearing what dead processes left in a scratch directory: entries of the right kind that
//! nobody has touched for a while.

use std::path::Path;
use std::time::Duration;

/// Removes, with `remove`, every entry of `dir` for which `ours` holds and that was last
/// modified at least `older_than` ago; a missing directory has nothing to sweep. Returns how
/// many went. Blocking: call it on the blocking pool.
pub(crate) fn sweep(
    dir: &Path,
    older_than: Duration,
    ours: impl Fn(&Path) -> bool,
    remove: impl Fn(&Path) -> std::io::Result<()>,
) -> std::io::Result<u64> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= older_than);
        if stale && ours(&path) && remove(&path).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}
