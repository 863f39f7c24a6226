//! Shards on another machine, through a real OpenSSH server on loopback (`sshd.rs`): the "remote"
//! is a second repository with its own HOME, reached only over ssh; the agent's identity is
//! checked there by the remote git-shard (and here in /proc, as it is the same kernel).

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::sshd::Sshd;

/// This machine's repository, the "remote" one, and the server between them.
struct Pair {
    local: TestRepo,
    remote: TestRepo,
    sshd: Sshd,
}

impl Pair {
    /// `None` (said loudly) where sshd is missing outside CI.
    fn new() -> Option<Pair> {
        Pair::with_env(&[])
    }

    /// [`Pair::new`] with more of the host's environment (`TMUX_TMPDIR`, say).
    fn with_env(extra: &[(&str, &str)]) -> Option<Pair> {
        let local = TestRepo::new();
        // The same first commit (fixed dates and author): a clone of this repository.
        let remote = TestRepo::named("clone");
        let home = remote.home();
        let run = private_runtime_dir(&home);
        // The host's temporary files of its own, to be counted (`new --host` makes two).
        let tmp = home.join("tmp");
        fs::create_dir_all(&tmp).unwrap();
        let path = test_path().to_str().unwrap().to_owned();
        let env: Vec<(String, String)> = vec![
            ("HOME".into(), home.display().to_string()),
            ("TMPDIR".into(), tmp.display().to_string()),
            ("XDG_CONFIG_HOME".into(), home.join(".config").display().to_string()),
            ("XDG_RUNTIME_DIR".into(), run.display().to_string()),
            ("PATH".into(), path),
            ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
            ("GIT_AUTHOR_NAME".into(), "Test".into()),
            ("GIT_AUTHOR_EMAIL".into(), "test@example.com".into()),
            ("GIT_COMMITTER_NAME".into(), "Test".into()),
            ("GIT_COMMITTER_EMAIL".into(), "test@example.com".into()),
            ("SHELL".into(), "/bin/sh".into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("TZ".into(), "UTC".into()),
        ];
        let env: Vec<(String, String)> = env
            .into_iter()
            .chain(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
            .collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let sshd = Sshd::start(&env)?;
        // Work here that the host has not seen: `new --host` must carry it there.
        fs::write(local.root.join("work.txt"), "from here\n").unwrap();
        local.git(&["add", "work.txt"]);
        local.git(&["commit", "-q", "-m", "work from here"]);
        Some(Pair { local, remote, sshd })
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.local.command_in(&self.local.root, args);
        cmd.env("GIT_SHARD_SSH", self.sshd.ssh_command());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        succeeded(args, self.run(args))
    }

    /// What a command that succeeded said on stderr (where git-shard reports what it did).
    fn said(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        succeeded(args, out);
        err
    }

    fn refused(&self, args: &[&str]) -> String {
        refused(args, self.run(args))
    }

    /// A shard made on the host, its agent `command` in the background there.
    fn new_there(&self, name: &str, command: &[&str]) -> String {
        let mut args = vec!["new", name, "--host", "devbox", "--terminal", "background", "--"];
        args.extend(command);
        self.ok(&args)
    }

    fn add_host(&self) -> String {
        self.ok(&self.add_host_args(BIN))
    }

    /// `host add devbox` for the clone there, with `git_shard` as the git-shard there.
    fn add_host_args<'a>(&'a self, git_shard: &'a str) -> [&'a str; 9] {
        [
            "host",
            "add",
            "devbox",
            "--ssh",
            self.sshd.host(),
            "--repo",
            self.remote.root.to_str().unwrap(),
            "--git-shard",
            git_shard,
        ]
    }

    fn list(&self) -> Vec<Value> {
        serde_json::from_str(&self.ok(&["list", "--json"])).unwrap()
    }

    fn pointer(&self, name: &str) -> std::path::PathBuf {
        self.local
            .common_dir()
            .join("shards/remote")
            .join(format!("{name}.toml"))
    }
}

/// Whether a process whose command line holds `words` runs in `dir` (this test's: other tests
/// run the same commands at the same time).
fn running_with(words: &str, dir: &Path) -> bool {
    fs::read_dir("/proc").unwrap().flatten().any(|e| {
        fs::read(e.path().join("cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(words))
            && fs::read_link(e.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
    })
}

fn find<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no shard {name} in {list:?}"))
}

#[test]
fn a_shard_on_a_host_runs_there_and_is_seen_stopped_fetched_and_removed_from_here() {
    let Some(p) = Pair::new() else { return };
    let said = p.add_host();
    assert!(said.contains("host 'devbox' added"), "{said}");
    let checked = p.ok(&["host", "check", "devbox"]);
    assert!(checked.contains("a clone of this repository"), "{checked}");
    assert!(checked.contains("host protocol 2"), "{checked}");

    p.new_there("r1", &["sh", "-c", "echo hello from devbox; exec sleep 300"]);
    let head = p.local.git(&["rev-parse", "HEAD"]).trim().to_owned();
    // Made there, by the host's git-shard: the record, the worktree and the agent are there.
    let there = p.remote.shard("r1");
    assert_eq!(there["status"], "running");
    assert_eq!(
        there["base_commit"],
        head.as_str(),
        "the shard starts from this machine's HEAD"
    );
    let pid = pid_of(&there);
    assert!(alive(pid));
    assert!(Path::new(there["path"].as_str().unwrap()).join("work.txt").is_file());
    // The private ref the base travelled in is gone again; no branch of the user's was touched.
    assert_eq!(p.remote.git(&["for-each-ref", "refs/git-shard/"]), "");
    assert_eq!(p.remote.branches(), vec!["main".to_owned(), "shard/r1".to_owned()]);
    // Here: only the pointer; no worktree, no branch.
    assert!(p.pointer("r1").is_file());
    // The host cannot be pointed at another machine while its shards live there.
    let said = p.refused(&[
        "host",
        "add",
        "devbox",
        "--ssh",
        "elsewhere",
        "--repo",
        "/srv/app",
        "--no-check",
    ]);
    assert!(
        said.contains("configured otherwise, and shards live on it: r1"),
        "{said}"
    );
    assert!(p.local.worktrees().len() == 1 && !p.local.branches().contains(&"shard/r1".to_owned()));

    // One overview: the shard is listed here with its host and the true state from there.
    let here = find(&p.list(), "r1").clone();
    assert_eq!(here["host"], "devbox");
    assert_eq!(here["status"], "running");
    assert_eq!(here["pid"], pid);
    let table = p.ok(&["list"]);
    assert!(table.contains("running (pid") && table.contains("devbox:"), "{table}");
    // Commands forward to the host.
    let status: Value = serde_json::from_str(&p.ok(&["status", "r1", "--json"])).unwrap();
    assert!(there["process"]["start_ticks"].is_u64(), "{there}");
    assert_eq!(status["process"]["start_ticks"], there["process"]["start_ticks"]);
    let path = p.ok(&["path", "r1"]);
    assert_eq!(path.trim(), format!("devbox:{}", there["path"].as_str().unwrap()));
    // `cd` opens a login shell there, in the worktree (here it reads its commands from stdin).
    let mut cd = p.cmd(&["cd", "r1"]);
    cd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cd.spawn().unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"pwd\n").unwrap();
    let shell = child.wait_with_output().unwrap();
    assert!(shell.status.success(), "{}", String::from_utf8_lossy(&shell.stderr));
    // The last line: a system's profile may say something first.
    assert_eq!(
        String::from_utf8_lossy(&shell.stdout).trim().lines().last(),
        there["path"].as_str()
    );
    eventually("the agent's output in its log there", || {
        p.ok(&["logs", "r1"]).contains("hello from devbox")
    });
    // The host's exit status comes back: 3 is `wait`'s "timed out".
    let waited = p.run(&["wait", "r1", "--for", "exit", "--timeout", "0.2"]);
    assert_eq!(
        waited.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&waited.stderr)
    );
    // A name that is nowhere is said to be nowhere, also next to a remote one.
    let said = p.refused(&["wait", "r1", "nowhere"]);
    assert!(said.contains("no shard named 'nowhere' here or on a host"), "{said}");
    p.ok(&["stop", "r1", "--grace", "0"]);
    eventually("the agent gone", || !alive(pid));
    assert_eq!(p.remote.shard("r1")["status"], "stopped");

    // Bring the work home: the branch is created here, and fast-forwarded later.
    let wt = there["path"].as_str().unwrap().to_owned();
    let commit_there = |file: &str| {
        fs::write(Path::new(&wt).join(file), "agent work\n").unwrap();
        p.remote.git_in(Path::new(&wt), &["add", file]);
        p.remote.git_in(Path::new(&wt), &["commit", "-q", "-m", file]);
        p.remote
            .git_in(Path::new(&wt), &["rev-parse", "HEAD"])
            .trim()
            .to_owned()
    };
    let first = commit_there("one.txt");
    let diff = p.ok(&["diff", "r1", "--name-only"]);
    assert_eq!(diff.trim(), "one.txt", "diff runs there, against the shard's base");
    let said = p.ok(&["fetch", "r1"]);
    assert!(said.contains("created branch 'shard/r1'"), "{said}");
    assert_eq!(p.local.git(&["rev-parse", "shard/r1"]).trim(), first);
    assert_eq!(
        p.local.git(&["rev-parse", "refs/remotes/devbox/shard/r1"]).trim(),
        first
    );
    let second = commit_there("two.txt");
    let said = p.ok(&["fetch", "r1"]);
    assert!(said.contains("fast-forwarded"), "{said}");
    assert_eq!(p.local.git(&["rev-parse", "shard/r1"]).trim(), second);
    // A local commit on the branch: the next fetch leaves it where it is.
    let mine = p
        .local
        .git(&["commit-tree", "-p", "shard/r1", "-m", "mine", "shard/r1^{tree}"])
        .trim()
        .to_owned();
    p.local.git(&["update-ref", "refs/heads/shard/r1", &mine]);
    let third = commit_there("three.txt");
    let said = p.ok(&["fetch", "r1"]);
    assert!(said.contains("left alone"), "{said}");
    assert_eq!(p.local.git(&["rev-parse", "shard/r1"]).trim(), mine);
    assert_eq!(p.local.git(&["rev-parse", "devbox/shard/r1"]).trim(), third);

    // A git remote added since, named like the host, is refused its refs.
    p.local.git(&["remote", "add", "devbox", "/nowhere"]);
    let said = p.refused(&["fetch", "r1"]);
    assert!(said.contains("a git remote named 'devbox'"), "{said}");
    p.local.git(&["remote", "remove", "devbox"]);

    // rm there; the pointer goes with it.
    p.ok(&["rm", "r1"]);
    assert!(!p.pointer("r1").exists());
    assert!(p.remote.list().is_empty());
    assert!(!Path::new(&wt).exists());
}

#[test]
fn a_remote_shards_work_is_merged_and_opened_as_a_pull_request_from_here() {
    let Some(p) = Pair::new() else { return };
    p.add_host();
    p.new_there(
        "m",
        &[
            "sh",
            "-c",
            "echo m > m.txt && git add m.txt && git commit -q -m 'm work' && exec sleep 300",
        ],
    );
    let there = p.remote.shard("m");
    let wt = std::path::PathBuf::from(there["path"].as_str().unwrap());
    eventually("the agent's commit there", || {
        p.remote.git_in(&wt, &["log", "-1", "--format=%s"]).trim() == "m work"
    });
    let said = p.refused(&["merge", "m"]);
    assert!(said.contains("is running") && said.contains("host 'devbox'"), "{said}");
    p.ok(&["stop", "m", "--grace", "0"]);
    // Work left uncommitted there is never left behind silently.
    fs::write(wt.join("loose.txt"), "loose\n").unwrap();
    let main_before = p.local.git(&["rev-parse", "main"]);
    let remote_main = p.remote.git(&["rev-parse", "main"]);
    let said = p.refused(&["merge", "m"]);
    assert!(
        said.contains("uncommitted work (1 file(s))") && said.contains("--commit-all"),
        "{said}"
    );
    assert_eq!(p.local.git(&["rev-parse", "main"]), main_before);
    assert!(
        !p.local.branches().contains(&"shard/m".to_owned()),
        "nothing fetched yet"
    );
    // main moved here meanwhile: the fetched branch is rebased onto it (in a worktree of its own),
    // then main fast-forwarded.
    fs::write(p.local.root.join("later.txt"), "later\n").unwrap();
    p.local.git(&["add", "later.txt"]);
    p.local.git(&["commit", "-q", "-m", "later here"]);
    // Everything that can refuse here is asked before anything changes there: main checked out
    // with a change is refused, and the work there is still uncommitted.
    fs::write(p.local.root.join("work.txt"), "changed here\n").unwrap();
    let said = p.refused(&["merge", "m", "--commit-all"]);
    assert!(said.contains("uncommitted changes"), "{said}");
    assert_eq!(p.remote.git_in(&wt, &["status", "--porcelain"]), "?? loose.txt\n");
    p.local.git(&["checkout", "--", "work.txt"]);
    // A worktree there that left its branch is refused too.
    p.remote.git_in(&wt, &["switch", "-q", "--detach"]);
    let said = p.refused(&["merge", "m", "--commit-all"]);
    assert!(said.contains("not on its branch 'shard/m'"), "{said}");
    p.remote.git_in(&wt, &["switch", "-q", "shard/m"]);
    let said = p.said(&["merge", "m", "--commit-all"]);
    assert!(said.contains("committed its uncommitted work there"), "{said}");
    assert!(
        said.contains("main fast-forwarded") && said.contains("rebased first"),
        "{said}"
    );
    let log = p.local.git(&["log", "--format=%s", "main"]);
    assert_eq!(
        log.lines().take(4).collect::<Vec<_>>(),
        ["Uncommitted work of shard m", "m work", "later here", "work from here"],
        "{log}"
    );
    for file in ["m.txt", "loose.txt", "later.txt"] {
        assert!(p.local.root.join(file).is_file(), "{file} in main's worktree");
    }
    assert_eq!(p.local.worktrees().len(), 1, "the temporary worktree is gone");
    // The local branch is what the host has (rebased detached): merging again finds it merged.
    assert_eq!(
        p.local.git(&["rev-parse", "shard/m"]),
        p.remote.git(&["rev-parse", "shard/m"])
    );
    let said = p.said(&["merge", "m"]);
    assert!(said.contains("nothing to merge"), "{said}");
    // The host's side: its branch has the committed work, its main is untouched, its shard stays.
    assert_eq!(p.remote.git_in(&wt, &["status", "--porcelain"]), "");
    assert_eq!(p.remote.git(&["rev-parse", "main"]), remote_main);
    assert_eq!(p.remote.shard("m")["status"], "stopped");

    // A pull request: the fetched branch pushed from here, the forge's CLI asked from here.
    p.new_there(
        "q",
        &[
            "sh",
            "-c",
            "echo q > q.txt && git add q.txt && git commit -q -m 'q work'",
        ],
    );
    p.remote.wait_for("q", "its agent to exit", |s| s["status"] == "exited");
    let origin = p.local.tmp.path().join("origin.git");
    p.local.git(&["init", "-q", "--bare", origin.to_str().unwrap()]);
    p.local.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    let path = crate::activity::install_fake(&p.local, "gh", crate::review::FAKE_GH);
    let calls = p.local.tmp.path().join("gh-calls");
    let out = p
        .cmd(&["pr", "q", "--", "--draft"])
        .env("PATH", &path)
        .env("GH_CALLS", &calls)
        .output()
        .unwrap();
    succeeded(&["pr", "q"], out);
    let q_tip = p.remote.git(&["rev-parse", "shard/q"]);
    assert_eq!(
        p.local
            .git(&["--git-dir", origin.to_str().unwrap(), "rev-parse", "refs/heads/shard/q"]),
        q_tip
    );
    assert_eq!(
        fs::read_to_string(&calls).unwrap(),
        "pr create --head shard/q --base main --fill --draft\n"
    );
    // A squash, then `--rm` removes the shard there (its branch stays there: merged only here).
    let said = p.said(&["merge", "q", "--squash", "--rm"]);
    assert!(said.contains("squashed 1 commit(s) into main"), "{said}");
    assert!(p.local.root.join("q.txt").is_file());
    assert!(!p.pointer("q").exists());
    assert!(said.contains("the branch 'shard/q' here"), "{said}");
    assert!(!p.local.branches().contains(&"shard/q".to_owned()));
    assert_eq!(p.local.git(&["for-each-ref", "refs/remotes/devbox/shard/q"]), "");
    assert!(p.remote.list().iter().all(|s| s["name"] != "q"), "removed there");

    // A branch of that name the user had here is theirs: the fetch fast-forwards it, `--rm`
    // keeps it.
    p.new_there(
        "u",
        &[
            "sh",
            "-c",
            "echo u > u.txt && git add u.txt && git commit -q -m 'u work'",
        ],
    );
    p.remote.wait_for("u", "its agent to exit", |s| s["status"] == "exited");
    p.local.git(&["branch", "shard/u", "main~1"]);
    let said = p.said(&["merge", "u", "--no-ff", "--rm"]);
    assert!(said.contains("merged into main"), "{said}");
    assert!(!said.contains("the branch 'shard/u' here"), "{said}");
    assert_eq!(
        p.local.git(&["rev-parse", "shard/u"]),
        p.remote.git(&["rev-parse", "shard/u"])
    );
    assert!(!p.pointer("u").exists(), "the shard there is removed");

    // The host names another branch than the shard made from here had: nothing is taken.
    p.new_there("w", &["true"]);
    p.remote.wait_for("w", "its agent to exit", |s| s["status"] == "exited");
    let pointer = fs::read_to_string(p.pointer("w")).unwrap();
    fs::write(p.pointer("w"), pointer.replace("shard/w", "main")).unwrap();
    let before = p.local.git(&["for-each-ref"]);
    for args in [&["merge", "w", "--rm"][..], &["pr", "w"]] {
        let said = p.refused(args);
        assert!(
            said.contains("the shard made from here was on 'main'"),
            "{args:?}: {said}"
        );
    }
    assert_eq!(p.local.git(&["for-each-ref"]), before, "no ref changed here");
    assert!(
        p.remote.list().iter().any(|s| s["name"] == "w"),
        "nothing removed there"
    );
}

/// `attach` of a shard in the host's tmux, from a terminal here (a window of a tmux of its own):
/// `ssh -t` into the host's `git-shard attach`, which attaches that terminal to the agent's window
/// there. `logs --follow` streams the host's log until the agent ends.
#[test]
fn attach_reaches_the_hosts_tmux_and_logs_follow_streams_from_there() {
    let Some(there) = crate::terminals::Tmux::start() else {
        return;
    };
    let Some(here) = crate::terminals::Tmux::start() else {
        return;
    };
    let dir = there.dir().to_str().unwrap().to_owned();
    let Some(p) = Pair::with_env(&[("TMUX_TMPDIR", &dir), ("TERM", "xterm")]) else {
        return;
    };
    p.add_host();
    p.ok(&[
        "new",
        "t",
        "--host",
        "devbox",
        "--",
        "sh",
        "-c",
        "echo hello-from-there; exec sleep 300",
    ]);
    assert_eq!(p.remote.shard("t")["terminal"], "tmux");
    assert_eq!(there.ok(&["list-clients"]).lines().count(), 0, "no client yet");
    let script = format!(
        "env -i PATH={path} HOME={home} XDG_CONFIG_HOME={home}/.config XDG_RUNTIME_DIR={home}/.run LANG=C.UTF-8 GIT_CONFIG_GLOBAL=/dev/null \
         GIT_CONFIG_NOSYSTEM=1 TERM=xterm GIT_SHARD_SSH='{ssh}' {bin} attach t; sleep 60",
        path = test_path().to_string_lossy(),
        home = p.local.home().display(),
        ssh = p.sshd.ssh_command(),
        bin = BIN,
    );
    here.open("user", &p.local.root, &script);
    eventually("a client of the host's tmux", || {
        there.ok(&["list-clients"]).lines().count() == 1
    });
    let client = there.ok(&["list-clients", "-F", "#{window_name}"]);
    assert_eq!(client.trim(), "t", "attached to the agent's window there");
    eventually("the agent's window on this terminal", || {
        here.screen("user").contains("hello-from-there")
    });
    // `git shard cd` through bash's integration: a login shell there, on this terminal, in the
    // worktree there; leaving it comes back here, where nothing changed.
    let shell = format!(
        "env -i PATH={bin}:{path} HOME={home} XDG_CONFIG_HOME={home}/.config XDG_RUNTIME_DIR={home}/.run LANG=C.UTF-8 GIT_CONFIG_GLOBAL=/dev/null \
         GIT_CONFIG_NOSYSTEM=1 TERM=xterm PS1='here$ ' GIT_SHARD_SSH='{ssh}' bash --norc --noprofile",
        bin = Path::new(BIN).parent().unwrap().display(),
        path = test_path().to_string_lossy(),
        home = p.local.home().display(),
        ssh = p.sshd.ssh_command(),
    );
    here.open("shell", &p.local.root, &shell);
    here.send(
        "shell",
        &["eval \"$(git-shard init bash)\"", "Enter", "git shard cd t", "Enter"],
    );
    let wt = p.remote.shard("t")["path"].as_str().unwrap().to_owned();
    eventually("the shell there", || {
        here.screen("shell").contains("opening a shell there")
    });
    here.send("shell", &["echo at-$(pwd)", "Enter"]);
    eventually("the worktree there", || {
        here.screen("shell").contains(&format!("at-{wt}"))
    });
    here.send("shell", &["exit", "Enter"]);
    eventually("the prompt here again", || {
        here.screen("shell").trim_end().ends_with("exit\nhere$")
    });
    here.send("shell", &["echo back-$(pwd)", "Enter"]);
    eventually("back here", || {
        here.screen("shell")
            .contains(&format!("back-{}", p.local.root.display()))
    });

    // `logs --follow` through ssh: what the agent writes there arrives here, and it ends with it.
    p.ok(&[
        "new",
        "f",
        "--host",
        "devbox",
        "--terminal",
        "background",
        "--",
        "sh",
        "-c",
        "echo first; while [ ! -e go ]; do sleep 0.05; done; echo second",
    ]);
    // Started while the agent waits: once the first line has come through it (so it is
    // following), what the agent writes later comes through too, and it ends with the agent.
    let mut follow = p
        .cmd(&["logs", "f", "--follow"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, heard) = std::sync::mpsc::channel();
    let stdout = follow.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let first = heard.recv_timeout(Duration::from_secs(30));
    assert!(first.as_deref().is_ok_and(|l| l.contains("first")), "{first:?}");
    fs::write(Path::new(p.remote.shard("f")["path"].as_str().unwrap()).join("go"), "").unwrap();
    let out = follow.wait_with_output().unwrap();
    reader.join().unwrap();
    let rest: Vec<String> = heard.try_iter().collect();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(rest.iter().any(|l| l.contains("second")), "{rest:?}");
    p.ok(&["stop", "t", "--grace", "0"]);
}

/// Words sent to the login shell there read the same in sh, bash, zsh and fish: backslashes and
/// quotes too (fish reads `\\` and `\'` inside single quotes as escapes).
#[test]
fn words_for_the_hosts_login_shell_read_alike_in_every_shell() {
    let words = [
        "plain",
        "",
        "two words",
        r"a\b",
        r"a\\b",
        r"end\",
        "it's",
        r"\'",
        r"'\\'",
        "$HOME `id` $(id) *",
        "~x =x {a,b} #c %d",
        "line\nbreak",
        "-n",
        "ünï ✓",
    ];
    let line = words
        .iter()
        .map(|w| git_shard::host::quote(w))
        .collect::<Vec<_>>()
        .join(" ");
    let want: String = words.iter().map(|w| format!("<{w}>")).collect();
    // A home of the test's own: fish writes its folders there.
    let home = tempfile::tempdir().unwrap();
    for sh in ["sh", "bash", "zsh", "fish"] {
        if !crate::shell::have(sh) {
            continue;
        }
        // Without any rc file of the developer's, in a locale of our own.
        let no_rc: &[&str] = match sh {
            "bash" => &["--norc", "--noprofile"],
            "zsh" => &["-f"],
            "fish" => &["--no-config"],
            _ => &[],
        };
        let mut shell = Command::new(sh);
        hermetic(&mut shell, home.path());
        let out = shell
            .args(no_rc)
            .args(["-c", &format!("printf '<%s>' {line}")])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{sh}: {line}");
    }
}

/// A host answers for its own shards only: its own hosts (a user's configuration is often the
/// same on both machines, this one among them) are not asked, nor their shards passed on.
#[test]
fn a_host_answers_for_its_own_shards_only() {
    let Some(p) = Pair::new() else { return };
    p.add_host();
    p.new_there("own", &["sleep", "300"]);
    p.remote
        .ok(&["host", "add", "loop", "--ssh", "devbox", "--repo", "/x", "--no-check"]);
    let pointers = p.remote.common_dir().join("shards/remote");
    fs::create_dir_all(&pointers).unwrap();
    fs::write(
        pointers.join("ghost.toml"),
        "version = 1\nhost = \"loop\"\nname = \"ghost\"\nbranch = \"shard/ghost\"\n\
         created_at = \"2026-01-01T00:00:00Z\"\n",
    )
    .unwrap();
    let there: Vec<Value> = serde_json::from_str(&p.remote.ok(&["list", "--json"])).unwrap();
    assert!(there.iter().any(|s| s["name"] == "ghost"), "the host's own list has it");
    let names: Vec<Value> = p.list().iter().map(|s| s["name"].clone()).collect();
    assert_eq!(names, ["own"]);
    // An ssh that leaves a process holding its output open and writing on (a connection master
    // kept with `-v` does): the answer is taken once ssh has exited, not timed out as unreachable.
    let wrapper = tempfile::tempdir().unwrap();
    let ssh = wrapper.path().join("ssh");
    fs::write(
        &ssh,
        format!(
            "#!/bin/sh\n(end=$(($(date +%s) + 8)); while [ \"$(date +%s)\" -lt $end ]; do echo debug >&2; done) &\n\
             exec {} \"$@\"\n",
            p.sshd.ssh_command()
        ),
    )
    .unwrap();
    fs::set_permissions(&ssh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let started = Instant::now();
    let out = p.cmd(&["list", "--json"]).env("GIT_SHARD_SSH", &ssh).output().unwrap();
    // Not waited out: the host's timeout is 5 s, an answer takes a tenth of one.
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        find(&listed, "own")["status"],
        "running",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A shard whose record there cannot be read is left out of the host's list, but not gone:
    // its pointer stays, and `rm` is the host's to refuse.
    p.new_there("bad", &["true"]);
    p.remote
        .wait_for("bad", "its agent to exit", |s| s["status"] == "exited");
    let record = p.remote.record_path("bad");
    let kept = fs::read_to_string(&record).unwrap();
    fs::write(&record, "not a record\n").unwrap();
    let out = p.run(&["rm", "bad"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("shard 'bad'") && !said.contains("cannot reach"),
        "the host's refusal: {said}"
    );
    assert!(p.pointer("bad").is_file(), "a shard there forgotten here");
    fs::write(&record, kept).unwrap();
    p.ok(&["rm", "bad"]);
    assert!(!p.pointer("bad").exists());
    // Removed there behind our back: `rm` here forgets its pointer, which would block `new own`
    // and `host rm` forever.
    p.remote.ok(&["stop", "own", "--grace", "0"]);
    p.remote.ok(&["rm", "own"]);
    assert!(p.pointer("own").is_file());
    let said = p.said(&["rm", "own"]);
    assert!(said.contains("no longer on host 'devbox'; forgot it here"), "{said}");
    assert!(!p.pointer("own").exists());
    p.ok(&["host", "rm", "devbox"]);
}

#[test]
fn an_unreachable_host_is_shown_as_such_and_the_shards_here_still_list() {
    let Some(mut p) = Pair::new() else { return };
    p.add_host();
    p.new_there("r1", &["sleep", "300"]);
    p.ok(&["new", "l1", "--no-launch"]);
    assert_eq!(find(&p.list(), "r1")["status"], "running");
    // The main worktree's prompt shows the host as that `list` heard it, and when.
    let prompt = |p: &Pair| p.cmd(&["prompt"]).env("TZ", "UTC").output().unwrap();
    let shown = |out: Output| String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let heard = |shown: &str, head: &str| {
        shown.strip_prefix(head).is_some_and(|at| {
            at.len() == 5 && at.as_bytes()[2] == b':' && at.bytes().filter(u8::is_ascii_digit).count() == 4
        })
    };
    let now = shown(prompt(&p));
    assert!(heard(&now, "1○ · devbox 1● @"), "{now}");
    // In plain characters, every part of it (the locale is not UTF-8, or GIT_SHARD_ASCII=1).
    let plain = shown(
        p.cmd(&["prompt"])
            .env("TZ", "UTC")
            .env("GIT_SHARD_ASCII", "1")
            .output()
            .unwrap(),
    );
    assert!(heard(&plain, "1o | devbox 1* @") && plain.is_ascii(), "{plain}");
    let json: Value = serde_json::from_slice(&p.run(&["prompt", "--json"]).stdout).unwrap();
    assert_eq!(json["hosts"][0]["host"], "devbox");
    assert_eq!(
        (
            json["hosts"][0]["running"].as_u64(),
            json["hosts"][0]["reachable"].as_bool()
        ),
        (Some(1), Some(true))
    );

    p.sshd.cut();
    // The shell integration shows what a `list` just learned at the next prompt: `list` keeps it
    // in the folder the hook watches.
    let mut bash = Command::new("bash");
    hermetic(&mut bash, &p.local.home());
    let path = format!(
        "{}:{}",
        Path::new(BIN).parent().unwrap().display(),
        test_path().to_string_lossy()
    );
    // A moment after the last change, so that the first prompt's answer is kept (the stamp is
    // set) and only a change can make the next one ask again.
    let script = "eval \"$(git-shard init bash)\"\nsleep 1.2\n__git_shard_prompt_hook\necho \"[$__git_shard_segment]\"\n\
                  echo \"[stamp ${__git_shard_stamp:+kept}]\"\n\
                  git-shard list >/dev/null 2>&1\n__git_shard_prompt_hook\necho \"[$__git_shard_segment]\"\n";
    let out = bash
        .env("PATH", path)
        .env("TZ", "UTC")
        .env("GIT_SHARD_SSH", p.sshd.ssh_command())
        .args(["--norc", "--noprofile", "-c", script])
        .current_dir(&p.local.root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() == 3
            && lines[0].starts_with("[1○ · devbox 1● @")
            && lines[1] == "[stamp kept]"
            && lines[2].starts_with("[1○ · devbox unreachable 1● @"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started = Instant::now();
    let out = p.run(&["list", "--json"]);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "list waited {:?}",
        started.elapsed()
    );
    assert!(out.status.success());
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        find(&list, "l1")["status"],
        "not-started",
        "local shards are listed as ever"
    );
    let r1 = find(&list, "r1");
    assert_eq!(r1["status"], "unreachable", "never lost or exited: nobody was asked");
    assert_eq!(r1["host"], "devbox");
    assert!(r1["as_of"].is_string());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("host 'devbox' is unreachable"), "{stderr}");
    let table = p.ok(&["list"]);
    assert!(table.contains("unreachable (as of"), "{table}");
    // The prompt never waits on the network: it says what the last `list` found, and runs no ssh
    // (one that records being run stands in for it).
    let spy = tempfile::tempdir().unwrap();
    let (ssh, called) = (spy.path().join("ssh"), spy.path().join("called"));
    fs::write(
        &ssh,
        format!("#!/bin/sh\necho \"$*\" >> {}\nexit 255\n", called.display()),
    )
    .unwrap();
    fs::set_permissions(&ssh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = p
        .cmd(&["prompt"])
        .env("TZ", "UTC")
        .env("GIT_SHARD_SSH", &ssh)
        .output()
        .unwrap();
    let now = shown(out);
    assert!(heard(&now, "1○ · devbox unreachable 1● @"), "{now}");
    // A forwarded command says which side failed.
    let said = p.refused(&["stop", "r1"]);
    assert!(said.contains("cannot reach host 'devbox'"), "{said}");
    // Completion of names never waits on the network: it offers the remote shard from the cache.
    let out = p
        .cmd(&["--", "git-shard", "stop", ""])
        .env("GIT_SHARD_SSH", &ssh)
        .env("COMPLETE", "bash")
        .env("_CLAP_IFS", "\n")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&out.stdout);
    assert!(offered.lines().any(|l| l.trim() == "r1"), "{offered}");
    assert!(
        !called.exists(),
        "ssh was run: {}",
        fs::read_to_string(&called).unwrap_or_default()
    );
    // The spy does record a command that does reach the host.
    let _ = p.cmd(&["stop", "r1"]).env("GIT_SHARD_SSH", &ssh).output().unwrap();
    assert!(called.exists(), "the spy records the ssh a forwarded command runs");

    p.sshd.resume();
    assert_eq!(find(&p.list(), "r1")["status"], "running", "the agent ran on all along");
    let now = shown(prompt(&p));
    assert!(heard(&now, "1○ · devbox 1● @"), "{now}");
    // Two hosts are asked at once: the one that cannot be reached does not hide the other.
    let config = p.local.common_dir().join("shards/config.toml");
    let before = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        format!("{before}\n[hosts.far]\nssh = \"far.invalid\"\nrepo = \"/nowhere\"\n"),
    )
    .unwrap();
    let out = p.run(&["list", "--json"]);
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(find(&list, "r1")["status"], "running");
    assert_eq!(find(&list, "l1")["status"], "not-started");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("host 'far' is unreachable") && !stderr.contains("'devbox'"),
        "{stderr}"
    );
    p.ok(&["host", "rm", "far"]);
    p.ok(&["stop", "r1", "--grace", "0"]);
    // A host removed is shown no more.
    p.ok(&["rm", "r1"]);
    p.ok(&["host", "rm", "devbox"]);
    assert_eq!(shown(prompt(&p)), "1○");
}

/// A `new --host` whose name is taken there adopts the shard only when it is what this `new`
/// asks for: same base commit, and the same command, agent and branch where it names them.
#[test]
fn new_on_a_host_adopts_only_a_shard_that_matches_it() {
    let Some(p) = Pair::new() else { return };
    p.add_host();
    // Brings this machine's main tip there, for a shard made there by hand from it.
    p.new_there("first", &["true"]);
    let base = p.local.git(&["rev-parse", "main"]).trim().to_owned();
    p.remote
        .ok(&["new", "hand", "--base", &base, "--no-launch", "--", "true"]);
    let said = p.refused(&["new", "hand", "--host", "devbox", "--branch", "other", "--", "true"]);
    assert!(said.contains("nothing was recorded on this machine"), "{said}");
    assert!(!p.pointer("hand").exists());
    let said = p.refused(&["new", "hand", "--host", "devbox", "--", "false"]);
    assert!(!said.contains("adopted"), "{said}");
    assert!(!p.pointer("hand").exists());
    let said = p.said(&["new", "hand", "--host", "devbox", "--", "true"]);
    assert!(said.contains("adopted"), "{said}");
    assert!(p.pointer("hand").is_file());
}

#[test]
fn a_connection_killed_during_new_leaves_nothing_half_made_and_a_retry_adopts() {
    let Some(p) = Pair::new() else { return };
    p.add_host();
    // The host's setup takes a while: the connection is cut while its `new` works.
    fs::create_dir_all(p.remote.common_dir().join("shards")).unwrap();
    fs::write(
        p.remote.common_dir().join("shards/config.toml"),
        "setup = [{ sh = \"sleep 2\" }]\n",
    )
    .unwrap();
    let args = [
        "new",
        "r2",
        "--host",
        "devbox",
        "--terminal",
        "background",
        "--",
        "sleep",
        "300",
    ];
    let child = p
        .cmd(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    eventually("the shard begun there", || p.remote.record_path("r2").exists());
    let cut = p.sshd.connections();
    assert!(!cut.is_empty());
    for pid in cut {
        kill(pid, libc::SIGKILL);
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "new succeeded though its connection was cut");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("connection to host 'devbox' failed"), "{said}");
    assert!(said.contains("adopted"), "the hint says how to retry: {said}");
    assert!(!p.pointer("r2").exists(), "nothing recorded here");
    // There, the `new` goes on without its connection, to a whole shard: never a half-made one.
    eventually("the host's new to finish", || {
        !running_with("new r2 --base", &p.remote.root)
    });
    let there = p.remote.list();
    assert!(
        there
            .iter()
            .all(|s| s["incomplete"] == false && s["pending_setup"] == false),
        "{there:?}"
    );
    assert!(
        there.iter().any(|s| s["name"] == "r2"),
        "the host's new finished its work: {there:?}"
    );
    // The private ref the base commit went to does not outlive that `new`, connection or not,
    // nor do the files its output waited in there.
    eventually("the private base ref gone there", || {
        p.remote
            .git_output_in(
                &p.remote.root,
                &["rev-parse", "--verify", "-q", "refs/git-shard/base/r2"],
            )
            .stdout
            .is_empty()
    });
    let tmp = p.remote.home().join("tmp");
    eventually("the temporary files gone there", || {
        fs::read_dir(&tmp).unwrap().next().is_none()
    });

    let said = String::from_utf8_lossy(&p.run(&args).stderr).into_owned();
    assert!(p.pointer("r2").is_file(), "the retry succeeded: {said}");
    assert!(said.contains("adopted"), "{said}");
    assert_eq!(find(&p.list(), "r2")["status"], "running");
    p.ok(&["stop", "r2", "--grace", "0"]);
}

#[test]
fn hosts_are_the_users_and_a_host_must_hold_a_clone_with_the_same_protocol() {
    let repo = TestRepo::new();
    fs::write(
        repo.root.join(".git-shard.toml"),
        "[hosts.evil]\nssh = \"attacker.example\"\nrepo = \"/srv/x\"\n",
    )
    .unwrap();
    let said = repo.refused(&["list"]);
    assert!(said.contains("[hosts] cannot be set in a committed file"), "{said}");
    fs::remove_file(repo.root.join(".git-shard.toml")).unwrap();
    let said = repo.refused(&[
        "host",
        "add",
        "x",
        "--ssh=-oProxyCommand=sh",
        "--repo",
        "/x",
        "--no-check",
    ]);
    assert!(said.contains("give a destination"), "{said}");
    let said = repo.refused(&["host", "add", "x", "--ssh", "box", "--repo", "relative/x", "--no-check"]);
    assert!(said.contains("absolute path"), "{said}");
    // A host named like a git remote would share its remote-tracking branches.
    repo.git(&["remote", "add", "origin", "/nowhere"]);
    let said = repo.refused(&["host", "add", "origin", "--ssh", "box", "--repo", "/x", "--no-check"]);
    assert!(said.contains("a git remote named 'origin'"), "{said}");
    // A host that cannot be reached is not added, and the hint does not name `host check`,
    // which knows no such host yet.
    let args = ["host", "add", "x", "--ssh", "no-such-host.invalid", "--repo", "/x"];
    // No ssh configuration of the developer's (read from the passwd home, not $HOME) takes part.
    let out = repo
        .command_in(&repo.root, &args)
        .env("GIT_SHARD_SSH", "ssh -F /dev/null")
        .output()
        .unwrap();
    let said = refused(&args, out);
    assert!(
        said.contains("host 'x' not added") && said.contains("`ssh no-such-host.invalid true`"),
        "{said}"
    );
    // Added unchecked, a host is usable config: an inline agent there is refused before any
    // connection.
    repo.ok(&[
        "host",
        "add",
        "box",
        "--ssh",
        "box.invalid",
        "--repo",
        "~/app",
        "--no-check",
    ]);
    let said = repo.refused(&["new", "a", "--host", "box", "--terminal", "inline", "--", "true"]);
    assert!(said.contains("cannot run inline"), "{said}");
    assert!(repo.ok(&["host", "list"]).contains("box.invalid"));
    let shown = repo.ok(&["config", "--show"]);
    assert!(
        shown.contains("[hosts.box]\nssh = \"box.invalid\"\nrepo = \"~/app\"\n"),
        "{shown}"
    );
    // Added again otherwise, with no shard on it: changed, and said so.
    let said = repo.ok(&[
        "host",
        "add",
        "box",
        "--ssh",
        "box2.invalid",
        "--repo",
        "~/app",
        "--no-check",
    ]);
    assert!(
        said.contains("host 'box' changed") && said.contains("it was ssh box.invalid"),
        "{said}"
    );
    repo.ok(&["host", "rm", "box"]);
    // A host of your own file is yours to remove: said where it is.
    repo.user_config("[hosts.mine]\nssh = \"mine.invalid\"\nrepo = \"/x\"\n");
    let said = repo.refused(&["host", "rm", "mine"]);
    assert!(
        said.contains("comes from your own configuration")
            && said.contains(".config/git-shard/config.toml")
            && said.contains("[hosts.mine]"),
        "{said}"
    );
    repo.user_config("");
    let said = repo.refused(&["new", "a", "--host", "nowhere", "--", "true"]);
    assert!(said.contains("no host named 'nowhere'"), "{said}");

    let Some(p) = Pair::new() else { return };
    // Another project's repository there.
    let other = tempfile::tempdir().unwrap();
    p.remote.git_in(other.path(), &["init", "-q", "-b", "main"]);
    p.remote.git_in(
        other.path(),
        &["commit", "-q", "--allow-empty", "-m", "another project"],
    );
    let said = p.refused(&[
        "host",
        "add",
        "devbox",
        "--ssh",
        p.sshd.host(),
        "--repo",
        other.path().to_str().unwrap(),
        "--git-shard",
        BIN,
    ]);
    assert!(said.contains("not a clone of this repository"), "{said}");
    // No clone at all there: the host was reached, and the path is what to fix.
    let nowhere = other.path().join("nowhere");
    let mut args = vec!["host", "add", "devbox", "--ssh", p.sshd.host(), "--repo"];
    args.extend([nowhere.to_str().unwrap(), "--git-shard", BIN]);
    let said = p.refused(&args);
    assert!(
        said.contains("was reached, but its clone") && said.contains("check the path of the clone there"),
        "{said}"
    );
    // A git-shard there of another protocol.
    let old = other.path().join("old-git-shard");
    fs::write(&old, "#!/bin/sh\necho 'git-shard 0.0.9'\n").unwrap();
    fs::set_permissions(&old, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let said = p.refused(&p.add_host_args(old.to_str().unwrap()));
    assert!(said.contains("does not speak host protocol 2"), "{said}");
    assert!(said.contains("install the same git-shard release"), "{said}");
    assert!(p.list().is_empty(), "nothing was added");
}
