//! Shell integration in real shells started without user rc files: bash, zsh and fish source the
//! init script silently, `git shard cd` moves the calling shell, the prompt hook keeps `$?` and an
//! existing PROMPT_COMMAND, and completion of `git shard rm <TAB>` yields live shard names through
//! git's own completion (bash's `__git_wrap__git_main`, fish's `complete -C`, and an interactive
//! zsh in tmux with keys typed at its prompt).

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::common::*;
use crate::terminals::require_tool;

pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        require_tool(tool);
    }
    found
}

/// Run `script` in `shell` (no rc files; `sh` for anything else) in `dir`, with git-shard first on PATH.
fn shell(repo: &TestRepo, shell: &str, dir: &Path, script: &str) -> Output {
    shell_command(repo, shell, dir, script).output().unwrap()
}

/// The command [`shell`] runs.
fn shell_command(repo: &TestRepo, shell: &str, dir: &Path, script: &str) -> Command {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), test_path().to_string_lossy());
    let mut cmd = Command::new(shell);
    hermetic(&mut cmd, &repo.home());
    match shell {
        "bash" => cmd.args(["--norc", "--noprofile", "-c", script]),
        "zsh" => cmd.args(["-f", "-c", script]),
        "fish" => cmd.args(["--no-config", "-c", script]),
        _ => cmd.args(["-c", script]),
    };
    cmd.env("PATH", path).current_dir(dir).stdin(Stdio::null());
    cmd
}

/// In `sh`: the line that puts `dir` first on PATH.
fn path_first(sh: &str, dir: &Path) -> String {
    match sh {
        "fish" => format!("set -gx PATH {} $PATH", dir.display()),
        _ => format!("export PATH={}:$PATH", dir.display()),
    }
}

