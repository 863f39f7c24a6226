//! What the prompt's summary needs of every record, without parsing every record at every prompt.
//!
//! The main worktree's prompt summarises all shards; parsing a hundred TOML records took most of
//! its time (6.7 million instructions at 100 shards, against 0.45 million for `git rev-parse`).
//! The parts of each record the summary reads (its run's identity, how it ended, its activity)
//! are kept in a file of this user's private runtime folder (`$XDG_RUNTIME_DIR/git-shard`, else
//! `<tmp>/git-shard-<uid>`), one per repository, each under the identity of the record file it
//! came from: inode, size and modification time to the nanosecond. Not in the store's folder:
//! writing there would change the folder's time, which is what the shell integration watches.
//!
//! Invariants:
//! - Never stale: every prompt `stat`s every record, and a record whose file is not exactly the
//!   one an entry was made from (records are replaced by rename, so a rewrite is a new inode) is
//!   parsed again. Whether a run is alive is never cached: it is checked from its identity each
//!   time, as for any record.
//! - Only a reader's aid: nobody else writes it, a missing or unreadable file is simply rebuilt,
//!   and it is written (atomically) only when something changed.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

use super::activity::Activity;
use super::status::RunFacts;
use super::store::Store;
use crate::process::Identity;

/// What the summary needs of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub facts: RunFacts,
    pub exit_code: Option<i32>,
    pub activity: Option<Activity>,
}

/// One record as the summary sees it: `None` when it cannot be read, `Some(None)` without a run.
pub type Glanced = (String, Option<Option<Run>>);

/// One kept record: the identity of its file, and what was read from it.
struct Entry {
    ino: u64,
    size: u64,
    mtime_ns: i128,
    read: Option<Option<Run>>,
}

/// Every record of `store`, by name, with the part of its run the summary needs.
pub fn all(store: &Store) -> Option<Vec<Glanced>> {
    // Named after the store's folder, in a folder only we enter.
    let key = crate::fsutil::stable_hash(store.dir().as_os_str().as_encoded_bytes());
    let dir = crate::fsutil::private_dir().ok()?;
    let path = dir.join(format!("glance-{key:016x}"));
    let text = std::fs::read_to_string(&path).ok();
    if text.is_none() {
        forget_gone_stores(&dir);
    }
    let mut kept: BTreeMap<String, Entry> = text
        .map(|text| text.lines().filter_map(parse).collect())
        .unwrap_or_default();
    let mut changed = false;
    let mut out = Vec::new();
    let names = store.names().ok()?;
    for name in &names {
        let Ok(meta) = std::fs::metadata(store.dir().join(format!("{name}.toml"))) else {
            continue;
        };
        let (ino, size) = (meta.ino(), meta.size());
        let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
        let fresh = kept
            .get(name)
            .is_some_and(|e| (e.ino, e.size, e.mtime_ns) == (ino, size, mtime_ns));
        if !fresh {
            let read = crate::shard::ShardName::parse(name)
                .ok()
                .and_then(|n| store.read(&n).ok())
                .map(|r| {
                    r.process.map(|p| Run {
                        facts: RunFacts::of(&p),
                        exit_code: p.exit_code,
                        activity: p.activity,
                    })
                });
            kept.insert(
                name.clone(),
                Entry {
                    ino,
                    size,
                    mtime_ns,
                    read,
                },
            );
            changed = true;
        }
        out.push((name.clone(), kept[name].read.clone()));
    }
    if changed || kept.len() != names.len() {
        kept.retain(|name, _| names.binary_search(name).is_ok());
        // The first line names the store, for `forget_gone_stores`.
        let mut text = format!("{STORE_LINE}{}\n", store.dir().display());
        text.extend(kept.iter().map(|(name, e)| line(name, e)));
        // Whole or not at all (renamed into place), but not synced: after a crash the worst
        // is a missing file, rebuilt by the next prompt.
        if let Ok(mut tmp) = tempfile::Builder::new().prefix(".tmp-").tempfile_in(&dir)
            && std::io::Write::write_all(&mut tmp, text.as_bytes()).is_ok()
        {
            let _ = tmp.persist(&path);
        }
    }
    Some(out)
}

/// How a kept file names the store it is about.
const STORE_LINE: &str = "# store ";

