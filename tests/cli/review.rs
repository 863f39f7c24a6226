//! Taking an agent's work (issue 14): `diff`, `merge` in each mode, merged-ness that knows squash
//! and rebase merges, `prune --merged`, `pr`.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// Commit `file` with `text` in `dir` (a shard's worktree or the main one).
fn commit(repo: &TestRepo, dir: &Path, file: &str, text: &str, message: &str) {
    fs::write(dir.join(file), text).unwrap();
    repo.git_in(dir, &["add", file]);
    repo.git_in(dir, &["commit", "-q", "-m", message]);
}

fn tip(repo: &TestRepo, rev: &str) -> String {
    repo.git(&["rev-parse", rev]).trim().to_owned()
}

fn lines(out: &str) -> Vec<&str> {
    out.lines().collect()
}

#[test]
fn diff_shows_commits_and_with_all_uncommitted_and_untracked_work() {
    let repo = TestRepo::new();
    repo.ok(&["new", "d", "--no-launch"]);
    let wt = repo.shards_dir().join("d");
    commit(&repo, &wt, "a.txt", "a\n", "add a");
    // The base moves on: its new commits are not the shard's changes.
    commit(&repo, &repo.root, "main-only.txt", "m\n", "main moves");
    fs::write(wt.join("README"), "changed, staged\n").unwrap();
    repo.git_in(&wt, &["add", "README"]);
    fs::write(wt.join("c.txt"), "untracked\n").unwrap();
    fs::write(wt.join("x.ignored"), "ignored\n").unwrap();

    assert_eq!(lines(&repo.ok(&["diff", "d", "--name-only"])), ["a.txt"]);
    assert_eq!(
        lines(&repo.ok(&["diff", "d", "--all", "--name-only"])),
        ["README", "a.txt", "c.txt"]
    );
    let stat = repo.ok(&["diff", "d", "--stat"]);
    assert!(stat.contains("a.txt") && stat.contains("1 file changed"), "{stat}");
    // git's own options pass through.
    let patch = repo.ok(&["diff", "d", "--", "--word-diff"]);
    assert!(patch.contains("{+a+}"), "{patch}");
    // What the user staged and left untracked is exactly as it was.
    assert_eq!(repo.git_in(&wt, &["diff", "--cached", "--name-only"]).trim(), "README");
    assert!(repo.git_in(&wt, &["status", "--porcelain"]).contains("?? c.txt"));
}

#[test]
fn merge_rebases_and_fast_forwards_the_checked_out_base_then_rm_deletes_the_branch() {
    let repo = TestRepo::new();
    repo.ok(&["new", "r", "--no-launch"]);
    let wt = repo.shards_dir().join("r");
    commit(&repo, &wt, "one.txt", "1\n", "one");
    commit(&repo, &wt, "two.txt", "2\n", "two");
    commit(&repo, &repo.root, "main.txt", "m\n", "main moves");
    let out = repo.run(&["merge", "r"]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("main fast-forwarded to") && err.contains("rebased first"),
        "{err}"
    );
    // main has both commits on top of its own, and its worktree has their files.
    assert_eq!(tip(&repo, "main"), tip(&repo, "shard/r"));
    assert_eq!(
        repo.git(&["log", "--format=%s", "-3", "main"]),
        "two\none\nmain moves\n"
    );
    assert!(repo.root.join("two.txt").is_file());
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    let err = String::from_utf8_lossy(&repo.run(&["rm", "r"]).stderr).into_owned();
    assert!(!err.contains("kept branch"), "{err}");
    assert!(repo.git(&["branch", "--list", "shard/r"]).is_empty());
}

#[test]
fn squash_merge_makes_one_commit_and_rm_knows_it_is_merged() {
    let repo = TestRepo::new();
    repo.ok(&["new", "s", "--no-launch"]);
    let wt = repo.shards_dir().join("s");
    commit(&repo, &wt, "one.txt", "1\n", "first step");
    commit(&repo, &wt, "two.txt", "2\n", "second step");
    let before = tip(&repo, "main");
    repo.ok(&["merge", "s", "--squash"]);
    assert_eq!(tip(&repo, "main^"), before, "one commit on main");
    let message = repo.git(&["log", "-1", "--format=%B", "main"]);
    assert!(
        message.contains("2 commit(s) from shard/s") && message.contains("* first step\n* second step"),
        "{message}"
    );
    assert!(repo.root.join("two.txt").is_file());
    let squash = tip(&repo, "main");
    let listed = repo.list();
    assert_eq!(
        listed[0]["merged"],
        format!("squash-merged into main as {}", &squash[..7])
    );
    let table = repo.ok(&["list"]);
    assert!(table.contains("shard/s (merged)"), "{table}");
    let out = repo.run(&["rm", "s"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "deleted branch 'shard/s': squash-merged into main as {}",
            &squash[..7]
        )),
        "{err}"
    );
    assert!(repo.git(&["branch", "--list", "shard/s"]).is_empty());
}

