//! The command line: clap definitions, and what is generated from them (completions, man pages,
//! live completion candidates). Each subcommand's arguments live beside its code in
//! `commands/<verb>.rs`; their doc comments are the help texts.

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::CompletionCandidate;

use crate::commands::{
    attach, cd, completions, config, diff, fetch, hooks, host, init, install_man, list, logs, merge, new, path, pr,
    prompt, prune, reconcile, rm, run, status, status_line, stop, supervise, wait,
};

/// Run coding agents in parallel, each in its own git worktree and branch.
///
/// `git shard new <name> -- <agent command>` creates a worktree and branch, starts the agent under
/// a small supervisor that records its exact process identity (PID + start time + boot id), and
/// `list`, `status`, `stop`, `rm` and `prune` then act on what is really running, never on a
/// recycled PID, and never lose uncommitted work.
#[derive(Debug, Parser)]
#[command(name = "git-shard", bin_name = "git shard", version = crate::host::VERSION_LINE, propagate_version = true)]
#[command(max_term_width = 100)]
pub struct Cli {
    /// Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    New(new::Args),
    #[command(visible_alias = "ls")]
    List(list::Args),
    Status(status::Args),
    StatusLine(status_line::Args),
    Run(run::Args),
    Attach(attach::Args),
    Path(path::Args),
    Cd(cd::Args),
    Logs(logs::Args),
    Stop(stop::Args),
    Wait(wait::Args),
    Diff(diff::Args),
    Merge(merge::Args),
    Pr(pr::Args),
    Fetch(fetch::Args),
    // Not a visible alias: completion offers one spelling per command and would pick `destroy`
    // (the first alphabetically) over `rm`. `destroy` still completes once typed (`git shard d<TAB>`).
    #[command(alias = "destroy")]
    Rm(rm::Args),
    Prune(prune::Args),
    Reconcile(reconcile::Args),
    Hooks(hooks::Args),
    Host(host::Args),
    Prompt(prompt::Args),
    Init(init::Args),
    Config(config::Args),
    Completions(completions::Args),
    InstallMan(install_man::Args),
}

/// The first argument that selects the supervisor (see [`SuperviseCli`]).
pub const SUPERVISE: &str = "__run";

/// `git-shard __run <name> …`, the supervisor that terminals start. Not part of [`Cli`]: a
/// `hide`den subcommand still shows up in clap_complete's static scripts, and this one is for
/// terminals, never for people, so no help, man page or completion script may offer it.
#[derive(Debug, Parser)]
#[command(name = "git-shard", bin_name = "git-shard")]
pub struct SuperviseCli {
    #[command(subcommand)]
    pub command: SuperviseOnly,
}

#[derive(Debug, Subcommand)]
pub enum SuperviseOnly {
    #[command(name = SUPERVISE)]
    Supervise(supervise::Args),
}

impl SuperviseOnly {
    pub fn args(&self) -> &supervise::Args {
        match self {
            SuperviseOnly::Supervise(a) => a,
        }
    }
}

/// Just the `prompt` subcommand, for the fast path of `git shard prompt` (see main.rs): the
/// same arguments, version and help as in [`Cli`].
#[derive(Debug, Parser)]
#[command(name = "git-shard", bin_name = "git shard", version = crate::host::VERSION_LINE, propagate_version = true)]
#[command(max_term_width = 100)]
pub struct PromptCli {
    /// Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: PromptOnly,
}

#[derive(Debug, Subcommand)]
pub enum PromptOnly {
    Prompt(prompt::Args),
}

impl PromptOnly {
    pub fn args(&self) -> &prompt::Args {
        match self {
            PromptOnly::Prompt(a) => a,
        }
    }
}

/// Just the `list` subcommand, for the fast path of `git shard list` (see main.rs): what each
/// host is asked by every `list` here, and the overview people run most. The same arguments,
/// alias, version and help as in [`Cli`].
#[derive(Debug, Parser)]
#[command(name = "git-shard", bin_name = "git shard", version = crate::host::VERSION_LINE, propagate_version = true)]
#[command(max_term_width = 100)]
pub struct ListCli {
    /// Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: ListOnly,
}

#[derive(Debug, Subcommand)]
pub enum ListOnly {
    #[command(visible_alias = "ls")]
    List(list::Args),
}

impl ListOnly {
    pub fn args(&self) -> &list::Args {
        match self {
            ListOnly::List(a) => a,
        }
    }
}

/// The clap tree with the binary's real name, for generated files.
fn command() -> clap::Command {
    Cli::command().bin_name("git-shard")
}

