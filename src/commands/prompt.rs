//! `git shard prompt`: the prompt segment, run at every prompt.
//!
//! Budget and rules (STYLE.md 7): no git subprocess, no repository opened beyond its `.git` files, no network, no
//! process-table scan: the repository is found by reading `.git` files (`git::locate`); in a
//! shard it reads one record and a running agent's `/proc/<pid>/stat`, in the main worktree the
//! kept summary (`shard::glance`) and one `stat` per running agent (for the shell integration,
//! `--cache`, one `stat` more per running agent, of its supervisor's descriptor). It never fails: on any
//! error it prints nothing and exits 0. Names are cleaned of control characters so a crafted
//! record cannot put escape sequences into the user's prompt.

use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::git::locate::locate;
use crate::output::clean;
use crate::process::{Held, HeldProof, Instance};
use crate::shard::activity::{self, Activity};
use crate::shard::glance::{self, SETTLED};
use crate::shard::{Record, RunStatus, Store};
use std::time::Duration;
use std::time::SystemTime;

/// Print a short prompt segment: the shard you are in and its agent's status (`⎇ fix-login ●`),
/// or in the main worktree a summary of the repository's shards (`3● 1✗`); nothing elsewhere.
///
/// Symbols: ● running, ◆ waiting for you, ◇ idle, ○ not started, ✓0 exited with code 0, ✗1
/// exited with code 1, ✗s9 ended by signal 9, ■ stopped, ? lost, ⚠ a record that cannot be read.
/// Where the locale is not UTF-8 (or with GIT_SHARD_ASCII=1): * ! . o +0 x1 xs9 - ? !!.
#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// Template with {name} {status} {symbol} {glyph} {summary} {hosts} {count_running}
    /// {count_waiting} {count_idle} {count_ok} {count_failed} {count_lost} {count_not_started}
    /// {count_stopped} {count_unreadable} {count_total}. Default: "{glyph} {name} {symbol}" in a
    /// shard; in the main worktree "{summary}" and "{hosts}", joined by " · " (" | " in plain
    /// characters) when both have something to show ({hosts}: each host's shards as the last
    /// `list` heard them, and when: `devbox 2● @14:02`). When every placeholder comes out empty
    /// ({name} in the main worktree, counts in a shard), nothing is printed.
    #[arg(long, value_name = "TEMPLATE")]
    pub format: Option<String>,
    /// Print the facts as JSON instead.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// For the shell integration only (`git-shard prompt --cache <shell PID>`, read by `main`,
    /// not by clap, so that no help, man page or completion script offers it): after the segment,
    /// what it depends on, so that the shell can tell with its own builtins that nothing changed
    /// and skip the next call.
    #[arg(skip)]
    pub cache: Option<u32>,
}

#[derive(Debug, Default, Serialize)]
struct Counts {
    /// Running and waiting for their user (counted here, not under `running`).
    waiting: usize,
    /// Running and idle after their turn (counted here, not under `running`).
    idle: usize,
    running: usize,
    ok: usize,
    failed: usize,
    lost: usize,
    not_started: usize,
    stopped: usize,
    /// Records that cannot be read (`git shard list` says why): counted, never silently dropped.
    unreadable: usize,
    total: usize,
}

#[derive(Debug, Serialize)]
struct PromptJson {
    /// `shard`, `main` or `none`.
    location: &'static str,
    name: Option<String>,
    status: Option<RunStatus>,
    exit_code: Option<i32>,
    signal: Option<i32>,
    /// `working`, `waiting` or `idle` while the shard's run is alive.
    activity: Option<Activity>,
    /// The repository's shards by status: in the main worktree only (null in a shard).
    counts: Option<Counts>,
    /// The hosts' shards as the last `list` heard them (`at`: when, in seconds since the epoch,
    /// to the minute): in the main worktree only.
    hosts: Option<Vec<crate::host::Glance>>,
}

struct Symbols {
    glyph: &'static str,
    running: &'static str,
    not_started: &'static str,
    ok: &'static str,
    failed: &'static str,
    signal: &'static str,
    lost: &'static str,
    stopped: &'static str,
    waiting: &'static str,
    idle: &'static str,
    unreadable: &'static str,
    /// Between the parts of a line (the summary and the hosts, the hosts themselves).
    separator: &'static str,
}

