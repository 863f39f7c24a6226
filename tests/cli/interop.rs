//! Interop with git, the reference implementation: in every repository kind git supports, a
//! shard's worktree is exactly what `git worktree add -b` makes, and `git shard rm` undoes exactly
//! that.
//!
//! Each variant builds a repository, then makes a shard (`git shard new`) and a twin
//! (`git worktree add -b`) from the same place with the same base, and compares what git and the
//! disk say about both: every file's bytes and mode, `git status --porcelain` (clean),
//! `git ls-files -s`, the per-worktree config and sparse-checkout patterns, the branch's config
//! (upstream), what a probe filter driver and a probe `post-checkout` hook saw, and the entry in
//! `git worktree list --porcelain`. Then the shard goes with `git shard rm`, the twin with
//! `git worktree remove` + `git branch -d`, and git must be back where it was: the same worktrees,
//! branches and branch config, nothing left to prune, and `git fsck` clean.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;

/// One place to run git and git-shard from, with extra environment (`GIT_DIR`, …).
struct At<'a> {
    repo: &'a TestRepo,
    dir: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl At<'_> {
    fn git_output(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("git");
        hermetic(&mut cmd, &self.repo.home());
        cmd.envs(self.env.iter().map(|(k, v)| (*k, v)))
            .current_dir(&self.dir)
            .args(args);
        cmd.output().unwrap()
    }

    fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} in {} failed: {}",
            self.dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn shard(&self, args: &[&str]) -> Output {
        let mut cmd = self.repo.command_in(&self.dir, args);
        cmd.envs(self.env.iter().map(|(k, v)| (*k, v)));
        cmd.output().unwrap()
    }

    fn shard_ok(&self, args: &[&str]) -> String {
        let out = self.shard(args);
        assert!(
            out.status.success(),
            "git-shard {args:?} in {} failed:\n{}",
            self.dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

fn at<'a>(repo: &'a TestRepo, dir: &Path) -> At<'a> {
    At {
        repo,
        dir: dir.to_owned(),
        env: Vec::new(),
    }
}

/// Run git anywhere with the test's hermetic environment.
fn git_in(repo: &TestRepo, dir: &Path, args: &[&str]) -> String {
    at(repo, dir).git(args)
}

fn probe_log(repo: &TestRepo) -> PathBuf {
    repo.tmp.path().join("probe.log")
}

fn take_probe_log(repo: &TestRepo) -> String {
    let text = fs::read_to_string(probe_log(repo)).unwrap_or_default();
    let _ = fs::remove_file(probe_log(repo));
    text
}

/// A filter driver that records where and for which HEAD git runs it, and a `post-checkout` hook
/// that records its arguments and surroundings.
fn install_probes(repo: &TestRepo, git_dir: &Path) {
    let log = probe_log(repo);
    let filter = repo.tmp.path().join("probe-filter");
    fs::write(
        &filter,
        format!(
            "#!/bin/sh\necho \"smudge $1 pwd=$(pwd) GIT_DIR=${{GIT_DIR-unset}} GIT_WORK_TREE=${{GIT_WORK_TREE-unset}} \
             head=$(git symbolic-ref -q HEAD)\" >> {log}\nexec cat\n",
            log = log.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&filter, fs::Permissions::from_mode(0o755)).unwrap();
    git_in(
        repo,
        git_dir,
        &["config", "filter.probe.smudge", &format!("{} %f", filter.display())],
    );
    git_in(repo, git_dir, &["config", "filter.probe.clean", "cat"]);
    let hooks = git_dir.join("hooks");
    fs::create_dir_all(&hooks).unwrap();
    fs::write(
        hooks.join("post-checkout"),
        format!(
            "#!/bin/sh\necho \"post-checkout $* pwd=$(pwd) GIT_DIR=${{GIT_DIR-unset}} GIT_WORK_TREE=${{GIT_WORK_TREE-unset}} \
             top=$(git rev-parse --show-toplevel) head=$(git symbolic-ref -q HEAD)\" >> {log}\n",
            log = log.display()
        ),
    )
    .unwrap();
    fs::set_permissions(hooks.join("post-checkout"), fs::Permissions::from_mode(0o755)).unwrap();
}

/// Everything about one worktree that must be the same for a shard and its twin, with the
/// worktree's own path, branch and admin id replaced by placeholders.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    files: BTreeMap<String, String>,
    status: String,
    ls_files: String,
    config_worktree: String,
    sparse_checkout: String,
    branch_config: String,
    worktree_entry: String,
    probes: String,
}

