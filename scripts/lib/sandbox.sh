# shellcheck shell=bash
# sandbox.sh - what scripts/mariadb-sandbox.sh and scripts/postgres-sandbox.sh
# share (sourced): messages, argument checks, installing the server, the
# instance directory, its lock and its running server, free ports, the
# server log, and starting a server until it answers.
#
# The sourcing script sets PROG (its name in messages) and TIMEOUT (seconds
# for startup and shutdown), and defines these, which the helpers call:
#   launch PORT [ARGS...]   start the server in the background; set LAUNCHED_PID
#   answers PORT            0 once the server takes connections
#   startup_retry NEWLOG    0 if a server that exited with NEWLOG in its log
#                           should simply be started again (it says why)
#   startup_hint NEWLOG     print the "Fix: ..." line for such an exit
# set_dir (resolve_dir) sets DIR; the script sets LOCKFILE beside it, and
# PIDFILE (the server's pid on its first line) and DATA_ARG (the argument
# that names the data dir on the server's command line) for running_pid.

# shellcheck source=SCRIPTDIR/proc.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/proc.sh"

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "$PROG" "$1" >&2
	shift
	local line
	for line in "$@"; do printf '  %s\n' "$line" >&2; done
	exit 1
}

now_ms() {
	if [[ -n ${EPOCHREALTIME:-} ]]; then
		local t=${EPOCHREALTIME/[.,]/}
		echo $((t / 1000))
	else
		echo $(($(date +%s) * 1000))
	fi
}

# elapsed T0_MS: seconds since T0_MS (from now_ms), as 1.234s
elapsed() {
	local ms=$(($(now_ms) - $1))
	printf '%d.%03ds' $((ms / 1000)) $((ms % 1000))
}

