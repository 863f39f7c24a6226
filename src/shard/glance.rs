//! What the prompt's summary needs of every record, without reading every record at every prompt.
//!
//! The main worktree's prompt summarises all shards. Parsing a hundred TOML records took most of
//! its time, and even `stat`ing each of them, listing the folder and reading one line per record
//! cost more than `git rev-parse` at 500 shards. So the summary is kept, in a file of this user's
//! private runtime folder (`$XDG_RUNTIME_DIR/git-shard`, else `<tmp>/git-shard-<uid>`), one per
//! repository: first the runs whose end is not recorded (whose status depends on whether their
//! process lives), then the count of the others by status, then one line per record under the
//! identity of its file (inode, size, modification time to the nanosecond). Not in the store's
//! folder: writing there would change the folder's time, which is what this and the shell
//! integration watch.
//!
//! Invariants:
//! - Never stale. Records are only ever replaced by rename, which changes the folder's time; the
//!   file names the folder's inode and time it was made from, and is used whole only while the
//!   folder is exactly that. A change made in the same clock tick as the one before it leaves the
//!   folder's time as it was, so the file is trusted only when it was made a while after the
//!   folder's last change ([`is_settled`]: longer where file times are kept to the second);
//!   otherwise every record is `stat`ed, and one whose file is not exactly the one its line was
//!   made from, or whose time is itself too recent to vouch for it, is parsed again.
//! - Whether a run is alive is never kept: it is proven at every prompt, by the full check or by
//!   [`process::still_alive`] from the instance noted at a full check. Only a run proven gone
//!   (lost) is kept as such: a PID with its start time and boot never comes back.
//! - Only a reader's aid: nobody else writes it, a missing or unreadable file is simply rebuilt,
//!   and it is written (whole, by rename) only when it could not be trusted or a run's proof changed.
//!   Without a private folder nothing is kept: every record is read, every time.

use std::borrow::Cow;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, SystemTime};

use super::activity::Activity;
use super::status::{RunFacts, RunStatus};
use super::store::Store;
use crate::process::{self, Held, Identity, Instance, Liveness};

/// How long after the store's last change its time is trusted to show the next one: well over a
/// tick of the kernel's coarse clock (at most 10 ms), which file times are taken from.
pub const SETTLED: Duration = Duration::from_millis(100);

/// Whether a file time `mtime_ns` seen unchanged at `at_ns` proves that nothing changed the file
/// since: only once a change made now would get another time. That takes [`SETTLED`] where times
/// are kept to the nanosecond; where they are kept to the second or two (ext4 with small inodes,
/// FAT, some network mounts: a time without nanoseconds), two seconds more.
pub fn is_settled(mtime_ns: i128, at_ns: i128) -> bool {
    let coarse = mtime_ns % 1_000_000_000 == 0;
    let margin = SETTLED + if coarse { Duration::from_secs(2) } else { Duration::ZERO };
    at_ns - mtime_ns >= margin.as_nanos() as i128
}

/// A time as nanoseconds since the epoch (negative before it).
pub fn nanos(t: SystemTime) -> i128 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// What the summary needs of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub facts: RunFacts,
    pub exit_code: Option<i32>,
    pub activity: Option<Activity>,
    /// Its supervisor's descriptor of the agent's folder, for the shell integration.
    pub held: Option<Held>,
}

/// Records whose status does not depend on a process, by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settled {
    pub unreadable: usize,
    pub not_started: usize,
    pub ok: usize,
    pub failed: usize,
    pub stopped: usize,
}

/// The store at a glance.
#[derive(Debug, Default)]
pub struct Summary {
    pub settled: Settled,
    /// Records without a recorded end, by name.
    pub live: Vec<Live>,
}

/// A run without a recorded end, as the summary shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    pub name: String,
    pub pid: u32,
    pub activity: Option<Activity>,
    /// What its identity is now: running or lost.
    pub status: RunStatus,
    /// The entry of `/proc/<pid>` that showed the running run has not exited, where this prompt's
    /// proof looked at one (see [`process::alive_entry`]): the shell integration is told it
    /// without another `stat`.
    pub entry: Option<&'static str>,
    /// The instance the running run is proven as, where it is known.
    pub instance: Option<Instance>,
    pub held: Option<Held>,
}

