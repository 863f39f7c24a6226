//! Linked worktrees: listed from git's admin files, created and removed by git itself.
//!
//! `git worktree add` and `git worktree remove` do the work, so a shard's worktree is exactly what
//! git makes: checkout with every attribute and filter (`working-tree-encoding`, `ident`, LFS and
//! other drivers, run in the new worktree), sparse-checkout patterns and `config.worktree` copied
//! from the current worktree, the `post-checkout` hook, relative links where configured, every ref
//! backend and object format. This module only builds those commands and reads what they left;
//! the caller starts them (gated, so it can record who is at work before git begins) and decides.
//!
//! git's own judgement is kept where it protects work: the caller checks dirt with `git status`
//! (see `status`), refuses submodules like git (`submodules`), and passes `--force` to `remove`
//! only after those checks, so git deletes exactly the folder it registered.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::admin::{Admin, Head, links_back, read_gitfile, relative_path};
use super::{GitError, Repo, WorktreeEntry};

/// What git registered for a worktree it added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub id: String,
    /// The worktree root as git recorded it (a real path).
    pub path: PathBuf,
}

impl Repo {
    /// All worktrees git knows, main first, then linked ones by id. Reads only the small files in
    /// `<common-dir>/worktrees/*/`; entries without a `gitdir` file are skipped, as git skips them.
    pub fn worktrees(&self) -> Result<Vec<WorktreeEntry>, GitError> {
        let mut out = vec![WorktreeEntry {
            id: None,
            path: self.main_worktree(),
            head_ref: Head::of(&self.common_dir()).ref_name().map(str::to_owned),
            locked: None,
            present: true,
        }];
        for admin in self.admins()? {
            let Some(path) = admin.worktree().map_err(|e| self.io(e))? else {
                continue;
            };
            let locked = admin.lock_reason().map_err(|e| self.io(e))?;
            out.push(WorktreeEntry {
                head_ref: admin.head().ref_name().map(str::to_owned),
                id: Some(admin.id),
                present: path.join(".git").exists(),
                path,
                locked,
            });
        }
        Ok(out)
    }

    pub(crate) fn admins(&self) -> Result<Vec<Admin>, GitError> {
        Admin::list(&self.common_dir()).map_err(|e| self.io(e))
    }

    /// The admin folder of the linked worktree registered at `path` (compared as real paths).
    pub fn admin_of(&self, path: &Path) -> Result<Option<Admin>, GitError> {
        let wanted = comparable_path(path);
        for admin in self.admins()? {
            if let Some(at) = admin.worktree().map_err(|e| self.io(e))?
                && comparable_path(&at) == wanted
            {
                return Ok(Some(admin));
            }
        }
        Ok(None)
    }

    /// `git branch <branch> <start>`: what `git worktree add -b` runs first, so the new branch gets
    /// git's reflog entry and, from a remote-tracking start, its upstream (`branch.autoSetupMerge`).
    pub fn create_branch_command(&self, branch: &str, start: &str) -> (Command, String) {
        self.git()
            .args(["branch", "--quiet", "--end-of-options", branch, start])
            .into_command()
    }

    /// `git worktree add --lock --reason <lock> <path> <branch>` for an existing branch (git
    /// refuses one that a worktree has checked out). git writes `lock` as the entry's lock before
    /// anything else and keeps it: until the caller lifts it, a plain `git worktree prune` or
    /// `remove` leaves the entry alone, and a leftover of a killed add carries a reason that says
    /// whose it is (git's own "initializing" is translated, so it cannot be recognised).
    ///
    /// On a terminal git says what it does and shows its checkout's progress, as `git worktree
    /// add` would; elsewhere (a script, a pipe) it is quiet.
    pub fn add_worktree_command(&self, path: &Path, branch: &str, lock: &str) -> (Command, String) {
        use std::io::IsTerminal;
        let quiet = (!std::io::stderr().is_terminal()).then_some("--quiet");
        self.git()
            .args(["worktree", "add"])
            .args(quiet)
            .args(["--lock", "--reason", lock])
            .arg(path)
            .arg(branch)
            .into_command()
    }

