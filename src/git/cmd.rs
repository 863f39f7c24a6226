//! Running the `git` binary: the one way this crate changes a repository.
//!
//! Two kinds of invocation:
//! - [`Git::here`]: exactly what the user gets typing `git …` where they called git-shard: the same
//!   folder and the same environment (`GIT_DIR`, `GIT_WORK_TREE`, `git -c` settings passed down as
//!   `GIT_CONFIG_PARAMETERS`, …). Repository-wide work (refs, `worktree add`) runs this way, so it
//!   acts on the repository git would act on.
//! - [`Git::on_repository`]: the repository as a whole, from its common dir, whatever worktree the
//!   caller stands in (which may be the one being removed): for history walks that must count
//!   every worktree's HEAD but the one in question, and for work after a removal.
//! - [`Git::on_worktree`]: one given worktree, whatever the caller's environment says, the way git
//!   itself runs `git status` before `git worktree remove`: `GIT_DIR=<worktree>/.git`,
//!   `GIT_WORK_TREE=<worktree>`, in that folder, and none of the variables that point elsewhere.
//!
//! Output that we parse comes from plumbing (`rev-parse`, `rev-list`, `status --porcelain`), never
//! from messages, so the user's locale stays in place for the messages git shows them.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

use super::GitError;

/// Variables that tell git which repository, worktree, index or object store to use (what
/// `git rev-parse --local-env-vars` lists, less the configuration ones, which should still apply).
pub const LOCATION_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_GRAFT_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
];

pub struct Git {
    cmd: Command,
    /// `git <subcommand>`, for messages.
    what: String,
    /// The name is complete (an option came after it).
    named: bool,
}

impl Git {
    /// `git` as the user would run it in `cwd`.
    pub fn here(cwd: &Path) -> Git {
        let mut cmd = Command::new("git");
        cmd.current_dir(cwd);
        Git {
            cmd,
            what: "git".into(),
            named: false,
        }
    }

    /// `git` on the repository whose common dir is `common_dir`, from inside it.
    pub fn on_repository(common_dir: &Path) -> Git {
        let mut git = Git::isolated(common_dir);
        git.cmd.env("GIT_DIR", common_dir);
        git
    }

    /// `git` on the worktree at `worktree` and nothing else.
    pub fn on_worktree(worktree: &Path) -> Git {
        let mut git = Git::isolated(worktree);
        git.cmd
            .env("GIT_DIR", worktree.join(".git"))
            .env("GIT_WORK_TREE", worktree);
        git
    }

    /// `git` in `dir`, deaf to the caller's location variables.
    fn isolated(dir: &Path) -> Git {
        let mut git = Git::here(dir);
        for var in LOCATION_ENV {
            git.cmd.env_remove(var);
        }
        git
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Git {
        // Messages name the command as people say it (`git worktree remove`): the words before
        // the first option.
        let text = arg.as_ref().to_string_lossy();
        if !self.named && !text.starts_with('-') && self.what.split(' ').count() < 3 {
            self.what = format!("{} {text}", self.what);
        } else if self.what != "git" {
            self.named = true;
        }
        self.cmd.arg(arg);
        self
    }

    pub fn args<I, S>(self, args: I) -> Git
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        args.into_iter().fold(self, Git::arg)
    }

    /// Run it in a process group of its own, for a change that must not be cut short: no terminal
    /// signal reaches it, and a kill of git-shard's group (a closed terminal) leaves it to finish
    /// instead of leaving git's lock files behind.
    pub fn own_group(mut self) -> Git {
        use std::os::unix::process::CommandExt;
        self.cmd.process_group(0);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Git {
        self.cmd.env(key, value);
        self
    }

    /// Run it and return its standard output; a failure carries git's own message.
    pub fn read(self) -> Result<String, GitError> {
        let bytes = self.read_bytes()?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    pub fn read_bytes(mut self) -> Result<Vec<u8>, GitError> {
        let out = self.output()?;
        if out.status.success() {
            return Ok(out.stdout);
        }
        Err(GitError::Failed {
            command: self.what,
            message: message_of(&out.stderr, out.status),
        })
    }

    /// Run it with `input` on its standard input and return its standard output (`patch-id`,
    /// `diff-tree --stdin`).
    pub fn read_with_input(self, input: &[u8]) -> Result<Vec<u8>, GitError> {
        let what = self.what.clone();
        let out = self.run_with_input(input)?;
        if out.status.success() {
            return Ok(out.stdout);
        }
        Err(GitError::Failed {
            command: what,
            message: message_of(&out.stderr, out.status),
        })
    }

    /// [`Git::ask`] with `input` on its standard input (`check-ignore --stdin`).
    pub fn ask_with_input(self, input: &[u8]) -> Result<Option<Vec<u8>>, GitError> {
        let what = self.what.clone();
        let out = self.run_with_input(input)?;
        match out.status.code() {
            Some(0) => Ok(Some(out.stdout)),
            Some(1) => Ok(None),
            _ => Err(GitError::Failed {
                command: what,
                message: message_of(&out.stderr, out.status),
            }),
        }
    }

    fn run_with_input(mut self, input: &[u8]) -> Result<std::process::Output, GitError> {
        use std::io::Write;
        let mut child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| spawn_error(&self.what, e))?;
        let mut stdin = child.stdin.take().expect("piped");
        // Written from a thread: git may fill its output pipe before it has read all of ours.
        let input = input.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output().map_err(|e| spawn_error(&self.what, e))?;
        let _ = writer.join();
        Ok(out)
    }

    /// Run a question git answers with its exit status (`rev-parse --verify --quiet`,
    /// `show-ref --verify --quiet`): `Ok(Some(stdout))` on 0, `Ok(None)` on 1, an error otherwise
    /// (git dies with 128 when it cannot read the repository at all).
    pub fn ask(mut self) -> Result<Option<String>, GitError> {
        let out = self.output()?;
        match out.status.code() {
            Some(0) => Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned())),
            Some(1) => Ok(None),
            _ => Err(GitError::Failed {
                command: self.what,
                message: message_of(&out.stderr, out.status),
            }),
        }
    }

    fn output(&mut self) -> Result<std::process::Output, GitError> {
        self.cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| spawn_error(&self.what, e))
    }

    /// The command, for a caller that starts it itself (a gated start whose identity is recorded
    /// first). Its output goes to our standard error: git's messages, progress and hook output
    /// reach the user as they would from git, and standard output stays free for `--json`.
    pub fn into_command(mut self) -> (Command, String) {
        self.cmd.stdin(Stdio::null()).stdout(std::io::stderr());
        (self.cmd, self.what)
    }
}

fn spawn_error(what: &str, e: std::io::Error) -> GitError {
    let context = if e.kind() == std::io::ErrorKind::NotFound {
        format!("cannot run `{what}`: git-shard needs git on PATH")
    } else {
        format!("cannot run `{what}`")
    };
    GitError::Io { context, source: e }
}

/// git's own words from its standard error (`fatal: ` and `error: ` prefixes dropped: we print
/// our own), or the exit status when it said nothing.
pub fn message_of(stderr: &[u8], status: std::process::ExitStatus) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(|l| {
            l.strip_prefix("fatal: ")
                .or_else(|| l.strip_prefix("error: "))
                .unwrap_or(l)
        })
        .filter(|l| !l.trim().is_empty())
        .collect();
    if lines.is_empty() {
        format!("it exited with {status}")
    } else {
        lines.join("\n")
    }
}