/// After a squash merge, a commit that only re-indents (a real change in Python) is work of its
/// own: patch ids that strip whitespace would call the branch merged and `rm` would delete it.
/// A branch named like a tag is merged as the branch: git's short names would take the tag.
#[test]
fn a_branch_named_like_a_tag_is_merged_as_the_branch() {
    for mode in [&["--squash"][..], &["--no-ff"], &[]] {
        let repo = TestRepo::new();
        repo.git(&["tag", "v1"]);
        repo.ok(&["new", "s", "--branch", "v1", "--no-launch"]);
        let wt = repo.shards_dir().join("s");
        commit(&repo, &wt, "one.txt", "1\n", "the work");
        let out = repo.run(&[&["merge", "s"][..], mode].concat());
        assert!(
            out.status.success(),
            "{mode:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            repo.root.join("one.txt").is_file(),
            "{mode:?}: the branch's work is in main"
        );
    }
}

#[test]
fn a_whitespace_only_fix_after_a_squash_is_not_merged() {
    let repo = TestRepo::new();
    repo.ok(&["new", "py", "--no-launch"]);
    let wt = repo.shards_dir().join("py");
    commit(&repo, &wt, "m.py", "if x:\n    a()\nb()\n", "add m.py");
    repo.ok(&["merge", "py", "--squash"]);
    commit(&repo, &wt, "m.py", "if x:\n    a()\n    b()\n", "b only when x");
    let fix = tip(&repo, "shard/py");
    assert_eq!(repo.list()[0]["merged"], Value::Null, "the fix is not in main");
    let out = repo.run(&["rm", "py"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kept branch 'shard/py'"), "{err}");
    assert_eq!(tip(&repo, "shard/py"), fix, "rm took an unmerged fix");
}

#[test]
fn no_ff_into_a_branch_nobody_has_checked_out() {
    let repo = TestRepo::new();
    repo.git(&["branch", "release"]);
    repo.ok(&["new", "n", "--no-launch"]);
    let wt = repo.shards_dir().join("n");
    commit(&repo, &wt, "n.txt", "n\n", "work");
    let worktrees = repo.git(&["worktree", "list"]).lines().count();
    let main_before = tip(&repo, "main");
    repo.ok(&["merge", "n", "--into", "release", "--no-ff", "-m", "Take n"]);
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s %p", "release"]).split(' ').count(),
        4,
        "two parents"
    );
    assert_eq!(repo.git(&["log", "-1", "--format=%s", "release"]).trim(), "Take n");
    assert_eq!(tip(&repo, "release^2"), tip(&repo, "shard/n"));
    assert_eq!(
        repo.git(&["worktree", "list"]).lines().count(),
        worktrees,
        "no worktree left behind"
    );
    assert_eq!(tip(&repo, "main"), main_before, "main untouched");
}

#[test]
fn a_conflict_leaves_every_branch_and_worktree_as_it_was() {
    let repo = TestRepo::new();
    repo.ok(&["new", "c", "--no-launch"]);
    let wt = repo.shards_dir().join("c");
    commit(&repo, &wt, "README", "shard's words\n", "shard edits");
    commit(&repo, &repo.root, "README", "main's words\n", "main edits");
    let (main_before, shard_before) = (tip(&repo, "main"), tip(&repo, "shard/c"));
    for mode in [&[][..], &["--squash"][..], &["--no-ff"][..]] {
        let mut args = vec!["merge", "c"];
        args.extend_from_slice(mode);
        let err = repo.refused(&args);
        assert!(
            err.contains("conflicts in README") && err.contains("nothing changed") && err.contains("git shard path c"),
            "{mode:?}: {err}"
        );
        assert_eq!(
            (tip(&repo, "main"), tip(&repo, "shard/c")),
            (main_before.clone(), shard_before.clone())
        );
        assert_eq!(repo.git(&["status", "--porcelain"]), "", "{mode:?}");
        assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "", "{mode:?}");
        let git_dir = repo.git_in(&wt, &["rev-parse", "--absolute-git-dir"]);
        assert!(
            !Path::new(git_dir.trim()).join("rebase-merge").exists(),
            "no rebase left half done"
        );
        assert!(
            !repo.common_dir().join("MERGE_HEAD").exists(),
            "no merge left half done"
        );
    }
}