/// A static completion script for `git-shard`.
pub fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command(), "git-shard", &mut out);
    out
}

/// The shells whose static scripts are committed in `completions/`, with their file names.
pub const COMPLETION_FILES: &[(clap_complete::Shell, &str)] = &[
    (clap_complete::Shell::Bash, "git-shard.bash"),
    (clap_complete::Shell::Zsh, "_git-shard"),
    (clap_complete::Shell::Fish, "git-shard.fish"),
    (clap_complete::Shell::Elvish, "git-shard.elv"),
    (clap_complete::Shell::PowerShell, "_git-shard.ps1"),
];

/// Man pages: `git-shard.1` and one `git-shard-<command>.1` per visible subcommand.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    // No `help` subcommand in the pages: clap's would be listed as a `git-shard-help(1)` that
    // does not exist (`git shard help` still works, and `git help shard` is this page).
    let root = Cli::command().disable_help_subcommand(true);
    let mut pages = Vec::new();
    let mut render = |file: String, cmd: clap::Command| {
        let mut buf = Vec::new();
        let cmd = cmd.disable_help_subcommand(true);
        clap_mangen::Man::new(cmd.clone())
            .render(&mut buf)
            .expect("rendering to memory cannot fail");
        let page = with_option_values(&cmd, &code_in_bold(&String::from_utf8_lossy(&buf)));
        pages.push((file, page.into_bytes()));
    };
    render("git-shard.1".into(), root.clone().name("git-shard"));
    // Every subcommand, and theirs (`host add`): a page names its subcommands' pages.
    let mut todo: Vec<(String, String, clap::Command)> = root
        .get_subcommands()
        .map(|s| ("git-shard".to_owned(), "git shard".to_owned(), s.clone()))
        .collect();
    while let Some((parent, parent_bin, sub)) = todo.pop() {
        if sub.is_hide_set() {
            continue;
        }
        let name = format!("{parent}-{}", sub.get_name());
        let bin = format!("{parent_bin} {}", sub.get_name());
        todo.extend(
            sub.get_subcommands()
                .filter(|s| s.get_name() != "help")
                .map(|s| (name.clone(), bin.clone(), s.clone())),
        );
        render(format!("{name}.1"), sub.name(name).bin_name(bin));
    }
    pages.sort();
    pages
}

/// clap_mangen's synopsis names options without their values (`[--format]`, `<--ssh>`); the value
/// is what a reader of the synopsis needs, so it goes in: `[--format <TEMPLATE>]`,
/// `--ssh <DESTINATION>`.
fn with_option_values(cmd: &clap::Command, roff: &str) -> String {
    let mut out = roff.to_owned();
    // Built, so that every argument knows how many values it takes.
    let mut cmd = cmd.clone();
    cmd.build();
    for arg in cmd.get_arguments() {
        let (Some(long), Some(values)) = (arg.get_long(), arg.get_value_names()) else {
            continue;
        };
        if !arg.get_num_args().is_some_and(|n| n.takes_values()) {
            continue;
        }
        let escaped = long.replace('-', "\\-");
        let values: Vec<String> = values.iter().map(|v| format!("<{v}>")).collect();
        let with_value = format!("\\fB\\-\\-{escaped}\\fR \\fI{}\\fR", values.join(" "));
        // Optional (`[--format]`) and required (`<--ssh>`) alike.
        out = out.replacen(&format!("\\fB\\-\\-{escaped}\\fR]"), &format!("{with_value}]"), 1);
        out = out.replacen(&format!("<\\fB\\-\\-{escaped}\\fR>"), &with_value, 1);
    }
    out
}

/// The help texts mark commands and names as Markdown code (`git shard new`), which terminals show
/// as written; in a man page they are set in bold, as man pages show commands.
fn code_in_bold(roff: &str) -> String {
    let mut out = String::with_capacity(roff.len());
    for line in roff.split_inclusive('\n') {
        // Only in text: a roff request line (`.TH`, `.TP`) is left as it is, and a line whose
        // backquotes do not pair up keeps them.
        if line.starts_with('.') || line.matches('`').count() % 2 != 0 {
            out.push_str(line);
            continue;
        }
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 1 {
                out.push_str("\\fB");
                out.push_str(part);
                out.push_str("\\fR");
            } else {
                out.push_str(part);
            }
        }
    }
    out
}

