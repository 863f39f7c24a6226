//! The files that link a linked worktree and its repository, read in one place.
//!
//! git keeps each linked worktree's administrative folder at `<common-dir>/worktrees/<id>/`:
//! `gitdir` names the worktree's `.git` file, `commondir` leads back to the common dir, `locked`
//! holds a lock reason, `HEAD` the worktree's HEAD (with the files ref backend). The worktree's
//! own `.git` is a file `gitdir: <admin dir>`. Since git 2.48 (`worktree.useRelativePaths`) both
//! links may be relative: `gitdir` relative to the admin dir, the `.git` file relative to the
//! worktree root. Every reader in git-shard (discovery, the worktree list, reconciliation, prune,
//! recovery and the supervisor's lock) goes through [`Admin`] and [`read_gitfile`], so a relative
//! link is never misread in one place and right in another; [`holds_branch`] reads which branch a
//! git dir has checked out (or is rebasing or bisecting) for the main worktree and linked ones.
//!
//! Nothing here writes: every change to these files is made by git itself (`git worktree add`,
//! `remove`, `prune`), except git-shard's own lock reason (`super::lock`).

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// One linked worktree's administrative folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// git's id of the worktree: the folder's name.
    pub id: String,
    /// `<common-dir>/worktrees/<id>`.
    pub dir: PathBuf,
}

impl Admin {
    /// The admin folder of worktree `id`, if `id` is a plain name and such a folder exists.
    pub fn open(common_dir: &Path, id: &str) -> Option<Admin> {
        // Anything but one plain name could reach outside `<common-dir>/worktrees/`.
        let mut parts = Path::new(id).components();
        if !matches!((parts.next(), parts.next()), (Some(Component::Normal(_)), None)) {
            return None;
        }
        let dir = common_dir.join("worktrees").join(id);
        fs::symlink_metadata(&dir)
            .is_ok_and(|m| m.is_dir())
            .then(|| Admin { id: id.to_owned(), dir })
    }