const UNICODE: Symbols = Symbols {
    glyph: "⎇",
    running: "●",
    not_started: "○",
    ok: "✓",
    failed: "✗",
    signal: "✗s",
    lost: "?",
    stopped: "■",
    waiting: "◆",
    idle: "◇",
    unreadable: "⚠",
    separator: " · ",
};
const ASCII: Symbols = Symbols {
    glyph: "@",
    running: "*",
    not_started: "o",
    ok: "+",
    failed: "x",
    signal: "xs",
    lost: "?",
    stopped: "-",
    waiting: "!",
    idle: ".",
    unreadable: "!!",
    separator: " | ",
};

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    use std::io::Write;
    // Whatever happens, the prompt gets a segment or nothing, never an error.
    use crate::git::locate::{Found, find};
    let (here, nowhere) = match find(&ctx.cwd) {
        Found::Repository(here) => (Some(here), None),
        Found::Nowhere(walked) => (None, Some(walked)),
        Found::Unsure => (None, None),
    };
    let Some(shell) = args.cache else {
        if let Some(text) = segment(here, args, &mut Vec::new()) {
            let _ = writeln!(std::io::stdout(), "{text}");
        }
        return Ok(());
    };
    // What the segment depends on: the folder every record is written into (by rename, so any
    // change to a record changes its time), read before the records are; and the runs it shows
    // as running, which can end without a word (killed with their supervisor).
    let watched = here.as_ref().map(|here| {
        let store = Store::new(&here.common_dir);
        if store.dir().is_dir() {
            store.dir().to_owned()
        } else {
            here.common_dir.clone()
        }
    });
    // Outside any repository (where a shell spends most of its prompts): what would put it in
    // one is a `.git` in a folder the walk looked in. The shell checks those (`nowhere` and the
    // folders, one per line).
    if let Some(walked) = nowhere
        && std::path::Path::new("/proc/self/stat").exists()
    {
        let mut out = String::from("\nnowhere\n");
        for dir in &walked {
            match dir.to_str() {
                Some(d) if !d.contains('\n') => out.push_str(&format!("{d}\n")),
                // A folder the shell cannot be told of: it asks us each time.
                _ => {
                    let _ = std::io::stdout().write_all(b"\n");
                    return Ok(());
                }
            }
        }
        let _ = std::io::stdout().write_all(out.as_bytes());
        return Ok(());
    }
    // Before anything is read: the runs' proof (see `stamps`).
    let checked = std::time::SystemTime::now();
    let since = watched
        .as_ref()
        .and_then(|w| std::fs::metadata(w).and_then(|m| m.modified()).ok());
    let mut running = Vec::new();
    let text = segment(here, args, &mut running).unwrap_or_default();
    let mut out = format!("{text}\n");
    // A change in the same clock tick as the last one would leave the folder's time as it is:
    // until that tick is well past, the folder's time cannot vouch for the segment. And the shell
    // may compare times to the second (older bash and zsh): until the second is past as well.
    let settled = since.is_some_and(|since| {
        let (since, at) = (glance::nanos(since), glance::nanos(checked));
        glance::is_settled(since, at) && at - since >= (SETTLED + Duration::from_secs(1)).as_nanos() as i128
    });
    if let (Some(watched), Some(since)) = (watched, since)
        && settled
        && std::path::Path::new("/proc/self/stat").exists()
        && let Some(proven) = checked.checked_sub(SETTLED)
        && let Some(stamp) = stamps(shell, since, proven)
    {
        out.push_str(&format!("{}\t{}\n", watched.display(), stamp.display()));
        // Each run as a path below /proc the shell finds only while it has not exited, through
        // its supervisor's descriptor of its `fd` folder where that leads to it (which proves the
        // process as well): an entry of the folder (`<supervisor>/fd/<n>/<file>`, looked up),
        // or the folder (`<supervisor>/fd/<n>`, not empty: `-s`). Else by PID, `<pid>/<entry>`
        // (`-s`, and `/proc/<pid>` older than the `.runs` stamp proves it is the same process).
        for run in running {
            let proof = run
                .held
                .zip(run.instance)
                .and_then(|(held, instance)| crate::process::held_proof(held, instance).map(|proof| (held, proof)));
            match proof {
                Some((held, HeldProof::Entry(file))) => out.push_str(&format!("{held}/{file}\n")),
                Some((held, HeldProof::Folder)) => out.push_str(&format!("{held}\n")),
                None => {
                    let entry = run.entry.unwrap_or_else(|| crate::process::alive_entry(run.pid));
                    out.push_str(&format!("{}/{entry}\n", run.pid));
                }
            }
        }
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(())
}

