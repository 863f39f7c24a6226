//! The status of a shard's run, derived from its record and one liveness check.

use serde::{Deserialize, Serialize};

use super::record::{ProcessRecord, Record};
use crate::process::{self, Liveness};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

    /// [`RunStatus::of`], and a running run's instance noted before its check
    /// ([`process::check_noting`]).
    pub fn of_noting(process: Option<&ProcessRecord>) -> (RunStatus, Option<process::Instance>) {
        match process.map(RunFacts::of) {
            Some(RunFacts {
                ended: false,
                identity: Some(id),
                ..
            }) => match process::check_noting(&id) {
                (Liveness::Alive, instance) => (RunStatus::Running, instance),
                _ => (RunStatus::Lost, None),
            },
            facts => (RunStatus::of_facts(facts.as_ref()), None),
        }
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
    words(&Said {
        status: s.as_str(),
        pid: p.and_then(|p| p.pid).map(u64::from),
        exit_code: p.and_then(|p| p.exit_code).map(i64::from),
        signal: p.and_then(|p| p.signal).map(i64::from),
        incomplete: r.incomplete,
        removing: r.removing,
        orphaned: r.orphaned_at.is_some(),
        prune: "`git shard prune`",
    })
}

/// What [`words`] says a shard's state from: a record's facts here, or a host's JSON of one.
pub struct Said<'a> {
    /// [`RunStatus::as_str`], or a word of its own (`unreachable (…)`) said as it is.
    pub status: &'a str,
    pub pid: Option<u64>,
    pub exit_code: Option<i64>,
    pub signal: Option<i64>,
    pub incomplete: bool,
    pub removing: bool,
    pub orphaned: bool,
    /// The command that finishes an interrupted `new` or `rm`, and where to run it.
    pub prune: &'a str,
}

/// A shard's state in the words of `list` and `status`.
pub fn words(s: &Said) -> String {
    let text: String = match s.status {
        "running" => format!("running (pid {})", s.pid.unwrap_or(0)),
        "exited" => match (s.exit_code, s.signal) {
            (Some(c), _) => format!("exited ({c})"),
            (None, Some(sig)) => format!("exited (signal {sig})"),
            _ => "exited".into(),
        },
        other => other.into(),
    };
    if s.incomplete {
        format!("incomplete ({} undoes it)", s.prune)
    } else if s.removing {
        format!("removing (interrupted; {} finishes it)", s.prune)
    } else if s.orphaned {
        text + ", orphaned"
    } else {
        text
    }
}
