//! `git shard install-man`: put the man pages where `man` (and so `git help shard`) finds them.

use std::fs;
use std::path::{Path, PathBuf};

use crate::context::Context;
use crate::error::{Error, Result};

/// Install the man pages, so that `git help shard` and `man git-shard` open them.
///
/// Pages go to `<prefix>/share/man/man1`. The default prefix is the folder above the one holding
/// the git-shard binary (`~/.cargo` for `cargo install`), which man finds through PATH. Says so
/// when man will not find the pages where they went.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Install under this prefix instead (e.g. ~/.local or /usr/local).
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
}

pub fn run(_ctx: &Context, args: &Args) -> Result<()> {
    let prefix = match &args.prefix {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent()?.parent().map(PathBuf::from))
            .ok_or_else(|| Error::refused("cannot tell where git-shard is installed", "pass --prefix <dir>"))?,
    };
    let dir = prefix.join("share/man/man1");
    fs::create_dir_all(&dir).map_err(|e| Error::failed(format!("cannot create {}: {e}", dir.display())))?;
    for (file, page) in crate::cli::man_pages() {
        let path = dir.join(&file);
        fs::write(&path, page).map_err(|e| Error::failed(format!("cannot write {}: {e}", path.display())))?;
        println!("{}", path.display());
    }
    let man_root = prefix.join("share/man");
    if man_will_look_in(&prefix, &man_root) {
        eprintln!("installed; `git help shard` and `man git-shard` open the page");
    } else {
        eprintln!(
            "installed, but man does not look in {} here\n\
             hint: add {} to PATH (man searches <dir>/../share/man of each PATH entry), \
             or {} to MANPATH",
            man_root.display(),
            prefix.join("bin").display(),
            man_root.display()
        );
    }
    Ok(())
}

/// Whether man-db will search `man_root` (`<prefix>/share/man`): through MANPATH when it is set
/// (an empty element stands for the default search), else through PATH, where each `<dir>` adds
/// `<dir>/../share/man`.
fn man_will_look_in(prefix: &Path, man_root: &Path) -> bool {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let through_path = || {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.parent().is_some_and(|parent| same(parent, prefix))))
    };
    match std::env::var_os("MANPATH") {
        Some(m) if !m.is_empty() => {
            let m = m.to_string_lossy().into_owned();
            m.split(':').any(|d| !d.is_empty() && same(Path::new(d), man_root))
                || (m.split(':').any(str::is_empty) && through_path())
        }
        _ => through_path(),
    }
}
