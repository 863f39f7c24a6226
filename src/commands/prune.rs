//! `git shard prune`: find every orphan and bring records, worktrees and branches back into
//! agreement.
//!
//! - A record whose worktree is gone: stop its run if the identity still matches (never
//!   otherwise), drop git's stale entry, delete the branch if we created it and it holds no commit
//!   outside its base, forget the record.
//! - A folder under the shards folder that no record names: reported only (it may hold work).
//! - git's worktree entries whose folder is gone and that are not locked: removed, like
//!   `git worktree prune`.
//! - Records that cannot be read: reported, never touched.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::context::{Context, Workspace};
use crate::error::{Error, Result};
use crate::git::WorktreeEntry;
use crate::git::admin::{Admin, read_gitfile};
use crate::git::worktree::comparable_path;
use crate::output::clean;
use crate::shard::lifecycle::{self, BranchFate, DeleteBranch};
use crate::shard::{Record, ShardName};

use super::print_json;
use crate::shard::lifecycle::prune::{Pruned, prune_shard};

/// Forget shards whose worktree is gone and report worktrees without a shard.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only say what would be done.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Also remove shards whose branch is merged into its base (squash and rebase merges
    /// included), whose worktree is clean and whose agent is not running; with `--dry-run`, list
    /// them.
    #[arg(long)]
    pub merged: bool,
    /// Print the actions as a JSON array.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Action {
    /// `forget-shard`, `undo-incomplete`, `finish-removal`, `stop-agent`, `delete-branch`, `kept-branch`, `kept-shard`,
    /// `remove-merged`, `kept-merged`,
    /// `prune-worktree-entry`, `unregistered-worktree`, `unreadable-record`, `error`.
    kind: &'static str,
    target: String,
    detail: String,
    done: bool,
}

impl Action {
    fn new(kind: &'static str, target: String, detail: String, done: bool) -> Action {
        Action {
            kind,
            target,
            detail,
            done,
        }
    }
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    if !args.dry_run {
        super::reconcile_quietly(&ws);
    }
    let apply = !args.dry_run;
    let mut actions: Vec<Action> = Vec::new();
    let mut failures = 0;
    // Before the store's exclusive lock: each removal takes its shared one, as `rm` does.
    if args.merged {
        failures += remove_merged(&ws, apply, &mut actions)?;
    }
    let _store = ws.store.lock_store_exclusive()?;
    let entries = ws.repo.worktrees()?;
    let mut known_paths = BTreeSet::new();
    for (raw, record) in ws.store.list()? {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                actions.push(Action::new("unreadable-record", raw, e.to_string(), false));
                continue;
            }
        };
        known_paths.insert(record.worktree.clone());
        // One shard's trouble must not stop the others from being pruned.
        if let Err(e) = prune_one(&ws, &raw, &record, &entries, apply, &mut actions) {
            failures += 1;
            actions.push(Action::new("error", raw, e.to_string(), false));
        }
    }

    // git's entries whose folder is gone and that nothing locks, as `git worktree prune` sees them,
    // pruned by git itself.
    let common = ws.repo.common_dir();
    let mut prunable = false;
    for w in ws.repo.worktrees()? {
        if let Some(id) = &w.id
            && w.prunable()
        {
            prunable = true;
            if known_paths.contains(&w.path) {
                // A shard's entry: `forget-shard` says it.
                continue;
            }
            actions.push(Action::new(
                "prune-worktree-entry",
                id.clone(),
                format!("{} is gone", w.path.display()),
                apply,
            ));
        }
    }
    // Entries without a `gitdir` file: a `git worktree add` killed right after it made the folder.
    // `git worktree list` does not show them, `git worktree prune` removes them.
    let admins = Admin::list(&common)
        .map_err(|e| Error::failed(format!("cannot read {}: {e}", common.join("worktrees").display())))?;
    for admin in admins {
        if matches!(admin.worktree(), Ok(None)) && matches!(admin.lock_reason(), Ok(None)) {
            prunable = true;
            actions.push(Action::new(
                "prune-worktree-entry",
                admin.id,
                "git's entry has no gitdir file (left by an interrupted `git worktree add`)".into(),
                apply,
            ));
        }
    }
    if prunable && apply {
        lifecycle::prune_worktrees(&ws)?;
    }

    // Worktrees of this repository (their `.git` points into our common dir) under the shards
    // folder that no record names: reported only, they may hold work.
    if ws.config.trusted("worktree_dir").is_ok()
        && let Some(dir) = ws.config.worktree_path(&ws.repo.anchor(), "x").parent()
        && let Ok(folders) = std::fs::read_dir(dir)
    {
        let known: BTreeSet<_> = known_paths.iter().map(|p| comparable_path(p)).collect();
        for path in folders.flatten().map(|e| e.path()) {
            if !known.contains(&comparable_path(&path)) && belongs_to(&path, &common) {
                actions.push(Action::new(
                    "unregistered-worktree",
                    path.display().to_string(),
                    "a worktree of this repository that no shard names; left alone".into(),
                    false,
                ));
            }
        }
    }

    if args.json {
        print_json(&actions)?;
    } else {
        if actions.is_empty() {
            eprintln!("nothing to prune");
        }
        for a in &actions {
            let only_reported = matches!(
                a.kind,
                "unregistered-worktree" | "unreadable-record" | "kept-branch" | "kept-shard" | "kept-merged" | "error"
            );
            let prefix = if args.dry_run && !only_reported { "would " } else { "" };
            println!("{prefix}{}: {} ({})", a.kind, clean(&a.target), clean(&a.detail));
        }
    }
    if failures > 0 {
        return Err(Error::refused(
            format!("{failures} shard(s) could not be pruned (see the `error` lines)"),
            "fix what the errors name and run `git shard prune` again",
        ));
    }
    Ok(())
}

