/*
 * MPI driver of tests/integration/gp_mpi.sh: exact GP and PCA on the ScaLAPACK grid of
 * MPI_COMM_WORLD, checked against the serial LAPACK path (a serial grid on rank 0), and written
 * to OUT_FILE with %.17e so that the script can compare runs on 1, 2 and 4 ranks.
 *
 * usage: gp_mpi DATA_DIR OUT_FILE   (DATA_DIR is ../shared/data; MATSCREEN_SHARE as for matscreen)
 *
 * Data: the first 650 usable formulas of labeled/crabnet/mp_bulk_modulus/train.csv, magpie
 * features standardised; rows 0..599 train, 600..649 test. Rank 0 reads and broadcasts them
 * (only rank 0 reads files). Prints one "ok"/"FAIL" line per check and "gp_mpi_driver: N passed,
 * M failed" on rank 0; exits with the failure count.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/gp_data.h"
#include "matscreen/element.h"
#include "matscreen/gp.h"
#include "matscreen/pca.h"
#include "matscreen/scalapack.h"

#define NTRAIN 600
#define NTEST 50
#define NOPT 200

static int passed, failed;

static void check(int rank, int ok, const char *what, double err)
{
    if (rank != 0) return;
    printf("%s %s (max rel. difference %.3g)\n", ok ? "ok  " : "FAIL", what, err);
    if (ok)
        passed++;
    else
        failed++;
}

static double max_rel(const double *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]) / (fabs(b[i]) + 1e-10);
        if (!(e <= m)) m = e; /* NaN propagates */
    }
    return m;
}

