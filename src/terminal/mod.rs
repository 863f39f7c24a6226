//! Terminals: where a shard's supervisor runs.
//!
//! A terminal is a template: an argv array whose elements may hold placeholders. Substitution
//! happens per element and never through a shell, so a name, branch or path cannot become shell
//! syntax. Placeholders: `{cwd}` (worktree), `{name}`, `{branch}`, `{title}`, `{cmd_sh}` (the
//! supervisor argv as one shell-quoted string, for terminals that insist on a shell string), and an
//! element that is exactly `{cmd...}` (or `{cmd…}`) expands to the supervisor argv as separate
//! elements.
//!
//! Two terminals always exist and are built in rather than templated: `background` (headless,
//! detached, output appended to the shard's log) and `inline` (the caller's terminal, in the
//! foreground). Users add templates as `[terminals.<name>]` tables in the configuration.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::config::Config;

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
    #[error("cannot start terminal '{name}' ({program}): {source}")]
    Spawn {
        name: String,
        program: String,
        source: io::Error,
    },
    #[error("cannot open the log {path}: {source}")]
    Log { path: String, source: io::Error },
}

/// Every terminal name the configuration knows, built-ins included.
pub fn names(cfg: &Config) -> Vec<String> {
    let mut v: Vec<String> = vec!["background".into(), "inline".into()];
    v.extend(cfg.terminals.keys().cloned());
    v.sort();
    v.dedup();
    v
}

/// Look a terminal up by name.
pub fn by_name(cfg: &Config, name: &str) -> Result<Terminal, TerminalError> {
    if let Some(spec) = cfg.terminals.get(name) {
        if spec.command.is_empty() {
            return Err(TerminalError::EmptyCommand { name: name.to_owned() });
        }
        return Ok(Terminal::Template {
            name: name.to_owned(),
            spec: spec.clone(),
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

/// The terminal to use and why: the flag, then config, then `inline` on a terminal, else
/// `background`.
pub fn choose(cfg: &Config, flag: Option<&str>, stdin_is_tty: bool) -> Result<(Terminal, String), TerminalError> {
    if let Some(name) = flag {
        return Ok((by_name(cfg, name)?, "--terminal".into()));
    }
    if let Some(name) = &cfg.terminal {
        return Ok((by_name(cfg, name)?, "configuration key `terminal`".into()));
    }
    if stdin_is_tty {
        Ok((Terminal::Inline, "standard input is a terminal".into()))
    } else {
        Ok((Terminal::Background, "standard input is not a terminal".into()))
    }
}

/// Values for the placeholders.
pub struct Vars<'a> {
    pub cwd: &'a Path,
    pub name: &'a str,
    pub branch: &'a str,
    pub title: &'a str,
    /// The supervisor argv.
    pub cmd: &'a [String],
}

/// Substitute placeholders element by element (see the module docs).
pub fn expand(template: &[String], vars: &Vars<'_>) -> Vec<String> {
    let cmd_sh = shlex::try_join(vars.cmd.iter().map(String::as_str)).unwrap_or_default();
    let values: BTreeMap<&str, String> = BTreeMap::from([
        ("{cwd}", vars.cwd.display().to_string()),
        ("{name}", vars.name.to_owned()),
        ("{branch}", vars.branch.to_owned()),
        ("{title}", vars.title.to_owned()),
        ("{cmd_sh}", cmd_sh),
    ]);
    let mut out = Vec::with_capacity(template.len() + vars.cmd.len());
    for element in template {
        if element == "{cmd...}" || element == "{cmd…}" {
            out.extend(vars.cmd.iter().cloned());
            continue;
        }
        out.push(substitute(element, &values));
    }
    out
}

/// One left-to-right pass, so a value that itself contains `{name}` is never expanded again.
fn substitute(element: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(element.len());
    let mut rest = element;
    'outer: while !rest.is_empty() {
        if rest.starts_with('{') {
            for (key, value) in values {
                if let Some(after) = rest.strip_prefix(key) {
                    out.push_str(value);
                    rest = after;
                    continue 'outer;
                }
            }
        }
        let c = rest.chars().next().expect("non-empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A started launch.
pub enum Launched {
    /// The supervisor runs in our terminal; wait for it.
    Inline(Child),
    /// The supervisor (background) or a terminal launcher runs detached; it may exit at once
    /// (launchers usually do) and is only watched for an early failure.
    Detached(Child),
}

fn open_log(path: &Path) -> Result<File, TerminalError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| TerminalError::Log {
            path: path.display().to_string(),
            source,
        })
}

/// Start the supervisor (`vars.cmd`) in `terminal`. Output of headless runs and of launchers goes
/// to `log`.
pub fn launch(terminal: &Terminal, vars: &Vars<'_>, log: &Path) -> Result<Launched, TerminalError> {
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
            let out = open_log(log)?;
            let err = out.try_clone().map_err(|source| TerminalError::Log {
                path: log.display().to_string(),
                source,
            })?;
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
            let argv = expand(&spec.command, vars);
            let out = open_log(log)?;
            let err = out.try_clone().map_err(|source| TerminalError::Log {
                path: log.display().to_string(),
                source,
            })?;
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..])
                .current_dir(vars.cwd)
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

    fn vars<'a>(cmd: &'a [String], name: &'a str) -> Vars<'a> {
        Vars {
            cwd: Path::new("/w/x y"),
            name,
            branch: "shard/x",
            title: "git shard: x",
            cmd,
        }
    }

    #[test]
    fn expands_per_element_and_splices_cmd() {
        let cmd: Vec<String> = vec!["/bin/git-shard".into(), "__run".into(), "a;b".into()];
        let t: Vec<String> = ["term", "--cwd={cwd}", "-T", "{title}", "-e", "{cmd...}", "{name}"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let got = expand(&t, &vars(&cmd, "$(touch pwned)"));
        assert_eq!(
            got,
            [
                "term",
                "--cwd=/w/x y",
                "-T",
                "git shard: x",
                "-e",
                "/bin/git-shard",
                "__run",
                "a;b",
                "$(touch pwned)"
            ]
        );
    }

    #[test]
    fn cmd_sh_is_one_quoted_string_and_values_are_not_re_expanded() {
        let cmd: Vec<String> = vec!["/bin/git-shard".into(), "__run".into(), "it's".into()];
        let got = expand(
            &["sh".into(), "-c".into(), "{cmd_sh}".into(), "{name}".into()],
            &vars(&cmd, "{cwd}"),
        );
        assert_eq!(shlex::split(&got[2]).unwrap(), cmd);
        assert_eq!(got[3], "{cwd}");
    }
}
