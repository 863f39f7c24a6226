//! `git shard run`: start an agent again in an existing shard.

use crate::agent;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::shard::lifecycle::LifecycleError;
use crate::shard::lifecycle::prepare;

use crate::shard::lifecycle::run::{LaunchResult, NewCommand, launch};

/// Start an agent in an existing shard (refused while one is running there).
///
/// Runs the shard's recorded command, or the one after `--` (which is then recorded).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: String,
    /// Terminal to run the agent in (background, inline, or one from the configuration).
    #[arg(long, value_name = "NAME", add = clap_complete::ArgValueCandidates::new(crate::cli::terminal_names))]
    pub terminal: Option<String>,
    /// Agent preset; arguments after `--` are appended.
    #[arg(long, value_name = "PRESET", add = clap_complete::ArgValueCandidates::new(crate::cli::agent_names))]
    pub agent: Option<String>,
    /// Continue the agent's last conversation in this worktree (`claude --continue`, `codex resume
    /// --last`, `gemini --resume latest`, `opencode --continue`, `aider --restore-chat-history`),
    /// for this run only.
    #[arg(long)]
    pub resume: bool,
    /// The agent command and its arguments (default: the shard's recorded command).
    #[arg(last = true, value_name = "COMMAND", add = clap_complete::ArgValueCompleter::new(crate::cli::CommandCompleter))]
    pub command: Vec<String>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let (name, record) = ws.record(&args.name)?;
    crate::shard::lifecycle::run::refuse_unsettled(&name, &record)?;
    if !record.worktree.is_dir() {
        return Err(LifecycleError::WorktreeGone {
            name: name.to_string(),
            path: record.worktree.clone(),
        }
        .into());
    }
    let chosen = if args.command.is_empty() && args.agent.is_none() {
        agent::recorded(&ws.config, &record.agent, &record.command)?
    } else {
        agent::resolve(&ws.config, args.agent.as_deref(), &args.command)?
    };
    let terminal = super::launch_terminal(&ws, args.terminal.as_deref(), &chosen)?;
    // Recorded by `launch` under the lock, only once the launch is allowed.
    let changed = (chosen.argv != record.command || chosen.agent != record.agent).then_some(NewCommand {
        agent: chosen.agent,
        argv: chosen.argv,
    });
    let argv = changed.as_ref().map_or(&record.command, |c| &c.argv);
    if args.resume && agent::with_resume(argv).is_none() {
        return Err(Error::refused(
            format!(
                "`{}` has no known way to continue its last conversation",
                crate::output::clean(&argv[0])
            ),
            "name the command that resumes it after `--` (e.g. `git shard run <name> -- <agent> --continue`)",
        ));
    }
    // What the shard needs before any agent: ports it lacks, a setup that has not succeeded yet
    // (never while an agent runs in it: `launch` would refuse it after the setup ran).
    if crate::shard::RunStatus::of(record.process.as_ref()) == crate::shard::RunStatus::Running {
        return Err(LifecycleError::AlreadyRunning { name: name.to_string() }.into());
    }
    prepare::ensure_ports(&ws, &name)?;
    prepare::setup(&ws, &name)?;
    match launch(&ws, &name, &terminal, changed, args.resume)? {
        LaunchResult::Started(p) => {
            eprintln!(
                "shard '{name}': agent {} in terminal '{}'",
                p.pid
                    .map(|pid| format!("running (pid {pid})"))
                    .unwrap_or_else(|| "started".into()),
                terminal.name()
            );
            Ok(())
        }
        LaunchResult::InlineExited(0) => Ok(()),
        LaunchResult::InlineExited(code) => Err(Error::Exit(code)),
    }
}
