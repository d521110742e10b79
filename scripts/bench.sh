#!/usr/bin/env bash
# make bench: the throughput benchmark recorded in docs/BENCHMARKS.md.
# Starts a private MariaDB sandbox, a private PostgreSQL and nats-server
# processes (built from the nats-server module version tributary embeds),
# runs cmd/tributary-bench, and stops everything. Not part of make test.
set -euo pipefail
cd "$(dirname "$0")/.."
work=.bench
mkdir -p "$work/bin"
go build -o bin/tributary ./cmd/tributary
go build -o "$work/bin/nats-server" github.com/nats-io/nats-server/v2
go build -o "$work/bin/tributary-bench" ./cmd/tributary-bench
scripts/mariadb-sandbox.sh stop "$work/db" >/dev/null 2>&1 || true
scripts/postgres-sandbox.sh stop "$work/pg" >/dev/null 2>&1 || true
scripts/mariadb-sandbox.sh stop "$work/rmdb" >/dev/null 2>&1 || true
# BENCH_REUSE=1 keeps the database and binlog of the previous run (the
# workload is not generated again; pass --generate=false too).
if [[ ${BENCH_REUSE:-0} != 1 ]]; then
	rm -rf "$work/db"
fi
# The JetStream stores (several GB) go when the run ends; the database is
# kept stopped for BENCH_REUSE, the logs for reading.
trap 'scripts/mariadb-sandbox.sh stop "$work/db" >/dev/null 2>&1 || true; scripts/mariadb-sandbox.sh stop "$work/rmdb" >/dev/null 2>&1 || true; scripts/postgres-sandbox.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"/nats-* "$work"/pg "$work"/rmdb' EXIT
eval "$(scripts/mariadb-sandbox.sh start "$work/db" 0 1)"
# The read-model series (r) rebuilds into a private PostgreSQL, into a
# MariaDB of its own as a read model's server is set up (no binary log,
# MariaDB's default for a server that is no CDC source; a buffer pool that
# holds the table), and, beside it, into a database in the source's
# sandbox, which logs every row written with full images and has the
# default 128 MiB buffer pool.
rm -rf "$work/pg" "$work/rmdb"
eval "$(scripts/postgres-sandbox.sh start "$work/pg")"
source_port=$MARIADB_PORT
rm_port=$(MARIADB_SANDBOX_EXTRA_ARGS="--skip-log-bin --innodb-buffer-pool-size=1G" scripts/mariadb-sandbox.sh start "$work/rmdb" 0 2 | sed -n 's/^MARIADB_PORT=//p')
scripts/mariadb-sandbox.sh sql "$work/rmdb" -e 'CREATE DATABASE rm'
[[ $(scripts/mariadb-sandbox.sh sql "$work/rmdb" -N -B -e 'SELECT @@log_bin') == 0 ]] || { echo "bench: the read-model MariaDB has a binary log" >&2; exit 1; }
scripts/mariadb-sandbox.sh sql "$work/db" -e 'DROP DATABASE IF EXISTS rm; CREATE DATABASE rm'
rm -f "$work"/rm.db*
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version); MariaDB $(scripts/mariadb-sandbox.sh sql "$work/db" -N -B -e 'SELECT VERSION()'); nats-server $("$work/bin/nats-server" --version | awk '{print $2}')"
"$work/bin/tributary-bench" --db-port "$MARIADB_PORT" --nats-server "$work/bin/nats-server" --tributary bin/tributary --work "$work" \
	--pg-dsn "$POSTGRES_DSN" --mysql-dsn "root@tcp(127.0.0.1:$rm_port)/rm" --mysql-source-dsn "root@tcp(127.0.0.1:$source_port)/rm" "$@"