    /// git's entry for the worktree just added at `path`, `None` if git registered none.
    pub fn registered(&self, path: &Path) -> Result<Option<Registered>, GitError> {
        let Some(admin) = self.admin_of(path)? else {
            return Ok(None);
        };
        let at = admin.worktree().map_err(|e| self.io(e))?.unwrap_or_default();
        Ok(Some(Registered { id: admin.id, path: at }))
    }

    /// `git worktree remove --force <path>`, with `--force` twice when a lock that is not
    /// git-shard's must be overridden (the caller has the user's `--force` for that). The caller
    /// has checked dirt, submodules and the folder's identity already.
    pub fn remove_worktree_command(&self, path: &Path, override_lock: bool) -> (Command, String) {
        let mut git = self.git().args(["worktree", "remove", "--force"]);
        if override_lock {
            git = git.arg("--force");
        }
        git.arg(path).into_command()
    }

    /// `git worktree prune`: drop every entry whose folder is gone and that no lock keeps.
    pub fn prune_worktrees(&self) -> Result<(), GitError> {
        self.git().own_group().args(["worktree", "prune"]).read().map(|_| ())
    }

    /// Prove that `path` is the worktree git registered under `id`, now: a real folder (not a
    /// symlink to another one), whose `.git` links back to that entry, and which the entry names.
    pub fn is_registered_worktree(&self, path: &Path, id: &str) -> Result<bool, GitError> {
        let Some(admin) = Admin::open(&self.common_dir(), id) else {
            return Ok(false);
        };
        let meta = match fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(self.io(e)),
        };
        let registered = admin.worktree().map_err(|e| self.io(e))?;
        Ok(meta.is_dir()
            && registered.is_some_and(|at| comparable_path(&at) == comparable_path(path))
            && links_back(path, &admin.dir))
    }

    /// Crash recovery for an add of `path` with lock reason `lock` (see `add_worktree_command`)
    /// whose `git worktree add` was itself killed; the caller has made sure no git process of that
    /// add is still at work. git leaves its entry locked and perhaps a half checked-out folder,
    /// which `git worktree prune` never removes. This removes exactly that: the entries locked
    /// with `lock` whose `gitdir` names `path`, or, where `gitdir` is missing or cut short, that
    /// carry git's id for `path` and a lock that is the start of `lock`; and the folder only if its
    /// `.git` links back to one of them (or is the start of such a link) or it is empty. Returns
    /// whether anything was removed; refuses (`PathExists`) a folder that is neither, and leaves
    /// every other entry alone.
    pub fn remove_interrupted_add(&self, path: &Path, lock: &str) -> Result<bool, GitError> {
        let wanted = comparable_path(path);
        let id_prefix = path.file_name().map(|n| n.to_string_lossy().into_owned());
        // git writes every file of the entry in place (open, write, close), so a kill can leave
        // one empty or cut short: a start of what git writes counts as git's. What it writes:
        // the lock reason; `gitdir` (`<path>/.git`, absolute or relative to the admin folder);
        // the folder's `.git` (`gitdir: <admin folder>`, absolute or relative to the folder).
        let cut_short = |have: &str, full: &[String]| full.iter().any(|f| f.starts_with(have) && f != have);
        let mut leftovers = Vec::new();
        for admin in self.admins()? {
            let Some(reason) = admin.lock_reason().map_err(|e| self.io(e))? else {
                continue;
            };
            let has_git_id = id_prefix.as_deref().is_some_and(|p| {
                admin
                    .id
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()))
            });
            let gitdir_files = [
                format!("{}/.git", wanted.display()),
                format!("{}/.git", relative_path(&wanted, &admin.dir).display()),
            ];
            let gitdir = admin.gitdir_text().map_err(|e| self.io(e))?;
            let ours = match gitdir.as_deref().map(|t| t.trim_end_matches(['\n', '\r'])) {
                // Registered: at `path`, with the add's exact lock (written before `gitdir`).
                Some(text) if !text.is_empty() && !cut_short(text, &gitdir_files) => {
                    reason == lock
                        && admin
                            .worktree()
                            .map_err(|e| self.io(e))?
                            .is_some_and(|at| comparable_path(&at) == wanted)
                }
                // Not registered yet, or `gitdir` cut short: git's id for `path` (the folder name,
                // or it with a counter) and a lock that is the start of the add's.
                _ => has_git_id && lock.starts_with(reason.as_str()),
            };
            if ours {
                leftovers.push(admin);
            }
        }
        let mut removed = false;
        match fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.io(e)),
            Ok(meta) if !meta.is_dir() => return Err(GitError::PathExists { path: path.to_owned() }),
            Ok(_) if path.join(".git").exists() => {
                let target = read_gitfile(&path.join(".git"));
                let text = fs::read_to_string(path.join(".git")).unwrap_or_default();
                let links_fully = leftovers.iter().any(|admin| {
                    target
                        .as_ref()
                        .is_some_and(|t| comparable_path(t) == comparable_path(&admin.dir))
                });
                let cut = leftovers.iter().any(|admin| {
                    let links = [
                        format!("gitdir: {}", admin.dir.display()),
                        format!("gitdir: {}", relative_path(&admin.dir, &wanted).display()),
                    ];
                    cut_short(text.trim_end_matches(['\n', '\r']), &links)
                });
                if links_fully {
                    fs::remove_dir_all(path).map_err(|e| self.io(e))?;
                } else if cut && fs::read_dir(path).map_err(|e| self.io(e))?.count() == 1 {
                    // git was killed writing `.git`, before any checkout: only that file is git's,
                    // and it is all there is.
                    fs::remove_file(path.join(".git")).map_err(|e| self.io(e))?;
                    fs::remove_dir(path).map_err(|e| self.io(e))?;
                } else {
                    return Err(GitError::PathExists { path: path.to_owned() });
                }
                removed = true;
            }
            // `remove_dir` takes only an empty folder, atomically.
            Ok(_) => match fs::remove_dir(path) {
                Ok(()) => removed = true,
                Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => {
                    return Err(GitError::PathExists { path: path.to_owned() });
                }
                Err(e) => return Err(self.io(e)),
            },
        }
        for admin in leftovers {
            fs::remove_dir_all(&admin.dir).map_err(|e| self.io(e))?;
            removed = true;
        }
        // As git does after a removal: an empty `worktrees` folder goes too (`rmdir` only takes
        // an empty one, so a concurrent add's entry is never at risk).
        let _ = fs::remove_dir(self.common_dir().join("worktrees"));
        Ok(removed)
    }
}

