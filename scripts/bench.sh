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
# BENCH_REUSE=1 keeps the database and binlog of the previous run (the
# workload is not generated again; pass --generate=false too).
if [[ ${BENCH_REUSE:-0} != 1 ]]; then
	rm -rf "$work/db"
fi
# The JetStream stores (several GB) go when the run ends; the database is
# kept stopped for BENCH_REUSE, the logs for reading.
trap 'scripts/mariadb-sandbox.sh stop "$work/db" >/dev/null 2>&1 || true; scripts/postgres-sandbox.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"/nats-* "$work"/pg' EXIT
eval "$(scripts/mariadb-sandbox.sh start "$work/db" 0 1)"
# The read-model series (r) rebuilds into a private PostgreSQL and into a
# database of its own in the MariaDB sandbox.
rm -rf "$work/pg"
eval "$(scripts/postgres-sandbox.sh start "$work/pg")"
scripts/mariadb-sandbox.sh sql "$work/db" -e 'DROP DATABASE IF EXISTS rm; CREATE DATABASE rm'
rm -f "$work"/rm.db*
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(go version); MariaDB $(scripts/mariadb-sandbox.sh sql "$work/db" -N -B -e 'SELECT VERSION()'); nats-server $("$work/bin/nats-server" --version | awk '{print $2}')"
"$work/bin/tributary-bench" --db-port "$MARIADB_PORT" --nats-server "$work/bin/nats-server" --tributary bin/tributary --work "$work" \
	--pg-dsn "$POSTGRES_DSN" --mysql-dsn "root@tcp(127.0.0.1:$MARIADB_PORT)/rm" "$@"
