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

use serde::{Deserialize, Serialize};

use super::record::ProcessRecord;
use super::store::Store;

/// One record as the summary sees it: `None` when it cannot be read.
pub type Glanced = (String, Option<Option<ProcessRecord>>);

#[derive(Serialize, Deserialize)]
struct Entry {
    /// The record file this was read from.
    ino: u64,
    size: u64,
    mtime_ns: i128,
    /// Whether it could be read, and its run as far as the summary needs it.
    readable: bool,
    process: Option<ProcessRecord>,
}

/// Every record of `store`, by name, with the part of its run the summary needs.
pub fn all(store: &Store) -> Option<Vec<Glanced>> {
    // Named after the store's folder (FNV-1a: stable, no dependency), in a folder only we enter.
    let key = store
        .dir()
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    let dir = crate::process::handoff::private_dir().ok()?;
    let path = dir.join(format!("glance-{key:016x}"));
    let mut cache: BTreeMap<String, Entry> = std::fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
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
        let fresh = cache
            .get(name)
            .is_some_and(|e| (e.ino, e.size, e.mtime_ns) == (ino, size, mtime_ns));
        if !fresh {
            let read = crate::shard::ShardName::parse(name)
                .ok()
                .and_then(|n| store.read(&n).ok());
            let entry = Entry {
                ino,
                size,
                mtime_ns,
                readable: read.is_some(),
                process: read.and_then(|r| r.process).map(|p| slim(&p)),
            };
            cache.insert(name.clone(), entry);
            changed = true;
        }
        let entry = &cache[name];
        out.push((name.clone(), entry.readable.then(|| entry.process.clone())));
    }
    if changed || cache.len() != names.len() {
        cache.retain(|name, _| names.binary_search(name).is_ok());
        // Whole or not at all (renamed into place), but not synced: after a crash the worst
        // is a missing file, rebuilt by the next prompt.
        if let Ok(text) = serde_json::to_vec(&cache)
            && let Ok(mut tmp) = tempfile::Builder::new().prefix(".tmp-").tempfile_in(&dir)
            && std::io::Write::write_all(&mut tmp, &text).is_ok()
        {
            let _ = tmp.persist(&path);
        }
    }
    Some(out)
}

/// The fields of a run that its status and activity depend on (see `RunStatus::of`,
/// `activity::shown`), and nothing else.
fn slim(p: &ProcessRecord) -> ProcessRecord {
    ProcessRecord {
        pid: p.pid,
        start_ticks: p.start_ticks,
        boot_id: p.boot_id.clone(),
        ended_at: p.ended_at,
        ended_by: p.ended_by,
        exit_code: p.exit_code,
        signal: p.signal,
        stop_requested_at: p.stop_requested_at,
        activity: p.activity,
        launched_at: p.launched_at,
        ..ProcessRecord::default()
    }
}
