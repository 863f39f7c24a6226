//! Shard names.
//!
//! A name becomes a file name in `<common-dir>/shards/`, a path component of the worktree, a branch
//! name, a tmux window name and an argument to terminal launchers. The rule below keeps it safe in
//! all of those places at once, so it is checked before anything is created.

use std::fmt;

/// The longest name we accept; long enough for a descriptive slug, short enough for a tab title.
pub const MAX_LEN: usize = 64;

/// Names that would collide with files the store keeps beside the records.
const RESERVED: &[&str] = &["config"];

/// A validated shard name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardName(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid shard name {shown}: {reason}")]
pub struct NameError {
    shown: String,
    reason: &'static str,
}

impl NameError {
    pub const RULE: &'static str = "a name is 1-64 characters of A-Z a-z 0-9 . _ -, starts with a letter or digit, \
         contains no '..' and does not end in '.lock'";
}

impl ShardName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let fail = |reason| {
            Err(NameError {
                shown: crate::output::quote_for_message(raw),
                reason,
            })
        };
        if raw.is_empty() {
            return fail("it is empty");
        }
        if raw.chars().count() > MAX_LEN {
            return fail("it is longer than 64 characters");
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return fail("it contains a character other than A-Z a-z 0-9 . _ -");
        }
        if !raw.as_bytes()[0].is_ascii_alphanumeric() {
            return fail("it must start with a letter or digit");
        }
        if raw.contains("..") {
            return fail("it contains '..'");
        }
        if raw.ends_with(".lock") {
            return fail("it ends in '.lock'");
        }
        if RESERVED.contains(&raw) {
            return fail("it is reserved for git-shard's own files");
        }
        Ok(ShardName(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShardName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in ["fix-login", "a", "A1", "v1.2_beta", "9lives", &"x".repeat(64)] {
            assert!(ShardName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_everything_outside_the_rule() {
        for bad in [
            "",
            "../x",
            "-rf",
            "a b",
            "a..b",
            "x.lock",
            &"x".repeat(65),
            "$(touch pwned)",
            "a/b",
            "a\nb",
            "é",
            ".hidden",
            "_x",
            "config",
        ] {
            assert!(ShardName::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
