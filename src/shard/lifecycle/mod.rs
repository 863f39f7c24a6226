//! A shard's life, in one place: its worktree and branch (this file: made by `new`, taken apart
//! by `rm` and `prune`, and what a killed `new` or `rm` left, undone or finished), its runs
//! (`run`: launch, cancel, stop, git-shard's worktree lock) and reconciliation with what git says
//! (`reconcile`). Commands parse, call these, and print; they never call each other.
//!
//! git does the work (`git branch`, `git worktree add`, `git worktree remove`; see `crate::git`);
//! this module decides when, and keeps the record able to say what is going on at any instant:
//!
//! - The record goes first and leaves last: `new` writes it (`incomplete`) before git creates
//!   anything, `rm` marks it `removing` before git deletes anything, and it is removed only when
//!   nothing of the shard is left. A crash at any point leaves a record naming what remains.
//! - Every git process that changes the shard's branch or worktree is on record (`git_process`)
//!   before it starts (`process::gate`). A killed `new` or `rm` does not kill its git, which goes on
//!   and finishes; recovery waits for it (bounded) before judging what is there, so it never undoes
//!   half of what a live git is still doing. The caller holds the shard's lock throughout.
//! - While git adds the worktree, git itself keeps it locked with a reason naming the shard
//!   ([`adding_reason`]): a plain `git worktree prune` leaves it alone, and what a killed add left
//!   is recognised as this add's, whatever the locale.
//! - Nothing is deleted without proof that it is the shard's: a folder only as the worktree git
//!   registered under the record's id, linking back to it (never through a symlink); a branch only
//!   while it points at the commit that was judged (safety rules 3 and 7).

mod error;
pub mod prepare;
pub mod prune;
pub mod reconcile;
pub mod remove;
pub mod run;

pub use error::LifecycleError;

