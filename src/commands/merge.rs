//! `git shard merge`: bring a shard's work into its base the way people do it with git, with
//! git doing every step (so its hooks run and its worktrees stay in step).
//!
//! Invariants:
//! - Nothing is half done: a rebase or merge that conflicts is aborted in the worktree it ran in,
//!   and the refusal names the conflicting files; every branch and worktree is then exactly as
//!   before. The target branch moves only by a fast-forward or a commit git made on it, and when
//!   it is not checked out, by `update-ref` from the tip it had when we began (a branch that
//!   moved meanwhile is not overwritten).
//! - Uncommitted work is never carried along silently: the shard's is refused unless
//!   `--commit-all` commits it first, and a checked-out target with uncommitted changes is refused.
//! - A running agent's branch is not rewritten under it: merging a shard whose agent runs is
//!   refused.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::context::{Context, Workspace};
use crate::error::{Error, Result};
use crate::git::cmd::Git;
use crate::git::short_id;
use crate::host::Host;
use crate::shard::lifecycle::remove::{self, RemoveOptions};
use crate::shard::{Record, RunStatus, ShardName};

/// Bring a shard's branch into its base branch (or `--into`), as you would with git.
///
/// Default: rebase the branch onto the target, then fast-forward the target. `--squash` makes one
/// commit of it (message from the branch's commits; `-m`, `-e` to change it), `--no-ff` a merge
/// commit. The target's worktree, when it is checked out, is updated as `git merge` would; on a
/// conflict everything is left as it was and the conflicting files are named. A shard on a host
/// (`new --host`) is asked there first, its branch fetched (as `fetch` does; that stays), and
/// the fetched branch merged here.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: String,
    /// Merge into this branch instead of the shard's base.
    #[arg(long, value_name = "BRANCH", add = clap_complete::ArgValueCandidates::new(crate::cli::branch_names))]
    pub into: Option<String>,
    /// One commit on the target with the shard's whole change.
    #[arg(long, conflicts_with_all = ["rebase", "no_ff"])]
    pub squash: bool,
    /// Rebase onto the target, then fast-forward it (the default).
    #[arg(long, conflicts_with = "no_ff")]
    pub rebase: bool,
    /// A merge commit, even when a fast-forward would do.
    #[arg(long)]
    pub no_ff: bool,
    /// The message of the squash or merge commit.
    #[arg(short, long, value_name = "MESSAGE")]
    pub message: Option<String>,
    /// Edit the message of the squash or merge commit in your editor.
    #[arg(short, long)]
    pub edit: bool,
    /// Commit the shard's uncommitted and untracked work first (instead of refusing).
    #[arg(long)]
    pub commit_all: bool,
    /// Remove the shard once its work is merged.
    #[arg(long)]
    pub rm: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Rebase,
    Squash,
    NoFf,
}

/// The branch a shard's work goes to (`merge`, `pr`), as (name for people, revision): `--into`,
/// else its base branch. A shard started from a commit has none: it needs `--into`.
pub fn target_of(ws: &Workspace, record: &Record, into: Option<&str>) -> Result<(String, String)> {
    target_for(ws, &record.name, record.base.refname.as_deref(), into)
}

/// [`target_of`] for a shard named `name` that started from `base_ref` (a full refname).
pub fn target_for(ws: &Workspace, name: &str, base_ref: Option<&str>, into: Option<&str>) -> Result<(String, String)> {
    match into.or(base_ref.and_then(|r| r.strip_prefix("refs/heads/"))) {
        Some(branch) if ws.repo.branch_exists(branch)? => Ok((branch.to_owned(), format!("refs/heads/{branch}"))),
        Some(branch) => Err(Error::refused(
            format!(
                "there is no branch '{}' to take the work into",
                crate::output::clean(branch)
            ),
            "name an existing branch with `--into <branch>`",
        )),
        None => Err(Error::refused(
            format!(
                "shard '{name}' was started from a commit, not a branch, so it has no branch to take its work into"
            ),
            "say which with `--into <branch>`",
        )),
    }
}

/// What a shard's work is compared with (`diff`): its base branch, or the commit it started from
/// when it has none (started from a commit, or the branch deleted since).
pub fn base_or_commit(ws: &Workspace, record: &Record) -> Result<(String, String)> {
    match base_branch(record) {
        Some(branch) if ws.repo.branch_exists(branch)? => Ok((branch.to_owned(), format!("refs/heads/{branch}"))),
        _ => Ok((short_id(&record.base.commit).to_owned(), record.base.commit.clone())),
    }
}

