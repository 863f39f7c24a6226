//! Everything git-shard asks of git, split by concern: which repository (`repo`, `locate`), the
//! files that link worktrees to it (`admin`), revisions and branches (`refs`), worktrees
//! (`worktree`), uncommitted work (`status`), what removal could lose (`history`), and git-shard's
//! own marks in git's folders (`lock`, `hooks`).
//!
//! # git is the reference implementation
//!
//! A shard's worktree and branch must be exactly what `git worktree add -b <branch> <path> <base>`
//! makes, and `rm` must undo exactly that, in every repository git supports. So every mutation is
//! made by the `git` binary (which users reach us through, so it is there), and reads are made
//! in-process only where they are plain files git itself defines. Per operation:
//!
//! | operation | how | why |
//! | --- | --- | --- |
//! | discovery (prompt, completion, every command) | `.git` files (`locate`), else `git rev-parse` | runs at every prompt and TAB; a few `stat`s beat any process, and git answers every layout the files do not settle (bare, `GIT_DIR`, `core.worktree`, …) |
//! | worktree list, locks, admin ids | admin files (`admin`) | `list` and reconciliation read them for every shard; the format is git's and tiny |
//! | resolve `--base`, branch exists, name rules | `git rev-parse`, `git check-ref-format` | every ref backend (reftable) and object format (SHA-256), git's ambiguity order; 1 ms, in `new` only |
//! | create branch, add worktree | `git branch`, `git worktree add --lock` | checkout with every attribute and filter, sparse checkout and `config.worktree` inherited, `post-checkout` hook, upstream config, relative links: only git does all of it |
//! | dirt before removal | `git status --porcelain` | the check that decides a deletion must be git's; `git worktree remove` runs the same one |
//! | commits removal could lose | `git rev-list --count` | every backend; one walk each, in `rm`/`prune` only |
//! | remove worktree, prune entries | `git worktree remove --force`, `git worktree prune` | git deletes exactly what it registered, in its order, and tidies `worktrees/` |
//! | delete branch | `git update-ref -d <ref> <old>`, `git config --remove-section` | what `git branch -D` does, but only while the branch is still at the commit we judged |
//! | hooks folder | `git rev-parse --git-path hooks` | `core.hooksPath` resolved exactly as git resolves it |
//!
//! Measured on a 10,000-file repository (benches/README.md), `new --no-launch` and `rm` take 1.04×
//! and 1.00× of `git worktree add -b` and `git worktree remove` + `git branch -d`: the extra git
//! processes cost about a millisecond each (some 9 ms in all) against the time spent on files.
//!
//! # Invariants
//!
//! * Repository-wide commands run where the user called git-shard, with their environment, so
//!   they act on the repository git would; commands about one worktree run on that worktree
//!   alone, whatever `GIT_DIR` the caller set (see `cmd`).
//! * Nothing here deletes a worktree folder itself, except what a killed `git worktree add` left
//!   (`remove_interrupted_add`, which proves the leftovers are that add's by git's lock).
//! * Output parsed is plumbing output, never a translated message.

pub mod admin;
pub mod cmd;
pub mod history;
pub mod hooks;
pub mod locate;
pub mod lock;
pub mod merged;
pub mod refs;
pub mod repo;
pub mod status;
pub mod worktree;

use std::io;
use std::path::PathBuf;

pub use repo::Repo;

/// Whether `s` is a full object id (SHA-1 or SHA-256, in hex), not a name to resolve.
pub fn is_object_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An object id as people see it: its first seven digits.
pub fn short_id(id: &str) -> &str {
    &id[..7.min(id.len())]
}
pub use status::Dirt;

/// Everything that can go wrong in this module. The `Display` texts are meant for end users.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("not inside a git repository: {}", path.display())]
    NotARepository { path: PathBuf },
    #[error("the repository has no commits yet")]
    NoCommits,
    #[error("cannot resolve '{rev}' to a commit")]
    BadRevision { rev: String },
    #[error("'{branch}' is not a valid branch name")]
    InvalidBranchName { branch: String },
    #[error("a branch named '{branch}' already exists")]
    BranchExists { branch: String },
    #[error("branch '{branch}' is already checked out at {}", path.display())]
    BranchCheckedOut { branch: String, path: PathBuf },
    #[error("{} already exists", path.display())]
    PathExists { path: PathBuf },
    #[error(
        "{} is still registered as worktree '{id}' although its folder is gone; \
         prune that entry first",
        path.display()
    )]
    PathRegistered { path: PathBuf, id: String },
    /// git refused or failed; `message` is git's own.
    #[error("`{command}` failed: {message}")]
    Failed { command: String, message: String },
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

/// Attach "what we were doing" to filesystem errors.
trait IoContext<T> {
    fn io_ctx(self, context: impl FnOnce() -> String) -> Result<T, GitError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn io_ctx(self, context: impl FnOnce() -> String) -> Result<T, GitError> {
        self.map_err(|source| GitError::Io {
            context: context(),
            source,
        })
    }
}

impl Repo {
    fn io(&self, source: io::Error) -> GitError {
        GitError::Io {
            context: format!("cannot read the worktrees of {}", self.common_dir().display()),
            source,
        }
    }
}

/// What a new shard starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// Full ref name (e.g. `refs/heads/main`) when the base was a local branch, or HEAD pointing
    /// to one.
    pub refname: Option<String>,
    /// The base commit as hex.
    pub commit: String,
}

/// One worktree as git knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorktreeEntry {
    /// Admin id (the name under `<common-dir>/worktrees/`); `None` for the main worktree.
    pub id: Option<String>,
    /// The worktree's root folder (as git recorded it; it may be gone, see `prunable`).
    pub path: PathBuf,
    /// The ref its HEAD file names (`refs/heads/<branch>`); `None` when detached, or with
    /// reftable, where HEAD files are stubs.
    pub head_ref: Option<String>,
    /// Lock reason; `Some("")` when locked without a reason.
    pub locked: Option<String>,
    /// Its folder holds its `.git` (read once here: reconciliation and `prune` both ask).
    pub present: bool,
}

impl WorktreeEntry {
    /// Its folder is gone and it is not locked, so `git worktree prune` would remove it.
    pub fn prunable(&self) -> bool {
        self.locked.is_none() && !self.present
    }
}
