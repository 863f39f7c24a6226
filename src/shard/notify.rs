//! Telling the user that an agent needs them (`waiting`), finished its turn (`idle`) or ended.
//!
//! Invariants:
//! - One notification per transition into a told state (`waiting`, `idle`, ended): callers tell
//!   only changes, and an agent that flaps back into the state it was last told of (waiting →
//!   working → waiting within [`DEBOUNCE`]) is not told again. The decision is taken and recorded
//!   under the shard's lock (`ProcessRecord::notified`), so two hooks racing cannot both send.
//! - Never in the agent's way: the command is started detached with no input or output and not
//!   waited for, and any failure is ignored.
//! - Not while the user is looking: for a run in tmux, nothing is sent when its pane is the
//!   active pane of the active window of an attached session.
//! - A committed `.git-shard.toml` cannot make it run anything before `git shard config --trust`.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::config::{Config, NotifySpec};

/// The built-in ways to notify.
pub const BUILTINS: &[&str] = &["desktop", "tmux", "terminal"];

/// The shortest time between two notifications of one run.
pub const DEBOUNCE: Duration = Duration::from_secs(3);

/// One transition to tell.
pub struct Event<'a> {
    pub name: &'a str,
    pub branch: &'a str,
    /// `waiting`, `idle`, or how the run ended (`exited (1)`).
    pub state: &'a str,
    pub message: &'a str,
    /// The terminal's ids of the run's pane (`TMUX`, `TMUX_PANE`, …).
    pub terminal_env: &'a BTreeMap<String, String>,
}

/// Whether a notification for `state` may go now, given the last one (`notified`, at `at`).
pub fn due(state: &str, notified: Option<&str>, at: Option<jiff::Timestamp>, now: jiff::Timestamp) -> bool {
    notified != Some(state) || at.is_none_or(|at| now.duration_since(at).unsigned_abs() >= DEBOUNCE)
}

/// Decide, under the shard's lock, whether the run's transition to `state` is told; if so,
/// record it as told.
pub fn claim(p: &mut crate::shard::record::ProcessRecord, state: &str) -> bool {
    let now = crate::shard::record::now();
    if !due(state, p.notified.as_deref(), p.notified_at, now) {
        return false;
    }
    p.notified = Some(state.to_owned());
    p.notified_at = Some(now);
    true
}

/// Tell the transition of `name`'s run to `state` (the run as `record` holds it), if the
/// configuration asks for it. For callers outside a command: loads the configuration itself.
pub fn tell(common_dir: &std::path::Path, record: &crate::shard::Record, state: &str, message: &str) {
    let Ok(cfg) = Config::load(Some(common_dir), Some(&record.worktree)) else {
        return;
    };
    let empty = BTreeMap::new();
    let event = Event {
        name: &record.name,
        branch: &record.branch,
        state,
        message,
        terminal_env: record.process.as_ref().map_or(&empty, |p| &p.terminal_env),
    };
    send(&cfg, &event);
}

/// Send `event` the way the configuration says, if it says one and may.
pub fn send(cfg: &Config, event: &Event<'_>) {
    let Some(spec) = &cfg.notify else { return };
    if cfg.trusted("notify").is_err() || looking_at(event.terminal_env) {
        return;
    }
    let title = format!("git shard: {}", event.name);
    let body = if event.message.is_empty() {
        event.state.to_owned()
    } else {
        format!("{}: {}", event.state, event.message)
    };
    let argv: Vec<String> = match spec {
        NotifySpec::Builtin(b) if b == "terminal" => {
            terminal(&title, &body);
            return;
        }
        NotifySpec::Builtin(b) if b == "tmux" => {
            let Some(socket) = event.terminal_env.get("TMUX").and_then(|t| t.split(',').next()) else {
                return;
            };
            let mut argv = vec![
                "tmux".to_owned(),
                "-S".into(),
                socket.to_owned(),
                "display-message".into(),
            ];
            if let Some(pane) = event.terminal_env.get("TMUX_PANE") {
                argv.extend(["-t".into(), pane.clone()]);
            }
            argv.push(format!("{title} {body}").replace('#', "##"));
            argv
        }
        NotifySpec::Builtin(_) if cfg!(target_os = "macos") => vec![
            "osascript".into(),
            "-e".into(),
            "on run argv".into(),
            "-e".into(),
            "display notification (item 2 of argv) with title (item 1 of argv)".into(),
            "-e".into(),
            "end run".into(),
            title,
            body,
        ],
        NotifySpec::Builtin(_) => vec!["notify-send".into(), title, body],
        NotifySpec::Command(template) => {
            let values = [
                ("name", event.name),
                ("branch", event.branch),
                ("activity", event.state),
                ("message", event.message),
            ];
            let expanded: Result<Vec<String>, String> = template
                .iter()
                .map(|e| {
                    crate::template::expand(e, crate::template::lookup(&values, Some(event.terminal_env)))
                        .map(|e| e.text)
                })
                .collect();
            match expanded {
                Ok(argv) => argv,
                Err(_) => return,
            }
        }
    };
    spawn_detached(&argv);
}

/// Start `argv` without waiting for it, in a process group of its own, with no input or output.
fn spawn_detached(argv: &[String]) {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = argv.split_first() else {
        return;
    };
    let started = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    tracing::debug!(?argv, ok = started.is_ok(), "notify");
}

/// Whether the user is looking at the run's tmux pane right now.
fn looking_at(terminal_env: &BTreeMap<String, String>) -> bool {
    let (Some(tmux), Some(pane)) = (terminal_env.get("TMUX"), terminal_env.get("TMUX_PANE")) else {
        return false;
    };
    let Some(socket) = tmux.split(',').next() else {
        return false;
    };
    Command::new("tmux")
        .args(["-S", socket, "display-message", "-p", "-t", pane])
        .arg("#{pane_active}#{window_active}#{session_attached}")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| {
            let text = String::from_utf8_lossy(&o.stdout);
            let flags = text.trim();
            flags.starts_with("11") && flags[2..].parse::<u32>().is_ok_and(|n| n > 0)
        })
}

/// OSC 9 (iTerm2, WezTerm, kitty, Windows Terminal), OSC 777 (VTE, foot) and a bell, written to
/// the controlling terminal: the run's own window.
fn terminal(title: &str, body: &str) {
    use std::io::Write;
    let clean = |s: &str| s.chars().filter(|c| !c.is_control()).collect::<String>();
    let (title, body) = (clean(title), clean(body));
    if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
        let _ = write!(tty, "\x1b]9;{title}: {body}\x07\x1b]777;notify;{title};{body}\x07\x07");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_notification_per_state_and_none_too_soon() {
        let t0: jiff::Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
        let later = |s: i64| t0 + jiff::SignedDuration::from_secs(s);
        assert!(due("waiting", None, None, t0));
        assert!(
            due("idle", Some("waiting"), Some(t0), later(1)),
            "another state is told at once"
        );
        assert!(
            !due("waiting", Some("waiting"), Some(t0), later(1)),
            "flapping back is not"
        );
        assert!(due("waiting", Some("waiting"), Some(t0), later(3)), "a new episode is");
    }
}
