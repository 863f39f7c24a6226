//! The command line: clap definitions only. Each subcommand's arguments live beside its code in
//! `commands/<verb>.rs`; their doc comments are the help texts.

use clap::{Parser, Subcommand};

use crate::commands::{attach, config, list, logs, new, path, prune, rm, run, status, stop, supervise};

/// Run coding agents in parallel, each in its own git worktree and branch.
///
/// `git shard new <name> -- <agent command>` creates a worktree and branch, starts the agent under
/// a small supervisor that records its exact process identity (PID + start time + boot id), and
/// `list`, `status`, `stop`, `rm` and `prune` then act on what is really running, never on a
/// recycled PID, and never lose uncommitted work.
#[derive(Debug, Parser)]
#[command(name = "git-shard", bin_name = "git shard", version, propagate_version = true)]
#[command(max_term_width = 100)]
pub struct Cli {
    /// Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    New(new::Args),
    #[command(visible_alias = "ls")]
    List(list::Args),
    Status(status::Args),
    Run(run::Args),
    Attach(attach::Args),
    Path(path::Args),
    Logs(logs::Args),
    Stop(stop::Args),
    #[command(visible_alias = "destroy")]
    Rm(rm::Args),
    Prune(prune::Args),
    Config(config::Args),
    #[command(name = "__run", hide = true)]
    Supervise(supervise::Args),
}
