//! Terminals for real: tmux on a private server, and fake GUI terminals that record their argv and
//! run the supervisor they were given, so the identity recorded is still checked end to end.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use crate::common::*;

/// A fake terminal program: records its argv (NUL-separated, one file per call), answers
/// `kitten @ ls` per $FAKE_KITTEN_LS, and starts the supervisor argv it finds (detached, like a
/// GUI terminal would), with $FAKE_PANE_VAR=77 in its environment.
const FAKE: &str = r#"#!/bin/sh
me=$(basename "$0")
n=0; while [ -e "$FAKE_LOG/$me.$n" ]; do n=$((n+1)); done
printf '%s\0' "$me" "$@" > "$FAKE_LOG/$me.$n"
ls /proc/$$/fd > "$FAKE_LOG/$me.$n.fds" 2>/dev/null
if [ "$me $1 $2" = "kitten @ ls" ]; then exit "${FAKE_KITTEN_LS:-0}"; fi
while [ $# -gt 0 ]; do case "$1" in */git-shard) break;; esac; shift; done
if [ $# -gt 0 ]; then
  if [ -n "$FAKE_PANE_VAR" ]; then export "$FAKE_PANE_VAR=77"; fi
  setsid "$@" </dev/null >/dev/null 2>&1 &
fi
exit 0
"#;

struct Fakes {
    bin: PathBuf,
    log: PathBuf,
}

impl Fakes {
    fn new(repo: &TestRepo) -> Fakes {
        let bin = repo.tmp.path().join("fake-bin");
        let log = repo.tmp.path().join("fake-log");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(&log).unwrap();
        for name in [
            "wezterm",
            "kitten",
            "kitty",
            "ghostty",
            "alacritty",
            "foot",
            "gnome-terminal",
            "konsole",
            "xterm",
            "zellij",
        ] {
            let p = bin.join(name);
            fs::write(&p, FAKE).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        }
        Fakes { bin, log }
    }

    fn command(&self, repo: &TestRepo, args: &[&str]) -> Command {
        let mut cmd = repo.command_in(&repo.root, args);
        let path = format!("{}:{}", self.bin.display(), test_path().to_string_lossy());
        cmd.env("PATH", path).env("FAKE_LOG", &self.log);
        cmd
    }

    /// The descriptors `program` had open at its last call.
    fn last_fds(&self, program: &str) -> Vec<u32> {
        let n = self.calls(program).len() - 1;
        let listed = fs::read_to_string(self.log.join(format!("{program}.{n}.fds"))).unwrap();
        listed.split_whitespace().filter_map(|fd| fd.parse().ok()).collect()
    }

    /// Every recorded call of `program`, in order.
    fn calls(&self, program: &str) -> Vec<Vec<String>> {
        (0..)
            .map(|n| self.log.join(format!("{program}.{n}")))
            .take_while(|p| p.exists())
            .map(|p| {
                let raw = fs::read(p).unwrap();
                let mut v: Vec<String> = raw
                    .split(|b| *b == 0)
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect();
                v.pop(); // after the last NUL
                v
            })
            .collect()
    }
}

fn run_ok(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Checks the argv a terminal got: `prefix`, then the supervisor argv for shard `name`.
fn assert_launch(call: &[String], prefix: &[&str], name: &str, repo: &TestRepo) {
    assert_eq!(&call[..prefix.len()], prefix, "argv shape: {call:?}");
    let sup = &call[prefix.len()..];
    assert_eq!(sup[0], BIN, "{call:?}");
    assert_eq!(&sup[1..3], ["__run", name]);
    assert_eq!(
        sup[sup.len() - 4..sup.len() - 2],
        ["--git-common-dir".to_owned(), repo.common_dir().display().to_string()]
    );
    // The caller's environment is handed over through a socket; only its path is on the line.
    assert_eq!(sup[sup.len() - 2], "--env-from", "{call:?}");
    assert!(sup[sup.len() - 1].contains("git-shard"), "{call:?}");
}

#[test]
fn gui_terminals_get_the_right_argv_and_the_agent_is_recorded() {
    let repo = TestRepo::new();
    let fakes = Fakes::new(&repo);
    // A worktree folder full of shell syntax must still arrive as one literal argument.
    repo.user_config("watch_start = 0\nworktree_dir = \"{repo_parent}/odd $(touch pwned) 'q';`x` dir/{name}\"\n");
    let odd = |name: &str| {
        repo.tmp
            .path()
            .join(format!("odd $(touch pwned) 'q';`x` dir/{name}"))
            .display()
            .to_string()
    };

    let cases: Vec<(&str, &str, Vec<String>)> = vec![
        (
            "wezterm",
            "wezterm",
            vec![
                "wezterm".into(),
                "cli".into(),
                "spawn".into(),
                "--cwd".into(),
                odd("wezterm"),
                "--".into(),
            ],
        ),
        (
            "kitty",
            "kitten",
            vec![
                "kitten".into(),
                "@".into(),
                "launch".into(),
                "--type=tab".into(),
                "--cwd".into(),
                odd("kitty"),
                "--tab-title".into(),
                "git shard: kitty".into(),
            ],
        ),
        (
            "ghostty",
            "ghostty",
            vec![
                "ghostty".into(),
                format!("--working-directory={}", odd("ghostty")),
                "--title=git shard: ghostty".into(),
                "-e".into(),
            ],
        ),
        (
            "alacritty",
            "alacritty",
            vec![
                "alacritty".into(),
                "--working-directory".into(),
                odd("alacritty"),
                "--title".into(),
                "git shard: alacritty".into(),
                "-e".into(),
            ],
        ),
        (
            "foot",
            "foot",
            vec![
                "foot".into(),
                format!("--working-directory={}", odd("foot")),
                "--title=git shard: foot".into(),
            ],
        ),
        (
            "gnome-terminal",
            "gnome-terminal",
            vec![
                "gnome-terminal".into(),
                format!("--working-directory={}", odd("gnome-terminal")),
                "--title=git shard: gnome-terminal".into(),
                "--".into(),
            ],
        ),
        (
            "konsole",
            "konsole",
            vec![
                "konsole".into(),
                "--workdir".into(),
                odd("konsole"),
                "-p".into(),
                "tabtitle=git shard: konsole".into(),
                "-e".into(),
            ],
        ),
        (
            "xterm",
            "xterm",
            vec!["xterm".into(), "-T".into(), "git shard: xterm".into(), "-e".into()],
        ),
        (
            "zellij",
            "zellij",
            vec![
                "zellij".into(),
                "run".into(),
                "--name".into(),
                "zellij".into(),
                "--cwd".into(),
                odd("zellij"),
                "--close-on-exit".into(),
                "--".into(),
            ],
        ),
    ];
    for (terminal, program, prefix) in &cases {
        let mut cmd = fakes.command(&repo, &["new", terminal, "--terminal", terminal, "--", "sleep", "300"]);
        cmd.env("FAKE_PANE_VAR", "WEZTERM_PANE");
        run_ok(cmd);
        let calls = fakes.calls(program);
        let launch = calls.last().unwrap_or_else(|| panic!("{program} was not called"));
        let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
        assert_launch(launch, &prefix, terminal, &repo);
        let v = repo.shard(terminal);
        assert_eq!(v["status"], "running", "{terminal}: {v:#}");
        assert_eq!(
            proc_stat(pid_of(&v)).unwrap().0,
            "sleep",
            "{terminal}: the recorded PID is the agent's"
        );
        assert_eq!(v["terminal"], *terminal);
    }
    assert!(!repo.root.join("pwned").exists() && !repo.tmp.path().join("pwned").exists());

    // attach runs the terminal's focus argv with the pane id the supervisor saw.
    run_ok(fakes.command(&repo, &["attach", "wezterm"]));
    assert_eq!(
        fakes.calls("wezterm").last().unwrap(),
        &["wezterm", "cli", "activate-pane", "--pane-id", "77"]
    );
    // A terminal without a focus command says so and prints the path.
    let out = fakes.command(&repo, &["attach", "xterm"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be focused"));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), odd("xterm"));
    for (terminal, ..) in &cases {
        repo.ok(&["stop", "--grace", "1", terminal]);
    }
    // When its agent ended, the supervisor asked the terminal what the pane showed, for the log.
    eventually("wezterm asked for the pane's text", || {
        fakes
            .calls("wezterm")
            .iter()
            .any(|c| c[1..] == ["cli", "get-text", "--pane-id", "77", "--start-line", "-10000"])
    });
}

#[test]
fn kitty_without_remote_control_opens_an_os_window_and_focus_uses_the_window_id() {
    let repo = TestRepo::new();
    let fakes = Fakes::new(&repo);
    let mut cmd = fakes.command(&repo, &["new", "k", "--", "sleep", "300"]);
    // Detected from the environment; remote control does not answer.
    cmd.env("KITTY_WINDOW_ID", "3")
        .env("FAKE_KITTEN_LS", "1")
        .env("FAKE_PANE_VAR", "KITTY_WINDOW_ID");
    run_ok(cmd);
    let wt = repo.shards_dir().join("k").display().to_string();
    assert_launch(
        fakes.calls("kitty").last().unwrap(),
        &["kitty", "--directory", &wt, "--title", "git shard: k"],
        "k",
        &repo,
    );
    assert_eq!(repo.shard("k")["status"], "running");
    let mut cmd = fakes.command(&repo, &["attach", "k"]);
    cmd.env("KITTY_WINDOW_ID", "3");
    run_ok(cmd);
    assert_eq!(
        fakes.calls("kitten").last().unwrap(),
        &["kitten", "@", "focus-window", "--match", "id:77"]
    );
}

/// Run `cmd` with the write end of a pipe as its descriptor 3 (as `3>&1` into a command
/// substitution gives it) and return how long the pipe took to see its end: as long as anything
/// `cmd` started still holds that descriptor.
fn until_the_pipe_ends(mut cmd: Command) -> std::time::Duration {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    // Close-on-exec at both ends, so that no other test's child gets either; only this child
    // gets the write end, as its descriptor 3, which is not.
    let (mut reader, writer) = std::io::pipe().unwrap();
    let w = writer.as_raw_fd();
    // SAFETY: dup2 is async-signal-safe and touches only the child's table.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(w, 3) < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(())
            }
        });
    }
    let started = std::time::Instant::now();
    let out = cmd.stdout(std::process::Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    drop(writer);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = reader.read_to_end(&mut Vec::new());
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(std::time::Duration::from_secs(20));
    started.elapsed()
}

#[test]
fn a_detached_agent_keeps_nothing_the_caller_left_open() {
    let repo = TestRepo::new();
    let fakes = Fakes::new(&repo);
    // Setup that leaves a server running (a build cache's, say): not the caller's to wait for.
    repo.user_config("setup = [{ sh = \"sleep 60 >/dev/null 2>&1 &\" }]\n");
    // A terminal (here a fake kitty, which starts the supervisor and exits) and the headless run.
    let kitty = fakes.command(&repo, &["new", "k", "--terminal", "kitty", "--", "sleep", "300"]);
    let background = repo.command_in(
        &repo.root,
        &["new", "b", "--terminal", "background", "--", "sleep", "300"],
    );
    for (name, cmd) in [("k", kitty), ("b", background)] {
        let took = until_the_pipe_ends(cmd);
        assert!(
            took < std::time::Duration::from_secs(15),
            "{name}: the caller's pipe was held for {took:?}"
        );
        let pid = pid_of(&repo.wait_for(name, "running", |v| v["status"] == "running"));
        let mut fds: Vec<String> = fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        fds.sort();
        assert_eq!(fds, ["0", "1", "2"], "{name}: the agent's descriptors");
        repo.ok(&["stop", name]);
    }
}

/// kitty hands a window its remote control as a descriptor (`KITTY_LISTEN_ON=fd:<n>`): the one
/// inherited descriptor a launch keeps, since the kitty template's `kitten @` talks through it.
#[test]
fn kitty_keeps_the_remote_control_descriptor_it_named() {
    use std::os::unix::process::CommandExt;
    let repo = TestRepo::new();
    let fakes = Fakes::new(&repo);
    let mut cmd = fakes.command(&repo, &["new", "k", "--", "sleep", "300"]);
    cmd.env("KITTY_WINDOW_ID", "3").env("KITTY_LISTEN_ON", "fd:7");
    // SAFETY: open, dup2 and close are async-signal-safe and touch only the child's table.
    unsafe {
        cmd.pre_exec(|| {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
            for fd in [7, 8] {
                if libc::dup2(null, fd) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            libc::close(null);
            Ok(())
        });
    }
    run_ok(cmd);
    // Remote control answered: a tab, through `kitten @ launch`.
    assert_eq!(&fakes.calls("kitten").last().unwrap()[..3], ["kitten", "@", "launch"]);
    let fds = fakes.last_fds("kitten");
    assert!(fds.contains(&7), "kitty's descriptor kept: {fds:?}");
    assert!(!fds.contains(&8), "another one not: {fds:?}");
    repo.ok(&["stop", "k"]);
}

#[test]
fn a_branch_full_of_metacharacters_is_one_literal_argument() {
    let repo = TestRepo::new();
    let fakes = Fakes::new(&repo);
    repo.user_config(
        "watch_start = 0\n[terminals.custom]\ncommand = [\"xterm\", \"--branch={branch}\", \"{name}\", \"{cmd...}\"]\n",
    );
    let branch = "feat/$(touch${IFS}pwned);`touch${IFS}pwned2`|&'\"x<>";
    run_ok(fakes.command(
        &repo,
        &[
            "new",
            "meta",
            "--terminal",
            "custom",
            "--branch",
            branch,
            "--",
            "sleep",
            "300",
        ],
    ));
    let call = fakes.calls("xterm").pop().unwrap();
    assert_eq!(call[1], format!("--branch={branch}"));
    assert_eq!(call[2], "meta");
    assert!(!repo.root.join("pwned").exists() && !repo.root.join("pwned2").exists());
    assert_eq!(repo.shard("meta")["branch"], branch);
}

#[test]
fn detection_is_reported_by_config_show() {
    let repo = TestRepo::new();
    for (var, value, want) in [
        ("TMUX", "/tmp/x,1,0", "tmux ($TMUX is set)"),
        ("ZELLIJ", "0", "zellij ($ZELLIJ is set)"),
        ("WEZTERM_PANE", "1", "wezterm ($WEZTERM_PANE is set)"),
        ("KITTY_WINDOW_ID", "1", "kitty ($KITTY_WINDOW_ID is set)"),
        ("TERM_PROGRAM", "ghostty", "ghostty ($TERM_PROGRAM=ghostty is set)"),
        ("TERM_PROGRAM", "WezTerm", "wezterm ($TERM_PROGRAM=WezTerm is set)"),
        (
            "TERM_PROGRAM",
            "vscode",
            "background (standard input is not a terminal)",
        ),
    ] {
        let out = repo
            .command_in(&repo.root, &["config", "--show"])
            .env(var, value)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("# terminal for `new`: {want}")),
            "{var}={value}:\n{text}"
        );
    }
}

/// A private tmux server (its own socket folder), killed when dropped.
pub struct Tmux {
    dir: tempfile::TempDir,
}

impl Tmux {
    pub fn start() -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            require_tool("tmux");
            return None;
        }
        // Short path: socket paths are limited to ~100 bytes.
        let dir = tempfile::Builder::new().prefix("gs-tmux").tempdir_in("/tmp").unwrap();
        let t = Tmux { dir };
        t.ok(&["new-session", "-d", "-s", "main", "-n", "home", "-x", "120", "-y", "40"]);
        Some(t)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        // No tmux.conf of the developer's (a default-shell, window numbering) for this server, and
        // none of the runner's environment but PATH: the server hands its environment to every
        // window (a developer's GIT_DIR or XDG_CONFIG_HOME would reach the commands tested).
        // `-u`: glyphs whatever the locale.
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("TERM", "xterm")
            .env("TMUX_TMPDIR", self.dir.path())
            .args(["-u", "-f", "/dev/null"])
            .args(args);
        c
    }

    /// Its `TMUX_TMPDIR`: a tmux started with it reaches this server.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Run `command` (a shell command line) in a new window `name` of the `main` session, in `dir`:
    /// a stand-in for a user's terminal, driven with [`Tmux::send`] and read with [`Tmux::screen`].
    pub fn open(&self, name: &str, dir: &std::path::Path, command: &str) {
        self.ok(&[
            "new-window",
            "-t",
            "main",
            "-n",
            name,
            "-c",
            dir.to_str().unwrap(),
            command,
        ]);
    }

    /// What window `name` shows now.
    pub fn screen(&self, name: &str) -> String {
        self.ok(&["capture-pane", "-p", "-t", &format!("=main:{name}")])
    }

    /// Type `keys` (tmux key names, e.g. `Enter`, `Tab`, `C-z`) into window `name`.
    pub fn send(&self, name: &str, keys: &[&str]) {
        let target = format!("=main:{name}");
        let mut args = vec!["send-keys", "-t", &target];
        args.extend_from_slice(keys);
        self.ok(&args);
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn socket(&self) -> String {
        self.ok(&["display-message", "-p", "-t", "main", "#{socket_path}"])
            .trim()
            .to_owned()
    }

    /// `$TMUX` as a process inside this server's `main` session sees it.
    fn env_value(&self) -> String {
        let pid = self.ok(&["display-message", "-p", "#{pid}"]).trim().to_owned();
        format!("{},{pid},0", self.socket())
    }

    /// Window name → pane pid, for one session.
    fn windows(&self, session: &str) -> Vec<(String, u32)> {
        let out = self
            .cmd(&[
                "list-windows",
                "-t",
                &format!("={session}"),
                "-F",
                "#{window_name} #{pane_pid}",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(n, p)| (n.to_owned(), p.parse().unwrap())))
            .collect()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).output();
    }
}

