//! `git shard wait`: block until shards need their user, are idle, or their runs end, for
//! scripts that drive agents.

use std::thread;
use std::time::{Duration, Instant};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::shard::RunStatus;
use crate::shard::activity::{self, Activity};

/// Wait until one of the shards reaches a state, and print `<name> <state>`.
///
/// `--for waiting`: its agent needs you (a permission prompt, a question); `idle`: it finished its
/// turn; `exit`: its run ended (exited, stopped or lost); `any` (the default): the first of these.
/// Exit status: 0 when a shard got there, 3 when the timeout passed first, 4 when (for `waiting`
/// or `idle`) a run ended without getting there, 1 for an error.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Names of the shards (the first to get there ends the wait).
    #[arg(required = true, add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub names: Vec<String>,
    /// What to wait for.
    #[arg(long = "for", value_enum, default_value = "any", value_name = "STATE")]
    pub state: Wanted,
    /// Give up after this many seconds (fractions allowed).
    #[arg(long, value_name = "SECS", value_parser = super::parse_grace)]
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Wanted {
    Waiting,
    Idle,
    Exit,
    Any,
}

/// Exit status when the timeout passed first.
const TIMED_OUT: i32 = 3;
/// Exit status when a run ended before it reached the activity asked for.
const ENDED: i32 = 4;

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let names = args
        .names
        .iter()
        .map(|n| ws.record(n).map(|(name, _)| name))
        .collect::<Result<Vec<_>>>()?;
    let deadline = args.timeout.map(|t| Instant::now() + t);
    loop {
        for name in &names {
            let record = ws.store.read(name)?;
            let status = RunStatus::of(record.process.as_ref());
            let shown = activity::shown(record.process.as_ref(), status);
            // An agent that just ended is `lost` until its supervisor has recorded how: wait for that.
            let winding_up =
                status == RunStatus::Lost && record.process.as_ref().is_some_and(crate::shard::status::winding_up);
            let ended = matches!(status, RunStatus::Exited | RunStatus::Stopped | RunStatus::Lost) && !winding_up;
            let reached = match args.state {
                Wanted::Waiting => shown == Some(Activity::Waiting),
                Wanted::Idle => shown == Some(Activity::Idle),
                Wanted::Exit => ended,
                Wanted::Any => ended || matches!(shown, Some(Activity::Waiting | Activity::Idle)),
            };
            let state = shown.map(Activity::as_str).unwrap_or(status.as_str());
            if reached {
                println!("{name} {state}");
                return Ok(());
            }
            if ended {
                println!("{name} {state}");
                return Err(Error::Exit(ENDED));
            }
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::Exit(TIMED_OUT));
        }
        thread::sleep(Duration::from_millis(100));
    }
}