use std::path::Path;
use std::process::{Command, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use super::record::GitProcess;
use super::{Record, ShardName};
use crate::context::Workspace;
use crate::error::Result;
use crate::git::admin::Admin;
use crate::git::lock;
use crate::git::worktree::comparable_path;
use crate::process::gate::Group;
use crate::process::{self, Liveness};

/// How long recovery waits for a git process that a killed `new` or `rm` left at work.
const GIT_WAIT: Duration = Duration::from_secs(60);

/// The lock git holds on a worktree while `new` adds it.
pub fn adding_reason(name: &str) -> String {
    format!("{}adding the worktree of shard '{name}'", lock::REASON_PREFIX)
}

/// Run a git command for `record`'s shard with its identity on record first (see the module docs).
fn run_recorded(
    ws: &Workspace,
    record: &mut Record,
    (cmd, what): (Command, String),
    group: Group,
) -> Result<ExitStatus> {
    let failed = |source| LifecycleError::Spawn {
        what: what.clone(),
        source,
    };
    let mut gated = process::gate::start(&cmd, group).map_err(failed)?;
    record.git_process = Some(GitProcess::new(&gated.identity));
    ws.store.write(record)?;
    gated.release().map_err(failed)?;
    Ok(gated.wait().map_err(failed)?)
}

/// The error for a git command that failed; git has said why on standard error already.
fn git_failed(what: &str, status: ExitStatus, name: &str) -> LifecycleError {
    LifecycleError::GitFailed {
        what: what.to_owned(),
        status,
        name: name.to_owned(),
    }
}

fn unlock_failed(name: &str) -> impl FnOnce(std::io::Error) -> LifecycleError {
    move |source| LifecycleError::Unlock {
        name: name.to_owned(),
        source,
    }
}

/// Wait while the git process a killed `new` or `rm` left is still at work.
pub fn wait_for_git(record: &Record) -> Result<()> {
    let Some(git) = &record.git_process else {
        return Ok(());
    };
    let id = git.identity();
    let deadline = Instant::now() + GIT_WAIT;
    while process::check(&id) == Liveness::Alive {
        if Instant::now() >= deadline {
            return Err(LifecycleError::GitAtWork {
                name: record.name.clone(),
                pid: id.pid,
            }
            .into());
        }
        thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Create the shard's branch (when the record says `new` creates it) and its worktree, exactly as
/// `git worktree add -b <branch> <path> <start>` does: `git branch <branch> <start>`, then
/// `git worktree add <path> <branch>`. On success the record holds the worktree's id and path as
/// git registered them and is complete. On failure whatever this call created is removed again
/// (git removes a worktree it could not finish itself), and the record is left to the caller.
pub fn create(ws: &Workspace, record: &mut Record, start: &str) -> Result<()> {
    let name = record.name.clone();
    if record.created_branch {
        let cmd = ws.repo.create_branch_command(&record.branch, start);
        let what = cmd.1.clone();
        // In a group of its own: a kill of `new`'s group must not leave git's ref lock behind.
        let status = run_recorded(ws, record, cmd, Group::Own)?;
        if !status.success() {
            // Not ours: a racing `new` may have made this branch. Leave it.
            record.created_branch = false;
            return Err(git_failed(&what, status, &name).into());
        }
    }
    let reason = adding_reason(&name);
    let cmd = ws.repo.add_worktree_command(&record.worktree, &record.branch, &reason);
    let what = cmd.1.clone();
    // In the caller's process group: the checkout may ask for a password (LFS), and a Ctrl-C
    // makes git remove what it had begun, after which `new` removes the branch and the record.
    let status = {
        let _worktrees = ws.store.lock_worktrees()?;
        run_recorded(ws, record, cmd, Group::Callers)?
    };
    let registered = ws.repo.registered(&record.worktree)?;
    if let Some(at) = &registered {
        record.worktree = at.path.clone();
        record.worktree_id = at.id.clone();
    }
    if status.code() == Some(129) && registered.is_none() {
        // git's exit status for options it does not know: `--reason` came with git 2.33. (A hook
        // may exit 129 too, but then the worktree exists.)
        settle_branch(ws, record, &DeleteBranch::IfMerged, true)?;
        return Err(LifecycleError::GitTooOld { what, name }.into());
    }
    if !status.success() {
        if registered.is_some() {
            // git finished the worktree and then its post-checkout hook failed: git keeps the
            // worktree, but a shard whose set-up failed is no shard. Nothing ran in it yet.
            remove_registered(ws, record, true)?;
            settle_branch(ws, record, &DeleteBranch::IfMerged, true)?;
            return Err(LifecycleError::HookFailed { name, status }.into());
        }
        settle_branch(ws, record, &DeleteBranch::IfMerged, true)?;
        return Err(git_failed(&what, status, &name).into());
    }
    let Some(at) = registered else {
        return Err(LifecycleError::NoWorktreeRegistered {
            what,
            path: record.worktree.clone(),
        }
        .into());
    };
    // Complete first, unlocked second: a worktree git registered for an incomplete record is
    // then always still locked with the add's reason, which is what proves it the add's. A kill
    // in between leaves a complete shard with git-shard's lock, which reconciliation lifts.
    record.incomplete = false;
    record.git_process = None;
    ws.store.write(record)?;
    lock::unlock_if(&ws.repo.common_dir(), &at.id, &reason).map_err(unlock_failed(name.as_str()))?;
    Ok(())
}

/// `git worktree remove --force` of the record's worktree, recorded (see the module docs).
/// `override_lock` adds git's second `--force`, for a lock that is not git-shard's.
fn remove_registered(ws: &Workspace, record: &mut Record, override_lock: bool) -> Result<()> {
    let cmd = ws.repo.remove_worktree_command(&record.worktree, override_lock);
    let what = cmd.1.clone();
    let _worktrees = ws.store.lock_worktrees()?;
    // In a process group of its own: git deletes file by file, and a Ctrl-C or a closed terminal
    // must not leave half a worktree. If `rm` is killed anyway, git finishes; recovery waits.
    let status = run_recorded(ws, record, cmd, Group::Own)?;
    if !status.success() {
        return Err(git_failed(&what, status, &record.name).into());
    }
    Ok(())
}

/// What became of a removed shard's branch.
pub enum BranchFate {
    Deleted,
    /// Deleted although it has commits its base's history lacks: their work is in the base
    /// (squash- or rebase-merged, or the same content); how, in words.
    DeletedMerged {
        how: String,
    },
    /// Kept: it has this many commits that are not in its base.
    KeptUnmerged {
        commits: usize,
        base: String,
    },
    /// Kept: the shard did not create it.
    KeptPreexisting,
    /// There was no branch any more.
    Missing,
}

impl BranchFate {
    /// One line for the user, or `None` when there is nothing to say.
    pub fn describe(&self, branch: &str) -> Option<String> {
        let branch = crate::output::clean(branch);
        match self {
            BranchFate::KeptUnmerged { commits, base } => Some(format!(
                "kept branch '{branch}': {commits} commit(s) not in {}; `git branch -D {branch}` deletes it",
                crate::output::clean(base)
            )),
            BranchFate::KeptPreexisting => Some(format!("kept branch '{branch}': it existed before the shard")),
            BranchFate::DeletedMerged { how } => Some(format!("deleted branch '{branch}': {how}")),
            BranchFate::Deleted | BranchFate::Missing => None,
        }
    }
}

/// Whether a removal deletes the shard's branch when it holds commits its base does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteBranch {
    /// Only when nothing would be lost: no commits of its own, or all of them merged.
    IfMerged,
    /// Whatever it holds (`rm -D`).
    Always,
    /// Whatever it holds, if it still points at this commit when it is deleted (a pull request
    /// merged on the forge at that tip).
    AtTip(String),
}

/// Safety rule 3 in one place: delete a shard's branch only when the shard created it and its
/// work is in its base (no commit outside it, or squash- or rebase-merged: `git::merged`), or
/// when `force` (the user's explicit `--delete-branch`); and only while it still points at the
/// commit judged here.
pub fn settle_branch(ws: &Workspace, record: &Record, delete: &DeleteBranch, apply: bool) -> Result<BranchFate> {
    let Some(tip) = ws.repo.branch_tip(&record.branch)? else {
        return Ok(BranchFate::Missing);
    };
    let base = record.base.refname.as_deref().unwrap_or(&record.base.commit);
    let commits = ws.repo.commits_not_in(&tip, base, &record.base.commit)?;
    let force = match delete {
        DeleteBranch::IfMerged => false,
        DeleteBranch::Always => true,
        // Read now, after everything else of the removal: a commit added since the forge's
        // answer (by a teardown, say) makes it a branch like any other.
        DeleteBranch::AtTip(at) => *at == tip,
    };
    if force || (record.created_branch && commits == 0) {
        if apply {
            ws.repo.delete_branch(&record.branch, &tip)?;
        }
        return Ok(BranchFate::Deleted);
    }
    let base_name = base.trim_start_matches("refs/heads/");
    // A question git cannot answer (the base branch deleted, a history too odd) keeps the branch:
    // never an error here, which would strand a removal half done.
    let merged = || match ws.repo.merged_into(&tip, base) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!("cannot tell whether {} is merged: {e}", record.branch);
            ws.repo.merged_into(&tip, &record.base.commit).ok().flatten()
        }
    };
    if record.created_branch
        && commits > 0
        && let Some(merged) = merged()
    {
        if apply {
            ws.repo.delete_branch(&record.branch, &tip)?;
        }
        return Ok(BranchFate::DeletedMerged {
            how: merged.describe(base_name),
        });
    }
    if commits > 0 {
        return Ok(BranchFate::KeptUnmerged {
            commits,
            base: base.trim_start_matches("refs/heads/").to_owned(),
        });
    }
    Ok(BranchFate::KeptPreexisting)
}