fn shard_in_tmux(repo: &TestRepo, tmux: &Tmux, args: &[&str], inside: bool) -> Command {
    let mut cmd = repo.command_in(&repo.root, args);
    cmd.env("TMUX_TMPDIR", tmux.dir.path());
    if inside {
        cmd.env("TMUX", tmux.env_value());
    }
    cmd
}

fn wait_until(what: &str, pred: impl Fn() -> bool) {
    eventually(what, pred)
}

#[test]
fn tmux_window_runs_the_agent_and_attach_stop_rm_act_on_it() {
    let repo = TestRepo::new();
    let Some(tmux) = Tmux::start() else { return };
    // Inside tmux: detected from $TMUX, a new window in the current session.
    run_ok(shard_in_tmux(
        &repo,
        &tmux,
        &["new", "win", "--", "sh", "-c", "sleep 300 & wait"],
        true,
    ));
    let v = repo.shard("win");
    assert_eq!(v["terminal"], "tmux");
    let windows = tmux.windows("main");
    let (_, pane_pid) = windows
        .iter()
        .find(|(n, _)| n == "win")
        .unwrap_or_else(|| panic!("no window 'win': {windows:?}"));
    // The pane runs the supervisor; the recorded PID is its child, the agent.
    assert_eq!(*pane_pid as u64, v["process"]["supervisor_pid"].as_u64().unwrap());
    let agent = pid_of(&v);
    assert_eq!(proc_stat(agent).unwrap().2, *pane_pid);
    assert_eq!(proc_stat(agent).unwrap().0, "sh");

    // attach selects the window; a control-mode client stands in for the user's terminal.
    tmux.ok(&["select-window", "-t", "=main:home"]);
    let mut client = tmux.cmd(&["-C", "attach-session", "-t", "main"]);
    let mut client = client
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("control client", || tmux.ok(&["list-clients"]).lines().count() == 1);
    run_ok(shard_in_tmux(&repo, &tmux, &["attach", "win"], true));
    assert_eq!(
        tmux.ok(&["display-message", "-p", "-t", "main", "#{window_name}"])
            .trim(),
        "win"
    );
    drop(client.stdin.take());
    let _ = client.kill();
    let _ = client.wait();

    // stop takes down the agent and its children; the window closes with the supervisor.
    let sid = v["process"]["sid"].as_u64().unwrap() as u32;
    repo.ok(&["stop", "win"]);
    assert!(session_members(sid).is_empty());
    wait_until("window closed", || {
        !tmux.windows("main").iter().any(|(n, _)| n == "win")
    });

    // Outside tmux: a detached session named after the repository; rm closes its window.
    run_ok(shard_in_tmux(
        &repo,
        &tmux,
        &["new", "out", "--terminal", "tmux", "--", "sleep", "300"],
        false,
    ));
    run_ok(shard_in_tmux(
        &repo,
        &tmux,
        &["new", "out2", "--terminal", "tmux", "--", "sleep", "300"],
        false,
    ));
    let names: Vec<String> = tmux.windows("repo").into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["out", "out2"]);
    assert_eq!(proc_stat(pid_of(&repo.shard("out"))).unwrap().0, "sleep");
    run_ok(shard_in_tmux(&repo, &tmux, &["rm", "out"], false));
    wait_until("window closed by rm", || {
        tmux.windows("repo").iter().all(|(n, _)| n != "out")
    });
    assert!(!repo.shards_dir().join("out").exists());
}

