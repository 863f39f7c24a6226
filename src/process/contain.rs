//! Containment of a run: what proves, beyond its process group and session, that a process is the
//! run's, so that `stop` and the end of a run take everything the agent started and nothing else.
//!
//! - `cgroup` (Linux, cgroup v2): the agent starts in a cgroup of its own (see `cgroup`); every
//!   process it ever starts is in it, whatever session it makes, until the cgroup is killed.
//! - `subreaper` (Linux without a usable cgroup): the supervisor is a child subreaper
//!   (`PR_SET_CHILD_SUBREAPER`), so a process the agent's tree orphans (a double-forked daemon, a
//!   tool call whose parent exited) is reparented to the supervisor instead of init; its
//!   descendants are then provably the run's, and the supervisor ends them when the run ends. What
//!   it cannot cover: processes left when the supervisor itself is SIGKILLed.
//! - `group` (macOS): the process group and session only, as before.
//!
//! The supervisor always stays outside what it contains, so it survives ending the run and
//! records how the agent ended.

use std::io;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::Signal;

#[cfg(target_os = "linux")]
use super::cgroup::{self, RunCgroup};

/// What a run's cgroup says about everything the run ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    /// CPU time, in microseconds (`cpu.stat` `usage_usec`), also of processes that have ended.
    pub cpu_usec: Option<u64>,
    /// Memory in use now, in bytes (`memory.current`, where the memory controller is enabled).
    pub memory_bytes: Option<u64>,
    /// Processes in it now.
    pub processes: usize,
}

/// The usage of a run's recorded cgroup, while it exists.
pub fn usage(cgroup_path: Option<&str>) -> Option<Usage> {
    #[cfg(target_os = "linux")]
    return recorded(cgroup_path).map(|cg| cg.usage());
    #[cfg(not(target_os = "linux"))]
    {
        let _ = cgroup_path;
        None
    }
}

/// How a run is contained; recorded as `containment` in the run's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Cgroup,
    Subreaper,
    Group,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cgroup => "cgroup",
            Kind::Subreaper => "subreaper",
            Kind::Group => "group",
        }
    }
}

/// The containment chosen for one run, before the agent starts.
pub enum Plan {
    /// A cgroup made for the run; the agent moves itself in before it execs.
    #[cfg(target_os = "linux")]
    Cgroup(RunCgroup),
    /// A systemd scope: the agent is started through `systemd-run --scope` (the argv prefix).
    #[cfg(target_os = "linux")]
    Scope {
        unit: String,
        prefix: Vec<String>,
    },
    Subreaper,
    Group,
}

/// Choose and prepare the containment of run `run_id` of shard `shard`. Call in the supervisor,
/// before the agent starts. `GIT_SHARD_CONTAINMENT=subreaper` (or `group`) asks for less.
pub fn prepare(shard: &str, run_id: &str) -> Plan {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with integer arguments only changes this process's reaping.
        let subreaper = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } == 0;
        let wanted = std::env::var("GIT_SHARD_CONTAINMENT").unwrap_or_default();
        if wanted.is_empty() || wanted == "cgroup" {
            let name = cgroup::run_name(shard, run_id);
            match cgroup::create(&name) {
                Ok(cg) => return Plan::Cgroup(cg),
                Err(e) => tracing::debug!("no cgroup of our own: {e}"),
            }
            if let Some(prefix) = cgroup::systemd_scope(&name) {
                return Plan::Scope { unit: name, prefix };
            }
        }
        if subreaper && wanted != "group" {
            return Plan::Subreaper;
        }
    }
    let _ = (shard, run_id);
    Plan::Group
}

