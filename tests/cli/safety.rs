//! The safety rules, tried for real: no wrong process signalled, no work lost, no half-made shard,
//! no record dropped.

use std::fs;
use std::process::Command;
use std::thread;

use crate::common::*;

/// Rewrite a field of the `[process]` table of a record.
fn rewrite_process(repo: &TestRepo, name: &str, pid: u32, keep_pgid: bool) {
    let path = repo.record_path(name);
    let text = fs::read_to_string(&path).unwrap();
    let mut table: toml::Table = toml::from_str(&text).unwrap();
    let p = table.get_mut("process").unwrap().as_table_mut().unwrap();
    p.insert("pid".into(), toml::Value::Integer(pid.into()));
    if !keep_pgid {
        p.insert("pgid".into(), toml::Value::Integer(pid.into()));
        p.insert("sid".into(), toml::Value::Integer(pid.into()));
        p.remove("supervisor_pid");
    }
    fs::write(&path, toml::to_string(&table).unwrap()).unwrap();
}

#[test]
fn a_reused_pid_is_never_signalled() {
    let repo = TestRepo::new();
    repo.ok(&["new", "r", "--", "sleep", "300"]);
    let agent = pid_of(&repo.shard("r"));
    repo.ok(&["stop", "r"]);
    // An unrelated process now "has" the recorded PID (as after PID reuse), started in a later
    // clock tick than the agent, as any process that reuses a PID is.
    std::thread::sleep(std::time::Duration::from_millis(30));
    let mut stranger = Command::new("sleep").arg("300").spawn().unwrap();
    for keep_pgid in [true, false] {
        rewrite_process(&repo, "r", stranger.id(), keep_pgid);
        // Remove the recorded end so the record claims a live run.
        let path = repo.record_path("r");
        let text = fs::read_to_string(&path).unwrap();
        let cleaned: String = text
            .lines()
            .filter(|l| !l.starts_with("ended_at") && !l.starts_with("signal") && !l.starts_with("exit_code"))
            .map(|l| format!("{l}\n"))
            .collect();
        fs::write(&path, cleaned).unwrap();
        let v = repo.shard("r");
        assert_eq!(v["status"], "lost", "{v:#}");
        let err = String::from_utf8(repo.run(&["stop", "r"]).stderr).unwrap();
        assert!(err.contains("lost"), "{err}");
        assert!(alive(stranger.id()), "stop must not signal a stranger");
    }
    repo.ok(&["rm", "--force", "r"]);
    assert!(alive(stranger.id()), "rm --force must not signal a stranger");
    assert!(!alive(agent));
    stranger.kill().unwrap();
    stranger.wait().unwrap();
}

#[test]
fn rm_refuses_to_lose_untracked_modified_or_staged_work() {
    let repo = TestRepo::new();
    type MakeDirty = dyn Fn(&std::path::Path);
    let cases: [(&str, &MakeDirty); 3] = [
        ("untracked", &|wt| fs::write(wt.join("new.txt"), "work").unwrap()),
        ("modified", &|wt| fs::write(wt.join("README"), "changed\n").unwrap()),
        ("staged", &|wt| {
            fs::write(wt.join("staged.txt"), "work").unwrap();
            let st = Command::new("git")
                .args(["add", "staged.txt"])
                .current_dir(wt)
                .status()
                .unwrap();
            assert!(st.success());
        }),
    ];
    for (name, dirty) in cases {
        repo.ok(&["new", name, "--no-launch", "--", "true"]);
        let wt = repo.shards_dir().join(name);
        dirty(&wt);
        let err = repo.refused(&["rm", name]);
        assert!(err.contains("uncommitted work") && err.contains("hint:"), "{err}");
        assert!(
            wt.is_dir() && repo.record_path(name).exists(),
            "{name}: nothing removed"
        );
    }
    // Ignored files are not work to protect.
    repo.ok(&["new", "ignored", "--no-launch", "--", "true"]);
    fs::write(repo.shards_dir().join("ignored/build.ignored"), "x").unwrap();
    repo.ok(&["rm", "ignored"]);
    repo.ok(&["rm", "--force", "untracked"]);
    assert!(!repo.shards_dir().join("untracked").exists());
}

#[test]
fn rm_keeps_unmerged_branches_and_deletes_merged_ones() {
    let repo = TestRepo::new();
    repo.ok(&["new", "work", "--no-launch", "--", "true"]);
    repo.ok(&["new", "idle", "--no-launch", "--", "true"]);
    let wt = repo.shards_dir().join("work");
    fs::write(wt.join("f"), "x").unwrap();
    repo.git_in(&wt, &["add", "f"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "work"]);
    let out = repo.run(&["rm", "work"]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("kept branch 'shard/work'") && err.contains("1 commit"),
        "{err}"
    );
    repo.ok(&["rm", "idle"]);
    assert_eq!(repo.branches(), ["main", "shard/work"]);
    assert_eq!(repo.worktrees().len(), 1);
    assert!(repo.list().is_empty());
    // --delete-branch deletes it anyway.
    repo.ok(&["new", "work2", "--branch", "shard/work", "--no-launch", "--", "true"]);
    repo.ok(&["rm", "--delete-branch", "work2"]);
    assert_eq!(repo.branches(), ["main"]);
}

