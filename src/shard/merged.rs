//! Which shards' branches are merged into their base (see `git::merged` for what merged means),
//! for `list` and `prune --merged`, fast enough for `list`.
//!
//! Invariants:
//! - An answer is about one exact pair of commits (the branch's tip, the base's tip): it is kept in
//!   `.git/shards/.merged-cache` under that pair and used only while both still point there, so
//!   a moved branch or base is asked again and never gets a stale answer.
//! - A branch still at the commit it started from has no work of its own, so it is not merged.
//! - All branch tips come from one read (`Repo::branch_tips`: the ref files, else git); a `list`
//!   of shards that did not move since the last one runs no git command at all.

use std::collections::BTreeMap;

use crate::context::Workspace;
use crate::git::GitError;

use super::Record;

const CACHE: &str = ".merged-cache";
/// The first line of the cache, naming the rules its answers were made by.
const CACHE_VERSION: &str = "# git-shard merged 2\n";

/// For each record whose branch exists: how its work is in its base (`None`: it is not).
pub fn of_all(ws: &Workspace, records: &[&Record]) -> Result<BTreeMap<String, Option<String>>, GitError> {
    let tips = ws.repo.branch_tips()?;
    let path = ws.store.dir().join(CACHE);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    // Answers of another version of this file's rules are not kept (one said whitespace-only
    // changes were merged).
    let body = text.strip_prefix(CACHE_VERSION).unwrap_or("");
    let mut cache: BTreeMap<(String, String), String> = body
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ' ');
            Some((
                (parts.next()?.to_owned(), parts.next()?.to_owned()),
                parts.next()?.to_owned(),
            ))
        })
        .collect();
    let before = cache.len();
    let mut out = BTreeMap::new();
    let mut wanted = std::collections::BTreeSet::new();
    for r in records {
        let Some((target, key)) = pair(r, &tips) else { continue };
        // A branch with no commit of its own has nothing merged: a fresh shard is not "merged",
        // and `prune --merged` must not take it (and the ignored files it may hold).
        if key.0 == r.base.commit {
            out.insert(r.name.clone(), None);
            continue;
        }
        wanted.insert(key.clone());
        let answer = match cache.get(&key) {
            Some(a) => a.clone(),
            None => {
                let a = ws
                    .repo
                    .merged_into(&key.0, &key.1)?
                    .map_or_else(|| "-".to_owned(), |m| m.describe(target));
                cache.insert(key, a.clone());
                a
            }
        };
        out.insert(r.name.clone(), (answer != "-").then_some(answer));
    }
    let other_rules = !text.is_empty() && !text.starts_with(CACHE_VERSION);
    if cache.len() != before || other_rules {
        // Only what is still asked about is kept: the file never grows past the shards' count.
        let text: String = std::iter::once(CACHE_VERSION.to_owned())
            .chain(
                cache
                    .iter()
                    .filter(|(k, _)| wanted.contains(*k))
                    .map(|((a, b), v)| format!("{a} {b} {v}\n")),
            )
            .collect();
        let _ = crate::fsutil::write_atomic(&path, text.as_bytes());
    }
    Ok(out)
}

/// The base's name and the (branch tip, base tip) pair a record's answer is about; `None` when
/// its branch or its base branch is gone.
fn pair<'r>(r: &'r Record, tips: &BTreeMap<String, String>) -> Option<(&'r str, (String, String))> {
    let tip = tips.get(&format!("refs/heads/{}", r.branch))?.clone();
    match r.base.refname.as_deref() {
        Some(name) if name.starts_with("refs/heads/") => {
            Some((name.trim_start_matches("refs/heads/"), (tip, tips.get(name)?.clone())))
        }
        _ => Some((r.base.commit.as_str(), (tip, r.base.commit.clone()))),
    }
}
