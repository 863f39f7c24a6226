//! `setup` and `teardown`: the configuration's commands that make a new shard ready to work
//! (install dependencies, create a database) and clean up after it.
//!
//! Invariants:
//! - They run in the shard's worktree with the shard's variables (`GIT_SHARD_NAME`, `_BRANCH`,
//!   `_PATH`, `_MAIN`, `_PORT`, …) and placeholders (`{name}`, `{port}`, …), one after another;
//!   the first that fails stops the rest.
//! - Their output goes to the shard's log (so `git shard logs` has it, and a server a command
//!   leaves in the background keeps somewhere to write) and is shown from there on standard
//!   error as it comes (standard output stays free for `--json`).
//! - They never read the user's terminal: standard input is empty, so a command that asks fails
//!   instead of hanging `new`.
//! - Commands of a committed `.git-shard.toml` run only once its content is trusted
//!   (`config::TRUST_GATED`); the caller checks that before calling [`run`].

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
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

/// Set (to `1`) by the script that runs `new` on a host, which ignores INT and TERM there: the
/// commands this `new` runs get them back. Not passed on to any command.
pub const INTERRUPTS_IGNORED_ENV: &str = "GIT_SHARD_INTERRUPTS_IGNORED";

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
    for spec in commands {
        let argv = spec.argv(&values);
        // What runs, placeholders filled: the shell line, or the words.
        let command = match spec {
            CommandSpec::Shell(_) => argv.last().cloned().unwrap_or_default(),
            CommandSpec::Argv(_) => shlex::try_join(argv.iter().map(String::as_str)).unwrap_or_else(|_| argv.join(" ")),
        };
        let spawn_error = |source| SetupError::Spawn {
            key,
            command: command.clone(),
            source,
        };
        // The command writes into the log itself: a server it leaves running in the background
        // keeps a place to write to once we are gone (a pipe of ours would break, and kill it).
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .map_err(spawn_error)?;
        let banner = format!("git-shard: {key}: {command}\n");
        eprint!("{banner}");
        log.write_all(banner.as_bytes()).map_err(spawn_error)?;
        let mut shown = File::open(log_path).map_err(spawn_error)?;
        shown.seek(SeekFrom::End(0)).map_err(spawn_error)?;
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .current_dir(&record.worktree)
            .env("GIT_SHARD_NAME", &record.name)
            .env("GIT_SHARD_BRANCH", &record.branch)
            .env("GIT_SHARD_PATH", &record.worktree)
            .env("GIT_SHARD_MAIN", main)
            .envs(super::ports::env(record))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(spawn_error)?)
            .stderr(log);
        // Git's location variables of the caller would point the command at the wrong worktree.
        for var in crate::git::cmd::LOCATION_ENV {
            cmd.env_remove(var);
        }
        // Interrupts as a command expects them when it was git-shard that had them ignored: a
        // `new` run on a host ignores INT and TERM (see `new_on_host`), and an ignored signal
        // stays ignored across exec, so an `npm install` there could not be interrupted or
        // stopped. An ignore of the user's own (a background job of a script ignores INT) is left
        // as it is, and so are hangups: there they are ignored so that a cut connection does not
        // cut setup short.
        cmd.env_remove(INTERRUPTS_IGNORED_ENV);
        if std::env::var_os(INTERRUPTS_IGNORED_ENV).is_some() {
            // SAFETY: between fork and exec only `signal`, which is async-signal-safe.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                    for sig in [libc::SIGINT, libc::SIGTERM] {
                        libc::signal(sig, libc::SIG_DFL);
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().map_err(spawn_error)?;
        // What it writes is shown as it comes: the log from where it began.
        let status = loop {
            let _ = io::copy(&mut shown, &mut io::stderr());
            if let Some(status) = child.try_wait().map_err(spawn_error)? {
                let _ = io::copy(&mut shown, &mut io::stderr());
                break status;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        if !status.success() {
            return Err(SetupError::Failed { key, command, status });
        }
    }
    Ok(())
}
