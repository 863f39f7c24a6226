//! These tests build throwaway repositories with the real `git` binary (with a hermetic config and
//! fixed identities/dates) and check the results with it, since "git accepts it" is the contract.

use super::*;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};
use std::sync::{Arc, Barrier};

fn git_output(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .current_dir(dir)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_COMMON_DIR")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
        .output()
        .expect("git runs")
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_output(dir, args);
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8").trim_end().to_owned()
}

struct Fixture {
    _tmp: tempfile::TempDir,
    /// Canonical temp root holding `repo/` and whatever a test adds next to it.
    root: PathBuf,
    repo: PathBuf,
}

impl Fixture {
    /// A repository on `main` with one commit: a regular file, a nested file, an executable, a
    /// symlink and a `.gitignore` ignoring `*.log`.
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(tmp.path()).expect("canonical tempdir");
        git(&root, &["init", "-q", "-b", "main", "repo"]);
        let repo = root.join("repo");
        fs::write(repo.join("README.md"), "hello\n").unwrap();
        fs::create_dir(repo.join("src")).unwrap();
        fs::write(repo.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        fs::write(repo.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
        fs::set_permissions(repo.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("README.md", repo.join("link")).unwrap();
        fs::write(repo.join(".gitignore"), "*.log\n").unwrap();
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "init"]);
        Fixture { _tmp: tmp, root, repo }
    }

    fn open(&self) -> Repo {
        Repo::discover(&self.repo).expect("discover")
    }

    fn head(&self) -> String {
        git(&self.repo, &["rev-parse", "HEAD"])
    }

    fn admin_ids(&self) -> Vec<String> {
        match fs::read_dir(self.repo.join(".git/worktrees")) {
            Ok(dir) => {
                let mut ids: Vec<String> = dir
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                ids.sort();
                ids
            }
            Err(_) => Vec::new(),
        }
    }

    fn branches(&self) -> Vec<String> {
        git(&self.repo, &["branch", "--format=%(refname:short)"])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn worktree_list(&self) -> String {
        git(&self.repo, &["worktree", "list", "--porcelain"])
    }
}

#[test]
fn discover_gives_the_same_common_dir_everywhere() {
    let fx = Fixture::new();
    let linked = fx.root.join("linked");
    git(
        &fx.repo,
        &["worktree", "add", "-q", "-b", "other", linked.to_str().unwrap()],
    );

    for (start, workdir) in [
        (fx.repo.clone(), fx.repo.clone()),
        (fx.repo.join("src"), fx.repo.clone()),
        (linked.clone(), linked.clone()),
        (linked.join("src"), linked.clone()),
    ] {
        let repo = Repo::discover(&start).expect("discover");
        assert_eq!(repo.common_dir(), fx.repo.join(".git"), "from {}", start.display());
        assert_eq!(repo.main_workdir(), fx.repo, "from {}", start.display());
        assert_eq!(repo.current_workdir(), Some(workdir), "from {}", start.display());
    }
}

#[test]
fn bare_repositories_and_plain_folders_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(tmp.path()).unwrap();
    git(&root, &["init", "-q", "--bare", "bare.git"]);
    assert!(matches!(
        Repo::discover(&root.join("bare.git")),
        Err(GitError::Bare { .. })
    ));
    let plain = root.join("plain");
    fs::create_dir(&plain).unwrap();
    assert!(matches!(Repo::discover(&plain), Err(GitError::NotARepository { .. })));
}

#[test]
fn resolve_base_refuses_an_unborn_head() {
    let tmp = tempfile::tempdir().unwrap();
    git(tmp.path(), &["init", "-q", "-b", "main", "empty"]);
    let repo = Repo::discover(&tmp.path().join("empty")).unwrap();
    assert!(matches!(repo.resolve_base(None), Err(GitError::NoCommits)));
}

