//! git's own worktree lock (`<common-dir>/worktrees/<id>/locked`, what `git worktree lock` writes),
//! used to make a plain `git worktree remove` or `git worktree prune` refuse while an agent runs.
//!
//! Invariant: git-shard only ever removes a lock whose reason starts with [`REASON_PREFIX`], that
//! is, one it set itself. A lock set by the user (or by git while it adds a worktree) is left
//! exactly as it is, and then git-shard does not lock over it either.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::admin::Admin;

/// How our lock reasons start; the rest says which agent holds it.
pub const REASON_PREFIX: &str = "git-shard: ";

/// The lock file of worktree `id`, `None` when there is no such entry. Through [`Admin::open`], so
/// an id from a record (which anyone can edit) never leads outside `<common-dir>/worktrees/`.
fn lock_file(common_dir: &Path, id: &str) -> Option<PathBuf> {
    Admin::open(common_dir, id).map(|admin| admin.dir.join("locked"))
}

/// The reason of the current lock, `None` when not locked (without the newline git adds when
/// it writes one, as in `git worktree add --lock --reason`).
pub fn reason(common_dir: &Path, id: &str) -> Option<String> {
    Admin::open(common_dir, id)?.lock_reason().ok().flatten()
}

/// Whether the lock (if any) is ours.
pub fn is_ours(common_dir: &Path, id: &str) -> bool {
    reason(common_dir, id).is_some_and(|r| r.starts_with(REASON_PREFIX))
}

/// Lock worktree `id` with `reason` (which must start with [`REASON_PREFIX`]). Returns `false`,
/// changing nothing, when the entry is gone or someone else holds a lock.
pub fn lock(common_dir: &Path, id: &str, reason: &str) -> io::Result<bool> {
    debug_assert!(reason.starts_with(REASON_PREFIX));
    let Some(path) = lock_file(common_dir, id) else {
        return Ok(false);
    };
    match OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(mut f) => f.write_all(reason.as_bytes()).map(|_| true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if is_ours(common_dir, id) {
                fs::write(&path, reason).map(|_| true)
            } else {
                Ok(false)
            }
        }
        Err(e) => Err(e),
    }
}

/// Remove the lock of worktree `id` only if it is exactly `reason`: the supervisor lifts the lock
/// of its own run, never the one a newer run set meanwhile.
pub fn unlock_if(common_dir: &Path, id: &str, reason: &str) -> io::Result<bool> {
    let Some(path) = lock_file(common_dir, id).filter(|_| self::reason(common_dir, id).as_deref() == Some(reason))
    else {
        return Ok(false);
    };
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Remove the lock of worktree `id` if, and only if, it is ours. Returns whether it removed one.
pub fn unlock_ours(common_dir: &Path, id: &str) -> io::Result<bool> {
    let Some(path) = lock_file(common_dir, id).filter(|_| is_ours(common_dir, id)) else {
        return Ok(false);
    };
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_touches_a_lock_it_did_not_set() {
        let tmp = tempfile::tempdir().unwrap();
        let common = tmp.path();
        fs::create_dir_all(common.join("worktrees/w")).unwrap();
        assert!(lock(common, "w", "git-shard: agent running (pid 1)").unwrap());
        assert!(
            lock(common, "w", "git-shard: agent running (pid 2)").unwrap(),
            "ours: updated"
        );
        assert_eq!(reason(common, "w").as_deref(), Some("git-shard: agent running (pid 2)"));
        assert!(unlock_ours(common, "w").unwrap());
        assert_eq!(reason(common, "w"), None);

        fs::write(common.join("worktrees/w/locked"), "on a USB stick").unwrap();
        assert!(!lock(common, "w", "git-shard: agent running (pid 3)").unwrap());
        assert!(!unlock_ours(common, "w").unwrap());
        assert_eq!(reason(common, "w").as_deref(), Some("on a USB stick"));
        assert!(
            !lock(common, "gone", "git-shard: x").unwrap(),
            "no admin entry: nothing to lock"
        );
        // An id from an edited record never reaches outside `worktrees/`.
        fs::create_dir_all(common.join("elsewhere")).unwrap();
        assert!(!lock(common, "../elsewhere", "git-shard: x").unwrap());
        assert!(!common.join("elsewhere/locked").exists());
    }
}
