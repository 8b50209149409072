# Menzzo Supplier API.  `make` builds; `make run` serves the demo; `make test` runs every test.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wvla -Wno-format-nonliteral
CPPFLAGS += -D_DEFAULT_SOURCE -Ilib
LDLIBS   := -llmdb -ljson-c -lsodium
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g

PREFIX   ?= /usr/local
PYTHON   ?= /usr/bin/python3

SUPPLIERS := $(shell awk -F'"' '/^SUPPLIER/ { print $$2 }' lib/suppliers.def)
ENDPOINTS := get-sales acknowledge-sale ship-sale
LIB_SRC   := $(wildcard lib/*.c)
LIB_HDR   := $(wildcard lib/*.h) lib/suppliers.def
ADMIN_SRC := $(wildcard tools/*.c)
EXES       = $(foreach s,$(SUPPLIERS),$(foreach e,$(ENDPOINTS),cgi-bin/$(s)/$(e))) \
             cgi-bin/files cgi-bin/health bin/menzzo-admin

all: $(EXES)

# $(call variant,OBJDIR,EXEPREFIX,FLAGS): the library, executables and test binaries of one build.
define variant
$(1)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) $(3) -c $$< -o $$@
$(1)/libmenzzo.a: $(patsubst lib/%.c,$(1)/lib/%.o,$(LIB_SRC))
	rm -f $$@ && ar rcs $$@ $$^
$(foreach e,$(ENDPOINTS),
$(2)cgi-bin/%/$(e): cgi-bin/$(e).c $(1)/libmenzzo.a $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) $(3) -DMENZZO_SUPPLIER='"$$*"' $$< $(1)/libmenzzo.a $$(LDFLAGS) $$(LDLIBS) -o $$@
)
$(2)cgi-bin/files $(2)cgi-bin/health: $(2)cgi-bin/%: cgi-bin/%.c $(1)/libmenzzo.a $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) $(3) $$< $(1)/libmenzzo.a $$(LDFLAGS) $$(LDLIBS) -o $$@
$(2)bin/menzzo-admin: $(ADMIN_SRC) tools/admin.h $(1)/libmenzzo.a $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(WARN) $$(CFLAGS) $(3) $(ADMIN_SRC) $(1)/libmenzzo.a $$(LDFLAGS) $$(LDLIBS) -o $$@
endef

$(eval $(call variant,build/opt,,))
$(eval $(call variant,build/asan,build/asan/,$(SANITIZE)))

ASAN_EXES := $(addprefix build/asan/,$(EXES))
UNIT_TESTS := $(patsubst tests/unit/%.c,build/asan/tests/%,$(wildcard tests/unit/*.c)) \
              $(patsubst tests/helpers/%.c,build/asan/helpers/%,$(wildcard tests/helpers/*.c))

build/asan/helpers/%: tests/helpers/%.c build/asan/libmenzzo.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANITIZE) $< build/asan/libmenzzo.a $(LDFLAGS) $(LDLIBS) -o $@

build/asan/tests/%: tests/unit/%.c tests/unit/unit.h build/asan/libmenzzo.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(SANITIZE) $< build/asan/libmenzzo.a $(LDFLAGS) $(LDLIBS) -o $@

deps:
	@sh tools/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@sh tools/run.sh

test:
	@sh tools/install-deps.sh test
	@$(MAKE) --no-print-directory all $(ASAN_EXES) $(UNIT_TESTS)
	@$(PYTHON) tests/run.py

# fuzz/fuzz.mk: make fuzz; bench/bench.mk: make bench; docs/install.mk: make install.
-include fuzz/fuzz.mk bench/bench.mk docs/install.mk

clean:
	rm -rf build bin $(foreach s,$(SUPPLIERS),cgi-bin/$(s)) cgi-bin/files cgi-bin/health

.PHONY: all deps run test clean