#[test]
fn resolve_base_names_branches_only_for_branches() {
    let fx = Fixture::new();
    let head = fx.head();
    git(&fx.repo, &["tag", "v1"]);
    let repo = fx.open();
    let on_main = Base {
        refname: Some("refs/heads/main".into()),
        commit: head.clone(),
    };
    assert_eq!(repo.resolve_base(None).unwrap(), on_main);
    assert_eq!(repo.resolve_base(Some("HEAD")).unwrap(), on_main);
    assert_eq!(repo.resolve_base(Some("main")).unwrap(), on_main);
    let detached = Base {
        refname: None,
        commit: head.clone(),
    };
    assert_eq!(repo.resolve_base(Some("v1")).unwrap(), detached);
    assert_eq!(repo.resolve_base(Some(&head[..10])).unwrap(), detached);
    assert!(matches!(
        repo.resolve_base(Some("no-such-thing")),
        Err(GitError::BadRevision { .. })
    ));
}

#[test]
fn add_worktree_makes_a_worktree_git_accepts() {
    let fx = Fixture::new();
    let repo = fx.open();
    let head = fx.head();
    let wt = fx.root.join("shards/nested/feat");
    let id = repo.add_worktree(&wt, "feat", "feat", true, &head).unwrap();
    assert_eq!(id, "feat");

    // Before `status` gets a chance to refresh the index: its stat data must already match.
    assert_eq!(git(&wt, &["diff-files", "--name-only"]), "");
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    assert_eq!(git(&wt, &["rev-parse", "HEAD"]), head);
    assert_eq!(git(&wt, &["symbolic-ref", "HEAD"]), "refs/heads/feat");
    assert!(
        fx.worktree_list().contains(&format!(
            "worktree {}\nHEAD {head}\nbranch refs/heads/feat",
            wt.display()
        )),
        "{}",
        fx.worktree_list()
    );
    assert_eq!(fs::read_to_string(wt.join("README.md")).unwrap(), "hello\n");
    assert_eq!(fs::read_to_string(wt.join("src/lib.rs")).unwrap(), "pub fn f() {}\n");
    let mode = fs::metadata(wt.join("run.sh")).unwrap().permissions().mode();
    assert_ne!(mode & 0o111, 0, "executable bit kept");
    assert_eq!(fs::read_link(wt.join("link")).unwrap(), Path::new("README.md"));
    assert!(!fx.repo.join(".git/worktrees/feat/locked").exists());

    let listed = repo.worktrees().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].path, fx.repo);
    assert_eq!(listed[0].branch.as_deref(), Some("main"));
    assert_eq!(
        listed[1],
        WorktreeEntry {
            id: Some("feat".into()),
            path: wt.clone(),
            branch: Some("feat".into()),
            locked: None,
            prunable: false,
        }
    );
    assert_eq!(repo.branch_checked_out_at("feat").unwrap(), Some(wt.clone()));
    assert_eq!(Repo::discover(&wt).unwrap().common_dir(), repo.common_dir());

    git(&fx.repo, &["worktree", "remove", wt.to_str().unwrap()]);
    assert!(!wt.exists());
    assert_eq!(fx.admin_ids(), Vec::<String>::new());
}

#[test]
fn add_worktree_checks_out_an_existing_branch_and_suffixes_taken_ids() {
    let fx = Fixture::new();
    git(&fx.repo, &["branch", "existing"]);
    let repo = fx.open();
    let head = fx.head();
    let first = repo
        .add_worktree(&fx.root.join("a"), "same", "existing", false, "ignored")
        .unwrap();
    let second = repo
        .add_worktree(&fx.root.join("b"), "same", "new", true, &head)
        .unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("same", "same1"));
    assert_eq!(git(&fx.root.join("a"), &["status", "--porcelain"]), "");
    assert_eq!(git(&fx.root.join("b"), &["symbolic-ref", "--short", "HEAD"]), "new");
    assert!(matches!(
        repo.add_worktree(&fx.root.join("c"), "c", "existing", false, ""),
        Err(GitError::BranchCheckedOut { path, .. }) if path == fx.root.join("a")
    ));
    assert!(matches!(
        repo.add_worktree(&fx.root.join("c"), "c", "nope", false, ""),
        Err(GitError::NoSuchBranch { .. })
    ));
    assert!(!fx.root.join("c").exists());
}

