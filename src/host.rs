//! Shards on other machines: `[hosts.<name>]` in the configuration, `new --host`, and everything
//! that then forwards to the host.
//!
//! Invariants:
//! - The remote git-shard's record is the one truth about a remote shard and its process: the
//!   agent's identity is checked where it lives. Here we keep only where a shard lives
//!   (`<git-common-dir>/shards/remote/<name>.toml`: host, name, branch), written last by
//!   `new --host` and removed once the remote `rm` succeeded.
//! - Every connection is OpenSSH's, nothing of it reimplemented: the user's `~/.ssh/config`,
//!   keys and agent apply. Connections to a host are shared (`ControlMaster=auto`, a socket in the
//!   private runtime folder, kept 60 s after the last use), so a `list` after the first costs no
//!   handshake. `BatchMode=yes` everywhere but interactive sessions: a password prompt would hang
//!   a `list`; a connect timeout bounds each attempt.
//! - Code travels over git's own ssh transport, to a private ref (`refs/git-shard/base/<name>`)
//!   that the remote `new` deletes again; never to the user's branches.
//! - The prompt and completion never touch the network: they read what the last `list` cached
//!   (`<git-common-dir>/shards/remote/.host-<host>.json`, whose time is when it was heard).
//! - A host that does not answer is "unreachable", never "lost" or "exited": nobody there was asked.
//! - Versions: the remote binary must speak [`PROTOCOL`] and write records of
//!   [`crate::shard::record::VERSION`]; both are in `git-shard --version`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{Config, HostSpec};
use crate::error::{Error, Result};

/// What git-shard asks of a git-shard on another host (command line and JSON): changed only
/// together with a check that refuses the other side's number.
pub const PROTOCOL: u32 = 2;

/// `git-shard --version`: the release, and the numbers another host must match.
pub const VERSION_LINE: &str = concat!(env!("CARGO_PKG_VERSION"), " (host protocol 2, records 1)");

/// The exit status of a script there whose clone could not be entered (`cd` failed).
pub const NO_CLONE: i32 = 97;

/// How long `list` waits for a host before showing it unreachable.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT_SECS: u32 = 4;

/// A configured host name: what `--host` takes.
pub fn check_spec(name: &str, spec: &HostSpec) -> std::result::Result<(), String> {
    // A host's name goes into refs (`refs/remotes/<host>/…`): what git allows of a ref's part,
    // as for a shard's name.
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !name.contains("..")
        && !name.ends_with(".lock");
    if !valid_name {
        return Err(format!(
            "host name {name:?}: use 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit, \
             without '..' and not ending in '.lock'"
        ));
    }
    if spec.ssh.trim().is_empty() || spec.ssh.starts_with('-') || spec.ssh.contains(char::is_whitespace) {
        return Err(format!(
            "hosts.{name}.ssh = {:?}: give a destination as `ssh` takes it (`devbox`, `me@10.0.0.5`)",
            spec.ssh
        ));
    }
    if !(spec.repo.starts_with('/') || spec.repo.starts_with("~/")) {
        return Err(format!(
            "hosts.{name}.repo = {:?}: give the clone's absolute path there, or `~/…`",
            spec.repo
        ));
    }
    Ok(())
}

/// One host of the configuration.
#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub spec: HostSpec,
}

/// ssh could not reach the host or lost the connection: nothing is known about the remote side.
#[derive(Debug)]
pub struct Unreachable(pub String);

impl Host {
    /// The host named `name`, or a refusal that lists the configured ones.
    pub fn lookup(config: &Config, name: &str) -> Result<Host> {
        match config.hosts.get(name) {
            Some(spec) => Ok(Host {
                name: name.to_owned(),
                spec: spec.clone(),
            }),
            None => {
                let known: Vec<&str> = config.hosts.keys().map(String::as_str).collect();
                Err(Error::refused(
                    format!("no host named '{}' is configured", crate::output::clean(name)),
                    if known.is_empty() {
                        "add one with `git shard host add <name> --ssh <destination> --repo <path of the clone there>`"
                            .to_owned()
                    } else {
                        format!(
                            "configured: {}; add another with `git shard host add`",
                            known.join(", ")
                        )
                    },
                ))
            }
        }
    }

