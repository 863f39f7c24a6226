//! Linux process facts from `/proc`.
//!
//! Only `/proc/<pid>/stat` of the one process asked about is read: a liveness check never scans the
//! process table. The start time used for identity is field 22 (`starttime`, clock ticks since
//! boot): exact, and unaffected by wall-clock steps, unlike the seconds-since-epoch that tools derive
//! from it.

use std::fs;
use std::io;
use std::sync::OnceLock;

use super::Facts;

/// Parse the text of `/proc/<pid>/stat`.
///
/// The second field (`comm`) is the executable name in parentheses and may itself contain spaces
/// and parentheses (`(a) b (c)`), so the fixed fields are found after the *last* `)`.
pub fn parse_stat(text: &str) -> Option<Facts> {
    let close = text.rfind(')')?;
    let open = text.find('(')?;
    if open > close {
        return None;
    }
    let comm = text[open + 1..close].to_owned();
    let rest: Vec<&str> = text[close + 1..].split_ascii_whitespace().collect();
    // rest[0] is field 3 (state), so field N is rest[N - 3].
    let field = |n: usize| rest.get(n - 3).copied();
    let state = field(3)?.chars().next()?;
    Some(Facts {
        comm,
        state,
        ppid: field(4)?.parse().ok()?,
        pgid: field(5)?.parse().ok()?,
        sid: field(6)?.parse().ok()?,
        start: field(22)?.parse().ok()?,
        cpu_usec: {
            let ticks = field(14)?.parse::<u64>().ok()? + field(15)?.parse::<u64>().ok()?;
            ticks * 1_000_000 / clock_ticks_per_second()
        },
    })
}

/// The unit of the CPU times in `/proc/<pid>/stat`.
fn clock_ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    // SAFETY: sysconf only reads a system setting.
    *TICKS.get_or_init(|| {
        u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) })
            .unwrap_or(100)
            .max(1)
    })
}

/// Facts of one process, `None` when there is no such process.
///
/// Fails when `/proc` is not our PID namespace's (see [`proc_is_ours`]): the PIDs we know (our own,
/// our children's, those in records written here) would name other processes there, and reading
/// their facts would pin an identity on a stranger, which `stop` could then signal.
pub fn facts(pid: u32) -> io::Result<Option<Facts>> {
    if !proc_is_ours() {
        return Err(io::Error::other(
            "/proc here belongs to another PID namespace, so process ids cannot be checked \
             (give this namespace its own /proc, e.g. `unshare --pid --fork --mount-proc`)",
        ));
    }
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(text) => Ok(parse_stat(&text)),
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound) || e.raw_os_error() == Some(libc::ESRCH) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What one `stat` of `/proc/<pid>/fd` tells: its inode number and time (the instance, see
/// [`super::Instance`]), and whether the process has files open. Since Linux 6.2 the folder's
/// size is the count of its open files, and a process closes all of them before it becomes a
/// zombie, so a size above 0 proves it has not exited. A size of 0 proves nothing: an older
/// kernel, or a process that closed every file. `None` when there is no such process or `/proc`
/// is not our namespace's.
pub fn instance(pid: u32) -> Option<(super::Instance, bool)> {
    let mut buf = [0; PROC_PATH];
    instance_at(proc_path(&mut buf, pid, "/fd")?)
}

/// The instance of the `fd` folder that `held` leads to, and whether it is not empty (see
/// [`instance`]).
pub fn held_instance(held: super::Held) -> Option<(super::Instance, bool)> {
    instance_at(std::ffi::CString::new(held.to_string()).ok()?.as_c_str())
}

/// The instance of a `fd` folder at `path` in [`proc_dir`], and whether it is not empty.
fn instance_at(path: &std::ffi::CStr) -> Option<(super::Instance, bool)> {
    if !proc_is_ours() {
        return None;
    }
    let st = rustix::fs::statat(proc_dir()?, path, rustix::fs::AtFlags::empty()).ok()?;
    let made_ns = i128::from(st.st_mtime) * 1_000_000_000 + i128::from(st.st_mtime_nsec);
    Some((super::Instance::new(st.st_ino, made_ns), st.st_size > 0))
}

/// `/proc/<pid>/fd`, opened to be held (see [`super::Held`]). Only a path: nothing is read through
/// it, and it is closed on exec, so the agent and whatever the supervisor runs never get it.
///
/// Held at a number of [`HELD_FD`] or above where the limit allows: a shell trusts
/// `/proc/<supervisor>/fd/<n>/<file>` while it is found, so if the supervisor were killed and its
/// PID taken by another process, that process would have to have a folder open at that very number,
/// which the kernel hands out lowest first (a process reaches 1000 only with a thousand files open,
/// or by asking for it). Not higher: the kernel makes a process's table of files as large as its
/// highest number.
pub fn hold(pid: u32) -> Option<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    if !proc_is_ours() {
        return None;
    }
    let mut buf = [0; PROC_PATH];
    let path = proc_path(&mut buf, pid, "/fd")?;
    let fd = rustix::fs::openat(
        proc_dir()?,
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    Some(rustix::io::fcntl_dupfd_cloexec(&fd, HELD_FD).unwrap_or(fd))
}

/// The lowest number [`hold`] puts its descriptor at: below the usual limit of 1024 open files.
const HELD_FD: i32 = 1000;

/// The first of the standard files (0, 1, 2) whose entry `held` leads to: `/proc/<held>/<n>`,
/// not followed (what it names, a terminal or a log file, is never touched). `None` as well where
/// the folder may not be searched: an agent that made itself non-dumpable (`PR_SET_DUMPABLE`, as
/// programs hardened against ptrace do, or anything setuid) has its `fd` folder owned by root.
pub fn held_entry(held: super::Held) -> Option<u32> {
    if !proc_is_ours() {
        return None;
    }
    let dir = proc_dir()?;
    (0..=2).find(|n| {
        std::ffi::CString::new(format!("{held}/{n}"))
            .is_ok_and(|path| rustix::fs::statat(dir, &path, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).is_ok())
    })
}

/// Whether `/proc/<pid>/exe` leads to a file: not for a zombie (its memory, with the executable,
/// is gone), nor for a process we may not inspect.
pub fn has_exe(pid: u32) -> bool {
    let mut buf = [0; PROC_PATH];
    proc_dir()
        .zip(proc_path(&mut buf, pid, "/exe"))
        .is_some_and(|(dir, path)| rustix::fs::statat(dir, path, rustix::fs::AtFlags::empty()).is_ok())
}

/// `/proc`, opened once per process: the prompt looks up an entry of every running agent in it,
/// and a lookup from the folder skips walking `/` and `/proc` (7 % of each `stat`, measured).
fn proc_dir() -> Option<std::os::fd::BorrowedFd<'static>> {
    static PROC: OnceLock<Option<std::os::fd::OwnedFd>> = OnceLock::new();
    PROC.get_or_init(|| {
        use rustix::fs::{Mode, OFlags};
        rustix::fs::open(
            "/proc",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()
    })
    .as_ref()
    .map(std::os::fd::AsFd::as_fd)
}

/// Room for `<pid><tail>` and its NUL.
const PROC_PATH: usize = 48;

/// `<pid><tail>`, a path in [`proc_dir`], as a C string in `buf`: the prompt proves every running
/// agent with one of these at every prompt, so no allocation, and the digits are written by hand
/// (`write!` cost 600 instructions a path, a fifth of the prompt with 125 agents running).
fn proc_path<'b>(buf: &'b mut [u8; PROC_PATH], pid: u32, tail: &str) -> Option<&'b std::ffi::CStr> {
    let mut digits = [0u8; 10];
    let (mut n, mut first) = (pid, digits.len());
    loop {
        first -= 1;
        digits[first] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut len = 0;
    for part in [&digits[first..], tail.as_bytes(), b"\0"] {
        buf.get_mut(len..len + part.len())?.copy_from_slice(part);
        len += part.len();
    }
    std::ffi::CStr::from_bytes_with_nul(&buf[..len]).ok()
}

