//! The hosts' part of `list`: every configured host asked at once (`git-shard list --json`
//! there), each within [`host::LIST_TIMEOUT`]; what one answered is cached for the prompt and
//! completion, which never touch the network. A host that did not answer shows its shards as
//! last heard, with the status `unreachable` and when that was: never as lost or exited.

use serde_json::Value;

use crate::context::Workspace;
use crate::host::{self, Host, Unreachable};
use crate::output::{Cell, Paint, age};

/// One shard on a host, as its JSON in `list --json` (with `host`, and for an unreachable host
/// `status: "unreachable"` and `as_of`, the time it was last heard).
pub struct Remote {
    pub host: String,
    pub json: Value,
    pub reachable: bool,
}

/// Ask every configured host for its shards, in parallel, on a thread of its own: `list` does
/// its local work meanwhile and then [`Asking::answers`] joins it.
pub struct Asking(Option<std::thread::JoinHandle<Vec<Remote>>>);

pub fn ask_all(ws: &Workspace) -> Asking {
    if ws.config.hosts.is_empty() {
        // Hosts configured no more: the prompt shows none.
        host::write_glances(&ws.repo.common_dir(), &[]);
        return Asking(None);
    }
    let common = ws.repo.common_dir();
    let hosts: Vec<Host> = ws
        .config
        .hosts
        .keys()
        .filter_map(|name| Host::lookup(&ws.config, name).ok())
        .collect();
    Asking(Some(std::thread::spawn(move || ask_hosts(hosts, &common))))
}

impl Asking {
    /// Nobody asked (`list --local`).
    pub fn none() -> Asking {
        Asking(None)
    }

    pub fn answers(self) -> Vec<Remote> {
        self.0.and_then(|t| t.join().ok()).unwrap_or_default()
    }
}

fn ask_hosts(hosts: Vec<Host>, common: &std::path::Path) -> Vec<Remote> {
    let common = common.to_path_buf();
    type Answer = Result<(Vec<Value>, Vec<u8>), String>;
    let answers: Vec<(Host, Answer)> = match <[Host; 1]>::try_from(hosts) {
        // One host is asked on this thread (already beside `list`'s own work).
        Ok([h]) => {
            let answer = ask(&h);
            vec![(h, answer)]
        }
        Err(hosts) => std::thread::scope(|scope| {
            let asked: Vec<_> = hosts
                .into_iter()
                .map(|h| {
                    scope.spawn(move || {
                        let answer = ask(&h);
                        (h, answer)
                    })
                })
                .collect();
            asked.into_iter().filter_map(|t| t.join().ok()).collect()
        }),
    };
    let pointers = host::pointers(&common);
    let mut all = Vec::new();
    let mut glances = Vec::new();
    for (h, answer) in answers {
        match answer {
            Ok((shards, answer)) => {
                host::write_cache(&common, &h.name, &answer);
                glances.push(host::Glance::of(&h.name, jiff::Timestamp::now(), true, &shards));
                all.extend(shards.into_iter().map(|mut json| {
                    json["host"] = Value::String(h.name.clone());
                    Remote {
                        host: h.name.clone(),
                        json,
                        reachable: true,
                    }
                }));
            }
            Err(why) => {
                let cached = host::cached(&common, &h.name);
                let as_of = cached.as_ref().map(|c| c.at);
                eprintln!(
                    "warning: host '{}' is unreachable ({why}); its shards are shown as {}",
                    h.name,
                    match as_of {
                        Some(at) => format!("last heard {} ago", age(at)),
                        None => "recorded here".into(),
                    }
                );
                let mut known: Vec<Value> = cached.map(|c| c.shards).unwrap_or_default();
                glances.push(host::Glance::of(
                    &h.name,
                    as_of.unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                    false,
                    &known,
                ));
                for p in pointers.iter().filter(|p| p.host == h.name) {
                    if !known.iter().any(|s| s["name"] == p.name.as_str()) {
                        known.push(
                            serde_json::json!({ "name": p.name, "branch": p.branch, "created_at": p.created_at }),
                        );
                    }
                }
                all.extend(known.into_iter().map(|mut json| {
                    json["host"] = Value::String(h.name.clone());
                    json["status"] = Value::String("unreachable".into());
                    json["activity"] = Value::Null;
                    json["as_of"] = as_of.map_or(Value::Null, |t| Value::String(t.to_string()));
                    Remote {
                        host: h.name.clone(),
                        json,
                        reachable: false,
                    }
                }));
            }
        }
    }
    glances.sort_by(|a, b| a.host.cmp(&b.host));
    host::write_glances(&common, &glances);
    all
}

