//! Terminals: where a shard's supervisor runs.
//!
//! A terminal is a template: an argv array whose elements may hold placeholders. Substitution
//! happens per element and never through a shell, so a name, branch or path cannot become shell
//! syntax. Placeholders: `{cwd}` (worktree), `{name}`, `{branch}`, `{title}`, `{cmd_sh}` (the
//! supervisor argv as one shell-quoted string, for terminals that insist on a shell string), and an
//! element that is exactly `{cmd...}` (or `{cmd…}`) expands to the supervisor argv as separate
//! elements.
//!
//! `{repo}` is the main worktree's folder name, and `focus`/`close` argv may use `{env:VAR}`: the
//! value VAR had in the supervisor's environment (the pane or window id the terminal gave it),
//! recorded with the run.
//!
//! Built-in templates (tmux, zellij, wezterm, kitty, ghostty, iTerm2, Terminal.app, alacritty,
//! foot, gnome-terminal, konsole, xterm) are data in `builtin.toml`, parsed exactly like a user's
//! `[terminals.<name>]` tables, which add to or override them. Two terminals are built into the
//! code instead: `background` (headless, detached, output appended to the shard's log) and
//! `inline` (the caller's terminal, in the foreground).
//!
//! Whatever the launcher (many return at once and their PID means nothing), the supervisor it
//! starts records the agent's identity itself, so the identity is the agent's in every terminal.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::config::Config;

/// Environment variables that identify the window or pane a supervisor runs in; recorded with the
/// run so that `focus` and `close` can address it later.
pub const TERMINAL_ENV: &[&str] = &[
    "TMUX",
    "TMUX_PANE",
    "WEZTERM_PANE",
    "KITTY_WINDOW_ID",
    "KITTY_LISTEN_ON",
    "ZELLIJ_SESSION_NAME",
    "ZELLIJ_PANE_ID",
    "WINDOWID",
    "ITERM_SESSION_ID",
    "TERM_SESSION_ID",
];

/// The built-in templates, in detection order.
pub fn builtins() -> &'static [(String, TemplateSpec)] {
    static BUILTINS: std::sync::OnceLock<Vec<(String, TemplateSpec)>> = std::sync::OnceLock::new();
    BUILTINS.get_or_init(|| {
        // Parsed into an ordered table first: the order of the file is the detection order.
        let table: toml::Table = toml::from_str(include_str!("builtin.toml")).expect("builtin.toml is valid TOML");
        table
            .into_iter()
            .map(|(name, value)| {
                let spec = value
                    .try_into()
                    .unwrap_or_else(|e| panic!("builtin terminal {name}: {e}"));
                (name, spec)
            })
            .collect()
    })
}

/// The operating system's name as `platforms` spells it.
pub const PLATFORM: &str = if cfg!(target_os = "macos") { "macos" } else { "linux" };

impl TemplateSpec {
    pub fn available_here(&self) -> bool {
        self.platforms.is_empty() || self.platforms.iter().any(|p| p == PLATFORM)
    }

    /// The first `detect` condition that holds in `env`: `VAR` (set and not empty) or `VAR=value`.
    pub fn detected_by(&self, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        self.detect.iter().find_map(|cond| {
            let hit = match cond.split_once('=') {
                Some((var, want)) => env(var).is_some_and(|v| v == want),
                None => env(cond).is_some_and(|v| !v.is_empty()),
            };
            hit.then(|| format!("${cond}"))
        })
    }
}

/// A terminal as configured: `command` plus optional `detect`, `focus`, `close`, `platforms`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    pub command: Vec<String>,
    /// Environment variables whose presence selects this terminal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detect: Vec<String>,
    /// Argv that brings the shard's window or pane to the front.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<Vec<String>>,
    /// Argv that closes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<Vec<String>>,
    /// Argv that prints what the window or pane shows (with its scrollback): the supervisor runs
    /// it when the agent has ended and keeps the text in the shard's log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<Vec<String>>,
    /// `linux`, `macos`: where the template can work (empty: everywhere).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Terminal {
    Background,
    Inline,
    Template { name: String, spec: TemplateSpec },
}