validate_uint() { # NAME VALUE MIN MAX
	local name=$1 v=$2 min=$3 max=$4
	if ! [[ $v =~ ^[0-9]+$ ]] || ((${#v} > 10)) || ((v < min || v > max)); then
		die "invalid $name '$v': must be an integer in $min..$max." "Run '$0 --help' for usage."
	fi
}

# apt_install PACKAGE...: scripts/apt-install.sh (root only; no service is
# started), all its output on stderr: stdout is for the env lines.
APT_INSTALL=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)/apt-install.sh
apt_install() { "$APT_INSTALL" "$@" >&2; }

# ---------------------------------------------------------------- instance dir

# resolve_dir DIR CREATE(0|1): DIR as an absolute path without symlinks
# (created first if CREATE), or made absolute if it does not exist.
resolve_dir() {
	local d=$1 create=$2
	[[ -n $d ]] || die "missing DIR argument." "Fix: pass the instance directory, e.g. $0 start /tmp/sbx"
	if [[ $create -eq 1 ]]; then
		mkdir -p -- "$d" || die "cannot create instance directory '$d'." "Fix: choose a writable path."
	fi
	if [[ -d $d ]]; then
		DIR=$(cd -- "$d" && pwd -P)
	else
		# Not existing: make it absolute anyway so messages are clear.
		case $d in /*) DIR=$d ;; *) DIR=$PWD/$d ;; esac
	fi
}

lock_dir() { # serialise the commands that change the instance in DIR
	command -v flock >/dev/null 2>&1 || return 0
	[[ -d $DIR ]] || return 0
	exec 9>"$LOCKFILE"
	flock -w $((TIMEOUT * 2)) 9 || die "another $PROG command holds the lock on $DIR for too long." \
		"Fix: wait for it to finish, or remove $LOCKFILE if no such command is running."
}

# running_pid: print the pid of the running instance, or fail: the pid on
# PIDFILE's first line, if it is a live process that has DATA_ARG on its
# command line.
running_pid() {
	local pid
	[[ -f $PIDFILE ]] || return 1
	pid=$(sed -n 1p "$PIDFILE" 2>/dev/null | tr -dc '0-9') || return 1
	[[ -n $pid ]] || return 1
	pid_alive "$pid" || return 1
	if [[ -r /proc/$pid/cmdline ]]; then
		tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -Fqx -- "$DATA_ARG" || return 1
	fi
	echo "$pid"
}

# tail_log FILE [LINES] [BYTE_OFFSET] [SEE_ALSO]: show the end of a server
# log on stderr (from OFFSET on).
tail_log() {
	local file=$1 n=${2:-30} off=${3:-0} also=${4:-}
	if [[ -s $file ]] && (($(wc -c <"$file") > off)); then
		printf '%s: last lines of %s:\n' "$PROG" "$file" >&2
		tail -c +"$((off + 1))" -- "$file" | tail -n "$n" | sed 's/^/  | /' >&2
	else
		printf '%s: %s has nothing new%s.\n' "$PROG" "$file" "${also:+ (see also $also)}" >&2
	fi
}

# ---------------------------------------------------------------- ports

port_in_use() { # connect attempt on 127.0.0.1:PORT succeeds => in use
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

random_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + ((RANDOM << 15) | RANDOM) % 40001))
		port_in_use "$p" || {
			echo "$p"
			return 0
		}
	done
	die "could not find a free TCP port in 20000-60000 on 127.0.0.1 after 200 tries." \
		"Fix: pass an explicit free PORT: $0 start DIR PORT"
}

# choose_port PORT SHARED -> sets PORT_CHOSEN, and PORT_AUTO=1 unless PORT
# was given: PORT if it is free, else (PORT 0) the instance's previous port
# (DIR/last-port) if it is free, else a random free one; never SHARED, the
# machine's own service's port.
PORT_CHOSEN='' PORT_AUTO=0
choose_port() {
	local port=$1 shared=$2 last
	PORT_AUTO=0
	if ((port == 0)); then
		PORT_AUTO=1
		last=$(tr -dc '0-9' 2>/dev/null <"$DIR/last-port" || true)
		if [[ -n $last ]] && ((last != shared && last >= 1024 && last <= 65535)) && ! port_in_use "$last"; then
			port=$last
		else
			port=$(random_port)
		fi
	elif port_in_use "$port"; then
		die "port $port on 127.0.0.1 is already in use." \
			"Fix: omit PORT to pick a free one, or stop whatever listens there."
	fi
	PORT_CHOSEN=$port
}

# ---------------------------------------------------------------- startup

# wait_ready PID PORT -> 0 once the server answers, 1 if PID died first, 2
# after TIMEOUT seconds
wait_ready() {
	local pid=$1 port=$2 deadline=$((SECONDS + TIMEOUT))
	until answers "$port"; do
		pid_alive "$pid" || return 1
		((SECONDS < deadline)) || return 2
		sleep 0.1
	done
}

# start_server NAME LOGFILE TIMEOUT_VAR [LAUNCH_ARGS...]: launch the server
# on PORT_CHOSEN and wait until it answers, up to 5 times: again on another
# port if one picked automatically (PORT_AUTO) was taken meanwhile, again as
# it was if startup_retry says so; otherwise die with the log's new lines.
# Sets STARTED_PID and STARTED_PORT.
STARTED_PID='' STARTED_PORT=''
start_server() {
	local name=$1 logfile=$2 timeout_var=$3
	shift 3
	local port=$PORT_CHOSEN attempt=0 rc=1 pid log_size newlog hint
	while ((attempt++ < 5)); do
		log_size=0
		[[ -f $logfile ]] && log_size=$(wc -c <"$logfile")
		launch "$port" "$@"
		pid=$LAUNCHED_PID
		rc=0
		wait_ready "$pid" "$port" || rc=$?
		((rc == 0)) && break
		if ((rc == 2)); then
			tail_log "$logfile" 40 "$log_size"
			kill -KILL "$pid" 2>/dev/null || true
			wait_exit "$pid" 10 || true
			die "$name did not become ready within ${TIMEOUT}s (pid $pid killed)." \
				"Fix: see $logfile; raise $timeout_var if the machine is slow."
		fi
		newlog=$(tail -c +"$((log_size + 1))" -- "$logfile" 2>/dev/null || true)
		# Lost a race for an auto-picked port? Try another.
		if ((PORT_AUTO == 1)) && grep -q 'Address already in use' <<<"$newlog"; then
			log "port $port was taken meanwhile; retrying with another port"
			port=$(random_port)
			continue
		fi
		startup_retry "$newlog" && continue
		tail_log "$logfile" 40 "$log_size"
		if grep -q 'Address already in use' <<<"$newlog"; then
			hint="Fix: port $port is in use; omit PORT to pick a free one."
		else
			hint=$(startup_hint "$newlog")
		fi
		die "$name exited during startup." "$hint"
	done
	((rc == 0)) || die "could not start $name after 5 attempts (ports kept being taken)." \
		"Fix: pass an explicit free PORT."
	# shellcheck disable=SC2034 # read by the sourcing script
	STARTED_PID=$pid STARTED_PORT=$port
}
