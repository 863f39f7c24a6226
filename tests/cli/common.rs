//! Hermetic test repositories and a runner for the built binary.
//!
//! Every repository lives in its own temp folder with its own HOME and XDG config, git reads no
//! user or system configuration, and authors and dates are fixed. Agents started by a test are
//! stopped when the repository is dropped, even when the test failed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_git-shard");

pub struct TestRepo {
    pub tmp: TempDir,
    /// The main worktree.
    pub root: PathBuf,
}

/// The programs of git-shard's agent presets, and the forge CLIs `pr` uses: a test must not find
/// the developer's own.
const AGENT_PROGRAMS: &[&str] = &[
    "gh",
    "glab",
    "claude",
    "codex",
    "gemini",
    "aider",
    "opencode",
    "amp",
    "goose",
    "cursor-agent",
    "copilot",
    "kiro-cli",
];

/// The test process's PATH with the agent programs hidden: each folder that holds one is replaced
/// by a mirror of links to everything else in it (so git, tmux and the shells are the same ones).
/// Made once per test binary.
pub fn test_path() -> &'static std::ffi::OsStr {
    static PATH: std::sync::OnceLock<std::ffi::OsString> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let original = std::env::var_os("PATH").unwrap_or_default();
        // Named after the PATH, so runs share one set of mirrors instead of leaving one each.
        let key = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            original.hash(&mut h);
            h.finish()
        };
        let mirrors = std::env::temp_dir().join(format!("git-shard-test-path-{key:016x}"));
        let dirs: Vec<PathBuf> = std::env::split_paths(&original)
            .enumerate()
            .map(|(i, dir)| {
                if !AGENT_PROGRAMS.iter().any(|p| dir.join(p).exists()) {
                    return dir;
                }
                let mirror = mirrors.join(i.to_string());
                fs::create_dir_all(&mirror).unwrap();
                // A mirror made by an earlier run, when the list was shorter, may link one.
                for program in AGENT_PROGRAMS {
                    let _ = fs::remove_file(mirror.join(program));
                }
                for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let name = entry.file_name();
                    if !AGENT_PROGRAMS.iter().any(|p| name == *p) {
                        let _ = std::os::unix::fs::symlink(entry.path(), mirror.join(&name));
                    }
                }
                mirror
            })
            .collect();
        std::env::join_paths(dirs).unwrap()
    })
}

/// Environment shared by git and git-shard in tests.
pub fn hermetic(cmd: &mut Command, home: &Path) {
    // The prompt's private folder, the test's own: no test sees another's kept files and stamps.
    let run = private_runtime_dir(home);
    cmd.env_clear()
        .env("XDG_RUNTIME_DIR", run)
        .env("PATH", test_path())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("NO_COLOR", "1")
        .env("SHELL", "/bin/sh")
        .env("LANG", "C.UTF-8")
        // No ssh of the developer's: OpenSSH reads `~/.ssh/config` from the passwd entry, not
        // $HOME, so a configured host would reach their machines. Tests that mean to reach a
        // host give their own (the test's sshd).
        .env("GIT_SHARD_SSH", "false");
}

/// `$XDG_RUNTIME_DIR` of the tests using `home` (made here, private as a login's is).
pub fn private_runtime_dir(home: &Path) -> PathBuf {
    use std::os::unix::fs::DirBuilderExt;
    let run = home.join(".run");
    let _ = fs::DirBuilder::new().recursive(true).mode(0o700).create(&run);
    run
}

impl TestRepo {
    /// A repository with one commit on `main`.
    pub fn new() -> TestRepo {
        TestRepo::named("repo")
    }

    /// A repository with one commit on `main`, in a folder called `folder`.
    pub fn named(folder: &str) -> TestRepo {
        let tmp = tempfile::Builder::new().prefix("git-shard-test-").tempdir().unwrap();
        let root = tmp.path().join(folder);
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(tmp.path().join("home")).unwrap();
        let repo = TestRepo { tmp, root };
        repo.git(&["init", "-q", "-b", "main"]);
        fs::write(repo.root.join("README"), "hello\n").unwrap();
        fs::write(repo.root.join(".gitignore"), "*.ignored\n").unwrap();
        repo.git(&["add", "."]);
        repo.git(&["commit", "-q", "-m", "initial"]);
        repo
    }

    pub fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    pub fn common_dir(&self) -> PathBuf {
        self.root.join(".git")
    }

    pub fn shards_dir(&self) -> PathBuf {
        let folder = self.root.file_name().unwrap().to_string_lossy();
        self.tmp.path().join(format!("{folder}.shards"))
    }

