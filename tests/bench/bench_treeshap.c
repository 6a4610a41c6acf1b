/*
 * Exact TreeSHAP time per row (treeshap.h) on a forest of the e_hull matrix (ehull_bench.h):
 * 132 features, 100 trees, trained on the first TRAIN rows, explaining EXPLAIN rows taken after
 * them. TreeSHAP costs O(trees x nodes x depth / 2) per row, so the figure grows with the
 * training set: run it at several TRAIN sizes.
 * Usage: bench_treeshap DATA_DIR [TRAIN] [TREES] [EXPLAIN] [MAX_DEPTH]
 * (defaults 2000 100 200, 1 rank; MAX_DEPTH 0 = unlimited). Without MAX_DEPTH three lines:
 *   - "model": the forest exactly as ms_model_fit builds it by default (matscreen train --kind
 *     forest: 100 trees, fully grown, min_samples_leaf 1, the model's filters and scaling),
 *     explained through ms_model_explain (rows in batches, as evaluate would) and one row per
 *     call through ms_model_explain_ws (as screen --explain does);
 *   - ms_forest_contributions on forests fitted directly, fully grown and at max_depth 8.
 * Prints wall and CPU milliseconds per row.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "matscreen/forest.h"
#include "matscreen/model.h"
#include "../common/bench_util.h"
#include "../common/ehull_bench.h"

/* FNV-1a of the contributions' bytes: equal hashes before and after a change of the kernel say
 * it gives the same bits. */
static unsigned long long phi_hash(const double *phi, size_t n)
{
    unsigned long long h = 1469598103934665603ull;
    const unsigned char *b = (const unsigned char *)phi;
    for (size_t i = 0; i < n * sizeof *phi; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* One forest of the given depth limit (0: unlimited): fit, explain, print one line. */
static ms_status run(const ms_matrix *x, const double *y, size_t ntr, size_t nex, size_t trees,
                     size_t depth)
{
    ms_matrix tr = *x, ex = *x;
    tr.rows = ntr;
    ex.data = x->data + ntr * x->cols;
    ex.rows = nex;
    ms_forest_params prm;
    ms_forest_params_default(&prm);
    prm.n_trees = trees;
    prm.recalibrate = 0;
    prm.max_depth = depth;
    ms_forest *f = NULL;
    double *phi = malloc(nex * x->cols * sizeof *phi), *base = malloc(nex * sizeof *base);
    ms_status st = ms_forest_fit(&prm, &tr, y, 0, MPI_COMM_SELF, &f);
    double t0 = ms_bench_now(), c0 = ms_bench_cpu();
    if (st == MS_SUCCESS) st = ms_forest_contributions(f, &ex, phi, base);
    double secs = ms_bench_now() - t0, cpu = ms_bench_cpu() - c0;
    if (st) fprintf(stderr, "bench_treeshap: %s\n", ms_error_message());
    else
        printf("TreeSHAP forest %zu trees, max_depth %zu (0 = unlimited), on %zu x %zu (%zu nodes): "
               "%.3f ms wall, %.3f ms CPU per row (%zu rows; phi hash %016llx)\n", trees, depth, ntr,
               x->cols, ms_forest_n_nodes(f), 1e3 * secs / (double)nex, 1e3 * cpu / (double)nex,
               nex, phi_hash(phi, nex * x->cols));
    ms_forest_free(f);
    free(phi);
    free(base);
    return st;
}

/* The default model of ms_model_fit on the first ntr rows; explains the next nex rows all at
 * once and one per call. One line. */
static ms_status run_model(const ms_matrix *x, const double *y, size_t ntr, size_t nex)
{
    ms_matrix tr = *x, ex = *x;
    tr.rows = ntr;
    ex.data = x->data + ntr * x->cols;
    ex.rows = nex;
    ms_model_spec spec;
    ms_model_spec_default(&spec);
    ms_model *m = NULL;
    double *phi = malloc(nex * x->cols * sizeof *phi), *base = malloc(nex * sizeof *base);
    ms_status st = phi && base ? ms_model_fit(&spec, &tr, y, NULL, MPI_COMM_SELF, &m) : MS_ERR_NOMEM;
    double t0 = ms_bench_now(), c0 = ms_bench_cpu();
    if (st == MS_SUCCESS) st = ms_model_explain(m, &ex, phi, base);
    double secs = ms_bench_now() - t0, cpu = ms_bench_cpu() - c0, secs1 = 0, cpu1 = 0;
    unsigned long long h = st == MS_SUCCESS ? phi_hash(phi, nex * x->cols) : 0;
    double *work = m ? malloc((ms_model_explain_workspace_size(m, 1) + 1) * sizeof *work) : NULL;
    if (st == MS_SUCCESS && !work) st = MS_ERR_NOMEM;
    void *scratch = NULL; /* made once, as the screen's worker makes it */
    if (st == MS_SUCCESS && m) st = ms_model_explain_scratch_new(m, &scratch);
    t0 = ms_bench_now(), c0 = ms_bench_cpu();
    for (size_t i = 0; i < nex && st == MS_SUCCESS; i++) {
        ms_matrix one = {1, x->cols, ex.data + i * x->cols, 0};
        st = ms_model_explain_ws(m, &one, work, scratch, phi + i * x->cols, base + i);
    }
    secs1 = ms_bench_now() - t0, cpu1 = ms_bench_cpu() - c0;
    if (m) ms_model_explain_scratch_free(m, scratch);
    if (st) fprintf(stderr, "bench_treeshap: %s\n", ms_error_message());
    else
        printf("TreeSHAP model (ms_model_fit default: forest, 100 trees, fully grown) on %zu x %zu "
               "(%zu kept): %.3f ms wall, %.3f ms CPU per row in batches; %.3f ms wall, %.3f ms CPU "
               "per row one at a time (screen --explain) (%zu rows; phi hash %016llx, %016llx)\n", ntr,
               x->cols, m->n_kept, 1e3 * secs / (double)nex, 1e3 * cpu / (double)nex,
               1e3 * secs1 / (double)nex, 1e3 * cpu1 / (double)nex, nex, h,
               phi_hash(phi, nex * x->cols));
    ms_model_free(m);
    free(work);
    free(phi);
    free(base);
    return st;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const char *dir = argc > 1 ? argv[1] : "../shared/data";
    size_t ntr = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 2000;
    size_t trees = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 100;
    size_t nex = argc > 4 ? (size_t)strtoul(argv[4], NULL, 10) : 200;
    ms_matrix x;
    double *y = NULL;
    if (ms_bench_ehull_matrix(dir, ntr + nex, &x, &y)) {
        fprintf(stderr, "bench_treeshap: %s\n", ms_error_message());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    ms_status st = MS_SUCCESS;
    size_t depths[2] = {0, 8}, nd = 2;
    if (argc > 5) {
        depths[0] = (size_t)strtoul(argv[5], NULL, 10);
        nd = 1;
    }
    if (nd == 2) st = run_model(&x, y, ntr, nex);
    for (size_t r = 0; r < nd && st == MS_SUCCESS; r++) st = run(&x, y, ntr, nex, trees, depths[r]);
    ms_matrix_free(&x);
    free(y);
    MPI_Finalize();
    return st ? 1 : 0;
}
