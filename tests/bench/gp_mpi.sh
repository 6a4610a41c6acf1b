#!/bin/bash
# Exact GP training time on 2 ranks (tests/bench/bench_gp.c on a 1 x 2 grid).
# usage: tests/bench/gp_mpi.sh [BENCH_GP_BINARY [DATA_DIR [NP]]]
# make bench runs it with BUILD and MS_SHARED_DATA in the environment and no arguments.
set -eu
bin=${1:-${BUILD:-build}/tests/bench/bench_gp}
data=${2:-${MS_SHARED_DATA:-../shared/data}}
np=${3:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
exec ${MPIEXEC:-mpiexec} --oversubscribe -n "$np" "$bin" "$data"
