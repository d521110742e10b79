#!/usr/bin/env bash
# mariadb-sandbox.sh - start and stop private MariaDB instances for tests and demos.
#
# Every instance lives in its own directory with its own data dir, port and
# unix socket, bound to 127.0.0.1 only. The machine's shared MariaDB service
# (port 3306, /run/mysqld, /var/lib/mysql) is never used or touched.
# Run "scripts/mariadb-sandbox.sh --help" for the interface.
set -euo pipefail

PROG=mariadb-sandbox
MARKER=.mariadb-sandbox                        # marks a directory this script owns
TIMEOUT=${MARIADB_SANDBOX_TIMEOUT:-60}         # seconds, for readiness and shutdown
MAX_SOCKET_PATH=107                            # sun_path is 108 bytes incl. NUL

# shellcheck source=SCRIPTDIR/lib/sandbox.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib/sandbox.sh"

# Client/server programs read these; they must not redirect us to another server.
unset MYSQL_PWD MYSQL_HOST MYSQL_TCP_PORT MYSQL_UNIX_PORT MYSQL_HISTFILE || true

usage() {
	cat <<'EOF'
Usage: scripts/mariadb-sandbox.sh COMMAND DIR [ARGS...]

Start and stop private MariaDB instances for tests and demos. Each instance
has its own directory, data dir, port and unix socket and listens on
127.0.0.1 only; the machine's shared MariaDB (port 3306) is never touched.

Commands:
  install
        Install mariadb-server and mariadb-client with apt-get if mariadbd is
        missing; do nothing otherwise. Never starts the machine's service.
  start DIR [PORT] [SERVER_ID]
        Start an instance in DIR (created if missing; DIR/data is initialised
        on first use). PORT 0 or omitted: reuse the instance's previous port if
        it is free, otherwise pick a free random port in 20000-60000.
        SERVER_ID defaults to 1. Waits until the server answers, then writes
        DIR/env and prints the same KEY=VALUE lines on stdout:
          MARIADB_PORT MARIADB_SOCKET MARIADB_DIR MARIADB_PID
          MARIADB_SERVER_ID TRIBUTARY_SOURCE
        If the instance is already running, just prints its env.
        On first start creates user tributary/tributary (@127.0.0.1 and
        @localhost, replication + SELECT grants) and lets root connect over
        TCP from 127.0.0.1 without a password.
  stop DIR
        Clean shutdown (mariadb-admin shutdown, then SIGTERM, then SIGKILL).
        Exits 0 if nothing is running.
  kill DIR
        SIGKILL the instance (for crash-recovery tests).
  sql DIR [SQL...]
        Run SQL as root over the unix socket: the arguments joined by spaces
        are passed with -e; with no SQL, statements are read from stdin.
        If the first argument starts with '-', all arguments are passed to
        the mariadb client unchanged (e.g. sql DIR -N -B -e 'SELECT 1').
  destroy DIR
        Stop the instance, then delete DIR.
  -h, --help
        Show this text.

Environment:
  MARIADB_SANDBOX_EXTRA_ARGS  extra mariadbd options, word-split and appended
                              last (e.g. --binlog-format=STATEMENT); read on
                              every start.
  MARIADB_SANDBOX_TIMEOUT     seconds to wait for startup/shutdown (default 60).

If mariadbd is missing it is installed with apt-get (needs root).

Example:
  eval "$(scripts/mariadb-sandbox.sh start /tmp/sbx)"
  mariadb -h127.0.0.1 -P"$MARIADB_PORT" -utributary -ptributary -e 'SHOW BINARY LOGS'
  scripts/mariadb-sandbox.sh destroy /tmp/sbx
EOF
}

# ---------------------------------------------------------------- tools

MARIADBD='' INSTALL_DB='' ADMIN='' CLIENT=''

