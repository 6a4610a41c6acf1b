# matscreen: MPI high-throughput screening of inorganic crystals.
#
#   make deps        install the Debian packages matscreen needs (safe to run twice)
#   make             build libmatscreen.a and the matscreen binary
#   make quickstart  run the main job on the bundled examples
#   make check       run the unit and integration tests
#   make bench       print throughput figures
#   make install     install binary, headers, matscreen.pc, share data and man page
#
# User CFLAGS/LDFLAGS are kept; the project's flags are appended after them (as Redis does).

CC       ?= mpicc
ifeq ($(origin CC),default)
CC        = mpicc
endif
MPIEXEC  ?= mpiexec
PREFIX   ?= /usr/local
DESTDIR  ?=
PKG_CONFIG ?= pkg-config
VERSION  := 0.1.0

PKGS      := libcif spglib jansson libxml-2.0 sqlite3 scalapack-openmpi lapack openblas xgboost
# -Wno-format-truncation: messages and labels are cut on purpose with snprintf, the bounded API.
WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-format-truncation
OPT       ?= -O2 -g
ifeq ($(WERROR),1)
WARN     += -Werror
endif

MS_CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude \
              $(shell $(PKG_CONFIG) --cflags $(PKGS)) \
              -DMS_DATADIR='"$(PREFIX)/share/matscreen"' -DMS_VERSION='"$(VERSION)"'
MS_LDLIBS  := $(shell $(PKG_CONFIG) --libs $(PKGS)) -lm
FINAL_CFLAGS  = $(MS_CFLAGS) $(CFLAGS)
FINAL_LDFLAGS = $(LDFLAGS)

