#!/usr/bin/env bash
# demo.sh - the `make demo` walk-through: a private MariaDB sandbox, tributary
# on its embedded NATS server, a small shop workload, the events printed with
# `tributary tail`.
#
# Everything lives in .demo/ under the repository root: .demo/db (the MariaDB
# sandbox, see scripts/mariadb-sandbox.sh), .demo/data (tributary's embedded
# NATS/JetStream store) and .demo/tributary.log. A previous .demo/ is stopped
# and wiped first. On exit, success or not (including Ctrl-C), tributary and
# the sandbox are stopped; .demo/ is removed unless DEMO_KEEP=1.
#
# The machine's shared NATS (127.0.0.1:4222) and MariaDB (3306) are never
# used: tributary listens on 127.0.0.1:0 (a free port) and tail/status get its
# URL explicitly with --nats; the sandbox picks its own port.
#
# Environment:
#   DEMO_KEEP=1        keep .demo/ (stopped) afterwards, for inspection
#   DEMO_TIMEOUT=N     seconds to wait for tributary and for the events (60)
#   DEMO_NO_PYTHON=1   summarise events without python3 even if it is present
#
# Needs: bash, bin/tributary (make build) and MariaDB server/client binaries
# (scripts/mariadb-sandbox.sh install); `make demo` does both first.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd -- "$ROOT"
PROG=demo # in the messages of scripts/lib/proc.sh
# shellcheck source=SCRIPTDIR/lib/proc.sh
. scripts/lib/proc.sh

# Paths relative to ROOT (the script runs there) so the commands it prints
# read the way a user would type them.
DEMO=.demo
DB=$DEMO/db
DATA=$DEMO/data
LOG=$DEMO/tributary.log
PIDFILE=$DEMO/tributary.pid
SANDBOX=scripts/mariadb-sandbox.sh
TRIB=bin/tributary

NAME=shop
STREAM=TRIBUTARY_SHOP
PREFIX=tributary.shop
INCLUDE='shop.*'
TIMEOUT=${DEMO_TIMEOUT:-60}
KEEP=${DEMO_KEEP:-0}

TRIB_PID=           # the tributary process we started, while it runs
PROJECT_PID=        # tributary project, while it runs
SANDBOX_START_PID=  # `mariadb-sandbox.sh start`, while it runs
SANDBOX_STARTED=0   # 1 once we started the sandbox (cleanup stops it)
NATS_URL=
SOURCE=
EXPECTED=0          # events the workload must produce
T0=$SECONDS

# ---------------------------------------------------------------- output

say() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
# quote_cmd ARG...: a command line the way it could be typed.
quote_cmd() {
	local a out='' q="'\\''"
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:@=,+%-]+$ ]]; then
			out+=" $a"
		else
			out+=" '${a//\'/$q}'"
		fi
	done
	printf '%s' "${out# }"
}
show_cmd() { printf '    $ %s\n' "$(quote_cmd "$@")"; }

die() {
	printf '\ndemo: error: %s\n' "$1" >&2
	shift
	local line
	for line in "$@"; do printf '%s\n' "$line" | sed 's/^/  /' >&2; done
	exit 1
}

show_log() { # show the end of tributary's log on stderr
	if [[ -s $LOG ]]; then
		printf '\n---- last lines of %s ----\n' "$LOG" >&2
		tail -n 40 -- "$LOG" | sed 's/^/  | /' >&2
		printf -- '---- end of %s ----\n' "$LOG" >&2
	fi
}

# ---------------------------------------------------------------- processes

# start_bg LOG CMD...: run CMD in the background, output to LOG, in its own
# session (setsid): a Ctrl-C on the terminal reaches only this script, whose
# trap then sends the single SIGTERM (tributary treats a second signal as
# "exit at once"). Sets BG_PID. (Only without job control: there the child
# is no process group leader, so setsid needs no fork and $! stays CMD's pid.)
BG_PID=
start_bg() {
	local log=$1
	shift
	if [[ $- != *m* ]] && command -v setsid >/dev/null 2>&1; then
		setsid "$@" </dev/null >"$log" 2>&1 &
	else
		"$@" </dev/null >"$log" 2>&1 &
	fi
	BG_PID=$!
}

