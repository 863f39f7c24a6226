//! `git-shard __run <name>` (hidden): the supervisor every terminal runs.
//!
//! It records the agent's identity under the shard's lock before the agent can matter, waits for
//! it, and records how it ended. It only ever writes into the run it was launched for (`--run-id`),
//! so a stale or duplicate supervisor cannot overwrite another run's record.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::git::lock::{self, REASON_PREFIX};
use crate::process::supervisor::Ended;
use crate::process::supervisor::{self, LEFTOVER_GRACE, SuperviseError};
use crate::process::{contain, handoff};
use crate::shard::Record;
use crate::shard::activity::{Activity, CpuJudge, Source};
use crate::shard::notify;
use crate::shard::record::EndedBy;
use crate::shard::{ShardName, Store, StoreError};
use crate::terminal::Vars;

/// Supervise a shard's agent (used by terminals; not for direct use).
#[derive(Debug, clap::Args)]
pub struct Args {
    pub name: String,
    #[arg(long)]
    pub run_id: String,
    #[arg(long)]
    pub git_common_dir: PathBuf,
    /// Where `new`/`run` hands over its environment (see `process::handoff`).
    #[arg(long)]
    pub env_from: Option<PathBuf>,
}

/// Variables a terminal sets for the pane it opens: they describe where the agent runs, so they
/// win over the caller's values.
const PANE_ENV: &[&str] = &[
    "TERM",
    "COLORTERM",
    "TERM_PROGRAM",
    "TERM_PROGRAM_VERSION",
    "VTE_VERSION",
    "COLUMNS",
    "LINES",
];

/// Variables that make agents refuse to start inside another agent's session, that would point
/// the agent's git at another repository than its worktree, or that are git-shard's own mark of
/// a `new` run on a host.
const REMOVED_ENV: &[&str] = &[
    "CLAUDECODE",
    crate::shard::setup::INTERRUPTS_IGNORED_ENV,
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
];

/// The window/pane ids this supervisor's terminal gave it.
fn terminal_env() -> BTreeMap<String, String> {
    crate::terminal::TERMINAL_ENV
        .iter()
        .filter_map(|var| Some(((*var).to_owned(), std::env::var(var).ok().filter(|v| !v.is_empty())?)))
        .collect()
}

