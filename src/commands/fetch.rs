//! `git shard fetch`: bring a remote shard's branch home, over git's own ssh transport.
//!
//! Invariant: a local branch is only ever created or fast-forwarded, never moved away from
//! commits of its own; what came from the host is always in `refs/remotes/<host>/<branch>`.

use crate::context::{Context, Workspace};
use crate::error::{Error, Result};
use crate::git::cmd::Git;
use crate::git::short_id;
use crate::host::{self, Host};
use crate::shard::ShardName;

/// Fetch the branch of a shard that lives on a host into this repository.
///
/// It lands in `refs/remotes/<host>/<branch>`; the local branch of the same name is created, or
/// fast-forwarded when it is behind and not checked out, and otherwise left alone (behind but
/// checked out: `git merge --ff-only` there; diverged: compare with
/// `git log <branch>...<host>/<branch>`). Then `git merge`, `git shard diff` and
/// your review tools see the work as any branch.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: String,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let name = crate::shard::ShardName::parse(&args.name)?;
    let Some(host) = host::locate(&ws.config, &ws.repo.common_dir(), name.as_str()) else {
        return Err(if ws.store.exists(&name) {
            Error::refused(
                format!("shard '{name}' is on this machine: its branch is already here"),
                "`git shard fetch` brings home shards that run on a host (`new --host`)",
            )
        } else {
            Error::refused(
                format!("no shard named '{name}' here or on a host"),
                "`git shard list` shows the shards of this machine and of every host",
            )
        });
    };
    let fetched = fetch(&ws, &host, &name)?;
    println!(
        "shard '{name}' from host '{}': {} at {}",
        host.name,
        fetched.tracking,
        short_id(&fetched.tip)
    );
    println!("{}", fetched.outcome);
    Ok(())
}

/// A remote shard's branch, fetched.
pub struct Fetched {
    pub branch: String,
    /// `refs/remotes/<host>/<branch>`.
    pub tracking: String,
    /// The host's tip of the branch.
    pub tip: String,
    /// Whether the local branch now is that tip.
    pub current: bool,
    /// What happened to the local branch, in a line.
    pub outcome: String,
    /// The local branch is git-shard's: `fetch` created it and it has moved only by `fetch`
    /// since (see `host::Pointer::branch_here`).
    pub made_here: bool,
}

/// Fetch the branch of shard `name` from `host`, as its pointer (else the last `list`) names it,
/// and create or fast-forward the local branch.
pub fn fetch(ws: &Workspace, host: &Host, name: &ShardName) -> Result<Fetched> {
    let common = ws.repo.common_dir();
    let branch = host::pointer(&common, name.as_str())
        .map(|p| p.branch)
        .or_else(|| {
            host::cached(&common, &host.name, false)?
                .shards
                .into_iter()
                .find(|s| s.shard.name == name.as_str())
                .map(|s| s.shard.branch)
                .filter(|b| !b.is_empty())
        })
        .ok_or_else(|| Error::failed(format!("the branch of shard '{name}' is not known here")))?;
    fetch_branch(ws, host, name, branch)
}

/// [`fetch`] of `branch`, the branch of shard `name` on `host` (`merge` and `pr` name the one
/// they checked there).
pub fn fetch_branch(ws: &Workspace, host: &Host, name: &ShardName, branch: String) -> Result<Fetched> {
    let common = ws.repo.common_dir();
    // Named by the host: it goes into a refspec, so it must be a branch name.
    ws.repo.check_branch_name(&branch)?;
    // A remote added since `host add` checked.
    host::refuse_remote_namesake(ws, &host.name)?;
    let tracking = format!("refs/remotes/{}/{branch}", host.name);
    let fetched = host
        .git(&common)
        .args([
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-recurse-submodules",
            "--no-write-fetch-head",
            &host.git_url(),
        ])
        .arg(format!("+refs/heads/{branch}:{tracking}"))
        .read();
    if let Err(e) = fetched {
        return Err(Error::refused(
            format!("fetching '{branch}' from host '{}' failed: {e}", host.name),
            format!(
                "nothing was changed here; `git shard host check {}` checks the connection",
                host.name
            ),
        ));
    }
    let tip = Git::on_repository(&common)
        .args(["rev-parse", "--verify", &format!("{tracking}^{{commit}}")])
        .read()?
        .trim()
        .to_owned();
    let pointer = host::pointer(&common, name.as_str()).filter(|p| p.host == host.name && p.branch == branch);
    // Whether the local branch at `local` is the one `fetch` made here, untouched since.
    let ours = |local: &str| pointer.as_ref().and_then(|p| p.branch_here.as_deref()) == Some(local);
    // The third: the local branch's tip now, when it is git-shard's.
    let (current, outcome, owned) = match ws.repo.branch_tip(&branch)? {
        None => {
            Git::on_repository(&common)
                .args(["branch", "--no-track", &branch, &tip])
                .read()?;
            (
                true,
                format!("created branch '{branch}' at {}", short_id(&tip)),
                Some(tip.clone()),
            )
        }
        Some(local) if local == tip => (
            true,
            format!("branch '{branch}' is up to date ({})", short_id(&tip)),
            ours(&local).then_some(local),
        ),
        Some(local) if ws.repo.fork_point(&local, &tip)?.as_deref() == Some(local.as_str()) => {
            match ws.repo.branch_checked_out_at(&branch)? {
                Some(wt) => (
                    false,
                    format!(
                        "branch '{branch}' is behind but checked out in {}: there `git merge --ff-only {}/{branch}`",
                        crate::output::short_path(&wt),
                        host.name
                    ),
                    ours(&local).then_some(local),
                ),
                None => {
                    // From the tip we saw, so a branch moved meanwhile is not overwritten.
                    Git::on_repository(&common)
                        .args(["update-ref", "-m", &format!("git shard fetch {name}")])
                        .args([&format!("refs/heads/{branch}"), &tip, &local])
                        .read()?;
                    (
                        true,
                        format!(
                            "fast-forwarded branch '{branch}' {}..{}",
                            short_id(&local),
                            short_id(&tip)
                        ),
                        ours(&local).then(|| tip.clone()),
                    )
                }
            }
        }
        Some(_) => (
            false,
            format!(
                "branch '{branch}' has commits of its own here and was left alone; compare: git log {branch}...{}/{branch}",
                host.name
            ),
            None,
        ),
    };
    // What the pointer keeps of the branch here: its tip while it is git-shard's, nothing once it
    // is not (a branch of the user's, or one that moved on its own).
    let made_here = owned.is_some();
    if let Some(mut p) = pointer
        && p.branch_here != owned
    {
        p.branch_here = owned;
        host::write_pointer(&common, &p)?;
    }
    Ok(Fetched {
        branch,
        tracking,
        tip,
        current,
        outcome,
        made_here,
    })
}
