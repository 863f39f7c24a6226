//! `git shard cd`: a child process cannot change its shell's folder, so without the shell
//! integration (which intercepts `git shard cd` before it gets here) this does what `path` does
//! and says how to get the real thing.

use crate::context::Context;
use crate::error::Result;

/// Change to a shard's worktree (needs the shell integration; without it, prints the path).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: String,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    super::path::print_path(ctx, &args.name)?;
    eprintln!(
        "hint: to change directory with `git shard cd`, enable the shell integration: \
         `eval \"$(git shard init bash)\"` in ~/.bashrc (zsh: `init zsh`; fish: `git shard init fish | source`); \
         until then: cd \"$(git shard path {})\"",
        crate::output::clean(&args.name)
    );
    Ok(())
}
