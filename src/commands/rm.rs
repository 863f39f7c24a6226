//! `git shard rm`: remove a shard without ever losing work (see `shard::lifecycle::remove`).

use std::time::Duration;

use crate::context::Context;
use crate::error::Result;
use crate::git::status::Kind;
use crate::shard::lifecycle::DeleteBranch;
use crate::shard::lifecycle::remove::{self, Notice, RemoveOptions, Removed};
use crate::shard::lifecycle::run::Stopped;

/// Remove a shard: stop its agent, remove its worktree and (when merged) its branch.
///
/// Refuses a worktree with uncommitted or untracked changes, commits only a detached HEAD holds,
/// or initialised submodules unless `--force`; refuses, even with `--force`, a worktree switched
/// to another branch or with a submodule commit that no remote has. With an agent running, these
/// are checked before it is stopped. Keeps a branch that has commits not in its base unless
/// `--delete-branch`. Ignored files (`.env`, build output) go with the worktree, as with
/// `git worktree remove`: `--dry-run` lists them first. Also spelled `git shard destroy`.
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
    /// Change nothing: run every check and list what would be deleted, ignored files included.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Seconds to give the agent after SIGTERM before SIGKILL.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = super::parse_grace)]
    pub grace: Duration,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let (name, record) = ws.record(&args.name)?;
    let opts = RemoveOptions {
        force: args.force,
        delete_branch: if args.delete_branch {
            DeleteBranch::Always
        } else {
            DeleteBranch::IfMerged
        },
        grace: args.grace,
    };
    if args.dry_run {
        let plan = remove::plan(&ws, &name, &opts)?;
        if plan.interrupted {
            println!("would undo what the interrupted `git shard new {name}` made");
        }
        if let Some(pid) = plan.agent {
            println!("would stop the agent (pid {pid}) and its process group");
        }
        if let Some(path) = &plan.worktree {
            println!("would remove the worktree {}", path.display());
        }
        for (kind, path) in &plan.files {
            let what = match kind {
                Kind::Ignored => "ignored",
                Kind::Untracked => "untracked",
                Kind::Changed => "changed",
            };
            let path = crate::output::clean(&String::from_utf8_lossy(path));
            println!("  {what:<9} {path}");
        }
        match plan.fate.describe(&record.branch) {
            Some(line) => println!("would have {line}"),
            None if matches!(plan.fate, crate::shard::lifecycle::BranchFate::Deleted) => {
                println!("would delete branch '{}'", crate::output::clean(&record.branch))
            }
            None => {}
        }
        return Ok(());
    }
    let removed = remove::remove(&ws, &name, &opts, &mut |notice| match notice {
        Notice::Stopped(Stopped::Done { forced: true, .. }) => {
            eprintln!("shard '{name}': agent killed after the grace period")
        }
        Notice::Stopped(Stopped::Done { .. }) => eprintln!("shard '{name}': agent stopped"),
        Notice::Stopped(Stopped::Lost) => {
            eprintln!("shard '{name}': its agent is lost (PID reused); nothing was signalled")
        }
        Notice::Stopped(Stopped::NothingRunning(_)) => {}
        Notice::StopFailed(e) => eprintln!("warning: {e}; removing anyway (--force)"),
        Notice::Adopted => {
            eprintln!("shard '{name}': its creation had finished and its worktree holds work; kept as a whole shard")
        }
        Notice::Escaped(escaped) => super::warn_escaped(&name, &escaped),
    })?;
    let (fate, what) = match removed {
        Removed::Shard(fate) => (fate, ""),
        Removed::Interrupted(fate) => (fate, " (its creation had been interrupted)"),
    };
    if let Some(line) = fate.describe(&record.branch) {
        eprintln!("{line}");
    }
    eprintln!("removed shard '{name}'{what}");
    Ok(())
}