impl Plan {
    /// The command that starts `argv` (program first) under this containment.
    pub fn command(&self, argv: &[String]) -> io::Result<Command> {
        match self {
            #[cfg(target_os = "linux")]
            Plan::Cgroup(cg) => {
                use std::os::fd::AsRawFd;
                use std::os::unix::process::CommandExt;
                let procs = cg.procs_for_writing()?;
                let mut cmd = Command::new(&argv[0]);
                cmd.args(&argv[1..]);
                // SAFETY: between fork and exec the child only calls write(2) on a descriptor
                // opened before the fork; `procs` lives in the closure, so it stays open.
                unsafe {
                    cmd.pre_exec(move || {
                        let fd = procs.as_raw_fd();
                        if libc::write(fd, b"0".as_ptr().cast(), 1) == 1 {
                            Ok(())
                        } else {
                            Err(io::Error::last_os_error())
                        }
                    });
                }
                Ok(cmd)
            }
            #[cfg(target_os = "linux")]
            Plan::Scope { prefix, .. } => {
                let mut cmd = Command::new(&prefix[0]);
                cmd.args(&prefix[1..]).args(argv);
                Ok(cmd)
            }
            Plan::Subreaper | Plan::Group => {
                let mut cmd = Command::new(&argv[0]);
                cmd.args(&argv[1..]);
                Ok(cmd)
            }
        }
    }

    /// Once the agent (`pid`) started: its kind and cgroup path, for the record. For a systemd
    /// scope this waits (briefly) until `systemd-run` has moved the agent into it.
    pub fn settle(&self, pid: u32) -> (Kind, Option<String>) {
        match self {
            #[cfg(target_os = "linux")]
            Plan::Cgroup(cg) => (Kind::Cgroup, Some(cg.path.clone())),
            #[cfg(target_os = "linux")]
            Plan::Scope { unit, .. } => {
                let suffix = format!("/{unit}.scope");
                let deadline = Instant::now() + Duration::from_secs(5);
                while Instant::now() < deadline {
                    match cgroup::of_process(pid) {
                        Some(path) if path.ends_with(&suffix) => return (Kind::Cgroup, Some(path)),
                        None => break,
                        _ => thread::sleep(Duration::from_millis(5)),
                    }
                }
                (Kind::Subreaper, None)
            }
            Plan::Subreaper => (Kind::Subreaper, None),
            Plan::Group => (Kind::Group, None),
        }
    }
}

/// The recorded cgroup of a run, when it is one and still exists.
#[cfg(target_os = "linux")]
pub fn recorded(path: Option<&str>) -> Option<RunCgroup> {
    cgroup::open(path?)
}

/// CPU time (µs) the run has used: from its cgroup (everything it ran, ended processes included),
/// else what the live members of its group and session have used.
pub fn run_cpu_usec(cgroup_path: Option<&str>, pgid: u32, sid: Option<u32>) -> u64 {
    if let Some(usec) = usage(cgroup_path).and_then(|u| u.cpu_usec) {
        return usec;
    }
    super::members(pgid, sid).iter().map(|(_, f)| f.cpu_usec).sum()
}

/// How many processes the run has now (in its cgroup, else in its group and session), not
/// counting git-shard's own (the agent's hook calls).
pub fn run_processes(cgroup_path: Option<&str>, pgid: u32, sid: Option<u32>) -> usize {
    #[cfg(target_os = "linux")]
    if let Some(cg) = recorded(cgroup_path) {
        return cg
            .pids()
            .into_iter()
            .filter(|&pid| {
                super::facts(pid)
                    .ok()
                    .flatten()
                    .is_some_and(|f| !f.is_zombie() && f.comm != "git-shard")
            })
            .count();
    }
    let _ = cgroup_path;
    super::members(pgid, sid)
        .iter()
        .filter(|(_, f)| f.comm != "git-shard")
        .count()
}

/// Whether the run's recorded cgroup still holds processes.
pub fn has_leftovers(cgroup_path: Option<&str>) -> bool {
    #[cfg(target_os = "linux")]
    if let Some(cg) = recorded(cgroup_path) {
        return cg.populated();
    }
    let _ = cgroup_path;
    false
}

