//! What a running agent is doing: `working`, `waiting` for its user, or `idle` after its turn.
//!
//! Invariants:
//! - Activity belongs to one run: it is stored in that run's `[process]` and shown only while the
//!   run's identity is alive (`RunStatus::Running`). An agent that died mid-`working` shows no
//!   activity at all, never a stale one, whatever the last event said.
//! - An event counts only when it comes from the run's own agent: the hook process carries the
//!   run id the supervisor gave the agent, and the recorded agent (identity verified) must be its
//!   parent or the parent of the shell the agent ran it through. A nested agent (a `claude` run by
//!   a tool call of the shard's agent) inherits the run id but is not that parent, so its events
//!   are ignored, as are those of a run that has been replaced.
//! - Hooks are authoritative where an agent has them; for any other command the supervisor
//!   estimates `working`/`idle` from the run's CPU time (never `waiting`: CPU cannot tell).
//! - The hook entry point never fails the agent and never prints: it exits 0 whatever happens.

use serde::{Deserialize, Serialize};

use super::record::ProcessRecord;
use super::status::RunStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activity {
    Working,
    Waiting,
    Idle,
}

impl Activity {
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Working => "working",
            Activity::Waiting => "waiting",
            Activity::Idle => "idle",
        }
    }
}

/// Where an activity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The agent's own hooks.
    Hooks,
    /// The run's CPU time (a heuristic).
    Cpu,
}

/// The activity to show for a run: only while it is alive.
pub fn shown(p: Option<&ProcessRecord>, status: RunStatus) -> Option<Activity> {
    (status == RunStatus::Running)
        .then(|| p.and_then(|p| p.activity))
        .flatten()
}

/// What one hook event means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Set(Activity, Option<String>),
    /// The session ended: nothing to show until a new one says otherwise.
    Clear,
}

/// What one hook payload (JSON on stdin) of `agent` means; `None` for an event that says nothing
/// about what the agent is doing, or an agent we do not wire.
pub fn from_hook(agent: &str, payload: &serde_json::Value) -> Option<Change> {
    match agent {
        "claude" | "codex" => from_claude_or_codex(payload),
        "gemini" => from_gemini(payload),
        "opencode" => from_opencode(payload),
        _ => None,
    }
}

/// Claude Code's hook payload: `hook_event_name`, and for notifications `notification_type`
/// (`permission_prompt`, `idle_prompt`, `elicitation_dialog`, …) and `message`. Codex's hooks use
/// the same names and fields (no `Notification`; `Interrupt` when the user cancels a turn or an
/// approval, after which no `Stop` comes).
fn from_claude_or_codex(payload: &serde_json::Value) -> Option<Change> {
    let event = payload.get("hook_event_name")?.as_str()?;
    let message = payload.get("message").and_then(|m| m.as_str()).map(str::to_owned);
    Some(match event {
        "UserPromptSubmit" | "PreToolUse" | "PostToolUse" | "PostToolUseFailure" | "SubagentStart" => {
            Change::Set(Activity::Working, None)
        }
        "PermissionRequest" => Change::Set(Activity::Waiting, Some(permission_to_use(payload))),
        "Notification" => match payload.get("notification_type").and_then(|t| t.as_str()) {
            Some("permission_prompt") => Change::Set(Activity::Waiting, message),
            Some("elicitation_dialog") => Change::Set(Activity::Waiting, message),
            Some("idle_prompt") => Change::Set(Activity::Idle, None),
            // Older versions send no type; their permission message names it.
            None if message.as_deref().is_some_and(|m| m.contains("permission")) => {
                Change::Set(Activity::Waiting, message)
            }
            _ => return None,
        },
        "Stop" | "StopFailure" | "Interrupt" => Change::Set(Activity::Idle, None),
        "SessionEnd" => Change::Clear,
        _ => return None,
    })
}

