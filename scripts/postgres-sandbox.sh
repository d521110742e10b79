#!/usr/bin/env bash
# postgres-sandbox.sh - start and stop private PostgreSQL instances for tests
# and demos (the PostgreSQL read-model target, sink/postgres).
#
# Every instance lives in its own directory with its own data dir, port and
# unix socket, bound to 127.0.0.1 only. The machine's shared PostgreSQL
# service (port 5432, /var/lib/postgresql, /etc/postgresql) is never used or
# touched. Run "scripts/postgres-sandbox.sh --help" for the interface.
set -euo pipefail

PROG=postgres-sandbox
MARKER=.postgres-sandbox                       # marks a directory this script owns
TIMEOUT=${POSTGRES_SANDBOX_TIMEOUT:-60}        # seconds, for readiness and shutdown
MAX_SOCKET_PATH=107                            # sun_path is 108 bytes incl. NUL
SUPERUSER=tributary                            # the cluster's superuser, trust auth
DATABASE=tributary                             # created on start

# shellcheck source=SCRIPTDIR/lib/sandbox.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib/sandbox.sh"

# libpq and the server read these; they must not redirect us to another
# server, data directory or user.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE \
	PGSERVICEFILE PGDATA PGOPTIONS PGSSLMODE PGTZ PGDATESTYLE PGCLIENTENCODING PGCONNECT_TIMEOUT || true

