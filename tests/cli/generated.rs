//! Generated files are committed and must match the clap tree: completions/ and man/. Run with
//! GIT_SHARD_BLESS=1 to rewrite them after changing the command line.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::*;
use crate::terminals::require_tool;

fn check(path: &Path, want: &[u8]) {
    if std::env::var_os("GIT_SHARD_BLESS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, want).unwrap();
        return;
    }
    let have = fs::read(path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale: regenerate with `GIT_SHARD_BLESS=1 cargo test --test cli generated`",
        path.display()
    );
}

#[test]
fn committed_completions_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in git_shard::cli::COMPLETION_FILES {
        check(&dir.join(file), &git_shard::cli::completion_script(*shell));
    }
    // And `git shard completions <shell>` prints the same.
    let repo = TestRepo::new();
    assert_eq!(
        repo.ok(&["completions", "bash"]).as_bytes(),
        fs::read(dir.join("git-shard.bash")).unwrap()
    );
}

#[test]
fn committed_man_pages_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let pages = git_shard::cli::man_pages();
    assert!(pages.iter().any(|(f, _)| f == "git-shard.1") && pages.iter().any(|(f, _)| f == "git-shard-new.1"));
    for (file, page) in &pages {
        check(&dir.join(file), page);
    }
    if std::env::var_os("GIT_SHARD_BLESS").is_none() {
        let committed = fs::read_dir(&dir).unwrap().count();
        assert_eq!(
            committed,
            pages.len(),
            "man/ holds pages of commands that no longer exist"
        );
    }
}

#[test]
fn git_help_shard_opens_the_installed_page() {
    let repo = TestRepo::new();
    if Command::new("man").arg("--version").output().is_err() {
        require_tool("man (man-db)");
        return;
    }
    let prefix = repo.tmp.path().join("prefix");
    let out = repo.run(&["install-man", "--prefix", prefix.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("share/man/man1/git-shard.1"));
    // <prefix>/bin is not on PATH and MANPATH is unset: man will not look there, and says how.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("man does not look in") && err.contains("MANPATH"), "{err}");
    let out = repo
        .command_in(&repo.root, &["install-man", "--prefix", prefix.to_str().unwrap()])
        .env("MANPATH", prefix.join("share/man"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("installed; `git help shard`"), "{err}");
    let mut cmd = Command::new("git");
    hermetic(&mut cmd, &repo.home());
    // git maps `help shard` to the page `git-shard` only when `git-shard` is a command on PATH
    // (else it looks for the guide `gitshard`): on PATH, as after `cargo install`.
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), test_path().to_string_lossy());
    let out = cmd
        .args(["help", "shard"])
        .env("PATH", path)
        .env("MANPATH", prefix.join("share/man"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .current_dir(&repo.root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("git-shard") && text.contains("worktree"), "{text}");
}

#[test]
fn man_pages_read_as_man_pages() {
    if Command::new("man").arg("--version").output().is_err() {
        require_tool("man (man-db)");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let show = |page: &str| {
        let out = Command::new("man")
            .args(["-P", "cat", "-l"])
            .arg(dir.join(page))
            .env("MANWIDTH", "200")
            .env("LANG", "C.UTF-8")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let prompt = show("git-shard-prompt.1");
    assert!(prompt.contains("git shard prompt [--format <TEMPLATE>]"), "{prompt}");
    let new = show("git-shard-new.1");
    assert!(
        !new.contains('`'),
        "Markdown code marks are set in bold, not shown: {new}"
    );
    assert!(new.contains("<branch_prefix><name> (prefix shard/ unless"), "{new}");
    for page in ["git-shard.1", "git-shard-hooks.1"] {
        let text = show(page);
        assert!(
            !text.contains("help(1)"),
            "{page} names a page that does not exist: {text}"
        );
    }
    // Every page a page names exists (`git-shard-host(1)` names `git-shard-host-add(1)`).
    for entry in fs::read_dir(&dir).unwrap().flatten() {
        let text = fs::read_to_string(entry.path()).unwrap().replace("\\-", "-");
        for named in text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '(' || c == ')')) {
            if let Some(page) = named.strip_suffix("(1)").filter(|p| p.starts_with("git-shard")) {
                assert!(
                    dir.join(format!("{page}.1")).is_file(),
                    "{} names {page}(1), which does not exist",
                    entry.path().display()
                );
            }
        }
    }
    let add = show("git-shard-host-add.1");
    assert!(
        add.contains("git shard host add --ssh <DESTINATION> --repo <PATH>"),
        "{add}"
    );
}

/// `prompt` and `list` are parsed by a tree of their own subcommand (see main.rs): what they
/// accept, refuse and print for help must be what the whole tree gives (reached here through a
/// global `-v` first, which skips the short way).
#[test]
fn the_short_parsers_answer_as_the_whole_command_line() {
    let repo = TestRepo::new();
    for args in [
        &["list", "--help"][..],
        &["ls", "--help"],
        &["list", "--version"],
        &["list", "--bogus"],
        &["ls", "--json", "extra"],
        // `--json` and `--local` alone need no parser; given twice, the parser refuses them.
        &["list", "--json", "--json"],
        &["list", "--local", "--json", "--local"],
        &["prompt", "--help"],
        &["prompt", "--version"],
        &["prompt", "--format"],
    ] {
        let short = repo.run(args);
        let whole = repo.run(&[&["-v"][..], args].concat());
        let said = |o: &std::process::Output| {
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        };
        assert_eq!(said(&short), said(&whole), "{args:?}");
    }
    assert_eq!(repo.ok(&["ls", "--json"]).trim(), "[]");
    assert_eq!(repo.ok(&["list", "--local", "--json"]).trim(), "[]");
    assert!(repo.ok(&["list", "--local"]).is_empty());
}
