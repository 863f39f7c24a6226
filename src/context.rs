//! What every command starts from: where it was called, and (on demand) the repository, its
//! record store and the configuration.

use std::path::PathBuf;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::shard::{Record, ShardName, Store};

pub struct Context {
    pub cwd: PathBuf,
}

/// A repository with its store and configuration.
pub struct Workspace {
    pub repo: Repo,
    pub store: Store,
    pub config: Config,
}

impl Context {
    pub fn from_env() -> Result<Context> {
        let cwd =
            std::env::current_dir().map_err(|e| Error::failed(format!("cannot determine the current folder: {e}")))?;
        Ok(Context { cwd })
    }

    pub fn workspace(&self) -> Result<Workspace> {
        let repo = Repo::discover(&self.cwd)?;
        let store = Store::new(&repo.common_dir());
        let config = Config::load(Some(&repo.common_dir()), repo.current_worktree().as_deref())?;
        tracing::debug!(common_dir = %repo.common_dir().display(), records = %store.dir().display(), "repository");
        Ok(Workspace { repo, store, config })
    }
}

impl Workspace {
    /// The shard whose worktree holds the current folder, if any.
    pub fn current_shard(&self) -> Option<Record> {
        let here = self.repo.current_worktree()?;
        let here = here.canonicalize().unwrap_or(here);
        self.store
            .list()
            .ok()?
            .into_iter()
            .filter_map(|(_, r)| r.ok())
            .find(|r| r.worktree.canonicalize().map(|p| p == here).unwrap_or(false))
    }

    /// The repository's name (`{repo}` in templates, tmux's session name): the main worktree's
    /// folder name, or the project's for a bare repository (see `Repo::anchor`).
    pub fn repo_name(&self) -> String {
        self.repo
            .anchor()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "repo".into())
    }

    /// Read the record of a named shard (validating the name first).
    pub fn record(&self, raw_name: &str) -> Result<(ShardName, Record)> {
        let name = ShardName::parse(raw_name)?;
        let record = self.store.read(&name)?;
        Ok((name, record))
    }
}
