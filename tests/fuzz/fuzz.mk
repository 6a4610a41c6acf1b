# Fuzz targets (libFuzzer), included by the top-level Makefile.
#
#   make fuzz                       build every target into $(FUZZ_BUILD)/ with clang
#   make fuzz-run FUZZ_SECONDS=60   run each target for FUZZ_SECONDS (tests/fuzz/run.sh)
#   make fuzz-clean                 remove $(FUZZ_BUILD)/
#
# The main build uses mpicc/gcc; libFuzzer needs clang, so the library modules the readers need
# (src/core, src/io: no MPI) are compiled again here with clang, coverage instrumentation and
# AddressSanitizer + UndefinedBehaviorSanitizer into a separate build directory.
# Debian packages: clang, libclang-rt-14-dev (libFuzzer and the sanitizer runtimes; only
# recommended by clang, so --no-install-recommends needs it named), llvm (llvm-symbolizer, for
# readable stack traces).

FUZZ_CC      ?= clang
FUZZ_BUILD   ?= tests/fuzz/build
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := cif json jsonl poscar formula
FUZZ_PKGS    := libcif spglib jansson libxml-2.0
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Iinclude \
                $(shell $(PKG_CONFIG) --cflags $(FUZZ_PKGS)) \
                -DMS_DATADIR='"$(PREFIX)/share/matscreen"' -DMS_VERSION='"$(VERSION)"' \
                -DFUZZ_SHARE_DIR='"$(CURDIR)/share/matscreen"'
FUZZ_LDLIBS  := $(shell $(PKG_CONFIG) --libs $(FUZZ_PKGS)) -lm
FUZZ_LIB_SRC := $(sort $(wildcard src/core/*.c src/io/*.c))
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_LIB     := $(FUZZ_BUILD)/libmatscreen-fuzz.a
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-run fuzz-clean

fuzz: $(FUZZ_BINS)

# Library objects: instrumented for coverage (fuzzer-no-link) and sanitized.
$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(FUZZ_LDLIBS)

fuzz-run: fuzz
	FUZZ_BUILD=$(FUZZ_BUILD) bash tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

-include $(FUZZ_LIB_OBJ:.o=.d)
