/*
 * End-to-end screening throughput, parallel efficiency and peak memory per rank.
 *
 * usage: bench_screen DATA_DIR            (DATA_DIR is ../shared/data)
 * Input: the 7,572 perov5 CIFs (cif/perov5/cifs) repeated through @LIST files to 10,000 and to
 * 100,000 tasks (a repeated path is screened again each time: the work is real, the outputs
 * de-duplicate it). Each figure is a complete `matscreen screen` as the command runs it: the
 * identity pass over the inputs, the checkpoint journal, the farm, the ranked outputs and the top
 * 20 CIFs, into a temporary directory. Without --child the program starts itself under $MPIEXEC
 * (default mpiexec) with --oversubscribe and prints, for 1 to 4 ranks:
 *   - structures per second end to end at 100k, and parallel efficiency
 *     E(N) = rate(N) / (N * rate(1)) (rank 0 works too, so N ranks are N workers); and the CPU
 *     time of all ranks (getrusage), as structures per CPU second: the farm's overhead, a figure
 *     that stays meaningful when other jobs share the machine and wall-clock efficiency does not;
 *   - peak RSS (VmHWM) of every rank at 10k and at 100k, and the change;
 *   - the same 10k run with a coordinating-only master (N ranks = N-1 workers), and with
 *     fdatasync after every message instead of at most once a second (the journal's cost);
 *   - the pipeline alone (read + stages, in process, no MPI, journal or outputs), for the
 *     throughput per core comparison;
 *   - the full screen (ms_screen_run: validate, symmetry, fingerprint, the "default" descriptor
 *     set, a forest classifier and a forest surrogate, EI) on the 10k tasks at 1 and 2 ranks, per
 *     core, as a share of the single-process featurization figure: read + "default" set in one
 *     process (the work of `matscreen featurize`) on the same 10k files, timed in this run once
 *     the page cache is warm. Same files matter: perov5 files differ in cost, the first 2,000
 *     alone featurize about 1.5x faster than the whole list. The models are trained here on 300
 *     perov5 structures (default set) with density as an arbitrary target: only the throughput
 *     is of interest. These run with the exact-duplicate memo off (screen.h reuse_bytes 0), so
 *     that the 2,428 repeated files are computed again and the figure is the pipeline's;
 *   - exact duplicates: the same full screen of the 10k tasks on 1 rank with the memo off and on
 *     (64 MiB, which holds every distinct structure of the set), interleaved twice: what reuse
 *     saves on a set with 24% exact repeats.
 * Honest note printed with the figures: with more ranks than cores the ranks share cores, so
 * efficiency beyond the core count measures oversubscription, not scaling. Tests never assert on
 * time; this program only reports.
 */
#include <dirent.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../common/bench_util.h"
#include "matscreen/descriptor.h"
#include "matscreen/element.h"
#include "matscreen/farm.h"
#include "matscreen/featurize.h"
#include "matscreen/model.h"
#include "matscreen/comm.h"
#include "matscreen/screen.h"
#include "matscreen/journal.h"
#include "matscreen/pipeline.h"
#include "matscreen/results.h"
#include "matscreen/source.h"

/* One screen of @list (argv: DATA --child LIST LABEL MASTER_WORKS SYNC_SECONDS QUIET). Rank 0
 * prints "RESULT label ranks records seconds rss_kb_rank0 rss_kb_rank1 ..." for the parent. */
