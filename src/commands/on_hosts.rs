//! The hosts' part of `list`: every configured host asked at once (`git-shard list --json`
//! there), each within [`host::LIST_TIMEOUT`]; what one answered is cached for the prompt and
//! completion, which never touch the network. A host that did not answer shows its shards as
//! last heard, with the status `unreachable` and when that was: never as lost or exited.

use serde_json::Value;

use crate::context::Workspace;
use crate::host::{self, Heard, Host, Unreachable};
use crate::output::{Cell, Paint, age};

/// One shard on a host, as its host told it (or as last heard, for an unreachable host).
pub struct Remote {
    pub host: String,
    pub heard: Heard,
    pub reachable: bool,
    /// When an unreachable host was last heard (never: `None`).
    pub as_of: Option<jiff::Timestamp>,
}

impl Remote {
    /// Its object in `list --json` (asked for with [`ask_all`]'s `whole`): the host's, with
    /// `host` set, and for an unreachable host `status: "unreachable"`, no activity and `as_of`,
    /// the time it was last heard.
    pub fn json(self) -> Value {
        let mut json = self.heard.json.unwrap_or_default();
        json["host"] = Value::String(self.host);
        if !self.reachable {
            json["status"] = Value::String("unreachable".into());
            json["activity"] = Value::Null;
            json["as_of"] = self.as_of.map_or(Value::Null, |t| Value::String(t.to_string()));
        }
        json
    }
}

/// Every configured host asked for its shards, all at once: the ssh commands are started, and
/// `list` does its local work while they run; [`Asking::answers`] then reads what they said.
pub struct Asking {
    started: Vec<(Host, host::Started)>,
    /// Hosts whose ssh could not even start, and why.
    failed: Vec<(Host, String)>,
    common: std::path::PathBuf,
    whole: bool,
}

/// `whole`: keep each shard's whole object, for [`Remote::json`].
pub fn ask_all(ws: &Workspace, whole: bool) -> Asking {
    let mut asking = Asking {
        common: ws.repo.common_dir(),
        whole,
        ..Asking::none()
    };
    if ws.config.hosts.is_empty() {
        // Hosts configured no more: the prompt shows none.
        host::write_glances(&asking.common, &[]);
    }
    for h in ws
        .config
        .hosts
        .keys()
        .filter_map(|name| Host::lookup(&ws.config, name).ok())
    {
        // `--local`: a host answers for its own shards, without asking hosts of its own (which
        // may be this machine: a user's configuration is often the same on both).
        match h.start_git_shard(&["list", "--json", "--local"], Some(host::LIST_TIMEOUT)) {
            Ok(started) => asking.started.push((h, started)),
            Err(e) => asking.failed.push((h, e.to_string())),
        }
    }
    asking
}

impl Asking {
    /// Nobody asked (`list --local`).
    pub fn none() -> Asking {
        Asking {
            started: Vec::new(),
            failed: Vec::new(),
            common: Default::default(),
            whole: false,
        }
    }

    pub fn answers(self) -> Vec<Remote> {
        if self.started.is_empty() && self.failed.is_empty() {
            return Vec::new();
        }
        let (hosts, started): (Vec<Host>, Vec<host::Started>) = self.started.into_iter().unzip();
        let mut answers: Vec<(Host, Answer)> = hosts
            .into_iter()
            .zip(host::Started::wait_all(started))
            .map(|(h, ended)| {
                let answer = judge(&h, ended, self.whole);
                (h, answer)
            })
            .collect();
        answers.extend(self.failed.into_iter().map(|(h, why)| (h, Err(why))));
        answers.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        heard(answers, &self.common, self.whole)
    }
}

type Answer = Result<(Vec<Heard>, Vec<u8>), String>;