    /// The ssh program and options: `GIT_SHARD_SSH` (a command line, like `GIT_SSH_COMMAND`)
    /// or `ssh`, with connection sharing and bounded waits.
    fn ssh_argv(&self, interactive: bool) -> Vec<String> {
        let mut argv: Vec<String> = std::env::var("GIT_SHARD_SSH")
            .ok()
            .and_then(|line| shlex::split(&line))
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| vec!["ssh".into()]);
        let mut opt = |o: String| argv.extend(["-o".to_owned(), o]);
        // `%C` is a hash of the destination (40 characters): one socket per host and user. ssh
        // binds it under a name 17 characters longer first, and a socket's path has at most 107
        // bytes: in a folder deeper than that allows, each ssh connects on its own.
        if let Ok(dir) = crate::fsutil::private_dir()
            && dir.as_os_str().len() + 1 + 40 + 17 <= 107
        {
            opt("ControlMaster=auto".into());
            opt(format!("ControlPath={}/%C", dir.display()));
            opt("ControlPersist=60".into());
        }
        if !interactive {
            opt("BatchMode=yes".into());
        }
        opt(format!("ConnectTimeout={CONNECT_TIMEOUT_SECS}"));
        opt("ServerAliveInterval=5".into());
        opt("ServerAliveCountMax=2".into());
        argv
    }

    /// `ssh … <destination> <line>`: `line` runs in the remote login shell.
    fn ssh(&self, line: &str, tty: bool) -> Command {
        let argv = self.ssh_argv(tty);
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).arg(if tty { "-t" } else { "-T" });
        cmd.arg("--").arg(&self.spec.ssh).arg(line);
        cmd
    }

    /// ssh with a terminal, running the POSIX shell `script` there (not in the clone).
    pub fn interactive(&self, script: &str) -> Command {
        self.ssh(&format!("sh -c {}", quote(script)), true)
    }

    /// git in `common_dir`, its ssh transport the same ssh as ours (sharing the connection), for
    /// a push or fetch to [`Host::git_url`].
    pub fn git(&self, common_dir: &Path) -> crate::git::cmd::Git {
        crate::git::cmd::Git::on_repository(common_dir).env("GIT_SSH_COMMAND", self.git_ssh_command())
    }

    /// The command line for git's ssh transport (`GIT_SSH_COMMAND`): the same ssh, sharing the
    /// same connection.
    fn git_ssh_command(&self) -> String {
        let argv = self.ssh_argv(false);
        shlex::try_join(argv.iter().map(String::as_str)).unwrap_or_else(|_| "ssh".into())
    }

    /// The clone there as a git URL (scp-like: `devbox:/srv/app`, `devbox:~/app`).
    pub fn git_url(&self) -> String {
        let dest = if self.spec.ssh.contains(':') {
            format!("[{}]", self.spec.ssh)
        } else {
            self.spec.ssh.clone()
        };
        format!("{dest}:{}", self.spec.repo)
    }

    /// A POSIX shell script run in the clone there, its arguments quoted. Sent as `sh -c '…'`,
    /// so the remote login shell (bash, zsh, fish) only has to read one quoted word.
    fn script(&self, body: &str) -> String {
        let script = format!(
            "cd {} || exit {NO_CLONE}\ngs={}\n{body}",
            remote_path(&self.spec.repo),
            self.binary()
        );
        format!("sh -c {}", quote(&script))
    }

    /// The git-shard binary there, quoted for the remote shell.
    fn binary(&self) -> String {
        remote_path(self.spec.git_shard.as_deref().unwrap_or("git-shard"))
    }

    /// `git-shard <args>` in the clone there, as one line that sh, bash, zsh and fish all read
    /// alike: no `sh -c` in between, one shell start less on the way of every `list`.
    fn git_shard_line(&self, args: &[String]) -> String {
        format!(
            "cd {} || exit {NO_CLONE}; exec {} {}",
            remote_path(&self.spec.repo),
            self.binary(),
            quote_all(args)
        )
    }

    /// Run `git-shard <args>` in the clone there, its output going straight to ours (`tty`: a
    /// terminal for an interactive session). Returns its exit status.
    pub fn forward(&self, args: &[String], tty: bool) -> Result<ExitStatus> {
        let line = self.git_shard_line(args);
        let status = self.ssh(&line, tty).status().map_err(|e| self.cannot_run_ssh(&e))?;
        Ok(status)
    }

    /// Run `git-shard <args>` in the clone there, its output captured (see [`Host::run`]).
    pub fn run_git_shard(
        &self,
        args: &[&str],
        timeout: Option<Duration>,
    ) -> Result<std::result::Result<Output, Unreachable>> {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        self.capture(&self.git_shard_line(&args), timeout)
    }

    /// Run the POSIX shell `body` in the clone there (`$gs` is the remote git-shard), its output
    /// captured; gives up after `timeout` (the child is killed).
    pub fn run(&self, body: &str, timeout: Option<Duration>) -> Result<std::result::Result<Output, Unreachable>> {
        self.capture(&self.script(body), timeout)
    }

    /// Start `git-shard <args>` in the clone there, its output captured: [`Started::wait_all`]
    /// waits for it (and for others started meanwhile, as `list` asks every host).
    pub fn start_git_shard(&self, args: &[&str], timeout: Option<Duration>) -> Result<Started> {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        self.start(&self.git_shard_line(&args), timeout)
    }

    fn start(&self, line: &str, timeout: Option<Duration>) -> Result<Started> {
        let mut cmd = self.ssh(line, false);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = cmd.spawn().map_err(|e| self.cannot_run_ssh(&e))?;
        Ok(Started {
            child,
            timeout,
            deadline: timeout.map(|t| std::time::Instant::now() + t),
        })
    }

    fn capture(&self, line: &str, timeout: Option<Duration>) -> Result<std::result::Result<Output, Unreachable>> {
        let started = self.start(line, timeout)?;
        self.finished(Started::wait_all(vec![started]).remove(0))
    }

    /// What a command started there came to: its output, the host unreachable (ssh failed, or
    /// no answer in time), or its clone missing (an error).
    pub fn finished(&self, ended: Ended) -> Result<std::result::Result<Output, Unreachable>> {
        let out = match ended {
            Ended::Output(out) => out,
            Ended::TimedOut(timeout) => {
                return Ok(Err(Unreachable(format!("no answer within {} s", timeout.as_secs()))));
            }
        };
        Ok(match out.status.code() {
            Some(0) => Ok(out),
            Some(255) | None => Err(Unreachable(last_line(&out.stderr))),
            // Reached: the clone is what is wrong, not the connection.
            Some(NO_CLONE) => return Err(self.no_clone(&last_line(&out.stderr))),
            // The command ran and failed; its output is the caller's to show.
            Some(_) => Ok(out),
        })
    }

    pub fn cannot_run_ssh(&self, e: &std::io::Error) -> Error {
        Error::refused(
            format!("cannot run ssh for host '{}': {e}", self.name),
            "install OpenSSH's client, or point GIT_SHARD_SSH at your ssh",
        )
    }

    /// What to say when the host was reached but its clone (`repo`) cannot be entered.
    pub fn no_clone(&self, why: &str) -> Error {
        Error::refused(
            format!(
                "host '{}' was reached, but its clone {} cannot be entered there: {why}",
                self.name, self.spec.repo
            ),
            format!(
                "check the path of the clone there; `git shard host add {} --ssh {} --repo <path>` \
                 points the host at it",
                self.name,
                crate::output::clean(&self.spec.ssh)
            ),
        )
    }

    /// What to say when the connection failed: which side, and how to try again.
    pub fn unreachable(&self, what: &str, why: &str) -> Error {
        Error::refused(
            format!(
                "{what}: cannot reach host '{}' (ssh {}): {why}",
                self.name,
                crate::output::clean(&self.spec.ssh)
            ),
            format!(
                "nothing was changed on this machine; check the connection with `git shard host check {}`, then try again",
                self.name
            ),
        )
    }
}

