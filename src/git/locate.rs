//! Finding the repository by reading `.git` files directly, for the paths that run at every prompt
//! and every TAB (`git shard prompt`, completion) and for every command in the usual layouts.
//!
//! This is the part of git's discovery (`setup_git_directory_gently`) that the usual layouts need:
//! walk up from a folder to the first `.git`, following a symlinked `.git` as git does; a `.git`
//! folder is a main worktree whose common dir it is; a `.git` file (`gitdir: <admin dir>`,
//! absolute or relative) is a linked worktree whose admin dir names the common dir in its
//! `commondir` file. Like git, the walk does not climb into a `GIT_CEILING_DIRECTORIES` entry and
//! stops at a filesystem boundary unless `GIT_DISCOVERY_ACROSS_FILESYSTEM` is set. It opens no
//! object database, reads no config, and spawns nothing: a few `stat`s and two small reads.
//!
//! Whatever it cannot settle alone yields `None`: `GIT_DIR`, `GIT_WORK_TREE` or `GIT_COMMON_DIR`
//! set, a `.git` file naming a git dir that is not a linked worktree's (a separate git dir, or the
//! `.bare` layout, where only git's config says whether there is a worktree), a malformed file.
//! Commands then ask git itself (`super::repo`); the prompt prints nothing.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::admin::{normalize, read_gitfile};

/// Where we are, as far as the fast paths need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// `<common-dir>`, shared by all worktrees (not canonicalised: that costs a system call per
    /// component, and the fast paths only read files under it).
    pub common_dir: PathBuf,
    /// The root of the worktree holding the start folder.
    pub worktree: PathBuf,
    /// For a linked worktree, git's id of it (the admin dir's name); `None` in the main worktree.
    pub worktree_id: Option<String>,
}

/// Variables with which the user tells git where the repository is: git-shard then never guesses.
const SETS_LOCATION: &[&str] = &["GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR"];

pub fn locate(start: &Path) -> Option<Located> {
    match find(start) {
        Found::Repository(here) => Some(here),
        Found::Nowhere(_) | Found::Unsure => None,
    }
}

/// What the walk from a folder found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Repository(Located),
    /// No repository holds the folder: the walk looked in each of these for a `.git` and ended
    /// where git's would (the root, a ceiling, another filesystem). A `.git` that appears in any
    /// of them may change that; nothing else can, for the same environment.
    Nowhere(Vec<PathBuf>),
    /// Something only git can settle (see the module).
    Unsure,
}

pub fn find(start: &Path) -> Found {
    if SETS_LOCATION.iter().any(|v| std::env::var_os(v).is_some()) {
        return Found::Unsure;
    }
    let ceilings = ceilings();
    let across = std::env::var("GIT_DISCOVERY_ACROSS_FILESYSTEM").is_ok_and(|v| truthy(&v));
    let Ok(device) = fs::metadata(start).map(|m| m.dev()) else {
        return Found::Unsure;
    };
    let mut walked = Vec::new();
    let mut dir = start;
    loop {
        let dot_git = dir.join(".git");
        // `metadata`, not `symlink_metadata`: git follows a symlinked `.git`.
        match fs::metadata(&dot_git) {
            // git only takes a `.git` folder that looks like a repository; an empty one is walked
            // past.
            Ok(m) if m.is_dir() && dot_git.join("HEAD").exists() => {
                return Found::Repository(Located {
                    common_dir: dot_git,
                    worktree: dir.to_owned(),
                    worktree_id: None,
                });
            }
            Ok(m) if m.is_file() => return linked(dir, &dot_git).map_or(Found::Unsure, Found::Repository),
            _ => {}
        }
        walked.push(dir.to_owned());
        let Some(parent) = dir.parent() else {
            return Found::Nowhere(walked);
        };
        if ceilings.iter().any(|c| c == parent) {
            return Found::Nowhere(walked);
        }
        match fs::metadata(parent) {
            Ok(m) if !across && m.dev() != device => return Found::Nowhere(walked),
            Ok(_) => {}
            Err(_) => return Found::Unsure,
        }
        dir = parent;
    }
}

fn linked(worktree: &Path, dot_git: &Path) -> Option<Located> {
    let admin = read_gitfile(dot_git)?;
    let common = fs::read_to_string(admin.join("commondir")).ok()?;
    let common_dir = normalize(&admin.join(common.trim_end_matches(['\n', '\r'])));
    let worktree_id = admin.file_name()?.to_str()?.to_owned();
    Some(Located {
        common_dir,
        worktree: worktree.to_owned(),
        worktree_id: Some(worktree_id),
    })
}

/// `GIT_CEILING_DIRECTORIES`: absolute folders the walk never climbs into, as real paths like the
/// start folder (relative entries are ignored; after an empty entry symlinks are not resolved,
/// both as git does).
fn ceilings() -> Vec<PathBuf> {
    let Some(value) = std::env::var_os("GIT_CEILING_DIRECTORIES") else {
        return Vec::new();
    };
    let mut resolve = true;
    let mut out = Vec::new();
    for entry in std::env::split_paths(&value) {
        if entry.as_os_str().is_empty() {
            resolve = false;
        } else if entry.is_absolute() {
            out.push(if resolve {
                fs::canonicalize(&entry).unwrap_or_else(|_| normalize(&entry))
            } else {
                normalize(&entry)
            });
        }
    }
    out
}

/// git's boolean spellings.
fn truthy(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_main_and_linked_worktrees() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("r");
        fs::create_dir_all(root.join(".git/worktrees/w")).unwrap();
        fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
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

        // A relative link, as git 2.48 writes it with worktree.useRelativePaths.
        fs::write(wt.join(".git"), "gitdir: ../r/.git/worktrees/w").unwrap();
        assert_eq!(locate(&wt.join("src")).unwrap().common_dir, root.join(".git"));

        fs::write(wt.join(".git"), "garbage").unwrap();
        assert_eq!(locate(&wt), None);
    }

    #[test]
    fn a_symlinked_dot_git_is_the_repository_and_an_empty_one_is_not() {
        let tmp = tempfile::tempdir().unwrap();
        // An enclosing repository, like a dotfiles repository in $HOME.
        fs::create_dir_all(tmp.path().join(".git")).unwrap();
        fs::write(tmp.path().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        let store = tmp.path().join("store.git");
        fs::create_dir_all(&store).unwrap();
        fs::write(store.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        let project = tmp.path().join("project");
        fs::create_dir_all(project.join("src")).unwrap();
        std::os::unix::fs::symlink(&store, project.join(".git")).unwrap();
        let found = locate(&project.join("src")).unwrap();
        assert_eq!(
            (found.common_dir, found.worktree),
            (project.join(".git"), project.clone())
        );

        let other = tmp.path().join("other");
        fs::create_dir_all(other.join(".git")).unwrap();
        assert_eq!(locate(&other).unwrap().worktree, tmp.path());
    }
}
