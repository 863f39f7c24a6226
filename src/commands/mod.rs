//! One file per subcommand, each with its `Args` (whose doc comment is the help text) and
//! `pub fn run(ctx, args)`. Shared pieces used by several commands live here: the JSON view of a
//! shard, launching a run, stopping a run.

pub mod attach;
pub mod cd;
pub mod completions;
pub mod config;
pub mod hooks;
pub mod init;
pub mod install_man;
pub mod list;
pub mod logs;
pub mod new;
pub mod path;
pub mod prompt;
pub mod prune;
pub mod reconcile;
pub mod rm;
pub mod run;
pub mod status;
pub mod stop;
pub mod supervise;

use std::io::IsTerminal;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cli::Command;
use crate::context::{Context, Workspace};
use crate::error::{Error, Result};
use crate::process::stop::{Outcome, Target};
use crate::shard::record::{EndedBy, ProcessRecord};
use crate::shard::{Record, RunStatus, ShardName};
use crate::terminal::{self, Launched, Terminal, Vars};

pub fn dispatch(ctx: &Context, command: &Command) -> Result<()> {
    match command {
        Command::New(a) => new::run(ctx, a),
        Command::Attach(a) => attach::run(ctx, a),
        Command::Cd(a) => cd::run(ctx, a),
        Command::Completions(a) => completions::run(ctx, a),
        Command::Init(a) => init::run(ctx, a),
        Command::InstallMan(a) => install_man::run(ctx, a),
        Command::Prompt(a) => prompt::run(ctx, a),
        Command::Config(a) => config::run(ctx, a),
        Command::List(a) => list::run(ctx, a),
        Command::Status(a) => status::run(ctx, a),
        Command::Run(a) => run::run(ctx, a),
        Command::Path(a) => path::run(ctx, a),
        Command::Logs(a) => logs::run(ctx, a),
        Command::Stop(a) => stop::run(ctx, a),
        Command::Rm(a) => rm::run(ctx, a),
        Command::Prune(a) => prune::run(ctx, a),
        Command::Reconcile(a) => reconcile::run(ctx, a),
        Command::Hooks(a) => hooks::run(ctx, a),
    }
}

/// The stable JSON view of one shard (documented in README.md).
#[derive(Debug, Serialize)]
pub struct ShardJson {
    pub name: String,
    pub branch: String,
    pub path: String,
    pub agent: String,
    pub command: Vec<String>,
    pub terminal: String,
    pub created_at: String,
    pub status: RunStatus,
    pub pid: Option<u32>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub worktree_exists: bool,
    /// `new` died while creating it; `prune` or `rm` undo it.
    pub incomplete: bool,
    /// `rm` died while removing it; `prune` or `rm` finish it.
    pub removing: bool,
    /// The worktree was removed behind git-shard's back (`prune` forgets the shard).
    pub orphaned: bool,
    pub base_ref: Option<String>,
    pub base_commit: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
}

impl ShardJson {
    pub fn new(r: &Record, status: RunStatus) -> ShardJson {
        let p = r.process.as_ref();
        ShardJson {
            name: r.name.clone(),
            branch: r.branch.clone(),
            path: r.worktree.display().to_string(),
            agent: r.agent.clone(),
            command: r.command.clone(),
            terminal: p.map(|p| p.terminal.clone()).unwrap_or_else(|| r.terminal.clone()),
            created_at: r.created_at.clone(),
            status,
            pid: p.and_then(|p| p.pid),
            exit_code: p.and_then(|p| p.exit_code),
            signal: p.and_then(|p| p.signal),
            worktree_exists: r.worktree.is_dir(),
            orphaned: r.orphaned_at.is_some(),
            incomplete: r.incomplete,
            removing: r.removing,
            base_ref: r.base.refname.clone(),
            base_commit: r.base.commit.clone(),
            started_at: p.and_then(|p| p.started_at.clone()),
            ended_at: p.and_then(|p| p.ended_at.clone()),
        }
    }
}

pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::failed(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// A run that is launching has a run id but no identity yet; it blocks a second launch for as
/// long as `new`/`run` would wait for it.
pub fn launch_pending(p: &ProcessRecord, timeout: Duration) -> bool {
    if p.pid.is_some() || p.has_ended() {
        return false;
    }
    match p.launched_at.parse::<jiff::Timestamp>() {
        Ok(t) => jiff::Timestamp::now().as_second() - t.as_second() <= timeout.as_secs() as i64 + 1,
        Err(_) => false,
    }
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
            return Err(Error::refused(
                format!("shard '{name}' already has a running or launching agent"),
                format!("stop it first with `git shard stop {name}`"),
            ));
        }
        if let Some(c) = command {
            r.agent = c.agent;
            r.command = c.argv;
        }
        r.terminal = terminal.name().to_owned();
        r.process = Some(ProcessRecord {
            run_id: run_id.clone(),
            terminal: terminal.name().to_owned(),
            launched_at: crate::output::now_rfc3339(),
            ..ProcessRecord::default()
        });
        ws.store.write(&r)?;
        r
    };

    let exe = std::env::current_exe().map_err(|e| Error::failed(format!("cannot find the git-shard binary: {e}")))?;
    let supervisor: Vec<String> = vec![
        exe.display().to_string(),
        crate::cli::SUPERVISE.into(),
        name.to_string(),
        "--run-id".into(),
        run_id.clone(),
        "--git-common-dir".into(),
        ws.repo.common_dir().display().to_string(),
    ];
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
    };
    let log = ws.store.log_path(name.as_str());
    tracing::debug!(terminal = terminal.name(), ?supervisor, "launching");
    match terminal::launch(terminal, &vars, &log, &ws.repo.main_worktree())? {
        Launched::Inline(child) => {
            let code = crate::process::supervisor::wait_inline(&child)
                .map_err(|e| Error::failed(format!("waiting for the supervisor failed: {e}")))?;
            Ok(LaunchResult::InlineExited(code))
        }
        Launched::Detached(child) => {
            wait_for_run(ws, name, &run_id, child, timeout, &log).map(|p| LaunchResult::Started(Box::new(p)))
        }
    }
}

