//! Stopping a run: verify → SIGTERM the group → grace → SIGKILL the group → confirm.
//!
//! Invariants:
//! - Nothing is signalled unless the agent's identity (PID + start value + boot id) matches *now*.
//!   On Linux the agent is first pinned with a pidfd and then verified, so the check and the signal
//!   refer to the same process even if the PID is recycled in between.
//! - The process group is signalled only when it is provably ours: the verified agent is still a
//!   member, or the verified supervisor (its leader) is alive. A group id, like a PID, is reused once
//!   the group is empty, so a bare number is never enough.
//! - When the supervisor led its own session (every terminal but `inline`), members of that session
//!   that moved to another process group are signalled too, each one pinned and re-checked first.
//! - Processes that left the session (`setsid`) are reached through the run's cgroup (see
//!   `contain`): each member is pinned and re-checked to be in it, and members the group or
//!   session signal reached are not signalled twice. SIGKILL goes to the cgroup (`cgroup.kill`)
//!   and to the group's members one by one, never to a live supervisor: it ends what was orphaned
//!   to it (as subreaper), records the end and exits. Without a cgroup, a process that left the
//!   session is not touched here; `stop` reports the members it could not end.
//! - A run whose agent is gone may still have processes in its cgroup (its supervisor was
//!   SIGKILLed): the cgroup alone proves them the run's, and they are ended.

use std::io;
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use super::{Facts, Identity, Liveness, facts, judge, members};

/// The run's cgroup, where the platform has them (see `contain`).
#[cfg(target_os = "linux")]
use super::cgroup::RunCgroup;

/// Without cgroups there is never one.
#[cfg(not(target_os = "linux"))]
struct RunCgroup;

#[cfg(not(target_os = "linux"))]
impl RunCgroup {
    fn populated(&self) -> bool {
        false
    }
    fn kill(&self) -> io::Result<()> {
        Ok(())
    }
    fn signal_each(&self, _sig: Signal) {}
    fn pids(&self) -> Vec<u32> {
        Vec::new()
    }
    fn remove(&self) -> io::Result<()> {
        Ok(())
    }
    fn contains(&self, _pid: u32) -> bool {
        false
    }
}

/// The target's cgroup, when it has one that still exists.
#[cfg(target_os = "linux")]
fn run_cgroup(target: &Target) -> Option<RunCgroup> {
    super::cgroup::open(target.cgroup.as_deref()?)
}

#[cfg(not(target_os = "linux"))]
fn run_cgroup(_target: &Target) -> Option<RunCgroup> {
    None
}

/// End what is left in the cgroup of a run whose agent is gone: SIGTERM, `grace`, `cgroup.kill`.
fn end_cgroup_only(cg: &RunCgroup, grace: Duration) -> Outcome {
    let mut forced = false;
    if !grace.is_zero() {
        cg.signal_each(Signal::TERM);
        let deadline = Instant::now() + grace;
        while cg.populated() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
    }
    if cg.populated() {
        forced = true;
        let _ = cg.kill();
        let deadline = Instant::now() + Duration::from_secs(2);
        while cg.populated() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
    }
    if !cg.populated() {
        let _ = cg.remove();
    }
    let survivors = cg
        .pids()
        .into_iter()
        .filter_map(|pid| Some((pid, facts(pid).ok()??.comm)))
        .collect();
    Outcome::Stopped { forced, survivors }
}

/// What `stop` is asked to end.
#[derive(Debug, Clone)]
pub struct Target {
    pub agent: Identity,
    pub pgid: u32,
    pub sid: u32,
    pub supervisor: Option<Identity>,
    /// The run's cgroup (see `contain`): everything in it is the run's, in any session.
    pub cgroup: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The agent had already ended; nothing was signalled.
    NotRunning,
    /// The PID now denotes another process; nothing was signalled.
    Mismatch,
    /// The run was signalled and has ended. `forced` when SIGKILL was needed. `survivors` lists
    /// members that were still there after SIGKILL (normally empty).
    Stopped {
        forced: bool,
        survivors: Vec<(u32, String)>,
    },
}

/// A handle that keeps referring to one process even if its PID is reused (a pidfd on Linux;
/// elsewhere the PID, checked just before use).
pub struct Pinned {
    #[cfg(target_os = "linux")]
    fd: Option<rustix::fd::OwnedFd>,
    pid: u32,
}

