# git-shard shell integration for fish. In ~/.config/fish/config.fish:
#     git shard init fish | source
# Opt-outs, set before that line:
#   GIT_SHARD_NO_PROMPT=1  leave fish_prompt alone (call __git_shard_prompt in your own prompt)
#   GIT_SHARD_NO_CD=1      do not wrap `git` (then `git shard cd <name>` only prints the path)

# `git [<git options>] shard cd <name>`: change this shell's directory to the shard's worktree.
# $argv: git's own options (`-C <dir>`, …), `--`, then cd's arguments.
function __git_shard_cd
    set -l at (contains -i -- -- $argv)
    set -l opts
    test $at -gt 1; and set opts $argv[1..(math $at - 1)]
    set -l rest $argv[(math $at + 1)..-1]
    set -l __git_shard_dir
    if set -q opts[1]
        set __git_shard_dir (env _GIT_SHARD_FROM_SHELL=1 git $opts shard cd $rest); or return
    else
        set __git_shard_dir (env _GIT_SHARD_FROM_SHELL=1 git-shard cd $rest); or return
    end
    # Not a folder: what `git shard cd --help` printed, for the user to read.
    if test (count $__git_shard_dir) -eq 1; and test -d "$__git_shard_dir"
        builtin cd $__git_shard_dir
    else if set -q __git_shard_dir[1]
        printf '%s\n' $__git_shard_dir
    end
end

# Only `git shard cd` (after git's own options) and `git-shard cd` are intercepted; everything
# else goes on: to git, or to the user's own `git` function (an `alias git=hub` is one), kept as
# it was and called in our wrapper's place.
if not set -q GIT_SHARD_NO_CD; and not functions -q __git_shard_git_next
    if functions -q git
        functions -c git __git_shard_git_next
        functions -e git
    else
        function __git_shard_git_next
            command git $argv
        end
    end
    function git --wraps git
        set -l i 1
        while test $i -le (count $argv)
            switch $argv[$i]
                case -C -c --git-dir --work-tree --namespace --config-env
                    set i (math $i + 2)
                case '-*'
                    set i (math $i + 1)
                case '*'
                    break
            end
        end
        set -l next (math $i + 1)
        if test "$argv[$i]" = shard; and test "$argv[$next]" = cd
            set -l opts
            test $i -gt 1; and set opts $argv[1..(math $i - 1)]
            __git_shard_cd $opts -- $argv[(math $i + 2)..-1]
        else
            __git_shard_git_next $argv
        end
    end
end
if not set -q GIT_SHARD_NO_CD; and not functions -q git-shard
    function git-shard --wraps git-shard
        if test (count $argv) -ge 1; and test "$argv[1]" = cd
            __git_shard_cd -- $argv[2..-1]
        else
            command git-shard $argv
        end
    end
end
# This shell has the integration: `git shard cd` run past it (through a git alias of the user's)
# says so instead of suggesting to enable it.
if not set -q GIT_SHARD_NO_CD
    set -gx GIT_SHARD_SHELL_PID $fish_pid
end

# What the last segment depends on (`git-shard prompt --cache`): the folder the records are
# written into (its time, against a stamp git-shard set to it), the runs shown as running, the
# folder we are in and the locale. All checked with builtins: a prompt where nothing changed starts
# no process. Each run shown as running is a path below /proc found only while it has not exited:
# through its supervisor's descriptor of the agent's `fd` folder, which leads nowhere once that
# very process is gone (see `Held` in src/process/mod.rs), `<supervisor>/fd/<n>/<file>`, an entry
# of the folder, or `<supervisor>/fd/<n>`, the folder, not empty; or `<pid>/<entry>`, and then
# `/proc/<pid>` older than the `.runs` stamp proves it is the same process (see `stamps` in
# src/commands/prompt.rs). fish spends microseconds on every statement and on every argument
# `test` parses, so the entries are found by one `path is` (fish 3.5 and later have `path`; it
# follows them, to the agent's terminal or log) and the rest is one `test`.
contains -- path (builtin -n); and set -g __git_shard_path
# Where the shell is and how glyphs are shown are watched by fish itself: a change forgets the
# checks (and `test` without any fails). Comparing them at every prompt cost 9 µs.
function __git_shard_forget --on-variable PWD --on-variable LC_ALL --on-variable LC_CTYPE \
        --on-variable LANG --on-variable GIT_SHARD_ASCII --on-variable GIT_CEILING_DIRECTORIES \
        --on-variable GIT_DISCOVERY_ACROSS_FILESYSTEM
    set -g __git_shard_checks
end

