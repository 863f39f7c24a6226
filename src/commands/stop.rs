//! `git shard stop`: end a shard's agent and its whole process group, never a recycled PID.

use std::time::Duration;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::shard::RunStatus;

use crate::shard::lifecycle::run::{Stopped, stop_run};

/// Stop the agent of a shard: SIGTERM to its process group, SIGKILL after the grace period.
///
/// The agent's identity (PID + start time + boot id) is verified first; a PID that now belongs to
/// another process is never signalled, and the run is reported as lost.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: String,
    /// Seconds to wait after SIGTERM before SIGKILL.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = super::parse_grace)]
    pub grace: Duration,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let (name, record) = ws.record(&args.name)?;
    let grace = args.grace;
    match stop_run(&ws, &name, grace)? {
        Stopped::NothingRunning(RunStatus::Lost) | Stopped::Lost => eprintln!(
            "shard '{name}': its agent is lost (the recorded PID is gone or belongs to another process); nothing was signalled"
        ),
        Stopped::NothingRunning(s) => eprintln!("shard '{name}': no agent running ({})", s.as_str()),
        Stopped::Done { forced, survivors } => {
            if !survivors.is_empty() {
                let list: Vec<String> = survivors
                    .iter()
                    .map(|(p, n)| format!("{p} ({})", crate::output::clean(n)))
                    .collect();
                return Err(Error::refused(
                    format!("shard '{name}': processes survived SIGKILL: {}", list.join(", ")),
                    "they are stuck in the kernel or escaped the group; check them with `ps -o pid,stat,cmd -p <pid>`",
                ));
            }
            let how = if forced {
                "killed (SIGKILL after the grace period)"
            } else {
                "stopped"
            };
            eprintln!("shard '{name}': agent {how}");
            super::warn_escaped(&name, &crate::process::working_in(&record.worktree));
        }
    }
    Ok(())
}
