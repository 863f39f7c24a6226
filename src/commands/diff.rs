//! `git shard diff`: what a shard changed since it forked from its base, shown by `git diff`
//! itself, so the user's pager, colours, `diff.external`, textconv and word-diff settings apply.

use std::process::Command;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::git::cmd::LOCATION_ENV;

/// Show what a shard changed since it forked from its base, with `git diff` (your pager, colours
/// and diff tools apply).
///
/// By default the commits on the shard's branch; with `--all` also what is uncommitted in its
/// worktree, untracked files included (ignored ones not). Arguments after `--` go to `git diff`
/// (`-- --word-diff`, `-- -- src/`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: String,
    /// Also the uncommitted and untracked changes in the shard's worktree.
    #[arg(long)]
    pub all: bool,
    /// Show a diffstat, as `git diff --stat`.
    #[arg(long)]
    pub stat: bool,
    /// Show only the names of changed files, as `git diff --name-only`.
    #[arg(long)]
    pub name_only: bool,
    /// Arguments for `git diff`.
    #[arg(last = true, value_name = "GIT DIFF ARGS")]
    pub git_args: Vec<String>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let (name, record) = ws.record(&args.name)?;
    let (target, target_rev) = super::merge::base_or_commit(&ws, &record)?;
    let tip = ws.repo.branch_tip(&record.branch)?.ok_or_else(|| {
        Error::refused(
            format!("the branch '{}' of shard '{name}' is gone", record.branch),
            "`git shard prune` forgets shards whose branch and worktree are gone",
        )
    })?;
    let fork = ws.repo.fork_point(&tip, &target_rev)?.ok_or_else(|| {
        Error::refused(
            format!("shard '{name}' shares no history with {target}"),
            "`git diff` between the two shows their whole difference",
        )
    })?;
    let mut flags: Vec<String> = Vec::new();
    flags.extend(args.stat.then(|| "--stat".to_owned()));
    flags.extend(args.name_only.then(|| "--name-only".to_owned()));
    // Paths the user gave after a second `--` stay after ours.
    let (options, paths) = match args.git_args.iter().position(|a| a == "--") {
        Some(i) => (&args.git_args[..i], &args.git_args[i..]),
        None => (&args.git_args[..], &[][..]),
    };
    flags.extend(options.iter().cloned());

    let mut git = Command::new("git");
    for var in LOCATION_ENV {
        git.env_remove(var);
    }
    if !args.all {
        // Where the user is, when that is in a worktree of this repository: git reads
        // `.gitattributes` there (diff and textconv drivers) and takes paths relative to it, as
        // the user's own `git diff` would. Elsewhere, the repository as a whole (the shard's
        // worktree may be gone).
        use crate::git::worktree::comparable_path;
        let common = ws.repo.common_dir();
        let here = crate::git::locate::locate(&ctx.cwd)
            .is_some_and(|l| comparable_path(&l.common_dir) == comparable_path(&common));
        match here {
            true => git.current_dir(&ctx.cwd),
            false => git.current_dir(&common).env("GIT_DIR", &common),
        };
        git.arg("diff").args(&flags).arg(&fork).arg(&tip).args(paths);
        return wait(git, None);
    }
    if !record.worktree.is_dir() {
        return Err(Error::refused(
            format!("the worktree of shard '{name}' is gone, so it has no uncommitted changes to show"),
            format!("`git shard diff {name}` shows its commits"),
        ));
    }
    // Everything in the worktree, untracked files too, staged into a copy of its index: the
    // user's own index (what they staged) is left exactly as it is.
    let index =
        tempfile::NamedTempFile::new().map_err(|e| Error::failed(format!("cannot make a temporary index: {e}")))?;
    let own_index = crate::git::cmd::Git::on_worktree(&record.worktree)
        .args(["rev-parse", "--path-format=absolute", "--git-path", "index"])
        .read()?;
    if let Err(e) = std::fs::copy(own_index.trim(), index.path())
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return Err(Error::failed(format!("cannot copy the index of shard '{name}': {e}")));
    }
    crate::git::cmd::Git::on_worktree(&record.worktree)
        .env("GIT_INDEX_FILE", index.path())
        .args(["add", "--all", "--", "."])
        .read()?;
    git.current_dir(&record.worktree)
        .env("GIT_DIR", record.worktree.join(".git"))
        .env("GIT_WORK_TREE", &record.worktree)
        .env("GIT_INDEX_FILE", index.path())
        .args(["diff", "--cached"])
        .args(&flags)
        .arg(&fork)
        .args(paths);
    wait(git, Some(index))
}

/// Run `git diff` in our terminal, its pager included, and exit as it did. While it runs, the
/// terminal's interrupt is its to handle (a `q` or Ctrl-C in the pager); we wait, then remove the
/// temporary index.
fn wait(mut git: Command, index: Option<tempfile::NamedTempFile>) -> Result<()> {
    let mut child = git
        .spawn()
        .map_err(|e| Error::failed(format!("cannot run `git diff`: {e}")))?;
    let _ignored = super::IgnoreInterrupts::new();
    let status = child
        .wait()
        .map_err(|e| Error::failed(format!("waiting for `git diff`: {e}")))?;
    drop(index);
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(Error::Exit(code)),
        None => Err(Error::Exit(128 + 2)),
    }
}
