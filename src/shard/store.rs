//! The record store: `<git-common-dir>/shards/`.
//!
//! Files: `<name>.toml` (record), `<name>.lock` (per-shard lock), `<name>.log` (output of headless
//! runs), `.store.lock` (store-wide lock), `.ports.lock` (around choosing ports),
//! `.worktrees.lock` (around git's worktree mutations),
//! `config.toml` (repository-local configuration; the name `config` is therefore reserved),
//! `.config.lock` (around edits of `config.toml`),
//! `.agents/` (files git-shard writes for agents to load, e.g. opencode's plugin), `.merged-cache`
//! (see `shard::merged`).
//!
//! Invariants:
//! - A reader never sees half a record: every write goes to a temporary file in the same folder,
//!   is fsynced, then renamed over the record (rename is atomic within a filesystem).
//! - Every read-modify-write of a record happens under its per-shard lock (`flock`, released by the
//!   kernel when the process dies, so a crash never leaves a stale lock behind).
//! - Commands that create or remove shards hold the store lock shared; `prune`, which judges the
//!   whole folder, holds it exclusive, so it never sees a shard half-created.
//! - A record that cannot be parsed, or that a newer version wrote, is never overwritten.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, flock};

use super::name::ShardName;
use super::record::{Record, RecordError};

pub struct Store {
    dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no shard named '{0}'")]
    NotFound(String),
    #[error("a shard named '{0}' already exists")]
    Exists(String),
    /// The cause is part of the message (not a `source`), so that one line says it all.
    #[error("the record of shard '{name}' ({path}) {reason}")]
    Unreadable {
        name: String,
        path: PathBuf,
        reason: RecordError,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Io { context, source }
}

/// An advisory lock held until dropped (the kernel drops it with the process, too).
#[must_use]
pub struct Lock {
    _file: File,
}

/// One entry of [`Store::list`]: the name and the record, or why it could not be read.
pub type Listed = (String, Result<Record, StoreError>);

impl Store {
    pub fn new(common_dir: &Path) -> Store {
        Store {
            dir: common_dir.join("shards"),
        }
    }

    /// Files git-shard writes for agents to load (see `agent::hooks`); no shard's name.
    pub fn agents_dir(&self) -> PathBuf {
        self.dir.join(".agents")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn record_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.toml"))
    }

    pub fn log_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    fn ensure_dir(&self) -> Result<(), StoreError> {
        fs::create_dir_all(&self.dir).map_err(io_err(format!("cannot create {}", self.dir.display())))
    }

    fn lock_file(&self, file: &str, op: FlockOperation) -> Result<Lock, StoreError> {
        Ok(self.lock_file_until(file, op, None)?.expect("waits without a deadline"))
    }