/// Where completion is: the repository's common dir and the current worktree. From `.git` files
/// where they settle it (the usual layouts, no process started); in the others (a bare
/// repository, `GIT_DIR`) from git, which costs one `git rev-parse` at that TAB.
pub(crate) fn here() -> Option<(PathBuf, Option<PathBuf>)> {
    let cwd = std::env::current_dir().ok()?;
    if let Some(found) = crate::git::locate::locate(&cwd) {
        return Some((found.common_dir, Some(found.worktree)));
    }
    let repo = crate::git::Repo::discover(&cwd).ok()?;
    Some((repo.common_dir(), repo.current_worktree()))
}

/// Live candidates for a shard name: the record files of this repository (nothing parsed), so
/// that TAB stays instant with hundreds of shards.
pub fn shard_names() -> Vec<CompletionCandidate> {
    let Some((common_dir, _)) = here() else {
        return Vec::new();
    };
    let mut names = crate::shard::Store::new(&common_dir).names().unwrap_or_default();
    for remote in crate::host::known_names(&common_dir) {
        if !names.contains(&remote) {
            names.push(remote);
        }
    }
    names.into_iter().map(CompletionCandidate::new).collect()
}

fn config_here() -> crate::config::Config {
    let here = here();
    crate::config::Config::load(
        here.as_ref().map(|(common, _)| common.as_path()),
        here.as_ref().and_then(|(_, worktree)| worktree.as_deref()),
    )
    .unwrap_or_default()
}

/// Live candidates for `--host`: the configured hosts.
pub fn host_names() -> Vec<CompletionCandidate> {
    config_here().hosts.into_keys().map(CompletionCandidate::new).collect()
}

/// Live candidates for `--terminal`: built-ins available here and the configured ones.
pub fn terminal_names() -> Vec<CompletionCandidate> {
    crate::terminal::names(&config_here())
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

/// Live candidates for `--agent`: built-in and configured presets.
pub fn agent_names() -> Vec<CompletionCandidate> {
    crate::agent::preset_names(&config_here())
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

/// Live candidates for a revision (`--base`): the repository's branches, tags and
/// remote-tracking branches, as git names them for the user. One `git for-each-ref` at that TAB.
pub fn ref_names() -> Vec<CompletionCandidate> {
    refs_under(&["refs/heads/", "refs/tags/", "refs/remotes/"])
}

/// Live candidates for a local branch (`--branch`, `--into`).
pub fn branch_names() -> Vec<CompletionCandidate> {
    refs_under(&["refs/heads/"])
}

fn refs_under(prefixes: &[&str]) -> Vec<CompletionCandidate> {
    let Some((common_dir, _)) = here() else {
        return Vec::new();
    };
    crate::git::cmd::Git::on_repository(&common_dir)
        .args(["for-each-ref", "--format=%(refname:short)"])
        .args(prefixes)
        .read()
        .unwrap_or_default()
        .lines()
        .map(CompletionCandidate::new)
        .collect()
}

/// Whether the word being completed is the first after the command's own `--`. clap's completion
/// engine counts every word after `--` as the same value, so this reads the command line it was
/// called with (`git-shard -- <words>` and the index of the current word, from the shell).
fn completing_program() -> bool {
    let words: Vec<std::ffi::OsString> = std::env::args_os().skip_while(|a| a != "--").skip(1).collect();
    let Some(index) = std::env::var("_CLAP_COMPLETE_INDEX")
        .ok()
        .and_then(|i| i.parse::<usize>().ok())
    else {
        return true;
    };
    match words.iter().take(index).rposition(|w| w == "--") {
        Some(separator) => index == separator + 1,
        None => true,
    }
}

/// The agent command after `--`: its first word is a program (the presets' and every executable
/// on PATH), the words after it are its own (files).
pub struct CommandCompleter;

impl clap_complete::engine::ValueCompleter for CommandCompleter {
    fn complete(&self, current: &std::ffi::OsStr) -> Vec<CompletionCandidate> {
        self.complete_at(0, current)
    }

    fn complete_at(&self, _: usize, current: &std::ffi::OsStr) -> Vec<CompletionCandidate> {
        let prefix = current.to_string_lossy();
        if !completing_program() || prefix.contains('/') {
            return clap_complete::engine::PathCompleter::any().complete(current);
        }
        let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for dir in std::env::var_os("PATH").iter().flat_map(std::env::split_paths) {
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(prefix.as_ref()) && crate::agent::find_program(&name).is_some() {
                    names.insert(name);
                }
            }
        }
        names.into_iter().map(CompletionCandidate::new).collect()
    }
}
