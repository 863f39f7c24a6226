
use builtin;
use str;

set edit:completion:arg-completer[git-shard] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'git-shard'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'git-shard'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand new 'Create a shard: a new worktree on its own branch, with an agent running in it'
            cand list 'List the shards of this repository and what their agents are doing'
            cand ls 'List the shards of this repository and what their agents are doing'
            cand status 'Show one shard in detail: its run, process group, memory, CPU time and children'
            cand status-line 'Print a one-line summary for a status bar: the shards waiting for you by name (◆), then the others by status'
            cand run 'Start an agent in an existing shard (refused while one is running there)'
            cand attach 'Bring the terminal window or pane of a shard''s agent to the front'
            cand path 'Print the worktree path of a shard'
            cand cd 'Change to a shard''s worktree (needs the shell integration; without it, prints the path)'
            cand logs 'Print the output of a shard''s background run'
            cand stop 'Stop the agent of a shard: SIGTERM to its process group, SIGKILL after the grace period'
            cand wait 'Wait until one of the shards reaches a state, and print `<name> <state>`'
            cand diff 'Show what a shard changed since it forked from its base, with `git diff` (your pager, colours and diff tools apply)'
            cand merge 'Bring a shard''s branch into its base branch (or `--into`), as you would with git'
            cand pr 'Push a shard''s branch and open a pull request for it with `gh` (or a merge request with `glab`), into its base branch or `--into`'
            cand fetch 'Fetch the branch of a shard that lives on a host into this repository'
            cand rm 'Remove a shard: stop its agent, remove its worktree and (when merged) its branch'
            cand prune 'Forget shards whose worktree is gone and report worktrees without a shard'
            cand reconcile 'Reconcile shards with git''s worktrees (what the git hooks run)'
            cand hooks 'Manage the git hooks that notice worktrees removed behind git-shard''s back'
            cand host 'Machines that run shards over SSH: `git shard new <name> --host <host> …`'
            cand prompt 'Print a short prompt segment: the shard you are in and its agent''s status (`⎇ fix-login ●`), or in the main worktree a summary of the repository''s shards (`3● 1✗`); nothing elsewhere'
            cand init 'Print the shell integration: `git shard cd`, the prompt segment, and completion of `git shard <TAB>` through git''s own completion'
            cand config 'Show the configuration: files read, effective settings, terminals (and which one is chosen), agents and hosts'
            cand completions 'Print a static completion script for `git-shard` (for packagers; `git shard init` gives live completion of shard names, also through `git shard <TAB>`)'
            cand install-man 'Install the man pages, so that `git help shard` and `man git-shard` open them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'git-shard;new'= {
            cand --base 'Start from this revision (branch, tag or commit) instead of HEAD'
            cand --branch 'Use this branch instead of `<prefix><name>`. An existing branch is used as it is, if no worktree has it checked out'
            cand --agent 'Agent preset (claude, codex, gemini, aider, opencode, …); arguments after `--` are appended'
            cand --terminal 'Terminal to run the agent in (background, inline, or one from the configuration)'
            cand --host 'Make the shard on this host (see `git shard host`): the base commit goes there over git''s ssh transport, and the agent runs there (in its tmux unless --terminal says)'
            cand --no-launch 'Create the worktree and branch but start no agent (`git shard run` starts one later)'
            cand --no-include 'Do not copy the ignored files `.worktreeinclude` names into the new worktree'
            cand --json 'Print the new shard as JSON on stdout'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;list'= {
            cand --json 'Print a JSON array, one object per shard (see README.md for the fields)'
            cand --local 'Only this machine''s shards: no host is asked (what a host is asked by `list` here)'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;ls'= {
            cand --json 'Print a JSON array, one object per shard (see README.md for the fields)'
            cand --local 'Only this machine''s shards: no host is asked (what a host is asked by `list` here)'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;status'= {
            cand --json 'Print a JSON object: the fields of `list --json` plus `process`'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;status-line'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;run'= {
            cand --terminal 'Terminal to run the agent in (background, inline, or one from the configuration)'
            cand --agent 'Agent preset; arguments after `--` are appended'
            cand --resume 'Continue the agent''s last conversation in this worktree (`claude --continue`, `codex resume --last`, `gemini --resume latest`, `opencode --continue`, `aider --restore-chat-history`), for this run only'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;attach'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;path'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;cd'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;logs'= {
            cand -f 'Keep printing new output while the agent runs'
            cand --follow 'Keep printing new output while the agent runs'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;stop'= {
            cand --grace 'Seconds to wait after SIGTERM before SIGKILL'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;wait'= {
            cand --for 'What to wait for'
            cand --timeout 'Give up after this many seconds (fractions allowed)'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;diff'= {
            cand --all 'Also the uncommitted and untracked changes in the shard''s worktree'
            cand --stat 'Show a diffstat, as `git diff --stat`'
            cand --name-only 'Show only the names of changed files, as `git diff --name-only`'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;merge'= {
            cand --into 'Merge into this branch instead of the shard''s base'
            cand -m 'The message of the squash or merge commit'
            cand --message 'The message of the squash or merge commit'
            cand --squash 'One commit on the target with the shard''s whole change'
            cand --rebase 'Rebase onto the target, then fast-forward it (the default)'
            cand --no-ff 'A merge commit, even when a fast-forward would do'
            cand -e 'Edit the message of the squash or merge commit in your editor'
            cand --edit 'Edit the message of the squash or merge commit in your editor'
            cand --commit-all 'Commit the shard''s uncommitted and untracked work first (instead of refusing)'
            cand --rm 'Remove the shard once its work is merged'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;pr'= {
            cand --into 'Open it against this branch instead of the shard''s base'
            cand --remote 'The remote to push to (default: `remote.pushDefault`, else `origin`)'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;fetch'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;rm'= {
            cand --grace 'Seconds to give the agent after SIGTERM before SIGKILL'
            cand -f 'Remove the worktree even with uncommitted or untracked changes, commits only a detached HEAD holds, initialised submodules (whose commits are all on a remote) or a lock someone else set, and go on when the agent cannot be stopped'
            cand --force 'Remove the worktree even with uncommitted or untracked changes, commits only a detached HEAD holds, initialised submodules (whose commits are all on a remote) or a lock someone else set, and go on when the agent cannot be stopped'
            cand -D 'Delete the branch even when it has commits that are not in its base'
            cand --delete-branch 'Delete the branch even when it has commits that are not in its base'
            cand -n 'Change nothing: run every check and list what would be deleted, ignored files included'
            cand --dry-run 'Change nothing: run every check and list what would be deleted, ignored files included'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;prune'= {
            cand -n 'Only say what would be done'
            cand --dry-run 'Only say what would be done'
            cand --merged 'Also remove shards whose branch is merged into its base (squash and rebase merges included), whose worktree is clean and whose agent is not running; with `--dry-run`, list them'
            cand --json 'Print the actions as a JSON array'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;reconcile'= {
            cand -q 'Print nothing and always exit 0 (for git hooks)'
            cand --quiet 'Print nothing and always exit 0 (for git hooks)'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;hooks'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand install 'Install the hooks into the folder git uses (core.hooksPath or .git/hooks)'
            cand uninstall 'Remove the hooks and restore the ones that were there before'
            cand status 'Say which hooks are installed, where'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'git-shard;hooks;install'= {
            cand --force 'Install even when the hooks folder belongs to another tool (husky, pre-commit, lefthook)'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;hooks;uninstall'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;hooks;status'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;hooks;help'= {
            cand install 'Install the hooks into the folder git uses (core.hooksPath or .git/hooks)'
            cand uninstall 'Remove the hooks and restore the ones that were there before'
            cand status 'Say which hooks are installed, where'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'git-shard;hooks;help;install'= {
        }
        &'git-shard;hooks;help;uninstall'= {
        }
        &'git-shard;hooks;help;status'= {
        }
        &'git-shard;hooks;help;help'= {
        }
        &'git-shard;host'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Add a host after checking it (connection, git-shard there, the clone). A host already configured is changed, unless this repository has shards there'
            cand list 'List the configured hosts and what the last `list` heard from each'
            cand ls 'List the configured hosts and what the last `list` heard from each'
            cand check 'Check a host: the connection, its git-shard''s version, and that its clone is of this repository'
            cand rm 'Forget a host, refused while this repository has shards there (nothing there is touched)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'git-shard;host;add'= {
            cand --ssh 'Destination as `ssh` takes it: `devbox`, `me@10.0.0.5`'
            cand --repo 'The clone of this repository there: an absolute path, or `~/…`'
            cand --git-shard 'The git-shard binary there, when it is not on the PATH of a non-interactive ssh session'
            cand --no-check 'Add it without checking (for a host that is down right now)'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;host;list'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;host;ls'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;host;check'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;host;rm'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;host;help'= {
            cand add 'Add a host after checking it (connection, git-shard there, the clone). A host already configured is changed, unless this repository has shards there'
            cand list 'List the configured hosts and what the last `list` heard from each'
            cand check 'Check a host: the connection, its git-shard''s version, and that its clone is of this repository'
            cand rm 'Forget a host, refused while this repository has shards there (nothing there is touched)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'git-shard;host;help;add'= {
        }
        &'git-shard;host;help;list'= {
        }
        &'git-shard;host;help;check'= {
        }
        &'git-shard;host;help;rm'= {
        }
        &'git-shard;host;help;help'= {
        }
        &'git-shard;prompt'= {
            cand --format 'Template with {name} {status} {symbol} {glyph} {summary} {hosts} {count_running} {count_waiting} {count_idle} {count_ok} {count_failed} {count_lost} {count_not_started} {count_stopped} {count_unreadable} {count_total}. Default: "{glyph} {name} {symbol}" in a shard; in the main worktree "{summary}" and "{hosts}", joined by " · " (" | " in plain characters) when both have something to show ({hosts}: each host''s shards as the last `list` heard them, and when: `devbox 2● @14:02`). When every placeholder comes out empty ({name} in the main worktree, counts in a shard), nothing is printed'
            cand --json 'Print the facts as JSON instead'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;init'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;config'= {
            cand --set 'Set a key in this repository''s local configuration (.git/shards/config.toml), e.g. `auto_install_hooks=true` or `terminal=tmux`'
            cand --unset 'Remove a key from this repository''s local configuration'
            cand --show 'Print the effective settings, terminals, agents and hosts (the default)'
            cand --path 'List the files that are read, in order (later ones win)'
            cand --trust 'Allow the commands (terminals, agents) of this repository''s committed .git-shard.toml, as its content is now'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;completions'= {
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;install-man'= {
            cand --prefix 'Install under this prefix instead (e.g. ~/.local or /usr/local)'
            cand -v 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand --verbose 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-shard;help'= {
            cand new 'Create a shard: a new worktree on its own branch, with an agent running in it'
            cand list 'List the shards of this repository and what their agents are doing'
            cand status 'Show one shard in detail: its run, process group, memory, CPU time and children'
            cand status-line 'Print a one-line summary for a status bar: the shards waiting for you by name (◆), then the others by status'
            cand run 'Start an agent in an existing shard (refused while one is running there)'
            cand attach 'Bring the terminal window or pane of a shard''s agent to the front'
            cand path 'Print the worktree path of a shard'
            cand cd 'Change to a shard''s worktree (needs the shell integration; without it, prints the path)'
            cand logs 'Print the output of a shard''s background run'
            cand stop 'Stop the agent of a shard: SIGTERM to its process group, SIGKILL after the grace period'
            cand wait 'Wait until one of the shards reaches a state, and print `<name> <state>`'
            cand diff 'Show what a shard changed since it forked from its base, with `git diff` (your pager, colours and diff tools apply)'
            cand merge 'Bring a shard''s branch into its base branch (or `--into`), as you would with git'
            cand pr 'Push a shard''s branch and open a pull request for it with `gh` (or a merge request with `glab`), into its base branch or `--into`'
            cand fetch 'Fetch the branch of a shard that lives on a host into this repository'
            cand rm 'Remove a shard: stop its agent, remove its worktree and (when merged) its branch'
            cand prune 'Forget shards whose worktree is gone and report worktrees without a shard'
            cand reconcile 'Reconcile shards with git''s worktrees (what the git hooks run)'
            cand hooks 'Manage the git hooks that notice worktrees removed behind git-shard''s back'
            cand host 'Machines that run shards over SSH: `git shard new <name> --host <host> …`'
            cand prompt 'Print a short prompt segment: the shard you are in and its agent''s status (`⎇ fix-login ●`), or in the main worktree a summary of the repository''s shards (`3● 1✗`); nothing elsewhere'
            cand init 'Print the shell integration: `git shard cd`, the prompt segment, and completion of `git shard <TAB>` through git''s own completion'
            cand config 'Show the configuration: files read, effective settings, terminals (and which one is chosen), agents and hosts'
            cand completions 'Print a static completion script for `git-shard` (for packagers; `git shard init` gives live completion of shard names, also through `git shard <TAB>`)'
            cand install-man 'Install the man pages, so that `git help shard` and `man git-shard` open them'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'git-shard;help;new'= {
        }
        &'git-shard;help;list'= {
        }
        &'git-shard;help;status'= {
        }
        &'git-shard;help;status-line'= {
        }
        &'git-shard;help;run'= {
        }
        &'git-shard;help;attach'= {
        }
        &'git-shard;help;path'= {
        }
        &'git-shard;help;cd'= {
        }
        &'git-shard;help;logs'= {
        }
        &'git-shard;help;stop'= {
        }
        &'git-shard;help;wait'= {
        }
        &'git-shard;help;diff'= {
        }
        &'git-shard;help;merge'= {
        }
        &'git-shard;help;pr'= {
        }
        &'git-shard;help;fetch'= {
        }
        &'git-shard;help;rm'= {
        }
        &'git-shard;help;prune'= {
        }
        &'git-shard;help;reconcile'= {
        }
        &'git-shard;help;hooks'= {
            cand install 'Install the hooks into the folder git uses (core.hooksPath or .git/hooks)'
            cand uninstall 'Remove the hooks and restore the ones that were there before'
            cand status 'Say which hooks are installed, where'
        }
        &'git-shard;help;hooks;install'= {
        }
        &'git-shard;help;hooks;uninstall'= {
        }
        &'git-shard;help;hooks;status'= {
        }
        &'git-shard;help;host'= {
            cand add 'Add a host after checking it (connection, git-shard there, the clone). A host already configured is changed, unless this repository has shards there'
            cand list 'List the configured hosts and what the last `list` heard from each'
            cand check 'Check a host: the connection, its git-shard''s version, and that its clone is of this repository'
            cand rm 'Forget a host, refused while this repository has shards there (nothing there is touched)'
        }
        &'git-shard;help;host;add'= {
        }
        &'git-shard;help;host;list'= {
        }
        &'git-shard;help;host;check'= {
        }
        &'git-shard;help;host;rm'= {
        }
        &'git-shard;help;prompt'= {
        }
        &'git-shard;help;init'= {
        }
        &'git-shard;help;config'= {
        }
        &'git-shard;help;completions'= {
        }
        &'git-shard;help;install-man'= {
        }
        &'git-shard;help;help'= {
        }
    ]
    $completions[$command]
}