fn permission_to_use(payload: &serde_json::Value) -> String {
    match payload.get("tool_name").and_then(|t| t.as_str()) {
        Some(tool) => format!("permission to use {tool}"),
        None => "permission".into(),
    }
}

/// Gemini CLI's hook payload: `hook_event_name` (`BeforeAgent` … `AfterAgent` is one turn; a
/// `Notification` of type `ToolPermission` is its approval prompt).
fn from_gemini(payload: &serde_json::Value) -> Option<Change> {
    let event = payload.get("hook_event_name")?.as_str()?;
    Some(match event {
        "BeforeAgent" | "BeforeTool" | "AfterTool" => Change::Set(Activity::Working, None),
        "Notification" if payload.get("notification_type")?.as_str()? == "ToolPermission" => {
            let message = payload.get("message").and_then(|m| m.as_str());
            Change::Set(Activity::Waiting, message.map(str::to_owned))
        }
        "AfterAgent" => Change::Set(Activity::Idle, None),
        "SessionEnd" => Change::Clear,
        _ => return None,
    })
}

/// What git-shard's opencode plugin says (`agent/opencode.js`): the whole agent's `state`, with
/// a `message` for `waiting`.
fn from_opencode(payload: &serde_json::Value) -> Option<Change> {
    let message = payload
        .get("message")
        .and_then(|m| m.as_str())
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    Some(match payload.get("state")?.as_str()? {
        "working" => Change::Set(Activity::Working, None),
        "waiting" => Change::Set(Activity::Waiting, message),
        "idle" => Change::Set(Activity::Idle, None),
        _ => return None,
    })
}

/// The CPU heuristic for agents without hooks: `working` while the run used at least
/// [`BUSY_USEC`] of CPU in the last [`WINDOW`], `idle` once it has not for [`QUIET`].
pub struct CpuJudge {
    samples: std::collections::VecDeque<(std::time::Instant, u64)>,
    state: Option<Activity>,
    busy_at: Option<std::time::Instant>,
    started: std::time::Instant,
}

/// The window CPU use is judged over.
pub const WINDOW: std::time::Duration = std::time::Duration::from_secs(3);
/// CPU time in [`WINDOW`] that counts as working (5 % of one core: a waiting TUI uses less).
pub const BUSY_USEC: u64 = 150_000;
/// Quiet time after which a run is idle.
pub const QUIET: std::time::Duration = std::time::Duration::from_secs(5);

impl CpuJudge {
    pub fn new(now: std::time::Instant) -> CpuJudge {
        CpuJudge {
            samples: std::collections::VecDeque::new(),
            state: None,
            busy_at: None,
            started: now,
        }
    }

