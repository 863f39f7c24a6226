//! Everything that turns data into text for people: quoting of untrusted strings, colour, tables,
//! ages and shortened paths.
//!
//! Invariant: any string that came from a file or the command line (names, branches, paths,
//! commands) passes through [`clean`] or [`quote_for_message`] before it reaches a terminal, so a
//! crafted value cannot smuggle escape sequences into it.

use std::io::IsTerminal;
use std::path::Path;

/// `'value'` with control and other invisible characters escaped, for error messages.
pub fn quote_for_message(raw: &str) -> String {
    format!("'{}'", clean(raw))
}

/// The string with control characters escaped (`\n`, `\u{1b}`, …); printable text unchanged.
pub fn clean(raw: &str) -> String {
    if !raw.chars().any(char::is_control) {
        return raw.to_owned();
    }
    raw.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Colour for stdout: only on a terminal, and never when `NO_COLOR` is set (no-color.org).
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    enabled: bool,
}

impl Paint {
    pub fn for_stdout() -> Paint {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Paint {
            enabled: !no_color && std::io::stdout().is_terminal(),
        }
    }

    fn wrap(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn green(self, t: &str) -> String {
        self.wrap("32", t)
    }
    pub fn red(self, t: &str) -> String {
        self.wrap("31", t)
    }
    pub fn yellow(self, t: &str) -> String {
        self.wrap("33", t)
    }
    pub fn dim(self, t: &str) -> String {
        self.wrap("2", t)
    }
    pub fn bold(self, t: &str) -> String {
        self.wrap("1", t)
    }
}

/// A cell: the text whose width counts, and the text to print (possibly coloured).
pub struct Cell {
    plain: String,
    shown: String,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Cell {
        let plain = clean(&text.into());
        Cell {
            shown: plain.clone(),
            plain,
        }
    }

    pub fn painted(text: &str, paint: impl FnOnce(&str) -> String) -> Cell {
        let plain = clean(text);
        Cell {
            shown: paint(&plain),
            plain,
        }
    }
}

/// Columns aligned to the widest cell; the last column is not padded.
pub fn table(header: &[&str], rows: Vec<Vec<Cell>>, paint: Paint) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.plain.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<(String, usize)>, out: &mut String| {
        let last = cells.len() - 1;
        for (i, (shown, plain_len)) in cells.into_iter().enumerate() {
            out.push_str(&shown);
            if i < last {
                out.push_str(&" ".repeat(widths[i] - plain_len + 2));
            }
        }
        out.push('\n');
    };
    line(
        header.iter().map(|h| (paint.dim(h), h.chars().count())).collect(),
        &mut out,
    );
    for row in rows {
        line(
            row.into_iter()
                .map(|c| {
                    let n = c.plain.chars().count();
                    (c.shown, n)
                })
                .collect(),
            &mut out,
        );
    }
    out
}

/// "45s", "12m", "3h", "5d": how long ago `then` was.
pub fn age(then: jiff::Timestamp) -> String {
    let secs = (jiff::Timestamp::now().as_second() - then.as_second()).max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// `~/…` for paths under the home folder.
pub fn short_path(path: &Path) -> String {
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty())
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return clean(&Path::new("~").join(rest).display().to_string());
    }
    clean(&path.display().to_string())
}

/// A size for people: `512 B`, `3.4 KiB`, `12.0 MiB`, `1.2 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut size = n as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters() {
        assert_eq!(clean("a\x1b[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(clean("plain-ünïcode"), "plain-ünïcode");
        assert_eq!(quote_for_message("x\ty"), "'x\\ty'");
    }

    #[test]
    fn aligns_columns() {
        let p = Paint { enabled: false };
        let t = table(
            &["A", "LONG"],
            vec![vec![Cell::plain("wide-cell"), Cell::plain("x")]],
            p,
        );
        assert_eq!(t, "A          LONG\nwide-cell  x\n");
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(super::bytes(512), "512 B");
        assert_eq!(super::bytes(3 * 1024 + 512), "3.5 KiB");
        assert_eq!(super::bytes(12 << 20), "12.0 MiB");
    }
}
