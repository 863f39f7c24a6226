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
use std::time::Duration;

use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::shard::ShardName;

use super::{Stopped, print_json, stop_run};

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
    /// `forget-shard`, `prune-worktree-entry`, `unregistered-worktree`, `unreadable-record`,
    /// `kept-branch`, `delete-branch`, `stop-agent`.
    kind: &'static str,
    target: String,
    detail: String,
    done: bool,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    if !args.dry_run {
        super::reconcile_quietly(&ws);
    }
    let _store = ws.store.lock_store_exclusive()?;
    let apply = !args.dry_run;
    let mut actions: Vec<Action> = Vec::new();
    let mut act = |kind, target: String, detail: String, done| {
        actions.push(Action {
            kind,
            target,
            detail,
            done,
        });
    };

    let worktrees = ws.repo.worktrees()?;
    let mut known_paths = BTreeSet::new();
    for (raw, record) in ws.store.list()? {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                act("unreadable-record", raw, e.to_string(), false);
                continue;
            }
        };
        known_paths.insert(record.worktree.clone());
        if record.worktree.is_dir() {
            continue;
        }
        let name = ShardName::parse(&raw)?;
        if apply {
            match stop_run(&ws, &name, Duration::from_secs(5))? {
                Stopped::Done { .. } => act("stop-agent", raw.clone(), "stopped its agent".into(), true),
                Stopped::Lost => act(
                    "stop-agent",
                    raw.clone(),
                    "agent lost (PID reused); not signalled".into(),
                    false,
                ),
                Stopped::NothingRunning(_) => {}
            }
        }
        let _lock = ws.store.lock_shard(&name)?;
        if worktrees
            .iter()
            .any(|w| w.id.as_deref() == Some(record.worktree_id.as_str()))
            && apply
        {
            ws.repo.prune_worktree_entry(&record.worktree_id)?;
        }
        if ws.repo.branch_exists(&record.branch)? {
            let base = record.base.refname.as_deref().unwrap_or(&record.base.commit);
            let unmerged = ws.repo.commits_not_in(&record.branch, base, &record.base.commit)?;
            if record.created_branch && unmerged == 0 {
                if apply {
                    ws.repo.delete_branch(&record.branch)?;
                }
                act(
                    "delete-branch",
                    record.branch.clone(),
                    "no commits outside its base".into(),
                    apply,
                );
            } else {
                act(
                    "kept-branch",
                    record.branch.clone(),
                    format!("{unmerged} commit(s) not in its base"),
                    false,
                );
            }
        }
        if apply {
            ws.store.remove(&name)?;
        }
        act(
            "forget-shard",
            raw,
            format!("worktree {} is gone", record.worktree.display()),
            apply,
        );
    }

    for w in &worktrees {
        if let Some(id) = &w.id
            && w.prunable
            && w.locked.is_none()
            && !known_paths.contains(&w.path)
        {
            if apply {
                ws.repo.prune_worktree_entry(id)?;
            }
            act(
                "prune-worktree-entry",
                id.clone(),
                format!("{} is gone", w.path.display()),
                apply,
            );
        }
    }

    let shards_dir = ws.config.worktree_path(&ws.repo.main_workdir(), "x");
    if let Some(dir) = shards_dir.parent()
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && !known_paths.contains(&path) {
                act(
                    "unregistered-worktree",
                    path.display().to_string(),
                    "no shard record names this folder; left alone".into(),
                    false,
                );
            }
        }
    }

    if args.json {
        return print_json(&actions);
    }
    if actions.is_empty() {
        eprintln!("nothing to prune");
    }
    for a in &actions {
        let only_reported = matches!(a.kind, "unregistered-worktree" | "unreadable-record" | "kept-branch");
        let prefix = if args.dry_run && !only_reported { "would " } else { "" };
        println!(
            "{prefix}{}: {} ({})",
            a.kind,
            crate::output::clean(&a.target),
            crate::output::clean(&a.detail)
        );
    }
    Ok(())
}
