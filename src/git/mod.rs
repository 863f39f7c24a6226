//! Git plumbing for git-shard: discovery, branches, linked worktrees and their dirt.
//!
//! # Invariants
//!
//! * **Everything runs in-process with gix; the `git` binary is never spawned.** `discover` and
//!   `worktrees` run at every prompt and every `git shard list`, where a process spawn per call
//!   would dominate the cost. In-process work also gives typed errors instead of parsed stderr,
//!   does not depend on which `git` is on `PATH` (its version, its locale), and lets the checkout
//!   write files on several threads.
//! * **Worktrees are laid out exactly as git's `builtin/worktree.c` lays them out**, because real
//!   git must accept them as its own (`status`, `worktree list`, `worktree remove`, `worktree
//!   prune`): `<common-dir>/worktrees/<id>/` holds `HEAD` (`ref: refs/heads/<branch>`),
//!   `commondir` (`../..`), `gitdir` (absolute path of `<worktree>/.git`) and `index`;
//!   `<worktree>/.git` is a file `gitdir: <absolute admin dir>`. While an add is under way the
//!   admin dir also holds `locked` ("initializing"), as git does, so that a concurrent `git
//!   worktree prune` cannot delete an entry whose `gitdir` file is not written yet.
//! * **Claims are single, non-recursive `create_dir` calls.** `mkdir` is atomic: of two processes
//!   creating the same directory exactly one succeeds and the other gets `AlreadyExists`. The
//!   worktree folder and the admin dir `<common-dir>/worktrees/<id>` are both claimed that way, so
//!   two concurrent adds can never share either (a taken folder is `PathExists`; a taken id moves
//!   on to `<id>1`, `<id>2`, … like git). A new branch is created by a ref transaction that
//!   requires it not to exist, under the ref's lock file, so of two racing adds of the same new
//!   branch exactly one creates it.
//! * **Rollback.** `add_worktree` records each thing it creates right after creating it. If any
//!   later step fails, or panics, it removes exactly those things — the worktree folder with
//!   whatever was checked out into it, the admin dir, and the branch (only while it still points
//!   at the commit we gave it) — and returns the original error. It never removes anything that
//!   existed before the call. Missing parent folders of the worktree path are created and left in
//!   place: another add may be creating its own worktree inside them at the same moment. A process
//!   killed mid-add can leave an entry locked as "initializing", exactly as an interrupted `git
//!   worktree add` does.
//! * **Recovery never guesses.** `remove_incomplete_worktree` removes what a killed add left only
//!   when it can tell it is the add's: admin dirs still locked "initializing" (or never
//!   registered, or finished but with nothing to lose), and the folder only when its `.git` links
//!   back to one of those or it is empty. It deletes in an order that a second kill cannot turn
//!   into something a rerun no longer recognises.
//! * **No commit is lost.** `unreachable_head_commits` counts what removing a worktree would lose
//!   (commits on its detached HEAD that no ref or other HEAD reaches), which `git worktree
//!   remove` does not protect.
//! * **Cheap reads.** `discover`, `worktrees`, `branch_checked_out_at` and `branch_exists` read a
//!   handful of small files; they never read an index or walk a working tree. Only `dirt` does.

pub mod hooks;
pub mod locate;
pub mod lock;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::AtomicBool;

use gix::ObjectId;
use gix::bstr::BString;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use gix::refs::{Category, FullName, Target};
use gix::status::index_worktree::iter::Summary;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong in this module. The `Display` texts are meant for end users; the
/// `Git` and `Io` variants say what we were doing and carry the underlying cause as `source()`.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("not inside a git repository: {}", path.display())]
    NotARepository { path: PathBuf },
    #[error(
        "{} is a bare repository; git shard needs a repository with a working tree",
        path.display()
    )]
    Bare { path: PathBuf },
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
    #[error("there is no branch named '{branch}'")]
    NoSuchBranch { branch: String },
    #[error("{} already exists", path.display())]
    PathExists { path: PathBuf },
    #[error(
        "{} is still registered as worktree '{id}' although its folder is gone; \
         prune that entry first",
        path.display()
    )]
    PathRegistered { path: PathBuf, id: String },
    #[error("{} is not a linked worktree of this repository", path.display())]
    NotAWorktree { path: PathBuf },
    #[error("cannot prune worktree entry '{id}': {reason}")]
    NotPrunable { id: String, reason: String },
    #[error("{context}")]
    Git {
        context: String,
        #[source]
        source: BoxError,
    },
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

/// Attach "what we were doing" to errors from gix (and friends).
trait GitContext<T> {
    fn git_ctx(self, context: impl FnOnce() -> String) -> Result<T, GitError>;
}

impl<T, E: Into<BoxError>> GitContext<T> for Result<T, E> {
    fn git_ctx(self, context: impl FnOnce() -> String) -> Result<T, GitError> {
        self.map_err(|err| GitError::Git {
            context: context(),
            source: err.into(),
        })
    }
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

/// What a new shard starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// Full ref name (e.g. `refs/heads/main`) when the base was a local branch, or HEAD pointing
    /// to one.
    pub refname: Option<String>,
    /// The base commit as hex.
    pub commit: String,
}

/// Uncommitted work in a worktree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dirt {
    /// Changes between HEAD and the index.
    pub staged: usize,
    /// Tracked files whose content differs from the index (modified, deleted, type-changed,
    /// conflicted).
    pub modified: usize,
    /// Untracked files that are not ignored.
    pub untracked: usize,
}

impl Dirt {
    pub fn is_clean(&self) -> bool {
        self.staged == 0 && self.modified == 0 && self.untracked == 0
    }
}

impl fmt::Display for Dirt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [
            (self.staged, "staged"),
            (self.modified, "modified"),
            (self.untracked, "untracked"),
        ]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
        if parts.is_empty() {
            f.write_str("clean")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// One worktree as git knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorktreeEntry {
    /// Admin id (the name under `<common-dir>/worktrees/`); `None` for the main worktree.
    pub id: Option<String>,
    /// The worktree's root folder (as git recorded it; it may be gone, see `prunable`).
    pub path: PathBuf,
    /// Short branch name, `None` when HEAD is detached.
    pub branch: Option<String>,
    /// Lock reason; `Some("")` when locked without a reason.
    pub locked: Option<String>,
    /// Its folder is gone and it is not locked, so `git worktree prune` would remove it.
    pub prunable: bool,
}

