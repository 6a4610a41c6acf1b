#!/bin/bash
# Forest training time on 2 ranks (tests/bench/bench_forest.c; the 1-rank figure comes from make
# bench running the binary directly). make bench runs it with BUILD and MS_SHARED_DATA set.
set -eu
bin=${1:-${BUILD:-build}/tests/bench/bench_forest}
data=${2:-${MS_SHARED_DATA:-../shared/data}}
np=${3:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
exec ${MPIEXEC:-mpiexec} --oversubscribe -n "$np" "$bin" "$data"
