/*
 * gbm (XGBoost ensemble) training time on the 50,000 x 132 e_hull matrix (ehull_bench.h), through
 * the model interface (ms_model_fit: medians, filters, scaling, float conversion, boosting, OOB
 * recalibration): what `matscreen train --kind gbm` pays. Compare with tests/bench/xgb_bench.py
 * (python3-xgboost on the same CSV, same parameters and threads).
 * Usage: bench_gbm DATA_DIR [CSV_OUT|-] [ROWS] [ROUNDS] [ENSEMBLE] [NTHREAD]
 * (defaults 50000 rows, 100 rounds, 1 member, 1 thread; other parameters are the gbm defaults,
 * docs/models.md). Under mpirun the members are spread over the ranks. Prints wall seconds and
 * CPU seconds (user + system, summed over ranks) of the fit.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/model.h"
#include "../common/bench_util.h"
#include "../common/ehull_bench.h"

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *dir = argc > 1 ? argv[1] : "../shared/data";
    size_t n = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 0;
    ms_matrix x;
    double *y = NULL;
    if (ms_bench_ehull_matrix(dir, n, &x, &y) ||
        (argc > 2 && strcmp(argv[2], "-") != 0 && rank == 0 && ms_bench_write_csv(argv[2], &x, y))) {
        fprintf(stderr, "bench_gbm: %s\n", ms_error_message());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    char rounds[64], ens[64], thr[64];
    snprintf(rounds, sizeof rounds, "n_estimators=%s", argc > 4 ? argv[4] : "100");
    snprintf(ens, sizeof ens, "ensemble=%s", argc > 5 ? argv[5] : "1");
    snprintf(thr, sizeof thr, "nthread=%s", argc > 6 ? argv[6] : "1");
    ms_model_spec spec;
    ms_model_spec_default(&spec);
    spec.kind = "gbm";
    ms_model_options_add(&spec.options, rounds);
    ms_model_options_add(&spec.options, ens);
    ms_model_options_add(&spec.options, thr);
    ms_model *m = NULL;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime(), c0 = ms_bench_cpu();
    ms_status st = ms_model_fit(&spec, &x, y, NULL, MPI_COMM_WORLD, &m);
    double secs = MPI_Wtime() - t0, cpu = ms_bench_cpu() - c0, cpu_all = cpu;
    MPI_Reduce(&cpu, &cpu_all, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        if (st) fprintf(stderr, "bench_gbm: %s\n", ms_error_message());
        else
            printf("gbm fit %zu x %zu, %s, %s, %s, %d rank%s: %.2f s wall, %.2f s CPU\n", x.rows,
                   x.cols, rounds, ens, thr, size, size > 1 ? "s" : "", secs, cpu_all);
    }
    ms_model_free(m);
    ms_matrix_free(&x);
    free(y);
    MPI_Finalize();
    return st ? 1 : 0;
}
