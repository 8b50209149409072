#!/bin/sh
# Runs libFuzzer targets built by `make fuzz-build` one after the other and
# prints, per target, its executions and whether it crashed.
# usage: fuzz/run.sh run|smoke SECONDS NAME...
#   run    fuzz on fuzz/corpus-run/<name> (the seeds copied in; what earlier runs
#          found is kept); crashing inputs go to fuzz/corpus-run/crashes/
#   smoke  the seed corpus read-only, new inputs to a temporary directory
# Exit status 1 when any target crashed or failed to run.
set -u
cd "$(dirname "$0")/.." || exit 2

mode=$1 seconds=$2
shift 2
case $mode in run|smoke) ;; *) echo "usage: $0 run|smoke SECONDS NAME..." >&2; exit 2 ;; esac

logs=build/fuzz/logs
mkdir -p "$logs"
if [ "$mode" = run ]; then
	crashes=fuzz/corpus-run/crashes
else
	crashes=build/fuzz/smoke-crashes
fi
mkdir -p "$crashes"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=0
printf '%-18s %12s %10s  %s\n' target execs execs/s result
for name in "$@"; do
	bin=build/fuzz/fuzz_$name
	log=$logs/$name.log
	if [ "$mode" = run ]; then
		mkdir -p "fuzz/corpus-run/$name"
		cp -p fuzz/corpus/"$name"/* "fuzz/corpus-run/$name/" 2>/dev/null
		dirs="fuzz/corpus-run/$name"
	else
		mkdir -p "$tmp/$name"
		dirs="$tmp/$name fuzz/corpus/$name"
	fi
	set --
	[ -f "fuzz/dict/$name.dict" ] && set -- "-dict=fuzz/dict/$name.dict"
	# A get-sales query may be longer than QUERY_MAX (4096): let inputs cross it.
	[ "$name" = query ] && set -- "$@" -max_len=4608
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$seconds" -timeout=20 -print_final_stats=1 \
	    -artifact_prefix="$crashes/$name-" "$@" $dirs >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	if [ $rc -eq 0 ]; then
		result=ok
	else
		failed=1
		artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		result="CRASH (exit $rc) ${artifact:-no input written}, log $log"
	fi
	printf '%-18s %12s %10s  %s\n' "fuzz_$name" "${execs:-?}" "${rate:-?}" "$result"
	if [ $rc -ne 0 ]; then
		grep -E 'ERROR: |SUMMARY: |runtime error:|invariant failed:|round trip' "$log" | head -n 5 | sed 's/^/    /'
	fi
done
exit $failed