static int child(const char *list, const char *label, int master_works, double sync_seconds,
                 int quiet)
{
    ms_comm_init(NULL, NULL);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ms_element_table *elements = NULL;
    ms_pipeline p;
    if (ms_element_table_load_default(&elements) != MS_SUCCESS ||
        ms_pipeline_init(&p, elements, MS_RANK_LI_FRACTION, 0, 0) != MS_SUCCESS) {
        fprintf(stderr, "bench_screen: %s\n", ms_error_message());
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    ms_farm_options fo;
    ms_farm_options_default(&fo);
    fo.progress = 0;
    fo.master_works = master_works;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = ms_bench_now();
    unsigned long long records = 0;
    if (rank == 0) {
        char spec[4200], out[] = "/tmp/ms_bench_screen_XXXXXX";
        snprintf(spec, sizeof spec, "@%s", list);
        const char *specs[] = {spec};
        ms_source *src = NULL;
        ms_results *res = NULL;
        ms_journal_identity id;
        if (!mkdtemp(out) || ms_journal_identity_inputs(&id, specs, 1, NULL) != MS_SUCCESS ||
            ms_results_open_journal(out, &id, 0, &res) != MS_SUCCESS ||
            ms_source_create(specs, 1, NULL, &src) != MS_SUCCESS) {
            fprintf(stderr, "bench_screen: %s\n", ms_error_message());
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        ms_journal *j = ms_results_journal(res);
        ms_journal_set_sync_seconds(j, sync_seconds);
        ms_farm_hooks hooks;
        ms_journal_farm_hooks(j, &hooks);
        fo.hooks = &hooks;
        ms_farm_stats stats;
        ms_status st = ms_farm_run(MPI_COMM_WORLD, src, &p, &fo, ms_results_add, res, &stats);
        if (st == MS_SUCCESS) st = ms_journal_finish(j);
        char *argv0 = "bench_screen";
        ms_run_info info = {1, &argv0, specs, 1, size, 0, "li_fraction", 0, 20, 0, stats.seconds,
                            stats.tasks, stats.messages, NULL, 0, 0, NULL, NULL, NULL, 0, 0, 0, 0,
                            NAN, NULL, NULL, NULL, NAN, 0, 0, 0, 0, 0, stats.records, NULL, 0};
        if (st == MS_SUCCESS) st = ms_results_finish(res, &info, elements);
        if (st != MS_SUCCESS) fprintf(stderr, "bench_screen: %s\n", ms_error_message());
        records = stats.records;
        ms_results_free(res);
        ms_source_free(src);
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
        if (system(cmd) != 0) fprintf(stderr, "bench_screen: cannot remove %s\n", out);
    } else {
        ms_farm_run(MPI_COMM_WORLD, NULL, &p, &fo, NULL, NULL, NULL);
    }
    double t = ms_bench_now() - t0;
    long kb = ms_bench_vm_hwm_kb();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
                 (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec, cpu_all = 0;
    long *all = rank == 0 ? calloc((size_t)size, sizeof *all) : NULL;
    MPI_Gather(&kb, 1, MPI_LONG, all, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    MPI_Reduce(&cpu, &cpu_all, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0 && !quiet) {
        printf("RESULT %s %d %llu %.3f %.3f", label, size, records, t, cpu_all);
        for (int i = 0; i < size; i++) printf(" %ld", all[i]);
        printf("\n");
        fflush(stdout);
    }
    free(all);
    ms_pipeline_destroy(&p);
    ms_element_table_free(elements);
    MPI_Finalize();
    return 0;
}

/* The full screen of @list with the two models and an exact-duplicate memo of reuse_mib MiB
 * per rank (0: off) (argv: DATA --full LIST CLF REG REUSE_MIB). Rank 0 prints "RESULT full
 * ranks records seconds reused". */
static int child_full(const char *list, const char *clf, const char *reg, size_t reuse_mib)
{
    ms_comm_init(NULL, NULL);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char spec[4200], out[] = "/tmp/ms_bench_full_XXXXXX";
    snprintf(spec, sizeof spec, "@%s", list);
    if (rank == 0 && !mkdtemp(out)) MPI_Abort(MPI_COMM_WORLD, 2);
    MPI_Bcast(out, sizeof out, MPI_CHAR, 0, MPI_COMM_WORLD);
    ms_screen_input in = {spec, MS_FORMAT_AUTO, MS_DB_UNKNOWN, 0};
    ms_screen_config cfg;
    ms_screen_config_default(&cfg);
    cfg.inputs = &in;
    cfg.n_inputs = 1;
    cfg.out_dir = out;
    cfg.model_paths[0] = clf;
    cfg.model_paths[1] = reg;
    cfg.n_models = 2;
    cfg.rank_by = "ei";
    cfg.best = 5.0;
    cfg.progress = 0;
    cfg.reuse_bytes = reuse_mib << 20;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = ms_bench_now();
    ms_screen_summary sum;
    ms_status st = ms_screen_run(MPI_COMM_WORLD, &cfg, &sum);
    double t = ms_bench_now() - t0;
    if (rank == 0) {
        if (st != MS_SUCCESS) fprintf(stderr, "bench_screen: %s\n", ms_error_message());
        else printf("RESULT full %d %llu %.3f %llu\n", size, sum.records, t, sum.reused);
        fflush(stdout);
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
        if (system(cmd) != 0) fprintf(stderr, "bench_screen: cannot remove %s\n", out);
    }
    MPI_Finalize();
    return st == MS_SUCCESS ? 0 : 1;
}

typedef struct train_ctx {
    ms_structure_featurizer *f;
    const ms_element_table *elements;
    double *x, *y, *scratch;
    size_t p, n, want, featurized;
} train_ctx;

static int train_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    train_ctx *c = user;
    int keep = c->n < c->want;
    if (status == MS_SUCCESS &&
        ms_structure_featurizer_compute(c->f, s, keep ? c->x + c->n * c->p : c->scratch, NULL) ==
            MS_SUCCESS) {
        c->featurized++;
        if (keep) c->y[c->n++] = ms_structure_density(s, c->elements);
    }
    return 1; /* the first record of each file is enough */
}

/* Featurizes the files of the 10k list in one process (read + the "default" set, as
 * `matscreen featurize` does: the single-process featurization figure the full screen is compared
 * with; *feat_rate in structures/s) and trains the forest classifier and surrogate of the
 * full-screen figure on the first 300 (target density, classifier density >= its median). */
static int train_full_models(const char *dir, struct dirent **names, int n_names, const char *clf,
                             const char *reg, double *feat_rate)
{
    ms_element_table *elements = NULL;
    const ms_descriptor_set *set = NULL;
    ms_structure_featurizer *f = NULL;
    if (ms_element_table_load_default(&elements) || ms_descriptor_set_lookup("default", &set) ||
        ms_structure_featurizer_create(set, elements, NULL, &f))
        return 1;
    size_t p = ms_structure_featurizer_n_features(f), n = 0, want = 300;
    double *x = malloc(want * p * sizeof *x), *y = malloc(want * sizeof *y), *yc = malloc(want * sizeof *yc);
    double *scratch = malloc(p * sizeof *scratch);
    int ok = x && y && yc && scratch;
    train_ctx tc = {f, elements, x, y, scratch, p, 0, want, 0};
    double t0 = ms_bench_now();
    for (int i = 0; ok && n_names > 0 && i < 10000; i++) { /* the files of the 10k list */
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, names[i % n_names]->d_name);
        ms_read_file(path, MS_FORMAT_AUTO, NULL, train_record, &tc);
    }
    double el = ms_bench_now() - t0;
    *feat_rate = el > 0 ? (double)tc.featurized / el : 0;
    free(scratch);
    n = tc.n;
    double med = 0;
    if (n) {
        double *t = malloc(n * sizeof *t);
        if (!t) return 1;
        memcpy(t, y, n * sizeof *t);
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
                double u = t[j]; t[j] = t[j - 1]; t[j - 1] = u;
            }
        med = t[n / 2];
        free(t);
    }
    for (size_t i = 0; i < n; i++) yc[i] = y[i] >= med;
    char sig[1024];
    ms_descriptor_set_signature(set, sig, sizeof sig);
    ms_matrix mx = {n, p, x, 0};
    for (int k = 0; ok && k < 2; k++) {
        ms_model_spec spec;
        ms_model_spec_default(&spec);
        spec.kind = "forest";
        spec.task = k ? MS_MODEL_REGRESSION : MS_MODEL_CLASSIFICATION;
        ms_model *m = NULL;
        ok = n >= 50 && ms_model_fit(&spec, &mx, k ? y : yc, NULL, MPI_COMM_SELF, &m) == MS_SUCCESS &&
             ms_model_set_meta(m, "density", 0, k ? NAN : med, set->name, set->version, sig) ==
                 MS_SUCCESS &&
             ms_model_save(m, k ? reg : clf) == MS_SUCCESS;
        ms_model_free(m);
    }
    if (!ok) fprintf(stderr, "bench_screen: training the full-screen models: %s\n", ms_error_message());
    ms_structure_featurizer_destroy(&f);
    ms_element_table_free(elements);
    free(x);
    free(y);
    free(yc);
    return !ok;
}

typedef struct {
    int ranks;
    unsigned long long records;
    double seconds, cpu;
    long rss[8];
    unsigned long long reused; /* full screens: records that reused an exact duplicate's work */
} run_result;

/* Runs one child under mpiexec and parses its RESULT line. */
static int run(const char *self, const char *data, const char *list, const char *label, int ranks,
               int master_works, double sync_seconds, int quiet, run_result *out)
{
    const char *mpiexec = getenv("MPIEXEC");
    if (!mpiexec || !*mpiexec) mpiexec = "mpiexec";
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s --oversubscribe -np %d '%s' '%s' --child '%s' %s %d %g %d",
             mpiexec, ranks, self, data, list, label, master_works, sync_seconds, quiet);
    FILE *f = popen(cmd, "r");
    if (!f) return 1;
    char line[1024];
    int ok = quiet;
    memset(out, 0, sizeof *out);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "RESULT ", 7) != 0) continue;
        char lab[64];
        int pos = 0;
        if (sscanf(line, "RESULT %63s %d %llu %lf %lf%n", lab, &out->ranks, &out->records,
                   &out->seconds, &out->cpu, &pos) < 5)
            continue;
        const char *q = line + pos;
        for (int i = 0; i < out->ranks && i < 8; i++) {
            char *end;
            out->rss[i] = strtol(q, &end, 10);
            q = end;
        }
        ok = 1;
    }
    return (pclose(f) != 0 || !ok) ? 1 : 0;
}

