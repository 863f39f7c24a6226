//! One file per subcommand, each with its `Args` (whose doc comment is the help text) and
//! `pub fn run(ctx, args)`: parse, call the domain (`crate::shard::lifecycle`), print. Shared
//! pieces of the command line live here: the JSON view of a shard, choosing a terminal, `--grace`.

pub mod attach;
pub mod cd;
pub mod completions;
pub mod config;
pub mod diff;
pub mod fetch;
pub mod hook;
pub mod hooks;
pub mod host;
pub mod init;
pub mod install_man;
pub mod list;
pub mod logs;
pub mod merge;
pub mod new;
pub mod new_on_host;
pub mod on_host;
pub mod on_hosts;
pub mod path;
pub mod pr;
pub mod prompt;
pub mod prune;
pub mod reconcile;
pub mod rm;
pub mod run;
pub mod status;
pub mod status_line;
pub mod stop;
pub mod supervise;
pub mod wait;

use std::fs::File;
use std::io::{self, IsTerminal, Read, Seek, SeekFrom, Write};
use std::thread;
use std::time::Duration;

use serde::Serialize;

use crate::cli::Command;
use crate::context::{Context, Workspace};
use crate::error::{Error, Result};
use crate::git::hooks as git_hooks;
use crate::shard::activity::{self, Activity};
use crate::shard::{Record, RunStatus, ShardName};
use crate::terminal::{self, Terminal};

pub fn dispatch(ctx: &Context, command: &Command) -> Result<()> {
    if let Some(done) = on_host::forwarded(ctx, command) {
        return done;
    }
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
        Command::StatusLine(a) => status_line::run(ctx, a),
        Command::Run(a) => run::run(ctx, a),
        Command::Path(a) => path::run(ctx, a),
        Command::Logs(a) => logs::run(ctx, a),
        Command::Stop(a) => stop::run(ctx, a),
        Command::Wait(a) => wait::run(ctx, a),
        Command::Rm(a) => rm::run(ctx, a),
        Command::Diff(a) => diff::run(ctx, a),
        Command::Merge(a) => merge::run(ctx, a),
        Command::Pr(a) => pr::run(ctx, a),
        Command::Prune(a) => prune::run(ctx, a),
        Command::Reconcile(a) => reconcile::run(ctx, a),
        Command::Hooks(a) => hooks::run(ctx, a),
        Command::Host(a) => host::run(ctx, a),
        Command::Fetch(a) => fetch::run(ctx, a),
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
    pub created_at: jiff::Timestamp,
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
    pub started_at: Option<jiff::Timestamp>,
    pub ended_at: Option<jiff::Timestamp>,
    /// `working`, `waiting` or `idle` while the run is alive, else null (see README).
    pub activity: Option<Activity>,
    /// When the activity last changed; null with it.
    pub activity_since: Option<jiff::Timestamp>,
    /// The shard's own port (`GIT_SHARD_PORT`), and its named ones.
    pub port: Option<u16>,
    pub ports: std::collections::BTreeMap<String, u16>,
    /// Its setup commands have not all succeeded yet (`run` runs them first).
    pub pending_setup: bool,
    /// How its branch's work is in its base ("squash-merged into main as abc1234"), null when it
    /// is not; only `list` asks (see `shard::merged`), elsewhere null.
    pub merged: Option<String>,
    /// The host the shard lives on (`new --host`); null for a shard of this machine.
    pub host: Option<String>,
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
            created_at: r.created_at,
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
            started_at: p.and_then(|p| p.started_at),
            ended_at: p.and_then(|p| p.ended_at),
            activity: activity::shown(p, status),
            activity_since: activity::shown(p, status).and(p.and_then(|p| p.activity_at)),
            port: r.port,
            ports: r.ports.clone(),
            pending_setup: r.pending_setup,
            merged: None,
            host: None,
        }
    }
}

/// JSON indented for a terminal, compact for a program (as `gh` does): a host's `list --json`
/// crosses ssh at every `list` here, and a quarter of its bytes were indentation.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let text = json_text(value).map_err(|e| Error::failed(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// `value` as [`print_json`] prints it: indented when stdout is a terminal, compact otherwise.
pub fn json_text<T: Serialize>(value: &T) -> serde_json::Result<String> {
    use std::io::IsTerminal;
    match std::io::stdout().is_terminal() {
        true => serde_json::to_string_pretty(value),
        false => serde_json::to_string(value),
    }
}

