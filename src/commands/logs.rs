//! `git shard logs`: the output of a headless (`background`) run, and of terminal launchers.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::thread;
use std::time::Duration;

use crate::context::{Context, Workspace};
use crate::error::{Error, Result};
use crate::shard::{Record, RunStatus, ShardName};

/// Print the output of a shard's background run.
///
/// With `--follow`, keep printing new output until the run ends.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: String,
    /// Keep printing new output while the agent runs.
    #[arg(short, long)]
    pub follow: bool,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let (name, record) = ws.record(&args.name)?;
    print_log(&ws, &name, &record, args.follow)
}

/// Print a shard's log; with `follow`, keep printing until its run is no longer running.
pub fn print_log(ws: &Workspace, name: &ShardName, record: &Record, follow: bool) -> Result<()> {
    let path = ws.store.log_path(name.as_str());
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::refused(
                format!("shard '{name}' has no log"),
                format!(
                    "only background runs write one; this shard ran in terminal '{}': its output is there",
                    crate::output::clean(&record.terminal)
                ),
            ));
        }
        Err(e) => return Err(Error::failed(format!("cannot read {}: {e}", path.display()))),
    };
    let mut out = io::stdout().lock();
    let copy = |file: &mut File, out: &mut io::StdoutLock<'_>| -> io::Result<()> {
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        out.write_all(&buf)?;
        out.flush()
    };
    let fail = |e: io::Error| Error::failed(format!("cannot print {}: {e}", path.display()));
    copy(&mut file, &mut out).map_err(fail)?;
    if !follow {
        return Ok(());
    }
    loop {
        let running = ws
            .store
            .read(name)
            .map(|r| RunStatus::of(r.process.as_ref()) == RunStatus::Running)
            .unwrap_or(false);
        thread::sleep(Duration::from_millis(100));
        // A log truncated by hand: start again from its beginning.
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if file.stream_position().map(|p| p > len).unwrap_or(false) {
            file.seek(SeekFrom::Start(0)).map_err(fail)?;
        }
        copy(&mut file, &mut out).map_err(fail)?;
        if !running {
            return Ok(());
        }
    }
}