#[test]
fn uncommitted_work_is_refused_or_committed_first() {
    let repo = TestRepo::new();
    repo.ok(&["new", "u", "--no-launch"]);
    let wt = repo.shards_dir().join("u");
    fs::write(wt.join("new.txt"), "work\n").unwrap();
    let err = repo.refused(&["merge", "u"]);
    assert!(
        err.contains("uncommitted work") && err.contains("--commit-all"),
        "{err}"
    );
    // The target's own uncommitted changes are refused too.
    fs::write(repo.root.join("README"), "dirty main\n").unwrap();
    let err = repo.refused(&["merge", "u", "--commit-all"]);
    assert!(
        err.contains("'main' is checked out") && err.contains("uncommitted changes"),
        "{err}"
    );
    repo.git(&["checkout", "--", "README"]);
    repo.ok(&["merge", "u", "--commit-all", "--rm"]);
    assert!(repo.root.join("new.txt").is_file());
    assert!(!wt.exists(), "--rm removed the shard");
    assert!(repo.git(&["branch", "--list", "shard/u"]).is_empty());
}

#[test]
fn rebase_merged_branches_are_deleted_and_one_more_commit_keeps_a_branch() {
    let repo = TestRepo::new();
    for name in ["picked", "more", "open", "single"] {
        repo.ok(&["new", name, "--no-launch"]);
        let wt = repo.shards_dir().join(name);
        commit(&repo, &wt, &format!("{name}.txt"), "x\n", &format!("{name} work"));
    }
    let picked = repo.shards_dir().join("picked");
    commit(&repo, &picked, "picked2.txt", "y\n", "picked, more work");
    commit(&repo, &repo.root, "main.txt", "m\n", "main moves");
    // A forge's "rebase and merge": the commits are copied onto main with new ids.
    repo.git(&["cherry-pick", "shard/picked~1", "shard/picked"]);
    repo.git(&["cherry-pick", "shard/more"]);
    // One commit copied is one target commit with the whole change: named as a squash.
    repo.git(&["cherry-pick", "shard/single"]);
    let single = tip(&repo, "main");
    let more = repo.shards_dir().join("more");
    commit(&repo, &more, "later.txt", "later\n", "a commit after the merge");

    let dry = repo.ok(&["prune", "--merged", "--dry-run"]);
    assert!(
        dry.contains("would remove-merged: picked (rebase-merged into main)"),
        "{dry}"
    );
    assert!(
        dry.contains(&format!(
            "would remove-merged: single (squash-merged into main as {})",
            &single[..7]
        )),
        "{dry}"
    );
    assert!(!dry.contains("more") && !dry.contains("open"), "{dry}");
    assert!(repo.shards_dir().join("picked").is_dir(), "dry run changed nothing");

    let err = String::from_utf8_lossy(&repo.run(&["rm", "more"]).stderr).into_owned();
    assert!(err.contains("kept branch 'shard/more'"), "{err}");
    repo.ok(&["prune", "--merged"]);
    assert!(!repo.shards_dir().join("picked").exists());
    assert!(repo.git(&["branch", "--list", "shard/picked"]).is_empty());
    let names: Vec<Value> = repo.list().iter().map(|v| v["name"].clone()).collect();
    assert_eq!(names, ["open"]);
}

