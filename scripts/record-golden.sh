#!/usr/bin/env bash
# record-golden.sh: record the binlog of binlog/testdata/golden/workload.sql
# on a private MariaDB sandbox, with what decoding it offline needs (the
# server's collations and the columns whose type only the schema tells),
# then write the golden events (go test ./binlog -run TestGolden -update).
# Run it after changing the workload; commit what it writes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=binlog/testdata/golden
dir=$(mktemp -d /tmp/trib-golden-XXXXXX)
trap 'scripts/mariadb-sandbox.sh destroy "$dir/db" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
eval "$(scripts/mariadb-sandbox.sh start "$dir/db" 0 1)"
sql() { scripts/mariadb-sandbox.sh sql "$dir/db" "$@"; }
sql -N -B -e 'FLUSH BINARY LOGS' >/dev/null
start=$(sql -N -B -e 'SHOW MASTER STATUS' | awk '{print $1}')
sql <"$out/workload.sql"
sql -N -B -e 'FLUSH BINARY LOGS' >/dev/null
cp "$dir/db/data/$start" "$out/mariadb-10.11.binlog"
sql -N -B -e 'SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE ID IS NOT NULL ORDER BY ID' >"$out/collations.tsv"
# JSON (json_valid CHECK), UUID, INET4, INET6 columns as they stand at the end.
sql -N -B -e "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS
	WHERE TABLE_SCHEMA = 'g' AND DATA_TYPE IN ('uuid', 'inet4', 'inet6')
	UNION ALL SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, 'json' FROM information_schema.CHECK_CONSTRAINTS
	WHERE CONSTRAINT_SCHEMA = 'g' AND REPLACE(CHECK_CLAUSE, ' ', '') = CONCAT('json_valid(\`', CONSTRAINT_NAME, '\`)')
	ORDER BY 1, 2, 3" >"$out/special.tsv"
echo "recorded $out/mariadb-10.11.binlog ($(wc -c <"$out/mariadb-10.11.binlog") bytes) from $(sql -N -B -e 'SELECT VERSION()')"
go test ./binlog -run TestGolden -update