/// What recovery made of a shard whose `new` died mid-way.
pub enum Undone {
    /// Everything the add made is gone, and the record too.
    Removed(BranchFate),
    /// The add had finished and the worktree holds work someone did since: the shard is kept,
    /// now complete, and every rule of `rm` applies to it.
    Adopted,
}

/// Undo a shard whose `new` died mid-way (`record.incomplete`): wait for the git it left at work,
/// remove the worktree its add made (only what is provably that add's, see below), the branch if
/// `new` created it and it holds nothing, and the record. The caller holds the shard's lock, so no
/// `new` is still at work.
///
/// The worktree registered at the record's path is the add's only while git still holds it
/// locked with the add's exact reason (git finished, or was killed mid-way); anything else at that
/// path is left alone and reported. Even then, someone may have worked in it since: a finished
/// worktree with uncommitted or untracked work is adopted (the record completed) instead of
/// removed, and a half checked-out one holding files that are not git's is left alone. What is
/// left of the add is removed as `remove_interrupted_add` removes it, since git may not be able
/// to read a half-written entry.
pub fn undo_incomplete(ws: &Workspace, name: &ShardName, record: &Record) -> Result<Undone> {
    wait_for_git(record)?;
    ws.repo.clear_stale_branch_lock(&record.branch)?;
    let mut record = record.clone();
    let reason = adding_reason(name.as_str());
    let refuse = |record: &Record, why: &'static str| -> crate::error::Error {
        LifecycleError::NotTheAdds {
            name: name.to_string(),
            path: record.worktree.clone(),
            why,
        }
        .into()
    };
    if let Some(at) = ws.repo.registered(&record.worktree)? {
        let admin = Admin::open(&ws.repo.common_dir(), &at.id);
        let locked = admin.as_ref().and_then(|a| a.lock_reason().ok().flatten());
        // Anything registered there that is not still locked with the add's reason is not
        // provably the add's: `create` records the shard complete before it lifts that lock.
        if locked.as_deref() != Some(reason.as_str()) {
            return Err(refuse(
                &record,
                "is a worktree the interrupted `git shard new` cannot be proven to have made",
            ));
        }
        if let Some(admin) = admin
            && ws.repo.is_registered_worktree(&record.worktree, &at.id)?
        {
            if admin.dir.join("index").is_file() {
                // git wrote the index last: the checkout finished, and `git status` is meaningful.
                if !crate::git::status::dirt(&record.worktree)?.is_clean() {
                    record.worktree = at.path;
                    record.worktree_id = at.id.clone();
                    record.incomplete = false;
                    record.git_process = None;
                    ws.store.write(&record)?;
                    lock::unlock_if(&ws.repo.common_dir(), &at.id, &reason).map_err(unlock_failed(name.as_str()))?;
                    return Ok(Undone::Adopted);
                }
            } else if ws.repo.files_outside_head(&record.worktree)? {
                return Err(refuse(
                    &record,
                    "is half checked out and holds files that are not git's",
                ));
            }
        }
    }
    {
        let _worktrees = ws.store.lock_worktrees()?;
        if ws.repo.remove_interrupted_add(&record.worktree, &reason).is_err() {
            return Err(refuse(&record, "is not what the interrupted `git shard new` left"));
        }
    }
    let fate = settle_branch(ws, &record, &DeleteBranch::IfMerged, true)?;
    ws.store.remove(name)?;
    Ok(Undone::Removed(fate))
}