/// A repository, discovered from one of its worktrees.
pub struct Repo {
    /// Opened on first use: `list`, `status` and the other readers only need the paths below,
    /// and opening a repository (config files, object database) is most of their cost.
    repo: std::cell::OnceCell<gix::Repository>,
    /// Where `repo` is opened from.
    open_at: PathBuf,
    common_dir: PathBuf,
    main_workdir: PathBuf,
    current_workdir: Option<PathBuf>,
}

/// A linked worktree's admin entry, read from `<common-dir>/worktrees/<id>/`.
struct AdminEntry {
    id: String,
    admin_dir: PathBuf,
    /// The worktree root named by the `gitdir` file.
    path: PathBuf,
}

impl Repo {
    /// Discover from any worktree (main or linked) or subfolder. Refuses bare repositories
    /// (`GitError::Bare`) and non-repositories.
    pub fn discover(cwd: &Path) -> Result<Repo, GitError> {
        // The usual layouts (a `.git` folder, or a linked worktree's `.git` file) are read
        // directly and the repository is opened only when a command needs more than paths;
        // anything else (GIT_DIR, bare repositories, submodules) goes through gix's discovery.
        if let Some(found) = locate::locate(cwd) {
            let common_dir = canonical(&found.common_dir)?;
            let current = canonical(&found.worktree)?;
            let main_workdir = match found.worktree_id {
                None => current.clone(),
                Some(_) if common_dir.file_name().is_some_and(|n| n == ".git") => common_dir
                    .parent()
                    .map(Path::to_owned)
                    .unwrap_or_else(|| common_dir.clone()),
                Some(_) => return Repo::discover_full(cwd),
            };
            return Ok(Repo {
                repo: std::cell::OnceCell::new(),
                open_at: current.clone(),
                common_dir,
                main_workdir,
                current_workdir: Some(current),
            });
        }
        Repo::discover_full(cwd)
    }

    /// The gix repository, opened on first use.
    fn gix(&self) -> Result<&gix::Repository, GitError> {
        if let Some(repo) = self.repo.get() {
            return Ok(repo);
        }
        let full = Repo::discover_full(&self.open_at)?;
        let repo = full.repo.into_inner().ok_or_else(|| GitError::NotARepository {
            path: self.open_at.clone(),
        })?;
        Ok(self.repo.get_or_init(|| repo))
    }

    fn discover_full(cwd: &Path) -> Result<Repo, GitError> {
        let mut repo = match gix::ThreadSafeRepository::discover(cwd) {
            Ok(repo) => repo.to_thread_local(),
            Err(err) => {
                use gix::discover::upwards::Error as Upwards;
                return Err(match err.downcast_any_ref::<Upwards>() {
                    Some(
                        Upwards::NoGitRepository { .. }
                        | Upwards::NoGitRepositoryWithinCeiling { .. }
                        | Upwards::NoGitRepositoryWithinFs { .. },
                    ) => GitError::NotARepository { path: cwd.to_owned() },
                    _ => GitError::Git {
                        context: format!("cannot open the git repository at {}", cwd.display()),
                        source: err.into(),
                    },
                });
            }
        };
        let common_dir = canonical(&repo.current_dir().join(repo.common_dir()))?;
        if repo.is_bare() {
            return Err(GitError::Bare { path: common_dir });
        }
        let current_workdir = repo
            .workdir()
            .map(|dir| canonical(&repo.current_dir().join(dir)))
            .transpose()?;
        let main_workdir = match &current_workdir {
            Some(dir) if repo.kind() != gix::repository::Kind::LinkedWorkTree => dir.clone(),
            // Like git's get_main_worktree(): the main worktree is the folder holding `.git`.
            _ if common_dir.file_name().is_some_and(|name| name == ".git") => common_dir
                .parent()
                .map(Path::to_owned)
                .unwrap_or_else(|| common_dir.clone()),
            // Only a separated git dir (core.worktree) gets here, e.g. a submodule's worktree.
            _ => {
                let main = repo
                    .main_repo()
                    .git_ctx(|| format!("cannot open the main repository at {}", common_dir.display()))?;
                match main.workdir() {
                    Some(dir) => canonical(dir)?,
                    None => return Err(GitError::Bare { path: common_dir }),
                }
            }
        };
        // Reflog entries need a committer; git falls back to user@host rather than failing, and
        // so do we.
        repo.committer_or_set_generic_fallback()
            .git_ctx(|| "cannot determine the committer for reflog entries".to_owned())?;
        Ok(Repo {
            repo: std::cell::OnceCell::from(repo),
            open_at: cwd.to_owned(),
            common_dir,
            main_workdir,
            current_workdir,
        })
    }

    /// Absolute, canonical git dir shared by all worktrees.
    pub fn common_dir(&self) -> PathBuf {
        self.common_dir.clone()
    }

    /// The main worktree's root (absolute).
    pub fn main_workdir(&self) -> PathBuf {
        self.main_workdir.clone()
    }

    /// Root of the worktree we were discovered from; `None` when discovered from inside a git dir.
    pub fn current_workdir(&self) -> Option<PathBuf> {
        self.current_workdir.clone()
    }

    /// The base for a new shard: `rev` (any revspec gix understands: branch, tag, sha, `HEAD~2`)
    /// or, when `None`, HEAD's commit. `refname` is set when `rev` names a local branch, or when
    /// `rev` is `None` (or `HEAD`) and HEAD is on a branch.
    pub fn resolve_base(&self, rev: Option<&str>) -> Result<Base, GitError> {
        let Some(rev) = rev.filter(|rev| *rev != "HEAD") else {
            return self.head_base();
        };
        // Names are looked up in git's rev-parse order, so "main" only counts as a branch when no
        // tag (or other higher-priority ref) of that name shadows it.
        if let Ok(Some(mut reference)) = self.gix()?.try_find_reference(rev)
            && reference.name().category() == Some(Category::LocalBranch)
        {
            let refname = reference.name().as_bstr().to_string();
            let commit = reference
                .peel_to_commit()
                .map_err(|_| GitError::BadRevision { rev: rev.to_owned() })?;
            return Ok(Base {
                refname: Some(refname),
                commit: commit.id.to_string(),
            });
        }
        Ok(Base {
            refname: None,
            commit: self.commit_of(rev)?.to_string(),
        })
    }

