#!/bin/sh
# Run by lighttpd.conf (include_shell) from the project root: turns the
# environment of `make run` (or of a test) into lighttpd settings.
#   PORT (8080), HOST (127.0.0.1), CGI_DIR (cgi-bin), ACCESS_LOG
#   (data/access.log) and every MENZZO_* variable, which reach every CGI
#   through setenv; relative paths are made absolute, since each CGI runs in
#   its own directory.  ACCESS_LOG is lighttpd's alone: no CGI sees it.
set -eu
root=$(pwd)

abs() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$root" "$1" ;; esac; }
quote() {
	case "$1" in
	*'"'*|*'\'*|*'
'*) echo "lighttpd-env.sh: $2 contains a quote, a backslash or a newline" >&2; exit 1 ;;
	esac
	printf '"%s"' "$1"
}

port=${PORT:-8080}
case "$port" in ''|*[!0-9]*) echo "lighttpd-env.sh: PORT must be a number" >&2; exit 1 ;; esac
: "${MENZZO_DATA_DIR:=data/db}"
: "${MENZZO_FILES_DIR:=data/files}"
: "${MENZZO_BASE_URL:=http://127.0.0.1:$port}"
MENZZO_DATA_DIR=$(abs "$MENZZO_DATA_DIR")
MENZZO_FILES_DIR=$(abs "$MENZZO_FILES_DIR")
export MENZZO_DATA_DIR MENZZO_FILES_DIR MENZZO_BASE_URL

echo "var.cgi_dir = $(quote "$(abs "${CGI_DIR:-cgi-bin}")" CGI_DIR)"
echo "accesslog.filename = $(quote "$(abs "${ACCESS_LOG:-data/access.log}")" ACCESS_LOG)"
echo "server.port = $port"
echo "server.bind = $(quote "${HOST:-127.0.0.1}" HOST)"
echo "setenv.set-environment = ("
env | sed -n 's/^\(MENZZO_[A-Z0-9_]*\)=.*/\1/p' | sort | while read -r name; do
	eval "value=\${$name}"
	echo "  \"$name\" => $(quote "$value" "$name"),"
done
echo ")"
