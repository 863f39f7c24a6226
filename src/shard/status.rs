//! The status of a shard's run, derived from its record and one liveness check.

use serde::Serialize;

use super::record::{ProcessRecord, Record};
use crate::process::{self, Liveness};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// No run was ever recorded (or a launch has not reached the supervisor yet).
    NotStarted,
    /// The recorded identity is alive.
    Running,
    /// The supervisor recorded how the run ended, by itself.
    Exited,
    /// The run ended because git-shard stopped it (`stop`, `rm`, `prune`, reconciliation); its
    /// exit code or signal is still recorded.
    Stopped,
    /// No end was recorded, and the PID is gone or now denotes another process.
    Lost,
}

/// What a run's status depends on, taken from its `[process]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFacts {
    pub ended: bool,
    /// Ended by a stop (`ProcessRecord::was_stopped`).
    pub stopped: bool,
    pub identity: Option<process::Identity>,
}

impl RunFacts {
    pub fn of(p: &ProcessRecord) -> RunFacts {
        RunFacts {
            ended: p.has_ended(),
            stopped: p.was_stopped(),
            identity: p.identity(),
        }
    }
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::NotStarted => "not-started",
            RunStatus::Running => "running",
            RunStatus::Exited => "exited",
            RunStatus::Stopped => "stopped",
            RunStatus::Lost => "lost",
        }
    }

    /// Reads at most one process entry (`/proc/<pid>/stat` on Linux): never the process table.
    pub fn of(process: Option<&ProcessRecord>) -> RunStatus {
        RunStatus::of_facts(process.map(RunFacts::of).as_ref())
    }

    /// The same judgement from the few facts it needs (what the prompt keeps of a record).
    pub fn of_facts(run: Option<&RunFacts>) -> RunStatus {
        let Some(run) = run else {
            return RunStatus::NotStarted;
        };
        match (run.ended, run.stopped, &run.identity) {
            (true, true, _) => RunStatus::Stopped,
            (true, false, _) => RunStatus::Exited,
            (false, _, None) => RunStatus::NotStarted,
            (false, _, Some(id)) => match process::check(id) {
                Liveness::Alive => RunStatus::Running,
                Liveness::Gone | Liveness::Reused => RunStatus::Lost,
            },
        }
    }
}

/// Whether a run whose agent is gone is still being wound up by its supervisor (alive, identity
/// verified): its end will be recorded in a moment, so it is not lost.
pub fn winding_up(p: &ProcessRecord) -> bool {
    let (Some(pid), Some(start_ticks), Some(boot_id)) = (p.supervisor_pid, p.supervisor_start_ticks, &p.boot_id) else {
        return false;
    };
    process::check(&process::Identity {
        pid,
        start_ticks,
        boot_id: boot_id.clone(),
    }) == Liveness::Alive
}

/// `running (pid 123)`, `exited (0)`, `exited (signal 9)`, `stopped`, `lost`, `not-started`.
pub fn describe(r: &Record, s: RunStatus) -> String {
    let p = r.process.as_ref();
    let text: String = match s {
        RunStatus::Running => format!("running (pid {})", p.and_then(|p| p.pid).unwrap_or(0)),
        RunStatus::Exited => match (p.and_then(|p| p.exit_code), p.and_then(|p| p.signal)) {
            (Some(c), _) => format!("exited ({c})"),
            (None, Some(sig)) => format!("exited (signal {sig})"),
            _ => "exited".into(),
        },
        other => other.as_str().into(),
    };
    if r.incomplete {
        "incomplete (`git shard prune` undoes it)".into()
    } else if r.removing {
        "removing (interrupted; `git shard prune` finishes it)".into()
    } else if r.orphaned_at.is_some() {
        text + ", orphaned"
    } else {
        text
    }
}