/// tmux's server has its own global environment: a variable exported before `new` reaches the
/// agent only because `new` hands it over (never on a command line), and the pane's own variables
/// win. And a repository folder with a dot gets one session for all its shards.
#[test]
fn a_tmux_agent_gets_the_callers_environment_and_dotted_repositories_share_a_session() {
    let repo = TestRepo::named("my.app");
    let Some(tmux) = Tmux::start() else { return };
    let secret = format!("s3cret-{}", std::process::id());
    let agent = "printf '%s|%s|%s' \"$SECRET_KEY\" \"$TMUX_PANE\" \"$PWD\" > env.txt; sleep 300";
    for name in ["one", "two"] {
        let mut cmd = shard_in_tmux(
            &repo,
            &tmux,
            &["new", name, "--terminal", "tmux", "--", "sh", "-c", agent],
            false,
        );
        cmd.env("SECRET_KEY", &secret).env("TMUX_PANE", "%caller");
        run_ok(cmd);
    }
    let names: Vec<String> = tmux.windows("my_app").into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["one", "two"], "both shards in tmux's session my_app");
    let file = repo.shards_dir().join("one/env.txt");
    wait_until("the agent wrote its environment", || file.exists());
    let got = fs::read_to_string(&file).unwrap();
    let fields: Vec<&str> = got.split('|').collect();
    assert_eq!(fields[0], secret, "the caller's variable arrived: {got}");
    assert!(
        fields[1].starts_with('%') && fields[1] != "%caller",
        "the pane's own TMUX_PANE wins: {got}"
    );
    assert_eq!(fields[2], repo.shards_dir().join("one").to_str().unwrap(), "{got}");
    // The secret is on no process's command line.
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = fs::read(entry.path().join("cmdline")) {
            assert!(
                !String::from_utf8_lossy(&cmdline).contains(&secret),
                "{} shows the secret",
                entry.path().display()
            );
        }
    }
    for name in ["one", "two"] {
        run_ok(shard_in_tmux(&repo, &tmux, &["stop", name], false));
    }
}

