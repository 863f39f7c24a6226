# git-shard shell integration for bash. In ~/.bashrc:
#     eval "$(git shard init bash)"
# Opt-outs, set before that line:
#   GIT_SHARD_NO_PROMPT=1  leave PS1 and PROMPT_COMMAND alone (place "$(git shard prompt)" yourself)
#   GIT_SHARD_NO_CD=1      do not wrap `git` (then `git shard cd <name>` only prints the path)

# `git shard cd <name>`: change this shell's directory to the shard's worktree.
__git_shard_cd() {
    local __git_shard_dir
    __git_shard_dir=$(_GIT_SHARD_FROM_SHELL=1 command git-shard cd "$@") || return
    # Not a folder: what `git shard cd --help` printed, for the user to read.
    if [[ -d $__git_shard_dir ]]; then
        builtin cd -- "$__git_shard_dir" || return
    else
        printf '%s\n' "$__git_shard_dir"
    fi
}

# Only `git shard cd` and `git-shard cd` are intercepted; everything else goes to the real command.
if [[ -z ${GIT_SHARD_NO_CD-} ]] && ! declare -F git >/dev/null; then
    git() {
        if [[ ${1-} == shard && ${2-} == cd ]]; then
            shift 2
            __git_shard_cd "$@"
        else
            command git "$@"
        fi
    }
fi
if [[ -z ${GIT_SHARD_NO_CD-} ]] && ! declare -F git-shard >/dev/null; then
    git-shard() {
        if [[ ${1-} == cd ]]; then
            shift
            __git_shard_cd "$@"
        else
            command git-shard "$@"
        fi
    }
fi

# The prompt segment, computed before each prompt; `$?` is handed on unchanged.
__git_shard_prompt_hook() {
    local __git_shard_status=$?
    __git_shard_segment=$(command git-shard prompt 2>/dev/null)
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

# `git-shard <TAB>`
__git_shard_complete() {
    local IFS=$'\013'
    local -a __git_shard_words=("${COMP_WORDS[@]}")
    __git_shard_words[COMP_CWORD]=${2-}
    # shellcheck disable=SC2207 # the completer separates candidates with IFS
    COMPREPLY=($(__git_shard_complete_words "$COMP_CWORD" git-shard "${__git_shard_words[@]:1}"))
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
    # shellcheck disable=SC2207 # the completer separates candidates with IFS
    COMPREPLY=($(__git_shard_complete_words $((cword - __git_shard_start)) git-shard \
        "${words[@]:__git_shard_start+1:cword-__git_shard_start-1}" "${cur-}"))
}
