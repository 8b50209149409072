#!/bin/sh
# make run: creates the demo store when none exists at MENZZO_DATA_DIR,
# prints the tokens and a ready curl line, then serves in the foreground.
set -eu
: "${PORT:=8080}"
: "${HOST:=127.0.0.1}"
: "${MENZZO_DATA_DIR:=data/db}"
: "${MENZZO_FILES_DIR:=data/files}"
: "${MENZZO_BASE_URL:=http://$HOST:$PORT}"
export PORT HOST MENZZO_DATA_DIR MENZZO_FILES_DIR MENZZO_BASE_URL

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
	echo "Serving the existing store in $MENZZO_DATA_DIR; its tokens were shown when they were issued."
	echo "A new one:  bin/menzzo-admin token add asir-group"
	echo
	echo "Try:"
	echo "  curl -H 'Authorization: Bearer TOKEN' '$MENZZO_BASE_URL/api/asir-group/get-sales?page=1'"
fi
echo
echo "Serving on http://$HOST:$PORT/api/ (Ctrl-C stops)."
exec lighttpd -D -f lighttpd.conf
