#!/usr/bin/env bash
# Benchmarks of git-shard against the git command that does the nearest work, measured in the same
# run with hyperfine (medians, ratio = git-shard / git). Not part of `cargo test`.
#
#   benches/run.sh            all benchmarks
#   benches/run.sh prompt     only some: prompt complete list new rm stop hook include merged hosts
#
# Prints a Markdown report on stdout (paste it into benches/README.md); raw hyperfine JSON stays
# in $BENCH_DIR (default: a temp folder).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v hyperfine >/dev/null || { echo "hyperfine is required (apt-get install hyperfine)" >&2; exit 1; }
# Built as install.sh installs it: statically linked on Linux with glibc.
host=$(rustc -vV | sed -n 's/^host: //p')
case $host in
*-linux-gnu)
    cargo build --release --locked --quiet --target "$host" \
        --config "target.$host.rustflags = [\"-C\", \"target-feature=+crt-static\"]"
    out=$PWD/target/$host/release ;;
*)
    cargo build --release --locked --quiet
    out=$PWD/target/release ;;
esac
BIN=$out/git-shard
export PATH="$out:$PATH"
work=${BENCH_DIR:-$(mktemp -d /tmp/git-shard-bench.XXXXXX)}
mkdir -p "$work"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@b GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@b
export XDG_CONFIG_HOME=$work/config
wanted=("$@")
want() { [ ${#wanted[@]} -eq 0 ] || [[ " ${wanted[*]} " == *" $1 "* ]]; }

# median (ms) of one command in a hyperfine JSON export
median() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print("%.3f" % (r[int(sys.argv[2])]["median"]*1000))' "$1" "$2"; }

# Two commands run in turn, $1 rounds of each after 20 of warm-up, timed from their spawn to their
# exit; the medians written to $2 as hyperfine's JSON has them. hyperfine runs all of one command,
# then all of the other: where the machine's speed drifts within a run (a VM sharing its host, on
# which `git rev-parse` alone moved from 1.95 to 2.71 ms between blocks of one run), the ratio
# then measures the drift. In turn, both see the same machine. Python's own share of each
# spawn is the same on both sides, which only moves the ratio towards 1.
interleaved() { # rounds json command-a command-b
    python3 - "$@" <<'PY'
import json, os, shlex, statistics, sys, time
rounds, out, cmds = int(sys.argv[1]), sys.argv[2], [shlex.split(c) for c in sys.argv[3:5]]
null = os.open(os.devnull, os.O_RDWR)
quiet = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
def once(argv):
    t = time.perf_counter()
    os.waitpid(os.posix_spawnp(argv[0], argv, os.environ, file_actions=quiet), 0)
    return time.perf_counter() - t
times = [[], []]
for n in range(20 + rounds):
    for i, argv in enumerate(cmds):
        t = once(argv)
        if n >= 20:
            times[i].append(t)
json.dump({"results": [{"command": " ".join(c), "median": statistics.median(t)} for c, t in zip(cmds, times)]}, open(out, "w"))
PY
}

report() { # title json goal note
    local ours theirs
    ours=$(median "$2" 0); theirs=$(median "$2" 1)
    printf '| %s | %s ms | %s ms | %.2f× | %s | %s |\n' "$1" "$ours" "$theirs" \
        "$(python3 -c "print($ours/$theirs)")" "$3" "$4"
}

# A repository with one commit and $2 files.
make_repo() {
    local dir=$1 files=$2
    rm -rf "$dir" "$dir.shards"; mkdir -p "$dir"
    git -C "$dir" init -q -b main
    python3 - "$dir" "$files" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "src", "d%03d" % (i // 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.txt" % i), "w") as f:
        f.write("line %d\n" % i * 20)
PY
    git -C "$dir" add -A && git -C "$dir" commit -q -m init
}

echo "| benchmark | git-shard | git | ratio | goal | setup |"
echo "| --- | --- | --- | --- | --- | --- |"

if want prompt; then
    r=$work/prompt; make_repo "$r" 100
    (cd "$r" && for i in $(seq 1 20); do git-shard new "s$i" --no-launch -- true 2>/dev/null; done)
    (cd "$r" && git-shard new live -- sleep 600 </dev/null 2>/dev/null)
    (cd "$r.shards/live" && interleaved 400 "$work/prompt.json" "$(printf %q "$BIN") prompt" "git rev-parse --show-toplevel")
    report "\`prompt\` in a shard (running agent)" "$work/prompt.json" "≤ 0.8×" "20 shards, vs \`git rev-parse --show-toplevel\`"
    (cd "$r" && interleaved 400 "$work/prompt-main.json" "$(printf %q "$BIN") prompt" "git rev-parse --show-toplevel")
    report "\`prompt\` in the main worktree (summary)" "$work/prompt-main.json" "—" "21 shards, 1 running"
    (cd "$r" && git-shard stop live >/dev/null 2>&1)
    # The main worktree at 10, 100 and 500 shards, a quarter of them running.
    for n in 10 100 500; do
        m=$work/prompt$n; make_repo "$m" 10
        (cd "$m" && for i in $(seq 1 $((n - n / 4))); do git-shard new "s$i" --no-launch -- true; done
            for i in $(seq 1 $((n / 4))); do git-shard new "r$i" --terminal background -- sleep 900 </dev/null; done) >/dev/null 2>&1
        # Until the supervisors have recorded every agent idle (which takes 5 s of quiet) and no
        # record was written for 3 s: a prompt where nothing changed, as at most prompts. Waiting
        # for the quiet alone measured, on a slower machine, supervisors still turning agents idle.
        for _ in $(seq 120); do
            [[ $(cd "$m" && git-shard prompt --format '{count_idle}') == "$((n / 4))" ]] &&
                (( $(date +%s) - $(stat -c %Y "$m/.git/shards") >= 3 )) && break
            sleep 0.5
        done
        (cd "$m" && interleaved 400 "$work/prompt-main$n.json" "$(printf %q "$BIN") prompt" "git rev-parse --show-toplevel")
        report "\`prompt\` in the main worktree, $n shards ($((n / 4)) running)" "$work/prompt-main$n.json" "≤ 0.8×" "vs \`git rev-parse --show-toplevel\`"
    done
    # Right after a record changed (one rewritten by rename before each run, as `git-shard`
    # writes them): every record is `stat`ed, the changed one read again.
    for n in 100 500; do
        m=$work/prompt$n
        (cd "$m" && hyperfine -N --warmup 20 --runs 200 --export-json "$work/prompt-changed$n.json" \
            --prepare "sh -c 'cp .git/shards/s1.toml .git/shards/s1.tmp && mv .git/shards/s1.tmp .git/shards/s1.toml'" \
            "$BIN prompt" "git rev-parse --show-toplevel" >/dev/null)
        report "\`prompt\` in the main worktree, $n shards, a record just rewritten" "$work/prompt-changed$n.json" "—" "vs \`git rev-parse --show-toplevel\`"
    done
    # The shell's hook when nothing changed (no process started), per prompt: 100 hooks in a loop
    # against 100 `git rev-parse` in the same shell, each less the shell's start-up, the init and
    # the first (spawning) hook, timed alone in the same run.
    for sh in bash zsh fish; do
        command -v $sh >/dev/null || continue
        # shellcheck disable=SC2016 # expanded by the shell under test
        case $sh in
            bash) init='eval "$(git-shard init bash)"'; hook=__git_shard_prompt_hook
                  loop="for i in {1..100}; do HOOK; done" ;;
            zsh) init='eval "$(git-shard init zsh)"'; hook=__git_shard_precmd
                 loop="for i in {1..100}; do HOOK; done" ;;
            fish) init='git-shard init fish | source'; hook=__git_shard_refresh
                  loop="for i in (seq 100); HOOK; end" ;;
        esac
        for where in "$r.shards/s1:in a shard" "$work/prompt100:main worktree, 100 shards (25 running)"; do
            dir=${where%%:*}
            (cd "$dir" && hyperfine -N --warmup 3 --runs 30 --export-json "$work/hook-$sh.json" \
                "$sh -c '$init; $hook; ${loop//HOOK/$hook}'" \
                "$sh -c '$init; $hook; ${loop//HOOK/git rev-parse --show-toplevel >/dev/null}'" \
                "$sh -c '$init; $hook'" >/dev/null)
            python3 - "$work/hook-$sh.json" "$sh" "${where#*:}" <<'PY'
import json, sys
r = [x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]]
ours, git = (r[0] - r[2]) / 100, (r[1] - r[2]) / 100
print("| %s prompt hook, nothing changed (%s) | %.3f ms | %.3f ms | %.2f× | ≤ 0.1× | per prompt, vs `git rev-parse --show-toplevel` in %s |"
      % (sys.argv[2], sys.argv[3], ours, git, ours / git, sys.argv[2]))