fn admin_dir(worktree: &Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let bytes = fs::read(worktree.join(".git")).unwrap();
    let link = bytes.strip_prefix(b"gitdir:").unwrap().trim_ascii();
    fs::canonicalize(worktree.join(std::ffi::OsStr::from_bytes(link))).unwrap()
}

fn files_of(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if name == ".git" {
            continue;
        }
        let meta = fs::symlink_metadata(e.path()).unwrap();
        if meta.file_type().is_symlink() {
            out.insert(name, format!("link -> {}", fs::read_link(e.path()).unwrap().display()));
        } else if meta.is_dir() {
            files_of(&e.path(), &format!("{name}/"), out);
        } else {
            let bytes = fs::read(e.path()).unwrap();
            let exec = meta.permissions().mode() & 0o111 != 0;
            out.insert(name, format!("exec={exec} {:?}", String::from_utf8_lossy(&bytes)));
        }
    }
}

fn snapshot(place: &At, worktree: &Path, branch: &str, probes: String) -> Snapshot {
    let admin = admin_dir(worktree);
    let id = admin.file_name().unwrap().to_string_lossy().into_owned();
    let norm = |text: String| {
        text.replace(&worktree.display().to_string(), "<WT>")
            .replace(&admin.display().to_string(), "<ADMIN>")
            .replace(branch, "<BRANCH>")
            .replace(&format!("worktrees/{id}"), "worktrees/<ID>")
    };
    let mut files = BTreeMap::new();
    files_of(worktree, "", &mut files);
    let in_wt = At {
        repo: place.repo,
        dir: worktree.to_owned(),
        env: Vec::new(),
    };
    let list = place.git(&["worktree", "list", "--porcelain"]);
    let entry = list
        .split("\n\n")
        .find(|block| block.starts_with(&format!("worktree {}\n", worktree.display())))
        .unwrap_or_else(|| panic!("git does not list {}:\n{list}", worktree.display()))
        .to_owned();
    let branch_config = place
        .git_output(&[
            "config",
            "--get-regexp",
            &format!("^branch\\.{}\\.", regex_escape(branch)),
        ])
        .stdout;
    Snapshot {
        files,
        status: in_wt.git(&["status", "--porcelain", "--ignored=no"]),
        ls_files: in_wt.git(&["ls-files", "-s"]),
        config_worktree: fs::read_to_string(admin.join("config.worktree")).unwrap_or_default(),
        sparse_checkout: fs::read_to_string(admin.join("info/sparse-checkout")).unwrap_or_default(),
        branch_config: norm(String::from_utf8(branch_config).unwrap()),
        worktree_entry: norm(entry),
        probes: norm(probes),
    }
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// Git's view of the whole repository, to compare before and after.
fn git_state(place: &At) -> (String, String, String) {
    let branch_config = String::from_utf8(place.git_output(&["config", "--get-regexp", "^branch\\."]).stdout).unwrap();
    (
        place.git(&["worktree", "list", "--porcelain"]),
        place.git(&["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"]),
        branch_config,
    )
}

/// Make shard `name` and its twin from `place` (with `--base base` when given), compare them, then
/// remove both and check git is back where it was. Returns the shard's snapshot.
fn shard_and_twin(place: &At, name: &str, base: Option<&str>, extra: &[&str]) -> Snapshot {
    let repo = place.repo;
    let before = git_state(place);
    let twin_branch = format!("twin/{name}");
    let twin_path = repo.tmp.path().join("twins").join(name);
    fs::create_dir_all(twin_path.parent().unwrap()).unwrap();

    take_probe_log(repo);
    let mut args = vec!["new", name, "--no-launch"];
    if let Some(base) = base {
        args.extend(["--base", base]);
    }
    args.extend(extra);
    args.extend(["--json", "--", "true"]);
    let created: serde_json::Value = serde_json::from_str(&place.shard_ok(&args)).unwrap();
    let shard_path = PathBuf::from(created["path"].as_str().unwrap());
    let shard_branch = created["branch"].as_str().unwrap().to_owned();
    let shard = snapshot(place, &shard_path, &shard_branch, take_probe_log(repo));

    let twin_dir = twin_path.display().to_string();
    let mut args = vec!["worktree", "add", "-b", &twin_branch, &twin_dir];
    if let Some(base) = base {
        args.push(base);
    }
    place.git(&args);
    let twin_path = fs::canonicalize(&twin_path).unwrap();
    let twin = snapshot(place, &twin_path, &twin_branch, take_probe_log(repo));
    assert_eq!(shard, twin, "the shard differs from what `git worktree add -b` makes");
    assert_eq!(shard.status, "", "the shard is born dirty");

    // The record names the worktree as git registered it.
    let listed = place.shard_ok(&["list", "--json"]);
    assert!(
        listed.contains(&format!("\"path\":\"{}\"", shard_path.display())),
        "{listed}"
    );

    place.shard_ok(&["rm", name]);
    place.git(&["worktree", "remove", &twin_path.display().to_string()]);
    place.git(&["branch", "-d", &twin_branch]);
    assert_eq!(git_state(place), before, "git is not back where it was");
    assert_eq!(place.git(&["worktree", "prune", "--dry-run", "-v"]), "");
    place.git(&["fsck", "--no-progress"]);
    assert!(!shard_path.exists(), "{} is still there", shard_path.display());
    shard
}

/// Files that exercise checkout: line endings, an ident, a probe filter, an executable, a
/// symlink, odd names, and UTF-16 text stored as UTF-8.
fn add_checkout_fixtures(repo: &TestRepo, dir: &Path) {
    let w = |p: &str, bytes: &[u8]| {
        let path = dir.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    };
    w(
        ".gitattributes",
        b"*.crlf text eol=crlf\n*.c ident\n*.probe filter=probe\n\
          *.u16 text working-tree-encoding=UTF-16LE\n*.bom text working-tree-encoding=UTF-16LE-BOM\n",
    );
    w("dos.crlf", b"one\ntwo\n");
    w("src/x.c", b"/* $Id$ */\nint x;\n");
    w("data.probe", b"filtered\n");
    // Stored as UTF-8, checked out in the encoding the attribute names.
    let utf16 = |text: &str, bom: bool| -> Vec<u8> {
        let units = bom.then_some(0xfeff).into_iter().chain(text.encode_utf16());
        units.flat_map(u16::to_le_bytes).collect()
    };
    w("text.u16", &utf16("café UTF-16LE\n", false));
    w("text.bom", &utf16("with a byte order mark\n", true));
    w("odd name \u{2603} [x].txt", b"snow\n");
    w("run.sh", b"#!/bin/sh\necho hi\n");
    fs::set_permissions(dir.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("src/x.c", dir.join("link")).unwrap();
    git_in(repo, dir, &["add", "-A"]);
    git_in(repo, dir, &["commit", "-q", "-m", "checkout fixtures"]);
}

fn git_supports(repo: &TestRepo, args: &[&str]) -> bool {
    let scratch = repo.tmp.path().join("probe-support");
    let _ = fs::remove_dir_all(&scratch);
    let mut full = args.to_vec();
    let path = scratch.display().to_string();
    full.push(&path);
    let ok = at(repo, repo.tmp.path()).git_output(&full).status.success();
    let _ = fs::remove_dir_all(&scratch);
    ok
}

/// git itself is the reference here: a repository kind the installed git cannot make is skipped
/// loudly (and fails under CI, where the suite installs a git that has it).
fn require_git(what: &str) {
    crate::terminals::require_tool(&format!("a git with {what}"));
}

#[test]
fn a_plain_repository_with_every_checkout_feature() {
    let repo = TestRepo::new();
    install_probes(&repo, &repo.common_dir());
    add_checkout_fixtures(&repo, &repo.root);
    // The fixtures were committed through the probe, which logged its cleaning as well.
    take_probe_log(&repo);
    let s = shard_and_twin(&at(&repo, &repo.root), "plain", None, &[]);
    assert!(
        s.files["dos.crlf"].contains("one\\r\\ntwo"),
        "{:?}",
        s.files["dos.crlf"]
    );
    // git writes `$Id: <sha> $`, with the space.
    assert!(s.files["src/x.c"].contains(" $ */"), "{:?}", s.files["src/x.c"]);
    assert!(
        s.files["text.u16"].contains("c\\0a\\0f\\0"),
        "{:?}",
        s.files["text.u16"]
    );
    // The filter ran in the new worktree, for its branch; the hook got git's arguments there.
    assert!(
        s.probes
            .contains("smudge data.probe pwd=<WT> GIT_DIR=<ADMIN> GIT_WORK_TREE=. head=refs/heads/<BRANCH>"),
        "{}",
        s.probes
    );
    assert!(
        s.probes
            .contains(" 1 pwd=<WT> GIT_DIR=unset GIT_WORK_TREE=unset top=<WT>"),
        "{}",
        s.probes
    );
}

#[test]
fn tags_remote_bases_and_upstream_config() {
    let upstream = TestRepo::new();
    add_checkout_fixtures(&upstream, &upstream.root);
    let repo = TestRepo::new();
    git_in(
        &repo,
        &repo.root,
        &["remote", "add", "origin", &upstream.root.display().to_string()],
    );
    repo.git(&["fetch", "-q", "origin"]);
    repo.git(&["tag", "-a", "-m", "v1", "v1"]);
    let place = at(&repo, &repo.root);
    let s = shard_and_twin(&place, "remote", Some("origin/main"), &[]);
    // As `git worktree add -b` from a remote-tracking branch, the branch tracks it.
    assert!(
        s.branch_config.contains("branch.<BRANCH>.remote origin") && s.branch_config.contains("merge refs/heads/main"),
        "{}",
        s.branch_config
    );
    shard_and_twin(&place, "tagged", Some("v1"), &[]);
    shard_and_twin(&place, "back", Some("HEAD~0"), &[]);
}

#[test]
fn sparse_checkout_and_per_worktree_config_are_inherited() {
    let repo = TestRepo::new();
    for dir in ["app", "docs", "big/blob"] {
        fs::create_dir_all(repo.root.join(dir)).unwrap();
        fs::write(repo.root.join(dir).join("f.txt"), dir).unwrap();
    }
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "monorepo"]);
    repo.git(&["sparse-checkout", "set", "--cone", "app"]);
    repo.git(&["config", "--worktree", "core.editor", "probe-editor"]);
    let place = at(&repo, &repo.root);
    let s = shard_and_twin(&place, "cone", None, &[]);
    assert!(
        s.files.contains_key("app/f.txt") && !s.files.contains_key("big/blob/f.txt"),
        "{:?}",
        s.files
    );
    assert!(
        s.config_worktree.contains("sparseCheckout = true"),
        "{}",
        s.config_worktree
    );
    assert!(s.config_worktree.contains("probe-editor"), "{}", s.config_worktree);

    repo.git(&["sparse-checkout", "set", "--no-cone", "/docs/", "/README"]);
    let s = shard_and_twin(&place, "patterns", None, &[]);
    assert!(s.sparse_checkout.contains("/docs/"), "{}", s.sparse_checkout);
    assert!(!s.files.contains_key("app/f.txt"), "{:?}", s.files);
}