/// Remove the stamps of shells that have exited (`prompt-<pid>` in our private folder, no such
/// process): done when a new shell makes its first, so the folder holds one per live shell.
/// A stamp of a PID another process has taken since is only a file with a time: the next shell
/// of that PID sets it anew.
fn forget_gone_shells(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("prompt-"))
            .map(|n| n.strip_suffix(".runs").unwrap_or(n))
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The shell's stamps, files of ours whose modification times the shell compares with its
/// builtins (`-nt`, `-ot`: to the nanosecond in bash, zsh and fish). One pair per shell, so
/// that another shell's prompt never vouches for this one's segment.
///
/// - `prompt-<shell>` has the watched folder's time when the segment was made: the shell keeps
///   the segment while the folder's time equals it (`! -nt && ! -ot`).
/// - `prompt-<shell>.runs` has the time `proven`, a while ([`SETTLED`]) before the runs shown as
///   running were proven alive. A run whose supervisor's descriptor proves it
///   ([`crate::process::Held`]) needs no stamp; the shell takes any other as the same and alive
///   while `/proc/<pid>` is older than that and the run's [`crate::process::alive_entry`] is not
///   empty (not a zombie; fish instead follows `exe`, which a zombie's does not lead anywhere,
///   as its `path is` has no `-s`). The folder's time is when the kernel made its entry, after the process started; a process that
///   took the PID after the proof started after it, and its folder is newer than `proven`
///   (file times lag the clock by at most a tick, far less than [`SETTLED`]). The one hole: a
///   wall clock set back by more than that between the proof and the PID's reuse.
fn stamps(shell: u32, since: SystemTime, proven: SystemTime) -> Option<std::path::PathBuf> {
    let dir = crate::fsutil::private_dir().ok()?;
    let path = dir.join(format!("prompt-{shell}"));
    if !path.exists() {
        forget_gone_shells(&dir);
    }
    let set = |path: &std::path::Path, time: SystemTime| -> Option<()> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .ok()?;
        file.set_times(std::fs::FileTimes::new().set_modified(time)).ok()
    };
    set(&path, since)?;
    set(&dir.join(format!("prompt-{shell}.runs")), proven)?;
    Some(path)
}

/// The glyphs, or plain characters where the locale is not UTF-8: there a glyph's bytes are shown
/// as several characters, and the shell, counting them, puts the cursor and the line wrap in the
/// wrong place. `GIT_SHARD_ASCII=1` forces plain characters, `=0` the glyphs.
fn symbols() -> &'static Symbols {
    match std::env::var("GIT_SHARD_ASCII").as_deref() {
        Ok("1") => &ASCII,
        Ok("0") => &UNICODE,
        _ if utf8_locale() => &UNICODE,
        _ => &ASCII,
    }
}

/// Whether the character set of the locale (`LC_ALL`, else `LC_CTYPE`, else `LANG`) is UTF-8.
fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .is_some_and(|locale| {
            let locale = locale.to_ascii_lowercase();
            locale.contains("utf-8") || locale.contains("utf8")
        })
}