find_tool() { # NAME [FALLBACK...]: print path of the first one found
	local n
	for n in "$@"; do
		if command -v "$n" >/dev/null 2>&1; then
			command -v "$n"
			return 0
		fi
		if [[ -x /usr/sbin/$n ]]; then
			echo "/usr/sbin/$n"
			return 0
		fi
		if [[ -x /usr/bin/$n ]]; then
			echo "/usr/bin/$n"
			return 0
		fi
	done
	return 1
}

locate_tools() {
	MARIADBD=$(find_tool mariadbd) || MARIADBD=
	INSTALL_DB=$(find_tool mariadb-install-db mysql_install_db) || INSTALL_DB=
	ADMIN=$(find_tool mariadb-admin mysqladmin) || ADMIN=
	CLIENT=$(find_tool mariadb mysql) || CLIENT=
	[[ -n $MARIADBD && -n $INSTALL_DB && -n $ADMIN && -n $CLIENT ]]
}

ensure_tools() {
	locate_tools && return 0
	log "mariadbd not found: installing mariadb-server and mariadb-client"
	apt_install mariadb-server mariadb-client ||
		die "MariaDB server/client programs (mariadbd, mariadb-install-db, mariadb-admin, mariadb) not found, and not installed (see above)." \
			"Fix: follow the hint above, or install MariaDB 10.6 or newer (server and client) yourself."
	locate_tools || die "mariadb-server was installed but mariadbd/mariadb-install-db/mariadb-admin/mariadb are still missing." \
		"Fix: check 'dpkg -L mariadb-server-core mariadb-client-core' and PATH (/usr/sbin)."
}

# ---------------------------------------------------------------- instance dir

DIR='' DATA='' DATA_ARG='' SOCK='' PIDFILE='' ERRLOG='' ENVFILE='' LOCKFILE=''