/// What a run without a recorded end was found to be, as kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proof {
    /// Alive at the last check, as this instance of `/proc/<pid>`.
    Alive(Instance),
    /// Gone or reused: for good.
    Lost,
    /// Nothing kept: check in full.
    Unknown,
}

impl Proof {
    fn instance(self) -> Option<Instance> {
        match self {
            Proof::Alive(instance) => Some(instance),
            _ => None,
        }
    }
}

/// One kept record: the identity of its file, what was read from it, and for a live run what was
/// last proven of it.
#[derive(Debug, Clone)]
struct Entry<'a> {
    ino: u64,
    size: u64,
    mtime_ns: i128,
    read: Option<Option<Run>>,
    proof: Proof,
    /// The kept line this was read from, while it still says all of the above: written back as it
    /// is (formatting a hundred lines anew cost more than the rest of a prompt).
    kept: Option<&'a str>,
}

/// The store's folder as a kept summary names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Folder {
    ino: u64,
    mtime_ns: i128,
}

/// The summary of `store`'s records.
pub fn summary(store: &Store) -> Option<Summary> {
    // The time first, then the folder: what is read after may only be newer than both.
    let now = nanos(SystemTime::now());
    let Ok(meta) = std::fs::metadata(store.dir()) else {
        // No store: no shards (nothing to keep).
        return Some(Summary::default());
    };
    let folder = Folder {
        ino: meta.ino(),
        mtime_ns: nanos_of(&meta),
    };
    // Named after the store's folder, in a folder only we enter. Without one (another user made
    // it first, a read-only /tmp), nothing is kept: every record is read, as it is made.
    let key = crate::fsutil::stable_hash(store.dir().as_os_str().as_encoded_bytes());
    let Ok(dir) = crate::fsutil::private_dir() else {
        let (mut live, _, settled) = refresh(store, &Kept::default())?;
        let (statuses, _) = prove_all(&mut live);
        return Some(Summary {
            settled,
            live: live_of(live, statuses),
        });
    };
    let path = dir.join(format!("glance-{key:016x}"));
    let text = std::fs::read_to_string(&path).ok();
    if text.is_none() {
        forget_gone_stores(&dir);
    }
    let kept = text.as_deref().map(Kept::parse).unwrap_or_default();

    if kept.folder == Some(folder)
        && let Some(made) = kept.made_ns.filter(|&made| is_settled(folder.mtime_ns, made))
        && let Some(settled) = kept.settled
        && let Some((live, lines)) = prove_kept(kept.live)
    {
        // Nothing was written since the file was made: only the live runs needed proving.
        if let Some(lines) = lines {
            let mut text = header(store, folder, made);
            for l in &lines {
                push_line(&mut text, l);
            }
            text.push_str(kept.rest);
            let _ = crate::fsutil::rewrite_cache(&path, text.as_bytes());
        }
        return Some(Summary { settled, live });
    }
    let (mut live, settled_lines, settled) = refresh(store, &kept)?;
    let (statuses, _) = prove_all(&mut live);
    // Written whenever the file was not trusted: at the least, the time it is made from is new.
    let mut text = header(store, folder, now);
    for (name, e) in &live {
        push_line(&mut text, &line_of(name, e));
    }
    text.push_str(&settled_line(&settled));
    for l in &settled_lines {
        push_line(&mut text, l);
    }
    let _ = crate::fsutil::rewrite_cache(&path, text.as_bytes());
    Some(Summary {
        settled,
        live: live_of(live, statuses),
    })
}

type Entries<'a> = Vec<(String, Entry<'a>)>;

/// Records' lines for the kept file, each kept as read or made anew.
type Lines<'a> = Vec<Cow<'a, str>>;