    /// [`Store::lock_file`], giving up at `deadline` (`Ok(None)`): tried without blocking until
    /// then. `op` is a blocking operation.
    fn lock_file_until(
        &self,
        file: &str,
        op: FlockOperation,
        deadline: Option<std::time::Instant>,
    ) -> Result<Option<Lock>, StoreError> {
        self.ensure_dir()?;
        let path = self.dir.join(file);
        let attempt = match (op, deadline) {
            (FlockOperation::LockExclusive, Some(_)) => FlockOperation::NonBlockingLockExclusive,
            (FlockOperation::LockShared, Some(_)) => FlockOperation::NonBlockingLockShared,
            (op, _) => op,
        };
        loop {
            let f = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(io_err(format!("cannot open lock file {}", path.display())))?;
            loop {
                match flock(&f, attempt) {
                    Ok(()) => break,
                    Err(rustix::io::Errno::WOULDBLOCK) if deadline.is_some_and(|d| std::time::Instant::now() < d) => {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                    Err(rustix::io::Errno::WOULDBLOCK) => return Ok(None),
                    Err(e) => {
                        return Err(StoreError::Io {
                            context: format!("cannot lock {}", path.display()),
                            source: e.into(),
                        });
                    }
                }
            }
            // `remove` unlinks lock files. Whoever waited on the unlinked inode holds a lock nobody
            // else will ever see, so it must lock the file that is at the path now.
            if same_file(&f, &path) {
                return Ok(Some(Lock { _file: f }));
            }
        }
    }

    /// Exclusive lock of one shard, for every read-modify-write of its record.
    pub fn lock_shard(&self, name: &ShardName) -> Result<Lock, StoreError> {
        self.lock_file(&format!("{name}.lock"), FlockOperation::LockExclusive)
    }

    /// Held while the repository's local configuration is read, changed and written again (see
    /// `config::set_local`): two edits at once would each write what they read.
    pub fn lock_config(&self) -> Result<Lock, StoreError> {
        self.lock_file(".config.lock", FlockOperation::LockExclusive)
    }

    /// Held while a shard's ports are chosen (see `shard::ports`).
    pub fn lock_ports(&self) -> Result<Lock, StoreError> {
        self.lock_file(".ports.lock", FlockOperation::LockExclusive)
    }

    /// Shared store lock: held by commands that create or remove one shard.
    pub fn lock_store_shared(&self) -> Result<Lock, StoreError> {
        self.lock_file(".store.lock", FlockOperation::LockShared)
    }

    /// Exclusive store lock: held by `prune` while it judges the whole folder.
    pub fn lock_store_exclusive(&self) -> Result<Lock, StoreError> {
        self.lock_file(".store.lock", FlockOperation::LockExclusive)
    }

    /// Exclusive lock around every `git worktree add`, `remove` and `prune` git-shard runs: git does
    /// not make these safe against each other (a `git worktree add` that lists the entries while
    /// another add is writing its own dies with "failed to read …/commondir"; a prune can delete an
    /// entry an add has just claimed). The innermost lock: nothing else is taken while it is held.
    ///
    /// Waited for at most two minutes: git runs the `post-checkout` hook while `git worktree add`
    /// holds it, and a hook that calls `git shard new` would otherwise wait forever.
    pub fn lock_worktrees(&self) -> Result<Lock, StoreError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        self.lock_file_until(".worktrees.lock", FlockOperation::LockExclusive, Some(deadline))?
            .ok_or_else(|| StoreError::Io {
                context: "another git-shard has been adding or removing a worktree of this repository for \
                          two minutes (a git hook that runs `git shard new` or `rm` cannot work)"
                    .into(),
                source: io::ErrorKind::WouldBlock.into(),
            })
    }

    pub fn exists(&self, name: &ShardName) -> bool {
        self.record_path(name.as_str()).exists()
    }

    pub fn read(&self, name: &ShardName) -> Result<Record, StoreError> {
        self.read_raw(name.as_str())
    }

    fn read_raw(&self, name: &str) -> Result<Record, StoreError> {
        let path = self.record_path(name);
        let unreadable = |reason| StoreError::Unreadable {
            name: name.to_owned(),
            path: path.clone(),
            reason,
        };
        let text = match read_bounded(&path) {
            Ok(Ok(t)) => t,
            Ok(Err(reason)) => return Err(unreadable(reason)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(name.to_owned()));
            }
            Err(e) => return Err(io_err(format!("cannot read {}", path.display()))(e)),
        };
        Record::from_toml(&text).map_err(unreadable)
    }

    /// Every record, sorted by name. Files that are not records are skipped; records that cannot
    /// be read are returned as errors so that callers report them by name.
    pub fn list(&self) -> Result<Vec<Listed>, StoreError> {
        Ok(self
            .names()?
            .into_iter()
            .map(|n| {
                let r = self.read_raw(&n);
                (n, r)
            })
            .collect())
    }

    /// Names of every record, sorted, from the folder listing alone (nothing is parsed): what
    /// completion needs at every TAB.
    pub fn names(&self) -> Result<Vec<String>, StoreError> {
        let mut names: Vec<String> = self.records_listed()?.map(|(name, _)| name).collect();
        names.sort();
        Ok(names)
    }

    /// Every record's name with its file's metadata (the file itself: a symlink is not followed),
    /// sorted by name: one listing of the folder, each file `stat`ed relative to it. A record
    /// removed since the listing is left out.
    pub fn records_stat(&self) -> Result<Vec<(String, fs::Metadata)>, StoreError> {
        let mut records: Vec<_> = self
            .records_listed()?
            .filter_map(|(name, entry)| Some((name, entry.metadata().ok()?)))
            .collect();
        records.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(records)
    }

