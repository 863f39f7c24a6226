//! The whole life of a shard with real agents: start, status, exit codes, signals, stop, logs, run.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::*;

#[test]
fn agent_runs_with_its_own_pid_and_environment() {
    let repo = TestRepo::new();
    repo.ok(&[
        "new",
        "a",
        "--",
        "sh",
        "-c",
        "echo \"$GIT_SHARD_NAME|$GIT_SHARD_BRANCH|$GIT_SHARD_PATH|${CLAUDECODE-unset}|$PWD\" > env.txt; sleep 300 & wait",
    ]);
    let v = repo.shard("a");
    assert_eq!(v["status"], "running", "{v:#}");
    let pid = pid_of(&v);
    let (comm, _, ppid, pgid, sid) = proc_stat(pid).expect("agent is alive");
    // The recorded PID is the agent's own `sh`, a child of the supervisor, not the supervisor.
    assert_eq!(comm, "sh");
    assert_ne!(pid, v["process"]["supervisor_pid"].as_u64().unwrap() as u32);
    assert_eq!(ppid as u64, v["process"]["supervisor_pid"].as_u64().unwrap());
    assert_eq!(pgid as u64, v["process"]["pgid"].as_u64().unwrap());
    assert_eq!(sid, pgid, "background runs lead their own session");
    let path = repo.shards_dir().join("a");
    assert_eq!(v["path"], path.display().to_string());
    assert_eq!(v["branch"], "shard/a");
    assert_eq!(v["worktree_exists"], true);
    eventually("env.txt", || {
        path.join("env.txt").exists() && fs::read_to_string(path.join("env.txt")).unwrap().ends_with('\n')
    });
    let env = fs::read_to_string(path.join("env.txt")).unwrap();
    assert_eq!(
        env.trim(),
        format!("a|shard/a|{}|unset|{}", path.display(), path.display())
    );
    assert_eq!(v["process"]["live"]["children"].as_array().unwrap().len(), 1, "{v:#}");
}

