# shellcheck shell=bash
# proc.sh - process helpers shared by the project's scripts (sourced).

# pid_alive PID -> 0 if PID is a live (non-zombie) process
pid_alive() {
	local pid=$1 state
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	if [[ -r /proc/$pid/stat ]]; then
		# field 3 of /proc/PID/stat, after the ")" that closes the command name
		state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || state=
		[[ $state != Z ]] || return 1
	fi
	return 0
}

# wait_exit PID SECONDS -> 0 once PID is gone, 1 if it outlives SECONDS
wait_exit() {
	local pid=$1 deadline=$((SECONDS + $2))
	while pid_alive "$pid"; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
	return 0
}

# stop_pid SIGNAL PID SECONDS [WHAT]: send SIGNAL (TERM, INT...), give PID
# SECONDS to exit, then SIGKILL it (saying so on stderr, as $PROG) and give
# it 10 more. -> 0 once it is gone, 1 if it outlived SIGKILL too.
stop_pid() {
	local sig=$1 pid=$2 secs=$3 what=${4:-pid $2}
	kill -"$sig" "$pid" 2>/dev/null || true
	wait_exit "$pid" "$secs" && return 0
	printf '%s: %s ignored SIG%s for %ss; sending SIGKILL\n' "${PROG:-${0##*/}}" "$what" "$sig" "$secs" >&2
	kill -KILL "$pid" 2>/dev/null || true
	wait_exit "$pid" 10
}
