//! A new shard that is ready to work (issue 13): `.worktreeinclude`, setup and teardown, a port
//! of its own, one template syntax.

use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::MetadataExt;

use serde_json::Value;

use crate::common::*;

/// A main worktree with ignored files, some of which `.worktreeinclude` names.
fn repo_with_ignored_files() -> TestRepo {
    let repo = TestRepo::new();
    let root = &repo.root;
    fs::write(
        root.join(".gitignore"),
        ".env\nnode_modules/\nbuild/\nlinked\n*.ignored\n",
    )
    .unwrap();
    fs::write(
        root.join(".worktreeinclude"),
        ".env\nnode_modules/\nlinked\nnotes.txt\nREADME\n",
    )
    .unwrap();
    repo.git(&["add", ".gitignore", ".worktreeinclude"]);
    repo.git(&["commit", "-q", "-m", "ignore"]);
    fs::write(root.join(".env"), "SECRET=1\n").unwrap();
    fs::create_dir_all(root.join("node_modules/pkg/lib")).unwrap();
    fs::write(root.join("node_modules/pkg/lib/index.js"), "module.exports = 1\n").unwrap();
    fs::write(root.join("node_modules/.bin-tool"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(
        root.join("node_modules/.bin-tool"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    // Ignored but not named: stays behind. Named but not ignored: stays behind. Tracked (and
    // changed in the main worktree): never touched.
    fs::create_dir_all(root.join("build")).unwrap();
    fs::write(root.join("build/out.o"), "obj").unwrap();
    fs::write(root.join("notes.txt"), "untracked, not ignored").unwrap();
    fs::write(root.join("README"), "changed in main\n").unwrap();
    repo
}

#[test]
fn worktreeinclude_copies_ignored_files_and_nothing_else() {
    let repo = repo_with_ignored_files();
    let outside = repo.tmp.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret"), "not ours").unwrap();
    std::os::unix::fs::symlink(&outside, repo.root.join("linked")).unwrap();
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    fs::File::options()
        .write(true)
        .open(repo.root.join(".env"))
        .unwrap()
        .set_modified(old)
        .unwrap();

    let out = repo.run(&["new", "a", "--no-launch"]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("copied 3 ignored files"), "{err}");
    assert!(err.contains("and 1 symlink"), "{err}");
    let wt = repo.shards_dir().join("a");
    assert_eq!(fs::read_to_string(wt.join(".env")).unwrap(), "SECRET=1\n");
    assert_eq!(
        fs::read_to_string(wt.join("node_modules/pkg/lib/index.js")).unwrap(),
        "module.exports = 1\n"
    );
    let tool = fs::metadata(wt.join("node_modules/.bin-tool")).unwrap();
    assert_eq!(tool.mode() & 0o777, 0o755, "permissions kept");
    assert_eq!(
        fs::metadata(wt.join(".env")).unwrap().modified().unwrap(),
        old,
        "mtime kept"
    );
    // The link is a link, pointing where it pointed: what it points to was not copied.
    let link = fs::symlink_metadata(wt.join("linked")).unwrap();
    assert!(link.is_symlink());
    assert_eq!(fs::read_link(wt.join("linked")).unwrap(), outside);
    assert!(!wt.join("build").exists(), "an ignored file no pattern names");
    assert!(!wt.join("notes.txt").exists(), "a named file that is not ignored");
    assert_eq!(
        fs::read_to_string(wt.join("README")).unwrap(),
        "hello\n",
        "tracked files untouched"
    );
    // The copies are ignored in the shard too: it is clean, and `rm` needs no --force.
    assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "");

    let out = repo.run(&["new", "b", "--no-launch", "--no-include"]);
    assert!(out.status.success());
    assert!(!repo.shards_dir().join("b/.env").exists());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("copied"));

    // `include` in the configuration adds patterns; --json keeps stdout for the JSON alone.
    fs::write(repo.root.join("extra.ignored"), "x").unwrap();
    repo.user_config("include = [\"*.ignored\"]\n");
    let out = repo.run(&["new", "c", "--no-launch", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let shard: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON only");
    assert_eq!(shard["name"], "c");
    assert!(repo.shards_dir().join("c/extra.ignored").exists());
    repo.ok(&["rm", "a"]);
}

/// A shard on a branch that does not ignore a file the main worktree ignores (the ignore line came
/// later): the file is not copied there, where it would be untracked and committable.
#[test]
fn a_file_the_shards_branch_does_not_ignore_is_not_copied() {
    let repo = TestRepo::new();
    repo.git(&["branch", "release"]);
    fs::write(repo.root.join(".gitignore"), "secrets.env\n").unwrap();
    fs::write(repo.root.join(".worktreeinclude"), "secrets.env\n").unwrap();
    repo.git(&["add", ".gitignore", ".worktreeinclude"]);
    repo.git(&["commit", "-q", "-m", "ignore secrets"]);
    fs::write(repo.root.join("secrets.env"), "KEY=1\n").unwrap();

    let out = repo.run(&["new", "old", "--base", "release", "--no-launch"]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not copied: 1 the shard's checkout does not ignore (secrets.env)"),
        "{err}"
    );
    let wt = repo.shards_dir().join("old");
    assert!(!wt.join("secrets.env").exists());
    assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "");
    // Where the branch ignores it, it is copied.
    repo.ok(&["new", "now", "--no-launch"]);
    assert!(repo.shards_dir().join("now/secrets.env").exists());
}

#[test]
fn setup_runs_before_the_agent_and_a_failure_leaves_a_shard_run_continues() {
    let repo = TestRepo::new();
    repo.user_config(
        "setup = [[\"sh\", \"-c\", \"echo prepared for {name} > ready; echo installing on port $GIT_SHARD_PORT\"]]\n",
    );
    let out = repo.run(&["new", "s", "--", "sh", "-c", "cat ready > seen; sleep 30"]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("installing on port "), "setup output shown: {err}");
    // What runs is shown, placeholders filled.
    assert!(
        err.contains("git-shard: setup: sh -c 'echo prepared for s > ready;"),
        "{err}"
    );
    let wt = repo.shards_dir().join("s");
    eventually("the agent ran", || wt.join("seen").exists());
    assert_eq!(fs::read_to_string(wt.join("seen")).unwrap(), "prepared for s\n");
    let logs = repo.ok(&["logs", "s"]);
    assert!(logs.contains("installing on port"), "setup output logged: {logs}");
    repo.ok(&["stop", "s"]);

    // A failing setup: the shard is made, no agent starts, and `run` tries the setup again.
    repo.user_config("setup = [{ sh = \"test -f fixed || { echo 'no fix yet' >&2; exit 3; }\" }]\n");
    let out = repo.run(&["new", "f", "--", "sh", "-c", "echo agent > ran; sleep 30"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no fix yet"), "{err}");
    assert!(
        err.contains("setup command `test -f fixed") && err.contains("failed (exit status: 3)"),
        "{err}"
    );
    assert!(
        err.contains("no agent was started") && err.contains("git shard run f"),
        "{err}"
    );
    let wt = repo.shards_dir().join("f");
    assert!(wt.is_dir());
    let shard = repo.shard("f");
    assert_eq!(
        (shard["pending_setup"].clone(), shard["status"].clone()),
        (Value::Bool(true), "not-started".into())
    );
    assert!(!wt.join("ran").exists());
    let again = repo.run(&["run", "f"]);
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    fs::write(wt.join("fixed"), "").unwrap();
    repo.ok(&["run", "f", "--terminal", "background"]);
    eventually("the agent ran after the setup", || wt.join("ran").exists());
    assert_eq!(repo.shard("f")["pending_setup"], false);
    repo.ok(&["stop", "f"]);
}

/// A setup command gets interrupts back when git-shard had them ignored (a `new` run on a host
/// does, so that a cut connection cannot cut it short, and marks it), and keeps an ignore of the
/// user's own (a script's background job ignores INT).
#[test]
fn setup_commands_get_interrupts_back_only_from_git_shards_own_ignore() {
    let repo = TestRepo::new();
    repo.user_config(
        "setup = [{ sh = \"grep SigIgn /proc/self/status > ../sigign-{name}; \
         echo ${GIT_SHARD_INTERRUPTS_IGNORED:-unmarked} >> ../sigign-{name}\" }]\n",
    );
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("no /proc here: the signals a command ignores cannot be read");
        return;
    }
    let bit = |sig: i32| 1u64 << (sig - 1);
    let setup_of = |name: &str, marked: bool| -> (u64, String) {
        let mut cmd = repo.command_in(&repo.root, &["new", name, "--no-launch"]);
        if marked {
            cmd.env("GIT_SHARD_INTERRUPTS_IGNORED", "1");
        }
        // SAFETY: between fork and exec only `signal`, which is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                for sig in [libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP] {
                    libc::signal(sig, libc::SIG_IGN);
                }
                Ok(())
            });
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let said = fs::read_to_string(repo.shards_dir().join(format!("sigign-{name}"))).unwrap();
        let (line, mark) = said.split_once('\n').unwrap();
        let mask = u64::from_str_radix(line.trim_start_matches("SigIgn:").trim(), 16).unwrap();
        (mask, mark.trim().to_owned())
    };
    let (mask, mark) = setup_of("host", true);
    assert_eq!(mask & (bit(libc::SIGINT) | bit(libc::SIGTERM)), 0, "{mask:x}");
    assert_ne!(mask & bit(libc::SIGHUP), 0, "hangups stay ignored: {mask:x}");
    assert_eq!(mark, "unmarked", "the mark is not passed on");
    let (mask, _) = setup_of("mine", false);
    let all = bit(libc::SIGINT) | bit(libc::SIGQUIT) | bit(libc::SIGTERM) | bit(libc::SIGHUP);
    assert_eq!(mask & all, all, "the user's own ignores are kept: {mask:x}");
}

#[test]
fn committed_setup_and_teardown_run_only_once_trusted() {
    let repo = TestRepo::new();
    let marker = repo.tmp.path().join("ran");
    fs::write(
        repo.root.join(".git-shard.toml"),
        format!(
            "setup = [[\"sh\", \"-c\", \"echo setup >> {m}\"]]\nteardown = [[\"sh\", \"-c\", \"echo teardown {{name}} >> {m}\"]]\n",
            m = marker.display()
        ),
    )
    .unwrap();
    repo.git(&["add", ".git-shard.toml"]);
    repo.git(&["commit", "-q", "-m", "setup"]);
    let err = repo.refused(&["new", "t", "--no-launch"]);
    assert!(err.contains("`setup` is set in") && err.contains("--trust"), "{err}");
    assert!(!repo.shards_dir().join("t").exists(), "nothing was created");
    assert!(!marker.exists());
    repo.ok(&["config", "--trust"]);
    repo.ok(&["new", "t", "--no-launch"]);
    repo.ok(&["rm", "t"]);
    assert_eq!(fs::read_to_string(&marker).unwrap(), "setup\nteardown t\n");
}

#[test]
fn a_failing_teardown_keeps_the_shard_unless_forced() {
    let repo = TestRepo::new();
    repo.user_config("teardown = [{ sh = \"echo tearing down $GIT_SHARD_NAME; exit 4\" }]\n");
    repo.ok(&["new", "d", "--no-launch"]);
    let err = repo.refused(&["rm", "d"]);
    assert!(err.contains("tearing down d"), "{err}");
    assert!(
        err.contains("teardown command") && err.contains("nothing was removed") && err.contains("rm --force d"),
        "{err}"
    );
    assert!(repo.shards_dir().join("d").is_dir());
    let out = repo.run(&["rm", "--force", "d"]);
    assert!(out.status.success(), "{out:?}");
    assert!(!repo.shards_dir().join("d").exists());
}

#[test]
fn every_shard_gets_a_free_port_of_its_own_for_its_life() {
    let repo = TestRepo::new();
    // A port something else listens on is never given.
    let busy = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let lo = busy_port.saturating_sub(10).max(1024);
    repo.user_config(&format!("port_range = [{lo}, {}]\nports = [\"web\"]\n", lo + 59));
    let names: Vec<String> = (0..20).map(|i| format!("p{i}")).collect();
    std::thread::scope(|s| {
        for name in &names {
            let repo = &repo;
            s.spawn(move || repo.ok(&["new", name, "--no-launch"]));
        }
    });
    let mut seen = std::collections::BTreeSet::new();
    for name in &names {
        let shard = repo.shard(name);
        for port in [&shard["port"], &shard["ports"]["web"]] {
            let port = port.as_u64().unwrap() as u16;
            assert!((lo..=lo + 59).contains(&port), "{port} outside the range");
            assert_ne!(port, busy_port, "a port in use was given");
            assert!(seen.insert(port), "port {port} given twice");
            TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).expect("a given port is bindable");
        }
    }
    assert_eq!(seen.len(), 40);

    // The agent gets it, and it stays the shard's across runs.
    let port = repo.shard("p3")["port"].clone();
    repo.ok(&[
        "run",
        "p3",
        "--terminal",
        "background",
        "--",
        "sh",
        "-c",
        "echo $GIT_SHARD_PORT $GIT_SHARD_PORT_WEB > port",
    ]);
    repo.wait_for("p3", "the run's end", |v| v["status"] == "exited");
    let web = repo.shard("p3")["ports"]["web"].clone();
    assert_eq!(
        fs::read_to_string(repo.shards_dir().join("p3/port")).unwrap(),
        format!("{port} {web}\n")
    );
    repo.ok(&["run", "p3", "--terminal", "background"]);
    repo.wait_for("p3", "the second run's end", |v| v["status"] == "exited");
    assert_eq!(repo.shard("p3")["port"], port);

    // `rm` frees it: the next shard of that name gets it back (its search starts at the name's hash).
    fs::remove_file(repo.shards_dir().join("p3/port")).unwrap();
    repo.ok(&["rm", "p3"]);
    repo.ok(&["new", "p3", "--no-launch"]);
    assert_eq!(repo.shard("p3")["port"], port);

    drop(busy);

    // `{port}` and `{port_web}` in a terminal template: a "terminal" that notes them and runs
    // the supervisor itself.
    let seen = repo.tmp.path().join("template-saw");
    repo.user_config(&format!(
        "port_range = [{lo}, {}]\nports = [\"web\"]\nwatch_start = 0\n[terminals.note]\ncommand = [\"sh\", \"-c\", \"echo {{port}} {{port_web}} > {}; exec \\\"$@\\\"\", \"sh\", \"{{cmd...}}\"]\n",
        lo + 59,
        seen.display()
    ));
    repo.ok(&["run", "p3", "--terminal", "note", "--", "sh", "-c", "exit 0"]);
    eventually("the template ran", || seen.exists());
    let shard = repo.shard("p3");
    assert_eq!(
        fs::read_to_string(&seen).unwrap(),
        format!("{} {}\n", shard["port"], shard["ports"]["web"])
    );
}

