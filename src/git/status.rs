//! Uncommitted work in a worktree, judged by `git status` exactly as `git worktree remove` judges
//! it before it deletes anything (`check_clean_worktree`): `GIT_DIR` and `GIT_WORK_TREE` set to
//! the worktree, submodules not ignored. Two differences, both towards keeping work: untracked
//! files are always counted (`--untracked-files=all` overrides a `status.showUntrackedFiles=no`
//! that would hide them), and ignored files are not dirt (git deletes them too).
//!
//! Why git and not an in-process status: this answer decides whether files are deleted, and only
//! git applies every attribute and setting exactly (`working-tree-encoding`, clean filters,
//! sparse checkout, fsmonitor, `core.autocrlf`, split index). It costs what `git worktree remove`
//! spends on the same check, and it runs only in `rm`, never at a prompt.

use std::fmt;
use std::path::Path;

use super::GitError;
use super::cmd::Git;

/// Uncommitted work in a worktree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dirt {
    /// Changes between HEAD and the index.
    pub staged: usize,
    /// Tracked files whose content differs from the index (modified, deleted, type-changed,
    /// conflicted, a submodule with changes).
    pub modified: usize,
    /// Untracked files that are not ignored.
    pub untracked: usize,
}

impl Dirt {
    pub fn is_clean(&self) -> bool {
        self.staged == 0 && self.modified == 0 && self.untracked == 0
    }

    /// No change to tracked files, staged or not (untracked files aside).
    pub fn tracked_clean(&self) -> bool {
        self.staged == 0 && self.modified == 0
    }

    /// Count `git status --porcelain=v1 -z` output.
    fn parse(out: &[u8]) -> Dirt {
        let mut dirt = Dirt::default();
        let mut fields = out.split(|b| *b == 0).filter(|f| !f.is_empty());
        while let Some(entry) = fields.next() {
            let (x, y) = match entry {
                [x, y, b' ', ..] => (*x, *y),
                _ => continue,
            };
            if x == b'?' {
                dirt.untracked += 1;
                continue;
            }
            if x != b' ' && x != b'!' {
                dirt.staged += 1;
            }
            if y != b' ' && y != b'!' {
                dirt.modified += 1;
            }
            // A rename or copy is followed by its source path in a field of its own.
            if matches!(x, b'R' | b'C') || matches!(y, b'R' | b'C') {
                fields.next();
            }
        }
        dirt
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

/// Uncommitted and untracked changes of the worktree at `worktree`.
pub fn dirt(worktree: &Path) -> Result<Dirt, GitError> {
    Ok(Dirt::parse(&porcelain(worktree, &["--untracked-files=all"])?))
}

/// `git status --porcelain=v1 -z` of the worktree, submodules included, with `extra` options.
fn porcelain(worktree: &Path, extra: &[&str]) -> Result<Vec<u8>, GitError> {
    Git::on_worktree(worktree)
        .args([
            "--no-optional-locks",
            "status",
            "--porcelain=v1",
            "-z",
            "--ignore-submodules=none",
        ])
        .args(extra)
        .read_bytes()
}

/// What a path in a worktree is to git, for listing what a removal would delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ignored (a folder ends with `/` and stands for everything in it).
    Ignored,
    /// Untracked and not ignored.
    Untracked,
    /// Tracked, with changes that are not committed.
    Changed,
}

/// Everything in the worktree that is not in its HEAD commit: changed and untracked files, and
/// ignored ones (a wholly ignored or untracked folder is one entry, as `git status` shows it).
/// Paths are git's bytes, relative to the worktree.
pub fn not_committed(worktree: &Path) -> Result<Vec<(Kind, Vec<u8>)>, GitError> {
    let out = porcelain(worktree, &["--untracked-files=normal", "--ignored=traditional"])?;
    Ok(parse_entries(&out))
}

fn parse_entries(out: &[u8]) -> Vec<(Kind, Vec<u8>)> {
    let mut entries = Vec::new();
    let mut fields = out.split(|b| *b == 0).filter(|f| !f.is_empty());
    while let Some(entry) = fields.next() {
        let [x, y, b' ', path @ ..] = entry else { continue };
        let kind = match (x, y) {
            (b'!', b'!') => Kind::Ignored,
            (b'?', b'?') => Kind::Untracked,
            _ => Kind::Changed,
        };
        entries.push((kind, path.to_vec()));
        if matches!(x, b'R' | b'C') || matches!(y, b'R' | b'C') {
            fields.next();
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_is_counted() {
        let out = b"M  staged.txt\0 M modified.txt\0MM both.txt\0?? new.txt\0R  new-name\0old-name\0 D gone\0";
        assert_eq!(
            Dirt::parse(out),
            Dirt {
                staged: 3,
                modified: 3,
                untracked: 1
            }
        );
        assert!(Dirt::parse(b"").is_clean());
        assert_eq!(Dirt::parse(b"").to_string(), "clean");
    }

    #[test]
    fn entries_are_listed() {
        let out = b" M a.txt\0R  new\0old\0?? notes/\0!! node_modules/\0!! .env\0";
        let got = parse_entries(out);
        let kinds: Vec<Kind> = got.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            [
                Kind::Changed,
                Kind::Changed,
                Kind::Untracked,
                Kind::Ignored,
                Kind::Ignored
            ]
        );
        assert_eq!(got[1].1, b"new");
        assert_eq!(got[3].1, b"node_modules/");
    }
}