/// Every record `stat`ed (one listing of the folder, each file `stat`ed from it), and read again
/// where its file is not the one a kept line came from, or where its time was too recent to vouch
/// for it when the kept file was made (ext4 hands a record rewritten twice its first inode back,
/// and in the same clock tick its time as well, so a line read then may be of an older content
/// than the file that now has the same inode, size and time): the live entries, the settled
/// records' lines, and their counts. A kept line that still holds is neither parsed (unless live)
/// nor made again; by induction every kept line was read from a file whose time was settled when
/// it was kept.
fn refresh<'a>(store: &Store, kept: &Kept<'a>) -> Option<(Entries<'a>, Lines<'a>, Settled)> {
    let old: HashMap<&str, &str> = kept.lines().filter_map(|l| Some((l.split_once(' ')?.0, l))).collect();
    let (mut live, mut settled_lines, mut settled) = (Vec::new(), Vec::new(), Settled::default());
    for (name, meta) in store.records_stat().ok()? {
        let (ino, size, mtime_ns) = (meta.ino(), meta.size(), nanos_of(&meta));
        let still = old
            .get(name.as_str())
            .and_then(|l| Some((*l, fields(l)?)))
            .filter(|(_, f)| {
                (f[1].parse(), f[2].parse(), f[3].parse()) == (Ok(ino), Ok(size), Ok(mtime_ns))
                    && kept.made_ns.is_some_and(|made| is_settled(mtime_ns, made))
            });
        if let Some((l, f)) = still
            && let Some(place) = place_of_line(&f)
        {
            if place != Place::Live {
                settled.count(place);
                settled_lines.push(Cow::Borrowed(l));
                continue;
            }
            // A line that does not read back is read again from its record.
            if let Some(entry) = parse(l) {
                live.push(entry);
                continue;
            }
        }
        let read = crate::shard::ShardName::parse(&name)
            .ok()
            .and_then(|n| store.read(&n).ok())
            .map(|r| {
                r.process.map(|p| Run {
                    facts: RunFacts::of(&p),
                    exit_code: p.exit_code,
                    activity: p.activity,
                    held: p.held(),
                })
            });
        let entry = Entry {
            ino,
            size,
            mtime_ns,
            read,
            proof: Proof::Unknown,
            kept: None,
        };
        match place(&entry.read) {
            Place::Live => live.push((name, entry)),
            place => {
                settled.count(place);
                settled_lines.push(Cow::Owned(line(&name, &entry)));
            }
        }
    }
    Some((live, settled_lines, settled))
}

/// Where a record counts in the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Unreadable,
    NotStarted,
    Ok,
    Failed,
    Stopped,
    /// A run without a recorded end and with an identity to check: its status depends on a process.
    Live,
}

impl Settled {
    fn count(&mut self, place: Place) {
        match place {
            Place::Unreadable => self.unreadable += 1,
            Place::NotStarted => self.not_started += 1,
            Place::Ok => self.ok += 1,
            Place::Failed => self.failed += 1,
            Place::Stopped => self.stopped += 1,
            Place::Live => {}
        }
    }
}

/// Where a record read counts.
fn place(read: &Option<Option<Run>>) -> Place {
    let Some(run) = read else {
        return Place::Unreadable;
    };
    let Some(run) = run else {
        return Place::NotStarted;
    };
    match (run.facts.ended, run.facts.stopped, &run.facts.identity) {
        (true, true, _) => Place::Stopped,
        (true, false, _) if run.exit_code == Some(0) => Place::Ok,
        (true, false, _) => Place::Failed,
        (false, _, None) => Place::NotStarted,
        (false, _, Some(_)) => Place::Live,
    }
}

/// Where the record a kept line was made from counts, from the line's fields alone (as [`place`]
/// of what [`parse`] gives back, which a test holds it to); `None` for a state that is not one.
fn place_of_line(f: &[&str; FIELDS]) -> Option<Place> {
    let identity = f[5..8].iter().all(|v| *v != "-");
    Some(match f[4] {
        "u" => Place::Unreadable,
        "n" => Place::NotStarted,
        "s" => Place::Stopped,
        "e" if f[8] == "0" => Place::Ok,
        "e" => Place::Failed,
        "r" if identity => Place::Live,
        "r" => Place::NotStarted,
        _ => return None,
    })
}

