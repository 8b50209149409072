#!/bin/sh
# Installs what the project needs and is missing: Debian packages with
# apt-get, and for `test` the npm tools pinned by tools/node/package-lock.json.
# usage: tools/install-deps.sh [run|test|bench|fresh]   (run is the default)
#   run    build and serve (make run)
#   test   everything make test, make lint and make docs use
#   bench  make bench
#   fresh  what tools/fresh-check.sh needs (debootstrap)
set -eu

what=${1:-run}
base="gcc make libc6-dev lighttpd libjson-c-dev liblmdb-dev libsodium-dev libfcgi-dev libcurl4-openssl-dev"
case "$what" in
run) pkgs="$base" ;;
# python3-*: the test runner's modules; clang, libclang-rt-dev: the fuzz smoke test;
# cppcheck, clang-tidy: make lint; groff-base, man-db: the man page test;
# apache2-bin, libapache2-mod-fcgid: the Apache samples tests; curl: the public page's curl lines;
# chromium: the rendered API reference, in a headless browser; strace: the fault and durability tests;
# prometheus: promtool checks /api/metrics, and a Prometheus server scrapes it (its service is never started).
test) pkgs="$base python3 python3-requests python3-jsonschema python3-yaml clang libclang-rt-dev valgrind \
groff-base man-db cppcheck clang-tidy apache2-bin libapache2-mod-fcgid curl chromium strace prometheus" ;;
bench) pkgs="$base python3 wrk valgrind" ;;
fresh) pkgs="debootstrap git" ;;
*) echo "usage: $0 [run|test|bench|fresh]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# Node.js and npm run the OpenAPI linter and renderer and drive the browser:
# Debian's, only where none is installed (a newer one, e.g. NodeSource's, is kept).
if [ "$what" = test ]; then
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi

if [ -n "$missing" ]; then
	echo "installing:$missing"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# Packages that bring a service (prometheus) must not start it: the tests start
	# their own on loopback ports.  policy-rc.d says so to the packages' scripts
	# while they install (where the machine has none of its own), and a systemd
	# machine keeps the service disabled.
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\n# tools/install-deps.sh: no service starts while packages install\nexit 101\n' |
			$sudo tee "$policy" >/dev/null
		$sudo chmod 755 "$policy"
	fi
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null || status=$?
	[ -z "$policy" ] || $sudo rm -f "$policy"
	[ "${status:-0}" -eq 0 ] || exit "$status"
	case " $missing " in
	*" prometheus "*)
		if [ -d /run/systemd/system ]; then
			$sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
		fi ;;
	esac
fi

[ "$what" = test ] || exit 0

# The npm tools, once: `npm ci` into tools/node/node_modules (git-ignored), again
# only when the lockfile changed since.  Nothing is fetched at test time.
cd "$(dirname "$0")/node"
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a === 18 && b >= 19) ? 0 : 1)'; then
	echo "install-deps.sh: Node.js $(node --version) is too old for tools/node: 18.19 or later is needed" >&2
	exit 1
fi
if ! cmp -s package-lock.json node_modules/.menzzo-installed-lock.json; then
	echo "installing the npm tools of tools/node/package-lock.json (npm ci)"
	# Debian 12's npm (9.2) is older than the 9.5 that @redocly/cli names in
	# its engines; npm only warns, and the tools work with it.
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
	cp package-lock.json node_modules/.menzzo-installed-lock.json
fi