#[test]
fn rm_stops_a_running_agent_first() {
    let repo = TestRepo::new();
    repo.ok(&["new", "busy", "--", "sh", "-c", "sleep 300 & wait"]);
    let v = repo.shard("busy");
    let sid = v["process"]["sid"].as_u64().unwrap() as u32;
    repo.ok(&["rm", "busy"]);
    assert!(session_members(sid).is_empty());
    assert!(!repo.shards_dir().join("busy").exists());
    assert_eq!(repo.branches(), ["main"]);
}

#[test]
fn parallel_new_with_distinct_names_all_succeed() {
    let repo = TestRepo::new();
    let handles: Vec<_> = (0..10)
        .map(|i| {
            let cmd = repo.command_in(&repo.root, &["new", &format!("p{i}"), "--no-launch", "--", "true"]);
            thread::spawn(move || {
                let mut cmd = cmd;
                cmd.output().unwrap()
            })
        })
        .collect();
    for h in handles {
        let out = h.join().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(repo.list().len(), 10);
    assert_eq!(repo.worktrees().len(), 11);
    assert_eq!(repo.branches().len(), 11);
    assert_eq!(repo.git(&["worktree", "list"]).lines().count(), 11);
}

#[test]
fn parallel_new_of_one_name_creates_exactly_one() {
    let repo = TestRepo::new();
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let mut cmd = repo.command_in(&repo.root, &["new", "same", "--", "sleep", "300"]);
            thread::spawn(move || cmd.output().unwrap())
        })
        .collect();
    let outs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let wins = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(
        wins,
        1,
        "{:?}",
        outs.iter()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .collect::<Vec<_>>()
    );
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(1));
    }
    assert_eq!(repo.list().len(), 1);
    assert_eq!(repo.worktrees().len(), 2);
    assert_eq!(repo.branches(), ["main", "shard/same"]);
    assert_eq!(repo.shard("same")["status"], "running");
}

