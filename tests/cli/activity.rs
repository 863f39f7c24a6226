//! Activity of runs (issue 12): fake agents that fire their hooks exactly as the real ones do
//! (Claude Code: the `--settings` hooks git-shard passes, JSON on stdin through `sh -c`; Codex:
//! `-c hooks.…` with the trust Codex checks, through `bash -c`; opencode: git-shard's plugin, run by
//! node as opencode's runtime runs it), and the CPU heuristic for anything else.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// A fake `claude`: takes its hooks from the `--settings` it was given and hands each line of
/// `./events` to the hook of its `hook_event_name` (none: nothing runs), JSON on stdin. The hook
/// runs two shells down, neither of which `exec`s it, as a login shell (dash, fish) and npm's
/// launcher would leave it. A line starting with `!` is a tool it starts instead (in the
/// background, firing nothing, as after an approved permission prompt). Counts what it did in
/// `./fired`.
pub const FAKE_CLAUDE: &str = r#"#!/bin/sh
settings=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--settings" ]; then settings=$2; fi
  shift
done
n=0
while :; do
  if [ -f events ]; then
    total=$(wc -l < events)
    while [ "$n" -lt "$total" ]; do
      n=$((n+1))
      line=$(sed -n "${n}p" events)
      case "$line" in
        '!'*) sh -c "${line#!}" & ;;
        *)
          event=$(printf '%s' "$line" | sed -n 's/.*"hook_event_name":"\([A-Za-z]*\)".*/\1/p')
          cmd=$(printf '%s' "$settings" | sed -n "s/.*\"$event\":\[{\"hooks\":\[{\"command\":\"\([^\"]*\)\".*/\1/p")
          if [ -n "$cmd" ]; then printf '%s' "$line" | sh -c 'sh -c "$0"; :' "$cmd"; fi ;;
      esac
      echo "$n" > fired
    done
  fi
  sleep 0.02
done
"#;

/// A fake `codex`: takes its hooks from the `-c hooks.<Event>=[…]` overrides it was given and, as
/// Codex 0.171.0 does, runs one only when the `-c hooks.state={…}` trust names its definition's
/// SHA-256 (the canonical JSON Codex hashes); each line of `./events` goes to the hook of its
/// `hook_event_name` through `bash -c`, JSON on stdin. `!` lines start a tool, as for the fake claude.
const FAKE_CODEX: &str = r#"#!/bin/sh
args=$(printf '%s\n' "$@")
n=0
while :; do
  if [ -f events ]; then
    total=$(wc -l < events)
    while [ "$n" -lt "$total" ]; do
      n=$((n+1))
      line=$(sed -n "${n}p" events)
      case "$line" in
        '!'*) sh -c "${line#!}" & ;;
        *)
          event=$(printf '%s' "$line" | sed -n 's/.*"hook_event_name":"\([A-Za-z]*\)".*/\1/p')
          def=$(printf '%s\n' "$args" | grep "^hooks\.$event=")
          cmd=$(printf '%s' "$def" | sed -n 's/.*command="\([^"]*\)".*/\1/p')
          timeout=$(printf '%s' "$def" | sed -n 's/.*timeout=\([0-9]*\).*/\1/p')
          label=$(printf '%s' "$event" | sed 's/\([a-z]\)\([A-Z]\)/\1_\2/g' | tr 'A-Z' 'a-z')
          hash=$(printf '{"event_name":"%s","hooks":[{"async":false,"command":"%s","timeout":%s,"type":"command"}]}' \
            "$label" "$cmd" "$timeout" | sha256sum | cut -d' ' -f1)
          if printf '%s\n' "$args" | grep -qF "\"/<session-flags>/config.toml:$label:0:0\"={trusted_hash=\"sha256:$hash\"}"; then
            printf '%s' "$line" | bash -c "$cmd"
          else
            echo "untrusted hook for $event" >> untrusted
          fi ;;
      esac
      echo "$n" > fired
    done
  fi
  sleep 0.02
