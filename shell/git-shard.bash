# git-shard shell integration for bash. In ~/.bashrc:
#     eval "$(git shard init bash)"
# Opt-outs, set before that line:
#   GIT_SHARD_NO_PROMPT=1  leave PS1 and PROMPT_COMMAND alone (place "$(git shard prompt)" yourself)
#   GIT_SHARD_NO_CD=1      do not wrap `git` (then `git shard cd <name>` only prints the path)

# `git [<git options>] shard cd <name>`: change this shell's directory to the shard's worktree.
# $@: git's own options (`-C <dir>`, …), `--`, then cd's arguments.
__git_shard_cd() {
    local -a __git_shard_opts=()
    while [[ $# -gt 0 && $1 != -- ]]; do
        __git_shard_opts+=("$1")
        shift
    done
    shift
    local __git_shard_dir
    if ((${#__git_shard_opts[@]})); then
        __git_shard_dir=$(_GIT_SHARD_FROM_SHELL=1 command git "${__git_shard_opts[@]}" shard cd "$@") || return
    else
        __git_shard_dir=$(_GIT_SHARD_FROM_SHELL=1 command git-shard cd "$@") || return
    fi
    # Not a folder: what `git shard cd --help` printed, for the user to read. Nothing: a shard
    # on a host, whose shell there has ended.
    if [[ -d $__git_shard_dir ]]; then
        builtin cd -- "$__git_shard_dir" || return
    elif [[ -n $__git_shard_dir ]]; then
        printf '%s\n' "$__git_shard_dir"
    fi
}

# What `git` runs when it is not `git shard cd`: git itself, or the tool the user's alias named.
__git_shard_git_next() {
    command git "$@"
}

# `git …`: `shard cd` (after git's own options) changes directory; anything else goes on.
__git_shard_git() {
    local __git_shard_i=1
    while ((__git_shard_i <= $#)); do
        case ${!__git_shard_i} in
        -C | -c | --git-dir | --work-tree | --namespace | --config-env) __git_shard_i=$((__git_shard_i + 2)) ;;
        -*) __git_shard_i=$((__git_shard_i + 1)) ;;
        *) break ;;
        esac
    done
    local __git_shard_next=$((__git_shard_i + 1))
    if [[ ${!__git_shard_i-} == shard && ${!__git_shard_next-} == cd ]]; then
        __git_shard_cd "${@:1:__git_shard_i-1}" -- "${@:__git_shard_i+2}"
    else
        __git_shard_git_next "$@"
    fi
}

# Only `git shard cd` and `git-shard cd` are intercepted. `function name` is never alias-expanded;
# an alias of the user's (`alias git=hub`, `alias git='git --no-pager'`) is kept in the chain:
# their alias goes through our wrapper, which calls what it named.
if [[ -z ${GIT_SHARD_NO_CD-} ]] && ! declare -F git >/dev/null; then
    if [[ -n ${BASH_ALIASES[git]-} && ${BASH_ALIASES[git]} != *__git_shard_git* ]]; then
        __git_shard_alias=${BASH_ALIASES[git]}
        # It runs git itself, after nothing but variables for it (`GIT_PAGER=cat git`), and with
        # options maybe: the wrapper takes git's place in it. Not after a command that runs its
        # arguments (`command git`, `nice git`): that would run the wrapper as a program.
        if [[ " $__git_shard_alias " =~ ^(.*[[:space:]])git([[:space:]].*)$ ]] &&
            __git_shard_before=${BASH_REMATCH[1]} __git_shard_after=${BASH_REMATCH[2]} &&
            [[ $__git_shard_before =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*=[^[:space:]]*[[:space:]]+)*$ ]]; then
            BASH_ALIASES[git]="${__git_shard_before# }__git_shard_git${__git_shard_after% }"
        else
            # It runs another tool: the wrapper runs that tool for everything but `shard cd`.
            eval "__git_shard_git_next() { $__git_shard_alias \"\$@\"; }"
            BASH_ALIASES[git]=__git_shard_git
        fi
        unset __git_shard_alias __git_shard_before __git_shard_after
    else
        function git {
            __git_shard_git "$@"
        }
    fi
fi
if [[ -z ${GIT_SHARD_NO_CD-} ]] && ! declare -F git-shard >/dev/null; then
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
# stamp proves it is the same process (see `stamps` in src/commands/prompt.rs).
__git_shard_seen=
__git_shard_stamp=
__git_shard_unchanged() { return 1; }

# Define `__git_shard_unchanged` as the one test of what `git-shard prompt --cache` printed after
# the segment ($1), the paths written into it: a loop over the runs, reading them from an array,
# cost bash a third more than the `stat`s themselves.
__git_shard_checks_from() {
    local __git_shard_test='' __git_shard_line __git_shard_run __git_shard_w __git_shard_s __git_shard_r
    __git_shard_stamp=
    {
        IFS= read -r __git_shard_line
        if [[ $__git_shard_line == nowhere ]]; then
            # Outside a repository: still outside while no folder the walk looked in has a `.git`.
            __git_shard_test='-n x'
            while IFS= read -r __git_shard_line; do
                printf -v __git_shard_w %q "$__git_shard_line/.git"
                __git_shard_test+=" && ! -e $__git_shard_w"
            done
        elif [[ $__git_shard_line == *$'\t'* ]]; then
            __git_shard_stamp=${__git_shard_line#*$'\t'}
            printf -v __git_shard_w %q "${__git_shard_line%%$'\t'*}"
            printf -v __git_shard_s %q "$__git_shard_stamp"
            printf -v __git_shard_r %q "$__git_shard_stamp.runs"
            # The folder's time neither newer nor older than the stamp's. zsh's -nt and -ot are
            # false when either file is missing (a stamp cleaned away, the folder gone), bash's
            # when both are: such a check proves nothing.
            __git_shard_test="-e $__git_shard_w && -e $__git_shard_s && ! ( $__git_shard_w -nt $__git_shard_s || $__git_shard_w -ot $__git_shard_s )"
            while IFS= read -r __git_shard_line; do
                printf -v __git_shard_run %q "/proc/$__git_shard_line"
                if [[ $__git_shard_line == */fd/*/* ]]; then
                    __git_shard_test+=" && -h $__git_shard_run"
                else
                    __git_shard_test+=" && -s $__git_shard_run"
                    if [[ $__git_shard_line != */fd/* ]]; then
                        printf -v __git_shard_run %q "/proc/${__git_shard_line%/*}"
                        __git_shard_test+=" && $__git_shard_run -ot $__git_shard_r"
                    fi
                fi
            done
        fi
    } <<<"$1"
    if [[ -n $__git_shard_test ]]; then
        eval "__git_shard_unchanged() { [[ $__git_shard_test ]]; }"
    else
        # shellcheck disable=SC2317 # run by the hook
        __git_shard_unchanged() { return 1; }
    fi
}

# The prompt segment, computed before each prompt when something changed; `$?` is handed on.
__git_shard_prompt_hook() {
    local __git_shard_status=$?
    if [[ $__git_shard_seen != "$PWD|${LC_ALL-}|${LC_CTYPE-}|${LANG-}|${GIT_SHARD_ASCII-}|${GIT_CEILING_DIRECTORIES-}|${GIT_DISCOVERY_ACROSS_FILESYSTEM-}" ]] ||
        ! __git_shard_unchanged; then
        local __git_shard_out
        __git_shard_out=$(command git-shard prompt --cache "$$" 2>/dev/null)
        __git_shard_segment=${__git_shard_out%%$'\n'*}
        if [[ $__git_shard_out == *$'\n'* ]]; then
            __git_shard_checks_from "${__git_shard_out#*$'\n'}"
        else
            __git_shard_checks_from ''
        fi
        __git_shard_seen="$PWD|${LC_ALL-}|${LC_CTYPE-}|${LANG-}|${GIT_SHARD_ASCII-}|${GIT_CEILING_DIRECTORIES-}|${GIT_DISCOVERY_ACROSS_FILESYSTEM-}"
    fi
    return "$__git_shard_status"
}

if [[ -z ${GIT_SHARD_NO_PROMPT-} ]]; then
    # Run first, so every command after it in PROMPT_COMMAND still sees the user's `$?`.
    if [[ $(declare -p PROMPT_COMMAND 2>/dev/null) == "declare -a"* ]]; then
        if [[ " ${PROMPT_COMMAND[*]} " != *" __git_shard_prompt_hook "* ]]; then
            PROMPT_COMMAND=(__git_shard_prompt_hook "${PROMPT_COMMAND[@]}")
        fi
    elif [[ ${PROMPT_COMMAND-} != *__git_shard_prompt_hook* ]]; then
        # shellcheck disable=SC2128,SC2178 # the string form of PROMPT_COMMAND (arrays handled above)
        PROMPT_COMMAND="__git_shard_prompt_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
    fi
    if [[ ${PS1-} != *__git_shard_segment* ]]; then
        # shellcheck disable=SC2016 # expanded at each prompt, not now
        PS1='${__git_shard_segment:+$__git_shard_segment }'"${PS1-}"
    fi
fi

# Completion from git-shard itself (live shard names, terminals, presets).
# $1: index of the word being completed among the rest; the rest: the words, "git-shard" first.
__git_shard_complete_words() {
    local __git_shard_index=$1
    shift
    _CLAP_IFS=$'\013' _CLAP_COMPLETE_INDEX="$__git_shard_index" _CLAP_COMPLETE_COMP_TYPE="${COMP_TYPE:-9}" \
        _CLAP_COMPLETE_SPACE=true COMPLETE=bash command git-shard -- "$@" 2>/dev/null
}

# bash splits words at `=` (it is in COMP_WORDBREAKS): `--terminal=ba` arrives as `--terminal`,
# `=`, `ba`, and only `ba` is replaced. git-shard gets the words whole; what it offers for
# `--terminal=ba` (`--terminal=background`) goes back without the part bash keeps.
# $1: the whole word being completed; the rest: the candidates.
__git_shard_after_equals() {
    local __git_shard_cur=$1 __git_shard_c
    shift
    COMPREPLY=()
    for __git_shard_c in "$@"; do
        # Options once a `-` is typed, as git does: before that, the names are what is wanted.
        [[ $__git_shard_c == -* && $__git_shard_cur != -* ]] && continue
        if [[ $__git_shard_cur == *=* && $COMP_WORDBREAKS == *=* ]]; then
            __git_shard_c=${__git_shard_c#"${__git_shard_cur%%=*}="}
            # The cursor right after `=`: bash replaces the `=` itself.
            [[ ${COMP_WORDS[COMP_CWORD]} == = ]] && __git_shard_c="=$__git_shard_c"
        fi
        COMPREPLY+=("$__git_shard_c")
    done
}

# `git-shard <TAB>`
__git_shard_complete() {
    local IFS=$'\013' __git_shard_i __git_shard_joined=0 __git_shard_cword=0
    local -a __git_shard_words=()
    for ((__git_shard_i = 0; __git_shard_i < ${#COMP_WORDS[@]}; __git_shard_i++)); do
        local __git_shard_w=${COMP_WORDS[__git_shard_i]}
        # The word under the cursor only up to the cursor, as bash hands it in $2.
        if ((__git_shard_i == COMP_CWORD)) && [[ $__git_shard_w != = ]]; then
            __git_shard_w=${2-}
        fi
        if ((__git_shard_i > 0)) && [[ $__git_shard_w == = ]]; then
            __git_shard_words[${#__git_shard_words[@]} - 1]+="="
            __git_shard_joined=1
        elif ((__git_shard_joined)); then
            __git_shard_words[${#__git_shard_words[@]} - 1]+=$__git_shard_w
            __git_shard_joined=0
        else
            __git_shard_words+=("$__git_shard_w")
        fi
        ((__git_shard_i == COMP_CWORD)) && __git_shard_cword=$((${#__git_shard_words[@]} - 1))
    done
    local __git_shard_cur=${__git_shard_words[__git_shard_cword]}
    local -a __git_shard_found
    # shellcheck disable=SC2207 # the completer separates candidates with IFS
    __git_shard_found=($(__git_shard_complete_words "$__git_shard_cword" git-shard \
        "${__git_shard_words[@]:1:__git_shard_cword}"))
    __git_shard_after_equals "$__git_shard_cur" "${__git_shard_found[@]}"
}
complete -F __git_shard_complete git-shard

# `git shard <TAB>`: git's own completion calls _git_<command>, with its `words`, `cword`, `cur`.
# shellcheck disable=SC2154 # words, cword and cur are set by git's completion
_git_shard() {
    local i __git_shard_start=${__git_cmd_idx-}
    if [[ -z $__git_shard_start ]]; then
        for ((i = 1; i < cword; i++)); do
            if [[ ${words[i]} == shard ]]; then
                __git_shard_start=$i
                break
            fi
        done
    fi
    [[ -n $__git_shard_start ]] || return 0
    local IFS=$'\013'
    local -a __git_shard_found
    # shellcheck disable=SC2207 # the completer separates candidates with IFS
    __git_shard_found=($(
        # `git -C <dir> shard …`: the shards of that repository (git's completion keeps the
        # `-C` options in __git_C_args).
        set -- "${__git_C_args[@]}"
        while [[ $# -ge 2 && $1 == -C ]]; do
            builtin cd -- "$2" 2>/dev/null || exit 0
            shift 2
        done
        __git_shard_complete_words $((cword - __git_shard_start)) git-shard \
            "${words[@]:__git_shard_start+1:cword-__git_shard_start-1}" "${cur-}"
    ))
    __git_shard_after_equals "${cur-}" "${__git_shard_found[@]}"
}