/// Remove a shard whose removal was decided (every check passed and `record.removing` is set, or
/// is set here in the same write that records git's process): its worktree as git registered it,
/// the branch unless it holds commits (or `delete_branch`), and the record last. Also finishes a
/// removal that a killed `rm` left, after waiting for the git it left at work. `override_lock` is
/// the user's `--force` for a lock that is not git-shard's. The caller holds the shard's lock.
///
/// The folder goes only as the worktree git registered under the record's id and linking back to
/// it: a folder that is something else now (replaced, a symlink to another worktree) is refused,
/// and the record stays.
pub fn finish_removal(
    ws: &Workspace,
    name: &ShardName,
    record: &Record,
    delete_branch: &DeleteBranch,
    override_lock: bool,
) -> Result<BranchFate> {
    wait_for_git(record)?;
    let mut record = record.clone();
    record.removing = true;
    let common = ws.repo.common_dir();
    lock::unlock_ours(&common, &record.worktree_id).map_err(unlock_failed(name.as_str()))?;
    let registered_here = Admin::open(&common, &record.worktree_id)
        .and_then(|admin| admin.worktree().ok().flatten())
        .is_some_and(|at| comparable_path(&at) == comparable_path(&record.worktree));
    let folder = std::fs::symlink_metadata(&record.worktree).is_ok();
    let stranger = if registered_here {
        folder && !ws.repo.is_registered_worktree(&record.worktree, &record.worktree_id)?
    } else {
        folder
    };
    if stranger {
        return Err(LifecycleError::NotTheWorktree {
            name: name.to_string(),
            path: record.worktree.clone(),
        }
        .into());
    }
    if registered_here {
        remove_registered(ws, &mut record, override_lock)?;
    }
    let fate = settle_branch(ws, &record, delete_branch, true)?;
    ws.store.remove(name)?;
    Ok(fate)
}

/// Everything that must hold before a shard's worktree may be deleted, checked at that moment
/// (also when finishing a removal an earlier `rm` began): it is the worktree git registered for
/// the shard (not a folder put in its place, not a link to another worktree, not what an
/// interrupted removal left), it has no submodule whose commits would be lost, no uncommitted work
/// and no commits only a detached HEAD holds (each overridable by `--force` except a submodule
/// commit that exists nowhere else).
pub fn check_removable(ws: &Workspace, name: &ShardName, record: &Record, force: bool) -> Result<()> {
    let refusal = checks(ws, name, record, force);
    if refusal.is_err() && record.removing && ws.repo.is_registered_worktree(&record.worktree, &record.worktree_id)? {
        // An earlier removal stopped before it deleted anything: the shard is whole again, and
        // `list` must not say that `prune` finishes it.
        let mut whole = record.clone();
        whole.removing = false;
        ws.store.write(&whole)?;
    }
    refusal
}