/// An agent that fails at start in a terminal leaves its message behind: `new` reports it with
/// what the pane showed, `logs` has it, the window waits for a key, and the shard is kept.
#[test]
fn a_tmux_agent_that_fails_at_start_is_reported_logged_and_held() {
    let repo = TestRepo::new();
    let Some(tmux) = Tmux::start() else { return };
    let agent = "echo 'Unable to connect to the API (ECONNREFUSED)'; exit 3";
    let out = shard_in_tmux(
        &repo,
        &tmux,
        &["new", "bad", "--terminal", "tmux", "--", "sh", "-c", agent],
        false,
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("ended with exit status 3"), "{err}");
    assert!(
        err.contains("Unable to connect to the API"),
        "what the pane showed: {err}"
    );
    assert!(err.contains("git shard run bad"), "{err}");
    // Kept, for `run` once fixed; `logs` has the pane's text.
    assert_eq!(repo.shard("bad")["status"], "exited");
    let logs = repo.ok(&["logs", "bad"]);
    assert!(logs.contains("Unable to connect to the API"), "{logs}");
    // The window stays open on the failure until a key is pressed.
    let window = || tmux.windows("repo").into_iter().any(|(n, _)| n == "bad");
    assert!(window(), "the window was held open");
    wait_until("the hold message", || {
        tmux.ok(&["capture-pane", "-p", "-t", "=repo:bad"])
            .contains("Press Enter")
    });
    tmux.ok(&["send-keys", "-t", "=repo:bad", "Enter"]);
    wait_until("the window closed after Enter", || !window());

    // A stopped agent is not a failure: its window closes at once.
    run_ok(shard_in_tmux(
        &repo,
        &tmux,
        &["new", "calm", "--terminal", "tmux", "--", "sleep", "300"],
        false,
    ));
    repo.ok(&["stop", "calm"]);
    wait_until("the stopped agent's window closed", || {
        !tmux.windows("repo").into_iter().any(|(n, _)| n == "calm")
    });
}