    fn head_base(&self) -> Result<Base, GitError> {
        let mut head = self.gix()?.head().git_ctx(|| "cannot read HEAD".to_owned())?;
        if head.is_unborn() {
            return Err(GitError::NoCommits);
        }
        let refname = head
            .referent_name()
            .filter(|name| name.category() == Some(Category::LocalBranch))
            .map(|name| name.as_bstr().to_string());
        let commit = head
            .peel_to_commit()
            .git_ctx(|| "cannot resolve HEAD to a commit".to_owned())?;
        Ok(Base {
            refname,
            commit: commit.id.to_string(),
        })
    }

    /// The commit `rev` names, peeling tags.
    fn commit_of(&self, rev: &str) -> Result<ObjectId, GitError> {
        let bad = || GitError::BadRevision { rev: rev.to_owned() };
        let id = self.gix()?.rev_parse_single(rev).map_err(|_| bad())?;
        let commit = id.object().map_err(|_| bad())?.peel_to_commit().map_err(|_| bad())?;
        Ok(commit.id)
    }

    /// Whether `refs/heads/<branch>` exists.
    pub fn branch_exists(&self, branch: &str) -> Result<bool, GitError> {
        let name = branch_ref(branch)?;
        Ok(self.branch_tip(&name)?.is_some())
    }

    fn branch_tip(&self, name: &FullName) -> Result<Option<ObjectId>, GitError> {
        let Some(mut reference) = self
            .gix()?
            .try_find_reference(name.as_ref())
            .git_ctx(|| format!("cannot read {name}"))?
        else {
            return Ok(None);
        };
        let commit = reference
            .peel_to_commit()
            .git_ctx(|| format!("{name} does not point to a commit"))?;
        Ok(Some(commit.id))
    }

    /// Path of the worktree (main or linked) that has `branch` checked out — or is rebasing or
    /// bisecting it, which git counts as checked out too — if any.
    pub fn branch_checked_out_at(&self, branch: &str) -> Result<Option<PathBuf>, GitError> {
        let name = branch_ref(branch)?;
        self.branch_holder(&name, None)
    }

    /// Like `branch_checked_out_at`, ignoring the linked worktree `skip_id`.
    fn branch_holder(&self, name: &FullName, skip_id: Option<&str>) -> Result<Option<PathBuf>, GitError> {
        let wanted = name.as_bstr().to_string();
        if holds_branch(&self.common_dir, &wanted) {
            return Ok(Some(self.main_workdir.clone()));
        }
        Ok(self
            .admin_entries()?
            .into_iter()
            .filter(|entry| Some(entry.id.as_str()) != skip_id)
            .find(|entry| holds_branch(&entry.admin_dir, &wanted))
            .map(|entry| entry.path))
    }

