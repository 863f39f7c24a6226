//! Which repository we are in: discovery, and the paths every command starts from.
//!
//! In the usual layouts (a `.git` folder or a linked worktree's `.git` file, no `GIT_DIR` and
//! friends, nothing in the repository's config that moves the worktree) `locate` settles it from a
//! few small files, which keeps `list` and `status` near the cost of the git command they stand
//! beside. Everything else is answered by `git rev-parse` itself, the reference: bare repositories
//! and their linked worktrees, separate git dirs, `GIT_DIR`/`GIT_WORK_TREE`/`GIT_COMMON_DIR`,
//! `core.worktree`, and repositories owned by someone else (git refuses those unless
//! `safe.directory` allows them, and only git reads that setting). `git -C <path> shard …` needs
//! nothing special: git changes into `<path>` before it runs us. Paths git prints are taken as
//! bytes: a folder name need not be UTF-8.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::cmd::Git;
use super::{GitError, IoContext, locate};

/// A repository, discovered from one of its worktrees, a subfolder, or its git dir.
#[derive(Debug, Clone)]
pub struct Repo {
    /// Where git-shard was called: repository-wide `git` commands run here, with the caller's
    /// environment, so that they act on the repository git itself would act on.
    cwd: PathBuf,
    /// The git dir shared by all worktrees (canonical).
    common_dir: PathBuf,
    /// The main worktree as `git worktree list` names it: the common dir's real path without its
    /// `/.git` (for a bare repository, the repository itself).
    main_worktree: PathBuf,
    /// Root of the worktree we were called in; `None` in a bare repository or inside a git dir.
    current_worktree: Option<PathBuf>,
}

impl Repo {
    /// Find the repository `cwd` belongs to, as git would.
    pub fn discover(cwd: &Path) -> Result<Repo, GitError> {
        if let Some(found) = locate::locate(cwd)
            && (found.worktree_id.is_some() || found.common_dir.file_name().is_some_and(|n| n == ".git"))
            && !config_moves_worktree(&found.common_dir)
            && owned_by_caller(&found.worktree)
            && let Ok(common_dir) = fs::canonicalize(&found.common_dir)
            && owned_by_caller(&common_dir)
        {
            return Ok(Repo {
                cwd: cwd.to_owned(),
                main_worktree: main_worktree_of(&common_dir),
                current_worktree: Some(canonical(&found.worktree)?),
                common_dir,
            });
        }
        Repo::ask_git(cwd)
    }

    fn ask_git(cwd: &Path) -> Result<Repo, GitError> {
        // In the C locale only to recognise "not a git repository"; any other refusal (dubious
        // ownership, a broken config) is shown in git's words.
        let out = Git::here(cwd)
            .env("LC_ALL", "C")
            .args(["rev-parse", "--git-common-dir", "--is-inside-work-tree", "--show-cdup"])
            .read_bytes();
        let out = match out {
            Ok(out) => out,
            Err(GitError::Failed { message, .. }) if message.contains("not a git repository") => {
                return Err(GitError::NotARepository { path: cwd.to_owned() });
            }
            Err(e) => return Err(e),
        };
        let mut lines = out.split(|b| *b == b'\n');
        let (Some(common), Some(inside)) = (lines.next(), lines.next()) else {
            return Err(GitError::Failed {
                command: "git rev-parse".into(),
                message: format!("unexpected output: {:?}", String::from_utf8_lossy(&out)),
            });
        };
        let common_dir = canonical(&cwd.join(OsStr::from_bytes(common)))?;
        let current_worktree = match (inside, lines.next()) {
            (b"true", cdup) => Some(canonical(&cwd.join(OsStr::from_bytes(cdup.unwrap_or_default())))?),
            _ => None,
        };
        Ok(Repo {
            cwd: cwd.to_owned(),
            main_worktree: main_worktree_of(&common_dir),
            current_worktree,
            common_dir,
        })
    }

    /// Absolute, canonical git dir shared by all worktrees.
    pub fn common_dir(&self) -> PathBuf {
        self.common_dir.clone()
    }

    /// The main worktree as git lists it first in `git worktree list`.
    pub fn main_worktree(&self) -> PathBuf {
        self.main_worktree.clone()
    }

    /// Root of the worktree we were discovered from; `None` in a bare repository's git dir or
    /// inside a `.git` folder.
    pub fn current_worktree(&self) -> Option<PathBuf> {
        self.current_worktree.clone()
    }