#[test]
fn prune_merged_keeps_a_merged_shard_with_work_or_a_running_agent() {
    let repo = TestRepo::new();
    repo.ok(&["new", "busy", "--", "sleep", "300"]);
    repo.ok(&["new", "dirty", "--no-launch"]);
    // Both have work that main has merged.
    for name in ["busy", "dirty"] {
        commit(
            &repo,
            &repo.shards_dir().join(name),
            &format!("{name}.txt"),
            "x\n",
            "work",
        );
        repo.git(&["merge", "-q", "--no-edit", &format!("shard/{name}")]);
    }
    fs::write(repo.shards_dir().join("dirty/notes.txt"), "mine\n").unwrap();
    let out = repo.ok(&["prune", "--merged", "--dry-run"]);
    assert!(
        out.contains("kept-merged: busy") && out.contains("its agent is running"),
        "{out}"
    );
    assert!(out.contains("kept-merged: dirty"), "{out}");
    repo.ok(&["prune", "--merged"]);
    assert_eq!(repo.list().len(), 2);
    repo.ok(&["stop", "busy"]);
}

/// A fake `gh`: records each call's arguments in `$GH_CALLS`; `pr list` answers with `$GH_MERGED`.
pub const FAKE_GH: &str = r#"#!/bin/sh
printf '%s\n' "$*" >> "$GH_CALLS"
case "$1 $2" in
  "pr list") cat "$GH_MERGED" 2>/dev/null || echo '[]' ;;
esac
"#;

#[test]
fn pr_pushes_and_opens_a_pull_request_with_gh_and_prune_counts_it_once_merged() {
    let repo = TestRepo::new();
    let remote = repo.tmp.path().join("remote.git");
    repo.git(&["init", "-q", "--bare", remote.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    repo.ok(&["new", "p", "--no-launch"]);
    commit(&repo, &repo.shards_dir().join("p"), "p.txt", "p\n", "p work");

    let err = repo.refused(&["pr", "p"]);
    assert!(
        err.contains("neither `gh` nor `glab`") && err.contains("git push -u origin shard/p"),
        "{err}"
    );

    let path = crate::activity::install_fake(&repo, "gh", FAKE_GH);
    let calls = repo.tmp.path().join("gh-calls");
    let merged = repo.tmp.path().join("gh-merged");
    let with_gh = |args: &[&str]| {
        repo.command_in(&repo.root, args)
            .env("PATH", &path)
            .env("GH_CALLS", &calls)
            .env("GH_MERGED", &merged)
            .output()
            .unwrap()
    };
    let out = with_gh(&["pr", "p", "--", "--draft"]);
    assert!(out.status.success(), "{out:?}");
    let pushed = repo.git(&["--git-dir", remote.to_str().unwrap(), "rev-parse", "refs/heads/shard/p"]);
    assert_eq!(pushed.trim(), tip(&repo, "shard/p"));
    assert_eq!(
        fs::read_to_string(&calls).unwrap(),
        "pr create --head shard/p --base main --fill --draft\n"
    );

    // A second shard, whose teardown commits once more after the forge's answer.
    repo.ok(&["new", "q", "--no-launch"]);
    commit(&repo, &repo.shards_dir().join("q"), "q.txt", "q\n", "q work");
    repo.user_config("teardown = [{ sh = \"[ {name} != q ] || git commit -q --allow-empty -m 'late work'\" }]\n");
    // The forge merged both (squashed there; the local main knows nothing of it yet).
    fs::write(
        &merged,
        format!(
            r#"[{{"headRefName":"shard/p","headRefOid":"{}"}},{{"headRefName":"shard/q","headRefOid":"{}"}}]"#,
            tip(&repo, "shard/p"),
            tip(&repo, "shard/q")
        ),
    )
    .unwrap();
    let dry = String::from_utf8_lossy(&with_gh(&["prune", "--merged", "--dry-run"]).stdout).into_owned();
    assert!(
        dry.contains("would remove-merged: p (its pull request was merged on GitHub)"),
        "{dry}"
    );
    let out = with_gh(&["prune", "--merged"]);
    assert!(out.status.success(), "{out:?}");
    assert!(repo.list().is_empty());
    assert!(repo.git(&["branch", "--list", "shard/p"]).is_empty());
    // q's branch moved after the forge's answer: its new commit is not merged anywhere.
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s", "shard/q"]).trim(),
        "late work",
        "the branch that moved was kept"
    );
}

#[test]
fn merge_refuses_a_shard_off_its_branch_or_in_the_middle_of_a_rebase() {
    let repo = TestRepo::new();
    repo.ok(&["new", "w", "--no-launch"]);
    let wt = repo.shards_dir().join("w");
    commit(&repo, &wt, "w.txt", "w\n", "w work");
    commit(&repo, &repo.root, "main.txt", "m\n", "main moves");
    let main_before = tip(&repo, "main");
    // The agent switched branches in its worktree.
    repo.git_in(&wt, &["switch", "-q", "-c", "elsewhere"]);
    let err = repo.refused(&["merge", "w"]);
    assert!(
        err.contains("not on its branch 'shard/w' (it is on elsewhere)"),
        "{err}"
    );
    assert_eq!(tip(&repo, "main"), main_before);
    repo.git_in(&wt, &["switch", "-q", "shard/w"]);
    // The user paused an interactive rebase there: ours must not abort theirs.
    commit(&repo, &wt, "w2.txt", "w2\n", "more w work");
    let out = repo.git_output_in(
        &wt,
        &[
            "-c",
            "sequence.editor=sed -i 1s/^pick/edit/",
            "rebase",
            "-q",
            "-i",
            "HEAD~2",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let err = repo.refused(&["merge", "w"]);
    assert!(err.contains("in the middle of a rebase"), "{err}");
    let git_dir = repo.git_in(&wt, &["rev-parse", "--absolute-git-dir"]);
    assert!(
        Path::new(git_dir.trim()).join("rebase-merge").exists(),
        "the user's rebase is still there"
    );
    assert_eq!(tip(&repo, "main"), main_before);
}

#[test]
fn a_branch_git_cannot_judge_is_kept_and_the_shard_still_goes() {
    let repo = TestRepo::new();
    // A file whose name is not UTF-8: its change must still be found missing from main.
    repo.ok(&["new", "odd", "--no-launch"]);
    let wt = repo.shards_dir().join("odd");
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"\xff.txt");
        fs::write(wt.join(name), "bytes\n").unwrap();
    }
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "odd name"]);
    let err = String::from_utf8_lossy(&repo.run(&["rm", "odd"]).stderr).into_owned();
    assert!(err.contains("kept branch 'shard/odd'"), "{err}");
    // The base branch is gone: the removal finishes and the branch stays.
    repo.git(&["branch", "dev"]);
    repo.ok(&["new", "orphan", "--base", "dev", "--no-launch"]);
    commit(&repo, &repo.shards_dir().join("orphan"), "o.txt", "o\n", "o work");
    repo.git(&["branch", "-D", "dev"]);
    let out = repo.run(&["rm", "orphan"]);
    assert!(out.status.success(), "{out:?}");
    assert!(!repo.git(&["branch", "--list", "shard/orphan"]).is_empty());
    assert!(repo.list().is_empty());
    // A fresh shard has no work of its own: not merged, and prune --merged leaves it.
    repo.ok(&["new", "fresh", "--no-launch"]);
    assert_eq!(repo.list()[0]["merged"], Value::Null);
    let dry = repo.ok(&["prune", "--merged", "--dry-run"]);
    assert!(!dry.contains("fresh"), "{dry}");
}

