//! The supervisor's process mechanics: own the process group, start the agent as a child in it,
//! forward signals, report how the agent ended.
//!
//! Invariants:
//! - The supervisor leads the process group that `stop` signals. Where it inherits a terminal as a
//!   foreground job (`inline`) it makes a new group and takes the terminal's foreground; anywhere
//!   else it becomes the leader of a new session (terminal emulators and tmux usually make it one
//!   already). Either way the group contains nothing but the supervisor and the agent's tree: never
//!   the user's shell, `git`, or `git shard new`.
//! - The agent is the supervisor's direct child, so the supervisor learns its exit status from the
//!   kernel (no polling, no guessing) and the recorded PID is the agent's own.
//! - Signals sent to the supervisor alone (`kill <pid>`, a terminal's SIGHUP) are forwarded to the
//!   agent through a pidfd. Signals the terminal sends to the whole foreground group (Ctrl-C,
//!   Ctrl-\, window size) already reached the agent and are not sent twice: an agent that treats a
//!   second Ctrl-C as "quit now" must not see one.
//! - The supervisor does not die of SIGTERM/SIGINT/SIGHUP/SIGQUIT: it waits for the agent, so the
//!   end of the run is always recorded (only SIGKILL prevents that; `stop` then records it).

use std::io;
use std::process::{Child, Command, ExitStatus};
use std::thread;

use rustix::process::{Pid, Signal};
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::origin::WithOrigin;
use signal_hook::low_level::siginfo::Cause;

use super::{Captured, capture};

/// How the agent ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

impl Ended {
    fn from_status(status: ExitStatus) -> Ended {
        use std::os::unix::process::ExitStatusExt;
        Ended {
            code: status.code(),
            signal: status.signal(),
        }
    }

    /// The supervisor's own exit status: the agent's code, or 128 + signal like a shell reports it.
    pub fn exit_status(&self) -> i32 {
        match (self.code, self.signal) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            (None, None) => 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SuperviseError<E> {
    #[error("cannot start {program}: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("cannot read the agent's identity: {0}")]
    Identity(io::Error),
    #[error("cannot install signal handlers: {0}")]
    Signals(io::Error),
    #[error(transparent)]
    Record(E),
}

/// Make this process the leader of the group `stop` will signal (see the module docs).
pub fn take_group() {
    let me = rustix::process::getpid();
    if rustix::process::getsid(None).ok() == Some(me) {
        return;
    }
    let stdin = rustix::stdio::stdin();
    let foreground = rustix::termios::tcgetpgrp(stdin).ok();
    if foreground.is_some() && foreground == Some(rustix::process::getpgrp()) {
        // A foreground job in the caller's terminal (`inline`): a new group of our own, given the
        // terminal so that Ctrl-C reaches the agent and not `git` or the shell.
        if rustix::process::setpgid(None, None).is_ok() {
            with_sigttou_ignored(|| {
                let _ = rustix::termios::tcsetpgrp(stdin, me);
            });
        }
        return;
    }
    if rustix::process::setsid().is_err() {
        // Already a group leader (setsid refuses those): the group is ours anyway.
        let _ = rustix::process::setpgid(None, None);
    }
}

/// Give the terminal's foreground back to our own group after an inline run (the supervisor's
/// group took it). Without this the caller's shell would find a dead foreground group.
pub fn reclaim_terminal() {
    let stdin = rustix::stdio::stdin();
    if rustix::termios::tcgetpgrp(stdin).is_ok() {
        with_sigttou_ignored(|| {
            let _ = rustix::termios::tcsetpgrp(stdin, rustix::process::getpgrp());
        });
    }
}

/// A background group may only change the terminal's foreground with SIGTTOU ignored.
fn with_sigttou_ignored(f: impl FnOnce()) {
    // SAFETY: plain signal-disposition changes, restored right after; no handler code runs.
    unsafe {
        let old = libc::signal(libc::SIGTTOU, libc::SIG_IGN);
        f();
        libc::signal(libc::SIGTTOU, old);
    }
}

/// Start `cmd` as a child in our group, call `on_start` with the agent's and our own identity
/// (the caller records them), forward signals, and wait for the agent to end.
///
/// If `on_start` fails, the agent is killed before it can do anything lasting and the error is
/// returned: a run that is not recorded must not exist.
pub fn supervise<E>(
    mut cmd: Command,
    on_start: impl FnOnce(&Captured, &Captured) -> Result<(), E>,
) -> Result<Ended, SuperviseError<E>> {
    // Handlers first: from here on a SIGTERM cannot kill us before the run is recorded.
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH])
        .map_err(SuperviseError::Signals)?;
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .spawn()
        .map_err(|source| SuperviseError::Spawn { program, source })?;
    let pin = Pinned::new(&child);

    // The child cannot be reaped before we wait for it, so its /proc entry (at worst a zombie)
    // is there to read.
    let captured = capture(child.id()).and_then(|agent| Ok((agent, capture(std::process::id())?)));
    let started = match captured {
        Ok((agent, me)) => on_start(&agent, &me).map_err(SuperviseError::Record),
        Err(e) => Err(SuperviseError::Identity(e)),
    };
    if let Err(e) = started {
        pin.send(Signal::KILL);
        let _ = child.wait();
        return Err(e);
    }

    let handle = signals.handle();
    let forwarder = thread::spawn(move || {
        for origin in signals.forever() {
            // The terminal sends these to the whole foreground group, which includes the agent.
            let from_terminal = matches!(origin.cause, Cause::Kernel) && origin.signal != SIGHUP;
            if !from_terminal && let Some(sig) = Signal::from_named_raw(origin.signal) {
                pin.send(sig);
            }
        }
    });
    let status = wait(&mut child);
    handle.close();
    let _ = forwarder.join();
    Ok(Ended::from_status(status))
}

fn wait(child: &mut Child) -> ExitStatus {
    loop {
        match child.wait() {
            Ok(s) => return s,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // wait(2) fails only for a child that is not ours, which cannot happen here.
            Err(e) => panic!("waiting for the agent failed: {e}"),
        }
    }
}

/// The child pinned by a pidfd (Linux), so that a signal forwarded after it was reaped can never
/// reach a process that reused its PID.
struct Pinned {
    #[cfg(target_os = "linux")]
    fd: Option<rustix::fd::OwnedFd>,
    #[cfg(not(target_os = "linux"))]
    pid: u32,
}

impl Pinned {
    fn new(child: &Child) -> Pinned {
        #[cfg(target_os = "linux")]
        {
            let fd = Pid::from_raw(child.id() as i32)
                .and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok());
            Pinned { fd }
        }
        #[cfg(not(target_os = "linux"))]
        Pinned { pid: child.id() }
    }

    fn send(&self, sig: Signal) {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd {
            let _ = rustix::process::pidfd_send_signal(fd, sig);
        }
        #[cfg(not(target_os = "linux"))]
        if let Some(p) = Pid::from_raw(self.pid as i32) {
            let _ = rustix::process::kill_process(p, sig);
        }
    }
}
