//! Making a shard ready for its agent: its ports, the ignored files it needs, its setup commands;
//! and the teardown commands before `rm` removes it.
//!
//! Order in `new`: ports are reserved in the record before anything else is made (see
//! `shard::ports`); once the worktree exists, `.worktreeinclude`'s files are copied, then the
//! setup runs, then the agent starts. A failed setup leaves the shard whole with `pending_setup`
//! set, and `run` runs the setup again before it starts an agent.

use std::io::{IsTerminal, Write};

use super::LifecycleError;
use crate::context::Workspace;
use crate::error::Result;
use crate::shard::include::{self, Copied};
use crate::shard::{Record, RunStatus, ShardName, ports, setup};

/// Give the shard the ports the configuration asks for that it lacks (a shard made by an older
/// version, or `ports` extended since), under its lock. Returns the record as it is now.
pub fn ensure_ports(ws: &Workspace, name: &ShardName) -> Result<Record> {
    let _lock = ws.store.lock_shard(name)?;
    let mut record = ws.store.read(name)?;
    if let Some(_ports) =
        ports::reserve(&ws.store, &mut record, &ws.config.ports, ws.config.port_range).map_err(LifecycleError::from)?
    {
        ws.store.write(&record)?;
    }
    Ok(record)
}

/// Copy the main worktree's ignored files that `.worktreeinclude` (and `include`) name into the
/// new shard, showing progress on a terminal; `None` when nothing asks for any.
pub fn include(ws: &Workspace, record: &Record) -> Result<Option<Copied>> {
    let main = ws.repo.main_worktree();
    let failed = |e: include::IncludeError| LifecycleError::IncludeFailed {
        name: record.name.clone(),
        reason: e.to_string(),
    };
    let paths = include::select(&main, &ws.config.include).map_err(failed)?;
    if paths.is_empty() {
        return Ok(None);
    }
    let (paths, not_ignored) = include::ignored_in(&record.worktree, paths).map_err(failed)?;
    let mut progress = Progress::new("copying ignored files");
    let copied = include::copy(&main, &record.worktree, &paths, &mut |done, total| {
        progress.show(done, total)
    })
    .map_err(failed);
    progress.done();
    let mut copied = copied?;
    copied.not_ignored = not_ignored;
    Ok(Some(copied))
}

/// Run the configuration's setup commands if the shard still needs them, then record that it
/// does not. The caller made sure no agent runs in it.
pub fn setup(ws: &Workspace, name: &ShardName) -> Result<()> {
    if !ws.store.read(name)?.pending_setup {
        return Ok(());
    }
    ws.config.trusted("setup")?;
    // Under the shard's lock: a second `run` waits and then finds it done, and `rm` cannot take
    // the worktree away while it runs.
    let _lock = ws.store.lock_shard(name)?;
    let mut record = ws.store.read(name)?;
    if !record.pending_setup {
        return Ok(());
    }
    setup::run(
        "setup",
        &ws.config.setup,
        &record,
        &ws.repo.main_worktree(),
        &ws.store.log_path(name.as_str()),
    )
    .map_err(|source| LifecycleError::SetupFailed {
        name: name.to_string(),
        source,
    })?;
    record.pending_setup = false;
    ws.store.write(&record)?;
    Ok(())
}

/// Run the teardown commands before the shard's worktree goes. A failure refuses the removal
/// unless `force`; a teardown from an untrusted committed file is not run (and said so).
pub fn teardown(ws: &Workspace, name: &ShardName, record: &Record, force: bool) -> Result<()> {
    if ws.config.teardown.is_empty() || RunStatus::of(record.process.as_ref()) == RunStatus::Running {
        return Ok(());
    }
    if let Err(e) = ws.config.trusted("teardown") {
        eprintln!("warning: teardown not run: {e} (`git shard config --trust` allows it)");
        return Ok(());
    }
    let ran = setup::run(
        "teardown",
        &ws.config.teardown,
        record,
        &ws.repo.main_worktree(),
        &ws.store.log_path(name.as_str()),
    );
    match ran {
        Ok(()) => Ok(()),
        Err(e) if force => {
            eprintln!("warning: {e}; removing shard '{name}' anyway (--force)");
            Ok(())
        }
        Err(source) => Err(LifecycleError::TeardownFailed {
            name: name.to_string(),
            source,
        }
        .into()),
    }
}

/// A progress line on standard error while it is a terminal, redrawn at most ten times a second;
/// nothing at all when it is not (piped, in a script, under `--json`'s consumer).
pub struct Progress {
    what: &'static str,
    shown: Option<std::time::Instant>,
    tty: bool,
}

impl Progress {
    pub fn new(what: &'static str) -> Progress {
        Progress {
            what,
            shown: None,
            tty: std::io::stderr().is_terminal(),
        }
    }

    pub fn show(&mut self, done: usize, total: usize) {
        let now = std::time::Instant::now();
        if !self.tty || self.shown.is_some_and(|t| now.duration_since(t).as_millis() < 100) {
            return;
        }
        self.shown = Some(now);
        let _ = write!(std::io::stderr(), "\r\x1b[K{}: {done}/{total}", self.what);
    }

    /// Clear the line.
    pub fn done(&mut self) {
        if self.tty && self.shown.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}
