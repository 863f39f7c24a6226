//! The durable record of one shard: `<git-common-dir>/shards/<name>.toml`.
//!
//! Invariants:
//! - `version` is checked before anything else; a record written by a newer git-shard is reported and
//!   never rewritten (the store refuses to write over it).
//! - Fields this version does not know are kept in `extra` and written back unchanged, so a round
//!   trip through an older binary loses nothing.
//! - `[process]` holds the identity of the agent (not of the supervisor, not of a terminal
//!   launcher) and, once it ended, how it ended. A PID without its start ticks and boot id is never
//!   used to signal anything (see `crate::process`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Now, to the second: a record says when things happened, not to the nanosecond.
pub fn now() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}

/// The record format this binary writes.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub version: u32,
    pub name: String,
    pub branch: String,
    /// Whether `new` created the branch (only then may `rm` delete it without being asked).
    #[serde(default)]
    pub created_branch: bool,
    /// Set while `new` is creating the shard; still set afterwards only if `new` died mid-way,
    /// and then `prune`/`rm` undo what it made.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
    /// Set by `rm` once every check passed, just before it deletes anything; still set afterwards
    /// only if `rm` died mid-way, and then `prune`/`rm` finish the removal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removing: bool,
    pub worktree: PathBuf,
    /// git's administrative id of the worktree (`<common-dir>/worktrees/<id>`).
    pub worktree_id: String,
    /// Preset name, or `custom` for a command given after `--`.
    pub agent: String,
    pub command: Vec<String>,
    pub terminal: String,
    /// Written as RFC 3339 (UTC, whole seconds), like every time in a record.
    pub created_at: Timestamp,
    /// When reconciliation found the worktree gone (removed behind git-shard's back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphaned_at: Option<Timestamp>,
    pub base: Base,
    /// The shard's own port, reserved for its life (see `shard::ports`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Its named ports (`ports = ["web"]` in the configuration → `web = 20001`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ports: BTreeMap<String, u16>,
    /// The configuration's `setup` commands have not all succeeded yet: `run` runs them (again)
    /// before it starts an agent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending_setup: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessRecord>,
    /// The git process `new` or `rm` started for this shard (`git branch`, `git worktree add`,
    /// `git worktree remove`), recorded before it began (`process::gate`): if `new` or `rm` died,
    /// that git may still be at work, and recovery waits for it before judging what is there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_process: Option<GitProcess>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

/// The identity of a git process (see `crate::process` for why a PID alone is not one).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GitProcess {
    pub pid: u32,
    pub start_ticks: u64,
    pub boot_id: String,
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

impl GitProcess {
    pub fn new(id: &crate::process::Identity) -> GitProcess {
        GitProcess {
            pid: id.pid,
            start_ticks: id.start_ticks,
            boot_id: id.boot_id.clone(),
            extra: BTreeMap::new(),
        }
    }

    pub fn identity(&self) -> crate::process::Identity {
        crate::process::Identity {
            pid: self.pid,
            start_ticks: self.start_ticks,
            boot_id: self.boot_id.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Base {
    /// Full ref name (`refs/heads/main`) when the base was a branch.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub refname: Option<String>,
    pub commit: String,
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

/// One run of the agent: launched by `new`/`run`, filled in by the supervisor.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProcessRecord {
    /// Chosen by the launching command and passed to the supervisor, so that a supervisor only ever
    /// writes into the run it was started for.
    pub run_id: String,
    pub terminal: String,
    pub launched_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<u32>,
    /// Linux: field 22 of `/proc/<pid>/stat`; macOS: start time in microseconds. Always below
    /// i64::MAX (TOML's integer range): ticks since boot, microseconds since 1970.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ticks: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_start_ticks: Option<u64>,
    /// The supervisor's descriptor of the agent's `/proc/<pid>/fd` folder, held open while the
    /// agent runs: `/proc/<supervisor_pid>/fd/<n>` leads to the folder of this very agent, which
    /// the kernel ties to the process and not to its PID (once the agent is gone it cannot be
    /// `stat`ed, whoever has the PID since). The shell integration proves a run with one `stat`
    /// through it (see `process::Held`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_proc_fd: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Who recorded the end (see [`EndedBy`]); set only through [`ProcessRecord::end`] and
    /// [`ProcessRecord::cancel`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<EndedBy>,
    /// This run continues the agent's last conversation (`run --resume`; see `agent::with_resume`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resume: bool,
    /// What the agent is doing (see `shard::activity`): shown only while the run is alive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<crate::shard::activity::Activity>,
    /// When the activity last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_at: Option<Timestamp>,
    /// Who said so: the agent's hooks, or the run's CPU time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_source: Option<crate::shard::activity::Source>,
    /// What the agent said with it (a permission prompt's message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_note: Option<String>,
    /// The number of the last hook event applied, for agents whose events may arrive out of order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_order: Option<u64>,
    /// The last state the user was notified of (see `shard::notify`), and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<Timestamp>,
    /// When `stop` (or `rm`, `prune`, reconciliation) set out to end the run: a run that then
    /// ended was stopped, whatever status the agent returned on SIGTERM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_requested_at: Option<Timestamp>,
    /// What proves a process is this run's beyond its group and session (see `process::contain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containment: Option<crate::process::contain::Kind>,
    /// The run's cgroup, relative to the cgroup v2 mount, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<String>,
    /// Why the supervisor could not start the agent (then `exit_code` is 127).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_error: Option<String>,
    /// Window/pane ids the terminal gave the supervisor (see `terminal::TERMINAL_ENV`), for
    /// `attach` and for closing the window on `rm`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub terminal_env: BTreeMap<String, String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

/// Who recorded how a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndedBy {
    /// The supervisor saw the agent end (or fail to start).
    Supervisor,
    /// `git shard stop` (or `rm`), because SIGKILL took the supervisor too.
    Stop,
    /// The launch was taken back before any supervisor claimed it: no agent ever ran.
    Cancelled,
}

impl EndedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::Supervisor => "supervisor",
            EndedBy::Stop => "stop",
            EndedBy::Cancelled => "cancelled",
        }
    }
}

