#!/bin/sh
# tools/fresh-check.sh: the README's two commands on a fresh Debian 12 machine.
#
# Builds a fresh Debian bookworm with debootstrap (minbase, plus
# build-essential, git, ca-certificates, sudo, curl and python3, the security
# and updates suites enabled as on an installed system), copies this
# machine's CA certificates in (as a machine behind a proxy that inspects TLS
# needs), clones this repository's HEAD into /root/menzzo there, and runs, as
# root, `make test`, then `make run` in the background until /api/health
# answers 200.  Prints both results with their times; exits 1 when either
# fails.  Not part of make test: it needs root (debootstrap, chroot, mount),
# a Debian mirror and the npm registry, and about ten minutes.
#
#   usage: sudo tools/fresh-check.sh
#   FRESH_DIR     work directory (/var/tmp/menzzo-fresh): root/ is the new
#                 system, make-test.log and make-run.log the two outputs
#   FRESH_MIRROR  Debian mirror (http://deb.debian.org/debian)
#   FRESH_KEEP=1  keep root/ afterwards (otherwise it is removed)
# Only committed work is checked: the clone is of HEAD.
set -eu

dir=${FRESH_DIR:-/var/tmp/menzzo-fresh}
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
root=$dir/root
say() { echo "fresh-check: $*"; }
elapsed() { s=$(($(date +%s) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

[ "$(id -u)" -eq 0 ] || { echo "fresh-check: run it as root (debootstrap, chroot and mount need it)" >&2; exit 2; }
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse HEAD)
[ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] ||
	say "note: uncommitted changes in $repo are not part of the check (it clones HEAD)"
sh "$repo/tools/install-deps.sh" fresh

# Processes running inside the new system (what make test or make run left),
# by PID: those whose root directory is it.
in_root() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && echo "${p#/proc/}"
	done
	return 0
}
mounts="proc sys dev dev/pts dev/shm"
unmount_all() {
	for m in dev/shm dev/pts dev sys proc; do
		if mountpoint -q "$root/$m" 2>/dev/null; then
			umount "$root/$m" 2>/dev/null || umount -l "$root/$m"
		fi
	done
}
run_pid=""
cleanup() {
	[ -z "$run_pid" ] || kill -TERM "-$run_pid" 2>/dev/null || true
	pids=$(in_root)
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill -TERM $pids 2>/dev/null || true
		sleep 2
		pids=$(in_root)
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
	fi
	unmount_all
	if [ "${FRESH_KEEP:-0}" != 1 ] && [ -d "$root" ]; then
		for m in $mounts; do
			if mountpoint -q "$root/$m" 2>/dev/null; then
				say "$root/$m is still mounted: $root is left in place"
				return
			fi
		done
		rm -rf "$root"
	fi
}

# A work directory of this script's only (it is emptied): never one without its mark.
if [ -e "$dir" ] && [ ! -e "$dir/.menzzo-fresh-check" ]; then
	echo "fresh-check: $dir exists and is not a fresh-check directory; set FRESH_DIR" >&2
	exit 2
fi
mkdir -p "$dir"
touch "$dir/.menzzo-fresh-check"
dir=$(cd "$dir" && pwd -P)
root=$dir/root
unmount_all
rm -rf "$root" "$dir/make-test.log" "$dir/make-run.log"
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say "checking commit $(git -C "$repo" log -1 --format='%h %s' "$commit")"
t0=$(date +%s)
if ! debootstrap --variant=minbase --include=build-essential,git,ca-certificates,sudo,curl,python3 \
    bookworm "$root" "$mirror" > "$dir/debootstrap.log" 2>&1; then
	tail -n 20 "$dir/debootstrap.log"
	say "debootstrap failed (log: $dir/debootstrap.log)"
	exit 1
fi
security=$(printf '%s' "$mirror" | sed 's#/debian/*$#/debian-security#')
cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
for crt in /usr/local/share/ca-certificates/*.crt; do
	[ -e "$crt" ] && cp "$crt" "$root/usr/local/share/ca-certificates/"
done
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount --bind /dev/shm "$root/dev/shm"

# A clean environment, as a new root login has it (the proxy settings, if any, kept).
inside() {
	set -- env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    LANG=C.UTF-8 TERM=dumb "$@"
	for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
		eval "val=\${$v-}"
		[ -z "$val" ] || set -- "$@" "$v=$val"
	done
	chroot "$root" "$@"
}
inside update-ca-certificates >/dev/null 2>&1 || { say "update-ca-certificates failed"; exit 1; }
say "fresh Debian bookworm in $root: $(elapsed "$t0") ($(inside dpkg-query -W -f='.\n' | wc -l) packages)"

git clone -q "$repo" "$root/root/menzzo"
git -C "$root/root/menzzo" checkout -q --detach "$commit"

# 1. make test
t1=$(date +%s)
test_rc=0
inside sh -c 'cd /root/menzzo && make test' > "$dir/make-test.log" 2>&1 || test_rc=$?
test_time=$(elapsed "$t1")
test_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$dir/make-test.log" | tail -n 1 || true)
if [ "$test_rc" -ne 0 ]; then
	echo "--- the end of make test's output ($dir/make-test.log):"
	tail -n 40 "$dir/make-test.log"
	echo "---"
fi

# 2. make run, on a free port, until /api/health answers 200
port=$(inside python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
t2=$(date +%s)
t2ms=$(date +%s%3N)
setsid chroot "$root" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb PORT="$port" sh -c 'cd /root/menzzo && exec make run' > "$dir/make-run.log" 2>&1 &
run_pid=$!
health=000
while :; do
	health=$(inside curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/api/health" || true)
	[ "$health" = 200 ] && break
	kill -0 "$run_pid" 2>/dev/null || break
	[ $(($(date +%s) - t2)) -lt 900 ] || break
	sleep 0.2
done
run_ms=$(($(date +%s%3N) - t2ms))
run_time=$((run_ms / 1000)).$((run_ms % 1000 / 100))
kill -TERM "-$run_pid" 2>/dev/null || true
wait "$run_pid" 2>/dev/null || true
run_pid=""
if [ "$health" != 200 ]; then
	echo "--- make run's output ($dir/make-run.log):"
	tail -n 30 "$dir/make-run.log"
	echo "---"
fi

say "make test: ${test_line:-no result line} (exit status $test_rc) in $test_time"
say "make run: /api/health answered ${health} after ${run_time} s (port $port)"
if [ "$test_rc" -eq 0 ] && [ "$health" = 200 ]; then
	exit 0
fi
exit 1
