//! `git shard status-line`: the shards of this repository for tmux's status bar.

use crate::context::Context;
use crate::error::Result;

/// Print a one-line summary for a status bar: the shards waiting for you by name (◆), then the
/// others by status.
///
/// For tmux: `set -g status-right '#(git -C "#{pane_current_path}" shard status-line)'` with
/// `set -g status-interval 1`. Runs no git and prints nothing outside a repository.
#[derive(Debug, Default, clap::Args)]
pub struct Args {}

pub fn run(ctx: &Context, _args: &Args) -> Result<()> {
    if let Some(line) = super::prompt::status_line(ctx) {
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), "{line}");
    }
    Ok(())
}
