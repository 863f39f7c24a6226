//! git hooks that let git-shard notice a worktree removed behind its back.
//!
//! git runs no hook when a worktree is removed, so git-shard hooks the commands people run right
//! after (`post-checkout`, `post-commit`, `post-merge`, `post-rewrite`, `reference-transaction`)
//! and reconciles then.
//!
//! Invariants:
//! - A hook that was there before is moved aside byte for byte (`<name>.git-shard-orig`, a rename,
//!   so content and mode are kept), called first with the same arguments and stdin, and its exit
//!   status is the hook's exit status (it matters for `reference-transaction`). `uninstall` renames
//!   it back.
//! - Our part never reads stdin, never fails the hook, and never makes git wait: it starts
//!   `git-shard reconcile --quiet` in the background with its output detached.
//! - Only files carrying [`MARKER`] are ours; nothing else is overwritten or removed.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub const HOOKS: &[&str] = &[
    "post-checkout",
    "post-commit",
    "post-merge",
    "post-rewrite",
    "reference-transaction",
];

/// The line that marks a hook file as ours.
pub const MARKER: &str = "# git-shard hook: installed by `git shard hooks install`";

const ASIDE: &str = ".git-shard-orig";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookState {
    /// Ours; `chained` when a previous hook sits beside it and is called first.
    Ours {
        chained: bool,
    },
    /// Someone else's hook.
    Foreign,
    Missing,
}

fn aside(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{ASIDE}"))
}

pub fn state(dir: &Path, name: &str) -> HookState {
    match fs::read(dir.join(name)) {
        Err(_) => HookState::Missing,
        Ok(bytes) if String::from_utf8_lossy(&bytes).contains(MARKER) => HookState::Ours {
            chained: aside(dir, name).exists(),
        },
        Ok(_) => HookState::Foreign,
    }
}

/// The hook script. `exe` is where git-shard was when the hook was installed, used only when
/// `git-shard` is not on PATH.
pub fn script(name: &str, exe: &Path) -> String {
    let fallback = shlex::try_quote(&exe.to_string_lossy())
        .map(|q| q.into_owned())
        .unwrap_or_default();
    format!(
        r#"#!/bin/sh
{MARKER}; `git shard hooks uninstall` restores what was here.
# The hook that was here before ({name}{ASIDE}) runs first, with the same arguments and stdin, and
# its exit status is kept. Then git-shard reconciles its shards in the background: this never fails
# and never makes git wait.
status=0
orig="$(dirname "$0")/{name}{ASIDE}"
if [ -x "$orig" ]; then
    "$orig" "$@"
    status=$?
fi
if [ "{name}" != reference-transaction ] || [ "${{1-}}" = committed ]; then
    gs=$(command -v git-shard 2>/dev/null) || gs={fallback}
    ("$gs" reconcile --quiet </dev/null >/dev/null 2>&1 &)
fi
exit $status
"#
    )
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{path} already exists; it would be overwritten by moving the current {name} hook aside")]
    AsideTaken { name: String, path: PathBuf },
    #[error("cannot change hooks in {dir}: {source}")]
    Io { dir: PathBuf, source: io::Error },
}

/// Install every hook into `dir`. Returns, per hook, what was done.
pub fn install(dir: &Path, exe: &Path) -> Result<Vec<(&'static str, &'static str)>, HookError> {
    let io = |source| HookError::Io {
        dir: dir.to_owned(),
        source,
    };
    fs::create_dir_all(dir).map_err(io)?;
    // Check every hook before changing any, so a refusal leaves the folder as it was.
    for name in HOOKS {
        if state(dir, name) == HookState::Foreign && aside(dir, name).exists() {
            return Err(HookError::AsideTaken {
                name: (*name).to_owned(),
                path: aside(dir, name),
            });
        }
    }
    let mut done = Vec::new();
    for name in HOOKS {
        let path = dir.join(name);
        let what = match state(dir, name) {
            HookState::Ours { .. } => "updated",
            HookState::Foreign => {
                fs::rename(&path, aside(dir, name)).map_err(io)?;
                "installed, chaining the existing hook"
            }
            HookState::Missing => "installed",
        };
        crate::fsutil::write_atomic(&path, script(name, exe).as_bytes()).map_err(io)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).map_err(io)?;
        done.push((*name, what));
    }
    Ok(done)
}

/// Remove our hooks from `dir` and put back what was there before.
pub fn uninstall(dir: &Path) -> Result<Vec<(&'static str, &'static str)>, HookError> {
    let io = |source| HookError::Io {
        dir: dir.to_owned(),
        source,
    };
    let mut done = Vec::new();
    for name in HOOKS {
        let what = match state(dir, name) {
            HookState::Ours { chained: true } => {
                fs::rename(aside(dir, name), dir.join(name)).map_err(io)?;
                "removed, previous hook restored"
            }
            HookState::Ours { chained: false } => {
                fs::remove_file(dir.join(name)).map_err(io)?;
                "removed"
            }
            HookState::Foreign => "not ours, left alone",
            HookState::Missing => "not installed",
        };
        done.push((*name, what));
    }
    Ok(done)
}

/// A hooks folder managed by another tool, whose files would be regenerated over ours (or that
/// expects its own configuration to be edited instead).
pub fn managed_by(dir: &Path) -> Option<&'static str> {
    if dir.components().any(|c| c.as_os_str() == ".husky") {
        return Some("husky");
    }
    let entries = fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let text = fs::read(entry.path())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        for (needle, tool) in [
            ("husky", "husky"),
            ("pre-commit.com", "pre-commit"),
            ("lefthook", "lefthook"),
        ] {
            if text.contains(needle) {
                return Some(tool);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_and_restores_a_previous_hook_byte_for_byte() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mine = b"#!/bin/sh\necho mine \"$@\"\n\x00binary-ish\n";
        fs::write(dir.join("post-commit"), mine).unwrap();
        fs::set_permissions(dir.join("post-commit"), fs::Permissions::from_mode(0o750)).unwrap();
        install(dir, Path::new("/opt/git shard/bin/git-shard")).unwrap();
        assert_eq!(state(dir, "post-commit"), HookState::Ours { chained: true });
        assert_eq!(state(dir, "post-merge"), HookState::Ours { chained: false });
        assert!(
            fs::read_to_string(dir.join("post-merge"))
                .unwrap()
                .contains("'/opt/git shard/bin/git-shard'")
        );
        install(dir, Path::new("/x")).unwrap();
        assert_eq!(
            state(dir, "post-commit"),
            HookState::Ours { chained: true },
            "reinstall keeps the chain"
        );
        uninstall(dir).unwrap();
        assert_eq!(fs::read(dir.join("post-commit")).unwrap(), mine);
        assert_eq!(
            fs::metadata(dir.join("post-commit")).unwrap().permissions().mode() & 0o777,
            0o750
        );
        assert!(!dir.join("post-merge").exists());
        assert_eq!(fs::read_dir(dir).unwrap().count(), 1);
    }

    #[test]
    fn recognises_other_hook_managers() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(managed_by(tmp.path()), None);
        fs::write(
            tmp.path().join("pre-commit"),
            "# File generated by pre-commit: https://pre-commit.com\n",
        )
        .unwrap();
        assert_eq!(managed_by(tmp.path()), Some("pre-commit"));
        assert_eq!(managed_by(&tmp.path().join(".husky/_")), Some("husky"));
    }
}
