//! `git shard new`: worktree + branch + record, then the agent under its supervisor.
//!
//! Safety rule 4: a failed `new` rolls back what it created (branch, worktree, record), and it
//! refuses bad input before creating anything.

use std::collections::BTreeMap;

use crate::agent;
use crate::context::{Context, Workspace};
use crate::error::{Error, Result};
use crate::git::GitError;
use crate::git::worktree::comparable_path;
use crate::shard::lifecycle;
use crate::shard::lifecycle::LifecycleError;
use crate::shard::lifecycle::prepare;
use crate::shard::ports;
use crate::shard::record::{self, Base, Record};
use crate::shard::{RunStatus, ShardName, StoreError};

use super::{ShardJson, print_json};
use crate::shard::lifecycle::run::{LaunchResult, launch};

/// Create a shard: a new worktree on its own branch, with an agent running in it.
///
/// The branch is `<branch_prefix><name>` (prefix `shard/` unless configured) starting at `--base`
/// (default: the commit HEAD points at). The worktree goes to `<repo>.shards/<name>` beside the
/// repository unless `worktree_dir` is configured. The agent command is what follows `--`, else
/// the `--agent` preset, else `default_agent` from the configuration, else `$SHELL`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard: 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit.
    pub name: String,
    /// Start from this revision (branch, tag or commit) instead of HEAD.
    #[arg(long, value_name = "REV", add = clap_complete::ArgValueCandidates::new(crate::cli::ref_names))]
    pub base: Option<String>,
    /// Use this branch instead of `<prefix><name>`. An existing branch is used as it is, if no
    /// worktree has it checked out.
    #[arg(long, add = clap_complete::ArgValueCandidates::new(crate::cli::branch_names))]
    pub branch: Option<String>,
    /// Agent preset (claude, codex, gemini, aider, opencode, …); arguments after `--` are appended.
    #[arg(long, value_name = "PRESET", add = clap_complete::ArgValueCandidates::new(crate::cli::agent_names))]
    pub agent: Option<String>,
    /// Terminal to run the agent in (background, inline, or one from the configuration).
    #[arg(long, value_name = "NAME", add = clap_complete::ArgValueCandidates::new(crate::cli::terminal_names))]
    pub terminal: Option<String>,
    /// Create the worktree and branch but start no agent (`git shard run` starts one later).
    #[arg(long)]
    pub no_launch: bool,
    /// Do not copy the ignored files `.worktreeinclude` names into the new worktree.
    #[arg(long)]
    pub no_include: bool,
    /// Make the shard on this host (see `git shard host`): the base commit goes there over
    /// git's ssh transport, and the agent runs there (in its tmux unless --terminal says).
    #[arg(long, value_name = "HOST", add = clap_complete::ArgValueCandidates::new(crate::cli::host_names))]
    pub host: Option<String>,
    /// Print the new shard as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// The agent command and its arguments.
    #[arg(last = true, value_name = "COMMAND", add = clap_complete::ArgValueCompleter::new(crate::cli::CommandCompleter))]
    pub command: Vec<String>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let name = ShardName::parse(&args.name)?;
    let ws = ctx.workspace()?;
    if let Some(host) = &args.host {
        return super::new_on_host::run(&ws, args, &name, host);
    }
    if let Some(p) = crate::host::pointer(&ws.repo.common_dir(), name.as_str()) {
        return Err(Error::refused(
            format!("a shard named '{name}' already exists on host '{}'", p.host),
            "choose another name",
        ));
    }
    super::reconcile_quietly(&ws);
    let (agent, terminal) = if args.no_launch {
        (agent::choose(&ws.config, args.agent.as_deref(), &args.command)?, None)
    } else {
        let agent = agent::resolve(&ws.config, args.agent.as_deref(), &args.command)?;
        let terminal = super::launch_terminal(&ws, args.terminal.as_deref(), &agent)?;
        (agent, Some(terminal))
    };
    let base = ws.repo.resolve_base(args.base.as_deref())?;
    let branch = match &args.branch {
        Some(branch) => branch.clone(),
        None => {
            ws.config.trusted("branch_prefix")?;
            format!("{}{}", ws.config.branch_prefix, name)
        }
    };
    ws.repo.check_branch_name(&branch)?;
    ws.config.trusted("worktree_dir")?;
    if !ws.config.setup.is_empty() {
        ws.config.trusted("setup")?;
    }
    // The spelling git will register: the real path of what exists of it, so that the record,
    // `git worktree list`, `list` and the prompt all name the worktree the same way.
    let path = comparable_path(&ws.config.worktree_path(&ws.repo.anchor(), name.as_str()));
    if path.to_str().is_none() {
        // Records are TOML, which holds text only: a path that is not UTF-8 could not be named.
        return Err(Error::refused(
            format!(
                "the worktree path {} is not UTF-8 text, which git-shard cannot record",
                path.display()
            ),
            "set `worktree_dir` to a folder whose path is UTF-8 (`git shard config --set worktree_dir=…`)",
        ));
    }
    lifecycle::check_location(&ws, &path)?;

    let record = {
        let _store = ws.store.lock_store_shared()?;
        let _shard = ws.store.lock_shard(&name)?;
        let created = create(&ws, args, &name, &agent, terminal.as_ref(), &base, &branch, &path);
        if created.is_err() && !ws.store.exists(&name) {
            // Refused before (or rolled back after) the record was written: the lock file
            // `lock_shard` made goes too, so a refused `new` leaves nothing behind.
            let _ = ws.store.remove(&name);
        }
        created?
    };
    tracing::debug!(name = %name, path = %path.display(), branch, "created");

    offer_hooks(&ws);
    if !args.no_include
        && let Some(copied) = prepare::include(&ws, &record)?
    {
        eprintln!("{}", copied_text(&copied));
    }
    prepare::setup(&ws, &name)?;
    let Some(terminal) = terminal else {
        return report(args, &ws, &name, "created (no agent started)");
    };
    match launch(&ws, &name, &terminal, None, false) {
        Ok(LaunchResult::Started(p)) => {
            let how = match (p.pid, p.exit_code, p.signal) {
                (_, Some(code), _) if p.has_ended() => format!("started; the agent already exited with code {code}"),
                (_, _, Some(sig)) if p.has_ended() => format!("started; the agent already ended by signal {sig}"),
                (Some(pid), _, _) => format!("running (pid {pid}) in terminal '{}'", terminal.name()),
                _ => "started".into(),
            };
            report(args, &ws, &name, &how)
        }
        Ok(LaunchResult::InlineExited(code)) => {
            // Said the way `list` will say it (`exited (signal 2)` after a Ctrl-C, not `130`).
            let how = match ws.store.read(&name) {
                Ok(r) => format!(
                    "agent {}",
                    crate::shard::status::describe(&r, RunStatus::of(r.process.as_ref()))
                ),
                Err(_) => format!("agent exited with status {code}"),
            };
            report(args, &ws, &name, &how)?;
            if code == 0 { Ok(()) } else { Err(Error::Exit(code)) }
        }
        // The agent started and failed at once: the shard is whole and kept, for `run` once the
        // cause is fixed; the error says what the agent showed.
        Err(e @ Error::Lifecycle(LifecycleError::EndedAtStart { .. })) => {
            report(args, &ws, &name, "created; its agent ended at start (below)")?;
            Err(e)
        }
        Err(e) => {
            let _shard = ws.store.lock_shard(&name)?;
            // `launch` cancelled the run under this lock, so no supervisor can start an agent here
            // any more; still, never undo under a live agent. The record may also have been
            // removed by `rm` meanwhile: then there is nothing of ours left to undo.
            if let Ok(now) = ws.store.read(&name) {
                if RunStatus::of(now.process.as_ref()) == RunStatus::Running {
                    return Err(e);
                }
                undo(&ws, &record);
            }
            Err(e)
        }
    }
}