/// `--merged`: remove each shard whose branch is merged, whose worktree is clean (ignored files
/// aside, as `rm`) and whose agent is not running; say why each other merged shard stays.
/// Returns how many removals failed.
fn remove_merged(ws: &Workspace, apply: bool, actions: &mut Vec<Action>) -> Result<usize> {
    use crate::shard::lifecycle::remove::{self, RemoveOptions};
    let records: Vec<Record> = ws.store.list()?.into_iter().filter_map(|(_, r)| r.ok()).collect();
    let refs: Vec<&Record> = records.iter().filter(|r| !r.incomplete && !r.removing).collect();
    let mut merged = crate::shard::merged::of_all(ws, &refs)?;
    // Pull requests merged on the forge, when its CLI answers: the branch is the forge's now, if
    // it still points at the commit the request had (nothing was added since).
    let mut on_forge = BTreeMap::new();
    let forge = super::pr::remote_of(ws, None)
        .ok()
        .and_then(|(_, url)| super::pr::Forge::find(&url));
    if let Some(forge) = forge
        && let Some(heads) = forge.merged_heads()
    {
        for r in &refs {
            let tip = ws.repo.branch_tip(&r.branch)?;
            if matches!(merged.get(&r.name), Some(Some(_)))
                || !heads.iter().any(|(b, oid)| *b == r.branch && Some(oid) == tip.as_ref())
            {
                continue;
            }
            merged.insert(
                r.name.clone(),
                Some(format!("its pull request was merged on {}", forge.name())),
            );
            on_forge.extend(tip.map(|tip| (r.name.clone(), tip)));
        }
    }
    let mut failures = 0;
    for r in refs {
        let Some(Some(how)) = merged.get(&r.name) else { continue };
        let opts = RemoveOptions {
            force: false,
            // Its commits are on the forge, merged; the local base may not have them yet. A branch
            // the shard did not create stays, as with `rm`; one that moved since the forge's
            // answer is judged like any other.
            delete_branch: match on_forge.get(&r.name) {
                Some(tip) if r.created_branch => DeleteBranch::AtTip(tip.clone()),
                _ => DeleteBranch::IfMerged,
            },
            grace: crate::shard::lifecycle::run::DEFAULT_GRACE,
        };
        let name = ShardName::parse(&r.name)?;
        let kept = |why: String| Action::new("kept-merged", r.name.clone(), format!("{how}, but {why}"), false);
        if crate::shard::RunStatus::of(r.process.as_ref()) == crate::shard::RunStatus::Running {
            actions.push(kept("its agent is running".into()));
            continue;
        }
        let plan = match remove::plan(ws, &name, &opts) {
            Ok(plan) => plan,
            Err(e) => {
                actions.push(kept(e.to_string()));
                continue;
            }
        };
        let dirt = plan
            .files
            .iter()
            .filter(|(kind, _)| *kind != crate::git::status::Kind::Ignored)
            .count();
        if dirt > 0 {
            actions.push(kept(format!(
                "its worktree has {dirt} uncommitted or untracked file(s)"
            )));
            continue;
        }
        if apply && let Err(e) = remove::remove(ws, &name, &opts, &mut |_| {}) {
            failures += 1;
            actions.push(Action::new("error", r.name.clone(), e.to_string(), false));
            continue;
        }
        actions.push(Action::new("remove-merged", r.name.clone(), how.clone(), apply));
    }
    Ok(failures)
}