/// Whether the mounted `/proc` shows our PID namespace. After `unshare --pid` without a fresh
/// mount of `/proc` (or in a container sharing the host's), `/proc` still shows the outer
/// namespace, where the numbers `getpid()` and `Child::id()` give us belong to other processes.
/// `/proc/self` names us by the PID of the namespace `/proc` shows. Read once per process.
fn proc_is_ours() -> bool {
    static OURS: OnceLock<bool> = OnceLock::new();
    *OURS.get_or_init(|| {
        fs::read_link("/proc/self")
            .ok()
            .and_then(|p| p.to_str()?.parse::<u32>().ok())
            == Some(std::process::id())
    })
}

/// This boot's id: a PID and start ticks from another boot denote nothing on this one.
pub fn boot_id() -> &'static str {
    static BOOT: OnceLock<String> = OnceLock::new();
    BOOT.get_or_init(|| {
        fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    })
}

/// Every PID (a scan of the process table: for `stop` and `rm`, never for status).
pub fn pids() -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .collect()
}

/// The working directory of a process, when we may read it.
pub fn cwd(pid: u32) -> Option<std::path::PathBuf> {
    fs::read_link(format!("/proc/{pid}/cwd")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAIL: &str = " 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 1000 10";

    #[test]
    fn proc_paths_are_written_digit_by_digit() {
        let mut buf = [0; PROC_PATH];
        for (pid, tail) in [(0, ""), (7, "/exe"), (10, ""), (4_194_304, "/exe"), (u32::MAX, "/stat")] {
            let path = proc_path(&mut buf, pid, tail).unwrap();
            assert_eq!(path.to_str().unwrap(), format!("{pid}{tail}"));
        }
        assert!(
            proc_path(&mut buf, 1, &"x".repeat(PROC_PATH)).is_none(),
            "too long: no path"
        );
    }

    #[test]
    fn parses_plain_comm() {
        let f = parse_stat(&format!("123 (sleep) S 1 120 100 34816 120{TAIL}")).unwrap();
        assert_eq!(
            (f.comm.as_str(), f.state, f.pgid, f.sid, f.start),
            ("sleep", 'S', 120, 100, 4242)
        );
    }

    #[test]
    fn parses_comm_with_spaces_and_parentheses() {
        for comm in ["a b", "x) S 9 9 9 (y", ")(", "((", "))) R 1 2 3", ""] {
            let f = parse_stat(&format!("77 ({comm}) Z 5 6 7 0 0{TAIL}")).unwrap();
            assert_eq!(
                (f.comm.as_str(), f.state, f.pgid, f.sid, f.start),
                (comm, 'Z', 6, 7, 4242)
            );
        }
    }

    #[test]
    fn refuses_truncated() {
        assert!(parse_stat("1 (x) S 1 2").is_none());
        assert!(parse_stat("garbage").is_none());
        assert!(parse_stat("1 )x( S 1 2 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 9").is_none());
    }

    #[test]
    fn reads_this_process() {
        let me = facts(std::process::id()).unwrap().unwrap();
        assert!(!me.is_zombie());
        assert!(me.start > 0);
        assert!(!boot_id().is_empty());
    }
}