/// What the hosts answered, with what was last heard of those that did not.
fn heard(answers: Vec<(Host, Answer)>, common: &std::path::Path, whole: bool) -> Vec<Remote> {
    let pointers = host::pointers(common);
    let mut all = Vec::new();
    let mut glances = Vec::new();
    for (h, answer) in answers {
        match answer {
            Ok((shards, answer)) => {
                host::write_cache(common, &h.name, &answer);
                glances.push(host::Glance::of(&h.name, jiff::Timestamp::now(), true, &shards));
                all.extend(shards.into_iter().map(|heard| Remote {
                    host: h.name.clone(),
                    heard,
                    reachable: true,
                    as_of: None,
                }));
            }
            Err(why) => {
                let cached = host::cached(common, &h.name, whole);
                let as_of = cached.as_ref().map(|c| c.at);
                eprintln!(
                    "warning: host '{}' is unreachable ({why}); its shards are shown as {}",
                    h.name,
                    match as_of {
                        Some(at) => format!("last heard {} ago", age(at)),
                        None => "recorded here".into(),
                    }
                );
                let mut known: Vec<Heard> = cached.map(|c| c.shards).unwrap_or_default();
                glances.push(host::Glance::of(
                    &h.name,
                    as_of.unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                    false,
                    &known,
                ));
                for p in pointers.iter().filter(|p| p.host == h.name) {
                    if !known.iter().any(|s| s.shard.name == p.name) {
                        known.push(Heard::of_pointer(p));
                    }
                }
                all.extend(known.into_iter().map(|heard| Remote {
                    host: h.name.clone(),
                    heard,
                    reachable: false,
                    as_of,
                }));
            }
        }
    }
    glances.sort_by(|a, b| a.host.cmp(&b.host));
    host::write_glances(common, &glances);
    all
}

/// The host's shards, and its answer as it came (what is cached).
fn judge(h: &Host, ended: host::Ended, whole: bool) -> Answer {
    let out = match h.finished(ended) {
        Ok(Ok(out)) => out,
        Ok(Err(Unreachable(why))) => return Err(why),
        Err(e) => return Err(e.to_string()),
    };
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "`git-shard list` failed there: {}",
            crate::output::clean(said.lines().next().unwrap_or("").trim())
        ));
    }
    let not_shards = |e: serde_json::Error| format!("its answer is not a list of shards: {e}");
    let mut shards = Heard::parse_all(&out.stdout, whole).map_err(not_shards)?;
    // Only the host's own: a shard it reports from a host of its own is not one of its shards
    // (and is not cached as one).
    if shards.iter().all(|s| s.shard.host.is_none()) {
        return Ok((shards, out.stdout));
    }
    shards.retain(|s| s.shard.host.is_none());
    let mut objects: Vec<Value> = serde_json::from_slice(&out.stdout).map_err(not_shards)?;
    objects.retain(|s| s["host"].is_null());
    let answer = serde_json::to_vec(&objects).unwrap_or_default();
    Ok((shards, answer))
}

/// A table row of `list` for a shard on a host: its path is `<host>:<path>`.
pub fn row(r: &Remote, paint: Paint) -> Vec<Cell> {
    let s = &r.heard.shard;
    let status = describe(r);
    let status_cell = match (r.reachable, s.status.as_deref()) {
        (false, _) => Cell::painted(&status, |t| paint.yellow(t)),
        (_, Some("running")) => Cell::painted(&status, |t| paint.green(t)),
        (_, Some("lost")) => Cell::painted(&status, |t| paint.red(t)),
        (_, Some("exited")) if s.exit_code != Some(0) => Cell::painted(&status, |t| paint.yellow(t)),
        (_, Some("exited")) => Cell::plain(status),
        _ => Cell::painted(&status, |t| paint.dim(t)),
    };
    let activity = match s.activity.as_deref().filter(|_| r.reachable) {
        Some(a @ "waiting") => Cell::painted(a, |t| paint.yellow(t)),
        Some(a) => Cell::plain(a),
        None => Cell::painted("-", |t| paint.dim(t)),
    };
    let branch = match s.merged {
        Some(_) => Cell::painted(&format!("{} (merged)", s.branch), |t| paint.dim(t)),
        None => Cell::plain(&s.branch),
    };
    let created = s.created_at.map(age).unwrap_or_else(|| "-".into());
    let path = format!("{}:{}", r.host, s.path.as_deref().unwrap_or(""));
    vec![
        Cell::painted(&s.name, |t| paint.bold(t)),
        status_cell,
        activity,
        branch,
        Cell::plain(created),
        Cell::plain(path),
    ]
}

/// The status as `list` words it for a shard of this machine (see `shard::status::words`).
fn describe(r: &Remote) -> String {
    let s = &r.heard.shard;
    let unreachable = match r.as_of {
        Some(at) => format!("unreachable (as of {} ago)", age(at)),
        None => "unreachable".into(),
    };
    let prune = format!("`git shard prune` on {}", r.host);
    crate::shard::status::words(&crate::shard::status::Said {
        status: match (r.reachable, s.status.as_deref()) {
            (false, _) => &unreachable,
            (true, Some(status)) => status,
            (true, None) => "unknown",
        },
        pid: s.pid,
        exit_code: s.exit_code,
        signal: s.signal,
        incomplete: s.incomplete,
        removing: s.removing,
        orphaned: s.orphaned,
        prune: &prune,
    })
}