fn base_branch(record: &Record) -> Option<&str> {
    record
        .base
        .refname
        .as_deref()
        .and_then(|r| r.strip_prefix("refs/heads/"))
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    if let Some((name, host)) = on_host(&ws, &args.name) {
        return from_host(&ws, &host, &name, args);
    }
    let (name, _) = ws.record(&args.name)?;
    let (record, summary) = {
        // Under the shard's lock, as `run` and `rm` take it: no agent starts and no removal begins
        // while the branch is rebased. Released before `--rm`, which takes it itself.
        let _lock = ws.store.lock_shard(&name)?;
        let record = ws.store.read(&name)?;
        let summary = take(&ws, &name, &record, args)?;
        (record, summary)
    };
    eprintln!("shard '{name}': {summary}");
    if args.rm {
        let opts = RemoveOptions {
            force: false,
            delete_branch: crate::shard::lifecycle::DeleteBranch::IfMerged,
            grace: crate::shard::lifecycle::run::DEFAULT_GRACE,
        };
        let removed = remove::remove(&ws, &name, &opts, &mut |_| {})?;
        let fate = match removed {
            remove::Removed::Shard(fate) | remove::Removed::Interrupted(fate) => fate,
        };
        match fate.describe(&record.branch) {
            Some(line) => eprintln!("removed shard '{name}'; {line}"),
            None => eprintln!("removed shard '{name}' and its branch"),
        }
    }
    Ok(())
}

fn mode_of(args: &Args) -> Mode {
    if args.squash {
        Mode::Squash
    } else if args.no_ff {
        Mode::NoFf
    } else {
        Mode::Rebase
    }
}

/// The shard `raw` names when it is not on this machine but on a host (`new --host`).
pub fn on_host(ws: &Workspace, raw: &str) -> Option<(ShardName, Host)> {
    let name = ShardName::parse(raw).ok()?;
    if ws.store.exists(&name) {
        return None;
    }
    let host = crate::host::locate(&ws.config, &ws.repo.common_dir(), name.as_str())?;
    Some((name, host))
}

/// The branch a host names for shard `name` must be the one its pointer here notes: else the
/// shard there is not the one made from here (removed and made again), and what is fetched,
/// merged, pushed or deleted here under that name could be another branch of the user's.
pub fn refuse_another_branch(ws: &Workspace, host: &Host, name: &ShardName, branch: &str) -> Result<()> {
    match crate::host::pointer(&ws.repo.common_dir(), name.as_str()) {
        Some(p) if p.branch != branch => Err(Error::refused(
            format!(
                "shard '{name}' on host '{}' is on branch '{branch}', but the shard made from here was on '{}'; \
                 nothing was changed",
                host.name, p.branch
            ),
            format!(
                "`git shard status {name}` shows the shard there; take its work with git itself \
                 (`git fetch {} {branch}`)",
                host.git_url()
            ),
        )),
        _ => Ok(()),
    }
}

/// What the host says of one of its shards, as far as taking its work goes.
pub struct RemoteShard {
    pub status: RunStatus,
    pub branch: String,
    pub base_ref: Option<String>,
    /// Its worktree there.
    pub path: String,
}

/// The state of a remote shard's worktree, as `merge` needs it.
struct WorktreeThere {
    /// The branch checked out there; `None` for a detached HEAD.
    head: Option<String>,
    /// What git is in the middle of there (`a rebase`, …).
    busy: Option<&'static str>,
    /// Files `git status --porcelain` lists there.
    dirt: usize,
}