/// The segment; `running` gets the runs it shows as running.
fn segment(here: Option<crate::git::locate::Located>, args: &Args, running: &mut Running) -> Option<String> {
    let sym = symbols();
    let here = here?;
    let store = Store::new(&here.common_dir);
    let current = match here.worktree_id.as_deref() {
        // A linked worktree that is not (or no longer readably) a shard: not ours to describe.
        Some(id) => Some(store.find_by_worktree(id, &here.worktree)?),
        None => None,
    };

    // Only the main worktree summarises the repository (a shard's prompt reads one record), and
    // the hosts, as the last `list` heard them (no network here).
    let (counts, hosts) = match current {
        None => (tally(&store, running)?.0, crate::host::glances(&here.common_dir)),
        Some(_) => (Counts::default(), Vec::new()),
    };
    let process = current.as_ref().and_then(|r| r.process.as_ref());
    // The instance only for the shell integration (one `stat` more), to prove the supervisor's
    // descriptor by.
    let status = current.as_ref().map(|_| match args.cache {
        Some(_) => RunStatus::of_noting(process),
        None => (RunStatus::of(process), None),
    });
    if let (Some((RunStatus::Running, instance)), Some(p)) = (status, process) {
        running.extend(p.pid.map(|pid| Shown {
            pid,
            entry: None,
            instance,
            held: p.held(),
        }));
    }
    let status = status.map(|(status, _)| status);

    if args.json {
        let json = PromptJson {
            location: if current.is_some() { "shard" } else { "main" },
            name: current.as_ref().map(|r| r.name.clone()),
            status,
            exit_code: process.and_then(|p| p.exit_code),
            signal: process.and_then(|p| p.signal),
            activity: status.and_then(|s| activity::shown(process, s)),
            counts: current.is_none().then_some(counts),
            hosts: current.is_none().then_some(hosts),
        };
        // As every `--json`: indented for a person at a terminal, compact for a program.
        return super::json_text(&json).ok();
    }

    let symbol = match (&current, status) {
        (Some(r), Some(s)) => symbol(r, s, sym),
        _ => String::new(),
    };
    // Waiting first: that is the shard that needs you.
    let summary = counted([
        (counts.waiting, sym.waiting),
        (counts.running, sym.running),
        (counts.idle, sym.idle),
        (counts.ok, sym.ok),
        (counts.failed, sym.failed),
        (counts.lost, sym.lost),
        (counts.not_started, sym.not_started),
        (counts.stopped, sym.stopped),
        (counts.unreadable, sym.unreadable),
    ])
    .collect::<Vec<_>>()
    .join(" ");
    let hosts = hosts_text(&hosts, sym);
    let default = match &current {
        Some(_) => "{glyph} {name} {symbol}".to_owned(),
        None => match (counts.total, hosts.is_empty()) {
            (0, true) => return None,
            (0, false) => "{hosts}".to_owned(),
            (_, true) => "{summary}".to_owned(),
            (_, false) => format!("{{summary}}{}{{hosts}}", sym.separator),
        },
    };
    let template = args.format.as_deref().unwrap_or(&default);
    let name = current.as_ref().map(|r| clean(&r.name)).unwrap_or_default();
    // Counts describe the main worktree; in a shard they are empty, like {name} is in the main one.
    let count = |n: usize| {
        if current.is_none() {
            n.to_string()
        } else {
            String::new()
        }
    };
    let values: [(&str, String); 16] = [
        ("name", name),
        ("status", status.map(|s| s.as_str().to_owned()).unwrap_or_default()),
        ("symbol", symbol),
        ("glyph", sym.glyph.to_owned()),
        ("summary", summary),
        ("hosts", hosts),
        ("count_running", count(counts.running)),
        ("count_ok", count(counts.ok)),
        ("count_failed", count(counts.failed)),
        ("count_lost", count(counts.lost)),
        ("count_not_started", count(counts.not_started)),
        ("count_stopped", count(counts.stopped)),
        ("count_unreadable", count(counts.unreadable)),
        ("count_waiting", count(counts.waiting)),
        ("count_idle", count(counts.idle)),
        ("count_total", count(counts.total)),
    ];
    let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = crate::template::expand(template, crate::template::lookup(&values, None)).ok()?;
    // Like starship: a segment whose placeholders all came out empty is no segment (a template
    // `{name}:{status}` prints nothing in the main worktree, not a lone `:`).
    if out.placeholders > 0 && out.filled == 0 {
        return None;
    }
    // The template itself comes from the user's shell config, but clean it too: one rule for all.
    let out = clean(out.text.trim());
    (!out.is_empty()).then_some(out)
}

/// `3●`-style counts, those above zero, in the order given.
fn counted<const N: usize>(counts: [(usize, &str); N]) -> impl Iterator<Item = String> + '_ {
    counts
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, glyph)| format!("{n}{glyph}"))
}

