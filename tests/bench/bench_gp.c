/*
 * Exact GP training time on ScaLAPACK: one fit at fixed hyperparameters (kernel blocks,
 * pdpotrf, pdpotrs) and one log-marginal-likelihood + gradient evaluation (adds pdpotri and the
 * trace pass) on 2,000 / 4,000 / 8,000 rows.
 *
 * usage: bench_gp DATA_DIR [--sizes 2000,4000,8000] [--dump FILE]
 *   DATA_DIR is ../shared/data. Rows: the first 8,000 usable formulas of
 *   labeled/crabnet/aflow__Egap/train.csv (real rows, none repeated), magpie features
 *   standardised; the first n rows for size n. Targets are band gaps in eV.
 *   --dump FILE writes the 8,000 x (d + 1) matrix (features, then target) as CSV for the
 *   scikit-learn comparison in docs/gp.md (rank 0 only).
 *
 * Runs on MPI_COMM_WORLD: alone it is 1 rank (1 x 1 grid; MPI_Init as a singleton); with
 * tests/bench/gp_mpi.sh it is 2 ranks (1 x 2 grid). Rank 0 reads the data and broadcasts it.
 * Kernel: squared exponential, isotropic, s2 = 1, l = 10, noise 0.1, normalize_y.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/gp_data.h"
#include "matscreen/element.h"
#include "matscreen/gp.h"
#include "matscreen/scalapack.h"

#define NMAX 8000

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *dump = NULL, *sizes_arg = "2000,4000,8000";
    for (int i = 2; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--dump") == 0) dump = argv[++i];
        else if (strcmp(argv[i], "--sizes") == 0) sizes_arg = argv[++i];
    }
    if (argc < 2) {
        if (rank == 0) fprintf(stderr, "usage: bench_gp DATA_DIR [--sizes a,b,c] [--dump FILE]\n");
        MPI_Finalize();
        return 2;
    }
    ms_matrix x = {0, 0, NULL, 0};
    double *y = NULL;
    unsigned long dims[2] = {0, 0};
    if (rank == 0) {
        ms_element_table *table = NULL;
        char path[4096];
        snprintf(path, sizeof path, "%s/labeled/crabnet/aflow__Egap/train.csv", argv[1]);
        if (ms_element_table_load_default(&table) == MS_SUCCESS &&
            ms_test_load_magpie(table, path, NMAX, &x, &y) == 0) {
            dims[0] = x.rows;
            dims[1] = x.cols;
        } else {
            fprintf(stderr, "bench_gp: cannot load %s: %s\n", path, ms_error_message());
        }
        ms_element_table_free(table);
        if (dump && dims[0]) {
            FILE *f = fopen(dump, "w");
            for (size_t i = 0; f && i < x.rows; i++) {
                for (size_t j = 0; j < x.cols; j++) fprintf(f, "%.17g,", MS_AT(&x, i, j));
                fprintf(f, "%.17g\n", y[i]);
            }
            if (f) fclose(f);
        }
    }
    MPI_Bcast(dims, 2, MPI_UNSIGNED_LONG, 0, MPI_COMM_WORLD);
    if (dims[0] == 0) {
        MPI_Finalize();
        return 1;
    }
    if (rank != 0) {
        ms_matrix_alloc(&x, dims[0], dims[1]);
        y = malloc(dims[0] * sizeof *y);
    }
    MPI_Bcast(x.data, (int)(dims[0] * dims[1]), MPI_DOUBLE, 0, MPI_COMM_WORLD);
    MPI_Bcast(y, (int)dims[0], MPI_DOUBLE, 0, MPI_COMM_WORLD);
    ms_grid *grid = NULL;
    if (ms_grid_create(MPI_COMM_WORLD, 0, &grid) != MS_SUCCESS) MPI_Abort(MPI_COMM_WORLD, 1);
    int nprow, npcol;
    ms_grid_shape(grid, &nprow, &npcol);
    if (rank == 0)
        printf("bench_gp: exact GP, %d rank(s), grid %d x %d, block %d, d = %zu, aflow__Egap\n",
               size, nprow, npcol, ms_grid_block(grid), x.cols);
    ms_gp_options o;
    ms_gp_options_default(&o);
    o.optimize = 0;
    o.lengthscale = 10.0;
    o.noise_var = 0.1;
    int status = 0;
    for (const char *p = sizes_arg; *p;) {
        size_t n = strtoul(p, NULL, 10);
        p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p);
        if (n < 2 || n > x.rows) continue;
        ms_matrix sub;
        ms_matrix_wrap(&sub, x.data, n, x.cols);
        ms_gp *gp = NULL;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        ms_status st = ms_gp_fit(grid, &sub, y, &o, &gp);
        MPI_Barrier(MPI_COMM_WORLD);
        double t_fit = MPI_Wtime() - t0;
        double lml = st == MS_SUCCESS ? ms_gp_log_marginal_likelihood(gp) : NAN;
        ms_gp_destroy(&gp);
        double lml2 = NAN, grad[3];
        t0 = MPI_Wtime();
        if (st == MS_SUCCESS) st = ms_gp_evaluate(grid, &sub, y, &o, &lml2, grad);
        MPI_Barrier(MPI_COMM_WORLD);
        double t_eval = MPI_Wtime() - t0;
        if (st != MS_SUCCESS) {
            if (rank == 0) fprintf(stderr, "bench_gp: n = %zu: %s\n", n, ms_error_message());
            status = 1;
            break;
        }
        if (rank == 0)
            printf("  n = %5zu  fit (fixed hyperparameters) %8.3f s   likelihood + gradient "
                   "%8.3f s   lml %.6f\n", n, t_fit, t_eval, lml);
        fflush(stdout);
    }
    ms_grid_destroy(&grid);
    ms_matrix_free(&x);
    free(y);
    MPI_Finalize();
    return status;
}