impl Terminal {
    pub fn name(&self) -> &str {
        match self {
            Terminal::Background => "background",
            Terminal::Inline => "inline",
            Terminal::Template { name, .. } => name,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    #[error("unknown terminal '{name}' (known: {known})")]
    Unknown { name: String, known: String },
    #[error("terminal '{name}' has an empty command")]
    EmptyCommand { name: String },
    #[error("terminal '{name}' works on {platforms} only")]
    WrongPlatform { name: String, platforms: String },
    #[error("terminal '{name}' is defined in {path}, which is committed in the repository and not trusted")]
    Untrusted { name: String, path: String },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot {what} in terminal '{name}': {var} was not recorded when the agent started")]
    MissingEnv {
        what: &'static str,
        name: String,
        var: String,
    },
    #[error("cannot start terminal '{name}' ({program}): {source}")]
    Spawn {
        name: String,
        program: String,
        source: io::Error,
    },
    #[error("cannot open the log {path}: {source}")]
    Log { path: String, source: io::Error },
}

/// Every terminal name usable here: built-ins, the configuration's, `background`, `inline`.
pub fn names(cfg: &Config) -> Vec<String> {
    let mut v: Vec<String> = vec!["background".into(), "inline".into()];
    v.extend(
        builtins()
            .iter()
            .filter(|(_, s)| s.available_here())
            .map(|(n, _)| n.clone()),
    );
    v.extend(
        cfg.terminals
            .iter()
            .filter(|(_, s)| s.available_here())
            .map(|(n, _)| n.clone()),
    );
    v.sort();
    v.dedup();
    v
}

/// The effective template of `name`: the configuration's, else the built-in one.
pub fn template(cfg: &Config, name: &str) -> Option<TemplateSpec> {
    cfg.terminals
        .get(name)
        .or_else(|| builtins().iter().find(|(n, _)| n == name).map(|(_, s)| s))
        .cloned()
}

/// Look a terminal up by name.
pub fn by_name(cfg: &Config, name: &str) -> Result<Terminal, TerminalError> {
    if let Some(spec) = template(cfg, name) {
        if let Some(path) = cfg.untrusted_terminals.get(name) {
            return Err(TerminalError::Untrusted {
                name: name.to_owned(),
                path: path.display().to_string(),
            });
        }
        if spec.command.is_empty() {
            return Err(TerminalError::EmptyCommand { name: name.to_owned() });
        }
        if !spec.available_here() {
            return Err(TerminalError::WrongPlatform {
                name: name.to_owned(),
                platforms: spec.platforms.join(", "),
            });
        }
        return Ok(Terminal::Template {
            name: name.to_owned(),
            spec,
        });
    }
    match name {
        "background" => Ok(Terminal::Background),
        "inline" => Ok(Terminal::Inline),
        _ => Err(TerminalError::Unknown {
            name: crate::output::clean(name),
            known: names(cfg).join(", "),
        }),
    }
}

/// The terminal whose `detect` matches `env`: configured templates first (by name), then the
/// built-ins in their order.
pub fn detect(cfg: &Config, env: &dyn Fn(&str) -> Option<String>) -> Option<(String, String)> {
    let configured = cfg.terminals.iter();
    let builtin = builtins()
        .iter()
        .filter(|(n, _)| !cfg.terminals.contains_key(n))
        .map(|(n, s)| (n, s));
    configured
        .chain(builtin)
        .filter(|(_, s)| s.available_here())
        .find_map(|(n, s)| s.detected_by(env).map(|why| (n.clone(), why)))
}

/// The terminal to use and why: `--terminal`, then the configuration's `terminal`, then
/// detection from the environment, then `inline` on a terminal, else `background`.
pub fn choose(
    cfg: &Config,
    flag: Option<&str>,
    stdin_is_tty: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Terminal, String), TerminalError> {
    if let Some(name) = flag {
        return Ok((by_name(cfg, name)?, "--terminal".into()));
    }
    if let Some(name) = &cfg.terminal {
        cfg.trusted("terminal")?;
        return Ok((by_name(cfg, name)?, "configuration key `terminal`".into()));
    }
    if let Some((name, why)) = detect(cfg, env) {
        return Ok((by_name(cfg, &name)?, format!("{why} is set")));
    }
    if stdin_is_tty {
        Ok((Terminal::Inline, "standard input is a terminal".into()))
    } else {
        Ok((Terminal::Background, "standard input is not a terminal".into()))
    }
}

/// The process environment, for [`choose`] and [`detect`].
pub fn process_env(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

/// Values for the placeholders.
pub struct Vars<'a> {
    pub cwd: &'a Path,
    pub name: &'a str,
    pub branch: &'a str,
    pub title: &'a str,
    /// The main worktree's folder name.
    pub repo: &'a str,
    /// The supervisor argv.
    pub cmd: &'a [String],
    /// The recorded terminal environment (for `focus` and `close`).
    pub env: &'a BTreeMap<String, String>,
    /// The shard's ports as placeholders: `port`, `port_<name>` (see `shard::ports`).
    pub ports: Vec<(String, String)>,
}

/// Substitute placeholders element by element (see the module docs). Fails with the name of an
/// `{env:VAR}` that has no recorded value.
pub fn expand(template: &[String], vars: &Vars<'_>) -> Result<Vec<String>, String> {
    let cmd_sh = shlex::try_join(vars.cmd.iter().map(String::as_str)).unwrap_or_default();
    let cwd = vars.cwd.to_string_lossy();
    let mut values: Vec<(&str, &str)> = vec![
        ("cwd", &cwd),
        ("name", vars.name),
        ("branch", vars.branch),
        ("title", vars.title),
        ("repo", vars.repo),
        ("cmd_sh", &cmd_sh),
    ];
    values.extend(vars.ports.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut out = Vec::with_capacity(template.len() + vars.cmd.len());
    for element in template {
        if element == "{cmd...}" || element == "{cmd…}" {
            out.extend(vars.cmd.iter().cloned());
            continue;
        }
        let expanded = crate::template::expand(element, crate::template::lookup(&values, Some(vars.env)))
            // The missing key is an `env:VAR`: callers name the variable.
            .map_err(|key| key.strip_prefix("env:").unwrap_or(&key).to_owned())?;
        out.push(expanded.text);
    }
    Ok(out)
}

/// A started launch.
pub enum Launched {
    /// The supervisor runs in our terminal; wait for it.
    Inline(Child),
    /// The supervisor (background) or a terminal launcher runs detached; it may exit at once
    /// (launchers usually do) and is only watched for an early failure.
    Detached(Child),
}

/// stdout and stderr for a detached launch: both appended to the shard's log.
fn log_outputs(path: &Path) -> Result<(File, File), TerminalError> {
    let fail = |source| TerminalError::Log {
        path: path.display().to_string(),
        source,
    };
    let out = OpenOptions::new().create(true).append(true).open(path).map_err(fail)?;
    let err = out.try_clone().map_err(fail)?;
    Ok((out, err))
}

/// Start the supervisor (`vars.cmd`) in `terminal`. Output of headless runs and of launchers goes
/// to `log`.
///
/// A terminal launcher runs in `launcher_dir` (the main worktree), not in the shard's worktree:
/// what it may start for good (a tmux server, a terminal's single-instance daemon) keeps the
/// folder it was started in, and must not look like a process left in the shard. The agent's
/// folder is set by the supervisor and by the template's `{cwd}`, not inherited from here.
pub fn launch(
    terminal: &Terminal,
    vars: &Vars<'_>,
    log: &Path,
    launcher_dir: &Path,
) -> Result<Launched, TerminalError> {
    let spawn = |name: &str, mut cmd: Command| {
        let program = cmd.get_program().to_string_lossy().into_owned();
        cmd.spawn().map_err(|source| TerminalError::Spawn {
            name: name.to_owned(),
            program,
            source,
        })
    };
    match terminal {
        Terminal::Inline => {
            let mut cmd = Command::new(&vars.cmd[0]);
            cmd.args(&vars.cmd[1..]).current_dir(vars.cwd);
            spawn("inline", cmd).map(Launched::Inline)
        }
        Terminal::Background => {
            let (out, err) = log_outputs(log)?;
            let mut cmd = Command::new(&vars.cmd[0]);
            // The supervisor detaches itself (setsid) as its first act.
            cmd.args(&vars.cmd[1..])
                .current_dir(vars.cwd)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err);
            spawn("background", cmd).map(Launched::Detached)
        }
        Terminal::Template { name, spec } => {
            let argv = expand(&spec.command, vars).map_err(|var| TerminalError::MissingEnv {
                what: "launch",
                name: name.clone(),
                var,
            })?;
            let (out, err) = log_outputs(log)?;
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..])
                .current_dir(launcher_dir)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err);
            // Its own process group: a Ctrl-C while `new` waits must not reach the terminal.
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            spawn(name, cmd).map(Launched::Detached)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(cmd: &'a [String], name: &'a str, env: &'a BTreeMap<String, String>) -> Vars<'a> {
        Vars {
            cwd: Path::new("/w/x y"),
            name,
            branch: "shard/x",
            title: "git shard: x",
            repo: "app",
            cmd,
            env,
            ports: vec![("port".into(), "20001".into())],
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn expands_per_element_and_splices_cmd() {
        let cmd = strings(&["/bin/git-shard", "__run", "a;b"]);
        let env = BTreeMap::new();
        let t = strings(&[
            "term",
            "--cwd={cwd}",
            "-T",
            "{title}",
            "-e",
            "{cmd...}",
            "{name}",
            "{repo}",
        ]);
        let got = expand(&t, &vars(&cmd, "$(touch pwned)", &env)).unwrap();
        let want = [
            "term",
            "--cwd=/w/x y",
            "-T",
            "git shard: x",
            "-e",
            "/bin/git-shard",
            "__run",
            "a;b",
        ];
        assert_eq!(got[..8], want);
        assert_eq!(got[8..], ["$(touch pwned)", "app"]);
    }

    #[test]
    fn cmd_sh_is_one_quoted_string_and_values_are_not_re_expanded() {
        let cmd = strings(&["/bin/git-shard", "__run", "it's $(x) `y`"]);
        let env = BTreeMap::new();
        let got = expand(
            &strings(&["sh", "-c", "{cmd_sh}", "{name}"]),
            &vars(&cmd, "{cwd}", &env),
        )
        .unwrap();
        assert_eq!(shlex::split(&got[2]).unwrap(), cmd);
        assert_eq!(got[3], "{cwd}");
    }

    #[test]
    fn env_placeholders_come_from_the_recorded_environment() {
        let cmd = strings(&["x"]);
        let env = BTreeMap::from([("WEZTERM_PANE".to_owned(), "42".to_owned())]);
        let got = expand(&strings(&["--pane-id", "{env:WEZTERM_PANE}"]), &vars(&cmd, "n", &env)).unwrap();
        assert_eq!(got, ["--pane-id", "42"]);
        let missing = expand(&strings(&["{env:TMUX_PANE}"]), &vars(&cmd, "n", &env));
        assert_eq!(missing, Err("TMUX_PANE".to_owned()));
    }

    #[test]
    fn builtins_parse_in_detection_order() {
        let names: Vec<&str> = builtins().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names[..7],
            [
                "tmux",
                "zellij",
                "wezterm",
                "kitty",
                "ghostty",
                "iterm2",
                "terminal-app"
            ]
        );
        for name in ["alacritty", "foot", "gnome-terminal", "konsole", "xterm"] {
            assert!(names.contains(&name), "{name}");
        }
        for (name, spec) in builtins() {
            assert!(
                spec.command.iter().any(|e| e == "{cmd...}" || e == "{cmd_sh}"),
                "{name} runs the supervisor"
            );
        }
    }

    #[test]
    fn detection_follows_the_documented_order() {
        let cfg = Config::default();
        let pick = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
            detect(&cfg, &|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())).map(|(n, _)| n)
        };
        assert_eq!(
            pick(&[("TMUX", "/tmp/s,1,0"), ("KITTY_WINDOW_ID", "1")]).as_deref(),
            Some("tmux")
        );
        assert_eq!(
            pick(&[("ZELLIJ", "0"), ("WEZTERM_PANE", "1")]).as_deref(),
            Some("zellij")
        );
        assert_eq!(
            pick(&[("WEZTERM_PANE", "3"), ("KITTY_WINDOW_ID", "1")]).as_deref(),
            Some("wezterm")
        );
        assert_eq!(
            pick(&[("KITTY_WINDOW_ID", "1"), ("TERM_PROGRAM", "ghostty")]).as_deref(),
            Some("kitty")
        );
        assert_eq!(pick(&[("TERM_PROGRAM", "WezTerm")]).as_deref(), Some("wezterm"));
        assert_eq!(pick(&[("TERM_PROGRAM", "ghostty")]).as_deref(), Some("ghostty"));
        assert_eq!(
            pick(&[("TERM_PROGRAM", "iTerm.app")]).as_deref(),
            (PLATFORM == "macos").then_some("iterm2"),
            "macOS-only terminals are not chosen elsewhere"
        );
        assert_eq!(pick(&[("TMUX", "")]), None, "an empty variable selects nothing");
        assert_eq!(pick(&[]), None);
    }
}
