//! Removing a shard (`rm`), and saying beforehand what a removal would delete (`rm --dry-run`).
//!
//! Order matters: check, with an agent running, before it is stopped (a refused `rm` must not
//! end the session the user may most want to keep); stop it (an agent still writing would race
//! the checks); check again under the shard's lock, whatever an earlier interrupted `rm` decided;
//! remove the worktree; delete the branch only when none of its commits would be lost; remove the
//! record last, so a crash at any point leaves a record that names what is left.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::run::{Stopped, stop_run};
use super::{BranchFate, LifecycleError, Undone};
use crate::context::Workspace;
use crate::error::{Error, Result};
use crate::git::status::Kind;
use crate::shard::{Record, RunStatus, ShardName};
use crate::terminal::{self, Vars};

/// What the user asked of `rm`.
pub struct RemoveOptions {
    /// Remove despite uncommitted work, detached commits, pushed submodules, a foreign lock, or an
    /// agent that cannot be stopped.
    pub force: bool,
    /// Whether the branch goes even when it holds commits that are not in its base.
    pub delete_branch: super::DeleteBranch,
    /// Time between SIGTERM and SIGKILL for a running agent.
    pub grace: Duration,
}

/// Things `remove` reports while it works, so they are said in order even when a later step fails.
pub enum Notice {
    /// The agent's run was stopped (or there was none to stop).
    Stopped(Stopped),
    /// The agent could not be stopped, and `--force` goes on anyway.
    StopFailed(Error),
    /// The shard's `new` had been interrupted after it finished its worktree, which now holds
    /// work: the shard was completed, and every check of a whole shard applies to it.
    Adopted,
    /// Processes outside the run's group and session still work in the worktree (never signalled).
    Escaped(Vec<(u32, String)>),
}

/// What was removed.
pub enum Removed {
    /// A whole shard; what became of its branch.
    Shard(BranchFate),
    /// A shard whose `new` had been interrupted: what that `new` had made.
    Interrupted(BranchFate),
}

/// Remove a shard: every check of `check_removable`, before and after stopping its agent, then
/// its worktree, branch (safety rule 3) and record.
pub fn remove(
    ws: &Workspace,
    name: &ShardName,
    opts: &RemoveOptions,
    notice: &mut dyn FnMut(Notice),
) -> Result<Removed> {
    let _store = ws.store.lock_store_shared()?;
    if !opts.force {
        let _lock = ws.store.lock_shard(name)?;
        let record = ws.store.read(name)?;
        let running = RunStatus::of(record.process.as_ref()) == RunStatus::Running;
        if running && !record.incomplete && std::fs::symlink_metadata(&record.worktree).is_ok() {
            super::wait_for_git(&record)?;
            super::check_removable(ws, name, &record, false)?;
        }
    }
    match stop_run(ws, name, opts.grace) {
        Ok(Stopped::Done { survivors, .. }) if !survivors.is_empty() && !opts.force => {
            return Err(LifecycleError::Survivors { name: name.to_string() }.into());
        }
        Ok(stopped) => notice(Notice::Stopped(stopped)),
        Err(e) if opts.force => notice(Notice::StopFailed(e)),
        Err(e) => {
            return Err(LifecycleError::CannotStop {
                name: name.to_string(),
                reason: e.to_string(),
            }
            .into());
        }
    }

    let _lock = ws.store.lock_shard(name)?;
    let mut record = ws.store.read(name)?;
    if record.incomplete {
        match super::undo_incomplete(ws, name, &record)? {
            Undone::Removed(fate) => return Ok(Removed::Interrupted(fate)),
            Undone::Adopted => {
                notice(Notice::Adopted);
                record = ws.store.read(name)?;
            }
        }
    }
    // Between the stop above and this lock, a `run` may have started: never remove under it.
    // A launch no supervisor has claimed yet is cancelled, so none ever will.
    if let Some(p) = record.process.as_mut() {
        if RunStatus::of(Some(p)) == RunStatus::Running {
            return Err(LifecycleError::StartedDuringRemoval { name: name.to_string() }.into());
        }
        if p.pid.is_none() && !p.has_ended() {
            p.cancel();
            ws.store.write(&record)?;
        }
    }
    let foreign_lock = check_foreign_lock(ws, name, &record, opts.force)?;
    // Every check again, also when an earlier `rm` was interrupted: what is there now decides,
    // once the git that `rm` may have left at work has finished.
    super::wait_for_git(&record)?;
    if std::fs::symlink_metadata(&record.worktree).is_ok() {
        super::check_removable(ws, name, &record, opts.force)?;
        if !record.removing {
            super::prepare::teardown(ws, name, &record, opts.force)?;
            close_window(ws, &record);
            let escaped = crate::process::working_in(&record.worktree);
            if !escaped.is_empty() {
                notice(Notice::Escaped(escaped));
            }
        }
    }
    let fate = super::finish_removal(ws, name, &record, &opts.delete_branch, foreign_lock)?;
    Ok(Removed::Shard(fate))
}

