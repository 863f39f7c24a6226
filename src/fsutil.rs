//! File helpers shared by every module that writes state.

use std::io::{self, Write};
use std::path::Path;

/// Write `bytes` to `path` so that readers see either the old or the new content, never a mix:
/// a temporary file in the same folder (same filesystem, so the rename is atomic), fsynced so the
/// data is on disk before the name points at it, then renamed over `path`. A crash at any moment
/// leaves the old file or the new one, plus at worst a stray `.tmp-*` file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