/// The host's shards, and its answer as it came (what is cached).
fn ask(h: &Host) -> Result<(Vec<Value>, Vec<u8>), String> {
    // `--local`: the host answers for its own shards, without asking hosts of its own (which may
    // be this machine: a user's configuration is often the same on both).
    let out = match h.run_git_shard(&["list", "--json", "--local"], Some(host::LIST_TIMEOUT)) {
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
    let mut shards = serde_json::from_slice::<Vec<Value>>(&out.stdout)
        .map_err(|e| format!("its answer is not a list of shards: {e}"))?;
    // Only the host's own: a shard it reports from a host of its own is not one of its shards
    // (and is not cached as one).
    let all = shards.len();
    shards.retain(|s| s["host"].is_null());
    let answer = match shards.len() == all {
        true => out.stdout,
        false => serde_json::to_vec(&shards).unwrap_or_default(),
    };
    Ok((shards, answer))
}

/// A table row of `list` for a shard on a host: its path is `<host>:<path>`.
pub fn row(r: &Remote, paint: Paint) -> Vec<Cell> {
    let j = &r.json;
    let text = |k: &str| j[k].as_str().unwrap_or("").to_owned();
    let status = describe(r);
    let status_cell = match (r.reachable, text("status").as_str()) {
        (false, _) => Cell::painted(&status, |t| paint.yellow(t)),
        (_, "running") => Cell::painted(&status, |t| paint.green(t)),
        (_, "lost") => Cell::painted(&status, |t| paint.red(t)),
        (_, "exited") if j["exit_code"] != 0 => Cell::painted(&status, |t| paint.yellow(t)),
        (_, "exited") => Cell::plain(status),
        _ => Cell::painted(&status, |t| paint.dim(t)),
    };
    let activity = match j["activity"].as_str() {
        Some(a @ "waiting") => Cell::painted(a, |t| paint.yellow(t)),
        Some(a) => Cell::plain(a),
        None => Cell::painted("-", |t| paint.dim(t)),
    };
    let branch = match j["merged"].as_str() {
        Some(_) => Cell::painted(&format!("{} (merged)", text("branch")), |t| paint.dim(t)),
        None => Cell::plain(text("branch")),
    };
    let created = text("created_at")
        .parse::<jiff::Timestamp>()
        .map(age)
        .unwrap_or_else(|_| "-".into());
    let path = match j["path"].as_str() {
        Some(p) => format!("{}:{p}", r.host),
        None => format!("{}:", r.host),
    };
    vec![
        Cell::painted(&text("name"), |t| paint.bold(t)),
        status_cell,
        activity,
        branch,
        Cell::plain(created),
        Cell::plain(path),
    ]
}

/// The status as `list` words it for a shard of this machine (see `shard::status::words`).
fn describe(r: &Remote) -> String {
    let j = &r.json;
    let unreachable = match j["as_of"].as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok()) {
        Some(at) => format!("unreachable (as of {} ago)", age(at)),
        None => "unreachable".into(),
    };
    let prune = format!("`git shard prune` on {}", r.host);
    crate::shard::status::words(&crate::shard::status::Said {
        status: match j["status"].as_str() {
            Some("unreachable") => &unreachable,
            Some(status) => status,
            None => "unknown",
        },
        pid: j["pid"].as_u64(),
        exit_code: j["exit_code"].as_i64(),
        signal: j["signal"].as_i64(),
        incomplete: j["incomplete"] == true,
        removing: j["removing"] == true,
        orphaned: j["orphaned"] == true,
        prune: &prune,
    })
}
