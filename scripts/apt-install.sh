#!/usr/bin/env bash
# apt-install.sh PACKAGE... - install PACKAGEs with apt-get and start none
# of the services they bring: the one apt path of the project's scripts
# (the sandboxes install their servers with it, make test its other tools,
# e.g. scripts/apt-install.sh sysbench). Needs root. Everything it and apt
# print goes to stderr.
#
# While apt runs, a policy-rc.d that forbids service starts (honoured by
# invoke-rc.d and deb-systemd-invoke) is in place, unless the machine has
# one already; changed configuration files keep the machine's version.
set -euo pipefail
exec >&2
(($# > 0)) || {
	echo "usage: scripts/apt-install.sh PACKAGE..."
	exit 2
}
if [[ $(id -u) -ne 0 ]]; then
	echo "apt-install: cannot install $*: not running as root. Fix: sudo apt-get install $*, or run this as root."
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "apt-install: cannot install $*: apt-get is not available. Fix: install them with your package manager."
	exit 1
fi
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
	trap 'rm -f -- "$policy"' EXIT
	printf '#!/bin/sh\n# apt-install.sh: no service starts while packages are installed\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
fi
echo "apt-install: installing $* with apt-get (no service is started)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 apt-get install -y -qq \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null