#[test]
fn add_worktree_refuses_and_leaves_nothing_behind() {
    let fx = Fixture::new();
    let repo = fx.open();
    let head = fx.head();

    let wt = fx.root.join("wt");
    assert!(matches!(
        repo.add_worktree(&wt, "wt", "main", true, &head),
        Err(GitError::BranchExists { .. })
    ));
    assert!(matches!(
        repo.add_worktree(&wt, "wt", "main", false, &head),
        Err(GitError::BranchCheckedOut { path, .. }) if path == fx.repo
    ));
    assert!(matches!(
        repo.add_worktree(&wt, "wt", "bad..name", true, &head),
        Err(GitError::InvalidBranchName { .. })
    ));
    assert!(matches!(
        repo.add_worktree(&wt, "wt", "x", true, "no-such-rev"),
        Err(GitError::BadRevision { .. })
    ));
    assert!(!wt.exists());

    fs::create_dir(&wt).unwrap();
    assert!(matches!(
        repo.add_worktree(&wt, "wt", "fresh", true, &head),
        Err(GitError::PathExists { .. })
    ));
    assert!(wt.exists(), "a folder we did not create is left alone");
    assert_eq!(fx.branches(), ["main"]);
    assert_eq!(fx.admin_ids(), Vec::<String>::new());

    // A failure after the folder and the branch were created rolls both back.
    let wt2 = fx.root.join("wt2");
    fs::write(fx.repo.join(".git/worktrees"), "in the way").unwrap();
    assert!(matches!(
        repo.add_worktree(&wt2, "wt2", "fresh", true, &head),
        Err(GitError::Io { .. })
    ));
    assert!(!wt2.exists());
    assert_eq!(fx.branches(), ["main"]);
    assert!(!fx.repo.join(".git/logs/refs/heads/fresh").exists());
}

