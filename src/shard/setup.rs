//! `setup` and `teardown`: the configuration's commands that make a new shard ready to work
//! (install dependencies, create a database) and clean up after it.
//!
//! Invariants:
//! - They run in the shard's worktree with the shard's variables (`GIT_SHARD_NAME`, `_BRANCH`,
//!   `_PATH`, `_MAIN`, `_PORT`, …) and placeholders (`{name}`, `{port}`, …), one after another;
//!   the first that fails stops the rest.
//! - Their output is shown on standard error (standard output stays free for `--json`) and
//!   appended to the shard's log, so `git shard logs` has it after the terminal is gone.
//! - They never read the user's terminal: standard input is empty, so a command that asks fails
//!   instead of hanging `new`.
//! - Commands of a committed `.git-shard.toml` run only once its content is trusted
//!   (`config::TRUST_GATED`); the caller checks that before calling [`run`].

use std::fs::OpenOptions;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

use crate::config::CommandSpec;

use super::record::Record;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{key} command `{command}` failed ({status})")]
    Failed {
        key: &'static str,
        command: String,
        status: ExitStatus,
    },
    #[error("cannot run {key} command `{command}`: {source}")]
    Spawn {
        key: &'static str,
        command: String,
        #[source]
        source: io::Error,
    },
}

/// Run `commands` (`key` is `setup` or `teardown`, for messages) for the shard of `record`;
/// `main` is the main worktree, `log` the shard's log.
pub fn run(
    key: &'static str,
    commands: &[CommandSpec],
    record: &Record,
    main: &Path,
    log_path: &Path,
) -> Result<(), SetupError> {
    let worktree = record.worktree.to_string_lossy();
    let main_text = main.to_string_lossy();
    let ports = super::ports::placeholders(record);
    let mut values: Vec<(&str, &str)> = vec![
        ("name", &record.name),
        ("branch", &record.branch),
        ("cwd", &worktree),
        ("main", &main_text),
    ];
    values.extend(ports.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut log = OpenOptions::new().create(true).append(true).open(log_path).ok();
    for spec in commands {
        let argv = spec.argv(&values);
        let command = spec.display();
        let banner = format!("git-shard: {key}: {command}\n");
        eprint!("{banner}");
        if let Some(log) = log.as_mut() {
            let _ = log.write_all(banner.as_bytes());
        }
        let spawn_error = |source| SetupError::Spawn {
            key,
            command: command.clone(),
            source,
        };
        let (reader, writer) = io::pipe().map_err(spawn_error)?;
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .current_dir(&record.worktree)
            .env("GIT_SHARD_NAME", &record.name)
            .env("GIT_SHARD_BRANCH", &record.branch)
            .env("GIT_SHARD_PATH", &record.worktree)
            .env("GIT_SHARD_MAIN", main)
            .envs(super::ports::env(record))
            .stdin(Stdio::null())
            .stdout(writer.try_clone().map_err(spawn_error)?)
            .stderr(writer);
        // Git's location variables of the caller would point the command at the wrong worktree.
        for var in crate::git::cmd::LOCATION_ENV {
            cmd.env_remove(var);
        }
        let mut child = cmd.spawn().map_err(spawn_error)?;
        // Our copies of the pipe's writing end go with `cmd`: the reader ends when the command
        // and whatever inherited its output are done.
        drop(cmd);
        let (done, finished) = std::sync::mpsc::channel();
        let log_path = log_path.to_owned();
        std::thread::spawn(move || {
            let mut log = OpenOptions::new().append(true).open(&log_path).ok();
            for line in BufReader::new(reader).split(b'\n') {
                let Ok(mut line) = line else { break };
                line.push(b'\n');
                let _ = io::stderr().write_all(&line);
                if let Some(log) = log.as_mut() {
                    let _ = log.write_all(&line);
                }
            }
            let _ = done.send(());
        });
        let status = child.wait().map_err(spawn_error)?;
        // A server the command left running in the background may hold the output open for
        // good: what it says after the command ended is not waited for.
        let _ = finished.recv_timeout(std::time::Duration::from_secs(1));
        if !status.success() {
            return Err(SetupError::Failed { key, command, status });
        }
    }
    Ok(())
}