/// A path for the remote shell: `~/x` keeps its tilde outside the quotes, so that shell
/// expands it.
fn remote_path(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some("") => "~".into(),
        Some(rest) => format!("~/{}", quote(rest)),
        None => quote(path),
    }
}

/// One word that sh, bash, zsh and fish all read as `word` (the login shell there may be any of
/// them): shlex quotes a backslash with double quotes, as fish reads it as an escape inside
/// single quotes (a test in `tests/cli/hosts.rs` holds all four to it).
pub fn quote(word: &str) -> String {
    shlex::try_quote(word).map_or_else(|_| "''".into(), |q| q.into_owned())
}

fn quote_all(words: &[String]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// Read what `pipe` holds now (and no more: a process that outlived the one that was waited for
/// may hold it open and keep writing) into `buf`.
fn read_buffered(mut pipe: &std::fs::File, buf: &mut Vec<u8>, chunk: &mut [u8]) {
    let Ok(mut left) = rustix::io::ioctl_fionread(pipe) else {
        return;
    };
    while left > 0 {
        let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        match pipe.read(&mut chunk[..want]) {
            Ok(n) if n > 0 => {
                buf.extend_from_slice(&chunk[..n]);
                left -= n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            _ => return,
        }
    }
}

fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| crate::output::clean(l.trim()))
        .unwrap_or_else(|| "the connection failed".into())
}