/// A fresh repository `name` made with `git init <flag>` (skipped, loudly, where git cannot), with
/// the probes and the checkout fixtures, and a tag `v1`.
fn init_kind(repo: &TestRepo, name: &str, flag: &str, what: &str) -> Option<PathBuf> {
    if !git_supports(repo, &["init", "-q", flag]) {
        require_git(what);
        return None;
    }
    git_in(repo, repo.tmp.path(), &["init", "-q", "-b", "main", flag, name]);
    let root = repo.tmp.path().join(name);
    install_probes(repo, &root.join(".git"));
    add_checkout_fixtures(repo, &root);
    git_in(repo, &root, &["tag", "v1"]);
    Some(root)
}

#[test]
fn sha256_repositories() {
    let repo = TestRepo::new();
    let Some(root) = init_kind(
        &repo,
        "sha256",
        "--object-format=sha256",
        "SHA-256 repositories (git 2.29+)",
    ) else {
        return;
    };
    let s = shard_and_twin(&at(&repo, &root), "s256", Some("v1"), &[]);
    assert!(
        s.worktree_entry
            .lines()
            .any(|l| l.starts_with("HEAD ") && l.len() == 5 + 64),
        "{}",
        s.worktree_entry
    );
}

#[test]
fn reftable_repositories() {
    let repo = TestRepo::new();
    let Some(root) = init_kind(&repo, "rt", "--ref-format=reftable", "reftable (git 2.45+)") else {
        return;
    };
    let place = at(&repo, &root);
    shard_and_twin(&place, "tabled", Some("v1"), &[]);
    shard_and_twin(&place, "headed", None, &[]);
    // Branches are seen through git, not through HEAD files (stubs in reftable).
    place.shard_ok(&["new", "busy", "--no-launch", "--", "true"]);
    let out = place.shard(&["new", "again", "--branch", "shard/busy", "--no-launch", "--", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already checked out"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    place.shard_ok(&["rm", "busy"]);
}

#[test]
fn bare_repositories_with_linked_worktrees() {
    let repo = TestRepo::new();
    add_checkout_fixtures(&repo, &repo.root);
    let bare = repo.tmp.path().join("app.git");
    git_in(
        &repo,
        repo.tmp.path(),
        &["clone", "-q", "--bare", &repo.root.display().to_string(), "app.git"],
    );
    git_in(&repo, &bare, &["worktree", "add", "-q", "../app-main", "main"]);
    install_probes(&repo, &bare);

    // From the bare repository itself: shards go beside it, named after the project.
    let from_bare = at(&repo, &bare);
    shard_and_twin(&from_bare, "b1", None, &[]);
    let out = from_bare.shard_ok(&["new", "b2", "--no-launch", "--json", "--", "true"]);
    assert!(
        out.contains(&format!(
            "\"path\":\"{}\"",
            repo.tmp.path().join("app.shards/b2").display()
        )),
        "{out}"
    );
    // Completion finds them from the bare repository too (git answers where no `.git` is).
    let mut complete = repo.command_in(&bare, &["--", "git-shard", "rm", "b"]);
    complete
        .env("COMPLETE", "bash")
        .env("_CLAP_IFS", "\n")
        .env("_CLAP_COMPLETE_INDEX", "2");
    let names = String::from_utf8(complete.output().unwrap().stdout).unwrap();
    assert!(names.lines().any(|l| l == "b2"), "{names:?}");
    // From one of its worktrees, the same repository and the same shards.
    let from_worktree = at(&repo, &repo.tmp.path().join("app-main"));
    assert!(from_worktree.shard_ok(&["list", "--json"]).contains("\"name\":\"b2\""));
    from_worktree.shard_ok(&["rm", "b2"]);
    shard_and_twin(&from_worktree, "b3", None, &[]);

    // The `.bare` layout: a bare repository inside the project folder, worktrees beside it.
    let project = repo.tmp.path().join("proj");
    fs::create_dir_all(&project).unwrap();
    git_in(
        &repo,
        &project,
        &["clone", "-q", "--bare", &repo.root.display().to_string(), ".bare"],
    );
    fs::write(project.join(".git"), "gitdir: ./.bare\n").unwrap();
    git_in(&repo, &project, &["worktree", "add", "-q", "main", "main"]);
    let from_project = at(&repo, &project);
    let out = from_project.shard_ok(&["new", "p1", "--no-launch", "--json", "--", "true"]);
    assert!(
        out.contains(&format!(
            "\"path\":\"{}\"",
            repo.tmp.path().join("proj.shards/p1").display()
        )),
        "{out}"
    );
    at(&repo, &project.join("main")).shard_ok(&["rm", "p1"]);
}

#[test]
fn a_symlinked_dot_git_is_the_repository_not_an_enclosing_one() {
    let repo = TestRepo::new();
    // `repo.root` stands in for a dotfiles repository in $HOME; the project lives inside it and
    // keeps its git dir elsewhere, linked by a symlinked `.git`.
    let project = repo.root.join("project");
    fs::create_dir_all(&project).unwrap();
    git_in(&repo, &project, &["init", "-q", "-b", "main"]);
    fs::write(project.join("p.txt"), "project\n").unwrap();
    git_in(&repo, &project, &["add", "p.txt"]);
    git_in(&repo, &project, &["commit", "-q", "-m", "project"]);
    let store = repo.tmp.path().join("store/project.git");
    fs::create_dir_all(store.parent().unwrap()).unwrap();
    fs::rename(project.join(".git"), &store).unwrap();
    std::os::unix::fs::symlink(&store, project.join(".git")).unwrap();
    let outer = git_state(&at(&repo, &repo.root));

    let place = at(&repo, &project);
    let s = shard_and_twin(&place, "inner", None, &[]);
    assert!(s.files.contains_key("p.txt"), "{:?}", s.files);
    assert!(
        store.join("shards").is_dir(),
        "records belong to the project's repository"
    );
    assert!(
        !repo.common_dir().join("shards").exists(),
        "the enclosing repository was touched"
    );
    assert_eq!(git_state(&at(&repo, &repo.root)), outer);
}

#[test]
fn git_dir_and_work_tree_variables_and_git_dash_c() {
    let repo = TestRepo::new();
    add_checkout_fixtures(&repo, &repo.root);
    let elsewhere = repo.tmp.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    let place = At {
        repo: &repo,
        dir: elsewhere.clone(),
        env: vec![
            ("GIT_DIR", repo.common_dir().display().to_string()),
            ("GIT_WORK_TREE", repo.root.display().to_string()),
        ],
    };
    shard_and_twin(&place, "env", None, &[]);
    // GIT_COMMON_DIR with GIT_DIR naming a linked worktree's admin folder, as git's own test
    // suite sets them: the same repository and its shards.
    place.shard_ok(&["new", "common", "--no-launch", "--", "true"]);
    let linked = At {
        repo: &repo,
        dir: elsewhere.clone(),
        env: vec![
            (
                "GIT_DIR",
                repo.common_dir().join("worktrees/common").display().to_string(),
            ),
            ("GIT_COMMON_DIR", repo.common_dir().display().to_string()),
            ("GIT_WORK_TREE", repo.shards_dir().join("common").display().to_string()),
        ],
    };
    assert!(linked.shard_ok(&["list", "--json"]).contains("\"name\":\"common\""));
    linked.shard_ok(&["rm", "common"]);

    // `git -C <repo> shard …`, with git-shard found on PATH as git finds it.
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), test_path().to_string_lossy());
    let run = |args: &[&str]| {
        let mut cmd = Command::new("git");
        hermetic(&mut cmd, &repo.home());
        cmd.env("PATH", &path)
            .current_dir(&elsewhere)
            .arg("-C")
            .arg(&repo.root)
            .args(args);
        cmd.output().unwrap()
    };
    let out = run(&["shard", "new", "dashc", "--no-launch", "--", "true"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(repo.shards_dir().join("dashc/README").exists());
    assert!(run(&["shard", "rm", "dashc"]).status.success());
    assert!(!repo.shards_dir().join("dashc").exists());
}

#[test]
fn a_separate_git_dir() {
    let repo = TestRepo::new();
    let work = repo.tmp.path().join("sep");
    let gitdir = repo.tmp.path().join("sep-store.git");
    git_in(
        &repo,
        repo.tmp.path(),
        &[
            "init",
            "-q",
            "-b",
            "main",
            "--separate-git-dir",
            &gitdir.display().to_string(),
            "sep",
        ],
    );
    add_checkout_fixtures(&repo, &work);
    shard_and_twin(&at(&repo, &work), "sepd", None, &[]);
}

#[test]
fn worktrees_with_relative_links() {
    let repo = TestRepo::new();
    // git 2.48 added `worktree.useRelativePaths`; older gits cannot read such a repository.
    let version = repo.git(&["version"]);
    let (major, minor) = version
        .trim()
        .strip_prefix("git version ")
        .and_then(|v| {
            let mut parts = v.split('.');
            Some((parts.next()?.parse::<u32>().ok()?, parts.next()?.parse::<u32>().ok()?))
        })
        .unwrap_or((0, 0));
    if (major, minor) < (2, 48) {
        eprintln!(
            "SKIPPED: {} has no worktree.useRelativePaths (git 2.48+)",
            version.trim()
        );
        return;
    }
    add_checkout_fixtures(&repo, &repo.root);
    repo.git(&["config", "worktree.useRelativePaths", "true"]);
    let place = at(&repo, &repo.root);
    shard_and_twin(&place, "rel", None, &[]);
    place.shard_ok(&["new", "relative", "--no-launch", "--", "true"]);
    let wt = repo.shards_dir().join("relative");
    assert!(fs::read_to_string(wt.join(".git")).unwrap().starts_with("gitdir: ../"));
    // Every reader resolves the relative links: the prompt, list, and removal.
    let prompt = repo
        .command_in(&wt, &["prompt", "--format", "{name}"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&prompt.stdout).trim(), "relative");
    assert!(repo.ok(&["list"]).contains("relative"));
    fs::write(wt.join("scratch.txt"), "work\n").unwrap();
    assert!(repo.refused(&["rm", "relative"]).contains("uncommitted work"));
    fs::remove_file(wt.join("scratch.txt")).unwrap();
    repo.ok(&["rm", "relative"]);
    assert!(!wt.exists());
}

#[test]
fn the_record_holds_the_path_git_registered() {
    let repo = TestRepo::new();
    // A worktree_dir through a symlink and `..`: git registers the real path.
    let real = repo.tmp.path().join("real/deep");
    fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(&real, repo.tmp.path().join("via")).unwrap();
    fs::create_dir_all(repo.common_dir().join("shards")).unwrap();
    fs::write(
        repo.common_dir().join("shards/config.toml"),
        format!(
            "worktree_dir = \"{}/via/../elsewhere/{{name}}\"\n",
            repo.tmp.path().display()
        ),
    )
    .unwrap();
    let out: serde_json::Value =
        serde_json::from_str(&repo.ok(&["new", "canon", "--no-launch", "--json", "--", "true"])).unwrap();
    let expected = fs::canonicalize(repo.tmp.path()).unwrap().join("real/elsewhere/canon");
    assert_eq!(out["path"].as_str(), Some(expected.to_str().unwrap()));
    assert!(
        repo.worktrees().contains(&expected.display().to_string()),
        "{:?}",
        repo.worktrees()
    );
    let prompt = repo
        .command_in(&expected, &["prompt", "--format", "{name}"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&prompt.stdout).trim(), "canon");
    assert!(!repo.ok(&["prune", "--dry-run"]).contains("canon"));
    repo.ok(&["rm", "canon"]);
    assert!(!expected.exists());
}

#[test]
fn submodules_are_refused_like_git_and_force_never_loses_their_commits() {
    let repo = TestRepo::new();
    let sub = TestRepo::new();
    let allow = ["-c", "protocol.file.allow=always"];
    let sub_url = sub.root.display().to_string();
    repo.git(&[allow[0], allow[1], "submodule", "add", "-q", &sub_url, "lib"]);
    repo.git(&["commit", "-q", "-m", "submodule"]);

    // Not initialised in the shard: nothing of a submodule to lose, so git and git-shard remove it.
    repo.ok(&["new", "plain", "--no-launch", "--", "true"]);
    repo.ok(&["rm", "plain"]);

    repo.ok(&["new", "subs", "--no-launch", "--", "true"]);
    let wt = repo.shards_dir().join("subs");
    repo.git_in(&wt, &[allow[0], allow[1], "submodule", "update", "-q", "--init"]);
    assert!(wt.join("lib/README").exists());
    // git refuses such a worktree; so does git-shard, and says why.
    let twin = repo.tmp.path().join("subs-twin");
    repo.git(&["worktree", "add", "-q", "-b", "twin", &twin.display().to_string()]);
    repo.git_in(&twin, &[allow[0], allow[1], "submodule", "update", "-q", "--init"]);
    let git_rm = repo.git_output_in(&repo.root, &["worktree", "remove", &twin.display().to_string()]);
    assert!(!git_rm.status.success());
    let err = repo.refused(&["rm", "subs"]);
    assert!(err.contains("initialised submodules"), "{err}");
    assert!(wt.join("lib/README").exists());

    // A commit only the shard's submodule has: even --force keeps it.
    fs::write(wt.join("lib/new.txt"), "only here\n").unwrap();
    repo.git_in(&wt.join("lib"), &["add", "new.txt"]);
    repo.git_in(&wt.join("lib"), &["commit", "-q", "-m", "only here"]);
    let commit = repo.git_in(&wt.join("lib"), &["rev-parse", "HEAD"]).trim().to_owned();
    let err = repo.refused(&["rm", "--force", "subs"]);
    assert!(err.contains("1 commit(s) that none of its remote-tracking"), "{err}");
    assert!(wt.join("lib/new.txt").exists());

    // Pushed, it exists elsewhere: --force removes the shard.
    repo.git_in(&wt.join("lib"), &["push", "-q", "origin", "HEAD:refs/heads/kept"]);
    repo.git_in(&wt.join("lib"), &["fetch", "-q", "origin"]);
    repo.ok(&["rm", "--force", "subs"]);
    assert!(!wt.exists());
    assert_eq!(sub.git(&["rev-parse", "kept"]).trim(), commit);
    repo.git(&["fsck", "--no-progress"]);
}

#[test]
fn a_failing_post_checkout_hook_fails_new_and_leaves_nothing() {
    let repo = TestRepo::new();
    let hook = repo.common_dir().join("hooks/post-checkout");
    fs::create_dir_all(hook.parent().unwrap()).unwrap();
    // 129 is also git's status for an unknown option: still the hook's failure here.
    for code in [3, 129] {
        fs::write(
            &hook,
            format!("#!/bin/sh\necho 'post-checkout says no' >&2\nexit {code}\n"),
        )
        .unwrap();
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
        let before = git_state(&at(&repo, &repo.root));
        let err = repo.refused(&["new", "hooked", "--no-launch", "--", "true"]);
        assert!(
            err.contains("post-checkout says no") && err.contains("post-checkout hook failed"),
            "{err}"
        );
        assert_eq!(git_state(&at(&repo, &repo.root)), before);
        assert!(!repo.shards_dir().join("hooked").exists());
        assert!(!repo.record_path("hooked").exists());
    }
}

#[test]
fn rm_from_inside_the_shard_and_a_symlinked_worktree_path() {
    let repo = TestRepo::new();
    repo.ok(&["new", "inside", "--no-launch", "--", "true"]);
    let wt = repo.shards_dir().join("inside");
    let out = repo.command_in(&wt, &["rm", "inside"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!wt.exists() && !repo.branches().contains(&"shard/inside".to_owned()));

    // A shard's folder replaced by a link to another shard's: nothing of the other is touched.
    repo.ok(&["new", "a", "--no-launch", "--", "true"]);
    repo.ok(&["new", "b", "--no-launch", "--", "true"]);
    let (a, b) = (repo.shards_dir().join("a"), repo.shards_dir().join("b"));
    let moved = repo.tmp.path().join("a-moved");
    fs::rename(&a, &moved).unwrap();
    std::os::unix::fs::symlink(&b, &a).unwrap();
    let err = repo.refused(&["rm", "a"]);
    assert!(err.contains("is not the worktree git registered"), "{err}");
    assert!(b.join("README").exists() && repo.record_path("a").exists());
    fs::remove_file(&a).unwrap();
    fs::rename(&moved, &a).unwrap();
    repo.ok(&["rm", "a"]);
    repo.ok(&["rm", "b"]);
}

#[test]
fn a_repository_someone_else_owns_is_refused_with_gits_reason() {
    let repo = TestRepo::new();
    if !is_root() {
        eprintln!("SKIPPED: needs root to give the repository to another user");
        return;
    }
    let status = Command::new("chown")
        .args(["-R", "65534:65534", &repo.root.display().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // git refuses such a repository unless `safe.directory` allows it; so does git-shard, in git's
    // words, before it creates anything.
    let err = repo.refused(&["new", "theirs", "--no-launch", "--", "true"]);
    assert!(err.contains("dubious ownership"), "{err}");
    assert!(!repo.shards_dir().exists() && !repo.common_dir().join("shards").exists());
    // Allowed the way git allows it, it is used.
    let mut cmd = repo.command_in(&repo.root, &["new", "theirs", "--no-launch", "--", "true"]);
    cmd.env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "safe.directory")
        .env("GIT_CONFIG_VALUE_0", repo.root.display().to_string());
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn a_c_locale_and_a_repository_folder_name_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let repo = TestRepo::new();
    // A repository in a folder named with a Latin-1 byte, used under the C locale.
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9");
    let root = repo.tmp.path().join(name);
    fs::create_dir(&root).unwrap();
    git_in(&repo, &root, &["init", "-q", "-b", "main"]);
    add_checkout_fixtures(&repo, &root);
    let place = At {
        repo: &repo,
        dir: root.clone(),
        env: vec![("LC_ALL", "C".into()), ("LANG", "C".into())],
    };
    // The shard goes beside it (its folder named with the replacement character, as the
    // `{repo}` placeholder is text), and everything git writes about both is read byte for byte.
    shard_and_twin(&place, "c-locale", None, &[]);
}