    /// Create `path` as a linked worktree on `branch` and return the admin id used.
    ///
    /// With `create_branch`, `refs/heads/<branch>` is created at `commit` (`BranchExists` if it
    /// exists). Without it, the branch must exist and not be checked out anywhere, and its own tip
    /// is checked out; `commit` is not used. `id` is made a safe single path component
    /// (characters other than ASCII letters, digits, `-`, `_` and `.` become `-`); if that id is
    /// taken, `<id>1`, `<id>2`, … is used like git does. Fails with `PathExists` if `path` exists.
    /// Missing parent folders are created. On failure everything created is removed again (see
    /// the module docs).
    pub fn add_worktree(
        &self,
        path: &Path,
        id: &str,
        branch: &str,
        create_branch: bool,
        commit: &str,
    ) -> Result<String, GitError> {
        let branch_name = branch_ref(branch)?;
        let path = std::path::absolute(path).io_ctx(|| format!("cannot resolve {}", path.display()))?;
        match fs::symlink_metadata(&path) {
            Ok(_) => return Err(GitError::PathExists { path }),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => {
                return Err(GitError::Io {
                    context: format!("cannot inspect {}", path.display()),
                    source: err,
                });
            }
        }
        let wanted = comparable_path(&path);
        if let Some(entry) = self
            .admin_entries()?
            .into_iter()
            .find(|e| comparable_path(&e.path) == wanted)
        {
            return Err(GitError::PathRegistered { path, id: entry.id });
        }

        let tip = if create_branch {
            let tip = self.commit_of(commit)?;
            // The transaction below is what makes this safe against races; checking first merely
            // avoids creating and deleting a folder in the common case.
            if self.branch_tip(&branch_name)?.is_some() {
                return Err(GitError::BranchExists {
                    branch: branch.to_owned(),
                });
            }
            tip
        } else {
            let tip = self.branch_tip(&branch_name)?.ok_or_else(|| GitError::NoSuchBranch {
                branch: branch.to_owned(),
            })?;
            if let Some(at) = self.branch_holder(&branch_name, None)? {
                return Err(GitError::BranchCheckedOut {
                    branch: branch.to_owned(),
                    path: at,
                });
            }
            tip
        };
        let tree = self
            .gix()?
            .find_commit(tip)
            .and_then(|commit| commit.tree_id())
            .git_ctx(|| format!("cannot read the tree of commit {tip}"))?
            .detach();

        let mut undo = Undo {
            repo: self.gix()?,
            worktree: None,
            admin_dir: None,
            branch: None,
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).io_ctx(|| format!("cannot create {}", parent.display()))?;
        }
        match fs::create_dir(&path) {
            Ok(()) => undo.worktree = Some(path.clone()),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                return Err(GitError::PathExists { path });
            }
            Err(err) => {
                return Err(GitError::Io {
                    context: format!("cannot create {}", path.display()),
                    source: err,
                });
            }
        }
        // git records the real path, so `git worktree list` and our own lookups agree on it.
        let path = canonical(&path)?;

        if create_branch {
            self.create_branch(&branch_name, tip, branch)?;
            undo.branch = Some((branch_name.clone(), tip));
        }

        let (id, admin_dir) = self.claim_admin_dir(id)?;
        undo.admin_dir = Some(admin_dir.clone());
        write_file(&admin_dir.join("locked"), "initializing\n")?;
        write_file(&admin_dir.join("commondir"), "../..\n")?;
        write_file(&admin_dir.join("gitdir"), &format!("{}\n", path.join(".git").display()))?;
        write_file(&admin_dir.join("HEAD"), &format!("ref: {branch_name}\n"))?;
        write_file(&path.join(".git"), &format!("gitdir: {}\n", admin_dir.display()))?;

        if !create_branch {
            // Two adds of the same existing branch can both pass the check above. Each publishes
            // its HEAD before looking again, so at least one of them sees the other and backs off.
            if let Some(at) = self.branch_holder(&branch_name, Some(&id))? {
                return Err(GitError::BranchCheckedOut {
                    branch: branch.to_owned(),
                    path: at,
                });
            }
        }

        self.checkout(&path, &admin_dir, &branch_name, tip, tree)?;
        fs::remove_file(admin_dir.join("locked")).io_ctx(|| format!("cannot unlock {}", admin_dir.display()))?;
        undo.keep();
        tracing::debug!(id, path = %path.display(), branch, "added worktree");
        Ok(id)
    }

    fn create_branch(&self, name: &FullName, tip: ObjectId, branch: &str) -> Result<(), GitError> {
        let edit = RefEdit {
            change: Change::Update {
                log: LogChange {
                    mode: RefLog::AndReference,
                    force_create_reflog: false,
                    message: format!("branch: Created from {tip}").into(),
                },
                expected: PreviousValue::MustNotExist,
                new: Target::Object(tip),
            },
            name: name.clone(),
            deref: false,
        };
        let exists = || GitError::BranchExists {
            branch: branch.to_owned(),
        };
        match self.gix()?.edit_reference(edit) {
            // gix lets MustNotExist pass (as a no-op) when the ref already holds exactly the target
            // we write — which is what a racing add of the same branch from the same base does. The
            // returned edit carries the value gix saw under the lock, so "it was already there"
            // is still detectable, and that racer loses.
            Ok(edits)
                if edits.iter().any(|edit| {
                    edit.name == *name
                        && matches!(
                            edit.change,
                            Change::Update {
                                expected: PreviousValue::MustExistAndMatch(_),
                                ..
                            }
                        )
                }) =>
            {
                Err(exists())
            }
            Ok(_) => Ok(()),
            Err(err) => match self.branch_tip(name) {
                // Whoever holds the ref lock or created it first wins; everyone else sees it exist.
                Ok(Some(_)) => Err(exists()),
                _ => Err(GitError::Git {
                    context: format!("cannot create branch '{branch}'"),
                    source: err.into(),
                }),
            },
        }
    }

    /// Claim `<common-dir>/worktrees/<id>` (or `<id>1`, `<id>2`, …) with one `create_dir` each, so
    /// that concurrent adds always end up with distinct ids.
    fn claim_admin_dir(&self, id: &str) -> Result<(String, PathBuf), GitError> {
        let worktrees = self.common_dir.join("worktrees");
        fs::create_dir_all(&worktrees).io_ctx(|| format!("cannot create {}", worktrees.display()))?;
        let base = sanitize_id(id);
        let mut suffix = 0_u32;
        loop {
            let candidate = if suffix == 0 {
                base.clone()
            } else {
                format!("{base}{suffix}")
            };
            let dir = worktrees.join(&candidate);
            match fs::create_dir(&dir) {
                Ok(()) => return Ok((candidate, dir)),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                    suffix = suffix.checked_add(1).ok_or_else(|| GitError::Io {
                        context: format!("no free worktree id starting with '{base}'"),
                        source: io::Error::other("suffix overflow"),
                    })?;
                }
                Err(err) => {
                    return Err(GitError::Io {
                        context: format!("cannot create {}", dir.display()),
                        source: err,
                    });
                }
            }
        }
    }

    /// Write the files of `tree` into the empty `worktree` and its index into `admin_dir`.
    fn checkout(
        &self,
        worktree: &Path,
        admin_dir: &Path,
        branch: &FullName,
        commit: ObjectId,
        tree: ObjectId,
    ) -> Result<(), GitError> {
        let mut index = self
            .gix()?
            .index_from_tree(&tree)
            .git_ctx(|| format!("cannot read the tree of commit {commit}"))?;
        index.set_path(admin_dir.join("index"));
        let mut options = self
            .gix()?
            .checkout_options(gix::worktree::stack::state::attributes::Source::IdMapping)
            .git_ctx(|| "cannot read the checkout configuration".to_owned())?;
        // The folder was created by us a moment ago, so every file can be created without first
        // checking for an existing one.
        options.destination_is_initially_empty = true;
        // Filter drivers see the new worktree's branch, not the branch of the one we run in.
        let driver = options.filters.driver_context_mut();
        driver.ref_name = Some(BString::from(branch.as_bstr()));
        driver.treeish = Some(commit);
        let objects = self
            .gix()?
            .objects
            .clone()
            .into_arc()
            .io_ctx(|| "cannot share the object database between threads".to_owned())?;
        let outcome = gix::worktree::state::checkout(
            &mut index,
            worktree,
            objects,
            &gix::progress::Discard,
            &gix::progress::Discard,
            &AtomicBool::new(false),
            options,
        )
        .git_ctx(|| format!("cannot check out files into {}", worktree.display()))?;
        if !outcome.collisions.is_empty() {
            // Only case-insensitive filesystems produce these; git also just warns about them.
            let paths: Vec<String> = outcome.collisions.iter().map(|c| c.path.to_string()).collect();
            tracing::warn!(?paths, "paths collided during checkout");
        }
        index
            .write(gix::index::write::Options::default())
            .git_ctx(|| format!("cannot write the index of {}", worktree.display()))?;
        Ok(())
    }

    /// Remove a linked worktree: its folder (if present) and its admin dir. Callers have already
    /// checked for dirt and locks; this checks neither.
    pub fn remove_worktree(&self, path: &Path) -> Result<(), GitError> {
        let wanted = comparable_path(path);
        let entry = self
            .admin_entries()?
            .into_iter()
            .find(|entry| comparable_path(&entry.path) == wanted)
            .ok_or_else(|| GitError::NotAWorktree { path: path.to_owned() })?;
        // A damaged or hand-edited `gitdir` file could name any folder; only delete one whose
        // `.git` file points back at this entry, as `git worktree remove` insists too.
        if fs::symlink_metadata(&entry.path).is_ok() {
            if !links_back(&entry.path, &entry.admin_dir) {
                return Err(GitError::NotAWorktree { path: entry.path });
            }
            // Folder first, admin dir last (git's order): if deleting files fails halfway, git
            // still knows the worktree and `git worktree remove`/`prune` can finish the job.
            fs::remove_dir_all(&entry.path).io_ctx(|| format!("cannot delete {}", entry.path.display()))?;
        }
        fs::remove_dir_all(&entry.admin_dir).io_ctx(|| format!("cannot delete {}", entry.admin_dir.display()))
    }

    /// Number of commits that removing the linked worktree at `worktree` (matched like
    /// `remove_worktree` matches it) would lose: those reachable from its HEAD but from no ref
    /// (branches, tags, remote branches, the stash, notes, …) and from no other worktree's HEAD,
    /// the main one included. `git worktree remove` lets commits made on a detached HEAD go; we
    /// never lose work. A HEAD on a branch gives 0, since the branch keeps its commits (and an
    /// unborn branch has none). Per-worktree refs (`refs/bisect/`, `refs/worktree/`,
    /// `refs/rewritten/`) keep nothing: this worktree's go with it, and counting another's could
    /// only err towards losing commits.
    ///
    /// When git knows no worktree at `worktree`, the answer is 0 if its folder is gone too, and
    /// `NotAWorktree` if the folder is still there. An entry without a readable HEAD is an error.
    pub fn unreachable_head_commits(&self, worktree: &Path) -> Result<usize, GitError> {
        let wanted = comparable_path(worktree);
        let Some(entry) = self
            .admin_entries()?
            .into_iter()
            .find(|entry| comparable_path(&entry.path) == wanted)
        else {
            return match fs::symlink_metadata(worktree) {
                Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(0),
                Err(err) => Err(GitError::Io {
                    context: format!("cannot inspect {}", worktree.display()),
                    source: err,
                }),
                Ok(_) => Err(GitError::NotAWorktree {
                    path: worktree.to_owned(),
                }),
            };
        };
        self.commits_only_in(&entry.admin_dir)
    }

    /// `unreachable_head_commits` for the worktree whose admin dir is `admin_dir`.
    fn commits_only_in(&self, admin_dir: &Path) -> Result<usize, GitError> {
        let head_file = admin_dir.join("HEAD");
        let head = fs::read_to_string(&head_file).io_ctx(|| format!("cannot read {}", head_file.display()))?;
        let head = head.trim();
        let detached = match head.strip_prefix("ref:").map(str::trim) {
            None => head.to_owned(),
            Some(name) => {
                let invalid = || format!("{} names an invalid ref", head_file.display());
                let full = FullName::try_from(name).git_ctx(invalid)?;
                if !name.starts_with("refs/") {
                    return Err(GitError::Git {
                        context: invalid(),
                        source: format!("'{name}' is not under refs/").into(),
                    });
                }
                if !full.category().is_some_and(|category| category.is_worktree_private()) {
                    // A shared ref keeps its commits itself; if it does not exist, HEAD is unborn.
                    return Ok(0);
                }
                // git never packs per-worktree refs, so this one is a file in the admin dir.
                match read_optional(&admin_dir.join(name))? {
                    Some(target) => target.trim().to_owned(),
                    None => return Ok(0),
                }
            }
        };
        let tip = ObjectId::from_hex(detached.as_bytes())
            .git_ctx(|| format!("{} holds neither a commit id nor a ref", head_file.display()))?;
        let hidden = self.kept_tips(admin_dir)?;
        let context = || format!("cannot walk the history of {}", head_file.display());
        // One walk: everything reachable from a hidden tip is cut off where it meets HEAD's history.
        let walk = self.gix()?.rev_walk([tip]).with_hidden(hidden).all().git_ctx(context)?;
        let mut count = 0;
        for commit in walk {
            commit.git_ctx(context)?;
            count += 1;
        }
        Ok(count)
    }

    /// The commits that keep their history alive without the worktree of `admin_dir`: every shared
    /// ref, and the detached HEADs of all other worktrees (a HEAD on a branch adds nothing the
    /// refs do not have).
    fn kept_tips(&self, admin_dir: &Path) -> Result<Vec<ObjectId>, GitError> {
        let context = || "cannot list the references".to_owned();
        let mut tips = Vec::new();
        for reference in self.gix()?.references().git_ctx(context)?.all().git_ctx(context)? {
            // A ref that cannot be read, or leads to no commit, keeps nothing; skipping it only
            // errs towards counting commits as unreachable.
            let Ok(mut reference) = reference else {
                continue;
            };
            // These are the per-worktree refs of whichever worktree we were discovered from.
            if reference
                .name()
                .category()
                .is_some_and(|category| category.is_worktree_private())
            {
                continue;
            }
            if let Ok(commit) = reference.peel_to_commit() {
                tips.push(commit.id);
            }
        }
        let other_heads = std::iter::once(self.common_dir.clone()).chain(
            self.admin_entries()?
                .into_iter()
                .map(|entry| entry.admin_dir)
                .filter(|dir| dir != admin_dir),
        );
        let repo = self.gix()?;
        for git_dir in other_heads {
            let id = read_optional(&git_dir.join("HEAD"))?
                .and_then(|head| ObjectId::from_hex(head.trim().as_bytes()).ok())
                // The walk fails on a hidden tip that is not a commit.
                .filter(|id| repo.find_commit(*id).is_ok());
            tips.extend(id);
        }
        tips.sort_unstable();
        tips.dedup();
        Ok(tips)
    }

    /// Remove the lock file of `refs/heads/<branch>` that a killed ref transaction left behind
    /// (git leaves the same after a crash, and then refuses to touch the ref). Only for a branch
    /// of a `new` known to be dead, under the shard's lock: nothing else writes that ref then.
    pub fn clear_stale_branch_lock(&self, branch: &str) -> Result<bool, GitError> {
        let name = branch_ref(branch)?;
        let lock = self.common_dir.join(format!("{}.lock", name.as_bstr()));
        match fs::remove_file(&lock) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(GitError::Io {
                context: format!("cannot remove {}", lock.display()),
                source: e,
            }),
        }
    }

    /// Crash recovery for an `add_worktree(path, id, …)` whose process was killed: remove what it
    /// left and return whether anything was removed. Only call it for an add known to be dead, as
    /// a live one looks just the same.
    ///
    /// `id` is the id the add asked for; it is sanitized as `add_worktree` does, and `<id>1`,
    /// `<id>2`, … are considered up to the first that does not exist. Such an admin dir is the
    /// add's if its `gitdir` file is missing or names `path`, and it is
    /// * locked "initializing": every add holds that lock from right after claiming the id until
    ///   it is done, so the add never finished (whatever stage it reached);
    /// * or unlocked without a `gitdir` file: a kill right after the claim leaves it empty, and
    ///   `git worktree prune` deletes such entries anyway. As the add writes the lock before
    ///   `gitdir` and `.git`, such an entry never makes a folder the add's;
    /// * or unlocked and registered at `path`: an add that finished just before the kill. It is
    ///   removed only if that loses nothing: the folder has no `.git` or links back and has no
    ///   dirt, and its HEAD has no `unreachable_head_commits`.
    ///
    /// Entries locked for any other reason, or registered at another folder, are left alone. The
    /// branch the add may have created is left alone too (it costs nothing; the caller decides).
    ///
    /// The folder `path` is removed only if its `.git` file links back to an admin dir of the
    /// first or last kind, or if it has no `.git` and is empty: the add writes `.git` before it
    /// checks out any file, and we delete `.git` last, so anything in a folder without `.git` is
    /// not the add's. When `path` exists and is neither, this returns `PathExists` and removes
    /// nothing. It errs as well when it cannot read what it needs to decide (or a deletion
    /// fails); in all other cases it returns `Ok`, `false` when it found nothing of the add's.
    pub fn remove_incomplete_worktree(&self, path: &Path, id: &str) -> Result<bool, GitError> {
        let path = std::path::absolute(path).io_ctx(|| format!("cannot resolve {}", path.display()))?;
        let wanted = comparable_path(&path);
        let worktrees = self.common_dir.join("worktrees");
        let base = sanitize_id(id);
        let mut leftovers = Vec::new();
        for suffix in 0_u32.. {
            let candidate = if suffix == 0 {
                base.clone()
            } else {
                format!("{base}{suffix}")
            };
            let admin_dir = worktrees.join(candidate);
            match fs::symlink_metadata(&admin_dir) {
                Ok(meta) if meta.is_dir() => match self.left_by_add(&admin_dir, &path, &wanted)? {
                    Leftover::No => {}
                    Leftover::AdminDirOnly => leftovers.push((admin_dir, false)),
                    Leftover::WithFolder => leftovers.push((admin_dir, true)),
                },
                // A stray file takes the id as well, so the add moved on past it.
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => break,
                Err(err) => {
                    return Err(GitError::Io {
                        context: format!("cannot inspect {}", admin_dir.display()),
                        source: err,
                    });
                }
            }
        }

        // Decide about the folder before deleting anything, then delete in git's order: folder
        // first, admin dirs last, so that a kill on the way leaves what the next run recognises.
        let refuse = || GitError::PathExists { path: path.clone() };
        let mut removed = false;
        match fs::symlink_metadata(&path) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => {
                return Err(GitError::Io {
                    context: format!("cannot inspect {}", path.display()),
                    source: err,
                });
            }
            Ok(meta) if !meta.is_dir() => return Err(refuse()),
            Ok(_) if exists(&path.join(".git"))? => {
                // `.git` is written last and is not atomic: a kill can leave it empty or cut short,
                // still a prefix of what the add was writing.
                let partial_link = |admin_dir: &Path| {
                    let want = format!("gitdir: {}\n", admin_dir.display());
                    fs::read(path.join(".git")).is_ok_and(|have| want.as_bytes().starts_with(&have))
                };
                if !leftovers.iter().any(|(admin_dir, with_folder)| {
                    *with_folder && (links_back(&path, admin_dir) || partial_link(admin_dir))
                }) {
                    return Err(refuse());
                }
                remove_folder_git_last(&path)?;
                removed = true;
            }
            // `remove_dir` only removes an empty folder, and does so atomically.
            Ok(_) => match fs::remove_dir(&path) {
                Ok(()) => removed = true,
                Err(err) if err.kind() == io::ErrorKind::DirectoryNotEmpty => return Err(refuse()),
                Err(err) => {
                    return Err(GitError::Io {
                        context: format!("cannot delete {}", path.display()),
                        source: err,
                    });
                }
            },
        }
        // Highest suffix first, and `gitdir` before the rest: a kill halfway leaves the ids still
        // contiguous and each remaining entry still recognisable as ours.
        for (admin_dir, _) in leftovers.iter().rev() {
            match fs::remove_file(admin_dir.join("gitdir")) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => {
                    return Err(GitError::Io {
                        context: format!("cannot delete {}", admin_dir.join("gitdir").display()),
                        source: err,
                    });
                }
            }
            fs::remove_dir_all(admin_dir).io_ctx(|| format!("cannot delete {}", admin_dir.display()))?;
            removed = true;
        }
        if removed {
            tracing::debug!(path = %path.display(), id, "removed what an interrupted add left");
        }
        Ok(removed)
    }

    /// Whether the admin dir `admin_dir` is what an interrupted add of `path` (spelled `wanted` by
    /// `comparable_path`) left; see `remove_incomplete_worktree`.
    fn left_by_add(&self, admin_dir: &Path, path: &Path, wanted: &Path) -> Result<Leftover, GitError> {
        let registered = read_gitdir(admin_dir)?;
        if registered.as_deref().is_some_and(|at| comparable_path(at) != wanted) {
            return Ok(Leftover::No);
        }
        match lock_reason(admin_dir)?.as_deref() {
            Some("initializing") => Ok(Leftover::WithFolder),
            // The add writes `locked` first, then `commondir`: a kill in between can leave the lock
            // empty or cut short. A user's lock always sits in an entry that has `commondir`.
            Some(partial)
                if "initializing".starts_with(partial)
                    && registered.is_none()
                    && !exists(&admin_dir.join("commondir"))? =>
            {
                Ok(Leftover::WithFolder)
            }
            Some(_) => Ok(Leftover::No),
            // Every add writes the lock before `gitdir` and `.git`, so a folder linking back to an
            // unlocked entry without `gitdir` is some worktree that lost its `gitdir` file.
            None if registered.is_none() => Ok(Leftover::AdminDirOnly),
            None => {
                if exists(&path.join(".git"))? && (!links_back(path, admin_dir) || !self.dirt(path)?.is_clean()) {
                    return Ok(Leftover::No);
                }
                Ok(if self.commits_only_in(admin_dir)? == 0 {
                    Leftover::WithFolder
                } else {
                    Leftover::No
                })
            }
        }
    }

    /// Delete `refs/heads/<branch>` and its reflog. Refuses a branch checked out in any worktree.
    pub fn delete_branch(&self, branch: &str) -> Result<(), GitError> {
        let name = branch_ref(branch)?;
        if let Some(path) = self.branch_holder(&name, None)? {
            return Err(GitError::BranchCheckedOut {
                branch: branch.to_owned(),
                path,
            });
        }
        let reference = self
            .gix()?
            .try_find_reference(name.as_ref())
            .git_ctx(|| format!("cannot read {name}"))?
            .ok_or_else(|| GitError::NoSuchBranch {
                branch: branch.to_owned(),
            })?;
        let target = reference.target().into_owned();
        self.gix()?
            .edit_reference(RefEdit {
                change: Change::Delete {
                    expected: PreviousValue::MustExistAndMatch(target),
                    log: RefLog::AndReference,
                },
                name,
                deref: false,
            })
            .git_ctx(|| format!("cannot delete branch '{branch}'"))?;
        Ok(())
    }

    /// Uncommitted and untracked changes of the worktree at `worktree`. Ignored files are not dirt.
    pub fn dirt(&self, worktree: &Path) -> Result<Dirt, GitError> {
        let repo = gix::open(worktree).git_ctx(|| format!("cannot open the worktree at {}", worktree.display()))?;
        let context = || format!("cannot compute the status of {}", worktree.display());
        let items = repo
            .status(gix::progress::Discard)
            .git_ctx(context)?
            .untracked_files(gix::status::UntrackedFiles::Files)
            .into_iter(Vec::<BString>::new())
            .git_ctx(context)?;
        let mut dirt = Dirt::default();
        for item in items {
            match item.git_ctx(context)? {
                gix::status::Item::TreeIndex(_) => dirt.staged += 1,
                gix::status::Item::IndexWorktree(item) => match item.summary() {
                    None => {}
                    Some(Summary::Added) => dirt.untracked += 1,
                    Some(_) => dirt.modified += 1,
                },
            }
        }
        Ok(dirt)
    }

    /// Number of commits reachable from `branch` but not from `base` (a full ref name like
    /// `refs/heads/main`, or a hex commit). When `base` no longer resolves, `base_commit` is used.
    pub fn commits_not_in(&self, branch: &str, base: &str, base_commit: &str) -> Result<usize, GitError> {
        let name = branch_ref(branch)?;
        let tip = self.branch_tip(&name)?.ok_or_else(|| GitError::NoSuchBranch {
            branch: branch.to_owned(),
        })?;
        let base = match self.commit_of(base) {
            Ok(id) => id,
            Err(_) => self.commit_of(base_commit)?,
        };
        let context = || format!("cannot walk the history of '{branch}'");
        let walk = self.gix()?.rev_walk([tip]).with_hidden([base]).all().git_ctx(context)?;
        let mut count = 0;
        for commit in walk {
            commit.git_ctx(context)?;
            count += 1;
        }
        Ok(count)
    }

    /// The folder git runs hooks from: `core.hooksPath` (relative to the worktree root, as git
    /// reads it) or `<common-dir>/hooks`. Returns whether it came from `core.hooksPath`.
    pub fn hooks_dir(&self) -> (PathBuf, bool) {
        let configured = self
            .gix()
            .ok()
            .and_then(|repo| repo.config_snapshot().trusted_path("core.hooksPath").ok().flatten());
        match configured {
            Some(p) if p.is_absolute() => (p, true),
            Some(p) => (
                self.current_workdir
                    .clone()
                    .unwrap_or_else(|| self.main_workdir.clone())
                    .join(p),
                true,
            ),
            None => (self.common_dir.join("hooks"), false),
        }
    }

    /// All worktrees git knows, main first, then linked ones by id. Reads only the small files in
    /// `<common-dir>/worktrees/*/`.
    pub fn worktrees(&self) -> Result<Vec<WorktreeEntry>, GitError> {
        let mut out = vec![WorktreeEntry {
            id: None,
            path: self.main_workdir.clone(),
            branch: head_branch(&self.common_dir),
            locked: None,
            prunable: false,
        }];
        for entry in self.admin_entries()? {
            let locked = lock_reason(&entry.admin_dir)?;
            let prunable = locked.is_none() && !exists(&entry.path.join(".git"))?;
            out.push(WorktreeEntry {
                branch: head_branch(&entry.admin_dir),
                id: Some(entry.id),
                path: entry.path,
                locked,
                prunable,
            });
        }
        Ok(out)
    }

    /// Remove git's admin entry of a linked worktree whose folder is gone (what `git worktree
    /// prune` does for one entry). Refuses locked entries and entries whose folder still exists.
    pub fn prune_worktree_entry(&self, id: &str) -> Result<(), GitError> {
        let refuse = |reason: String| GitError::NotPrunable {
            id: id.to_owned(),
            reason,
        };
        // Anything but a single plain name could reach outside `<common-dir>/worktrees/`.
        let mut components = Path::new(id).components();
        if !matches!(
            (components.next(), components.next()),
            (Some(Component::Normal(_)), None)
        ) {
            return Err(refuse("there is no such entry".to_owned()));
        }
        let admin_dir = self.common_dir.join("worktrees").join(id);
        if !fs::symlink_metadata(&admin_dir).is_ok_and(|meta| meta.is_dir()) {
            return Err(refuse("there is no such entry".to_owned()));
        }
        if lock_reason(&admin_dir)?.is_some() {
            return Err(refuse("it is locked".to_owned()));
        }
        if let Some(path) = read_gitdir(&admin_dir)?
            && exists(&path.join(".git"))?
        {
            return Err(refuse(format!("its folder {} still exists", path.display())));
        }
        fs::remove_dir_all(&admin_dir).io_ctx(|| format!("cannot delete {}", admin_dir.display()))
    }

    /// Linked worktree entries sorted by id. Entries without a readable `gitdir` file are skipped,
    /// as git skips them (they are half-created or half-deleted).
    fn admin_entries(&self) -> Result<Vec<AdminEntry>, GitError> {
        let worktrees = self.common_dir.join("worktrees");
        let dir = match fs::read_dir(&worktrees) {
            Ok(dir) => dir,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => {
                return Err(GitError::Io {
                    context: format!("cannot list {}", worktrees.display()),
                    source: err,
                });
            }
        };
        let mut entries = Vec::new();
        for item in dir {
            let item = item.io_ctx(|| format!("cannot list {}", worktrees.display()))?;
            let admin_dir = item.path();
            if let Some(path) = read_gitdir(&admin_dir)? {
                entries.push(AdminEntry {
                    id: item.file_name().to_string_lossy().into_owned(),
                    admin_dir,
                    path,
                });
            }
        }
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(entries)
    }
}

