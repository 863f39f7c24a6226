//! Layered configuration.
//!
//! Files, later ones win key by key:
//! 1. user: `$GIT_SHARD_CONFIG`, else `$XDG_CONFIG_HOME/git-shard/config.toml`, else
//!    `~/.config/git-shard/config.toml`;
//! 2. repository, committed: `.git-shard.toml` at the root of the current worktree;
//! 3. repository, local (not committed): `<git-common-dir>/shards/config.toml`.
//!
//! Unknown keys and values of the wrong type are errors that name the file, line and key: a typo
//! must never silently fall back to a default.
//!
//! Safety rule 6: a committed file comes with the repository, from whoever wrote it. Its
//! `[terminals]` and `[agents]` are commands, so they are only run once the user has trusted that
//! exact file content (`git shard config --trust`, which records its git blob id in
//! `<git-common-dir>/shards/trusted`); until then, using one is refused with that hint. Any edit to
//! the file needs a new consent.

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
    /// are relative to the main worktree (for a bare repository, to the project folder it is named
    /// after); `~/` is the home folder.
    pub worktree_dir: Option<String>,
    /// Agent preset used when neither `--` nor `--agent` says otherwise.
    pub default_agent: Option<String>,
    /// Terminal template used when `--terminal` is not given.
    pub terminal: Option<String>,
    /// Seconds `new`/`run` wait for the supervisor to record the run.
    pub launch_timeout: Option<u64>,
    /// Seconds `new`/`run` watch an agent started in a terminal: one that fails within them is
    /// reported with its last lines instead of as running (0: do not watch).
    pub watch_start: Option<f64>,
    /// Seconds: an agent that fails within them keeps its terminal window open, showing its
    /// output and exit status, until a key is pressed (0: close at once).
    pub hold_on_failure: Option<u64>,
    /// How to tell you that an agent waits for you, is idle, or has ended: a built-in (`desktop`,
    /// `tmux`, `terminal`) or an argv template with `{name}`, `{branch}`, `{activity}`, `{message}`.
    pub notify: Option<NotifySpec>,
    /// Install git-shard's git hooks with the next `new` (not allowed in a committed file: a
    /// repository does not get to change your hooks).
    pub auto_install_hooks: Option<bool>,
    /// More patterns (gitignore syntax) of ignored files to copy into a new shard, besides those
    /// of `.worktreeinclude`.
    pub include: Option<Vec<String>>,
    /// Commands run in a new shard's worktree before its agent starts: each an argv array, or
    /// `{ sh = "…" }` for a shell command line.
    pub setup: Option<Vec<toml::Value>>,
    /// Commands run in a shard's worktree before `rm` removes it.
    pub teardown: Option<Vec<toml::Value>>,
    /// The ports shards get theirs from: `[first, last]`.
    pub port_range: Option<[u16; 2]>,
    /// Named ports each shard gets besides its own (`["web"]` → `GIT_SHARD_PORT_WEB`).
    pub ports: Option<Vec<String>>,
    #[serde(default)]
    pub terminals: BTreeMap<String, crate::terminal::TemplateSpec>,
    #[serde(default)]
    pub agents: BTreeMap<String, AgentSpec>,
    /// Machines shards can run on (`new --host`); only in your own or the local configuration.
    #[serde(default)]
    pub hosts: BTreeMap<String, HostSpec>,
}

/// `[hosts.<name>]`: a machine reached with OpenSSH, holding a clone of this repository.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// The destination as `ssh` takes it (`devbox`, `me@10.0.0.5`): `~/.ssh/config` applies.
    pub ssh: String,
    /// The clone of this repository there (absolute, or `~/…` for one in the home folder).
    pub repo: String,
    /// The git-shard binary there (default: `git-shard` on its PATH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_shard: Option<String>,
}

/// One `setup` or `teardown` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandSpec {
    /// Run as is (each element a placeholder template).
    Argv(Vec<String>),
    /// Run by `sh -c`.
    Shell(String),
}

