#!/bin/bash
# The bvse grid energies before and after a change, side by side in one process: the bvse.c of
# git revision BASE (default 29518de, before the vectorised kernel of issue #23) is compiled with
# its public names prefixed old_ and linked next to the library's own; for every OBELiX training
# CIF of LO to HI atoms (occupancy-weighted, default 80 to 120) both ms_bvse_compute run in turn on
# the same structure REPS times (best of, CPU time of the process), so both see the same load on
# this shared machine, and the results are compared bit for bit.
#
# usage: bvse_before_after.sh [BASE] [DATA_DIR] [REPS]    (LO, HI from the environment)
# make bench runs it with BUILD and MS_SHARED_DATA set. Skipped (one line) without ../shared/data,
# without git, or when BASE is not in this clone's history.
set -eu
base=${1:-29518de}
data=${2:-${MS_SHARED_DATA:-../shared/data}}
reps=${3:-3}
build=${BUILD:-build}
cifs="$data/labeled/obelix-train/cifs"
cd "$(dirname "$0")/../.."
if [ ! -d "$cifs" ]; then echo "bvse_before_after: skipped ($cifs absent)"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! git show "$base:src/features/bvse.c" >"$tmp/bvse_old.c" 2>/dev/null; then
    echo "bvse_before_after: skipped (revision $base not in this clone)"
    exit 0
fi
cat >"$tmp/main.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "matscreen/bvse.h"
#include "matscreen/reader.h"
ms_status old_ms_bvse_context_create(const ms_element_table *, ms_bvse_context **);
size_t old_ms_bvse_work_doubles(const ms_bvse_context *, const ms_structure *, const ms_bvse_options *);
ms_status old_ms_bvse_compute(const ms_bvse_context *, const ms_structure *, const ms_symmetry *,
                              const ms_bvse_options *, double *, size_t, ms_bvse_result *);
static ms_bvse_context *cnew, *cold;
static double sum_old, sum_new;
static int n_cells, n_diff, lo = 80, hi = 120, reps = 3;
static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static int one(const ms_structure *s, ms_status st, const char *m, void *u)
{
    (void)m, (void)u;
    double atoms = 0;
    if (st != MS_SUCCESS) return 0;
    for (size_t k = 0; k < s->n_species; k++) atoms += s->species[k].occu;
    if (atoms < lo || atoms > hi) return 0;
    ms_bvse_options o = ms_bvse_options_default();
    size_t n1 = ms_bvse_work_doubles(cnew, s, &o), n0 = old_ms_bvse_work_doubles(cold, s, &o);
    size_t need = n1 > n0 ? n1 : n0;
    double *w = need ? malloc(need * sizeof *w) : NULL, b0 = 1e9, b1 = 1e9;
    ms_bvse_result r0, r1;
    if (!w) return 0;
    for (int k = 0; k < reps; k++) {
        double t0 = cpu();
        old_ms_bvse_compute(cold, s, NULL, &o, w, need, &r0);
        double t1 = cpu();
        ms_bvse_compute(cnew, s, NULL, &o, w, need, &r1);
        double t2 = cpu();
        if (t1 - t0 < b0) b0 = t1 - t0;
        if (t2 - t1 < b1) b1 = t2 - t1;
    }
    free(w);
    if (r0.reason != MS_NAN_NONE) return 0;
    n_diff += memcmp(r0.barrier, r1.barrier, sizeof r0.barrier) != 0 || r0.e_min != r1.e_min ||
              r0.volume_fraction != r1.volume_fraction;
    n_cells++, sum_old += b0, sum_new += b1;
    return 0;
}
int main(int argc, char **argv)
{
    ms_element_table *t;
    if (getenv("LO")) lo = atoi(getenv("LO"));
    if (getenv("HI")) hi = atoi(getenv("HI"));
    if (getenv("REPS")) reps = atoi(getenv("REPS"));
    if (ms_element_table_load_default(&t) != MS_SUCCESS || ms_bvse_context_create(t, &cnew) ||
        old_ms_bvse_context_create(t, &cold)) {
        fprintf(stderr, "bvse_before_after: %s\n", ms_error_message());
        return 2;
    }
    for (int i = 1; i < argc; i++) ms_read_file(argv[i], MS_FORMAT_CIF, NULL, one, NULL);
    if (!n_cells) return 0;
    printf("bvse_before_after: %d OBELiX cells of %d-%d atoms with barriers, 0.2 A, CPU time "
           "(best of %d, before and after alternated): before %.1f ms, after %.1f ms each; "
           "before/after %.2f; %d with other barriers, E_min or volume fraction bits\n",
           n_cells, lo, hi, reps, 1e3 * sum_old / n_cells, 1e3 * sum_new / n_cells,
           sum_old / sum_new, n_diff);
    return 0;
}
EOF
cc_flags="-std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc/features $(pkg-config --cflags libcif)"
renames=""
for f in ms_bvse_options_default ms_bvse_context_create ms_bvse_context_free ms_bvse_work_doubles \
    ms_bvse_compute ms_descriptor_bvse; do renames="$renames -D$f=old_$f"; done
${CC:-mpicc} $cc_flags -fno-math-errno $renames -c "$tmp/bvse_old.c" -o "$tmp/old.o"
${CC:-mpicc} $cc_flags "$tmp/main.c" "$tmp/old.o" "$build/libmatscreen.a" \
    $(pkg-config --libs libcif spglib jansson libxml-2.0 sqlite3 scalapack-openmpi lapack openblas xgboost) \
    -lm -o "$tmp/before_after"
MATSCREEN_SHARE=${MATSCREEN_SHARE:-$PWD/share/matscreen} REPS=$reps "$tmp/before_after" "$cifs"/*.cif