/// `attach` from outside tmux, with no client on the shard's server, attaches a terminal to the
/// shard's window. The user's terminal is a window of a second, unrelated tmux server.
#[test]
fn attach_from_outside_tmux_attaches_when_no_client_is_there() {
    let repo = TestRepo::new();
    let Some(inner) = Tmux::start() else { return };
    let Some(outer) = Tmux::start() else { return };
    run_ok(shard_in_tmux(
        &repo,
        &inner,
        &["new", "far", "--terminal", "tmux", "--", "sleep", "300"],
        false,
    ));
    assert_eq!(inner.ok(&["list-clients"]).lines().count(), 0, "no client yet");
    let home = repo.home();
    let script = format!(
        "env -i PATH={path} HOME={home} XDG_CONFIG_HOME={home}/.config GIT_CONFIG_GLOBAL=/dev/null \
         GIT_CONFIG_NOSYSTEM=1 TERM=xterm TMUX_TMPDIR={dir} {bin} attach far; sleep 60",
        path = test_path().to_string_lossy(),
        home = home.display(),
        dir = inner.dir.path().display(),
        bin = BIN,
    );
    outer.open("user", &repo.root, &script);
    wait_until("a client attached to the shard's server", || {
        inner.ok(&["list-clients"]).lines().count() == 1
    });
    let client = inner.ok(&["list-clients", "-F", "#{session_name}:#{window_name}"]);
    assert_eq!(client.trim(), "repo:far", "{client}");
    run_ok(shard_in_tmux(&repo, &inner, &["stop", "far"], false));
}

