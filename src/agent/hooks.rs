//! Each agent's own hook mechanism wired to `git-shard __hook <agent>`, for one run (see
//! `shard::activity` for what the events mean, `commands::hook` for the entry point).
//!
//! Invariants:
//! - Nothing of the user's is edited: the wiring is in the agent's arguments and environment for
//!   this run only, and the user's own hooks and settings keep working beside it.
//! - Every hook command is `<git-shard> __hook <agent>`, run by the agent itself (directly or
//!   through its shell), so the entry point can prove the event comes from the run's agent.
//! - A wiring the agent would not accept as given (an `OPENCODE_CONFIG_CONTENT` of the user's that
//!   is not JSON) is not made at all; the run's CPU time stands in.

use std::io::Write;
use std::path::Path;

use sha2::Digest;

/// What a run's command becomes with hooks: its arguments, and variables to set for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wiring {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// Claude Code's hook events that say what it is doing (see `shard::activity::from_claude`).
const CLAUDE_EVENTS: &[&str] = &[
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PermissionRequest",
    "Notification",
    "Stop",
    // A turn that ends in an API error (rate limit, overload) ends with this instead of `Stop`.
    "StopFailure",
    "PostToolUseFailure",
    "SessionEnd",
];

/// Codex's hook events that say what it is doing, with the name its trust state uses.
const CODEX_EVENTS: &[(&str, &str)] = &[
    ("UserPromptSubmit", "user_prompt_submit"),
    ("PreToolUse", "pre_tool_use"),
    ("PermissionRequest", "permission_request"),
    ("PostToolUse", "post_tool_use"),
    ("Stop", "stop"),
    ("Interrupt", "interrupt"),
    ("SessionEnd", "session_end"),
];

/// opencode's plugin, written where the runs of a repository find it (see `wire`).
const OPENCODE_PLUGIN: &str = include_str!("opencode.js");

/// The path the hooks run git-shard by: the one on `PATH` when it is this binary, as the user
/// installed it (a package manager's link survives an upgrade, the versioned file it points to
/// may not, and `current_exe` names that file), else this binary's own path.
pub fn hook_exe() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let real = std::fs::canonicalize(&exe).ok();
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("git-shard"))
            .find(|candidate| candidate.is_absolute() && std::fs::canonicalize(candidate).ok() == real)
    });
    Some(on_path.unwrap_or(exe))
}