    /// Take the run's total CPU time at `now`; returns the new activity when it changes.
    pub fn observe(&mut self, now: std::time::Instant, cpu_usec: u64) -> Option<Activity> {
        self.samples.push_back((now, cpu_usec));
        while self.samples.len() > 1 && now.duration_since(self.samples[1].0) >= WINDOW {
            self.samples.pop_front();
        }
        let (_, first) = self.samples[0];
        if cpu_usec.saturating_sub(first) >= BUSY_USEC {
            self.busy_at = Some(now);
        }
        let quiet_from = self.busy_at.unwrap_or(self.started);
        let next = if self.busy_at.is_some_and(|t| now.duration_since(t) < WINDOW) {
            Activity::Working
        } else if now.duration_since(quiet_from) >= QUIET {
            Activity::Idle
        } else {
            return None;
        };
        (self.state != Some(next)).then(|| {
            self.state = Some(next);
            next
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cpu_use_is_judged_working_then_idle() {
        use std::time::{Duration, Instant};
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut judge = CpuJudge::new(t0);
        // A busy loop: a full core.
        assert_eq!(judge.observe(at(0), 0), None);
        assert_eq!(judge.observe(at(1), 1_000_000), Some(Activity::Working));
        assert_eq!(judge.observe(at(2), 2_000_000), None);
        // Then quiet (the CPU of seconds 1–2 still counts at 4): working until the window has
        // passed, idle once the quiet period has.
        assert_eq!(judge.observe(at(4), 2_000_000), None);
        assert_eq!(judge.observe(at(6), 2_010_000), None);
        assert_eq!(judge.observe(at(8), 2_010_000), None);
        assert_eq!(judge.observe(at(9), 2_010_000), Some(Activity::Idle));
        // A sleeping run never works.
        let mut sleeper = CpuJudge::new(t0);
        let changes: Vec<_> = (0..8).filter_map(|s| sleeper.observe(at(s), 1_000)).collect();
        assert_eq!(changes, [Activity::Idle]);
    }

    #[test]
    fn claude_events_map_to_activities() {
        let ev = |v: serde_json::Value| from_hook("claude", &v);
        assert_eq!(
            ev(json!({"hook_event_name": "UserPromptSubmit", "prompt": "x"})),
            Some(Change::Set(Activity::Working, None))
        );
        assert_eq!(
            ev(
                json!({"hook_event_name": "Notification", "notification_type": "permission_prompt",
                      "message": "Claude needs your permission to use Bash"})
            ),
            Some(Change::Set(
                Activity::Waiting,
                Some("Claude needs your permission to use Bash".into())
            ))
        );
        assert_eq!(
            ev(
                json!({"hook_event_name": "Notification", "notification_type": "idle_prompt",
                      "message": "Claude is waiting for your input"})
            ),
            Some(Change::Set(Activity::Idle, None))
        );
        assert_eq!(
            ev(json!({"hook_event_name": "Stop", "stop_hook_active": false})),
            Some(Change::Set(Activity::Idle, None))
        );
        assert_eq!(ev(json!({"hook_event_name": "SessionEnd"})), Some(Change::Clear));
        assert_eq!(ev(json!({"hook_event_name": "PreCompact"})), None);
        assert_eq!(ev(json!({"no": "event"})), None);
        // Codex: the same events, and an interrupted turn ends it.
        assert_eq!(
            from_hook(
                "codex",
                &json!({"hook_event_name": "PermissionRequest", "tool_name": "Bash"})
            ),
            Some(Change::Set(Activity::Waiting, Some("permission to use Bash".into())))
        );
        assert_eq!(
            from_hook("codex", &json!({"hook_event_name": "Interrupt", "turn_id": "t"})),
            Some(Change::Set(Activity::Idle, None))
        );
    }

    #[test]
    fn gemini_and_opencode_events_map_to_activities() {
        let gemini = |v: serde_json::Value| from_hook("gemini", &v);
        assert_eq!(
            gemini(json!({"hook_event_name": "BeforeAgent", "prompt": "go"})),
            Some(Change::Set(Activity::Working, None))
        );
        assert_eq!(
            gemini(
                json!({"hook_event_name": "Notification", "notification_type": "ToolPermission",
                          "message": "Tool Confirm Shell Command requires execution"})
            ),
            Some(Change::Set(
                Activity::Waiting,
                Some("Tool Confirm Shell Command requires execution".into())
            ))
        );
        assert_eq!(
            gemini(json!({"hook_event_name": "AfterAgent"})),
            Some(Change::Set(Activity::Idle, None))
        );
        assert_eq!(
            gemini(json!({"hook_event_name": "SessionStart", "source": "startup"})),
            None
        );
        let opencode = |v: serde_json::Value| from_hook("opencode", &v);
        assert_eq!(
            opencode(json!({"order": 1, "state": "waiting", "message": "permission to use bash"})),
            Some(Change::Set(Activity::Waiting, Some("permission to use bash".into())))
        );
        assert_eq!(
            opencode(json!({"order": 2, "state": "idle", "message": ""})),
            Some(Change::Set(Activity::Idle, None))
        );
    }
}
