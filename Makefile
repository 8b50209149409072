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

# The programs come from the two tables (lib/suppliers.def, lib/endpoints.def),
# read by tools/routes.awk: one line per program, "program route id supplier
# method" (see that file).  Each is cgi-bin/main.c built for its row.
TABLES    := lib/suppliers.def lib/endpoints.def
ROUTE_ROWS := $(shell awk -f tools/routes.awk $(TABLES) | awk -F'\t' '{ print $$1 "|" $$3 "|" $$4 }')
ifeq ($(ROUTE_ROWS),)
$(error tools/routes.awk could not read $(TABLES))
endif
PROGRAMS  := $(foreach r,$(ROUTE_ROWS),$(firstword $(subst |, ,$(r))))
define program_row
ENDPOINT_ID.$(word 1,$(1)) := $(word 2,$(1))
ENDPOINT_SUPPLIER.$(word 1,$(1)) := $(if $(filter -,$(word 3,$(1))),NULL,"$(word 3,$(1))")
endef
$(foreach r,$(ROUTE_ROWS),$(eval $(call program_row,$(subst |, ,$(r)))))
SUPPLIERS := $(shell awk -F'"' '/^SUPPLIER/ { print $$2 }' lib/suppliers.def)
LIB_SRC   := $(wildcard lib/*.c)
LIB_HDR   := $(wildcard lib/*.h lib/*.def) Makefile
ADMIN_SRC := $(wildcard tools/*.c)
EXES       = $(addprefix cgi-bin/,$(PROGRAMS)) cgi-bin/routes bin/menzzo-admin
# The Apache samples, made from docs/apache/*.in with the paths of the route table.
APACHE_SAMPLES := $(patsubst docs/apache/%.in,build/apache/%,$(wildcard docs/apache/*.in))

all: $(EXES) $(APACHE_SAMPLES)

build/apache/%: docs/apache/%.in cgi-bin/routes
	@mkdir -p $(@D)
	$(call say,GEN,$@)sed "s#@API_ROUTES@#$$(cut -f2 cgi-bin/routes | paste -sd '|' -)#" $< > $@.tmp && mv $@.tmp $@

# $(call variant,OBJDIR,EXEPREFIX,FLAGS,LINKFLAGS,ADMINLIBS): the library and executables of one build;
# ADMINLIBS links menzzo-admin (libcurl too, for its webhooks).
define variant
$(1)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(call say,CC,$$@)$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) $(3) -c $$< -o $$@
$(1)/libmenzzo.a: $(patsubst lib/%.c,$(1)/lib/%.o,$(LIB_SRC))
	$$(call say,AR,$$@)rm -f $$@ && ar rcs $$@ $$^
$(addprefix $(2)cgi-bin/,$(PROGRAMS)): $(2)cgi-bin/%: cgi-bin/main.c $(1)/libmenzzo.a $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(call say,LD,$$@)$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) $(3) -DMENZZO_ENDPOINT=ENDPOINT_$$(ENDPOINT_ID.$$*) \
	    '-DMENZZO_SUPPLIER=$$(ENDPOINT_SUPPLIER.$$*)' $$< $(1)/libmenzzo.a $(4) $$(LDFLAGS) $$(LDLIBS) -o $$@
# The routes file beside the programs: what tools/lighttpd-env.sh maps.
$(2)cgi-bin/routes: $(TABLES) tools/routes.awk
	@mkdir -p $$(@D)
	$$(call say,GEN,$$@)awk -f tools/routes.awk $(TABLES) > $$@.tmp && mv $$@.tmp $$@
$(2)bin/menzzo-admin: $(ADMIN_SRC) $(wildcard tools/*.h) $(1)/libmenzzo.a $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(call say,LD,$$@)$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) $(3) $(ADMIN_SRC) $(1)/libmenzzo.a $$(LDFLAGS) $(5) -o $$@
endef

# Deployed executables are linked statically: no dynamic loader, no relocations
# at start-up, nothing to install beside them (bench/PROFILE.md has the figures).
STATIC ?= -static -Wl,--wrap=gethostbyname,-u,__wrap_gethostbyname
# menzzo-admin sends webhooks with libcurl, whose TLS stack (and the CA
# certificates it trusts) is the host's: libcurl and the C library are
# linked dynamically, the others as into the programs (unless STATIC=).
ADMIN_LDLIBS = $(if $(STATIC),-Xlinker -Bstatic $(filter-out -pthread,$(LDLIBS)) -Xlinker -Bdynamic,$(LDLIBS)) -lcurl -pthread
$(eval $(call variant,build/opt,,,$(STATIC),$(ADMIN_LDLIBS)))
# The builds make test runs have the test hooks (MENZZO_TEST_CLOCK: lib/ratelimit.c).
$(eval $(call variant,build/asan,build/asan/,$(SANITIZE) -DMENZZO_TEST_HOOKS,,$(LDLIBS) -lcurl))
# For valgrind, which cannot follow malloc into a static binary.
$(eval $(call variant,build/vg,build/vg/,-O1 -DMENZZO_TEST_HOOKS,,$(LDLIBS) -lcurl))

ASAN_EXES := $(addprefix build/asan/,$(EXES))
UNIT_TESTS := $(patsubst tests/unit/%.c,build/asan/tests/%,$(wildcard tests/unit/*.c)) \
              $(patsubst tests/helpers/%.c,build/asan/helpers/%,$(wildcard tests/helpers/*.c))

build/asan/helpers/%: tests/helpers/%.c build/asan/libmenzzo.a
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANITIZE) -DMENZZO_TEST_HOOKS $< build/asan/libmenzzo.a $(LDFLAGS) $(LDLIBS) -o $@

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

# fuzz/fuzz.mk: make fuzz; bench/bench.mk: make bench; docs/docs.mk: make docs.
-include fuzz/fuzz.mk bench/bench.mk docs/docs.mk

# make install / make uninstall (PROGRAMS come from the route table).
#
#   make install PREFIX=/usr/local DESTDIR=
#
#   $(PREFIX)/lib/menzzo/cgi-bin/   a program per route (files, health, <supplier>/get-sales, ...)
#                                   and the routes file that lighttpd-env.sh reads
#   $(PREFIX)/bin/menzzo-admin
#   $(PREFIX)/share/man/man1/menzzo-admin.1
#   $(PREFIX)/share/menzzo/         lighttpd.conf, tools/lighttpd-env.sh, www/errors/ (the JSON
#                                   bodies of lighttpd's own errors), docs/api.html (/api/docs),
#                                   apache/ samples
#
# lighttpd.conf runs tools/lighttpd-env.sh and finds www/errors/ and
# docs/api.html relative to the directory lighttpd starts in, so they keep
# their relative places under share/menzzo/.  The executables are installed
# stripped (INSTALL_STRIP= keeps their symbols).

DESTDIR    ?=
INSTALL    ?= install
INSTALL_STRIP ?= -s
BINDIR      = $(PREFIX)/bin
CGIDIR      = $(PREFIX)/lib/menzzo/cgi-bin
MAN1DIR     = $(PREFIX)/share/man/man1
SHAREDIR    = $(PREFIX)/share/menzzo
ERROR_PAGES    := $(wildcard www/errors/status-*.html)

PROGRAM_DIRS = $(sort $(filter-out .,$(patsubst %/,%,$(dir $(PROGRAMS)))))

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(CGIDIR) \
	    $(DESTDIR)$(SHAREDIR)/tools $(DESTDIR)$(SHAREDIR)/apache \
	    $(DESTDIR)$(SHAREDIR)/www/errors $(DESTDIR)$(SHAREDIR)/docs \
	    $(addprefix $(DESTDIR)$(CGIDIR)/,$(PROGRAM_DIRS))
	$(foreach p,$(PROGRAMS),$(INSTALL) $(INSTALL_STRIP) -m 0755 cgi-bin/$(p) $(DESTDIR)$(CGIDIR)/$(p) && ) true
	$(INSTALL) -m 0644 cgi-bin/routes $(DESTDIR)$(CGIDIR)/
	$(INSTALL) $(INSTALL_STRIP) -m 0755 bin/menzzo-admin $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 docs/menzzo-admin.1 $(DESTDIR)$(MAN1DIR)/
	$(INSTALL) -m 0644 lighttpd.conf $(DESTDIR)$(SHAREDIR)/
	$(INSTALL) -m 0755 tools/lighttpd-env.sh $(DESTDIR)$(SHAREDIR)/tools/
	$(INSTALL) -m 0644 $(ERROR_PAGES) $(DESTDIR)$(SHAREDIR)/www/errors/
	$(INSTALL) -m 0644 docs/api.html $(DESTDIR)$(SHAREDIR)/docs/
	$(INSTALL) -m 0644 $(APACHE_SAMPLES) $(DESTDIR)$(SHAREDIR)/apache/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(CGIDIR)/,$(PROGRAMS) routes) \
	    $(DESTDIR)$(BINDIR)/menzzo-admin $(DESTDIR)$(MAN1DIR)/menzzo-admin.1 \
	    $(DESTDIR)$(SHAREDIR)/lighttpd.conf $(DESTDIR)$(SHAREDIR)/tools/lighttpd-env.sh \
	    $(addprefix $(DESTDIR)$(SHAREDIR)/apache/,$(notdir $(APACHE_SAMPLES))) \
	    $(addprefix $(DESTDIR)$(SHAREDIR)/www/errors/,$(notdir $(ERROR_PAGES))) \
	    $(DESTDIR)$(SHAREDIR)/docs/api.html
	-rmdir $(addprefix $(DESTDIR)$(CGIDIR)/,$(PROGRAM_DIRS)) $(DESTDIR)$(CGIDIR) \
	    $(DESTDIR)$(PREFIX)/lib/menzzo $(DESTDIR)$(SHAREDIR)/tools $(DESTDIR)$(SHAREDIR)/apache \
	    $(DESTDIR)$(SHAREDIR)/www/errors $(DESTDIR)$(SHAREDIR)/www $(DESTDIR)$(SHAREDIR)/docs \
	    $(DESTDIR)$(SHAREDIR) 2>/dev/null

.PHONY: install uninstall

# The CGI-direct tests again, on the optimised build under valgrind memcheck.
valgrind:
	@sh tools/install-deps.sh test
	@$(MAKE) --no-print-directory $(addprefix build/vg/,$(EXES)) $(filter build/asan/helpers/%,$(UNIT_TESTS))
	MENZZO_VALGRIND=1 $(PYTHON) tests/run.py test_foundation.test_health test_foundation.test_auth \
	    test_foundation.test_get_sales test_foundation.test_import test_foundation.test_store \
	    test_get_sales test_actions test_crash.test_security test_refusals test_packages test_batches test_upgrade

clean:
	rm -rf build bin $(foreach s,$(SUPPLIERS),cgi-bin/$(s)) $(addprefix cgi-bin/,$(PROGRAMS)) cgi-bin/routes

.PHONY: all deps run test valgrind clean

TIDY_CHECKS := -*,clang-analyzer-*,bugprone-*,cert-err34-c,-bugprone-easily-swappable-parameters,\
-bugprone-reserved-identifier,-bugprone-narrowing-conversions,-bugprone-assignment-in-if-condition,\
-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-clang-analyzer-valist.Uninitialized

# Static analysis: cppcheck, then clang-tidy (a file a process, as many at once as there are processors);
# any finding fails.
NPROC := $(shell nproc 2>/dev/null || echo 1)
lint:
	cppcheck -j $(NPROC) --enable=warning,portability,performance --std=c11 --quiet --error-exitcode=1 \
	    -D_DEFAULT_SOURCE -DMENZZO_ENDPOINT=ENDPOINT_get_sales -DMENZZO_SUPPLIER='"asir-group"' \
	    -Ilib lib cgi-bin tools tests/unit tests/helpers
	@out=$$(ls lib/*.c cgi-bin/*.c tools/*.c | xargs -P $(NPROC) -I '{}' clang-tidy --quiet -checks='$(TIDY_CHECKS)' \
	    '{}' -- $(CPPFLAGS) -std=c11 -DMENZZO_ENDPOINT=ENDPOINT_get_sales -DMENZZO_SUPPLIER='"asir-group"' 2>&1) \
	    || { printf '%s\n' "$$out"; exit 1; }; \
	if printf '%s\n' "$$out" | grep -E 'warning:|error:'; then exit 1; fi; echo "clang-tidy: clean"

.PHONY: lint
