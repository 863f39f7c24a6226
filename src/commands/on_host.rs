//! Commands on a shard that lives on a host: run there by the host's own git-shard, with the
//! arguments exactly as given here (`git shard stop x --grace 2` runs `git-shard stop x --grace 2`
//! in the clone there). A local shard of the same name always wins.

use std::process::Stdio;

use crate::cli::Command;
use crate::context::{Context, Workspace};
use crate::error::{Error, Result};
use crate::host::{self, Host, Unreachable, quote};
use crate::shard::ShardName;

/// `Some` when `command` names a shard that is not here but on a host: what forwarding did.
pub fn forwarded(ctx: &Context, command: &Command) -> Option<Result<()>> {
    let names: Vec<&String> = match command {
        Command::Run(a) => vec![&a.name],
        Command::Stop(a) => vec![&a.name],
        Command::Rm(a) => vec![&a.name],
        Command::Status(a) => vec![a.name.as_ref()?],
        Command::Logs(a) => vec![&a.name],
        Command::Wait(a) => a.names.iter().collect(),
        Command::Diff(a) => vec![&a.name],
        Command::Attach(a) => vec![&a.name],
        Command::Path(a) => vec![&a.name],
        Command::Cd(a) => vec![&a.name],
        _ => return None,
    };
    // Anything wrong here (no repository, a bad name) is the command's own to report. Where
    // nothing was ever made on a host, no configuration is read: a local command pays one
    // folder lookup for this.
    let (common, worktree) = crate::cli::here()?;
    if !host::remote_dir(&common).is_dir() {
        return None;
    }
    let store = crate::shard::Store::new(&common);
    let away: Vec<&String> = names
        .iter()
        .copied()
        .filter(|n| ShardName::parse(n).is_ok_and(|n| !store.exists(&n)))
        .collect();
    if away.is_empty() {
        return None;
    }
    let config = crate::config::Config::load(Some(&common), worktree.as_deref()).ok()?;
    let hosts: Vec<Option<Host>> = away.iter().map(|n| host::locate(&config, &common, n)).collect();
    let first = hosts.iter().flatten().next()?.clone();
    if let Some((unknown, _)) = away.iter().zip(&hosts).find(|(_, h)| h.is_none()) {
        return Some(Err(Error::refused(
            format!("no shard named '{}' here or on a host", crate::output::clean(unknown)),
            "`git shard list` shows the shards of this machine and of every host",
        )));
    }
    if away.len() != names.len() || hosts.iter().any(|h| h.as_ref().map(|h| &h.name) != Some(&first.name)) {
        return Some(Err(Error::refused(
            "these shards are not all on one host",
            "wait for the shards of each host (and of this machine) with a `git shard wait` each",
        )));
    }
    let ws = match ctx.workspace() {
        Ok(ws) => ws,
        Err(e) => return Some(Err(e)),
    };
    Some(forward(&ws, &first, command, names[0]))
}

fn forward(ws: &Workspace, host: &Host, command: &Command, name: &str) -> Result<()> {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::failed("an argument is not UTF-8 text, which cannot be sent to another host"))?;
    match command {
        Command::Path(_) => {
            let path = remote_path(host, name)?;
            println!("{}:{}", host.spec.ssh, crate::output::clean(&path));
            Ok(())
        }
        Command::Cd(_) => open_shell(host, name),
        Command::Rm(a) if gone_there(host, name) => {
            // Removed there already (by hand, or by an `rm` whose answer the connection lost):
            // only the pointer is left, which would block `new` and `host rm` forever.
            if !a.dry_run {
                host::remove_pointer(&ws.repo.common_dir(), name)?;
            }
            eprintln!(
                "shard '{name}' is no longer on host '{}'; {} here",
                host.name,
                if a.dry_run { "would forget it" } else { "forgot it" }
            );
            Ok(())
        }
        _ => {
            let tty = matches!(command, Command::Attach(_));
            let status = host.forward(&args, tty)?;
            match status.code() {
                Some(0) => {
                    if let Command::Rm(a) = command
                        && !a.dry_run
                    {
                        host::remove_pointer(&ws.repo.common_dir(), name)?;
                    }
                    Ok(())
                }
                Some(255) | None => Err(host.unreachable(&format!("shard '{name}'"), "see ssh's message above")),
                Some(host::NO_CLONE) => Err(host.no_clone("see the message above")),
                Some(code) => Err(Error::Exit(code)),
            }
        }
    }
}

/// Whether the host answers, and has no shard `name`: not listed, and not named in a warning
/// either (a record there that cannot be read is left out of the list, with a warning).
fn gone_there(host: &Host, name: &str) -> bool {
    match host.run_git_shard(&["list", "--json", "--local"], Some(host::LIST_TIMEOUT)) {
        Ok(Ok(out)) if out.status.success() => {
            !String::from_utf8_lossy(&out.stderr).contains(&format!("shard '{name}'"))
                && serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
                    .is_ok_and(|shards| !shards.iter().any(|s| s["name"] == name))
        }
        _ => false,
    }
}

/// The worktree of shard `name` on the host.
fn remote_path(host: &Host, name: &str) -> Result<String> {
    match host.run_git_shard(&["path", name], Some(host::LIST_TIMEOUT))? {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned()),
        Ok(out) => Err(Error::failed(format!(
            "on host '{}': {}",
            host.name,
            crate::output::clean(String::from_utf8_lossy(&out.stderr).trim())
        ))),
        Err(Unreachable(why)) => Err(host.unreachable(&format!("shard '{name}'"), &why)),
    }
}

/// `cd` into a remote shard: a login shell there, in its worktree, on this terminal. Through the
/// shell integration our stdout is being read for a folder to change to: the session then uses
/// the terminal itself and nothing is printed.
fn open_shell(host: &Host, name: &str) -> Result<()> {
    let path = remote_path(host, name)?;
    eprintln!(
        "shard '{name}' is on host '{}': opening a shell there in {}",
        host.name,
        crate::output::clean(&path)
    );
    let line = format!("cd {} && exec \"${{SHELL:-sh}}\" -l", quote(&path));
    let mut cmd = host.interactive(&line);
    if std::env::var_os("_GIT_SHARD_FROM_SHELL").is_some() {
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .map_err(|e| Error::failed(format!("cannot open the terminal for ssh: {e}")))?;
        cmd.stdin(Stdio::from(tty.try_clone().map_err(|e| Error::failed(e.to_string()))?))
            .stdout(Stdio::from(tty));
    }
    let status = cmd.status().map_err(|e| host.cannot_run_ssh(&e))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(Error::Exit(code)),
        None => Err(Error::Exit(1)),
    }
}
