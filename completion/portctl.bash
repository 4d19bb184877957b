# bash completion for portctl: commands, their options, rule words, and
# zone and service names (asked from portctld, which anyone may read).

_portctl_names()
{
	# $1: zones or services. Quietly nothing when the daemon is away.
	portctl "${_portctl_global[@]}" --json "$1" 2>/dev/null |
		sed -n 's/^ *"name": "\([^"]*\)".*/\1/p'
}

_portctl()
{
	local cur prev words cword
	_init_completion || return

	local commands="allow deny reject limit insert delete status zones services reload check help version"
	local rule_words="in out zone from to rate log comment tcp udp sctp any"
	local cmd="" i
	_portctl_global=()
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s | --socket | -c | --config | -d | --data-dir)
			_portctl_global+=("${words[i]}" "${words[i + 1]}")
			((i++))
			;;
		-*) ;;
		*)
			cmd=${words[i]}
			break
			;;
		esac
	done

	case $prev in
	-s | --socket | -c | --config | -d | --data-dir)
		_filedir
		return
		;;
	zone)
		COMPREPLY=($(compgen -W "$(_portctl_names zones)" -- "$cur"))
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$commands --help --version --json --socket --config --data-dir" -- "$cur"))
		return
	fi
	case $cmd in
	allow | deny | reject | limit)
		COMPREPLY=($(compgen -W "--runtime --json --help $rule_words $(_portctl_names services)" -- "$cur"))
		;;
	insert | delete)
		COMPREPLY=($(compgen -W "--json --help allow deny reject limit comment $rule_words" -- "$cur"))
		;;
	status)
		COMPREPLY=($(compgen -W "numbered verbose --json --help" -- "$cur"))
		;;
	check)
		_filedir rules
		;;
	help)
		COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		;;
	*)
		COMPREPLY=($(compgen -W "--json --help" -- "$cur"))
		;;
	esac
}
complete -F _portctl portctl
