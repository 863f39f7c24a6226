//! Revisions and branches, through git itself: every ref backend (files, reftable) and object
//! format (SHA-1, SHA-256) git supports, with git's own name rules and ambiguity order.
//!
//! Reads cost one `git` process each (about a millisecond); they run in `new`, `rm` and `prune`,
//! which also run a worktree command that costs far more. Two checks stay in-process because they
//! are plain file reads with the files backend: whether a worktree's HEAD is on a branch, and which
//! worktree holds a branch; with reftable, where HEAD files are stubs, git answers those too.
//! `list` reads every branch's tip the same way ([`Repo::branch_tips`]): files where they settle
//! it, git where they do not.

use std::fs;
use std::path::{Path, PathBuf};

use super::admin::{Admin, Head, Holds, holds_branch};
use super::cmd::Git;
use super::{Base, GitError, Repo};

impl Repo {
    /// The base of a new shard: `rev` (branch, tag, commit, `HEAD~2`, `origin/main`, resolved in
    /// git's order) or, when `None`, the HEAD of where git-shard was called. `refname` is set when
    /// `rev` names a local branch, or is `None`/`HEAD` and HEAD is on one.
    pub fn resolve_base(&self, rev: Option<&str>) -> Result<Base, GitError> {
        let rev = rev.unwrap_or("HEAD");
        if rev.starts_with('-') || rev.is_empty() {
            return Err(GitError::BadRevision { rev: rev.to_owned() });
        }
        // One process: the commit, then (informative: which branch the shard forked from) the
        // full name, which is empty for what is not a ref (`HEAD~2`, a commit id) and for a name
        // that git finds ambiguous (a tag shadowing a branch).
        let out = self
            .git()
            .arg("rev-parse")
            .arg(format!("{rev}^{{commit}}"))
            .args(["--symbolic-full-name", rev, "--"])
            .read();
        let out = match out {
            Ok(out) => out,
            Err(GitError::Failed { .. }) if rev == "HEAD" => return Err(GitError::NoCommits),
            Err(GitError::Failed { .. }) => return Err(GitError::BadRevision { rev: rev.to_owned() }),
            Err(e) => return Err(e),
        };
        let mut lines = out.lines();
        let commit = lines.next().unwrap_or_default().to_owned();
        let refname = lines
            .next()
            .filter(|name| name.starts_with("refs/heads/"))
            .map(str::to_owned);
        Ok(Base { refname, commit })
    }

    /// Refuse what git would not take as a new branch name (`git check-ref-format --branch`),
    /// including the `@{-1}` shorthands, which name another branch than they spell.
    pub fn check_branch_name(&self, branch: &str) -> Result<(), GitError> {
        let invalid = || GitError::InvalidBranchName {
            branch: branch.to_owned(),
        };
        if branch.starts_with('-') {
            return Err(invalid());
        }
        match self.git().args(["check-ref-format", "--branch", branch]).read() {
            Ok(out) if out.trim_end_matches('\n') == branch => Ok(()),
            Ok(_) | Err(GitError::Failed { .. }) => Err(invalid()),
            Err(e) => Err(e),
        }
    }

    /// The commit `refs/heads/<branch>` points to, `None` when there is no such branch.
    pub fn branch_tip(&self, branch: &str) -> Result<Option<String>, GitError> {
        Ok(self
            .repository()
            .args(["rev-parse", "--verify", "--quiet"])
            .arg(format!("refs/heads/{branch}^{{commit}}"))
            .ask()?
            .map(|tip| tip.trim().to_owned()))
    }

    pub fn branch_exists(&self, branch: &str) -> Result<bool, GitError> {
        Ok(self.branch_tip(branch)?.is_some())
    }

