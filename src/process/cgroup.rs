//! A run's own cgroup (Linux, cgroup v2): the proof that a process is the run's, whatever its
//! session or process group.
//!
//! Invariants:
//! - A process in a cgroup is there because its parent was (a child starts in its parent's cgroup),
//!   or because someone with write access to the cgroup moved it there. A run's cgroup is made for
//!   that run alone (its name holds the run id, never reused) and only the agent is put in it, so
//!   everything in it is the agent or something the agent started — also a tool call that
//!   `setsid()`s away or a daemon that double-forks. That is the proof DESIGN.md asks for before
//!   signalling; nothing outside the cgroup is ever selected through it.
//! - The supervisor stays outside, so ending the cgroup never ends the process that records how
//!   the run ended.
//! - A path read from a record is used only if it is a plain path below the cgroup v2 mount whose
//!   last component is a run cgroup's name (`git-shard-…`): a damaged record cannot point `stop`
//!   at the user's session.
//!
//! Where the cgroup comes from: a child of the supervisor's own cgroup when the supervisor may
//! write there and no systemd manages it (a container as root, or a subtree systemd delegated to
//! the user, marked with the `user.delegate`/`trusted.delegate` attribute); else a transient scope
//! of the systemd user manager (`systemd-run --user --scope`; the system manager as root); else
//! none, and the supervisor contains the run as a subreaper (see `supervisor`).

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use super::contain::Usage;

/// The prefix of every run cgroup's (or scope unit's) name.
pub const PREFIX: &str = "git-shard-";

/// A run's cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCgroup {
    /// As `/proc/<pid>/cgroup` names it (`0::<path>`): relative to the cgroup v2 mount.
    pub path: String,
    dir: PathBuf,
}

/// Where cgroup v2 is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` in hybrid mode).
pub fn mount_point() -> Option<&'static Path> {
    static MOUNT: OnceLock<Option<PathBuf>> = OnceLock::new();
    MOUNT
        .get_or_init(|| {
            let text = fs::read_to_string("/proc/self/mountinfo").ok()?;
            // `36 35 0:30 / /sys/fs/cgroup rw,… shared:9 - cgroup2 cgroup2 rw,…`
            text.lines().find_map(|line| {
                let (fields, fs_part) = line.split_once(" - ")?;
                if fs_part.split(' ').next()? != "cgroup2" {
                    return None;
                }
                Some(PathBuf::from(unescape(fields.split(' ').nth(4)?)))
            })
        })
        .as_deref()
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// The cgroup v2 path of a process (`0::<path>` in `/proc/<pid>/cgroup`).
pub fn of_process(pid: u32) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    text.lines().find_map(|l| l.strip_prefix("0::")).map(str::to_owned)
}

/// Whether systemd manages this machine's cgroups (then only delegated subtrees are ours to change).
fn systemd_manages() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// Whether systemd delegated this cgroup to its owner (it marks such a cgroup with an attribute).
fn delegated(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    ["trusted.delegate", "user.delegate"].iter().any(|attr| {
        let name = std::ffi::CString::new(*attr).expect("no NUL");
        let mut value = [0u8; 8];
        // SAFETY: both strings are NUL-terminated and the buffer's length is passed.
        let n = unsafe { libc::getxattr(path.as_ptr(), name.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        n > 0 && value[0] == b'1'
    })
}

/// The name of a run's cgroup or scope: the prefix, the shard's name (readable in `systemd-cgls`)
/// and the run id, which makes it unique.
pub fn run_name(shard: &str, run_id: &str) -> String {
    let shard: String = shard
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' })
        .collect();
    format!("{PREFIX}{shard}-{run_id}")
}

/// Make a cgroup for a run as a child of this process's own cgroup, where that is allowed.
pub fn create(name: &str) -> io::Result<RunCgroup> {
    let mount = mount_point().ok_or_else(|| io::Error::new(io::ErrorKind::Unsupported, "no cgroup v2 mount"))?;
    let own = of_process(std::process::id())
        .ok_or_else(|| io::Error::new(io::ErrorKind::Unsupported, "no cgroup v2 membership"))?;
    let parent = mount.join(own.trim_start_matches('/'));
    if systemd_manages() && !delegated(&parent) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "systemd manages this cgroup and did not delegate it",
        ));
    }
    fs::create_dir(parent.join(name))?;
    let path = format!("{}/{name}", own.trim_end_matches('/'));
    open(&path).ok_or_else(|| io::Error::other("the new cgroup cannot be opened"))
}

/// The run cgroup at `path` (as recorded), if the path is one and it still exists.
pub fn open(path: &str) -> Option<RunCgroup> {
    let relative = Path::new(path).strip_prefix("/").ok()?;
    let mut last = None;
    for c in relative.components() {
        let Component::Normal(part) = c else { return None };
        last = Some(part);
    }
    if !last?.to_str()?.starts_with(PREFIX) {
        return None;
    }
    let dir = mount_point()?.join(relative);
    dir.join("cgroup.procs").is_file().then(|| RunCgroup {
        path: path.to_owned(),
        dir,
    })
}

