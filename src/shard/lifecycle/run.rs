//! A shard's runs: launching an agent under its supervisor (and taking back a launch no
//! supervisor claimed), stopping a run, and git-shard's worktree lock while one lives.
//!
//! Invariants: a launch is recorded (with a fresh run id) under the shard's lock before the
//! supervisor starts, and a supervisor only ever writes into the run it was started for; a launch
//! that fails or times out is cancelled under the lock, so a supervisor that starts late never
//! runs an agent nobody waits for; `stop` signals only a run whose identity matches (see
//! `crate::process`), and records the end itself only once the agent is really gone.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use super::LifecycleError;
use crate::context::Workspace;
use crate::error::Result;
use crate::process::stop::{Outcome, Target};
use crate::shard::record::{EndedBy, ProcessRecord};
use crate::shard::{Record, RunStatus, ShardName};
use crate::terminal::{self, Launched, Terminal, Vars};

/// A run that is launching has a run id but no identity yet; it blocks a second launch for as
/// long as `new`/`run` would wait for it.
pub fn launch_pending(p: &ProcessRecord, timeout: Duration) -> bool {
    if p.pid.is_some() || p.has_ended() {
        return false;
    }
    jiff::Timestamp::now().as_second() - p.launched_at.as_second() <= timeout.as_secs() as i64 + 1
}

/// A fresh id for one run, unique enough to tell two launches of one shard apart.
fn new_run_id() -> String {
    let now = jiff::Timestamp::now();
    format!("{}-{}", now.as_nanosecond(), std::process::id())
}

/// What `new`/`run` should do after the supervisor was started.
pub enum LaunchResult {
    /// Recorded and running (or already ended) in a detached terminal.
    Started(Box<ProcessRecord>),
    /// An inline run finished; its exit status.
    InlineExited(i32),
}

/// The command a launch should record first (`run -- <command>`), if it changes.
pub struct NewCommand {
    pub agent: String,
    pub argv: Vec<String>,
}

/// Launch the shard's agent in `terminal`. The caller holds no lock (the supervisor needs the
/// shard's lock to record itself). Returns once the supervisor recorded the run (or, inline, once
/// the agent has exited). A launch that fails or times out is cancelled under the lock first, so
/// a supervisor that starts late can never run an agent nobody waits for.
pub fn launch(
    ws: &Workspace,
    name: &ShardName,
    terminal: &Terminal,
    command: Option<NewCommand>,
    resume: bool,
) -> Result<LaunchResult> {
    let run_id = new_run_id();
    let timeout = Duration::from_secs(ws.config.launch_timeout);
    let record = {
        let _lock = ws.store.lock_shard(name)?;
        let mut r = ws.store.read(name)?;
        // Checked under the shard's lock, so no interrupted `new` or `rm` can be resumed by
        // `prune` under an agent that starts here.
        refuse_unsettled(name, &r)?;
        if let Some(p) = &r.process
            && (launch_pending(p, timeout) || RunStatus::of(Some(p)) == RunStatus::Running)
        {
            return Err(LifecycleError::AlreadyRunning { name: name.to_string() }.into());
        }
        if let Some(c) = command {
            r.agent = c.agent;
            r.command = c.argv;
        }
        r.terminal = terminal.name().to_owned();
        r.process = Some(ProcessRecord {
            run_id: run_id.clone(),
            terminal: terminal.name().to_owned(),
            launched_at: crate::shard::record::now(),
            resume,
            ..ProcessRecord::default()
        });
        ws.store.write(&r)?;
        r
    };

    let exe = std::env::current_exe().map_err(LifecycleError::NoExe)?;
    let mut supervisor: Vec<String> = vec![
        exe.display().to_string(),
        crate::cli::SUPERVISE.into(),
        name.to_string(),
        "--run-id".into(),
        run_id.clone(),
        "--git-common-dir".into(),
        ws.repo.common_dir().display().to_string(),
    ];
    // A terminal starts the supervisor with its own environment, not ours: hand ours over, for
    // as long as we wait for the launch (see `process::handoff`).
    let offer = match terminal {
        Terminal::Template { .. } => match crate::process::handoff::offer(std::env::vars_os().collect(), timeout) {
            Ok(offer) => Some(offer),
            Err(e) => {
                eprintln!("warning: cannot hand the environment to the agent ({e}); it gets the terminal's");
                None
            }
        },
        Terminal::Inline | Terminal::Background => None,
    };
    if let Some(offer) = &offer {
        supervisor.push("--env-from".into());
        supervisor.push(offer.path().display().to_string());
    }
    let title = format!("git shard: {name}");
    let repo_name = ws.repo_name();
    let no_env = std::collections::BTreeMap::new();
    let vars = Vars {
        cwd: &record.worktree,
        name: name.as_str(),
        branch: &record.branch,
        title: &title,
        repo: &repo_name,
        cmd: &supervisor,
        env: &no_env,
        ports: crate::shard::ports::placeholders(&record),
    };
    let log = ws.store.log_path(name.as_str());
    tracing::debug!(terminal = terminal.name(), ?supervisor, "launching");
    match terminal::launch(terminal, &vars, &log, &ws.repo.main_worktree())? {
        Launched::Inline(child) => {
            let code = crate::process::supervisor::wait_inline(&child).map_err(LifecycleError::WaitInline)?;
            Ok(LaunchResult::InlineExited(code))
        }
        Launched::Detached(child) => {
            let started = wait_for_run(ws, name, &run_id, child, timeout, &log);
            drop(offer);
            let started = started?;
            if matches!(terminal, Terminal::Template { .. }) {
                watch_start(ws, name, &run_id, &log)?;
            }
            Ok(LaunchResult::Started(Box::new(started)))
        }
    }
}