#[test]
fn bad_names_are_refused_before_anything_is_created() {
    let repo = TestRepo::new();
    let long = "x".repeat(65);
    for bad in [
        "../x",
        "-rf",
        "a b",
        "a..b",
        "x.lock",
        "",
        &long,
        "$(touch pwned)",
        "a/b",
        "a\nb",
        "é",
    ] {
        let out = repo.run(&["new", bad, "--", "true"]);
        let err = String::from_utf8_lossy(&out.stderr);
        // `-rf` is taken for an option by the parser (usage error, 2); everything else is our refusal.
        assert!(matches!(out.status.code(), Some(1) | Some(2)), "{bad:?}: {err}");
        if out.status.code() == Some(1) {
            assert!(
                err.contains("invalid shard name") && err.contains("hint:"),
                "{bad:?}: {err}"
            );
        }
        assert!(!err.contains('\u{1b}'));
    }
    let out = repo.run(&["new", "--", "-rf"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(!repo.shards_dir().exists());
    assert!(!repo.root.join("pwned").exists());
    assert_eq!(repo.branches(), ["main"]);
    assert!(repo.list().is_empty());
}

#[test]
fn a_corrupt_record_does_not_hide_the_others() {
    let repo = TestRepo::new();
    repo.ok(&["new", "good", "--no-launch", "--", "true"]);
    repo.ok(&["new", "bad", "--no-launch", "--", "true"]);
    fs::write(repo.record_path("bad"), "version = 1\nname = [broken").unwrap();
    repo.ok(&["new", "newer", "--no-launch", "--", "true"]);
    let newer = fs::read_to_string(repo.record_path("newer"))
        .unwrap()
        .replace("version = 1", "version = 9");
    fs::write(repo.record_path("newer"), &newer).unwrap();
    let out = repo.run(&["list", "--json"]);
    assert!(out.status.success());
    let names: Vec<String> = serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["good"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("'bad'") && err.contains("'newer'") && err.contains("newer git-shard"),
        "{err}"
    );
    // Neither is ever rewritten, whatever the command.
    let _ = repo.run(&["rm", "--force", "newer"]);
    let _ = repo.run(&["run", "newer"]);
    let _ = repo.run(&["prune"]);
    assert_eq!(fs::read_to_string(repo.record_path("newer")).unwrap(), newer);
    assert_eq!(
        fs::read_to_string(repo.record_path("bad")).unwrap(),
        "version = 1\nname = [broken"
    );
}

#[test]
fn a_failed_launch_rolls_back_worktree_branch_and_record() {
    let repo = TestRepo::new();
    repo.user_config("[terminals.broken]\ncommand = [\"sh\", \"-c\", \"echo launcher says no >&2; exit 3\"]\n");
    let err = repo.refused(&["new", "doomed", "--terminal", "broken", "--", "sleep", "300"]);
    assert!(
        err.contains("did not start") && err.contains("launcher says no"),
        "{err}"
    );
    assert!(!repo.shards_dir().join("doomed").exists());
    assert_eq!(repo.branches(), ["main"]);
    assert_eq!(repo.worktrees().len(), 1);
    assert!(!repo.record_path("doomed").exists());
}

#[test]
fn a_template_terminal_runs_the_supervisor_and_records_the_agent() {
    let repo = TestRepo::new();
    // A launcher that returns at once, like gnome-terminal: its PID is worthless, the supervisor's
    // handshake still yields the agent.
    repo.user_config(
        "[terminals.fake]\ncommand = [\"sh\", \"-c\", \"setsid \\\"$0\\\" \\\"$@\\\" >/dev/null 2>&1 < /dev/null & exit 0\", \"{cmd...}\"]\n",
    );
    repo.ok(&["new", "t", "--terminal", "fake", "--", "sleep", "300"]);
    let v = repo.shard("t");
    assert_eq!(
        (v["status"].as_str(), v["terminal"].as_str()),
        (Some("running"), Some("fake")),
        "{v:#}"
    );
    assert_eq!(proc_stat(pid_of(&v)).unwrap().0, "sleep");
}

#[test]
fn refusals_say_what_and_what_to_do() {
    let repo = TestRepo::new();
    let outside = tempfile::tempdir().unwrap();
    let out = repo.command_in(outside.path(), &["list"]).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.starts_with("error: ") && err.contains("not inside a git repository") && err.contains("hint:"),
        "{err}"
    );

    let bare = outside.path().join("bare.git");
    repo.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()]);
    let out = repo.command_in(&bare, &["new", "x", "--", "true"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("bare"), "{out:?}");

    let empty = outside.path().join("empty");
    fs::create_dir(&empty).unwrap();
    repo.git_in(&empty, &["init", "-q"]);
    let out = repo.command_in(&empty, &["new", "x", "--", "true"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no commits"), "{out:?}");

    repo.git(&["branch", "shard/taken"]);
    let err = repo.refused(&["new", "taken", "--", "true"]);
    assert!(err.contains("shard/taken") && err.contains("--branch"), "{err}");
    let err = repo.refused(&["new", "m", "--branch", "main", "--", "true"]);
    assert!(err.contains("checked out"), "{err}");
    fs::create_dir_all(repo.shards_dir().join("occupied")).unwrap();
    let err = repo.refused(&["new", "occupied", "--", "true"]);
    assert!(err.contains("already exists") || err.contains("exists"), "{err}");
    let err = repo.refused(&["new", "x", "--", "no-such-program-anywhere"]);
    assert!(
        err.contains("no-such-program-anywhere") && err.contains("PATH"),
        "{err}"
    );
    let err = repo.refused(&["new", "x", "--base", "nope", "--", "true"]);
    assert!(err.contains("nope"), "{err}");
    let err = repo.refused(&["status", "ghost"]);
    assert!(
        err.contains("no shard named 'ghost'") && err.contains("git shard list"),
        "{err}"
    );
    assert_eq!(repo.branches(), ["main", "shard/taken"]);
    assert_eq!(repo.worktrees().len(), 1);
    assert_eq!(repo.run(&["new"]).status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn prune_stops_and_forgets_shards_whose_worktree_is_gone() {
    let repo = TestRepo::new();
    repo.ok(&["new", "orphan", "--", "sh", "-c", "sleep 300 & wait"]);
    repo.ok(&["new", "kept", "--no-launch", "--", "true"]);
    let v = repo.shard("orphan");
    let sid = v["process"]["sid"].as_u64().unwrap() as u32;
    fs::remove_dir_all(repo.shards_dir().join("orphan")).unwrap();
    // A worktree of this repository that no shard names, and an unrelated folder beside it.
    let stray = repo.shards_dir().join("stray");
    repo.git(&["worktree", "add", "-q", "-b", "stray", stray.to_str().unwrap()]);
    fs::create_dir_all(repo.shards_dir().join("unrelated")).unwrap();
    let dry = repo.ok(&["prune", "--dry-run"]);
    assert!(
        dry.contains("would forget-shard: orphan") && dry.contains("unregistered-worktree"),
        "{dry}"
    );
    assert!(dry.contains("stray") && !dry.contains("unrelated"), "{dry}");
    assert!(!session_members(sid).is_empty(), "a dry run changes nothing");
    // Any command that reconciles (here `list`, which leaves the stop to the background) marks
    // the orphan and stops its agent.
    let orphan = repo.list().into_iter().find(|v| v["name"] == "orphan").unwrap();
    assert_eq!(orphan["orphaned"].as_bool(), Some(true), "{orphan:#}");
    eventually("its agent stopped", || session_members(sid).is_empty());
    assert_eq!(repo.shard("orphan")["status"], "stopped");
    let done = repo.ok(&["prune"]);
    assert!(done.contains("forget-shard: orphan"), "{done}");
    let names: Vec<_> = repo
        .list()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["kept"]);
    assert_eq!(repo.branches(), ["main", "shard/kept", "stray"]);
    assert_eq!(repo.worktrees().len(), 3);
    assert!(
        repo.shards_dir().join("stray").is_dir(),
        "an unregistered folder is reported, never removed"
    );
}

/// Live processes whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<u32> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| alive(pid))
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn a_launch_that_times_out_never_leaves_an_unrecorded_agent() {
    let repo = TestRepo::new();
    // A terminal that starts the supervisor late, and the shard's lock held across the timeout:
    // the supervisor and the rollback race for it.
    repo.user_config(
        "launch_timeout = 1\n[terminals.slow]\ncommand = [\"sh\", \"-c\", \"sleep 0.7; exec \\\"$@\\\"\", \"sh\", \"{cmd...}\"]\n",
    );
    for round in 0..3 {
        let name = format!("slow{round}");
        let marker = format!("sleep 32{round}");
        let mut new = repo.command_in(
            &repo.root,
            &["new", &name, "--terminal", "slow", "--", "sh", "-c", &marker],
        );
        let child = new
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(450));
        let lock = repo.common_dir().join(format!("shards/{name}.lock"));
        let holder = Command::new("flock").arg(&lock).args(["sleep", "1"]).spawn();
        let out = child.wait_with_output().unwrap();
        if let Ok(mut h) = holder {
            h.wait().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        if out.status.success() {
            assert_eq!(repo.shard(&name)["status"], "running", "round {round}");
            repo.ok(&["rm", &name]);
        } else {
            assert!(!repo.record_path(&name).exists(), "round {round}: rolled back");
            assert!(!repo.shards_dir().join(&name).exists(), "round {round}");
        }
        assert!(
            processes_with(&marker).is_empty(),
            "round {round}: an agent runs that no record knows"
        );
    }
    assert_eq!(repo.branches(), ["main"]);
}

#[test]
fn prune_respects_moves_and_locked_worktrees_of_missing_folders() {
    let repo = TestRepo::new();
    repo.ok(&["new", "moved", "--no-launch", "--", "true"]);
    repo.ok(&["new", "usb", "--no-launch", "--", "true"]);
    let to = repo.tmp.path().join("elsewhere");
    repo.git(&[
        "worktree",
        "move",
        repo.shards_dir().join("moved").to_str().unwrap(),
        to.to_str().unwrap(),
    ]);
    let usb = repo.shards_dir().join("usb");
    repo.git(&["worktree", "lock", "--reason", "on a USB stick", usb.to_str().unwrap()]);
    fs::rename(&usb, repo.tmp.path().join("unplugged")).unwrap();
    let out = repo.ok(&["prune"]);
    assert!(out.contains("kept-shard: usb"), "{out}");
    assert!(!out.contains("forget-shard"), "{out}");
    let moved = repo.shard("moved");
    assert_eq!(moved["path"], to.display().to_string(), "the move was followed");
    assert_eq!(moved["orphaned"], false);
    assert_eq!(repo.list().len(), 2);
    assert_eq!(repo.branches(), ["main", "shard/moved", "shard/usb"]);
}

#[test]
fn rm_refuses_to_lose_commits_made_on_a_detached_head() {
    let repo = TestRepo::new();
    repo.ok(&["new", "det", "--no-launch", "--", "true"]);
    let wt = repo.shards_dir().join("det");
    repo.git_in(&wt, &["checkout", "-q", "--detach"]);
    fs::write(wt.join("f"), "x").unwrap();
    repo.git_in(&wt, &["add", "f"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "detached work"]);
    let err = repo.refused(&["rm", "det"]);
    assert!(err.contains("1 commit") && err.contains("detached"), "{err}");
    assert!(wt.is_dir());
    repo.ok(&["rm", "--force", "det"]);
    assert!(!wt.exists());
}

/// A `git` in front of the real one that sleeps before the commands whose arguments contain
/// `slow`: a window in which to kill git-shard (or its git) at a chosen step. Returns the PATH.
fn slow_git(repo: &TestRepo, slow: &str) -> String {
    let real = Command::new("sh").args(["-c", "command -v git"]).output().unwrap();
    let real = String::from_utf8(real.stdout).unwrap().trim().to_owned();
    let dir = repo.tmp.path().join("slow-git");
    fs::create_dir_all(&dir).unwrap();
    let script = dir.join("git");
    fs::write(
        &script,
        format!("#!/bin/sh\ncase \"$*\" in *'{slow}'*) sleep 2;; esac\nexec {real} \"$@\"\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:{}", dir.display(), test_path().to_string_lossy())
}

fn record_text(repo: &TestRepo, name: &str) -> String {
    fs::read_to_string(repo.record_path(name)).unwrap_or_default()
}

#[test]
fn recovering_an_interrupted_new_never_takes_a_worktree_the_user_made() {
    let repo = TestRepo::new();
    let path = slow_git(&repo, "branch --quiet");
    let mut child = repo.spawn_job(&["new", "x", "--no-launch", "--", "true"], Some(&path));
    eventually("the branch step under way", || {
        record_text(&repo, "x").contains("git_process")
    });
    assert!(kill_group(child.id(), "KILL"));
    child.wait().unwrap();
    // Meanwhile the user makes their own worktree there, locks it (no reason) and works in it.
    let wt = repo.shards_dir().join("x");
    repo.git(&["worktree", "add", "-q", "-b", "shard/x", &wt.display().to_string()]);
    repo.git(&["worktree", "lock", &wt.display().to_string()]);
    fs::write(wt.join("notes.txt"), "precious\n").unwrap();
    let out = repo.run(&["prune"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("cannot be proven"), "{said}");
    assert!(wt.join("notes.txt").exists(), "the user's worktree was removed");
    // Unlocked, and with a commit only its detached HEAD has: still not taken.
    repo.git(&["worktree", "unlock", &wt.display().to_string()]);
    repo.git_in(&wt, &["checkout", "-q", "--detach"]);
    repo.git_in(&wt, &["add", "notes.txt"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "mine"]);
    let err = repo.refused(&["rm", "x"]);
    assert!(err.contains("cannot be proven"), "{err}");
    assert!(wt.join("notes.txt").exists());
}

#[test]
fn terminal_signals_during_rm_never_leave_half_a_worktree() {
    let repo = TestRepo::new();
    let path = slow_git(&repo, "worktree remove");
    for (signal, name) in [("INT", "int"), ("HUP", "hup")] {
        repo.ok(&["new", name, "--no-launch", "--", "true"]);
        let mut child = repo.spawn_job(&["rm", name], Some(&path));
        eventually("git's removal under way", || {
            record_text(&repo, name).contains("removing")
        });
        // What a Ctrl-C or a closed terminal sends to the foreground group.
        assert!(kill_group(child.id(), signal));
        let status = child.wait().unwrap();
        if signal == "INT" {
            // Ignored while git works, as system(3) does: rm sees git finish and completes.
            assert!(status.success(), "{status}");
        }
        // git was not in that group: it finishes the removal, and prune (or rm) the rest.
        eventually("git finished", || !repo.shards_dir().join(name).exists());
        repo.ok(&["prune"]);
        assert!(!repo.record_path(name).exists());
        assert!(!repo.branches().contains(&format!("shard/{name}")));
        assert_eq!(repo.worktrees().len(), 1, "{:?}", repo.worktrees());
    }
}

#[test]
fn a_removal_stopped_before_git_deleted_anything_checks_again() {
    let repo = TestRepo::new();
    let path = slow_git(&repo, "worktree remove");
    repo.ok(&["new", "stopped", "--no-launch", "--", "true"]);
    let mut child = repo.spawn_job(&["rm", "stopped"], Some(&path));
    eventually("git's removal under way", || {
        record_text(&repo, "stopped").contains("removing")
    });
    // rm and its git both die before git deletes a file.
    let record: toml::Table = toml::from_str(&record_text(&repo, "stopped")).unwrap();
    let git_pid = record["git_process"]["pid"].as_integer().unwrap();
    kill(git_pid as u32, 9);
    assert!(kill_group(child.id(), "KILL"));
    child.wait().unwrap();
    let wt = repo.shards_dir().join("stopped");
    assert!(wt.join("README").exists());
    // Work made since: prune does not finish that removal blind.
    fs::write(wt.join("work.txt"), "new work\n").unwrap();
    let out = repo.run(&["prune"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("uncommitted work"));
    assert!(wt.join("work.txt").exists(), "new work was deleted");
    let listed = repo.list();
    let shard = listed.iter().find(|v| v["name"] == "stopped").unwrap();
    assert_eq!(shard["removing"], false, "{shard:#}");
    fs::remove_file(wt.join("work.txt")).unwrap();
    repo.ok(&["rm", "stopped"]);
    assert!(!wt.exists());
}

#[test]
fn what_a_killed_git_worktree_add_left_is_recognised_however_far_it_got() {
    let repo = TestRepo::new();
    let path = slow_git(&repo, "worktree add");
    let reason = |name: &str| format!("git-shard: adding the worktree of shard '{name}'");
    // (lock, gitdir, the folder's .git) as git may leave them when killed while writing each:
    // files are written in place, so each can be cut short.
    type Leftover = fn(&str, &str, &str) -> (String, Option<String>, Option<String>);
    let states: [Leftover; 4] = [
        |reason, _, _| (reason[..10].to_owned(), None, None),
        |reason, gitdir, _| (reason.to_owned(), Some(gitdir[..gitdir.len() - 6].to_owned()), None),
        |reason, gitdir, _| (reason.to_owned(), Some(gitdir.to_owned()), Some(String::new())),
        |reason, gitdir, link| {
            (
                reason.to_owned(),
                Some(gitdir.to_owned()),
                Some(link[..link.len() - 3].to_owned()),
            )
        },
    ];
    for (i, state) in states.iter().enumerate() {
        let name = format!("cut{i}");
        let mut child = repo.spawn_job(&["new", &name, "--no-launch", "--", "true"], Some(&path));
        // The branch made, the slowed add not begun: kill, then lay out what git would have left.
        eventually("the branch made", || repo.branches().contains(&format!("shard/{name}")));
        assert!(kill_group(child.id(), "KILL"));
        child.wait().unwrap();
        let wt = repo.shards_dir().join(&name);
        let admin = repo.common_dir().join("worktrees").join(&name);
        let (lock, gitdir, link) = state(
            &reason(&name),
            &format!("{}/.git\n", wt.display()),
            &format!("gitdir: {}\n", admin.display()),
        );
        fs::create_dir_all(&admin).unwrap();
        fs::write(admin.join("locked"), lock).unwrap();
        if let Some(gitdir) = gitdir {
            fs::write(admin.join("gitdir"), gitdir).unwrap();
            fs::create_dir_all(&wt).unwrap();
        }
        if let Some(link) = link {
            fs::write(wt.join(".git"), link).unwrap();
            // Killed as `git reset --hard` moved the branch HEAD names: git's ref lock stays.
            fs::write(repo.common_dir().join(format!("refs/heads/shard/{name}.lock")), "").unwrap();
        }
        let out = repo.ok(&["prune"]);
        assert!(out.contains("undo-incomplete"), "state {i}: {out}");
        assert!(!wt.exists() && !admin.exists(), "state {i}: leftovers stay");
        assert!(
            !repo.record_path(&name).exists() && repo.branches() == ["main"],
            "state {i}"
        );
    }
}

/// Run git-shard and give it five seconds: a hang is a failure, not a stuck test.
fn run_within(repo: &TestRepo, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut child = repo
        .command_in(dir, args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("git-shard {args:?} hung");
        }
        thread::sleep(std::time::Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn hostile_records_are_data_never_control() {
    let repo = TestRepo::new();
    repo.ok(&["new", "fine", "--no-launch", "--", "true"]);
    let good = fs::read_to_string(repo.record_path("fine")).unwrap();
    let shards = repo.common_dir().join("shards");
    // A FIFO nobody writes, a link to an endless device, a huge file.
    assert!(
        Command::new("mkfifo")
            .arg(shards.join("fifo.toml"))
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/dev/zero", shards.join("zero.toml")).unwrap();
    fs::write(shards.join("huge.toml"), "x".repeat(3 << 20)).unwrap();
    // An empty command, and a base commit with non-ASCII text and a terminal escape.
    fs::write(
        shards.join("empty.toml"),
        good.replace("name = \"fine\"", "name = \"empty\"")
            .replace("command = [\"true\"]", "command = []"),
    )
    .unwrap();
    let commit_line = good.lines().find(|l| l.starts_with("commit = ")).unwrap();
    fs::write(
        shards.join("odd.toml"),
        good.replace("name = \"fine\"", "name = \"odd\"").replace(
            commit_line,
            "commit = \"\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\\u001b]0;pwned\\u0007\"",
        ),
    )
    .unwrap();
    let wt = repo.shards_dir().join("fine");
    for (dir, args) in [
        (&repo.root, vec!["prompt"]),
        (&wt, vec!["prompt"]),
        (&repo.root, vec!["list"]),
        (&repo.root, vec!["list", "--json"]),
        (&repo.root, vec!["status", "odd"]),
        (&repo.root, vec!["status", "fifo"]),
        (&repo.root, vec!["run", "empty"]),
        (&repo.root, vec!["prune", "--dry-run"]),
    ] {
        let out = run_within(&repo, dir, &args);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.code().is_some_and(|c| c <= 1), "{args:?} crashed: {all}");
        assert!(!all.contains('\u{1b}'), "{args:?} printed an escape: {all:?}");
    }
    let listed = String::from_utf8(run_within(&repo, &repo.root, &["list"]).stderr).unwrap();
    for name in ["fifo", "zero", "huge", "empty"] {
        assert!(
            listed.contains(&format!("shard '{name}'")),
            "{name} not reported: {listed}"
        );
    }
    assert!(
        listed.contains("not a regular file") && listed.contains("at most"),
        "{listed}"
    );
    assert!(repo.list().iter().any(|v| v["name"] == "fine"));
    let err = repo.refused(&["run", "empty"]);
    assert!(err.contains("`command` is empty"), "{err}");
}

#[test]
fn a_record_whose_times_are_not_times_is_refused_by_name() {
    let repo = TestRepo::new();
    repo.ok(&["new", "fine", "--no-launch", "--", "true"]);
    let good = fs::read_to_string(repo.record_path("fine")).unwrap();
    let created = good.lines().find(|l| l.starts_with("created_at = ")).unwrap();
    let written = created.trim_start_matches("created_at = ").trim_matches('"');
    assert!(
        written.parse::<jiff::Timestamp>().is_ok() && written.ends_with('Z'),
        "{created}"
    );
    fs::write(
        repo.record_path("when"),
        good.replace("name = \"fine\"", "name = \"when\"")
            .replace(created, "created_at = \"yesterday\""),
    )
    .unwrap();
    let listed = String::from_utf8(repo.run(&["list"]).stderr).unwrap();
    assert!(listed.contains("shard 'when'"), "{listed}");
    let err = repo.refused(&["status", "when"]);
    assert!(err.contains("created_at") && err.contains("hint:"), "{err}");
    let err = repo.refused(&["rm", "when"]);
    assert!(err.contains("shard 'when'"), "{err}");
    assert!(
        repo.record_path("when").exists(),
        "an unreadable record is never removed"
    );
}

#[test]
fn rm_dry_run_lists_what_would_go_and_changes_nothing() {
    let repo = TestRepo::new();
    repo.ok(&["new", "look", "--terminal", "background", "--", "sleep", "300"]);
    let wt = repo.shards_dir().join("look");
    let pid = pid_of(&repo.shard("look"));
    fs::write(wt.join("secrets.ignored"), "KEY=1").unwrap();
    fs::create_dir_all(wt.join("cache.ignored/deep")).unwrap();
    fs::write(wt.join("cache.ignored/deep/blob"), "x").unwrap();
    fs::write(wt.join("notes.txt"), "mine").unwrap();

    // Uncommitted work: the dry run refuses as `rm` would, and says how to see the list.
    let err = repo.refused(&["rm", "--dry-run", "look"]);
    assert!(err.contains("uncommitted work") && err.contains("--dry-run"), "{err}");
    let out = repo.ok(&["rm", "--dry-run", "--force", "look"]);
    assert!(out.contains(&format!("would stop the agent (pid {pid})")), "{out}");
    assert!(
        out.contains(&format!("would remove the worktree {}", wt.display())),
        "{out}"
    );
    for line in [
        "ignored   secrets.ignored",
        "ignored   cache.ignored/",
        "untracked notes.txt",
    ] {
        assert!(out.contains(line), "{line:?} missing: {out}");
    }
    assert!(out.contains("would delete branch 'shard/look'"), "{out}");
    // Nothing changed: the agent runs, every file is there, the record is whole.
    assert!(alive(pid) && repo.shard("look")["status"] == "running");
    assert!(wt.join("notes.txt").is_file() && wt.join("cache.ignored/deep/blob").is_file());
    assert!(
        !fs::read_to_string(repo.record_path("look"))
            .unwrap()
            .contains("removing")
    );

    // A branch with work of its own is kept, and the dry run says so.
    fs::remove_file(wt.join("notes.txt")).unwrap();
    repo.git_in(&wt, &["commit", "-q", "--allow-empty", "-m", "work"]);
    let out = repo.ok(&["rm", "-n", "look"]);
    assert!(
        out.contains("would have kept branch 'shard/look': 1 commit(s)"),
        "{out}"
    );
    assert!(!out.contains("notes.txt"), "{out}");
    repo.ok(&["rm", "--grace", "0", "look"]);
    assert!(!wt.exists() && !alive(pid));
}

#[test]
fn run_refuses_a_shard_that_is_half_made_or_being_removed() {
    let repo = TestRepo::new();
    let path = slow_git(&repo, "worktree add");
    let mut child = repo.spawn_job(&["new", "half", "--no-launch", "--", "true"], Some(&path));
    eventually("the branch made", || repo.branches().contains(&"shard/half".to_owned()));
    assert!(kill_group(child.id(), "KILL"));
    child.wait().unwrap();
    let err = repo.refused(&["run", "half", "--terminal", "background", "--", "sleep", "300"]);
    assert!(
        err.contains("half made") && err.contains("no agent was started"),
        "{err}"
    );
    repo.ok(&["prune"]);
    assert!(!repo.record_path("half").exists());
}

#[test]
fn a_refused_rm_leaves_the_agent_running() {
    let repo = TestRepo::new();
    repo.ok(&["new", "busy", "--", "sleep", "300"]);
    let pid = pid_of(&repo.shard("busy"));
    fs::write(repo.shards_dir().join("busy/draft.txt"), "the agent's work\n").unwrap();
    let err = repo.refused(&["rm", "busy"]);
    assert!(err.contains("uncommitted work"), "{err}");
    assert!(alive(pid), "rm stopped the agent and then refused");
    assert_eq!(repo.shard("busy")["status"], "running");
    repo.ok(&["rm", "--force", "busy"]);
    assert!(!alive(pid));
}

#[test]
fn rm_refuses_a_worktree_switched_to_another_branch() {
    let repo = TestRepo::new();
    repo.ok(&["new", "sw", "--no-launch", "--", "true"]);
    let wt = repo.shards_dir().join("sw");
    repo.git_in(&wt, &["switch", "-q", "-c", "elsewhere"]);
    for args in [vec!["rm", "sw"], vec!["rm", "--force", "sw"]] {
        let err = repo.refused(&args);
        assert!(err.contains("is on elsewhere now"), "{err}");
        assert!(wt.join("README").exists());
    }
    repo.git_in(&wt, &["switch", "-q", "shard/sw"]);
    repo.ok(&["rm", "sw"]);
    assert!(!wt.exists());
}

#[test]
fn a_users_worktree_that_took_a_shards_id_is_not_the_shard() {
    let repo = TestRepo::new();
    repo.ok(&["new", "x", "--no-launch", "--", "true"]);
    let wt = repo.shards_dir().join("x");
    repo.git(&["worktree", "remove", "--force", &wt.display().to_string()]);
    // The user's own worktree, in another folder also named `x`: git gives it the id `x` again.
    let mine = repo.tmp.path().join("mine/x");
    repo.git(&["worktree", "add", "-q", "-b", "mine", &mine.display().to_string()]);
    assert!(repo.common_dir().join("worktrees/x").exists());
    fs::write(mine.join(".env"), "SECRET=1\n").unwrap();
    let listed = repo.list();
    let shard = listed.iter().find(|v| v["name"] == "x").unwrap();
    assert_eq!(shard["orphaned"], true, "{shard:#}");
    assert_ne!(shard["path"].as_str(), Some(mine.to_str().unwrap()));
    repo.ok(&["rm", "x"]);
    assert!(mine.join(".env").exists() && mine.join("README").exists());
    assert!(repo.worktrees().contains(&mine.display().to_string()));
}

#[test]
fn a_refused_new_leaves_nothing_behind() {
    let repo = TestRepo::new();
    repo.git(&["branch", "shard/taken"]);
    let err = repo.refused(&["new", "taken", "--no-launch", "--", "true"]);
    assert!(err.contains("already exists"), "{err}");
    let left: Vec<String> = fs::read_dir(repo.common_dir().join("shards"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(!left.iter().any(|f| f.starts_with("taken")), "{left:?}");
}

#[test]
fn list_answers_at_once_and_stops_orphaned_agents_in_the_background() {
    let repo = TestRepo::new();
    // An agent that ignores SIGTERM: stopping it takes the whole grace period.
    repo.ok(&["new", "deaf", "--", "sh", "-c", "trap '' TERM; sleep 300 & wait"]);
    let pid = pid_of(&repo.shard("deaf"));
    let wt = repo.shards_dir().join("deaf");
    repo.git(&["worktree", "remove", "-f", "-f", &wt.display().to_string()]);
    let started = std::time::Instant::now();
    let out = repo.run(&["list"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "list waited for the stop ({:?})",
        started.elapsed()
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopped in the background"));
    eventually("the agent stopped", || !alive(pid));
    assert_eq!(repo.shard("deaf")["orphaned"], true);
}

#[test]
fn a_record_edited_to_name_another_folder_never_gets_it_deleted() {
    let repo = TestRepo::new();
    repo.ok(&["new", "aimed", "--no-launch", "--", "true"]);
    let victim = repo.tmp.path().join("victim");
    fs::create_dir_all(victim.join("sub")).unwrap();
    fs::write(victim.join("sub/precious.txt"), "mine\n").unwrap();
    let path = repo.record_path("aimed");
    let text = fs::read_to_string(&path).unwrap();
    let wt = repo.shards_dir().join("aimed");
    let aimed = text.replace(
        &format!("worktree = \"{}\"", wt.display()),
        &format!("worktree = \"{}\"", victim.display()),
    );
    assert_ne!(aimed, text);
    for removing in [false, true] {
        let edited = if removing {
            aimed.replace("created_branch = true", "created_branch = true\nremoving = true")
        } else {
            aimed.clone()
        };
        fs::write(&path, &edited).unwrap();
        for args in [vec!["rm", "aimed"], vec!["rm", "--force", "aimed"], vec!["prune"]] {
            let _ = repo.run(&args);
            assert!(
                victim.join("sub/precious.txt").exists(),
                "{args:?} (removing={removing}) deleted it"
            );
        }
    }
}

#[test]
fn prune_removes_the_empty_entry_a_killed_worktree_add_leaves_and_keeps_a_locked_one() {
    let repo = TestRepo::new();
    repo.ok(&["new", "kept", "--no-launch", "--", "true"]);
    let admin = repo.common_dir().join("worktrees");
    // What `git worktree add` leaves when it is killed right after its mkdir.
    fs::create_dir_all(admin.join("half")).unwrap();
    fs::create_dir_all(admin.join("held")).unwrap();
    fs::write(admin.join("held/locked"), "mine\n").unwrap();
    let out = repo.ok(&["prune", "--dry-run"]);
    assert!(out.contains("would prune-worktree-entry: half"), "{out}");
    assert!(admin.join("half").is_dir());
    let out = repo.ok(&["prune"]);
    assert!(
        out.contains("prune-worktree-entry: half") && !out.contains("held"),
        "{out}"
    );
    assert!(!admin.join("half").exists() && admin.join("held/locked").is_file());
    assert!(admin.join("kept").is_dir() && repo.shard("kept")["worktree_exists"] == true);
}