set_dir() { # DIR CREATE(0|1)
	resolve_dir "$1" "$2"
	case $DIR/ in
	/ | /var/lib/mysql/* | /run/mysqld/* | /var/run/mysqld/* | /etc/mysql/*)
		die "refusing to use '$DIR': it belongs to the system (shared MariaDB service or root)." \
			"Fix: pass a private directory such as /tmp/sbx-NAME."
		;;
	esac
	DATA=$DIR/data
	DATA_ARG=--datadir=$DATA
	SOCK=$DIR/mysqld.sock
	PIDFILE=$DIR/mysqld.pid
	ERRLOG=$DIR/error.log
	ENVFILE=$DIR/env
	LOCKFILE=$DIR/.lock
}

# Value of --NAME=... on the command line of PID (empty if unknown).
cmdline_opt() {
	local pid=$1 name=$2
	[[ -r /proc/$pid/cmdline ]] || return 0
	tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n "s/^--$name=//p" | tail -n1
}

tail_errlog() { tail_log "$ERRLOG" "${1:-30}" "${2:-0}" "$DIR/mariadbd.out"; } # [LINES] [BYTE_OFFSET]

# ---------------------------------------------------------------- env output

write_env() { # PORT PID SERVER_ID
	local port=$1 pid=$2 sid=$3 tmp
	tmp=$ENVFILE.tmp.$$
	{
		printf 'MARIADB_PORT=%q\n' "$port"
		printf 'MARIADB_SOCKET=%q\n' "$SOCK"
		printf 'MARIADB_DIR=%q\n' "$DIR"
		printf 'MARIADB_PID=%q\n' "$pid"
		printf 'MARIADB_SERVER_ID=%q\n' "$sid"
		printf 'TRIBUTARY_SOURCE=%q\n' "mysql://tributary:tributary@127.0.0.1:$port"
	} >"$tmp"
	mv -f -- "$tmp" "$ENVFILE"
	echo "$port" >"$DIR/last-port"
	cat -- "$ENVFILE"
}

# ---------------------------------------------------------------- readiness

ping_server() {
	"$ADMIN" --no-defaults --socket="$SOCK" -uroot --connect-timeout=2 ping >/dev/null 2>&1
}

answers() { [[ -S $SOCK ]] && ping_server; } # for wait_ready and start_server

startup_retry() { return 1; } # NEWLOG: no exit is worth a plain retry

startup_hint() { # NEWLOG
	if grep -q 'unknown variable\|unknown option' <<<"$1"; then
		echo "Fix: check the mariadbd options (MARIADB_SANDBOX_EXTRA_ARGS='${MARIADB_SANDBOX_EXTRA_ARGS:-}')."
	else
		echo "Fix: see $ERRLOG and $DIR/mariadbd.out."
	fi
}

# ---------------------------------------------------------------- commands

init_datadir() {
	local tmp=$DIR/data.init ilog=$DIR/install-db.log
	rm -rf -- "$tmp"
	log "initialising data directory $DATA"
	# Initialise into a scratch dir and rename, so an interrupted init never
	# leaves a half-made DIR/data that later starts would trust.
	if ! "$INSTALL_DB" --no-defaults --datadir="$tmp" \
		--auth-root-authentication-method=normal --skip-test-db \
		--user="$(id -un)" >"$ilog" 2>&1 </dev/null; then
		printf '%s: mariadb-install-db failed; its output (%s):\n' "$PROG" "$ilog" >&2
		sed 's/^/  | /' "$ilog" >&2
		rm -rf -- "$tmp"
		die "could not initialise $DATA (see output above)." \
			"Fix: check free disk space and that $DIR is writable, then retry."
	fi
	mv -- "$tmp" "$DATA"
	rm -f -- "$DIR/.provisioned"
}

provision() {
	# Not written to the binlog: a fresh sandbox starts with an empty binlog.
	"$CLIENT" --no-defaults --socket="$SOCK" -uroot --batch <<'SQL'
SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'tributary'@'127.0.0.1' IDENTIFIED BY 'tributary';
CREATE USER IF NOT EXISTS 'tributary'@'localhost' IDENTIFIED BY 'tributary';
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR, REPLICATION MASTER ADMIN ON *.* TO 'tributary'@'127.0.0.1';
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR, REPLICATION MASTER ADMIN ON *.* TO 'tributary'@'localhost';
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
}

# launch PORT SERVER_ID -> sets LAUNCHED_PID
LAUNCHED_PID=
launch() {
	local port=$1 sid=$2 user extra=()
	user=$(id -un)
	if [[ -n ${MARIADB_SANDBOX_EXTRA_ARGS:-} ]]; then
		read -r -a extra <<<"$MARIADB_SANDBOX_EXTRA_ARGS"
	fi
	local args=(
		--no-defaults
		--datadir="$DATA"
		--socket="$SOCK"
		--port="$port"
		--bind-address=127.0.0.1
		--pid-file="$PIDFILE"
		--log-error="$ERRLOG"
		--user="$user"
		--log-bin="$DATA/binlog"
		--binlog-format=ROW
		--binlog-row-image=FULL
		--binlog-row-metadata=FULL
		--server-id="$sid"
		--skip-name-resolve
		--innodb-buffer-pool-size=128M
		--innodb-log-file-size=64M
		--max-connections=200
		--max-allowed-packet=64M
		--innodb-flush-log-at-trx-commit=1
		--sync-binlog=1
		--gtid-strict-mode=1
		--log-slave-updates=1
		--character-set-server=utf8mb4
		--collation-server=utf8mb4_general_ci
		--default-time-zone=+00:00
		"${extra[@]}"
	)
	rm -f -- "$PIDFILE"
	{
		printf '\n%s: %s starting mariadbd on 127.0.0.1:%s\n' "$PROG" "$(date -u +%FT%TZ)" "$port"
	} >>"$DIR/mariadbd.out"
	# setsid+nohup: the server outlives this script and its session; stdin is
	# closed and the lock fd (9) is not inherited.
	setsid nohup "$MARIADBD" "${args[@]}" </dev/null >>"$DIR/mariadbd.out" 2>&1 9>&- &
	LAUNCHED_PID=$!
	disown "$LAUNCHED_PID" 2>/dev/null || true # no "Killed" job notices from bash
}

cmd_start() {
	(($# >= 1 && $# <= 3)) || die "start takes DIR [PORT] [SERVER_ID]." "Run '$0 --help' for usage."
	local port=${2:-0} sid=${3:-1} pid
	validate_uint PORT "$port" 0 65535
	validate_uint SERVER_ID "$sid" 1 4294967295
	port=$((10#$port))
	sid=$((10#$sid))
	if ((port == 3306)); then
		die "port 3306 belongs to the machine's shared MariaDB service." \
			"Fix: omit PORT (a free one is picked) or pass another port."
	fi
	if ((port != 0 && port < 1024)) && [[ $(id -u) -ne 0 ]]; then
		die "port $port is privileged." "Fix: omit PORT or pass one >= 1024."
	fi

	set_dir "$1" 1
	if ((${#SOCK} > MAX_SOCKET_PATH)); then
		die "socket path '$SOCK' is ${#SOCK} bytes; unix sockets allow at most $MAX_SOCKET_PATH." \
			"Fix: use a shorter DIR (e.g. under /tmp)."
	fi
	lock_dir
	touch -- "$DIR/$MARKER"
	ensure_tools

	# Already running?
	if pid=$(running_pid); then
		local rport rsid
		rport=$(cmdline_opt "$pid" port)
		rsid=$(cmdline_opt "$pid" server-id)
		[[ -n $rport ]] || rport=$(sed -n 's/^MARIADB_PORT=//p' "$ENVFILE" 2>/dev/null || true)
		[[ -n $rsid ]] || rsid=$sid
		if ((port != 0)) && [[ $rport != "$port" ]]; then
			log "warning: instance in $DIR is already running on port $rport (requested $port); keeping it"
		fi
		local rc=0
		wait_ready "$pid" "$rport" || rc=$?
		if ((rc != 0)); then
			tail_errlog
			die "instance in $DIR (pid $pid) is running but does not answer." \
				"Fix: '$0 stop $DIR' (or kill) and start again."
		fi
		log "instance in $DIR is already running (pid $pid)"
		write_env "$rport" "$pid" "$rsid"
		return 0
	fi

	if [[ -f $PIDFILE ]]; then
		log "removing stale pid file $PIDFILE"
		rm -f -- "$PIDFILE"
	fi

	choose_port "$port" 3306

	local fresh=0
	if [[ ! -d $DATA ]]; then
		fresh=1
		init_datadir
	fi

	local t0
	t0=$(now_ms)
	start_server mariadbd "$ERRLOG" MARIADB_SANDBOX_TIMEOUT "$sid"
	pid=$STARTED_PID port=$STARTED_PORT

	# The pid file is written by mariadbd; fall back to the launched pid.
	local fpid
	fpid=$(tr -dc '0-9' 2>/dev/null <"$PIDFILE" || true)
	[[ -n $fpid ]] && pid=$fpid

	if [[ ! -f $DIR/.provisioned ]]; then
		if ! provision >&2; then
			tail_errlog 10
			die "could not create the tributary user and root@127.0.0.1 grants." \
				"Fix: see the error above; '$0 sql $DIR' opens a root shell."
		fi
		: >"$DIR/.provisioned"
	fi
	local what=''
	((fresh == 1)) && what='new data dir, '
	log "instance ready in $DIR: 127.0.0.1:$port pid $pid (${what}startup $(elapsed "$t0"))"
	write_env "$port" "$pid" "$sid"
}

cleanup_after_stop() {
	rm -f -- "$PIDFILE" "$ENVFILE"
	# The server is gone, so a socket file left behind is stale.
	rm -f -- "$SOCK"
}

cmd_stop() {
	(($# == 1)) || die "stop takes exactly DIR." "Run '$0 --help' for usage."
	set_dir "$1" 0
	if [[ ! -d $DIR ]]; then
		log "nothing to stop: $DIR does not exist"
		return 0
	fi
	lock_dir
	local pid
	if ! pid=$(running_pid); then
		log "nothing running in $DIR"
		rm -f -- "$PIDFILE" "$ENVFILE"
		return 0
	fi
	locate_tools || true
	log "stopping instance in $DIR (pid $pid)"
	if [[ -n $ADMIN ]] &&
		"$ADMIN" --no-defaults --socket="$SOCK" -uroot --connect-timeout=5 shutdown >/dev/null 2>&1 &&
		wait_exit "$pid" "$TIMEOUT"; then
		cleanup_after_stop
		return 0
	fi
	if pid_alive "$pid"; then
		log "mariadb-admin shutdown failed or timed out; sending SIGTERM to $pid"
		stop_pid TERM "$pid" "$TIMEOUT" || die "pid $pid survived SIGKILL." "Fix: inspect it with 'ps -o pid,stat,cmd -p $pid'."
	fi
	cleanup_after_stop
}

cmd_kill() {
	(($# == 1)) || die "kill takes exactly DIR." "Run '$0 --help' for usage."
	set_dir "$1" 0
	if [[ ! -d $DIR ]]; then
		log "nothing to kill: $DIR does not exist"
		return 0
	fi
	lock_dir
	local pid
	if ! pid=$(running_pid); then
		log "nothing running in $DIR"
		return 0
	fi
	log "killing instance in $DIR (pid $pid) with SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
	wait_exit "$pid" 10 || die "pid $pid survived SIGKILL." "Fix: inspect it with 'ps -o pid,stat,cmd -p $pid'."
	# Like a crash: the pid file and socket stay behind (start copes with them).
	rm -f -- "$ENVFILE"
}

cmd_sql() {
	(($# >= 1)) || die "sql takes DIR [SQL...]." "Run '$0 --help' for usage."
	set_dir "$1" 0
	shift
	[[ -d $DIR ]] || die "$DIR does not exist." "Fix: '$0 start $DIR' first."
	running_pid >/dev/null || die "no instance is running in $DIR." "Fix: '$0 start $DIR' first."
	locate_tools || die "the mariadb client is not installed." "Fix: apt-get install mariadb-client"
	local base=("$CLIENT" --no-defaults --socket="$SOCK" -uroot --default-character-set=utf8mb4)
	if (($# == 0)); then
		exec "${base[@]}"
	elif [[ $1 == -* ]]; then
		exec "${base[@]}" "$@"
	else
		exec "${base[@]}" -e "$*"
	fi
}

cmd_destroy() {
	(($# == 1)) || die "destroy takes exactly DIR." "Run '$0 --help' for usage."
	set_dir "$1" 0
	if [[ ! -e $DIR ]]; then
		log "nothing to destroy: $DIR does not exist"
		return 0
	fi
	[[ -d $DIR ]] || die "$DIR is not a directory." "Fix: pass the instance directory."
	if [[ ! -e $DIR/$MARKER ]]; then
		die "$DIR was not created by this script (no $MARKER file); refusing to delete it." \
			"Fix: check the path; delete it by hand if you are sure."
	fi
	(cmd_stop "$DIR")
	log "deleting $DIR"
	rm -rf -- "$DIR"
}

main() {
	if (($# == 0)); then
		usage >&2
		exit 2
	fi
	local cmd=$1
	shift
	case $cmd in
	-h | --help | help) usage ;;
	start) cmd_start "$@" ;;
	install) ensure_tools ;;
	stop) cmd_stop "$@" ;;
	kill) cmd_kill "$@" ;;
	sql) cmd_sql "$@" ;;
	destroy) cmd_destroy "$@" ;;
	*)
		printf '%s: error: unknown command %q.\n' "$PROG" "$cmd" >&2
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