/// A user's settings that change what plain `git merge` and `git rebase` do must not change what
/// `git shard merge` does: `merge.ff=false` (git refuses `--squash` with it) and
/// `rebase.updateRefs` (which would move the user's own branches pointing into the shard's).
#[test]
fn merge_is_the_same_under_a_users_merge_and_rebase_settings() {
    let repo = TestRepo::new();
    repo.git(&["config", "merge.ff", "false"]);
    repo.git(&["config", "rebase.updateRefs", "true"]);
    repo.ok(&["new", "a", "--no-launch"]);
    let wt = repo.shards_dir().join("a");
    commit(&repo, &wt, "a.txt", "a\n", "a work");
    repo.git(&["branch", "keep", "shard/a"]);
    let keep = tip(&repo, "keep");
    commit(&repo, &repo.root, "main.txt", "m\n", "main moves");
    repo.ok(&["merge", "a"]);
    assert_eq!(tip(&repo, "main"), tip(&repo, "shard/a"));
    assert_eq!(tip(&repo, "keep"), keep, "the user's branch stayed where it was");

    repo.ok(&["new", "s", "--no-launch"]);
    commit(&repo, &repo.shards_dir().join("s"), "s.txt", "s\n", "s work");
    let before = tip(&repo, "main");
    repo.ok(&["merge", "s", "--squash"]);
    assert_eq!(tip(&repo, "main^"), before, "one squash commit on main");
}

