//! Errors at the edge: every domain error becomes `error: <what>`, its causes, and where we know
//! one, `hint: <what to do>`. Exit codes: 0 success, 1 refused or failed, 2 bad usage (clap).

use std::error::Error as _;
use std::io::{self, Write};

use crate::agent::AgentError;
use crate::config::ConfigError;
use crate::git::GitError;
use crate::shard::lifecycle::LifecycleError;
use crate::shard::name::NameError;
use crate::shard::record::RecordError;
use crate::shard::store::StoreError;
use crate::terminal::TerminalError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Name(#[from] NameError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Terminal(#[from] TerminalError),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// A refusal or failure described in the user's terms, with what to do about it.
    #[error("{message}")]
    Refused { message: String, hint: Option<String> },
    /// Exit with this status without a message (e.g. an inline agent's own exit status).
    #[error("exit status {0}")]
    Exit(i32),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

const UNTRUSTED_HINT: &str =
    "read the file, then `git shard config --trust` allows the commands and settings of its current content";

fn config_hint(error: &ConfigError) -> &'static str {
    match error {
        ConfigError::Untrusted { .. } => UNTRUSTED_HINT,
        _ => "fix or remove the key; `git shard config --path` lists the files that are read",
    }
}

impl Error {
    pub fn refused(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::Refused {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn failed(message: impl Into<String>) -> Error {
        Error::Refused {
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(&self) -> Option<String> {
        let h = match self {
            Error::Refused { hint, .. } => return hint.clone(),
            Error::Lifecycle(l) => return l.hint(),
            Error::Git(g) => match g {
                GitError::NotARepository { .. } => "run it inside a git repository (or use `git -C <path> shard …`)",
                GitError::NoCommits => "make a first commit, e.g. `git commit --allow-empty -m init`",
                GitError::BadRevision { .. } => "pass --base a branch, tag or commit that exists",
                GitError::BranchExists { .. } => {
                    "choose another shard name, or pass --branch <branch> to start the shard on that existing branch"
                }
                GitError::BranchCheckedOut { .. } => {
                    "a branch can be checked out in one worktree only; pick another branch with --branch"
                }
                GitError::InvalidBranchName { .. } => {
                    "branch names follow git's rules; see `git check-ref-format --help`"
                }
                GitError::PathRegistered { .. } => {
                    "`git worktree prune` (or `git shard prune`) drops git's stale entry"
                }
                GitError::PathExists { .. } => {
                    "move or remove that folder, or choose another shard name (or `worktree_dir` in the configuration)"
                }
                _ => return None,
            },
            Error::Store(s) => match s {
                StoreError::NotFound(_) => "`git shard list` shows the shards of this repository",
                StoreError::Exists(_) => "choose another name, or remove the old shard with `git shard rm <name>`",
                StoreError::Unreadable {
                    reason: RecordError::NewerVersion { .. },
                    ..
                } => "upgrade git-shard to manage this shard; this version never rewrites it",
                StoreError::Unreadable { .. } => {
                    "git shard never rewrites a record it cannot read: fix the file by hand, or move it aside to forget the shard"
                }
                StoreError::Io { .. } => return None,
            },
            Error::Name(_) => NameError::RULE,
            Error::Config(c) => config_hint(c),
            Error::Agent(a) => match a {
                AgentError::MissingProgram { .. } => {
                    "install it, or put its folder on PATH, or name another command after `--`"
                }
                AgentError::UnknownPreset { .. } => "add it as [agents.<name>] command = [...] in the configuration",
                AgentError::Empty => "name a command after `--`",
                AgentError::Untrusted { .. } => UNTRUSTED_HINT,
                AgentError::Config(c) => config_hint(c),
            },
            Error::Terminal(t) => match t {
                TerminalError::Unknown { .. } => "add it as [terminals.<name>] command = [...] in the configuration",
                TerminalError::Untrusted { .. } => UNTRUSTED_HINT,
                TerminalError::Config(c) => config_hint(c),
                TerminalError::WrongPlatform { .. } => {
                    "pick another with --terminal; `git shard config --show` lists them"
                }
                // NotFound also means a missing working folder: name the program only when it is
                // really not there.
                TerminalError::Spawn { source, program, .. }
                    if source.kind() == std::io::ErrorKind::NotFound
                        && crate::agent::find_program(program).is_none() =>
                {
                    return Some(format!(
                        "`{program}` was not found on PATH: install it, or pick another terminal with --terminal"
                    ));
                }
                _ => return None,
            },
            Error::Exit(_) => return None,
        };
        Some(h.to_owned())
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exit(code) => *code,
            _ => 1,
        }
    }

    /// Print `error: …`, the chain of causes, and the hint to stderr.
    pub fn report(&self) {
        if let Error::Exit(_) = self {
            return;
        }
        // Messages quote names, branches and paths that may come from anywhere: whatever else
        // they hold, no control character reaches the terminal raw (line breaks are kept).
        let clean = |text: String| text.lines().map(crate::output::clean).collect::<Vec<_>>().join("\n");
        let mut err = io::stderr().lock();
        let mut said = self.to_string();
        let _ = writeln!(err, "error: {}", clean(said.clone()));
        // `transparent` variants forward `source()` to the wrapped error, so this walks the causes.
        // A cause the message above already quotes (`cannot start …: {source}`) is not repeated.
        let mut source = self.source();
        while let Some(s) = source {
            let text = s.to_string();
            if !said.contains(&text) {
                let _ = writeln!(err, "  caused by: {}", clean(text.clone()));
            }
            said = text;
            source = s.source();
        }
        if let Some(h) = self.hint() {
            let _ = writeln!(err, "hint: {}", clean(h));
        }
    }
}
