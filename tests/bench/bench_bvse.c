/*
 * Throughput of the bvse family (bvse.h), single process, next to the rest of the pipeline.
 *
 * usage: bench_bvse DATA_DIR [LIMIT]   (DATA_DIR is ../shared/data; LIMIT caps perov5, default 2000)
 * For each CIF (first structure): "pipeline" = read + the default set through the structure
 * featurizer (one spglib call, one neighbour list, every default family); "bvse" = the bvse
 * family's compute on the same structure and symmetry (grid energies + percolation). Printed:
 * structures/s of each, the ratio bvse / pipeline, and how many rows were NaN and why (perov5 has
 * almost no Li: those rows return before any grid is built). The 100-atom line times the OBELiX
 * cells of 80-120 atoms, the target of issue #23 being under 50 ms each at 0.2 Å, in wall and in
 * CPU time (on a machine shared with other jobs the CPU time is the figure to compare).
 * Tests never assert on time.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../common/bench_util.h"
#include "matscreen/bvse.h"
#include "matscreen/featurize.h"
#include "matscreen/reader.h"

typedef struct {
    ms_bench_featurized f;
    ms_bvse_context *ctx;
    double *work;
    size_t n_work;
    double t_bvse, t_100, cpu_100; /* cpu: CPU time of this process (a loaded machine) */
    size_t n, n_fail, n_100, nan[MS_NAN_REASON_COUNT]; /* n_fail: of bvse */
} bench;

static int on_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    bench *b = user;
    if (!ms_bench_featurize(&b->f, s, status)) return 1;
    ms_bvse_options opt = ms_bvse_options_default();
    size_t need = ms_bvse_work_doubles(b->ctx, s, &opt);
    if (need > b->n_work) {
        free(b->work);
        b->work = malloc(need * sizeof *b->work);
        b->n_work = b->work ? need : 0;
    }
    ms_bvse_result r;
    double c2 = ms_bench_cpu(), t2 = ms_bench_now();
    if (ms_bvse_compute(b->ctx, s, ms_structure_featurizer_symmetry(b->f.fz), &opt, b->work,
                        b->n_work, &r) != MS_SUCCESS) {
        b->n_fail++;
        return 1;
    }
    double dt = ms_bench_now() - t2, dc = ms_bench_cpu() - c2;
    b->t_bvse += dt;
    b->n++;
    b->nan[r.reason]++;
    double atoms = 0;
    for (size_t k = 0; k < s->n_species; k++) atoms += s->species[k].occu;
    if (r.reason == MS_NAN_NONE && atoms >= 80 && atoms <= 120) {
        b->t_100 += dt;
        b->cpu_100 += dc;
        b->n_100++;
    }
    return 1; /* first structure only */
}

static void run(const char *dir, const char *corpus, const ms_element_table *table, size_t limit)
{
    static bench b;
    memset(&b, 0, sizeof b);
    const ms_descriptor_set *def;
    if (ms_descriptor_set_lookup("default", &def) != MS_SUCCESS ||
        ms_structure_featurizer_create(def, table, NULL, &b.f.fz) != MS_SUCCESS ||
        ms_bvse_context_create(table, &b.ctx) != MS_SUCCESS) {
        printf("%s: %s\n", corpus, ms_error_message());
        return;
    }
    double t0 = ms_bench_now();
    long count = ms_bench_read_cifs_limit(dir, limit, on_record, &b);
    double total = ms_bench_now() - t0 - b.t_bvse; /* read + default featurization */
    if (count < 0) printf("%s: cannot list %s (../shared/data absent?)\n", corpus, dir);
    if (count <= 0) goto done;
    printf("%-7s %5ld files %3zu fail  pipeline (read + default set) %7.0f structures/s  "
           "bvse %7.1f structures/s (%6.2f ms each)  bvse/pipeline time %5.2f\n",
           corpus, count, b.f.n_fail + b.n_fail, (double)b.n / total, (double)b.n / b.t_bvse,
           1e3 * b.t_bvse / (double)b.n, b.t_bvse / total);
    printf("        bvse rows: %zu with barriers", b.nan[MS_NAN_NONE]);
    for (int k = 1; k < MS_NAN_REASON_COUNT; k++)
        if (b.nan[k]) printf(", %zu %s", b.nan[k], ms_nan_reason_name((ms_nan_reason)k));
    printf("\n");
    if (b.n_100)
        printf("        80-120 atom cells with barriers: %zu, %.1f ms each at 0.2 A (wall), %.1f "
               "ms CPU\n",
               b.n_100, 1e3 * b.t_100 / (double)b.n_100, 1e3 * b.cpu_100 / (double)b.n_100);
done:
    free(b.work);
    ms_bvse_context_free(b.ctx);
    ms_structure_featurizer_destroy(&b.f.fz);
}

int main(int argc, char **argv)
{
    ms_bench_corpora c;
    int status = ms_bench_corpora_open(argc, argv, "bench_bvse", 2000, &c);
    if (status) return status;
    printf("bench_bvse: bvse family (grid 0.2 A, bvlain rule) vs read + default set, one core\n");
    run(c.obelix, "OBELiX", c.table, 0);
    run(c.perov5, "perov5", c.table, c.limit);
    ms_bench_corpora_close(&c);
    return 0;
}
