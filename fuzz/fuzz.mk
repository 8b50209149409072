# libFuzzer targets, one per parser in lib/ (fuzz/fuzz_<name>.c), built with
# clang from the library's sources (not the gcc objects) into build/fuzz/.
#   make fuzz-build            build every target
#   make fuzz                  each target FUZZ_SECONDS (600) on fuzz/corpus-run/<name>
#   make fuzz-smoke            each target FUZZ_SMOKE_SECONDS (3) on its seeds, read-only
#   FUZZ_TARGETS="query auth"  only these
# Included by the top-level Makefile; see fuzz/README.md.

FUZZ_CC            ?= clang
FUZZ_FLAGS         := -std=c11 -D_DEFAULT_SOURCE -Ilib -g -O1 -fsanitize=fuzzer,address,undefined \
                      -fno-sanitize-recover=all
FUZZ_WARN          := -Wall -Wextra -Werror
FUZZ_LDLIBS        := -lfcgi -llmdb -ljson-c -lsodium
FUZZ_SECONDS       ?= 600
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_NAMES         := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_TARGETS       ?= $(FUZZ_NAMES)
FUZZ_LIB_OBJ       := $(patsubst lib/%.c,build/fuzz/lib/%.o,$(wildcard lib/*.c))
FUZZ_BINS          := $(addprefix build/fuzz/fuzz_,$(FUZZ_NAMES))

build/fuzz/lib/%.o: lib/%.c $(wildcard lib/*.h) lib/suppliers.def
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -c $< -o $@

build/fuzz/libmenzzo.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h build/fuzz/libmenzzo.a
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_WARN) $(FUZZ_EXTRA) $< build/fuzz/libmenzzo.a $(FUZZ_LDLIBS) $(FUZZ_EXTRA_LIBS) -o $@

# fuzz_webhook also reads webhook URLs with menzzo-admin's webhook_http.c (libcurl's parser).
build/fuzz/fuzz_webhook: tools/webhook_http.c tools/webhook_http.h
build/fuzz/fuzz_webhook: FUZZ_EXTRA = -Itools tools/webhook_http.c
build/fuzz/fuzz_webhook: FUZZ_EXTRA_LIBS = -lcurl

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@sh fuzz/run.sh run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@sh fuzz/run.sh smoke $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

.PHONY: fuzz fuzz-build fuzz-smoke
