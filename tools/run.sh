#!/bin/sh
# make run: creates the demo store when none exists at MENZZO_DATA_DIR,
# prints the tokens and a ready curl line, starts lighttpd and, once it
# listens, prints "Serving on ..." and stays in the foreground until Ctrl-C.
# A port already in use (checked first) or a lighttpd that does not start is
# an error (exit 1), without that banner.
set -eu
: "${PORT:=8080}"
: "${HOST:=127.0.0.1}"
: "${MENZZO_DATA_DIR:=data/db}"
: "${MENZZO_FILES_DIR:=data/files}"
: "${MENZZO_BASE_URL:=http://$HOST:$PORT}"
: "${ACCESS_LOG:=data/access.log}"
export PORT HOST MENZZO_DATA_DIR MENZZO_FILES_DIR MENZZO_BASE_URL ACCESS_LOG

case "$PORT" in ''|*[!0-9]*) echo "make run: PORT must be a number, not '$PORT'" >&2; exit 1 ;; esac

# Whether some socket listens on TCP port $1, from /proc/net (Linux).  Exit
# status 2 when that cannot be told.
listening() {
	[ -r /proc/net/tcp ] || return 2
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
	    awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }'
}

busy=0
listening "$PORT" || busy=$?
if [ "$busy" -eq 0 ]; then
	echo "make run: port $PORT is already in use (another make run?); PORT=9000 make run serves on another one." >&2
	exit 1
fi

if [ ! -f "$MENZZO_DATA_DIR/data.mdb" ]; then
	bin/menzzo-admin init >/dev/null
	out=$(bin/menzzo-admin demo 2>/dev/null)
	asir=$(printf '%s\n' "$out" | grep -A1 '^token .* for asir-group' | tail -n 1)
	notio=$(printf '%s\n' "$out" | grep -A1 '^token .* for notio' | tail -n 1)
	echo "Demo store created in $MENZZO_DATA_DIR (labels in $MENZZO_FILES_DIR)."
	echo "Tokens (shown once, stored only as hashes):"
	echo "  asir-group  $asir"
	echo "  notio       $notio"
	echo
	echo "Try:"
	echo "  curl -H 'Authorization: Bearer $asir' '$MENZZO_BASE_URL/api/asir-group/get-sales?page=1'"
else
	echo "Using the existing store in $MENZZO_DATA_DIR; its tokens were shown when they were issued."
	echo "A new one:  bin/menzzo-admin token add asir-group"
	echo
	echo "Try:"
	echo "  curl -H 'Authorization: Bearer TOKEN' '$MENZZO_BASE_URL/api/asir-group/get-sales?page=1'"
fi
echo

lighttpd -D -f lighttpd.conf &
pid=$!
stopping=0
trap 'stopping=1; kill -TERM "$pid" 2>/dev/null || true' INT TERM HUP

# Up when it listens (lighttpd binds before it serves); down when it exited.
tries=0
while :; do
	if ! kill -0 "$pid" 2>/dev/null; then
		rc=0
		wait "$pid" || rc=$?
		echo "make run: lighttpd did not start (exit status $rc; its message is above)." >&2
		exit 1
	fi
	up=0
	listening "$PORT" || up=$?
	[ "$up" -eq 0 ] && break
	# Without /proc/net, a lighttpd still running after a second has bound its port.
	[ "$up" -eq 2 ] && [ "$tries" -ge 10 ] && break
	tries=$((tries + 1))
	if [ "$tries" -gt 100 ]; then
		echo "make run: lighttpd did not listen on port $PORT within 10 seconds; stopping it." >&2
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" || true
		exit 1
	fi
	sleep 0.1
done

echo "Access log: $ACCESS_LOG"
echo "Serving on http://$HOST:$PORT/api/ (Ctrl-C stops)."

rc=0
wait "$pid" || rc=$?
if [ "$stopping" -eq 1 ]; then
	# Stopped as asked (Ctrl-C): wait until lighttpd is gone, and succeed.
	wait "$pid" 2>/dev/null || true
	exit 0
fi
# lighttpd ended by itself: its exit status.
exit "$rc"
