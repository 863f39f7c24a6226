//! Whether a branch's work is in a target branch, however it got there: merged (an ancestor),
//! squash-merged (one commit on the target holds the branch's whole change), rebase-merged (each
//! of its commits has an equivalent on the target), or simply already there (the files the branch
//! changed are identical in the target).
//!
//! Invariants:
//! - "Merged" means nothing of the branch would be lost by deleting it: each answer is a proof by
//!   content (ancestry, identical files, or git's own patch ids), never by names or messages.
//! - Only plumbing (`diff-tree`, `rev-list`, `patch-id`) is read: the user's diff settings
//!   (prefixes, external tools, colours) cannot change an answer.
//! - Patch ids are taken `--verbatim`: by default git strips whitespace before hashing, so a
//!   commit that only re-indents (a real fix in Python or YAML) would match one that does not.
//!   A git without `--verbatim` (before 2.40; it implies `--stable`) gives no patch-id answer at all: not merged.
//! - The walk is capped: only target commits since the fork that touch the branch's files are
//!   looked at, at most [`CANDIDATES`] of them, so a target far ahead stays fast. A squash
//!   further back than that is reported as not merged (the safe answer).

use std::collections::{BTreeMap, BTreeSet};

use super::{GitError, Repo};

/// How many target commits (since the fork, touching the branch's files) are compared.
pub const CANDIDATES: usize = 200;

/// Up to this many changed files, the walk asks git only for target commits that touch them.
const PATHSPEC_MAX: usize = 500;

/// A path as a pathspec that means exactly that path, whatever bytes it holds.
fn literal(path: &[u8]) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStringExt;
    let mut spec = b":(literal)".to_vec();
    spec.extend_from_slice(path);
    std::ffi::OsString::from_vec(spec)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// The branch's tip is in the target's history.
    Ancestor,
    /// Every file the branch changed is identical in the target.
    SameContent,
    /// One target commit has the branch's whole change (a squash merge).
    Squashed { commit: String },
    /// Each of the branch's commits has an equivalent target commit (a rebase merge).
    Rebased,
}

impl Merged {
    /// How, for a message: "squash-merged into main as abc1234".
    pub fn describe(&self, target: &str) -> String {
        match self {
            Merged::Ancestor => format!("merged into {target}"),
            Merged::SameContent => format!("its changes are in {target}"),
            Merged::Squashed { commit } => format!("squash-merged into {target} as {}", super::short_id(commit)),
            Merged::Rebased => format!("rebase-merged into {target}"),
        }
    }
}

impl Repo {
    /// The commit `tip` forked from `target` at (their merge base); `None` without shared history.
    pub fn fork_point(&self, tip: &str, target: &str) -> Result<Option<String>, GitError> {
        Ok(self
            .repository()
            .args(["merge-base", tip, target])
            .ask()?
            .map(|id| id.trim().to_owned()))
    }

    /// Whether the work of `tip` is in `target` (both revisions); `None` when it is not, or when
    /// they share no history.
    pub fn merged_into(&self, tip: &str, target: &str) -> Result<Option<Merged>, GitError> {
        // One walk answers both: the fork point, and whether it is the tip itself (an ancestor).
        let Some(fork) = self.fork_point(tip, target)? else {
            return Ok(None);
        };
        let tip_id = match super::is_object_id(tip) {
            true => tip.to_owned(),
            false => self
                .repository()
                .args(["rev-parse", "--verify", "--quiet"])
                .arg(format!("{tip}^{{commit}}"))
                .read()?
                .trim()
                .to_owned(),
        };
        if fork == tip_id {
            return Ok(Some(Merged::Ancestor));
        }
        let files = self.changed_files(&fork, tip)?;
        // Commits that change nothing (empty ones, or a change and its revert) are kept: there is
        // no content to find in the target, only the commits themselves.
        if files.is_empty() {
            return Ok(None);
        }
        // Paths go to git as they are, bytes and all; a long list goes nowhere near a command
        // line (the walk then looks at every target commit since the fork, still capped).
        let mut candidates = self
            .repository()
            .args(["rev-list", "--no-merges"])
            .arg(format!("--max-count={CANDIDATES}"))
            .arg(format!("{fork}..{target}"));
        if files.len() <= PATHSPEC_MAX {
            candidates = candidates.arg("--").args(files.iter().map(|f| literal(f)));
        }
        let candidates = candidates.read()?;
        // Said by the commit that has it, when one does; else the content answers.
        if let Some(merged) = self.equivalent_commits(&fork, tip, &candidates)? {
            return Ok(Some(merged));
        }
        let differ = self.changed_files(tip, target)?;
        Ok(files.is_disjoint(&differ).then_some(Merged::SameContent))
    }