BUILD    ?= build
LIB_SRC  := $(sort $(wildcard src/core/*.c src/comm/*.c src/io/*.c src/quality/*.c src/features/*.c \
                              src/ml/*.c src/parallel/*.c src/workflow/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/*.c))
# Helpers shared by the unit runner, the benchmarks and the integration drivers (test data).
TEST_COMMON_SRC := $(sort $(wildcard tests/common/*.c))
BENCH_SRC:= $(sort $(wildcard tests/bench/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
TEST_COMMON_OBJ := $(TEST_COMMON_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libmatscreen.a
BIN      ?= matscreen
TEST_BIN := $(BUILD)/tests/unit/run_tests
BENCH_BIN:= $(BENCH_SRC:tests/bench/%.c=$(BUILD)/tests/bench/%)

all: $(BIN)

lib: $(LIB)

.PHONY: lib all deps quickstart check check-layers check-unit check-integration bench install uninstall clean

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CFLAGS) -MMD -MP -c $< -o $@

# The bvse grid loop (block_sum in bvse.c) vectorises only when sqrt need not set errno (it is
# never negative there); no value changes.
$(BUILD)/src/features/bvse.o: MS_CFLAGS += -fno-math-errno

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(FINAL_CFLAGS) $(FINAL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(MS_LDLIBS)

$(TEST_BIN): $(TEST_OBJ) $(TEST_COMMON_OBJ) $(LIB)
	$(CC) $(FINAL_CFLAGS) $(FINAL_LDFLAGS) -o $@ $(TEST_OBJ) $(TEST_COMMON_OBJ) $(LIB) $(MS_LDLIBS) \
	    $(shell $(PKG_CONFIG) --libs cunit)

$(BUILD)/tests/bench/%: tests/bench/%.c $(TEST_COMMON_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CFLAGS) $(FINAL_LDFLAGS) -o $@ $< $(TEST_COMMON_OBJ) $(LIB) $(MS_LDLIBS)

# Debian packages of DESIGN.md section 4. apt-get runs only when something is missing.
DEB_PACKAGES := build-essential pkg-config openmpi-bin libopenmpi-dev libscalapack-openmpi-dev \
                libopenblas-dev libsymspg-dev libxml2-dev libcunit1-dev libcif-dev libicu-dev \
                libjansson-dev libsqlite3-dev libxgboost-dev clang libclang-rt-14-dev llvm strace
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	else echo "all dependencies are installed"; fi

# The main job on the bundled data, under MPI with two ranks: train a classifier and a
# surrogate on OBELiX, screen the bundled candidates, suggest the next batch (examples/quickstart.sh).
quickstart: $(BIN)
	MATSCREEN=./$(BIN) MPIEXEC="$(MPIEXEC)" MATSCREEN_SHARE=$(CURDIR)/share/matscreen \
	    bash examples/quickstart.sh

check: check-layers check-unit check-integration

# The layering of docs/architecture.md: includes go downward, MPI only where that page allows.
check-layers:
	bash tests/check_layers.sh

# TEST_ENV: variables put before every test process (CI's sanitizer pass preloads
# tests/nodlclose.c with it; see .ci/run).
check-unit: $(TEST_BIN) $(BIN)
	$(TEST_ENV) MATSCREEN_SHARE=$(CURDIR)/share/matscreen MS_SHARED_DATA=$(CURDIR)/../shared/data \
	    MS_SHARED_REFERENCE=$(CURDIR)/../shared/reference $(TEST_BIN)

# Each script gets the binary, the build directory (some build small MPI drivers against the
# library) and the shared data; it prints "NAME: N passed, M failed" and exits non-zero on failure.
INTEGRATION_DRIVERS := $(BUILD)/tests/integration/gp_mpi

$(BUILD)/tests/integration/%: tests/integration/%.c $(TEST_COMMON_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CFLAGS) $(FINAL_LDFLAGS) -o $@ $< $(TEST_COMMON_OBJ) $(LIB) $(MS_LDLIBS)

# INTEGRATION_SKIP: script names (without .sh) not run in this pass, each said in one line (CI's
# sanitizer pass leaves out the slowest statistical scripts, which the plain pass runs).
check-integration: $(BIN) $(LIB) $(INTEGRATION_DRIVERS)
	@for t in tests/integration/*.sh; do \
	    n=$$(basename $$t .sh); \
	    case " $(INTEGRATION_SKIP) " in *" $$n "*) echo "$$n: skipped in this pass (INTEGRATION_SKIP)"; continue ;; esac; \
	    MPIEXEC="$(MPIEXEC)" MATSCREEN=$(abspath $(BIN)) BUILD=$(abspath $(BUILD)) \
	    MS_SHARED_DATA=$(CURDIR)/../shared/data OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
	    FAULTS_STRIDE="$(FAULTS_STRIDE)" $(TEST_ENV) bash $$t || exit 1; \
	done

bench: $(BIN) $(BENCH_BIN)
	@for b in $(BENCH_BIN); do OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MPIEXEC="$(MPIEXEC)" \
	    MATSCREEN_SHARE=$(CURDIR)/share/matscreen $$b $(CURDIR)/../shared/data || exit 1; done
	@for s in tests/bench/*.sh; do [ -f "$$s" ] || continue; OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
	    MPIEXEC="$(MPIEXEC)" BUILD=$(abspath $(BUILD)) MATSCREEN_SHARE=$(CURDIR)/share/matscreen \
	    MS_SHARED_DATA=$(CURDIR)/../shared/data bash $$s || exit 1; done

install: $(BIN) $(LIB)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include/matscreen $(DESTDIR)$(PREFIX)/share/matscreen \
	    $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/matscreen/*.h $(DESTDIR)$(PREFIX)/include/matscreen/
	cp -R share/matscreen/. $(DESTDIR)$(PREFIX)/share/matscreen/
	install -m 644 docs/matscreen.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@PKGS@|$(PKGS)|' \
	    matscreen.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/matscreen.pc

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/bin/$(BIN) $(DESTDIR)$(PREFIX)/lib/libmatscreen.a \
	    $(DESTDIR)$(PREFIX)/include/matscreen $(DESTDIR)$(PREFIX)/share/matscreen \
	    $(DESTDIR)$(PREFIX)/share/man/man1/matscreen.1 $(DESTDIR)$(PREFIX)/lib/pkgconfig/matscreen.pc

clean:
	rm -rf $(BUILD) $(BIN)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(TEST_COMMON_OBJ:.o=.d)

# Fuzz targets (make fuzz) live with their corpora in tests/fuzz; they need clang.
-include tests/fuzz/fuzz.mk
