#!/bin/sh
# Installs the Debian packages the project needs and that are missing.
# usage: tools/install-deps.sh [run|test|bench]   (run is the default)
set -eu

pkgs="gcc make libc6-dev lighttpd libjson-c-dev liblmdb-dev libsodium-dev libfcgi-dev"
case "${1:-run}" in
run) ;;
test) pkgs="$pkgs python3 python3-requests clang libclang-rt-dev valgrind groff-base man-db python3-jsonschema python3-yaml strace apache2-bin libapache2-mod-fcgid" ;;
bench) pkgs="$pkgs python3 wrk valgrind" ;;
*) echo "usage: $0 [run|test|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# npm is used for the OpenAPI check; take Debian's only where none is installed.
if [ "${1:-run}" = test ] && ! command -v npm >/dev/null 2>&1; then
	missing="$missing npm"
fi
[ -z "$missing" ] && exit 0

echo "installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