/// The spelling of `path` git records: its real path, even when `path` (or part of it) does not
/// exist yet. The deepest existing ancestor is resolved by the kernel (symlinks, then `..`, as
/// `mkdir` and `realpath` resolve them), and the rest, which git creates as plain folders, is
/// appended with its `.` and `..` resolved in place.
pub fn comparable_path(path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut existing = path.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = fs::canonicalize(existing) {
            let tail: PathBuf = rest.iter().rev().collect();
            return super::admin::normalize(&real.join(tail));
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last.as_os_str().to_owned());
                existing = parent;
            }
            _ => return super::admin::normalize(&path),
        }
    }
}

impl Repo {
    /// Whether the folder of a worktree whose checkout did not finish holds a file that git did not
    /// put there: any file or link not in the tree of its HEAD (with no HEAD yet, any at all).
    pub fn files_outside_head(&self, worktree: &Path) -> Result<bool, GitError> {
        let listed = super::cmd::Git::on_worktree(worktree)
            .args(["ls-tree", "-r", "-z", "--name-only", "HEAD"])
            .read_bytes()
            .unwrap_or_default();
        let tree: std::collections::HashSet<&[u8]> = listed.split(|b| *b == 0).filter(|p| !p.is_empty()).collect();
        let mut pending = vec![worktree.to_owned()];
        while let Some(dir) = pending.pop() {
            for entry in fs::read_dir(&dir).map_err(|e| self.io(e))? {
                let entry = entry.map_err(|e| self.io(e))?;
                let path = entry.path();
                if path == worktree.join(".git") {
                    continue;
                }
                if entry.file_type().map_err(|e| self.io(e))?.is_dir() {
                    pending.push(path);
                    continue;
                }
                let relative = path.strip_prefix(worktree).unwrap_or(&path);
                if !tree.contains(relative.as_os_str().as_encoded_bytes()) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

/// The submodules that make git refuse to remove a worktree (`validate_no_submodules`): any
/// submodule repository under its admin folder, or a populated gitlink (a submodule path with its
/// own `.git`). Their git dirs are what removal would delete with the worktree.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Submodules {
    /// Every submodule repository (git dir) removal would delete, nested ones included.
    pub git_dirs: Vec<PathBuf>,
}

impl Submodules {
    pub fn is_empty(&self) -> bool {
        self.git_dirs.is_empty()
    }
}

impl Repo {
    /// Submodules of the linked worktree `admin` rooted at `worktree` (see [`Submodules`]).
    pub fn submodules(&self, admin: &Admin, worktree: &Path) -> Result<Submodules, GitError> {
        let mut git_dirs = Vec::new();
        if admin.has_submodule_repositories() {
            collect_git_dirs(&admin.dir.join("modules"), &mut git_dirs).map_err(|e| self.io(e))?;
            if git_dirs.is_empty() {
                // git refuses on the folder alone; so do we, naming the folder.
                git_dirs.push(admin.dir.join("modules"));
            }
        }
        if worktree.is_dir() {
            // Gitlinks (mode 160000) in the worktree's index whose folder has its own `.git`.
            let index = super::cmd::Git::on_worktree(worktree)
                .args(["ls-files", "--stage", "-z"])
                .read_bytes()?;
            for entry in index.split(|b| *b == 0).filter(|e| e.starts_with(b"160000 ")) {
                let Some(tab) = entry.iter().position(|b| *b == b'\t') else {
                    continue;
                };
                let path = worktree.join(std::ffi::OsStr::from_bytes(&entry[tab + 1..]));
                let dot_git = path.join(".git");
                if dot_git.is_dir() {
                    git_dirs.push(dot_git);
                } else if let Some(target) = read_gitfile(&dot_git) {
                    // Absorbed into `<admin>/modules/`: already counted when it lives there.
                    if !git_dirs.iter().any(|d| comparable_path(d) == comparable_path(&target)) {
                        git_dirs.push(target);
                    }
                }
            }
        }
        Ok(Submodules { git_dirs })
    }

    /// Commits of the submodule repository `git_dir` that no remote-tracking branch of it has
    /// (what `git push --recurse-submodules=check` calls unpushed): removing its only clone would
    /// lose them.
    pub fn unpushed_commits(&self, git_dir: &Path) -> Result<usize, GitError> {
        let mut git = super::cmd::Git::on_repository(git_dir);
        git = git.args([
            "rev-list",
            "--count",
            "--branches",
            "--tags",
            "HEAD",
            "--not",
            "--remotes",
        ]);
        let out = git.read()?;
        out.trim().parse().map_err(|_| GitError::Failed {
            command: "git rev-list --count".into(),
            message: format!("unexpected output: {out:?}"),
        })
    }
}

/// Git dirs below `dir` (a `modules` folder): a folder with `HEAD` and `objects` is one; its own
/// `modules` folder may hold nested submodules.
fn collect_git_dirs(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let path = entry.path();
        if path.join("HEAD").is_file() && path.join("objects").is_dir() {
            let nested = path.join("modules");
            out.push(path);
            if nested.is_dir() {
                collect_git_dirs(&nested, out)?;
            }
        } else {
            // A submodule named `libs/x` lives at `modules/libs/x`.
            collect_git_dirs(&path, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparable_paths_are_what_mkdir_and_realpath_make() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        fs::create_dir_all(root.join("real/sub")).unwrap();
        std::os::unix::fs::symlink(root.join("real/sub"), root.join("link")).unwrap();
        // `link/..` is the parent of the link's target, not `root`.
        assert_eq!(
            comparable_path(&root.join("link/../shards/x")),
            root.join("real/shards/x")
        );
        assert_eq!(comparable_path(&root.join("link/x")), root.join("real/sub/x"));
        // Past what exists, `..` undoes the folder before it, as `mkdir -p` would create it.
        assert_eq!(comparable_path(&root.join("new/../y/./z")), root.join("y/z"));
        assert_eq!(comparable_path(&root.join("real")), root.join("real"));
    }
}
