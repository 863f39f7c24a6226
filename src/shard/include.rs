//! `.worktreeinclude`: the ignored files of the main worktree a new shard needs (`.env`, local
//! settings, `node_modules`), copied into it before its agent starts.
//!
//! Invariants:
//! - Only files that are untracked **and ignored** in the main worktree and that match a pattern
//!   (of `.worktreeinclude` at its root, gitignore syntax, or of the `include` setting) are
//!   copied; git itself decides both (`ls-files --others --ignored`), so the patterns mean
//!   exactly what they mean to git.
//! - Only what the shard's own checkout ignores too is copied ([`ignored_in`]): never a file that
//!   would be untracked, and so committable, there.
//! - Nothing in the shard is overwritten: a path that exists there (a file the shard's branch
//!   tracks, say) is left alone. Nothing is written through a symlink: every folder on the way is
//!   created by us or is a real folder, never a link.
//! - A symlink is copied as a symlink, never followed: a link pointing out of the main worktree
//!   gives the shard the same link, not the files it points to.
//! - Copies share their blocks with the original where the filesystem can (reflink: btrfs, XFS,
//!   bcachefs), else they are plain copies; permissions and modification times are kept, so build
//!   tools see up-to-date outputs.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use crate::git::GitError;
use crate::git::cmd::Git;

/// The file at the root of the main worktree.
pub const FILE: &str = ".worktreeinclude";

/// What a copy did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Copied {
    pub files: usize,
    pub bytes: u64,
    pub links: usize,
    /// Files that shared their blocks with the original instead of being copied.
    pub reflinked: usize,
    /// Paths left alone: they exist in the shard, or a folder on their way is not a real one.
    pub skipped: Vec<PathBuf>,
    /// Paths not copied because the shard's checkout does not ignore them (see [`ignored_in`]).
    pub not_ignored: Vec<PathBuf>,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum IncludeError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("cannot copy {path} into the shard: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// The paths to copy: relative to `main`, sorted. Empty when nothing asks for any.
pub fn select(main: &Path, extra: &[String]) -> Result<Vec<PathBuf>, IncludeError> {
    // A bare repository has no main worktree to copy from.
    if !main.join(".git").exists() {
        return Ok(Vec::new());
    }
    let file = main.join(FILE);
    let has_file = file.is_file();
    if !has_file && extra.is_empty() {
        return Ok(Vec::new());
    }
    let mut wanted = Git::on_worktree(main).args(["ls-files", "-z", "--others", "--ignored"]);
    if has_file {
        wanted = wanted.arg(format!("--exclude-from={}", file.display()));
    }
    for pattern in extra {
        wanted = wanted.arg(format!("--exclude={pattern}"));
    }
    let wanted = wanted.read_bytes()?;
    // What git ignores, whole ignored folders as one `dir/` entry (git does not list inside them).
    let ignored = Git::on_worktree(main)
        .args([
            "ls-files",
            "-z",
            "--others",
            "--ignored",
            "--exclude-standard",
            "--directory",
        ])
        .read_bytes()?;
    let ignored: BTreeSet<&[u8]> = ignored.split(|b| *b == 0).filter(|p| !p.is_empty()).collect();
    let is_ignored = |path: &[u8]| {
        ignored.contains(path)
            || path
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'/')
                .any(|(i, _)| ignored.contains(&path[..=i]))
    };
    Ok(wanted
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty() && is_ignored(p))
        .map(|p| PathBuf::from(OsStr::from_bytes(p)))
        .collect())
}

/// Of `paths` (from [`select`]), those the shard's own checkout ignores, and those it does not.
/// The shard's branch may not ignore what the main worktree does (an ignore line not committed,
/// a shard based on an older branch): copied there, a secret would be an untracked file the
/// agent's `git add -A` takes. git decides, in the shard (`check-ignore`).
pub fn ignored_in(shard: &Path, paths: Vec<PathBuf>) -> Result<(Vec<PathBuf>, Vec<PathBuf>), IncludeError> {
    let mut input = Vec::new();
    for p in &paths {
        input.extend_from_slice(p.as_os_str().as_bytes());
        input.push(0);
    }
    let ignored = Git::on_worktree(shard)
        .args(["check-ignore", "-z", "--stdin"])
        .ask_with_input(&input)?
        .unwrap_or_default();
    let ignored: BTreeSet<&[u8]> = ignored.split(|b| *b == 0).filter(|p| !p.is_empty()).collect();
    Ok(paths
        .into_iter()
        .partition(|p| ignored.contains(p.as_os_str().as_bytes())))
}

