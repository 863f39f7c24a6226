//! Reconciliation: bring records in line with git's worktrees after changes made behind
//! git-shard's back (`git worktree remove -f -f`, `rm -rf` + `git worktree prune`).
//!
//! One function, used by `list`, `new`, `prune` and the git hooks (`git shard reconcile --quiet`):
//! - a record whose worktree is gone: stop its run if the identity still matches (never
//!   otherwise: `stop_run` verifies), lift our worktree lock, mark the shard orphaned (`list`
//!   shows it, `prune` forgets it);
//! - a run that is no longer alive but still holds our worktree lock: lift the lock;
//! - a run whose agent is gone but whose cgroup still holds processes (its supervisor was killed
//!   before it could end them): end them; the cgroup proves them the run's.
//!
//! Cost when nothing is wrong: git's worktree entries (a few small files) and the records, which
//! `list` reads anyway, plus one `/proc/<pid>/stat` per record with a run; no process-table scan,
//! no git subprocess. Only one reconciliation runs at a time: a second one, e.g. from a burst of
//! hook calls, finds the lock taken and leaves the work to the first.

use std::fs::OpenOptions;
use std::path::PathBuf;

use rustix::fs::{FlockOperation, flock};

use super::run::{Stopped, stop_run, unlock_if_idle};
use crate::context::Workspace;
use crate::error::Result;
use crate::git::{WorktreeEntry, lock};
use crate::shard::store::Listed;
use crate::shard::{Record, RunStatus, ShardName, StoreError};

/// Where a shard's worktree stands, judged from git's own entry (not just the folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorktreeState {
    Present,
    /// git's entry now names another folder that exists (`git worktree move`).
    Moved(PathBuf),
    /// The folder is missing but git's entry is locked by someone else (e.g. a worktree on a
    /// removable disk): not an orphan, leave it alone.
    LockedMissing(String),
    /// git no longer knows the worktree, or its folder is gone and nothing protects the entry.
    Gone,
}

pub fn worktree_state(record: &Record, entries: &[WorktreeEntry]) -> WorktreeState {
    let Some(entry) = entry_of(record, entries) else {
        return WorktreeState::Gone;
    };
    let folder = entry.present;
    // git gives a new worktree the id of a removed one when their folders share a name: an entry
    // elsewhere on another branch is someone else's worktree, not the shard's, moved.
    let same_branch = entry
        .head_ref
        .as_deref()
        .is_none_or(|head| head.strip_prefix("refs/heads/") == Some(record.branch.as_str()));
    match (folder, &entry.locked) {
        (true, _) if entry.path != record.worktree && !same_branch => WorktreeState::Gone,
        (true, _) if entry.path != record.worktree => WorktreeState::Moved(entry.path.clone()),
        (true, _) => WorktreeState::Present,
        (false, Some(reason)) if !reason.starts_with(lock::REASON_PREFIX) => {
            WorktreeState::LockedMissing(reason.clone())
        }
        (false, _) => WorktreeState::Gone,
    }
}

/// The worktree git lists under the shard's id, if any.
fn entry_of<'e>(record: &Record, entries: &'e [WorktreeEntry]) -> Option<&'e WorktreeEntry> {
    entries
        .iter()
        .find(|e| e.id.as_deref() == Some(record.worktree_id.as_str()))
}

/// Reconcile once; returns what was done, one line each.
pub fn reconcile(ws: &Workspace) -> Result<Vec<String>> {
    reconcile_listed(ws, &ws.store.list()?, Stopping::Now)
}

/// When reconciliation stops the agent of a vanished worktree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopping {
    /// Here and now (`reconcile`, `new`, `prune`).
    Now,
    /// In a `git shard reconcile` started in the background: `list` must answer at once, and a
    /// stop can take the whole grace period.
    Background,
}

