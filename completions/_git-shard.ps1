
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'git-shard' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'git-shard'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'git-shard' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'Create a shard: a new worktree on its own branch, with an agent running in it')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the shards of this repository and what their agents are doing')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List the shards of this repository and what their agents are doing')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show one shard in detail: its run, process group, memory, CPU time and children')
            [CompletionResult]::new('status-line', 'status-line', [CompletionResultType]::ParameterValue, 'Print a one-line summary for a status bar: the shards waiting for you by name (◆), then the others by status')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Start an agent in an existing shard (refused while one is running there)')
            [CompletionResult]::new('attach', 'attach', [CompletionResultType]::ParameterValue, 'Bring the terminal window or pane of a shard''s agent to the front')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the worktree path of a shard')
            [CompletionResult]::new('cd', 'cd', [CompletionResultType]::ParameterValue, 'Change to a shard''s worktree (needs the shell integration; without it, prints the path)')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print the output of a shard''s background run')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the agent of a shard: SIGTERM to its process group, SIGKILL after the grace period')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until one of the shards reaches a state, and print `<name> <state>`')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what a shard changed since it forked from its base, with `git diff` (your pager, colours and diff tools apply)')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Bring a shard''s branch into its base branch (or `--into`), as you would with git')
            [CompletionResult]::new('pr', 'pr', [CompletionResultType]::ParameterValue, 'Push a shard''s branch and open a pull request for it with `gh` (or a merge request with `glab`), into its base branch or `--into`')
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Fetch the branch of a shard that lives on a host into this repository')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove a shard: stop its agent, remove its worktree and (when merged) its branch')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Forget shards whose worktree is gone and report worktrees without a shard')
            [CompletionResult]::new('reconcile', 'reconcile', [CompletionResultType]::ParameterValue, 'Reconcile shards with git''s worktrees (what the git hooks run)')
            [CompletionResult]::new('hooks', 'hooks', [CompletionResultType]::ParameterValue, 'Manage the git hooks that notice worktrees removed behind git-shard''s back')
            [CompletionResult]::new('host', 'host', [CompletionResultType]::ParameterValue, 'Machines that run shards over SSH: `git shard new <name> --host <host> …`')
            [CompletionResult]::new('prompt', 'prompt', [CompletionResultType]::ParameterValue, 'Print a short prompt segment: the shard you are in and its agent''s status (`⎇ fix-login ●`), or in the main worktree a summary of the repository''s shards (`3● 1✗`); nothing elsewhere')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Print the shell integration: `git shard cd`, the prompt segment, and completion of `git shard <TAB>` through git''s own completion')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the configuration: files read, effective settings, terminals (and which one is chosen), agents and hosts')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a static completion script for `git-shard` (for packagers; `git shard init` gives live completion of shard names, also through `git shard <TAB>`)')
            [CompletionResult]::new('install-man', 'install-man', [CompletionResultType]::ParameterValue, 'Install the man pages, so that `git help shard` and `man git-shard` open them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'git-shard;new' {
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'Start from this revision (branch, tag or commit) instead of HEAD')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'Use this branch instead of `<prefix><name>`. An existing branch is used as it is, if no worktree has it checked out')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Agent preset (claude, codex, gemini, aider, opencode, …); arguments after `--` are appended')
            [CompletionResult]::new('--terminal', '--terminal', [CompletionResultType]::ParameterName, 'Terminal to run the agent in (background, inline, or one from the configuration)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Make the shard on this host (see `git shard host`): the base commit goes there over git''s ssh transport, and the agent runs there (in its tmux unless --terminal says)')
            [CompletionResult]::new('--no-launch', '--no-launch', [CompletionResultType]::ParameterName, 'Create the worktree and branch but start no agent (`git shard run` starts one later)')
            [CompletionResult]::new('--no-include', '--no-include', [CompletionResultType]::ParameterName, 'Do not copy the ignored files `.worktreeinclude` names into the new worktree')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the new shard as JSON on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;list' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON array, one object per shard (see README.md for the fields)')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Only this machine''s shards: no host is asked (what a host is asked by `list` here)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;ls' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON array, one object per shard (see README.md for the fields)')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Only this machine''s shards: no host is asked (what a host is asked by `list` here)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;status' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON object: the fields of `list --json` plus `process`')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;status-line' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;run' {
            [CompletionResult]::new('--terminal', '--terminal', [CompletionResultType]::ParameterName, 'Terminal to run the agent in (background, inline, or one from the configuration)')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Agent preset; arguments after `--` are appended')
            [CompletionResult]::new('--resume', '--resume', [CompletionResultType]::ParameterName, 'Continue the agent''s last conversation in this worktree (`claude --continue`, `codex resume --last`, `gemini --resume latest`, `opencode --continue`, `aider --restore-chat-history`), for this run only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;attach' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;path' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;cd' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;logs' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing new output while the agent runs')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing new output while the agent runs')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;stop' {
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'Seconds to wait after SIGTERM before SIGKILL')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;wait' {
            [CompletionResult]::new('--for', '--for', [CompletionResultType]::ParameterName, 'What to wait for')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this many seconds (fractions allowed)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;diff' {
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Also the uncommitted and untracked changes in the shard''s worktree')
            [CompletionResult]::new('--stat', '--stat', [CompletionResultType]::ParameterName, 'Show a diffstat, as `git diff --stat`')
            [CompletionResult]::new('--name-only', '--name-only', [CompletionResultType]::ParameterName, 'Show only the names of changed files, as `git diff --name-only`')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;merge' {
            [CompletionResult]::new('--into', '--into', [CompletionResultType]::ParameterName, 'Merge into this branch instead of the shard''s base')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'The message of the squash or merge commit')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'The message of the squash or merge commit')
            [CompletionResult]::new('--squash', '--squash', [CompletionResultType]::ParameterName, 'One commit on the target with the shard''s whole change')
            [CompletionResult]::new('--rebase', '--rebase', [CompletionResultType]::ParameterName, 'Rebase onto the target, then fast-forward it (the default)')
            [CompletionResult]::new('--no-ff', '--no-ff', [CompletionResultType]::ParameterName, 'A merge commit, even when a fast-forward would do')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Edit the message of the squash or merge commit in your editor')
            [CompletionResult]::new('--edit', '--edit', [CompletionResultType]::ParameterName, 'Edit the message of the squash or merge commit in your editor')
            [CompletionResult]::new('--commit-all', '--commit-all', [CompletionResultType]::ParameterName, 'Commit the shard''s uncommitted and untracked work first (instead of refusing)')
            [CompletionResult]::new('--rm', '--rm', [CompletionResultType]::ParameterName, 'Remove the shard once its work is merged')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;pr' {
            [CompletionResult]::new('--into', '--into', [CompletionResultType]::ParameterName, 'Open it against this branch instead of the shard''s base')
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'The remote to push to (default: `remote.pushDefault`, else `origin`)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;fetch' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;rm' {
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'Seconds to give the agent after SIGTERM before SIGKILL')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Remove the worktree even with uncommitted or untracked changes, commits only a detached HEAD holds, initialised submodules (whose commits are all on a remote) or a lock someone else set, and go on when the agent cannot be stopped')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Remove the worktree even with uncommitted or untracked changes, commits only a detached HEAD holds, initialised submodules (whose commits are all on a remote) or a lock someone else set, and go on when the agent cannot be stopped')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'Delete the branch even when it has commits that are not in its base')
            [CompletionResult]::new('--delete-branch', '--delete-branch', [CompletionResultType]::ParameterName, 'Delete the branch even when it has commits that are not in its base')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Change nothing: run every check and list what would be deleted, ignored files included')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Change nothing: run every check and list what would be deleted, ignored files included')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;prune' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Only say what would be done')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Only say what would be done')
            [CompletionResult]::new('--merged', '--merged', [CompletionResultType]::ParameterName, 'Also remove shards whose branch is merged into its base (squash and rebase merges included), whose worktree is clean and whose agent is not running; with `--dry-run`, list them')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the actions as a JSON array')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;reconcile' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing and always exit 0 (for git hooks)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing and always exit 0 (for git hooks)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;hooks' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the hooks into the folder git uses (core.hooksPath or .git/hooks)')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove the hooks and restore the ones that were there before')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say which hooks are installed, where')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'git-shard;hooks;install' {
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Install even when the hooks folder belongs to another tool (husky, pre-commit, lefthook)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;hooks;uninstall' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;hooks;status' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;hooks;help' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the hooks into the folder git uses (core.hooksPath or .git/hooks)')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove the hooks and restore the ones that were there before')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say which hooks are installed, where')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'git-shard;hooks;help;install' {
            break
        }
        'git-shard;hooks;help;uninstall' {
            break
        }
        'git-shard;hooks;help;status' {
            break
        }
        'git-shard;hooks;help;help' {
            break
        }
        'git-shard;host' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a host after checking it (connection, git-shard there, the clone). A host already configured is changed, unless this repository has shards there')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the configured hosts and what the last `list` heard from each')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List the configured hosts and what the last `list` heard from each')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check a host: the connection, its git-shard''s version, and that its clone is of this repository')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Forget a host, refused while this repository has shards there (nothing there is touched)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'git-shard;host;add' {
            [CompletionResult]::new('--ssh', '--ssh', [CompletionResultType]::ParameterName, 'Destination as `ssh` takes it: `devbox`, `me@10.0.0.5`')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'The clone of this repository there: an absolute path, or `~/…`')
            [CompletionResult]::new('--git-shard', '--git-shard', [CompletionResultType]::ParameterName, 'The git-shard binary there, when it is not on the PATH of a non-interactive ssh session')
            [CompletionResult]::new('--no-check', '--no-check', [CompletionResultType]::ParameterName, 'Add it without checking (for a host that is down right now)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;host;list' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;host;ls' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;host;check' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;host;rm' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;host;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a host after checking it (connection, git-shard there, the clone). A host already configured is changed, unless this repository has shards there')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the configured hosts and what the last `list` heard from each')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check a host: the connection, its git-shard''s version, and that its clone is of this repository')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Forget a host, refused while this repository has shards there (nothing there is touched)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'git-shard;host;help;add' {
            break
        }
        'git-shard;host;help;list' {
            break
        }
        'git-shard;host;help;check' {
            break
        }
        'git-shard;host;help;rm' {
            break
        }
        'git-shard;host;help;help' {
            break
        }
        'git-shard;prompt' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Template with {name} {status} {symbol} {glyph} {summary} {hosts} {count_running} {count_waiting} {count_idle} {count_ok} {count_failed} {count_lost} {count_not_started} {count_stopped} {count_unreadable} {count_total}. Default: "{glyph} {name} {symbol}" in a shard; in the main worktree "{summary}" and "{hosts}", joined by " · " (" | " in plain characters) when both have something to show ({hosts}: each host''s shards as the last `list` heard them, and when: `devbox 2● @14:02`). When every placeholder comes out empty ({name} in the main worktree, counts in a shard), nothing is printed')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the facts as JSON instead')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;init' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;config' {
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set a key in this repository''s local configuration (.git/shards/config.toml), e.g. `auto_install_hooks=true` or `terminal=tmux`')
            [CompletionResult]::new('--unset', '--unset', [CompletionResultType]::ParameterName, 'Remove a key from this repository''s local configuration')
            [CompletionResult]::new('--show', '--show', [CompletionResultType]::ParameterName, 'Print the effective settings, terminals, agents and hosts (the default)')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'List the files that are read, in order (later ones win)')
            [CompletionResult]::new('--trust', '--trust', [CompletionResultType]::ParameterName, 'Allow the commands (terminals, agents) of this repository''s committed .git-shard.toml, as its content is now')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;completions' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;install-man' {
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Install under this prefix instead (e.g. ~/.local or /usr/local)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what git-shard does to stderr (repeat for more detail; or set GIT_SHARD_LOG)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-shard;help' {
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'Create a shard: a new worktree on its own branch, with an agent running in it')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the shards of this repository and what their agents are doing')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show one shard in detail: its run, process group, memory, CPU time and children')
            [CompletionResult]::new('status-line', 'status-line', [CompletionResultType]::ParameterValue, 'Print a one-line summary for a status bar: the shards waiting for you by name (◆), then the others by status')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Start an agent in an existing shard (refused while one is running there)')
            [CompletionResult]::new('attach', 'attach', [CompletionResultType]::ParameterValue, 'Bring the terminal window or pane of a shard''s agent to the front')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the worktree path of a shard')
            [CompletionResult]::new('cd', 'cd', [CompletionResultType]::ParameterValue, 'Change to a shard''s worktree (needs the shell integration; without it, prints the path)')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print the output of a shard''s background run')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the agent of a shard: SIGTERM to its process group, SIGKILL after the grace period')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until one of the shards reaches a state, and print `<name> <state>`')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what a shard changed since it forked from its base, with `git diff` (your pager, colours and diff tools apply)')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Bring a shard''s branch into its base branch (or `--into`), as you would with git')
            [CompletionResult]::new('pr', 'pr', [CompletionResultType]::ParameterValue, 'Push a shard''s branch and open a pull request for it with `gh` (or a merge request with `glab`), into its base branch or `--into`')
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Fetch the branch of a shard that lives on a host into this repository')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove a shard: stop its agent, remove its worktree and (when merged) its branch')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Forget shards whose worktree is gone and report worktrees without a shard')
            [CompletionResult]::new('reconcile', 'reconcile', [CompletionResultType]::ParameterValue, 'Reconcile shards with git''s worktrees (what the git hooks run)')
            [CompletionResult]::new('hooks', 'hooks', [CompletionResultType]::ParameterValue, 'Manage the git hooks that notice worktrees removed behind git-shard''s back')
            [CompletionResult]::new('host', 'host', [CompletionResultType]::ParameterValue, 'Machines that run shards over SSH: `git shard new <name> --host <host> …`')
            [CompletionResult]::new('prompt', 'prompt', [CompletionResultType]::ParameterValue, 'Print a short prompt segment: the shard you are in and its agent''s status (`⎇ fix-login ●`), or in the main worktree a summary of the repository''s shards (`3● 1✗`); nothing elsewhere')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Print the shell integration: `git shard cd`, the prompt segment, and completion of `git shard <TAB>` through git''s own completion')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the configuration: files read, effective settings, terminals (and which one is chosen), agents and hosts')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a static completion script for `git-shard` (for packagers; `git shard init` gives live completion of shard names, also through `git shard <TAB>`)')
            [CompletionResult]::new('install-man', 'install-man', [CompletionResultType]::ParameterValue, 'Install the man pages, so that `git help shard` and `man git-shard` open them')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'git-shard;help;new' {
            break
        }
        'git-shard;help;list' {
            break
        }
        'git-shard;help;status' {
            break
        }
        'git-shard;help;status-line' {
            break
        }
        'git-shard;help;run' {
            break
        }
        'git-shard;help;attach' {
            break
        }
        'git-shard;help;path' {
            break
        }
        'git-shard;help;cd' {
            break
        }
        'git-shard;help;logs' {
            break
        }
        'git-shard;help;stop' {
            break
        }
        'git-shard;help;wait' {
            break
        }
        'git-shard;help;diff' {
            break
        }
        'git-shard;help;merge' {
            break
        }
        'git-shard;help;pr' {
            break
        }
        'git-shard;help;fetch' {
            break
        }
        'git-shard;help;rm' {
            break
        }
        'git-shard;help;prune' {
            break
        }
        'git-shard;help;reconcile' {
            break
        }
        'git-shard;help;hooks' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the hooks into the folder git uses (core.hooksPath or .git/hooks)')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove the hooks and restore the ones that were there before')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say which hooks are installed, where')
            break
        }
        'git-shard;help;hooks;install' {
            break
        }
        'git-shard;help;hooks;uninstall' {
            break
        }
        'git-shard;help;hooks;status' {
            break
        }
        'git-shard;help;host' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a host after checking it (connection, git-shard there, the clone). A host already configured is changed, unless this repository has shards there')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the configured hosts and what the last `list` heard from each')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check a host: the connection, its git-shard''s version, and that its clone is of this repository')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Forget a host, refused while this repository has shards there (nothing there is touched)')
            break
        }
        'git-shard;help;host;add' {
            break
        }
        'git-shard;help;host;list' {
            break
        }
        'git-shard;help;host;check' {
            break
        }
        'git-shard;help;host;rm' {
            break
        }
        'git-shard;help;prompt' {
            break
        }
        'git-shard;help;init' {
            break
        }
        'git-shard;help;config' {
            break
        }
        'git-shard;help;completions' {
            break
        }
        'git-shard;help;install-man' {
            break
        }
        'git-shard;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
