//! Why a step of a shard's life was refused or failed, as data: commands print these, and
//! `crate::error` says what to do about each (its hint), so the wording of a refusal and of its
//! remedy are each written once. Every refusal states that nothing (or nothing more) was changed
//! when that is so: the user must be able to trust that a refused `rm` left everything in place.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;

use crate::output::short_path;

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("cannot run `{what}`: {source}")]
    Spawn {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("`{what}` failed for shard '{name}' ({status}); git's message is above")]
    GitFailed {
        what: String,
        status: ExitStatus,
        name: String,
    },
    #[error("`{what}` did not accept git-shard's options, so shard '{name}' was not created")]
    GitTooOld { what: String, name: String },
    #[error(
        "the post-checkout hook failed for shard '{name}' ({status}), so its new worktree was removed again; \
         the hook's message is above"
    )]
    HookFailed { name: String, status: ExitStatus },
    #[error("`{what}` succeeded but git registered no worktree at {}", path.display())]
    NoWorktreeRegistered { what: String, path: PathBuf },
    #[error(
        "shard '{name}': the git process (pid {pid}) that an interrupted `git shard new` or `rm` started is still at work"
    )]
    GitAtWork { name: String, pid: u32 },
    #[error("cannot unlock the worktree of shard '{name}': {source}")]
    Unlock {
        name: String,
        #[source]
        source: io::Error,
    },
    /// What an interrupted `new` left cannot be proven to be only what it made.
    #[error("shard '{name}': {} {why}, so it was left alone", short_path(path))]
    NotTheAdds {
        name: String,
        path: PathBuf,
        why: &'static str,
    },
    #[error(
        "{} is not the worktree git registered for shard '{name}' (replaced, or a link to another folder); \
         nothing was removed",
        short_path(path)
    )]
    NotTheWorktree { name: String, path: PathBuf },
    #[error(
        "the removal of shard '{name}' stopped partway: {} has lost its `.git` but still holds files; \
         nothing more was deleted",
        short_path(path)
    )]
    RemovalPartway { name: String, path: PathBuf },
    #[error("git has no entry '{id}' for the worktree of shard '{name}' any more; nothing was removed")]
    EntryGone { name: String, id: String },
    #[error("the worktree of shard '{name}' is on {head} now, not on its branch '{branch}'; nothing was removed")]
    SwitchedBranch {
        name: String,
        head: String,
        branch: String,
        path: PathBuf,
    },
    #[error(
        "shard '{name}' has initialised submodules; git refuses to remove such a worktree (their repositories \
         would go with it), and so does git shard; nothing was removed"
    )]
    Submodules { name: String },
    #[error(
        "a submodule of shard '{name}' has {commits} commit(s) that none of its remote-tracking branches has ({}); \
         removing the worktree would lose them, even with --force; nothing was removed",
        git_dir.display()
    )]
    SubmoduleUnpushed {
        name: String,
        commits: usize,
        git_dir: PathBuf,
    },
    #[error(
        "shard '{name}' has uncommitted work ({dirt}) in {}; nothing was removed",
        short_path(path)
    )]
    Uncommitted { name: String, dirt: String, path: PathBuf },
    #[error(
        "shard '{name}' has {commits} commit(s) on a detached HEAD that no branch or tag holds; nothing was removed"
    )]
    DetachedCommits {
        name: String,
        commits: usize,
        path: PathBuf,
    },
    #[error("the worktree of shard '{name}' is locked: {reason}")]
    ForeignLock {
        name: String,
        reason: String,
        path: PathBuf,
    },
    #[error("cannot stop the agent of shard '{name}', so nothing was removed: {reason}")]
    CannotStop { name: String, reason: String },
    #[error("shard '{name}': some of its processes survived SIGKILL; nothing was removed")]
    Survivors { name: String },
    #[error("an agent started in shard '{name}' while it was being removed; nothing was removed")]
    StartedDuringRemoval { name: String },
    #[error("the worktree location {} is inside {inside}", path.display())]
    Location { path: PathBuf, inside: String },
    #[error("shard '{name}' already has a running or launching agent")]
    AlreadyRunning { name: String },
    #[error("shard '{name}' is {}; no agent was started", if *removing {
        "being removed (its `git shard rm` was interrupted)"
    } else {
        "half made (its `git shard new` was interrupted)"
    })]
    Unsettled { name: String, removing: bool },
    #[error("the worktree of shard '{name}' is gone ({})", path.display())]
    WorktreeGone { name: String, path: PathBuf },
    #[error("shard '{name}' was removed while its agent was launching")]
    RemovedWhileLaunching { name: String },
    #[error("the agent of shard '{name}' did not start: {why}{}", log_tail(log, tail))]
    LaunchFailed {
        name: String,
        why: String,
        log: PathBuf,
        tail: String,
    },
    #[error(
        "the agent of shard '{name}' ended with {status} {secs:.1} s after it started{}",
        log_tail(log, tail)
    )]
    EndedAtStart {
        name: String,
        status: String,
        secs: f64,
        log: PathBuf,
        tail: String,
    },
    #[error("cannot stop shard '{name}': {source}")]
    Stop {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("waiting for the supervisor failed: {0}")]
    WaitInline(#[source] io::Error),
    #[error("cannot find the git-shard binary: {0}")]
    NoExe(#[source] io::Error),
    #[error(
        "shard '{name}' is created, but copying the files `.worktreeinclude` names failed: {reason}; no agent was started"
    )]
    IncludeFailed { name: String, reason: String },
    #[error("shard '{name}' is created, but its {source}; no agent was started")]
    SetupFailed {
        name: String,
        source: crate::shard::setup::SetupError,
    },
    #[error("shard '{name}': its {source}; nothing was removed")]
    TeardownFailed {
        name: String,
        source: crate::shard::setup::SetupError,
    },
    #[error(transparent)]
    Ports(#[from] crate::shard::ports::PortError),
}

