//! `git shard logs`: the output of a headless (`background`) run, and of terminal launchers.

use crate::context::Context;
use crate::error::Result;

/// Print the output of a shard's background run.
///
/// With `--follow`, keep printing new output until the run ends.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: String,
    /// Keep printing new output while the agent runs.
    #[arg(short, long)]
    pub follow: bool,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let (name, record) = ws.record(&args.name)?;
    super::print_log(&ws, &name, &record, args.follow)
}
