//! `git shard init <shell>`: print the shell integration (the scripts live in `shell/`).

use crate::context::Context;
use crate::error::Result;

/// Print the shell integration: `git shard cd`, the prompt segment, and completion of
/// `git shard <TAB>` through git's own completion.
///
/// bash: `eval "$(git shard init bash)"` in ~/.bashrc; zsh: `eval "$(git shard init zsh)"` in
/// ~/.zshrc (after compinit); fish: `git shard init fish | source` in config.fish.
/// Set GIT_SHARD_NO_PROMPT=1 to place the prompt segment yourself, GIT_SHARD_NO_CD=1 to keep
/// `git` unwrapped.
#[derive(Debug, clap::Args)]
pub struct Args {
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    pub fn script(self) -> &'static str {
        match self {
            Shell::Bash => include_str!("../../shell/git-shard.bash"),
            Shell::Zsh => include_str!("../../shell/git-shard.zsh"),
            Shell::Fish => include_str!("../../shell/git-shard.fish"),
        }
    }
}

pub fn run(_ctx: &Context, args: &Args) -> Result<()> {
    print!("{}", args.shell.script());
    Ok(())
}
