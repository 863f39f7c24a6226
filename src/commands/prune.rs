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

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::context::{Context, Workspace};
use crate::error::{Error, Result};
use crate::git::admin::read_gitfile;
use crate::git::worktree::comparable_path;
use crate::git::{WorktreeEntry, lock};
use crate::output::clean;
use crate::shard::lifecycle::{self, BranchFate};
use crate::shard::{Record, ShardName};

use super::print_json;
use crate::shard::lifecycle::reconcile::{WorktreeState, worktree_state};
use crate::shard::lifecycle::run::{Stopped, stop_run};

/// Forget shards whose worktree is gone and report worktrees without a shard.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only say what would be done.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Print the actions as a JSON array.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Action {
    /// `forget-shard`, `undo-incomplete`, `finish-removal`, `stop-agent`, `delete-branch`, `kept-branch`, `kept-shard`,
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
    let _store = ws.store.lock_store_exclusive()?;
    let apply = !args.dry_run;
    let mut actions: Vec<Action> = Vec::new();
    let entries = ws.repo.worktrees()?;
    let mut known_paths = BTreeSet::new();
    let mut failures = 0;
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
    let mut prunable = false;
    for w in ws.repo.worktrees()? {
        if let Some(id) = &w.id
            && w.prunable
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
    if prunable && apply {
        lifecycle::prune_worktrees(&ws)?;
    }

    // Worktrees of this repository (their `.git` points into our common dir) under the shards
    // folder that no record names: reported only, they may hold work.
    let common = ws.repo.common_dir();
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
                "unregistered-worktree" | "unreadable-record" | "kept-branch" | "kept-shard" | "error"
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

/// Prune one shard if its worktree is gone.
fn prune_one(
    ws: &Workspace,
    raw: &str,
    record: &Record,
    entries: &[WorktreeEntry],
    apply: bool,
    actions: &mut Vec<Action>,
) -> Result<()> {
    if record.removing {
        let name = ShardName::parse(raw)?;
        let _lock = ws.store.lock_shard(&name)?;
        if apply {
            let record = ws.store.read(&name)?;
            lifecycle::wait_for_git(&record)?;
            if std::fs::symlink_metadata(&record.worktree).is_ok() {
                lifecycle::check_removable(ws, &name, &record, false)?;
            }
            lifecycle::finish_removal(ws, &name, &record, false, false)?;
        }
        actions.push(Action::new(
            "finish-removal",
            raw.to_owned(),
            "`git shard rm` died while removing it; the removal is finished".into(),
            apply,
        ));
        return Ok(());
    }
    if record.incomplete {
        let name = ShardName::parse(raw)?;
        let _lock = ws.store.lock_shard(&name)?;
        // Re-read under the lock: a `new` that was still at work has finished meanwhile.
        if ws.store.read(&name)?.incomplete {
            let adopted = apply
                && matches!(
                    lifecycle::undo_incomplete(ws, &name, record)?,
                    lifecycle::Undone::Adopted
                );
            actions.push(if adopted {
                Action::new(
                    "kept-shard",
                    raw.to_owned(),
                    "`git shard new` died after its worktree was made, and it holds work now: kept as a whole shard"
                        .into(),
                    false,
                )
            } else {
                Action::new(
                    "undo-incomplete",
                    raw.to_owned(),
                    "`git shard new` died while creating it; what it made is removed".into(),
                    apply,
                )
            });
        }
        return Ok(());
    }
    match worktree_state(record, entries) {
        WorktreeState::Present | WorktreeState::Moved(_) => return Ok(()),
        WorktreeState::LockedMissing(reason) => {
            actions.push(Action::new(
                "kept-shard",
                raw.to_owned(),
                format!(
                    "its folder is missing but git's entry is locked ({}); left alone",
                    reason.trim()
                ),
                false,
            ));
            return Ok(());
        }
        WorktreeState::Gone => {}
    }
    let name = ShardName::parse(raw)?;
    if apply {
        match stop_run(ws, &name, Duration::from_secs(5))? {
            Stopped::Done { .. } => actions.push(Action::new(
                "stop-agent",
                raw.to_owned(),
                "stopped its agent".into(),
                true,
            )),
            Stopped::Lost => actions.push(Action::new(
                "stop-agent",
                raw.to_owned(),
                "agent lost (PID reused); not signalled".into(),
                false,
            )),
            Stopped::NothingRunning(_) => {}
        }
    }
    let _lock = ws.store.lock_shard(&name)?;
    if apply {
        // git's stale entry still names the branch as checked out: lift our lock and let git prune
        // it first, as `git worktree prune` would.
        lock::unlock_ours(&ws.repo.common_dir(), &record.worktree_id)
            .map_err(|e| Error::failed(format!("cannot unlock the worktree entry: {e}")))?;
        lifecycle::prune_worktrees(ws)?;
    }
    match lifecycle::settle_branch(ws, record, false, apply)? {
        BranchFate::Deleted => actions.push(Action::new(
            "delete-branch",
            record.branch.clone(),
            "no commits outside its base".into(),
            apply,
        )),
        BranchFate::KeptUnmerged { commits, .. } => actions.push(Action::new(
            "kept-branch",
            record.branch.clone(),
            format!("{commits} commit(s) not in its base"),
            false,
        )),
        BranchFate::KeptPreexisting => actions.push(Action::new(
            "kept-branch",
            record.branch.clone(),
            "it existed before the shard".into(),
            false,
        )),
        BranchFate::Missing => {}
    }
    if apply {
        ws.store.remove(&name)?;
    }
    actions.push(Action::new(
        "forget-shard",
        raw.to_owned(),
        format!("worktree {} is gone", record.worktree.display()),
        apply,
    ));
    Ok(())
}

/// Is `dir` a linked worktree of the repository whose common dir is `common`?
fn belongs_to(dir: &Path, common: &Path) -> bool {
    read_gitfile(&dir.join(".git")).is_some_and(|admin| {
        std::fs::canonicalize(admin).is_ok_and(|admin| admin.starts_with(common.join("worktrees")))
    })
}