/// Refuse to start an agent in a shard that an interrupted `new` or `rm` left half done: `prune`
/// or `rm` will finish that, and must not do it under a running agent.
pub fn refuse_unsettled(name: &ShardName, r: &Record) -> Result<()> {
    if !r.incomplete && !r.removing {
        return Ok(());
    }
    let what = if r.incomplete {
        "half made (its `git shard new` was interrupted)"
    } else {
        "being removed (its `git shard rm` was interrupted)"
    };
    Err(Error::refused(
        format!("shard '{name}' is {what}; no agent was started"),
        format!("`git shard rm {name}` or `git shard prune` finishes that first"),
    ))
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
                        return Err(launch_failed(name, e.clone(), log));
                    }
                    if p.was_cancelled() {
                        return Err(launch_failed(
                            name,
                            "the launch was cancelled before an agent started (a `git shard rm` took the shard)".into(),
                            log,
                        ));
                    }
                    if p.pid.is_some() || p.has_ended() {
                        return Ok(p);
                    }
                }
            }
            Err(crate::shard::StoreError::NotFound(_)) => {
                return Err(Error::failed(format!(
                    "shard '{name}' was removed while its agent was launching"
                )));
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
        _ => Err(launch_failed(name, why, log)),
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

fn launch_failed(name: &ShardName, why: String, log: &Path) -> Error {
    let tail = std::fs::read_to_string(log)
        .map(|t| {
            let lines: Vec<&str> = t.lines().collect();
            lines[lines.len().saturating_sub(10)..].join("\n")
        })
        .unwrap_or_default();
    let mut message = format!("the agent of shard '{name}' did not start: {why}");
    if !tail.trim().is_empty() {
        message.push_str(&format!(
            "\nlast lines of {}:\n{}",
            log.display(),
            crate::output::clean(&tail).replace("\\n", "\n")
        ));
    }
    Error::refused(
        message,
        "check the terminal and agent command; `git shard run <name>` tries again",
    )
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
pub fn stop_run(ws: &Workspace, name: &ShardName, grace: Duration) -> Result<Stopped> {
    let record = ws.store.read(name)?;
    let Some(p) = record.process.as_ref() else {
        return Ok(Stopped::NothingRunning(RunStatus::NotStarted));
    };
    let status = RunStatus::of(Some(p));
    if status != RunStatus::Running {
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
    };
    tracing::debug!(?target, ?grace, "stopping");
    let outcome = crate::process::stop::stop(&target, grace)
        .map_err(|e| Error::failed(format!("cannot stop shard '{name}': {e}")))?;
    let run_id = p.run_id.clone();
    match outcome {
        Outcome::NotRunning => Ok(Stopped::NothingRunning(RunStatus::of(
            ws.store.read(name)?.process.as_ref(),
        ))),
        Outcome::Mismatch => Ok(Stopped::Lost),
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
    crate::git::lock::unlock_ours(&ws.repo.common_dir(), worktree_id)
        .map_err(|e| Error::failed(format!("cannot unlock the worktree of shard '{name}': {e}")))
}

/// Reconcile before a command that reports or creates shards; a failure there is reported and
/// does not stop the command.
pub fn reconcile_quietly(ws: &Workspace) {
    match reconcile::reconcile(ws) {
        Ok(lines) => lines.iter().for_each(|l| eprintln!("{l}")),
        Err(e) => eprintln!("warning: reconciliation failed: {e}"),
    }
}

/// The terminal a launch of `agent` goes to (`--terminal`, else configuration, else detection).
///
/// With no command, no `--agent` and no `default_agent`, the agent is the user's shell: useful in
/// a terminal, but in the background it has nothing to read and exits at once, which would look
/// like a run that worked. That is refused here, before anything is created or started.
pub fn launch_terminal(ws: &Workspace, flag: Option<&str>, agent: &crate::agent::AgentCommand) -> Result<Terminal> {
    let (terminal, _) = terminal::choose(&ws.config, flag, stdin_is_tty(), &terminal::process_env)?;
    if agent.fallback_shell && matches!(terminal, Terminal::Background) {
        return Err(Error::refused(
            "no agent to run: without a command the agent is your shell, and in the background it would exit at once",
            "name a command after `--` (`git shard new x -- claude`), use --agent, or set default_agent; \
             or open it in a terminal with --terminal (inline, tmux, …)",
        ));
    }
    Ok(terminal)
}

/// Warn about processes that escaped the run (left its group and session) and still work in the
/// shard's worktree: git-shard cannot prove they are the run's, so it never signals them.
pub fn warn_escaped(name: &ShardName, worktree: &Path) {
    let escaped = crate::process::working_in(worktree);
    if escaped.is_empty() {
        return;
    }
    let list: Vec<String> = escaped
        .iter()
        .map(|(p, c)| format!("{p} ({})", crate::output::clean(c)))
        .collect();
    eprintln!(
        "warning: shard '{name}': still running in its worktree, outside the run's process group and session \
         (not signalled; stop them yourself if they are the agent's): {}",
        list.join(", ")
    );
}

/// `--grace` values: seconds, fractions allowed (`5`, `0.5`).
pub fn parse_grace(raw: &str) -> std::result::Result<Duration, String> {
    let secs: f64 = raw.parse().map_err(|_| format!("'{raw}' is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("'{raw}' is not a duration (seconds, 0 or more)"))
}

/// Is standard input a terminal? (Chooses `inline` over `background` by default.)
pub fn stdin_is_tty() -> bool {
    std::io::stdin().is_terminal()
}
