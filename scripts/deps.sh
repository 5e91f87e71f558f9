#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Install the Debian packages gscope needs to build and test.
# Idempotent: when everything is present it only runs one dpkg-query.
set -eu

PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev libdw-dev
libprotobuf-c-dev protobuf-c-compiler libgraphviz-dev graphviz libzstd-dev liblz4-dev
zlib1g-dev libcurl4-openssl-dev libcriterion-dev libclang-rt-14-dev pkg-config golang-go"
BPO_PKGS="golang-1.21-go golang-1.22-go golang-1.23-go"

missing() {
	# print the packages of "$@" that are not installed
	dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null |
		awk '$2 == "ii" { ok[$1] = 1 } END { for (p in ok) print p }' >/tmp/gscope-deps.$$
	for p in "$@"; do
		grep -qx "$p" /tmp/gscope-deps.$$ || printf '%s ' "$p"
	done
	rm -f /tmp/gscope-deps.$$
}

need=$(missing $PKGS)
need_bpo=$(missing $BPO_PKGS)
[ -z "$need$need_bpo" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

echo "deps: installing:$need $need_bpo" >&2
if [ -n "$need_bpo" ] &&
   ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo 'deb http://deb.debian.org/debian bookworm-backports main' |
		$SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
[ -z "$need" ] || $SUDO apt-get install -y -qq --no-install-recommends $need >&2
[ -z "$need_bpo" ] ||
	$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports $need_bpo >&2
rest=$(missing $PKGS $BPO_PKGS)
if [ -n "$rest" ]; then
	echo "deps: still missing after install: $rest" >&2
	exit 1
fi