/* Writes a list of n paths cycling through the perov5 CIFs (sorted). */
static int write_list(const char *dir, struct dirent **names, int n_names, size_t n,
                      const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    for (size_t i = 0, k = 0; i < n; k = (k + 1) % (size_t)n_names) {
        if (names[k]->d_name[0] == '.') continue;
        fprintf(f, "%s/%s\n", dir, names[k]->d_name);
        i++;
    }
    return fclose(f) != 0;
}

static int not_hidden(const struct dirent *e) { return e->d_name[0] != '.'; }

typedef struct {
    ms_pipeline *p;
    unsigned long long n;
} count_ctx;

static int count_only(const ms_result *r, void *user)
{
    (void)r;
    ((count_ctx *)user)->n++;
    return 0;
}

/* The pipeline alone over the perov5 directory, one process: records per second. */
static double pipeline_only(const char *dir)
{
    ms_element_table *elements = NULL;
    ms_pipeline p;
    if (ms_element_table_load_default(&elements) != MS_SUCCESS ||
        ms_pipeline_init(&p, elements, MS_RANK_LI_FRACTION, 0, 0) != MS_SUCCESS)
        return 0;
    const char *specs[] = {dir};
    ms_source *src = NULL;
    ms_task *t = malloc(sizeof *t);
    ms_result *r = malloc(sizeof *r);
    count_ctx c = {&p, 0};
    double t0 = ms_bench_now();
    if (t && r && ms_source_create(specs, 1, NULL, &src) == MS_SUCCESS)
        while (ms_source_next(src, t)) ms_pipeline_run_task(&p, t, r, count_only, &c);
    double el = ms_bench_now() - t0;
    ms_source_free(src);
    free(t);
    free(r);
    ms_pipeline_destroy(&p);
    ms_element_table_free(elements);
    return el > 0 ? (double)c.n / el : 0;
}

