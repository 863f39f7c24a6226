//! `git shard new <name> --host <host>`: the shard is made on the host by its own git-shard.
//!
//! Order, so that a connection dropped at any point leaves nothing half-made on either side:
//! 1. the base commit is pushed over git's ssh transport to `refs/git-shard/base/<name>` there;
//! 2. the remote `git-shard new` makes the shard (atomic there: whole, or rolled back), detached
//!    from the ssh session and its output kept in files on the host, so that a dropped connection
//!    does not cut it short; the private ref is deleted after it;
//! 3. only then is the local pointer written.
//!
//! A retry after a drop finds the shard made by the lost attempt (same name, same base commit)
//! and adopts it instead of failing.

use serde_json::Value;

use crate::context::Workspace;
use crate::error::{Error, Result};
use crate::host::{self, Host, Pointer, Unreachable, quote};
use crate::shard::ShardName;

use super::new::Args;

pub fn run(ws: &Workspace, args: &Args, name: &ShardName, host_name: &str) -> Result<()> {
    let host = Host::lookup(&ws.config, host_name)?;
    let common = ws.repo.common_dir();
    if ws.store.exists(name) {
        return Err(Error::refused(
            format!("a shard named '{name}' already exists on this machine"),
            "choose another name",
        ));
    }
    if let Some(p) = host::pointer(&common, name.as_str()) {
        return Err(Error::refused(
            format!("a shard named '{name}' already exists on host '{}'", p.host),
            "choose another name",
        ));
    }
    if args.terminal.as_deref() == Some("inline") {
        return Err(Error::refused(
            "an agent on a host cannot run inline: it would hold this command until it ends, in no terminal",
            "run it in the host's tmux (the default with --host) or --terminal background; `git shard attach` reaches it",
        ));
    }
    if let Some(branch) = &args.branch {
        ws.repo.check_branch_name(branch)?;
    }
    let base = ws.repo.resolve_base(args.base.as_deref())?;
    let private_ref = format!("refs/git-shard/base/{name}");
    let pushed = host
        .git(&common)
        // Only the base commit goes: no hook of the user's, no tags along, no signed push, and no
        // submodule's commits pushed to its own upstream (`push.recurseSubmodules=on-demand`).
        .args([
            "push",
            "--quiet",
            "--no-verify",
            "--no-follow-tags",
            "--no-signed",
            "--recurse-submodules=no",
            &host.git_url(),
        ])
        .arg(format!("+{}:{private_ref}", base.commit))
        .read();
    if let Err(e) = pushed {
        return Err(Error::refused(
            format!(
                "new: pushing the base commit {} to host '{}' failed: {e}",
                crate::git::short_id(&base.commit),
                host.name
            ),
            format!(
                "nothing was made on either side; `git shard host check {}` checks the host and its clone",
                host.name
            ),
        ));
    }

    let mut remote_args: Vec<String> = vec!["new".into(), name.to_string(), "--base".into(), base.commit.clone()];
    let mut opt = |flag: &str, value: &Option<String>| {
        if let Some(v) = value {
            remote_args.extend([flag.to_owned(), v.clone()]);
        }
    };
    opt("--branch", &args.branch);
    opt("--agent", &args.agent);
    // The host's tmux unless told otherwise: the agent outlives this ssh session there.
    opt(
        "--terminal",
        &Some(args.terminal.clone().unwrap_or_else(|| "tmux".into())),
    );
    if args.no_launch {
        remote_args.push("--no-launch".into());
    }
    if args.no_include {
        remote_args.push("--no-include".into());
    }
    remote_args.push("--json".into());
    if !args.command.is_empty() {
        remote_args.push("--".into());
        remote_args.extend(args.command.iter().cloned());
    }
    // The remote `new` runs apart from this ssh session: in a session of its own where `setsid`
    // exists, hangups ignored, no terminal or pipe of the connection's: a connection cut midway
    // (sshd ends the session's processes then) must not cut it short. What it says waits in
    // files there until it is done.
    let body = format!(
        "o=$(mktemp) && e=$(mktemp) || exit 99\n\
         detach=; command -v setsid >/dev/null 2>&1 && detach=setsid\n\
         (trap '' HUP INT TERM PIPE; export {}=1; exec $detach \"$gs\" {} </dev/null >\"$o\" 2>\"$e\") &\n\
         wait $!\n\
         rc=$?\n\
         git update-ref -d {} {} 2>/dev/null\n\
         cat \"$e\" >&2; cat \"$o\"; rm -f \"$o\" \"$e\"\n\
         exit $rc",
        crate::shard::setup::INTERRUPTS_IGNORED_ENV,
        remote_args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "),
        quote(&private_ref),
        // Only while it still holds what we pushed: another `new` of that name may have pushed
        // since.
        quote(&base.commit)
    );
    eprintln!("shard '{name}': making it on host '{}'…", host.name);
    let out = match host.run(&body, None)? {
        Ok(out) => out,
        Err(Unreachable(why)) => {
            return Err(Error::refused(
                format!(
                    "new: the connection to host '{}' failed: {why}; nothing was recorded on this machine",
                    host.name
                ),
                format!(
                    "on the host the shard was made whole or not at all; run the same `git shard new {name} --host {}` \
                     again once `git shard host check {}` passes: a shard made by this attempt is adopted",
                    host.name, host.name
                ),
            ));
        }
    };
    let said = String::from_utf8_lossy(&out.stderr);
    let made: Option<Value> = serde_json::from_slice(&out.stdout).ok();
    let shard = match (out.status.success(), made) {
        (true, Some(shard)) => {
            relay(&host, &said);
            shard
        }
        _ => match adoptable(&host, name, &base.commit, args) {
            Some(shard) => {
                eprintln!(
                    "shard '{name}': already on host '{}' (same name, base commit and command, as an interrupted attempt leaves it): adopted",
                    host.name
                );
                shard
            }
            None => {
                relay(&host, &said);
                return Err(Error::refused(
                    format!(
                        "new: `git-shard new` failed on host '{}' (exit status {}); nothing was recorded on this machine",
                        host.name,
                        out.status.code().unwrap_or(-1)
                    ),
                    "its messages are above, prefixed with the host's name",
                ));
            }
        },
    };
    // Named by the host: it goes into refspecs here (`fetch`), so it must be a branch name.
    let branch = shard["branch"].as_str().unwrap_or_default().to_owned();
    ws.repo.check_branch_name(&branch)?;
    host::write_pointer(
        &common,
        &Pointer {
            version: 1,
            host: host.name.clone(),
            name: name.to_string(),
            branch: branch.clone(),
            base_ref: base.refname.clone(),
            created_at: jiff::Timestamp::now(),
            branch_here: None,
        },
    )?;
    if args.json {
        let mut shard = shard;
        shard["host"] = Value::String(host.name.clone());
        return super::print_json(&shard);
    }
    let how = match (shard["status"].as_str(), shard["pid"].as_u64()) {
        (Some("running"), Some(pid)) => format!(
            "running (pid {pid} there) in terminal '{}'",
            crate::output::clean(shard["terminal"].as_str().unwrap_or("?"))
        ),
        (Some(status), _) => crate::output::clean(&status.replace('_', " ")),
        _ => "made".into(),
    };
    eprintln!(
        "shard '{name}' on host '{}', branch '{}' at {}: {how}",
        host.name,
        crate::output::clean(&branch),
        crate::output::clean(shard["path"].as_str().unwrap_or("?"))
    );
    Ok(())
}

