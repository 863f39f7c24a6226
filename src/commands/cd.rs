//! `git shard cd`: a child process cannot change its shell's folder, so without the shell
//! integration (which intercepts `git shard cd` before it gets here) this does what `path` does
//! and says how to get the real thing. The integration's shell function calls `git-shard cd` with
//! `_GIT_SHARD_FROM_SHELL=1` in its environment (not a flag: nothing to show in help, man page or
//! completion), so that a usage error still reads `git shard cd`.

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
    super::print_path(ctx, &args.name)?;
    // The shell integration changes the directory itself: it wants the path and nothing else.
    if std::env::var_os("_GIT_SHARD_FROM_SHELL").is_some() {
        return Ok(());
    }
    let name = crate::output::clean(&args.name);
    if std::env::var_os("GIT_SHARD_NO_CD").is_some() {
        eprintln!(
            "hint: GIT_SHARD_NO_CD is set, so the shell integration leaves `cd` alone: cd \"$(git shard path {name})\""
        );
    } else if called_from_integrated_shell() {
        eprintln!(
            "hint: this shell has git-shard's integration, but this `git shard cd` did not go through it (a \
             `git` function or git alias of your own?); `git-shard cd {name}` changes directory, or: \
             cd \"$(git shard path {name})\""
        );
    } else {
        eprintln!(
            "hint: to change directory with `git shard cd`, enable the shell integration: \
             `eval \"$(git shard init bash)\"` in ~/.bashrc (zsh: `init zsh`; fish: `git shard init fish | source`); \
             until then: cd \"$(git shard path {name})\""
        );
    }
    Ok(())
}

/// Whether the shell that ran us (directly, or through `git`) loaded the integration: it exports
/// its own PID as `GIT_SHARD_SHELL_PID`, which a child shell inherits but does not match.
fn called_from_integrated_shell() -> bool {
    let Some(shell) = std::env::var("GIT_SHARD_SHELL_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
    else {
        return false;
    };
    let parent = rustix::process::getppid().map(|p| p.as_raw_nonzero().get() as u32);
    parent == Some(shell)
        || parent
            .and_then(|p| crate::process::facts(p).ok().flatten())
            .is_some_and(|f| f.ppid == shell)
}
