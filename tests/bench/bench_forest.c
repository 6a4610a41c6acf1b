/*
 * Forest training time on 50,000 x 132 (Magpie features of CrabNet mp_e_hull train + val
 * formulas, 48,162 rows; the first 1,838 rows are repeated with relative noise 1e-6 to reach
 * 50,000), target e_hull. RandomForestRegressor defaults: 100 trees, all features per split,
 * min_samples_leaf 1, bootstrap. Run as `bench_forest DATA_DIR [CSV_OUT]` (single process) or
 * under `mpirun -np 2` (trees spread over ranks). With CSV_OUT rank 0 writes the matrix
 * (132 feature columns then y) for the scikit-learn comparison in docs/models.md.
 * Full usage: `bench_forest DATA_DIR [CSV_OUT|-] [ROWS] [RECALIBRATE]`: ROWS (default 50000)
 * uses the first ROWS rows; RECALIBRATE 0 skips the jackknife OOB recalibration (the OOB mean
 * prediction is always computed by ms_forest_fit). Prints wall seconds and CPU seconds (user +
 * system from getrusage, summed over ranks) of ms_forest_fit.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/forest.h"
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
        fprintf(stderr, "bench_forest: %s\n", ms_error_message());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    n = x.rows;
    const size_t p = x.cols;
    ms_forest_params prm;
    ms_forest_params_default(&prm);
    if (argc > 4) prm.recalibrate = atoi(argv[4]) != 0;
    ms_forest *f = NULL;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime(), c0 = ms_bench_cpu();
    ms_status st = ms_forest_fit(&prm, &x, y, 0, MPI_COMM_WORLD, &f);
    double secs = MPI_Wtime() - t0, cpu = ms_bench_cpu() - c0, cpu_all = cpu;
    MPI_Reduce(&cpu, &cpu_all, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        if (st) fprintf(stderr, "bench_forest: %s\n", ms_error_message());
        else {
            ms_forest_oob o;
            ms_forest_oob_summary(f, &o);
            printf("forest fit %zu x %zu, %zu trees, all features, %d rank%s: %.2f s wall, "
                   "%.2f s CPU (incl. OOB%s; oob mae %.4f, %zu nodes)\n",
                   n, p, prm.n_trees, size, size > 1 ? "s" : "", secs, cpu_all,
                   prm.recalibrate ? " + recalibration" : ", no recalibration", o.mae,
                   ms_forest_n_nodes(f));
        }
    }
    ms_forest_free(f);
    ms_matrix_free(&x);
    free(y);
    MPI_Finalize();
    return st ? 1 : 0;
}
