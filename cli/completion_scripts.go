package cli

// completionScripts are printed by `vmimages completion SHELL`. Each asks the
// binary itself (`vmimages __complete …`) at completion time, so distros,
// versions, arches and cached images are those of the catalog and cache the
// command would use, not a list frozen into the script.
var completionScripts = map[string]string{
	"bash": bashCompletion,
	"zsh":  zshCompletion,
	"fish": fishCompletion,
}

const bashCompletion = `# bash completion for vmimages (from 'vmimages completion bash').
# Install: vmimages completion bash > ~/.local/share/bash-completion/completions/vmimages
_vmimages() {
    local line="${COMP_LINE:0:COMP_POINT}" words cur prefix c
    # Split the line ourselves: bash's own words break at '=' and ':'.
    read -r -a words <<< "$line"
    if [[ -z "$line" || "$line" == *[[:space:]] ]]; then
        words+=("")
    fi
    cur="${COMP_WORDS[COMP_CWORD]}"
    prefix="${words[${#words[@]}-1]}"
    prefix="${prefix%"$cur"}"
    COMPREPLY=()
    local IFS=$'\n'
    local out
    out=($("${words[0]}" __complete "${words[@]:1}" 2>/dev/null)) || return 0
    case "${out[0]}" in
    :file)
        compopt -o default 2>/dev/null
        return 0
        ;;
    :dir)
        COMPREPLY=($(compgen -d -- "$cur"))
        return 0
        ;;
    esac
    for c in "${out[@]}"; do
        c="${c%%$'\t'*}"
        COMPREPLY+=("${c#"$prefix"}")
    done
    if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *= ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}
complete -F _vmimages vmimages
`

const zshCompletion = `#compdef vmimages
# zsh completion for vmimages (from 'vmimages completion zsh').
# Install: vmimages completion zsh > "${fpath[1]}/_vmimages"  (or any folder in $fpath)
_vmimages() {
    local -a lines cands
    local line value desc
    lines=("${(@f)$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    case "${lines[1]}" in
    :file) _files; return ;;
    :dir) _files -/; return ;;
    esac
    for line in "${lines[@]}"; do
        [[ -n "$line" ]] || continue
        value="${line%%$'\t'*}"
        desc=""
        [[ "$line" == *$'\t'* ]] && desc="${line#*$'\t'}"
        value="${value//:/\\:}"
        if [[ -n "$desc" ]]; then
            cands+=("$value:$desc")
        else
            cands+=("$value")
        fi
    done
    if [[ ${#cands[@]} -eq 1 && "${cands[1]%%:*}" == *= ]]; then
        compadd -S '' -- "${lines[1]%%$'\t'*}"
        return
    fi
    _describe -t vmimages 'vmimages' cands
}
if [[ "${funcstack[1]}" == "_vmimages" ]]; then
    _vmimages "$@"
else
    compdef _vmimages vmimages
fi
`

const fishCompletion = `# fish completion for vmimages (from 'vmimages completion fish').
# Install: vmimages completion fish > ~/.config/fish/completions/vmimages.fish
function __vmimages_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($tokens[1] __complete $tokens[2..-1] "$cur" 2>/dev/null)
    switch "$out[1]"
        case :file
            __fish_complete_path "$cur"
            return
        case :dir
            __fish_complete_directories "$cur"
            return
    end
    printf '%s\n' $out
end
complete -c vmimages -f -a '(__vmimages_complete)'
`