PY
        done
    done
    for n in 100 500; do (cd "$work/prompt$n" && for i in $(seq 1 $((n / 4))); do git-shard stop "r$i"; done) >/dev/null 2>&1; done
    (cd "$work/prompt10" && for i in 1 2; do git-shard stop "r$i"; done) >/dev/null 2>&1
fi

# `list` with one host of 20 shards, over a warm shared connection, against `ssh host true` over
# the same connection: what asking the host costs beyond the round trip. A private sshd on
# loopback plays the host, with its own keys.
if want hosts; then
    sshd=$(command -v sshd || echo /usr/sbin/sshd)
    if [ ! -x "$sshd" ]; then
        echo "hosts: skipped, sshd is missing (apt-get install openssh-server)" >&2
    else
        h=$work/hosts; rm -rf "$h"; mkdir -p "$h/run" "$h/home"; chmod 700 "$h" "$h/run"
        ssh-keygen -q -t ed25519 -N '' -f "$h/host_key"; ssh-keygen -q -t ed25519 -N '' -f "$h/id"
        cp "$h/id.pub" "$h/authorized_keys"
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        printf '%s\n' "ListenAddress 127.0.0.1:$port" "HostKey $h/host_key" "PidFile $h/sshd.pid" \
            "AuthorizedKeysFile $h/authorized_keys" "PermitRootLogin prohibit-password" \
            "PasswordAuthentication no" "KbdInteractiveAuthentication no" "UsePAM no" "StrictModes no" \
            "SetEnv HOME=$h/home PATH=$out:/usr/bin:/bin GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 XDG_CONFIG_HOME=$h/home/.config" \
            > "$h/sshd_config"
        if [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd; fi
        "$sshd" -f "$h/sshd_config" -E "$h/sshd.log"
        echo "[127.0.0.1]:$port $(cat "$h/host_key.pub")" > "$h/known_hosts"
        printf '%s\n' "Host devbox" "  HostName 127.0.0.1" "  Port $port" "  User $(id -un)" \
            "  IdentityFile $h/id" "  IdentitiesOnly yes" "  UserKnownHostsFile $h/known_hosts" \
            "  StrictHostKeyChecking yes" "  BatchMode yes" > "$h/ssh_config"
        export GIT_SHARD_SSH="ssh -F $h/ssh_config" XDG_RUNTIME_DIR=$h/run
        for _ in $(seq 50); do ssh -F "$h/ssh_config" devbox true 2>/dev/null && break; sleep 0.1; done
        make_repo "$h/local" 10
        git clone -q "$h/local" "$h/remote"
        (cd "$h/remote" && for i in $(seq 1 20); do git-shard new "s$i" --no-launch -- true; done) >/dev/null 2>&1
        (cd "$h/local" && git-shard host add devbox --ssh devbox --repo "$h/remote" --git-shard "$BIN" && git-shard list) >/dev/null
        # 200 runs each: both take milliseconds, and the ratio of medians of 50 moved by ±0.05.
        (cd "$h/local" && hyperfine -N --warmup 10 --runs 200 --export-json "$work/hosts.json" \
            "$BIN list" \
            "ssh -F $h/ssh_config -o ControlMaster=auto -o ControlPath=$h/run/git-shard/%C -o ControlPersist=60 devbox true" >/dev/null)
        report "\`list\` with one host of 20 shards (warm connection)" "$work/hosts.json" "≤ 1.5×" "vs \`ssh host true\` over the same shared connection"
        kill "$(cat "$h/sshd.pid")" 2>/dev/null || true
        ssh -F "$h/ssh_config" -o ControlPath="$h/run/git-shard/%C" -O exit devbox 2>/dev/null || true
    fi
fi

# An agent's hook fires at every tool call: the entry point must cost what a git plumbing command
# does. Timed on a hook call that reads the record and checks the run (the last check, that the
# agent is its parent, fails here: hyperfine is not the agent). Through a shell, for the payload on
# stdin (hyperfine subtracts the shell's own start-up).
if want hook; then
    r=$work/hook; make_repo "$r" 10
    (cd "$r" && for i in $(seq 1 20); do git-shard new "h$i" --no-launch -- true 2>/dev/null; done)
    (cd "$r" && git-shard new live -- sleep 600 </dev/null 2>/dev/null)
    run_id=$(sed -n 's/^run_id = "\(.*\)"$/\1/p' "$r/.git/shards/live.toml")
    printf '%s' '{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Bash"}' > "$work/hook.json"
    (cd "$r.shards/live" && GIT_SHARD_NAME=live GIT_SHARD_RUN_ID=$run_id GIT_SHARD_COMMON_DIR=$r/.git \
        hyperfine --warmup 20 --runs 300 --export-json "$work/hook.json.out" \
        "$BIN __hook claude < $work/hook.json" "git rev-parse --show-toplevel < $work/hook.json" >/dev/null)
    report "agent hook (\`__hook claude\`)" "$work/hook.json.out" "≤ 5 ms" "21 shards, vs \`git rev-parse --show-toplevel\`"
    (cd "$r" && git-shard stop live >/dev/null 2>&1)
fi

if want complete; then
    r=$work/complete; make_repo "$r" 10
    (cd "$r" && for i in $(seq 1 100); do git-shard new "c$i" --no-launch -- true 2>/dev/null; done)
    (cd "$r" && COMPLETE=bash _CLAP_IFS=$'\n' _CLAP_COMPLETE_INDEX=2 hyperfine -N --warmup 20 --runs 200 \
        --export-json "$work/complete.json" "$BIN -- git-shard rm c" "git rev-parse --show-toplevel" >/dev/null)
    report "completion of shard names (\`git shard rm c<TAB>\`)" "$work/complete.json" "≤ 5 ms" "100 shards"
fi

if want list; then
    for n in 10 100 500; do
        r=$work/list$n; make_repo "$r" 10
        (cd "$r" && for i in $(seq 1 "$n"); do git-shard new "l$i" --no-launch -- true 2>/dev/null; done)
        running=$((n / 4))
        (cd "$r" && for i in $(seq 1 "$running"); do git-shard run "l$i" --terminal background -- sleep 900 </dev/null 2>/dev/null; done)
        (cd "$r" && hyperfine -N --warmup 5 --runs 40 --export-json "$work/list$n.json" \
            "$BIN list --json" "git worktree list --porcelain" >/dev/null)
        goal="—"; [ "$n" = 100 ] && goal="≤ 1.5×"
        report "\`list --json\`, $n shards ($running running)" "$work/list$n.json" "$goal" "vs \`git worktree list --porcelain\`"
        (cd "$r" && for i in $(seq 1 "$running"); do git-shard stop --grace 0 "l$i" >/dev/null 2>&1; done)
    done
fi

# `new` and `rm` write and delete 10,000 files: on a slow disk most of their time is the kernel
# writing that back, which happens whenever something forces a journal commit (the fsync of the
# record does, inside `new`) or later in the background. Both commands are therefore timed to a
# durable state (`; sync`) after a `sync` in the preparation, so both pay the same writeback.
if want new; then
    r=$work/new; make_repo "$r" 10000
    (cd "$r" && hyperfine --warmup 2 --runs 10 --export-json "$work/new.json" \
        --prepare "git-shard rm --force bn >/dev/null 2>&1; git worktree remove --force ../new-gitwt >/dev/null 2>&1; git branch -D gb >/dev/null 2>&1; sync" \
        "$BIN new bn --no-launch -- true; sync" "git worktree add -q -b gb ../new-gitwt; sync" >/dev/null 2>&1)
    report "\`new --no-launch\`" "$work/new.json" "≤ 1.1×" "10,000 files (39 MB), vs \`git worktree add -b\`, each + \`sync\`"
fi

if want rm; then
    r=$work/rm; make_repo "$r" 10000
    (cd "$r" && hyperfine --warmup 2 --runs 10 --export-json "$work/rm.json" \
        --prepare "git-shard new bn --no-launch -- true >/dev/null 2>&1; git worktree add -q -b gb ../rm-gitwt >/dev/null 2>&1; sync" \
        "$BIN rm bn; sync" "git worktree remove ../rm-gitwt && git branch -d gb; sync" >/dev/null 2>&1)
    report "\`rm\`" "$work/rm.json" "≤ 1.1×" "10,000 files, vs \`git worktree remove\` + \`git branch -d\`, each + \`sync\`"
fi

if want stop; then
    r=$work/stop; make_repo "$r" 10
    (cd "$r" && git-shard new polite --no-launch -- sleep 900 && git-shard new stubborn --no-launch -- sh -c "trap '' TERM; sleep 900 & wait" \
        && git-shard new escaper --no-launch -- sh -c "setsid sleep 901 & sleep 900") 2>/dev/null
    (cd "$r" && hyperfine -N --warmup 2 --runs 20 --export-json "$work/stop.json" \
        --prepare "$BIN run polite --terminal background" "$BIN stop polite" >/dev/null 2>&1)
    (cd "$r" && hyperfine -N --warmup 1 --runs 10 --export-json "$work/stop-kill.json" \
        --prepare "$BIN run stubborn --terminal background" "$BIN stop --grace 0.2 stubborn" >/dev/null 2>&1)
    # A tool call in a session of its own, as Claude Code runs them: ended through the run's cgroup.
    (cd "$r" && hyperfine -N --warmup 2 --runs 20 --export-json "$work/stop-escaper.json" \
        --prepare "$BIN run escaper --terminal background" "$BIN stop escaper" >/dev/null 2>&1)
    containment=$(grep -o 'containment = "[a-z]*"' "$r/.git/shards/escaper.toml" | cut -d'"' -f2)
    # shellcheck disable=SC2016 # backquotes are Markdown here
    printf '| `stop` → confirmed death, agent with a `setsid` child | %s ms | — | — | < 50 ms | contained by %s |\n' "$(median "$work/stop-escaper.json" 0)" "$containment"
    # shellcheck disable=SC2016 # backquotes are Markdown here
    printf '| `stop` → confirmed death, agent honours SIGTERM | %s ms | — | — | < 50 ms | `sleep`, whole group confirmed gone |\n' "$(median "$work/stop.json" 0)"
    # shellcheck disable=SC2016 # backquotes are Markdown here
    printf '| `stop --grace 0.2` → confirmed death, agent ignores SIGTERM | %s ms | — | — | 200 + < 50 ms | SIGKILL after the grace period |\n' "$(median "$work/stop-kill.json" 0)"
fi

if want include; then
    # `.worktreeinclude` of an ignored node_modules of 10,000 files: the whole `new` (its worktree
    # of 10 tracked files included) against copying the folder alone with cp.
    r=$work/include; make_repo "$r" 10
    printf 'node_modules/\n' > "$r/.gitignore"; printf 'node_modules/\n' > "$r/.worktreeinclude"
    git -C "$r" add -A && git -C "$r" commit -q -m include
    python3 - "$r/node_modules" <<'PY'
import os, sys
root = sys.argv[1]
for i in range(10000):
    d = os.path.join(root, "pkg%03d" % (i // 100), "lib")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "m%05d.js" % i), "w") as f:
        f.write("module.exports = %d;\n" % i * 100)
PY
    fs=$(df -T "$r" | awk 'NR==2 {print $2}')
    (cd "$r" && hyperfine -N --warmup 1 --runs 10 --export-json "$work/include.json" \
        --prepare "sh -c '$BIN rm --force inc >/dev/null 2>&1; rm -rf $work/cp $work/ref; true'" \
        "$BIN new inc --no-launch" "cp -r node_modules $work/cp" "cp -r --reflink=auto node_modules $work/ref" >/dev/null 2>&1)
    # shellcheck disable=SC2016 # backquotes are Markdown here
    printf '| `new` with `.worktreeinclude` of 10,000 ignored files | %s ms | `cp -r`: %s ms, `cp -r --reflink=auto`: %s ms | %.2f× of `cp -r` | ≤ 1.5× | %s; worktree of 10 files included |\n' \
        "$(median "$work/include.json" 0)" "$(median "$work/include.json" 1)" "$(median "$work/include.json" 2)" \
        "$(python3 -c "print($(median "$work/include.json" 0)/$(median "$work/include.json" 1))")" "$fs"
fi

if want merged; then
    # Is a branch of 50 commits merged into a main 10,000 commits ahead? (squash merged long ago,
    # so the answer needs the capped patch-id walk), vs `git cherry`, git's own "which commits
    # have an equivalent upstream".
    r=$work/merged; make_repo "$r" 10
    python3 - "$r" <<'PY'
import subprocess, sys
root = sys.argv[1]
def fast_import(stream):
    subprocess.run(["git", "-C", root, "fast-import", "--quiet"], input=stream.encode(), check=True)
base = subprocess.run(["git", "-C", root, "rev-parse", "main"], capture_output=True, text=True).stdout.strip()
out = []
# The shard's branch: 50 commits on its own files.
out.append("reset refs/heads/shard/s\nfrom %s\n" % base)
for i in range(50):
    out.append("commit refs/heads/shard/s\ncommitter b <b@b> %d +0000\ndata 9\nshard %02d\nM 644 inline shard/f%02d.txt\ndata 6\nline%d\n\n" % (1700000000 + i, i, i, i % 10))
# main: its squash of the branch first, then 10,000 commits of other work.
out.append("commit refs/heads/main\ncommitter b <b@b> 1700001000 +0000\ndata 7\nsquash\nfrom %s\n" % base)
for i in range(50):
    out.append("M 644 inline shard/f%02d.txt\ndata 6\nline%d\n" % (i, i % 10))
out.append("\n")
for i in range(10000):
    out.append("commit refs/heads/main\ncommitter b <b@b> %d +0000\ndata 6\nmain%d\nM 644 inline other/g%d.txt\ndata 2\nx\n\n" % (1700002000 + i, i % 10, i % 500))
fast_import("".join(out))
PY
    git -C "$r" checkout -q -f main
    (cd "$r" && git-shard new s --branch shard/s --no-launch >/dev/null 2>&1)
    # `list` asks once per pair of tips and keeps the answer: the cache goes before each run.
    (cd "$r" && hyperfine -N --warmup 2 --runs 20 --export-json "$work/merged.json" \
        --prepare "rm -f $r/.git/shards/.merged-cache" "$BIN list --json" "git cherry main shard/s" >/dev/null)
    (cd "$r" && $BIN list --json | grep -q 'squash-merged into main') || { echo "merged bench: not detected" >&2; exit 1; }
    report "merged? 50-commit branch squashed into a main 10,000 commits ahead (\`list\`, nothing cached)" "$work/merged.json" "< 100 ms" "vs \`git cherry main shard/s\`"
fi
