//! The one placeholder syntax git-shard expands, wherever a template comes from: terminal
//! commands, `notify`, `setup`/`teardown`, the prompt format and `worktree_dir`.
//!
//! `{key}` is replaced by the key's value; `{env:VAR}` by a variable the caller provides (a
//! terminal's recorded window id, say). Invariants:
//! - One left-to-right pass: a value is never expanded again, so a shard name or a path that
//!   itself contains `{name}` comes out as written.
//! - Only a known key is a placeholder. Anything else in braces (`{}`, `awk '{print $1}'`, a key
//!   this version does not know) stays as written, so templates written for a newer version or
//!   for the program being called are passed on intact.
//! - A known key without a value (an `{env:VAR}` that was not recorded) is an error naming it,
//!   never an empty string: a command run with a hole in it could do something else entirely.

use std::borrow::Cow;

/// What a key stands for.
pub enum Lookup<'v> {
    Value(Cow<'v, str>),
    /// A key this template may use, with no value here.
    Missing,
    /// Not a placeholder: the braces stay as written.
    Unknown,
}

/// The result of [`expand`], with how many placeholders it had and how many gave text (the
/// prompt drops a segment whose placeholders all came out empty, as starship does).
#[derive(Debug, PartialEq, Eq)]
pub struct Expanded {
    pub text: String,
    pub placeholders: usize,
    pub filled: usize,
}

/// Expand `template`, asking `lookup` for each `{key}`. Fails with the key that has no value.
pub fn expand<'v>(template: &str, mut lookup: impl FnMut(&str) -> Lookup<'v>) -> Result<Expanded, String> {
    let mut out = Expanded {
        text: String::with_capacity(template.len()),
        placeholders: 0,
        filled: 0,
    };
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let key = after.find('}').map(|end| &after[..end]).filter(|k| is_key(k));
        match key.map(|k| (k, lookup(k))) {
            Some((key, Lookup::Value(value))) => {
                out.placeholders += 1;
                out.filled += usize::from(!value.is_empty());
                out.text.push_str(&value);
                rest = &after[key.len() + 1..];
            }
            Some((key, Lookup::Missing)) => return Err(key.to_owned()),
            Some((_, Lookup::Unknown)) | None => {
                out.text.push('{');
                rest = after;
            }
        }
    }
    out.text.push_str(rest);
    Ok(out)
}

/// A key: letters, digits, `_` and `:` (`env:VAR`), nothing else.
fn is_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// Look `key` up in `values`, and `env:VAR` in `env` (when the template may use it).
pub fn lookup<'v>(
    values: &'v [(&str, &str)],
    env: Option<&'v std::collections::BTreeMap<String, String>>,
) -> impl FnMut(&str) -> Lookup<'v> {
    move |key| {
        if let Some((_, v)) = values.iter().find(|(k, _)| *k == key) {
            return Lookup::Value(Cow::Borrowed(v));
        }
        match (key.strip_prefix("env:"), env) {
            (Some(var), Some(env)) => env
                .get(var)
                .map_or(Lookup::Missing, |v| Lookup::Value(Cow::Borrowed(v))),
            _ => Lookup::Unknown,
        }
    }
}

/// Expand `template` with `values` only: for templates with no `{env:…}` (which stay as
/// written), and so cannot fail.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    expand(template, lookup(values, None))
        .map(|e| e.text)
        .unwrap_or_else(|_| template.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn one_pass_and_only_known_keys() {
        let values = [("name", "{repo}"), ("repo", "r")];
        assert_eq!(
            fill("{repo}/{name}", &values),
            "r/{repo}",
            "a value is not expanded again"
        );
        assert_eq!(
            fill("awk '{print $1}' {} {x} {name", &values),
            "awk '{print $1}' {} {x} {name"
        );
        assert_eq!(fill("{{name}}", &values), "{{repo}}");
        assert_eq!(fill("ünï{repo}ĉode", &values), "ünïrĉode");
    }

    #[test]
    fn env_placeholders_need_a_value() {
        let env = BTreeMap::from([("TMUX_PANE".to_owned(), "%3".to_owned())]);
        let out = expand("-t {env:TMUX_PANE}", lookup(&[], Some(&env))).unwrap();
        assert_eq!(out.text, "-t %3");
        assert_eq!(
            expand("{env:KITTY_WINDOW_ID}", lookup(&[], Some(&env))),
            Err("env:KITTY_WINDOW_ID".into())
        );
        // Where no environment applies, `{env:…}` is not a placeholder at all.
        assert_eq!(fill("{env:HOME}", &[]), "{env:HOME}");
    }

    #[test]
    fn counts_placeholders_and_those_that_gave_text() {
        let out = expand("{name}:{status}", lookup(&[("name", ""), ("status", "ok")], None)).unwrap();
        assert_eq!((out.placeholders, out.filled), (2, 1));
    }
}