/// No notification while the user looks at the agent's pane; one when they look elsewhere.
#[test]
fn notifications_wait_while_the_user_looks_at_the_agents_tmux_pane() {
    use crate::activity::{FAKE_CLAUDE, fire, install_fake};
    let repo = TestRepo::new();
    let Some(tmux) = Tmux::start() else { return };
    let path = install_fake(&repo, "claude", FAKE_CLAUDE);
    let calls = repo.tmp.path().join("notified");
    repo.user_config(&format!(
        "watch_start = 0\nnotify = [\"sh\", \"-c\", \"echo {{activity}} >> {}\"]\n",
        calls.display()
    ));
    let mut cmd = shard_in_tmux(&repo, &tmux, &["new", "seen", "--", "claude"], true);
    cmd.env("PATH", &path);
    run_ok(cmd);
    let wt = repo.shards_dir().join("seen");
    // A client looks at the session, and the agent's window is the active one.
    let mut client = tmux
        .cmd(&["-C", "attach-session", "-t", "main"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("control client", || tmux.ok(&["list-clients"]).lines().count() == 1);
    tmux.ok(&["select-window", "-t", "=main:seen"]);
    fire(
        &wt,
        r#"{"hook_event_name":"Notification","notification_type":"permission_prompt","message":"m"}"#,
    );
    assert_eq!(repo.shard("seen")["activity"], "waiting");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!calls.exists(), "told while the user looked at the pane");
    // Looking elsewhere: the next transition is told.
    tmux.ok(&["select-window", "-t", "=main:home"]);
    fire(&wt, r#"{"hook_event_name":"Stop"}"#);
    wait_until("told once looking elsewhere", || {
        fs::read_to_string(&calls).is_ok_and(|t| t == "idle\n")
    });
    drop(client.stdin.take());
    let _ = client.kill();
    let _ = client.wait();
    repo.ok(&["stop", "seen"]);
}

/// When `new` is what starts the tmux server, the server keeps the launcher's folder for good: that
/// must not be the shard's worktree, or every later `rm` would report the server as a process
/// left running in it.
#[test]
fn a_tmux_server_started_by_new_does_not_live_in_the_worktree() {
    let repo = TestRepo::new();
    if Command::new("tmux").arg("-V").output().is_err() {
        return require_tool("tmux");
    }
    // No server yet on this private socket folder: `new` starts it.
    let dir = tempfile::Builder::new().prefix("gs-tmux").tempdir_in("/tmp").unwrap();
    let tmux = Tmux { dir };
    run_ok(shard_in_tmux(
        &repo,
        &tmux,
        &["new", "srv", "--terminal", "tmux", "--", "sleep", "300"],
        false,
    ));
    let server: u32 = tmux.ok(&["display-message", "-p", "#{pid}"]).trim().parse().unwrap();
    let cwd = fs::read_link(format!("/proc/{server}/cwd")).unwrap();
    let worktree = repo.shards_dir().join("srv");
    assert!(!cwd.starts_with(&worktree), "tmux server runs in {}", cwd.display());
    let out = shard_in_tmux(&repo, &tmux, &["rm", "srv"], false).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("still running in its worktree"), "{err}");
}

/// Under CI a missing tool is a failure; on a developer's machine the test says so and skips.
pub fn require_tool(tool: &str) {
    require(&format!("{tool} is not installed"), "install it");
}

/// A test cannot run here because `what`: said loudly (`fix` says what to do), or a failure
/// under CI, where the machine is set up for every test.
pub fn require(what: &str, fix: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("required under CI: {what}");
    }
    // Past the harness's capture of `eprintln!`, which would show a skipped test as a plain `ok`.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what}; {fix} to run this test");
}

