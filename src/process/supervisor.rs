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
//!   agent through a pidfd. Signals sent to the whole group (the terminal's Ctrl-C, Ctrl-\ and
//!   window size; `git shard stop`) already reached the agent and are not sent twice: an agent
//!   that treats a second Ctrl-C as "quit now" must not see one.
//! - The agent starts while the caller's claim (the shard lock) is held and is recorded before it
//!   is released; when the agent exits, whatever it left in the group is ended too.
//! - The supervisor does not die of SIGTERM/SIGINT/SIGHUP/SIGQUIT: it waits for the agent, so the
//!   end of the run is always recorded (only SIGKILL prevents that; `stop` then records it).

use std::io;
use std::process::{Child, Command, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

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
    if own_session() == me.as_raw_nonzero().get() {
        return;
    }
    let stdin = rustix::stdio::stdin();
    if foreground_group().is_some_and(|fg| fg == own_group()) {
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

/// Wait for an inline supervisor (our child, leading its own group in our terminal) and return
/// its exit status as a shell reports it. Job control passes through: when the user stops the
/// agent (Ctrl-Z), we take the terminal back and stop our own job too, so the shell's prompt
/// returns; when the shell resumes us (`fg`), we hand the terminal back and resume the agent.
pub fn wait_inline(child: &Child) -> io::Result<i32> {
    let pid = Pid::from_raw(child.id() as i32).ok_or_else(|| io::Error::other("invalid child pid"))?;
    loop {
        let status = match rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::UNTRACED) {
            Ok(Some((_, status))) => status,
            Ok(None) => continue,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        };
        if status.stopped() {
            reclaim_terminal();
            // Stop ourselves (and `git`, in our job) the way the agent was stopped. kill(0) names
            // our own group even where its id is not visible to us (see `own_group`).
            // SAFETY: a plain signal to our own process group.
            unsafe { libc::kill(0, libc::SIGTSTP) };
            // Resumed: the terminal goes back to the agent's group, which continues.
            with_sigttou_ignored(|| {
                let _ = rustix::termios::tcsetpgrp(rustix::stdio::stdin(), pid);
            });
            let _ = rustix::process::kill_process_group(pid, Signal::CONT);
            continue;
        }
        reclaim_terminal();
        return Ok(match (status.exit_status(), status.terminating_signal()) {
            (Some(code), _) => code,
            (None, Some(sig)) => 128 + sig,
            _ => 1,
        });
    }
}

/// Give the terminal's foreground back to our own group after an inline run (the supervisor's
/// group took it). Without this the caller's shell would find a dead foreground group.
fn reclaim_terminal() {
    let (Some(_), Some(group)) = (foreground_group(), Pid::from_raw(own_group())) else {
        return;
    };
    with_sigttou_ignored(|| {
        let _ = rustix::termios::tcsetpgrp(rustix::stdio::stdin(), group);
    });
}

// Session and group ids read with libc, not rustix: inside a PID namespace (containers, CI
// sandboxes) a session or group whose leader lives outside the namespace has the id 0, which
// rustix's `Pid` cannot hold (it asserts, or worse in release builds). 0 means "not ours to name".

/// Our session's id; 0 when its leader is outside our PID namespace.
fn own_session() -> i32 {
    // SAFETY: getsid(0) only reads the caller's own session id.
    unsafe { libc::getsid(0) }
}

/// Our process group's id; 0 when its leader is outside our PID namespace.
fn own_group() -> i32 {
    // SAFETY: getpgrp only reads the caller's own group id.
    unsafe { libc::getpgrp() }
}

/// The foreground group of the terminal on stdin, if stdin is a terminal and the group is visible.
fn foreground_group() -> Option<i32> {
    // SAFETY: tcgetpgrp only reads; on a non-terminal it fails with ENOTTY.
    let group = unsafe { libc::tcgetpgrp(libc::STDIN_FILENO) };
    (group > 0).then_some(group)
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

/// Run the agent: `claim` (e.g. take the shard's lock and check the run is still wanted) →
/// start `cmd` as a child in our group → `record` its identity and ours (e.g. write the record,
/// then release the lock) → forward signals → wait → end what the agent left in our group.
///
/// Because the child starts only while the claim is held and is recorded before the claim is
/// released, nobody who takes the same lock can see the run as "not started" while the agent
/// exists. If `record` fails, everything the child may already have started is killed before it
/// can do anything lasting, and the error is returned: a run that is not recorded must not exist.
pub fn supervise<G, E>(
    mut cmd: Command,
    claim: impl FnOnce() -> Result<G, E>,
    record: impl FnOnce(G, &Captured, &Captured) -> Result<(), E>,
) -> Result<Ended, SuperviseError<E>> {
    // Handlers first: from here on a SIGTERM cannot kill us before the run is recorded.
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH])
        .map_err(SuperviseError::Signals)?;
    let claimed = claim().map_err(SuperviseError::Record)?;
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .spawn()
        .map_err(|source| SuperviseError::Spawn { program, source })?;
    let pin = Pinned::new(&child);

    // The child cannot be reaped before we wait for it, so its /proc entry (at worst a zombie)
    // is there to read.
    let captured = capture(child.id()).and_then(|agent| Ok((agent, capture(std::process::id())?)));
    let started = match captured {
        Ok((agent, me)) => record(claimed, &agent, &me).map_err(SuperviseError::Record),
        Err(e) => Err(SuperviseError::Identity(e)),
    };
    if let Err(e) = started {
        end_leftovers(Duration::ZERO);
        // The child itself too, by the handle we hold: when its identity could not be read,
        // `end_leftovers` cannot see it either, and waiting for it would keep an unrecorded agent
        // running. Not reaped yet, so its PID cannot have been reused.
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }

    let handle = signals.handle();
    let forwarder = thread::spawn(move || {
        for origin in signals.forever() {
            if !already_delivered(&origin)
                && let Some(sig) = Signal::from_named_raw(origin.signal)
            {
                pin.send(sig);
            }
        }
    });
    let status = wait(&mut child);
    handle.close();
    let _ = forwarder.join();
    end_leftovers(LEFTOVER_GRACE);
    Ok(Ended::from_status(status))
}