/// A command started on a host, its output not read yet.
pub struct Started {
    child: std::process::Child,
    timeout: Option<Duration>,
    deadline: Option<std::time::Instant>,
}

/// How a [`Started`] command ended.
pub enum Ended {
    Output(Output),
    /// Killed: no end of its output within this time.
    TimedOut(Duration),
}

impl Started {
    /// Wait for the output of every command in `started`, each at most its timeout (then it is
    /// killed). All pipes are read as poll(2) finds them ready, on this thread: no thread per
    /// pipe or per host to start at every `list`, and a child that writes much never blocks on a
    /// full pipe. A command is done at the end of its output (ssh closes it as it exits), or once
    /// ssh has exited, with what its pipes held then: a process ssh left behind may hold them
    /// open (a connection master kept with `-v`, a `ProxyCommand`'s child), and waiting for their
    /// end would stretch a `list` to its timeout (or, without one, wait on a writer forever).
    pub fn wait_all(started: Vec<Started>) -> Vec<Ended> {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        use std::os::fd::OwnedFd;
        /// A pipe: open while not at its end, and what was read.
        type Pipe = (Option<std::fs::File>, Vec<u8>);
        struct Waiting {
            started: Started,
            /// stdout, stderr.
            pipes: [Pipe; 2],
            timed_out: bool,
        }
        /// How often a child's exit is looked for while its pipes stay open.
        const EXITED_EVERY: Duration = Duration::from_millis(50);
        let file = |fd: OwnedFd| std::fs::File::from(fd);
        let mut all: Vec<Waiting> = started
            .into_iter()
            .map(|mut s| Waiting {
                pipes: [
                    (s.child.stdout.take().map(OwnedFd::from).map(file), Vec::new()),
                    (s.child.stderr.take().map(OwnedFd::from).map(file), Vec::new()),
                ],
                started: s,
                timed_out: false,
            })
            .collect();
        let mut chunk = vec![0u8; 64 * 1024];
        let mut give_up_all = false;
        loop {
            let now = std::time::Instant::now();
            let reading = |w: &Waiting| w.pipes.iter().any(|(p, _)| p.is_some());
            for w in all.iter_mut().filter(|w| reading(w)) {
                if give_up_all || w.started.deadline.is_some_and(|d| d <= now) {
                    let _ = w.started.child.kill();
                    w.pipes.iter_mut().for_each(|(p, _)| *p = None);
                    w.timed_out = true;
                }
            }
            // Exited: whatever ssh wrote is in its pipes now. That is read and the pipes closed;
            // what comes after is another process's, which may hold them open and write on.
            for w in all.iter_mut().filter(|w| reading(w)) {
                if matches!(w.started.child.try_wait(), Ok(Some(_))) {
                    for (pipe, buf) in &mut w.pipes {
                        if let Some(p) = pipe.take() {
                            read_buffered(&p, buf, &mut chunk);
                        }
                    }
                }
            }
            let left = all
                .iter()
                .filter(|w| reading(w))
                .filter_map(|w| w.started.deadline)
                .min()
                .map_or(EXITED_EVERY, |d| d.saturating_duration_since(now).min(EXITED_EVERY));
            let left = Timespec::try_from(left).ok();
            let open: Vec<&mut Pipe> = all
                .iter_mut()
                .flat_map(|w| w.pipes.iter_mut())
                .filter(|(p, _)| p.is_some())
                .collect();
            if open.is_empty() {
                break;
            }
            let mut fds: Vec<PollFd> = open
                .iter()
                .filter_map(|(p, _)| p.as_ref().map(|p| PollFd::new(p, PollFlags::IN)))
                .collect();
            let polled = poll(&mut fds, left.as_ref());
            let ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
            drop(fds);
            match polled {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                // Nothing to wait with (no memory, say): end them rather than wait blind.
                Err(_) => give_up_all = true,
            }
            for ((pipe, buf), _) in open.into_iter().zip(ready).filter(|(_, ready)| *ready) {
                match pipe.as_mut().map(|p| p.read(&mut chunk)) {
                    Some(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    Some(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    _ => *pipe = None,
                }
            }
        }
        all.into_iter()
            .map(|mut w| {
                let status = w.started.child.wait();
                match status {
                    Ok(status) if !w.timed_out => {
                        let [(_, stdout), (_, stderr)] = w.pipes;
                        Ended::Output(Output { status, stdout, stderr })
                    }
                    _ => Ended::TimedOut(w.started.timeout.unwrap_or_default()),
                }
            })
            .collect()
    }
}

/// Where a remote shard lives: the local record of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pointer {
    pub version: u32,
    pub host: String,
    pub name: String,
    pub branch: String,
    /// The branch here it started from (full refname), where `merge` and `pr` take its work: the
    /// host only saw the base commit.
    #[serde(default)]
    pub base_ref: Option<String>,
    pub created_at: jiff::Timestamp,
    /// The tip `fetch` last set the local branch to, when `fetch` created that branch here (and
    /// it has not moved since): only then is the branch git-shard's to delete (`merge --rm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_here: Option<String>,
}

/// Where pointers and the caches of `list` live; absent until a shard was made on a host or a
/// host was listed.
pub fn remote_dir(common_dir: &Path) -> PathBuf {
    common_dir.join("shards").join("remote")
}

fn pointer_path(common_dir: &Path, name: &str) -> PathBuf {
    remote_dir(common_dir).join(format!("{name}.toml"))
}

/// Refuse a host named like a git remote of this repository: `fetch` writes
/// `refs/remotes/<host>/<branch>`, which would overwrite that remote's remote-tracking branches
/// (and `git fetch <remote>` ours).
pub fn refuse_remote_namesake(ws: &crate::context::Workspace, host: &str) -> Result<()> {
    let url = ws
        .repo
        .repository()
        .args(["config", "--get", &format!("remote.{host}.url")])
        .ask()?;
    // `host add` asks before the host is configured: there is nothing to remove yet.
    let rename_host = match ws.config.hosts.contains_key(host) {
        true => format!("`git shard host rm {host}`, then `host add` with another name"),
        false => "`host add` with another name".to_owned(),
    };
    match url {
        Some(_) => Err(Error::refused(
            format!("this repository has a git remote named '{host}', like the host"),
            format!(
                "their remote-tracking branches would share refs/remotes/{host}/: name the host otherwise \
                 ({rename_host}), or rename the remote (`git remote rename {host} <new>`)"
            ),
        )),
        None => Ok(()),
    }
}

/// The pointer of the remote shard `name`, if this repository has one.
pub fn pointer(common_dir: &Path, name: &str) -> Option<Pointer> {
    crate::shard::ShardName::parse(name).ok()?;
    let text = std::fs::read_to_string(pointer_path(common_dir, name)).ok()?;
    toml::from_str(&text).ok()
}

/// Every pointer, sorted by name.
pub fn pointers(common_dir: &Path) -> Vec<Pointer> {
    let mut all: Vec<Pointer> = std::fs::read_dir(remote_dir(common_dir))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().into_string().ok()?;
            pointer(common_dir, file.strip_suffix(".toml")?)
        })
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