done
"#;

/// A fake `opencode`: loads the plugins named by `file://` URLs in `OPENCODE_CONFIG_CONTENT` as
/// opencode does (each named export is a plugin function returning hooks) and hands each line of
/// `./events` to their `event` hook as `{ event }`, without awaiting what it does, as opencode;
/// `=<json>` instead runs the plugin's hook program itself with that payload (an event late out of
/// order). The node process is the agent (`exec`), as opencode's binary is.
const FAKE_OPENCODE: &str = r#"#!/bin/sh
exec node --input-type=module -e '
import fs from "node:fs"
import { spawn } from "node:child_process"
const urls = JSON.parse(process.env.OPENCODE_CONFIG_CONTENT ?? "{}").plugin ?? []
const hooks = []
for (const url of urls.filter((u) => u.startsWith("file://"))) {
  const mod = await import(url)
  for (const plugin of Object.values(mod)) hooks.push(await plugin({ directory: process.cwd() }))
  const hook = fs.readFileSync(new URL(url), "utf8").match(/const HOOK = (".*")/)[1]
  hooks.hook = JSON.parse(hook)
}
let n = 0
setInterval(() => {
  const lines = fs.existsSync("events") ? fs.readFileSync("events", "utf8").split("\n").filter(Boolean) : []
  while (n < lines.length) {
    const line = lines[n++]
    if (line.startsWith("=")) {
      const child = spawn(hooks.hook, ["__hook", "opencode"], { stdio: ["pipe", "ignore", "ignore"] })
      child.stdin.end(line.slice(1))
    } else {
      for (const h of hooks) h.event({ event: JSON.parse(line) })
    }
    fs.writeFileSync("fired", String(n))
  }
}, 20)
'
"#;

/// A fake `gemini`: reads the hooks of the user's `~/.gemini/settings.json` (Gemini CLI has no
/// way to add hooks for one run; README shows the lines a user adds) and runs the command of
/// each line's `hook_event_name` through `bash -c`, JSON on stdin, as Gemini CLI does.
const FAKE_GEMINI: &str = r#"#!/bin/sh
settings=$(cat "$HOME/.gemini/settings.json")
n=0
while :; do
  if [ -f events ]; then
    total=$(wc -l < events)
    while [ "$n" -lt "$total" ]; do
      n=$((n+1))
      line=$(sed -n "${n}p" events)
      event=$(printf '%s' "$line" | sed -n 's/.*"hook_event_name":"\([A-Za-z]*\)".*/\1/p')
      cmd=$(printf '%s' "$settings" | tr -d '\n' | sed -n "s/.*\"$event\": *\[[^]]*\"command\": *\"\([^\"]*\)\".*/\1/p")
      [ -n "$cmd" ] && printf '%s' "$line" | bash -c "$cmd"
      echo "$n" > fired
    done
  fi
  sleep 0.02
done
"#;

pub fn install_fake(repo: &TestRepo, name: &str, text: &str) -> String {
    let bin = repo.tmp.path().join("agents-bin");
    fs::create_dir_all(&bin).unwrap();
    let p = bin.join(name);
    fs::write(&p, text).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:{}", bin.display(), test_path().to_string_lossy())
}

