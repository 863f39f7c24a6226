//! Agent presets and the choice of the command a shard runs.
//!
//! Order: `-- <command>` (with `--agent`: appended to the preset) > `--agent <preset>` > config
//! `default_agent` > `$SHELL`. A program that is not on `PATH` is refused before anything is created.

use std::path::{Path, PathBuf};

use crate::config::Config;

pub mod hooks;

/// Built-in presets: name and the usual command line.
pub const PRESETS: &[(&str, &[&str])] = &[
    ("claude", &["claude"]),
    ("codex", &["codex"]),
    ("gemini", &["gemini"]),
    ("aider", &["aider"]),
    ("opencode", &["opencode"]),
    ("amp", &["amp"]),
    ("goose", &["goose", "session"]),
    ("cursor-agent", &["cursor-agent"]),
    ("copilot", &["copilot"]),
    ("kiro", &["kiro-cli", "chat"]),
];

/// How the built-in presets run without a terminal: the arguments that make them work on a prompt
/// by themselves (any one of them, as an argument or as `--flag=value`), and an example. Without
/// one, each is a terminal program: in the background it has nobody to talk to, and fails
/// (`claude` asks for `-p`, `codex` finds no terminal, `gemini` exits) or answers its own questions.
const HEADLESS: &[(&str, &[&str], &str)] = &[
    ("claude", &["-p", "--print"], "-p \"<prompt>\""),
    ("codex", &["exec", "e"], "exec \"<prompt>\""),
    ("gemini", &["-p", "--prompt"], "-p \"<prompt>\""),
    (
        "aider",
        &["-m", "--message", "-f", "--message-file"],
        "--message \"<prompt>\"",
    ),
    ("opencode", &["run"], "run \"<prompt>\""),
    ("amp", &["-x", "--execute"], "-x \"<prompt>\""),
    ("goose", &[], ""),
    ("cursor-agent", &["-p", "--print"], "-p \"<prompt>\""),
    ("copilot", &["-p", "--prompt"], "-p \"<prompt>\""),
    ("kiro", &["--no-interactive"], "--no-interactive \"<prompt>\""),
];

/// When `chosen` is a terminal program started without the arguments that make it work on its
/// own: what to add (an example, empty when none exists). `None` when it can run headless.
pub fn needs_terminal(cfg: &Config, chosen: &AgentCommand) -> Option<String> {
    let (flags, example): (Vec<String>, String) = match cfg.agents.get(&chosen.agent) {
        Some(spec) if !spec.needs_terminal => return None,
        Some(spec) => (
            spec.headless.clone(),
            spec.headless.first().cloned().unwrap_or_default(),
        ),
        None => {
            let (_, flags, example) = HEADLESS.iter().find(|(n, ..)| *n == chosen.agent)?;
            (flags.iter().map(|f| (*f).to_owned()).collect(), (*example).to_owned())
        }
    };
    let given = chosen.argv.iter().skip(1).any(|arg| {
        flags
            .iter()
            .any(|f| arg == f || (f.starts_with("--") && arg.starts_with(&format!("{f}="))))
    });
    (!given).then_some(example)
}

/// How each agent continues its last conversation in the same folder: the arguments that go
/// right after the program (`git shard run --resume`).
const RESUME: &[(&str, &[&str])] = &[
    ("claude", &["--continue"]),
    ("codex", &["resume", "--last"]),
    ("gemini", &["--resume", "latest"]),
    ("opencode", &["--continue"]),
    ("aider", &["--restore-chat-history"]),
];

/// `argv` made to continue the agent's last conversation, when its program is known to have a
/// way to; `None` otherwise.
pub fn with_resume(argv: &[String]) -> Option<Vec<String>> {
    let program = Path::new(argv.first()?).file_name()?.to_str()?;
    let (_, args) = RESUME.iter().find(|(p, _)| *p == program)?;
    let mut out = vec![argv[0].clone()];
    out.extend(args.iter().map(|a| (*a).to_owned()));
    out.extend(argv[1..].iter().cloned());
    Some(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCommand {
    /// Preset name, the program's name for a custom command, or `shell`.
    pub agent: String,
    pub argv: Vec<String>,
    /// Nothing named a command, so this is the user's `$SHELL` (not a preset called `shell`).
    pub fallback_shell: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("unknown agent preset '{name}' (known: {known})")]
    UnknownPreset { name: String, known: String },
    #[error("'{program}' was not found on PATH")]
    MissingProgram { program: String },
    #[error("the agent command is empty")]
    Empty,
    #[error("agent preset '{name}' is defined in {path}, which is committed in the repository and not trusted")]
    Untrusted { name: String, path: String },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// Every preset name: built-ins and those the configuration adds.
pub fn preset_names(cfg: &Config) -> Vec<String> {
    let mut names: Vec<String> = PRESETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    names.extend(cfg.agents.keys().cloned());
    names.sort();
    names.dedup();
    names
}

fn preset(cfg: &Config, name: &str) -> Result<Vec<String>, AgentError> {
    if let Some(path) = cfg.untrusted_agents.get(name) {
        return Err(AgentError::Untrusted {
            name: name.to_owned(),
            path: path.display().to_string(),
        });
    }
    if let Some(spec) = cfg.agents.get(name) {
        return Ok(spec.command.clone());
    }
    PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, argv)| argv.iter().map(|s| (*s).to_owned()).collect())
        .ok_or_else(|| AgentError::UnknownPreset {
            name: crate::output::clean(name),
            known: preset_names(cfg).join(", "),
        })
}