/// [`reconcile`] with the records already read (by `list`, which needs them anyway).
pub fn reconcile_listed(ws: &Workspace, listed: &[Listed], stopping: Stopping) -> Result<Vec<String>> {
    let mut done = Vec::new();
    std::fs::create_dir_all(ws.store.dir()).ok();
    let guard = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(ws.store.dir().join(".reconcile.lock"));
    let Ok(guard) = guard else { return Ok(done) };
    if flock(&guard, FlockOperation::NonBlockingLockExclusive).is_err() {
        tracing::debug!("reconciliation skipped: another git-shard is reconciling");
        return Ok(done);
    }
    let entries = ws.repo.worktrees()?;
    let mut stop_later = false;
    tracing::debug!(records = listed.len(), worktrees = entries.len(), "reconciling");
    for (raw, record) in listed {
        let Ok(record) = record else { continue };
        let Ok(name) = ShardName::parse(raw) else { continue };
        if record.incomplete || record.removing {
            // Half made by a `new` that is running or died: `prune` and `rm` handle those.
            continue;
        }
        let gone = match worktree_state(record, &entries) {
            WorktreeState::Present | WorktreeState::LockedMissing(_) => false,
            WorktreeState::Gone => true,
            WorktreeState::Moved(to) => {
                // `git worktree move`: follow it, the shard is still whole.
                let followed = ws.store.update(&name, |r| {
                    r.worktree = to.clone();
                    Ok(())
                });
                if followed.is_ok() {
                    done.push(format!("shard '{name}': worktree moved to {}", to.display()));
                }
                false
            }
        };
        let status = RunStatus::of(record.process.as_ref());
        let cgroup = record.process.as_ref().and_then(|p| p.cgroup.as_deref());
        let leftovers = status != RunStatus::Running && crate::process::contain::has_leftovers(cgroup);
        if status != RunStatus::Running && !leftovers {
            crate::process::contain::tidy(cgroup);
        }
        if leftovers && stopping == Stopping::Background {
            stop_later = true;
            done.push(format!(
                "shard '{name}': its run ended but left processes in its cgroup; ending them in the background"
            ));
        } else if leftovers && let Stopped::Done { .. } = stop_run(ws, &name, super::run::DEFAULT_GRACE)? {
            done.push(format!(
                "shard '{name}': ended what its finished run left in its cgroup"
            ));
        }
        if gone {
            if status == RunStatus::Running && stopping == Stopping::Background {
                stop_later = true;
                done.push(format!(
                    "shard '{name}': worktree gone, its agent is being stopped in the background"
                ));
            } else if status == RunStatus::Running {
                match stop_run(ws, &name, super::run::DEFAULT_GRACE)? {
                    Stopped::Done { .. } => done.push(format!("shard '{name}': worktree gone, agent stopped")),
                    Stopped::Lost => done.push(format!("shard '{name}': worktree gone, agent lost (not signalled)")),
                    Stopped::NothingRunning(_) => {}
                }
            }
            if record.orphaned_at.is_none() {
                let marked = ws.store.update(&name, |r| {
                    r.orphaned_at = Some(crate::shard::record::now());
                    Ok(())
                });
                match marked {
                    Ok(_) => done.push(format!("shard '{name}': orphaned (`git shard prune` forgets it)")),
                    // Removed meanwhile by `rm` or `prune`: nothing left to mark.
                    Err(StoreError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let alive = gone.then(|| RunStatus::of(ws.store.read(&name).ok().and_then(|r| r.process).as_ref()));
        let alive = alive.unwrap_or(status) == RunStatus::Running;
        // The lock as listed above: `unlock_if_idle` checks again, under the shard's lock.
        let locked_by_us = entry_of(record, &entries)
            .and_then(|e| e.locked.as_deref())
            .is_some_and(|r| r.starts_with(lock::REASON_PREFIX));
        if !alive && locked_by_us && unlock_if_idle(ws, &name, &record.worktree_id)? {
            done.push(format!("shard '{name}': worktree unlocked (its agent is not running)"));
        }
    }
    // After our reconciliation lock is released, or the background one would find it taken.
    drop(guard);
    if stop_later && !spawn_background_reconcile() {
        done.push("warning: could not start the background reconciliation; run `git shard reconcile`".into());
    }
    Ok(done)
}

/// Start `git-shard reconcile --quiet` detached (its own process group, output nowhere).
/// Returns whether it was started.
fn spawn_background_reconcile() -> bool {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let Ok(exe) = std::env::current_exe() else {
        return false;
    };
    Command::new(exe)
        .args(["reconcile", "--quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .is_ok()
}
