# Fuzz targets (libFuzzer), included by the top-level Makefile.
#
#   make fuzz                       build every target into $(FUZZ_BUILD)/ with clang
#   make fuzz-run FUZZ_SECONDS=60   run each target for FUZZ_SECONDS (tests/fuzz/run.sh)
#   make fuzz-clean                 remove $(FUZZ_BUILD)/
#
# The main build uses mpicc/gcc; libFuzzer needs clang, so the library modules the readers need
# (src/core, src/io: no MPI) are compiled again here with clang, coverage instrumentation and
# AddressSanitizer + UndefinedBehaviorSanitizer into a separate build directory.
# The loader targets (workflow, model, journal) need the rest of the library too (src/workflow,
# src/ml, src/parallel and what they call: src/features, src/quality), whose headers include
# <mpi.h>: those objects get the include flags of `mpicc --showme:compile` and the targets link
# with `mpicc --showme:link` and every package of the main build. Nothing calls MPI_Init: the
# loaders are Not collective.
# Debian packages: clang, libclang-rt-14-dev (libFuzzer and the sanitizer runtimes; only
# recommended by clang, so --no-install-recommends needs it named), llvm (llvm-symbolizer, for
# readable stack traces).

FUZZ_CC      ?= clang
FUZZ_BUILD   ?= tests/fuzz/build
FUZZ_SECONDS ?= 60
FUZZ_READER_TARGETS := cif json jsonl poscar formula source
FUZZ_LOADER_TARGETS := workflow model journal
FUZZ_TARGETS := $(FUZZ_READER_TARGETS) $(FUZZ_LOADER_TARGETS)
FUZZ_PKGS    := libcif spglib jansson libxml-2.0
FUZZ_FULL_PKGS := $(FUZZ_PKGS) sqlite3 scalapack-openmpi lapack openblas xgboost
FUZZ_MPICC   ?= mpicc
FUZZ_MPI_CFLAGS := $(shell $(FUZZ_MPICC) --showme:compile 2>/dev/null)
FUZZ_MPI_LIBS   := $(shell $(FUZZ_MPICC) --showme:link 2>/dev/null)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Iinclude \
                $(shell $(PKG_CONFIG) --cflags $(FUZZ_FULL_PKGS)) $(FUZZ_MPI_CFLAGS) \
                -DMS_DATADIR='"$(PREFIX)/share/matscreen"' -DMS_VERSION='"$(VERSION)"' \
                -DFUZZ_SHARE_DIR='"$(CURDIR)/share/matscreen"'
FUZZ_LDLIBS  := $(shell $(PKG_CONFIG) --libs $(FUZZ_PKGS)) -lm
FUZZ_LIB_SRC := $(sort $(wildcard src/core/*.c src/io/*.c))
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_LIB     := $(FUZZ_BUILD)/libmatscreen-fuzz.a
FUZZ_FULL_SRC := $(sort $(wildcard src/comm/*.c src/quality/*.c src/features/*.c src/ml/*.c src/parallel/*.c \
                                   src/workflow/*.c))
FUZZ_FULL_OBJ := $(FUZZ_FULL_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_FULL_LIB := $(FUZZ_BUILD)/libmatscreen-fuzz-full.a
FUZZ_FULL_LDLIBS := $(shell $(PKG_CONFIG) --libs $(FUZZ_FULL_PKGS)) $(FUZZ_MPI_LIBS) -lm
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_LOADER_BINS := $(FUZZ_LOADER_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-run fuzz-clean

fuzz: $(FUZZ_BINS)

# Library objects: instrumented for coverage (fuzzer-no-link) and sanitized.
$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_FULL_LIB): $(FUZZ_FULL_OBJ)
	rm -f $@
	ar rcs $@ $^

# The loader targets (static pattern: chosen over the reader targets' rule below).
$(FUZZ_LOADER_BINS): $(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h \
                     tests/fuzz/fuzz_loaders.h $(FUZZ_FULL_LIB) $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_FULL_LIB) $(FUZZ_LIB) \
	    $(FUZZ_FULL_LDLIBS)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(FUZZ_LDLIBS)

fuzz-run: fuzz
	FUZZ_BUILD=$(FUZZ_BUILD) bash tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_FULL_OBJ:.o=.d)