/// The kept live runs proven, at every prompt: each line read in place (nothing allocated but the
/// name), and a run whose kept proof holds costs one `stat`. A run proven anew (its proof did not
/// hold) changes its line: then every line comes back, to be written. `None` when a line is not
/// one (the file is then rebuilt).
fn prove_kept(text: &str) -> Option<(Vec<Live>, Option<Lines<'_>>)> {
    let mut live = Vec::new();
    let mut changed = false;
    // Gathered only once a line changed (the lines before it borrowed as they are): at most
    // prompts nothing changes, and the file is not written.
    let mut lines: Option<Lines> = None;
    let all = text;
    for (i, text) in all.lines().enumerate() {
        let f = fields(text)?;
        let pid = f[5].parse().ok()?;
        let activity = activity_of(f[9])?;
        let held = held_of(f[11])?;
        let instance = match f[10] {
            "x" | "-" => None,
            n => Some(n.parse().ok()?),
        };
        let entry = instance.and_then(|i| process::still_alive(pid, f[7], i));
        let status = match (f[10], entry) {
            ("x", _) => RunStatus::Lost,
            (_, Some(_)) => RunStatus::Running,
            _ => {
                // Proven anew, in full.
                let (name, entry) = parse(text)?;
                let mut entries = vec![(name, entry)];
                let (statuses, proved) = prove_all(&mut entries);
                changed |= proved;
                let (name, entry) = entries.pop()?;
                lines
                    .get_or_insert_with(|| all.lines().take(i).map(Cow::Borrowed).collect())
                    .push(line_of(&name, &entry));
                live.push(Live {
                    name,
                    pid,
                    activity,
                    status: statuses[0],
                    entry: None,
                    instance: entry.proof.instance(),
                    held,
                });
                continue;
            }
        };
        if let Some(lines) = &mut lines {
            lines.push(Cow::Borrowed(text));
        }
        live.push(Live {
            name: f[0].to_owned(),
            pid,
            activity,
            status,
            entry,
            instance: instance.filter(|_| entry.is_some()),
            held,
        });
    }
    Some((live, lines.filter(|_| changed)))
}

/// Prove each live run running or lost: each one's status, and whether any proof kept changed.
fn prove_all(live: &mut Entries) -> (Vec<RunStatus>, bool) {
    let mut changed = false;
    let statuses = live
        .iter_mut()
        .map(|(_, e)| {
            let Some(id) = e.read.as_ref().and_then(|r| r.as_ref()?.facts.identity.as_ref()) else {
                return RunStatus::NotStarted;
            };
            let (status, proof) = match e.proof {
                Proof::Lost => (RunStatus::Lost, Proof::Lost),
                Proof::Alive(instance) if process::still_alive(id.pid, &id.boot_id, instance).is_some() => {
                    (RunStatus::Running, e.proof)
                }
                Proof::Alive(_) | Proof::Unknown => match process::check_noting(id) {
                    (Liveness::Alive, Some(instance)) => (RunStatus::Running, Proof::Alive(instance)),
                    (Liveness::Alive, None) => (RunStatus::Running, Proof::Unknown),
                    (Liveness::Gone | Liveness::Reused, _) => (RunStatus::Lost, Proof::Lost),
                },
            };
            if proof != e.proof {
                changed = true;
                e.proof = proof;
                e.kept = None;
            }
            status
        })
        .collect();
    (statuses, changed)
}

fn live_of(live: Entries, statuses: Vec<RunStatus>) -> Vec<Live> {
    live.into_iter()
        .zip(statuses)
        .filter_map(|((name, e), status)| {
            let run = e.read??;
            Some(Live {
                name,
                pid: run.facts.identity?.pid,
                activity: run.activity,
                status,
                entry: None,
                instance: e.proof.instance(),
                held: run.held,
            })
        })
        .collect()
}

fn nanos_of(meta: &std::fs::Metadata) -> i128 {
    i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec())
}

/// How a kept file names the store it is about.
const STORE_LINE: &str = "# store ";
/// The store's folder it was made from, and when: `# folder <ino> <mtime_ns> <made_ns>`.
const FOLDER_LINE: &str = "# folder ";
/// Ends the live runs: `# settled <unreadable> <not_started> <ok> <failed> <stopped>`.
const SETTLED_LINE: &str = "# settled ";

