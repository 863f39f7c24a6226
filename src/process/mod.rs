//! Processes: identity, liveness, stopping a process tree, and the supervisor.
//!
//! # Why a PID alone is not an identity
//! PIDs are reused: once our agent has exited, the same number may denote an editor, a shell or
//! PID 1's neighbour. Killing "the PID we recorded" is how other tools end up killing the wrong
//! process. A run's identity is therefore the triple (PID, start value, boot id):
//! - the start value is the kernel's own start time of the process (Linux: clock ticks since boot
//!   from `/proc/<pid>/stat`; macOS: microseconds from `proc_pidinfo`), exact and immune to clock
//!   steps, so a reused PID has a different one;
//! - the boot id makes values from an earlier boot meaningless on this one.
//!
//! A PID denotes our run only while the process exists, is not a zombie, and both values match.
//! Start ticks count 1/100 s, so two processes may share a value; they never share a PID within
//! one tick, because a PID is only reused after the kernel has cycled through the PID space.
//! Nothing in this crate signals a process without checking that first (see [`stop`]).
//!
//! This module knows nothing of git or of the command line.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as platform;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos as platform;

#[cfg(target_os = "linux")]
pub mod cgroup;
pub mod contain;
pub mod gate;
pub mod handoff;
pub mod info;
pub mod stop;
pub mod supervisor;

use std::io;

/// The facts of one process that identity and status are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Short command name (informative only: it changes at `exec`).
    pub comm: String,
    /// Kernel state letter; `Z` (zombie) and `X` (dead) mean the process has ended.
    pub state: char,
    /// The parent: after an orphan is reparented, the subreaper (see `supervisor`) or init.
    pub ppid: u32,
    pub pgid: u32,
    pub sid: u32,
    /// The start value used for identity (see the module docs).
    pub start: u64,
    /// CPU time used so far, in microseconds (user + system; 0 where the platform does not say).
    pub cpu_usec: u64,
}

impl Facts {
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// What proves that a PID still denotes the process we started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub pid: u32,
    pub start_ticks: u64,
    pub boot_id: String,
}

/// An identity captured from a live process, with its group and session.
#[derive(Debug, Clone)]
pub struct Captured {
    pub identity: Identity,
    pub pgid: u32,
    pub sid: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// The PID denotes our process and it has not ended.
    Alive,
    /// No such process, or only its zombie is left.
    Gone,
    /// The PID exists but denotes another process (or comes from another boot).
    Reused,
}

/// Facts of one process; `Ok(None)` when there is none.
pub fn facts(pid: u32) -> io::Result<Option<Facts>> {
    platform::facts(pid)
}

pub fn boot_id() -> &'static str {
    platform::boot_id()
}

/// Capture the identity of a process that exists now (even as a zombie: a child we have not reaped
/// yet still has its start value).
pub fn capture(pid: u32) -> io::Result<Captured> {
    let f = facts(pid)?.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no process {pid}")))?;
    Ok(Captured {
        identity: Identity {
            pid,
            start_ticks: f.start,
            boot_id: boot_id().to_owned(),
        },
        pgid: f.pgid,
        sid: f.sid,
    })
}

/// Compare the facts found under a PID with an identity.
pub fn judge(id: &Identity, found: Option<&Facts>) -> Liveness {
    if id.boot_id != boot_id() {
        // A PID from another boot denotes nothing we started; whatever has it now is not ours.
        return match found {
            Some(_) => Liveness::Reused,
            None => Liveness::Gone,
        };
    }
    match found {
        None => Liveness::Gone,
        Some(f) if f.start != id.start_ticks => Liveness::Reused,
        Some(f) if f.is_zombie() => Liveness::Gone,
        Some(_) => Liveness::Alive,
    }
}

/// Is this identity alive? Reads one process entry, never the process table.
pub fn check(id: &Identity) -> Liveness {
    match facts(id.pid) {
        Ok(found) => judge(id, found.as_ref()),
        // Unreadable (e.g. hidepid): we cannot prove it is ours, so it is not treated as alive.
        Err(_) => Liveness::Reused,
    }
}

