//! `git-shard __hook <agent> [payload]` (hidden): what an agent's hooks run to say what it is
//! doing (see `shard::activity`). Runs inside the agent's own tool loop, so it is fast (no git,
//! no repository discovery: the supervisor put the store's place in the agent's environment),
//! prints nothing, and always exits 0: a hook that fails or talks would disturb the agent.

use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;

use crate::process::{self, Liveness};
use crate::shard::activity::{self, Activity, Change, Source};
use crate::shard::notify;
use crate::shard::{ShardName, Store};

/// The first argument that selects the hook entry point.
pub const HOOK: &str = "__hook";

/// Variables the supervisor gives the agent, and its hooks inherit.
pub const RUN_ID_ENV: &str = "GIT_SHARD_RUN_ID";
pub const COMMON_DIR_ENV: &str = "GIT_SHARD_COMMON_DIR";

/// A hook payload is small; anything bigger is not one.
const MAX_PAYLOAD: u64 = 1 << 20;

/// How long a hook waits for the shard's lock before it drops its event: the agent waits for the
/// hook, and a command holding the lock (an `rm` the user suspended) must not hold the agent.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// Handle one hook call. Never fails: whatever goes wrong, the agent must not notice.
pub fn run(args: &[OsString]) {
    // Who called us, read before anything else: an agent may exit right after starting a hook
    // (`codex exec` after its last turn, `opencode run` once idle), and then our parent is gone
    // and PID 1 or a subreaper has adopted us.
    let parent = rustix::process::getppid().map(|p| p.as_raw_nonzero().get() as u32);
    if let Err(why) = handle(args, parent) {
        tracing::debug!("hook ignored: {why}");
    }
}

fn handle(args: &[OsString], parent: Option<u32>) -> Result<(), String> {
    let agent = args.get(2).and_then(|a| a.to_str()).ok_or("no agent named")?;
    // The run's id, when the agent was given this hook for its run alone (in its arguments,
    // which no process it starts inherits): see `called_by`.
    let token = args.get(3).and_then(|a| a.to_str());
    let mut text = Vec::new();
    let mut stdin = std::io::stdin().lock();
    (&mut stdin)
        .take(MAX_PAYLOAD)
        .read_to_end(&mut text)
        .map_err(|e| e.to_string())?;
    // Whatever is beyond is read too, to nowhere: the agent must not see its write fail.
    let _ = std::io::copy(&mut stdin, &mut std::io::sink());
    let payload: serde_json::Value = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
    let change = activity::from_hook(agent, &payload).ok_or("an event that changes nothing")?;
    // Events that may arrive out of order (opencode's plugin starts us without waiting for the
    // last one) are numbered; only a newer one than the last applied counts.
    let order = payload.get("order").and_then(|o| o.as_u64());

    let env = |k: &str| std::env::var(k).map_err(|_| format!("{k} is not set"));
    let name = ShardName::parse(&env("GIT_SHARD_NAME")?).map_err(|e| e.to_string())?;
    let run_id = env(RUN_ID_ENV)?;
    let common_dir = PathBuf::from(env(COMMON_DIR_ENV)?);
    let store = Store::new(&common_dir);
    let record = store.read(&name).map_err(|e| e.to_string())?;
    let p = record.process.as_ref().ok_or("no run")?;
    if p.run_id != run_id {
        return Err("an event of another run".into());
    }
    let agent_id = p.identity().ok_or("the run has no agent yet")?;
    if process::check(&agent_id) != Liveness::Alive {
        return Err("the run's agent is not alive".into());
    }
    if token != Some(run_id.as_str()) && !parent.is_some_and(|parent| called_by(parent, agent_id.pid)) {
        return Err("not called by the run's own agent (a nested agent?)".into());
    }
    let (activity, note) = match &change {
        Change::Set(a, note) => (Some(*a), note.clone()),
        Change::Clear => (None, None),
    };
    let newer = |last: Option<u64>| order.is_none_or(|o| last.is_none_or(|l| o > l));
    if !newer(p.activity_order) {
        return Err("an older event than the last one applied".into());
    }
    if p.activity == activity && p.activity_note == note && order.is_none() {
        return Ok(());
    }
    // Waiting for the user and the end of a turn are worth telling; working is not.
    let state = activity.filter(|a| *a != Activity::Working).map(Activity::as_str);
    let mut tell = false;
    let updated = store
        .update_within(&name, LOCK_WAIT, |r| {
            if let Some(p) = r
                .process
                .as_mut()
                .filter(|p| p.run_id == run_id && !p.has_ended() && newer(p.activity_order))
            {
                p.activity_order = order.or(p.activity_order);
                // Since when: the state's start, not the latest message about it.
                if p.activity != activity {
                    p.activity_at = Some(crate::shard::record::now());
                }
                p.activity = activity;
                p.activity_note = note.clone();
                p.activity_source = Some(Source::Hooks);
                tell = state.is_some_and(|s| notify::claim(p, s));
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?
        .ok_or("the shard is locked (an `rm` at work?): the event is dropped")?;
    if let Some(state) = state.filter(|_| tell) {
        notify::tell(&common_dir, &updated, state, note.as_deref().unwrap_or(""));
    }
    Ok(())
}

/// Whether `agent` started this process: it is our parent, or the parent of the shell it ran us
/// through (`sh -c <hook command>`). Only asked of hooks that do not carry the run's id in their
/// arguments (opencode's plugin, Gemini's hooks of the user's settings): those a nested agent
/// inherits, and a nested agent is further down. A hook with the id was wired into the run's own
/// command line (Claude Code's `--settings`, Codex's `-c`), which a nested agent does not get,
/// whatever shells and wrappers stand between (npm's launcher, a login shell that does not exec).
fn called_by(parent: u32, agent: u32) -> bool {
    parent == agent || process::facts(parent).ok().flatten().is_some_and(|f| f.ppid == agent)
}
