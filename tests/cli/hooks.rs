//! Git hooks and reconciliation, with real git and real processes: no orphan survives a worktree
//! removed behind git-shard's back, and nothing that is not git-shard's is ever touched.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

fn git_out(repo: &TestRepo, dir: &Path, args: &[&str]) -> std::process::Output {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let mut cmd = Command::new("git");
    hermetic(&mut cmd, &repo.home());
    cmd.args(args)
        .current_dir(dir)
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), test_path().to_string_lossy()),
        )
        .output()
        .unwrap()
}

fn commit(repo: &TestRepo) -> Duration {
    let start = Instant::now();
    let out = git_out(repo, &repo.root, &["commit", "-q", "--allow-empty", "-m", "poke"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    start.elapsed()
}

#[test]
fn a_running_shard_is_locked_against_plain_git_worktree_remove() {
    let repo = TestRepo::new();
    repo.ok(&["new", "busy", "--", "sleep", "300"]);
    let wt = repo.shards_dir().join("busy");
    let out = git_out(&repo, &repo.root, &["worktree", "remove", wt.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("locked"), "{out:?}");
    let porcelain = repo.git(&["worktree", "list", "--porcelain"]);
    assert!(
        porcelain.contains("locked git-shard: agent running (pid"),
        "{porcelain}"
    );
    // stop lifts the lock; a run that ends by itself lifts it too (the supervisor does).
    repo.ok(&["stop", "busy"]);
    assert!(!repo.git(&["worktree", "list", "--porcelain"]).contains("locked"));
    repo.ok(&["run", "busy", "--", "sh", "-c", "sleep 0.3"]);
    assert!(
        repo.git(&["worktree", "list", "--porcelain"])
            .contains("locked git-shard")
    );
    repo.wait_for("busy", "exit", |v| v["status"] == "exited");
    eventually("unlock", || {
        !repo.git(&["worktree", "list", "--porcelain"]).contains("locked")
    });
}

#[test]
fn a_users_own_lock_is_never_removed() {
    let repo = TestRepo::new();
    repo.ok(&["new", "mine", "--no-launch", "--", "sleep", "300"]);
    let wt = repo.shards_dir().join("mine");
    repo.git(&["worktree", "lock", "--reason", "on a USB stick", wt.to_str().unwrap()]);
    repo.ok(&["run", "mine"]);
    repo.ok(&["stop", "mine"]);
    repo.ok(&["list"]);
    assert!(
        repo.git(&["worktree", "list", "--porcelain"])
            .contains("locked on a USB stick")
    );
    let err = repo.refused(&["rm", "mine"]);
    assert!(
        err.contains("locked: on a USB stick") && err.contains("git worktree unlock"),
        "{err}"
    );
}

#[test]
fn worktree_removed_behind_our_back_is_reaped_after_the_next_commit() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    for (name, how) in [("forced", "remove -f -f"), ("deleted", "rm -rf + prune")] {
        repo.ok(&["new", name, "--", "sh", "-c", "sleep 300 & wait"]);
        let v = repo.shard(name);
        let sid = v["process"]["sid"].as_u64().unwrap() as u32;
        let wt = repo.shards_dir().join(name);
        match how {
            "remove -f -f" => {
                let out = git_out(
                    &repo,
                    &repo.root,
                    &["worktree", "remove", "-f", "-f", wt.to_str().unwrap()],
                );
                assert!(out.status.success(), "{out:?}");
            }
            _ => {
                fs::remove_dir_all(&wt).unwrap();
                assert!(git_out(&repo, &repo.root, &["worktree", "prune"]).status.success());
            }
        }
        assert!(
            !session_members(sid).is_empty(),
            "{how}: still running before any git command"
        );
        let took = commit(&repo);
        assert!(took < Duration::from_secs(2), "{how}: the hook made git wait {took:?}");
        eventually(&format!("{how}: agent stopped"), || session_members(sid).is_empty());
        // The hook's reconciliation marks it right after stopping the agent.
        eventually(&format!("{how}: marked orphaned"), || {
            repo.shard(name)["orphaned"] == true
        });
        assert!(repo.ok(&["list"]).contains("orphaned"));
    }
    repo.ok(&["prune"]);
    assert!(repo.list().is_empty());
    assert_eq!(repo.branches(), ["main"]);
    assert_eq!(repo.worktrees().len(), 1, "git's stale entry is pruned too");
}

#[test]
fn reconciliation_never_signals_a_reused_pid() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    repo.ok(&["new", "r", "--", "sleep", "300"]);
    // Start ticks count 10 ms; a real PID is never reused within one, but this test forges the
    // PID, so the stranger must start in a later tick than the agent to be a stranger at all.
    std::thread::sleep(std::time::Duration::from_millis(30));
    let mut stranger = Command::new("sleep").arg("300").spawn().unwrap();
    // The agent dies without the supervisor noticing, and its PID now "belongs" to a stranger.
    let v = repo.shard("r");
    kill(v["process"]["supervisor_pid"].as_u64().unwrap() as u32, 9);
    kill(pid_of(&v), 9);
    let path = repo.record_path("r");
    let text = fs::read_to_string(&path).unwrap();
    let text = text.replace(
        &format!("pid = {}\n", pid_of(&v)),
        &format!("pid = {}\n", stranger.id()),
    );
    fs::write(&path, text).unwrap();
    fs::remove_dir_all(repo.shards_dir().join("r")).unwrap();
    commit(&repo);
    eventually("orphan marked", || repo.shard("r")["orphaned"] == true);
    assert!(
        alive(stranger.id()),
        "a stranger is never signalled: {:?} {:?}",
        proc_stat(stranger.id()),
        stranger.try_wait()
    );
    assert_eq!(repo.shard("r")["status"], "lost");
    stranger.kill().unwrap();
    stranger.wait().unwrap();
}

#[test]
fn an_existing_hook_still_runs_and_comes_back_byte_for_byte() {
    let repo = TestRepo::new();
    let hooks = repo.common_dir().join("hooks");
    fs::create_dir_all(&hooks).unwrap();
    let original = "#!/bin/sh\necho \"user hook $*\" >> \"$(git rev-parse --git-common-dir)/hook.log\"\ncat >> \"$(git rev-parse --git-common-dir)/hook.log\"\nexit 0\n";
    for name in ["post-commit", "reference-transaction"] {
        fs::write(hooks.join(name), original).unwrap();
        fs::set_permissions(hooks.join(name), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = repo.ok(&["hooks", "install"]);
    assert!(
        out.contains("post-commit: installed, chaining the existing hook"),
        "{out}"
    );
    let status = repo.ok(&["hooks", "status"]);
    assert!(
        status.contains("post-commit: installed (runs the previous hook first)"),
        "{status}"
    );
    commit(&repo);
    let log = fs::read_to_string(repo.common_dir().join("hook.log")).unwrap();
    assert!(
        log.contains("user hook \n"),
        "post-commit ran with its arguments: {log}"
    );
    assert!(
        log.contains("user hook prepared") && log.contains("user hook committed"),
        "{log}"
    );
    assert!(
        log.contains(" refs/heads/main\n"),
        "reference-transaction got its stdin: {log}"
    );
    repo.ok(&["hooks", "uninstall"]);
    for name in ["post-commit", "reference-transaction"] {
        assert_eq!(fs::read_to_string(hooks.join(name)).unwrap(), original);
    }
    assert!(!hooks.join("post-merge").exists());
    assert!(repo.ok(&["hooks", "status"]).contains("post-merge: not installed"));
}

#[test]
fn a_failing_reference_transaction_hook_keeps_its_veto() {
    let repo = TestRepo::new();
    let hooks = repo.common_dir().join("hooks");
    fs::create_dir_all(&hooks).unwrap();
    fs::write(
        hooks.join("reference-transaction"),
        "#!/bin/sh\ncat >/dev/null\n[ \"$1\" = prepared ] && exit 1\nexit 0\n",
    )
    .unwrap();
    fs::set_permissions(hooks.join("reference-transaction"), fs::Permissions::from_mode(0o755)).unwrap();
    repo.ok(&["hooks", "install"]);
    let out = git_out(&repo, &repo.root, &["commit", "-q", "--allow-empty", "-m", "vetoed"]);
    assert!(!out.status.success(), "the user's hook still refuses the transaction");
}

#[test]
fn core_hooks_path_is_honoured_and_other_managers_are_respected() {
    let repo = TestRepo::new();
    repo.git(&["config", "core.hooksPath", "my-hooks"]);
    repo.ok(&["hooks", "install"]);
    assert!(repo.root.join("my-hooks/post-commit").exists());
    assert!(!repo.common_dir().join("hooks/post-commit").exists());
    assert!(repo.ok(&["hooks", "status"]).contains("my-hooks (core.hooksPath)"));
    repo.ok(&["hooks", "uninstall"]);

    repo.git(&["config", "core.hooksPath", ".husky/_"]);
    fs::create_dir_all(repo.root.join(".husky/_")).unwrap();
    let err = repo.refused(&["hooks", "install"]);
    assert!(
        err.contains("husky") && err.contains("git shard reconcile --quiet"),
        "{err}"
    );
    assert!(!repo.root.join(".husky/_/post-commit").exists());
    repo.ok(&["hooks", "install", "--force"]);
    assert!(repo.root.join(".husky/_/post-commit").exists());
}

#[test]
fn hooks_never_fail_or_block_git_even_with_a_corrupt_record() {
    let repo = TestRepo::new();
    repo.ok(&["hooks", "install"]);
    repo.ok(&["new", "ok", "--no-launch", "--", "true"]);
    fs::create_dir_all(repo.common_dir().join("shards")).unwrap();
    fs::write(repo.record_path("broken"), "version = 1\n[[[").unwrap();
    // A stubborn orphan: reconciling it takes the whole grace period, in the background.
    repo.ok(&["new", "stubborn", "--", "sh", "-c", "trap '' TERM; sleep 300 & wait"]);
    fs::remove_dir_all(repo.shards_dir().join("stubborn")).unwrap();
    let took = commit(&repo);
    assert!(took < Duration::from_secs(2), "git waited {took:?}");
    let out = git_out(&repo, &repo.root, &["checkout", "-q", "-b", "other"]);
    assert!(out.status.success());
    // Without git-shard on PATH, hooks still let git succeed.
    let mut cmd = Command::new("git");
    hermetic(&mut cmd, &repo.home());
    let out = cmd
        .args(["commit", "-q", "--allow-empty", "-m", "x"])
        .current_dir(&repo.root)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        fs::read_to_string(repo.record_path("broken")).unwrap(),
        "version = 1\n[[["
    );
    eventually("stubborn orphan killed", || {
        repo.shard("stubborn")["status"] == "stopped"
    });
}

#[test]
fn new_offers_the_hooks_once_and_config_can_turn_on_auto_install() {
    let repo = TestRepo::new();
    let first = repo.run(&["new", "a", "--no-launch", "--", "true"]);
    assert!(String::from_utf8_lossy(&first.stderr).contains("git shard hooks install"));
    let second = repo.run(&["new", "b", "--no-launch", "--", "true"]);
    assert!(
        !String::from_utf8_lossy(&second.stderr).contains("hooks install"),
        "only once"
    );
    assert!(
        !repo.common_dir().join("hooks/post-commit").exists(),
        "never installed silently"
    );
    repo.ok(&["config", "--set", "auto_install_hooks=true"]);
    repo.ok(&["new", "c", "--no-launch", "--", "true"]);
    assert!(repo.ok(&["hooks", "status"]).contains("post-commit: installed"));
    // A committed file cannot turn it on.
    fs::write(repo.root.join(".git-shard.toml"), "auto_install_hooks = true\n").unwrap();
    let err = repo.refused(&["list"]);
    assert!(
        err.contains("auto_install_hooks cannot be set in a committed file"),
        "{err}"
    );
    fs::remove_file(repo.root.join(".git-shard.toml")).unwrap();
    let err = repo.refused(&["config", "--set", "nonsense=1"]);
    assert!(err.contains("nonsense"), "{err}");
}