impl RemoteShard {
    /// Ask `host` (its `git-shard status --json`).
    pub fn ask(host: &Host, common_dir: &Path, name: &ShardName) -> Result<RemoteShard> {
        let out = match host.run_git_shard(&["status", name.as_str(), "--json"], Some(crate::host::LIST_TIMEOUT))? {
            Ok(out) if out.status.success() => out,
            Ok(out) => {
                return Err(Error::failed(format!(
                    "on host '{}': {}",
                    host.name,
                    crate::output::clean(String::from_utf8_lossy(&out.stderr).trim())
                )));
            }
            Err(crate::host::Unreachable(why)) => return Err(host.unreachable(&format!("shard '{name}'"), &why)),
        };
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| Error::failed(format!("host '{}' answered what is not JSON: {e}", host.name)))?;
        let status = serde_json::from_value(json["status"].clone())
            .map_err(|e| Error::failed(format!("host '{}' gave no status of shard '{name}': {e}", host.name)))?;
        // Where it came from here, as `new --host` noted it; else what the host knows.
        let noted = crate::host::pointer(common_dir, name.as_str()).and_then(|p| p.base_ref);
        // Scripts run there in it: an empty path (`cd ''` is a no-op) would run them in the clone.
        let path = json["path"].as_str().unwrap_or_default();
        if !path.starts_with('/') || path.contains('\0') {
            return Err(Error::failed(format!(
                "host '{}' gave no worktree path of shard '{name}' (\"{}\")",
                host.name,
                crate::output::clean(path)
            )));
        }
        Ok(RemoteShard {
            status,
            branch: json["branch"].as_str().unwrap_or_default().to_owned(),
            base_ref: noted.or_else(|| json["base_ref"].as_str().map(str::to_owned)),
            path: path.to_owned(),
        })
    }

    /// Its worktree's branch, what git is in the middle of there, and its uncommitted files: one
    /// round trip.
    fn worktree(&self, host: &Host) -> Result<WorktreeThere> {
        let busy: String = BUSY
            .iter()
            .map(|(file, _)| format!("test -e \"$(git rev-parse --git-path {file})\" && echo {file}\n"))
            .collect();
        let script = format!(
            "cd {} || exit 3\ngit symbolic-ref --quiet --short HEAD\necho @@\n{busy}echo @@\ngit status --porcelain\n",
            crate::host::quote(&self.path)
        );
        let out = match host.run(&script, Some(crate::host::LIST_TIMEOUT))? {
            Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
            Ok(out) => {
                return Err(Error::failed(format!(
                    "cannot look at the worktree {} on host '{}': {}",
                    crate::output::clean(&self.path),
                    host.name,
                    crate::output::clean(String::from_utf8_lossy(&out.stderr).trim())
                )));
            }
            Err(crate::host::Unreachable(why)) => {
                return Err(host.unreachable(&format!("the worktree {}", self.path), &why));
            }
        };
        let mut parts = out.split("@@\n");
        let (head, busy, dirt) = (parts.next(), parts.next(), parts.next());
        Ok(WorktreeThere {
            head: head.map(str::trim).filter(|h| !h.is_empty()).map(str::to_owned),
            busy: busy.and_then(|b| {
                BUSY.iter()
                    .find(|(file, _)| b.lines().any(|l| l == *file))
                    .map(|(_, what)| *what)
            }),
            dirt: dirt.map_or(0, |d| d.lines().count()),
        })
    }

    /// Commit everything uncommitted in its worktree there, as `merge --commit-all` does here.
    fn commit_all(&self, host: &Host, name: &ShardName) -> Result<()> {
        let worktree = crate::host::quote(&self.path);
        let message = crate::host::quote(&format!("Uncommitted work of shard {name}"));
        let script = format!("git -C {worktree} add --all && git -C {worktree} commit --quiet -m {message}");
        match host.run(&script, None)? {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(Error::refused(
                format!(
                    "committing the work of shard '{name}' on host '{}' failed: {}; nothing was merged",
                    host.name,
                    crate::output::clean(String::from_utf8_lossy(&out.stderr).trim())
                ),
                "commit it there yourself (`git shard cd` opens a shell there)",
            )),
            Err(crate::host::Unreachable(why)) => Err(host.unreachable(&format!("shard '{name}'"), &why)),
        }
    }
}

/// What git may be in the middle of in a worktree: the file in its git folder that says so.
const BUSY: [(&str, &str); 6] = [
    ("rebase-merge", "a rebase"),
    ("rebase-apply", "a rebase"),
    ("MERGE_HEAD", "a merge"),
    ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ("REVERT_HEAD", "a revert"),
    ("BISECT_LOG", "a bisect"),
];