impl CommandSpec {
    /// The argv to run, placeholders expanded.
    pub fn argv(&self, values: &[(&str, &str)]) -> Vec<String> {
        match self {
            CommandSpec::Argv(argv) => argv.iter().map(|a| crate::template::fill(a, values)).collect(),
            // Values go into a shell line quoted: a path with a space, or a `$(…)` in a folder
            // name, stays one word and runs nothing.
            CommandSpec::Shell(line) => {
                let quoted: Vec<(&str, String)> = values
                    .iter()
                    .map(|(k, v)| {
                        (
                            *k,
                            shlex::try_quote(v).map_or_else(|_| String::new(), |q| q.into_owned()),
                        )
                    })
                    .collect();
                let quoted: Vec<(&str, &str)> = quoted.iter().map(|(k, v)| (*k, v.as_str())).collect();
                vec!["sh".into(), "-c".into(), crate::template::fill(line, &quoted)]
            }
        }
    }

    fn parse(key: &str, value: &toml::Value) -> Result<CommandSpec, String> {
        let hint = format!(
            "each {key} command is an argv array (`[\"npm\", \"ci\"]`) or a shell line by choice (`{{ sh = \"npm ci && npm run build\" }}`)"
        );
        match value {
            toml::Value::Array(items) => {
                let argv: Option<Vec<String>> = items.iter().map(|i| i.as_str().map(str::to_owned)).collect();
                match argv {
                    Some(argv) if !argv.is_empty() => Ok(CommandSpec::Argv(argv)),
                    _ => Err(format!("a {key} command is empty or not all strings; {hint}")),
                }
            }
            toml::Value::Table(t) if t.len() == 1 => match t.get("sh") {
                Some(toml::Value::String(line)) => Ok(CommandSpec::Shell(line.clone())),
                _ => Err(format!("{key}: {value} is not a command; {hint}")),
            },
            toml::Value::String(line) => Err(format!("{key}: \"{line}\" is a string; {hint}")),
            _ => Err(format!("{key}: {value} is not a command; {hint}")),
        }
    }
}

/// `notify` in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum NotifySpec {
    Builtin(String),
    Command(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    pub command: Vec<String>,
    /// The agent is a terminal program (a TUI): refused in the background unless one of
    /// `headless` is among its arguments.
    #[serde(default)]
    pub needs_terminal: bool,
    /// Arguments that make it work on its own, without a terminal (`-p`, `exec`, …).
    #[serde(default)]
    pub headless: Vec<String>,
}

