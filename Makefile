# Menzzo Supplier API.  `make` builds; `make run` serves the demo; `make test` runs every test.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wvla -Wno-format-nonliteral
CPPFLAGS += -D_DEFAULT_SOURCE -Ilib
LDLIBS   := -lfcgi -llmdb -ljson-c -lsodium -pthread
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g

PREFIX   ?= /usr/local
PYTHON   ?= /usr/bin/python3

# Quiet build: one short line per step (CC, AR, LD) unless V=1 shows the
# commands; make -s prints neither.
V ?= 0
ifeq ($(V),1)
say =
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
say = @
else
say = @printf '  %-3s %s\n' '$(1)' '$(2)';
endif

SUPPLIERS := $(shell awk -F'"' '/^SUPPLIER/ { print $$2 }' lib/suppliers.def)
ENDPOINTS := get-sales acknowledge-sale ship-sale
LIB_SRC   := $(wildcard lib/*.c)
LIB_HDR   := $(wildcard lib/*.h) lib/suppliers.def Makefile
ADMIN_SRC := $(wildcard tools/*.c)
EXES       = $(foreach s,$(SUPPLIERS),$(foreach e,$(ENDPOINTS),cgi-bin/$(s)/$(e))) \
             cgi-bin/files cgi-bin/health bin/menzzo-admin

all: $(EXES)

# $(call variant,OBJDIR,EXEPREFIX,FLAGS,LINKFLAGS): the library and executables of one build.
define variant
$(1)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(call say,CC,$$@)$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) $(3) -c $$< -o $$@
$(1)/libmenzzo.a: $(patsubst lib/%.c,$(1)/lib/%.o,$(LIB_SRC))
	$$(call say,AR,$$@)rm -f $$@ && ar rcs $$@ $$^
$(foreach e,$(ENDPOINTS),
$(2)cgi-bin/%/$(e): cgi-bin/$(e).c $(1)/libmenzzo.a $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(call say,LD,$$@)$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) $(3) -DMENZZO_SUPPLIER='"$$*"' $$< $(1)/libmenzzo.a $(4) $$(LDFLAGS) $$(LDLIBS) -o $$@
)
$(2)cgi-bin/files $(2)cgi-bin/health: $(2)cgi-bin/%: cgi-bin/%.c $(1)/libmenzzo.a $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(call say,LD,$$@)$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) $(3) $$< $(1)/libmenzzo.a $(4) $$(LDFLAGS) $$(LDLIBS) -o $$@
$(2)bin/menzzo-admin: $(ADMIN_SRC) $(wildcard tools/*.h) $(1)/libmenzzo.a $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(call say,LD,$$@)$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) $(3) $(ADMIN_SRC) $(1)/libmenzzo.a $(4) $$(LDFLAGS) $$(LDLIBS) -o $$@
endef

# Deployed executables are linked statically: no dynamic loader, no relocations
# at start-up, nothing to install beside them (bench/PROFILE.md has the figures).
STATIC ?= -static
$(eval $(call variant,build/opt,,,$(STATIC)))
$(eval $(call variant,build/asan,build/asan/,$(SANITIZE),))
# For valgrind, which cannot follow malloc into a static binary.
$(eval $(call variant,build/vg,build/vg/,-O1,))

ASAN_EXES := $(addprefix build/asan/,$(EXES))
UNIT_TESTS := $(patsubst tests/unit/%.c,build/asan/tests/%,$(wildcard tests/unit/*.c)) \
              $(patsubst tests/helpers/%.c,build/asan/helpers/%,$(wildcard tests/helpers/*.c))

build/asan/helpers/%: tests/helpers/%.c build/asan/libmenzzo.a
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANITIZE) $< build/asan/libmenzzo.a $(LDFLAGS) $(LDLIBS) -o $@

# paused_open stops inside LMDB's exclusive open: LMDB's static library, its open() wrapped.
build/asan/helpers/paused_open: LDFLAGS += -Wl,--wrap=open $(shell $(CC) -print-file-name=liblmdb.a)

# test_faults injects LMDB failures under the library.
build/asan/tests/test_faults: LDFLAGS += -Wl,--wrap=mdb_get,--wrap=mdb_put

build/asan/tests/%: tests/unit/%.c tests/unit/unit.h build/asan/libmenzzo.a
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANITIZE) $< build/asan/libmenzzo.a $(LDFLAGS) $(LDLIBS) -o $@

deps:
	@sh tools/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@sh tools/run.sh

test:
	@sh tools/install-deps.sh test
	@$(MAKE) --no-print-directory all $(ASAN_EXES) $(UNIT_TESTS)
	@$(PYTHON) tests/run.py

# fuzz/fuzz.mk: make fuzz; bench/bench.mk: make bench; docs/install.mk: make install; docs/docs.mk: make docs.
-include fuzz/fuzz.mk bench/bench.mk docs/install.mk docs/docs.mk

# The CGI-direct tests again, on the optimised build under valgrind memcheck.
valgrind:
	@sh tools/install-deps.sh test
	@$(MAKE) --no-print-directory $(addprefix build/vg/,$(EXES)) $(filter build/asan/helpers/%,$(UNIT_TESTS))
	MENZZO_VALGRIND=1 $(PYTHON) tests/run.py test_foundation.test_health test_foundation.test_auth \
	    test_foundation.test_get_sales test_foundation.test_import test_foundation.test_store \
	    test_get_sales test_actions test_crash.test_security test_refusals test_packages test_batches test_upgrade

clean:
	rm -rf build bin $(foreach s,$(SUPPLIERS),cgi-bin/$(s)) cgi-bin/files cgi-bin/health

.PHONY: all deps run test valgrind clean

TIDY_CHECKS := -*,clang-analyzer-*,bugprone-*,cert-err34-c,-bugprone-easily-swappable-parameters,\
-bugprone-reserved-identifier,-bugprone-narrowing-conversions,-bugprone-assignment-in-if-condition,\
-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-clang-analyzer-valist.Uninitialized

# Static analysis: cppcheck, then clang-tidy; any finding fails.
lint:
	cppcheck --enable=warning,portability,performance --std=c11 --quiet --error-exitcode=1 \
	    -D_DEFAULT_SOURCE -Ilib lib cgi-bin tools tests/unit tests/helpers
	@out=$$(clang-tidy --quiet -checks='$(TIDY_CHECKS)' lib/*.c cgi-bin/*.c tools/*.c -- \
	    $(CPPFLAGS) -std=c11 -DMENZZO_SUPPLIER='"asir-group"' 2>&1); \
	if printf '%s\n' "$$out" | grep -E 'warning:|error:'; then exit 1; fi; echo "clang-tidy: clean"

.PHONY: lint