# stop_bg PID WHAT: SIGTERM (tributary finishes what it has in flight and
# exits), SIGKILL only if it hangs. Returns the process's exit status.
stop_bg() {
	local pid=$1 rc=0
	! pid_alive "$pid" || stop_pid TERM "$pid" 30 "$2 (pid $pid)" || true
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# Stop the tributary we started. Returns its exit status.
stop_tributary() {
	[[ -n $TRIB_PID ]] || return 0
	local pid=$TRIB_PID rc=0
	TRIB_PID=
	stop_bg "$pid" tributary || rc=$?
	rm -f -- "$PIDFILE"
	return "$rc"
}

# A tributary left running by an earlier demo that was killed outright:
# stop it by the pid it recorded, after checking the pid is really it.
stop_leftover_tributary() {
	[[ -f $PIDFILE ]] || return 0
	local pid
	pid=$(tr -dc '0-9' <"$PIDFILE" 2>/dev/null) || pid=
	if pid_alive "$pid" && [[ -r /proc/$pid/cmdline ]] &&
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "tributary start .*--data-dir $DATA" &&
		[[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$ROOT" ]]; then
		note "stopping tributary left running by an earlier demo (pid $pid)"
		stop_pid TERM "$pid" 30 "the leftover tributary (pid $pid)" || die "leftover tributary (pid $pid) survived SIGKILL."
	fi
	rm -f -- "$PIDFILE"
}

cleanup() {
	local rc=$?
	trap '' INT TERM HUP # let the cleanup finish
	set +e
	if [[ -n $SANDBOX_START_PID ]] && pid_alive "$SANDBOX_START_PID"; then
		# Interrupted during the start: let it finish so that the stop
		# below finds the server (killing the start half way could leave
		# a mariadbd without a pid file behind).
		printf '\ndemo: waiting for the sandbox start to finish before removing it\n' >&2
		wait_exit "$SANDBOX_START_PID" 90 || kill -TERM "$SANDBOX_START_PID" 2>/dev/null
	fi
	if [[ -n $PROJECT_PID ]]; then
		stop_bg "$PROJECT_PID" 'tributary project'
	fi
	if [[ -n $TRIB_PID ]]; then
		printf '\ndemo: stopping tributary (pid %s)\n' "$TRIB_PID" >&2
		stop_tributary
	fi
	if ((SANDBOX_STARTED)); then
		if [[ $KEEP == 1 ]]; then
			"$SANDBOX" stop "$DB" >/dev/null
		else
			"$SANDBOX" destroy "$DB" >/dev/null
		fi
	fi
	if [[ $KEEP != 1 ]]; then
		rm -rf -- "$DEMO"
	fi
	if ((rc != 0)); then
		printf '\ndemo: FAILED (exit %d) after %ds; tributary and the sandbox were stopped.\n' "$rc" "$((SECONDS - T0))" >&2
		if [[ $KEEP == 1 ]]; then
			printf 'demo: logs kept in %s/ (tributary.log, db/error.log).\n' "$DEMO" >&2
		else
			printf 'demo: rerun with DEMO_KEEP=1 to keep %s/ and its logs.\n' "$DEMO" >&2
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---------------------------------------------------------------- SQL

# run_sql: statements on stdin, as root, in the sandbox.
run_sql() {
	"$SANDBOX" sql "$DB" --batch || die "the SQL above failed (mariadb client exit status $?)."
}

# workload EVENTS DESCRIPTION: narrate, run the SQL on stdin, and count the
# row events it must produce (one per committed row change).
workload() {
	local n=$1
	shift
	printf '  * %s  (%+d event%s)\n' "$*" "$n" "$([[ $n == 1 ]] || echo s)"
	run_sql
	EXPECTED=$((EXPECTED + n))
}

# ---------------------------------------------------------------- events

stream_messages() { # print .stream.messages from `status --json` on stdin
	grep -o '"messages": *[0-9][0-9]*' | head -n 1 | grep -o '[0-9][0-9]*$' || true
}

have_python() {
	[[ ${DEMO_NO_PYTHON:-0} != 1 ]] && command -v python3 >/dev/null 2>&1 &&
		python3 -c 'import json, sys' >/dev/null 2>&1
}

# One line per event: sequence, type, NATS subject, op, and what changed.
summarise_python() {
	PYTHONIOENCODING=utf-8 python3 -c '
import json, sys
prefix = sys.argv[1]
ops = {"c": "insert", "u": "update", "d": "delete"}
for n, line in enumerate(sys.stdin, 1):
    e = json.loads(line)
    d = e.get("data") or {}
    op = d.get("op", "?")
    before, after = d.get("before") or {}, d.get("after") or {}
    if op == "u":
        what = ", ".join("%s: %s -> %s" % (k, before.get(k), after.get(k))
                         for k in after if before.get(k) != after.get(k))
    elif op == "c":
        what = ", ".join("%s=%s" % (k, after[k]) for k in list(after)[1:3])
    else:
        what = ", ".join("%s=%s" % (k, before[k]) for k in list(before)[1:3])
    print("%3d  %-23s %-32s %-9s %-7s %s" % (
        n, e.get("type"), prefix + "." + e.get("subject", ""),
        op + " " + ops.get(op, ""), e.get("txid", ""), what))
' "$PREFIX"
}

# The same without python3: bash regular expressions take the leftmost
# match, which is the envelope's member (type and subject precede "data",
# and "op" is data's first member).
summarise_bash() {
	local line n=0 type subject op txid
	while IFS= read -r line; do
		n=$((n + 1))
		type='?' subject='?' op='?' txid='?'
		[[ $line =~ \"type\":\"([^\"]*)\" ]] && type=${BASH_REMATCH[1]}
		[[ $line =~ \"subject\":\"([^\"]*)\" ]] && subject=${BASH_REMATCH[1]}
		[[ $line =~ \"op\":\"([^\"]*)\" ]] && op=${BASH_REMATCH[1]}
		[[ $line =~ \"txid\":\"([^\"]*)\" ]] && txid=${BASH_REMATCH[1]}
		printf '%3d  %-23s %-32s %-3s %s\n' "$n" "$type" "$PREFIX.$subject" "$op" "$txid"
	done
}

# ---------------------------------------------------------------- read model

read_model_seq() { # the read model's checkpoint sequence (empty if none)
	python3 - "$RM" <<'PY' 2>/dev/null || true
import sqlite3, sys
try:
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
    print(db.execute('SELECT seq FROM "_tributary_shop_checkpoint"').fetchone()[0])
except Exception:
    pass
PY
}

show_read_model() {
	PYTHONIOENCODING=utf-8 python3 - "$RM" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for q in ("SELECT id, name, tier, balance FROM customers ORDER BY id",
          "SELECT id, customer_id, status, total FROM orders ORDER BY id"):
    cur = db.execute(q)
    print("      " + q)
    for row in cur:
        print("        " + " | ".join(str(v) for v in row))
PY
}

# sleep_to_next_second: the source's commit times are whole seconds; a moment
# between writes that pause across a second boundary is one the read model
# can be rebuilt as of.
sleep_to_next_second() { sleep "$(printf '0.%03d' $((1000 - 10#$(date +%N | cut -c1-3))))"; sleep 0.2; }

# ================================================================ main

[[ -x $TRIB ]] || die "$TRIB is missing." "Fix: run 'make build' first (or 'make demo', which builds it)."
[[ -x $SANDBOX ]] || die "$SANDBOX is missing or not executable."
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "DEMO_TIMEOUT='$TIMEOUT' is not a positive number of seconds."

say "Preparing a fresh work directory $DEMO/"
stop_leftover_tributary
if [[ -d $DB ]]; then
	note "stopping a sandbox left in $DB by an earlier demo"
	"$SANDBOX" stop "$DB" >/dev/null || die "could not stop the old sandbox in $DB." "Fix: '$SANDBOX kill $DB', then rerun."
fi
rm -rf -- "$DEMO"
mkdir -p -- "$DEMO"

say "Starting a private MariaDB sandbox in $DB (server id 1)"
SANDBOX_STARTED=1
# In the background and waited for: it does not get the terminal's SIGINT, a
# Ctrl-C runs our trap at once, and the cleanup lets the start finish before
# it stops and removes the sandbox.
"$SANDBOX" start "$DB" 0 1 >"$DEMO/sandbox.env" &
SANDBOX_START_PID=$!
rc=0
wait "$SANDBOX_START_PID" || rc=$?
SANDBOX_START_PID=
((rc == 0)) || die "the MariaDB sandbox did not start (exit status $rc; see the messages above)."
env_out=$(<"$DEMO/sandbox.env")
eval "$env_out"
[[ -n ${MARIADB_PORT:-} && -n ${TRIBUTARY_SOURCE:-} ]] ||
	die "the sandbox printed no MARIADB_PORT/TRIBUTARY_SOURCE." "It printed: $env_out"
[[ $MARIADB_PORT != 3306 ]] || die "the sandbox is on port 3306, the shared MariaDB's port; refusing to use it."
SOURCE=$TRIBUTARY_SOURCE
note "MariaDB listens on 127.0.0.1:$MARIADB_PORT; tributary connects as $SOURCE"

say "Creating the shop schema (before tributary starts)"
run_sql <<'SQL'
CREATE DATABASE shop CHARACTER SET utf8mb4;
CREATE TABLE shop.customers (
  id         INT PRIMARY KEY AUTO_INCREMENT,
  email      VARCHAR(120) NOT NULL UNIQUE,
  name       VARCHAR(80)  NOT NULL,
  tier       ENUM('standard','gold') NOT NULL DEFAULT 'standard',
  balance    DECIMAL(10,2) NOT NULL DEFAULT 0,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
);
CREATE TABLE shop.orders (
  id          INT PRIMARY KEY AUTO_INCREMENT,
  customer_id INT NOT NULL,
  status      ENUM('placed','paid','shipped','cancelled') NOT NULL DEFAULT 'placed',
  total       DECIMAL(10,2) NOT NULL,
  items       JSON,
  placed_at   DATETIME(3) NOT NULL,
  KEY (customer_id)
);
SQL
note "shop.customers(id, email, name, tier, balance, created_at)"
note "shop.orders(id, customer_id, status, total, items JSON, placed_at)"

say "Starting tributary with its embedded NATS server on a free port"
start_args=(start --source "$SOURCE" --name "$NAME" --listen 127.0.0.1:0
	--data-dir "$DATA" --include "$INCLUDE")
printf '    $ %s >%s 2>&1 &\n' "$(quote_cmd "$TRIB" "${start_args[@]}")" "$LOG"
# Its own session (setsid): a Ctrl-C on the terminal reaches only this
# script, whose trap then sends the single SIGTERM (tributary treats a
# second signal as "exit at once").
start_bg "$LOG" "$TRIB" "${start_args[@]}"
TRIB_PID=$BG_PID
echo "$TRIB_PID" >"$PIDFILE"

deadline=$((SECONDS + TIMEOUT))
until grep -q 'binlog stream started' "$LOG" 2>/dev/null; do
	if ! pid_alive "$TRIB_PID"; then
		rc=0
		wait "$TRIB_PID" 2>/dev/null || rc=$?
		TRIB_PID=
		show_log
		die "tributary exited (status $rc) before the binlog stream started (log above)."
	fi
	if ((SECONDS >= deadline)); then
		show_log
		die "tributary did not log 'binlog stream started' within ${TIMEOUT}s (log above)." \
			"Fix: raise DEMO_TIMEOUT if the machine is slow."
	fi
	sleep 0.1
done
NATS_URL=$(tr -d '[:space:]' <"$DATA/nats.url" 2>/dev/null) || NATS_URL=
[[ $NATS_URL == nats://* ]] || { show_log; die "tributary is running but wrote no URL to $DATA/nats.url."; }
case $NATS_URL in
*:4222) die "the embedded NATS server listens on port 4222, the shared server's port; refusing to go on." ;;
esac
note "tributary (pid $TRIB_PID) is tailing the binlog; embedded NATS at $NATS_URL"
note "log: $LOG"

say "Running a sample workload (mariadb client, as root)"
workload 3 "Three customers sign up, one of them 'Zoë Ångström'" <<'SQL'
INSERT INTO shop.customers (email, name, balance) VALUES ('ada@example.com', 'Ada Lovelace', 120.00);
INSERT INTO shop.customers (email, name, balance) VALUES ('zoe@example.com', 'Zoë Ångström', 250.00);
INSERT INTO shop.customers (email, name, balance) VALUES ('grace@example.com', 'Grace Hopper', 75.50);
SQL
workload 3 "Three orders placed in one multi-row INSERT, items as JSON" <<'SQL'
INSERT INTO shop.orders (customer_id, total, items, placed_at) VALUES
  (1, 42.00, '[{"sku":"TEA-01","qty":2,"price":12.00},{"sku":"MUG-07","qty":1,"price":18.00}]', NOW(3)),
  (2, 19.90, '[{"sku":"CAFÉ-02","qty":1,"price":19.90}]', NOW(3)),
  (3,  7.50, '[{"sku":"PEN-11","qty":3,"price":2.50}]', NOW(3));
SQL
workload 2 "Order 1 is paid, then shipped (two UPDATEs)" <<'SQL'
UPDATE shop.orders SET status = 'paid' WHERE id = 1;
UPDATE shop.orders SET status = 'shipped' WHERE id = 1;
SQL
# A moment to rebuild the read model as of, later.
sleep_to_next_second
AS_OF=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
sleep_to_next_second
note "remembered this moment: $AS_OF (order 1 shipped, Zoë still standard, order 3 not yet cancelled)"
workload 1 "Zoë is upgraded to the gold tier" <<'SQL'
UPDATE shop.customers SET tier = 'gold' WHERE email = 'zoe@example.com';
SQL
workload 2 "Order 3 is cancelled, then the cancelled order is DELETEd" <<'SQL'
UPDATE shop.orders SET status = 'cancelled' WHERE id = 3;
DELETE FROM shop.orders WHERE status = 'cancelled';
SQL
workload 0 "A transaction is ROLLED BACK: BEGIN; INSERT customer + order; ROLLBACK" <<'SQL'
BEGIN;
INSERT INTO shop.customers (email, name) VALUES ('ghost@example.com', 'Never Committed');
INSERT INTO shop.orders (customer_id, total, items, placed_at) VALUES (LAST_INSERT_ID(), 1.00, '[]', NOW(3));
ROLLBACK;
SQL
workload 2 "Grace orders and pays from her balance in one committed transaction" <<'SQL'
BEGIN;
INSERT INTO shop.orders (customer_id, status, total, items, placed_at)
  VALUES (3, 'paid', 30.00, '[{"sku":"BOOK-42","qty":1,"price":30.00}]', NOW(3));
UPDATE shop.customers SET balance = balance - 30.00 WHERE id = 3;
COMMIT;
SQL
ghosts=$("$SANDBOX" sql "$DB" -N -B -e "SELECT COUNT(*) FROM shop.customers WHERE email = 'ghost@example.com'") ||
	die "could not query the sandbox."
[[ $ghosts == 0 ]] || die "the rolled-back customer is in the table ($ghosts rows)."
note "$EXPECTED committed row changes; the rolled-back transaction left nothing behind."

say "Waiting for the $EXPECTED events to reach the stream $STREAM"
status_args=(--source "$SOURCE" --name "$NAME" --include "$INCLUDE" --data-dir "$DATA" --nats "$NATS_URL")
show_cmd "$TRIB" status --json "${status_args[@]}"
wait_start=$SECONDS
deadline=$((SECONDS + TIMEOUT))
count=0 last_out=
while :; do
	if last_out=$("$TRIB" status --json "${status_args[@]}" 2>&1); then
		count=$(stream_messages <<<"$last_out")
		count=${count:-0}
		((count >= EXPECTED)) && break
	fi
	if ! pid_alive "$TRIB_PID"; then
		show_log
		die "tributary exited while the events were arriving (log above)."
	fi
	if ((SECONDS >= deadline)); then
		show_log
		die "the stream holds ${count} of the $EXPECTED expected events after ${TIMEOUT}s." \
			"Last 'tributary status --json' output:" "$last_out"
	fi
	sleep 0.2
done
((count == EXPECTED)) ||
	die "the stream holds $count events, $EXPECTED expected (one per committed row change; the rollback adds none)."
note "the stream holds $count events (waited $((SECONDS - wait_start))s)"

say "The events, one line each (tributary tail)"
tail_args=(--data-dir "$DATA" --nats "$NATS_URL" --stream "$STREAM")
show_cmd "$TRIB" tail "${tail_args[@]}"
events=$("$TRIB" tail "${tail_args[@]}") || { show_log; die "tributary tail failed."; }
lines=$(grep -c . <<<"$events" || true)
((lines == EXPECTED)) || die "tributary tail printed $lines events, $EXPECTED expected."
if grep -q 'ghost@example.com' <<<"$events"; then
	die "an event of the rolled-back transaction is in the stream."
fi
if have_python; then
	printf '%3s  %-23s %-32s %-9s %-7s %s\n' seq type 'NATS subject' op txid changes
	summarise_python <<<"$events" || die "could not summarise the events with python3."
else
	printf '%3s  %-23s %-32s %-3s %s\n' seq type 'NATS subject' op txid
	summarise_bash <<<"$events"
fi

say "One event in full, as stored (Zoë's tier upgrade: before and after)"
example=$(grep -m 1 -F '"type":"shop.customers.updated"' <<<"$events" || true)
[[ -n $example ]] || example=$(head -n 1 <<<"$events")
printf '%s\n' "$example"

say "Subjects are per row: the history of order 1 only"
show_cmd "$TRIB" tail "${tail_args[@]}" --subject "$PREFIX.shop.orders.1"
history=$("$TRIB" tail "${tail_args[@]}" --subject "$PREFIX.shop.orders.1") || die "tributary tail --subject failed."
# The last "status" member of a line is the row's status after the change.
while IFS= read -r line; do
	type='?' st='?'
	if [[ $line =~ \"type\":\"([^\"]*)\" ]]; then type=${BASH_REMATCH[1]}; fi
	if [[ $line =~ .*\"status\":\"([^\"]*)\" ]]; then st=${BASH_REMATCH[1]}; fi
	printf '    %-21s status=%s\n' "$type" "$st"
done <<<"$history"

say "Pipeline status"
show_cmd "$TRIB" status "${status_args[@]}"
"$TRIB" status "${status_args[@]}" || die "tributary status failed."

say "A read model: SQLite, kept current by tributary project"
CONFIG=$DEMO/tributary.yaml
RM=$DEMO/shop.db
cat >"$CONFIG" <<YAML
nats: $NATS_URL
stream: $STREAM
data_dir: $DATA
sinks:
  - name: shop
    kind: sqlite
    path: $RM
    tables: [shop.customers, shop.orders]
YAML
note "$CONFIG:"
sed 's/^/      /' "$CONFIG"
show_cmd "$TRIB" project --config "$CONFIG"
start_bg "$DEMO/project.log" "$TRIB" project --config "$CONFIG"
PROJECT_PID=$BG_PID
# python3 reads the read model's checkpoint; without it, the projection's
# start in its log is all there is to wait for.
deadline=$((SECONDS + TIMEOUT))
if have_python; then
	caught_up() { [[ $(read_model_seq) == "$count" ]]; }
else
	caught_up() { grep -q 'from_seq' "$DEMO/project.log" 2>/dev/null; }
fi
until caught_up; do
	if ! pid_alive "$PROJECT_PID" || ((SECONDS >= deadline)); then
		tail -n 20 "$DEMO/project.log" >&2
		die "the read model did not reach the stream's $count events."
	fi
	sleep 0.2
done
if have_python; then
	note "the read model has applied all $count events:"
	show_read_model
else
	note "(python3 is needed to print the read model; it is in $RM)"
fi
rc=0
stop_bg "$PROJECT_PID" 'tributary project' || rc=$?
PROJECT_PID=
((rc == 0)) || die "tributary project exited with status $rc on SIGTERM." "$(tail -n 20 "$DEMO/project.log")"

say "The read model rebuilt as of $AS_OF (the source commit time)"
show_cmd "$TRIB" rebuild --config "$CONFIG" --sink shop --as-of "$AS_OF"
"$TRIB" rebuild --config "$CONFIG" --sink shop --as-of "$AS_OF" </dev/null 2>"$DEMO/rebuild.log" ||
	die "tributary rebuild failed." "$(tail -n 20 "$DEMO/rebuild.log")"
note "$(tail -n 1 "$DEMO/rebuild.log")"
if have_python; then
	show_read_model
fi
note "built into shadow tables and swapped in at once: readers never saw it empty;"
note "'tributary rebuild --sink shop' without --as-of follows the stream again."

say "Stopping tributary (SIGTERM)"
rc=0
stop_tributary || rc=$?
if ((rc != 0)); then
	show_log
	die "tributary exited with status $rc on SIGTERM (log above)."
fi
note "$(tail -n 1 "$LOG")"

if [[ $KEEP == 1 ]]; then
	say "Stopping the sandbox; DEMO_KEEP=1 keeps $DEMO/"
	"$SANDBOX" stop "$DB"
	SANDBOX_STARTED=0
	note "restart it:   $SANDBOX start $DB"
	note "continue:     $TRIB resume --source $SOURCE --name $NAME --listen 127.0.0.1:0 --data-dir $DATA --include '$INCLUDE'"
	note "remove it:    $SANDBOX destroy $DB && rm -rf $DEMO"
else
	say "Removing the sandbox and $DEMO/"
	"$SANDBOX" destroy "$DB"
	SANDBOX_STARTED=0
	rm -rf -- "$DEMO"
fi

say "Demo finished in $((SECONDS - T0))s: $EXPECTED committed row changes, $EXPECTED events, the rollback none."