/// An instance of `/proc/<pid>/fd`: the inode number the kernel gave that entry when it was
/// looked up, and the time it did (an entry's times are set then and never change), which it
/// keeps while the process lives (and the entry stays cached). A process that takes the PID later
/// gets fresh entries, made later, with fresh inodes (the old ones fail revalidation, as their
/// PID has no task), so an equal instance proves the same process; a different one proves nothing
/// (the entry may only have been evicted) and is answered by a full check. Inode numbers come from
/// one 32-bit counter shared with every pipe and socket, which wraps: the time makes an equal
/// number that came round again a different instance. Written `<ino>:<nanoseconds>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instance {
    ino: u64,
    made_ns: i128,
}

impl Instance {
    pub fn new(ino: u64, made_ns: i128) -> Instance {
        Instance { ino, made_ns }
    }
}

impl std::fmt::Display for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.ino, self.made_ns)
    }
}

impl std::str::FromStr for Instance {
    type Err = ();
    fn from_str(s: &str) -> Result<Instance, ()> {
        let (ino, made) = s.split_once(':').ok_or(())?;
        Ok(Instance::new(
            ino.parse().map_err(|_| ())?,
            made.parse().map_err(|_| ())?,
        ))
    }
}

/// [`check`], also noting the instance of `/proc/<pid>/fd`, taken *before* the check: a process
/// that took the PID after the check gets another instance, so a later [`still_alive`] cannot
/// vouch for it.
pub fn check_noting(id: &Identity) -> (Liveness, Option<Instance>) {
    let instance = platform::instance(id.pid).map(|(instance, _)| instance);
    let liveness = check(id);
    (liveness, instance.filter(|_| liveness == Liveness::Alive))
}

/// Whether the run noted as `instance` by [`check_noting`] (then alive) is alive still, proven
/// more cheaply than by [`check`] (one `stat` instead of reading and parsing `/proc/<pid>/stat`):
/// `/proc/<pid>/fd` is the same instance, so the process that holds the PID has held it since that
/// check, and it has files open, which a zombie has not (Linux 6.2 and later show the count as the
/// folder's size). Where the size is 0 (an older kernel, a process that closed every file),
/// `/proc/<pid>/exe` is followed as well, which a zombie's cannot be. The prompt proves every
/// running agent this way at every prompt: following `exe` as well cost 2.5 µs more per agent on a
/// virtual machine, two thirds of the check. The entry that showed it has not exited (`fd` or
/// `exe`, as [`alive_entry`] names it); `None` means "not proven": ask [`check`].
pub fn still_alive(pid: u32, boot: &str, instance: Instance) -> Option<&'static str> {
    if boot != boot_id() {
        return None;
    }
    match platform::instance(pid)? {
        (now, _) if now != instance => None,
        (_, true) => Some("fd"),
        (_, false) => platform::has_exe(pid).then_some("exe"),
    }
}

/// A supervisor's descriptor of its agent's `/proc/<pid>/fd` folder, held open while the agent
/// runs (`ProcessRecord::supervisor_proc_fd`). The kernel ties such a descriptor to the process,
/// not to its PID: once that process has exited, nothing can be looked up through it, even after
/// another process took the PID. So `/proc/<supervisor>/fd/<fd>/<n>`, the entry of one of the
/// agent's open files, exists only while this very agent has not exited (a zombie has no files
/// open): one lookup proves both that it is the same process and that it is alive, where the PID
/// alone needs a second one for the first (see `stamps` in `commands::prompt`). It rests on the
/// supervisor being the one that opened it: [`held_proof`] vouches for it only after comparing
/// where it leads with the run's proven [`Instance`], and the shell then trusts it until the
/// entry is gone. The one hole: the supervisor killed with its agent, and before the next prompt
/// another process takes the supervisor's PID with a folder open at that very number that has an
/// entry of that name. The supervisor holds it at 1000 or above so that it takes a thousand open
/// files or a deliberate choice, which another supervisor makes: one that took the dead one's PID
/// (the PID counter having wrapped around since) would pass. Written as that path below `/proc`,
/// `<supervisor>/fd/<fd>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub supervisor: u32,
    pub fd: u32,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/fd/{}", self.supervisor, self.fd)
    }
}

impl std::str::FromStr for Held {
    type Err = ();
    fn from_str(s: &str) -> Result<Held, ()> {
        let (supervisor, fd) = s.split_once("/fd/").ok_or(())?;
        Ok(Held {
            supervisor: supervisor.parse().map_err(|_| ())?,
            fd: fd.parse().map_err(|_| ())?,
        })
    }
}