/// Choose the command for a shard and check that its program can be found (what a launch needs).
pub fn resolve(cfg: &Config, preset_flag: Option<&str>, command: &[String]) -> Result<AgentCommand, AgentError> {
    let chosen = choose(cfg, preset_flag, command)?;
    let program = chosen.argv.first().ok_or(AgentError::Empty)?;
    if find_program(program).is_none() {
        return Err(AgentError::MissingProgram {
            program: crate::output::clean(program),
        });
    }
    Ok(chosen)
}

/// The command a shard recorded, to start again: its program is looked for, and the recorded
/// agent name is kept (`shell` is what the `$SHELL` fallback records, unless a preset has that name).
pub fn recorded(cfg: &Config, agent: &str, argv: &[String]) -> Result<AgentCommand, AgentError> {
    let mut chosen = resolve(cfg, None, argv)?;
    chosen.fallback_shell = agent == "shell" && !cfg.agents.contains_key("shell");
    chosen.agent = agent.to_owned();
    Ok(chosen)
}

/// Choose the command for a shard without looking for its program: `new --no-launch` records a
/// command that may only be installed by the time `run` starts it (and `run` checks then).
pub fn choose(cfg: &Config, preset_flag: Option<&str>, command: &[String]) -> Result<AgentCommand, AgentError> {
    let chosen = match (preset_flag, command.is_empty()) {
        (Some(p), _) => {
            let mut argv = preset(cfg, p)?;
            argv.extend(command.iter().cloned());
            AgentCommand {
                agent: p.to_owned(),
                argv,
                fallback_shell: false,
            }
        }
        (None, false) => {
            let program = Path::new(&command[0])
                .file_name()
                .map(|f| f.to_string_lossy().into_owned());
            // `-- claude …` is the claude preset's program: call it that in listings.
            let agent = program
                .filter(|p| PRESETS.iter().any(|(_, argv)| argv[0] == p.as_str()))
                .and_then(|p| {
                    PRESETS
                        .iter()
                        .find(|(_, argv)| argv[0] == p)
                        .map(|(n, _)| (*n).to_owned())
                })
                .unwrap_or_else(|| "custom".to_owned());
            AgentCommand {
                agent,
                argv: command.to_vec(),
                fallback_shell: false,
            }
        }
        (None, true) => match &cfg.default_agent {
            Some(p) => {
                cfg.trusted("default_agent")?;
                AgentCommand {
                    agent: p.clone(),
                    argv: preset(cfg, p)?,
                    fallback_shell: false,
                }
            }
            None => AgentCommand {
                agent: "shell".into(),
                argv: vec![
                    std::env::var("SHELL")
                        .ok()
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "/bin/sh".into()),
                ],
                fallback_shell: true,
            },
        },
    };
    if chosen.argv.is_empty() {
        return Err(AgentError::Empty);
    }
    Ok(chosen)
}

/// Resolve a program name the way `execvp` will: a path with `/` as is, else the first executable
/// match in `PATH`.
pub fn find_program(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_dash_command_wins_and_presets_take_extra_args() {
        let cfg = Config::default();
        let c = resolve(&cfg, None, &["sh".into(), "-c".into(), "true".into()]).unwrap();
        assert_eq!((c.agent.as_str(), c.argv.len()), ("custom", 3));
        let mut cfg = Config::default();
        cfg.agents.insert(
            "mine".into(),
            crate::config::AgentSpec {
                command: vec!["sh".into()],
                needs_terminal: false,
                headless: Vec::new(),
            },
        );
        let c = resolve(&cfg, Some("mine"), &["-c".into(), "true".into()]).unwrap();
        assert_eq!(c.argv, ["sh", "-c", "true"]);
    }

    #[test]
    fn resume_arguments_go_right_after_the_program() {
        let argv = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            with_resume(&argv(&["/bin/claude", "--model", "opus"])).unwrap(),
            ["/bin/claude", "--continue", "--model", "opus"]
        );
        assert_eq!(with_resume(&argv(&["codex"])).unwrap(), ["codex", "resume", "--last"]);
        assert_eq!(with_resume(&argv(&["sh", "-c", "true"])), None);
    }

    #[test]
    fn terminal_programs_need_their_headless_arguments() {
        let cfg = Config::default();
        let cmd = |agent: &str, argv: &[&str]| AgentCommand {
            agent: agent.into(),
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            fallback_shell: false,
        };
        assert_eq!(
            needs_terminal(&cfg, &cmd("claude", &["claude"])).as_deref(),
            Some("-p \"<prompt>\"")
        );
        assert_eq!(needs_terminal(&cfg, &cmd("claude", &["claude", "-p", "fix it"])), None);
        assert_eq!(
            needs_terminal(&cfg, &cmd("gemini", &["gemini", "--prompt=fix it"])),
            None
        );
        assert_eq!(needs_terminal(&cfg, &cmd("codex", &["codex", "exec", "fix it"])), None);
        assert!(needs_terminal(&cfg, &cmd("codex", &["codex"])).is_some());
        assert_eq!(needs_terminal(&cfg, &cmd("custom", &["sh", "-c", "true"])), None);
    }

    #[test]
    fn missing_program_and_unknown_preset_are_refused() {
        let cfg = Config::default();
        let e = resolve(&cfg, None, &["definitely-not-a-program-xyz".into()]).unwrap_err();
        assert!(e.to_string().contains("definitely-not-a-program-xyz"));
        assert!(matches!(
            resolve(&cfg, Some("nope"), &[]),
            Err(AgentError::UnknownPreset { .. })
        ));
    }
}