pub fn write_pointer(common_dir: &Path, pointer: &Pointer) -> Result<()> {
    let path = pointer_path(common_dir, &pointer.name);
    let text = toml::to_string(pointer).map_err(|e| Error::failed(format!("cannot encode a pointer: {e}")))?;
    std::fs::create_dir_all(remote_dir(common_dir))
        .and_then(|_| crate::fsutil::write_atomic(&path, text.as_bytes()))
        .map_err(|e| Error::failed(format!("cannot write {}: {e}", path.display())))
}

pub fn remove_pointer(common_dir: &Path, name: &str) -> Result<()> {
    let path = pointer_path(common_dir, name);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::failed(format!("cannot remove {}: {e}", path.display()))),
    }
}

/// What the last `list` heard from a host: its shards, and when (the cache file's time).
#[derive(Debug, Clone)]
pub struct Cached {
    pub at: jiff::Timestamp,
    pub shards: Vec<Heard>,
}

/// One shard as a host's `list --json --local` tells it: the fields this machine reads of it,
/// typed, and when `list --json` here passes it on, the whole object. Only then is it parsed into
/// a `serde_json::Value`, whose map of every field was the largest cost of a `list` here after
/// the host answered.
#[derive(Debug, Clone)]
pub struct Heard {
    pub shard: HeardShard,
    pub json: Option<serde_json::Value>,
}

