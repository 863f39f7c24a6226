//! Layered configuration.
//!
//! Files, later ones win key by key:
//! 1. user: `$GIT_SHARD_CONFIG`, else `$XDG_CONFIG_HOME/git-shard/config.toml`, else
//!    `~/.config/git-shard/config.toml`;
//! 2. repository-local (not committed): `<git-common-dir>/shards/config.toml`.
//!
//! Unknown keys and values of the wrong type are errors that name the file, line and key: a typo
//! must never silently fall back to a default.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One file's contents. Every field is optional so that layers can be merged.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Prefix of branch names made from shard names (default `shard/`).
    pub branch_prefix: Option<String>,
    /// Where worktrees go: a path template with `{repo_parent}`, `{repo}`, `{name}`; relative paths
    /// are relative to the main worktree; `~/` is the home folder.
    pub worktree_dir: Option<String>,
    /// Agent preset used when neither `--` nor `--agent` says otherwise.
    pub default_agent: Option<String>,
    /// Terminal template used when `--terminal` is not given.
    pub terminal: Option<String>,
    /// Seconds `new`/`run` wait for the supervisor to record the run.
    pub launch_timeout: Option<u64>,
    #[serde(default)]
    pub terminals: BTreeMap<String, crate::terminal::TemplateSpec>,
    #[serde(default)]
    pub agents: BTreeMap<String, AgentSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    pub command: Vec<String>,
}

/// The merged configuration and the files it came from.
#[derive(Debug, Default, Clone)]
pub struct Config {
    pub branch_prefix: String,
    pub worktree_dir: String,
    pub default_agent: Option<String>,
    pub terminal: Option<String>,
    pub launch_timeout: u64,
    pub terminals: BTreeMap<String, crate::terminal::TemplateSpec>,
    pub agents: BTreeMap<String, AgentSpec>,
    /// Every file consulted, and whether it exists.
    pub files: Vec<(PathBuf, bool)>,
}

pub const DEFAULT_WORKTREE_DIR: &str = "{repo_parent}/{repo}.shards/{name}";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration in {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot read configuration {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// The user-level file (which may not exist).
pub fn user_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GIT_SHARD_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("git-shard").join("config.toml"))
}

pub fn local_file(common_dir: &Path) -> PathBuf {
    common_dir.join("shards").join("config.toml")
}

fn read_layer(path: &Path) -> Result<Option<ConfigFile>, ConfigError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    // toml's message already names line, column and key, with the offending line quoted.
    toml::from_str(&text).map(Some).map_err(|e| ConfigError::Invalid {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}

impl Config {
    /// Load the user layer and, inside a repository, the local layer.
    pub fn load(common_dir: Option<&Path>) -> Result<Config, ConfigError> {
        let mut files: Vec<PathBuf> = user_file().into_iter().collect();
        files.extend(common_dir.map(local_file));
        let mut cfg = Config {
            branch_prefix: "shard/".into(),
            worktree_dir: DEFAULT_WORKTREE_DIR.into(),
            launch_timeout: 10,
            ..Config::default()
        };
        for path in files {
            let layer = read_layer(&path)?;
            cfg.files.push((path, layer.is_some()));
            let Some(l) = layer else { continue };
            if let Some(v) = l.branch_prefix {
                cfg.branch_prefix = v;
            }
            if let Some(v) = l.worktree_dir {
                cfg.worktree_dir = v;
            }
            if l.default_agent.is_some() {
                cfg.default_agent = l.default_agent;
            }
            if l.terminal.is_some() {
                cfg.terminal = l.terminal;
            }
            if let Some(v) = l.launch_timeout {
                cfg.launch_timeout = v;
            }
            cfg.terminals.extend(l.terminals);
            cfg.agents.extend(l.agents);
        }
        Ok(cfg)
    }

    /// The worktree folder for shard `name` of the repository whose main worktree is `main`.
    pub fn worktree_path(&self, main: &Path, name: &str) -> PathBuf {
        let repo = main
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = main.parent().unwrap_or(Path::new("/")).display().to_string();
        let expanded = self
            .worktree_dir
            .replace("{repo_parent}", &parent)
            .replace("{repo}", &repo)
            .replace("{name}", name);
        let path = match expanded.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(rest),
            None => PathBuf::from(expanded),
        };
        if path.is_absolute() { path } else { main.join(path) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_worktree_path_is_beside_the_repo() {
        let cfg = Config {
            worktree_dir: DEFAULT_WORKTREE_DIR.into(),
            ..Config::default()
        };
        assert_eq!(
            cfg.worktree_path(Path::new("/src/app"), "x"),
            PathBuf::from("/src/app.shards/x")
        );
        let rel = Config {
            worktree_dir: ".shards/{name}".into(),
            ..Config::default()
        };
        assert_eq!(
            rel.worktree_path(Path::new("/src/app"), "x"),
            PathBuf::from("/src/app/.shards/x")
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        fs::write(&p, "branch_prefix = \"x/\"\nbranch_prefx = \"y\"\n").unwrap();
        let e = read_layer(&p).unwrap_err().to_string();
        assert!(
            e.contains("config.toml") && e.contains("line 2") && e.contains("branch_prefx"),
            "{e}"
        );
        fs::write(&p, "launch_timeout = \"soon\"\n").unwrap();
        let e = read_layer(&p).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("launch_timeout"), "{e}");
    }
}