/// Mark every descriptor this process has above standard error close-on-exec, so that what it
/// starts to outlive it (a supervisor and its agent, a terminal, what setup leaves running) does
/// not keep what the caller left open: a command substitution's or a build's pipe (`x=$(git shard
/// new … 3>&1)`, make's jobserver) would otherwise not see its end until the agent exits, and the
/// caller would wait for it. Ours are close-on-exec already; this reaches the ones we inherited.
/// Spared: the one kitty names in `KITTY_LISTEN_ON=fd:<n>`, its remote control, which the kitty
/// template's `kitten @` needs. Where the list of open descriptors cannot be read, nothing is
/// changed.
pub fn close_inherited_on_exec() {
    let kitty = std::env::var("KITTY_LISTEN_ON")
        .ok()
        .and_then(|v| v.strip_prefix("fd:")?.parse::<i32>().ok());
    let dir = if cfg!(target_os = "linux") {
        "/proc/self/fd"
    } else {
        "/dev/fd"
    };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let fds: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    for fd in fds.into_iter().filter(|&fd| fd > 2 && Some(fd) != kitty) {
        // SAFETY: F_GETFD/F_SETFD only change a flag of the number; one that is no longer open
        // (the listing's own, closed once read) fails with EBADF and is left alone.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

/// Open `/proc/<pid>/fd` to hold (see [`Held`]): by the supervisor, for its own child, which
/// nobody else can reap, so the PID is still the child's. `None` where there is no `/proc`.
pub fn hold(pid: u32) -> Option<std::os::fd::OwnedFd> {
    platform::hold(pid)
}

/// What proves to a shell, through [`Held`], that the process proven as an [`Instance`] has not
/// exited: a path below `/proc` it finds (or finds not empty) only while that holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldProof {
    /// `<held>/<n>`, looked up: the entry of the first of its standard files (0, 1, 2) it has
    /// open, which an agent keeps for its life. Shown on every kernel, and a lookup costs a shell
    /// no more than a `stat` (fish 3.6: 2.0–2.4 against 2.5–3.0 µs per run for `-s`).
    Entry(u32),
    /// `<held>` itself, not empty (`-s`): where its entries may not be looked up (a non-dumpable
    /// agent's folder belongs to root) or none of the three is open, but the kernel shows the
    /// count of open files as the folder's size (Linux 6.2 and later), none for a zombie.
    Folder,
}

/// How `held` proves to a shell that the process proven as `instance` has not exited. `None`
/// where `held` leads elsewhere or nowhere (the supervisor gone, a kernel that hides the folder)
/// or neither proof holds: then the shell proves the run by its PID.
pub fn held_proof(held: Held, instance: Instance) -> Option<HeldProof> {
    let (now, not_empty) = platform::held_instance(held)?;
    if now != instance {
        return None;
    }
    match platform::held_entry(held) {
        Some(n) => Some(HeldProof::Entry(n)),
        None => not_empty.then_some(HeldProof::Folder),
    }
}

/// The entry of `/proc/<pid>` that a shell's `-s` (exists and is not empty) finds only while the
/// process has not exited: `fd` where the kernel shows how many files it has open (a zombie has
/// none), else `exe` (a zombie's cannot be followed). The shell integration tests it at every
/// prompt; `fd` costs less, as `exe` is followed to the executable.
pub fn alive_entry(pid: u32) -> &'static str {
    match platform::instance(pid) {
        Some((_, true)) => "fd",
        _ => "exe",
    }
}

/// Processes in the group `pgid` or in the session `sid`, zombies excluded. Scans the process
/// table: for `stop` only, never for status.
///
/// A group or session id of 0 selects nothing: inside a PID namespace (a container, a CI sandbox)
/// every group and session whose leader lives outside it reads as 0, so "members of 0" would be
/// half the machine, including the user's shell.
pub fn members(pgid: u32, sid: Option<u32>) -> Vec<(u32, Facts)> {
    let sid = sid.filter(|&s| s != 0);
    platform::pids()
        .into_iter()
        .filter_map(|pid| Some((pid, facts(pid).ok()??)))
        .filter(|(_, f)| !f.is_zombie() && ((pgid != 0 && f.pgid == pgid) || Some(f.sid) == sid))
        .collect()
}

