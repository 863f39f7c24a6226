//! `git shard reconcile`: what the git hooks run (see `shard::lifecycle::reconcile`).

use crate::context::Context;
use crate::error::Result;
use crate::shard::lifecycle::reconcile::reconcile;

/// Reconcile shards with git's worktrees (what the git hooks run).
///
/// Stops the agents of worktrees removed behind git-shard's back, marks those shards orphaned
/// (`prune` forgets them), and unlocks worktrees whose agent is no longer running.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print nothing and always exit 0 (for git hooks).
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let result = ctx.workspace().and_then(|ws| reconcile(&ws));
    match result {
        Ok(lines) if !args.quiet => {
            for l in &lines {
                eprintln!("{l}");
            }
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(_) if args.quiet => Ok(()),
        Err(e) => Err(e),
    }
}
