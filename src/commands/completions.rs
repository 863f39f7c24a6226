//! `git shard completions <shell>`: static completion scripts for packagers (the committed copies
//! in `completions/` are checked by a test). Interactive shells get live completion of shard names
//! from `git shard init <shell>` instead.

use crate::context::Context;
use crate::error::Result;

/// Print a static completion script for `git-shard` (for packagers; `git shard init` gives live
/// completion of shard names, also through `git shard <TAB>`).
#[derive(Debug, clap::Args)]
pub struct Args {
    pub shell: clap_complete::Shell,
}

pub fn run(_ctx: &Context, args: &Args) -> Result<()> {
    print!(
        "{}",
        String::from_utf8_lossy(&crate::cli::completion_script(args.shell))
    );
    Ok(())
}
