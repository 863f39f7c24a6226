//! `git shard config`: the configuration files, the effective settings and terminals, and consent
//! for a committed configuration's commands.

use crate::config::{self, COMMITTED_FILE, Config};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::git::GitError;
use crate::terminal;

/// Show the configuration: files read, effective settings, terminals (and which one is chosen),
/// agents and hosts.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the effective settings, terminals, agents and hosts (the default).
    #[arg(long)]
    pub show: bool,
    /// List the files that are read, in order (later ones win).
    #[arg(long, conflicts_with_all = ["show", "trust"])]
    pub path: bool,
    /// Allow the commands (terminals, agents) of this repository's committed .git-shard.toml, as
    /// its content is now.
    #[arg(long, conflicts_with = "show")]
    pub trust: bool,
    /// Set a key in this repository's local configuration (.git/shards/config.toml), e.g.
    /// `auto_install_hooks=true` or `terminal=tmux`.
    #[arg(long, value_name = "KEY=VALUE", conflicts_with_all = ["show", "path", "trust"])]
    pub set: Option<String>,
    /// Remove a key from this repository's local configuration.
    #[arg(long, value_name = "KEY", conflicts_with_all = ["show", "path", "trust", "set"])]
    pub unset: Option<String>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    // Outside a repository the user file still matters.
    let (config, repo) = match ctx.workspace() {
        Ok(ws) => (ws.config, Some(ws.repo)),
        Err(Error::Git(GitError::NotARepository { .. })) => (Config::load(None, None)?, None),
        Err(e) => return Err(e),
    };
    if args.set.is_some() || args.unset.is_some() {
        let Some(repo) = &repo else {
            return Err(Error::refused(
                "not inside a git repository",
                "--set and --unset change a repository's local configuration; edit your user file for the rest",
            ));
        };
        let (key, value) = match (&args.set, &args.unset) {
            (Some(kv), _) => {
                let (k, v) = kv.split_once('=').ok_or_else(|| {
                    Error::refused(
                        format!("--set needs KEY=VALUE, got '{}'", crate::output::clean(kv)),
                        "e.g. --set auto_install_hooks=true",
                    )
                })?;
                (k.trim(), Some(v.trim()))
            }
            (None, Some(k)) => (k.as_str(), None),
            (None, None) => unreachable!("checked above"),
        };
        match config::set_local(&repo.common_dir(), key, value)? {
            config::SetLocal::Written(path) => eprintln!("updated {}", path.display()),
            config::SetLocal::Unchanged(path) => eprintln!(
                "'{}' is not set in {}; nothing changed",
                crate::output::clean(key),
                path.display()
            ),
        }
        return Ok(());
    }
    if args.trust {
        let Some(repo) = repo else {
            return Err(Error::refused(
                "not inside a git repository",
                "run `git shard config --trust` in the repository whose .git-shard.toml you trust",
            ));
        };
        let root = repo.current_worktree().unwrap_or_else(|| repo.main_worktree());
        let file = root.join(COMMITTED_FILE);
        if !file.is_file() {
            return Err(Error::refused(
                format!("there is no {} to trust", file.display()),
                "only a committed .git-shard.toml needs consent",
            ));
        }
        let id = config::trust(&repo.common_dir(), &file)?;
        eprintln!(
            "trusted {} (blob {id}); a change to the file needs a new --trust",
            file.display()
        );
        return Ok(());
    }
    if args.path {
        for f in &config.files {
            let state = match (f.exists, f.trusted) {
                (false, _) => "missing",
                (true, Some(false)) => "present, commands and settings not trusted",
                (true, _) => "present",
            };
            println!("{}\t{}\t{state}", f.layer.as_str(), f.path.display());
        }
        return Ok(());
    }
    let c = &config;
    let mut out = String::new();
    let gated = |key: &str| {
        if c.untrusted_settings.contains_key(key) {
            "  # committed, not trusted: refused until `git shard config --trust`"
        } else {
            ""
        }
    };
    out.push_str(&format!(
        "branch_prefix = {:?}{}\n",
        c.branch_prefix,
        gated("branch_prefix")
    ));
    out.push_str(&format!(
        "worktree_dir = {:?}{}\n",
        c.worktree_dir,
        gated("worktree_dir")
    ));
    if let Some(a) = &c.default_agent {
        out.push_str(&format!("default_agent = {a:?}{}\n", gated("default_agent")));
    }
    if let Some(t) = &c.terminal {
        out.push_str(&format!("terminal = {t:?}{}\n", gated("terminal")));
    }
    out.push_str(&format!("launch_timeout = {}\n", c.launch_timeout));
    out.push_str(&format!("watch_start = {}\n", c.watch_start));
    out.push_str(&format!("hold_on_failure = {}\n", c.hold_on_failure));
    match &c.notify {
        Some(crate::config::NotifySpec::Builtin(b)) => out.push_str(&format!("notify = {b:?}{}\n", gated("notify"))),
        Some(crate::config::NotifySpec::Command(argv)) => {
            out.push_str(&format!("notify = {argv:?}{}\n", gated("notify")))
        }
        None => {}
    }
    out.push_str(&format!("auto_install_hooks = {}\n", c.auto_install_hooks));
    if !c.include.is_empty() {
        out.push_str(&format!("include = {:?}\n", c.include));
    }
    for (key, list) in [("setup", &c.setup), ("teardown", &c.teardown)] {
        if list.is_empty() {
            continue;
        }
        let items: Vec<String> = list
            .iter()
            .map(|cmd| match cmd {
                crate::config::CommandSpec::Argv(argv) => format!("{argv:?}"),
                crate::config::CommandSpec::Shell(line) => format!("{{ sh = {line:?} }}"),
            })
            .collect();
        out.push_str(&format!("{key} = [{}]{}\n", items.join(", "), gated(key)));
    }
    out.push_str(&format!("port_range = [{}, {}]\n", c.port_range.0, c.port_range.1));
    if !c.ports.is_empty() {
        out.push_str(&format!("ports = {:?}\n", c.ports));
    }
    let chosen = terminal::choose(c, None, super::stdin_is_tty(), &terminal::process_env);
    match &chosen {
        Ok((t, why)) => out.push_str(&format!("# terminal for `new`: {} ({why})\n", t.name())),
        Err(e) => out.push_str(&format!("# terminal for `new`: none ({e})\n")),
    }
    for name in terminal::names(c) {
        let Some(spec) = terminal::template(c, &name) else {
            out.push_str(&format!("\n# [terminals.{name}] is built into git-shard\n"));
            continue;
        };
        let origin = if c.untrusted_terminals.contains_key(&name) {
            " (committed, not trusted)"
        } else if c.terminals.contains_key(&name) {
            " (configured)"
        } else {
            " (built in)"
        };
        out.push_str(&format!("\n#{origin}\n{}", section("terminals", &name, &spec)?));
    }
    for (name, agent) in &c.agents {
        out.push_str(&format!("\n[agents.{name:?}]\ncommand = {:?}\n", agent.command));
    }
    // Only from your own or the local file (a committed one is refused).
    for (name, host) in &c.hosts {
        out.push_str(&format!("\n{}", section("hosts", name, host)?));
    }
    print!("{out}");
    Ok(())
}

/// `[<table>.<name>]` and its keys, as TOML.
fn section(table: &str, name: &str, value: &impl serde::Serialize) -> Result<String> {
    let failed = |e: &dyn std::fmt::Display| Error::failed(e.to_string());
    let mut inner = toml::Table::new();
    inner.insert(name.to_owned(), toml::Value::try_from(value).map_err(|e| failed(&e))?);
    let mut outer = toml::Table::new();
    outer.insert(table.to_owned(), toml::Value::Table(inner));
    toml::to_string(&outer).map_err(|e| failed(&e))
}