static void write_vec(FILE *f, const char *tag, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) fprintf(f, "%s %zu %.17e\n", tag, i, v[i]);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc < 3) {
        if (rank == 0) fprintf(stderr, "usage: gp_mpi DATA_DIR OUT_FILE\n");
        MPI_Finalize();
        return 2;
    }
    /* rank 0 loads, everyone receives */
    ms_matrix all = {0, 0, NULL, 0};
    double *y = NULL;
    unsigned long dims[2] = {0, 0};
    if (rank == 0) {
        ms_element_table *table = NULL;
        char path[4096];
        snprintf(path, sizeof path, "%s/labeled/crabnet/mp_bulk_modulus/train.csv", argv[1]);
        if (ms_element_table_load_default(&table) == MS_SUCCESS &&
            ms_test_load_magpie(table, path, NTRAIN + NTEST, &all, &y) == 0 &&
            all.rows == NTRAIN + NTEST) {
            dims[0] = all.rows;
            dims[1] = all.cols;
        } else {
            fprintf(stderr, "gp_mpi: cannot load %s: %s\n", path, ms_error_message());
        }
        ms_element_table_free(table);
    }
    MPI_Bcast(dims, 2, MPI_UNSIGNED_LONG, 0, MPI_COMM_WORLD);
    if (dims[0] == 0) {
        MPI_Finalize();
        return 2;
    }
    if (rank != 0) {
        ms_matrix_alloc(&all, dims[0], dims[1]);
        y = malloc(dims[0] * sizeof *y);
    }
    MPI_Bcast(all.data, (int)(dims[0] * dims[1]), MPI_DOUBLE, 0, MPI_COMM_WORLD);
    MPI_Bcast(y, (int)dims[0], MPI_DOUBLE, 0, MPI_COMM_WORLD);
    const size_t d = all.cols;
    ms_matrix xtr, xte, xopt;
    ms_matrix_wrap(&xtr, all.data, NTRAIN, d);
    ms_matrix_wrap(&xte, all.data + NTRAIN * d, NTEST, d);
    ms_matrix_wrap(&xopt, all.data, NOPT, d);

    ms_grid *grid = NULL, *serial = NULL;
    if (ms_grid_create(MPI_COMM_WORLD, 0, &grid) != MS_SUCCESS ||
        ms_grid_create_serial(0, &serial) != MS_SUCCESS) {
        fprintf(stderr, "gp_mpi: %s\n", ms_error_message());
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int nprow, npcol;
    ms_grid_shape(grid, &nprow, &npcol);
    if (rank == 0) printf("gp_mpi: %d ranks, grid %d x %d, N = %d, d = %zu\n", size, nprow, npcol,
                          NTRAIN, d);
    FILE *out = rank == 0 ? fopen(argv[2], "w") : NULL;
    if (rank == 0 && !out) MPI_Abort(MPI_COMM_WORLD, 2);

    /* 1. exact GP, fixed hyperparameters: SE isotropic and Matern 5/2 ARD */
    double *ell = malloc(d * sizeof *ell);
    for (size_t k = 0; k < d; k++) ell[k] = 5.0 + 0.041 * (double)k;
    for (int c = 0; c < 2; c++) {
        ms_gp_options o;
        ms_gp_options_default(&o);
        o.optimize = 0;
        o.kernel = c ? MS_GP_KERNEL_MATERN52 : MS_GP_KERNEL_SE;
        o.ard = c;
        o.lengthscales = ell;
        o.signal_var = 1.7;
        o.lengthscale = 6.3;
        o.noise_var = 0.05;
        ms_gp *gp = NULL, *ref = NULL;
        double mean[NTEST], var[NTEST], rmean[NTEST], rvar[NTEST];
        ms_status st = ms_gp_fit(grid, &xtr, y, &o, &gp);
        if (st == MS_SUCCESS) st = ms_gp_predict(gp, &xte, mean, var);
        check(rank, st == MS_SUCCESS, c ? "fit and predict, Matern 5/2 ARD" : "fit and predict, SE",
              0);
        if (st != MS_SUCCESS) continue;
        double lml = ms_gp_log_marginal_likelihood(gp);
        if (rank == 0) {
            char tag[16];
            snprintf(tag, sizeof tag, "mean%d", c);
            write_vec(out, tag, mean, NTEST);
            snprintf(tag, sizeof tag, "var%d", c);
            write_vec(out, tag, var, NTEST);
            snprintf(tag, sizeof tag, "lml%d", c);
            write_vec(out, tag, &lml, 1);
            /* serial LAPACK reference on rank 0 */
            if (ms_gp_fit(serial, &xtr, y, &o, &ref) == MS_SUCCESS &&
                ms_gp_predict(ref, &xte, rmean, rvar) == MS_SUCCESS) {
                double em = max_rel(mean, rmean, NTEST), ev = max_rel(var, rvar, NTEST);
                double rl = ms_gp_log_marginal_likelihood(ref);
                double el = fabs(lml - rl) / fabs(rl);
                check(rank, em <= 1e-10, "mean equals the serial LAPACK solve", em);
                check(rank, ev <= 1e-10, "variance equals the serial LAPACK solve", ev);
                check(rank, el <= 1e-12, "log marginal likelihood equals LAPACK's", el);
            } else {
                check(rank, 0, "serial LAPACK reference", 0);
            }
            ms_gp_destroy(&ref);
        }
        /* every rank holds the same mean, bit for bit */
        double lo[NTEST], hi[NTEST];
        MPI_Allreduce(mean, lo, NTEST, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
        MPI_Allreduce(mean, hi, NTEST, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        check(rank, memcmp(lo, hi, sizeof lo) == 0, "means identical on every rank", 0);
        /* write, read, attach: same predictions */
        if (c == 1) {
            char *buf = NULL;
            size_t len = 0;
            FILE *mf = open_memstream(&buf, &len);
            ms_gp_write(gp, mf);
            fclose(mf);
            ms_gp *back = NULL;
            mf = fmemopen(buf, len, "r");
            st = ms_gp_read(mf, &back);
            fclose(mf);
            free(buf);
            if (st == MS_SUCCESS) st = ms_gp_attach(back, grid);
            double m2[NTEST], v2[NTEST];
            if (st == MS_SUCCESS) st = ms_gp_predict(back, &xte, m2, v2);
            check(rank, st == MS_SUCCESS && memcmp(m2, mean, sizeof m2) == 0 &&
                            max_rel(v2, var, NTEST) <= 1e-12,
                  "write, read and attach on the grid", st == MS_SUCCESS ? max_rel(v2, var, NTEST)
                                                                          : 1);
            ms_gp_destroy(&back);
        }
        ms_gp_destroy(&gp);
    }

    /* 2. hyperparameter optimisation (smaller N): theta and predictions */
    {
        ms_gp_options o;
        ms_gp_options_default(&o);
        o.max_iter = 25;
        o.restarts = 1;
        o.seed = 2385;
        o.lengthscale = 3.0;
        o.noise_var = 0.3;
        ms_gp *gp = NULL;
        double mean[NTEST], var[NTEST], theta[3];
        ms_status st = ms_gp_fit(grid, &xopt, y, &o, &gp);
        if (st == MS_SUCCESS) st = ms_gp_predict(gp, &xte, mean, var);
        check(rank, st == MS_SUCCESS, "optimised fit", 0);
        if (st == MS_SUCCESS && rank == 0) {
            ms_gp_params(gp, theta, 3);
            write_vec(out, "theta", theta, 3);
            write_vec(out, "optmean", mean, NTEST);
            write_vec(out, "optvar", var, NTEST);
        }
        ms_gp_destroy(&gp);
    }

    /* 3. PCA: grid against the serial path */
    {
        ms_pca *p = NULL, *ref = NULL;
        ms_status st = ms_pca_fit(grid, &xtr, 1, 5, &p);
        check(rank, st == MS_SUCCESS, "PCA on the grid", 0);
        if (st == MS_SUCCESS && rank == 0) {
            write_vec(out, "pcavar", ms_pca_explained_variance(p), 5);
            write_vec(out, "pcacomp", ms_pca_components(p), 5 * d);
            if (ms_pca_fit(serial, &xtr, 1, 5, &ref) == MS_SUCCESS) {
                double ev = max_rel(ms_pca_explained_variance(p), ms_pca_explained_variance(ref), 5);
                double ec = 0;
                for (size_t i = 0; i < 5 * d; i++) {
                    double e = fabs(ms_pca_components(p)[i] - ms_pca_components(ref)[i]);
                    if (!(e <= ec)) ec = e;
                }
                check(rank, ev <= 1e-10, "PCA variances equal LAPACK dsyevd's", ev);
                check(rank, ec <= 1e-10, "PCA components equal LAPACK dsyevd's (absolute)", ec);
            }
            ms_pca_destroy(&ref);
        }
        ms_pca_destroy(&p);
    }

    if (out) fclose(out);
    free(ell);
    ms_grid_destroy(&grid);
    ms_grid_destroy(&serial);
    ms_matrix_free(&all);
    free(y);
    if (rank == 0) printf("gp_mpi_driver: %d passed, %d failed\n", passed, failed);
    int nf = failed;
    MPI_Bcast(&nf, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return nf;
}
