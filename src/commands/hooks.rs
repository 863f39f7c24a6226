//! `git shard hooks install | uninstall | status`: the git hooks that reconcile shards after git
//! commands, so an agent whose worktree was removed behind git-shard's back is stopped soon after.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::git::hooks::{self, HookState};

/// Manage the git hooks that notice worktrees removed behind git-shard's back.
///
/// The hooks (post-checkout, post-commit, post-merge, post-rewrite, reference-transaction) run
/// `git shard reconcile --quiet` in the background; they never fail or delay git. An existing hook
/// is kept and still runs first; `uninstall` puts it back unchanged.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Install the hooks into the folder git uses (core.hooksPath or .git/hooks).
    Install {
        /// Install even when the hooks folder belongs to another tool (husky, pre-commit, lefthook).
        #[arg(long)]
        force: bool,
    },
    /// Remove the hooks and restore the ones that were there before.
    Uninstall,
    /// Say which hooks are installed, where.
    Status,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    match args.action {
        Action::Install { force } => super::install_hooks(&ws, force, false),
        Action::Uninstall => {
            let (dir, _) = ws.repo.hooks_dir()?;
            for (name, what) in hooks::uninstall(&dir).map_err(|e| Error::failed(e.to_string()))? {
                println!("{name}: {what}");
            }
            Ok(())
        }
        Action::Status => {
            let (dir, configured) = ws.repo.hooks_dir()?;
            let from = if configured { "core.hooksPath" } else { "the default" };
            println!("hooks folder: {} ({from})", dir.display());
            for name in hooks::HOOKS {
                let state = match hooks::state(&dir, name) {
                    HookState::Ours { chained: true } => "installed (runs the previous hook first)",
                    HookState::Ours { chained: false } => "installed",
                    HookState::Foreign => "not installed (another hook is there)",
                    HookState::Missing => "not installed",
                };
                println!("{name}: {state}");
            }
            Ok(())
        }
    }
}