/// The fields of a shard on a host that this machine reads (see `commands::ShardJson`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HeardShard {
    pub name: String,
    pub branch: String,
    pub path: Option<String>,
    pub status: Option<String>,
    pub activity: Option<String>,
    pub merged: Option<String>,
    pub created_at: Option<jiff::Timestamp>,
    pub pid: Option<u64>,
    pub exit_code: Option<i64>,
    pub signal: Option<i64>,
    pub incomplete: bool,
    pub removing: bool,
    pub orphaned: bool,
    /// Set when the host reports a shard of a host of its own (not one of its shards).
    pub host: Option<String>,
}

impl Heard {
    /// A host's `list --json` answer, shard by shard; `whole`: with each shard's whole object.
    pub fn parse_all(answer: &[u8], whole: bool) -> serde_json::Result<Vec<Heard>> {
        let shards: Vec<HeardShard> = serde_json::from_slice(answer)?;
        let mut objects = match whole {
            true => serde_json::from_slice::<Vec<serde_json::Value>>(answer)?
                .into_iter()
                .map(Some)
                .collect(),
            false => Vec::new(),
        }
        .into_iter();
        Ok(shards
            .into_iter()
            .map(|shard| Heard {
                shard,
                json: objects.next().flatten(),
            })
            .collect())
    }

    /// A shard known here only by its pointer (a host never heard from).
    pub fn of_pointer(p: &Pointer) -> Heard {
        Heard {
            shard: HeardShard {
                name: p.name.clone(),
                branch: p.branch.clone(),
                created_at: Some(p.created_at),
                ..HeardShard::default()
            },
            json: Some(serde_json::json!({ "name": p.name, "branch": p.branch, "created_at": p.created_at })),
        }
    }
}

fn cache_path(common_dir: &Path, host: &str) -> PathBuf {
    remote_dir(common_dir).join(format!(".host-{host}.json"))
}

/// Forget what `list` heard from `host` (and what the prompt shows of it).
pub fn forget_cache(common_dir: &Path, host: &str) {
    let _ = std::fs::remove_file(cache_path(common_dir, host));
    let kept: Vec<Glance> = glances(common_dir).into_iter().filter(|g| g.host != host).collect();
    write_glances(common_dir, &kept);
}

/// `whole`: with each shard's whole object (see [`Heard`]).
pub fn cached(common_dir: &Path, host: &str, whole: bool) -> Option<Cached> {
    use std::io::Read;
    let mut file = std::fs::File::open(cache_path(common_dir, host)).ok()?;
    let at = jiff::Timestamp::try_from(file.metadata().ok()?.modified().ok()?).ok()?;
    let mut text = Vec::new();
    file.read_to_end(&mut text).ok()?;
    Some(Cached {
        at,
        shards: Heard::parse_all(&text, whole).ok()?,
    })
}

