//! The reliability suite: tries to break git-shard with races, crashes, hostile identities,
//! hostile input and awkward process trees, and checks after each case that records, worktrees,
//! branches and locks agree and that nothing of the user's was lost or wrongly signalled.
//!
//! A custom harness (`harness = false`): scenarios run a few at a time, and the suite ends with a
//! summary of scenarios and cases. Run alone with `cargo test --test reliability`.

#[allow(dead_code)]
#[path = "cli/common.rs"]
mod common;

use std::collections::BTreeSet;
use std::fs;
use std::panic::{self, AssertUnwindSafe};

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// Counts the cases a scenario checked.
#[derive(Default)]
struct Cases(AtomicUsize);

impl Cases {
    fn one(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

type Scenario = (&'static str, fn(&Cases));

const SCENARIOS: &[Scenario] = &[
    ("races: 20 parallel `new` of distinct names", race_distinct_news),
    ("races: 8-way `new` of one name", race_one_name),
    ("races: `rm` vs `stop` vs `list`", race_rm_stop_list),
    ("races: `new` vs `prune`", race_new_prune),
    ("crashes: SIGKILL `new` at many points", crash_new),
    (
        "crashes: SIGKILL `new` while it waits for the supervisor",
        crash_new_launching,
    ),
    ("crashes: SIGKILL `new` and its git together", crash_new_and_git),
    ("crashes: SIGKILL `rm` at many points", crash_rm),
    (
        "hostile identity: PID 1, own PID, stranger, zombie, other boot",
        hostile_identity,
    ),
    ("soak: seeded commands, SIGKILLs and a user at work", soak),
    ("hostile input: fuzzed records", hostile_records),
    ("hostile input: metacharacters in branches", hostile_branches),
    ("process trees: grandchildren and ignored SIGTERM", trees_grandchildren),
    (
        "process trees: a child that setsid()s away ends with the run",
        trees_setsid,
    ),
];

fn main() {
    let started = Instant::now();
    // RELIABILITY_ONLY=<text> runs only the scenarios whose name contains it.
    let only = std::env::var("RELIABILITY_ONLY").unwrap_or_default();
    let chosen: Vec<&Scenario> = SCENARIOS
        .iter()
        .filter(|(name, _)| name.contains(only.as_str()))
        .collect();
    let results: Vec<(&str, Result<usize, String>)> = thread::scope(|scope| {
        // Two at a time: enough to overlap waiting, not so many that timing-sensitive cases starve.
        chosen
            .chunks(2)
            .flat_map(|pair| {
                let handles: Vec<_> = pair
                    .iter()
                    .map(|(name, run)| {
                        scope.spawn(move || {
                            let cases = Cases::default();
                            let outcome = panic::catch_unwind(AssertUnwindSafe(|| run(&cases)));
                            let n = cases.0.load(Ordering::Relaxed);
                            let result = outcome.map(|_| n).map_err(|e| {
                                e.downcast_ref::<String>()
                                    .cloned()
                                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                                    .unwrap_or_else(|| "panicked".into())
                            });
                            (*name, result)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("scenario thread"))
                    .collect::<Vec<_>>()
            })
            .collect()
    });
    let mut cases = 0;
    let mut failed = 0;
    for (name, result) in &results {
        match result {
            Ok(n) => {
                cases += n;
                println!("ok      {name} ({n} cases)");
            }
            Err(e) => {
                failed += 1;
                println!("FAILED  {name}\n        {}", e.replace('\n', "\n        "));
            }
        }
    }
    println!(
        "\nreliability: {} scenarios, {cases} cases in {:.1} s{}",
        results.len(),
        started.elapsed().as_secs_f64(),
        if failed == 0 {
            "; nothing lost, nothing wrongly signalled"
        } else {
            ""
        }
    );
    println!("{} passed, {failed} failed", results.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Agreement: what every case checks at its end.

/// Records, git's worktrees, branches and locks agree: every record names a complete worktree
/// that git lists on the record's branch; every linked worktree and every `shard/*` branch has a
/// record (except branches in `kept`, kept on purpose because they hold commits); only running
/// shards are locked, and only by git-shard; nothing under the shards folder lacks a record.
fn assert_agreement(repo: &TestRepo, kept: &[String]) {
    let records = repo.list();
    let porcelain = repo.git(&["worktree", "list", "--porcelain"]);
    let mut git_worktrees: Vec<(String, String, Option<String>)> = Vec::new();
    for block in porcelain.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let path = block
            .lines()
            .find_map(|l| l.strip_prefix("worktree "))
            .unwrap_or_default()
            .to_owned();
        let branch = block
            .lines()
            .find_map(|l| l.strip_prefix("branch refs/heads/"))
            .unwrap_or_default()
            .to_owned();
        let locked = block
            .lines()
            .find_map(|l| l.strip_prefix("locked"))
            .map(|r| r.trim().to_owned());
        git_worktrees.push((path, branch, locked));
    }
    let linked = &git_worktrees[1..];
    for r in &records {
        let name = r["name"].as_str().unwrap();
        assert_eq!(r["incomplete"], false, "{name}: incomplete record left behind");
        assert_eq!(r["worktree_exists"], true, "{name}: record without worktree: {r:#}");
        let path = r["path"].as_str().unwrap();
        let entry = linked.iter().find(|(p, ..)| p == path);
        let (_, branch, locked) = entry.unwrap_or_else(|| panic!("{name}: git does not list {path}"));
        assert_eq!(branch, r["branch"].as_str().unwrap(), "{name}: branch");
        match locked {
            Some(reason) => {
                assert!(
                    reason.starts_with("git-shard:"),
                    "{name}: locked by someone else: {reason}"
                );
                assert_eq!(r["status"], "running", "{name}: locked but not running");
            }
            None => assert_ne!(r["status"], "running", "{name}: running but not locked"),
        }
    }
    let recorded: BTreeSet<&str> = records.iter().map(|r| r["path"].as_str().unwrap()).collect();
    for (path, ..) in linked {
        assert!(recorded.contains(path.as_str()), "git worktree {path} has no record");
    }
    let recorded_branches: BTreeSet<&str> = records.iter().map(|r| r["branch"].as_str().unwrap()).collect();
    for b in repo.branches().iter().filter(|b| b.starts_with("shard/")) {
        assert!(
            recorded_branches.contains(b.as_str()) || kept.contains(b),
            "branch {b} has no record"
        );
    }
    if let Ok(entries) = fs::read_dir(repo.shards_dir()) {
        for e in entries.flatten() {
            let p = e.path().display().to_string();
            assert!(recorded.contains(p.as_str()), "{p} left under the shards folder");
        }
    }
    let admin = repo.common_dir().join("worktrees");
    if let Ok(entries) = fs::read_dir(&admin) {
        let entries: Vec<String> = entries
            .flatten()
            .map(|e| {
                let files: Vec<String> = fs::read_dir(e.path())
                    .map(|d| {
                        d.flatten()
                            .map(|f| f.file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                format!("{} {files:?}", e.file_name().to_string_lossy())
            })
            .collect();
        assert_eq!(entries.len(), linked.len(), "stray admin entries: {entries:?}");
    }
}

fn add_files(repo: &TestRepo, n: usize) {
    for i in 0..n {
        let dir = repo.root.join(format!("src/d{}", i / 100));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(format!("f{i}.txt")), format!("{i}\n").repeat(40)).unwrap();
    }
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "files"]);
}

fn spawn_shard(repo: &TestRepo, args: &[&str]) -> std::process::Child {
    repo.command_in(&repo.root, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Races

fn race_distinct_news(cases: &Cases) {
    let repo = TestRepo::new();
    let barrier = Arc::new(Barrier::new(20));
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let args: Vec<String> = if i % 4 == 0 {
                vec!["new".into(), format!("d{i}"), "--".into(), "sleep".into(), "300".into()]
            } else {
                vec![
                    "new".into(),
                    format!("d{i}"),
                    "--no-launch".into(),
                    "--".into(),
                    "true".into(),
                ]
            };
            let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut cmd = repo.command_in(&repo.root, &args_ref);
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                cmd.output().unwrap()
            })
        })
        .collect();
    for h in handles {
        let out = h.join().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        cases.one();
    }
    assert_eq!(repo.list().len(), 20);
    assert_agreement(&repo, &[]);
}

fn race_one_name(cases: &Cases) {
    let repo = TestRepo::new();
    for round in 0..3 {
        let name = format!("same{round}");
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let mut cmd = repo.command_in(&repo.root, &["new", &name, "--", "sleep", "300"]);
                let barrier = barrier.clone();
                thread::spawn(move || {
                    barrier.wait();
                    cmd.output().unwrap()
                })
            })
            .collect();
        let wins = handles
            .into_iter()
            .filter(|_| true)
            .map(|h| h.join().unwrap())
            .filter(|o| o.status.success())
            .count();
        assert_eq!(wins, 1, "round {round}");
        assert_agreement(&repo, &[]);
        cases.one();
    }
}

fn race_rm_stop_list(cases: &Cases) {
    let repo = TestRepo::new();
    for round in 0..5 {
        let name = format!("r{round}");
        repo.ok(&["new", &name, "--", "sh", "-c", "sleep 300 & wait"]);
        let sid = repo.shard(&name)["process"]["sid"].as_u64().unwrap() as u32;
        let children: Vec<_> = [
            vec!["rm", &name],
            vec!["stop", &name],
            vec!["list", "--json"],
            vec!["stop", &name],
        ]
        .iter()
        .map(|args| spawn_shard(&repo, args))
        .collect();
        for mut c in children {
            c.wait().unwrap();
        }
        eventually("session gone", || session_members(sid).is_empty());
        // rm may have lost the race to nothing (it then refused or found the run stopped);
        // either the shard is whole and stopped, or it is gone entirely.
        if repo.record_path(&name).exists() {
            assert_ne!(repo.shard(&name)["status"], "running");
        }
        assert_agreement(&repo, &[]);
        cases.one();
    }
}

fn race_new_prune(cases: &Cases) {
    let repo = TestRepo::new();
    add_files(&repo, 300);
    let news: Vec<_> = (0..10)
        .map(|i| spawn_shard(&repo, &["new", &format!("p{i}"), "--no-launch", "--", "true"]))
        .collect();
    let prunes: Vec<_> = (0..4).map(|_| spawn_shard(&repo, &["prune"])).collect();
    for mut c in news {
        assert!(c.wait().unwrap().success(), "a new lost a race with prune");
        cases.one();
    }
    for mut c in prunes {
        c.wait().unwrap();
    }
    assert_eq!(repo.list().len(), 10, "prune never forgets a shard being created");
    assert_agreement(&repo, &[]);
}

// ---------------------------------------------------------------------------------------------
// Crashes

fn timed(f: impl FnOnce() -> String) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn kill_after(mut child: std::process::Child, delay: Duration) {
    thread::sleep(delay);
    let _ = Command::new("kill").args(["-9", &child.id().to_string()]).status();
    let _ = child.wait();
}

/// After a killed `new` of `name`: the next prune brings everything back into agreement, and the
/// name is usable again (or the shard is whole) and goes with `rm`. Returns what prune said.
fn prune_and_reuse(repo: &TestRepo, name: &str) -> String {
    let pruned = repo.ok(&["prune"]);
    assert_agreement(repo, &[]);
    if !repo.record_path(name).exists() {
        repo.ok(&["new", name, "--no-launch", "--", "true"]);
    }
    repo.ok(&["rm", name]);
    assert_agreement(repo, &[]);
    pruned
}

fn crash_new(cases: &Cases) {
    let repo = TestRepo::new();
    add_files(&repo, 2000);
    let mut interrupted = 0;
    // Spread the kills over how long an uninterrupted `new` takes on this machine right now.
    let took = timed(|| repo.ok(&["new", "probe", "--no-launch", "--", "true"]));
    repo.ok(&["rm", "probe"]);
    for step in 0..30 {
        let name = format!("c{step}");
        let child = spawn_shard(&repo, &["new", &name, "--no-launch", "--", "true"]);
        kill_after(child, took.mul_f64(1.2 * step as f64 / 30.0));
        if prune_and_reuse(&repo, &name).contains("undo-incomplete") {
            interrupted += 1;
        }
        cases.one();
    }
    assert!(
        interrupted >= 3,
        "only {interrupted} kills landed in the middle of a creation"
    );
}

/// As `crash_new`, but the kill takes the whole process group: `new`, the `git worktree add` it
/// runs, and git's own children (its checkout). What git leaves then (an entry still locked with
/// git-shard's reason, a half checked-out folder) is what `prune` must recognise and remove.
fn crash_new_and_git(cases: &Cases) {
    let repo = TestRepo::new();
    add_files(&repo, 2000);
    // How long git's own add takes here: the kills are spread over that window, from the moment
    // git has claimed its entry.
    let twin = repo.tmp.path().join("twin");
    let took = timed(|| repo.git(&["worktree", "add", "-q", "-b", "twin", &twin.display().to_string()]));
    repo.git(&["worktree", "remove", &twin.display().to_string()]);
    repo.git(&["branch", "-D", "twin"]);
    let mut left_locked = 0;
    for step in 0..20 {
        let name = format!("g{step}");
        let mut child = repo.spawn_job(&["new", &name, "--no-launch", "--", "true"], None);
        let lock = repo.common_dir().join("worktrees").join(&name).join("locked");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !lock.exists() && Instant::now() < deadline && child.try_wait().unwrap().is_none() {
            thread::sleep(Duration::from_micros(200));
        }
        thread::sleep(took.mul_f64(step as f64 / 20.0));
        kill_group(child.id(), "KILL");
        let _ = child.wait();
        if lock.exists() {
            left_locked += 1;
        }
        prune_and_reuse(&repo, &name);
        cases.one();
    }
    assert!(left_locked >= 3, "only {left_locked} kills left git's entry behind");
}

fn crash_new_launching(cases: &Cases) {
    let repo = TestRepo::new();
    for step in 0..10 {
        let name = format!("l{step}");
        let child = spawn_shard(&repo, &["new", &name, "--", "sh", "-c", "sleep 300 & wait"]);
        kill_after(child, Duration::from_millis(5 + step * 6));
        thread::sleep(Duration::from_millis(100));
        repo.ok(&["prune"]);
        // A supervisor that started goes on and is recorded: whatever runs is known.
        if let Some(v) = repo.list().into_iter().find(|v| v["name"] == name.as_str()) {
            if v["status"] == "running" {
                let sid = repo.shard(&name)["process"]["sid"].as_u64().unwrap() as u32;
                repo.ok(&["rm", &name]);
                assert!(session_members(sid).is_empty());
            } else {
                repo.ok(&["rm", "--force", &name]);
            }
        }
        assert_agreement(&repo, &[]);
        cases.one();
    }
}

fn crash_rm(cases: &Cases) {
    let repo = TestRepo::new();
    add_files(&repo, 1000);
    let mut kept = Vec::new();
    let mut interrupted = 0;
    // Spread the kills over how long an uninterrupted `rm` of a running shard takes here.
    repo.ok(&["new", "probe", "--", "sleep", "300"]);
    let took = timed(|| repo.ok(&["rm", "probe"]));
    for step in 0..25 {
        let name = format!("k{step}");
        repo.ok(&["new", &name, "--", "sleep", "300"]);
        // The user's work: one commit on the shard's branch.
        let wt = repo.shards_dir().join(&name);
        fs::write(wt.join("work.txt"), "precious\n").unwrap();
        repo.git_in(&wt, &["add", "work.txt"]);
        repo.git_in(&wt, &["commit", "-q", "-m", "work"]);
        let commit = repo.git_in(&wt, &["rev-parse", "HEAD"]).trim().to_owned();
        let child = spawn_shard(&repo, &["rm", &name]);
        kill_after(child, took.mul_f64(1.2 * step as f64 / 25.0));
        if repo.ok(&["prune"]).contains("finish-removal") {
            interrupted += 1;
        }
        let branch = format!("shard/{name}");
        // Nothing of the user's is lost: the commit is still on its branch.
        assert_eq!(
            repo.git(&["rev-parse", &branch]).trim(),
            commit,
            "{name}: the work's branch moved or vanished"
        );
        if repo.record_path(&name).exists() {
            assert_agreement(&repo, &kept);
            repo.ok(&["rm", &name]);
        }
        kept.push(branch);
        assert_agreement(&repo, &kept);
        cases.one();
    }
    assert!(interrupted >= 1, "no kill landed in the middle of a removal");
}

// ---------------------------------------------------------------------------------------------
// Soak: random commands, some killed midway, while a user writes files and commits in the shards.
// Afterwards nothing of the user's is lost (every file they wrote is where they wrote it, every
// commit on its branch), no agent runs unrecorded, and records, worktrees and branches agree.
// SOAK_TRACE=1 prints each step.

/// What `soak`'s agents run: unique, so leftovers can be found in /proc.
const SOAK_AGENT: &str = "sleep 97531";

fn soak_agents() -> Vec<u32> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(SOAK_AGENT))
                && alive(*pid)
        })
        .collect()
}

