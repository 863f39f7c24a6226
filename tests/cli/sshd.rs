//! A real OpenSSH server on loopback, for tests of what runs on "the remote machine".
//!
//! Sessions are made hermetic with sshd_config `SetEnv`: sshd builds a session's environment from
//! its defaults (HOME from /etc/passwd, its compiled-in PATH), then `~/.ssh/environment`, then PAM,
//! and applies `SetEnv` last, so HOME and PATH are replaced (the test below proves it), and bash
//! as the login shell reads `$HOME/.bashrc`, the test's. The working directory stays the passwd
//! home: sshd enters it before any variable applies. Every session also gets
//! `GIT_SHARD_TEST_SSHD=<temp folder>`: how `stop` finds what left the server's process tree (a
//! daemonized supervisor) to kill it too.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::common::*;

const MARKER: &str = "GIT_SHARD_TEST_SSHD";

pub struct Sshd {
    tmp: TempDir,
    sshd: PathBuf,
    port: u16,
    user: String,
    env: Vec<(String, String)>,
    server: Option<Child>,
}

fn find(program: &str, also: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = std::env::split_paths(&path).chain(also.iter().map(PathBuf::from));
    dirs.find(|d| d.is_absolute() && d.join(program).is_file())
        .map(|d| d.join(program))
}

fn keygen(path: &Path) {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", "ed25519", "-N", "", "-C", "git-shard-test", "-f"])
        .arg(path);
    let status = cmd.stdin(Stdio::null()).status();
    assert!(status.is_ok_and(|s| s.success()), "ssh-keygen -f {path:?} failed");
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) touches no memory of ours; a pid that is gone only yields ESRCH.
    unsafe { libc::kill(pid as libc::pid_t, sig) };
}

/// The descendants of `root` (without it) and, with `marker`, of every process whose environment
/// holds it: sshd puts each connection and each session in a session of its own, so no process
/// group or session id covers them.
fn tree(root: Option<u32>, marker: Option<&str>) -> HashSet<u32> {
    let mut parents = Vec::new();
    let mut set: HashSet<u32> = root.into_iter().collect();
    for pid in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = pid.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let Some((_, _, ppid, ..)) = proc_stat(pid).filter(|s| s.1 != 'Z') else {
            continue;
        };
        let environ = || fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if marker.is_some_and(|m| environ().split(|b| *b == 0).any(|v| v == m.as_bytes())) {
            set.insert(pid);
        }
        parents.push((pid, ppid));
    }
    // To a fixed point: after PID wrap-around a child can come before its parent in /proc.
    while parents.iter().fold(false, |grew, &(pid, ppid)| {
        set.contains(&ppid) && set.insert(pid) || grew
    }) {}
    set.retain(|p| Some(*p) != root && *p != std::process::id());
    set
}

/// The version of the OpenSSH `sshd` (major, minor), from `sshd -V` (which prints it to stderr as
/// `OpenSSH_9.2p1 …`, then exits); `None` when it says something else.
fn openssh_version(sshd: &Path) -> Option<(u32, u32)> {
    let out = Command::new(sshd).arg("-V").output().ok()?;
    version_of(&String::from_utf8_lossy(&out.stderr))
}

fn version_of(said: &str) -> Option<(u32, u32)> {
    let rest = said.split("OpenSSH_").nth(1)?;
    let (major, rest) = rest.split_once('.')?;
    let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((major.parse().ok()?, minor.parse().ok()?))
}