/// What the remote git-shard said on stderr, each line marked with the host it came from.
fn relay(host: &Host, said: &str) {
    for line in said.lines().filter(|l| !l.trim().is_empty()) {
        eprintln!("{}: {}", host.name, crate::output::clean(line));
    }
}

/// The shard `name` on the host, when it is one an earlier attempt of this `new` made: whole,
/// from the same base commit, with the same agent command, agent and branch where this `new`
/// names them; and no pointer here yet (checked by the caller). Nothing proves the attempt
/// itself: a shard of that name made there by hand from the same commit would be adopted.
fn adoptable(host: &Host, name: &ShardName, base: &str, args: &Args) -> Option<Value> {
    let out = host
        .run_git_shard(&["status", name.as_str(), "--json"], Some(host::LIST_TIMEOUT))
        .ok()?
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let shard: Value = serde_json::from_slice(&out.stdout).ok()?;
    let whole = shard["incomplete"] == false && shard["removing"] == false;
    let same = |field: &str, given: Option<Value>| given.is_none_or(|v| shard[field] == v);
    let named = same(
        "command",
        (!args.command.is_empty()).then(|| serde_json::json!(args.command)),
    ) && same("agent", args.agent.clone().map(Value::String))
        && same("branch", args.branch.clone().map(Value::String));
    (whole && shard["base_commit"] == base && named).then_some(shard)
}