/// The hosts as the last `list` heard them: `devbox 1◆ 2● @14:02` (local time), with
/// `unreachable` before the counts of a host that did not answer then.
fn hosts_text(hosts: &[crate::host::Glance], sym: &Symbols) -> String {
    // The time zone is read only when there is a host to show.
    let tz = (!hosts.is_empty()).then(jiff::tz::TimeZone::system);
    hosts
        .iter()
        .map(|g| {
            let mut parts = vec![g.host.clone()];
            if !g.reachable {
                parts.push("unreachable".into());
            }
            parts.extend(counted([
                (g.waiting, sym.waiting),
                (g.running, sym.running),
                (g.idle, sym.idle),
                (g.failed, sym.failed),
                (g.lost, sym.lost),
            ]));
            if let (Some(tz), Ok(at)) = (&tz, jiff::Timestamp::from_second(g.at))
                && g.at > 0
            {
                parts.push(at.to_zoned(tz.clone()).strftime("@%H:%M").to_string());
            }
            parts.join(" ")
        })
        .collect::<Vec<_>>()
        .join(sym.separator)
}

/// A run the segment shows as running, with what the shell integration watches it by.
struct Shown {
    pid: u32,
    /// The entry of `/proc/<pid>` that showed it has not exited, where the proof looked at one.
    entry: Option<&'static str>,
    /// The instance it was proven as, where that is known.
    instance: Option<Instance>,
    held: Option<Held>,
}

type Running = Vec<Shown>;

/// The repository's shards by status, and the names of those waiting for their user.
fn tally(store: &Store, running: &mut Running) -> Option<(Counts, Vec<String>)> {
    let summary = crate::shard::glance::summary(store)?;
    let s = summary.settled;
    let mut counts = Counts {
        ok: s.ok,
        failed: s.failed,
        not_started: s.not_started,
        stopped: s.stopped,
        unreadable: s.unreadable,
        total: s.ok + s.failed + s.not_started + s.stopped + s.unreadable + summary.live.len(),
        ..Counts::default()
    };
    let mut waiting = Vec::new();
    for live in summary.live {
        match live.status {
            RunStatus::Running => {
                running.push(Shown {
                    pid: live.pid,
                    entry: live.entry,
                    instance: live.instance,
                    held: live.held,
                });
                match live.activity {
                    Some(Activity::Waiting) => {
                        counts.waiting += 1;
                        waiting.push(live.name);
                    }
                    Some(Activity::Idle) => counts.idle += 1,
                    _ => counts.running += 1,
                }
            }
            RunStatus::Lost => counts.lost += 1,
            // Not reached: a run is live only with an identity.
            _ => counts.not_started += 1,
        }
    }
    Some((counts, waiting))
}

/// `git shard status-line`: for tmux's status bar (`status-interval 1`), from any folder of the
/// repository: the names of the shards waiting for you, then the others by status. Like the
/// prompt, it runs no git and never fails.
pub fn status_line(ctx: &Context) -> Option<String> {
    let sym = symbols();
    let here = locate(&ctx.cwd)?;
    let (counts, waiting) = tally(&Store::new(&here.common_dir), &mut Vec::new())?;
    let rest = counted([
        (counts.running, sym.running),
        (counts.idle, sym.idle),
        (counts.failed, sym.failed),
        (counts.lost, sym.lost),
        (counts.unreadable, sym.unreadable),
    ])
    .collect::<Vec<_>>()
    .join(" ");
    let waiting = waiting.iter().map(|n| clean(n)).collect::<Vec<_>>().join(" ");
    let line = match (waiting.is_empty(), rest.is_empty()) {
        (true, true) => return None,
        (false, true) => format!("{} {waiting}", sym.waiting),
        (true, false) => rest,
        (false, false) => format!("{} {waiting}{}{rest}", sym.waiting, sym.separator),
    };
    Some(line)
}

fn symbol(r: &Record, s: RunStatus, sym: &Symbols) -> String {
    let p = r.process.as_ref();
    match s {
        RunStatus::Running => match activity::shown(p, s) {
            Some(Activity::Waiting) => sym.waiting.to_owned(),
            Some(Activity::Idle) => sym.idle.to_owned(),
            _ => sym.running.to_owned(),
        },
        RunStatus::NotStarted => sym.not_started.to_owned(),
        RunStatus::Lost => sym.lost.to_owned(),
        RunStatus::Stopped => sym.stopped.to_owned(),
        RunStatus::Exited => match (p.and_then(|p| p.exit_code), p.and_then(|p| p.signal)) {
            (Some(0), _) => format!("{}0", sym.ok),
            (Some(c), _) => format!("{}{c}", sym.failed),
            (None, Some(sig)) => format!("{}{sig}", sym.signal),
            _ => sym.failed.to_owned(),
        },
    }
}