/// What `remove_incomplete_worktree` may do with an admin dir.
enum Leftover {
    /// Not the interrupted add's, or not safe to remove: leave it.
    No,
    /// The add's, but no proof that a folder linking back to it is the add's too.
    AdminDirOnly,
    /// The add's, and so is a folder whose `.git` links back to it.
    WithFolder,
}

/// Removes what a failed `add_worktree` created, on every way out (including panics) until `keep`.
struct Undo<'a> {
    repo: &'a gix::Repository,
    worktree: Option<PathBuf>,
    admin_dir: Option<PathBuf>,
    branch: Option<(FullName, ObjectId)>,
}

impl Undo<'_> {
    fn keep(mut self) {
        self.worktree = None;
        self.admin_dir = None;
        self.branch = None;
    }
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        for dir in [self.worktree.take(), self.admin_dir.take()].into_iter().flatten() {
            if let Err(err) = fs::remove_dir_all(&dir) {
                tracing::warn!(path = %dir.display(), %err, "could not roll back");
            }
        }
        if let Some((name, tip)) = self.branch.take() {
            // Only delete the branch while it is still ours, i.e. nobody moved it meanwhile.
            let edit = RefEdit {
                change: Change::Delete {
                    expected: PreviousValue::MustExistAndMatch(Target::Object(tip)),
                    log: RefLog::AndReference,
                },
                name,
                deref: false,
            };
            if let Err(err) = self.repo.edit_reference(edit) {
                tracing::warn!(%err, "could not roll back the new branch");
            }
        }
    }
}