/// Prune one shard (see `lifecycle::prune`) and say what was done.
fn prune_one(
    ws: &Workspace,
    raw: &str,
    record: &Record,
    entries: &[WorktreeEntry],
    apply: bool,
    actions: &mut Vec<Action>,
) -> Result<()> {
    let name = ShardName::parse(raw)?;
    let target = || raw.to_owned();
    for step in prune_shard(ws, &name, record, entries, apply)? {
        actions.push(match step {
            Pruned::FinishedRemoval => Action::new(
                "finish-removal",
                target(),
                "`git shard rm` died while removing it; the removal is finished".into(),
                apply,
            ),
            Pruned::UndoneIncomplete => Action::new(
                "undo-incomplete",
                target(),
                "`git shard new` died while creating it; what it made is removed".into(),
                apply,
            ),
            Pruned::Adopted => Action::new(
                "kept-shard",
                target(),
                "`git shard new` died after its worktree was made, and it holds work now: kept as a whole shard".into(),
                false,
            ),
            Pruned::KeptLocked(reason) => Action::new(
                "kept-shard",
                target(),
                format!("its folder is missing but git's entry is locked ({reason}); left alone"),
                false,
            ),
            Pruned::StoppedAgent => Action::new("stop-agent", target(), "stopped its agent".into(), true),
            Pruned::AgentLost => Action::new(
                "stop-agent",
                target(),
                "agent lost (PID reused); not signalled".into(),
                false,
            ),
            Pruned::Branch(BranchFate::Deleted) => Action::new(
                "delete-branch",
                record.branch.clone(),
                "no commits outside its base".into(),
                apply,
            ),
            Pruned::Branch(BranchFate::DeletedMerged { how }) => {
                Action::new("delete-branch", record.branch.clone(), how, apply)
            }
            Pruned::Branch(BranchFate::KeptUnmerged { commits, .. }) => Action::new(
                "kept-branch",
                record.branch.clone(),
                format!("{commits} commit(s) not in its base"),
                false,
            ),
            Pruned::Branch(BranchFate::KeptPreexisting) => Action::new(
                "kept-branch",
                record.branch.clone(),
                "it existed before the shard".into(),
                false,
            ),
            Pruned::Branch(BranchFate::Missing) => continue,
            Pruned::Forgotten(path) => Action::new(
                "forget-shard",
                target(),
                format!("worktree {} is gone", path.display()),
                apply,
            ),
        });
    }
    Ok(())
}

/// Is `dir` a linked worktree of the repository whose common dir is `common`?
fn belongs_to(dir: &Path, common: &Path) -> bool {
    read_gitfile(&dir.join(".git")).is_some_and(|admin| {
        std::fs::canonicalize(admin).is_ok_and(|admin| admin.starts_with(common.join("worktrees")))
    })
}