/// Keep what `list` heard from `host`, the time it was heard being the file's time. The file is
/// rewritten only when the answer changed (a rename over a file makes ext4 write it out, half a
/// millisecond of every `list` with a host); an answer heard again only sets its time.
/// `answer` is the host's `list --json` as it came (checked to be a list of shards).
pub fn write_cache(common_dir: &Path, host: &str, answer: &[u8]) {
    use std::io::Read;
    let path = cache_path(common_dir, host);
    if let Ok(mut file) = std::fs::File::options().read(true).write(true).open(&path) {
        let mut old = Vec::new();
        if file.read_to_end(&mut old).is_ok() && old == answer {
            let _ = file.set_modified(std::time::SystemTime::now());
            return;
        }
    }
    let _ = std::fs::create_dir_all(remote_dir(common_dir));
    let _ = crate::fsutil::replace_cache(&path, answer);
}

/// What the prompt shows of one host: its shards by status as the last `list` heard them, and
/// when. Kept by `list` in the store's folder (`.hosts`, one line per host:
/// `<host> <unix seconds> <1 reachable | 0> <waiting> <running> <idle> <failed> <lost>`), so the
/// shell integration, which watches that folder, shows it at the next prompt; the time is kept to
/// the minute, so a `list` rewrites it only when what the prompt shows changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Glance {
    pub host: String,
    /// When it was heard (for an unreachable host: last heard; 0 if never).
    pub at: i64,
    pub reachable: bool,
    pub waiting: usize,
    pub running: usize,
    pub idle: usize,
    pub failed: usize,
    pub lost: usize,
}

impl Glance {
    /// Count `shards` (as `list --json` gives them) of `host`.
    pub fn of(host: &str, at: jiff::Timestamp, reachable: bool, shards: &[Heard]) -> Glance {
        let mut g = Glance {
            host: host.to_owned(),
            at: at.as_second() / 60 * 60,
            reachable,
            waiting: 0,
            running: 0,
            idle: 0,
            failed: 0,
            lost: 0,
        };
        for s in shards.iter().map(|h| &h.shard) {
            match (s.status.as_deref(), s.activity.as_deref()) {
                (Some("running"), Some("waiting")) => g.waiting += 1,
                (Some("running"), Some("idle")) => g.idle += 1,
                (Some("running"), _) => g.running += 1,
                (Some("exited"), _) if s.exit_code != Some(0) => g.failed += 1,
                (Some("lost"), _) => g.lost += 1,
                _ => {}
            }
        }
        g
    }

    fn line(&self) -> String {
        format!(
            "{} {} {} {} {} {} {} {}\n",
            self.host,
            self.at,
            u8::from(self.reachable),
            self.waiting,
            self.running,
            self.idle,
            self.failed,
            self.lost
        )
    }

    fn parse(line: &str) -> Option<Glance> {
        let f: Vec<&str> = line.split(' ').collect();
        let [host, at, reachable, waiting, running, idle, failed, lost] = f.as_slice() else {
            return None;
        };
        Some(Glance {
            host: crate::output::clean(host),
            at: at.parse().ok()?,
            reachable: *reachable == "1",
            waiting: waiting.parse().ok()?,
            running: running.parse().ok()?,
            idle: idle.parse().ok()?,
            failed: failed.parse().ok()?,
            lost: lost.parse().ok()?,
        })
    }
}

fn glance_path(common_dir: &Path) -> PathBuf {
    common_dir.join("shards").join(".hosts")
}

/// Keep what the prompt shows of the hosts; the file is only replaced when that changed (its
/// folder's time is what shells watch). No hosts: no file.
pub fn write_glances(common_dir: &Path, glances: &[Glance]) {
    let path = glance_path(common_dir);
    if glances.is_empty() {
        let _ = std::fs::remove_file(&path);
        return;
    }
    let text: String = glances.iter().map(Glance::line).collect();
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return;
    }
    // The store's folder is made by a repository's first shard; hosts may come first.
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = crate::fsutil::replace_cache(&path, text.as_bytes());
}