/// `refs/heads/<branch>`, validated by git's ref name rules (plus git's own branch name rules).
fn branch_ref(branch: &str) -> Result<FullName, GitError> {
    let invalid = || GitError::InvalidBranchName {
        branch: branch.to_owned(),
    };
    if branch == "HEAD" || branch.starts_with('-') {
        return Err(invalid());
    }
    FullName::try_from(format!("refs/heads/{branch}")).map_err(|_| invalid())
}

/// A single, visible path component that is also valid inside a ref name (git keeps per-worktree
/// refs under `worktrees/<id>/`).
fn sanitize_id(id: &str) -> String {
    let replaced: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut id = replaced.trim_start_matches('.');
    while let Some(stripped) = id.strip_suffix(".lock").or_else(|| id.strip_suffix('.')) {
        id = stripped;
    }
    let id = id.replace("..", "-");
    if id.is_empty() { "worktree".to_owned() } else { id }
}

fn canonical(path: &Path) -> Result<PathBuf, GitError> {
    fs::canonicalize(path).io_ctx(|| format!("cannot resolve {}", path.display()))
}

fn exists(path: &Path) -> Result<bool, GitError> {
    path.try_exists()
        .io_ctx(|| format!("cannot inspect {}", path.display()))
}

fn write_file(path: &Path, contents: &str) -> Result<(), GitError> {
    fs::write(path, contents).io_ctx(|| format!("cannot write {}", path.display()))
}