impl Pinned {
    pub fn open(pid: u32) -> Pinned {
        #[cfg(target_os = "linux")]
        {
            let fd = Pid::from_raw(pid as i32)
                .and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok());
            Pinned { fd, pid }
        }
        #[cfg(not(target_os = "linux"))]
        Pinned { pid }
    }

    pub fn signal(&self, sig: Signal) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd {
            return rustix::process::pidfd_send_signal(fd, sig).map_err(Into::into);
        }
        match Pid::from_raw(self.pid as i32) {
            Some(p) => rustix::process::kill_process(p, sig).map_err(Into::into),
            None => Ok(()),
        }
    }

    /// Signal the process group this pinned process leads. On Linux ≥ 6.9 this goes through the
    /// pidfd (`PIDFD_SIGNAL_PROCESS_GROUP` signals the group whose id is the pidfd's PID), so even
    /// a leader that has died meanwhile cannot let the group id be swapped for another.
    fn signal_led_group(&self, sig: Signal) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd {
            use rustix::fd::AsRawFd;
            const PIDFD_SIGNAL_PROCESS_GROUP: libc::c_uint = 1 << 2;
            // SAFETY: a plain syscall on a pidfd we own; a null siginfo is allowed.
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd.as_raw_fd(),
                    sig.as_raw(),
                    std::ptr::null::<libc::siginfo_t>(),
                    PIDFD_SIGNAL_PROCESS_GROUP,
                )
            };
            if rc == 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINVAL) {
                return Err(e);
            }
            // Older kernel: fall back to killpg, safe because the caller verified the leader.
        }
        killpg(self.pid, sig)
    }
}

fn killpg(pgid: u32, sig: Signal) -> io::Result<()> {
    match Pid::from_raw(pgid as i32) {
        Some(p) => rustix::process::kill_process_group(p, sig).map_err(Into::into),
        None => Ok(()),
    }
}

/// How we know the process group is ours.
enum GroupProof<'a> {
    /// The supervisor, the group's leader, verified alive and pinned.
    Leader(&'a Pinned),
    /// The verified agent is still a member, so the group id cannot have been reused.
    Member,
}

fn ignore_esrch(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
        other => other,
    }
}

/// Stop the run described by `target`, giving it `grace` to honour SIGTERM.
pub fn stop(target: &Target, grace: Duration) -> io::Result<Outcome> {
    let agent = Pinned::open(target.agent.pid);
    let agent_facts = facts(target.agent.pid)?;
    let cgroup = run_cgroup(target);
    match judge(&target.agent, agent_facts.as_ref()) {
        // The agent is gone, but what it started may still be in its cgroup (its supervisor was
        // SIGKILLed, say): the cgroup alone proves them the run's.
        Liveness::Gone | Liveness::Reused if cgroup.as_ref().is_some_and(|c| c.populated()) => {
            return Ok(end_cgroup_only(cgroup.as_ref().expect("checked"), grace));
        }
        Liveness::Gone => return Ok(Outcome::NotRunning),
        Liveness::Reused => return Ok(Outcome::Mismatch),
        Liveness::Alive => {}
    }
    let agent_facts = agent_facts.expect("judged alive");

    // What proves the group is ours: its leader (the supervisor) verified alive, else the
    // verified agent still being a member.
    let supervisor = target.supervisor.as_ref().and_then(|s| {
        let pinned = Pinned::open(s.pid);
        let f = facts(s.pid).ok()?;
        (s.pid == target.pgid && judge(s, f.as_ref()) == Liveness::Alive && f?.pgid == target.pgid).then_some(pinned)
    });
    // A group id of 0 is one whose leader is outside our PID namespace: nothing we can prove ours.
    let group = match (&supervisor, target.pgid != 0 && agent_facts.pgid == target.pgid) {
        (Some(leader), _) => Some(GroupProof::Leader(leader)),
        (None, true) => Some(GroupProof::Member),
        (None, false) => None,
    };
    // Same proof for the session: only when the supervisor led it (sid == pgid) and it is provably
    // still the same session.
    let own_session =
        target.sid != 0 && target.sid == target.pgid && (agent_facts.sid == target.sid || supervisor.is_some());

    let send = |sig: Signal| -> io::Result<()> {
        if sig == Signal::KILL {
            // The cgroup holds the agent and everything it started, in any session, and never
            // the supervisor.
            if let Some(cg) = &cgroup {
                cg.kill()?;
            }
            // A live supervisor is spared: it ends what the agent orphaned to it (as subreaper),
            // removes the cgroup and records how the agent ended. Every other member of the group
            // (and of the session it leads) is pinned, re-checked and killed.
            if let (Some(GroupProof::Leader(_)), Some(sup)) = (&group, &target.supervisor) {
                for (pid, _) in members(target.pgid, own_session.then_some(target.sid)) {
                    if pid == sup.pid {
                        continue;
                    }
                    let pinned = Pinned::open(pid);
                    let still = matches!(facts(pid)?, Some(f) if !f.is_zombie()
                        && (f.pgid == target.pgid || (own_session && f.sid == target.sid)));
                    if still {
                        ignore_esrch(pinned.signal(sig))?;
                    }
                }
                if agent_facts.pgid != target.pgid {
                    ignore_esrch(agent.signal(sig))?;
                }
                return Ok(());
            }
        }
        match &group {
            Some(GroupProof::Leader(leader)) => ignore_esrch(leader.signal_led_group(sig))?,
            // The agent was verified a moment ago; the group cannot be reused while it is a member.
            Some(GroupProof::Member) => ignore_esrch(killpg(target.pgid, sig))?,
            None => {}
        }
        // The agent itself, only when the group signal may not have reached it (it moved to a
        // group of its own): one SIGTERM, not two.
        if group.is_none() || agent_facts.pgid != target.pgid {
            ignore_esrch(agent.signal(sig))?;
        }
        if own_session {
            signal_session_strays(target, sig)?;
        }
        // The cgroup's members that the group and session signals did not reach (tool calls in
        // sessions of their own, daemons): one SIGTERM each, never a second.
        if let Some(cg) = &cgroup {
            for pid in cg.pids() {
                let pinned = Pinned::open(pid);
                let Some(f) = facts(pid)? else { continue };
                let reached = (group.is_some() && f.pgid == target.pgid) || (own_session && f.sid == target.sid);
                if !reached && !f.is_zombie() && cg.contains(pid) {
                    ignore_esrch(pinned.signal(sig))?;
                }
            }
        }
        Ok(())
    };

    send(Signal::TERM)?;
    // A stopped process (Ctrl-Z, SIGSTOP) acts on SIGTERM only once it runs again; a stopped
    // supervisor could neither reap the agent nor record its end.
    send(Signal::CONT)?;
    if wait_until_ended(target, group.is_some(), own_session, grace) {
        return Ok(Outcome::Stopped {
            forced: false,
            survivors: Vec::new(),
        });
    }
    send(Signal::KILL)?;
    // SIGKILL cannot be caught; what is left after this is stuck in the kernel (state D) or
    // escaped our bookkeeping between scans. The spared supervisor first ends what was orphaned to
    // it, with its own grace (`supervisor::LEFTOVER_GRACE`).
    let ended = wait_until_ended(
        target,
        group.is_some(),
        own_session,
        Duration::from_secs(2) + super::supervisor::LEFTOVER_GRACE,
    );
    let survivors = if ended {
        Vec::new()
    } else {
        remaining(target, group.is_some(), own_session)
            .into_iter()
            .map(|(pid, f)| (pid, f.comm))
            .collect()
    };
    Ok(Outcome::Stopped {
        forced: true,
        survivors,
    })
}

