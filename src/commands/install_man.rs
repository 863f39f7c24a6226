//! `git shard install-man`: put the man pages where `man` (and so `git help shard`) finds them.

use std::fs;
use std::path::PathBuf;

use crate::context::Context;
use crate::error::{Error, Result};

/// Install the man pages, so that `git help shard` and `man git-shard` open them.
///
/// Pages go to `<prefix>/share/man/man1`. The default prefix is the folder above the one holding
/// the git-shard binary (`~/.cargo` for `cargo install`), which man finds through PATH.
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
    eprintln!(
        "installed; `git help shard` opens the page (man finds {} through PATH)",
        dir.display()
    );
    Ok(())
}