#[test]
fn racing_adds_of_one_new_branch_have_exactly_one_winner() {
    let fx = Fixture::new();
    let head = fx.head();
    let barrier = Arc::new(Barrier::new(2));
    let results: Vec<(PathBuf, Result<String, GitError>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                let path = fx.root.join(name);
                let (barrier, head, repo_dir) = (barrier.clone(), head.clone(), fx.repo.clone());
                scope.spawn(move || {
                    let repo = Repo::discover(&repo_dir).unwrap();
                    barrier.wait();
                    let result = repo.add_worktree(&path, "race", "racy", true, &head);
                    (path, result)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<&PathBuf> = results.iter().filter(|(_, r)| r.is_ok()).map(|(p, _)| p).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (path, result) in &results {
        match result {
            Ok(id) => {
                assert_eq!(id, "race");
                assert_eq!(git(path, &["status", "--porcelain"]), "");
            }
            Err(err) => {
                assert!(matches!(err, GitError::BranchExists { .. }), "{err:?}");
                assert!(!path.exists(), "loser left {}", path.display());
            }
        }
    }
    assert_eq!(fx.admin_ids(), ["race"]);
    assert_eq!(fx.worktree_list().matches("worktree ").count(), 2);
}

#[test]
fn racing_adds_of_one_existing_branch_never_both_win() {
    let fx = Fixture::new();
    git(&fx.repo, &["branch", "shared"]);
    let barrier = Arc::new(Barrier::new(2));
    let results: Vec<(PathBuf, bool)> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                let path = fx.root.join(name);
                let (barrier, repo_dir) = (barrier.clone(), fx.repo.clone());
                scope.spawn(move || {
                    let repo = Repo::discover(&repo_dir).unwrap();
                    barrier.wait();
                    let ok = repo.add_worktree(&path, name, "shared", false, "").is_ok();
                    (path, ok)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().filter(|(_, ok)| *ok).count() <= 1, "{results:?}");
    for (path, ok) in &results {
        assert_eq!(path.exists(), *ok);
    }
    assert_eq!(fx.admin_ids().len(), results.iter().filter(|(_, ok)| *ok).count());
}

#[test]
fn dirt_counts_staged_modified_and_untracked_but_not_ignored() {
    let fx = Fixture::new();
    let repo = fx.open();
    let wt = fx.root.join("wt");
    repo.add_worktree(&wt, "wt", "wt", true, &fx.head()).unwrap();
    let clean = repo.dirt(&wt).unwrap();
    assert!(clean.is_clean(), "{clean:?}");
    assert_eq!(clean.to_string(), "clean");

    fs::write(wt.join("README.md"), "changed\n").unwrap();
    fs::write(wt.join("staged.txt"), "new\n").unwrap();
    git(&wt, &["add", "staged.txt"]);
    fs::write(wt.join("untracked.txt"), "?\n").unwrap();
    fs::write(wt.join("debug.log"), "ignored\n").unwrap();
    let dirt = repo.dirt(&wt).unwrap();
    assert_eq!(
        dirt,
        Dirt {
            staged: 1,
            modified: 1,
            untracked: 1
        }
    );
    assert_eq!(dirt.to_string(), "1 staged, 1 modified, 1 untracked");
    assert!(repo.dirt(&fx.repo).unwrap().is_clean());
}

#[test]
fn commits_not_in_counts_new_commits() {
    let fx = Fixture::new();
    let repo = fx.open();
    let head = fx.head();
    let wt = fx.root.join("wt");
    repo.add_worktree(&wt, "wt", "work", true, &head).unwrap();
    assert_eq!(repo.commits_not_in("work", "refs/heads/main", &head).unwrap(), 0);
    for n in 0..2 {
        fs::write(wt.join("README.md"), format!("{n}\n")).unwrap();
        git(&wt, &["commit", "-q", "-am", "change"]);
    }
    assert_eq!(repo.commits_not_in("work", "refs/heads/main", &head).unwrap(), 2);
    assert_eq!(repo.commits_not_in("work", &head, &head).unwrap(), 2);
    assert_eq!(repo.commits_not_in("work", "refs/heads/gone", &head).unwrap(), 2);
    assert_eq!(repo.commits_not_in("main", "refs/heads/work", &head).unwrap(), 0);
}

#[test]
fn remove_worktree_and_delete_branch_leave_git_clean() {
    let fx = Fixture::new();
    let repo = fx.open();
    let wt = fx.root.join("wt");
    repo.add_worktree(&wt, "wt", "gone-soon", true, &fx.head()).unwrap();
    fs::write(wt.join("scratch.txt"), "x\n").unwrap();
    assert!(matches!(
        repo.delete_branch("gone-soon"),
        Err(GitError::BranchCheckedOut { .. })
    ));

    repo.remove_worktree(&wt).unwrap();
    repo.delete_branch("gone-soon").unwrap();
    assert!(!wt.exists());
    assert_eq!(fx.worktree_list().matches("worktree ").count(), 1);
    assert_eq!(fx.branches(), ["main"]);
    assert!(matches!(
        repo.delete_branch("gone-soon"),
        Err(GitError::NoSuchBranch { .. })
    ));
    assert!(matches!(
        repo.remove_worktree(&fx.repo),
        Err(GitError::NotAWorktree { .. })
    ));
}

#[test]
fn remove_worktree_never_deletes_a_folder_that_is_not_the_worktree() {
    let fx = Fixture::new();
    let repo = fx.open();
    let wt = fx.root.join("wt");
    repo.add_worktree(&wt, "wt", "wt", true, &fx.head()).unwrap();
    let victim = fx.root.join("victim");
    fs::create_dir(&victim).unwrap();
    fs::write(victim.join("precious"), "keep me\n").unwrap();
    fs::write(
        fx.repo.join(".git/worktrees/wt/gitdir"),
        format!("{}\n", victim.join(".git").display()),
    )
    .unwrap();
    assert!(matches!(
        repo.remove_worktree(&victim),
        Err(GitError::NotAWorktree { .. })
    ));
    assert!(victim.join("precious").exists());
}

#[test]
fn prune_worktree_entry_after_the_folder_is_gone() {
    let fx = Fixture::new();
    let repo = fx.open();
    let wt = fx.root.join("wt");
    let id = repo.add_worktree(&wt, "wt", "orphan", true, &fx.head()).unwrap();
    assert!(matches!(
        repo.prune_worktree_entry(&id),
        Err(GitError::NotPrunable { .. })
    ));

    fs::remove_dir_all(&wt).unwrap();
    assert!(repo.worktrees().unwrap()[1].prunable);
    assert!(matches!(
        repo.add_worktree(&wt, "wt", "again", true, &fx.head()),
        Err(GitError::PathRegistered { .. })
    ));
    for bogus in ["..", "../worktrees", "nope"] {
        assert!(matches!(
            repo.prune_worktree_entry(bogus),
            Err(GitError::NotPrunable { .. })
        ));
    }
    repo.prune_worktree_entry(&id).unwrap();
    assert_eq!(fx.worktree_list().matches("worktree ").count(), 1);
    assert_eq!(repo.worktrees().unwrap().len(), 1);
    // The branch outlives its worktree, as with git.
    assert!(repo.branch_exists("orphan").unwrap());
}

#[test]
fn worktrees_reports_locks() {
    let fx = Fixture::new();
    let repo = fx.open();
    let wt = fx.root.join("wt");
    repo.add_worktree(&wt, "wt", "locked", true, &fx.head()).unwrap();
    git(
        &fx.repo,
        &["worktree", "lock", "--reason", "on a usb stick", wt.to_str().unwrap()],
    );
    fs::remove_dir_all(&wt).unwrap();
    let entry = &repo.worktrees().unwrap()[1];
    assert_eq!(entry.locked.as_deref(), Some("on a usb stick"));
    assert!(!entry.prunable, "git never prunes locked worktrees");
    assert!(matches!(
        repo.prune_worktree_entry("wt"),
        Err(GitError::NotPrunable { .. })
    ));
}

#[test]
fn ids_are_sanitized() {
    assert_eq!(sanitize_id("feat/login page"), "feat-login-page");
    assert_eq!(sanitize_id(".."), "worktree");
    assert_eq!(sanitize_id(".hidden.lock"), "hidden");
    assert_eq!(sanitize_id("a..b"), "a-b");
}

/// Commit a change to README.md in `dir` and return the new HEAD.
fn commit_change(dir: &Path, text: &str) -> String {
    fs::write(dir.join("README.md"), text).unwrap();
    git(dir, &["commit", "-q", "-am", text]);
    git(dir, &["rev-parse", "HEAD"])
}

#[test]
fn unreachable_head_commits_counts_what_only_a_detached_head_holds() {
    let fx = Fixture::new();
    let repo = fx.open();
    let wt = fx.root.join("wt");
    repo.add_worktree(&wt, "wt", "work", true, &fx.head()).unwrap();
    assert_eq!(repo.unreachable_head_commits(&wt).unwrap(), 0);

    git(&wt, &["checkout", "-q", "--detach"]);
    commit_change(&wt, "one\n");
    let tip = commit_change(&wt, "two\n");
    assert_eq!(repo.unreachable_head_commits(&wt).unwrap(), 2);
    // Annotated tags are peeled to their commit.
    git(&wt, &["tag", "-a", "-m", "tagged", "v1", "HEAD~1"]);
    assert_eq!(repo.unreachable_head_commits(&wt).unwrap(), 1);
    git(&fx.repo, &["tag", "-d", "v1"]);
    git(&wt, &["branch", "keep"]);
    assert_eq!(repo.unreachable_head_commits(&wt).unwrap(), 0);
    git(&fx.repo, &["branch", "-D", "keep"]);
    // Another worktree's detached HEAD keeps them too.
    git(&fx.repo, &["checkout", "-q", "--detach", &tip]);
    assert_eq!(repo.unreachable_head_commits(&wt).unwrap(), 0);
    git(&fx.repo, &["checkout", "-q", "main"]);
    assert_eq!(repo.unreachable_head_commits(&wt).unwrap(), 2);
    // A per-worktree ref goes with the worktree, so it keeps nothing.
    git(&wt, &["update-ref", "refs/worktree/wip", "HEAD"]);
    git(&wt, &["symbolic-ref", "HEAD", "refs/worktree/wip"]);
    assert_eq!(Repo::discover(&wt).unwrap().unreachable_head_commits(&wt).unwrap(), 2);

    // On a branch, the branch keeps its commits.
    git(&wt, &["checkout", "-q", "-b", "onbranch", &tip]);
    assert_eq!(repo.unreachable_head_commits(&wt).unwrap(), 0);

    let plain = fx.root.join("plain");
    fs::create_dir(&plain).unwrap();
    assert!(matches!(
        repo.unreachable_head_commits(&plain),
        Err(GitError::NotAWorktree { .. })
    ));
    fs::remove_file(fx.repo.join(".git/worktrees/wt/HEAD")).unwrap();
    assert!(matches!(repo.unreachable_head_commits(&wt), Err(GitError::Io { .. })));
    fs::remove_dir_all(&wt).unwrap();
    fs::remove_dir_all(fx.repo.join(".git/worktrees/wt")).unwrap();
    assert_eq!(repo.unreachable_head_commits(&wt).unwrap(), 0);
}

/// By git's own account there are `count` worktrees (main included) and nothing to prune.
fn assert_git_sees_worktrees(fx: &Fixture, count: usize) {
    assert_eq!(
        fx.worktree_list().matches("worktree ").count(),
        count,
        "{}",
        fx.worktree_list()
    );
    let out = git_output(&fx.repo, &["worktree", "prune", "-n", "-v"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Turn the finished worktree `id` at `wt` back into what a kill during its checkout leaves: still
/// locked "initializing", no index, only some files written.
fn interrupt_checkout(fx: &Fixture, wt: &Path, id: &str) {
    let admin = fx.repo.join(".git/worktrees").join(id);
    fs::write(admin.join("locked"), "initializing\n").unwrap();
    fs::remove_file(admin.join("index")).unwrap();
    fs::remove_dir_all(wt.join("src")).unwrap();
    fs::remove_file(wt.join("run.sh")).unwrap();
}

#[test]
fn remove_incomplete_worktree_cleans_up_after_a_killed_add() {
    let fx = Fixture::new();
    let repo = fx.open();
    let head = fx.head();

    // (a) Still locked "initializing", no `gitdir` file, the folder half checked out.
    let wt = fx.root.join("shards/a");
    repo.add_worktree(&wt, "a", "a", true, &head).unwrap();
    interrupt_checkout(&fx, &wt, "a");
    fs::remove_file(fx.repo.join(".git/worktrees/a/gitdir")).unwrap();
    assert!(repo.remove_incomplete_worktree(&wt, "a").unwrap());
    assert!(!wt.exists());
    assert!(fx.root.join("shards").exists(), "parent folders stay");
    assert_eq!(fx.admin_ids(), Vec::<String>::new());
    assert_git_sees_worktrees(&fx, 1);
    assert!(!repo.remove_incomplete_worktree(&wt, "a").unwrap());

    // (b) Killed during the checkout, under a suffixed id; the finished worktree that took the id
    // first (registered elsewhere) is left alone.
    let other = fx.root.join("other");
    repo.add_worktree(&other, "b", "other", true, &head).unwrap();
    let wt = fx.root.join("b");
    assert_eq!(repo.add_worktree(&wt, "b", "b", true, &head).unwrap(), "b1");
    interrupt_checkout(&fx, &wt, "b1");
    assert!(repo.remove_incomplete_worktree(&wt, "b").unwrap());
    assert!(!wt.exists());
    assert_eq!(fx.admin_ids(), ["b"]);
    assert_eq!(git(&other, &["status", "--porcelain"]), "");
    assert_git_sees_worktrees(&fx, 2);
    repo.remove_worktree(&other).unwrap();

    // Killed right after claiming the folder and the id.
    let wt = fx.root.join("c");
    fs::create_dir(&wt).unwrap();
    fs::create_dir(fx.repo.join(".git/worktrees/c")).unwrap();
    assert!(repo.remove_incomplete_worktree(&wt, "c").unwrap());
    assert!(!wt.exists());
    assert_eq!(fx.admin_ids(), Vec::<String>::new());

    // Killed after the add finished: removed only while that loses nothing.
    let wt = fx.root.join("d");
    repo.add_worktree(&wt, "d", "d", true, &head).unwrap();
    fs::write(wt.join("notes.txt"), "mine\n").unwrap();
    assert!(matches!(
        repo.remove_incomplete_worktree(&wt, "d"),
        Err(GitError::PathExists { .. })
    ));
    assert!(wt.join("notes.txt").exists());
    fs::remove_file(wt.join("notes.txt")).unwrap();
    assert!(repo.remove_incomplete_worktree(&wt, "d").unwrap());
    assert!(!wt.exists());
    assert_git_sees_worktrees(&fx, 1);
    assert_eq!(
        fx.branches(),
        ["a", "b", "d", "main", "other"],
        "branches are the caller's"
    );
}

#[test]
fn remove_incomplete_worktree_never_takes_what_is_not_the_adds() {
    let fx = Fixture::new();
    let repo = fx.open();
    let head = fx.head();
    let interrupted = fx.repo.join(".git/worktrees/x");
    fs::create_dir_all(&interrupted).unwrap();
    fs::write(interrupted.join("locked"), "initializing\n").unwrap();

    // A folder that is another repository.
    let wt = fx.root.join("x");
    git(&fx.root, &["init", "-q", "--separate-git-dir", "elsewhere.git", "x"]);
    assert!(matches!(
        repo.remove_incomplete_worktree(&wt, "x"),
        Err(GitError::PathExists { .. })
    ));
    assert!(wt.join(".git").exists());
    assert!(interrupted.exists(), "nothing is removed when the folder is refused");
    fs::remove_dir_all(&wt).unwrap();

    // A folder with a user's file and no `.git`.
    fs::create_dir(&wt).unwrap();
    fs::write(wt.join("precious"), "keep me\n").unwrap();
    assert!(matches!(
        repo.remove_incomplete_worktree(&wt, "x"),
        Err(GitError::PathExists { .. })
    ));
    assert!(wt.join("precious").exists());
    assert!(interrupted.exists());
    fs::remove_dir_all(&wt).unwrap();

    // A folder linking back to an unlocked entry without `gitdir`: a worktree that lost that file.
    let lost = fx.repo.join(".git/worktrees/z");
    fs::create_dir(&lost).unwrap();
    fs::write(lost.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    let wt = fx.root.join("z");
    fs::create_dir(&wt).unwrap();
    fs::write(wt.join(".git"), format!("gitdir: {}\n", lost.display())).unwrap();
    fs::write(wt.join("precious"), "keep me\n").unwrap();
    assert!(matches!(
        repo.remove_incomplete_worktree(&wt, "z"),
        Err(GitError::PathExists { .. })
    ));
    assert!(wt.join("precious").exists() && lost.exists());

    // A worktree with the same id, locked by its user or registered at another folder.
    let admin = fx.repo.join(".git/worktrees/y");
    let elsewhere = fx.root.join("y-elsewhere");
    repo.add_worktree(&elsewhere, "y", "y", true, &head).unwrap();
    fs::write(admin.join("locked"), "initializing\n").unwrap();
    let wt = fx.root.join("y");
    assert!(!repo.remove_incomplete_worktree(&wt, "y").unwrap());
    assert!(admin.exists() && elsewhere.exists());
    fs::remove_dir_all(&elsewhere).unwrap();
    fs::write(admin.join("gitdir"), format!("{}\n", wt.join(".git").display())).unwrap();
    fs::write(admin.join("locked"), "on a usb stick\n").unwrap();
    assert!(!repo.remove_incomplete_worktree(&wt, "y").unwrap());
    assert!(admin.exists());
    // A finished one at `path` whose folder is gone, holding commits only on its detached HEAD.
    fs::remove_file(admin.join("locked")).unwrap();
    git(&fx.repo, &["commit", "-q", "--allow-empty", "-m", "soon unreachable"]);
    let orphan = fx.head();
    git(&fx.repo, &["reset", "-q", "--hard", "HEAD~1"]);
    fs::write(admin.join("HEAD"), format!("{orphan}\n")).unwrap();
    assert!(!repo.remove_incomplete_worktree(&wt, "y").unwrap());
    assert!(admin.exists());
    git(&fx.repo, &["branch", "keeps-it", &orphan]);
    assert!(repo.remove_incomplete_worktree(&wt, "y").unwrap());
    assert!(!admin.exists());
}