static void print_rss(const run_result *a)
{
    for (int i = 0; i < a->ranks && i < 8; i++) printf(" %5.1f", (double)a->rss[i] / 1024.0);
}

/* One full screen (child_full) of list on n ranks; 1 when it reported. */
static int run_full(const char *self, const char *data, const char *list, const char *clf,
                    const char *reg, int n, size_t reuse_mib, run_result *fr)
{
    const char *mpiexec = getenv("MPIEXEC");
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "%s --oversubscribe -np %d '%s' '%s' --full '%s' '%s' '%s' %zu",
             mpiexec && *mpiexec ? mpiexec : "mpiexec", n, self, data, list, clf, reg, reuse_mib);
    FILE *f = popen(cmd, "r");
    char line[1024];
    int got = 0;
    memset(fr, 0, sizeof *fr);
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "RESULT full %d %llu %lf %llu", &fr->ranks, &fr->records, &fr->seconds,
                   &fr->reused) == 4)
            got = 1;
    if (f) pclose(f);
    return got;
}

/* Exact duplicates: the 10k list (7,572 files, then 2,428 of them again) on 1 rank with the
 * memo off and on, interleaved twice; the memo at 64 MiB holds every distinct structure of the
 * set (the default 16 MiB holds about 4,700 of perov5's default-set rows and empties before the
 * repeats come back: this line measures what reuse saves, not the default's hit rate). */
