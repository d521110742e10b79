#!/usr/bin/env bash
# Keeps the package direction honest (see each package's doc.go):
#   the root package imports the standard library only;
#   binlog/ never imports eventlog/, sink/ or anything NATS;
#   eventlog/ never imports binlog/, sink/ or go-mysql;
#   sink/ never imports binlog/ or go-mysql.
set -euo pipefail
cd "$(dirname "$0")/.."
mod=$(go list -m)
fail=0

deny() { # package, pattern, reason
	local pkg=$1 pattern=$2 why=$3 bad
	bad=$(go list -deps "$pkg" | grep -E "$pattern" || true)
	if [[ -n $bad ]]; then
		echo "import direction: $pkg must not depend on $why, but depends on:" >&2
		sed 's/^/    /' <<<"$bad" >&2
		fail=1
	fi
}

nonstd=$(go list -f '{{if not .Standard}}{{.ImportPath}}{{end}}' -deps "$mod" | grep -v -x "$mod" || true)
if [[ -n $nonstd ]]; then
	echo "import direction: the root package must import the standard library only, but imports:" >&2
	sed 's/^/    /' <<<"$nonstd" >&2
	fail=1
fi
deny "$mod/binlog/..." "^$mod/(eventlog|sink)|nats-io" "eventlog, sink or NATS"
deny "$mod/eventlog/..." "^$mod/(binlog|sink)|go-mysql-org" "binlog, sink or go-mysql"
if [[ -n $(go list "$mod/sink/..." 2>/dev/null) ]]; then
	deny "$mod/sink/..." "^$mod/binlog|go-mysql-org" "binlog or go-mysql"
fi
exit $fail
