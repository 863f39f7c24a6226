//! `git shard rm`: remove a shard without ever losing work.
//!
//! Order matters: stop the agent (an agent still writing would race the dirt check), check for
//! uncommitted and untracked work (safety rule 2), remove the worktree, delete the branch only when
//! none of its commits would be lost (rule 3), and remove the record last, so that a crash at any
//! point leaves a record that still names what is left.

use std::time::Duration;

use std::process::{Command, Stdio};

use crate::context::{Context, Workspace};
use crate::error::{Error, Result};
use crate::shard::{Record, RunStatus, lifecycle};
use crate::terminal::{self, Vars};

use crate::shard::lifecycle::run::{Stopped, stop_run};

/// Remove a shard: stop its agent, remove its worktree and (when merged) its branch.
///
/// Refuses a worktree with uncommitted or untracked changes, commits only a detached HEAD holds,
/// or initialised submodules unless `--force`; refuses, even with `--force`, a worktree switched
/// to another branch or with a submodule commit that no remote has. With an agent running, these
/// are checked before it is stopped. Keeps a branch that has commits not in its base unless
/// `--delete-branch`. Also spelled `git shard destroy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: String,
    /// Remove the worktree even with uncommitted or untracked changes, commits only a detached
    /// HEAD holds, initialised submodules (whose commits are all on a remote) or a lock someone
    /// else set, and go on when the agent cannot be stopped.
    #[arg(short, long)]
    pub force: bool,
    /// Delete the branch even when it has commits that are not in its base.
    #[arg(short = 'D', long)]
    pub delete_branch: bool,
    /// Seconds to give the agent after SIGTERM before SIGKILL.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = super::parse_grace)]
    pub grace: Duration,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let (name, _) = ws.record(&args.name)?;
    let grace = args.grace;

    let _store = ws.store.lock_store_shared()?;
    // With an agent running, checked before it is stopped too: a removal that would be refused
    // must not end the agent session the user may most want to keep. Checked again after the
    // stop, under the lock.
    if !args.force {
        let _lock = ws.store.lock_shard(&name)?;
        let record = ws.store.read(&name)?;
        let running = RunStatus::of(record.process.as_ref()) == RunStatus::Running;
        if running && !record.incomplete && std::fs::symlink_metadata(&record.worktree).is_ok() {
            lifecycle::wait_for_git(&record)?;
            lifecycle::check_removable(&ws, &name, &record, false)?;
        }
    }
    match stop_run(&ws, &name, grace) {
        Ok(Stopped::Done { survivors, .. }) if !survivors.is_empty() && !args.force => {
            return Err(Error::refused(
                format!("shard '{name}': some of its processes survived SIGKILL; nothing was removed"),
                "`git shard status` shows them; `git shard rm --force` removes the shard anyway",
            ));
        }
        Ok(Stopped::Done { forced: true, .. }) => eprintln!("shard '{name}': agent killed after the grace period"),
        Ok(Stopped::Done { .. }) => eprintln!("shard '{name}': agent stopped"),
        Ok(Stopped::Lost) => eprintln!("shard '{name}': its agent is lost (PID reused); nothing was signalled"),
        Ok(Stopped::NothingRunning(_)) => {}
        Err(e) if args.force => eprintln!("warning: {e}; removing anyway (--force)"),
        Err(e) => {
            return Err(Error::Refused {
                message: format!("cannot stop the agent of shard '{name}', so nothing was removed: {e}"),
                hint: Some("`git shard rm --force` removes the shard anyway".into()),
            });
        }
    }

    let _lock = ws.store.lock_shard(&name)?;
    let mut record = ws.store.read(&name)?;
    if record.incomplete {
        match lifecycle::undo_incomplete(&ws, &name, &record)? {
            lifecycle::Undone::Removed(fate) => {
                if let Some(line) = fate.describe(&record.branch) {
                    eprintln!("{line}");
                }
                eprintln!("removed shard '{name}' (its creation had been interrupted)");
                return Ok(());
            }
            lifecycle::Undone::Adopted => {
                eprintln!(
                    "shard '{name}': its creation had finished and its worktree holds work; kept as a whole shard"
                );
                // From here on, a whole shard: every check below applies.
                record = ws.store.read(&name)?;
            }
        }
    }
    // Between the stop above and this lock, a `run` may have started: never remove under it.
    // A launch no supervisor has claimed yet is cancelled, so none ever will.
    if let Some(p) = record.process.as_mut() {
        if RunStatus::of(Some(p)) == RunStatus::Running {
            return Err(Error::refused(
                format!("an agent started in shard '{name}' while it was being removed; nothing was removed"),
                format!("run `git shard rm {name}` again"),
            ));
        }
        if p.pid.is_none() && !p.has_ended() {
            p.cancel();
            ws.store.write(&record)?;
        }
    }
    let common = ws.repo.common_dir();
    let foreign_lock = crate::git::lock::reason(&common, &record.worktree_id)
        .filter(|_| !crate::git::lock::is_ours(&common, &record.worktree_id));
    if let Some(reason) = &foreign_lock
        && !args.force
    {
        return Err(Error::refused(
            format!(
                "the worktree of shard '{name}' is locked: {}",
                crate::output::clean(reason.trim())
            ),
            format!(
                "`git worktree unlock {}` first, or `git shard rm --force {name}`",
                record.worktree.display()
            ),
        ));
    }
    // Every check again, also when an earlier `rm` was interrupted: what is there now decides,
    // once the git that `rm` may have left at work has finished.
    lifecycle::wait_for_git(&record)?;
    if std::fs::symlink_metadata(&record.worktree).is_ok() {
        lifecycle::check_removable(&ws, &name, &record, args.force)?;
        if !record.removing {
            close_window(&ws, &record);
            super::warn_escaped(&name, &record.worktree);
        }
    }
    let fate = lifecycle::finish_removal(&ws, &name, &record, args.delete_branch, foreign_lock.is_some())?;
    if let Some(line) = fate.describe(&record.branch) {
        eprintln!("{line}");
    }
    eprintln!("removed shard '{name}'");
    Ok(())
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