/// What `remove` with the same options would do, changing nothing.
pub struct Plan {
    /// The worktree that would go, when there is one.
    pub worktree: Option<std::path::PathBuf>,
    /// The agent's PID, when one runs and would be stopped.
    pub agent: Option<u32>,
    /// What is in the worktree and not in its HEAD commit, which would go with it: ignored files
    /// always; changed and untracked ones only with `--force` (else the removal is refused).
    pub files: Vec<(Kind, Vec<u8>)>,
    pub fate: BranchFate,
    /// The shard's `new` was interrupted: `rm` undoes what it made, after its own proofs.
    pub interrupted: bool,
}

/// Run every check `remove` runs, without stopping, unlocking or deleting anything, and list what
/// it would delete. A check that would refuse the removal is returned as that refusal.
pub fn plan(ws: &Workspace, name: &ShardName, opts: &RemoveOptions) -> Result<Plan> {
    let _lock = ws.store.lock_shard(name)?;
    let record = ws.store.read(name)?;
    let agent = record
        .process
        .as_ref()
        .filter(|p| RunStatus::of(Some(p)) == RunStatus::Running)
        .and_then(|p| p.pid);
    check_foreign_lock(ws, name, &record, opts.force)?;
    let mut worktree = None;
    let mut files = Vec::new();
    if !record.incomplete && std::fs::symlink_metadata(&record.worktree).is_ok() {
        super::checks(ws, name, &record, opts.force)?;
        files = crate::git::status::not_committed(&record.worktree)?;
        worktree = Some(record.worktree.clone());
    }
    let fate = super::settle_branch(ws, &record, &opts.delete_branch, false)?;
    Ok(Plan {
        worktree,
        agent,
        files,
        fate,
        interrupted: record.incomplete,
    })
}

/// A lock on the worktree that someone else set (not git-shard's): refused unless `force`, which
/// then also overrides it. Returns whether there is one.
fn check_foreign_lock(ws: &Workspace, name: &ShardName, record: &Record, force: bool) -> Result<bool> {
    let common = ws.repo.common_dir();
    let Some(reason) = crate::git::lock::reason(&common, &record.worktree_id)
        .filter(|_| !crate::git::lock::is_ours(&common, &record.worktree_id))
    else {
        return Ok(false);
    };
    if force {
        return Ok(true);
    }
    Err(LifecycleError::ForeignLock {
        name: name.to_string(),
        reason: reason.trim().to_owned(),
        path: record.worktree.clone(),
    }
    .into())
}

/// Close the window or pane the agent ran in, where its terminal says how (`close`). Best effort:
/// usually the window has closed by itself when the supervisor exited.
fn close_window(ws: &Workspace, record: &Record) {
    let Some(p) = &record.process else { return };
    let Some(close) = terminal::template(&ws.config, &p.terminal).and_then(|t| t.close) else {
        return;
    };
    if ws.config.untrusted_terminals.contains_key(&p.terminal) {
        return;
    }
    let repo = ws.repo_name();
    let vars = Vars {
        cwd: &record.worktree,
        name: &record.name,
        branch: &record.branch,
        title: &record.name,
        repo: &repo,
        cmd: &[],
        env: &p.terminal_env,
        ports: crate::shard::ports::placeholders(record),
    };
    if let Ok(argv) = terminal::expand(&close, &vars) {
        let result = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        tracing::debug!(?argv, ?result, "close");
    }
}
