//! Configuration layers, their errors, consent for committed commands, and agent presets.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::common::*;

#[test]
fn later_layers_win_and_every_file_is_listed() {
    let repo = TestRepo::new();
    repo.user_config("branch_prefix = \"u/\"\n");
    repo.ok(&["new", "a", "--no-launch", "--", "true"]);
    fs::write(repo.root.join(".git-shard.toml"), "branch_prefix = \"c/\"\n").unwrap();
    repo.ok(&["config", "--trust"]);
    repo.ok(&["new", "b", "--no-launch", "--", "true"]);
    fs::create_dir_all(repo.common_dir().join("shards")).unwrap();
    fs::write(repo.common_dir().join("shards/config.toml"), "branch_prefix = \"l/\"\n").unwrap();
    repo.ok(&["new", "c", "--no-launch", "--", "true"]);
    let branches: Vec<String> = repo
        .list()
        .iter()
        .map(|v| v["branch"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(branches, ["u/a", "c/b", "l/c"]);

    let paths = repo.ok(&["config", "--path"]);
    let lines: Vec<&str> = paths.lines().collect();
    assert!(
        lines[0].starts_with("user\t") && lines[0].ends_with("present"),
        "{paths}"
    );
    assert!(
        lines[1].starts_with("committed\t") && lines[1].contains(".git-shard.toml"),
        "{paths}"
    );
    assert!(
        lines[2].starts_with("local\t") && lines[2].ends_with("present"),
        "{paths}"
    );
    let out = repo
        .command_in(&repo.root, &["config", "--path"])
        .env("GIT_SHARD_CONFIG", "/nonexistent/x.toml")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("user\t/nonexistent/x.toml\tmissing"));
}

#[test]
fn unknown_keys_and_wrong_types_are_errors_with_file_and_line() {
    let repo = TestRepo::new();
    repo.user_config("branch_prefix = \"x/\"\n\n[terminals.t]\ncommand = [\"a\"]\nfocuss = [\"b\"]\n");
    let err = repo.refused(&["new", "x", "--", "true"]);
    assert!(
        err.contains("config.toml") && err.contains("line 5") && err.contains("focuss"),
        "{err}"
    );
    assert!(err.contains("hint:"));
    repo.user_config("launch_timeout = \"soon\"\n");
    let err = repo.refused(&["list"]);
    assert!(err.contains("line 1") && err.contains("launch_timeout"), "{err}");
    assert!(repo.list_raw_fails_nothing_created());
}

impl TestRepo {
    fn list_raw_fails_nothing_created(&self) -> bool {
        !self.shards_dir().exists() && self.branches() == ["main"]
    }
}

#[test]
fn committed_commands_need_consent_for_their_exact_content() {
    let repo = TestRepo::new();
    fs::write(
        repo.root.join(".git-shard.toml"),
        "[terminals.evil]\ncommand = [\"sh\", \"-c\", \"touch owned; setsid \\\"$0\\\" \\\"$@\\\" >/dev/null 2>&1 &\", \"{cmd...}\"]\n\n[agents.evil]\ncommand = [\"sh\", \"-c\", \"touch owned-agent\"]\n",
    )
    .unwrap();
    let err = repo.refused(&["new", "x", "--terminal", "evil", "--", "sleep", "300"]);
    assert!(
        err.contains("not trusted") && err.contains("git shard config --trust"),
        "{err}"
    );
    let err = repo.refused(&["new", "y", "--agent", "evil"]);
    assert!(err.contains("not trusted"), "{err}");
    assert!(!repo.root.join("owned").exists() && !repo.shards_dir().exists());
    assert!(
        repo.ok(&["config", "--path"])
            .contains("commands and settings not trusted")
    );

    repo.ok(&["config", "--trust"]);
    repo.ok(&["new", "x", "--terminal", "evil", "--", "sleep", "300"]);
    // Terminal launchers run in the main worktree (see terminal::launch).
    assert!(repo.root.join("owned").exists(), "trusted: its command ran");
    assert_eq!(repo.shard("x")["status"], "running");

    // Any change to the file needs a new consent.
    let text = fs::read_to_string(repo.root.join(".git-shard.toml")).unwrap();
    fs::write(repo.root.join(".git-shard.toml"), format!("{text}# changed\n")).unwrap();
    let err = repo.refused(&["new", "z", "--terminal", "evil", "--", "true"]);
    assert!(err.contains("not trusted"), "{err}");
}

fn fake_program(repo: &TestRepo, name: &str) -> std::path::PathBuf {
    let bin = repo.tmp.path().join("agents-bin");
    fs::create_dir_all(&bin).unwrap();
    let p = bin.join(name);
    fs::write(&p, "#!/bin/sh\nprintf '%s\\n' \"$@\" > args.txt\n").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn presets_refuse_missing_programs_and_take_extra_arguments() {
    let repo = TestRepo::new();
    let err = repo.refused(&["new", "x", "--agent", "claude"]);
    assert!(err.contains("'claude' was not found on PATH"), "{err}");
    let err = repo.refused(&["new", "x", "--agent", "goose"]);
    assert!(err.contains("'goose'"), "{err}");
    assert!(
        !repo.shards_dir().exists() && repo.branches() == ["main"],
        "refused before anything was created"
    );
    let err = repo.refused(&["new", "x", "--agent", "nope"]);
    assert!(
        err.contains("unknown agent preset 'nope'") && err.contains("claude, codex"),
        "{err}"
    );

    let bin = fake_program(&repo, "claude");
    let path = format!("{}:{}", bin.display(), test_path().to_string_lossy());
    // A terminal program in the background is refused up front, with how to give it a prompt.
    let out = repo
        .command_in(&repo.root, &["new", "c", "--agent", "claude", "--", "--model", "opus"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("terminal program") && err.contains("-p \"<prompt>\""),
        "{err}"
    );
    assert!(!repo.shards_dir().join("c").exists() && !repo.branches().contains(&"shard/c".to_owned()));
    let out = repo
        .command_in(
            &repo.root,
            &["new", "c", "--agent", "claude", "--", "--model", "opus", "-p", "fix it"],
        )
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = repo.wait_for("c", "exit", |v| v["status"] == "exited");
    assert_eq!(v["agent"], "claude");
    assert_eq!(
        v["command"],
        serde_json::json!(["claude", "--model", "opus", "-p", "fix it"])
    );
    // The user's arguments, after the hooks git-shard wires in for this run (see activity.rs).
    let args = fs::read_to_string(repo.shards_dir().join("c/args.txt")).unwrap();
    assert!(args.starts_with("--settings\n{\"hooks\""), "{args}");
    assert!(args.ends_with("\n--model\nopus\n-p\nfix it\n"), "{args}");

    // A command after `--` that is a preset's program is named after it; config adds presets and a default.
    repo.user_config("default_agent = \"mine\"\n[agents.mine]\ncommand = [\"sh\", \"-c\", \"exit 4\"]\n");
    repo.ok(&["new", "d"]);
    let v = repo.wait_for("d", "exit", |v| v["status"] == "exited");
    assert_eq!((v["agent"].as_str(), v["exit_code"].as_i64()), (Some("mine"), Some(4)));
    let out = repo
        .command_in(&repo.root, &["new", "e", "--no-launch", "--", "claude"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(repo.shard("e")["agent"], "claude");
}

#[test]
fn set_and_unset_say_what_they_did() {
    let repo = TestRepo::new();
    let local = repo.common_dir().join("shards/config.toml");
    let said = |args: &[&str]| String::from_utf8_lossy(&repo.run(args).stderr).into_owned();
    assert!(said(&["config", "--set", "terminal=background"]).starts_with("updated "));
    assert_eq!(fs::read_to_string(&local).unwrap(), "terminal = \"background\"\n");
    assert!(said(&["config", "--unset", "terminal"]).starts_with("updated "));
    // Unsetting what is not set writes nothing and says so.
    let before = fs::metadata(&local).unwrap().modified().unwrap();
    let out = said(&["config", "--unset", "terminl"]);
    assert!(
        out.contains("'terminl' is not set in") && out.contains("nothing changed"),
        "{out}"
    );
    assert_eq!(fs::metadata(&local).unwrap().modified().unwrap(), before);
}

#[test]
fn no_launch_records_an_agent_installed_later_and_a_bare_shell_is_not_run_headless() {
    let repo = TestRepo::new();
    repo.user_config("default_agent = \"claude\"\n");
    // Nothing runs now, so a program that is not installed yet is no reason to refuse...
    repo.ok(&["new", "later", "--no-launch"]);
    assert_eq!(repo.shard("later")["command"], serde_json::json!(["claude"]));
    // ...but starting it is.
    let err = repo.refused(&["run", "later"]);
    assert!(err.contains("'claude' was not found on PATH"), "{err}");
    let bin = fake_program(&repo, "claude");
    let path = format!("{}:{}", bin.display(), test_path().to_string_lossy());
    let out = repo
        .command_in(&repo.root, &["run", "later", "--terminal", "inline"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    repo.wait_for("later", "exit", |v| v["status"] == "exited");

    // No command, no preset, no default: the agent would be a shell with nothing to read.
    repo.user_config("");
    let err = repo.refused(&["new", "bare"]);
    assert!(err.contains("no agent to run") && err.contains("--terminal"), "{err}");
    assert!(!repo.shards_dir().join("bare").exists());
    assert!(!repo.branches().contains(&"shard/bare".to_owned()));
    // The same for `run` of a shard whose recorded agent is that shell.
    repo.ok(&["new", "bare", "--no-launch"]);
    assert_eq!(repo.shard("bare")["agent"], "shell");
    let err = repo.refused(&["run", "bare"]);
    assert!(err.contains("no agent to run"), "{err}");
    let err = repo.refused(&["run", "later", "--agent", "nope"]);
    assert!(err.contains("unknown agent preset"), "{err}");
    // A preset that happens to be called `shell` is a real command, not the fallback.
    repo.user_config("default_agent = \"shell\"\n[agents.shell]\ncommand = [\"sh\", \"-c\", \"exit 3\"]\n");
    repo.ok(&["new", "named-shell"]);
    let v = repo.wait_for("named-shell", "exit", |v| v["status"] == "exited");
    assert_eq!(v["exit_code"], 3, "{v:#}");
}

#[test]
fn every_committed_setting_that_writes_or_runs_needs_consent() {
    let repo = TestRepo::new();
    let outside = repo.tmp.path().join("outside");
    let cases = [
        format!("worktree_dir = \"{}/{{name}}\"\n", outside.display()),
        "branch_prefix = \"theirs/\"\n".to_owned(),
        "default_agent = \"aider\"\n".to_owned(),
        "terminal = \"background\"\n".to_owned(),
    ];
    for (i, text) in cases.iter().enumerate() {
        fs::write(repo.root.join(".git-shard.toml"), text).unwrap();
        let key = text.split(' ').next().unwrap();
        // Without --no-launch for the keys that only matter to a launch.
        let args: Vec<&str> = match key {
            "default_agent" => vec!["new", "c"],
            "terminal" => vec!["new", "c", "--", "true"],
            _ => vec!["new", "c", "--no-launch", "--", "true"],
        };
        let err = repo.refused(&args);
        assert!(
            err.contains(&format!("`{key}` is set in")) && err.contains("not trusted") && err.contains("--trust"),
            "case {i}: {err}"
        );
        assert!(!outside.exists() && !repo.shards_dir().join("c").exists() && repo.branches() == ["main"]);
        assert!(!repo.record_path("c").exists());
        let shown = repo.ok(&["config", "--show"]);
        assert!(shown.contains("committed, not trusted"), "{shown}");
        // The user's own layers decide without consent: a local value overrides the committed one.
        fs::create_dir_all(repo.common_dir().join("shards")).unwrap();
        let local = match key {
            "worktree_dir" => "worktree_dir = \"{repo_parent}/{repo}.shards/{name}\"\n",
            "default_agent" => "default_agent = \"mine\"\n[agents.mine]\ncommand = [\"true\"]\n",
            _ => "",
        };
        if !local.is_empty() {
            fs::write(repo.common_dir().join("shards/config.toml"), local).unwrap();
            repo.ok(&["new", "c", "--no-launch", "--", "true"]);
            repo.ok(&["rm", "c"]);
            fs::remove_file(repo.common_dir().join("shards/config.toml")).unwrap();
        }
    }
    // Trusted, the repository's own choice applies.
    fs::write(
        repo.root.join(".git-shard.toml"),
        format!(
            "worktree_dir = \"{}/{{name}}\"\nbranch_prefix = \"theirs/\"\n",
            outside.display()
        ),
    )
    .unwrap();
    repo.ok(&["config", "--trust"]);
    repo.ok(&["new", "t", "--no-launch", "--", "true"]);
    assert!(outside.join("t/README").exists());
    assert!(repo.branches().contains(&"theirs/t".to_owned()));
    repo.ok(&["rm", "t"]);
}

#[test]
fn worktrees_never_go_into_a_git_directory_or_a_worktree_even_when_trusted() {
    let repo = TestRepo::new();
    fs::create_dir_all(repo.common_dir().join("shards")).unwrap();
    let other = TestRepo::new();
    for (dir, what) in [
        (".git/worktrees/{name}".to_owned(), "the git directory"),
        ("{repo_parent}/repo/.git/x/{name}".to_owned(), "the git directory"),
        ("inside/{name}".to_owned(), "the worktree"),
        (
            format!("{}/nested/{{name}}", other.common_dir().display()),
            "the git directory",
        ),
    ] {
        fs::write(
            repo.common_dir().join("shards/config.toml"),
            format!("worktree_dir = \"{dir}\"\n"),
        )
        .unwrap();
        let err = repo.refused(&["new", "loc", "--no-launch", "--", "true"]);
        assert!(err.contains(&format!("is inside {what}")), "{dir}: {err}");
        assert!(
            repo.branches() == ["main"] && !repo.record_path("loc").exists(),
            "{dir}"
        );
    }
    // A shard's own worktree is a worktree too.
    fs::remove_file(repo.common_dir().join("shards/config.toml")).unwrap();
    repo.ok(&["new", "host", "--no-launch", "--", "true"]);
    fs::write(
        repo.common_dir().join("shards/config.toml"),
        format!("worktree_dir = \"{}/host/sub/{{name}}\"\n", repo.shards_dir().display()),
    )
    .unwrap();
    let err = repo.refused(&["new", "loc", "--no-launch", "--", "true"]);
    assert!(err.contains("is inside the worktree"), "{err}");
}

/// Edits of the local configuration made at the same time all land: each is made under a lock
/// (without it, each wrote the file as it had read it).
#[test]
fn local_configuration_edits_at_once_all_land() {
    let repo = TestRepo::new();
    let names: Vec<String> = (0..12).map(|i| format!("h{i}")).collect();
    let children: Vec<_> = names
        .iter()
        .map(|name| {
            let ssh = format!("{name}.invalid");
            repo.command_in(
                &repo.root,
                &["host", "add", name, "--ssh", &ssh, "--repo", "/x", "--no-check"],
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let listed = repo.ok(&["host", "list"]);
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !listed.contains(&format!("{n}.invalid")))
        .collect();
    assert!(missing.is_empty(), "lost: {missing:?}\n{listed}");
}