#[test]
fn inline_in_a_real_terminal_supports_job_control() {
    let repo = TestRepo::new();
    let Some(tmux) = Tmux::start() else { return };
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    // An interactive bash in a tmux pane stands in for the user's terminal.
    let shell = format!(
        "env -i HOME={home} PATH={bin}:/usr/bin:/bin GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 TERM=screen PS1='READY> ' bash --norc --noprofile",
        home = repo.home().display(),
        bin = bin_dir.display()
    );
    tmux.open("job", &repo.root, &shell);
    let screen = || tmux.screen("job");
    let send = |keys: &[&str]| tmux.send("job", keys);
    wait_until("shell prompt", || screen().contains("READY>"));
    send(&[
        "git shard new z --terminal inline -- sh -c 'sleep 1; echo done-z'",
        "Enter",
    ]);
    wait_until("agent running", || {
        repo.list().iter().any(|v| v["name"] == "z" && v["status"] == "running")
    });
    send(&["C-z"]);
    // The prompt comes back with the job stopped, instead of a frozen terminal.
    wait_until("prompt after Ctrl-Z", || screen().matches("READY>").count() >= 2);
    assert!(screen().contains("Stopped"), "{}", screen());
    send(&["fg", "Enter"]);
    wait_until("agent finished", || screen().contains("done-z"));
    wait_until("prompt after the agent", || screen().matches("READY>").count() >= 3);
    let v = repo.shard("z");
    assert_eq!(
        (v["status"].as_str(), v["exit_code"].as_i64()),
        (Some("exited"), Some(0)),
        "{v:#}"
    );
}