    /// The worktree (main or linked) that has `branch` checked out, or is rebasing or bisecting
    /// it, which git counts as checked out too.
    pub fn branch_checked_out_at(&self, branch: &str) -> Result<Option<PathBuf>, GitError> {
        let wanted = format!("refs/heads/{branch}");
        let mut holders = vec![(self.common_dir(), self.main_worktree())];
        for admin in Admin::list(&self.common_dir()).map_err(|e| self.io(e))? {
            if let Some(path) = admin.worktree().map_err(|e| self.io(e))? {
                holders.push((admin.dir, path));
            }
        }
        let mut reftable = false;
        for (git_dir, path) in &holders {
            match holds_branch(git_dir, &wanted) {
                Holds::Yes => return Ok(Some(path.clone())),
                Holds::No => {}
                Holds::AskGit => reftable = true,
            }
        }
        if !reftable {
            return Ok(None);
        }
        // Reftable: HEAD lives in the ref store, so ask git for every worktree's branch.
        let list = self
            .repository()
            .args(["worktree", "list", "--porcelain", "-z"])
            .read_bytes()?;
        let list = String::from_utf8_lossy(&list);
        let mut path = None;
        for field in list.split('\0') {
            if let Some(p) = field.strip_prefix("worktree ") {
                path = Some(PathBuf::from(p));
            } else if field.strip_prefix("branch ") == Some(wanted.as_str()) {
                return Ok(path);
            }
        }
        Ok(None)
    }

    /// The ref HEAD of the linked worktree `admin` (rooted at `worktree`) is on, `None` when
    /// detached. The HEAD file says it, except with reftable, where git is asked.
    pub fn worktree_head_ref(&self, admin: &Admin, worktree: &Path) -> Result<Option<String>, GitError> {
        match admin.head() {
            Head::Ref(name) => return Ok(Some(name)),
            Head::Detached => return Ok(None),
            Head::Reftable => {}
        }
        Ok(Git::on_worktree(worktree)
            .args(["symbolic-ref", "--quiet", "HEAD"])
            .ask()?
            .map(|r| r.trim().to_owned()))
    }

    /// Delete `refs/heads/<branch>` only while it still points at `tip` (the commit the caller
    /// judged), then its `branch.<name>.*` configuration, as `git branch -D` does. Refuses a
    /// branch that a worktree has checked out.
    pub fn delete_branch(&self, branch: &str, tip: &str) -> Result<(), GitError> {
        if let Some(path) = self.branch_checked_out_at(branch)? {
            return Err(GitError::BranchCheckedOut {
                branch: branch.to_owned(),
                path,
            });
        }
        self.repository()
            .own_group()
            .args(["update-ref", "-m", "git-shard: delete branch", "-d"])
            .arg(format!("refs/heads/{branch}"))
            .arg(tip)
            .read()?;
        if self.has_branch_section(branch) {
            self.repository()
                .own_group()
                .args(["config", "--remove-section"])
                .arg(format!("branch.{branch}"))
                .read()?;
        }
        Ok(())
    }

    /// Remove the lock file of `refs/heads/<branch>` that a killed git left behind: the
    /// `git reset --hard` inside `git worktree add` moves the new branch (HEAD names it), and a
    /// kill in the middle of that leaves `<branch>.lock`, after which git refuses to touch the
    /// branch until someone removes it. Only for the branch of a `new` whose git processes are
    /// known to be dead, under the shard's lock: nothing else writes that branch then. With
    /// reftable there is no such file.
    pub fn clear_stale_branch_lock(&self, branch: &str) -> Result<bool, GitError> {
        // The name comes from a record anyone can edit: one plain relative path, nothing more.
        if !Path::new(branch)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return Ok(false);
        }
        let lock = self.common_dir().join("refs/heads").join(format!("{branch}.lock"));
        match fs::remove_file(&lock) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(GitError::Io {
                context: format!("cannot remove {}", lock.display()),
                source: e,
            }),
        }
    }

    /// Whether the repository's config file has a `[branch "<branch>"]` section (upstream,
    /// description, …) that deleting the branch must take along. `git config --remove-section`
    /// edits that one file, so reading it tells exactly whether there is something to remove.
    fn has_branch_section(&self, branch: &str) -> bool {
        let quoted = branch.replace('\\', "\\\\").replace('"', "\\\"");
        let header = format!("[branch \"{quoted}\"]");
        fs::read_to_string(self.common_dir().join("config"))
            .is_ok_and(|text| text.lines().any(|l| l.trim_start().starts_with(&header)))
    }
}