    /// The paths that differ between two commits, as git's bytes.
    fn changed_files(&self, from: &str, to: &str) -> Result<BTreeSet<Vec<u8>>, GitError> {
        let out = self
            .repository()
            .args(["diff-tree", "-r", "--no-renames", "--name-only", "-z", from, to])
            .read_bytes()?;
        Ok(out
            .split(|b| *b == 0)
            .filter(|f| !f.is_empty())
            .map(<[u8]>::to_vec)
            .collect())
    }

    /// A rebase (each commit of `fork..tip` has an equivalent among `candidates`) or a squash
    /// (one of them has the whole change from `fork` to `tip`), by git's patch ids.
    fn equivalent_commits(&self, fork: &str, tip: &str, candidates: &str) -> Result<Option<Merged>, GitError> {
        if candidates.trim().is_empty() {
            return Ok(None);
        }
        let ours = self
            .repository()
            .args(["rev-list", "--no-merges"])
            .arg(format!("{fork}..{tip}"))
            .read()?;
        // A git that cannot hash verbatim cannot prove anything here (see the module's invariants).
        let (Ok(theirs), Ok(ours)) = (self.patch_ids_of_commits(candidates), self.patch_ids_of_commits(&ours)) else {
            return Ok(None);
        };
        let known: BTreeSet<&String> = theirs.keys().collect();
        if !ours.is_empty() && ours.keys().all(|id| known.contains(id)) {
            // One commit found again is one target commit with the branch's whole change: said
            // as a squash, which names that commit.
            if let [id] = ours.keys().collect::<Vec<_>>().as_slice() {
                return Ok(Some(Merged::Squashed {
                    commit: theirs[*id].clone(),
                }));
            }
            return Ok(Some(Merged::Rebased));
        }
        let Ok(whole) = self.patch_id_of_diff(fork, tip) else {
            return Ok(None);
        };
        Ok(whole
            .and_then(|id| theirs.get(&id))
            .map(|commit| Merged::Squashed { commit: commit.clone() }))
    }

    /// git's stable, verbatim patch id of each commit in `ids` (one per line): patch id → commit.
    fn patch_ids_of_commits(&self, ids: &str) -> Result<BTreeMap<String, String>, GitError> {
        let patches = self
            .repository()
            .args(["diff-tree", "--stdin", "-p", "--no-renames"])
            .read_with_input(ids.as_bytes())?;
        let listed = self.patch_ids(&patches)?;
        Ok(String::from_utf8_lossy(&listed)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(patch, commit)| (patch.to_owned(), commit.to_owned()))
            .collect())
    }

    /// The stable, verbatim patch id of the change from `from` to `to`; `None` when there is none.
    fn patch_id_of_diff(&self, from: &str, to: &str) -> Result<Option<String>, GitError> {
        let diff = self
            .repository()
            .args(["diff-tree", "-p", "--no-renames", from, to])
            .read_bytes()?;
        let listed = self.patch_ids(&diff)?;
        Ok(String::from_utf8_lossy(&listed)
            .split_whitespace()
            .next()
            .map(str::to_owned))
    }

    /// `git patch-id --verbatim` of `patches` (stable too: `--verbatim` implies `--stable`).
    fn patch_ids(&self, patches: &[u8]) -> Result<Vec<u8>, GitError> {
        self.repository()
            .args(["patch-id", "--verbatim"])
            .read_with_input(patches)
    }
}
