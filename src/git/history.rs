//! What removing a shard could lose, counted by `git rev-list`: commits on its branch that its
//! base lacks, and commits that only its worktree's detached HEAD holds.

use std::path::Path;

use super::admin::Admin;
use super::cmd::Git;
use super::{GitError, Repo};

impl Repo {
    /// Number of commits reachable from `tip` but not from `base` (a ref name like
    /// `refs/heads/main`, or a commit). When `base` no longer resolves, `base_commit` is used.
    pub fn commits_not_in(&self, tip: &str, base: &str, base_commit: &str) -> Result<usize, GitError> {
        let base = match self
            .repository()
            .args(["rev-parse", "--verify", "--quiet"])
            .arg(format!("{base}^{{commit}}"))
            .ask()?
        {
            Some(id) => id.trim().to_owned(),
            None => base_commit.to_owned(),
        };
        let count = self
            .repository()
            .args(["rev-list", "--count", tip])
            .arg(format!("^{base}"))
            .read()?;
        parse_count(&count)
    }

    /// Number of commits that removing the linked worktree `admin` (rooted at `worktree`) would
    /// lose: those its detached HEAD reaches but no ref (branches, tags, remote-tracking branches,
    /// the stash, notes, …) and no other worktree's HEAD does. `git worktree remove` lets those go;
    /// git-shard never loses work. A HEAD on a branch gives 0: the branch keeps its commits (and an
    /// unborn branch has none). This worktree's own per-worktree refs (`refs/bisect/`,
    /// `refs/worktree/`) go with it, so they keep nothing.
    pub fn unreachable_head_commits(&self, admin: &Admin, worktree: &Path) -> Result<usize, GitError> {
        // A HEAD on a branch is answered by the HEAD file (or git, with reftable); a detached
        // HEAD, or one on a per-worktree ref, is resolved by git in the worktree itself.
        if self
            .worktree_head_ref(admin, worktree)?
            .is_some_and(|name| name.starts_with("refs/heads/"))
        {
            return Ok(0);
        }
        let tip = Git::on_worktree(worktree)
            .args(["rev-parse", "--verify", "--quiet", "HEAD"])
            .ask()?;
        let Some(tip) = tip.map(|id| id.trim().to_owned()) else {
            return Ok(0);
        };
        // From the common dir, `--all` is every shared ref, the main worktree's HEAD and every
        // linked worktree's HEAD (git's `other_head_refs`), less the one being removed.
        let count = self
            .repository()
            .args(["rev-list", "--count", &tip, "--not"])
            .arg(format!("--exclude=worktrees/{}/HEAD", admin.id))
            .arg("--all")
            .read()?;
        parse_count(&count)
    }

    /// git on the repository as a whole (see `cmd`).
    pub(crate) fn repository(&self) -> Git {
        Git::on_repository(&self.common_dir())
    }
}

fn parse_count(out: &str) -> Result<usize, GitError> {
    out.trim().parse().map_err(|_| GitError::Failed {
        command: "git rev-list --count".into(),
        message: format!("unexpected output: {out:?}"),
    })
}