/// Copy `paths` (from [`select`]) from `main` into `shard`, calling `progress(done, total)` as it
/// goes.
pub fn copy(
    main: &Path,
    shard: &Path,
    paths: &[PathBuf],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Copied, IncludeError> {
    let started = Instant::now();
    let mut copied = Copied::default();
    // Folders known to be real (made by us or checked), so each is looked at once.
    let mut folders = BTreeSet::new();
    // Whether the filesystem shares blocks; asked of the first file, then known.
    let mut reflink = cfg!(target_os = "linux");
    for (i, rel) in paths.iter().enumerate() {
        progress(i, paths.len());
        // git lists plain relative paths; anything else is not ours to follow.
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            copied.skipped.push(rel.clone());
            continue;
        }
        let from = main.join(rel);
        let to = shard.join(rel);
        let fail = |source| IncludeError::Io {
            path: rel.clone(),
            source,
        };
        let meta = match fs::symlink_metadata(&from) {
            Ok(m) => m,
            // Gone since git listed it: nothing to copy.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(fail(e)),
        };
        if !meta.is_symlink() && !meta.is_file() {
            continue;
        }
        if !real_folders(shard, rel, &mut folders).map_err(fail)? {
            copied.skipped.push(rel.clone());
            continue;
        }
        let made = if meta.is_symlink() {
            fs::read_link(&from).and_then(|target| std::os::unix::fs::symlink(target, &to))
        } else {
            copy_file(&from, &to, &meta, &mut reflink)
        };
        match made {
            Ok(()) if meta.is_symlink() => copied.links += 1,
            Ok(()) => {
                copied.files += 1;
                copied.bytes += meta.len();
                copied.reflinked += usize::from(reflink);
            }
            // There already: never overwritten.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => copied.skipped.push(rel.clone()),
            Err(e) => return Err(fail(e)),
        }
    }
    progress(paths.len(), paths.len());
    copied.elapsed = started.elapsed();
    Ok(copied)
}

/// Make the folders of `rel` under `root`; false when one on the way exists and is not a real
/// folder (a symlink, a file): nothing may be written through it.
fn real_folders(root: &Path, rel: &Path, known: &mut BTreeSet<PathBuf>) -> io::Result<bool> {
    let mut dir = root.to_path_buf();
    let Some(parent) = rel.parent() else { return Ok(true) };
    if known.contains(parent) {
        return Ok(true);
    }
    for part in parent.components() {
        dir.push(part);
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(&dir)?,
            Err(e) => return Err(e),
        }
    }
    known.insert(parent.to_owned());
    Ok(true)
}

/// Copy one regular file, sharing its blocks while `reflink` (which turns false once the
/// filesystem says it cannot); keeps its permissions and modification time.
fn copy_file(from: &Path, to: &Path, meta: &fs::Metadata, reflink: &mut bool) -> io::Result<()> {
    let mut src = File::open(from)?;
    let mode = meta.permissions().mode() & 0o7777;
    // `create_new`: never over something that appeared meanwhile; O_NOFOLLOW: never through a link.
    let mut dst = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(to)?;
    #[cfg(target_os = "linux")]
    if *reflink {
        *reflink = rustix::fs::ioctl_ficlone(&dst, &src).is_ok();
    }
    if !*reflink {
        // The kernel copies (copy_file_range), which some filesystems also share.
        io::copy(&mut src, &mut dst)?;
    }
    dst.set_permissions(fs::Permissions::from_mode(mode))?;
    if let Ok(modified) = meta.modified() {
        dst.set_times(fs::FileTimes::new().set_modified(modified))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_through_a_link_and_never_over_a_file() {
        let main = tempfile::tempdir().unwrap();
        let shard = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::create_dir_all(main.path().join("conf")).unwrap();
        fs::write(main.path().join("conf/.env"), "SECRET=1").unwrap();
        fs::write(main.path().join("kept"), "main").unwrap();
        // In the shard, `conf` is a link out of it, and `kept` exists already.
        std::os::unix::fs::symlink(outside.path(), shard.path().join("conf")).unwrap();
        fs::write(shard.path().join("kept"), "shard").unwrap();
        let paths = [PathBuf::from("conf/.env"), PathBuf::from("kept")];
        let copied = copy(main.path(), shard.path(), &paths, &mut |_, _| {}).unwrap();
        assert_eq!(copied.files, 0);
        assert_eq!(copied.skipped, paths);
        assert!(fs::read_dir(outside.path()).unwrap().next().is_none());
        assert_eq!(fs::read_to_string(shard.path().join("kept")).unwrap(), "shard");
    }
}
