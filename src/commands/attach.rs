//! `git shard attach`: bring a shard's agent to the front, wherever its terminal can do that.

use std::process::Command;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::shard::RunStatus;
use crate::terminal::{self, Terminal, TerminalError, Vars};

use super::print_log;

/// Bring the terminal window or pane of a shard's agent to the front.
///
/// tmux: selects the shard's window (switching client inside tmux, attaching outside it);
/// wezterm and kitty: their focus commands; background: follows the log; other terminals cannot
/// be focused, and the worktree path is printed instead.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: String,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let (name, record) = ws.record(&args.name)?;
    let Some(process) = record.process.as_ref() else {
        return Err(Error::refused(
            format!("shard '{name}' has never run an agent"),
            format!("start one with `git shard run {name}`"),
        ));
    };
    let status = RunStatus::of(Some(process));
    let cannot = |why: String| {
        println!("{}", record.worktree.display());
        Error::refused(
            format!("shard '{name}' {why}"),
            format!(
                "its worktree is {} (printed above)",
                crate::output::short_path(&record.worktree)
            ),
        )
    };
    if status != RunStatus::Running && process.terminal != "background" {
        return Err(cannot(format!("has no running agent ({})", status.as_str())));
    }
    match terminal::by_name(&ws.config, &process.terminal)? {
        Terminal::Background => print_log(&ws, &name, &record, true),
        Terminal::Inline => Err(cannot(
            "runs inline in the terminal that started it, which cannot be focused from here".into(),
        )),
        Terminal::Template { name: term, spec } => {
            let Some(focus) = spec.focus else {
                return Err(cannot(format!("runs in {term}, which cannot be focused by git-shard")));
            };
            let repo = ws.repo_name();
            let title = format!("git shard: {name}");
            let vars = Vars {
                cwd: &record.worktree,
                name: name.as_str(),
                branch: &record.branch,
                title: &title,
                repo: &repo,
                cmd: &[],
                env: &process.terminal_env,
                ports: crate::shard::ports::placeholders(&record),
            };
            let argv = terminal::expand(&focus, &vars).map_err(|var| TerminalError::MissingEnv {
                what: "focus",
                name: term.clone(),
                var,
            })?;
            tracing::debug!(?argv, "focus");
            // Inherits our terminal: `tmux attach` takes it over until the user detaches.
            let status = Command::new(&argv[0])
                .args(&argv[1..])
                .status()
                .map_err(|source| TerminalError::Spawn {
                    name: term.clone(),
                    program: argv[0].clone(),
                    source,
                })?;
            if status.success() {
                Ok(())
            } else {
                Err(Error::failed(format!(
                    "focusing shard '{name}' in {term} failed ({status})"
                )))
            }
        }
    }
}
