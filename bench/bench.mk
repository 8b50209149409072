# make bench: performance as ratios to a trivial CGI, measured side by side in
# one run (bench/bench.py; results in bench/RESULTS.md).  Nothing here is a
# test: no figure is asserted, targets are reported as met or missed.
# make bench-profile: where the time goes (bench/breakdown.py; bench/PROFILE.md),
# on the stores of the last `make bench` and on link prototypes below.
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

# Link prototypes for `make bench-profile`: the same objects as the deployed
# executables (build/opt/libmenzzo.a, same flags), linked otherwise.  Measured
# side by side with the real ones; the project's own build is not touched.
BENCH_PROTO := $(BENCH_BUILD)/proto
BENCH_PROTO_EXES := $(foreach k,staticlibs static,$(foreach s,$(SUPPLIERS),\
                      $(foreach e,get-sales ship-sale,$(BENCH_PROTO)/$(k)/$(s)/$(e)))) \
                    $(foreach l,lmdb json-c sodium,$(BENCH_PROTO)/only-$(l)-static/notio/get-sales) \
                    $(BENCH_PROTO)/baseline-static/get-sales $(BENCH_PROTO)/jsonbench \
                    $(BENCH_PROTO)/shim_nosync.so $(BENCH_PROTO)/shim_smaps.so $(BENCH_PROTO)/shim_nordahead.so

define bench_proto
# staticlibs: json-c, LMDB and libsodium static, libc dynamic
$(BENCH_PROTO)/staticlibs/%/$(1): cgi-bin/$(1).c build/opt/libmenzzo.a $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) -DMENZZO_SUPPLIER='"$$*"' $$< build/opt/libmenzzo.a $$(LDFLAGS) \
	    -Wl,-Bstatic $$(LDLIBS) -Wl,-Bdynamic -o $$@
# static: everything, libc included
$(BENCH_PROTO)/static/%/$(1): cgi-bin/$(1).c build/opt/libmenzzo.a $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) -DMENZZO_SUPPLIER='"$$*"' $$< build/opt/libmenzzo.a $$(LDFLAGS) \
	    -static $$(LDLIBS) -o $$@
endef
$(foreach e,get-sales ship-sale,$(eval $(call bench_proto,$(e))))

# only-LIB-static: one of the three libraries static, the others dynamic (what each one's loading costs)
define bench_proto_one
$(BENCH_PROTO)/only-$(1)-static/%/get-sales: cgi-bin/get-sales.c build/opt/libmenzzo.a $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) -DMENZZO_SUPPLIER='"$$*"' $$< build/opt/libmenzzo.a $$(LDFLAGS) \
	    -Wl,-Bstatic -l$(1) -Wl,-Bdynamic $$(filter-out -l$(1),$$(LDLIBS)) -o $$@
endef
$(foreach l,lmdb json-c sodium,$(eval $(call bench_proto_one,$(l))))

# Page rendering three ways (bench/jsonbench.c), on the project's own sale_item_json.
$(BENCH_PROTO)/jsonbench: bench/jsonbench.c build/opt/libmenzzo.a $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $< build/opt/libmenzzo.a $(LDFLAGS) $(LDLIBS) -o $@
$(BENCH_PROTO)/baseline-static/get-sales: bench/baseline.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -static $< -o $@
# LD_PRELOAD shims, for measurement only (see their sources).
$(BENCH_PROTO)/%.so: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -shared -fPIC $< -o $@ -ldl

bench:
	@sh tools/install-deps.sh bench
	@$(MAKE) --no-print-directory all $(BENCH_TOOLS)
	@$(PYTHON) bench/bench.py

bench-profile:
	@sh tools/install-deps.sh bench
	@$(MAKE) --no-print-directory all $(BENCH_TOOLS) $(BENCH_PROTO_EXES)
	@$(PYTHON) bench/breakdown.py

bench-clean:
	rm -rf bench/work $(BENCH_BUILD)

.PHONY: bench bench-profile bench-clean