impl ProcessRecord {
    pub fn has_ended(&self) -> bool {
        self.ended_at.is_some()
    }

    /// Record how the run ended, now: an exit code or the signal that ended it.
    pub fn end(&mut self, by: EndedBy, exit_code: Option<i32>, signal: Option<i32>) {
        self.ended_at = Some(now());
        self.exit_code = exit_code;
        self.signal = signal;
        self.ended_by = Some(by);
    }

    /// Whether the run ended because git-shard stopped it.
    pub fn was_stopped(&self) -> bool {
        self.has_ended() && (self.stop_requested_at.is_some() || self.ended_by == Some(EndedBy::Stop))
    }

    /// Take back a launch no supervisor has claimed: none ever will.
    pub fn cancel(&mut self) {
        self.end(EndedBy::Cancelled, None, None);
    }

    /// A launch that was taken back before an agent started.
    pub fn was_cancelled(&self) -> bool {
        self.pid.is_none() && self.ended_by == Some(EndedBy::Cancelled)
    }

    /// The supervisor's descriptor of the agent's folder, when it recorded one.
    pub fn held(&self) -> Option<crate::process::Held> {
        Some(crate::process::Held {
            supervisor: self.supervisor_pid?,
            fd: self.supervisor_proc_fd?,
        })
    }

    /// The identity of the agent, when the supervisor recorded one.
    pub fn identity(&self) -> Option<crate::process::Identity> {
        Some(crate::process::Identity {
            pid: self.pid?,
            start_ticks: self.start_ticks?,
            boot_id: self.boot_id.clone()?,
        })
    }
}

/// Why a record file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot parse: {0}")]
    Parse(String),
    #[error("is not a regular file (a link, a pipe or a device); records are plain files")]
    NotAFile,
    #[error("is {size} bytes; a record is at most {} bytes", crate::shard::store::MAX_RECORD)]
    TooLarge { size: u64 },
    #[error("written by a newer git-shard (record version {found}, this binary knows {VERSION})")]
    NewerVersion { found: u64 },
}

impl Record {
    pub fn from_toml(text: &str) -> Result<Record, RecordError> {
        use serde::Deserialize as _;
        use toml::de::{DeTable, DeValue};
        // Say where: a message such as "invalid digit" alone does not tell which key is wrong.
        let parse_error = |e: toml::de::Error| {
            let Some(span) = e.span().filter(|s| s.start < text.len()) else {
                return RecordError::Parse(e.message().to_owned());
            };
            let line_no = text[..span.start].matches('\n').count() + 1;
            let line = text.lines().nth(line_no - 1).unwrap_or_default();
            let shown: String = line.chars().take(60).collect();
            RecordError::Parse(format!("line {line_no} (`{}`): {}", shown.trim(), e.message()))
        };
        // The text is parsed once, into toml's borrowing tree (parsing is most of what the prompt
        // spends on a record). The version is read from the tree before the schema, so that a newer
        // record with a different shape is reported as newer rather than as garbage.
        let root = DeTable::parse(text).map_err(parse_error)?;
        let version = match root.get_ref().get("version").map(|v| v.get_ref()) {
            Some(DeValue::Integer(v)) => i64::from_str_radix(v.as_str(), v.radix()).ok(),
            Some(_) => None,
            None => return Err(RecordError::Parse("missing version".into())),
        };
        match version {
            Some(v) if v > i64::from(VERSION) => return Err(RecordError::NewerVersion { found: v as u64 }),
            Some(v) if v == i64::from(VERSION) => {}
            _ => {
                let raw = &text[root.get_ref()["version"].span()];
                return Err(RecordError::Parse(format!("unsupported version {raw}")));
            }
        }
        let record = Record::deserialize(toml::de::Deserializer::from(root)).map_err(parse_error)?;
        // The supervisor runs `command[0]`: a record without one is refused by name, not run as
        // something else.
        if record.command.first().is_none_or(|c| c.is_empty()) {
            return Err(RecordError::Parse("`command` is empty".into()));
        }
        Ok(record)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a record always serialises")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Record {
        Record {
            version: VERSION,
            name: "fix-login".into(),
            branch: "shard/fix-login".into(),
            created_branch: true,
            incomplete: false,
            removing: false,
            worktree: "/tmp/r.shards/fix-login".into(),
            worktree_id: "fix-login".into(),
            agent: "custom".into(),
            command: vec!["sh".into(), "-c".into(), "echo 'hi'; sleep 1".into()],
            terminal: "background".into(),
            created_at: "2026-11-27T01:00:00Z".parse().unwrap(),
            orphaned_at: None,
            base: Base {
                refname: Some("refs/heads/main".into()),
                commit: "0123456789abcdef0123456789abcdef01234567".into(),
                extra: BTreeMap::new(),
            },
            port: None,
            ports: BTreeMap::new(),
            pending_setup: false,
            process: None,
            git_process: None,
            extra: BTreeMap::new(),
        }
    }