/// Merge a shard that lives on a host: asked there first (its agent not running, its worktree on
/// its branch with nothing in progress and its work all committed, or committed there by
/// `--commit-all`), its branch fetched (see `fetch`), and the fetched branch merged here as a
/// local shard's would be; a rebase runs in a temporary worktree, detached, so the local branch
/// stays what the host has. What either side could refuse is asked before `--commit-all` commits
/// there; after it only the fetch (a local branch of that name with commits of its own, or behind
/// but checked out) and the merge itself (a conflict) can refuse, and what a fetch brought stays,
/// as `fetch` leaves it. The host's branch and worktree change only by `--commit-all`.
fn from_host(ws: &Workspace, host: &Host, name: &ShardName, args: &Args) -> Result<()> {
    let remote = RemoteShard::ask(host, &ws.repo.common_dir(), name)?;
    let there = format!("shard '{name}' (on host '{}')", host.name);
    if remote.status == RunStatus::Running {
        return Err(Error::refused(
            format!("the agent of {there} is running; its branch is still moving, nothing was merged"),
            format!("`git shard stop {name}` first (or wait: `git shard wait {name} --for idle`)"),
        ));
    }
    // Named by the host: shown and compared here, so it must be a branch name.
    ws.repo.check_branch_name(&remote.branch)?;
    refuse_another_branch(ws, host, name, &remote.branch)?;
    let (target, target_ref) = target_for(ws, name.as_str(), remote.base_ref.as_deref(), args.into.as_deref())?;
    if target == remote.branch {
        return Err(Error::refused(
            format!("'{target}' is the shard's own branch"),
            "merge into another branch with `--into <branch>`",
        ));
    }
    let target_wt = check_target(ws, &target)?;
    // The fetch's own refusal that does not depend on what the host has.
    crate::host::refuse_remote_namesake(ws, &host.name)?;
    let worktree = remote.worktree(host)?;
    if worktree.head.as_deref() != Some(remote.branch.as_str()) {
        return Err(Error::refused(
            format!(
                "the worktree of {there} is not on its branch '{}' (it is on {}); nothing was merged",
                remote.branch,
                worktree.head.as_deref().unwrap_or("a detached HEAD")
            ),
            format!(
                "switch it back there (`git shard cd {name}`, then `git switch {}`)",
                remote.branch
            ),
        ));
    }
    if let Some(what) = &worktree.busy {
        return Err(Error::refused(
            format!("{there} is in the middle of {what}; nothing was merged"),
            format!("finish or abort it there (`git shard cd {name}`, `git status` says how), then merge again"),
        ));
    }
    if worktree.dirt > 0 {
        if !args.commit_all {
            return Err(Error::refused(
                format!(
                    "{there} has uncommitted work ({} file(s)); nothing was merged",
                    worktree.dirt
                ),
                format!("commit it there, or `git shard merge {name} --commit-all` commits it all there first"),
            ));
        }
        remote.commit_all(host, name)?;
        eprintln!("{there}: committed its uncommitted work there first (--commit-all)");
    }
    let fetched = super::fetch::fetch_branch(ws, host, name, remote.branch.clone())?;
    if !fetched.current {
        return Err(Error::refused(
            format!(
                "the branch of {there} was fetched, but {}; nothing was merged",
                fetched.outcome
            ),
            "bring the local branch to the host's tip, or merge it with git yourself",
        ));
    }
    let side = Side {
        name,
        branch: &fetched.branch,
        worktree: None,
        host: Some(&host.name),
    };
    let summary = merge_branch(
        ws,
        &side,
        (&target, &target_ref),
        target_wt.as_deref(),
        args,
        mode_of(args),
    )?;
    eprintln!("{there}: {summary}");
    if args.rm {
        let status = host.forward(&["rm".to_owned(), name.to_string()], false)?;
        match status.code() {
            Some(0) => crate::host::remove_pointer(&ws.repo.common_dir(), name.as_str())?,
            Some(255) | None => {
                // Not `host.unreachable`: its hint says nothing changed here, and the merge did.
                return Err(Error::refused(
                    format!(
                        "{there}: its work is merged here, but host '{}' could not be reached to remove it",
                        host.name
                    ),
                    format!("`git shard rm {name}` once `git shard host check {}` passes", host.name),
                ));
            }
            Some(code) => return Err(Error::Exit(code)),
        }
        // Its branch here, when `fetch` made it (never one of the user's): gone with the shard once
        // its work is in the target, deleted only from the tip that was merged.
        let tip = ws.repo.branch_tip(&fetched.branch)?;
        let target_tip = resolve(ws, &target_ref)?;
        if let Some(tip) = tip.filter(|t| *t == fetched.tip)
            && fetched.made_here
            && fetched.branch != target
            && ws.repo.merged_into(&tip, &target_tip)?.is_some()
            && ws.repo.branch_checked_out_at(&fetched.branch)?.is_none()
        {
            ws.repo
                .repository()
                .args(["update-ref", "-d", &format!("refs/heads/{}", fetched.branch), &tip])
                .read()?;
            let _ = ws
                .repo
                .repository()
                .args(["update-ref", "-d", &fetched.tracking, &tip])
                .read();
            eprintln!(
                "removed shard '{name}' on host '{}' and the branch '{}' here",
                host.name, fetched.branch
            );
        }
    }
    Ok(())
}

