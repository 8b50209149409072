# make bench: performance as ratios to a trivial CGI, measured side by side in
# one run (bench/bench.py; results in bench/RESULTS.md).  Nothing here is a
# test: no figure is asserted, targets are reported as met or missed.
# make bench-clean removes the generated stores (bench/work/) and build/bench/.
# Settings: BENCH_N, BENCH_WRK_DURATION, BENCH_WRK_ROUNDS, ... (see bench/bench.py).

BENCH_BUILD  := build/bench
BENCH_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE
BENCH_TOOLS  := $(BENCH_BUILD)/baseline $(BENCH_BUILD)/gen $(BENCH_BUILD)/spawn

# The baseline is built like the endpoints: same compiler, -O2, and the same
# link ($(STATIC), static by default), so it is the limit any CGI reaches here.
$(BENCH_BUILD)/baseline: bench/baseline.c Makefile
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $< $(STATIC) -o $@
$(BENCH_BUILD)/gen: bench/gen.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $< -o $@
# Static, so that its image (the floor of the peak RSS wait4 reports for a child) is small.
$(BENCH_BUILD)/spawn: bench/spawn.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -static $< -o $@

bench:
	@sh tools/install-deps.sh bench
	@$(MAKE) --no-print-directory all $(BENCH_TOOLS)
	@$(PYTHON) bench/bench.py

bench-clean:
	rm -rf bench/work $(BENCH_BUILD)

.PHONY: bench bench-clean
