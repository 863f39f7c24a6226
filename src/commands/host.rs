//! `git shard host add|list|check|rm`: the machines shards can run on (see `crate::host`).

use std::time::Instant;

use crate::config::{self, HostSpec};
use crate::context::{Context, Workspace};
use crate::error::{Error, Result};
use crate::git::cmd::Git;
use crate::host::{self, Host, Unreachable};
use crate::output::{Cell, Paint, age, table};

/// Machines that run shards over SSH: `git shard new <name> --host <host> …`.
///
/// A host is a destination as `ssh` takes it (your `~/.ssh/config` applies) and the path of a
/// clone of this repository there, which needs git-shard of the same host protocol on its PATH
/// (or named with --git-shard). Hosts are kept in the repository's local configuration, never in
/// the committed `.git-shard.toml`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Add a host after checking it (connection, git-shard there, the clone). A host already
    /// configured is changed, unless this repository has shards there.
    Add(AddArgs),
    /// List the configured hosts and what the last `list` heard from each.
    #[command(visible_alias = "ls")]
    List,
    /// Check a host: the connection, its git-shard's version, and that its clone is of this
    /// repository.
    Check(NameArg),
    /// Forget a host, refused while this repository has shards there (nothing there is touched).
    Rm(NameArg),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Name for the host (what --host takes).
    pub name: String,
    /// Destination as `ssh` takes it: `devbox`, `me@10.0.0.5`.
    #[arg(long, value_name = "DESTINATION")]
    pub ssh: String,
    /// The clone of this repository there: an absolute path, or `~/…`.
    #[arg(long, value_name = "PATH")]
    pub repo: String,
    /// The git-shard binary there, when it is not on the PATH of a non-interactive ssh session.
    #[arg(long, value_name = "PATH")]
    pub git_shard: Option<String>,
    /// Add it without checking (for a host that is down right now).
    #[arg(long)]
    pub no_check: bool,
}

#[derive(Debug, clap::Args)]
pub struct NameArg {
    /// Name of the host.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::host_names))]
    pub name: String,
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    match &args.action {
        Action::Add(a) => add(&ws, a),
        Action::List => list(&ws),
        Action::Check(a) => {
            let host = Host::lookup(&ws.config, &a.name)?;
            check(&ws, &host)
        }
        Action::Rm(a) => remove(&ws, &a.name),
    }
}

fn add(ws: &Workspace, args: &AddArgs) -> Result<()> {
    let spec = HostSpec {
        ssh: args.ssh.clone(),
        repo: args.repo.clone(),
        git_shard: args.git_shard.clone(),
    };
    host::check_spec(&args.name, &spec).map_err(|m| Error::refused(m, "see `git shard host add --help`"))?;
    host::refuse_remote_namesake(ws, &args.name)?;
    let common = ws.repo.common_dir();
    let before = ws.config.hosts.get(&args.name).filter(|old| **old != spec);
    if before.is_some() {
        // Its shards' commands would go to the other machine, which may have shards of those
        // names of its own.
        let living = living_on(&common, &args.name);
        if !living.is_empty() {
            return Err(Error::refused(
                format!(
                    "host '{}' is configured otherwise, and shards live on it: {}",
                    args.name,
                    living.join(", ")
                ),
                "remove them first (`git shard rm <name>`), or add the other machine under another name",
            ));
        }
    }
    let host = Host {
        name: args.name.clone(),
        spec: spec.clone(),
    };
    if !args.no_check {
        check(ws, &host).map_err(|e| match e {
            // Not `host check <name>`, which the hint of an unreachable host names: it is not
            // configured yet.
            Error::Refused { message, hint } => Error::Refused {
                message: format!("host '{}' not added: {message}", args.name),
                hint: Some(match hint {
                    Some(h) if !h.contains("git shard host check") => {
                        format!("{h}; or add it anyway with --no-check")
                    }
                    _ => format!(
                        "check that `ssh {} true` works without asking for a password, then add it again; \
                         or add it anyway with --no-check",
                        args.ssh
                    ),
                }),
            },
            other => other,
        })?;
    }
    let written = config::set_local_host(&common, &args.name, Some(&spec))?;
    match (written, before) {
        (config::SetLocal::Written(path), Some(old)) => {
            // What was heard from the other machine is not this one's.
            host::forget_cache(&common, &args.name);
            println!(
                "host '{}' changed in {} (it was ssh {}, repo {})",
                args.name,
                path.display(),
                old.ssh,
                old.repo
            )
        }
        (config::SetLocal::Written(path), None) => println!("host '{}' added to {}", args.name, path.display()),
        (config::SetLocal::Unchanged(_), _) => println!("host '{}' was already configured so", args.name),
    }
    Ok(())
}

