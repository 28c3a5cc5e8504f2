# shellcheck shell=bash
# bash completion for scripts/vm-run (installed by 'make tool' as
# build/share/bash-completion/completions/vm-run). Its option list is checked
# against 'scripts/vm-run --help' and docs/vm-run.1 by tests/runner.test.sh.

_vm_run() {
	local cur prev i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	# After --: COMMAND and its arguments, completed as commands and files.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [ "${COMP_WORDS[i]}" = -- ]; then
			if [ $((i + 1)) = "$COMP_CWORD" ]; then
				mapfile -t COMPREPLY < <(compgen -c -- "$cur")
			else
				mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			fi
			return 0
		fi
	done
	case "$prev" in
	--flavor) mapfile -t COMPREPLY < <(compgen -W 'default debug rt' -- "$cur"); return 0 ;;
	--lock) mapfile -t COMPREPLY < <(compgen -W 'spin bh irq irqsave percpu none' -- "$cur"); return 0 ;;
	--topology) mapfile -t COMPREPLY < <(compgen -W 'vmxnet3 veth none' -- "$cur"); return 0 ;;
	--rootfs) mapfile -t COMPREPLY < <(compgen -W 'initramfs host' -- "$cur"); return 0 ;;
	--kernel | --log) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
	--module) mapfile -t COMPREPLY < <(compgen -f -X '!*.ko' -- "$cur"; compgen -d -- "$cur"); return 0 ;;
	--share) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return 0 ;;
	--cpus | --memory | --append | --qemu-arg | --timeout) return 0 ;;
	esac
	case "$cur" in
	--*=*) return 0 ;; # --allow-reports=KIND,..., --gdb=PORT, --option=VALUE
	-*)
		mapfile -t COMPREPLY < <(compgen -W '--kernel --flavor --lock --module --topology --cpus --memory
			--share --rootfs --append --qemu-arg --allow-reports --timeout --log --verbose --gdb --dry-run
			-h --help --' -- "$cur")
		return 0
		;;
	esac
}
complete -o filenames -F _vm_run vm-run scripts/vm-run ./scripts/vm-run
