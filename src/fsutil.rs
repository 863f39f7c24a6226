//! File helpers shared by every module that writes state, and the private folder git-shard keeps
//! its own runtime files in.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A small file's bytes (git's HEAD, gitdir and ref files; records are read with limits of their
/// own): opened, read to its end, closed. `fs::read` also `stat`s it for a size hint, one system
/// call more for each of the files `list` reads for every worktree.
pub fn read_small(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = fs::File::open(path)?;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// [`read_small`] of a text file.
pub fn read_small_text(path: &Path) -> io::Result<String> {
    String::from_utf8(read_small(path)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Write `bytes` to `path` so that readers see either the old or the new content, never a mix:
/// a temporary file in the same folder (same filesystem, so the rename is atomic), fsynced so the
/// data is on disk before the name points at it, then renamed over `path`. A crash at any moment
/// leaves the old file or the new one, plus at worst a stray `.tmp-*` file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = written_beside(path, bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// [`write_atomic`] without the fsync, for caches: readers still see the old content or the new,
/// but a crash may lose the new one, which costs a cache nothing, and no `list` waits on a disk
/// for it.
pub fn replace_cache(path: &Path, bytes: &[u8]) -> io::Result<()> {
    written_beside(path, bytes)?.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// [`replace_cache`] for a cache whose reader takes a missing file as nothing kept (the prompt's
/// summary): readers see the old content, the new, or for a moment no file, never a mix.
///
/// The old file is removed before the new one is renamed into place: ext4 (`auto_da_alloc`, on by
/// default) starts writing a file's data out when it is renamed over another one, which measured
/// 150 µs more per write on a virtual disk (30 µs without), most of what a prompt costs after a
/// record changed.
pub fn rewrite_cache(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = written_beside(path, bytes)?;
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// `bytes` in a new temporary file (`.tmp-*`) in `path`'s folder, for renaming onto `path`.
fn written_beside(path: &Path, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    Ok(tmp)
}

/// FNV-1a (64 bits) of `bytes`: a hash that is the same in every version and on every machine
/// (std's is neither), for names and positions derived from data.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A folder only this user can enter, for what git-shard keeps for itself between runs (the
/// environment handoff's socket, the prompt's stamps and kept records): `$XDG_RUNTIME_DIR/git-shard`
/// (a tmpfs made for exactly this), else `<tmp>/git-shard-<uid>`. Refused unless it is a real
/// folder of this user that nobody else may enter. Made and checked once per process (the prompt
/// asks more than once).
pub fn private_dir() -> io::Result<PathBuf> {
    static FOUND: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    if let Some(dir) = FOUND.get() {
        return Ok(dir.clone());
    }
    let dir = make_private_dir()?;
    Ok(FOUND.get_or_init(|| dir).clone())
}

fn make_private_dir() -> io::Result<PathBuf> {
    let uid = rustix::process::geteuid().as_raw();
    let dir = match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(run) if run.is_absolute() && run.is_dir() => run.join("git-shard"),
        _ => std::env::temp_dir().join(format!("git-shard-{uid}")),
    };
    match fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} is not a private folder of this user", dir.display()),
        ));
    }
    Ok(dir)
}
