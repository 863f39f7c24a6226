//! git-shard: run coding agents in parallel, each in its own git worktree and branch, tracked by an
//! exact process identity.
//!
//! Layering (dependencies point downwards only):
//! `commands` → `shard`, `git`, `process`, `terminal`, `config`, `agent`.
//! `process` and `git` know nothing of each other or of the command line.

pub mod agent;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod error;
pub mod fsutil;
pub mod git;
pub mod host;
pub mod output;
pub mod process;
pub mod shard;
pub mod template;
pub mod terminal;