    /// Write the user-level configuration file (what `$XDG_CONFIG_HOME/git-shard/config.toml` is).
    pub fn user_config(&self, text: &str) {
        let dir = self.home().join(".config/git-shard");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("config.toml"), text).unwrap();
    }

    pub fn record_path(&self, name: &str) -> PathBuf {
        self.common_dir().join("shards").join(format!("{name}.toml"))
    }

    /// Run git in `dir` as the test's user, whatever it answers.
    pub fn git_output_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new("git");
        hermetic(&mut cmd, &self.home());
        cmd.args(args).current_dir(dir).output().unwrap()
    }

    /// Run git in `dir`; panics on failure.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_output_in(dir, args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.root, args)
    }

    pub fn command_in(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        hermetic(&mut cmd, &self.home());
        cmd.args(args).current_dir(dir).stdin(Stdio::null());
        cmd
    }

    /// Start git-shard in the main worktree as a shell starts a job: in a process group of its
    /// own, so that a test can kill the whole group (git-shard and the git it runs), as a closed
    /// terminal or the OOM killer would. `path` replaces PATH when given.
    pub fn spawn_job(&self, args: &[&str], path: Option<&str>) -> std::process::Child {
        use std::os::unix::process::CommandExt;
        let mut cmd = self.command_in(&self.root, args);
        if let Some(path) = path {
            cmd.env("PATH", path);
        }
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap()
    }

    /// Run git-shard in the main worktree.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command_in(&self.root, args).output().unwrap()
    }

    /// Run git-shard and assert success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded(args, self.run(args))
    }

    /// Run git-shard and assert it failed with exit code 1; returns stderr.
    pub fn refused(&self, args: &[&str]) -> String {
        refused(args, self.run(args))
    }

    pub fn list(&self) -> Vec<Value> {
        match serde_json::from_str(&self.ok(&["list", "--json"])).unwrap() {
            Value::Array(v) => v,
            other => panic!("list --json is not an array: {other}"),
        }
    }

    pub fn shard(&self, name: &str) -> Value {
        serde_json::from_str(&self.ok(&["status", "--json", name])).unwrap()
    }

    /// Poll `status --json` until `pred` holds (panics after 10 s).
    pub fn wait_for(&self, name: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.shard(name);
            if pred(&v) {
                return v;
            }
            if Instant::now() >= deadline {
                // The supervisor's own messages (background runs) say what it was doing.
                let log = fs::read_to_string(self.common_dir().join("shards").join(format!("{name}.log")));
                panic!("timed out waiting for {what}: {v:#}\nlog: {log:?}");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn branches(&self) -> Vec<String> {
        self.git(&["branch", "--format=%(refname:short)"])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Paths of git's worktrees, main first.
    pub fn worktrees(&self) -> Vec<String> {
        self.git(&["worktree", "list", "--porcelain"])
            .lines()
            .filter_map(|l| l.strip_prefix("worktree "))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for TestRepo {
    fn drop(&mut self) {
        // Never leave agents behind, whatever the test did.
        let Ok(out) = self.command_in(&self.root, &["list", "--json"]).output() else {
            return;
        };
        let Ok(Value::Array(shards)) = serde_json::from_slice(&out.stdout) else {
            return;
        };
        for s in shards {
            if s["status"] == "running" {
                let name = s["name"].as_str().unwrap_or_default().to_owned();
                let _ = self.command_in(&self.root, &["stop", "--grace", "0", &name]).output();
            }
        }
        // Ends what runs whose supervisor a test killed left in their cgroups, and removes those.
        let _ = self.command_in(&self.root, &["reconcile", "--quiet"]).output();
    }
}

/// The stdout of a run of `git-shard <args>` that must have succeeded.
pub fn succeeded(args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "git-shard {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The stderr of a run of `git-shard <args>` that must have been refused (exit code 1).
pub fn refused(args: &[&str], out: Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "git-shard {args:?} should have been refused:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// Facts from /proc/<pid>/stat: (comm, state, ppid, pgid, sid), or None when there is no process.
pub fn proc_stat(pid: u32) -> Option<(String, char, u32, u32, u32)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
    Some((
        text[open + 1..close].to_owned(),
        rest[0].chars().next()?,
        rest[1].parse().ok()?,
        rest[2].parse().ok()?,
        rest[3].parse().ok()?,
    ))
}

/// Is `pid` a live process (zombies are not)?
pub fn alive(pid: u32) -> bool {
    matches!(proc_stat(pid), Some((_, state, ..)) if state != 'Z' && state != 'X')
}

/// Live (non-zombie) processes of a session.
pub fn session_members(sid: u32) -> Vec<u32> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| matches!(proc_stat(pid), Some((_, st, _, _, s)) if s == sid && st != 'Z'))
        .collect()
}

/// Wait up to 10 s for `pred`.
pub fn eventually(what: &str, pred: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Send `signal` (a name: `KILL`, `INT`, …) to the process group `pgid`; whether it was sent.
pub fn kill_group(pgid: u32, signal: &str) -> bool {
    // `kill -9 -<pgid>` would read the group as a second signal option.
    Command::new("kill")
        .args(["-s", signal, "--", &format!("-{pgid}")])
        .status()
        .is_ok_and(|s| s.success())
}

/// Live processes whose command line is exactly `cmdline` (arguments joined by spaces): how a
/// test finds the processes it started, by a `sleep` argument nothing else on the machine has.
pub fn processes_running(cmdline: &str) -> Vec<u32> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").trim_end() == cmdline)
                && alive(*pid)
        })
        .collect()
}

pub fn kill(pid: u32, sig: i32) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

pub fn pid_of(v: &Value) -> u32 {
    v["pid"].as_u64().unwrap_or_else(|| panic!("no pid in {v:#}")) as u32
}