fn header(store: &Store, folder: Folder, made_ns: i128) -> String {
    // The first line names the store, for `forget_gone_stores`.
    format!(
        "{STORE_LINE}{}\n{FOLDER_LINE}{} {} {made_ns}\n",
        store.dir().display(),
        folder.ino,
        folder.mtime_ns
    )
}

fn settled_line(s: &Settled) -> String {
    format!(
        "{SETTLED_LINE}{} {} {} {} {}\n",
        s.unreadable, s.not_started, s.ok, s.failed, s.stopped
    )
}

/// A kept file, read lazily: the settled records' lines are parsed only when the folder changed.
#[derive(Default)]
struct Kept<'a> {
    folder: Option<Folder>,
    made_ns: Option<i128>,
    live: &'a str,
    settled: Option<Settled>,
    /// The settled line and every line after it, as written.
    rest: &'a str,
}

impl<'a> Kept<'a> {
    fn parse(text: &'a str) -> Kept<'a> {
        let mut kept = Kept::default();
        let mut body = text;
        // The header's lines, up to the first record's or the settled line.
        while body.starts_with("# ") && !body.starts_with(SETTLED_LINE) {
            let (line, next) = body.split_once('\n').unwrap_or((body, ""));
            if let Some(f) = line.strip_prefix(FOLDER_LINE)
                && let [ino, mtime, made] = f.split(' ').collect::<Vec<_>>().as_slice()
            {
                kept.folder = ino
                    .parse()
                    .ok()
                    .zip(mtime.parse().ok())
                    .map(|(ino, mtime_ns)| Folder { ino, mtime_ns });
                kept.made_ns = made.parse().ok();
            }
            body = next;
        }
        let (live, rest) = match body.find(&format!("\n{SETTLED_LINE}")) {
            Some(i) => (&body[..i + 1], &body[i + 1..]),
            None if body.starts_with(SETTLED_LINE) => ("", body),
            None => (body, ""),
        };
        kept.live = live;
        kept.rest = rest;
        kept.settled = rest
            .lines()
            .next()
            .and_then(|l| l.strip_prefix(SETTLED_LINE))
            .and_then(|l| {
                let n: Vec<usize> = l.split(' ').map(|n| n.parse().ok()).collect::<Option<_>>()?;
                let [unreadable, not_started, ok, failed, stopped] = n.as_slice() else {
                    return None;
                };
                Some(Settled {
                    unreadable: *unreadable,
                    not_started: *not_started,
                    ok: *ok,
                    failed: *failed,
                    stopped: *stopped,
                })
            });
        kept
    }

    /// Every record's line, live and settled.
    fn lines(&self) -> impl Iterator<Item = &'a str> {
        self.live.lines().chain(self.rest.lines().skip(1))
    }
}

/// Remove the kept files of stores that no longer exist (a repository deleted, a temporary one):
/// each names its store on its first line, and only a file of ours (`glance-…` in our private
/// folder) whose store is gone is removed. Done when a new store's file is about to be made, so
/// the folder holds no more files than there are repositories.
fn forget_gone_stores(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("glance-") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        // A file that does not name its store is not one this version wrote: it goes too.
        let store = text.lines().next().and_then(|l| l.strip_prefix(STORE_LINE));
        if store.is_none_or(|s| !std::path::Path::new(s).is_dir()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// One line per record, fields separated by spaces (a shard name has none):
/// `name ino size mtime_ns state pid start_ticks boot_id exit_code activity proof held`, where
/// state is `u` (unreadable), `n` (no run), `r` (a run), `e` (ended), `s` (ended by a stop), proof
/// is the instance of a live run's process or `x` for a lost one, held is its supervisor's
/// descriptor of the agent's folder ([`Held`]), and absent values are `-`.
fn line(name: &str, e: &Entry) -> String {
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let (state, run) = match &e.read {
        None => ("u", None),
        Some(None) => ("n", None),
        Some(Some(run)) => match (run.facts.ended, run.facts.stopped) {
            (true, true) => ("s", Some(run)),
            (true, false) => ("e", Some(run)),
            _ => ("r", Some(run)),
        },
    };
    let id = run.and_then(|r| r.facts.identity.as_ref());
    let proof = match e.proof {
        Proof::Alive(instance) => instance.to_string(),
        Proof::Lost => "x".into(),
        Proof::Unknown => "-".into(),
    };
    format!(
        "{name} {} {} {} {state} {} {} {} {} {} {proof} {}",
        e.ino,
        e.size,
        e.mtime_ns,
        dash(id.map(|i| i.pid.to_string())),
        dash(id.map(|i| i.start_ticks.to_string())),
        dash(id.map(|i| i.boot_id.clone())),
        dash(run.and_then(|r| r.exit_code).map(|c| c.to_string())),
        dash(run.and_then(|r| r.activity).map(|a| a.as_str().to_owned())),
        dash(run.and_then(|r| r.held).map(|h| h.to_string())),
    )
}

/// An entry's line: the kept one while it still holds, else made anew.
fn line_of<'a>(name: &str, e: &Entry<'a>) -> Cow<'a, str> {
    match e.kept {
        Some(kept) => Cow::Borrowed(kept),
        None => Cow::Owned(line(name, e)),
    }
}

