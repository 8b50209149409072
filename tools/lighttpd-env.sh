#!/bin/sh
# Run by lighttpd.conf (include_shell) from the project root: turns the
# environment of `make run` (or of a test) into lighttpd settings.
#   PORT (8080), HOST (127.0.0.1), CGI_DIR (cgi-bin), ACCESS_LOG
#   (data/access.log in a checkout; elsewhere none unless set) and every MENZZO_* variable, which reach every CGI
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
if [ -n "${MENZZO_CACHE_DIR:-}" ]; then
	MENZZO_CACHE_DIR=$(abs "$MENZZO_CACHE_DIR")
	export MENZZO_CACHE_DIR
fi

# The MENZZO_* environment as lighttpd key => value pairs, one a line.
menzzo_env() {
	env | sed -n 's/^\(MENZZO_[A-Z0-9_]*\)=.*/\1/p' | sort | while read -r name; do
		eval "value=\${$name}"
		echo "  \"$name\" => $(quote "$value" "$name"),"
	done
}

cgi_dir=$(abs "${CGI_DIR:-cgi-bin}")

# The programs and their routes, as make wrote them beside the programs from
# lib/suppliers.def and lib/endpoints.def (tools/routes.awk): "program route
# ...", tab-separated.  A routed program that is not there stops lighttpd.
routes="$cgi_dir/routes"
if [ ! -r "$routes" ]; then
	echo "lighttpd-env.sh: no $routes: run make (it writes the routes beside the programs)" >&2
	exit 1
fi
programs=$(cut -f1 "$routes")
for program in $programs; do
	if [ ! -x "$cgi_dir/$program" ]; then
		echo "lighttpd-env.sh: $cgi_dir/$program is routed but not built: run make" >&2
		exit 1
	fi
done

# `lighttpd-env.sh endpoints`, inside the /api/ block: how the executables run.
#   MENZZO_MODE=fastcgi (the default): each one a persistent FastCGI responder
#     that lighttpd spawns and supervises (bin-path), FASTCGI_PROCS (2) of each,
#     their Unix sockets in FASTCGI_SOCKET_DIR (by default a directory of this
#     server's own, named by its address and port, under the store's
#     directory's parent: data/run/127.0.0.1-8080 for make run; lighttpd
#     connects to whatever listens on a socket it finds, so two servers must
#     never share one); the MENZZO_* environment is their process environment
#     (bin-environment), read once per process.
#   MENZZO_MODE=cgi: plain CGI, a process per request.
if [ "${1:-}" = endpoints ]; then
	case "${MENZZO_MODE:-fastcgi}" in
	cgi)
		echo "alias.url = ( \"/api/\" => $(quote "$cgi_dir/" CGI_DIR) )"
		echo 'cgi.assign = ( "" => "" )'
		;;
	fastcgi)
		procs=${FASTCGI_PROCS:-2}
		case "$procs" in ''|*[!0-9]*|0) echo "lighttpd-env.sh: FASTCGI_PROCS must be a number from 1" >&2; exit 1 ;; esac
		server=$(printf '%s-%s' "${HOST:-127.0.0.1}" "$port" | tr '/' '_')
		sockets=$(abs "${FASTCGI_SOCKET_DIR:-$(dirname "$MENZZO_DATA_DIR")/run/$server}")
		mkdir -p "$sockets" && chmod 0700 "$sockets"
		echo "fastcgi.server = ("
		# Every routed program; no alias: a path of the API without a responder is a 404, never a file.
		for program in $programs; do
			echo "  \"/api/$program\" => (( \"bin-path\" => $(quote "$cgi_dir/$program" CGI_DIR),"
			echo "    \"socket\" => $(quote "$sockets/$(echo "$program" | tr / _).sock" FASTCGI_SOCKET_DIR),"
			echo "    \"max-procs\" => $procs, \"check-local\" => \"disable\","
			echo "    \"bin-copy-environment\" => ( \"PATH\", \"TZ\", \"ASAN_OPTIONS\", \"UBSAN_OPTIONS\", \"LSAN_OPTIONS\" ),"
			echo "    \"bin-environment\" => ("
			menzzo_env | sed 's/^/    /'
			echo "    ) )),"
		done
		echo ")"
		;;
	*)
		echo "lighttpd-env.sh: MENZZO_MODE must be fastcgi (the default) or cgi" >&2
		exit 1
		;;
	esac
	exit 0
fi

echo "var.cgi_dir = $(quote "$cgi_dir" CGI_DIR)"
# The paths of the API: one alternative per routed program (route: a regular expression under /api/).
printf 'var.api = "^/api/(%s)$"\n' "$(cut -f2 "$routes" | paste -sd '|' -)"
# The access log: ACCESS_LOG; by default data/access.log where lighttpd starts in a checkout (make run);
# elsewhere (an installed tree has no data/) none unless ACCESS_LOG names one.
if [ -z "${ACCESS_LOG:-}" ] && [ -d "$root/data" ]; then
	ACCESS_LOG=data/access.log
fi
if [ -n "${ACCESS_LOG:-}" ]; then
	echo "accesslog.filename = $(quote "$(abs "$ACCESS_LOG")" ACCESS_LOG)"
fi
echo "server.port = $port"
echo "server.bind = $(quote "${HOST:-127.0.0.1}" HOST)"
echo "setenv.set-environment = ("
menzzo_env
echo ")"