/// `argv` with the agent's hooks wired to `exe __hook <agent>` for this run. `agents_dir`: a
/// folder of ours for files an agent must load (opencode's plugin); `env`: the run's environment
/// as the agent will get it. `None` for a command without hooks, whose activity the supervisor
/// estimates from its CPU time instead.
pub fn wire(
    argv: &[String],
    exe: &Path,
    agents_dir: &Path,
    run_id: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Option<Wiring> {
    let program = Path::new(argv.first()?).file_name()?.to_str()?;
    let exe_text = exe.to_str()?;
    // With the run's id: proof that the call comes from this run's own wiring (`commands::hook`).
    let hook_command = |agent: &str| {
        Some(format!(
            "{} __hook {agent} {}",
            shlex::try_quote(exe_text).ok()?,
            shlex::try_quote(run_id).ok()?
        ))
    };
    let mut wiring = Wiring {
        argv: vec![argv[0].clone()],
        env: Vec::new(),
    };
    match program {
        "claude" => {
            // `--settings` adds to the user's settings; their own hooks run too.
            let hook = serde_json::json!([{ "hooks": [{ "type": "command", "command": hook_command("claude")? }] }]);
            let hooks: serde_json::Map<String, serde_json::Value> =
                CLAUDE_EVENTS.iter().map(|e| ((*e).to_owned(), hook.clone())).collect();
            wiring.argv.push("--settings".into());
            wiring.argv.push(serde_json::json!({ "hooks": hooks }).to_string());
        }
        "codex" => wiring.argv.extend(codex_args(&hook_command("codex")?)),
        "opencode" => {
            let plugin = write_opencode_plugin(agents_dir, exe_text).ok()?;
            let url = format!("file://{}", plugin.to_str()?);
            let mut config = match env(OPENCODE_CONFIG_CONTENT) {
                Some(text) => serde_json::from_str::<serde_json::Value>(&text).ok()?,
                None => serde_json::json!({}),
            };
            // Plugins of every configuration layer add up; the user's inline ones stay.
            let plugins = config
                .as_object_mut()?
                .entry("plugin")
                .or_insert_with(|| serde_json::json!([]))
                .as_array_mut()?;
            plugins.push(url.into());
            wiring.env.push((OPENCODE_CONFIG_CONTENT.into(), config.to_string()));
        }
        _ => return None,
    }
    wiring.argv.extend(argv[1..].iter().cloned());
    Some(wiring)
}

/// opencode reads this variable as one more configuration layer, merged over the user's files.
const OPENCODE_CONFIG_CONTENT: &str = "OPENCODE_CONFIG_CONTENT";

/// Codex takes hooks from `-c` overrides, but runs only hooks it trusts: the trust state that
/// its own review dialog would write (a SHA-256 of the hook's definition, keyed by where it was
/// defined) goes along, so that the hooks run without a dialog and without
/// `--dangerously-bypass-hook-trust` (which would trust a cloned repository's hooks too).
/// The timeouts are explicit: they are part of what the hash covers.
fn codex_args(command: &str) -> Vec<String> {
    let quoted = serde_json::to_string(command).expect("a string serializes");
    let mut args = Vec::new();
    let mut trust = Vec::new();
    for (event, label) in CODEX_EVENTS {
        // Codex gives the end of a session or turn one second at most.
        let timeout = if matches!(*label, "session_end" | "interrupt") {
            1
        } else {
            10
        };
        args.push("-c".into());
        args.push(format!(
            "hooks.{event}=[{{hooks=[{{type=\"command\",command={quoted},timeout={timeout}}}]}}]"
        ));
        // What Codex hashes: its canonical JSON of the event's group (keys sorted, compact).
        let definition = format!(
            "{{\"event_name\":\"{label}\",\"hooks\":[{{\"async\":false,\"command\":{quoted},\"timeout\":{timeout},\"type\":\"command\"}}]}}"
        );
        let hash: String = sha2::Sha256::digest(definition.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        trust.push(format!(
            "\"/<session-flags>/config.toml:{label}:0:0\"={{trusted_hash=\"sha256:{hash}\"}}"
        ));
    }
    // One table: Codex splits a `-c` key at its dots (so `config.toml` cannot be spelled as a
    // path), and a second `-c hooks.state` would replace the first. It merges with the trust the
    // user's own configuration records, whose hooks run beside ours.
    args.push("-c".into());
    args.push(format!("hooks.state={{{}}}", trust.join(",")));
    args
}

/// Write opencode's plugin (with the path of the hook program in it) to `dir`, unless it is
/// there already; returns its path. Written whole and renamed, so a run starting meanwhile never
/// loads half a plugin.
fn write_opencode_plugin(dir: &Path, exe: &str) -> std::io::Result<std::path::PathBuf> {
    let text = OPENCODE_PLUGIN.replace(
        "\"__GIT_SHARD__\"",
        &serde_json::to_string(exe).map_err(std::io::Error::other)?,
    );
    let path = dir.join("git-shard-opencode.js");
    if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn claude_gets_settings_with_hooks() {
        let dir = tempfile::tempdir().unwrap();
        let exe = Path::new("/opt/my tools/git-shard");
        let w = wire(&argv(&["/usr/bin/claude", "-p", "x"]), exe, dir.path(), "run-1", |_| {
            None
        })
        .unwrap();
        assert_eq!(
            (w.argv[0].as_str(), w.argv[1].as_str()),
            ("/usr/bin/claude", "--settings")
        );
        assert_eq!(&w.argv[3..], ["-p", "x"]);
        let settings: serde_json::Value = serde_json::from_str(&w.argv[2]).unwrap();
        assert_eq!(
            settings["hooks"]["Notification"][0]["hooks"][0]["command"],
            "'/opt/my tools/git-shard' __hook claude run-1"
        );
        assert_eq!(
            wire(&argv(&["sh", "-c", "true"]), exe, dir.path(), "run-1", |_| None),
            None
        );
    }

    #[test]
    fn codex_hooks_come_with_the_trust_codex_would_record() {
        let dir = tempfile::tempdir().unwrap();
        let w = wire(
            &argv(&["codex", "exec", "go"]),
            Path::new("/bin/gs"),
            dir.path(),
            "run-1",
            |_| None,
        )
        .unwrap();
        assert_eq!(&w.argv[w.argv.len() - 2..], ["exec", "go"]);
        assert!(w.argv.contains(
            &r#"hooks.Stop=[{hooks=[{type="command",command="/bin/gs __hook codex run-1",timeout=10}]}]"#.to_owned()
        ));
        // The trust Codex 0.171.0 records for this hook (sha256 of its canonical definition,
        // `{"event_name":"stop","hooks":[{"async":false,"command":"/bin/gs __hook codex run-1",
        // "timeout":10,"type":"command"}]}`, keys sorted, no spaces).
        let state = w.argv.iter().find(|a| a.starts_with("hooks.state={")).unwrap();
        assert!(
            state.contains(
                r#""/<session-flags>/config.toml:stop:0:0"={trusted_hash="sha256:13db9ae10322480c96dc830490992b4f0e3ae34279d1172e1bda277b67f7389a"}"#
            ),
            "{state}"
        );
    }

    #[test]
    fn opencode_gets_its_plugin_beside_the_users_inline_config() {
        let dir = tempfile::tempdir().unwrap();
        let exe = Path::new("/opt/it's/git-shard");
        let user = r#"{"plugin":["mine"],"model":"x/y"}"#;
        let w = wire(&argv(&["opencode"]), exe, dir.path(), "run-1", |k| {
            (k == OPENCODE_CONFIG_CONTENT).then(|| user.to_owned())
        })
        .unwrap();
        assert_eq!(w.argv, ["opencode"]);
        let (key, value) = &w.env[0];
        assert_eq!(key, OPENCODE_CONFIG_CONTENT);
        let config: serde_json::Value = serde_json::from_str(value).unwrap();
        let plugin = dir.path().join("git-shard-opencode.js");
        assert_eq!(
            config,
            serde_json::json!({"plugin": ["mine", format!("file://{}", plugin.display())], "model": "x/y"})
        );
        let text = std::fs::read_to_string(&plugin).unwrap();
        assert!(text.contains("const HOOK = \"/opt/it's/git-shard\"\n"), "{text}");
        // A user's variable that opencode would not read either: no wiring.
        assert_eq!(
            wire(&argv(&["opencode"]), exe, dir.path(), "run-1", |_| Some("{oops".into())),
            None
        );
    }
}
