//! `prune` of one shard: finish what an interrupted `rm` began, undo what an interrupted `new`
//! made, or forget a shard whose worktree is gone (stopping its run only while the identity still
//! matches, dropping git's stale entry, deleting the branch only when it holds nothing).

use std::path::PathBuf;

use super::reconcile::{WorktreeState, worktree_state};
use super::run::{Stopped, stop_run};
use super::{BranchFate, LifecycleError, Undone};
use crate::context::Workspace;
use crate::error::Result;
use crate::git::WorktreeEntry;
use crate::shard::{Record, ShardName};

/// What pruning did to a shard (or, with `apply` false, would do), in order.
pub enum Pruned {
    /// An interrupted `rm` was finished, after every check again.
    FinishedRemoval,
    /// What an interrupted `new` made was removed.
    UndoneIncomplete,
    /// An interrupted `new` had finished its worktree, which holds work now: kept, completed.
    Adopted,
    /// The folder is missing but git's entry is locked (a removable disk, a network share): kept.
    KeptLocked(String),
    /// The run of a shard whose worktree is gone was stopped.
    StoppedAgent,
    /// The recorded agent's PID belongs to another process now: nothing was signalled.
    AgentLost,
    /// The branch of a forgotten shard.
    Branch(BranchFate),
    /// The record of a shard whose worktree is gone was removed.
    Forgotten(PathBuf),
}

/// Prune one shard; `entries` are git's worktrees as listed once for the whole prune. The caller
/// holds the store's exclusive lock.
pub fn prune_shard(
    ws: &Workspace,
    name: &ShardName,
    record: &Record,
    entries: &[WorktreeEntry],
    apply: bool,
) -> Result<Vec<Pruned>> {
    if record.removing {
        let _lock = ws.store.lock_shard(name)?;
        if apply {
            let record = ws.store.read(name)?;
            super::wait_for_git(&record)?;
            if std::fs::symlink_metadata(&record.worktree).is_ok() {
                super::check_removable(ws, name, &record, false)?;
            }
            super::finish_removal(ws, name, &record, &super::DeleteBranch::IfMerged, false)?;
        }
        return Ok(vec![Pruned::FinishedRemoval]);
    }
    if record.incomplete {
        let _lock = ws.store.lock_shard(name)?;
        // Re-read under the lock: a `new` that was still at work has finished meanwhile.
        if !ws.store.read(name)?.incomplete {
            return Ok(Vec::new());
        }
        if apply && matches!(super::undo_incomplete(ws, name, record)?, Undone::Adopted) {
            return Ok(vec![Pruned::Adopted]);
        }
        return Ok(vec![Pruned::UndoneIncomplete]);
    }
    match worktree_state(record, entries) {
        WorktreeState::Present | WorktreeState::Moved(_) => return Ok(Vec::new()),
        WorktreeState::LockedMissing(reason) => return Ok(vec![Pruned::KeptLocked(reason.trim().to_owned())]),
        WorktreeState::Gone => {}
    }
    let mut done = Vec::new();
    if apply {
        match stop_run(ws, name, super::run::DEFAULT_GRACE)? {
            Stopped::Done { .. } => done.push(Pruned::StoppedAgent),
            Stopped::Lost => done.push(Pruned::AgentLost),
            Stopped::NothingRunning(_) => {}
        }
    }
    let _lock = ws.store.lock_shard(name)?;
    if apply {
        // git's stale entry still names the branch as checked out: lift our lock and let git prune
        // it first, as `git worktree prune` would.
        crate::git::lock::unlock_ours(&ws.repo.common_dir(), &record.worktree_id).map_err(|source| {
            LifecycleError::Unlock {
                name: name.to_string(),
                source,
            }
        })?;
        super::prune_worktrees(ws)?;
    }
    done.push(Pruned::Branch(super::settle_branch(
        ws,
        record,
        &super::DeleteBranch::IfMerged,
        apply,
    )?));
    if apply {
        ws.store.remove(name)?;
    }
    done.push(Pruned::Forgotten(record.worktree.clone()));
    Ok(done)
}