/// The locked part of `new`: refuse what cannot be made, then record and create. The caller holds
/// the store and shard locks.
#[allow(clippy::too_many_arguments)]
fn create(
    ws: &Workspace,
    args: &Args,
    name: &ShardName,
    agent: &agent::AgentCommand,
    terminal: Option<&crate::terminal::Terminal>,
    base: &crate::git::Base,
    branch: &str,
    path: &std::path::Path,
) -> Result<Record> {
    if ws.store.exists(name) {
        return Err(StoreError::Exists(name.to_string()).into());
    }
    let create_branch = if ws.repo.branch_exists(branch)? {
        if args.branch.is_none() {
            return Err(GitError::BranchExists {
                branch: branch.to_owned(),
            }
            .into());
        }
        if let Some(at) = ws.repo.branch_checked_out_at(branch)? {
            return Err(GitError::BranchCheckedOut {
                branch: branch.to_owned(),
                path: at,
            }
            .into());
        }
        false
    } else {
        true
    };
    lifecycle::check_free(ws, path)?;
    // The record goes first, marked incomplete: if this process dies mid-way (SIGKILL,
    // power), the record still names what was being made, and `prune` or `rm` undo it.
    let mut record = Record {
        version: record::VERSION,
        name: name.to_string(),
        branch: branch.to_owned(),
        created_branch: create_branch,
        incomplete: true,
        removing: false,
        worktree: path.to_owned(),
        // git names the entry after the folder (with a counter if taken); the real id is
        // recorded once git has registered it.
        worktree_id: path
            .file_name()
            .map_or_else(|| name.to_string(), |n| n.to_string_lossy().into_owned()),
        agent: agent.agent.clone(),
        command: agent.argv.clone(),
        terminal: terminal.as_ref().map_or("none", |t| t.name()).to_owned(),
        created_at: crate::shard::record::now(),
        orphaned_at: None,
        base: Base {
            refname: base.refname.clone(),
            commit: base.commit.clone(),
            extra: BTreeMap::new(),
        },
        port: None,
        ports: BTreeMap::new(),
        pending_setup: false,
        process: None,
        git_process: None,
        extra: BTreeMap::new(),
    };
    record.pending_setup = !ws.config.setup.is_empty();
    let ports =
        ports::reserve(&ws.store, &mut record, &ws.config.ports, ws.config.port_range).map_err(LifecycleError::from)?;
    ws.store.create(&record)?;
    drop(ports);
    // `git branch` takes the base as the user spelled it, so that a remote-tracking base
    // sets the branch's upstream as `git worktree add -b` does.
    let start = args.base.as_deref().unwrap_or("HEAD");
    if let Err(e) = lifecycle::create(ws, &mut record, start) {
        // `create` removed what it made; the record goes too.
        let _ = ws.store.remove(name);
        return Err(e);
    }
    Ok(record)
}