    /// Every admin folder of the repository, sorted by id (what git iterates in
    /// `get_worktrees`). A missing `worktrees` folder means none.
    pub fn list(common_dir: &Path) -> io::Result<Vec<Admin>> {
        let worktrees = common_dir.join("worktrees");
        let entries = match fs::read_dir(&worktrees) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                out.push(Admin {
                    id: entry.file_name().to_string_lossy().into_owned(),
                    dir: entry.path(),
                });
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// The worktree root the `gitdir` file names (it names `<root>/.git`), resolved against the
    /// admin folder when relative. `None` when the file is missing or empty: git skips such an
    /// entry (it is being created or deleted) and `git worktree prune` removes it.
    pub fn worktree(&self) -> io::Result<Option<PathBuf>> {
        let Some(bytes) = read_bytes(&self.dir.join("gitdir"))? else {
            return Ok(None);
        };
        let link = trim_newlines(&bytes);
        if link.is_empty() {
            return Ok(None);
        }
        let dot_git = resolve(&self.dir, Path::new(OsStr::from_bytes(link)));
        Ok(Some(match dot_git.file_name() {
            Some(name) if name == ".git" => dot_git.parent().map(Path::to_owned).unwrap_or(dot_git),
            _ => dot_git,
        }))
    }

    /// The `gitdir` file as it is, `None` when missing: for telling a file git was killed while
    /// writing (cut short) from one it finished.
    pub fn gitdir_text(&self) -> io::Result<Option<String>> {
        Ok(read_bytes(&self.dir.join("gitdir"))?.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// The lock reason (`Some("")` when locked without one), `None` when not locked.
    pub fn lock_reason(&self) -> io::Result<Option<String>> {
        Ok(read_bytes(&self.dir.join("locked"))?.map(|r| String::from_utf8_lossy(trim_newlines(&r)).into_owned()))
    }

    /// What its `HEAD` file says.
    pub fn head(&self) -> Head {
        Head::of(&self.dir)
    }

    /// Whether a submodule was ever initialised in this worktree: its repository lives in
    /// `<admin>/modules/` (git's own test in `validate_no_submodules`).
    pub fn has_submodule_repositories(&self) -> bool {
        self.dir.join("modules").is_dir()
    }
}

/// The folder a `.git` file links to (`gitdir: <path>`, relative paths resolved against the
/// folder holding the file), or `None` when `dot_git` is not such a file.
pub fn read_gitfile(dot_git: &Path) -> Option<PathBuf> {
    let bytes = fs::read(dot_git).ok()?;
    let target = bytes.strip_prefix(b"gitdir:")?.trim_ascii();
    if target.is_empty() {
        return None;
    }
    Some(resolve(dot_git.parent()?, Path::new(OsStr::from_bytes(target))))
}

/// Whether `<worktree>/.git` is a file linking to `admin_dir` (both compared as real paths).
pub fn links_back(worktree: &Path, admin_dir: &Path) -> bool {
    match read_gitfile(&worktree.join(".git")) {
        Some(target) => match (fs::canonicalize(target), fs::canonicalize(admin_dir)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        },
        None => false,
    }
}

/// `link` as git reads it: absolute as it is, relative to `base` otherwise, with `.` and `..`
/// resolved lexically. Callers pass a `base` whose own path has no symlinks (a canonical common
/// dir, a worktree root git recorded as a real path), so lexical `..` lands where git lands.
pub fn resolve(base: &Path, link: &Path) -> PathBuf {
    if link.is_absolute() {
        normalize(link)
    } else {
        normalize(&base.join(link))
    }
}

/// `target` relative to `base` (both absolute, without `..`), as git's `relative_path` writes
/// links with `worktree.useRelativePaths`.
pub fn relative_path(target: &Path, base: &Path) -> PathBuf {
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for part in &t[common..] {
        out.push(part);
    }
    out
}

/// Resolve `.` and `..` lexically (no system call per component: discovery runs at every prompt).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A file's bytes as they are (paths in git's files need not be UTF-8), `None` when missing.
fn read_bytes(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match crate::fsutil::read_small(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn trim_newlines(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b'\n' | b'\r'))
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

/// What a git dir's `HEAD` file says: the one reader of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// `ref: <name>`, e.g. `refs/heads/main`.
    Ref(String),
    /// A commit id, or no readable file.
    Detached,
    /// reftable's stub (`ref: refs/heads/.invalid`): the real HEAD is in the ref store, and only
    /// git can read it.
    Reftable,
}

impl Head {
    pub fn of(git_dir: &Path) -> Head {
        let text = crate::fsutil::read_small_text(&git_dir.join("HEAD")).unwrap_or_default();
        match text.trim().strip_prefix("ref:").map(str::trim) {
            Some("refs/heads/.invalid") => Head::Reftable,
            Some(name) => Head::Ref(name.to_owned()),
            None => Head::Detached,
        }
    }

    /// The ref, when the file names one.
    pub fn ref_name(&self) -> Option<&str> {
        match self {
            Head::Ref(name) => Some(name),
            _ => None,
        }
    }
}

/// Whether a worktree holds a branch, as far as its files tell.
pub enum Holds {
    Yes,
    No,
    /// The HEAD file is reftable's stub: only git knows.
    AskGit,
}

/// Whether the worktree with this git dir has `wanted` (a full ref name) checked out, or is in the
/// middle of rebasing or bisecting it (git's `is_worktree_being_rebased`/`_bisected`).
pub fn holds_branch(git_dir: &Path, wanted: &str) -> Holds {
    let read = |name: &str| fs::read_to_string(git_dir.join(name)).ok();
    let head = Head::of(git_dir);
    let rebasing = ["rebase-merge/head-name", "rebase-apply/head-name"]
        .iter()
        .filter_map(|file| read(file))
        .any(|name| name.trim() == wanted);
    let bisecting = read("BISECT_START").is_some_and(|start| {
        let start = start.trim();
        wanted.strip_prefix("refs/heads/") == Some(start) || wanted == start
    });
    if head.ref_name() == Some(wanted) || rebasing || bisecting {
        Holds::Yes
    } else if head == Head::Reftable {
        Holds::AskGit
    } else {
        Holds::No
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two layouts git writes: absolute links (every version), and relative ones (git 2.48+
    /// with `worktree.useRelativePaths`), byte for byte as `write_worktree_linking_files` does.
    #[test]
    fn absolute_and_relative_links_name_the_same_worktree() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        let common = root.join("repo/.git");
        for (id, wt) in [("abs", root.join("abs")), ("rel", root.join("shards/rel"))] {
            fs::create_dir_all(common.join("worktrees").join(id)).unwrap();
            fs::create_dir_all(&wt).unwrap();
        }
        fs::write(
            common.join("worktrees/abs/gitdir"),
            format!("{}\n", root.join("abs/.git").display()),
        )
        .unwrap();
        fs::write(
            root.join("abs/.git"),
            format!("gitdir: {}\n", common.join("worktrees/abs").display()),
        )
        .unwrap();
        // Relative, as git 2.48 writes them (and without a trailing newline, as it does).
        fs::write(common.join("worktrees/rel/gitdir"), "../../../../shards/rel/.git").unwrap();
        fs::write(root.join("shards/rel/.git"), "gitdir: ../../repo/.git/worktrees/rel").unwrap();

        let list = Admin::list(&common).unwrap();
        assert_eq!(list.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["abs", "rel"]);
        assert_eq!(list[0].worktree().unwrap(), Some(root.join("abs")));
        assert_eq!(list[1].worktree().unwrap(), Some(root.join("shards/rel")));
        assert_eq!(
            read_gitfile(&root.join("shards/rel/.git")),
            Some(common.join("worktrees/rel"))
        );
        assert!(links_back(&root.join("shards/rel"), &list[1].dir));
        assert!(links_back(&root.join("abs"), &list[0].dir));
        assert!(!links_back(&root.join("abs"), &list[1].dir));
    }

    #[test]
    fn relative_paths_as_git_writes_them() {
        let rel = relative_path(Path::new("/r/.git/worktrees/w"), Path::new("/r.shards/w"));
        assert_eq!(rel, Path::new("../../r/.git/worktrees/w"));
        assert_eq!(
            resolve(Path::new("/r.shards/w"), &rel),
            Path::new("/r/.git/worktrees/w")
        );
    }

    #[test]
    fn only_plain_ids_open() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("worktrees/a")).unwrap();
        assert!(Admin::open(tmp.path(), "a").is_some());
        for bad in ["", "..", "../a", "a/b", "/a", "missing"] {
            assert!(Admin::open(tmp.path(), bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn missing_or_empty_links_are_none() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("worktrees/a")).unwrap();
        let admin = Admin::open(tmp.path(), "a").unwrap();
        assert_eq!(admin.worktree().unwrap(), None);
        fs::write(admin.dir.join("gitdir"), "\n").unwrap();
        assert_eq!(admin.worktree().unwrap(), None);
        fs::write(tmp.path().join(".git"), "not a link").unwrap();
        assert_eq!(read_gitfile(&tmp.path().join(".git")), None);
    }
}