/// Read a small file, `None` if it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>, GitError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(GitError::Io {
            context: format!("cannot read {}", path.display()),
            source: err,
        }),
    }
}

/// The worktree root an admin dir's `gitdir` file names (`<root>/.git`, possibly relative to the
/// admin dir since git 2.48), or `None` when there is no usable `gitdir` file.
fn read_gitdir(admin_dir: &Path) -> Result<Option<PathBuf>, GitError> {
    let Some(contents) = read_optional(&admin_dir.join("gitdir"))? else {
        return Ok(None);
    };
    let contents = contents.trim_end();
    if contents.is_empty() {
        return Ok(None);
    }
    let dot_git = normalize(&admin_dir.join(contents));
    Ok(Some(match dot_git.file_name() {
        Some(name) if name == ".git" => dot_git.parent().map(Path::to_owned).unwrap_or(dot_git),
        _ => dot_git,
    }))
}

/// Lexically resolve `.` and `..`, for relative `gitdir` links.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A spelling of `path` that matches the real path git records, even when `path` itself is gone.
fn comparable_path(path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    if let Ok(real) = fs::canonicalize(&path) {
        return real;
    }
    match (path.parent().and_then(|p| fs::canonicalize(p).ok()), path.file_name()) {
        (Some(parent), Some(name)) => parent.join(name),
        _ => normalize(&path),
    }
}