/// JSON is indented for a person at a terminal and compact for a program (a host's `list` is
/// read by the `list` that asked it).
#[test]
fn json_is_indented_on_a_terminal_and_compact_in_a_pipe() {
    let repo = TestRepo::new();
    repo.ok(&["new", "js", "--no-launch", "--", "true"]);
    let piped = repo.ok(&["list", "--json"]);
    assert_eq!(piped.lines().count(), 1, "{piped}");
    assert!(piped.contains("\"name\":\"js\""), "{piped}");
    let prompt = repo.ok(&["prompt", "--json"]);
    assert_eq!(prompt.lines().count(), 1, "{prompt}");
    assert!(prompt.starts_with("{\"location\":\"main\""), "{prompt}");
    let Some(tmux) = Tmux::start() else { return };
    let home = repo.home();
    let script = |args: &str| {
        format!(
            "env -i PATH={path} HOME={home} XDG_CONFIG_HOME={home}/.config GIT_CONFIG_GLOBAL=/dev/null \
             GIT_CONFIG_NOSYSTEM=1 TERM=xterm {bin} {args}; sleep 60",
            path = test_path().to_string_lossy(),
            home = home.display(),
            bin = BIN,
        )
    };
    tmux.open("user", &repo.root, &script("list --json"));
    wait_until("the JSON on the terminal", || tmux.screen("user").contains("\"js\""));
    let screen = tmux.screen("user");
    assert!(screen.lines().any(|l| l == "    \"name\": \"js\","), "{screen}");
    tmux.open("prompt", &repo.root, &script("prompt --json"));
    wait_until("the prompt's JSON on the terminal", || {
        tmux.screen("prompt").contains("\"hosts\"")
    });
    let screen = tmux.screen("prompt");
    assert!(screen.lines().any(|l| l == "  \"location\": \"main\","), "{screen}");
}