/// What the last `list` heard of each host, for the prompt: one small file, no network.
pub fn glances(common_dir: &Path) -> Vec<Glance> {
    std::fs::read_to_string(glance_path(common_dir))
        .map(|t| t.lines().filter_map(Glance::parse).collect())
        .unwrap_or_default()
}

/// Names of the shards on hosts, from pointers and the caches of `list`: for completion, which
/// never touches the network.
pub fn known_names(common_dir: &Path) -> Vec<String> {
    // Completion asks at every TAB: one listing, pointers known by their file names.
    let mut names = Vec::new();
    for entry in std::fs::read_dir(remote_dir(common_dir))
        .into_iter()
        .flatten()
        .flatten()
    {
        let file = entry.file_name();
        let Some(file) = file.to_str() else { continue };
        if let Some(name) = file
            .strip_suffix(".toml")
            .filter(|n| crate::shard::ShardName::parse(n).is_ok())
        {
            names.push(name.to_owned());
            continue;
        }
        let Some(host) = file.strip_prefix(".host-").and_then(|f| f.strip_suffix(".json")) else {
            continue;
        };
        names.extend(
            cached(common_dir, host, false)
                .map(|c| c.shards)
                .unwrap_or_default()
                .into_iter()
                .map(|h| h.shard.name)
                // Named by the host: offered to the shell only when it is a shard's name.
                .filter(|n| crate::shard::ShardName::parse(n).is_ok()),
        );
    }
    names.sort();
    names.dedup();
    names
}

/// The host a shard that is not local lives on: its pointer's, else the host whose last `list`
/// named it. No network.
pub fn locate(config: &Config, common_dir: &Path, name: &str) -> Option<Host> {
    let host = match pointer(common_dir, name) {
        Some(p) => p.host,
        None => config
            .hosts
            .keys()
            .find(|h| cached(common_dir, h, false).is_some_and(|c| c.shards.iter().any(|s| s.shard.name == name)))?
            .clone(),
    };
    Host::lookup(config, &host).ok()
}

/// Parse `git-shard --version` of the other side: its release and whether it speaks our
/// protocol and records.
pub fn check_version(line: &str) -> std::result::Result<String, String> {
    let line = line.trim();
    let release = line.strip_prefix("git-shard ").unwrap_or(line);
    let ours = format!("(host protocol {PROTOCOL}, records {})", crate::shard::record::VERSION);
    if release.ends_with(&ours) {
        return Ok(release.to_owned());
    }
    Err(format!(
        "it runs git-shard {release}, which does not speak host protocol {PROTOCOL} with records {} (this one is {VERSION_LINE})",
        crate::shard::record::VERSION
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_line_names_the_protocol_and_record_version() {
        assert!(VERSION_LINE.contains(&format!("host protocol {PROTOCOL}, ")));
        assert!(VERSION_LINE.contains(&format!("records {})", crate::shard::record::VERSION)));
        assert!(check_version(&format!("git-shard {VERSION_LINE}\n")).is_ok());
        assert!(check_version("git-shard 0.0.9").is_err());
        let other = format!("git-shard 9.0.0 (host protocol {}, records 1)", PROTOCOL + 1);
        assert!(check_version(&other).is_err());
    }

    #[test]
    fn a_host_name_is_a_part_of_a_ref() {
        let spec = HostSpec {
            ssh: "devbox".into(),
            repo: "/srv/app".into(),
            git_shard: None,
        };
        assert!(check_spec("devbox", &spec).is_ok());
        assert!(check_spec("dev.box-2", &spec).is_ok());
        for bad in ["", "a..b", "box.lock", ".box", "-box", "_box", "a b", "a/b"] {
            assert!(check_spec(bad, &spec).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn remote_paths_keep_a_leading_tilde_for_the_remote_shell() {
        assert_eq!(remote_path("~/src/my app"), "~/'src/my app'");
        assert_eq!(remote_path("/srv/app"), "/srv/app");
        assert_eq!(remote_path("~/"), "~");
    }
}