usage() {
	cat <<'EOF'
Usage: scripts/postgres-sandbox.sh COMMAND [DIR] [ARGS...]

Start and stop private PostgreSQL instances for tests and demos. Each
instance has its own directory, data dir, port and unix socket and listens on
127.0.0.1 only; the machine's shared PostgreSQL (port 5432) is never touched.

Commands:
  install
        Install postgresql with apt-get if initdb is found neither in
        /usr/lib/postgresql/*/bin nor on PATH; do nothing otherwise. Never
        starts the machine's service.
  start DIR [PORT]
        Start an instance in DIR (created if missing; DIR/data is initialised
        on first use: superuser tributary with trust authentication, locale
        C, encoding UTF8). PORT 0 or omitted: reuse the instance's previous
        port if it is free, otherwise pick a free random port in 20000-60000.
        The unix socket is in DIR; fsync is on. Waits until the server
        answers, creates the database tributary if missing, then writes
        DIR/env and prints the same KEY=VALUE lines on stdout:
          POSTGRES_PORT POSTGRES_HOST POSTGRES_SOCKET_DIR POSTGRES_DIR
          POSTGRES_PID POSTGRES_USER POSTGRES_DATABASE POSTGRES_DSN
        If the instance is already running, just prints its env.
  stop DIR
        Fast shutdown (SIGINT: open sessions are cut, committed work is
        kept), then SIGKILL after the timeout. Exits 0 if nothing is running.
  -h, --help
        Show this text.

PostgreSQL refuses to run as root. Run as root, the script runs initdb and
the server as POSTGRES_SANDBOX_USER (default: nobody; a system user
"tributary" is created if nobody does not exist) and gives DIR to that user,
so every directory above DIR must be searchable by it: one of root's under
$TMPDIR (or /tmp), such as a 0700 mktemp -d, is made searchable (o+x).
Run as anyone else, it runs them as that user.

Environment:
  POSTGRES_SANDBOX_USER     the user the server runs as when run as root.
  POSTGRES_SANDBOX_TIMEOUT  seconds to wait for startup/shutdown (default 60).

Example:
  eval "$(scripts/postgres-sandbox.sh start /tmp/pgsbx)"
  psql "$POSTGRES_DSN" -c 'SELECT version()'
  scripts/postgres-sandbox.sh stop /tmp/pgsbx
EOF
}

# ---------------------------------------------------------------- tools

BINDIR='' INITDB='' POSTGRES='' PSQL=''

# bin_dir_ok DIR: DIR holds a whole server installation.
bin_dir_ok() {
	local d=$1
	[[ -x $d/initdb && -x $d/postgres && -x $d/psql ]]
}

# locate_tools: the newest /usr/lib/postgresql/*/bin (Debian's layout), else
# the directory the initdb on PATH really lives in.
locate_tools() {
	local d found=''
	while IFS= read -r d; do
		if bin_dir_ok "$d"; then
			found=$d
			break
		fi
	done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5Vr)
	if [[ -z $found ]] && command -v initdb >/dev/null 2>&1; then
		d=$(dirname -- "$(readlink -f -- "$(command -v initdb)")")
		bin_dir_ok "$d" && found=$d
	fi
	[[ -n $found ]] || return 1
	BINDIR=$found
	INITDB=$BINDIR/initdb
	POSTGRES=$BINDIR/postgres
	PSQL=$BINDIR/psql
}

# install_packages: install postgresql (apt_install starts no service),
# with no main cluster created.
install_packages() {
	local cc=/etc/postgresql-common/createcluster.conf made_cc=0
	if [[ ! -e $cc ]]; then
		mkdir -p -- "$(dirname -- "$cc")"
		printf 'create_main_cluster = false\n' >"$cc"
		made_cc=1
	fi
	local rc=0
	apt_install postgresql || rc=$?
	# Kept if postgresql-common adopted it (through ucf), removed if it was
	# only ours.
	if ((made_cc == 1)); then
		if grep -qF -- "$cc" /var/lib/ucf/hashfile 2>/dev/null; then
			log "kept $cc (create_main_cluster = false): the package adopted it"
		else
			rm -f -- "$cc"
		fi
	fi
	return "$rc"
}

ensure_tools() {
	locate_tools && return 0
	log "initdb not found: installing postgresql"
	install_packages ||
		die "PostgreSQL server programs (initdb, postgres, psql) not found in /usr/lib/postgresql/*/bin or on PATH, and not installed (see above)." \
			"Fix: follow the hint above, or install the PostgreSQL server (13 or newer) yourself."
	locate_tools || die "postgresql was installed but initdb/postgres/psql are still missing." \
		"Fix: check 'ls /usr/lib/postgresql/*/bin' and PATH."
}

# ---------------------------------------------------------------- the server's user

RUN_USER='' RUN_GROUP='' RUN_AS=()

# pick_user: who initdb and the server run as. PostgreSQL refuses root.
pick_user() {
	if [[ $(id -u) -ne 0 ]]; then
		RUN_USER=$(id -un)
		RUN_GROUP=$(id -gn)
		RUN_AS=()
		return 0
	fi
	RUN_USER=${POSTGRES_SANDBOX_USER:-nobody}
	if ! id -u -- "$RUN_USER" >/dev/null 2>&1; then
		if [[ -n ${POSTGRES_SANDBOX_USER:-} ]]; then
			die "POSTGRES_SANDBOX_USER=$RUN_USER does not exist." "Fix: name an existing unprivileged user."
		fi
		RUN_USER=tributary
		if ! id -u -- "$RUN_USER" >/dev/null 2>&1; then
			log "no user nobody: creating system user $RUN_USER to run PostgreSQL"
			useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$RUN_USER" ||
				die "could not create system user $RUN_USER." "Fix: set POSTGRES_SANDBOX_USER to an unprivileged user."
		fi
	fi
	[[ $(id -u -- "$RUN_USER") -ne 0 ]] || die "POSTGRES_SANDBOX_USER=$RUN_USER is root; PostgreSQL refuses to run as root." \
		"Fix: name an unprivileged user, e.g. nobody."
	RUN_GROUP=$(id -gn -- "$RUN_USER")
	if command -v setpriv >/dev/null 2>&1; then
		RUN_AS=(setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --clear-groups --)
	else
		RUN_AS=(runuser -u "$RUN_USER" --)
	fi
}

# as_user CMD...: run CMD as RUN_USER. setpriv execs CMD, so a backgrounded
# command's $! is CMD's own pid (runuser, the fallback, forks).
as_user() { "${RUN_AS[@]}" "$@"; }

# ---------------------------------------------------------------- instance dir

DIR='' DATA='' DATA_ARG='' PIDFILE='' LOGFILE='' ENVFILE='' LOCKFILE=''

set_dir() { # DIR CREATE(0|1)
	resolve_dir "$1" "$2"
	case $DIR/ in
	/ | /var/lib/postgresql/* | /etc/postgresql/* | /run/postgresql/* | /var/run/postgresql/* | /usr/* | /etc/*)
		die "refusing to use '$DIR': it belongs to the system (shared PostgreSQL service or the OS)." \
			"Fix: pass a private directory such as /tmp/pgsbx-NAME."
		;;
	esac
	DATA=$DIR/data
	DATA_ARG=$DATA # postgres -D DATA
	PIDFILE=$DATA/postmaster.pid
	LOGFILE=$DIR/postgres.log
	ENVFILE=$DIR/env
	LOCKFILE=$DIR/.lock
}

# give_dir: DIR belongs to the server's user, and that user can reach it.
# A temporary directory of ours above DIR (mktemp -d and Go's os.MkdirTemp
# make them 0700) is opened for search, not listing, to others; anything
# else in the way is an error.
give_dir() {
	if [[ $(id -u) -eq 0 ]]; then
		chown -- "$RUN_USER:$RUN_GROUP" "$DIR"
		chmod 0755 -- "$DIR"
		local tmp p up=()
		tmp=$(cd -- "${TMPDIR:-/tmp}" 2>/dev/null && pwd -P) || tmp=/tmp
		p=$(dirname -- "$DIR")
		while [[ $p == "$tmp"/* ]]; do
			up=("$p" "${up[@]}")
			p=$(dirname -- "$p")
		done
		for p in "${up[@]}"; do # from the top down
			if ! as_user test -x "$p" && [[ -O $p ]]; then
				log "letting $RUN_USER search $p (chmod o+x) to reach $DIR"
				chmod o+x -- "$p"
			fi
		done
	fi
	if ! as_user test -w "$DIR" -a -x "$DIR"; then
		die "user $RUN_USER cannot write to $DIR: a directory above it is not searchable by $RUN_USER." \
			"Fix: use a directory under /tmp, or set POSTGRES_SANDBOX_USER to a user that can reach $DIR."
	fi
}

# postmaster.pid: its first line is the pid, its fourth the port.
running_port() { sed -n 4p "$PIDFILE" 2>/dev/null | tr -dc '0-9'; }

# ---------------------------------------------------------------- env output

# env_line KEY VALUE: KEY=VALUE, the value shell-quoted only if it must be,
# so that the line reads literally and evaluates to the same.
env_line() {
	if [[ $2 =~ ^[A-Za-z0-9_./:@?=%+-]*$ ]]; then
		printf '%s=%s\n' "$1" "$2"
	else
		printf '%s=%q\n' "$1" "$2"
	fi
}

write_env() { # PORT PID
	local port=$1 pid=$2 tmp
	tmp=$ENVFILE.tmp.$$
	{
		env_line POSTGRES_PORT "$port"
		env_line POSTGRES_HOST 127.0.0.1
		env_line POSTGRES_SOCKET_DIR "$DIR"
		env_line POSTGRES_DIR "$DIR"
		env_line POSTGRES_PID "$pid"
		env_line POSTGRES_USER "$SUPERUSER"
		env_line POSTGRES_DATABASE "$DATABASE"
		env_line POSTGRES_DSN "postgres://$SUPERUSER@127.0.0.1:$port/$DATABASE?sslmode=disable"
	} >"$tmp"
	mv -f -- "$tmp" "$ENVFILE"
	echo "$port" >"$DIR/last-port"
	cat -- "$ENVFILE"
}

# ---------------------------------------------------------------- readiness

# psql_at PORT [PSQL ARGS...]: psql as the superuser over the unix socket.
psql_at() {
	local port=$1
	shift
	PGCONNECT_TIMEOUT=2 "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$port" -U "$SUPERUSER" "$@"
}

answers() { # PORT: for wait_ready and start_server
	[[ -S $DIR/.s.PGSQL.$1 ]] && psql_at "$1" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1
}

startup_retry() { # NEWLOG
	# Backends of a killed postmaster still hold its shared memory for a
	# moment.
	grep -q 'pre-existing shared memory block' <<<"$1" || return 1
	log "the shared memory of a killed server is still in use; retrying"
	sleep 1
}

startup_hint() { # NEWLOG
	if grep -q 'could not create shared memory\|could not map anonymous shared memory' <<<"$1"; then
		echo "Fix: the machine is short of shared memory; stop other instances or raise its limits."
	else
		echo "Fix: see $LOGFILE."
	fi
}

# ---------------------------------------------------------------- commands

init_datadir() {
	local tmp=$DIR/data.init ilog=$DIR/initdb.log
	rm -rf -- "$tmp"
	log "initialising data directory $DATA (as $RUN_USER)"
	# Initialise into a scratch dir and rename, so an interrupted init never
	# leaves a half-made DIR/data that later starts would trust.
	if ! as_user "$INITDB" --pgdata="$tmp" --username="$SUPERUSER" --auth=trust \
		--locale=C --encoding=UTF8 >"$ilog" 2>&1 </dev/null; then
		printf '%s: initdb failed; its output (%s):\n' "$PROG" "$ilog" >&2
		sed 's/^/  | /' "$ilog" >&2
		rm -rf -- "$tmp"
		die "could not initialise $DATA (see output above)." \
			"Fix: check free disk space and that $RUN_USER can write to $DIR, then retry."
	fi
	mv -- "$tmp" "$DATA"
}

# wait_stale_pid: a postmaster killed a moment ago can linger as a zombie
# until whatever adopted it reaps it, and PostgreSQL takes the pid in its
# lock file for a live server while it does: wait until it is gone.
wait_stale_pid() {
	local pid deadline=$((SECONDS + TIMEOUT))
	pid=$(sed -n 1p "$PIDFILE" 2>/dev/null | tr -dc '0-9') || return 0
	[[ -n $pid ]] || return 0
	while kill -0 "$pid" 2>/dev/null && ! pid_alive "$pid"; do
		((SECONDS < deadline)) || die "the old postmaster (pid $pid) is still a zombie after ${TIMEOUT}s." \
			"Fix: its parent ($(ps -o ppid= -p "$pid" 2>/dev/null || echo '?')) must reap it; or remove $PIDFILE."
		sleep 0.1
	done
}

# launch PORT -> sets LAUNCHED_PID
LAUNCHED_PID=
launch() {
	local port=$1
	local args=(
		-D "$DATA"
		-p "$port"
		-c listen_addresses=127.0.0.1
		-c unix_socket_directories="$DIR"
		-c fsync=on
		-c synchronous_commit=on
		-c full_page_writes=on
		-c max_connections=200
		-c TimeZone=UTC
		-c log_timezone=UTC
		-c logging_collector=off
		-c cluster_name=tributary-sandbox
	)
	printf '\n%s: %s starting postgres on 127.0.0.1:%s\n' "$PROG" "$(date -u +%FT%TZ)" "$port" >>"$LOGFILE"
	# setsid+nohup: the server outlives this script and its session; stdin is
	# closed and the lock fd (9) is not inherited.
	setsid nohup "${RUN_AS[@]}" "$POSTGRES" "${args[@]}" </dev/null >>"$LOGFILE" 2>&1 9>&- &
	LAUNCHED_PID=$!
	disown "$LAUNCHED_PID" 2>/dev/null || true
}

cmd_start() {
	(($# >= 1 && $# <= 2)) || die "start takes DIR [PORT]." "Run '$0 --help' for usage."
	local port=${2:-0} pid
	validate_uint PORT "$port" 0 65535
	port=$((10#$port))
	if ((port == 5432)); then
		die "port 5432 belongs to the machine's shared PostgreSQL service." \
			"Fix: omit PORT (a free one is picked) or pass another port."
	fi
	if ((port != 0 && port < 1024)); then
		die "port $port is privileged and the server does not run as root." "Fix: omit PORT or pass one >= 1024."
	fi

	set_dir "$1" 1
	if ((${#DIR} + 16 > MAX_SOCKET_PATH)); then
		die "socket path '$DIR/.s.PGSQL.$port' would be over $MAX_SOCKET_PATH bytes, the most unix sockets allow." \
			"Fix: use a shorter DIR (e.g. under /tmp)."
	fi
	lock_dir
	touch -- "$DIR/$MARKER"
	ensure_tools
	pick_user
	give_dir

	# Already running?
	if pid=$(running_pid); then
		local rport rc=0
		rport=$(running_port)
		if ((port != 0)) && [[ $rport != "$port" ]]; then
			log "warning: instance in $DIR is already running on port $rport (requested $port); keeping it"
		fi
		wait_ready "$pid" "$rport" || rc=$?
		if ((rc != 0)); then
			tail_log "$LOGFILE"
			die "instance in $DIR (pid $pid) is running but does not answer." \
				"Fix: '$0 stop $DIR' and start again."
		fi
		log "instance in $DIR is already running (pid $pid)"
		write_env "$rport" "$pid"
		return 0
	fi

	choose_port "$port" 5432
	wait_stale_pid

	local fresh=0
	if [[ ! -f $DATA/PG_VERSION ]]; then
		[[ ! -e $DATA ]] || die "$DATA exists but holds no PostgreSQL cluster (no PG_VERSION)." \
			"Fix: remove $DATA, or pass another DIR."
		fresh=1
		init_datadir
	fi

	local t0
	t0=$(now_ms)
	start_server postgres "$LOGFILE" POSTGRES_SANDBOX_TIMEOUT
	pid=$STARTED_PID port=$STARTED_PORT

	if [[ -z $(psql_at "$port" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'") ]]; then
		psql_at "$port" -d postgres -c "CREATE DATABASE $DATABASE" >&2 ||
			die "could not create database $DATABASE." "Fix: see the error above and $LOGFILE."
	fi
	local what=''
	((fresh == 1)) && what='new data dir, '
	log "instance ready in $DIR: 127.0.0.1:$port pid $pid as $RUN_USER (${what}startup $(elapsed "$t0"))"
	write_env "$port" "$pid"
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
		rm -f -- "$ENVFILE"
		return 0
	fi
	log "stopping instance in $DIR (pid $pid, fast shutdown)"
	# SIGINT is PostgreSQL's fast shutdown: sessions are cut, a shutdown
	# checkpoint is written. The postmaster removes its pid file and socket.
	stop_pid INT "$pid" "$TIMEOUT" || die "pid $pid survived SIGKILL." "Fix: inspect it with 'ps -o pid,stat,cmd -p $pid'."
	rm -f -- "$ENVFILE"
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
	install)
		(($# == 0)) || die "install takes no arguments." "Run '$0 --help' for usage."
		ensure_tools
		;;
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	*)
		printf '%s: error: unknown command %q.\n' "$PROG" "$cmd" >&2
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