/// Remove what `new` created for `record`, best effort: worktree, branch (if we created it),
/// record. No agent ran in the worktree (the caller checked, under the shard lock), so nothing in
/// it is anyone's work yet.
fn undo(ws: &Workspace, record: &Record) {
    let Ok(name) = ShardName::parse(&record.name) else {
        return;
    };
    if let Err(e) = lifecycle::finish_removal(ws, &name, record, &lifecycle::DeleteBranch::IfMerged, false) {
        tracing::warn!("rollback: {e}");
    }
}

/// The hooks are what lets git-shard notice a worktree removed behind its back. Installed
/// automatically when the configuration says so (`auto_install_hooks`), otherwise offered once
/// per repository, never installed silently.
fn offer_hooks(ws: &Workspace) {
    let marker = ws.store.dir().join(".hooks-offered");
    // Offered once: from then on only `auto_install_hooks` needs to look (which asks git where
    // the hooks folder is).
    if marker.exists() && !ws.config.auto_install_hooks {
        return;
    }
    if super::hooks_installed(ws) {
        return;
    }
    if ws.config.auto_install_hooks {
        match super::install_hooks(ws, false, true) {
            Ok(()) => eprintln!("installed git-shard's git hooks (auto_install_hooks = true)"),
            Err(e) => eprintln!("warning: cannot install git-shard's git hooks: {e}"),
        }
        return;
    }
    eprintln!(
        "hint: `git shard hooks install` lets git-shard stop agents whose worktree is removed behind its back \
         (`git shard config --set auto_install_hooks=true` installs them with the next `new`); shown once"
    );
    let _ = std::fs::write(marker, "");
}

fn report(args: &Args, ws: &Workspace, name: &ShardName, how: &str) -> Result<()> {
    let record = ws.store.read(name)?;
    if args.json {
        let status = RunStatus::of(record.process.as_ref());
        return print_json(&ShardJson::new(&record, status));
    }
    eprintln!(
        "shard '{name}' on branch '{}' at {}: {how}",
        crate::output::clean(&record.branch),
        crate::output::short_path(&record.worktree)
    );
    Ok(())
}

/// What `.worktreeinclude` brought, in a line.
fn copied_text(c: &crate::shard::include::Copied) -> String {
    let mut text = format!(
        "copied {} ignored file{} ({}) into the shard in {:.2} s",
        c.files,
        if c.files == 1 { "" } else { "s" },
        crate::output::bytes(c.bytes),
        c.elapsed.as_secs_f64()
    );
    if c.reflinked > 0 {
        text.push_str(&format!(", {} sharing their blocks (reflink)", c.reflinked));
    }
    if c.links > 0 {
        text.push_str(&format!(
            ", and {} symlink{}",
            c.links,
            if c.links == 1 { "" } else { "s" }
        ));
    }
    if !c.skipped.is_empty() {
        text.push_str(&format!(
            "; left alone {} that exist in the shard or lie behind a link there ({})",
            c.skipped.len(),
            crate::output::clean(&c.skipped[0].to_string_lossy())
        ));
    }
    if !c.not_ignored.is_empty() {
        text.push_str(&format!(
            "; not copied: {} the shard's checkout does not ignore ({}), so they would be untracked \
             files an agent could commit (commit the ignore line to the shard's base branch)",
            c.not_ignored.len(),
            crate::output::clean(&c.not_ignored[0].to_string_lossy())
        ));
    }
    text
}