#[test]
fn merge_refuses_a_target_being_bisected() {
    let repo = TestRepo::new();
    commit(&repo, &repo.root, "m1.txt", "1\n", "m1");
    commit(&repo, &repo.root, "m2.txt", "2\n", "m2");
    repo.ok(&["new", "b", "--no-launch"]);
    commit(&repo, &repo.shards_dir().join("b"), "b.txt", "b\n", "b work");
    let main = tip(&repo, "main");
    repo.git(&["bisect", "start", "main", "main~2"]);
    let head = tip(&repo, "HEAD");
    for mode in [&[][..], &["--squash"][..]] {
        let err = repo.refused(&[&["merge", "b"][..], mode].concat());
        assert!(err.contains("in the middle of a bisect"), "{err}");
    }
    assert_eq!((tip(&repo, "main"), tip(&repo, "HEAD")), (main, head));
    repo.git(&["bisect", "reset"]);
}

#[test]
fn a_fast_forward_that_fails_puts_the_shards_branch_back() {
    let repo = TestRepo::new();
    repo.ok(&["new", "u", "--no-launch"]);
    let wt = repo.shards_dir().join("u");
    commit(&repo, &wt, "new.txt", "from the shard\n", "u work");
    commit(&repo, &repo.root, "main.txt", "m\n", "main moves");
    // An untracked file in main's worktree that the fast-forward would overwrite.
    fs::write(repo.root.join("new.txt"), "the user's\n").unwrap();
    let (main, branch) = (tip(&repo, "main"), tip(&repo, "shard/u"));
    let err = repo.refused(&["merge", "u"]);
    assert!(err.contains("was put back as it was"), "{err}");
    assert_eq!((tip(&repo, "main"), tip(&repo, "shard/u")), (main, branch));
    assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "");
    assert_eq!(fs::read_to_string(repo.root.join("new.txt")).unwrap(), "the user's\n");
}

#[test]
fn a_shard_started_from_a_commit_needs_into_for_merge_and_pr_and_diffs_against_that_commit() {
    let repo = TestRepo::new();
    let start = tip(&repo, "main");
    repo.ok(&["new", "c", "--base", &start, "--no-launch"]);
    commit(&repo, &repo.shards_dir().join("c"), "c.txt", "c\n", "c work");
    for cmd in ["merge", "pr"] {
        let err = repo.refused(&[cmd, "c"]);
        assert!(
            err.contains("started from a commit, not a branch") && err.contains("--into <branch>"),
            "{cmd}: {err}"
        );
    }
    assert_eq!(lines(&repo.ok(&["diff", "c", "--name-only"])), ["c.txt"]);
    // A shard whose base branch was deleted since: compared with the commit it started from.
    repo.git(&["branch", "release"]);
    repo.ok(&["new", "r", "--base", "release", "--no-launch"]);
    commit(&repo, &repo.shards_dir().join("r"), "r.txt", "r\n", "r work");
    repo.git(&["branch", "-D", "release"]);
    assert_eq!(lines(&repo.ok(&["diff", "r", "--name-only"])), ["r.txt"]);
}

/// `diff` runs where the user is, as their own `git diff` would: `.gitattributes` (a textconv
/// driver here) applies and paths are relative to that folder.
#[test]
fn diff_applies_gitattributes_and_takes_paths_from_where_the_user_is() {
    let repo = TestRepo::new();
    fs::write(repo.root.join(".gitattributes"), "*.up diff=up\n").unwrap();
    repo.git(&["add", ".gitattributes"]);
    repo.git(&["commit", "-q", "-m", "attributes"]);
    repo.git(&["config", "diff.up.textconv", "tr a-z A-Z <"]);
    repo.ok(&["new", "t", "--no-launch"]);
    let wt = repo.shards_dir().join("t");
    fs::create_dir_all(wt.join("sub")).unwrap();
    commit(&repo, &wt, "sub/a.up", "hello\n", "a");
    commit(&repo, &wt, "b.txt", "b\n", "b");
    let patch = repo.ok(&["diff", "t"]);
    assert!(patch.contains("+HELLO"), "{patch}");
    fs::create_dir_all(repo.root.join("sub")).unwrap();
    let out = repo
        .command_in(
            &repo.root.join("sub"),
            &["diff", "t", "--name-only", "--", "--", "a.up"],
        )
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sub/a.up\n", "{out:?}");
}
