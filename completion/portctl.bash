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

	local commands="allow deny reject limit forward masquerade insert delete zone service status zones services reload check help version apply confirm panic disable enable reset explain export diff watch import ban unban exposure metrics"
	local rule_words="in out forward zone from to rate log level prefix comment tcp udp sctp any icmp icmpv6 proto port"
	local icmp_types="echo-request echo-reply destination-unreachable time-exceeded parameter-problem"
	local ip_protos="gre esp ah ipip ospf vrrp l2tp udplite"
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
	zone | --zone)
		COMPREPLY=($(compgen -W "$(_portctl_names zones)" -- "$cur"))
		return
		;;
	service)
		COMPREPLY=($(compgen -W "$(_portctl_names services)" -- "$cur"))
		return
		;;
	interface)
		COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		return
		;;
	icmp | icmpv6)
		COMPREPLY=($(compgen -W "$icmp_types" -- "$cur"))
		return
		;;
	proto)
		COMPREPLY=($(compgen -W "$ip_protos" -- "$cur"))
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$commands --help --version --json --socket --config --data-dir" -- "$cur"))
		return
	fi
	case $cmd in
	allow | deny | reject | limit)
		[[ $prev == --timeout ]] && COMPREPLY=($(compgen -W "30s 10m 1h 1d" -- "$cur")) && return
		[[ $prev == level ]] && COMPREPLY=($(compgen -W "emerg alert crit err warn notice info debug" -- "$cur")) && return
		COMPREPLY=($(compgen -W "--runtime --timeout --force --dry-run --json --help $rule_words $(_portctl_names services)" -- "$cur"))
		;;
	forward)
		COMPREPLY=($(compgen -W "--runtime --force --dry-run --json --help to zone from comment tcp udp sctp $(_portctl_names services)" -- "$cur"))
		;;
	masquerade)
		[[ $prev == out ]] && COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")) && return
		COMPREPLY=($(compgen -W "--runtime --force --dry-run --json --help out zone from comment" -- "$cur"))
		;;
	insert | delete)
		COMPREPLY=($(compgen -W "--force --dry-run --json --help allow deny reject limit forward masquerade comment service $rule_words" -- "$cur"))
		;;
	zone)
		COMPREPLY=($(compgen -W "--force --dry-run --json --help interface source policy in out forward accept drop reject default" -- "$cur"))
		;;
	service)
		COMPREPLY=($(compgen -W "--force --dry-run --json --help tcp udp sctp" -- "$cur"))
		;;
	status)
		[[ $prev == --offset || $prev == --limit || $prev == --set ]] && return
		COMPREPLY=($(compgen -W "numbered verbose --offset --limit --all --set --json --help" -- "$cur"))
		;;
	metrics)
		[[ $prev == -o || $prev == --output ]] && _filedir prom && return
		COMPREPLY=($(compgen -W "--output --json --help" -- "$cur"))
		;;
	apply)
		[[ $prev == --confirm ]] && return
		COMPREPLY=($(compgen -W "--confirm --force --json --help" -- "$cur"))
		;;
	reload | enable | reset)
		COMPREPLY=($(compgen -W "--force --json --help" -- "$cur"))
		;;
	panic)
		COMPREPLY=($(compgen -W "on off --force --json --help" -- "$cur"))
		;;
	ban)
		# ban ADDRESS[/PREFIX] [--zone ZONE] [--timeout DURATION]
		[[ $prev == --timeout ]] && COMPREPLY=($(compgen -W "600 10m 1h 1d" -- "$cur")) && return
		COMPREPLY=($(compgen -W "--zone --timeout --json --help" -- "$cur"))
		;;
	unban)
		# unban ADDRESS[/PREFIX] [--zone ZONE] | unban --all
		COMPREPLY=($(compgen -W "--zone --all --json --help" -- "$cur"))
		;;
	check)
		[[ $prev == -r || $prev == --rules-dir ]] && _filedir -d && return
		# "-": the rules from standard input.
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W "- --rules-dir --strict --json --help" -- "$cur")) && return
		_filedir rules
		;;
	explain)
		# explain in|out|forward PROTO PORT [from ADDR [port PORT]] [to ADDR] [on IFACE]
		local n=0 j
		for ((j = i + 1; j < cword; j++)); do
			[[ ${words[j]} == -* ]] || ((n++))
		done
		case $prev in
		on)
			COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
			;;
		from | to) ;;
		*)
			case $n in
			0) COMPREPLY=($(compgen -W "in out forward --offline --json --help" -- "$cur")) ;;
			1) COMPREPLY=($(compgen -W "tcp udp sctp icmp icmpv6 proto" -- "$cur")) ;;
			2) ;;
			*) COMPREPLY=($(compgen -W "from port to on --offline --json" -- "$cur")) ;;
			esac
			;;
		esac
		;;
	import)
		# import ufw|firewalld [DIR]
		case $prev in
		ufw | firewalld) _filedir -d ;;
		import) COMPREPLY=($(compgen -W "ufw firewalld --help" -- "$cur")) ;;
		esac
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