#[test]
fn placeholders_expand_once_whatever_the_values_hold() {
    // A repository whose folder is literally called `r{name}`: the default worktree_dir
    // `{repo_parent}/{repo}.shards/{name}` must not expand the `{name}` its value brought.
    let repo = TestRepo::named("r{name}");
    repo.ok(&["new", "x", "--no-launch"]);
    let path = repo.shard("x")["path"].as_str().unwrap().to_owned();
    assert!(path.ends_with("/r{name}.shards/x"), "{path}");
    assert!(std::path::Path::new(&path).is_dir());
}

#[test]
fn a_setup_command_written_as_a_string_is_refused_with_both_forms() {
    let repo = TestRepo::new();
    repo.user_config("setup = [\"npm ci\"]\n");
    let err = repo.refused(&["new", "x", "--no-launch"]);
    assert!(
        err.contains("setup: \"npm ci\" is a string") && err.contains(r#"{ sh = "npm ci && npm run build" }"#),
        "{err}"
    );
    assert!(!repo.shards_dir().join("x").exists());
    repo.user_config("port_range = [30000, 20000]\n");
    let err = repo.refused(&["new", "x", "--no-launch"]);
    assert!(err.contains("port_range = [30000, 20000]"), "{err}");
}

#[test]
fn a_server_setup_leaves_running_outlives_new_and_paths_with_spaces_stay_one_word() {
    let repo = TestRepo::named("my proj");
    repo.user_config(
        "setup = [{ sh = \"cp {main}/README {cwd}/copied; (while :; do echo tick; sleep 0.1; done) & echo $! > server.pid\" }]\n",
    );
    let out = repo.run(&["new", "srv", "--no-launch"]);
    assert!(out.status.success(), "{out:?}");
    let wt = repo.shards_dir().join("srv");
    assert!(wt.join("copied").is_file(), "{{main}} and {{cwd}} with a space in them");
    let pid: u32 = fs::read_to_string(wt.join("server.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the background server survived new's exit"
    );
    kill(pid, 9);
}

#[test]
fn a_port_taken_on_ipv6_only_is_not_given() {
    let Ok(v6) = TcpListener::bind((std::net::Ipv6Addr::LOCALHOST, 0)) else {
        eprintln!("SKIPPED: no IPv6 loopback here");
        return;
    };
    let port = v6.local_addr().unwrap().port();
    let repo = TestRepo::new();
    repo.user_config(&format!("port_range = [{port}, {port}]\n"));
    let err = repo.refused(&["new", "v6", "--no-launch"]);
    assert!(err.contains("no free port for shard 'v6'"), "{err}");
}