/// Take the shard's work into its target (under the shard's lock): what was done, in a line.
fn take(ws: &Workspace, name: &ShardName, record: &Record, args: &Args) -> Result<String> {
    let mode = mode_of(args);
    let (target, target_ref) = target_of(ws, record, args.into.as_deref())?;
    if target == record.branch {
        return Err(Error::refused(
            format!("'{target}' is the shard's own branch"),
            "merge into another branch with `--into <branch>`",
        ));
    }
    let shard_wt = record.worktree.clone();
    if !shard_wt.is_dir() {
        return Err(Error::refused(
            format!("the worktree of shard '{name}' is gone"),
            format!("merge its branch with git itself (`git merge {}`)", record.branch),
        ));
    }
    if RunStatus::of(record.process.as_ref()) == RunStatus::Running {
        return Err(Error::refused(
            format!("the agent of shard '{name}' is running; merging would rewrite its branch under it"),
            format!("`git shard stop {name}` first (or wait: `git shard wait {name} --for idle`)"),
        ));
    }
    refuse_in_progress(&shard_wt, &format!("shard '{name}'"))?;
    let head = head_branch(&shard_wt)?;
    if head.as_deref() != Some(record.branch.as_str()) {
        return Err(Error::refused(
            format!(
                "the worktree of shard '{name}' is not on its branch '{}' (it is on {}); nothing was merged",
                record.branch,
                head.as_deref().unwrap_or("a detached HEAD")
            ),
            format!(
                "switch it back (`git -C \"$(git shard path {name})\" switch {}`) first",
                record.branch
            ),
        ));
    }
    let dirt = crate::git::status::dirt(&shard_wt)?;
    if !dirt.is_clean() {
        if !args.commit_all {
            return Err(Error::refused(
                format!(
                    "shard '{name}' has uncommitted work ({} staged, {} modified, {} untracked); nothing was merged",
                    dirt.staged, dirt.modified, dirt.untracked
                ),
                format!("commit it in the shard, or `git shard merge {name} --commit-all` commits it all first"),
            ));
        }
        in_worktree(&shard_wt, &["add", "--all"])?;
        in_worktree(
            &shard_wt,
            &["commit", "--quiet", "-m", &format!("Uncommitted work of shard {name}")],
        )?;
        eprintln!("shard '{name}': committed its uncommitted work first (--commit-all)");
    }
    let side = Side {
        name,
        branch: &record.branch,
        worktree: Some(&record.worktree),
        host: None,
    };
    let target_wt = check_target(ws, &target)?;
    merge_branch(ws, &side, (&target, &target_ref), target_wt.as_deref(), args, mode)
}

/// The shard's side of a merge.
struct Side<'a> {
    name: &'a ShardName,
    branch: &'a str,
    /// Its worktree here, where a rebase runs; `None` for a shard on a host, whose fetched branch
    /// is rebased in a temporary worktree.
    worktree: Option<&'a Path>,
    /// The host a shard lives on.
    host: Option<&'a str>,
}

/// Take the branch of `side` into `target` (checked by the caller: not the branch itself).
fn merge_branch(
    ws: &Workspace,
    side: &Side,
    (target, target_ref): (&str, &str),
    target_wt: Option<&Path>,
    args: &Args,
    mode: Mode,
) -> Result<String> {
    let name = side.name;
    let tip = ws.repo.branch_tip(side.branch)?.ok_or_else(|| {
        Error::refused(
            format!("the branch '{}' of shard '{name}' is gone", side.branch),
            "there is nothing to merge",
        )
    })?;
    let target_tip = resolve(ws, target_ref)?;
    let merged = ws.repo.merged_into(&tip, &target_tip)?;
    let summary = match merged {
        Some(crate::git::merged::Merged::Ancestor) => format!("already merged into {target}"),
        // A shard on a host keeps its own commits there, whichever way they were taken here.
        Some(how) if side.worktree.is_none() => format!("nothing to merge: {}", how.describe(target)),
        _ => match mode {
            Mode::Rebase => rebase_and_fast_forward(ws, side, target, &target_tip, target_wt)?,
            Mode::Squash | Mode::NoFf => commit_on_target(ws, side, args, mode, target, &target_tip, target_wt)?,
        },
    };
    Ok(summary)
}

/// Where `target` is checked out, once it is clear that git can move it there: nothing in
/// progress, on the branch, no uncommitted changes to tracked files. Asked before anything is
/// changed.
fn check_target(ws: &Workspace, target: &str) -> Result<Option<PathBuf>> {
    let target_wt = ws.repo.branch_checked_out_at(target)?;
    if let Some(wt) = &target_wt {
        refuse_in_progress(wt, &format!("'{target}' in {}", crate::output::short_path(wt)))?;
        // git counts a branch as checked out there during a bisect too, whose HEAD is elsewhere:
        // what git would do there would not move the branch.
        if head_branch(wt)?.as_deref() != Some(target) {
            return Err(Error::refused(
                format!(
                    "'{target}' is in use in {}, which is not on it now; nothing was merged",
                    crate::output::short_path(wt)
                ),
                "finish what is going on there (`git status` says what), then run `git shard merge` again",
            ));
        }
    }
    if let Some(wt) = &target_wt
        && !crate::git::status::dirt(wt)?.tracked_clean()
    {
        return Err(Error::refused(
            format!(
                "'{target}' is checked out in {} with uncommitted changes; nothing was merged",
                crate::output::short_path(wt)
            ),
            "commit or stash them there first",
        ));
    }
    Ok(target_wt)
}

