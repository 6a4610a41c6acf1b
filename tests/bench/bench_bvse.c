/*
 * Throughput of the bvse family (bvse.h), single process, next to the rest of the pipeline.
 *
 * usage: bench_bvse DATA_DIR [LIMIT]   (DATA_DIR is ../shared/data; LIMIT caps perov5, default 2000)
 * For each CIF (first structure): "pipeline" = read + the default set through the structure
 * featurizer (one spglib call, one neighbour list, every default family); "bvse" = the bvse
 * family's compute on the same structure and symmetry (grid energies + percolation). Printed:
 * structures/s of each, the ratio bvse / pipeline, and how many rows were NaN and why (perov5 has
 * almost no Li: those rows return before any grid is built). The 100-atom line times the OBELiX
 * cells of 80-120 atoms, the target of issue #23 being under 50 ms each at 0.2 Å.
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
    ms_structure_featurizer *fz;
    ms_bvse_context *ctx;
    double *work;
    size_t n_work;
    double row[1024];
    unsigned char reason[1024];
    double t_pipe, t_bvse, t_100;
    size_t n, n_fail, n_100, nan[MS_NAN_REASON_COUNT];
} bench;

static int on_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    bench *b = user;
    if (status != MS_SUCCESS) {
        b->n_fail++;
        return 1;
    }
    double t0 = ms_bench_now();
    if (ms_structure_featurizer_compute(b->fz, s, b->row, b->reason) != MS_SUCCESS) {
        b->n_fail++;
        return 1;
    }
    double t1 = ms_bench_now();
    b->t_pipe += t1 - t0;
    ms_bvse_options opt = ms_bvse_options_default();
    size_t need = ms_bvse_work_doubles(b->ctx, s, &opt);
    if (need > b->n_work) {
        free(b->work);
        b->work = malloc(need * sizeof *b->work);
        b->n_work = b->work ? need : 0;
    }
    ms_bvse_result r;
    double t2 = ms_bench_now();
    if (ms_bvse_compute(b->ctx, s, ms_structure_featurizer_symmetry(b->fz), &opt, b->work,
                        b->n_work, &r) != MS_SUCCESS) {
        b->n_fail++;
        return 1;
    }
    double dt = ms_bench_now() - t2;
    b->t_bvse += dt;
    b->n++;
    b->nan[r.reason]++;
    double atoms = 0;
    for (size_t k = 0; k < s->n_species; k++) atoms += s->species[k].occu;
    if (r.reason == MS_NAN_NONE && atoms >= 80 && atoms <= 120) {
        b->t_100 += dt;
        b->n_100++;
    }
    return 1; /* first structure only */
}

static void run(const char *dir, const char *corpus, const ms_element_table *table, size_t limit)
{
    struct dirent **names;
    int n = scandir(dir, &names, ms_bench_is_cif, alphasort);
    if (n < 0) {
        printf("%s: cannot list %s (../shared/data absent?)\n", corpus, dir);
        return;
    }
    size_t count = limit && (size_t)n > limit ? limit : (size_t)n;
    static bench b;
    memset(&b, 0, sizeof b);
    const ms_descriptor_set *def;
    if (ms_descriptor_set_lookup("default", &def) != MS_SUCCESS ||
        ms_structure_featurizer_create(def, table, NULL, &b.fz) != MS_SUCCESS ||
        ms_bvse_context_create(table, &b.ctx) != MS_SUCCESS) {
        printf("%s: %s\n", corpus, ms_error_message());
        return;
    }
    double t0 = ms_bench_now();
    for (size_t i = 0; i < count; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        ms_read_file(path, MS_FORMAT_CIF, NULL, on_record, &b);
    }
    double total = ms_bench_now() - t0 - b.t_bvse; /* read + default featurization */
    printf("%-7s %5zu files %3zu fail  pipeline (read + default set) %7.0f structures/s  "
           "bvse %7.1f structures/s (%6.2f ms each)  bvse/pipeline time %5.2f\n",
           corpus, count, b.n_fail, (double)b.n / total, (double)b.n / b.t_bvse,
           1e3 * b.t_bvse / (double)b.n, b.t_bvse / total);
    printf("        bvse rows: %zu with barriers", b.nan[MS_NAN_NONE]);
    for (int k = 1; k < MS_NAN_REASON_COUNT; k++)
        if (b.nan[k]) printf(", %zu %s", b.nan[k], ms_nan_reason_name((ms_nan_reason)k));
    printf("\n");
    if (b.n_100)
        printf("        80-120 atom cells with barriers: %zu, %.1f ms each at 0.2 A\n", b.n_100,
               1e3 * b.t_100 / (double)b.n_100);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    free(b.work);
    ms_bvse_context_free(b.ctx);
    ms_structure_featurizer_destroy(&b.fz);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_bvse DATA_DIR [LIMIT]\n");
        return 2;
    }
    size_t limit = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 2000;
    ms_element_table *table;
    if (ms_element_table_load_default(&table) != MS_SUCCESS) {
        fprintf(stderr, "bench_bvse: %s\n", ms_error_message());
        return 2;
    }
    char perov[PATH_MAX], obelix[PATH_MAX];
    snprintf(perov, sizeof perov, "%s/cif/perov5/cifs", argv[1]);
    snprintf(obelix, sizeof obelix, "%s/labeled/obelix-train/cifs", argv[1]);
    printf("bench_bvse: bvse family (grid 0.2 A, bvlain rule) vs read + default set, one core\n");
    run(obelix, "OBELiX", table, 0);
    run(perov, "perov5", table, limit);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
    ms_element_table_free(table);
    return 0;
}