/// Remove the recorded cgroup of a run that has ended once nothing is left in it (its supervisor
/// was killed before it could). Costs a `stat` when there is none.
pub fn tidy(cgroup_path: Option<&str>) {
    #[cfg(target_os = "linux")]
    if let Some(cg) = recorded(cgroup_path)
        && !cg.populated()
    {
        let _ = cg.remove();
    }
    let _ = cgroup_path;
}

/// End what is left of a run after its agent ended (called by the supervisor): everything in its
/// cgroup, and every process orphaned to the supervisor (as subreaper) with its descendants.
/// SIGTERM, up to `grace`, then SIGKILL; the cgroup is removed once empty.
pub fn end_run(cgroup_path: Option<&str>, grace: Duration) {
    #[cfg(target_os = "linux")]
    let cgroup = recorded(cgroup_path);
    #[cfg(target_os = "linux")]
    if let Some(cg) = &cgroup {
        end_cgroup(cg, grace);
    }
    let _ = cgroup_path;
    end_orphans(grace);
    // Orphans that ended in the cgroup were our children: until reaped just now, the kernel may
    // still have refused to remove it (EBUSY).
    #[cfg(target_os = "linux")]
    if let Some(cg) = &cgroup {
        wait_until(Duration::from_secs(1), || !cg.populated() && cg.remove().is_ok());
    }
}

/// SIGTERM everything in the cgroup, wait up to `grace`, `cgroup.kill`, confirm it is empty, and
/// remove it. Returns whether it is empty.
#[cfg(target_os = "linux")]
pub fn end_cgroup(cg: &RunCgroup, grace: Duration) -> bool {
    if cg.populated() {
        if !grace.is_zero() {
            cg.signal_each(Signal::TERM);
            wait_until(grace, || !cg.populated());
        }
        if cg.populated() {
            let _ = cg.kill();
            wait_until(Duration::from_secs(2), || !cg.populated());
        }
    }
    let empty = !cg.populated();
    if empty {
        let _ = cg.remove();
    }
    empty
}

fn wait_until(limit: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    let mut nap = Duration::from_millis(1);
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    }
    true
}

/// Descendants of this process (found through their parents), zombies excluded: as subreaper,
/// what the run orphaned and everything below it.
fn descendants() -> Vec<u32> {
    let me = std::process::id();
    let table: Vec<(u32, super::Facts)> = super::platform::pids()
        .into_iter()
        .filter_map(|pid| Some((pid, super::facts(pid).ok()??)))
        .collect();
    let mut found = vec![me];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            table
                .iter()
                .filter(|(pid, f)| f.ppid == parent && !found.contains(pid))
                .map(|(pid, _)| *pid)
                .collect::<Vec<_>>(),
        );
        i += 1;
    }
    found.retain(|&pid| pid != me);
    found.retain(|&pid| super::facts(pid).ok().flatten().is_some_and(|f| !f.is_zombie()));
    found
}

/// End the supervisor's descendants (the agent has been reaped, so all are orphans it left, and
/// theirs) and reap the orphans that are now our children.
fn end_orphans(grace: Duration) {
    let signal = |sig: Signal| {
        let pinned: Vec<(u32, super::stop::Pinned)> = descendants()
            .into_iter()
            .map(|pid| (pid, super::stop::Pinned::open(pid)))
            .collect();
        // Re-checked after pinning: still below us, so still the run's and not a reused PID.
        let below = descendants();
        for (pid, pin) in &pinned {
            if below.contains(pid) {
                let _ = pin.signal(sig);
            }
        }
    };
    if !descendants().is_empty() {
        if !grace.is_zero() {
            signal(Signal::TERM);
            wait_until(grace, || descendants().is_empty());
        }
        if !descendants().is_empty() {
            signal(Signal::KILL);
            wait_until(Duration::from_secs(2), || descendants().is_empty());
        }
    }
    reap();
}

/// Reap every child that has ended (orphans reparented to us end as our zombies).
fn reap() {
    loop {
        match rustix::process::waitpid(None, rustix::process::WaitOptions::NOHANG) {
            Ok(Some(_)) => continue,
            _ => return,
        }
    }
}