static void reuse_line(const char *self, const char *data, const char *list, const char *clf,
                       const char *reg)
{
    double t_off = 0, t_on = 0;
    unsigned long long reused = 0, records = 0;
    for (int round = 0; round < 2; round++) {
        run_result off, on;
        if (!run_full(self, data, list, clf, reg, 1, 0, &off) ||
            !run_full(self, data, list, clf, reg, 1, 64, &on))
            return;
        t_off += off.seconds;
        t_on += on.seconds;
        reused = on.reused;
        records = on.records;
    }
    printf("screen   exact duplicates, full pipeline, 10k perov5 tasks (7,572 files + 2,428 "
           "repeated), 1 rank, 2 interleaved rounds: reuse off %6.0f structures/s, reuse on "
           "(64 MiB) %6.0f structures/s (%llu of %llu records reused), on/off time %.2f\n",
           2.0 * (double)records / t_off, 2.0 * (double)records / t_on, reused, records,
           t_on / t_off);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_screen DATA_DIR\n");
        return 2;
    }
    if (argc >= 8 && strcmp(argv[2], "--child") == 0)
        return child(argv[3], argv[4], atoi(argv[5]), atof(argv[6]), atoi(argv[7]));
    if (argc >= 7 && strcmp(argv[2], "--full") == 0)
        return child_full(argv[3], argv[4], argv[5], (size_t)atol(argv[6]));
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
    setenv("OMP_NUM_THREADS", "1", 0);
    setenv("OPENBLAS_NUM_THREADS", "1", 0);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char dir[4096], tmpdir[] = "/tmp/ms_bench_lists_XXXXXX", l10[4200], l100[4200];
    snprintf(dir, sizeof dir, "%s/cif/perov5/cifs", argv[1]);
    struct dirent **names = NULL;
    int n_names = scandir(dir, &names, not_hidden, alphasort);
    if (n_names <= 0 || !mkdtemp(tmpdir)) {
        fprintf(stderr, "bench_screen: cannot list %s\n", dir);
        return 1;
    }
    snprintf(l10, sizeof l10, "%s/10k.txt", tmpdir);
    snprintf(l100, sizeof l100, "%s/100k.txt", tmpdir);
    char clf[4200], reg[4200];
    snprintf(clf, sizeof clf, "%s/clf.model", tmpdir);
    snprintf(reg, sizeof reg, "%s/reg.model", tmpdir);
    int bad = write_list(dir, names, n_names, 10000, l10) ||
              write_list(dir, names, n_names, 100000, l100);
    if (bad) return 1;

    printf("screen   perov5 (%d CIFs) repeated to 10,000 and 100,000 tasks, %ld cores; rank 0 "
           "works too; end to end (identity pass, journal, farm, outputs)\n", n_names, cores);
    fflush(stdout);
    run_result warm, r100[5], r10[5], coord, sync_every;
    if (run(argv[0], argv[1], l10, "warm", 1, 1, 1.0, 1, &warm)) return 1; /* page cache */
    double pipe = pipeline_only(dir), feat_rate = 0;
    int full_ok = train_full_models(dir, names, n_names, clf, reg, &feat_rate) == 0;
    for (int i = 0; i < n_names; i++) free(names[i]);
    free(names);
    printf("screen   pipeline alone, 1 process (read + stages, no MPI/journal/outputs): %.0f "
           "structures/s\n", pipe);
    if (full_ok)
        printf("screen   featurization alone, 1 process (read + default set, the 10k perov5 "
               "files, as matscreen featurize): %.0f structures/s\n", feat_rate);
    fflush(stdout);
    for (int n = 1; n <= 4; n++) {
        if (run(argv[0], argv[1], l100, "100k", n, 1, 1.0, 0, &r100[n])) return 1;
        double rate = (double)r100[n].records / r100[n].seconds;
        double base = (double)r100[1].records / r100[1].seconds;
        double cpu_rate = (double)r100[n].records / r100[n].cpu;
        double cpu_base = (double)r100[1].records / r100[1].cpu;
        printf("screen   100k %d rank%s: %llu structures in %6.2f s = %6.0f structures/s, "
               "efficiency %3.0f%%%s; %6.1f CPU s = %5.0f structures per CPU s (%3.0f%% of 1 "
               "rank); peak RSS MB per rank:",
               n, n > 1 ? "s" : " ", r100[n].records, r100[n].seconds, rate,
               100.0 * rate / (n * base), n > cores ? " (oversubscribed)" : "", r100[n].cpu,
               cpu_rate, 100.0 * cpu_rate / cpu_base);
        print_rss(&r100[n]);
        printf("\n");
        fflush(stdout);
    }
    for (int n = 1; n <= 4; n++) {
        if (run(argv[0], argv[1], l10, "10k", n, 1, 1.0, 0, &r10[n])) return 1;
        printf("screen   10k  %d rank%s: %6.0f structures/s; peak RSS MB per rank 10k:", n,
               n > 1 ? "s" : " ", (double)r10[n].records / r10[n].seconds);
        print_rss(&r10[n]);
        printf("  100k:");
        print_rss(&r100[n]);
        printf("  change:");
        for (int i = 0; i < n; i++)
            printf(" %+4.1f%%", 100.0 * (double)(r100[n].rss[i] - r10[n].rss[i]) /
                                    (double)r10[n].rss[i]);
        printf("\n");
        fflush(stdout);
    }
    if (!run(argv[0], argv[1], l10, "coord", 2, 0, 1.0, 0, &coord))
        printf("screen   10k  2 ranks, master only coordinates (1 worker): %6.0f structures/s "
               "(working master: %.0f)\n", (double)coord.records / coord.seconds,
               (double)r10[2].records / r10[2].seconds);
    if (!run(argv[0], argv[1], l10, "sync", 1, 1, 0.0, 0, &sync_every))
        printf("screen   10k  1 rank, fdatasync after every message: %6.0f structures/s "
               "(at most 1/s: %.0f)\n", (double)sync_every.records / sync_every.seconds,
               (double)r10[1].records / r10[1].seconds);
    printf("screen   end to end per core at 1 rank = %.0f%% of the pipeline alone; with more "
           "ranks than cores (%ld) the ranks share cores: efficiency there measures "
           "oversubscription, not scaling\n",
           pipe > 0 ? 100.0 * (double)r100[1].records / r100[1].seconds / pipe : 0.0, cores);
    /* Reuse off: these lines measure the pipeline, not the exact-duplicate memo (the 10k list
     * repeats 2,428 of the 7,572 files). */
    for (int n = 1; full_ok && n <= 2; n++) {
        run_result fr;
        if (run_full(argv[0], argv[1], l10, clf, reg, n, 0, &fr) && fr.seconds > 0)
            printf("screen   full pipeline (validate, symmetry, fingerprint, default set, forest "
                   "classifier + surrogate, EI), 10k perov5, %d rank%s, reuse off: %6.0f "
                   "structures/s = %6.0f per core = %3.0f%% of single-process featurization%s\n",
                   n, n > 1 ? "s" : " ", (double)fr.records / fr.seconds,
                   (double)fr.records / fr.seconds / n,
                   feat_rate > 0 ? 100.0 * (double)fr.records / fr.seconds / n / feat_rate : 0.0,
                   n > cores ? " (oversubscribed)" : "");
        fflush(stdout);
    }
    if (full_ok) reuse_line(argv[0], argv[1], l10, clf, reg);
    unlink(l10);
    unlink(l100);
    unlink(clf);
    unlink(reg);
    rmdir(tmpdir);
    return 0;
}