# Bring `$__git_shard_segment` up to date: what the wrapped fish_prompt runs at every prompt (it
# then prints the variable: no command substitution, which costs fish more than the checks).
# Nothing changed: every run's path is found (`path is -v` fails), and every file test holds.
function __git_shard_refresh
    if set -q __git_shard_runs[1]; and path is -v $__git_shard_runs
        # A run shown as running has exited. (`path` without arguments would read standard input.)
    else if set -q __git_shard_checks[1]; and test $__git_shard_checks
        # (`test` without arguments fails, but fish 4 also warns of it.)
        return 0
    end
    set -l lines (command git-shard prompt --cache $fish_pid 2>/dev/null)
    set -g __git_shard_segment $lines[1]
    set -g __git_shard_checks
    set -g __git_shard_runs
    set -g __git_shard_stamp
    if test (count $lines) -ge 2
        set -l deps (string split \t -- $lines[2])
        if test "$deps[1]" = nowhere
            # Outside a repository: still outside while no folder the walk looked in has a
            # `.git`.
            for dir in $lines[3..-1]
                set -a __git_shard_checks -a ! -e $dir/.git
            end
        else
            # The folder's time neither newer nor older than the stamp's; then per run.
            set -g __git_shard_stamp $deps[2]
            set __git_shard_checks -a ! $deps[1] -nt $deps[2] -a ! $deps[1] -ot $deps[2]
            for run in $lines[3..-1]
                if not string match -q '*/fd/*' -- $run
                    # By PID: `/proc/<pid> -ot <stamp>.runs`, and its entry as below.
                    set -a __git_shard_checks -a /proc/(string replace -r '/.*' '' -- $run) -ot $deps[2].runs
                end
                if string match -q -r '(/fd/.*/|/exe$)' -- $run
                    # An entry to find (`exe` of a zombie leads nowhere): by `path is`.
                    if set -q __git_shard_path
                        set -a __git_shard_runs /proc/$run
                    else
                        set -a __git_shard_checks -a -e /proc/$run
                    end
                else
                    # A `fd` folder, not empty (fish's `path` has no `-s`).
                    set -a __git_shard_checks -a -s /proc/$run
                end
            end
        end
        # Joined by `-a`; nothing to check (no folder looked in) is always unchanged.
        set -q __git_shard_checks[1]; and set -e __git_shard_checks[1]; or set __git_shard_checks -n x
    end
    # `set` leaves the status of the command before it: a hook that succeeded says so.
    return 0
end

function __git_shard_prompt --description 'the git-shard prompt segment'
    __git_shard_refresh
    test -n "$__git_shard_segment"; and printf '%s\n' $__git_shard_segment
end

# Wrap the current fish_prompt: print the segment, then the original prompt, which ran first.
if not set -q GIT_SHARD_NO_PROMPT; and functions -q fish_prompt; and not functions -q __git_shard_original_fish_prompt
    functions -c fish_prompt __git_shard_original_fish_prompt
    function fish_prompt
        # The user's prompt first, while `$status` and `$pipestatus` are still theirs (`[0|1]`
        # after `true | false`), captured as it is, trailing newlines and all.
        set -l __git_shard_original (__git_shard_original_fish_prompt | string collect --no-trim-newlines)
        __git_shard_refresh
        if test -n "$__git_shard_segment"
            printf '%s ' $__git_shard_segment
        end
        printf '%s' $__git_shard_original
    end
end

# Completion from git-shard itself, for `git-shard …` and `git shard …`.
function __git_shard_complete
    set -l tokens (commandline --current-process --tokenize --cut-at-cursor)
    set -l start 1
    if test "$tokens[1]" != git-shard
        set start (contains --index -- shard $tokens); or return
    end
    set -l current (commandline --current-token)
    # `git -C <dir> shard …`: the shards of that repository.
    set -l dirs
    set -l i 2
    while test $i -lt $start
        if test "$tokens[$i]" = -C
            set i (math $i + 1)
            set -a dirs $tokens[$i]
        end
        set i (math $i + 1)
    end
    set -l here $PWD
    for dir in $dirs
        builtin cd $dir 2>/dev/null; or begin
            builtin cd $here
            return
        end
    end
    set -l found (COMPLETE=fish command git-shard -- git-shard $tokens[(math $start + 1)..-1] $current 2>/dev/null)
    builtin cd $here
    test (count $found) -gt 0; or return
    # Options once a `-` is typed, as git does: before that, the names are what is wanted.
    string match --invert --regex -- (string match --quiet -- '-*' $current; and echo '^$'; or echo '^-') $found
end

function __git_shard_in_git
    set -l tokens (commandline --current-process --tokenize --cut-at-cursor)
    contains -- shard $tokens[2..-1]
end

complete --command git-shard --no-files --keep-order --arguments '(__git_shard_complete)'
complete --command git --condition __git_shard_in_git --no-files --keep-order --arguments '(__git_shard_complete)'