/// In `sh`: what runs the prompt hook as a prompt would, and what prints the segment it made.
fn hook_and_show(sh: &str) -> (&'static str, &'static str) {
    match sh {
        "bash" => ("__git_shard_prompt_hook", "printf '%s\\n' \"$__git_shard_segment\""),
        "zsh" => ("__git_shard_precmd", "print -r -- \"$__git_shard_segment\""),
        _ => ("set -g seg (__git_shard_prompt)", "printf '%s\\n' $seg"),
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const INIT: [(&str, &str); 3] = [
    ("bash", "eval \"$(git-shard init bash)\""),
    ("zsh", "eval \"$(git-shard init zsh)\""),
    ("fish", "git-shard init fish | source"),
];

#[test]
fn every_shell_sources_the_integration_silently() {
    let repo = TestRepo::new();
    for (sh, init) in INIT {
        if !have(sh) {
            continue;
        }
        let out = shell(&repo, sh, &repo.root, &format!("{init}; {init}"));
        assert!(out.status.success(), "{sh}: {out:?}");
        assert_eq!(
            (stdout(&out).as_str(), String::from_utf8_lossy(&out.stderr).as_ref()),
            ("", ""),
            "{sh} printed something"
        );
    }
}

#[test]
fn shellcheck_is_clean_on_the_bash_script() {
    if !have("shellcheck") {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("shell/git-shard.bash");
    let out = Command::new("shellcheck")
        .args(["-s", "bash"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
}

#[test]
fn git_shard_cd_changes_the_callers_directory() {
    let repo = TestRepo::new();
    repo.ok(&["new", "there", "--no-launch", "--", "true"]);
    let target = repo.shards_dir().join("there");
    for (sh, init) in INIT {
        if !have(sh) {
            continue;
        }
        for call in ["git shard cd there", "git-shard cd there"] {
            let out = shell(&repo, sh, &repo.root, &format!("{init}; {call}; pwd"));
            assert_eq!(
                stdout(&out).trim(),
                target.display().to_string(),
                "{sh}: {call}: {out:?}"
            );
        }
        // Other git commands go through untouched, with their exit status.
        let status = if sh == "fish" { "$status" } else { "$?" };
        let script =
            format!("{init}; git rev-parse --is-inside-work-tree; git bogus-cmd 2>/dev/null; echo st={status}");
        let text = stdout(&shell(&repo, sh, &repo.root, &script));
        assert_eq!(text, "true\nst=1\n", "{sh}");
        // A bad name: the directory stays, the error is git-shard's.
        let out = shell(&repo, sh, &repo.root, &format!("{init}; git shard cd ghost; pwd"));
        assert_eq!(stdout(&out).trim(), repo.root.display().to_string());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no shard named 'ghost'"));
        // No name: the usage of `cd`, and no hint (the integration is there).
        let out = shell(&repo, sh, &repo.root, &format!("{init}; git shard cd"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("Usage: git shard cd <NAME>") && !err.contains("hint"),
            "{sh}: {err}"
        );
        let out = shell(&repo, sh, &repo.root, &format!("{init}; git shard cd there"));
        assert!(out.stderr.is_empty(), "{sh}: {}", String::from_utf8_lossy(&out.stderr));
        // `--help` is shown, not taken for a folder.
        let out = shell(&repo, sh, &repo.root, &format!("{init}; git shard cd --help; pwd"));
        let text = stdout(&out);
        assert!(
            text.contains("Usage: git shard cd") && text.ends_with(&format!("{}\n", repo.root.display())),
            "{sh}: {text}"
        );
        assert!(out.stderr.is_empty(), "{sh}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // Without the integration: the path on stdout and a hint on stderr.
    let out = repo.run(&["cd", "there"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        target.display().to_string()
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("git shard init"));
    // With the integration loaded but `cd` opted out, the hint says so instead.
    let out = repo
        .command_in(&repo.root, &["cd", "there"])
        .env("GIT_SHARD_NO_CD", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("GIT_SHARD_NO_CD is set") && !err.contains("git shard init"),
        "{err}"
    );
}

#[test]
fn bash_prompt_hook_keeps_status_and_existing_prompt_command() {
    let repo = TestRepo::new();
    if !have("bash") {
        return;
    }
    repo.ok(&["new", "hooked", "--no-launch", "--", "true"]);
    let wt = repo.shards_dir().join("hooked");
    let rc = repo.tmp.path().join("bashrc");
    fs::write(
        &rc,
        "PROMPT_COMMAND='echo user-hook-saw-$?'\nPS1='[$?]> '\neval \"$(git-shard init bash)\"\n",
    )
    .unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let mut cmd = Command::new("bash");
    hermetic(&mut cmd, &repo.home());
    let mut child = cmd
        .args(["--rcfile", rc.to_str().unwrap(), "--noprofile", "-i"])
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), test_path().to_string_lossy()),
        )
        .current_dir(&wt)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"(exit 3)\necho after=$?\nexit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (o, e) = (stdout(&out), String::from_utf8_lossy(&out.stderr).into_owned());
    // The user's hook still runs, after ours, and sees the real status.
    assert!(o.contains("user-hook-saw-3"), "stdout: {o}\nstderr: {e}");
    assert!(o.contains("after=3"), "{o}");
    // The prompt (written to stderr by an interactive bash) has the segment and the real $?.
    assert!(e.contains("⎇ hooked ○ [3]> "), "stderr: {e}");
    assert!(e.contains("⎇ hooked ○ [0]> "), "stderr: {e}");
}

#[test]
fn completion_through_gits_bash_completion_yields_live_shard_names() {
    let repo = TestRepo::new();
    let git_completion = Path::new("/usr/share/bash-completion/completions/git");
    if !git_completion.exists() {
        require_tool("bash-completion (git's completion script)");
        return;
    }
    repo.ok(&["new", "alpha", "--no-launch", "--", "true"]);
    repo.ok(&["new", "beta", "--no-launch", "--", "true"]);
    let complete = |line: &str| -> Vec<String> {
        let script = format!(
            "source {}; eval \"$(git-shard init bash)\"; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; \
             read -ra COMP_WORDS <<< \"$COMP_LINE\"; [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=(''); \
             COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); __git_wrap__git_main; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            git_completion.display()
        );
        let out = shell(&repo, "bash", &repo.root, &script);
        assert!(out.status.success(), "{out:?}");
        stdout(&out)
            .lines()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    };
    let names = complete("git shard rm ");
    assert!(
        names.contains(&"alpha".to_owned()) && names.contains(&"beta".to_owned()),
        "{names:?}"
    );
    assert_eq!(complete("git shard stop al"), ["alpha"]);
    let subcommands = complete("git shard ");
    for sub in ["new", "list", "stop", "prompt"] {
        assert!(subcommands.contains(&sub.to_owned()), "{subcommands:?}");
    }
    // One spelling per command, the one users type: `rm`, not its alias `destroy`, which still
    // completes once begun.
    assert!(subcommands.contains(&"rm".to_owned()), "{subcommands:?}");
    assert!(!subcommands.contains(&"destroy".to_owned()), "{subcommands:?}");
    assert_eq!(complete("git shard des"), ["destroy"]);
    assert!(!subcommands.contains(&"__run".to_owned()));
    // `git-shard <TAB>` directly.
    let script = "eval \"$(git-shard init bash)\"; COMP_WORDS=(git-shard status b); COMP_CWORD=2; \
                  __git_shard_complete git-shard b status; printf '%s\\n' \"${COMPREPLY[@]}\"";
    assert_eq!(stdout(&shell(&repo, "bash", &repo.root, script)).trim(), "beta");
    // Terminal names and presets complete too.
    assert!(complete("git shard new x --terminal ").contains(&"tmux".to_owned()));
    assert!(complete("git shard new x --agent cl").contains(&"claude".to_owned()));

    // Names first: options only once a `-` is typed, as git does.
    assert!(!names.iter().any(|n| n.starts_with('-')), "{names:?}");
    assert!(complete("git shard rm --f").contains(&"--force".to_owned()));
    // Revisions for --base, programs after `--`, then that program's files.
    assert_eq!(complete("git shard new x --base ma"), ["main"]);
    assert!(complete("git shard new x -- s").contains(&"sh".to_owned()));
    fs::write(repo.root.join("notes-for-agent.md"), "").unwrap();
    assert_eq!(complete("git shard new x -- sh notes-f"), ["notes-for-agent.md"]);

    // `git -C <repo> shard rm <TAB>` from elsewhere: that repository's shards.
    let elsewhere = repo.tmp.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    let line = format!("git -C {} shard rm ", repo.root.display());
    let script = format!(
        "source {}; eval \"$(git-shard init bash)\"; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; \
         read -ra COMP_WORDS <<< \"$COMP_LINE\"; COMP_WORDS+=(''); \
         COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); __git_wrap__git_main; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        git_completion.display()
    );
    let names = stdout(&shell(&repo, "bash", &elsewhere, &script));
    assert!(names.contains("alpha") && names.contains("beta"), "{names}");

    // `--opt=value`: bash splits the words at `=` and replaces only what follows it, so the
    // candidates are the values alone (not `--terminal=--terminal=background`).
    let split = |words: &str, cword: usize, line: &str, call: &str| {
        let script = format!(
            "source {}; eval \"$(git-shard init bash)\"; COMP_WORDS=({words}); COMP_CWORD={cword}; \
             COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; {call}; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            git_completion.display()
        );
        let out = shell(&repo, "bash", &repo.root, &script);
        stdout(&out).lines().map(|l| l.trim().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(
        split(
            "git shard new x --terminal = ba",
            6,
            "git shard new x --terminal=ba",
            "__git_wrap__git_main"
        ),
        ["background"]
    );
    assert_eq!(
        split(
            "git-shard new x --terminal = ba",
            5,
            "git-shard new x --terminal=ba",
            "__git_shard_complete git-shard ba ="
        ),
        ["background"]
    );
    assert!(
        split(
            "git-shard new x --agent =",
            4,
            "git-shard new x --agent=",
            "__git_shard_complete git-shard = --agent"
        )
        .contains(&"=claude".to_owned())
    );
}

#[test]
fn zsh_and_fish_complete_shard_names_for_git_shard() {
    let repo = TestRepo::new();
    repo.ok(&["new", "alpha", "--no-launch", "--", "true"]);
    repo.ok(&["new", "beta", "--no-launch", "--", "true"]);
    let elsewhere = repo.tmp.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    if have("zsh") {
        // zsh's _git hands `git shard …` to _git-shard with `words` starting at "shard";
        // _describe is stubbed to print what would be offered.
        let script = "eval \"$(git-shard init zsh)\"; _describe() { print -rl -- \"${(@P)3}\" }; \
                      words=(shard rm ''); CURRENT=3; _git-shard";
        let out = stdout(&shell(&repo, "zsh", &repo.root, script));
        assert!(
            out.lines().any(|l| l == "alpha") && out.lines().any(|l| l == "beta"),
            "{out}"
        );
        assert!(!out.contains("--force"), "options only once a `-` is typed: {out}");
        let script = "eval \"$(git-shard init zsh)\"; _describe() { print -rl -- \"${(@P)3}\" }; \
                      words=(shard rm --f); CURRENT=3; _git-shard";
        let out = stdout(&shell(&repo, "zsh", &repo.root, script));
        assert!(out.lines().any(|l| l.starts_with("--force")), "{out}");
        // `git -C <repo> shard rm <TAB>` from elsewhere: that repository's shards.
        let script = format!(
            "eval \"$(git-shard init zsh)\"; _describe() {{ print -rl -- \"${{(@P)3}}\" }}; \
             BUFFER='git -C {} shard rm '; words=(shard rm ''); CURRENT=3; _git-shard",
            repo.root.display()
        );
        let out = stdout(&shell(&repo, "zsh", &elsewhere, &script));
        assert!(out.lines().any(|l| l == "alpha"), "zsh -C: {out}");
    }
    if have("fish") {
        let line = format!("git -C {} shard rm ", repo.root.display());
        let out = stdout(&shell(
            &repo,
            "fish",
            &elsewhere,
            &format!("git-shard init fish | source; complete -C '{line}'"),
        ));
        assert!(out.lines().any(|l| l.starts_with("alpha")), "fish -C: {out}");
        for line in ["git shard rm ", "git-shard rm "] {
            let out = stdout(&shell(
                &repo,
                "fish",
                &repo.root,
                &format!("git-shard init fish | source; complete -C '{line}'"),
            ));
            let names: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
            assert!(names.contains(&"alpha") && names.contains(&"beta"), "{line}: {out}");
            assert!(!names.iter().any(|n| n.starts_with('-')), "{line}: {out}");
        }
        let out = stdout(&shell(
            &repo,
            "fish",
            &repo.root,
            "git-shard init fish | source; complete -C 'git shard rm --f'",
        ));
        assert!(out.lines().any(|l| l.starts_with("--force")), "{out}");
        let out = stdout(&shell(
            &repo,
            "fish",
            &repo.root,
            "git-shard init fish | source; complete -C 'git shard st'",
        ));
        assert!(
            out.lines().any(|l| l.starts_with("status")) && out.lines().any(|l| l.starts_with("stop")),
            "{out}"
        );
    }
}

/// The real thing in zsh: an interactive zsh (compinit, zsh's own `_git`) in a tmux pane, keys
/// typed, the screen read back. `_git` must hand `git shard …` to `_git-shard`.
#[test]
fn zsh_completes_live_shard_names_at_a_real_prompt() {
    let repo = TestRepo::new();
    if !have("zsh") {
        return;
    }
    let Some(tmux) = crate::terminals::Tmux::start() else {
        return;
    };
    repo.ok(&["new", "alpha", "--no-launch", "--", "true"]);
    repo.ok(&["new", "beta", "--no-launch", "--", "true"]);
    let bin_dir = Path::new(BIN).parent().unwrap();
    let zdotdir = repo.home().join("zdot");
    fs::create_dir_all(&zdotdir).unwrap();
    fs::write(
        zdotdir.join(".zshrc"),
        // The prompt is set after the init line, as a theme loaded later would.
        "autoload -Uz compinit && compinit -u -D\neval \"$(git-shard init zsh)\"\nPS1='READY> '\n",
    )
    .unwrap();
    let shell = format!(
        "env -i HOME={home} ZDOTDIR={zdot} PATH={bin}:/usr/bin:/bin GIT_CONFIG_GLOBAL=/dev/null \
         GIT_CONFIG_NOSYSTEM=1 TERM=screen zsh -i",
        home = repo.home().display(),
        zdot = zdotdir.display(),
        bin = bin_dir.display()
    );
    tmux.open("zsh", &repo.root, &shell);
    let screen = || tmux.screen("zsh");
    let send = |keys: &[&str]| tmux.send("zsh", keys);
    eventually("zsh prompt", || screen().contains("READY>"));
    // The segment is back in a prompt set after the init line (in plain characters: this zsh
    // has no locale, so no UTF-8).
    eventually("the summary in the prompt", || screen().contains("2o READY>"));

    // Two candidates: zsh lists both under the command line.
    send(&["git shard rm ", "Tab"]);
    eventually("alpha and beta listed", || {
        let s = screen();
        s.contains("alpha") && s.contains("beta")
    });
    // One candidate: zsh completes it on the command line.
    send(&["C-u", "git shard stop al", "Tab"]);
    eventually("alpha completed", || screen().contains("git shard stop alpha"));
    // Subcommands through `git-shard` directly.
    send(&["C-u", "git-shard pru", "Tab"]);
    eventually("prune completed", || screen().contains("git-shard prune"));
    // zsh's `_git` offers `shard` among git's commands (its `user-commands` style).
    send(&["C-u", "git sha", "Tab"]);
    eventually("shard completed", || screen().contains("git shard"));
    send(&["C-u", "exit", "Enter"]);
}

#[test]
fn prompt_shows_each_status_and_never_fails() {
    let repo = TestRepo::new();
    let prompt_in = |dir: &Path, extra: &[(&str, &str)]| {
        let mut cmd = repo.command_in(dir, &["prompt"]);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        assert!(out.stderr.is_empty());
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(prompt_in(&repo.root, &[]), "", "no shards: nothing");
    repo.ok(&["new", "idle", "--no-launch", "--", "true"]);
    repo.ok(&["new", "run", "--", "sleep", "300"]);
    repo.ok(&["new", "ok", "--", "true"]);
    repo.ok(&["new", "bad", "--", "sh", "-c", "exit 1"]);
    repo.ok(&["new", "killed", "--", "sleep", "300"]);
    repo.ok(&["new", "lost", "--", "sleep", "300"]);
    kill(pid_of(&repo.shard("killed")), 9);
    let lost = repo.shard("lost");
    kill(lost["process"]["supervisor_pid"].as_u64().unwrap() as u32, 9);
    kill(pid_of(&lost), 9);
    for n in ["ok", "bad", "killed"] {
        repo.wait_for(n, "exit", |v| v["status"] == "exited");
    }
    eventually("lost", || repo.shard("lost")["status"] == "lost");
    let wt = |n: &str| repo.shards_dir().join(n);
    assert_eq!(prompt_in(&wt("idle"), &[]), "⎇ idle ○\n");
    assert_eq!(prompt_in(&wt("run").join("."), &[]), "⎇ run ●\n");
    assert_eq!(prompt_in(&wt("ok"), &[]), "⎇ ok ✓0\n");
    assert_eq!(prompt_in(&wt("bad"), &[]), "⎇ bad ✗1\n");
    assert_eq!(prompt_in(&wt("killed"), &[]), "⎇ killed ✗s9\n");
    assert_eq!(prompt_in(&wt("lost"), &[]), "⎇ lost ?\n");
    assert_eq!(prompt_in(&wt("bad"), &[("GIT_SHARD_ASCII", "1")]), "@ bad x1\n");
    assert_eq!(prompt_in(&repo.root, &[]), "1● 1✓ 2✗ 1? 1○\n");
    let fmt = repo
        .command_in(&repo.root, &["prompt", "--format", "{count_running}/{count_total}"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&fmt.stdout), "1/6\n");
    // A template whose placeholders all come out empty prints nothing, not its punctuation.
    let formatted = |dir: &Path, template: &str| {
        let out = repo
            .command_in(dir, &["prompt", "--format", template])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(formatted(&repo.root, "{name}:{status}"), "");
    assert_eq!(formatted(&wt("bad"), "{name}:{status}"), "bad:exited\n");
    assert_eq!(
        formatted(&wt("bad"), "[{count_total}]"),
        "",
        "counts belong to the main worktree"
    );
    let json: serde_json::Value = serde_json::from_slice(
        &repo
            .command_in(&wt("run"), &["prompt", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        (json["location"].as_str(), json["status"].as_str()),
        (Some("shard"), Some("running"))
    );
    assert!(json["counts"].is_null(), "{json}");
    let json: serde_json::Value = serde_json::from_slice(
        &repo
            .command_in(&repo.root, &["prompt", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        (json["location"].as_str(), json["counts"]["total"].as_u64()),
        (Some("main"), Some(6))
    );
    let outside = tempfile::tempdir().unwrap();
    assert_eq!(prompt_in(outside.path(), &[]), "");
    // A corrupt record elsewhere does not break the prompt.
    fs::write(repo.record_path("idle"), "garbage [").unwrap();
    assert_eq!(prompt_in(&wt("run"), &[]), "⎇ run ●\n");
    assert_eq!(
        prompt_in(&wt("idle"), &[]),
        "",
        "its own record unreadable: nothing, exit 0"
    );
}

#[test]
fn prompt_escapes_control_characters_from_records() {
    let repo = TestRepo::new();
    repo.ok(&["new", "esc", "--no-launch", "--", "true"]);
    let path = repo.record_path("esc");
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("name = \"esc\"", "name = \"e\\u001b]0;pwned\\u0007\\u001b[31mx\"");
    fs::write(&path, text).unwrap();
    let out = repo
        .command_in(&repo.shards_dir().join("esc"), &["prompt"])
        .output()
        .unwrap();
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(!shown.contains('\u{1b}') && !shown.contains('\u{7}'), "{shown:?}");
    assert!(shown.contains("\\u{1b}]0;pwned"), "{shown:?}");
    let listed = String::from_utf8(repo.run(&["list"]).stdout).unwrap();
    assert!(!listed.contains('\u{1b}'), "{listed:?}");
}

/// The starship module in README.md runs its command with `sh`: that command, taken from the
/// README itself, prints the segment inside a shard.
#[test]
fn readme_starship_module_prints_the_segment() {
    let repo = TestRepo::new();
    repo.ok(&["new", "star", "--no-launch", "--", "true"]);
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let module = &readme[readme.find("[custom.shard]").expect("README has the starship module")..];
    let command = module
        .lines()
        .find_map(|l| l.strip_prefix("command = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("the module has a command");
    let out = shell(&repo, "sh", &repo.shards_dir().join("star"), command);
    assert_eq!(stdout(&out), "⎇ star ○\n", "{command}: {out:?}");
}

/// A stand-in for `hub`: notes that it ran, then is git.
const FAKE_HUB: &str = "#!/bin/sh\necho hub >> \"$HUB_LOG\"\nexec git \"$@\"\n";

#[test]
fn an_alias_for_git_keeps_its_tool_and_git_shard_cd_still_works() {
    let repo = TestRepo::new();
    repo.ok(&["new", "there", "--no-launch", "--", "true"]);
    let target = repo.shards_dir().join("there");
    let bin = repo.tmp.path().join("hub-bin");
    fs::create_dir_all(&bin).unwrap();
    fs::write(bin.join("hub"), FAKE_HUB).unwrap();
    fs::set_permissions(bin.join("hub"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let log = repo.tmp.path().join("hub.log");
    for (sh, init) in INIT {
        if !have(sh) {
            continue;
        }
        let aliases: &[&str] = if sh == "zsh" {
            &[
                "alias git=hub",
                "alias git='noglob git'",
                "alias git='command git'",
                "alias git='env GIT_PAGER=cat git'",
            ]
        } else {
            &[
                "alias git=hub",
                "alias git='git --no-pager'",
                "alias git='command git'",
                "alias git='nice git'",
            ]
        };
        for alias in aliases {
            let _ = fs::remove_file(&log);
            // Aliases apply to commands read after them, as in an rc file: sourced, command by
            // command (zsh parses a whole `-c` string before running any of it).
            let rc = repo.tmp.path().join(format!("rc.{sh}"));
            fs::write(
                &rc,
                match sh {
                    "fish" => format!(
                        "set -gx PATH {} $PATH\nset -gx HUB_LOG {}\n{alias}\n{init}\n",
                        bin.display(),
                        log.display(),
                    ),
                    _ => format!(
                        "export PATH={}:$PATH HUB_LOG={}\n{}{alias}\n{init}\n",
                        bin.display(),
                        log.display(),
                        if sh == "bash" { "shopt -s expand_aliases\n" } else { "" },
                    ),
                },
            )
            .unwrap();
            let session = repo.tmp.path().join(format!("session.{sh}"));
            fs::write(
                &session,
                "git shard cd there\npwd\ngit rev-parse --is-inside-work-tree\n",
            )
            .unwrap();
            let script = format!(". {}\n. {}\n", rc.display(), session.display());
            let out = shell(&repo, sh, &repo.root, &script);
            assert!(out.status.success(), "{sh} {alias}: {out:?}");
            assert_eq!(
                stdout(&out),
                format!("{}\ntrue\n", target.display()),
                "{sh} {alias}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let hub_ran = fs::read_to_string(&log).unwrap_or_default();
            let want = if alias.contains("hub") { "hub\n" } else { "" };
            assert_eq!(
                hub_ran, want,
                "{sh} {alias}: the aliased tool ran for everything but `shard cd`"
            );
        }
    }
}

#[test]
fn git_dash_c_shard_cd_and_a_users_own_git_function() {
    let repo = TestRepo::new();
    repo.ok(&["new", "there", "--no-launch", "--", "true"]);
    let target = repo.shards_dir().join("there");
    let elsewhere = repo.tmp.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    for (sh, init) in INIT {
        if !have(sh) {
            continue;
        }
        let script = format!("{init}\ngit -C {} shard cd there\npwd\n", repo.root.display());
        let out = shell(&repo, sh, &elsewhere, &script);
        assert_eq!(stdout(&out).trim(), target.display().to_string(), "{sh}: {out:?}");
        // A `git` function of their own made after the init line: the hint says why cd did not
        // move. (fish keeps one made before it in the chain, as its aliases are functions.)
        let own = if sh == "fish" {
            "function git; command git $argv; end"
        } else {
            "git() { command git \"$@\"; }"
        };
        let script = format!("{init}\n{own}\ngit shard cd there\n");
        let out = shell(&repo, sh, &repo.root, &script);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("did not go through it") && err.contains("git-shard cd there"),
            "{sh}: {err}"
        );
        // GIT_SHARD_NO_CD: the hint says that, not that a function of theirs is in the way.
        let no_cd = if sh == "fish" {
            "set -gx GIT_SHARD_NO_CD 1"
        } else {
            "export GIT_SHARD_NO_CD=1"
        };
        let out = shell(&repo, sh, &repo.root, &format!("{no_cd}\n{init}\ngit shard cd there\n"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("GIT_SHARD_NO_CD is set"), "{sh}: {err}");
    }
    if have("zsh") {
        // Options of the user's: nothing to say at the first prompt (`warn_create_global`), the
        // integration parses (`ignore_close_braces`), and the segment is the segment (`ksh_arrays`
        // counts from 0), at the first prompt and the next.
        let script = "setopt warn_create_global ignore_close_braces ksh_arrays\n\
                      eval \"$(git-shard init zsh)\"\nsleep 1.2\n\
                      __git_shard_precmd\necho \"[$__git_shard_segment]\"\n\
                      __git_shard_precmd\necho \"[$__git_shard_segment]\"\n";
        let out = shell(&repo, "zsh", &repo.root, script);
        assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
        let segment = repo.ok(&["prompt"]);
        assert_eq!(
            stdout(&out),
            format!("[{0}]\n[{0}]\n", segment.trim()),
            "zsh with ksh_arrays"
        );
    }
}

#[test]
fn a_locale_that_is_not_utf8_gets_plain_characters_in_every_shell() {
    let repo = TestRepo::new();
    repo.ok(&["new", "plain", "--no-launch", "--", "true"]);
    let wt = repo.shards_dir().join("plain");
    for (sh, init) in INIT {
        if !have(sh) {
            continue;
        }
        let hook = match sh {
            "bash" => "__git_shard_prompt_hook; printf '%s\\n' \"$__git_shard_segment\"",
            "zsh" => "__git_shard_precmd; print -r -- \"$__git_shard_segment\"",
            _ => "__git_shard_prompt",
        };
        for (var, value, want) in [
            ("LANG", "C", "@ plain o"),
            ("LC_ALL", "POSIX", "@ plain o"),
            ("LC_ALL", "en_US.UTF-8", "⎇ plain ○"),
        ] {
            let export = if sh == "fish" {
                format!("set -gx {var} {value}")
            } else {
                format!("export {var}={value}")
            };
            let out = shell(&repo, sh, &wt, &format!("{export}\n{init}\n{hook}\n"));
            assert_eq!(stdout(&out).trim(), want, "{sh} {var}={value}: {out:?}");
        }
    }
}

#[test]
fn fish_keeps_status_and_pipestatus_for_the_users_prompt() {
    let repo = TestRepo::new();
    repo.ok(&["new", "fishy", "--no-launch", "--", "true"]);
    if !have("fish") {
        return;
    }
    let wt = repo.shards_dir().join("fishy");
    // A prompt that shows both, as fish's default prompt shows `[0|1]`.
    let script = "function fish_prompt\n    set -l saved $status $pipestatus\n    \
                  printf '[%s] %s\\n> ' (string join '|' $saved[2..-1]) $saved[1]\nend\n\
                  git-shard init fish | source\ntrue | false\nfish_prompt\nfalse\nfish_prompt\necho\n";
    let out = shell(&repo, "fish", &wt, script);
    assert_eq!(
        stdout(&out),
        "⎇ fishy ○ [0|1] 1\n> ⎇ fishy ○ [1] 1\n> \n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_corrupt_record_is_counted_in_the_summary_not_dropped() {
    let repo = TestRepo::new();
    for name in ["a", "b", "c"] {
        repo.ok(&["new", name, "--no-launch", "--", "true"]);
    }
    fs::write(repo.record_path("b"), "version = 1\nname = \"b\"\nthis is not toml").unwrap();
    let summary = repo.ok(&["prompt"]);
    assert_eq!(summary.trim(), "2○ 1⚠");
    let json: serde_json::Value = serde_json::from_str(&repo.ok(&["prompt", "--json"])).unwrap();
    assert_eq!(
        (json["counts"]["unreadable"].clone(), json["counts"]["total"].clone()),
        (1.into(), 3.into())
    );
    let line = repo.ok(&["status-line"]);
    assert_eq!(line.trim(), "1⚠");
}

#[test]
fn the_main_worktree_summary_is_never_stale() {
    let repo = TestRepo::new();
    // The summary's counts, with the live runs in one count whatever their activity: a `sleep`
    // agent is judged idle (◇) 5 s after it starts, which a slow machine may reach mid-test.
    let summary = || {
        let out = repo.ok(&["prompt", "--json"]);
        let counts = serde_json::from_str::<serde_json::Value>(&out).unwrap()["counts"].clone();
        let n = |k: &str| counts[k].as_u64().unwrap();
        [
            (n("running") + n("idle") + n("waiting"), "●"),
            (n("ok"), "✓"),
            (n("failed"), "✗"),
            (n("lost"), "?"),
            (n("not_started"), "○"),
            (n("stopped"), "■"),
            (n("unreadable"), "⚠"),
        ]
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, glyph)| format!("{count}{glyph}"))
        .collect::<Vec<_>>()
        .join(" ")
    };
    repo.ok(&["new", "a", "--no-launch", "--", "true"]);
    repo.ok(&["new", "b", "--", "sleep", "300"]);
    assert_eq!(repo.ok(&["prompt"]).trim(), "1● 1○");
    assert_eq!(summary(), "1● 1○");
    // A record rewritten, a shard added, one removed: each shows at once.
    repo.ok(&["stop", "b"]);
    assert_eq!(summary(), "1○ 1■");
    repo.ok(&["new", "c", "--", "sleep", "300"]);
    assert_eq!(summary(), "1● 1○ 1■");
    repo.ok(&["rm", "a"]);
    assert_eq!(summary(), "1● 1■");
    // A run that dies with its supervisor writes nothing: still seen, as liveness is never kept.
    let c = repo.shard("c");
    kill(c["process"]["supervisor_pid"].as_u64().unwrap() as u32, 9);
    kill(pid_of(&c), 9);
    eventually("lost", || summary() == "1? 1■");
    // A zombie, and a PID given to another process, once the summary is kept and trusted (a
    // moment after the store's last change): the runs are proven at every prompt.
    repo.ok(&["new", "z", "--", "sleep", "300"]);
    repo.ok(&["new", "r", "--", "sleep", "300"]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(summary(), "2● 1? 1■");
    assert_eq!(summary(), "2● 1? 1■");
    let z = repo.shard("z");
    let z_sup = z["process"]["supervisor_pid"].as_u64().unwrap() as u32;
    kill(z_sup, libc::SIGSTOP);
    kill(pid_of(&z), 9);
    eventually("a zombie", || {
        proc_stat(pid_of(&z)).is_some_and(|(_, st, ..)| st == 'Z')
    });
    assert_eq!(summary(), "1● 2? 1■");
    let r = repo.shard("r");
    kill(r["process"]["supervisor_pid"].as_u64().unwrap() as u32, 9);
    kill(pid_of(&r), 9);
    let stranger = reuse_pid(pid_of(&r));
    assert_eq!(summary(), "3? 1■");
    // Woken, z's supervisor records its end.
    kill(z_sup, libc::SIGCONT);
    eventually("z's end recorded", || summary() == "1✗ 2? 1■");
    if let Some(mut s) = stranger {
        let _ = s.kill();
        let _ = s.wait();
    }
    // What the prompt keeps is only an aid: garbage in it is rebuilt.
    let private = private_runtime_dir(&repo.home()).join("git-shard");
    let kept: Vec<_> = fs::read_dir(&private)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("glance-"))
        .collect();
    assert!(!kept.is_empty(), "nothing kept in {}", private.display());
    for e in &kept {
        fs::write(e.path(), "{not json").unwrap();
    }
    assert_eq!(summary(), "1✗ 2? 1■");
}

/// A record rewritten twice in one tick of the file clock can come back with the same inode, size
/// and time: a kept line read while its record's time was that fresh vouches for nothing later.
/// Simulated by a kept line that says something else of a record whose time was fresh when the
/// line was kept.
#[test]
fn a_kept_line_read_while_its_record_was_fresh_is_read_again() {
    let repo = TestRepo::new();
    repo.ok(&["new", "a", "--no-launch", "--", "true"]);
    repo.ok(&["new", "b", "--no-launch", "--", "true"]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(repo.ok(&["prompt"]).trim(), "2○");
    let private = private_runtime_dir(&repo.home()).join("git-shard");
    let kept = fs::read_dir(&private)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("glance-"))
        .expect("a kept summary")
        .path();
    let text = fs::read_to_string(&kept).unwrap();
    let mtime = |name: &str| {
        let t = fs::metadata(repo.record_path(name)).unwrap().modified().unwrap();
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    };
    // a's line now says "exited 0", as if read from an older content of a file that had the same
    // inode, size and time, in a file kept 10 ms after that time.
    let made = mtime("a") + 10_000_000;
    let forged: String = text
        .lines()
        .map(|l| {
            let mut f: Vec<String> = l.split(' ').map(str::to_owned).collect();
            if l.starts_with("# folder ") {
                f[4] = made.to_string();
            } else if f.len() == 12 && f[0] == "a" {
                (f[4], f[8]) = ("e".into(), "0".into());
            }
            f.join(" ") + "\n"
        })
        .collect();
    assert!(forged.contains(" e ") && forged != text, "{text}");
    fs::write(&kept, forged).unwrap();
    // The folder changes (another shard): the summary is rebuilt from the records.
    repo.ok(&["new", "c", "--no-launch", "--", "true"]);
    assert_eq!(repo.ok(&["prompt"]).trim(), "3○");
}

/// A second change in the same tick of the kernel's file clock leaves the folder's time as it
/// was; the kept summary and the shell's stamp are trusted only once the folder's last change is
/// a moment (100 ms) old. Simulated by setting the folder's time back after a change.
#[test]
fn a_change_the_folders_time_does_not_show_is_seen_while_the_folder_is_fresh() {
    let repo = TestRepo::new();
    repo.ok(&["new", "a", "--no-launch", "--", "true"]);
    let store = repo.common_dir().join("shards");
    let set_folder_time = |t| {
        fs::File::open(&store)
            .unwrap()
            .set_times(fs::FileTimes::new().set_modified(t))
            .unwrap()
    };
    // The folder's last change as if it were just now (later than anything the prompt does:
    // nothing here depends on how fast the commands run).
    let fresh = std::time::SystemTime::now() + Duration::from_secs(60);
    set_folder_time(fresh);
    assert_eq!(repo.ok(&["prompt"]).trim(), "1○");
    let shell_pid = std::process::id().to_string();
    let cached = repo.ok(&["prompt", "--cache", &shell_pid]);
    assert_eq!(cached, "1○\n", "no stamp for the shell while the folder is fresh");
    // A second change whose time the folder does not show.
    repo.ok(&["new", "b", "--no-launch", "--", "true"]);
    set_folder_time(fresh);
    assert_eq!(repo.ok(&["prompt"]).trim(), "2○", "the kept summary was not trusted");
    // Once the folder's time is settled (more than a second old, for shells that compare times
    // to the second), the summary and the stamp are used.
    set_folder_time(std::time::SystemTime::now() - Duration::from_secs(5));
    assert_eq!(repo.ok(&["prompt"]).trim(), "2○");
    let cached = repo.ok(&["prompt", "--cache", &shell_pid]);
    assert_eq!(cached.lines().count(), 2, "a stamp once settled: {cached}");
}

#[test]
fn the_prompt_hook_starts_nothing_when_nothing_changed_and_is_never_stale() {
    let repo = TestRepo::new();
    repo.ok(&["new", "s", "--", "sleep", "300"]);
    let wt = repo.shards_dir().join("s");
    // git-shard behind a script that counts its starts.
    let bin = repo.tmp.path().join("counting");
    let spawns = counting_git_shard(&bin);
    let count = || fs::read_to_string(&spawns).map_or(0, |t| t.lines().count());
    for (sh, init) in INIT {
        if !have(sh) {
            continue;
        }
        let (hook, show) = hook_and_show(sh);
        let step = |marker: &str| format!("{hook}\n{show}\necho {marker}\n");
        let _ = fs::remove_file(&spawns);
        let set_path = path_first(sh, &bin);
        // Once its supervisor has judged the run idle (5 s without CPU), nothing writes its record
        // any more: what changes during the test is what the test does.
        eventually("the run idle", || repo.shard("s")["activity"] == "idle");
        let in_main = format!("cd {}\n{}", repo.root.display(), step("in-main"));
        // A locale set in the shell itself (fish watches it with an event, bash and zsh compare).
        let plain = if sh == "fish" {
            "set -gx LC_ALL C"
        } else {
            "export LC_ALL=C"
        };
        let plain = format!("{plain}\n{}", step("plain"));
        // A human's prompts come more than a moment apart: git-shard lets the shell trust the
        // folder's time only a while (a second and SETTLED) after its last change.
        let script = format!(
            "{set_path}\n{init}\nsleep 1.2\n{a}{b}git-shard stop s >/dev/null\nsleep 1.2\n{c}{in_main}{e}{plain}{f}",
            a = step("first"),
            b = step("unchanged"),
            c = step("after-stop"),
            e = step("main-unchanged"),
            f = step("plain-unchanged"),
        );
        let out = shell(&repo, sh, &wt, &script);
        let text = stdout(&out);
        assert_eq!(
            text,
            "⎇ s ◇\nfirst\n⎇ s ◇\nunchanged\n⎇ s ■\nafter-stop\n1■\nin-main\n1■\nmain-unchanged\n\
             1-\nplain\n1-\nplain-unchanged\n",
            "{sh}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Started for `init`, the first prompt, the stop (and the prompt after it), the new
        // folder and the new locale: not for the prompts where nothing changed.
        assert_eq!(count(), 6, "{sh}: git-shard starts");
        repo.ok(&["run", "s", "--terminal", "background", "--", "sleep", "300"]);
    }
    repo.ok(&["stop", "s"]);
    // A run that dies with its supervisor writes nothing (and may stay a zombie a while): the hook
    // sees it from /proc.
    for (sh, init) in INIT {
        if !have(sh) {
            continue;
        }
        repo.ok(&["run", "s", "--terminal", "background", "--", "sleep", "300"]);
        let s = repo.shard("s");
        let (hook, show) = hook_and_show(sh);
        let script = format!(
            "{init}\n{hook}\nkill -9 {} {}\nsleep 0.3\n{hook}\n{show}\n",
            s["process"]["supervisor_pid"],
            pid_of(&s)
        );
        let out = shell(&repo, sh, &wt, &script);
        assert_eq!(
            stdout(&out),
            "⎇ s ?\n",
            "{sh}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Whether this kernel shows how many files a process has open as the size of `/proc/<pid>/fd`
/// (Linux 6.2 and later): then a run given by its PID is tested through that folder, else its `exe`.
fn fd_counts() -> bool {
    fs::metadata("/proc/self/fd").is_ok_and(|m| m.len() > 0)
}

/// A repository whose path the shell must quote where bash and zsh write it into their check: it
/// is checked as it is, and nothing in it runs.
#[test]
fn the_hook_quotes_a_repository_path_that_needs_it() {
    let repo = TestRepo::named("a b'c\"$(touch ../ran)`touch ../ran`*?[x];&|");
    repo.ok(&["new", "a", "--no-launch", "--", "true"]);
    let spy = repo.tmp.path().join("ran");
    for (sh, init) in INIT.into_iter().filter(|(sh, _)| *sh != "fish") {
        if !have(sh) {
            continue;
        }
        let (hook, show) = hook_and_show(sh);
        let bin = repo.tmp.path().join(format!("counting-{sh}"));
        let spawns = counting_git_shard(&bin);
        let name = format!("q{sh}");
        let script = format!(
            "{}\n{init}\nsleep 1.2\n{hook}\n{show}\n{hook}\n{show}\n\
             git-shard new {name} --no-launch -- true >/dev/null 2>&1\n{hook}\n{show}\n",
            path_first(sh, &bin)
        );
        let before = repo.list().len();
        let out = shell(&repo, sh, &repo.root, &script);
        assert_eq!(
            stdout(&out),
            format!("{before}○\n{before}○\n{}○\n", before + 1),
            "{sh}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // `init`, the first prompt, `new` and the prompt after it: the second trusted the check.
        let count = fs::read_to_string(&spawns).map_or(0, |t| t.lines().count());
        assert_eq!(count, 4, "{sh}: git-shard starts");
        assert!(!spy.exists(), "{sh}: the path ran as code");
    }
}

/// A script that counts its starts, then runs git-shard: in `dir`, returned with the file of counts.
fn counting_git_shard(dir: &Path) -> std::path::PathBuf {
    fs::create_dir_all(dir).unwrap();
    let spawns = dir.join("spawns");
    fs::write(
        dir.join("git-shard"),
        format!("#!/bin/sh\necho >> {}\nexec {BIN} \"$@\"\n", spawns.display()),
    )
    .unwrap();
    fs::set_permissions(
        dir.join("git-shard"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    spawns
}

/// Give `pid`, once free, to a new `sleep` (through `ns_last_pid`, retried while other processes
/// take it first); `None` where the kernel does not let us choose (not root).
fn reuse_pid(pid: u32) -> Option<std::process::Child> {
    eventually("the PID to be free", || !Path::new(&format!("/proc/{pid}")).exists());
    for _ in 0..200 {
        fs::write("/proc/sys/kernel/ns_last_pid", (pid - 1).to_string()).ok()?;
        let mut child = Command::new("sleep").arg("300").spawn().unwrap();
        if child.id() == pid {
            return Some(child);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    None
}

#[test]
fn the_prompt_hook_checks_many_runs_itself_and_sees_a_zombie_and_a_reused_pid() {
    // fish before 3.5 has no `path` builtin: its checks all go into `test`.
    let old_fish = ("fish", "git-shard init fish | source; set -e __git_shard_path");
    for (sh, init) in INIT.into_iter().chain([old_fish]) {
        if !have(sh) {
            continue;
        }
        let repo = TestRepo::new();
        let bin = repo.tmp.path().join("counting");
        let spawns = counting_git_shard(&bin);
        let count = || fs::read_to_string(&spawns).map_or(0, |t| t.lines().count());
        let (ready, go) = (repo.tmp.path().join("ready"), repo.tmp.path().join("go"));
        let path = std::ffi::CString::new(go.to_str().unwrap()).unwrap();
        // SAFETY: the path is a NUL-terminated string.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
        for i in 1..=6 {
            repo.ok(&[
                "new",
                &format!("{sh}{i}"),
                "--terminal",
                "background",
                "--",
                "sleep",
                "300",
            ]);
        }
        // Once their supervisors have judged them idle (5 s without CPU), nothing writes their
        // records any more: what changes during the test is what the test does.
        eventually("the runs idle", || {
            repo.list().iter().filter(|v| v["activity"] == "idle").count() == 6
        });
        let (hook, show) = hook_and_show(sh);
        let step = |marker: &str| format!("{hook}\n{show}\necho {marker}\n");
        // The test acts while the shell waits on the FIFO, then lets it go on.
        let pause = |n: u32| format!("echo {n} > {}\nread x < {}\n", ready.display(), go.display());
        let set_path = path_first(sh, &bin);
        let script = format!(
            "{set_path}\n{init}\nsleep 1.2\n{}{}{}{}{}{}{}{}{}",
            step("first"),
            step("unchanged"),
            pause(1),
            step("zombie"),
            pause(2),
            step("reused"),
            pause(3),
            step("supervisor-gone"),
            step("supervisor-gone-unchanged"),
        );
        let mut cmd = shell_command(&repo, sh, &repo.root, &script);
        let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let resume = || fs::write(&go, "\n").unwrap();
        let at = |n: &str| {
            eventually("the shell to pause", || {
                fs::read_to_string(&ready).is_ok_and(|t| t.trim() == n)
            })
        };

        // A run whose supervisor is stopped and whose agent was killed: a zombie nobody reaps.
        at("1");
        let zombie = repo.shard(&format!("{sh}1"));
        let zombie_sup = zombie["process"]["supervisor_pid"].as_u64().unwrap() as u32;
        kill(zombie_sup, libc::SIGSTOP);
        kill(pid_of(&zombie), 9);
        eventually("a zombie", || {
            proc_stat(pid_of(&zombie)).is_some_and(|(_, st, ..)| st == 'Z')
        });
        resume();

        // A run killed with its supervisor (nothing recorded), its PID taken by another process.
        at("2");
        let reused = repo.shard(&format!("{sh}2"));
        kill(reused["process"]["supervisor_pid"].as_u64().unwrap() as u32, 9);
        kill(pid_of(&reused), 9);
        let stranger = reuse_pid(pid_of(&reused));
        if stranger.is_none() {
            assert!(std::env::var("CI").is_err(), "CI runs as root: the PID must be reused");
            eprintln!("NOTE: cannot choose PIDs here (not root): the reused-PID case runs as a plain kill");
        }
        resume();

        // A run whose supervisor was killed, its agent alive: the descriptor the shell proved it
        // through went with the supervisor. Asked once, then proven by its PID.
        at("3");
        let orphan = repo.shard(&format!("{sh}3"));
        let orphan_sup = orphan["process"]["supervisor_pid"].as_u64().unwrap() as u32;
        kill(orphan_sup, 9);
        eventually("the supervisor gone", || !alive(orphan_sup));
        resume();

        let out = child.wait_with_output().unwrap();
        kill(zombie_sup, libc::SIGCONT);
        if let Some(mut s) = stranger {
            let _ = s.kill();
            let _ = s.wait();
        }
        assert_eq!(
            stdout(&out),
            "6◇\nfirst\n6◇\nunchanged\n5◇ 1?\nzombie\n4◇ 2?\nreused\n\
             4◇ 2?\nsupervisor-gone\n4◇ 2?\nsupervisor-gone-unchanged\n",
            "{sh}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Started for `init`, the first prompt and each change (the supervisor's end is one where
        // runs are proven through it): not while nothing changed, though six runs are shown as
        // running.
        assert_eq!(count(), 5, "{sh}: git-shard starts");
        for i in 1..=6 {
            repo.ok(&["stop", &format!("{sh}{i}")]);
        }
    }
}

/// Each form of run `prompt --cache` may tell the shell holds while the agent lives and fails
/// once it has exited, in the hook of each shell: an entry through the supervisor's descriptor,
/// the folder it holds (what a non-dumpable agent, whose entries only root may look up, is told
/// as), and by PID with the `.runs` stamp the agent's own `fd` folder or its `exe`. The answer
/// is the test's own (a `git-shard` that prints it), so every form is checked on any kernel and
/// as any user. The agent is killed while its supervisor is stopped: a zombie, its folder still
/// held.
#[test]
fn the_hook_holds_each_form_of_run_while_it_lives_and_no_longer() {
    let repo = TestRepo::new();
    let dir = repo.tmp.path();
    // The records' folder and its stamp, with the same time: unchanged as far as they go.
    let (watched, stamp) = (dir.join("watched"), dir.join("stamp"));
    fs::create_dir_all(&watched).unwrap();
    fs::write(&stamp, "").unwrap();
    let same = Command::new("touch")
        .arg("-r")
        .arg(&watched)
        .arg(&stamp)
        .status()
        .unwrap();
    assert!(same.success());
    // The line for a run, from its supervisor, the descriptor it holds and the agent's PID.
    type Line = fn(u32, u32, u32) -> String;
    let forms: [(&str, Line); 4] = [
        ("entry", |sup, fd, _| format!("{sup}/fd/{fd}/0")),
        ("folder", |sup, fd, _| format!("{sup}/fd/{fd}")),
        ("pid", |_, _, pid| format!("{pid}/fd")),
        ("exe", |_, _, pid| format!("{pid}/exe")),
    ];
    // fish also as before 3.5, without `path`: its entries then go into its `test`.
    let shells = INIT.into_iter().map(|(sh, init)| (sh, sh, init.to_owned())).chain([(
        "fish",
        "fish-3.4",
        format!("{}\nset -e __git_shard_path", INIT[2].1),
    )]);
    for (sh, label, init) in shells {
        if !have(sh) {
            continue;
        }
        let (hook, show) = hook_and_show(sh);
        for (form, line) in forms {
            if (form == "folder" || form == "pid") && !fd_counts() {
                continue; // an empty folder proves nothing before Linux 6.2
            }
            let name = format!("{label}-{form}");
            repo.ok(&["new", &name, "--terminal", "background", "--", "sleep", "300"]);
            let p = repo.shard(&name)["process"].clone();
            let (pid, sup) = (pid_of(&repo.shard(&name)), p["supervisor_pid"].as_u64().unwrap() as u32);
            let fd: u32 = fs::read_to_string(repo.record_path(&name))
                .unwrap()
                .lines()
                .find_map(|l| l.strip_prefix("supervisor_proc_fd = ")?.parse().ok())
                .expect("the supervisor holds the agent's folder");
            // Made after the agent: `/proc/<pid>` is older.
            std::thread::sleep(Duration::from_millis(20));
            fs::write(dir.join("stamp.runs"), "").unwrap();
            let answer = format!(
                "seg\n{}\t{}\n{}\n",
                watched.display(),
                stamp.display(),
                line(sup, fd, pid)
            );
            let fake = dir.join(format!("fake-{name}"));
            fs::create_dir_all(&fake).unwrap();
            fs::write(fake.join("answer"), answer).unwrap();
            let spawns = fake.join("spawns");
            fs::write(
                fake.join("git-shard"),
                format!(
                    "#!/bin/sh\necho >> {}\ncat {}\n",
                    spawns.display(),
                    fake.join("answer").display()
                ),
            )
            .unwrap();
            fs::set_permissions(
                fake.join("git-shard"),
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )
            .unwrap();
            // A signal is delivered some time after `kill` returns: the supervisor must have
            // stopped before its agent dies, or it reaps it. (In sh, which all three can run.)
            let zombie = format!(
                "sh -c 'kill -STOP {sup}; until grep -q \") T \" /proc/{sup}/stat; do sleep 0.01; done; \
                 kill -9 {pid}; until grep -q \") Z \" /proc/{pid}/stat; do sleep 0.01; done'"
            );
            let script = format!(
                "{init}\n{}\n{hook}\n{show}\n{hook}\n{show}\n{zombie}\n{hook}\n{show}\n",
                path_first(sh, &fake)
            );
            let out = shell(&repo, sh, &repo.root, &script);
            // Its supervisor stopped, the agent is left a zombie, and the supervisor still holds
            // its folder: the hardest case to tell from a live agent.
            let zombie = proc_stat(pid).map(|s| s.1);
            kill(sup, libc::SIGCONT);
            assert_eq!(zombie, Some('Z'), "{name}: a zombie");
            assert_eq!(
                stdout(&out),
                "seg\nseg\nseg\n",
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            // The first prompt, and the one after the agent was killed: not the one between.
            let count = fs::read_to_string(&spawns).map_or(0, |t| t.lines().count());
            assert_eq!(count, 2, "{name}: git-shard starts");
        }
    }
}

/// `cmd` as the user nobody (65534) where the tests run as root, else as it is: what a user who is
/// not root sees of processes that root's privileges would hide.
fn as_a_user(cmd: Command) -> Command {
    if !rustix::process::getuid().is_root() {
        return cmd;
    }
    let mut wrapped = Command::new("setpriv");
    wrapped
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_clear();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            wrapped.env(key, value);
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

/// An agent that made itself non-dumpable (hardened against ptrace, or setuid) has its `fd`
/// folder owned by root: its own user may not look up the entries in it. The shell is then told
/// the held folder itself, which it may `stat`, and finds it not empty while the agent lives.
#[test]
fn a_non_dumpable_agent_is_told_by_the_folder_its_supervisor_holds() {
    if !fd_counts() {
        // Past the harness's capture: a kernel's limit, not a tool to install.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: this kernel does not count open files (Linux 6.2 and later do)"
        );
        return;
    }
    let root = rustix::process::getuid().is_root();
    if root && !have("setpriv") {
        return;
    }
    let repo = TestRepo::new();
    // A copy of sleep that its user may run but not read: the kernel makes it non-dumpable.
    let sleep = std::env::split_paths(test_path())
        .map(|dir| dir.join("sleep"))
        .find(|p| p.exists())
        .expect("sleep on PATH");
    let xsleep = repo.tmp.path().join("xsleep");
    fs::copy(&sleep, &xsleep).unwrap();
    fs::set_permissions(&xsleep, std::os::unix::fs::PermissionsExt::from_mode(0o111)).unwrap();
    if root {
        let owned = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(repo.tmp.path())
            .status()
            .unwrap();
        assert!(owned.success());
    }
    let run = |args: &[&str]| {
        let out = as_a_user(repo.command_in(&repo.root, args)).output().unwrap();
        succeeded(args, out)
    };
    run(&[
        "new",
        "nd",
        "--terminal",
        "background",
        "--",
        xsleep.to_str().unwrap(),
        "300",
    ]);
    let record: toml::Value = toml::from_str(&fs::read_to_string(repo.record_path("nd")).unwrap()).unwrap();
    let p = &record["process"];
    let number = |key: &str| p[key].as_integer().unwrap_or_else(|| panic!("{key} in {p}")) as u32;
    let (pid, sup, fd) = (number("pid"), number("supervisor_pid"), number("supervisor_proc_fd"));
    let uid = |path: String| std::os::unix::fs::MetadataExt::uid(&fs::metadata(path).unwrap());
    assert_eq!(uid(format!("/proc/{pid}/fd")), 0, "the agent's folder is root's");
    assert_ne!(uid(format!("/proc/{pid}")), 0, "the agent is the user's");
    std::thread::sleep(Duration::from_millis(1200));
    let told: Vec<String> = run(&["prompt", "--cache", "1"])
        .lines()
        .skip(2)
        .map(str::to_owned)
        .collect();
    assert_eq!(told, [format!("{sup}/fd/{fd}")]);
    // What the user's shell finds: no entry (refused), the folder not empty.
    let mut check = Command::new("sh");
    check.args([
        "-c",
        &format!("! test -h /proc/{sup}/fd/{fd}/0 && test -s /proc/{sup}/fd/{fd}"),
    ]);
    assert!(as_a_user(check).status().unwrap().success());
    run(&["stop", "nd"]);
}

/// The shell integration is given each run through its supervisor's descriptor of the agent's
/// `/proc/<pid>/fd`, as the entry of its standard input there, which one lookup proves alive and
/// the same process: it leads to the agent while the agent lives and to nothing after, whoever
/// takes its PID. Once the supervisor is gone (its PID could then be anyone's) the run is given by
/// its own PID, which the shell proves with the `.runs` stamp.
#[test]
fn the_shell_is_given_each_run_through_its_supervisors_descriptor() {
    let repo = TestRepo::new();
    repo.ok(&["new", "s", "--terminal", "background", "--", "sleep", "300"]);
    let wt = repo.shards_dir().join("s");
    let p = repo.shard("s")["process"].clone();
    let (pid, sup) = (pid_of(&repo.shard("s")), p["supervisor_pid"].as_u64().unwrap() as u32);
    let record = fs::read_to_string(repo.record_path("s")).unwrap();
    let fd: u32 = record
        .lines()
        .find_map(|l| l.strip_prefix("supervisor_proc_fd = ")?.parse().ok())
        .expect("the supervisor holds the agent's folder");
    let held = format!("/proc/{sup}/fd/{fd}");
    assert_eq!(
        fs::read_link(&held).unwrap(),
        Path::new(&format!("/proc/{pid}/fd")),
        "it leads to the agent's folder"
    );
    // Closed on exec: not the agent's, nor anything it starts.
    let agents = fs::read_dir(format!("/proc/{pid}/fd")).unwrap();
    for entry in agents.flatten() {
        let to = fs::read_link(entry.path()).unwrap_or_default();
        assert!(!to.starts_with("/proc"), "the agent has {}", to.display());
    }
    // The runs as the shell is told them, a while after the last change (so that it may trust
    // the folder's time and is told the runs at all).
    let told = |dir: &Path| -> Vec<String> {
        std::thread::sleep(Duration::from_millis(1200));
        let out = succeeded(
            &["prompt"],
            repo.command_in(dir, &["prompt", "--cache", "1"]).output().unwrap(),
        );
        out.lines().skip(2).map(str::to_owned).collect()
    };
    for dir in [&repo.root, &wt] {
        assert_eq!(told(dir), [format!("{sup}/fd/{fd}/0")], "in {}", dir.display());
    }
    // The supervisor killed, the agent alive: told by its PID.
    kill(sup, 9);
    eventually("the supervisor gone", || {
        !alive(sup) || proc_stat(sup).is_some_and(|s| s.1 == 'Z')
    });
    for dir in [&repo.root, &wt] {
        let entry = if fd_counts() { "fd" } else { "exe" };
        assert_eq!(told(dir), [format!("{pid}/{entry}")], "in {}", dir.display());
    }
    repo.ok(&["stop", "s"]);

    // An agent without standard input: the entry of its standard output. Without any of the
    // three: by its PID.
    for (name, script, entry) in [
        ("o", "exec sleep 300 <&-", "/1"),
        ("n", "exec sleep 300 <&- >&- 2>&-", ""),
    ] {
        repo.ok(&["new", name, "--terminal", "background", "--", "sh", "-c", script]);
        let p = repo.shard(name)["process"].clone();
        let (pid, sup) = (pid_of(&repo.shard(name)), p["supervisor_pid"].as_u64().unwrap() as u32);
        let fd: u32 = fs::read_to_string(repo.record_path(name))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("supervisor_proc_fd = ")?.parse().ok())
            .expect("the supervisor holds the agent's folder");
        let given = if entry.is_empty() {
            // Its `fd` folder is empty (a detached run keeps none of the caller's descriptors):
            // its `exe` shows it has not exited.
            format!("{pid}/exe")
        } else {
            format!("{sup}/fd/{fd}{entry}")
        };
        assert_eq!(told(&repo.root), [given], "{script}");
        repo.ok(&["stop", name]);
    }
}

#[test]
fn what_the_prompt_keeps_goes_with_the_repositories_and_shells_that_are_gone() {
    // One runtime folder for both repositories, as a user's session has.
    let session = tempfile::tempdir().unwrap();
    let run = private_runtime_dir(session.path());
    let private = run.join("git-shard");
    let prompt = |repo: &TestRepo, args: &[&str]| {
        let out = repo
            .command_in(&repo.root, args)
            .env("XDG_RUNTIME_DIR", &run)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    let glances = || -> Vec<String> {
        fs::read_dir(&private)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("glance-"))
            .collect()
    };
    let gone = TestRepo::new();
    gone.ok(&["new", "a", "--no-launch", "--", "true"]);
    prompt(&gone, &["prompt"]);
    let made = glances();
    assert_eq!(made.len(), 1, "one kept file for the repository");
    // A stamp of a shell that cannot exist (no PID reaches pid_max).
    let pid_max = fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .to_owned();
    let dead_stamp = private.join(format!("prompt-{pid_max}"));
    fs::write(&dead_stamp, "").unwrap();
    drop(gone);

    // The next repository's first prompt (from a new shell) clears what is no one's any more.
    let repo = TestRepo::new();
    repo.ok(&["new", "b", "--no-launch", "--", "true"]);
    let shell_pid = std::process::id().to_string();
    // Stamps are made once the store's last change is a moment (and a second) old.
    std::thread::sleep(Duration::from_millis(1200));
    prompt(&repo, &["prompt", "--cache", &shell_pid]);
    assert!(!glances().contains(&made[0]), "the deleted repository's kept file went");
    assert!(!dead_stamp.exists(), "the exited shell's stamp went");
    assert!(
        private.join(format!("prompt-{shell_pid}")).exists(),
        "a live shell's stays"
    );
}

/// The shell's stamp cleaned away (a tmp cleaner, a runtime folder removed at logout while tmux
/// lives on): the hook asks git-shard, it does not keep what it showed.
#[test]
fn a_stamp_that_is_gone_vouches_for_nothing() {
    let repo = TestRepo::new();
    repo.ok(&["new", "a", "--no-launch", "--", "true"]);
    for (sh, init) in INIT {
        if !have(sh) {
            continue;
        }
        let (hook, show) = hook_and_show(sh);
        let name = format!("gone-{sh}");
        let script = format!(
            "{init}\nsleep 1.2\n{hook}\n{show}\nrm -f \"$__git_shard_stamp\"\ngit-shard new {name} --no-launch -- true >/dev/null 2>&1\n{hook}\n{show}\n"
        );
        let before = repo.list().len();
        let out = shell(&repo, sh, &repo.root, &script);
        assert_eq!(
            stdout(&out),
            format!("{before}○\n{}○\n", before + 1),
            "{sh}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Without a private folder of its own (another user made `<tmp>/git-shard-<uid>` first, a
/// read-only /tmp), the main worktree's summary is made every time, not lost.
#[test]
fn the_summary_needs_no_private_folder() {
    use std::os::unix::fs::PermissionsExt;
    let repo = TestRepo::new();
    repo.ok(&["new", "a", "--no-launch", "--", "true"]);
    let run = repo.tmp.path().join("shared-run");
    fs::create_dir_all(run.join("git-shard")).unwrap();
    fs::set_permissions(run.join("git-shard"), fs::Permissions::from_mode(0o755)).unwrap();
    let out = repo
        .command_in(&repo.root, &["prompt"])
        .env("XDG_RUNTIME_DIR", &run)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1○\n", "{out:?}");
}

/// Outside any repository, where a shell spends most of its prompts, the hook starts nothing
/// while nothing changed; a repository made in the folder or above it shows at the next prompt.
#[test]
fn outside_a_repository_the_hook_starts_nothing_until_a_git_appears() {
    let repo = TestRepo::new();
    let outside = repo.tmp.path().join("outside");
    let deep = outside.join("a/b");
    fs::create_dir_all(&deep).unwrap();
    let bin = repo.tmp.path().join("counting");
    let spawns = counting_git_shard(&bin);
    let count = || fs::read_to_string(&spawns).map_or(0, |t| t.lines().count());
    for (sh, init) in INIT {
        if !have(sh) {
            continue;
        }
        let _ = fs::remove_dir_all(outside.join(".git"));
        let _ = fs::remove_file(&spawns);
        let hook = match sh {
            "bash" => "__git_shard_prompt_hook",
            "zsh" => "__git_shard_precmd",
            _ => "__git_shard_prompt >/dev/null",
        };
        let set_path = path_first(sh, &bin);
        let script = format!(
            "{set_path}\n{init}\n{hook}\n{hook}\n{hook}\ngit init -q {} >/dev/null\nsleep 1.2\n{hook}\n{hook}\ntrue\n",
            outside.display()
        );
        let out = shell(&repo, sh, &deep, &script);
        assert!(out.status.success(), "{sh}: {out:?}");
        // `init`, the first prompt, and the first after `git init` (a moment later, as a person
        // types; in a repository without shards, the next one starts nothing either).
        assert_eq!(
            count(),
            3,
            "{sh}: git-shard starts: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A zsh theme that sets PROMPT in a precmd of its own, added after the init line (as
/// powerlevel10k and pure do): from the next prompt on, the segment is in it.
#[test]
fn zsh_keeps_the_segment_in_a_theme_that_sets_prompt_at_every_prompt() {
    let repo = TestRepo::new();
    if !have("zsh") {
        return;
    }
    let script = "eval \"$(git-shard init zsh)\"\nautoload -Uz add-zsh-hook\n\
                  theme() { PROMPT='THEME %# ' }\nadd-zsh-hook precmd theme\n\
                  for f in $precmd_functions; do $f; done\nfor f in $precmd_functions; do $f; done\n\
                  print -r -- \"$PROMPT\"\n";
    let out = shell(&repo, "zsh", &repo.root, script);
    assert_eq!(
        stdout(&out),
        "${__git_shard_segment:+$__git_shard_segment }THEME %# \n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