    /// The folder's records, unsorted, by name. Only files that could have been written by us
    /// count: this skips `config.toml` and leftovers of interrupted atomic writes.
    fn records_listed(&self) -> Result<impl Iterator<Item = (String, fs::DirEntry)>, StoreError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => Some(e),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(format!("cannot read {}", self.dir.display()))(e)),
        };
        Ok(entries.into_iter().flatten().filter_map(|e| {
            let e = e.ok()?;
            let file = e.file_name().into_string().ok()?;
            let stem = file.strip_suffix(".toml")?;
            ShardName::parse(stem).ok()?;
            Some((stem.to_owned(), e))
        }))
    }

    /// The shard whose worktree is git's worktree `id` at `path`. The record named like the id is
    /// tried first (`new` names worktrees after shards), so the usual case reads one file.
    pub fn find_by_worktree(&self, id: &str, path: &Path) -> Option<Record> {
        let matches = |r: &Record| r.worktree_id == id && r.worktree == path;
        if let Ok(name) = ShardName::parse(id)
            && let Ok(r) = self.read(&name)
            && matches(&r)
        {
            return Some(r);
        }
        self.list().ok()?.into_iter().filter_map(|(_, r)| r.ok()).find(matches)
    }

    /// Write a new record; fails if one exists. Caller holds the shard lock.
    pub fn create(&self, record: &Record) -> Result<(), StoreError> {
        if self.record_path(&record.name).exists() {
            return Err(StoreError::Exists(record.name.clone()));
        }
        self.write(record)
    }

    /// Replace a record. Caller holds the shard lock and read the record under it, so a record that
    /// could not be parsed or is newer never reaches here.
    pub fn write(&self, record: &Record) -> Result<(), StoreError> {
        self.ensure_dir()?;
        write_atomic(&self.record_path(&record.name), record.to_toml().as_bytes())
    }

    /// [`Store::update`] if the shard's lock comes within `wait`; `Ok(None)` if not (an agent's
    /// hook must not wait on an `rm` the user paused).
    pub fn update_within(
        &self,
        name: &ShardName,
        wait: std::time::Duration,
        change: impl FnOnce(&mut Record) -> Result<(), StoreError>,
    ) -> Result<Option<Record>, StoreError> {
        let deadline = std::time::Instant::now() + wait;
        let Some(_lock) =
            self.lock_file_until(&format!("{name}.lock"), FlockOperation::LockExclusive, Some(deadline))?
        else {
            return Ok(None);
        };
        let mut record = self.read(name)?;
        change(&mut record)?;
        self.write(&record)?;
        Ok(Some(record))
    }

    /// Read, change and write a record under its lock. Returns the record as written.
    pub fn update(
        &self,
        name: &ShardName,
        change: impl FnOnce(&mut Record) -> Result<(), StoreError>,
    ) -> Result<Record, StoreError> {
        let _lock = self.lock_shard(name)?;
        let mut record = self.read(name)?;
        change(&mut record)?;
        self.write(&record)?;
        Ok(record)
    }

    /// Forget a shard: its record, lock file and log. Caller holds the shard lock.
    pub fn remove(&self, name: &ShardName) -> Result<(), StoreError> {
        let path = self.record_path(name.as_str());
        fs::remove_file(&path)
            .or_else(ignore_missing)
            .map_err(io_err(format!("cannot remove {}", path.display())))?;
        for extra in [self.log_path(name.as_str()), self.dir.join(format!("{name}.lock"))] {
            // Unlinking a held lock is safe: `lock_file` re-checks the inode after locking.
            fs::remove_file(&extra)
                .or_else(ignore_missing)
                .map_err(io_err(format!("cannot remove {}", extra.display())))?;
        }
        Ok(())
    }
}

/// Records are about a kilobyte; a file far larger is not one.
pub const MAX_RECORD: u64 = 1 << 20;

/// Read a record file the way the prompt can afford at every prompt, whatever was put in its
/// place: not through a symlink (`/dev/zero`), without waiting on a FIFO that nobody writes, only
/// a regular file, and at most [`MAX_RECORD`] bytes.
fn read_bounded(path: &Path) -> io::Result<Result<String, RecordError>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(Err(RecordError::NotAFile)),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(Err(RecordError::NotAFile));
    }
    if meta.len() > MAX_RECORD {
        return Ok(Err(RecordError::TooLarge { size: meta.len() }));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_RECORD + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_RECORD {
        return Ok(Err(RecordError::TooLarge {
            size: bytes.len() as u64,
        }));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Ok(text)),
        Err(_) => Ok(Err(RecordError::Parse("not UTF-8 text".into()))),
    }
}

fn same_file(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

fn ignore_missing(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}

/// [`crate::fsutil::write_atomic`] with the store's error.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    crate::fsutil::write_atomic(path, bytes).map_err(io_err(format!("cannot write {}", path.display())))
}