#[test]
fn claudecode_is_removed_from_the_agent_environment() {
    let repo = TestRepo::new();
    let out = repo
        .command_in(
            &repo.root,
            &["new", "c", "--", "sh", "-c", "echo ${CLAUDECODE-unset} > cc.txt"],
        )
        .env("CLAUDECODE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    repo.wait_for("c", "exit", |v| v["status"] == "exited");
    assert_eq!(
        fs::read_to_string(repo.shards_dir().join("c/cc.txt")).unwrap(),
        "unset\n"
    );
}

#[test]
fn stop_ends_the_whole_session_even_when_sigterm_is_ignored() {
    let repo = TestRepo::new();
    repo.ok(&["new", "polite", "--", "sh", "-c", "sleep 300 & sleep 300 & wait"]);
    repo.ok(&["new", "stubborn", "--", "sh", "-c", "trap '' TERM; sleep 300 & wait"]);
    for (name, grace, signal) in [("polite", "5", 15), ("stubborn", "0.3", 9)] {
        let v = repo.shard(name);
        let sid = v["process"]["sid"].as_u64().unwrap() as u32;
        assert!(session_members(sid).len() >= 3, "supervisor, sh and sleep");
        repo.ok(&["stop", "--grace", grace, name]);
        assert_eq!(
            session_members(sid),
            Vec::<u32>::new(),
            "{name}: nothing of the session survives stop"
        );
        let v = repo.shard(name);
        assert_eq!(v["status"], "stopped", "{v:#}");
        assert_eq!(v["signal"], signal, "{name}: {v:#}");
        assert_eq!(v["exit_code"], serde_json::Value::Null);
    }
    // Stopping again is harmless.
    repo.ok(&["stop", "polite"]);
}

#[test]
fn exit_code_is_recorded() {
    let repo = TestRepo::new();
    repo.ok(&["new", "seven", "--", "sh", "-c", "exit 7"]);
    let v = repo.wait_for("seven", "exit", |v| v["status"] == "exited");
    assert_eq!(v["exit_code"], 7);
    assert_eq!(v["signal"], serde_json::Value::Null);
    assert!(repo.ok(&["list"]).contains("exited (7)"));
}

#[test]
fn kill_from_outside_is_seen_by_the_supervisor() {
    let repo = TestRepo::new();
    repo.ok(&["new", "victim", "--", "sleep", "300"]);
    let pid = pid_of(&repo.shard("victim"));
    kill(pid, 9);
    let v = repo.wait_for("victim", "exit", |v| v["status"] == "exited");
    assert_eq!(v["signal"], 9);
    assert_eq!(v["exit_code"], serde_json::Value::Null);
    assert_eq!(v["process"]["ended_by"], "supervisor");
}

#[test]
fn run_whose_supervisor_was_killed_too_is_lost() {
    let repo = TestRepo::new();
    repo.ok(&["new", "gone", "--", "sleep", "300"]);
    let v = repo.shard("gone");
    let supervisor = v["process"]["supervisor_pid"].as_u64().unwrap() as u32;
    kill(supervisor, 9);
    kill(pid_of(&v), 9);
    eventually("agent death", || !alive(pid_of(&v)));
    let v = repo.shard("gone");
    assert_eq!(v["status"], "lost", "{v:#}");
    assert!(repo.ok(&["list"]).contains("lost"));
}

#[test]
fn stop_spares_the_supervisor_which_records_the_sigkill() {
    let repo = TestRepo::new();
    repo.ok(&["new", "tough", "--", "sh", "-c", "trap '' TERM; sleep 300 & wait"]);
    let v = repo.shard("tough");
    let supervisor = v["process"]["supervisor_pid"].as_u64().unwrap() as u32;
    repo.ok(&["stop", "--grace", "0.2", "tough"]);
    // SIGKILL went to everything but the supervisor, which recorded it and exited.
    assert!(!alive(supervisor));
    let v = repo.shard("tough");
    assert_eq!(
        (v["status"].as_str(), v["signal"].as_i64()),
        (Some("stopped"), Some(9)),
        "{v:#}"
    );
    assert_eq!(v["process"]["ended_by"], "supervisor", "{v:#}");
}

#[test]
fn background_output_goes_to_the_log() {
    let repo = TestRepo::new();
    repo.ok(&["new", "talk", "--", "sh", "-c", "echo hello; echo oops >&2"]);
    repo.wait_for("talk", "exit", |v| v["status"] == "exited");
    assert_eq!(repo.ok(&["logs", "talk"]), "hello\noops\n");
    // --follow ends when the run is over.
    assert_eq!(repo.ok(&["logs", "--follow", "talk"]), "hello\noops\n");
}

#[test]
fn follow_streams_until_the_agent_ends() {
    let repo = TestRepo::new();
    repo.ok(&["new", "slow", "--", "sh", "-c", "echo one; sleep 0.5; echo two"]);
    assert_eq!(repo.ok(&["logs", "-f", "slow"]), "one\ntwo\n");
}

#[test]
fn run_relaunches_and_refuses_while_running() {
    let repo = TestRepo::new();
    repo.ok(&["new", "again", "--no-launch", "--", "sleep", "300"]);
    assert_eq!(repo.shard("again")["status"], "not-started");
    repo.ok(&["run", "again"]);
    let first = pid_of(&repo.shard("again"));
    let err = repo.refused(&["run", "again"]);
    assert!(err.contains("already has a running"), "{err}");
    repo.ok(&["stop", "again"]);
    repo.ok(&["run", "again", "--", "sh", "-c", "exit 3"]);
    let v = repo.wait_for("again", "exit", |v| v["status"] == "exited" && v["exit_code"] == 3);
    assert_ne!(pid_of(&v), first);
    assert_eq!(v["command"], serde_json::json!(["sh", "-c", "exit 3"]));
}

#[test]
fn path_and_list_and_json_shapes() {
    let repo = TestRepo::new();
    repo.ok(&["new", "p", "--no-launch", "--", "true"]);
    assert_eq!(
        repo.ok(&["path", "p"]).trim(),
        repo.shards_dir().join("p").display().to_string()
    );
    let list = repo.list();
    assert_eq!(list.len(), 1);
    let s = &list[0];
    for key in [
        "name",
        "branch",
        "path",
        "agent",
        "command",
        "terminal",
        "created_at",
        "status",
        "pid",
        "exit_code",
        "signal",
        "worktree_exists",
    ] {
        assert!(s.get(key).is_some(), "list --json lacks {key}: {s:#}");
    }
    assert_eq!(s["status"], "not-started");
    assert_eq!(s["pid"], serde_json::Value::Null);
    assert!(s["created_at"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok());
    let table = repo.ok(&["ls"]);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.contains("not-started") && table.contains("shard/p"), "{table}");
}

#[test]
fn works_from_a_subfolder_and_from_inside_a_shard() {
    let repo = TestRepo::new();
    repo.ok(&["new", "inner", "--no-launch", "--", "true"]);
    fs::create_dir_all(repo.root.join("sub/dir")).unwrap();
    let out = repo
        .command_in(&repo.root.join("sub/dir"), &["list", "--json"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"inner\""));
    let wt = repo.shards_dir().join("inner");
    let out = repo.command_in(&wt, &["status", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name"], "inner");
}

#[test]
fn broken_pipe_is_quiet() {
    let repo = TestRepo::new();
    for n in 0..3 {
        repo.ok(&["new", &format!("bp{n}"), "--no-launch", "--", "true"]);
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{BIN}' list | head -c 1 >/dev/null"))
        .current_dir(&repo.root)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn inline_runs_in_the_callers_terminal_and_returns_its_status() {
    let repo = TestRepo::new();
    // `script` gives the command a real pseudo-terminal, as an interactive shell would have.
    let inner = format!(
        "'{BIN}' new inl -- sh -c 'test -t 0 && echo tty-ok; ps -o pgid= -p $$ > pgid.txt; exit 3'; echo \"new-exit=$?\""
    );
    let mut cmd = std::process::Command::new("script");
    hermetic(&mut cmd, &repo.home());
    let out = cmd
        .args(["-qec", &inner, "/dev/null"])
        .current_dir(&repo.root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("tty-ok"), "the agent got the terminal: {text}");
    assert!(text.contains("new-exit=3"), "new returns the agent's status: {text}");
    let v = repo.shard("inl");
    assert_eq!(
        (v["status"].as_str(), v["exit_code"].as_i64(), v["terminal"].as_str()),
        (Some("exited"), Some(3), Some("inline"))
    );
    // The agent ran in a process group of its own, not in the caller's job.
    let pgid: u64 = fs::read_to_string(repo.shards_dir().join("inl/pgid.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pgid, v["process"]["pgid"].as_u64().unwrap());
    assert_ne!(
        v["process"]["sid"], v["process"]["pgid"],
        "inline keeps the caller's session"
    );
}

#[test]
fn what_the_agent_leaves_behind_ends_with_it() {
    let repo = TestRepo::new();
    repo.ok(&["new", "left", "--", "sh", "-c", "sleep 301 & exit 0"]);
    let v = repo.wait_for("left", "exit", |v| v["status"] == "exited");
    assert_eq!(v["exit_code"], 0);
    let sid = v["process"]["sid"].as_u64().unwrap() as u32;
    eventually("leftover sleep ended", || session_members(sid).is_empty());
}

#[test]
fn stop_delivers_sigterm_once() {
    let repo = TestRepo::new();
    // Counts every SIGTERM it gets, ignores them, and is killed after the grace period.
    repo.ok(&[
        "new",
        "count",
        "--",
        "sh",
        "-c",
        "trap 'echo term >> terms.txt' TERM; while :; do sleep 0.05; done",
    ]);
    repo.ok(&["stop", "--grace", "1", "count"]);
    let terms = fs::read_to_string(repo.shards_dir().join("count/terms.txt")).unwrap_or_default();
    assert_eq!(terms.lines().count(), 1, "{terms:?}");
    assert_eq!(repo.shard("count")["signal"], 9);
}

#[test]
fn a_refused_run_changes_nothing() {
    let repo = TestRepo::new();
    repo.ok(&["new", "busy", "--", "sleep", "300"]);
    let before = repo.shard("busy");
    repo.refused(&["run", "busy", "--", "sh", "-c", "echo other"]);
    let after = repo.shard("busy");
    assert_eq!(after["command"], before["command"]);
    assert_eq!(after["pid"], before["pid"]);
}

#[test]
fn an_agent_that_cannot_start_fails_new_and_rolls_back() {
    let repo = TestRepo::new();
    let script = repo.tmp.path().join("broken-agent");
    fs::write(&script, "#!/nonexistent/interpreter\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let err = repo.refused(&["new", "nope", "--", script.to_str().unwrap()]);
    assert!(err.contains("cannot start") && err.contains("broken-agent"), "{err}");
    assert!(!repo.shards_dir().join("nope").exists());
    assert!(repo.list().is_empty());
    assert_eq!(repo.branches(), ["main"]);
}

/// Containers and CI sandboxes run us in a PID namespace whose outer processes (often our own
/// session and group leaders) read as id 0. A whole lifecycle must work there, and `stop` must not
/// mistake "group 0" or "session 0" for the run's: the namespace's init (`sh`, group 0, session 0
/// here) must survive it.
#[test]
fn works_inside_a_pid_namespace_with_outside_leaders() {
    let repo = TestRepo::new();
    let probe = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .output();
    match probe {
        Err(_) => return crate::terminals::require_tool("unshare"),
        Ok(out) if !out.status.success() => {
            // Not a missing tool but a missing privilege (unprivileged user, locked-down sandbox).
            eprintln!(
                "SKIPPED: cannot create a PID namespace here: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return;
        }
        Ok(_) => {}
    }
    let script = r#"
        set -e
        git-shard new ns -- sh -c 'sleep 300 & wait'
        git-shard list --json > running.json
        git-shard stop ns
        git-shard list --json > stopped.json
        echo "init survived as $$"
    "#;
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), test_path().to_string_lossy());
    let mut cmd = Command::new("unshare");
    hermetic(&mut cmd, &repo.home());
    let out = cmd
        .env("PATH", &path)
        .args(["--pid", "--fork", "--mount-proc", "sh", "-c", script])
        .current_dir(&repo.root)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("init survived as 1"), "{stdout}");
    let read = |file: &str| -> Value {
        let list: Value = serde_json::from_str(&fs::read_to_string(repo.root.join(file)).unwrap()).unwrap();
        list[0].clone()
    };
    let running = read("running.json");
    assert_eq!(running["status"], "running", "{running:#}");
    assert_ne!(running["process"]["pgid"], 0, "{running:#}");
    let stopped = read("stopped.json");
    assert_eq!(stopped["status"], "stopped", "{stopped:#}");
    assert_eq!(stopped["signal"], 15, "{stopped:#}");

    // A PID namespace that still sees the outer /proc: our PIDs would name other processes there,
    // so no identity may be read (it would be a stranger's) and nothing may start unrecorded.
    let mut cmd = Command::new("unshare");
    hermetic(&mut cmd, &repo.home());
    let out = cmd
        .env("PATH", &path)
        .args(["--pid", "--fork", "git-shard", "new", "blind", "--", "sleep", "300"])
        .current_dir(&repo.root)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("/proc here belongs to another PID namespace"), "{err}");
    assert!(repo.list().iter().all(|v| v["name"] != "blind"));
}