/// Let a stopped supervisor (SIGSTOP) go on, once its identity is verified, so it reaps its agent
/// and records the end. Returns whether it was stopped and was sent SIGCONT.
pub fn wake_supervisor(supervisor: &Identity) -> bool {
    let pinned = Pinned::open(supervisor.pid);
    let Ok(found) = facts(supervisor.pid) else { return false };
    let stopped = found.as_ref().is_some_and(|f| matches!(f.state, 'T' | 't'));
    stopped && judge(supervisor, found.as_ref()) == Liveness::Alive && pinned.signal(Signal::CONT).is_ok()
}

/// Members of our session that left our process group (e.g. a job-control shell's jobs). Each is
/// pinned, then re-checked, then signalled.
fn signal_session_strays(target: &Target, sig: Signal) -> io::Result<()> {
    for (pid, _) in members(target.pgid, Some(target.sid)) {
        let pinned = Pinned::open(pid);
        let ok = matches!(facts(pid)?, Some(f) if f.sid == target.sid && f.pgid != target.pgid && !f.is_zombie());
        if ok {
            ignore_esrch(pinned.signal(sig))?;
        }
    }
    Ok(())
}

fn remaining(target: &Target, group_is_ours: bool, own_session: bool) -> Vec<(u32, Facts)> {
    let mut left = remaining_outside_cgroup(target, group_is_ours, own_session);
    if let Some(cg) = run_cgroup(target) {
        for pid in cg.pids() {
            if !left.iter().any(|(p, _)| *p == pid)
                && let Ok(Some(f)) = facts(pid)
                && !f.is_zombie()
            {
                left.push((pid, f));
            }
        }
    }
    left
}

fn remaining_outside_cgroup(target: &Target, group_is_ours: bool, own_session: bool) -> Vec<(u32, Facts)> {
    if !group_is_ours {
        return match facts(target.agent.pid) {
            Ok(Some(f)) if judge(&target.agent, Some(&f)) == Liveness::Alive => vec![(target.agent.pid, f)],
            _ => Vec::new(),
        };
    }
    members(target.pgid, own_session.then_some(target.sid))
}

/// Poll until nothing of the run is left or `limit` passes. Starts with short sleeps so that an
/// agent that exits at once is confirmed within milliseconds.
fn wait_until_ended(target: &Target, group_is_ours: bool, own_session: bool, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut nap = Duration::from_millis(1);
    loop {
        if remaining(target, group_is_ours, own_session).is_empty() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(20));
    }
}
