//! Starting a command whose identity is on record before it does anything.
//!
//! `new` and `rm` have git do the work (`git worktree add`, `git worktree remove`). If git-shard is
//! killed meanwhile (SIGKILL cannot be caught), git is not: it goes on and finishes. Whoever
//! recovers the shard must then wait for that git instead of undoing what it is still doing, so the
//! git process's identity must be recorded before git starts: a record written after the start
//! leaves a moment in which git runs and nobody knows.
//!
//! A gated command therefore starts as `/bin/sh` that waits for one line on its standard input and
//! then `exec`s the command: the same PID and the same start time, so the identity captured while
//! it waits is the command's. The caller records that identity, then [`Gated::release`]s it. If
//! the caller dies first, the shell reads end-of-file and exits without running anything.
//!
//! Signals from the terminal: while it waits for the command, the caller ignores SIGINT and
//! SIGQUIT as `system(3)` does, so a Ctrl-C reaches the command (git cleans up what it had begun)
//! and the caller lives to see how it ended and to undo its own part. A command started in its own
//! process group ([`Group::Own`]) gets no terminal signal at all: for work that must not be cut
//! in the middle, like deleting a worktree, which git does file by file.

use std::io::{self, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};

use super::{Identity, capture};

/// `$@` is the command; its standard input is /dev/null (the caller's terminal stays the
/// caller's; git reads passwords from /dev/tty).
const SCRIPT: &str = r#"read -r _ || exit 125; exec "$@" </dev/null"#;

/// Which process group the command runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// The caller's: it gets the terminal's signals (and may prompt for a password).
    Callers,
    /// One of its own: no terminal signal reaches it, and it outlives a caller killed meanwhile.
    Own,
}

/// A started, not yet released command.
pub struct Gated {
    child: Child,
    release: Option<ChildStdin>,
    /// The command's identity (valid from now on: `exec` keeps PID and start time).
    pub identity: Identity,
}

/// Start `cmd` gated. Its program, arguments, environment changes and folder are kept; its
/// standard output goes to our standard error (standard output is kept for `--json`) and its
/// standard error is ours.
pub fn start(cmd: &Command, group: Group) -> io::Result<Gated> {
    let mut sh = Command::new("/bin/sh");
    sh.arg("-c").arg(SCRIPT).arg("git-shard-gate").arg(cmd.get_program());
    sh.args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => sh.env(key, value),
            None => sh.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        sh.current_dir(dir);
    }
    sh.stdin(Stdio::piped()).stdout(io::stderr());
    if group == Group::Own {
        use std::os::unix::process::CommandExt;
        sh.process_group(0);
    }
    let mut child = sh.spawn()?;
    let release = child.stdin.take();
    let identity = match capture(child.id()) {
        Ok(captured) => captured.identity,
        Err(e) => {
            drop(release);
            let _ = child.wait();
            return Err(e);
        }
    };
    Ok(Gated {
        child,
        release,
        identity,
    })
}

impl Gated {
    /// Let the command run.
    pub fn release(&mut self) -> io::Result<()> {
        match self.release.take() {
            Some(mut stdin) => stdin.write_all(b"go\n"),
            None => Ok(()),
        }
    }

    /// Wait for the command (a command never released exits 125 without running), with SIGINT
    /// and SIGQUIT ignored meanwhile (see the module docs). They are ignored only after the start:
    /// the command must not inherit that.
    pub fn wait(mut self) -> io::Result<ExitStatus> {
        self.release = None;
        let _ignored = IgnoreTerminalSignals::new();
        self.child.wait()
    }
}

/// SIGINT and SIGQUIT ignored until dropped, then restored.
struct IgnoreTerminalSignals {
    saved: [(libc::c_int, libc::sighandler_t); 2],
}

impl IgnoreTerminalSignals {
    fn new() -> IgnoreTerminalSignals {
        // SAFETY: installs the "ignore" disposition, no handler code; the previous ones are kept
        // and put back on drop.
        let saved = [libc::SIGINT, libc::SIGQUIT].map(|sig| (sig, unsafe { libc::signal(sig, libc::SIG_IGN) }));
        IgnoreTerminalSignals { saved }
    }
}

impl Drop for IgnoreTerminalSignals {
    fn drop(&mut self) {
        for (sig, handler) in self.saved {
            // SAFETY: restores a disposition `signal` returned for this very signal.
            unsafe {
                libc::signal(sig, handler);
            }
        }
    }
}

impl Drop for Gated {
    fn drop(&mut self) {
        // Not released: end-of-file makes the shell exit; reap it either way.
        self.release = None;
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_only_when_released_under_the_recorded_identity() {
        let tmp = tempfile::tempdir().unwrap();
        let marker = tmp.path().join("ran");
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("echo $$ > \"$1\"")
            .arg("sh")
            .arg(&marker)
            .env("GATE_TEST", "1");
        let mut gated = start(&cmd, Group::Callers).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!marker.exists(), "it ran before it was released");
        gated.release().unwrap();
        let pid = gated.identity.pid;
        assert!(gated.wait().unwrap().success());
        assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), pid.to_string());

        // Dropped unreleased (as when the caller dies): nothing runs.
        std::fs::remove_file(&marker).unwrap();
        drop(start(&cmd, Group::Own).unwrap());
        assert!(!marker.exists());
    }
}
