# Reads lib/suppliers.def and lib/endpoints.def (in that order) and prints
# one line per program to build, tab-separated:
#   program   its path under the programs' directory (health, asir-group/get-sales)
#   route     the URL path it answers under /api/, as a regular expression
#             (a {parameter} is one or more characters: files/.+)
#   id        the row's C name (get_sales)
#   supplier  its supplier's slug, or - for a global row
#   method    GET, POST or PUT
# The Makefile builds from it, writes it beside the programs as "routes"
# (tools/lighttpd-env.sh reads that), and fills the Apache samples with it.
# A row it cannot read stops it with a message (exit status 1).

function field(s) { gsub(/^[ \t"]+|[ \t"]+$/, "", s); return s }

FILENAME ~ /suppliers\.def$/ && /^SUPPLIER\(/ {
	split($0, f, "\"")
	if (f[2] !~ /^[a-z0-9]+(-[a-z0-9]+)*$/) {
		print FILENAME ": not a slug: " f[2] > "/dev/stderr"; bad = 1; exit 1
	}
	slugs[n++] = f[2]
	next
}

FILENAME ~ /endpoints\.def$/ && /^ENDPOINT\(/ {
	line = $0
	sub(/^ENDPOINT\(/, "", line)
	sub(/\)[ \t]*$/, "", line)
	if (split(line, f, ",") != 7) {
		print FILENAME ": a row needs 7 fields: " $0 > "/dev/stderr"; bad = 1; exit 1
	}
	id = field(f[1]); route = field(f[2]); method = field(f[3]); scope = field(f[4])
	program = route
	sub(/\/\{[a-z_]+\}$/, "", program)
	regex = route
	gsub(/\{[a-z_]+\}/, ".+", regex)
	if (id !~ /^[a-z_]+$/ || program !~ /^[a-z0-9-]+(\/[a-z0-9-]+)*$/ || (method != "GET" && method != "POST" && method != "PUT")) {
		print FILENAME ": cannot read the row: " $0 > "/dev/stderr"; bad = 1; exit 1
	}
	if (scope == "SCOPE_GLOBAL")
		printf "%s\t%s\t%s\t-\t%s\n", program, regex, id, method
	else if (scope == "SCOPE_SUPPLIER")
		for (i = 0; i < n; i++)
			printf "%s/%s\t%s/%s\t%s\t%s\t%s\n", slugs[i], program, slugs[i], regex, id, slugs[i], method
	else {
		print FILENAME ": unknown scope " scope > "/dev/stderr"; bad = 1; exit 1
	}
}

END { if (bad) exit 1 }