/// Why the supervisor may not (or could not) start the agent.
#[derive(Debug, thiserror::Error)]
enum Claim {
    #[error("the launch was cancelled or superseded")]
    NotCurrent,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn run(_ctx: &Context, args: &Args) -> Result<()> {
    supervisor::take_group();
    let name = ShardName::parse(&args.name)?;
    let store = Store::new(&args.git_common_dir);
    let record = store.read(&name)?;

    let run_id = args.run_id.as_str();
    let plan = contain::prepare(name.as_str(), run_id);
    // The agent's own hooks report its activity where it has them; else the supervisor samples
    // the run's CPU time.
    let resumed = record
        .process
        .as_ref()
        .filter(|p| p.run_id == args.run_id && p.resume)
        .and_then(|_| crate::agent::with_resume(&record.command));
    let command = resumed.as_ref().unwrap_or(&record.command);
    // The caller's environment, when `new`/`run` handed it over (see `process::handoff`).
    let handed = args
        .env_from
        .as_ref()
        .and_then(|path| match handoff::receive(path, Duration::from_secs(5)) {
            Ok(env) => Some(env),
            Err(e) => {
                eprintln!(
                    "git-shard: the environment of `git shard new`/`run` did not arrive ({e}); \
                 the agent gets the terminal's"
                );
                None
            }
        });
    // The agent's environment as it will be, for wiring that adds to a variable of the user's.
    let agent_env = |key: &str| match &handed {
        Some(env) => env
            .iter()
            .find(|(k, _)| k.as_os_str() == key)
            .and_then(|(_, v)| v.to_str().map(str::to_owned)),
        None => std::env::var(key).ok(),
    };
    let hooked = crate::agent::hooks::hook_exe()
        .and_then(|exe| crate::agent::hooks::wire(command, &exe, &store.agents_dir(), run_id, agent_env));
    let argv = hooked.as_ref().map_or(command, |w| &w.argv);
    let mut cmd = plan
        .command(argv)
        .map_err(|e| Error::failed(format!("cannot prepare the run's containment: {e}")))?;
    if let Some(env) = handed {
        // The caller's environment, then what the terminal set for this pane on top.
        cmd.env_clear().envs(env);
        for var in PANE_ENV.iter().chain(crate::terminal::TERMINAL_ENV) {
            match std::env::var_os(var) {
                Some(value) => cmd.env(var, value),
                None => cmd.env_remove(var),
            };
        }
        cmd.env("PWD", &record.worktree).env_remove("OLDPWD");
    }
    if let Some(wiring) = &hooked {
        cmd.envs(wiring.env.iter().map(|(k, v)| (k, v)));
    }
    cmd.current_dir(&record.worktree)
        .env("GIT_SHARD_NAME", name.as_str())
        .env("GIT_SHARD_BRANCH", &record.branch)
        .env("GIT_SHARD_PATH", &record.worktree)
        .envs(crate::shard::ports::env(&record))
        .env(crate::commands::hook::RUN_ID_ENV, run_id)
        .env(crate::commands::hook::COMMON_DIR_ENV, &args.git_common_dir);
    for var in REMOVED_ENV {
        cmd.env_remove(var);
    }

    // The run's cgroup as recorded, for ending what is left of the run.
    let cgroup = std::cell::RefCell::new(None::<String>);
    // For an agent without hooks: the thread that judges its activity from its CPU time.
    let sampler = std::cell::RefCell::new(None::<Sampler>);
    // The agent's `/proc/<pid>/fd` folder, held while we live (see `process::Held`): once the agent
    // is reaped it leads nowhere, and closing it would let a file we open take its number while
    // a record that could not be updated still names it.
    let held = std::cell::RefCell::new(None::<std::os::fd::OwnedFd>);
    // The reason our lock carries, so that we lift exactly that lock when the run ends.
    let lock_reason = std::cell::RefCell::new(None::<String>);
    let started = Instant::now();
    let outcome = supervisor::supervise(
        cmd,
        // Claim: under the shard's lock, the run must still be the pending launch we were
        // started for (not cancelled by a rollback or `rm`, not taken by another launch).
        || {
            let lock = store.lock_shard(&name)?;
            match store.read(&name)?.process {
                Some(p) if p.run_id == run_id && p.pid.is_none() && !p.has_ended() => Ok(lock),
                _ => Err(Claim::NotCurrent),
            }
        },
        // Record, still under that lock, then release it.
        |lock, agent, me| {
            let mut r = store.read(&name)?;
            let p = r.process.as_mut().ok_or(Claim::NotCurrent)?;
            p.pid = Some(agent.identity.pid);
            p.pgid = Some(agent.pgid);
            p.sid = Some(agent.sid);
            p.start_ticks = Some(agent.identity.start_ticks);
            p.boot_id = Some(agent.identity.boot_id.clone());
            p.supervisor_pid = Some(me.identity.pid);
            p.supervisor_start_ticks = Some(me.identity.start_ticks);
            // Opened while the agent is our child and not yet waited for: its PID is still its own.
            let fd = crate::process::hold(agent.identity.pid);
            p.supervisor_proc_fd = fd.as_ref().map(|fd| std::os::fd::AsRawFd::as_raw_fd(fd) as u32);
            held.replace(fd);
            p.started_at = Some(crate::shard::record::now());
            p.terminal_env = terminal_env();
            let (kind, path) = plan.settle(agent.identity.pid);
            p.containment = Some(kind);
            p.cgroup = path.clone();
            cgroup.replace(path);
            // While the agent runs, a plain `git worktree remove` (or prune) refuses its worktree.
            // Locked before the run is recorded, so nobody sees a running shard without its lock.
            let reason = format!("{REASON_PREFIX}agent running (pid {})", agent.identity.pid);
            if let Err(e) = lock::lock(&args.git_common_dir, &record.worktree_id, &reason) {
                tracing::warn!("cannot lock the worktree: {e}");
            }
            lock_reason.replace(Some(reason));
            store.write(&r)?;
            drop(lock);
            sampler.replace(Some(Sampler::start(Watched {
                common_dir: args.git_common_dir.clone(),
                name: name.clone(),
                run_id: run_id.to_owned(),
                cgroup: p_cgroup(&r),
                pgid: agent.pgid,
                sid: agent.sid,
            })));
            Ok(())
        },
    );
    if let Some(s) = sampler.take() {
        s.stop();
    }
    // Whatever the agent left: in its cgroup, or orphaned to us as subreaper. Also when the run
    // never started (the cgroup made for it goes).
    let cgroup_path = cgroup.take().or(match &plan {
        contain::Plan::Cgroup(cg) => Some(cg.path.clone()),
        _ => None,
    });
    contain::end_run(
        cgroup_path.as_deref(),
        if outcome.is_ok() {
            LEFTOVER_GRACE
        } else {
            Duration::ZERO
        },
    );
    let ended = match outcome {
        Ok(ended) => ended,
        Err(SuperviseError::Spawn { program, source }) => {
            // Recorded as an error of the launch, so `new` rolls back and says why.
            let why = format!("cannot start {}: {source}", crate::output::clean(&program));
            let _ = store.update(&name, |r| {
                if let Some(p) = r.process.as_mut().filter(|p| p.run_id == run_id) {
                    p.end(EndedBy::Supervisor, Some(127), None);
                    p.start_error = Some(why.clone());
                }
                Ok(())
            });
            eprintln!("git-shard: {why}");
            return Err(Error::Exit(127));
        }
        Err(SuperviseError::Record(Claim::NotCurrent)) => {
            return Err(Error::failed(format!(
                "run {run_id} of shard '{name}' is no longer the current launch; not starting the agent"
            )));
        }
        Err(SuperviseError::Record(Claim::Store(e))) => return Err(e.into()),
        Err(e) => return Err(Error::failed(e.to_string())),
    };
    // Before the end is recorded: whoever waits for it (`new` watching a fresh agent) finds the
    // output in the log by then.
    let config = Config::load(Some(&args.git_common_dir), Some(&record.worktree)).ok();
    if let Some(cfg) = &config {
        keep_output(cfg, &store, &name, &record, &ended);
    }
    let recorded = store.update(&name, |r| {
        if let Some(p) = r.process.as_mut().filter(|p| p.run_id == run_id && !p.has_ended()) {
            p.end(EndedBy::Supervisor, ended.code, ended.signal);
        }
        Ok(())
    });
    if let Err(e) = recorded {
        // The shard may have been removed meanwhile; the agent's status still goes to our caller.
        tracing::warn!("cannot record the end of the run: {e}");
    }
    if let Some(reason) = lock_reason.take()
        && let Err(e) = lock::unlock_if(&args.git_common_dir, &record.worktree_id, &reason)
    {
        tracing::warn!("cannot unlock the worktree: {e}");
    }
    if let Some(cfg) = &config {
        let stopped = store
            .read(&name)
            .ok()
            .and_then(|r| r.process)
            .is_some_and(|p| p.run_id == run_id && p.stop_requested_at.is_some());
        // The end of a run the user did not stop is worth telling.
        let state = format!("ended with {}", ended_text(&ended));
        let mut tell = false;
        let told = store.update(&name, |r| {
            if let Some(p) = r.process.as_mut().filter(|p| p.run_id == run_id && !stopped) {
                tell = notify::claim(p, &state);
            }
            Ok(())
        });
        if let (true, Ok(r)) = (tell, &told) {
            notify::tell(&args.git_common_dir, r, &state, "");
        }
        if !stopped {
            hold_after_quick_failure(cfg, &name, &record, &ended, started.elapsed());
        }
    }
    match ended.exit_status() {
        0 => Ok(()),
        code => Err(Error::Exit(code)),
    }
}

fn p_cgroup(r: &Record) -> Option<String> {
    r.process.as_ref().and_then(|p| p.cgroup.clone())
}

/// Watches a run's activity from outside the agent, once a second: for an agent without hooks,
/// `working`/`idle` from the run's CPU time (see `shard::activity::CpuJudge`); for one with hooks,
/// the one transition its hooks do not report: Claude Code fires no hook when the user approves a
/// permission prompt, so `waiting` would stay until the tool finished. A process the run starts
/// while it waits is the approved tool at work: `working`.
struct Sampler {
    /// Dropped or sent to: the thread ends at once (it waits on it between looks).
    stop: mpsc::Sender<()>,
    thread: thread::JoinHandle<()>,
}

/// What the sampler watches: where the run's processes are.
struct Watched {
    common_dir: PathBuf,
    name: ShardName,
    run_id: String,
    cgroup: Option<String>,
    pgid: u32,
    sid: u32,
}

impl Sampler {
    fn start(w: Watched) -> Sampler {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            let store = Store::new(&w.common_dir);
            let mut judge = CpuJudge::new(Instant::now());
            let mut baseline: Option<Baseline> = None;
            loop {
                let current = store
                    .read(&w.name)
                    .ok()
                    .and_then(|r| r.process)
                    .filter(|p| p.run_id == w.run_id);
                // From the hooks' first word on, they are listened to instead of the CPU: hooks
                // wired for the run, and those the user installed (see README). Until then the
                // CPU stands in, so a run whose hooks never speak (turned off in the agent's
                // settings, a version without them) still shows what it does.
                let by_hooks = current
                    .as_ref()
                    .is_some_and(|p| p.activity_source == Some(Source::Hooks));
                if by_hooks {
                    baseline = approval(&store, &w, current.as_ref(), baseline);
                } else {
                    let usec = contain::run_cpu_usec(w.cgroup.as_deref(), w.pgid, Some(w.sid));
                    if let Some(activity) = judge.observe(Instant::now(), usec) {
                        record(&store, &w, activity, Source::Cpu, None);
                    }
                }
                let period = Duration::from_millis(if by_hooks { 300 } else { 1000 });
                if stopped.recv_timeout(period) != Err(mpsc::RecvTimeoutError::Timeout) {
                    return;
                }
            }
        });
        Sampler { stop, thread }
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// The wait a hooked run is in, as the sampler watches it.
#[derive(Clone, Copy)]
struct Baseline {
    /// When the wait began (the record's `activity_at`).
    since: Option<jiff::Timestamp>,
    /// The run's processes then.
    count: usize,
    /// One look has seen more: a second one confirms it is not a passing process.
    more: bool,
}

/// One look at a hooked run: while its hooks say `waiting`, a process more than when the wait
/// began, still there at the next look, means the user approved and the tool runs.
fn approval(
    store: &Store,
    w: &Watched,
    p: Option<&crate::shard::record::ProcessRecord>,
    baseline: Option<Baseline>,
) -> Option<Baseline> {
    let p = p?;
    if p.activity != Some(Activity::Waiting) {
        return None;
    }
    let count = contain::run_processes(w.cgroup.as_deref(), w.pgid, Some(w.sid));
    match baseline {
        Some(b) if b.since == p.activity_at => {
            if count > b.count && b.more {
                record(store, w, Activity::Working, Source::Hooks, p.activity_at);
                return None;
            }
            Some(Baseline {
                count: b.count.min(count),
                more: count > b.count,
                ..b
            })
        }
        _ => Some(Baseline {
            since: p.activity_at,
            count,
            more: false,
        }),
    }
}

/// Record `activity` for the watched run (and tell it, when it is `idle`). `only_since`: only if
/// the activity has not changed since then (a hook may have said something newer meanwhile).
fn record(store: &Store, w: &Watched, activity: Activity, source: Source, only_since: Option<jiff::Timestamp>) {
    let mut tell = false;
    let updated = store.update(&w.name, |r| {
        if let Some(p) = r.process.as_mut().filter(|p| p.run_id == w.run_id && !p.has_ended())
            && (source == Source::Hooks || p.activity_source != Some(Source::Hooks))
            && (only_since.is_none() || p.activity_at == only_since)
        {
            p.activity = Some(activity);
            p.activity_source = Some(source);
            p.activity_note = None;
            p.activity_at = Some(crate::shard::record::now());
            tell = activity == Activity::Idle && notify::claim(p, "idle");
        }
        Ok(())
    });
    if let (true, Ok(r)) = (tell, &updated) {
        notify::tell(&w.common_dir, r, "idle", "");
    }
}

/// How the agent ended, in words.
fn ended_text(ended: &Ended) -> String {
    match (ended.code, ended.signal) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "an unknown status".into(),
    }
}