/// Watch an agent that a terminal started for `watch_start` seconds: one that fails in that time
/// (a missing key, an unreachable API) is reported with the last lines it showed (the terminal's
/// `capture`, kept in the log by the supervisor) instead of as running, since its window may be
/// gone already. A run stopped meanwhile, or one that succeeded, is not a failure.
fn watch_start(ws: &Workspace, name: &ShardName, run_id: &str, log: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs_f64(ws.config.watch_start);
    let launched = Instant::now();
    loop {
        let p = match ws.store.read(name) {
            Ok(r) => r.process.filter(|p| p.run_id == run_id),
            Err(crate::shard::StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let Some(p) = p else { return Ok(()) };
        if p.has_ended() {
            if p.exit_code == Some(0) || p.was_stopped() {
                return Ok(());
            }
            let status = match (p.exit_code, p.signal) {
                (Some(c), _) => format!("exit status {c}"),
                (None, Some(s)) => format!("signal {s}"),
                _ => "an unknown status".into(),
            };
            return Err(LifecycleError::EndedAtStart {
                name: name.to_string(),
                status,
                secs: launched.elapsed().as_secs_f64(),
                log: log.to_owned(),
                tail: log_tail(log),
            }
            .into());
        }
        if Instant::now() >= deadline {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The last lines of the shard's log, cleaned for the terminal.
fn log_tail(log: &Path) -> String {
    let tail = std::fs::read_to_string(log)
        .map(|t| {
            let lines: Vec<&str> = t.lines().filter(|l| !l.trim().is_empty()).collect();
            lines[lines.len().saturating_sub(10)..].join("\n")
        })
        .unwrap_or_default();
    crate::output::clean(&tail).replace("\\n", "\n")
}

/// Refuse to start an agent in a shard that an interrupted `new` or `rm` left half done: `prune`
/// or `rm` will finish that, and must not do it under a running agent.
pub fn refuse_unsettled(name: &ShardName, r: &Record) -> Result<()> {
    if !r.incomplete && !r.removing {
        return Ok(());
    }
    Err(LifecycleError::Unsettled {
        name: name.to_string(),
        removing: !r.incomplete,
    }
    .into())
}

/// Poll the record (cheap: one small file) until the supervisor has written this run's identity.
fn wait_for_run(
    ws: &Workspace,
    name: &ShardName,
    run_id: &str,
    mut launcher: std::process::Child,
    timeout: Duration,
    log: &Path,
) -> Result<ProcessRecord> {
    let deadline = Instant::now() + timeout;
    let mut nap = Duration::from_millis(2);
    let mut launcher_failed: Option<(std::process::ExitStatus, Instant)> = None;
    let why = loop {
        match ws.store.read(name) {
            Ok(r) => {
                if let Some(p) = r.process.filter(|p| p.run_id == run_id) {
                    if let Some(e) = &p.start_error {
                        return Err(launch_failed(name, e.clone(), log).into());
                    }
                    if p.was_cancelled() {
                        return Err(launch_failed(
                            name,
                            "the launch was cancelled before an agent started (a `git shard rm` took the shard)".into(),
                            log,
                        )
                        .into());
                    }
                    if p.pid.is_some() || p.has_ended() {
                        return Ok(p);
                    }
                }
            }
            Err(crate::shard::StoreError::NotFound(_)) => {
                return Err(LifecycleError::RemovedWhileLaunching { name: name.to_string() }.into());
            }
            Err(e) => return Err(e.into()),
        }
        if launcher_failed.is_none()
            && let Ok(Some(status)) = launcher.try_wait()
            && !status.success()
        {
            launcher_failed = Some((status, Instant::now()));
        }
        // A launcher that failed may still have started the supervisor: give it a moment.
        if let Some((status, at)) = launcher_failed
            && at.elapsed() > Duration::from_millis(300)
        {
            break format!("the terminal launcher exited with {status}");
        }
        if Instant::now() >= deadline {
            break format!("the supervisor did not record the run within {} s", timeout.as_secs());
        }
        thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(25));
    };
    // Cancel under the lock; if the supervisor recorded the run just now, the launch worked.
    match cancel_launch(ws, name, run_id)? {
        Some(p) if p.pid.is_some() => Ok(p),
        _ => Err(launch_failed(name, why, log).into()),
    }
}

/// Mark a launch that no supervisor has claimed as cancelled, so none ever will. Returns the run
/// as it is if a supervisor got there first (`None` when it was cancelled or is gone).
pub fn cancel_launch(ws: &Workspace, name: &ShardName, run_id: &str) -> Result<Option<ProcessRecord>> {
    let _lock = ws.store.lock_shard(name)?;
    let mut r = match ws.store.read(name) {
        Ok(r) => r,
        Err(crate::shard::StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some(p) = r.process.as_mut().filter(|p| p.run_id == run_id) else {
        return Ok(None);
    };
    if p.pid.is_some() || p.has_ended() {
        return Ok(Some(p.clone()));
    }
    p.cancel();
    ws.store.write(&r)?;
    Ok(None)
}

fn launch_failed(name: &ShardName, why: String, log: &Path) -> LifecycleError {
    LifecycleError::LaunchFailed {
        name: name.to_string(),
        why,
        log: log.to_owned(),
        tail: log_tail(log),
    }
}

/// Result of stopping a shard's run, for messages.
pub enum Stopped {
    /// There was no live run (nothing recorded, already ended, or lost).
    NothingRunning(RunStatus),
    /// The PID no longer denotes our agent; nothing was signalled.
    Lost,
    /// Stopped; `forced` when SIGKILL was needed; `survivors` if something could not be ended.
    Done {
        forced: bool,
        survivors: Vec<(u32, String)>,
    },
}

/// Stop a shard's run (see `process::stop`) and make sure the record says how it ended.
/// How long an agent gets between SIGTERM and SIGKILL unless the user says (`--grace`, whose
/// default in `rm` and `stop` is this too).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

pub fn stop_run(ws: &Workspace, name: &ShardName, grace: Duration) -> Result<Stopped> {
    let record = ws.store.read(name)?;
    let Some(p) = record.process.as_ref() else {
        return Ok(Stopped::NothingRunning(RunStatus::NotStarted));
    };
    let mut status = RunStatus::of(Some(p));
    // A SIGSTOPped supervisor cannot reap its ended agent, which then looks lost: let it go on,
    // and give it a moment to record the end.
    if status == RunStatus::Lost
        && let (Some(pid), Some(start_ticks), Some(boot_id)) = (p.supervisor_pid, p.supervisor_start_ticks, &p.boot_id)
        && crate::process::stop::wake_supervisor(&crate::process::Identity {
            pid,
            start_ticks,
            boot_id: boot_id.clone(),
        })
    {
        let deadline = Instant::now() + Duration::from_secs(2);
        while status == RunStatus::Lost && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
            status = RunStatus::of(ws.store.read(name)?.process.as_ref());
        }
        if status != RunStatus::Running {
            return Ok(Stopped::NothingRunning(status));
        }
    }
    // A run whose agent is gone may have left processes in its cgroup (its supervisor was
    // killed before it could end them): they are stopped too.
    if status != RunStatus::Running && !crate::process::contain::has_leftovers(p.cgroup.as_deref()) {
        // An empty cgroup whose supervisor could not remove it goes now, before `rm` or `prune`
        // forget the record that names it.
        crate::process::contain::tidy(p.cgroup.as_deref());
        return Ok(Stopped::NothingRunning(status));
    }
    let (Some(agent), Some(pgid), Some(sid)) = (p.identity(), p.pgid, p.sid) else {
        return Ok(Stopped::NothingRunning(status));
    };
    let supervisor = match (p.supervisor_pid, p.supervisor_start_ticks) {
        (Some(pid), Some(start_ticks)) => Some(crate::process::Identity {
            pid,
            start_ticks,
            boot_id: agent.boot_id.clone(),
        }),
        _ => None,
    };
    let target = Target {
        agent,
        pgid,
        sid,
        supervisor,
        cgroup: p.cgroup.clone(),
    };
    tracing::debug!(?target, ?grace, "stopping");
    // Said before the first signal, so the supervisor's record of the end reads as a stop.
    let run_id = p.run_id.clone();
    let mark = |requested: bool| {
        ws.store.update(name, |r| {
            if let Some(p) = r.process.as_mut().filter(|p| p.run_id == run_id && !p.has_ended()) {
                p.stop_requested_at = requested.then(crate::shard::record::now);
            }
            Ok(())
        })
    };
    mark(true)?;
    let outcome = crate::process::stop::stop(&target, grace).map_err(|source| LifecycleError::Stop {
        name: name.to_string(),
        source,
    })?;
    match outcome {
        // Nothing was signalled: the run ended by itself (or is lost), not by us.
        Outcome::NotRunning => {
            mark(false)?;
            Ok(Stopped::NothingRunning(RunStatus::of(
                ws.store.read(name)?.process.as_ref(),
            )))
        }
        Outcome::Mismatch => {
            mark(false)?;
            Ok(Stopped::Lost)
        }
        Outcome::Stopped { forced, survivors } => {
            // The supervisor records the end itself; when SIGKILL took it too, we record it, but
            // only once the agent is really gone.
            if crate::process::check(&target.agent) != crate::process::Liveness::Alive {
                ws.store.update(name, |r| {
                    if let Some(p) = r.process.as_mut().filter(|p| p.run_id == run_id && !p.has_ended()) {
                        p.end(EndedBy::Stop, None, Some(if forced { 9 } else { 15 }));
                    }
                    Ok(())
                })?;
            }
            if survivors.is_empty() {
                unlock_if_idle(ws, name, &record.worktree_id)?;
            }
            Ok(Stopped::Done { forced, survivors })
        }
    }
}

/// Lift git-shard's worktree lock of a shard if, checked under the shard's lock, none of its runs
/// is alive. A supervisor locks and records a new run under that same lock, so this can never
/// take the lock from under a run that just started.
pub fn unlock_if_idle(ws: &Workspace, name: &ShardName, worktree_id: &str) -> Result<bool> {
    let _lock = ws.store.lock_shard(name)?;
    let running = match ws.store.read(name) {
        Ok(r) => RunStatus::of(r.process.as_ref()) == RunStatus::Running,
        Err(crate::shard::StoreError::NotFound(_)) => false,
        Err(e) => return Err(e.into()),
    };
    if running {
        return Ok(false);
    }
    crate::git::lock::unlock_ours(&ws.repo.common_dir(), worktree_id).map_err(|source| {
        LifecycleError::Unlock {
            name: name.to_string(),
            source,
        }
        .into()
    })
}