    /// The folder that names the repository and that shards go beside
    /// (`<parent>/<name>.shards/<shard>` by default): the main worktree, except that a git dir
    /// standing in for one is named like the project, as people name them: `app.git` → `app`,
    /// and `app/.bare` (a bare repository with its worktrees around it) → `app`.
    pub fn anchor(&self) -> PathBuf {
        let main = &self.main_worktree;
        let Some(name) = main.file_name().and_then(|n| n.to_str()) else {
            return main.clone();
        };
        if name == ".bare" {
            return main.parent().map(Path::to_owned).unwrap_or_else(|| main.clone());
        }
        match name.strip_suffix(".git") {
            Some(stem) if !stem.is_empty() => main.with_file_name(stem),
            _ => main.clone(),
        }
    }

    /// git's command in the caller's place (see `cmd`).
    pub(crate) fn git(&self) -> Git {
        Git::here(&self.cwd)
    }

    /// The folder git runs hooks from (`git rev-parse --git-path hooks`, which honours
    /// `core.hooksPath` exactly as git does) and whether `core.hooksPath` moved it there.
    pub fn hooks_dir(&self) -> Result<(PathBuf, bool), GitError> {
        let out = self.git().args(["rev-parse", "--git-path", "hooks"]).read_bytes()?;
        let dir = self.cwd.join(OsStr::from_bytes(out.trim_ascii_end()));
        let default = self.common_dir.join("hooks");
        let configured = fs::canonicalize(&dir).map_or(dir.clone(), |d| d) != default;
        Ok((dir, configured))
    }
}

/// Whether `path` belongs to the user git-shard runs as, as git's `is_path_owned_by_current_uid`
/// decides (`lstat`; root may use what root owns, and under sudo what the sudoing user owns).
fn owned_by_caller(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    let euid = rustix::process::geteuid().as_raw();
    if euid == 0 && meta.uid() == 0 {
        return true;
    }
    let me = match std::env::var("SUDO_UID").ok().and_then(|u| u.parse().ok()) {
        Some(sudo_uid) if euid == 0 => sudo_uid,
        _ => euid,
    };
    meta.uid() == me
}

/// What git's `get_main_worktree` names: the real path of the common dir without `/.git`.
fn main_worktree_of(common_dir: &Path) -> PathBuf {
    match (common_dir.file_name(), common_dir.parent()) {
        (Some(name), Some(parent)) if name == ".git" => parent.to_owned(),
        _ => common_dir.to_owned(),
    }
}

/// Whether the repository's config may say something about where the worktree is that only git
/// reads right: `core.worktree`, `core.bare = true`, per-worktree config, or includes (which
/// could set either). A plain text scan of one small file, to keep the fast path exact.
fn config_moves_worktree(common_dir: &Path) -> bool {
    let Ok(text) = fs::read_to_string(common_dir.join("config")) else {
        return false;
    };
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim().to_ascii_lowercase();
        if let Some(header) = line.strip_prefix('[') {
            section = header.split([']', ' ', '"']).next().unwrap_or_default().to_owned();
            if section == "include" || section == "includeif" {
                return true;
            }
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (line.as_str(), "true"),
        };
        let relevant = match (section.as_str(), key) {
            ("core", "worktree") => true,
            ("core", "bare") | ("extensions", "worktreeconfig") => matches!(value, "true" | "yes" | "on" | "1"),
            _ => false,
        };
        if relevant {
            return true;
        }
    }
    false
}

fn canonical(path: &Path) -> Result<PathBuf, GitError> {
    fs::canonicalize(path).io_ctx(|| format!("cannot resolve {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_that_moves_the_worktree_is_noticed() {
        let tmp = tempfile::tempdir().unwrap();
        let cases = [
            ("[core]\n\tbare = false\n\tfilemode = true\n", false),
            ("[core]\n\tbare = true\n", true),
            ("[core]\n\tworktree = /elsewhere\n", true),
            ("[Core]\n\tWorkTree=../x\n", true),
            ("[extensions]\n\tworktreeConfig = true\n", true),
            ("[include]\n\tpath = more.conf\n", true),
            ("[includeIf \"gitdir:~/work/\"]\n\tpath = work.conf\n", true),
            ("[branch \"worktree\"]\n\tremote = origin\n", false),
        ];
        for (text, moves) in cases {
            fs::write(tmp.path().join("config"), text).unwrap();
            assert_eq!(config_moves_worktree(tmp.path()), moves, "{text}");
        }
    }

    #[test]
    fn the_anchor_names_the_project() {
        let at = |main: &str| {
            Repo {
                cwd: PathBuf::from("/"),
                common_dir: PathBuf::from("/x"),
                main_worktree: PathBuf::from(main),
                current_worktree: None,
            }
            .anchor()
        };
        assert_eq!(at("/src/app"), Path::new("/src/app"));
        assert_eq!(at("/src/app.git"), Path::new("/src/app"));
        assert_eq!(at("/src/app/.bare"), Path::new("/src/app"));
        assert_eq!(at("/src/.git"), Path::new("/src/.git"));
    }
}