/// How long processes the agent left behind get to honour SIGTERM once the agent has exited.
pub const LEFTOVER_GRACE: Duration = Duration::from_secs(2);

/// Did this signal already reach the agent? The terminal sends Ctrl-C, Ctrl-\ and window
/// changes to the whole foreground group (the agent is in it), and `git shard stop` signals the
/// whole group: forwarding those would deliver them twice, and agents read a second Ctrl-C as
/// "quit now". A hangup from the kernel goes to us alone and is forwarded, as is anything a user
/// sends to our PID with `kill`.
fn already_delivered(origin: &signal_hook::low_level::siginfo::Origin) -> bool {
    if matches!(origin.cause, Cause::Kernel) {
        return origin.signal != SIGHUP;
    }
    origin
        .process
        .as_ref()
        .and_then(|p| super::facts(p.pid as u32).ok().flatten())
        .is_some_and(|f| f.comm == "git-shard")
}

/// End whatever the agent left running in our process group (and in our session, when we lead
/// it): the run is over, and its processes go with it. SIGTERM, up to `grace`, then SIGKILL. Each
/// process is pinned and re-checked before it is signalled, and we never signal ourselves.
fn end_leftovers(grace: Duration) {
    let me = std::process::id();
    let Ok(Some(mine)) = super::facts(me) else { return };
    let session = (mine.sid == me).then_some(me);
    let leftovers = || -> Vec<u32> {
        super::members(mine.pgid, session)
            .into_iter()
            .map(|(pid, _)| pid)
            .filter(|&pid| pid != me)
            .collect()
    };
    let send = |sig: Signal| {
        for pid in leftovers() {
            let pinned = super::stop::Pinned::open(pid);
            if matches!(super::facts(pid), Ok(Some(f)) if f.pgid == mine.pgid || Some(f.sid) == session) {
                let _ = pinned.signal(sig);
            }
        }
    };
    if leftovers().is_empty() {
        return;
    }
    if !grace.is_zero() {
        send(Signal::TERM);
        let deadline = Instant::now() + grace;
        while !leftovers().is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
    }
    send(Signal::KILL);
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

/// The child, pinned (see `stop::Pinned`) so that a signal forwarded after it was reaped can
/// never reach a process that reused its PID.
struct Pinned(super::stop::Pinned);

impl Pinned {
    fn new(child: &Child) -> Pinned {
        Pinned(super::stop::Pinned::open(child.id()))
    }

    fn send(&self, sig: Signal) {
        let _ = self.0.signal(sig);
    }
}