/// Remove the kept files of stores that no longer exist (a repository deleted, a temporary one):
/// each names its store on its first line, and only a file of ours (`glance-…` in our private
/// folder) whose store is gone is removed. Done when a new store's file is about to be made, so
/// the folder holds no more files than there are repositories.
fn forget_gone_stores(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("glance-") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let store = text.lines().next().and_then(|l| l.strip_prefix(STORE_LINE));
        if store.is_some_and(|s| !std::path::Path::new(s).is_dir()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// One line per record, fields separated by spaces (a shard name has none):
/// `name ino size mtime_ns state pid start_ticks boot_id exit_code activity`, where state is
/// `u` (unreadable), `n` (no run), `r` (a run), `e` (ended), `s` (ended by a stop), and absent
/// values are `-`.
fn line(name: &str, e: &Entry) -> String {
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let (state, run) = match &e.read {
        None => ("u", None),
        Some(None) => ("n", None),
        Some(Some(run)) => match (run.facts.ended, run.facts.stopped) {
            (true, true) => ("s", Some(run)),
            (true, false) => ("e", Some(run)),
            _ => ("r", Some(run)),
        },
    };
    let id = run.and_then(|r| r.facts.identity.as_ref());
    format!(
        "{name} {} {} {} {state} {} {} {} {} {}\n",
        e.ino,
        e.size,
        e.mtime_ns,
        dash(id.map(|i| i.pid.to_string())),
        dash(id.map(|i| i.start_ticks.to_string())),
        dash(id.map(|i| i.boot_id.clone())),
        dash(run.and_then(|r| r.exit_code).map(|c| c.to_string())),
        dash(run.and_then(|r| r.activity).map(|a| a.as_str().to_owned())),
    )
}

/// A line back; `None` for anything that is not exactly one (it is then read again).
fn parse(text: &str) -> Option<(String, Entry)> {
    let f: Vec<&str> = text.split(' ').collect();
    let [name, ino, size, mtime, state, pid, ticks, boot, code, activity] = f.as_slice() else {
        return None;
    };
    let opt = |v: &str| (v != "-").then(|| v.to_owned());
    let identity = match (opt(pid), opt(ticks), opt(boot)) {
        (Some(pid), Some(ticks), Some(boot_id)) => Some(Identity {
            pid: pid.parse().ok()?,
            start_ticks: ticks.parse().ok()?,
            boot_id,
        }),
        _ => None,
    };
    let run = |ended: bool, stopped: bool| -> Option<Run> {
        Some(Run {
            facts: RunFacts {
                ended,
                stopped,
                identity: identity.clone(),
            },
            exit_code: match opt(code) {
                Some(c) => Some(c.parse().ok()?),
                None => None,
            },
            activity: match *activity {
                "-" => None,
                "working" => Some(Activity::Working),
                "waiting" => Some(Activity::Waiting),
                "idle" => Some(Activity::Idle),
                _ => return None,
            },
        })
    };
    let read = match *state {
        "u" => None,
        "n" => Some(None),
        "r" => Some(Some(run(false, false)?)),
        "e" => Some(Some(run(true, false)?)),
        "s" => Some(Some(run(true, true)?)),
        _ => return None,
    };
    Some((
        (*name).to_owned(),
        Entry {
            ino: ino.parse().ok()?,
            size: size.parse().ok()?,
            mtime_ns: mtime.parse().ok()?,
            read,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_back_as_written() {
        let run = |ended, stopped, activity| Run {
            facts: RunFacts {
                ended,
                stopped,
                identity: Some(Identity {
                    pid: 42,
                    start_ticks: 9_000,
                    boot_id: "b-1".into(),
                }),
            },
            exit_code: ended.then_some(3),
            activity,
        };
        for read in [
            None,
            Some(None),
            Some(Some(run(false, false, Some(Activity::Waiting)))),
            Some(Some(run(true, false, None))),
            Some(Some(run(true, true, None))),
        ] {
            let e = Entry {
                ino: 7,
                size: 100,
                mtime_ns: 1_700_000_000_123_456_789,
                read: read.clone(),
            };
            let text = line("fix-login", &e);
            let (name, back) = parse(text.trim_end()).unwrap();
            assert_eq!(
                (name.as_str(), back.read, back.mtime_ns),
                ("fix-login", read, e.mtime_ns)
            );
        }
        assert!(parse("garbage").is_none());
    }
}