fn push_line(text: &mut String, line: &str) {
    text.push_str(line);
    text.push('\n');
}

/// How many fields a line has.
const FIELDS: usize = 12;

/// A line's fields; `None` unless there are exactly [`FIELDS`].
fn fields(text: &str) -> Option<[&str; FIELDS]> {
    // By bytes: `str::split` searched for each space anew, which cost more than a `stat` per line
    // when the folder changed and every kept line was looked at (`memchr`, one call per field,
    // cost more as well: the fields are short).
    let mut f = [""; FIELDS];
    let (mut n, mut start) = (0, 0);
    for (i, b) in text.bytes().enumerate() {
        if b == b' ' {
            *f.get_mut(n)? = &text[start..i];
            (n, start) = (n + 1, i + 1);
        }
    }
    *f.get_mut(n)? = &text[start..];
    (n == FIELDS - 1).then_some(f)
}

/// A kept [`Held`] back: `Some(None)` for none, `None` for a word that is not one.
fn held_of(word: &str) -> Option<Option<Held>> {
    match word {
        "-" => Some(None),
        held => Some(Some(held.parse().ok()?)),
    }
}

/// A kept activity back: `Some(None)` for none, `None` for a word that is not one.
fn activity_of(word: &str) -> Option<Option<Activity>> {
    Some(match word {
        "-" => None,
        "working" => Some(Activity::Working),
        "waiting" => Some(Activity::Waiting),
        "idle" => Some(Activity::Idle),
        _ => return None,
    })
}