fn list(ws: &Workspace) -> Result<()> {
    if ws.config.hosts.is_empty() {
        eprintln!("no hosts yet; add one with `git shard host add <name> --ssh <destination> --repo <path>`");
        return Ok(());
    }
    let common = ws.repo.common_dir();
    let paint = Paint::for_stdout();
    let rows = ws
        .config
        .hosts
        .iter()
        .map(|(name, spec)| {
            let heard = match host::cached(&common, name, false) {
                Some(c) => format!(
                    "{} shard{}, {} ago",
                    c.shards.len(),
                    if c.shards.len() == 1 { "" } else { "s" },
                    age(c.at)
                ),
                None => "-".into(),
            };
            vec![
                Cell::painted(name, |t| paint.bold(t)),
                Cell::plain(&spec.ssh),
                Cell::plain(&spec.repo),
                Cell::plain(heard),
            ]
        })
        .collect();
    print!("{}", table(&["HOST", "SSH", "REPO", "LAST LIST"], rows, paint));
    Ok(())
}

/// One round trip: the remote git-shard's version line, then the root commits of the clone's
/// HEAD, which must share one with ours (a clone of this repository, not another project).
fn check(ws: &Workspace, host: &Host) -> Result<()> {
    let started = Instant::now();
    let body = "v=$(\"$gs\" --version) || exit 98\necho \"$v\"\ngit rev-list --max-parents=0 HEAD || exit 96";
    let out = match host.run(body, Some(host::LIST_TIMEOUT))? {
        Ok(out) => out,
        Err(Unreachable(why)) => return Err(host.unreachable("check", &why)),
    };
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {}
        Some(98) => {
            return Err(Error::refused(
                format!(
                    "on host '{}': git-shard cannot be run as {:?}: {}",
                    host.name,
                    host.spec.git_shard.as_deref().unwrap_or("git-shard"),
                    crate::output::clean(stderr.trim())
                ),
                "install git-shard there (README, \"Install\"), or name the binary with `--git-shard <path>` \
                 (a non-interactive ssh session may not have ~/.cargo/bin on its PATH)",
            ));
        }
        _ => {
            return Err(Error::refused(
                format!(
                    "on host '{}': {} is not a git repository with commits: {}",
                    host.name,
                    host.spec.repo,
                    crate::output::clean(stderr.trim())
                ),
                format!(
                    "clone this repository there first (`ssh {} git clone <url> {}`)",
                    host.spec.ssh, host.spec.repo
                ),
            ));
        }
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let version = lines.next().unwrap_or_default();
    let release = host::check_version(version).map_err(|why| {
        Error::refused(
            format!("on host '{}': {why}", host.name),
            "install the same git-shard release on both machines",
        )
    })?;
    let theirs: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
    let ours = Git::on_repository(&ws.repo.common_dir())
        .args(["rev-list", "--max-parents=0", "HEAD"])
        .read()?;
    if !ours.lines().any(|root| theirs.contains(&root.trim())) {
        return Err(Error::refused(
            format!(
                "on host '{}': {} is not a clone of this repository (no first commit in common)",
                host.name, host.spec.repo
            ),
            "point --repo at a clone of this repository",
        ));
    }
    println!("host '{}': ok ({} ms)", host.name, took.as_millis());
    println!("  ssh        {}", host.spec.ssh);
    println!("  git-shard  {}", crate::output::clean(&release));
    println!("  repo       {}, a clone of this repository", host.spec.repo);
    Ok(())
}

/// The shards this repository made on host `name`, by their pointers.
fn living_on(common: &std::path::Path, name: &str) -> Vec<String> {
    host::pointers(common)
        .into_iter()
        .filter(|p| p.host == name)
        .map(|p| p.name)
        .collect()
}

fn remove(ws: &Workspace, name: &str) -> Result<()> {
    Host::lookup(&ws.config, name)?;
    let common = ws.repo.common_dir();
    let living = living_on(&common, name);
    if !living.is_empty() {
        return Err(Error::refused(
            format!("shards live on host '{name}': {}", living.join(", ")),
            "remove them first (`git shard rm <name>`): without the host, git-shard could not reach them",
        ));
    }
    match config::set_local_host(&common, name, None)? {
        config::SetLocal::Written(path) => println!("host '{name}' removed from {}", path.display()),
        config::SetLocal::Unchanged(_) => {
            // Hosts come from the local file or your own (a committed one is refused): it is
            // yours, which git-shard does not edit.
            let own = ws
                .config
                .files
                .iter()
                .find(|f| f.layer == config::Layer::User && f.exists);
            return Err(Error::refused(
                format!("host '{name}' is not in this repository's local configuration"),
                match own {
                    Some(f) => format!(
                        "it comes from your own configuration, {}: remove its [hosts.{name}] table there",
                        f.path.display()
                    ),
                    None => "`git shard config --path` lists the files that define it".into(),
                },
            ));
        }
    }
    host::forget_cache(&common, name);
    Ok(())
}