/// git's lock files under a git dir (not git-shard's own, in `shards/`).
fn git_lock_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_name() == "shards" {
            continue;
        }
        if path.is_dir() {
            git_lock_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "lock") {
            out.push(path);
        }
    }
}

fn soak(cases: &Cases) {
    for seed in [
        0x5eed_0001_u64,
        0x5eed_0002,
        0x5eed_0003,
        0x5eed_0004,
        0x5eed_0005,
        0x5eed_0006,
    ] {
        soak_seed(seed, cases);
    }
}

fn soak_seed(seed: u64, cases: &Cases) {
    let repo = TestRepo::new();
    add_files(&repo, 300);
    let mut rng = Rng(seed);
    let names = ["a", "b", "c", "d"];
    // The user's work: files (path → content) and commits (branch → commit).
    let mut files: Vec<(std::path::PathBuf, String)> = Vec::new();
    let mut commits: Vec<(String, String)> = Vec::new();
    for step in 0..40 {
        let name = names[rng.below(names.len())];
        let wt = repo.shards_dir().join(name);
        let op = rng.below(9);
        let args: Vec<String> = match op {
            0 | 1 => vec![
                "new".into(),
                name.into(),
                "--no-launch".into(),
                "--".into(),
                "true".into(),
            ],
            2 => vec![
                "run".into(),
                name.into(),
                "--terminal".into(),
                "background".into(),
                "--".into(),
                "sh".into(),
                "-c".into(),
                format!("{SOAK_AGENT} & wait"),
            ],
            3 => vec!["stop".into(), "--grace".into(), "0.2".into(), name.into()],
            4 | 5 => vec!["rm".into(), name.into()],
            6 => vec!["prune".into()],
            _ => Vec::new(),
        };
        if args.is_empty() {
            // The user at work in an existing shard: a new file, or a commit.
            if std::env::var_os("SOAK_TRACE").is_some() {
                eprintln!(
                    "seed {seed:#x} step {step}: user op {op} in {name} (exists: {})",
                    wt.join(".git").is_file()
                );
            }
            if wt.join(".git").is_file() {
                if op == 7 {
                    let file = wt.join(format!("user-{step}.txt"));
                    fs::write(&file, format!("step {step}\n")).unwrap();
                    files.push((file, format!("step {step}\n")));
                } else {
                    let branch = repo.git_output_in(&wt, &["symbolic-ref", "--short", "HEAD"]);
                    let branch = String::from_utf8_lossy(&branch.stdout).trim().to_owned();
                    let file = format!("commit-{step}.txt");
                    fs::write(wt.join(&file), "committed\n").unwrap();
                    // In a half-made shard git itself may refuse (a killed checkout leaves its
                    // index.lock): then the user has a file, not a commit.
                    let git = |args: &[&str]| repo.git_output_in(&wt, args);
                    let committed = git(&["add", &file]).status.success()
                        && git(&["commit", "-q", "-m", &format!("user {step}")]).status.success();
                    if committed {
                        commits.push((branch, repo.git_in(&wt, &["rev-parse", "HEAD"]).trim().to_owned()));
                    } else {
                        files.push((wt.join(&file), "committed\n".into()));
                    }
                }
            }
            cases.one();
            continue;
        }
        let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = repo.spawn_job(&args_ref, None);
        // A third of `new` and `rm` are killed midway, with their git, as a closed terminal or
        // the OOM killer would.
        if matches!(op, 0 | 1 | 4 | 5) && rng.below(3) == 0 {
            thread::sleep(Duration::from_millis(rng.below(120) as u64));
            kill_group(child.id(), "KILL");
        }
        let status = child.wait();
        if std::env::var_os("SOAK_TRACE").is_some() {
            eprintln!("seed {seed:#x} step {step}: {args:?} -> {status:?}");
        }
        for (file, content) in &files {
            assert_eq!(
                fs::read_to_string(file).ok().as_deref(),
                Some(content.as_str()),
                "seed {seed:#x} step {step} ({args:?}): the user's {} was lost",
                file.display()
            );
        }
        for (branch, commit) in &commits {
            let out = repo
                .git_output_in(&repo.root, &["merge-base", "--is-ancestor", commit, branch])
                .status;
            assert!(
                out.success(),
                "seed {seed:#x} step {step} ({args:?}): commit {commit} left {branch}"
            );
        }
        cases.one();
    }
    // A git killed with its group (the checkout inside `git worktree add`) can leave git's own
    // lock files, which git refuses to take over: "remove the file manually to continue". No git
    // runs any more, so the user does as git says. (git-shard cannot: a repository-wide lock such
    // as packed-refs.lock may belong to any git of the user's.)
    let mut stale = Vec::new();
    git_lock_files(&repo.common_dir(), &mut stale);
    for lock in &stale {
        fs::remove_file(lock).unwrap();
    }
    // Whatever was interrupted is finished or undone; then every agent is stopped by name.
    let _ = repo.run(&["prune"]);
    // A half-made shard the user wrote into is left alone and reported. The user takes their
    // files out, as the report suggests; then prune undoes it.
    let mut half_made = false;
    for v in repo.list() {
        if v["incomplete"] == true {
            half_made = true;
            let wt = std::path::PathBuf::from(v["path"].as_str().unwrap());
            files.retain(|(file, _)| {
                let theirs = file.starts_with(&wt);
                if theirs {
                    fs::remove_file(file).unwrap();
                }
                !theirs
            });
        }
    }
    let mut said = String::new();
    if half_made {
        let out = repo.run(&["prune"]);
        said.push_str(&String::from_utf8_lossy(&out.stdout));
        said.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    // `list` may have left a stop to a background reconciliation: a stop racing it may find the
    // run already ended. What counts is that no agent is left.
    for v in repo.list() {
        if v["status"] == "running" {
            let out = repo.run(&["stop", "--grace", "0.2", v["name"].as_str().unwrap()]);
            said.push_str(&String::from_utf8_lossy(&out.stderr));
        }
    }
    eventually("no agent left unrecorded", || soak_agents().is_empty());
    let kept: Vec<String> = commits.iter().map(|(b, _)| b.clone()).collect();
    let listed = repo.list();
    for v in &listed {
        assert_eq!(v["incomplete"], false, "seed {seed:#x}: {v:#}\n{said}");
        assert_eq!(v["removing"], false, "seed {seed:#x}: {v:#}\n{said}");
    }
    assert_agreement(&repo, &kept);
}

// ---------------------------------------------------------------------------------------------
// Hostile identities: nothing is ever signalled.

fn start_ticks(pid: u32) -> u64 {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest: Vec<&str> = text[text.rfind(')').unwrap() + 1..].split_whitespace().collect();
    rest[19].parse().unwrap()
}

fn forge(repo: &TestRepo, name: &str, pid: u32, ticks: Option<u64>, boot: Option<&str>) {
    let path = repo.record_path(name);
    let mut table: toml::Table = toml::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let p = table.get_mut("process").unwrap().as_table_mut().unwrap();
    for key in ["ended_at", "exit_code", "signal", "ended_by"] {
        p.remove(key);
    }
    for key in ["pid", "pgid", "sid", "supervisor_pid"] {
        p.insert(key.into(), toml::Value::Integer(pid.into()));
    }
    if let Some(t) = ticks {
        p.insert("start_ticks".into(), toml::Value::Integer(t as i64));
        p.insert("supervisor_start_ticks".into(), toml::Value::Integer(t as i64));
    }
    if let Some(b) = boot {
        p.insert("boot_id".into(), toml::Value::String(b.into()));
    }
    fs::write(&path, toml::to_string(&table).unwrap()).unwrap();
}

fn hostile_identity(cases: &Cases) {
    let repo = TestRepo::new();
    let mut stranger = Command::new("sleep").arg("300").spawn().unwrap();
    let zombie = Command::new("true").spawn().unwrap(); // never waited for: stays a zombie
    // Later agents start in later clock ticks than the stranger, as with any real PID reuse.
    thread::sleep(Duration::from_millis(100));
    let me = std::process::id();
    let targets: Vec<(&str, u32, Option<u64>, Option<&str>)> = vec![
        ("pid 1", 1, None, None),
        ("the test's own pid", me, None, None),
        ("a stranger", stranger.id(), None, None),
        (
            "a zombie, with its real start ticks",
            zombie.id(),
            Some(start_ticks(zombie.id())),
            None,
        ),
        (
            "a stranger from another boot, with its real start ticks",
            stranger.id(),
            Some(start_ticks(stranger.id())),
            Some("00000000-another-boot"),
        ),
    ];
    for (i, (what, pid, ticks, boot)) in targets.into_iter().enumerate() {
        let name = format!("h{i}");
        repo.ok(&["new", &name, "--", "sleep", "300"]);
        repo.ok(&["stop", &name]);
        forge(&repo, &name, pid, ticks, boot);
        for args in [
            vec!["stop", "--grace", "0", &name],
            vec!["list"],
            vec!["reconcile"],
            vec!["status", &name],
        ] {
            let out = repo.run(&args);
            assert!(out.status.code().is_some_and(|c| c <= 1), "{what}: {args:?} crashed");
            cases.one();
        }
        fs::remove_dir_all(repo.shards_dir().join(&name)).unwrap();
        repo.run(&["prune"]);
        repo.run(&["rm", "--force", &name]);
        assert!(alive(1) && alive(stranger.id()), "{what}: something was signalled");
        assert_eq!(
            proc_stat(zombie.id()).map(|s| s.1),
            Some('Z'),
            "{what}: the zombie's parent was disturbed"
        );
        cases.one();
    }
    stranger.kill().unwrap();
    stranger.wait().unwrap();
    drop(zombie);
}

// ---------------------------------------------------------------------------------------------
// Hostile input

/// A small deterministic generator (xorshift), so every run tries the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutate(rng: &mut Rng, original: &str) -> String {
    let lines: Vec<&str> = original.lines().collect();
    match rng.below(7) {
        0 => original[..rng.below(original.len())].to_owned(),
        1 => original.replace("version = 1", "version = 7"),
        2 => {
            let i = rng.below(lines.len());
            let key = lines[i].split('=').next().unwrap_or("x").trim().to_owned();
            let bad = ["[1, 2]", "true", "\"str\"", "99999999999999999999", "{ a = 1 }", "-1"][rng.below(6)];
            lines
                .iter()
                .enumerate()
                .map(|(j, l)| {
                    if j == i && l.contains('=') {
                        format!("{key} = {bad}\n")
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect()
        }
        3 => format!("{original}\nunknown_field = \"kept\"\n[future]\nx = 1\n"),
        4 => original.replace("name = ", &format!("name = \"{}\"\nold_name = ", "x".repeat(100_000))),
        5 => String::from_utf8_lossy(
            &original
                .bytes()
                .map(|b| if rng.below(40) == 0 { b ^ 0x5a } else { b })
                .collect::<Vec<u8>>(),
        )
        .into_owned(),
        _ => lines
            .iter()
            .filter(|_| rng.below(5) != 0)
            .map(|l| format!("{l}\n"))
            .collect(),
    }
}

fn hostile_records(cases: &Cases) {
    let repo = TestRepo::new();
    repo.ok(&["new", "fuzz", "--no-launch", "--", "true"]);
    repo.ok(&["new", "bystander", "--no-launch", "--", "true"]);
    let path = repo.record_path("fuzz");
    let original = fs::read_to_string(&path).unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let store = git_shard::shard::Store::new(&repo.common_dir());
    let fuzz = git_shard::shard::ShardName::parse("fuzz").unwrap();
    for _ in 0..25 {
        let text = mutate(&mut rng, &original);
        // Written under the shard's lock, as every writer writes: the supervisor of the previous
        // round's run may still be recording its end (a read-modify-write under that lock).
        let lock = store.lock_shard(&fuzz).unwrap();
        fs::write(&path, &text).unwrap();
        drop(lock);
        let parses_as_v1 = git_shard::shard::Record::from_toml(&text).is_ok();
        for args in [
            vec!["list", "--json"],
            vec!["status", "fuzz"],
            vec!["stop", "fuzz"],
            vec!["run", "fuzz"],
            vec!["prompt"],
            vec!["prune", "--dry-run"],
        ] {
            let out = repo.run(&args);
            assert!(
                out.status.code().is_some_and(|c| c <= 1),
                "{args:?} crashed on:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            if !parses_as_v1 {
                assert_eq!(
                    fs::read_to_string(&path).unwrap(),
                    text,
                    "{args:?} rewrote a record it could not read"
                );
            }
            cases.one();
        }
        // The other shard is never hidden.
        assert!(repo.list().iter().any(|v| v["name"] == "bystander"));
        if parses_as_v1 {
            let now = fs::read_to_string(&path).unwrap();
            if text.contains("unknown_field") {
                assert!(now.contains("unknown_field"), "an unknown field was dropped");
            }
            repo.run(&["stop", "--grace", "0", "fuzz"]);
        }
    }
    fs::write(&path, &original).unwrap();
    repo.ok(&["rm", "--force", "fuzz"]);
    assert_agreement(&repo, &[]);
}

fn hostile_branches(cases: &Cases) {
    let repo = TestRepo::new();
    for (i, branch) in [
        "feat/$(touch${IFS}pwned)",
        "x/`touch${IFS}pwned`",
        "a;touch${IFS}pwned|&'\"<>",
        "e/\u{1b}",
    ]
    .iter()
    .enumerate()
    {
        let name = format!("m{i}");
        let out = repo.run(&["new", &name, "--branch", branch, "--", "sh", "-c", "sleep 300"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains('\u{1b}'), "an escape reached the terminal: {err:?}");
        if out.status.success() {
            let listed = String::from_utf8(repo.run(&["list"]).stdout).unwrap();
            assert!(!listed.contains('\u{1b}'));
            let prompt = repo
                .command_in(&repo.shards_dir().join(&name), &["prompt"])
                .output()
                .unwrap();
            assert!(!String::from_utf8_lossy(&prompt.stdout).contains('\u{1b}'));
            repo.ok(&["rm", &name]);
        }
        assert!(!repo.root.join("pwned").exists() && !repo.shards_dir().join(&name).join("pwned").exists());
        cases.one();
    }
    assert_agreement(&repo, &[]);
}

// ---------------------------------------------------------------------------------------------
// Process trees

fn trees_grandchildren(cases: &Cases) {
    let repo = TestRepo::new();
    for (name, cmd, grace) in [
        (
            "deep",
            "sh -c 'sh -c \"sleep 300 & sleep 300\" & sleep 300 & wait' & wait",
            "5",
        ),
        (
            "deaf",
            "trap '' TERM; sh -c 'trap \"\" TERM; sleep 300 & wait' & sleep 300 & wait",
            "0.3",
        ),
        (
            "forky",
            "for i in 1 2 3 4 5; do (sleep 300 &) ; done; wait; sleep 300",
            "5",
        ),
    ] {
        repo.ok(&["new", name, "--", "sh", "-c", cmd]);
        thread::sleep(Duration::from_millis(150));
        let sid = repo.shard(name)["process"]["sid"].as_u64().unwrap() as u32;
        assert!(session_members(sid).len() >= 3, "{name}: the tree started");
        repo.ok(&["stop", "--grace", grace, name]);
        assert!(
            session_members(sid).is_empty(),
            "{name}: something of the tree survived stop"
        );
        cases.one();
    }
    assert_agreement(&repo, &[]);
}

fn trees_setsid(cases: &Cases) {
    let repo = TestRepo::new();
    if Command::new("setsid").arg("--version").output().is_err() {
        return;
    }
    // Unique, so the escapee is found in /proc whatever else runs.
    let escapee = format!("sleep 299.{}", std::process::id());
    let running = || processes_running(&escapee);
    repo.ok(&[
        "new",
        "runaway",
        "--",
        "sh",
        "-c",
        &format!("setsid {escapee} & sleep 300"),
    ]);
    eventually("the escapee started", || running().len() == 1);
    let sid = repo.shard("runaway")["process"]["sid"].as_u64().unwrap() as u32;
    let out = repo.run(&["stop", "runaway"]);
    assert!(out.status.success());
    assert!(session_members(sid).is_empty(), "the run's own session is gone");
    // The escapee left the group and the session, but not the run: its cgroup, or the supervisor
    // it was orphaned to as subreaper, proves it the run's, and it ends with the run.
    eventually("the escapee ended with the run", || running().is_empty());
    cases.one();
}