/// The last lines of a failed launch's log, quoted under the message.
fn log_tail(log: &std::path::Path, tail: &str) -> String {
    if tail.trim().is_empty() {
        return String::new();
    }
    format!("\nlast lines of {}:\n{tail}", log.display())
}

impl LifecycleError {
    /// What to do about it, in the user's terms.
    pub fn hint(&self) -> Option<String> {
        use LifecycleError::*;
        let hint = match self {
            GitFailed { .. } => "fix what git reports and run the command again".into(),
            GitTooOld { .. } => "git-shard needs git 2.33 or newer; `git --version` shows yours".into(),
            HookFailed { .. } => {
                "fix the hook (`git rev-parse --git-path hooks` shows where it is) and run `git shard new` again".into()
            }
            GitAtWork { .. } => "run the command again once it has finished".into(),
            NotTheAdds { path, .. } => format!(
                "look at it; `git worktree remove {}` removes it if you do not need it",
                path.display()
            ),
            NotTheWorktree { .. } => {
                "`git worktree list` shows git's worktrees; move that folder away if it is not the shard's, \
                 then run the command again"
                    .into()
            }
            RemovalPartway { name, path } => format!(
                "look at what is left, delete the folder yourself if you do not need it (`rm -rf {}`), \
                 then `git shard rm {name}` finishes",
                path.display()
            ),
            EntryGone { .. } => "`git shard prune` forgets shards whose worktree is gone".into(),
            SwitchedBranch { path, branch, .. } => format!(
                "switch it back (`git -C {} switch {branch}`), or remove that worktree with git itself",
                path.display()
            ),
            Submodules { name } => format!(
                "push the submodules' commits, then `git shard rm --force {name}` (it checks that none is lost)"
            ),
            SubmoduleUnpushed { .. } => {
                "push them (`git push` in that submodule), then run `git shard rm --force` again".into()
            }
            Uncommitted { name, .. } => format!(
                "commit or stash it there, or `git shard rm --force {name}` to throw it away \
                 (`git shard rm --dry-run {name}` lists what would go)"
            ),
            DetachedCommits { name, path, .. } => format!(
                "keep them with `git -C {} branch <new-branch>`, or `git shard rm --force {name}` to lose them",
                path.display()
            ),
            ForeignLock { name, path, .. } => format!(
                "`git worktree unlock {}` first, or `git shard rm --force {name}`",
                path.display()
            ),
            CannotStop { name, .. } => format!("`git shard rm --force {name}` removes the shard anyway"),
            Survivors { name } => {
                format!("`git shard status {name}` shows them; `git shard rm --force {name}` removes the shard anyway")
            }
            StartedDuringRemoval { name } => format!("run `git shard rm {name}` again"),
            Location { .. } => "set `worktree_dir` to a folder outside the repository (the default is \
                 `{repo_parent}/{repo}.shards/{name}`)"
                .into(),
            AlreadyRunning { name } => format!("stop it first with `git shard stop {name}`"),
            Unsettled { name, .. } => format!("`git shard rm {name}` or `git shard prune` finishes that first"),
            WorktreeGone { .. } => "`git shard prune` forgets shards whose worktree is gone".into(),
            EndedAtStart { name, .. } => format!(
                "the shard is kept: fix what the agent reports, then `git shard run {name}`; \
                 `git shard logs {name}` shows its output"
            ),
            SetupFailed { name, .. } => format!(
                "fix what it reports (its output is above and in `git shard logs {name}`), then \
                 `git shard run {name}` runs the setup again and starts the agent; `git shard rm {name}` removes the shard"
            ),
            IncludeFailed { name, .. } => format!(
                "copy what is missing yourself, then `git shard run {name}` starts the agent \
                 (or `git shard rm {name}` and `new` again once the cause is fixed)"
            ),
            TeardownFailed { name, .. } => format!(
                "fix what it reports and run `git shard rm {name}` again, or `git shard rm --force {name}` \
                 to remove the shard anyway"
            ),
            Ports(_) => "widen `port_range` (`git shard config --set port_range=[20000,29999]`) or remove shards \
                 you no longer need"
                .into(),
            LaunchFailed { name, .. } => {
                format!("check the terminal and agent command; `git shard run {name}` tries again")
            }
            Spawn { .. }
            | NoWorktreeRegistered { .. }
            | Unlock { .. }
            | RemovedWhileLaunching { .. }
            | Stop { .. }
            | WaitInline(_)
            | NoExe(_) => return None,
        };
        Some(hint)
    }
}