/// A line back; `None` for anything that is not exactly one (it is then read again).
fn parse(text: &str) -> Option<(String, Entry<'_>)> {
    let [
        name,
        ino,
        size,
        mtime,
        state,
        pid,
        ticks,
        boot,
        code,
        activity,
        proof,
        held,
    ] = &fields(text)?;
    let opt = |v: &str| (v != "-").then(|| v.to_owned());
    let identity = match (opt(pid), opt(ticks), opt(boot)) {
        (Some(pid), Some(ticks), Some(boot_id)) => Some(Identity {
            pid: pid.parse().ok()?,
            start_ticks: ticks.parse().ok()?,
            boot_id,
        }),
        _ => None,
    };
    let run = |ended: bool, stopped: bool| -> Option<Run> {
        Some(Run {
            facts: RunFacts {
                ended,
                stopped,
                identity: identity.clone(),
            },
            exit_code: match opt(code) {
                Some(c) => Some(c.parse().ok()?),
                None => None,
            },
            activity: activity_of(activity)?,
            held: held_of(held)?,
        })
    };
    let read = match *state {
        "u" => None,
        "n" => Some(None),
        "r" => Some(Some(run(false, false)?)),
        "e" => Some(Some(run(true, false)?)),
        "s" => Some(Some(run(true, true)?)),
        _ => return None,
    };
    let proof = match *proof {
        "-" => Proof::Unknown,
        "x" => Proof::Lost,
        n => Proof::Alive(n.parse().ok()?),
    };
    Some((
        (*name).to_owned(),
        Entry {
            ino: ino.parse().ok()?,
            size: size.parse().ok()?,
            mtime_ns: mtime.parse().ok()?,
            read,
            proof,
            kept: Some(text),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_twelve_split_at_spaces() {
        let line = "n 1 2 3 r 5 6 b 8 - 10 11";
        assert_eq!(fields(line).map(Vec::from), Some(line.split(' ').collect()));
        assert_eq!(fields("n 1 2 3 r 5 6 b 8 - 10"), None, "eleven fields");
        assert_eq!(fields(&format!("{line} 12")), None, "thirteen fields");
        assert_eq!(
            fields(" 1 2 3 r 5 6 b 8 - 10 11").map(|f| f[0]),
            Some(""),
            "an empty field"
        );
    }

    #[test]
    fn lines_read_back_as_written() {
        let run = |ended, stopped, activity| Run {
            facts: RunFacts {
                ended,
                stopped,
                identity: Some(Identity {
                    pid: 42,
                    start_ticks: 9_000,
                    boot_id: "b-1".into(),
                }),
            },
            exit_code: ended.then_some(3),
            activity,
            held: (!ended).then_some(Held { supervisor: 41, fd: 5 }),
        };
        for (read, proof) in [
            (None, Proof::Unknown),
            (Some(None), Proof::Unknown),
            (
                Some(Some(run(false, false, Some(Activity::Waiting)))),
                Proof::Alive(Instance::new(77, 1_700_000_000_123_456_789)),
            ),
            (Some(Some(run(false, false, None))), Proof::Lost),
            (Some(Some(run(true, false, None))), Proof::Unknown),
            (Some(Some(run(true, true, None))), Proof::Unknown),
            (
                Some(Some(Run {
                    exit_code: Some(0),
                    ..run(true, false, None)
                })),
                Proof::Unknown,
            ),
            (
                Some(Some(Run {
                    facts: RunFacts {
                        ended: false,
                        stopped: false,
                        identity: None,
                    },
                    exit_code: None,
                    activity: None,
                    held: None,
                })),
                Proof::Unknown,
            ),
        ] {
            let e = Entry {
                ino: 7,
                size: 100,
                mtime_ns: 1_700_000_000_123_456_789,
                read: read.clone(),
                proof,
                kept: None,
            };
            let text = line("fix-login", &e);
            let (name, back) = parse(&text).unwrap();
            assert_eq!(
                (name.as_str(), &back.read, back.mtime_ns, back.proof, back.kept),
                ("fix-login", &read, e.mtime_ns, proof, Some(text.as_str()))
            );
            // A kept line counts where the record it was made from does, without being parsed.
            assert_eq!(place_of_line(&fields(&text).unwrap()), Some(place(&read)), "{text}");
        }
        assert!(parse("garbage").is_none());
    }

    #[test]
    fn a_time_vouches_once_a_change_would_get_another() {
        let ms = 1_000_000;
        let fine = 1_700_000_000_123_456_789;
        assert!(!is_settled(fine, fine + 50 * ms));
        assert!(is_settled(fine, fine + 100 * ms));
        // Kept to the second: a change within the next second keeps this very time.
        let coarse = 1_700_000_000_000_000_000;
        assert!(!is_settled(coarse, coarse + 1_500 * ms));
        assert!(is_settled(coarse, coarse + 2_100 * ms));
    }

    #[test]
    fn a_kept_file_reads_back_in_parts() {
        let text = "# store /r/.git/shards\n# folder 5 1000 2000\n\
                    a 1 2 3 r 42 9000 b - - 77:1000 41/fd/5\n\
                    # settled 1 2 3 4 5\n\
                    b 1 2 3 e - - - 0 - - -\n";
        let kept = Kept::parse(text);
        assert_eq!(kept.folder, Some(Folder { ino: 5, mtime_ns: 1000 }));
        assert_eq!(kept.made_ns, Some(2000));
        assert_eq!(kept.live.lines().filter_map(parse).count(), 1);
        assert_eq!(
            kept.settled,
            Some(Settled {
                unreadable: 1,
                not_started: 2,
                ok: 3,
                failed: 4,
                stopped: 5
            })
        );
        assert_eq!(kept.lines().count(), 2);
        assert!(kept.rest.starts_with(SETTLED_LINE));
    }
}
