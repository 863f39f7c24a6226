//! `git shard path`: the worktree folder of a shard, for `cd "$(git shard path x)"`.

use crate::context::Context;
use crate::error::Result;

/// Print the worktree path of a shard.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: String,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    super::print_path(ctx, &args.name)
}
