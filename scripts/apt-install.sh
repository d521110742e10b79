#!/usr/bin/env bash
# apt-install.sh COMMAND PACKAGE - install PACKAGE with apt-get if COMMAND is
# not on PATH (the test suite's tools besides MariaDB: sysbench). Never
# starts a service.
set -euo pipefail
cmd=${1:?usage: scripts/apt-install.sh COMMAND PACKAGE}
pkg=${2:?usage: scripts/apt-install.sh COMMAND PACKAGE}
command -v "$cmd" >/dev/null 2>&1 && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
	echo "apt-install: $cmd not found. Fix: install it (sudo apt-get install $pkg), or run make as root so it can." >&2
	exit 1
fi
echo "apt-install: $cmd not found: installing $pkg with apt-get" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" </dev/null
command -v "$cmd" >/dev/null 2>&1 || { echo "apt-install: $pkg is installed but $cmd is still not on PATH" >&2; exit 1; }