/// The merged configuration and the files it came from.
#[derive(Debug, Default, Clone)]
pub struct Config {
    pub branch_prefix: String,
    pub worktree_dir: String,
    pub default_agent: Option<String>,
    pub terminal: Option<String>,
    pub launch_timeout: u64,
    pub watch_start: f64,
    pub hold_on_failure: u64,
    pub notify: Option<NotifySpec>,
    pub auto_install_hooks: bool,
    pub include: Vec<String>,
    pub setup: Vec<CommandSpec>,
    pub teardown: Vec<CommandSpec>,
    pub port_range: (u16, u16),
    pub ports: Vec<String>,
    pub terminals: BTreeMap<String, crate::terminal::TemplateSpec>,
    pub agents: BTreeMap<String, AgentSpec>,
    pub hosts: BTreeMap<String, HostSpec>,
    /// Terminals and agents defined by an untrusted committed file (name → file).
    pub untrusted_terminals: BTreeMap<String, PathBuf>,
    pub untrusted_agents: BTreeMap<String, PathBuf>,
    /// Settings whose value comes from an untrusted committed file (key → file): see
    /// [`TRUST_GATED`].
    pub untrusted_settings: BTreeMap<&'static str, PathBuf>,
    /// Every file consulted, in order.
    pub files: Vec<FileInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    User,
    Committed,
    Local,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::User => "user",
            Layer::Committed => "committed",
            Layer::Local => "local",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FileInfo {
    pub path: PathBuf,
    pub layer: Layer,
    pub exists: bool,
    /// For the committed file: whether its current content is trusted.
    pub trusted: Option<bool>,
}

pub const DEFAULT_WORKTREE_DIR: &str = "{repo_parent}/{repo}.shards/{name}";

/// The settings of a committed file that decide where files are written or what runs: used only
/// once the file's content is trusted (`git shard config --trust`), like its terminals and agents.
/// `launch_timeout`, `watch_start` and `hold_on_failure` (how long git-shard waits) are the
/// settings a repository may choose for you.
pub const TRUST_GATED: &[&str] = &[
    "branch_prefix",
    "worktree_dir",
    "default_agent",
    "terminal",
    "notify",
    "setup",
    "teardown",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration in {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("`{key}` is set in {path}, which is committed in the repository and not trusted")]
    Untrusted { key: &'static str, path: PathBuf },
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

pub const COMMITTED_FILE: &str = ".git-shard.toml";

/// Set (`Some`) or remove (`None`) a top-level key of the local configuration file. The result is
/// validated like any layer before it is written, so a bad value never lands; comments in that
/// file are not kept (it is meant to be written by `git shard config --set`).
pub fn set_local(common_dir: &Path, key: &str, value: Option<&str>) -> Result<SetLocal, ConfigError> {
    edit_local(common_dir, |table| match value {
        None => table.remove(key).is_some(),
        Some(raw) => {
            // A bare word is a string; anything TOML can parse as a value (true, 10, "x") is that.
            let parsed = toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
            table.insert(key.to_owned(), parsed);
            true
        }
    })
}

/// Add (`Some`) or remove (`None`) `[hosts.<name>]` in the local configuration file.
pub fn set_local_host(common_dir: &Path, name: &str, spec: Option<&HostSpec>) -> Result<SetLocal, ConfigError> {
    edit_local(common_dir, |table| {
        let hosts = table
            .entry("hosts")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(hosts) = hosts.as_table_mut() else {
            return false;
        };
        let changed = match spec.map(toml::Value::try_from) {
            Some(Ok(value)) => hosts.insert(name.to_owned(), value.clone()) != Some(value),
            Some(Err(_)) => false,
            None => hosts.remove(name).is_some(),
        };
        if hosts.is_empty() {
            table.remove("hosts");
        }
        changed
    })
}

/// Change the local configuration file's table with `edit` (which says whether it changed
/// anything), validate the result like any layer, and write it atomically.
fn edit_local(common_dir: &Path, edit: impl FnOnce(&mut toml::Table) -> bool) -> Result<SetLocal, ConfigError> {
    let path = local_file(common_dir);
    let invalid = |message: String| ConfigError::Invalid {
        path: path.clone(),
        message,
    };
    // One edit at a time: two at once (`host add` of two hosts, say) would each write the file as
    // it read it, and one change would be lost. Held until the file is replaced.
    let store = crate::shard::Store::new(common_dir);
    let lock = store.lock_config().map_err(|e| ConfigError::Io {
        path: store.dir().join(".config.lock"),
        source: io::Error::other(e.to_string()),
    })?;
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(ConfigError::Io { path, source }),
    };
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    if !edit(&mut table) {
        return Ok(SetLocal::Unchanged(path));
    }
    let out = toml::to_string(&table).map_err(|e| invalid(e.to_string()))?;
    toml::from_str::<ConfigFile>(&out).map_err(|e| invalid(e.to_string().trim_end().to_owned()))?;
    crate::fsutil::write_atomic(&path, out.as_bytes()).map_err(|source| ConfigError::Io {
        path: path.clone(),
        source,
    })?;
    drop(lock);
    Ok(SetLocal::Written(path))
}

/// What [`set_local`] did to the repository's local configuration file.
#[derive(Debug)]
pub enum SetLocal {
    Written(PathBuf),
    /// `--unset` of a key the file does not set: nothing was written.
    Unchanged(PathBuf),
}

fn trust_file(common_dir: &Path) -> PathBuf {
    common_dir.join("shards").join("trusted")
}

/// The git blob id of a file's content: what trust is granted to (`git hash-object <file>`).
pub fn blob_id(bytes: &[u8]) -> String {
    let mut hash = sha1_smol::Sha1::new();
    hash.update(format!("blob {}\0", bytes.len()).as_bytes());
    hash.update(bytes);
    hash.digest().to_string()
}

fn is_trusted(common_dir: &Path, id: &str) -> bool {
    fs::read_to_string(trust_file(common_dir)).is_ok_and(|t| t.lines().any(|l| l.split_whitespace().next() == Some(id)))
}

/// Trust the committed file's current content. Returns its blob id.
pub fn trust(common_dir: &Path, committed: &Path) -> Result<String, ConfigError> {
    let bytes = fs::read(committed).map_err(|source| ConfigError::Io {
        path: committed.to_owned(),
        source,
    })?;
    let id = blob_id(&bytes);
    if !is_trusted(common_dir, &id) {
        let path = trust_file(common_dir);
        let mut text = fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&format!("{id} {}\n", committed.display()));
        fs::create_dir_all(common_dir.join("shards"))
            .and_then(|_| crate::fsutil::write_atomic(&path, text.as_bytes()))
            .map_err(|source| ConfigError::Io { path, source })?;
    }
    Ok(id)
}

/// The parsed layer and the file's blob id.
fn read_text(path: &Path) -> Result<Option<(ConfigFile, String)>, ConfigError> {
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
    let layer = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    Ok(Some((layer, blob_id(text.as_bytes()))))
}

impl Config {
    /// Load the user layer and, inside a repository, the committed and local layers.
    pub fn load(common_dir: Option<&Path>, worktree: Option<&Path>) -> Result<Config, ConfigError> {
        let mut files: Vec<(PathBuf, Layer)> = user_file().into_iter().map(|p| (p, Layer::User)).collect();
        files.extend(worktree.map(|w| (w.join(COMMITTED_FILE), Layer::Committed)));
        files.extend(common_dir.map(|c| (local_file(c), Layer::Local)));
        let mut cfg = Config {
            branch_prefix: "shard/".into(),
            worktree_dir: DEFAULT_WORKTREE_DIR.into(),
            launch_timeout: 10,
            watch_start: 2.0,
            hold_on_failure: 10,
            port_range: crate::shard::ports::DEFAULT_RANGE,
            ..Config::default()
        };
        for (path, layer) in files {
            let read = read_text(&path)?;
            let trusted = match (&read, layer, common_dir) {
                (Some((_, id)), Layer::Committed, Some(common)) => Some(is_trusted(common, id)),
                (Some(_), Layer::Committed, None) => Some(false),
                _ => None,
            };
            cfg.files.push(FileInfo {
                path: path.clone(),
                layer,
                exists: read.is_some(),
                trusted,
            });
            let Some((l, _)) = read else { continue };
            let untrusted = trusted == Some(false);
            // A later layer that sets a key takes the value, and with it the trust question.
            let mut gate = |key: &'static str, set: bool| {
                if set && untrusted {
                    cfg.untrusted_settings.insert(key, path.clone());
                } else if set {
                    cfg.untrusted_settings.remove(key);
                }
            };
            gate("branch_prefix", l.branch_prefix.is_some());
            gate("worktree_dir", l.worktree_dir.is_some());
            gate("default_agent", l.default_agent.is_some());
            gate("terminal", l.terminal.is_some());
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
            if let Some(v) = l.watch_start {
                if !(0.0..=60.0).contains(&v) {
                    return Err(ConfigError::Invalid {
                        path,
                        message: format!("watch_start is {v}; it is a number of seconds from 0 to 60"),
                    });
                }
                cfg.watch_start = v;
            }
            if let Some(v) = l.hold_on_failure {
                cfg.hold_on_failure = v;
            }
            gate("notify", l.notify.is_some());
            if let Some(v) = l.notify {
                if let NotifySpec::Builtin(name) = &v
                    && !crate::shard::notify::BUILTINS.contains(&name.as_str())
                {
                    return Err(ConfigError::Invalid {
                        path,
                        message: format!(
                            "notify = {name:?} is not a built-in ({}); give a command as an array instead",
                            crate::shard::notify::BUILTINS.join(", ")
                        ),
                    });
                }
                if matches!(&v, NotifySpec::Command(argv) if argv.is_empty()) {
                    return Err(ConfigError::Invalid {
                        path,
                        message: "notify is an empty command".into(),
                    });
                }
                cfg.notify = Some(v);
            }
            if !l.hosts.is_empty() {
                if layer == Layer::Committed {
                    return Err(ConfigError::Invalid {
                        path,
                        message: "[hosts] cannot be set in a committed file: hosts are your own machines; \
                                  add them with `git shard host add` (local) or in your own configuration"
                            .into(),
                    });
                }
                for (name, spec) in &l.hosts {
                    if let Err(message) = crate::host::check_spec(name, spec) {
                        return Err(ConfigError::Invalid { path, message });
                    }
                }
                cfg.hosts.extend(l.hosts);
            }
            if let Some(v) = l.auto_install_hooks {
                if layer == Layer::Committed {
                    return Err(ConfigError::Invalid {
                        path,
                        message: "auto_install_hooks cannot be set in a committed file; set it in your own or the local configuration".into(),
                    });
                }
                cfg.auto_install_hooks = v;
            }
            if let Some(v) = l.include {
                cfg.include = v;
            }
            let commands = |key: &str, list: Vec<toml::Value>| {
                list.iter()
                    .map(|v| CommandSpec::parse(key, v))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|message| ConfigError::Invalid {
                        path: path.clone(),
                        message,
                    })
            };
            gate("setup", l.setup.is_some());
            if let Some(v) = l.setup {
                cfg.setup = commands("setup", v)?;
            }
            gate("teardown", l.teardown.is_some());
            if let Some(v) = l.teardown {
                cfg.teardown = commands("teardown", v)?;
            }
            if let Some([lo, hi]) = l.port_range {
                if lo == 0 || lo > hi {
                    return Err(ConfigError::Invalid {
                        path,
                        message: format!("port_range = [{lo}, {hi}]: give [first, last] with 1 ≤ first ≤ last"),
                    });
                }
                cfg.port_range = (lo, hi);
            }
            if let Some(v) = l.ports {
                if let Some(bad) = v.iter().find(|n| !crate::shard::ports::valid_name(n)) {
                    return Err(ConfigError::Invalid {
                        path,
                        message: format!(
                            "ports: {bad:?} is not a port name (lower-case letters, digits and _, starting with a letter)"
                        ),
                    });
                }
                cfg.ports = v;
            }
            for (name, spec) in l.terminals {
                if untrusted {
                    cfg.untrusted_terminals.insert(name.clone(), path.clone());
                } else {
                    cfg.untrusted_terminals.remove(&name);
                }
                cfg.terminals.insert(name, spec);
            }
            for (name, spec) in l.agents {
                if untrusted {
                    cfg.untrusted_agents.insert(name.clone(), path.clone());
                } else {
                    cfg.untrusted_agents.remove(&name);
                }
                cfg.agents.insert(name, spec);
            }
        }
        Ok(cfg)
    }

    /// `Ok` when `key` may be used: not set by an untrusted committed file.
    pub fn trusted(&self, key: &'static str) -> Result<(), ConfigError> {
        match self.untrusted_settings.get(key) {
            Some(path) => Err(ConfigError::Untrusted {
                key,
                path: path.clone(),
            }),
            None => Ok(()),
        }
    }

    /// The worktree folder for shard `name` of the repository named by `main`: its main worktree,
    /// or for a bare repository the project folder it stands for (`git::Repo::anchor`).
    pub fn worktree_path(&self, main: &Path, name: &str) -> PathBuf {
        let repo = main
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = main.parent().unwrap_or(Path::new("/")).display().to_string();
        let expanded = crate::template::fill(
            &self.worktree_dir,
            &[("repo_parent", &parent), ("repo", &repo), ("name", name)],
        );
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
    fn blob_ids_are_gits() {
        // `git hash-object` of these contents: trust granted by an older build stays valid.
        assert_eq!(blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
        assert_eq!(blob_id(b"hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
    }

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
        let e = read_text(&p).unwrap_err().to_string();
        assert!(
            e.contains("config.toml") && e.contains("line 2") && e.contains("branch_prefx"),
            "{e}"
        );
        fs::write(&p, "launch_timeout = \"soon\"\n").unwrap();
        let e = read_text(&p).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("launch_timeout"), "{e}");
    }
}
