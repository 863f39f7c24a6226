//! `git shard status`: one shard in detail, with facts about its live process.

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::output::{clean, short_path};
use crate::process::contain::{self, Kind, Usage};
use crate::process::info::{self, ProcessInfo};
use crate::shard::{Record, RunStatus};

use super::{ShardJson, print_json};

/// Show one shard in detail: its run, process group, memory, CPU time and children.
///
/// Without a name, the shard whose worktree you are in.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard (default: the shard of the current worktree).
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: Option<String>,
    /// Print a JSON object: the fields of `list --json` plus `process`.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct StatusJson {
    #[serde(flatten)]
    shard: ShardJson,
    process: Option<ProcessJson>,
}

#[derive(Debug, Serialize)]
struct ProcessJson {
    pid: Option<u32>,
    pgid: Option<u32>,
    sid: Option<u32>,
    start_ticks: Option<u64>,
    boot_id: Option<String>,
    supervisor_pid: Option<u32>,
    launched_at: jiff::Timestamp,
    started_at: Option<jiff::Timestamp>,
    ended_at: Option<jiff::Timestamp>,
    ended_by: Option<String>,
    /// `cgroup`, `subreaper` or `group` (see README, "Safety").
    containment: Option<&'static str>,
    cgroup: Option<String>,
    /// From the run's cgroup while it exists: the whole run, not just the agent.
    usage: Option<Usage>,
    /// Live facts from the operating system; null unless the run is alive.
    live: Option<ProcessInfo>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let record = match &args.name {
        Some(n) => ws.record(n)?.1,
        None => ws.current_shard().ok_or_else(|| {
            Error::refused(
                "the current folder is not inside a shard's worktree",
                "name a shard: `git shard status <name>` (`git shard list` shows them)",
            )
        })?,
    };
    let status = RunStatus::of(record.process.as_ref());
    let live = match (status, record.process.as_ref().and_then(|p| p.pid)) {
        (RunStatus::Running, Some(pid)) => info::describe(pid),
        _ => None,
    };
    if args.json {
        let process = record.process.as_ref().map(|p| ProcessJson {
            pid: p.pid,
            pgid: p.pgid,
            sid: p.sid,
            start_ticks: p.start_ticks,
            boot_id: p.boot_id.clone(),
            supervisor_pid: p.supervisor_pid,
            launched_at: p.launched_at,
            started_at: p.started_at,
            ended_at: p.ended_at,
            ended_by: p.ended_by.map(|b| b.as_str().to_owned()),
            containment: p.containment.map(Kind::as_str),
            cgroup: p.cgroup.clone(),
            usage: contain::usage(p.cgroup.as_deref()),
            live: live.clone(),
        });
        return print_json(&StatusJson {
            shard: ShardJson::new(&record, status),
            process,
        });
    }
    print!("{}", human(&record, status, live.as_ref()));
    Ok(())
}

fn human(r: &Record, status: RunStatus, live: Option<&ProcessInfo>) -> String {
    let mut lines: Vec<(&str, String)> = vec![
        ("shard", clean(&r.name)),
        ("status", crate::shard::status::describe(r, status)),
        ("branch", clean(&r.branch)),
        (
            "base",
            format!(
                "{} ({})",
                r.base
                    .refname
                    .as_deref()
                    .map(clean)
                    .unwrap_or_else(|| "detached".into()),
                r.base.commit.chars().take(12).collect::<String>()
            ),
        ),
        (
            "path",
            if r.worktree.is_dir() {
                short_path(&r.worktree)
            } else {
                format!("{} (missing)", short_path(&r.worktree))
            },
        ),
        ("agent", clean(&r.agent)),
        (
            "command",
            clean(&shlex::try_join(r.command.iter().map(String::as_str)).unwrap_or_default()),
        ),
        ("terminal", clean(&r.terminal)),
        ("created", when(r.created_at)),
    ];
    if let Some(p) = &r.process {
        if let Some(s) = &p.started_at {
            lines.push(("started", when(*s)));
        }
        if let Some(e) = &p.ended_at {
            lines.push((
                "ended",
                format!(
                    "{}{}",
                    when(*e),
                    p.ended_by
                        .map(|b| format!(" (recorded by {})", b.as_str()))
                        .unwrap_or_default()
                ),
            ));
        }
        if let (Some(pgid), Some(sid)) = (p.pgid, p.sid) {
            lines.push(("group", format!("pgid {pgid}, sid {sid}")));
        }
        match (p.containment, &p.cgroup) {
            (Some(Kind::Cgroup), Some(path)) => lines.push(("contained", format!("cgroup {path}"))),
            (Some(Kind::Subreaper), _) => lines.push((
                "contained",
                "process group, session, and what is orphaned to the supervisor (no cgroup here)".into(),
            )),
            (Some(Kind::Group), _) => lines.push(("contained", "process group and session".into())),
            _ => {}
        }
    }
    if let Some(p) = &r.process
        && let Some(a) = crate::shard::activity::shown(Some(p), status)
    {
        let note = p.activity_note.as_deref().map(|n| format!(": {n}")).unwrap_or_default();
        let since = p
            .activity_at
            .map(|t| format!(" for {}", crate::output::age(t)))
            .unwrap_or_default();
        let how = match p.activity_source {
            Some(crate::shard::activity::Source::Cpu) => " (from its CPU time)",
            _ => "",
        };
        lines.push(("activity", format!("{}{note}{since}{how}", a.as_str())));
    }
    let usage = r.process.as_ref().and_then(|p| contain::usage(p.cgroup.as_deref()));
    if let Some(u) = usage
        && status != RunStatus::Running
        && u.processes > 0
    {
        lines.push((
            "left",
            format!(
                "{} process(es) of the ended run in its cgroup; `git shard stop {}` ends them",
                u.processes, r.name
            ),
        ));
    }
    if let Some(i) = live {
        // The cgroup counts the whole run (tool calls, servers, what has ended); the agent's own
        // numbers otherwise.
        let memory = usage.and_then(|u| u.memory_bytes).unwrap_or(i.memory_bytes);
        let cpu_ms = usage
            .and_then(|u| u.cpu_usec)
            .map(|us| us / 1000)
            .unwrap_or(i.cpu_time_ms);
        lines.push(("memory", format!("{:.1} MiB", memory as f64 / 1_048_576.0)));
        lines.push(("cpu time", format!("{:.2} s", cpu_ms as f64 / 1000.0)));
        if let Some(u) = usage {
            lines.push(("processes", u.processes.to_string()));
        }
        let kids: Vec<String> = i
            .children
            .iter()
            .map(|c| format!("{} {}", c.pid, clean(&c.name)))
            .collect();
        lines.push((
            "children",
            if kids.is_empty() {
                "none".into()
            } else {
                kids.join(", ")
            },
        ));
    }
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    // Every value comes from a record anyone can edit: no control character reaches the terminal.
    lines
        .into_iter()
        .map(|(k, v)| format!("{k:>width$}: {}\n", clean(&v)))
        .collect()
}

/// A time from the record, and how long ago it was: `2026-12-02T18:00:00Z (5m ago)`.
fn when(t: jiff::Timestamp) -> String {
    format!("{t} ({} ago)", crate::output::age(t))
}
