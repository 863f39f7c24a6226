//! `git shard list`: every shard with the true state of its run.
//!
//! Cost: one record read and at most one `/proc/<pid>/stat` read per shard; no process table scan
//! and no git subprocess. With hosts configured, each is asked once, all at the same time, over
//! a shared ssh connection (see `on_hosts`). A record that cannot be read is reported by name on stderr and the
//! others are still listed (exit 0).

use crate::context::Context;
use crate::error::Result;
use crate::output::{Cell, Paint, age, short_path, table};
use crate::shard::activity::Activity;
use crate::shard::status::describe;
use crate::shard::{Record, RunStatus};

use super::{ShardJson, on_hosts, print_json};
use crate::shard::lifecycle::reconcile;

/// List the shards of this repository and what their agents are doing.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON array, one object per shard (see README.md for the fields).
    #[arg(long)]
    pub json: bool,
    /// Only this machine's shards: no host is asked (what a host is asked by `list` here).
    #[arg(long)]
    pub local: bool,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let asking = match args.local {
        true => on_hosts::Asking::none(),
        false => on_hosts::ask_all(&ws, args.json),
    };
    let mut listed = ws.store.list()?;
    match reconcile::reconcile_listed(&ws, &listed, reconcile::Stopping::Background) {
        Ok(lines) if lines.is_empty() => {}
        Ok(lines) => {
            lines.iter().for_each(|l| eprintln!("{l}"));
            listed = ws.store.list()?;
        }
        Err(e) => eprintln!("warning: reconciliation failed: {e}"),
    }
    let mut shards: Vec<(Record, RunStatus)> = Vec::new();
    let none_at_all = listed.is_empty();
    for (name, record) in listed {
        match record {
            Ok(r) => {
                let s = RunStatus::of(r.process.as_ref());
                shards.push((r, s));
            }
            Err(e) => eprintln!("warning: shard '{name}' skipped: {e}"),
        }
    }
    let records: Vec<&Record> = shards.iter().map(|(r, _)| r).collect();
    let merged = crate::shard::merged::of_all(&ws, &records).unwrap_or_else(|e| {
        eprintln!("warning: cannot tell which branches are merged: {e}");
        Default::default()
    });
    let merged_of = |r: &Record| merged.get(&r.name).cloned().flatten();
    let remote = asking.answers();
    if args.json {
        // Encoded as they are, not through `serde_json::Value` (a map per shard): what a host
        // answers `list` here with, at every `list` there.
        #[derive(serde::Serialize)]
        #[serde(untagged)]
        enum Shown<'a> {
            Here(&'a ShardJson),
            There(&'a serde_json::Value),
        }
        let here: Vec<ShardJson> = shards
            .iter()
            .map(|(r, s)| ShardJson {
                merged: merged_of(r),
                ..ShardJson::new(r, *s)
            })
            .collect();
        let there: Vec<serde_json::Value> = remote.into_iter().map(|r| r.json()).collect();
        let view: Vec<Shown> = here
            .iter()
            .map(Shown::Here)
            .chain(there.iter().map(Shown::There))
            .collect();
        return print_json(&view);
    }
    if none_at_all && remote.is_empty() {
        eprintln!("no shards yet; create one with `git shard new <name> -- <command>`");
        return Ok(());
    }
    let paint = Paint::for_stdout();
    let mut rows: Vec<Vec<Cell>> = shards
        .iter()
        .map(|(r, s)| {
            vec![
                Cell::painted(&r.name, |t| paint.bold(t)),
                status_cell(r, *s, paint),
                activity_cell(r, *s, paint),
                match merged_of(r) {
                    Some(_) => Cell::painted(&format!("{} (merged)", r.branch), |t| paint.dim(t)),
                    None => Cell::plain(&r.branch),
                },
                Cell::plain(age(r.created_at)),
                if r.worktree.is_dir() {
                    Cell::plain(short_path(&r.worktree))
                } else {
                    Cell::painted(&format!("{} (missing)", short_path(&r.worktree)), |t| paint.red(t))
                },
            ]
        })
        .collect();
    rows.extend(remote.iter().map(|r| on_hosts::row(r, paint)));
    print!(
        "{}",
        table(&["NAME", "STATUS", "ACTIVITY", "BRANCH", "AGE", "PATH"], rows, paint)
    );
    Ok(())
}

fn activity_cell(r: &Record, s: RunStatus, paint: Paint) -> Cell {
    match crate::shard::activity::shown(r.process.as_ref(), s) {
        Some(a @ Activity::Waiting) => Cell::painted(a.as_str(), |t| paint.yellow(t)),
        Some(a) => Cell::plain(a.as_str()),
        None => Cell::painted("-", |t| paint.dim(t)),
    }
}

fn status_cell(r: &Record, s: RunStatus, paint: Paint) -> Cell {
    let text = describe(r, s);
    match s {
        RunStatus::Running => Cell::painted(&text, |t| paint.green(t)),
        RunStatus::Exited if r.process.as_ref().and_then(|p| p.exit_code) == Some(0) => Cell::plain(text),
        RunStatus::Exited => Cell::painted(&text, |t| paint.yellow(t)),
        RunStatus::Lost => Cell::painted(&text, |t| paint.red(t)),
        RunStatus::NotStarted | RunStatus::Stopped => Cell::painted(&text, |t| paint.dim(t)),
    }
}
