//! Walks of a user's folder tree, as loaded in memory. Each walk visits a folder at most once,
//! so it ends even on data that holds a cycle (which moves no longer make, but older data
//! might).

use std::collections::{HashMap, HashSet};

use crate::ids::FolderId;
#[cfg(test)]
use uuid::Uuid;

use crate::drive::Folder;

/// `root` and every folder below it, `root` first.
pub fn subtree(all: &[Folder], root: FolderId) -> Vec<FolderId> {
    let mut children: HashMap<FolderId, Vec<FolderId>> = HashMap::new();
    for f in all {
        if let Some(p) = f.parent_id {
            children.entry(p).or_default().push(f.id);
        }
    }
    let mut out = vec![root];
    let mut seen: HashSet<FolderId> = HashSet::from([root]);
    let mut i = 0;
    while i < out.len() {
        for &child in children.get(&out[i]).into_iter().flatten() {
            if seen.insert(child) {
                out.push(child);
            }
        }
        i += 1;
    }
    out
}

/// Whether moving `id` under `new_parent` would put it inside itself: `new_parent` is `id` or
/// below it. A walk up that loops (bad data) counts as a cycle too.
pub fn would_cycle(all: &[Folder], id: FolderId, new_parent: FolderId) -> bool {
    let parent: HashMap<FolderId, Option<FolderId>> = all.iter().map(|f| (f.id, f.parent_id)).collect();
    let mut seen = HashSet::new();
    let mut at = Some(new_parent);
    while let Some(f) = at {
        if f == id || !seen.insert(f) {
            return true;
        }
        at = parent.get(&f).copied().flatten();
    }
    false
}

/// The folders from the top of the drive down to `id` (inclusive); empty when `id` is not in
/// `all`.
pub fn ancestry(all: &[Folder], id: FolderId) -> Vec<Folder> {
    let by_id: HashMap<FolderId, &Folder> = all.iter().map(|f| (f.id, f)).collect();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut at = Some(id);
    while let Some(f) = at.and_then(|i| by_id.get(&i)) {
        if !seen.insert(f.id) {
            break;
        }
        out.push((*f).clone());
        at = f.parent_id;
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(id: u128, parent: Option<u128>) -> Folder {
        let now = chrono::Utc::now();
        Folder {
            id: Uuid::from_u128(id).into(),
            owner_id: Uuid::nil().into(),
            parent_id: parent.map(|p| Uuid::from_u128(p).into()),
            name: id.to_string(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn walks_end_on_cycles() {
        // 1 → 2 → 3 → 1 (a cycle), 4 under 3.
        let all = [folder(1, Some(3)), folder(2, Some(1)), folder(3, Some(2)), folder(4, Some(3))];
        let ids = |v: Vec<FolderId>| v.into_iter().map(|u| u.uuid().as_u128()).collect::<Vec<_>>();
        assert_eq!(ids(subtree(&all, Uuid::from_u128(1).into())), [1, 2, 3, 4]);
        assert!(
            would_cycle(&all, Uuid::from_u128(4).into(), Uuid::from_u128(1).into()),
            "a looping walk up is a cycle"
        );
        assert_eq!(ancestry(&all, Uuid::from_u128(4).into()).len(), 4);
    }

    #[test]
    fn cycle_checks() {
        let all = [folder(1, None), folder(2, Some(1)), folder(3, Some(2)), folder(5, None)];
        let u = |n: u128| FolderId::from(Uuid::from_u128(n));
        assert!(would_cycle(&all, u(1), u(1)));
        assert!(would_cycle(&all, u(1), u(3)));
        assert!(!would_cycle(&all, u(3), u(1)));
        assert!(!would_cycle(&all, u(1), u(5)));
        assert_eq!(ancestry(&all, u(3)).iter().map(|f| f.id.uuid().as_u128()).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(ancestry(&all, u(9)).is_empty());
    }
}