/// Rebase the shard's branch onto the target in its worktree, then fast-forward the target.
fn rebase_and_fast_forward(
    ws: &Workspace,
    side: &Side,
    target: &str,
    target_tip: &str,
    target_wt: Option<&Path>,
) -> Result<String> {
    let name = side.name;
    let before = ws.repo.branch_tip(side.branch)?.unwrap_or_default();
    let ahead = ws.repo.commits_not_in(&before, target_tip, target_tip)?;
    let needed = ws.repo.fork_point(&before, target_tip)?.as_deref() != Some(target_tip);
    // A shard on a host is rebased in a worktree of its own here, detached at its fetched tip:
    // its local branch stays what the host has, so a later `fetch` still fast-forwards it.
    let temp = match (side.worktree, needed) {
        (None, true) => Some(TempWorktree::add(ws, &["--detach", &before])?),
        _ => None,
    };
    let wt = side.worktree.or(temp.as_ref().map(|t| t.path.as_path()));
    let rebased = match wt {
        Some(wt) if needed => {
            // Only the shard's branch moves: `rebase.updateRefs` would move the user's branches
            // that point into it too.
            quietly(wt, &["-c", "rebase.updateRefs=false", "rebase", "--quiet", target_tip])
        }
        _ => Ok(()),
    };
    if let (Err(message), Some(wt)) = (rebased, wt) {
        let conflicts = conflicted(wt);
        // Ours to undo: `refuse_in_progress` saw no rebase before we started this one.
        let _ = in_worktree(wt, &["rebase", "--abort"]);
        if conflicts.is_empty() {
            return Err(Error::refused(
                format!("`git rebase {target}` failed in shard '{name}'; it was undone, nothing changed: {message}"),
                "fix what git reports (a `pre-rebase` hook, say) and run `git shard merge` again",
            ));
        }
        return Err(conflict(
            side,
            target,
            &conflicts,
            &format!("git rebase {target}"),
            "git rebase --continue",
        ));
    }
    let new_tip = match &temp {
        Some(t) => Git::on_worktree(&t.path)
            .args(["rev-parse", "HEAD"])
            .read()?
            .trim()
            .to_owned(),
        None => ws.repo.branch_tip(side.branch)?.unwrap_or_default(),
    };
    if let Err(e) = fast_forward(ws, target, target_tip, &new_tip, target_wt, side.branch) {
        // Everything as it was: the shard's branch (and its clean worktree) back where it was.
        if let (Some(wt), None) = (side.worktree, &temp)
            && new_tip != before
        {
            in_worktree(wt, &["reset", "--quiet", "--keep", &before])?;
        }
        return Err(Error::refused(
            format!(
                "{target} could not be fast-forwarded ({e}); shard '{name}' was put back as it was, nothing changed"
            ),
            "fix what git reports (an untracked file in the way, say) and run `git shard merge` again",
        ));
    }
    Ok(format!(
        "{target} fast-forwarded to {} ({ahead} commit(s){})",
        short_id(&new_tip),
        if new_tip == before { "" } else { ", rebased first" }
    ))
}

/// Move the target to `new_tip`: in its worktree with `git merge --ff-only` (its files follow,
/// its hooks run), else by `update-ref` from `old_tip` only.
fn fast_forward(
    ws: &Workspace,
    target: &str,
    old_tip: &str,
    new_tip: &str,
    target_wt: Option<&Path>,
    branch: &str,
) -> Result<()> {
    // Only ever forward: the target's commits all stay.
    if ws.repo.fork_point(new_tip, old_tip)?.as_deref() != Some(old_tip) {
        return Err(Error::failed(format!(
            "'{branch}' does not contain {target}'s tip after the rebase; {target} was left where it was"
        )));
    }
    // The branch by name where it is the new tip (git's reflog then names it); a shard on a host
    // was rebased detached, its branch left at the host's tip.
    // In full: a branch named like a tag (or `heads/x`) is another ref to git's short names.
    let full = format!("refs/heads/{branch}");
    let rev = match ws.repo.branch_tip(branch)?.as_deref() == Some(new_tip) {
        true => full.as_str(),
        false => new_tip,
    };
    match target_wt {
        Some(wt) => in_worktree(wt, &["merge", "--ff-only", "--quiet", rev]).map(|_| ()),
        None => ws
            .repo
            .repository()
            .args([
                "update-ref",
                "-m",
                &format!("git shard merge: fast-forward to {branch}"),
            ])
            .arg(format!("refs/heads/{target}"))
            .args([new_tip, old_tip])
            .read()
            .map(|_| ())
            .map_err(Into::into),
    }
}

