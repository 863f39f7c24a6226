//! `git shard pr`: push a shard's branch and open a pull request with the forge's own CLI (`gh`,
//! `glab`), which holds the user's login; git-shard handles no token of its own.

use std::process::Command;

use crate::context::{Context, Workspace};
use crate::error::{Error, Result};

/// Push a shard's branch and open a pull request for it with `gh` (or a merge request with
/// `glab`), into its base branch or `--into`.
///
/// Arguments after `--` go to `gh pr create` / `glab mr create` (`-- --draft`, `-- --web`). A
/// shard on a host (`new --host`) has its branch fetched first (as `fetch` does), then pushed
/// from here.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the shard.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::shard_names))]
    pub name: String,
    /// Open it against this branch instead of the shard's base.
    #[arg(long, value_name = "BRANCH", add = clap_complete::ArgValueCandidates::new(crate::cli::branch_names))]
    pub into: Option<String>,
    /// The remote to push to (default: `remote.pushDefault`, else `origin`).
    #[arg(long)]
    pub remote: Option<String>,
    /// Arguments for `gh pr create` or `glab mr create`.
    #[arg(last = true, value_name = "FORGE ARGS")]
    pub forge_args: Vec<String>,
}

/// The forge CLIs git-shard knows, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forge {
    GitHub,
    GitLab,
}

impl Forge {
    fn program(self) -> &'static str {
        match self {
            Forge::GitHub => "gh",
            Forge::GitLab => "glab",
        }
    }

    /// The forge for `url` when its CLI is installed: GitLab for a gitlab URL (when `glab` is
    /// there), else GitHub (when `gh` is), else `glab`.
    pub fn find(url: &str) -> Option<Forge> {
        let have = |f: Forge| crate::agent::find_program(f.program()).is_some();
        if url.contains("gitlab") && have(Forge::GitLab) {
            return Some(Forge::GitLab);
        }
        [Forge::GitHub, Forge::GitLab].into_iter().find(|f| have(*f))
    }

    /// Branches whose pull request was merged on the forge, with the commit the request had:
    /// `None` when the CLI does not answer (no login, no network, not a forge repository).
    pub fn merged_heads(self) -> Option<Vec<(String, String)>> {
        let out = match self {
            Forge::GitHub => Command::new("gh")
                .args([
                    "pr",
                    "list",
                    "--state",
                    "merged",
                    "--limit",
                    "200",
                    "--json",
                    "headRefName,headRefOid",
                ])
                .output(),
            Forge::GitLab => Command::new("glab")
                .args(["mr", "list", "--merged", "--per-page", "100", "--output", "json"])
                .output(),
        }
        .ok()
        .filter(|o| o.status.success())?;
        let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).ok()?;
        let (branch, oid) = match self {
            Forge::GitHub => ("headRefName", "headRefOid"),
            Forge::GitLab => ("source_branch", "sha"),
        };
        Some(
            list.iter()
                .filter_map(|pr| Some((pr.get(branch)?.as_str()?.to_owned(), pr.get(oid)?.as_str()?.to_owned())))
                .collect(),
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Forge::GitHub => "GitHub",
            Forge::GitLab => "GitLab",
        }
    }
}

/// The remote to push to and its URL.
pub fn remote_of(ws: &Workspace, asked: Option<&str>) -> Result<(String, String)> {
    let git = |args: &[&str]| ws.repo.repository().args(args).ask();
    let remote = match asked {
        Some(r) => r.to_owned(),
        None => git(&["config", "remote.pushDefault"])?
            .map(|r| r.trim().to_owned())
            .unwrap_or_else(|| "origin".to_owned()),
    };
    let url = git(&["remote", "get-url", "--push", &remote])
        .ok()
        .flatten()
        .ok_or_else(|| {
            Error::refused(
                format!("this repository has no remote '{}'", crate::output::clean(&remote)),
                "add one (`git remote add origin <url>`) or name yours with `--remote <name>`",
            )
        })?;
    Ok((remote, url.trim().to_owned()))
}

pub fn run(ctx: &Context, args: &Args) -> Result<()> {
    let ws = ctx.workspace()?;
    let on_host = super::merge::on_host(&ws, &args.name);
    let (name, branch, target) = match &on_host {
        Some((name, host)) => {
            let remote = super::merge::RemoteShard::ask(host, &ws.repo.common_dir(), name)?;
            // Named by the host: it goes into a refspec, so it must be a branch name.
            ws.repo.check_branch_name(&remote.branch)?;
            super::merge::refuse_another_branch(&ws, host, name, &remote.branch)?;
            let (target, _) =
                super::merge::target_for(&ws, name.as_str(), remote.base_ref.as_deref(), args.into.as_deref())?;
            (name.clone(), remote.branch, target)
        }
        None => {
            let (name, record) = ws.record(&args.name)?;
            let (target, _) = super::merge::target_of(&ws, &record, args.into.as_deref())?;
            (name, record.branch, target)
        }
    };
    let (remote, url) = remote_of(&ws, args.remote.as_deref())?;
    let Some(forge) = Forge::find(&url) else {
        return Err(Error::refused(
            "neither `gh` nor `glab` is installed, so git-shard cannot open a pull request",
            format!(
                "install GitHub's `gh` (https://cli.github.com) or GitLab's `glab`, or push and open it on your \
                 forge yourself: `git push -u {remote} {}`",
                branch
            ),
        ));
    };
    // On a host: its branch fetched (see `fetch`) once nothing else can refuse, pushed from here.
    if let Some((name, host)) = &on_host {
        let fetched = super::fetch::fetch_branch(&ws, host, name, branch.clone())?;
        if !fetched.current {
            return Err(Error::refused(
                format!(
                    "the branch of shard '{name}' (on host '{}') was fetched, but {}; nothing was pushed",
                    host.name, fetched.outcome
                ),
                "bring the local branch to the host's tip, or push it with git yourself",
            ));
        }
    }
    if ws.repo.branch_tip(&branch)?.is_none() {
        return Err(Error::refused(
            format!("the branch '{}' of shard '{name}' is gone", branch),
            "there is nothing to push",
        ));
    }
    // Pushed by git itself: the user's credentials, hooks (pre-push) and push settings apply.
    // Where the user called us from, as their own `git push` and `gh` would run.
    let pushed = Command::new("git")
        .args(["push", "--set-upstream", &remote])
        .arg(format!("refs/heads/{0}:refs/heads/{0}", branch))
        .status()
        .map_err(|e| Error::failed(format!("cannot run `git push`: {e}")))?;
    if !pushed.success() {
        return Err(Error::refused(
            format!("`git push` of '{}' to {remote} failed ({pushed})", branch),
            "its message is above; fix that and run `git shard pr` again",
        ));
    }
    let mut cli = Command::new(forge.program());
    match forge {
        Forge::GitHub => cli.args(["pr", "create", "--head", &branch, "--base", &target, "--fill"]),
        Forge::GitLab => cli.args([
            "mr",
            "create",
            "--source-branch",
            &branch,
            "--target-branch",
            &target,
            "--fill",
            "--yes",
        ]),
    };
    cli.args(&args.forge_args);
    let status = cli
        .status()
        .map_err(|e| Error::failed(format!("cannot run `{}`: {e}", forge.program())))?;
    if !status.success() {
        return Err(Error::refused(
            format!(
                "`{}` could not open the request ({status}); the branch is pushed",
                forge.program()
            ),
            format!(
                "its message is above (`{} auth login` if it is not logged in)",
                forge.program()
            ),
        ));
    }
    Ok(())
}
