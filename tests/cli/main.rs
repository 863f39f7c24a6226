//! Integration tests: the built `git-shard` binary against real git repositories and real
//! processes. One test binary, so the binary is built once.

mod activity;
mod common;
mod config;
mod containment;
mod generated;
mod hooks;
mod hosts;
mod interop;
mod lifecycle;
mod ready;
mod review;
mod safety;
mod shell;
mod sshd;
mod terminals;