/// Keep what the terminal showed (its `capture` command's output) in the shard's log, so that
/// `git shard logs` has it after the window is gone. Background runs write the log as they go,
/// and inline runs are in the user's own terminal.
fn keep_output(cfg: &Config, store: &Store, name: &ShardName, record: &Record, ended: &Ended) {
    let term = record.terminal.as_str();
    if cfg.untrusted_terminals.contains_key(term) {
        return;
    }
    let Some(capture) = crate::terminal::template(cfg, term).and_then(|t| t.capture) else {
        return;
    };
    let env = terminal_env();
    let vars = Vars {
        cwd: &record.worktree,
        name: name.as_str(),
        branch: &record.branch,
        title: name.as_str(),
        repo: "",
        cmd: &[],
        env: &env,
        ports: crate::shard::ports::placeholders(record),
    };
    let Ok(argv) = crate::terminal::expand(&capture, &vars) else {
        return;
    };
    let Ok(out) = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let text = text.trim_end();
    if !out.status.success() || text.is_empty() {
        return;
    }
    let log = store.log_path(name.as_str());
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .and_then(|mut f| {
            writeln!(
                f,
                "--- what {term} showed when the agent ended ({}) ---\n{text}",
                ended_text(ended)
            )
        });
    if let Err(e) = appended {
        tracing::warn!("cannot keep the terminal's output in {}: {e}", log.display());
    }
}

/// An agent that failed soon after it started (a missing key, an unreachable API) would take its
/// window and its message with it: keep the window open, with the exit status, until the user
/// presses Enter (`hold_on_failure` seconds; 0 never). Only in a terminal window of our own: not
/// inline (the user's terminal stays anyway), not in the background.
fn hold_after_quick_failure(cfg: &Config, name: &ShardName, record: &Record, ended: &Ended, ran: Duration) {
    let term = record.terminal.as_str();
    if ended.code == Some(0)
        || matches!(term, "inline" | "background")
        || cfg.hold_on_failure == 0
        || ran > Duration::from_secs(cfg.hold_on_failure)
        || !std::io::stdin().is_terminal()
    {
        return;
    }
    eprintln!(
        "\ngit-shard: the agent of shard '{name}' ended with {} after {:.1} s; its output is above and in \
         `git shard logs {name}`.\nPress Enter to close this window.",
        ended_text(ended),
        ran.as_secs_f64()
    );
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}