/// Live processes whose working directory is inside `dir`: after `stop`, these are processes that
/// left the run's group and session (`setsid`, a daemon) and still use the worktree. They are
/// reported, never signalled: nothing proves they are the run's. Scans the process table.
/// Processes of the caller's own session (the user's shell sitting in the worktree, say) are not
/// counted.
pub fn working_in(dir: &std::path::Path) -> Vec<(u32, String)> {
    let my_session = facts(std::process::id()).ok().flatten().map(|f| f.sid);
    platform::pids()
        .into_iter()
        .filter(|&pid| platform::cwd(pid).is_some_and(|cwd| cwd.starts_with(dir)))
        .filter_map(|pid| {
            let f = facts(pid).ok()??;
            (!f.is_zombie() && Some(f.sid) != my_session).then_some((pid, f.comm))
        })
        .collect()
}

/// Restore the default SIGPIPE action (Rust ignores it), so that writing to a closed pipe ends the
/// process quietly, as every Unix filter does, instead of failing with an error.
pub fn restore_sigpipe() {
    // SAFETY: setting a signal's disposition to its default installs no handler code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pid`'s folder held by this process, as a supervisor holds its agent's.
    fn held_here(pid: u32) -> (std::os::fd::OwnedFd, Held) {
        let kept = hold(pid).expect("the folder held");
        let fd = std::os::fd::AsRawFd::as_raw_fd(&kept) as u32;
        (
            kept,
            Held {
                supervisor: std::process::id(),
                fd,
            },
        )
    }

    /// A `sleep 30` with every descriptor closed, then `/dev/null` open at `fd` if given.
    fn sleep_holding(fd: Option<libc::c_int>) -> std::process::Child {
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("30");
        // SAFETY: between fork and exec only close, open and dup2, which are async-signal-safe.
        // std's pipe that reports a failed exec goes too: the spawn then reads as a success,
        // which the callers' `capture` would contradict.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                for n in 0..4096 {
                    libc::close(n);
                }
                if let Some(fd) = fd {
                    let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
                    libc::dup2(null, fd);
                    libc::close(null);
                }
                Ok(())
            });
        }
        cmd.spawn().unwrap()
    }

    /// Whether `pred` holds within two seconds.
    fn soon(pred: impl Fn() -> bool) -> bool {
        for _ in 0..200 {
            if pred() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        false
    }

    #[test]
    fn own_identity_is_alive_and_a_changed_start_is_reuse() {
        let me = capture(std::process::id()).unwrap();
        assert_eq!(check(&me.identity), Liveness::Alive);
        let mut other = me.identity.clone();
        other.start_ticks += 1;
        assert_eq!(check(&other), Liveness::Reused);
        let mut other_boot = me.identity.clone();
        other_boot.boot_id = "another-boot".into();
        assert_eq!(check(&other_boot), Liveness::Reused);
    }

    #[test]
    fn reaped_child_is_gone_and_unreaped_exit_is_a_zombie() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let id = capture(child.id()).unwrap().identity;
        // Until we reap it, the exited child stays a zombie with its identity intact.
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(check(&id), Liveness::Gone);
        child.wait().unwrap();
        assert_eq!(check(&id), Liveness::Gone);
    }

    #[test]
    fn still_alive_holds_for_the_same_process_and_not_for_its_zombie() {
        use std::process::{Command, Stdio};
        // Alive until its stdin closes; then, never waited for, a zombie.
        let mut child = Command::new("sh")
            .args(["-c", "read x"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let id = capture(child.id()).unwrap().identity;
        let (liveness, instance) = check_noting(&id);
        assert_eq!(liveness, Liveness::Alive);
        let Some(instance) = instance else {
            eprintln!("no /proc here: nothing to prove cheaply");
            drop(child.stdin.take());
            child.wait().unwrap();
            return;
        };
        assert_eq!(still_alive(id.pid, &id.boot_id, instance), Some(alive_entry(id.pid)));
        let other = |ino, made_ns| Instance { ino, made_ns };
        let another = [
            other(instance.ino + 1, instance.made_ns),
            other(instance.ino, instance.made_ns + 1),
        ];
        for another in another {
            assert_eq!(still_alive(id.pid, &id.boot_id, another), None, "another instance");
        }
        assert_eq!(instance.to_string().parse(), Ok(instance));
        assert_eq!(still_alive(id.pid, "another-boot", instance), None, "another boot");
        // Linux 6.2 and later show how many files a process has open.
        let counts = std::fs::metadata("/proc/self/fd").is_ok_and(|m| m.len() > 0);
        // Its folder held, as a supervisor holds its agent's: it leads to this very process.
        let (_kept, held) = held_here(id.pid);
        assert_eq!(held.to_string().parse(), Ok(held));
        // What the shell looks up: `/proc/<held>/0`, its standard input's entry, on every kernel.
        let through = || std::fs::symlink_metadata(format!("/proc/{held}/0")).is_ok();
        assert_eq!(held_proof(held, instance), Some(HeldProof::Entry(0)));
        assert!(through());
        for another in another {
            assert_eq!(held_proof(held, another), None, "it leads to another instance");
        }
        assert_eq!(alive_entry(id.pid), if counts { "fd" } else { "exe" });
        drop(child.stdin.take());
        assert!(
            soon(|| facts(id.pid).unwrap().is_some_and(|f| f.is_zombie())),
            "the child exited"
        );
        assert_eq!(
            still_alive(id.pid, &id.boot_id, instance),
            None,
            "a zombie is not alive"
        );
        assert_eq!(alive_entry(id.pid), "exe", "a zombie has no open files to show");
        assert!(!through(), "the shell's test fails for a zombie");
        assert_eq!(held_proof(held, instance), None, "a zombie");
        child.wait().unwrap();
        assert_eq!(still_alive(id.pid, &id.boot_id, instance), None, "reaped");
        assert_eq!(held_proof(held, instance), None, "reaped");
        assert!(!through(), "reaped: nothing to look up");

        // A live process with no file open shows a size of 0: proven by its `exe` instead.
        let mut bare = sleep_holding(None);
        // The spawn returns as the child closes std's pipe, before it has closed the rest, and
        // `sleep` opens (and closes) its libraries and locale files once it runs: until it
        // sleeps, it may hold files.
        let idle = |pid| facts(pid).unwrap().is_some_and(|f| f.comm == "sleep" && f.state == 'S');
        let bare_of_files = || idle(bare.id()) && platform::instance(bare.id()).is_some_and(|(_, open)| !open);
        assert!(soon(bare_of_files), "sleep runs with no file open");
        let id = capture(bare.id()).unwrap().identity;
        let (liveness, instance) = check_noting(&id);
        assert_eq!(liveness, Liveness::Alive);
        assert_eq!(
            still_alive(id.pid, &id.boot_id, instance.unwrap()),
            Some("exe"),
            "alive without files"
        );
        assert_eq!(alive_entry(id.pid), "exe");
        // Held, it has no standard file's entry to show: the shell is given its PID instead.
        let (_kept, held) = held_here(id.pid);
        assert_eq!(held_proof(held, instance.unwrap()), None, "no file open");
        bare.kill().unwrap();
        bare.wait().unwrap();

        // Files open, but none of the standard three: the folder itself, where its size counts
        // them (what a non-dumpable agent, whose entries may not be looked up, is proven by).
        let mut odd = sleep_holding(Some(5));
        assert!(soon(|| idle(odd.id())), "sleep runs");
        let id = capture(odd.id()).unwrap().identity;
        let (_, instance) = check_noting(&id);
        let (_kept, held) = held_here(id.pid);
        let folder = counts.then_some(HeldProof::Folder);
        assert_eq!(held_proof(held, instance.unwrap()), folder, "only fd 5 open");
        odd.kill().unwrap();
        odd.wait().unwrap();
        assert_eq!(held_proof(held, instance.unwrap()), None, "reaped");
    }

    #[test]
    fn id_zero_selects_no_members() {
        // Kernel threads (and, inside a PID namespace, everything whose group or session leader
        // is outside it) read as group 0 / session 0: they must never count as a run's members.
        assert_eq!(members(0, Some(0)), Vec::new());
        // A real group still selects: our own.
        let me = facts(std::process::id()).unwrap().unwrap();
        if me.pgid != 0 {
            assert!(members(me.pgid, None).iter().any(|(pid, _)| *pid == std::process::id()));
        }
    }
}
