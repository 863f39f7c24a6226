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

use serde::Serialize;

use crate::context::{Context, Workspace};
use crate::error::{Error, Result};
use crate::git::WorktreeEntry;
use crate::git::admin::{Admin, read_gitfile};
use crate::git::worktree::comparable_path;
use crate::output::clean;
use crate::shard::lifecycle::{self, BranchFate};
use crate::shard::{Record, ShardName};

use super::print_json;
use crate::shard::lifecycle::prune::{Pruned, prune_shard};

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
    let common = ws.repo.common_dir();
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
