# git-shard shell integration for zsh. In ~/.zshrc, after compinit (a prompt theme may come
# before or after it):
#     eval "$(git shard init zsh)"
# Opt-outs, set before that line:
#   GIT_SHARD_NO_PROMPT=1  leave PROMPT and precmd alone (place "$(git shard prompt)" yourself)
#   GIT_SHARD_NO_CD=1      do not wrap `git` (then `git shard cd <name>` only prints the path)

# `git [<git options>] shard cd <name>`: change this shell's directory to the shard's worktree.
# $@: git's own options (`-C <dir>`, …), `--`, then cd's arguments.
__git_shard_cd() {
    local -a __git_shard_opts
    __git_shard_opts=()
    while (( $# )) && [[ $1 != -- ]]; do
        __git_shard_opts+=("$1")
        shift
    done
    shift
    local __git_shard_dir
    if (( ${#__git_shard_opts} )); then
        __git_shard_dir=$(_GIT_SHARD_FROM_SHELL=1 command git "${__git_shard_opts[@]}" shard cd "$@") || return
    else
        __git_shard_dir=$(_GIT_SHARD_FROM_SHELL=1 command git-shard cd "$@") || return
    fi
    # Not a folder: what `git shard cd --help` printed, for the user to read. Nothing: a shard
    # on a host, whose shell there has ended.
    if [[ -d $__git_shard_dir ]]; then
        builtin cd -- "$__git_shard_dir"
    elif [[ -n $__git_shard_dir ]]; then
        print -r -- "$__git_shard_dir"
    fi
}

# What `git` runs when it is not `git shard cd`: git itself, or the tool the user's alias named.
__git_shard_git_next() {
    command git "$@"
}

# `git …`: `shard cd` (after git's own options) changes directory; anything else goes on.
__git_shard_git() {
    local -i __git_shard_i=1
    while (( __git_shard_i <= $# )); do
        case ${argv[__git_shard_i]} in
            (-C|-c|--git-dir|--work-tree|--namespace|--config-env) (( __git_shard_i += 2 )) ;;
            (-*) (( __git_shard_i += 1 )) ;;
            (*) break ;;
        esac
    done
    if [[ ${argv[__git_shard_i]-} == shard && ${argv[__git_shard_i+1]-} == cd ]]; then
        __git_shard_cd "${(@)argv[1,__git_shard_i-1]}" -- "${(@)argv[__git_shard_i+2,-1]}"
    else
        __git_shard_git_next "$@"
    fi
}

# Only `git shard cd` and `git-shard cd` are intercepted. `function name` is never alias-expanded;
# an alias of the user's (`alias git=hub`, `alias git='noglob git'`) is kept in the chain: their
# alias goes through our wrapper, which calls what it named.
if [[ -z ${GIT_SHARD_NO_CD-} ]] && (( ! ${+functions[git]} )); then
    if (( ${+aliases[git]} )) && [[ ${aliases[git]} != *__git_shard_git* ]]; then
        # In a function of its own, for the pattern's options whatever the user's are.
        () {
            setopt localoptions extendedglob
            local __git_shard_alias=${aliases[git]}
            local -a match mbegin mend
            # It runs git itself, after nothing but precommand modifiers of the shell's own and
            # variables for it (`noglob git`, `GIT_PAGER=cat git`), and with options maybe: the
            # wrapper takes git's place in it. Not after a command that runs its arguments
            # (`command git`, `env … git`): that would run the wrapper as a program.
            if [[ " $__git_shard_alias " == (#b)(*[[:space:]])git([[:space:]]*) ]] &&
                [[ ${match[1]} == [[:space:]]#((noglob|nocorrect|[A-Za-z_][A-Za-z0-9_]#=[^[:space:]]#)[[:space:]]##)# ]]; then
                aliases[git]="${match[1]# }__git_shard_git${match[2]% }"
            else
                # It runs another tool: the wrapper runs that tool for everything but `shard cd`.
                eval "__git_shard_git_next() { $__git_shard_alias \"\$@\" }"
                aliases[git]=__git_shard_git
            fi
        }
    else
        function git {
            __git_shard_git "$@"
        }
    fi
fi
if [[ -z ${GIT_SHARD_NO_CD-} ]] && (( ! ${+functions[git-shard]} )); then
    function git-shard {
        if [[ ${1-} == cd ]]; then
            shift
            __git_shard_cd -- "$@"
        else
            command git-shard "$@"
        fi
    }
fi
# This shell has the integration: `git shard cd` run past it (through a `git` function or alias
# of the user's) says so instead of suggesting to enable it.
if [[ -z ${GIT_SHARD_NO_CD-} ]]; then
    export GIT_SHARD_SHELL_PID=$$
fi

# What the last segment depends on (`git-shard prompt --cache`): the folder the records are
# written into (its time, against a stamp git-shard set to it), the runs shown as running, the
# folder we are in and the locale. All checked with builtins: a prompt where nothing changed starts
# no process. Each run shown as running is a path below /proc found only while it has not exited:
# through its supervisor's descriptor of the agent's `fd` folder, which leads nowhere once that
# very process is gone (see `Held` in src/process/mod.rs), `<supervisor>/fd/<n>/<file>`, an entry
# of the folder (`-h`: looked up, not followed), or `<supervisor>/fd/<n>`, the folder, not empty
# (`-s`); or `<pid>/<entry>`, not empty (`-s`), and then `/proc/<pid>` older than the `.runs`
# stamp proves it is the same process (see `stamps` in src/commands/prompt.rs). Declared
# here, so that `setopt warn_create_global` has nothing to say when precmd sets them.
typeset -g __git_shard_segment= __git_shard_seen= __git_shard_stamp=
__git_shard_unchanged() { return 1; }

# Define `__git_shard_unchanged` as the one test of what `git-shard prompt --cache` printed after
# the segment (the lines given), the paths written into it: a loop over the runs, reading them
# from an array, cost more than the `stat`s themselves.
__git_shard_checks_from() {
    local __git_shard_test= __git_shard_line __git_shard_w __git_shard_s __git_shard_r
    __git_shard_stamp=
    if [[ ${1-} == nowhere ]]; then
        # Outside a repository: still outside while no folder the walk looked in has a `.git`.
        __git_shard_test='-n x'
        for __git_shard_line in "${@:2}"; do
            __git_shard_test+=" && ! -e ${(q)__git_shard_line}/.git"
        done
    elif [[ ${1-} == *$'\t'* ]]; then
        __git_shard_stamp=${1#*$'\t'}
        __git_shard_w=${(q)1%%$'\t'*} __git_shard_s=${(q)__git_shard_stamp}
        __git_shard_r=${(q)__git_shard_stamp}.runs
        # The folder's time neither newer nor older than the stamp's. zsh's -nt and -ot are false
        # when either file is missing (a stamp cleaned away, the folder gone): such a check
        # proves nothing.
        __git_shard_test="-e $__git_shard_w && -e $__git_shard_s && ! ( $__git_shard_w -nt $__git_shard_s || $__git_shard_w -ot $__git_shard_s )"
        for __git_shard_line in "${@:2}"; do
            if [[ $__git_shard_line == */fd/*/* ]]; then
                __git_shard_test+=" && -h /proc/${(q)__git_shard_line}"
            else
                __git_shard_test+=" && -s /proc/${(q)__git_shard_line}"
                if [[ $__git_shard_line != */fd/* ]]; then
                    __git_shard_test+=" && /proc/${(q)__git_shard_line%/*} -ot $__git_shard_r"
                fi
            fi
        done
    fi
    if [[ -n $__git_shard_test ]]; then
        eval "__git_shard_unchanged() { [[ $__git_shard_test ]]; }"
    else
        __git_shard_unchanged() { return 1; }
    fi
}

# The prompt segment, computed before each prompt when something changed (zsh keeps `$?` for
# the prompt across precmd).
__git_shard_precmd() {
    if [[ $__git_shard_seen != "$PWD|${LC_ALL-}|${LC_CTYPE-}|${LANG-}|${GIT_SHARD_ASCII-}|${GIT_CEILING_DIRECTORIES-}|${GIT_DISCOVERY_ACROSS_FILESYSTEM-}" ]] ||
        ! __git_shard_unchanged; then
        # The user's options (`ksh_arrays` counts from 0) for this function only.
        emulate -L zsh
        local __git_shard_out
        local -a __git_shard_lines
        __git_shard_out=$(command git-shard prompt --cache "$$" 2>/dev/null)
        __git_shard_lines=("${(@f)__git_shard_out}")
        __git_shard_segment=${__git_shard_lines[1]-}
        __git_shard_checks_from "${(@)__git_shard_lines[2,-1]}"
        __git_shard_seen="$PWD|${LC_ALL-}|${LC_CTYPE-}|${LANG-}|${GIT_SHARD_ASCII-}|${GIT_CEILING_DIRECTORIES-}|${GIT_DISCOVERY_ACROSS_FILESYSTEM-}"
    fi
    # A prompt theme loaded after the init line set PROMPT without the segment: put it back.
    if [[ -z ${GIT_SHARD_NO_PROMPT-} && $PROMPT != *__git_shard_segment* ]]; then
        PROMPT='${__git_shard_segment:+$__git_shard_segment }'"$PROMPT"
    fi
    # One that sets PROMPT in a precmd of its own (added after ours) would undo that at every
    # prompt: from the next one on, ours runs last.
    if [[ -z ${GIT_SHARD_NO_PROMPT-} && ${precmd_functions[-1]-} != __git_shard_precmd ]]; then
        precmd_functions=(${precmd_functions:#__git_shard_precmd} __git_shard_precmd)
    fi
}

if [[ -z ${GIT_SHARD_NO_PROMPT-} ]]; then
    autoload -Uz add-zsh-hook
    add-zsh-hook precmd __git_shard_precmd
    setopt prompt_subst
    if [[ $PROMPT != *__git_shard_segment* ]]; then
        PROMPT='${__git_shard_segment:+$__git_shard_segment }'"$PROMPT"
    fi
fi

# Completion from git-shard itself (live shard names, terminals, presets); `words` starts with
# "git-shard".
__git_shard_complete() {
    local -a __git_shard_candidates __git_shard_line __git_shard_dirs
    local __git_shard_d
    # `git -C <dir> shard …`: the shards of that repository (`words` no longer has the `-C`).
    __git_shard_line=(${(z)BUFFER})
    local -i __git_shard_i
    for (( __git_shard_i = 2; __git_shard_i < ${#__git_shard_line}; __git_shard_i++ )); do
        [[ ${__git_shard_line[__git_shard_i]} == shard ]] && break
        if [[ ${__git_shard_line[__git_shard_i]} == -C ]]; then
            __git_shard_dirs+=(${(Q)__git_shard_line[__git_shard_i+1]})
        fi
    done
    __git_shard_candidates=("${(@f)$(
        for __git_shard_d in "${__git_shard_dirs[@]}"; do builtin cd -q -- ${~__git_shard_d} 2>/dev/null || exit 0; done
        _CLAP_IFS=$'\n' _CLAP_COMPLETE_INDEX=$(( CURRENT - 1 )) \
        COMPLETE=zsh command git-shard -- "${words[@]}" 2>/dev/null)}")
    # Options once a `-` is typed, as git does: before that, the names are what is wanted.
    [[ ${words[CURRENT]} == -* ]] || __git_shard_candidates=(${__git_shard_candidates:#-*})
    if [[ -n $__git_shard_candidates ]]; then
        _describe -V values __git_shard_candidates
    fi
}

# `git sha<TAB>`: zsh's _git offers the commands it knows and those of this style, which may
# hold the user's own; ours is added to them.
() {
    local -a __git_shard_commands
    zstyle -a ':completion:*:*:git:*' user-commands __git_shard_commands
    if (( ! ${__git_shard_commands[(I)shard:*]} )); then
        zstyle ':completion:*:*:git:*' user-commands "${__git_shard_commands[@]}" \
            'shard:run coding agents in parallel, each in its own worktree'
    fi
}

# `git shard <TAB>`: zsh's _git calls _git-<command> with `words` starting at the command.
_git-shard() {
    words=(git-shard "${(@)words[2,-1]}")
    __git_shard_complete
}

if (( ${+functions[compdef]} )); then
    compdef __git_shard_complete git-shard
fi
