#!/bin/sh
# tools/deps.sh [build|test|bench]: install what mgw needs from Debian 12.
set -e
build="autoconf automake make gcc libc6-dev pkg-config libevent-dev libssl-dev \
libconfig-dev node-llhttp zlib1g-dev libjansson-dev libcrypt-dev"
test="$build libcunit1-dev clang curl nginx-light python3 mandoc procps \
prometheus chromium openssl testssl.sh python3-jwt python3-cryptography apache2-utils"
bench="$test wrk"
case "${1:-build}" in
build) pkgs=$build ;;
test) pkgs=$test ;;
bench) pkgs=$bench ;;
*) echo "usage: tools/deps.sh [build|test|bench]" >&2; exit 1 ;;
esac
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