/// A squash or merge commit on the target: made by git in the target's worktree, or, when the
/// target is not checked out anywhere, in a temporary worktree of it whose result then moves the
/// branch.
#[allow(clippy::too_many_arguments)]
fn commit_on_target(
    ws: &Workspace,
    side: &Side,
    args: &Args,
    mode: Mode,
    target: &str,
    target_tip: &str,
    target_wt: Option<&Path>,
) -> Result<String> {
    let temp = match target_wt {
        Some(_) => None,
        None => Some(TempWorktree::add(ws, &["--detach", target_tip])?),
    };
    let wt: PathBuf = target_wt.map_or_else(|| temp.as_ref().expect("made above").path.clone(), Path::to_owned);
    let (name, branch) = (side.name, side.branch);
    let tip = ws.repo.branch_tip(branch)?.unwrap_or_default();
    let fork = ws
        .repo
        .fork_point(&tip, target_tip)?
        .unwrap_or_else(|| target_tip.to_owned());
    let commits = ws.repo.commits_not_in(&tip, &fork, &fork)?;
    // The branch in full, as in `fast_forward`.
    let full = format!("refs/heads/{branch}");
    let merged = match mode {
        // `--ff` for `merge.ff=false` (or a branch's `mergeOptions`), which git refuses with
        // `--squash`.
        Mode::Squash => quietly(&wt, &["merge", "--squash", "--ff", "--quiet", &full]),
        _ => quietly(&wt, &["merge", "--no-ff", "--no-commit", "--quiet", &full]),
    };
    if let Err(message) = merged {
        let conflicts = conflicted(&wt);
        // `merge --squash` leaves no MERGE_HEAD for `merge --abort`; `reset --merge` undoes both.
        let _ = in_worktree(&wt, &["reset", "--merge"]);
        if conflicts.is_empty() {
            return Err(Error::refused(
                format!("`git merge` into {target} failed; it was undone, nothing changed: {message}"),
                "fix what git reports and run `git shard merge` again",
            ));
        }
        return Err(conflict(
            side,
            target,
            &conflicts,
            &format!("git merge {target}"),
            "git commit",
        ));
    }
    let message = match (&args.message, mode) {
        (Some(m), _) => m.clone(),
        (None, Mode::Squash) => {
            let subjects = ws
                .repo
                .repository()
                .args(["log", "--reverse", "--format=* %s"])
                .arg(format!("{fork}..{tip}"))
                .read()?;
            format!("{name}: {commits} commit(s) from {branch}, squashed\n\n{subjects}")
        }
        (None, _) => format!("Merge branch '{branch}' (shard {name})"),
    };
    let mut file =
        tempfile::NamedTempFile::new().map_err(|e| Error::failed(format!("cannot write the message: {e}")))?;
    std::io::Write::write_all(&mut file, message.as_bytes()).map_err(|e| Error::failed(e.to_string()))?;
    let (mut commit, _) = Git::on_worktree(&wt)
        .args(["commit", "--quiet", "-F"])
        .arg(file.path())
        .args(args.edit.then_some("--edit"))
        .into_command();
    // The editor, when asked for, gets the terminal.
    let mut child = commit
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .spawn()
        .map_err(|e| Error::failed(format!("cannot run `git commit`: {e}")))?;
    let status = {
        let _ignored = super::IgnoreInterrupts::new();
        child.wait().map_err(|e| Error::failed(e.to_string()))?
    };
    if !status.success() {
        let _ = in_worktree(&wt, &["reset", "--merge"]);
        return Err(Error::refused(
            format!("`git commit` on {target} failed ({status}); nothing was merged"),
            "its message is above: a hook refused, or the message was empty",
        ));
    }
    let new_tip = Git::on_worktree(&wt)
        .args(["rev-parse", "HEAD"])
        .read()?
        .trim()
        .to_owned();
    if let Some(temp) = temp {
        ws.repo
            .repository()
            .args(["update-ref", "-m", &format!("git shard merge: {branch}")])
            .arg(format!("refs/heads/{target}"))
            .args([new_tip.as_str(), target_tip])
            .read()?;
        drop(temp);
    }
    Ok(match mode {
        Mode::Squash => format!("squashed {commits} commit(s) into {target} as {}", short_id(&new_tip)),
        _ => format!("merged into {target} with merge commit {}", short_id(&new_tip)),
    })
}