impl Repo {
    /// Every branch's tip, by full ref name (`refs/heads/…` → object id): read from the files
    /// backend's loose refs and `packed-refs` (a loose ref wins, as in git), for `list`, which
    /// shows every shard's merged state; from `git for-each-ref` wherever the files do not settle
    /// it (reftable, a symbolic ref, anything unexpected).
    pub fn branch_tips(&self) -> Result<std::collections::BTreeMap<String, String>, GitError> {
        if let Some(tips) = branch_tips_from_files(&self.common_dir()) {
            return Ok(tips);
        }
        let out = self
            .repository()
            .args(["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"])
            .read()?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(id, name)| (name.to_owned(), id.to_owned()))
            .collect())
    }
}

/// The files backend's branches, or `None` when anything is not as that backend writes it.
fn branch_tips_from_files(common: &Path) -> Option<std::collections::BTreeMap<String, String>> {
    // reftable keeps a stub `refs/heads` and its tables under `reftable/`.
    if common.join("reftable").exists() {
        return None;
    }
    let mut tips = std::collections::BTreeMap::new();
    match fs::read_to_string(common.join("packed-refs")) {
        Ok(text) => {
            for line in text.lines().filter(|l| !l.starts_with('#') && !l.starts_with('^')) {
                let (id, name) = line.split_once(' ')?;
                if name.starts_with("refs/heads/") {
                    super::is_object_id(id).then_some(())?;
                    tips.insert(name.to_owned(), id.to_owned());
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) => return None,
    }
    let mut folders = vec![(common.join("refs/heads"), "refs/heads".to_owned())];
    while let Some((dir, name)) = folders.pop() {
        for entry in fs::read_dir(&dir).ok()? {
            let entry = entry.ok()?;
            let child = format!("{name}/{}", entry.file_name().to_str()?);
            let kind = entry.file_type().ok()?;
            if kind.is_dir() {
                folders.push((entry.path(), child));
            } else if kind.is_file() {
                // `<name>.lock`: a ref being written; git ignores it, so do we.
                if child.ends_with(".lock") {
                    continue;
                }
                let text = crate::fsutil::read_small_text(&entry.path()).ok()?;
                let id = text.trim_end();
                super::is_object_id(id).then_some(())?;
                tips.insert(child, id.to_owned());
            } else {
                return None;
            }
        }
    }
    Some(tips)
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    /// The files are read as git reads them: loose refs (nested names too) over packed ones, with
    /// git's own answer as the reference; with reftable, there are no files to read.
    #[test]
    fn branch_tips_from_files_match_git() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .args(args)
                .current_dir(dir.path())
                // Not the repository a caller's environment names (a hook's GIT_DIR, say).
                .env_remove("GIT_DIR")
                .env_remove("GIT_WORK_TREE")
                .env_remove("GIT_INDEX_FILE")
                .env_remove("GIT_COMMON_DIR")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@t")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@t")
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {out:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        git(&["init", "-q", "-b", "main"]);
        git(&["commit", "-q", "--allow-empty", "-m", "one"]);
        git(&["branch", "packed/old"]);
        git(&["pack-refs", "--all"]);
        git(&["commit", "-q", "--allow-empty", "-m", "two"]);
        git(&["branch", "shard/nested/x"]);
        git(&["tag", "v1"]);
        let from_git: std::collections::BTreeMap<String, String> =
            git(&["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/"])
                .lines()
                .filter_map(|l| l.split_once(' '))
                .map(|(n, id)| (n.to_owned(), id.to_owned()))
                .collect();
        let common = dir.path().join(".git");
        assert_eq!(super::branch_tips_from_files(&common).unwrap(), from_git);
        assert_eq!(
            from_git.len(),
            3,
            "main (loose, over its packed copy), packed/old, shard/nested/x"
        );
        std::fs::create_dir(common.join("reftable")).unwrap();
        assert_eq!(super::branch_tips_from_files(&common), None);
    }
}