impl RunCgroup {
    /// `cgroup.procs`, opened for writing: writing `0` to it moves the writer in. Opened before
    /// `fork` so the child only has to `write(2)` (async-signal-safe) before it execs the agent.
    pub fn procs_for_writing(&self) -> io::Result<fs::File> {
        fs::OpenOptions::new().write(true).open(self.dir.join("cgroup.procs"))
    }

    /// Every process in the cgroup and the cgroups below it.
    pub fn pids(&self) -> Vec<u32> {
        let mut out = Vec::new();
        collect_pids(&self.dir, &mut out);
        out
    }

    /// Whether any process is left in it (`cgroup.events`: `populated 1`).
    pub fn populated(&self) -> bool {
        match fs::read_to_string(self.dir.join("cgroup.events")) {
            Ok(text) => text.lines().any(|l| l == "populated 1"),
            Err(_) => !self.pids().is_empty(),
        }
    }

    /// Whether `pid` is (still) in this cgroup or below it.
    pub fn contains(&self, pid: u32) -> bool {
        of_process(pid).is_some_and(|p| p == self.path || p.starts_with(&format!("{}/", self.path)))
    }

    /// SIGKILL everything in it at once (`cgroup.kill`, Linux 5.14+); on older kernels, each
    /// process in turn, pinned and re-checked to be in the cgroup.
    pub fn kill(&self) -> io::Result<()> {
        match fs::OpenOptions::new().write(true).open(self.dir.join("cgroup.kill")) {
            Ok(mut f) => f.write_all(b"1"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.signal_each(rustix::process::Signal::KILL);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Send `sig` to each process in it, each pinned first and re-checked to be in it.
    pub fn signal_each(&self, sig: rustix::process::Signal) {
        for pid in self.pids() {
            let pinned = super::stop::Pinned::open(pid);
            if self.contains(pid) {
                let _ = pinned.signal(sig);
            }
        }
    }

    /// CPU time, memory and process count, from the cgroup's own accounting.
    pub fn usage(&self) -> Usage {
        let cpu_usec = fs::read_to_string(self.dir.join("cpu.stat")).ok().and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("usage_usec "))
                .and_then(|v| v.trim().parse().ok())
        });
        let memory_bytes = fs::read_to_string(self.dir.join("memory.current"))
            .ok()
            .and_then(|t| t.trim().parse().ok());
        Usage {
            cpu_usec,
            memory_bytes,
            processes: self.pids().len(),
        }
    }

    /// Remove the cgroup once it is empty (a cgroup with processes cannot be removed; the kernel
    /// refuses with EBUSY, which is then left for the next stop or reconciliation).
    pub fn remove(&self) -> io::Result<()> {
        remove_tree(&self.dir)
    }
}

fn collect_pids(dir: &Path, out: &mut Vec<u32>) {
    if let Ok(text) = fs::read_to_string(dir.join("cgroup.procs")) {
        out.extend(text.lines().filter_map(|l| l.trim().parse::<u32>().ok()));
    }
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_pids(&entry.path(), out);
        }
    }
}

fn remove_tree(dir: &Path) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&entry.path())?;
        }
    }
    match fs::remove_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// How to start the agent in a transient scope of the systemd manager, when one is reachable:
/// `systemd-run [--user] --scope …` runs the command in a new scope unit named `name` (it execs
/// the command, so the agent keeps the PID the supervisor spawned). `None` where there is no
/// systemd or no manager for this user.
pub fn systemd_scope(name: &str) -> Option<Vec<String>> {
    if !systemd_manages() {
        return None;
    }
    let program = crate::agent::find_program("systemd-run")?;
    let root = rustix::process::geteuid().is_root();
    let manager = if root {
        PathBuf::from("/run/systemd/private")
    } else {
        PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR")?).join("systemd/private")
    };
    if !manager.exists() {
        return None;
    }
    let mut argv = vec![program.display().to_string()];
    if !root {
        argv.push("--user".into());
    }
    argv.extend(
        ["--scope", "--quiet", "--collect", "--property=Delegate=yes"]
            .iter()
            .map(|s| (*s).to_owned()),
    );
    argv.push(format!("--unit={name}.scope"));
    argv.push("--".into());
    Some(argv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_run_cgroups_below_the_mount_are_opened() {
        for bad in [
            "",
            "user.slice",
            "/user.slice/user-1000.slice",
            "/a/../git-shard-x-1",
            "/git-shard-x-1/..",
            "/./git-shard-x-1",
        ] {
            assert_eq!(open(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn run_names_are_plain() {
        assert_eq!(run_name("fix/login.page", "12-34"), "git-shard-fix-login-page-12-34");
    }

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape("/sys/fs/cgroup\\040x"), "/sys/fs/cgroup x");
    }
}
