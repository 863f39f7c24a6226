//! The `git-shard` binary: parse, dispatch, print errors, exit.
//!
//! On Linux with glibc there is no Rust `fn main`: the C `main` below is the entry point, so std's
//! runtime set-up does not run. That set-up finds the main thread's stack guard with
//! `pthread_getattr_np`, which makes glibc read and `sscanf` all of `/proc/self/maps`: about a
//! sixth of the instructions `git shard prompt` executes, at every shell prompt. Only glibc hands
//! std the arguments before `main` (through `.init_array`); elsewhere (musl, macOS) std needs its
//! own start-up, so there the usual `fn main` stays.
//!
//! What the C `main` does itself, in std's place: reopen a closed stdin/stdout/stderr on
//! /dev/null (else the next file we open could become fd 1 and receive what we print), and flush
//! stdout at the end. What is given up: a stack overflow ends with a plain SIGSEGV instead of
//! std's message.

#![cfg_attr(all(target_os = "linux", target_env = "gnu"), no_main)]

use clap::{CommandFactory, Parser};
use git_shard::cli::Cli;
use git_shard::commands;
use git_shard::context::Context;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    reopen_closed_standard_fds();
    let code = run();
    // What std's runtime would do after `main`: a prompt segment has no newline to flush it.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    std::ffi::c_int::from(code)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(run())
}

/// std's first act at start-up, which the C `main` skips: any of fds 0–2 that is closed is opened
/// on /dev/null, so that no file opened later (a record, a lock) takes its number.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn reopen_closed_standard_fds() {
    for fd in 0..=2 {
        // SAFETY: F_GETFD only asks whether the descriptor is open.
        let closed = unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF);
        if closed {
            // SAFETY: open takes the lowest free descriptor: this one, as those below are open.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
}

fn run() -> u8 {
    // `git shard list | head -1` must end quietly, not panic on a closed pipe.
    git_shard::process::restore_sigpipe();
    // Shell completion calls us with COMPLETE=<shell>: answer and exit before anything else.
    clap_complete::CompleteEnv::with_factory(|| Cli::command().bin_name("git-shard")).complete();
    // The prompt runs at every prompt: parse it with a command line that holds only `prompt`,
    // instead of building the whole tree of subcommands first.
    if std::env::args_os().nth(1).is_some_and(|a| a == "prompt") {
        // Plain `git-shard prompt`, as the shell integration calls it, needs no parser at all.
        let parsed;
        let cached;
        let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
        let args = if argv.len() == 2 {
            &commands::prompt::Args::default()
        } else if let [_, _, flag, pid] = argv.as_slice()
            && flag == "--cache"
            && let Some(pid) = pid.to_str().and_then(|p| p.parse().ok())
        {
            // What the shell integration calls (see `commands::prompt::Args::cache`).
            cached = commands::prompt::Args {
                cache: Some(pid),
                ..Default::default()
            };
            &cached
        } else {
            parsed = git_shard::cli::PromptCli::parse();
            parsed.command.args()
        };
        return match Context::from_env().and_then(|ctx| commands::prompt::run(&ctx, args)) {
            // The prompt never fails (see commands::prompt); only a usage error gets here.
            Ok(()) | Err(_) => 0,
        };
    }
    // tmux asks for the status line every second: no parser for a bare `status-line` either.
    if std::env::args_os().len() == 2 && std::env::args_os().nth(1).is_some_and(|a| a == "status-line") {
        let _ = Context::from_env().and_then(|ctx| commands::status_line::run(&ctx, &Default::default()));
        return 0;
    }
    // An agent's hook: as fast as possible, silent, and never a failure (see commands::hook).
    if std::env::args_os().nth(1).is_some_and(|a| a == commands::hook::HOOK) {
        commands::hook::run(&std::env::args_os().collect::<Vec<_>>());
        return 0;
    }
    let first = std::env::args_os().nth(1);
    let result = if first.as_ref().is_some_and(|a| a == git_shard::cli::SUPERVISE) {
        let cli = git_shard::cli::SuperviseCli::parse();
        init_tracing(0);
        Context::from_env().and_then(|ctx| commands::supervise::run(&ctx, cli.command.args()))
    } else if first.as_ref().is_some_and(|a| a == "list" || a == "ls") {
        // Every `list` asks each host with `git-shard list --json --local`: those two flags, each
        // at most once, need no parser; anything else gets the parser of that one subcommand,
        // not the whole tree (a tenth of a millisecond on each side).
        let rest: Vec<std::ffi::OsString> = std::env::args_os().skip(2).collect();
        let once = |flag: &str| rest.iter().filter(|a| *a == flag).count() == 1;
        let plain = rest.iter().all(|a| a == "--json" || a == "--local")
            && rest.iter().all(|a| once(a.to_str().unwrap_or_default()));
        let (quick, cli);
        let (args, verbose) = if plain {
            quick = commands::list::Args {
                json: once("--json"),
                local: once("--local"),
            };
            (&quick, 0)
        } else {
            cli = git_shard::cli::ListCli::parse();
            (cli.command.args(), cli.verbose)
        };
        init_tracing(verbose);
        Context::from_env().and_then(|ctx| commands::list::run(&ctx, args))
    } else {
        let cli = Cli::parse();
        init_tracing(cli.verbose);
        Context::from_env().and_then(|ctx| commands::dispatch(&ctx, &cli.command))
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            e.report();
            u8::try_from(e.exit_code()).unwrap_or(1)
        }
    }
}

/// Logs go to stderr, off unless `-v` or `GIT_SHARD_LOG` (an `EnvFilter` directive) asks for them.
fn init_tracing(verbose: u8) {
    let filter = match (std::env::var("GIT_SHARD_LOG"), verbose) {
        (Ok(directive), _) if !directive.is_empty() => directive,
        (_, 0) => return,
        (_, 1) => "git_shard=debug".to_owned(),
        _ => "git_shard=trace".to_owned(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        // Colour only for a person reading a terminal, never into a pipe or a file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none())
        .with_target(false)
        .init();
}
