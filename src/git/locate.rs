//! Finding the repository by reading `.git` files directly, for the paths that run at every prompt
//! and every TAB (`git shard prompt`, completion of shard names).
//!
//! This does a tiny part of discovery: walk up from a folder to the first `.git`; a `.git` folder
//! is a main worktree whose common dir it is; a `.git` file (`gitdir: <admin dir>`) is a linked
//! worktree whose admin dir names the common dir in its `commondir` file. It opens no object
//! database, reads no config, and spawns nothing, so it costs a few `stat`s and two small reads.
//! Anything unusual (`GIT_DIR` set, a bare repository, a malformed file) yields `None`, and the
//! callers fall back to printing nothing: they must never fail or be slow.

use std::fs;
use std::path::{Path, PathBuf};

/// Where we are, as far as the fast paths need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// `<common-dir>`, shared by all worktrees.
    pub common_dir: PathBuf,
    /// The root of the worktree holding the start folder.
    pub worktree: PathBuf,
    /// For a linked worktree, git's id of it (the admin dir's name); `None` in the main worktree.
    pub worktree_id: Option<String>,
}

pub fn locate(start: &Path) -> Option<Located> {
    if std::env::var_os("GIT_DIR").is_some() {
        return None;
    }
    let mut dir = start;
    loop {
        let dot_git = dir.join(".git");
        match fs::symlink_metadata(&dot_git) {
            Ok(m) if m.is_dir() => {
                return Some(Located {
                    common_dir: dot_git,
                    worktree: dir.to_owned(),
                    worktree_id: None,
                });
            }
            Ok(m) if m.is_file() => return linked(dir, &dot_git),
            _ => {}
        }
        dir = dir.parent()?;
    }
}

fn linked(worktree: &Path, dot_git: &Path) -> Option<Located> {
    let text = fs::read_to_string(dot_git).ok()?;
    let admin = PathBuf::from(text.strip_prefix("gitdir:")?.trim());
    let admin = if admin.is_absolute() {
        admin
    } else {
        worktree.join(admin)
    };
    let common = fs::read_to_string(admin.join("commondir")).ok()?;
    let common = PathBuf::from(common.trim());
    let common_dir = if common.is_absolute() {
        common
    } else {
        admin.join(common)
    };
    let worktree_id = admin.file_name()?.to_str()?.to_owned();
    Some(Located {
        common_dir: normalize(&common_dir),
        worktree: worktree.to_owned(),
        worktree_id: Some(worktree_id),
    })
}

/// Resolve `..` lexically (`<admin>/../..` is the usual `commondir`), without a `canonicalize`
/// system call per component.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_main_and_linked_worktrees() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("r");
        fs::create_dir_all(root.join(".git/worktrees/w")).unwrap();
        fs::create_dir_all(root.join("sub/deeper")).unwrap();
        let main = locate(&root.join("sub/deeper")).unwrap();
        assert_eq!(
            (main.common_dir, main.worktree, main.worktree_id),
            (root.join(".git"), root.clone(), None)
        );

        let wt = tmp.path().join("w");
        fs::create_dir_all(wt.join("src")).unwrap();
        fs::write(
            wt.join(".git"),
            format!("gitdir: {}\n", root.join(".git/worktrees/w").display()),
        )
        .unwrap();
        fs::write(root.join(".git/worktrees/w/commondir"), "../..\n").unwrap();
        let linked = locate(&wt.join("src")).unwrap();
        assert_eq!(linked.common_dir, root.join(".git"));
        assert_eq!(linked.worktree, wt);
        assert_eq!(linked.worktree_id.as_deref(), Some("w"));

        fs::write(wt.join(".git"), "garbage").unwrap();
        assert_eq!(locate(&wt), None);
    }
}