/// Whether `<worktree>/.git` is a `gitdir:` file naming `admin_dir`.
fn links_back(worktree: &Path, admin_dir: &Path) -> bool {
    let Ok(contents) = fs::read_to_string(worktree.join(".git")) else {
        return false;
    };
    let Some(target) = contents.strip_prefix("gitdir:") else {
        return false;
    };
    match (
        fs::canonicalize(worktree.join(target.trim())),
        fs::canonicalize(admin_dir),
    ) {
        (Ok(target), Ok(admin_dir)) => target == admin_dir,
        _ => false,
    }
}

/// Delete the worktree folder `folder` with its `.git` file last: a kill halfway leaves a folder
/// that still links back to its admin dir, so git keeps knowing it and a rerun recognises it.
fn remove_folder_git_last(folder: &Path) -> Result<(), GitError> {
    let context = || format!("cannot delete {}", folder.display());
    for item in fs::read_dir(folder).io_ctx(context)? {
        let item = item.io_ctx(context)?;
        if item.file_name() == ".git" {
            continue;
        }
        let path = item.path();
        let removed = if item.file_type().io_ctx(context)?.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        removed.io_ctx(|| format!("cannot delete {}", path.display()))?;
    }
    fs::remove_file(folder.join(".git")).io_ctx(context)?;
    fs::remove_dir(folder).io_ctx(context)
}

fn lock_reason(admin_dir: &Path) -> Result<Option<String>, GitError> {
    Ok(read_optional(&admin_dir.join("locked"))?.map(|reason| reason.trim_end().to_owned()))
}

/// The full ref name a HEAD file points to, `None` when detached or unreadable.
fn symbolic_head(git_dir: &Path) -> Option<String> {
    let contents = fs::read_to_string(git_dir.join("HEAD")).ok()?;
    contents.strip_prefix("ref:").map(|name| name.trim().to_owned())
}

fn head_branch(git_dir: &Path) -> Option<String> {
    symbolic_head(git_dir)?.strip_prefix("refs/heads/").map(str::to_owned)
}

/// Whether the worktree with this git dir has `wanted` (a full ref name) checked out, or is in the
/// middle of rebasing or bisecting it — git refuses to check such a branch out elsewhere.
fn holds_branch(git_dir: &Path, wanted: &str) -> bool {
    let read = |name: &str| fs::read_to_string(git_dir.join(name)).ok();
    symbolic_head(git_dir).as_deref() == Some(wanted)
        || ["rebase-merge/head-name", "rebase-apply/head-name"]
            .iter()
            .filter_map(|file| read(file))
            .any(|name| name.trim() == wanted)
        || read("BISECT_START").is_some_and(|start| {
            let start = start.trim();
            wanted.strip_prefix("refs/heads/") == Some(start) || wanted == start
        })
}

#[cfg(test)]
mod tests;
