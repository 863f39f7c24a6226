# git-shard shell integration for zsh. In ~/.zshrc, after compinit:
#     eval "$(git shard init zsh)"
# Opt-outs, set before that line:
#   GIT_SHARD_NO_PROMPT=1  leave PROMPT and precmd alone (place "$(git shard prompt)" yourself)
#   GIT_SHARD_NO_CD=1      do not wrap `git` (then `git shard cd <name>` only prints the path)

# `git shard cd <name>`: change this shell's directory to the shard's worktree.
__git_shard_cd() {
    local __git_shard_dir
    __git_shard_dir=$(_GIT_SHARD_FROM_SHELL=1 command git-shard cd "$@") || return
    # Not a folder: what `git shard cd --help` printed, for the user to read.
    if [[ -d $__git_shard_dir ]]; then
        builtin cd -- "$__git_shard_dir"
    else
        print -r -- "$__git_shard_dir"
    fi
}

# Only `git shard cd` and `git-shard cd` are intercepted; everything else goes to the real command.
if [[ -z ${GIT_SHARD_NO_CD-} ]] && (( ! $+functions[git] )); then
    git() {
        if [[ ${1-} == shard && ${2-} == cd ]]; then
            shift 2
            __git_shard_cd "$@"
        else
            command git "$@"
        fi
    }
fi
if [[ -z ${GIT_SHARD_NO_CD-} ]] && (( ! $+functions[git-shard] )); then
    git-shard() {
        if [[ ${1-} == cd ]]; then
            shift
            __git_shard_cd "$@"
        else
            command git-shard "$@"
        fi
    }
fi

# The prompt segment, computed before each prompt (zsh keeps `$?` for the prompt across precmd).
__git_shard_precmd() {
    __git_shard_segment=$(command git-shard prompt 2>/dev/null)
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
    local -a __git_shard_candidates
    __git_shard_candidates=("${(@f)$(_CLAP_IFS=$'\n' _CLAP_COMPLETE_INDEX=$(( CURRENT - 1 )) \
        COMPLETE=zsh command git-shard -- "${words[@]}" 2>/dev/null)}")
    if [[ -n $__git_shard_candidates ]]; then
        _describe -V values __git_shard_candidates
    fi
}

# `git shard <TAB>`: zsh's _git calls _git-<command> with `words` starting at the command.
_git-shard() {
    words=(git-shard "${(@)words[2,-1]}")
    __git_shard_complete
}

if (( $+functions[compdef] )); then
    compdef __git_shard_complete git-shard
fi