/// Reconcile before a command that reports or creates shards; a failure there is reported and
/// does not stop the command.
pub fn reconcile_quietly(ws: &Workspace) {
    match crate::shard::lifecycle::reconcile::reconcile(ws) {
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
    // A detached run outlives `new`/`run`, and so may what setup leaves running: neither keeps
    // the caller's files beyond the standard three (see `close_inherited_on_exec`). Inline, the
    // agent is the caller's foreground job, as any command would be.
    if !matches!(terminal, Terminal::Inline) {
        crate::process::close_inherited_on_exec();
    }
    if agent.fallback_shell && matches!(terminal, Terminal::Background) {
        return Err(Error::refused(
            "no agent to run: without a command the agent is your shell, and in the background it would exit at once",
            "name a command after `--` (`git shard new x -- claude`), use --agent, or set default_agent; \
             or open it in a terminal with --terminal (inline, tmux, …)",
        ));
    }
    if matches!(terminal, Terminal::Background)
        && let Some(example) = crate::agent::needs_terminal(&ws.config, agent)
    {
        let agent_name = crate::output::clean(&agent.agent);
        let headless = if example.is_empty() {
            String::new()
        } else {
            format!(", or give it a prompt to work on by itself (`… --agent {agent_name} -- {example}`)")
        };
        return Err(Error::refused(
            format!(
                "{agent_name} is a terminal program: in the background it has nobody to talk to, so it would \
                 fail or answer its own questions; nothing was started"
            ),
            format!("run it in a terminal with --terminal (tmux, inline, …){headless}"),
        ));
    }
    Ok(terminal)
}

/// Warn about processes that escaped the run (left its group and session) and still work in the
/// shard's worktree: git-shard cannot prove they are the run's, so it never signals them.
pub fn warn_escaped(name: &ShardName, escaped: &[(u32, String)]) {
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

/// Print a shard's worktree path on stdout (also what `cd` does without the shell integration).
pub fn print_path(ctx: &Context, name: &str) -> Result<()> {
    let ws = ctx.workspace()?;
    let (_, record) = ws.record(name)?;
    println!("{}", record.worktree.display());
    Ok(())
}

/// Print a shard's log; with `follow`, keep printing until its run is no longer running.
pub fn print_log(ws: &Workspace, name: &ShardName, record: &Record, follow: bool) -> Result<()> {
    let path = ws.store.log_path(name.as_str());
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::refused(
                format!("shard '{name}' has no log"),
                format!(
                    "background runs write one, and runs in tmux, wezterm or kitty keep what their pane showed; \
                     this shard ran in terminal '{}', whose output is only there",
                    crate::output::clean(&record.terminal)
                ),
            ));
        }
        Err(e) => return Err(Error::failed(format!("cannot read {}: {e}", path.display()))),
    };
    let mut out = io::stdout().lock();
    let copy = |file: &mut File, out: &mut io::StdoutLock<'_>| -> io::Result<()> {
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        out.write_all(&buf)?;
        out.flush()
    };
    let fail = |e: io::Error| Error::failed(format!("cannot print {}: {e}", path.display()));
    copy(&mut file, &mut out).map_err(fail)?;
    if !follow {
        return Ok(());
    }
    loop {
        let running = ws
            .store
            .read(name)
            .map(|r| RunStatus::of(r.process.as_ref()) == RunStatus::Running)
            .unwrap_or(false);
        thread::sleep(Duration::from_millis(100));
        // A log truncated by hand: start again from its beginning.
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if file.stream_position().map(|p| p > len).unwrap_or(false) {
            file.seek(SeekFrom::Start(0)).map_err(fail)?;
        }
        copy(&mut file, &mut out).map_err(fail)?;
        if !running {
            return Ok(());
        }
    }
}

/// Whether every git hook of git-shard's is in place.
pub fn hooks_installed(ws: &Workspace) -> bool {
    let Ok((dir, _)) = ws.repo.hooks_dir() else {
        return false;
    };
    git_hooks::HOOKS
        .iter()
        .all(|n| matches!(git_hooks::state(&dir, n), git_hooks::HookState::Ours { .. }))
}

/// Install git-shard's git hooks (see `git::hooks`); `quiet` for the automatic install of `new`.
pub fn install_hooks(ws: &Workspace, force: bool, quiet: bool) -> Result<()> {
    let (dir, configured) = ws.repo.hooks_dir()?;
    if configured
        && !force
        && let Some(tool) = git_hooks::managed_by(&dir)
    {
        return Err(Error::refused(
            format!("core.hooksPath points to {}, which {tool} manages", dir.display()),
            format!(
                "add `git shard reconcile --quiet >/dev/null 2>&1 &` to {tool}'s post-checkout, post-commit and post-merge \
                 hooks (see README, \"Git hooks\"), or use --force to install into that folder anyway"
            ),
        ));
    }
    let exe = std::env::current_exe().map_err(|e| Error::failed(format!("cannot find the git-shard binary: {e}")))?;
    let done = git_hooks::install(&dir, &exe)
        .map_err(|e| Error::refused(e.to_string(), "move that file away and try again"))?;
    if !quiet {
        println!("hooks folder: {}", dir.display());
        for (name, what) in done {
            println!("{name}: {what}");
        }
    }
    Ok(())
}

/// SIGINT and SIGQUIT ignored until dropped, as `system(3)` does while its child runs: a Ctrl-C
/// at `git diff`'s pager or `git commit`'s editor is the child's to handle, and we wait for it
/// and clean up after it instead of dying first.
pub(crate) struct IgnoreInterrupts {
    int: libc::sighandler_t,
    quit: libc::sighandler_t,
}

impl IgnoreInterrupts {
    /// Call after the child is spawned: it must not inherit the ignored dispositions.
    pub(crate) fn new() -> IgnoreInterrupts {
        // SAFETY: plain disposition changes, restored on drop; no handler code runs.
        unsafe {
            IgnoreInterrupts {
                int: libc::signal(libc::SIGINT, libc::SIG_IGN),
                quit: libc::signal(libc::SIGQUIT, libc::SIG_IGN),
            }
        }
    }
}

impl Drop for IgnoreInterrupts {
    fn drop(&mut self) {
        // SAFETY: restores what `new` replaced.
        unsafe {
            libc::signal(libc::SIGINT, self.int);
            libc::signal(libc::SIGQUIT, self.quit);
        }
    }
}