/// `git shard new <args>` with the fake agents of `path` first on PATH; it must succeed.
fn new_with(repo: &TestRepo, path: &str, args: &[&str]) {
    let out = repo.command_in(&repo.root, args).env("PATH", path).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Append one hook payload for the fake claude and wait until it has fired it.
pub fn fire(worktree: &Path, payload: &str) {
    let events = worktree.join("events");
    let mut text = fs::read_to_string(&events).unwrap_or_default();
    text.push_str(payload);
    text.push('\n');
    fs::write(&events, &text).unwrap();
    let n = text.lines().count().to_string();
    eventually("the hook fired", || {
        fs::read_to_string(worktree.join("fired")).is_ok_and(|f| f.trim() == n)
    });
}

fn activity(repo: &TestRepo, name: &str) -> Value {
    repo.list().into_iter().find(|v| v["name"] == name).unwrap()["activity"].clone()
}

fn prompt_json(repo: &TestRepo, dir: &Path) -> Value {
    let out = repo.command_in(dir, &["prompt", "--json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn claude_hooks_say_working_waiting_idle_and_nothing_once_the_agent_is_gone() {
    let repo = TestRepo::new();
    let path = install_fake(&repo, "claude", FAKE_CLAUDE);
    new_with(
        &repo,
        &path,
        &["new", "cc", "--terminal", "background", "--", "claude", "-p", "go"],
    );
    let wt = repo.shards_dir().join("cc");
    assert_eq!(activity(&repo, "cc"), Value::Null, "nothing said yet");

    fire(
        &wt,
        r#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"go"}"#,
    );
    assert_eq!(activity(&repo, "cc"), "working");
    assert_eq!(prompt_json(&repo, &wt)["activity"], "working");

    fire(
        &wt,
        r#"{"session_id":"s","hook_event_name":"Notification","notification_type":"permission_prompt","message":"Claude needs your permission to use Bash"}"#,
    );
    assert_eq!(activity(&repo, "cc"), "waiting");
    let waited = repo.run(&["wait", "cc", "--for", "waiting", "--timeout", "5"]);
    assert_eq!(waited.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&waited.stdout).trim(), "cc waiting");
    let status = repo.ok(&["status", "cc"]);
    assert!(
        status.contains("activity: waiting: Claude needs your permission to use Bash"),
        "{status}"
    );
    // tmux's status line names it, from any folder of the repository.
    for dir in [&repo.root, &wt] {
        let line = repo.command_in(dir, &["status-line"]).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&line.stdout).trim(), "◆ cc");
    }
    // The main worktree's summary puts the shard that needs you first.
    let summary = repo.command_in(&repo.root, &["prompt"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&summary.stdout).starts_with("1◆"),
        "{summary:?}"
    );
    assert_eq!(prompt_json(&repo, &repo.root)["counts"]["waiting"], 1);

    // An event from a process that is not the run's agent (a nested agent, a stale hook) is ignored.
    let record: toml::Table = toml::from_str(&fs::read_to_string(repo.record_path("cc")).unwrap()).unwrap();
    let run_id = record["process"]["run_id"].as_str().unwrap().to_owned();
    let mut stranger = repo.command_in(&wt, &["__hook", "claude"]);
    stranger
        .env("GIT_SHARD_NAME", "cc")
        .env("GIT_SHARD_RUN_ID", &run_id)
        .env("GIT_SHARD_COMMON_DIR", repo.common_dir())
        .stdin(std::process::Stdio::piped());
    let mut child = stranger.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(br#"{"hook_event_name":"Stop"}"#).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty());
    assert_eq!(activity(&repo, "cc"), "waiting", "the stranger's event was ignored");

    // Claude Code sends a second word on the same wait: the state and its start stay.
    let since = repo.shard("cc")["activity_since"].clone();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    fire(
        &wt,
        r#"{"session_id":"s","hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"sleep 30"}}"#,
    );
    assert_eq!(activity(&repo, "cc"), "waiting");
    assert_eq!(repo.shard("cc")["activity_since"], since, "the wait's start is kept");
    // The user approves: no hook says so, but the tool starts a process in the run.
    fire(&wt, "!sleep 30");
    eventually("working once the approved tool runs", || {
        activity(&repo, "cc") == "working"
    });

    fire(
        &wt,
        r#"{"session_id":"s","hook_event_name":"Stop","stop_hook_active":false}"#,
    );
    assert_eq!(activity(&repo, "cc"), "idle");
    let waited = repo.run(&["wait", "cc", "--for", "idle", "--timeout", "5"]);
    assert_eq!(String::from_utf8_lossy(&waited.stdout).trim(), "cc idle");

    // Working again, then the agent dies: its activity goes with it, never stale.
    fire(
        &wt,
        r#"{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Bash"}"#,
    );
    assert_eq!(activity(&repo, "cc"), "working");
    kill(pid_of(&repo.shard("cc")), 9);
    eventually("the run ended", || repo.shard("cc")["status"] != "running");
    assert_eq!(activity(&repo, "cc"), Value::Null);
    assert_eq!(repo.shard("cc")["activity_since"], Value::Null);
    let waited = repo.run(&["wait", "cc", "--for", "waiting", "--timeout", "5"]);
    assert_eq!(waited.status.code(), Some(4), "the run ended before it waited");
}

#[test]
fn codex_hooks_are_trusted_for_the_run_and_say_what_it_does() {
    let repo = TestRepo::new();
    let path = install_fake(&repo, "codex", FAKE_CODEX);
    new_with(
        &repo,
        &path,
        &["new", "cx", "--terminal", "background", "--", "codex", "exec", "go"],
    );
    let wt = repo.shards_dir().join("cx");
    let steps = [
        (
            r#"{"session_id":"t","hook_event_name":"UserPromptSubmit","prompt":"go"}"#,
            "working",
        ),
        (
            r#"{"session_id":"t","hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"make"}}"#,
            "waiting",
        ),
        (
            r#"{"session_id":"t","hook_event_name":"PostToolUse","tool_name":"Bash"}"#,
            "working",
        ),
        (
            r#"{"session_id":"t","hook_event_name":"Stop","stop_hook_active":false}"#,
            "idle",
        ),
        (
            r#"{"session_id":"t","hook_event_name":"UserPromptSubmit","prompt":"more"}"#,
            "working",
        ),
        // The user cancels the turn: no Stop follows.
        (
            r#"{"session_id":"t","hook_event_name":"Interrupt","turn_id":"2"}"#,
            "idle",
        ),
    ];
    for (payload, state) in steps {
        fire(&wt, payload);
        assert_eq!(activity(&repo, "cx"), state, "after {payload}");
        if state == "waiting" {
            let status = repo.ok(&["status", "cx"]);
            assert!(status.contains("activity: waiting: permission to use Bash"), "{status}");
        }
    }
    assert!(!wt.join("untrusted").exists(), "codex would have skipped a hook");
    fire(
        &wt,
        r#"{"session_id":"t","hook_event_name":"SessionEnd","reason":"other"}"#,
    );
    assert_eq!(activity(&repo, "cx"), Value::Null);
    repo.ok(&["stop", "cx"]);
}

#[test]
fn without_hooks_cpu_time_says_working_or_idle_never_waiting() {
    let repo = TestRepo::new();
    repo.ok(&["new", "busy", "--", "sh", "-c", "while :; do :; done"]);
    repo.ok(&["new", "calm", "--", "sleep", "300"]);
    let out = repo.run(&["wait", "busy", "calm", "--for", "any", "--timeout", "10"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    eventually("a busy loop works", || activity(&repo, "busy") == "working");
    let out = repo.run(&["wait", "calm", "--for", "idle", "--timeout", "10"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "calm idle");
    let status = repo.ok(&["status", "calm"]);
    assert!(status.contains("(from its CPU time)"), "{status}");
    let timed_out = repo.run(&["wait", "calm", "--for", "waiting", "--timeout", "0.3"]);
    assert_eq!(timed_out.status.code(), Some(3));
    repo.ok(&["stop", "--grace", "0", "busy"]);
}

#[test]
fn run_resume_continues_the_last_conversation_for_that_run_only() {
    let repo = TestRepo::new();
    let path = install_fake(
        &repo,
        "claude",
        "#!/bin/sh\nprintf '%s\\n' \"$@\" | grep -v '^{' >> args.txt\necho --- >> args.txt\n",
    );
    let run = |args: &[&str]| {
        let out = repo.command_in(&repo.root, args).env("PATH", &path).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["new", "r", "--no-launch", "--", "claude", "-p", "go on"]);
    run(&["run", "r", "--terminal", "background", "--resume"]);
    repo.wait_for("r", "exit", |v| v["status"] == "exited");
    run(&["run", "r", "--terminal", "background"]);
    repo.wait_for("r", "exit", |v| v["status"] == "exited");
    let args = fs::read_to_string(repo.shards_dir().join("r/args.txt")).unwrap();
    assert_eq!(
        args, "--settings\n--continue\n-p\ngo on\n---\n--settings\n-p\ngo on\n---\n",
        "resumed once, then the recorded command as it was"
    );
    assert_eq!(repo.shard("r")["command"], serde_json::json!(["claude", "-p", "go on"]));
    repo.ok(&["new", "plain", "--no-launch", "--", "sh", "-c", "true"]);
    let err = repo.refused(&["run", "plain", "--resume", "--terminal", "background"]);
    assert!(err.contains("no known way to continue"), "{err}");
}

#[test]
fn a_configured_notify_command_is_called_once_per_transition() {
    let repo = TestRepo::new();
    let path = install_fake(&repo, "claude", FAKE_CLAUDE);
    let calls = repo.tmp.path().join("notified");
    repo.user_config(&format!(
        "notify = [\"sh\", \"-c\", \"printf '%s|%s|%s\\\\n' \\\"$1\\\" \\\"$2\\\" \\\"$3\\\" >> {}\", \"notify\", \"{{name}}\", \"{{activity}}\", \"{{message}}\"]\n",
        calls.display()
    ));
    new_with(
        &repo,
        &path,
        &["new", "n", "--terminal", "background", "--", "claude", "-p", "go"],
    );
    let wt = repo.shards_dir().join("n");
    let lines = || fs::read_to_string(&calls).unwrap_or_default();
    fire(&wt, r#"{"hook_event_name":"UserPromptSubmit"}"#);
    let waiting = r#"{"hook_event_name":"Notification","notification_type":"permission_prompt","message":"Claude needs your permission to use Bash"}"#;
    fire(&wt, waiting);
    eventually("told of waiting", || {
        lines() == "n|waiting|Claude needs your permission to use Bash\n"
    });
    // The same state again is no transition; a new state is.
    fire(&wt, waiting);
    fire(&wt, r#"{"hook_event_name":"Stop"}"#);
    eventually("told of idle", || lines().lines().count() == 2);
    // The agent ends without a stop: told once more.
    kill(pid_of(&repo.shard("n")), 9);
    eventually("told of the end", || lines().lines().count() == 3);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        lines(),
        "n|waiting|Claude needs your permission to use Bash\nn|idle|\nn|ended with signal 9|\n"
    );
}

#[test]
fn a_committed_notify_runs_nothing_until_trusted() {
    let repo = TestRepo::new();
    let path = install_fake(&repo, "claude", FAKE_CLAUDE);
    let calls = repo.tmp.path().join("notified");
    fs::write(
        repo.root.join(".git-shard.toml"),
        format!(
            "notify = [\"sh\", \"-c\", \"echo {{activity}} >> {}\"]\n",
            calls.display()
        ),
    )
    .unwrap();
    repo.git(&["add", ".git-shard.toml"]);
    repo.git(&["commit", "-q", "-m", "notify"]);
    let shown = repo.ok(&["config", "--show"]);
    assert!(shown.contains("notify = [") && shown.contains("not trusted"), "{shown}");
    new_with(
        &repo,
        &path,
        &["new", "t", "--terminal", "background", "--", "claude", "-p", "go"],
    );
    let wt = repo.shards_dir().join("t");
    fire(
        &wt,
        r#"{"hook_event_name":"Notification","notification_type":"permission_prompt","message":"m"}"#,
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!calls.exists(), "an untrusted command ran");
    // The worktree's copy of the file is what the hook reads; trusting it lets it run.
    let out = repo.command_in(&wt, &["config", "--trust"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    fire(&wt, r#"{"hook_event_name":"Stop"}"#);
    eventually("told once trusted", || {
        fs::read_to_string(&calls).is_ok_and(|t| t == "idle\n")
    });
}

#[test]
fn opencode_plugin_says_what_the_whole_agent_does_in_order() {
    if std::process::Command::new("node").arg("--version").output().is_err() {
        return crate::terminals::require_tool("node");
    }
    let repo = TestRepo::new();
    let path = install_fake(&repo, "opencode", FAKE_OPENCODE);
    let out = repo
        .command_in(
            &repo.root,
            &["new", "oc", "--terminal", "background", "--", "opencode", "run", "go"],
        )
        .env("PATH", &path)
        .env("OPENCODE_CONFIG_CONTENT", r#"{"plugin":["the-users-own"]}"#)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let wt = repo.shards_dir().join("oc");
    let becomes = |state: &str| eventually(state, || activity(&repo, "oc") == state);
    fire(
        &wt,
        r#"{"type":"session.status","properties":{"sessionID":"ses_1","status":{"type":"busy"}}}"#,
    );
    becomes("working");
    // A subagent's session starts and ends: the agent is still at work.
    fire(
        &wt,
        r#"{"type":"session.status","properties":{"sessionID":"ses_2","status":{"type":"busy"}}}"#,
    );
    fire(&wt, r#"{"type":"session.idle","properties":{"sessionID":"ses_2"}}"#);
    fire(
        &wt,
        r#"{"type":"permission.asked","properties":{"id":"per_1","sessionID":"ses_1","permission":"bash","patterns":["rm -rf x"]}}"#,
    );
    becomes("waiting");
    let status = repo.ok(&["status", "oc"]);
    assert!(status.contains("activity: waiting: permission to use bash"), "{status}");
    fire(
        &wt,
        r#"{"type":"permission.replied","properties":{"sessionID":"ses_1","requestID":"per_1","reply":"once"}}"#,
    );
    becomes("working");
    fire(
        &wt,
        r#"{"type":"session.status","properties":{"sessionID":"ses_1","status":{"type":"idle"}}}"#,
    );
    becomes("idle");
    // An event that arrives after a newer one (hook processes finish in any order) is dropped.
    fire(&wt, r#"={"order":1,"state":"working","message":""}"#);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(activity(&repo, "oc"), "idle", "a late event overrode a newer one");
    // The same way, a newer one applies (so the one above was heard, and dropped for its age;
    // the plugin numbers events by the microsecond).
    fire(&wt, r#"={"order":10000000000000000000,"state":"working","message":""}"#);
    becomes("working");
    // The user's own inline configuration reached the agent with the plugin added.
    let environ = fs::read(format!("/proc/{}/environ", pid_of(&repo.shard("oc")))).unwrap();
    let config = environ
        .split(|b| *b == 0)
        .find_map(|v| v.strip_prefix(b"OPENCODE_CONFIG_CONTENT="))
        .unwrap();
    let config: Value = serde_json::from_slice(config).unwrap();
    assert_eq!(config["plugin"][0], "the-users-own");
    assert_eq!(config["plugin"].as_array().unwrap().len(), 2);
    repo.ok(&["stop", "oc"]);
}

#[test]
fn gemini_hooks_the_user_installed_speak_for_the_shards_run() {
    let repo = TestRepo::new();
    let path = install_fake(&repo, "gemini", FAKE_GEMINI);
    // Exactly what README tells a user to add to ~/.gemini/settings.json, with this git-shard.
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let snippet = readme
        .split("```json\n")
        .find(|block| block.contains("__hook gemini"))
        .and_then(|block| block.split("```").next())
        .expect("README shows the gemini hooks");
    let settings = format!(
        "{{\n{}}}\n",
        snippet.replace("\"git-shard __hook", &format!("\"{BIN} __hook"))
    );
    serde_json::from_str::<Value>(&settings).expect("README's gemini hooks are JSON");
    fs::create_dir_all(repo.home().join(".gemini")).unwrap();
    fs::write(repo.home().join(".gemini/settings.json"), settings).unwrap();
    new_with(
        &repo,
        &path,
        &["new", "gm", "--terminal", "background", "--", "gemini", "-p", "go"],
    );
    let wt = repo.shards_dir().join("gm");
    let steps = [
        (
            r#"{"session_id":"g","hook_event_name":"BeforeAgent","prompt":"go"}"#,
            "working",
        ),
        (
            r#"{"session_id":"g","hook_event_name":"Notification","notification_type":"ToolPermission","message":"Tool Confirm Shell Command requires execution"}"#,
            "waiting",
        ),
        (
            r#"{"session_id":"g","hook_event_name":"AfterTool","tool_name":"run_shell_command"}"#,
            "working",
        ),
        (
            r#"{"session_id":"g","hook_event_name":"AfterAgent","prompt_response":"done"}"#,
            "idle",
        ),
    ];
    for (payload, state) in steps {
        fire(&wt, payload);
        assert_eq!(activity(&repo, "gm"), state, "after {payload}");
    }
    let status = repo.ok(&["status", "gm"]);
    assert!(
        !status.contains("CPU time"),
        "hooks, not the CPU, speak for the run: {status}"
    );
    fire(
        &wt,
        r#"{"session_id":"g","hook_event_name":"SessionEnd","reason":"exit"}"#,
    );
    assert_eq!(activity(&repo, "gm"), Value::Null);
    repo.ok(&["stop", "gm"]);
}

/// A run wired for hooks whose hooks never speak (turned off in the agent's settings, a version
/// without them) still shows what it does: the CPU stands in until the first hook event.
#[test]
fn a_hooked_run_whose_hooks_never_speak_is_judged_by_its_cpu() {
    let repo = TestRepo::new();
    let path = install_fake(&repo, "claude", "#!/bin/sh\nwhile :; do :; done\n");
    new_with(
        &repo,
        &path,
        &["new", "busy", "--terminal", "background", "--", "claude", "-p", "go"],
    );
    eventually("working, by its CPU", || activity(&repo, "busy") == "working");
    let status = repo.ok(&["status", "busy"]);
    assert!(status.contains("CPU time"), "{status}");
    repo.ok(&["stop", "busy"]);
}

/// A hook never holds its agent: with the shard's lock held elsewhere (an `rm` the user
/// suspended), the event is dropped at once; a payload larger than any hook's is read to the end,
/// so the agent's write does not fail.
#[test]
fn a_hook_neither_waits_on_a_held_lock_nor_breaks_its_agents_pipe() {
    use std::io::Write;
    let repo = TestRepo::new();
    let path = install_fake(&repo, "claude", FAKE_CLAUDE);
    new_with(
        &repo,
        &path,
        &["new", "lk", "--terminal", "background", "--", "claude", "-p", "go"],
    );
    let wt = repo.shards_dir().join("lk");
    fire(
        &wt,
        r#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"go"}"#,
    );
    assert_eq!(activity(&repo, "lk"), "working");
    let lock = fs::File::open(repo.common_dir().join("shards/lk.lock")).unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(
        unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) },
        0
    );
    let started = std::time::Instant::now();
    fire(
        &wt,
        r#"{"session_id":"s","hook_event_name":"Stop","stop_hook_active":false}"#,
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    drop(lock);
    assert_eq!(
        activity(&repo, "lk"),
        "working",
        "the event was dropped, not applied late"
    );

    let mut hook = repo.command_in(&wt, &["__hook", "claude"]);
    hook.stdin(std::process::Stdio::piped());
    let mut child = hook.spawn().unwrap();
    let big = vec![b' '; 3 << 20];
    let written = child.stdin.take().unwrap().write_all(&big);
    assert!(written.is_ok(), "the hook closed its input early: {written:?}");
    assert!(child.wait().unwrap().success());
    repo.ok(&["stop", "lk"]);
}