fn checks(ws: &Workspace, name: &ShardName, record: &Record, force: bool) -> Result<()> {
    let name_ = || name.to_string();
    let path = || record.worktree.clone();
    if !ws.repo.is_registered_worktree(&record.worktree, &record.worktree_id)? {
        let admin = Admin::open(&ws.repo.common_dir(), &record.worktree_id);
        let names_it = admin
            .and_then(|a| a.worktree().ok().flatten())
            .is_some_and(|p| comparable_path(&p) == comparable_path(&record.worktree));
        if names_it && record.removing && !record.worktree.join(".git").exists() {
            return Err(LifecycleError::RemovalPartway {
                name: name_(),
                path: path(),
            }
            .into());
        }
        return Err(LifecycleError::NotTheWorktree {
            name: name_(),
            path: path(),
        }
        .into());
    }
    let Some(admin) = Admin::open(&ws.repo.common_dir(), &record.worktree_id) else {
        return Err(LifecycleError::EntryGone {
            name: name_(),
            id: record.worktree_id.clone(),
        }
        .into());
    };

    // The shard's branch, or detached (what only that HEAD holds is counted below): a worktree
    // switched to another branch is no longer provably the shard's, whatever --force says.
    let wanted = format!("refs/heads/{}", record.branch);
    if let Some(head) = ws.repo.worktree_head_ref(&admin, &record.worktree)?
        && head != wanted
    {
        return Err(LifecycleError::SwitchedBranch {
            name: name_(),
            head: head.trim_start_matches("refs/heads/").to_owned(),
            branch: record.branch.clone(),
            path: path(),
        }
        .into());
    }
    let submodules = ws.repo.submodules(&admin, &record.worktree)?;
    if !submodules.is_empty() {
        if !force {
            return Err(LifecycleError::Submodules { name: name_() }.into());
        }
        for git_dir in &submodules.git_dirs {
            let commits = ws.repo.unpushed_commits(git_dir)?;
            if commits > 0 {
                return Err(LifecycleError::SubmoduleUnpushed {
                    name: name_(),
                    commits,
                    git_dir: git_dir.clone(),
                }
                .into());
            }
        }
    }
    let dirt = crate::git::status::dirt(&record.worktree)?;
    if !dirt.is_clean() && !force {
        return Err(LifecycleError::Uncommitted {
            name: name_(),
            dirt: dirt.to_string(),
            path: path(),
        }
        .into());
    }
    let commits = ws.repo.unreachable_head_commits(&admin, &record.worktree)?;
    if commits > 0 && !force {
        return Err(LifecycleError::DetachedCommits {
            name: name_(),
            commits,
            path: path(),
        }
        .into());
    }
    Ok(())
}

/// `git worktree prune`, serialised with git-shard's other worktree changes.
pub fn prune_worktrees(ws: &Workspace) -> Result<()> {
    let _worktrees = ws.store.lock_worktrees()?;
    ws.repo.prune_worktrees()?;
    Ok(())
}

/// Refuse a worktree location that would put a shard where git-shard must never write, whatever
/// the configuration says (trusted or not): inside a git directory (`git gc` and `git worktree
/// prune` may delete it, and git reads files there as its own), or inside one of the repository's
/// worktrees (the shard's files would show up there as untracked, and removing that worktree would
/// take the shard along).
pub fn check_location(ws: &Workspace, path: &Path) -> Result<()> {
    let refuse = |inside: String| -> crate::error::Error {
        LifecycleError::Location {
            path: path.to_owned(),
            inside,
        }
        .into()
    };
    let mut at = path.parent();
    while let Some(dir) = at {
        let is_git_dir = dir.file_name().is_some_and(|n| n == ".git")
            || (dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir());
        if is_git_dir {
            return Err(refuse(format!("the git directory {}", dir.display())));
        }
        at = dir.parent();
    }
    for worktree in ws.repo.worktrees()? {
        if path.starts_with(comparable_path(&worktree.path)) {
            return Err(refuse(format!("the worktree {}", worktree.path.display())));
        }
    }
    Ok(())
}

/// Whether `path` is free for a new worktree: nothing there, and git has no entry for it.
pub fn check_free(ws: &Workspace, path: &Path) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(crate::git::GitError::PathExists { path: path.to_owned() }.into());
    }
    if let Some(at) = ws.repo.registered(path)? {
        return Err(crate::git::GitError::PathRegistered {
            path: path.to_owned(),
            id: at.id,
        }
        .into());
    }
    Ok(())
}