/// A temporary worktree, removed when dropped.
struct TempWorktree {
    repo: PathBuf,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TempWorktree {
    /// Checked out as `git worktree add <path> <at…>` would: `["--detach", <commit>]`, or
    /// `[<branch>]`.
    fn add(ws: &Workspace, at: &[&str]) -> Result<TempWorktree> {
        let dir = tempfile::Builder::new()
            .prefix("git-shard-merge-")
            .tempdir()
            .map_err(|e| Error::failed(format!("cannot make a temporary folder: {e}")))?;
        let path = dir.path().join("target");
        let _worktrees = ws.store.lock_worktrees()?;
        ws.repo
            .repository()
            .args(["worktree", "add", "--quiet"])
            .arg(&path)
            .args(at)
            .read()?;
        Ok(TempWorktree {
            repo: ws.repo.common_dir(),
            path,
            _dir: dir,
        })
    }
}

impl Drop for TempWorktree {
    fn drop(&mut self) {
        // Under the same lock as every worktree change git-shard makes (see `Store`).
        let _worktrees = crate::shard::Store::new(&self.repo).lock_worktrees();
        let _ = Git::on_repository(&self.repo)
            .args(["worktree", "remove", "--force"])
            .arg(&self.path)
            .read();
    }
}

/// Run git in `wt` without showing its messages (a conflict's advice would be wrong: we undo it
/// and say what to do); on failure, what git said.
fn quietly(wt: &Path, args: &[&str]) -> std::result::Result<(), String> {
    let (mut cmd, what) = Git::on_worktree(wt).args(args).into_command();
    match cmd.stdout(Stdio::null()).stderr(Stdio::piped()).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(crate::git::cmd::message_of(&out.stderr, out.status)),
        Err(e) => Err(format!("cannot run `{what}`: {e}")),
    }
}

/// Refuse when git is in the middle of something in `wt` (a rebase, merge, cherry-pick or
/// revert the user started): ours would fail, and undoing ours must never undo theirs.
fn refuse_in_progress(wt: &Path, whose: &str) -> Result<()> {
    let dir = Git::on_worktree(wt).args(["rev-parse", "--absolute-git-dir"]).read()?;
    let dir = Path::new(dir.trim());
    let busy = BUSY.into_iter().find(|(file, _)| dir.join(file).exists());
    match busy {
        Some((_, what)) => Err(Error::refused(
            format!("{whose} is in the middle of {what}; nothing was merged"),
            "finish or abort it there (`git status` says how), then run `git shard merge` again",
        )),
        None => Ok(()),
    }
}

/// The branch checked out in `wt`; `None` for a detached HEAD.
fn head_branch(wt: &Path) -> Result<Option<String>> {
    Ok(Git::on_worktree(wt)
        .args(["symbolic-ref", "--quiet", "HEAD"])
        .ask()?
        .map(|h| h.trim().trim_start_matches("refs/heads/").to_owned()))
}

/// Run git in `wt`, its messages for the user on our stderr; an error when it fails.
fn in_worktree(wt: &Path, args: &[&str]) -> Result<()> {
    let (mut cmd, what) = Git::on_worktree(wt).args(args).into_command();
    let status = cmd
        .status()
        .map_err(|e| Error::failed(format!("cannot run `{what}`: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::failed(format!("`{what}` failed ({status})")))
    }
}

/// The files git left conflicted in `wt`.
fn conflicted(wt: &Path) -> Vec<String> {
    Git::on_worktree(wt)
        .args(["diff", "--name-only", "--diff-filter=U", "-z"])
        .read_bytes()
        .map(|out| {
            out.split(|b| *b == 0)
                .filter(|f| !f.is_empty())
                .map(|f| crate::output::clean(&String::from_utf8_lossy(f)))
                .collect()
        })
        .unwrap_or_default()
}

fn conflict(side: &Side, target: &str, files: &[String], start: &str, finish: &str) -> Error {
    let name = side.name;
    let list = if files.is_empty() {
        "(git named no file)".to_owned()
    } else {
        files.join(", ")
    };
    let hint = match side.host {
        None => format!(
            "resolve it in the shard: `cd \"$(git shard path {name})\" && {start}`, fix the files, `git add` them and \
             `{finish}`; then `git shard merge {name}` again"
        ),
        Some(host) => format!(
            "resolve it on host '{host}' (`git shard cd {name}`, then `{start}`, fix, `git add`, `{finish}`, commit), \
             then `git shard merge {name}` again; or here with git on the fetched branch '{}'",
            side.branch
        ),
    };
    Error::refused(
        format!("merging shard '{name}' into {target} conflicts in {list}; it was undone, nothing changed"),
        hint,
    )
}

fn resolve(ws: &Workspace, rev: &str) -> Result<String> {
    Ok(ws
        .repo
        .repository()
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{rev}^{{commit}}"))
        .read()?
        .trim()
        .to_owned())
}
