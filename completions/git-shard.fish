# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_git_shard_global_optspecs
    string join \n v/verbose h/help V/version
end

function __fish_git_shard_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_git_shard_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_git_shard_using_subcommand
    set -l cmd (__fish_git_shard_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c git-shard -n "__fish_git_shard_needs_command" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_needs_command" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "new" -d 'Create a shard: a new worktree on its own branch, with an agent running in it'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "list" -d 'List the shards of this repository and what their agents are doing'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "ls" -d 'List the shards of this repository and what their agents are doing'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "status" -d 'Show one shard in detail: its run, process group, memory, CPU time and children'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "status-line" -d 'Print a one-line summary for a status bar: the shards waiting for you by name (◆), then the others by status'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "run" -d 'Start an agent in an existing shard (refused while one is running there)'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "attach" -d 'Bring the terminal window or pane of a shard\'s agent to the front'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "path" -d 'Print the worktree path of a shard'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "cd" -d 'Change to a shard\'s worktree (needs the shell integration; without it, prints the path)'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "logs" -d 'Print the output of a shard\'s background run'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "stop" -d 'Stop the agent of a shard: SIGTERM to its process group, SIGKILL after the grace period'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "wait" -d 'Wait until one of the shards reaches a state, and print `<name> <state>`'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "diff" -d 'Show what a shard changed since it forked from its base, with `git diff` (your pager, colours and diff tools apply)'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "merge" -d 'Bring a shard\'s branch into its base branch (or `--into`), as you would with git'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "pr" -d 'Push a shard\'s branch and open a pull request for it with `gh` (or a merge request with `glab`), into its base branch or `--into`'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "rm" -d 'Remove a shard: stop its agent, remove its worktree and (when merged) its branch'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "prune" -d 'Forget shards whose worktree is gone and report worktrees without a shard'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "reconcile" -d 'Reconcile shards with git\'s worktrees (what the git hooks run)'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "hooks" -d 'Manage the git hooks that notice worktrees removed behind git-shard\'s back'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "prompt" -d 'Print a short prompt segment: the shard you are in and its agent\'s status (`⎇ fix-login ●`), or in the main worktree a summary of the repository\'s shards (`3● 1✗`); nothing elsewhere'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "init" -d 'Print the shell integration: `git shard cd`, the prompt segment, and completion of `git shard <TAB>` through git\'s own completion'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "config" -d 'Show the configuration: files read, effective settings, terminals and which one is chosen'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "completions" -d 'Print a static completion script for `git-shard` (for packagers; `git shard init` gives live completion of shard names, also through `git shard <TAB>`)'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "install-man" -d 'Install the man pages, so that `git help shard` and `man git-shard` open them'
complete -c git-shard -n "__fish_git_shard_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c git-shard -n "__fish_git_shard_using_subcommand new" -l base -d 'Start from this revision (branch, tag or commit) instead of HEAD' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand new" -l branch -d 'Use this branch instead of `<prefix><name>`. An existing branch is used as it is, if no worktree has it checked out' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand new" -l agent -d 'Agent preset (claude, codex, gemini, aider, opencode, …); arguments after `--` are appended' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand new" -l terminal -d 'Terminal to run the agent in (background, inline, or one from the configuration)' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand new" -l no-launch -d 'Create the worktree and branch but start no agent (`git shard run` starts one later)'
complete -c git-shard -n "__fish_git_shard_using_subcommand new" -l no-include -d 'Do not copy the ignored files `.worktreeinclude` names into the new worktree'
complete -c git-shard -n "__fish_git_shard_using_subcommand new" -l json -d 'Print the new shard as JSON on stdout'
complete -c git-shard -n "__fish_git_shard_using_subcommand new" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand new" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand new" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand list" -l json -d 'Print a JSON array, one object per shard (see README.md for the fields)'
complete -c git-shard -n "__fish_git_shard_using_subcommand list" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand list" -s h -l help -d 'Print help'
complete -c git-shard -n "__fish_git_shard_using_subcommand list" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand ls" -l json -d 'Print a JSON array, one object per shard (see README.md for the fields)'
complete -c git-shard -n "__fish_git_shard_using_subcommand ls" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand ls" -s h -l help -d 'Print help'
complete -c git-shard -n "__fish_git_shard_using_subcommand ls" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand status" -l json -d 'Print a JSON object: the fields of `list --json` plus `process`'
complete -c git-shard -n "__fish_git_shard_using_subcommand status" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand status" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand status-line" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand status-line" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand status-line" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand run" -l terminal -d 'Terminal to run the agent in (background, inline, or one from the configuration)' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand run" -l agent -d 'Agent preset; arguments after `--` are appended' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand run" -l resume -d 'Continue the agent\'s last conversation in this worktree (`claude --continue`, `codex resume --last`, `gemini --resume latest`, `opencode --continue`, `aider --restore-chat-history`), for this run only'
complete -c git-shard -n "__fish_git_shard_using_subcommand run" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand run" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand attach" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand attach" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand attach" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand path" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand path" -s h -l help -d 'Print help'
complete -c git-shard -n "__fish_git_shard_using_subcommand path" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand cd" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand cd" -s h -l help -d 'Print help'
complete -c git-shard -n "__fish_git_shard_using_subcommand cd" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand logs" -s f -l follow -d 'Keep printing new output while the agent runs'
complete -c git-shard -n "__fish_git_shard_using_subcommand logs" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand logs" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand stop" -l grace -d 'Seconds to wait after SIGTERM before SIGKILL' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand stop" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand stop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand stop" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand wait" -l for -d 'What to wait for' -r -f -a "waiting\t''
idle\t''
exit\t''
any\t''"
complete -c git-shard -n "__fish_git_shard_using_subcommand wait" -l timeout -d 'Give up after this many seconds (fractions allowed)' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand wait" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand wait" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand diff" -l all -d 'Also the uncommitted and untracked changes in the shard\'s worktree'
complete -c git-shard -n "__fish_git_shard_using_subcommand diff" -l stat -d 'Show a diffstat, as `git diff --stat`'
complete -c git-shard -n "__fish_git_shard_using_subcommand diff" -l name-only -d 'Show only the names of changed files, as `git diff --name-only`'
complete -c git-shard -n "__fish_git_shard_using_subcommand diff" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand diff" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand merge" -l into -d 'Merge into this branch instead of the shard\'s base' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand merge" -s m -l message -d 'The message of the squash or merge commit' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand merge" -l squash -d 'One commit on the target with the shard\'s whole change'
complete -c git-shard -n "__fish_git_shard_using_subcommand merge" -l rebase -d 'Rebase onto the target, then fast-forward it (the default)'
complete -c git-shard -n "__fish_git_shard_using_subcommand merge" -l no-ff -d 'A merge commit, even when a fast-forward would do'
complete -c git-shard -n "__fish_git_shard_using_subcommand merge" -s e -l edit -d 'Edit the message of the squash or merge commit in your editor'
complete -c git-shard -n "__fish_git_shard_using_subcommand merge" -l commit-all -d 'Commit the shard\'s uncommitted and untracked work first (instead of refusing)'
complete -c git-shard -n "__fish_git_shard_using_subcommand merge" -l rm -d 'Remove the shard once its work is merged'
complete -c git-shard -n "__fish_git_shard_using_subcommand merge" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand merge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand merge" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand pr" -l into -d 'Open it against this branch instead of the shard\'s base' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand pr" -l remote -d 'The remote to push to (default: `remote.pushDefault`, else `origin`)' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand pr" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand pr" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand pr" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand rm" -l grace -d 'Seconds to give the agent after SIGTERM before SIGKILL' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand rm" -s f -l force -d 'Remove the worktree even with uncommitted or untracked changes, commits only a detached HEAD holds, initialised submodules (whose commits are all on a remote) or a lock someone else set, and go on when the agent cannot be stopped'
complete -c git-shard -n "__fish_git_shard_using_subcommand rm" -s D -l delete-branch -d 'Delete the branch even when it has commits that are not in its base'
complete -c git-shard -n "__fish_git_shard_using_subcommand rm" -s n -l dry-run -d 'Change nothing: run every check and list what would be deleted, ignored files included'
complete -c git-shard -n "__fish_git_shard_using_subcommand rm" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand rm" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand prune" -s n -l dry-run -d 'Only say what would be done'
complete -c git-shard -n "__fish_git_shard_using_subcommand prune" -l merged -d 'Also remove shards whose branch is merged into its base (squash and rebase merges included), whose worktree is clean and whose agent is not running; with `--dry-run`, list them'
complete -c git-shard -n "__fish_git_shard_using_subcommand prune" -l json -d 'Print the actions as a JSON array'
complete -c git-shard -n "__fish_git_shard_using_subcommand prune" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand prune" -s h -l help -d 'Print help'
complete -c git-shard -n "__fish_git_shard_using_subcommand prune" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand reconcile" -s q -l quiet -d 'Print nothing and always exit 0 (for git hooks)'
complete -c git-shard -n "__fish_git_shard_using_subcommand reconcile" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand reconcile" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand reconcile" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall status help" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall status help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall status help" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall status help" -f -a "install" -d 'Install the hooks into the folder git uses (core.hooksPath or .git/hooks)'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall status help" -f -a "uninstall" -d 'Remove the hooks and restore the ones that were there before'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall status help" -f -a "status" -d 'Say which hooks are installed, where'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from install" -l force -d 'Install even when the hooks folder belongs to another tool (husky, pre-commit, lefthook)'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from install" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from uninstall" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from uninstall" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from help" -f -a "install" -d 'Install the hooks into the folder git uses (core.hooksPath or .git/hooks)'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from help" -f -a "uninstall" -d 'Remove the hooks and restore the ones that were there before'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from help" -f -a "status" -d 'Say which hooks are installed, where'
complete -c git-shard -n "__fish_git_shard_using_subcommand hooks; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c git-shard -n "__fish_git_shard_using_subcommand prompt" -l format -d 'Template with {name} {status} {symbol} {glyph} {summary} {count_running} {count_waiting} {count_idle} {count_ok} {count_failed} {count_lost} {count_not_started} {count_stopped} {count_unreadable} {count_total}. Default: "{glyph} {name} {symbol}" in a shard, "{summary}" in the main worktree. When every placeholder comes out empty ({name} in the main worktree, counts in a shard), nothing is printed' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand prompt" -l json -d 'Print the facts as JSON instead'
complete -c git-shard -n "__fish_git_shard_using_subcommand prompt" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand prompt" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand prompt" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand init" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand init" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand config" -l set -d 'Set a key in this repository\'s local configuration (.git/shards/config.toml), e.g. `auto_install_hooks=true` or `terminal=tmux`' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand config" -l unset -d 'Remove a key from this repository\'s local configuration' -r
complete -c git-shard -n "__fish_git_shard_using_subcommand config" -l show -d 'Print the effective settings and terminals (the default)'
complete -c git-shard -n "__fish_git_shard_using_subcommand config" -l path -d 'List the files that are read, in order (later ones win)'
complete -c git-shard -n "__fish_git_shard_using_subcommand config" -l trust -d 'Allow the commands (terminals, agents) of this repository\'s committed .git-shard.toml, as its content is now'
complete -c git-shard -n "__fish_git_shard_using_subcommand config" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand config" -s h -l help -d 'Print help'
complete -c git-shard -n "__fish_git_shard_using_subcommand config" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand completions" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand completions" -s h -l help -d 'Print help'
complete -c git-shard -n "__fish_git_shard_using_subcommand completions" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand install-man" -l prefix -d 'Install under this prefix instead (e.g. ~/.local or /usr/local)' -r -F
complete -c git-shard -n "__fish_git_shard_using_subcommand install-man" -s v -l verbose -d 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)'
complete -c git-shard -n "__fish_git_shard_using_subcommand install-man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-shard -n "__fish_git_shard_using_subcommand install-man" -s V -l version -d 'Print version'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "new" -d 'Create a shard: a new worktree on its own branch, with an agent running in it'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "list" -d 'List the shards of this repository and what their agents are doing'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "status" -d 'Show one shard in detail: its run, process group, memory, CPU time and children'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "status-line" -d 'Print a one-line summary for a status bar: the shards waiting for you by name (◆), then the others by status'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "run" -d 'Start an agent in an existing shard (refused while one is running there)'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "attach" -d 'Bring the terminal window or pane of a shard\'s agent to the front'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "path" -d 'Print the worktree path of a shard'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "cd" -d 'Change to a shard\'s worktree (needs the shell integration; without it, prints the path)'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "logs" -d 'Print the output of a shard\'s background run'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "stop" -d 'Stop the agent of a shard: SIGTERM to its process group, SIGKILL after the grace period'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "wait" -d 'Wait until one of the shards reaches a state, and print `<name> <state>`'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "diff" -d 'Show what a shard changed since it forked from its base, with `git diff` (your pager, colours and diff tools apply)'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "merge" -d 'Bring a shard\'s branch into its base branch (or `--into`), as you would with git'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "pr" -d 'Push a shard\'s branch and open a pull request for it with `gh` (or a merge request with `glab`), into its base branch or `--into`'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "rm" -d 'Remove a shard: stop its agent, remove its worktree and (when merged) its branch'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "prune" -d 'Forget shards whose worktree is gone and report worktrees without a shard'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "reconcile" -d 'Reconcile shards with git\'s worktrees (what the git hooks run)'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "hooks" -d 'Manage the git hooks that notice worktrees removed behind git-shard\'s back'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "prompt" -d 'Print a short prompt segment: the shard you are in and its agent\'s status (`⎇ fix-login ●`), or in the main worktree a summary of the repository\'s shards (`3● 1✗`); nothing elsewhere'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "init" -d 'Print the shell integration: `git shard cd`, the prompt segment, and completion of `git shard <TAB>` through git\'s own completion'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "config" -d 'Show the configuration: files read, effective settings, terminals and which one is chosen'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "completions" -d 'Print a static completion script for `git-shard` (for packagers; `git shard init` gives live completion of shard names, also through `git shard <TAB>`)'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "install-man" -d 'Install the man pages, so that `git help shard` and `man git-shard` open them'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and not __fish_seen_subcommand_from new list status status-line run attach path cd logs stop wait diff merge pr rm prune reconcile hooks prompt init config completions install-man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and __fish_seen_subcommand_from hooks" -f -a "install" -d 'Install the hooks into the folder git uses (core.hooksPath or .git/hooks)'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and __fish_seen_subcommand_from hooks" -f -a "uninstall" -d 'Remove the hooks and restore the ones that were there before'
complete -c git-shard -n "__fish_git_shard_using_subcommand help; and __fish_seen_subcommand_from hooks" -f -a "status" -d 'Say which hooks are installed, where'