impl Sshd {
    /// Starts `sshd -D -e -f <tmp>/sshd_config` on 127.0.0.1 at a free port, with throwaway keys,
    /// and a client config defining `Host devbox`; `env` is set in every session (`SetEnv`).
    /// Returns once `ssh devbox true` works; None (said on stderr) when OpenSSH is missing and
    /// `CI` is not set.
    pub fn start(env: &[(&str, &str)]) -> Option<Sshd> {
        let sshd = find("sshd", &["/usr/sbin", "/usr/local/sbin", "/sbin"]);
        let (Some(sshd), Some(_), Some(_)) = (sshd, find("ssh", &[]), find("ssh-keygen", &[])) else {
            crate::terminals::require_tool("OpenSSH (sshd, ssh, ssh-keygen: openssh-server, openssh-client)");
            return None;
        };
        // Sessions get their environment from sshd_config's `SetEnv`, which came in OpenSSH 8.7.
        if let Some(version) = openssh_version(&sshd).filter(|&v| v < (8, 7)) {
            crate::terminals::require(
                &format!("OpenSSH {}.{} is older than 8.7 (sshd's SetEnv)", version.0, version.1),
                "install OpenSSH 8.7 or later",
            );
            return None;
        }
        // The config files hold paths unquoted, and callers split `ssh_command` on spaces.
        let base = Some(std::env::temp_dir()).filter(|b| !b.to_string_lossy().contains(char::is_whitespace));
        let tmp = tempfile::Builder::new()
            .prefix("git-shard-sshd-")
            .tempdir_in(base.unwrap_or("/tmp".into()));
        let tmp = tmp.expect("a temp folder");
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o700)).expect("chmod 700");
        keygen(&tmp.path().join("host_ed25519"));
        keygen(&tmp.path().join("id_ed25519"));
        fs::copy(tmp.path().join("id_ed25519.pub"), tmp.path().join("authorized_keys")).expect("authorized_keys");
        if rustix::process::geteuid().is_root() && !Path::new("/run/sshd").exists() {
            // sshd as root chroots its unprivileged half there; Debian makes it only in its service.
            fs::create_dir_all("/run/sshd").expect("mkdir /run/sshd");
            fs::set_permissions("/run/sshd", fs::Permissions::from_mode(0o755)).expect("chmod /run/sshd");
        }
        let id = Command::new("id").arg("-un").output().expect("id -un");
        let user = String::from_utf8_lossy(&id.stdout).trim().to_owned();
        let marker = (MARKER.to_owned(), tmp.path().display().to_string());
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let env = env.chain([marker]).collect();
        let mut sshd = Sshd {
            tmp,
            sshd,
            port: 0,
            user,
            env,
            server: None,
        };
        sshd.launch(false);
        Some(sshd)
    }

    /// `ssh -F <tmp>/ssh_config`: the client command line to use for everything.
    pub fn ssh_command(&self) -> String {
        format!("ssh -F {}", self.tmp.path().join("ssh_config").display())
    }

    /// The host alias in the client config.
    pub fn host(&self) -> &'static str {
        "devbox"
    }

    /// Kills the server and every session process; connections are refused from then on.
    pub fn stop(&mut self) {
        let root = self.server.as_ref().map(Child::id);
        // Frozen first, so that it accepts nobody while its sessions are gathered; then every
        // process stopped before any is killed: a session killed first would orphan its children
        // out of the tree, and one still running could fork between the scan and the kill.
        root.inspect(|&pid| signal(pid, libc::SIGSTOP));
        let marker = format!("{MARKER}={}", self.tmp.path().display());
        let mut frozen = HashSet::new();
        for _ in 0..100 {
            let found: Vec<u32> = tree(root, Some(&marker)).difference(&frozen).copied().collect();
            if found.is_empty() {
                break;
            }
            found.iter().for_each(|&pid| signal(pid, libc::SIGSTOP));
            frozen.extend(found);
        }
        frozen.iter().for_each(|&pid| signal(pid, libc::SIGKILL));
        if let Some(mut child) = self.server.take() {
            signal(child.id(), libc::SIGTERM);
            signal(child.id(), libc::SIGCONT);
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same keys, so clients still trust it.
    pub fn restart(&mut self) {
        self.stop();
        self.launch(true);
    }

    /// The server goes away as on a network outage: the listener and every connection end, but
    /// what the sessions started (agents, their supervisors) runs on. `resume` brings it back.
    pub fn cut(&mut self) {
        let connections = self.connections();
        if let Some(mut child) = self.server.take() {
            signal(child.id(), libc::SIGKILL);
            let _ = child.wait();
        }
        connections.iter().for_each(|&pid| signal(pid, libc::SIGKILL));
    }

    /// Listen again after `cut`, on the same port with the same keys.
    pub fn resume(&mut self) {
        self.launch(true);
    }

    /// The per-connection sshd processes alive now, for a test to kill a connection mid-command.
    pub fn connections(&self) -> Vec<u32> {
        let root = self.server.as_ref().map(Child::id);
        // sshd, or sshd-session and sshd-auth from OpenSSH 9.8 on.
        let sshd = |pid: &u32| proc_stat(*pid).is_some_and(|(comm, ..)| comm.starts_with("sshd"));
        root.map(|root| tree(Some(root), None).into_iter().filter(sshd).collect())
            .unwrap_or_default()
    }

    fn write_config(&self) {
        let (dir, port, user) = (self.tmp.path().display(), self.port, &self.user);
        let quote = |(k, v): &(String, String)| {
            assert!(
                !k.is_empty() && !k.contains('=') && !v.contains('\n'),
                "bad variable {k}={v}"
            );
            format!("\"{k}={}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
        };
        // Only the first SetEnv line counts, so every variable goes on that one.
        let setenv: Vec<String> = self.env.iter().map(quote).collect();
        let sshd_config = format!(
            "ListenAddress 127.0.0.1:{port}\nHostKey {dir}/host_ed25519\nPidFile none\n\
             AuthorizedKeysFile {dir}/authorized_keys\nAllowUsers {user}\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
             PrintMotd no\nUseDNS no\nMaxStartups 100\nPermitUserRC no\nSetEnv {}\n",
            setenv.join(" ")
        );
        let ssh_config = format!(
            "Host devbox\n  HostName 127.0.0.1\n  Port {port}\n  User {user}\n  IdentityFile {dir}/id_ed25519\n  \
             IdentitiesOnly yes\n  UserKnownHostsFile {dir}/known_hosts\n  GlobalKnownHostsFile /dev/null\n  \
             StrictHostKeyChecking yes\n  BatchMode yes\n  LogLevel ERROR\n"
        );
        let key = fs::read_to_string(self.tmp.path().join("host_ed25519.pub")).expect("host key");
        let key: Vec<&str> = key.split_whitespace().take(2).collect();
        let known = format!("[127.0.0.1]:{port} {}\n", key.join(" "));
        let write = |name, text| fs::write(self.tmp.path().join(name), text).expect("writing ssh configuration");
        write("sshd_config", sshd_config);
        write("ssh_config", ssh_config);
        write("known_hosts", known);
    }

    /// Starts the server and waits for a real login. A port taken since it was picked (tests
    /// start servers in parallel) is tried again: a new one, or the same one for `restart`.
    fn launch(&mut self, same_port: bool) {
        let log_path = self.tmp.path().join("sshd.log");
        for attempt in 0..5 {
            if !same_port {
                let probe = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr());
                self.port = probe.expect("no free loopback port").port();
            }
            self.write_config();
            let log = fs::File::create(&log_path).expect("creating sshd.log");
            let mut cmd = Command::new(&self.sshd);
            cmd.args(["-D", "-e", "-f"]).arg(self.tmp.path().join("sshd_config"));
            cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log);
            self.server = Some(cmd.spawn().expect("starting sshd"));
            if self.wait_ready() {
                return;
            }
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            assert!(log.contains("Address already in use"), "sshd did not start:\n{log}");
            thread::sleep(Duration::from_millis(100 << attempt));
        }
        panic!("sshd could not bind 127.0.0.1:{} in 5 tries", self.port);
    }

    /// Whether `ssh devbox true` works before the server exits; panics after 10 s.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = String::new();
        while Instant::now() < deadline {
            if !matches!(self.server.as_mut().map(Child::try_wait), Some(Ok(None))) {
                self.server = None;
                return false;
            }
            // Not before it listens: the port may be someone else's until then.
            let log = fs::read_to_string(self.tmp.path().join("sshd.log")).unwrap_or_default();
            if !log.contains("Server listening on") {
                thread::sleep(Duration::from_millis(10));
                continue;
            }
            let probe = format!("{} -o ConnectTimeout=2 devbox true", self.ssh_command());
            match Command::new("sh")
                .args(["-c", &probe])
                .env_remove("SSH_AUTH_SOCK")
                .output()
            {
                Ok(out) if out.status.success() => return true,
                Ok(out) => last = String::from_utf8_lossy(&out.stderr).into_owned(),
                Err(e) => last = e.to_string(),
            }
            thread::sleep(Duration::from_millis(50));
        }
        let log = fs::read_to_string(self.tmp.path().join("sshd.log")).unwrap_or_default();
        panic!("sshd accepted no login in 10 s: {last}\nsshd log:\n{log}");
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn sshd_harness_runs_commands_with_the_given_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().to_str().unwrap().to_owned();
    // A `git` no default PATH has: finding it proves PATH was replaced, not appended to.
    fs::create_dir(format!("{home}/bin")).unwrap();
    fs::write(format!("{home}/bin/git"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(format!("{home}/bin/git"), fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{home}/bin:/usr/bin:/bin");
    let env = [("HOME", home.as_str()), ("PATH", &path), ("MARKER", "marker 42")];
    let Some(mut sshd) = Sshd::start(&env) else { return };
    let ssh = format!("{} {}", sshd.ssh_command(), sshd.host());
    let sh = |cmd: &str| {
        Command::new("sh")
            .args(["-c", cmd])
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .unwrap()
    };
    let out = sh(&format!("{ssh} 'echo $HOME $MARKER; command -v git'"));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{home} marker 42\n{home}/bin/git\n")
    );

    sshd.stop();
    let started = Instant::now();
    let out = sh(&format!("{} -o ConnectTimeout=3 devbox true", sshd.ssh_command()));
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("Connection refused"));
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());

    sshd.restart();
    assert!(sh(&format!("{ssh} true")).status.success());

    // A session killed mid-command: the client must notice at once, not when `sleep` ends.
    let mut client = Command::new("sh");
    client
        .args(["-c", &format!("exec {ssh} sleep 5")])
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    let client = client.spawn().unwrap();
    let root = sshd.server.as_ref().map(Child::id);
    let is_sleep = |pid: &u32| proc_stat(*pid).is_some_and(|s| s.0 == "sleep");
    let remote_sleep = || tree(root, None).into_iter().find(is_sleep);
    eventually("the remote sleep", || remote_sleep().is_some());
    let sleep = remote_sleep().unwrap();
    let connections = sshd.connections();
    assert!(!connections.is_empty());
    let killed = Instant::now();
    connections.iter().for_each(|&pid| signal(pid, libc::SIGKILL));
    let out = client.wait_with_output().unwrap();
    assert!(!out.status.success(), "{out:?}");
    assert!(killed.elapsed() < Duration::from_secs(3), "{:?}", killed.elapsed());
    // Orphaned, the `sleep` left the tree; the environment marker still finds it.
    drop(sshd);
    eventually("the session's sleep to die with the server", || !alive(sleep));
}

#[test]
fn openssh_versions_are_read_as_sshd_prints_them() {
    assert_eq!(version_of("OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026"), Some((9, 2)));
    assert_eq!(version_of("OpenSSH_8.6p1 Ubuntu-4, OpenSSL 1.1.1"), Some((8, 6)));
    assert_eq!(
        version_of("unknown option -- V\nOpenSSH_10.0p2 Debian-5"),
        Some((10, 0))
    );
    assert_eq!(version_of("sshd: command not found"), None);
}