    #[test]
    fn round_trips() {
        let mut r = sample();
        assert_eq!(Record::from_toml(&r.to_toml()).unwrap(), r);
        r.git_process = Some(GitProcess {
            pid: 42,
            start_ticks: 7,
            boot_id: "b".into(),
            extra: BTreeMap::new(),
        });
        assert_eq!(Record::from_toml(&r.to_toml()).unwrap(), r);
    }

    #[test]
    fn keeps_unknown_fields() {
        let text = format!("{}future = \"kept\"\n", sample().to_toml());
        let r = Record::from_toml(&text).unwrap();
        assert!(r.to_toml().contains("future = \"kept\""));
    }

    #[test]
    fn refuses_newer_and_broken() {
        let newer = sample().to_toml().replace("version = 1", "version = 2");
        assert!(matches!(
            Record::from_toml(&newer),
            Err(RecordError::NewerVersion { found: 2 })
        ));
        assert!(matches!(
            Record::from_toml("version = 1\nname ="),
            Err(RecordError::Parse(_))
        ));
        assert!(matches!(Record::from_toml("name = \"x\""), Err(RecordError::Parse(_))));
        let wrong_type = sample().to_toml().replace("terminal = \"background\"", "terminal = 3");
        assert!(matches!(Record::from_toml(&wrong_type), Err(RecordError::Parse(_))));
    }

    #[test]
    fn version_is_read_in_any_integer_form_and_nothing_else() {
        let with = |v: &str| Record::from_toml(&sample().to_toml().replace("version = 1", &format!("version = {v}")));
        assert!(with("0x1").is_ok());
        assert!(with("+1").is_ok());
        assert!(matches!(with("0x10"), Err(RecordError::NewerVersion { found: 16 })));
        for bad in ["0", "-1", "\"1\"", "1.0", "99999999999999999999"] {
            match with(bad) {
                Err(RecordError::Parse(m)) => assert!(m.contains("version"), "{bad}: {m}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever is in the file, parsing returns, it never panics.
        #[test]
        fn parsing_never_panics(text in ".{0,400}") {
            let _ = Record::from_toml(&text);
        }

        /// A record that parses is written back with everything it held, unknown fields too.
        #[test]
        fn what_parses_round_trips(
            name in "[a-z][a-z0-9-]{0,20}",
            command in proptest::collection::vec(".{1,20}", 1..4),
            pid in proptest::option::of(any::<u32>()),
            // TOML integers are i64; start values (ticks since boot, or microseconds since the
            // epoch on macOS) stay far below that.
            ticks in 0..=i64::MAX as u64,
            extra_value in ".{0,30}",
        ) {
            let mut r = super::tests::sample();
            r.name = name;
            r.command = command;
            r.process = Some(ProcessRecord { pid, start_ticks: Some(ticks), ..ProcessRecord::default() });
            r.extra.insert("from_the_future".into(), toml::Value::String(extra_value));
            let text = r.to_toml();
            let back = Record::from_toml(&text).unwrap();
            prop_assert_eq!(&back, &r);
            prop_assert_eq!(back.to_toml(), text);
        }

        /// Cutting a valid record anywhere gives an error or a record, never a panic.
        #[test]
        fn truncation_never_panics(cut in 0usize..2000) {
            let text = super::tests::sample().to_toml();
            let cut = cut.min(text.len());
            if text.is_char_boundary(cut) {
                let _ = Record::from_toml(&text[..cut]);
            }
        }
    }
}
