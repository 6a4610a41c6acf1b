/*
 * Suite "screen": ms_screen_run on real structures (OBELiX CIFs, a CIF/JSON pair of one structure,
 * a broken CIF) with real forest models trained here on OBELiX (Magpie features of the reduced
 * compositions, log10 ionic conductivity; classifier at 1e-4 S/cm); the keep filter; the result
 * cache contract (a second run with the cache dispatches nothing and writes the same bytes).
 * Runs as one MPI process (MPI is initialised here when the runner has not).
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matscreen/composition.h"
#include "matscreen/csv.h"
#include "matscreen/descriptor.h"
#include "matscreen/element.h"
#include "matscreen/farm.h"
#include "matscreen/journal.h"
#include "matscreen/model.h"
#include "matscreen/pipeline.h"
#include "matscreen/comm.h"
#include "matscreen/results.h"
#include "matscreen/screen.h"
#include "suites.h"
#include "test_util.h"

int ms_suite_screen(void); /* declared in suites.h once registered */

static char dir[256];

static void finalize_mpi(void)
{
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
}

static int suite_init(void)
{
    int ini = 0;
    MPI_Initialized(&ini);
    if (!ini) {
        int argc = 0;
        char **argv = NULL;
        if (ms_comm_init(&argc, &argv) != 0) return 1;
        atexit(finalize_mpi);
    }
    snprintf(dir, sizeof dir, "/tmp/ms_test_screen_XXXXXX");
    return mkdtemp(dir) ? 0 : 1;
}

static int suite_clean(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

static const char *path_in(const char *name)
{
    static char buf[4][512];
    static int slot;
    slot = (slot + 1) % 4;
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", dir, name);
    return buf[slot];
}

/* Trains a forest on Magpie features of OBELiX reduced compositions; classification when
 * threshold is finite (log10 sigma >= threshold). Writes path. */
static int train_model(const char *path, double threshold)
{
    const ms_descriptor_set *set = NULL;
    ms_featurizer *f = NULL;
    if (ms_descriptor_set_lookup("magpie", &set) || ms_featurizer_create(set, ms_test_elements(), &f))
        return 1;
    size_t p = ms_featurizer_n_features(f), n = 0, cap = 240;
    double *x = malloc(cap * p * sizeof *x), *y = malloc(cap * sizeof *y);
    FILE *in = fopen(ms_test_data("labeled/obelix-train/train.csv"), "r");
    char line[8192];
    char *fields[64];
    int ok = x && y && in && fgets(line, sizeof line, in);
    int cf = -1, cs = -1;
    if (ok) {
        int nf = ms_csv_split(line, fields, 64);
        cf = ms_csv_column(fields, nf, "Reduced Composition");
        cs = ms_csv_column(fields, nf, "Ionic conductivity (S cm-1)");
        ok = cf >= 0 && cs >= 0;
    }
    while (ok && n < cap && fgets(line, sizeof line, in)) {
        int nf = ms_csv_split(line, fields, 64);
        if (nf <= cs || nf <= cf) continue;
        char *end;
        double sigma = strtod(fields[cs], &end);
        ms_composition c;
        if (end == fields[cs] || !(sigma > 0) || ms_composition_parse(fields[cf], &c)) continue;
        if (ms_featurizer_compute_composition(f, &c, x + n * p, NULL)) continue;
        y[n] = log10(sigma);
        if (isfinite(threshold)) y[n] = y[n] >= threshold;
        n++;
    }
    if (in) fclose(in);
    ms_model *m = NULL;
    if (ok && n >= 100) {
        ms_model_spec spec;
        ms_model_spec_default(&spec);
        spec.kind = "forest";
        spec.task = isfinite(threshold) ? MS_MODEL_CLASSIFICATION : MS_MODEL_REGRESSION;
        ms_model_options_add(&spec.options, "n_trees=30");
        ms_matrix mx = {n, p, x, 0};
        char sig[1024];
        ms_descriptor_set_signature(set, sig, sizeof sig);
        ok = ms_model_fit(&spec, &mx, y, NULL, MPI_COMM_SELF, &m) == MS_SUCCESS &&
             ms_model_set_meta(m, "conductivity", !isfinite(threshold),
                               isfinite(threshold) ? pow(10, threshold) : NAN, set->name,
                               set->version, sig) == MS_SUCCESS &&
             ms_model_save(m, path) == MS_SUCCESS;
    } else {
        ok = 0;
    }
    ms_model_free(m);
    ms_featurizer_destroy(&f);
    free(x);
    free(y);
    return !ok;
}

static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    int ok = a && b;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
    if (a) fclose(a);
    if (b && fclose(b)) ok = 0;
    return !ok;
}

/* Whole file into a new string (NULL on failure). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

/* The four text outputs of the runs in out directories a and b are the same bytes. */
static void assert_same_outputs(const char *a, const char *b)
{
    const char *files[] = {"ranked.csv", "ranked.jsonl", "errors.csv", "quality.json"};
    for (size_t i = 0; i < 4; i++) {
        char pa[64], pb[64];
        snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
        char *x = slurp(path_in(pa)), *y = slurp(path_in(pb));
        CU_ASSERT_PTR_NOT_NULL_FATAL(x);
        CU_ASSERT_PTR_NOT_NULL_FATAL(y);
        CU_ASSERT_STRING_EQUAL(x, y);
        free(x);
        free(y);
    }
}

static int setup_inputs(void)
{
    static int done;
    if (done) return 0;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/in' && ls '%s' | sort | head -12 | while read f; do "
             "cp '%s'/\"$f\" '%s/in/'; done", dir, ms_test_data("labeled/obelix-train/cifs"),
             ms_test_data("labeled/obelix-train/cifs"), dir);
    if (system(cmd) != 0) return 1;
    if (copy_file(ms_test_data("cif/pymatgen/tests/files/Li4Fe3Mn1(PO4)4.cif"),
                  path_in("in/Li4Fe3Mn1(PO4)4.cif")) ||
        copy_file(ms_test_data("json/tests/files/Li4Fe3Mn1(PO4)4.json"),
                  path_in("in/Li4Fe3Mn1(PO4)4.json")) ||
        copy_file(ms_test_local("broken/truncated.cif"), path_in("in/truncated.cif")))
        return 1;
    if (train_model(path_in("reg.model"), NAN) || train_model(path_in("clf.model"), -4.0)) return 1;
    done = 1;
    return 0;
}

static ms_screen_input the_input;

static void config(ms_screen_config *cfg, const char *out)
{
    static char outbuf[4][512];
    static int slot;
    slot = (slot + 1) % 4;
    snprintf(outbuf[slot], sizeof outbuf[slot], "%s/%s", dir, out);
    ms_screen_config_default(cfg);
    the_input.spec = path_in("in");
    cfg->inputs = &the_input;
    cfg->n_inputs = 1;
    cfg->out_dir = outbuf[slot];
    cfg->top_k = 3;
    cfg->progress = 0;
}

static void test_screen_with_models(void)
{
    CU_ASSERT_FATAL(setup_inputs() == 0);
    ms_screen_config cfg;
    config(&cfg, "models");
    static char clf[512], reg[512];
    snprintf(clf, sizeof clf, "%s", path_in("clf.model"));
    snprintf(reg, sizeof reg, "%s", path_in("reg.model"));
    cfg.model_paths[0] = clf;
    cfg.model_paths[1] = reg;
    cfg.n_models = 2;
    cfg.rank_by = "ei";
    cfg.best = -3.0;
    ms_screen_summary sum;
    CU_ASSERT_EQUAL_FATAL(ms_screen_run(MPI_COMM_WORLD, &cfg, &sum), MS_SUCCESS);
    CU_ASSERT_EQUAL(sum.records, 15);
    CU_ASSERT(sum.failed >= 1);
    char *ranked = slurp(path_in("models/ranked.csv"));
    char *errors = slurp(path_in("models/errors.csv"));
    char *manifest = slurp(path_in("models/manifest.json"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ranked);
    CU_ASSERT_PTR_NOT_NULL_FATAL(errors);
    CU_ASSERT_PTR_NOT_NULL_FATAL(manifest);
    /* Every row: class_prob in [0, 1], finite mean, sigma >= 0, acquisition non-increasing and
     * equal to EI x probability. */
    char *save = NULL, *line = strtok_r(ranked, "\n", &save);
    size_t rows = 0, pair_rows = 0;
    double prev = INFINITY;
    int prev_in = -2;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *f[32];
        int n = ms_csv_split(line, f, 32);
        CU_ASSERT_EQUAL_FATAL(n, 25);
        /* --domain rank (default): in-domain rows first, acquisition order within each; these
         * models come from ms_model_fit, which stores no domain: in_domain is empty (-1) */
        int in = f[23][0] ? atoi(f[23]) : -1;
        CU_ASSERT((in == 0 || in == 1 || (in == -1 && !f[22][0])) &&
                  in <= (prev_in == -2 ? 1 : prev_in));
        if (in != prev_in) prev = INFINITY;
        prev_in = in;
        double p = atof(f[15]), mu = atof(f[16]), sg = atof(f[17]), a = atof(f[18]);
        CU_ASSERT(f[15][0] && p >= 0 && p <= 1);
        CU_ASSERT(f[16][0] && isfinite(mu));
        CU_ASSERT(f[17][0] && sg >= 0);
        CU_ASSERT(a <= prev);
        double z = (mu + 3.0) / sg;
        double ei = sg > 0 ? (mu + 3.0) * 0.5 * erfc(-z / sqrt(2)) + sg * exp(-0.5 * z * z) /
                                 sqrt(2 * M_PI)
                           : fmax(mu + 3.0, 0);
        CU_ASSERT(ms_test_close(a, ei * p, 1e-8, 1e-12));
        prev = a;
        /* The pair: the CIF is the representative (file order), the JSON listed in sources. */
        if (strstr(f[2], "Li4Fe3Mn1(PO4)4.cif") && strstr(f[6], "Li4Fe3Mn1(PO4)4.json") &&
            strchr(f[6], ';')) {
            pair_rows++;
            CU_ASSERT_EQUAL(atoi(f[20]), 1);
        }
        rows++;
    }
    CU_ASSERT_EQUAL(rows, 13); /* 12 OBELiX + the merged pair */
    CU_ASSERT_EQUAL(pair_rows, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(errors, "truncated.cif#0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(errors, ",read,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(manifest, "\"role\": \"surrogate\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(manifest, "\"name\": \"magpie\""));
    free(ranked);
    free(errors);
    free(manifest);

    /* EI without a best label is refused; an unknown rank-by too. */
    config(&cfg, "refused");
    cfg.model_paths[0] = reg;
    cfg.n_models = 1;
    cfg.rank_by = "ei";
    CU_ASSERT_EQUAL(ms_screen_run(MPI_COMM_WORLD, &cfg, NULL), MS_ERR_USAGE);
    cfg.rank_by = "bogus";
    CU_ASSERT_EQUAL(ms_screen_run(MPI_COMM_WORLD, &cfg, NULL), MS_ERR_USAGE);
}

static int keep_li_rich(const ms_result *r, void *user)
{
    (*(int *)user)++;
    return r->li_fraction > 0.3;
}

static void test_screen_keep_filter(void)
{
    CU_ASSERT_FATAL(setup_inputs() == 0);
    ms_screen_config cfg;
    config(&cfg, "keep");
    int calls = 0;
    cfg.keep = keep_li_rich;
    cfg.keep_user = &calls;
    ms_screen_summary sum;
    CU_ASSERT_EQUAL_FATAL(ms_screen_run(MPI_COMM_WORLD, &cfg, &sum), MS_SUCCESS);
    CU_ASSERT_EQUAL(calls, 14); /* screened records only */
    CU_ASSERT(sum.filtered > 0 && sum.filtered < 14);
    char *ranked = slurp(path_in("keep/ranked.csv"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ranked);
    char *save = NULL, *line = strtok_r(ranked, "\n", &save);
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *f[32];
        CU_ASSERT_EQUAL_FATAL(ms_csv_split(line, f, 32), 25);
        CU_ASSERT(atof(f[14]) > 0.3);
    }
    free(ranked);
}

/* ---- an in-memory result cache --------------------------------------------------------- */

typedef struct mem_entry {
    char path[512];
    long long offset;
    uint64_t identity;
    unsigned char *data;
    size_t len;
} mem_entry;

typedef struct mem_cache {
    mem_entry e[64];
    size_t n, lookups, hits, stores;
} mem_cache;

static int mem_lookup(void *ctx, const ms_task *t, uint64_t identity, const void **data, size_t *len)
{
    mem_cache *c = ctx;
    c->lookups++;
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].identity == identity && c->e[i].offset == t->offset &&
            strcmp(c->e[i].path, t->path) == 0) {
            *data = c->e[i].data;
            *len = c->e[i].len;
            c->hits++;
            return 1;
        }
    return 0;
}

static void mem_store(void *ctx, const ms_task *t, uint64_t identity, const void *data, size_t len)
{
    mem_cache *c = ctx;
    c->stores++;
    if (c->n == 64) return;
    mem_entry *e = &c->e[c->n++];
    snprintf(e->path, sizeof e->path, "%s", t->path);
    e->offset = t->offset;
    e->identity = identity;
    e->data = malloc(len ? len : 1);
    if (e->data) memcpy(e->data, data, len);
    e->len = len;
}

static void test_screen_cache(void)
{
    CU_ASSERT_FATAL(setup_inputs() == 0);
    static mem_cache cache;
    memset(&cache, 0, sizeof cache);
    ms_result_cache rc = {&cache, mem_lookup, mem_store, NULL};
    static char reg[512];
    snprintf(reg, sizeof reg, "%s", path_in("reg.model"));
    ms_screen_config cfg;
    config(&cfg, "cache1");
    cfg.cache = &rc;
    cfg.model_paths[0] = reg;
    cfg.n_models = 1;
    cfg.rank_by = "ucb";
    ms_screen_summary s1, s2, s3;
    CU_ASSERT_EQUAL_FATAL(ms_screen_run(MPI_COMM_WORLD, &cfg, &s1), MS_SUCCESS);
    CU_ASSERT_EQUAL(s1.tasks, 15);
    CU_ASSERT_EQUAL(s1.cache_hits, 0);
    CU_ASSERT_EQUAL(cache.stores, 15);
    config(&cfg, "cache2");
    cfg.cache = &rc;
    cfg.model_paths[0] = reg;
    cfg.n_models = 1;
    cfg.rank_by = "ucb";
    CU_ASSERT_EQUAL_FATAL(ms_screen_run(MPI_COMM_WORLD, &cfg, &s2), MS_SUCCESS);
    CU_ASSERT_EQUAL(s2.tasks, 0); /* nothing dispatched */
    CU_ASSERT_EQUAL(s2.cache_hits, 15);
    CU_ASSERT_EQUAL(s2.identity, s1.identity);
    assert_same_outputs("cache1", "cache2");
    /* Another identity (a different acquisition) misses the cache and runs everything. */
    config(&cfg, "cache3");
    cfg.cache = &rc;
    cfg.model_paths[0] = reg;
    cfg.n_models = 1;
    cfg.rank_by = "mean";
    CU_ASSERT_EQUAL_FATAL(ms_screen_run(MPI_COMM_WORLD, &cfg, &s3), MS_SUCCESS);
    CU_ASSERT_NOT_EQUAL(s3.identity, s1.identity);
    CU_ASSERT_EQUAL(s3.tasks, 15);
    CU_ASSERT_EQUAL(s3.cache_hits, 0);
    for (size_t i = 0; i < cache.n; i++) free(cache.e[i].data);
}

/* The index is sorted externally (extsort.h): with a sort budget of 2 entries every sorter spills
 * to many runs and merges them, and the CIF/JSON pair makes a group read back from the member
 * file; the outputs must be the bytes of the in-memory run, no temporary file may be left, a
 * stale one from a killed run is removed, and a bad budget is refused. */
static void test_screen_sort_budget(void)
{
    CU_ASSERT_FATAL(setup_inputs() == 0);
    ms_screen_config cfg;
    ms_screen_summary sum;
    config(&cfg, "budget_default");
    CU_ASSERT_EQUAL_FATAL(ms_screen_run(MPI_COMM_WORLD, &cfg, &sum), MS_SUCCESS);
    config(&cfg, "budget_2");
    char stale[600];
    snprintf(stale, sizeof stale, "%s", cfg.out_dir);
    CU_ASSERT_EQUAL(mkdir(stale, 0777), 0);
    snprintf(stale, sizeof stale, "%s/tmp-results-999999999-groups.AbCdEf", cfg.out_dir);
    FILE *f = fopen(stale, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    setenv("MATSCREEN_SORT_BUDGET", "2", 1);
    ms_status st = ms_screen_run(MPI_COMM_WORLD, &cfg, &sum);
    unsetenv("MATSCREEN_SORT_BUDGET");
    CU_ASSERT_EQUAL_FATAL(st, MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_test_count_prefixed(cfg.out_dir, "tmp-"), 0); /* the stale one too */
    assert_same_outputs("budget_default", "budget_2");
    char *jsonl = slurp(path_in("budget_2/ranked.jsonl")), *errors = slurp(path_in("budget_2/errors.csv"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(jsonl);
    CU_ASSERT_PTR_NOT_NULL_FATAL(errors);
    CU_ASSERT_PTR_NOT_NULL(strstr(jsonl, "(PO4)4.json#0\"]")); /* the pair: one row, both members */
    CU_ASSERT_PTR_NOT_NULL(strstr(errors, "truncated.cif"));
    free(jsonl);
    free(errors);
    config(&cfg, "budget_bad");
    setenv("MATSCREEN_SORT_BUDGET", "-3", 1);
    st = ms_screen_run(MPI_COMM_WORLD, &cfg, &sum);
    unsetenv("MATSCREEN_SORT_BUDGET");
    CU_ASSERT_EQUAL(st, MS_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "MATSCREEN_SORT_BUDGET"));
}

/* A record that ranks twice (its file listed twice, with the pipeline's own stages, which do not
 * merge duplicates: the library road bench_screen takes) gets a CIF under each rank. The top/
 * writer used to match each record once per file read and failed the second rank with "record
 * no longer found". */
static void test_top_cifs_twice(void)
{
    const char *cif = path_in("twice/LiCl.cif"), *list = path_in("twice/list.txt");
    char out[600];
    snprintf(out, sizeof out, "%s/twice/out", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(path_in("twice"), 0777), 0);
    FILE *f = fopen(cif, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("data_LiCl\n_cell_length_a 5.13\n_cell_length_b 5.13\n_cell_length_c 5.13\n"
          "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
          "_symmetry_space_group_name_H-M 'P 1'\nloop_\n_atom_site_label\n_atom_site_type_symbol\n"
          "_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
          "Li1 Li 0 0 0\nLi2 Li 0.5 0.5 0\nLi3 Li 0.5 0 0.5\nLi4 Li 0 0.5 0.5\n"
          "Cl1 Cl 0.5 0 0\nCl2 Cl 0 0.5 0\nCl3 Cl 0 0 0.5\nCl4 Cl 0.5 0.5 0.5\n", f);
    fclose(f);
    f = fopen(list, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "%s\n%s\n", cif, cif);
    fclose(f);
    char spec[600];
    snprintf(spec, sizeof spec, "@%s", list);
    const char *specs[] = {spec};
    ms_pipeline p;
    CU_ASSERT_EQUAL_FATAL(ms_pipeline_init(&p, ms_test_elements(), MS_RANK_LI_FRACTION, 0, 0),
                          MS_SUCCESS);
    ms_journal_identity id;
    ms_results *res = NULL;
    ms_source *src = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_journal_identity_inputs(&id, specs, 1, NULL), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_results_open_journal(out, &id, 0, &res), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_source_create(specs, 1, NULL, &src), MS_SUCCESS);
    ms_farm_hooks hooks;
    ms_journal_farm_hooks(ms_results_journal(res), &hooks);
    ms_farm_options fo;
    ms_farm_options_default(&fo);
    fo.progress = 0;
    fo.hooks = &hooks;
    ms_farm_stats stats;
    ms_status st = ms_farm_run(MPI_COMM_WORLD, src, &p, &fo, ms_results_add, res, &stats);
    if (st == MS_SUCCESS) st = ms_journal_finish(ms_results_journal(res));
    char *argv0 = "test";
    ms_run_info info = {.argc = 1, .argv = &argv0, .inputs = specs, .n_inputs = 1, .ranks = 1,
                        .rank_by = "li_fraction", .top_k = 5, .domain_threshold = NAN,
                        .best = NAN, .records_run = stats.records};
    if (st == MS_SUCCESS) st = ms_results_finish(res, &info, ms_test_elements());
    CU_ASSERT_EQUAL(st, MS_SUCCESS);
    CU_ASSERT_EQUAL(stats.records, 2);
    ms_results_free(res);
    ms_source_free(src);
    ms_pipeline_destroy(&p);
    char top[700];
    snprintf(top, sizeof top, "%s/top", out);
    CU_ASSERT_EQUAL(ms_test_count_prefixed(top, "000"), 2); /* 0001_LiCl.cif and 0002_LiCl.cif */
    snprintf(top, sizeof top, "%s/top/0002_LiCl.cif", out);
    char *second = slurp(top);
    CU_ASSERT_PTR_NOT_NULL_FATAL(second);
    CU_ASSERT_PTR_NOT_NULL(strstr(second, "rank 2"));
    free(second);
}

/* Exact duplicates (docs/engine.md): four OBELiX CIFs copied under other names hold the same
 * cell and sites byte for byte. With the memo on, each copy screened after its original reuses
 * its symmetry, fingerprint and feature row (counted in the summary and the manifest); the
 * outputs, with --explain's feature values in every row, are the bytes of a run with the memo
 * off and of one whose 64 KiB memo empties itself every few records. */
static void test_screen_exact_duplicates(void)
{
    CU_ASSERT_FATAL(setup_inputs() == 0);
    static char spec[512], clf[512], reg[512];
    snprintf(spec, sizeof spec, "%s/dupin", dir);
    snprintf(clf, sizeof clf, "%s", path_in("clf.model"));
    snprintf(reg, sizeof reg, "%s", path_in("reg.model"));
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cp -r '%s/in' '%s' && ls '%s/in' | grep -v -e truncated -e 'PO4' | "
             "sort | head -4 | while read f; do cp '%s/in/'\"$f\" '%s/copy-'\"$f\"; done",
             dir, spec, dir, dir, spec);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    const char *outs[3] = {"dup_on", "dup_off", "dup_small"};
    const size_t caps[3] = {MS_SCREEN_REUSE_DEFAULT, 0, 65536};
    ms_screen_summary sum[3];
    for (int i = 0; i < 3; i++) {
        ms_screen_config cfg;
        config(&cfg, outs[i]);
        the_input.spec = spec;
        cfg.model_paths[0] = clf;
        cfg.model_paths[1] = reg;
        cfg.n_models = 2;
        cfg.rank_by = "ei";
        cfg.best = -3.0;
        cfg.explain_k = 3;
        cfg.reuse_bytes = caps[i];
        CU_ASSERT_EQUAL_FATAL(ms_screen_run(MPI_COMM_WORLD, &cfg, &sum[i]), MS_SUCCESS);
        CU_ASSERT_EQUAL(sum[i].records, 19);
    }
    CU_ASSERT_EQUAL(sum[0].reused, 4);
    CU_ASSERT_EQUAL(sum[1].reused, 0);
    CU_ASSERT(sum[2].reused <= 4);
    assert_same_outputs("dup_on", "dup_off");
    assert_same_outputs("dup_on", "dup_small");
    char *manifest = slurp(path_in("dup_on/manifest.json"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(manifest);
    CU_ASSERT_PTR_NOT_NULL(strstr(manifest, "\"reused_records\": 4"));
    free(manifest);
}

int ms_suite_screen(void)
{
    CU_pSuite s = CU_add_suite("screen", suite_init, suite_clean);
    if (!s) return CU_get_error();
    CU_add_test(s, "screen with a trained classifier and surrogate, ranked by gated EI",
                test_screen_with_models);
    CU_add_test(s, "keep filter on rank 0", test_screen_keep_filter);
    CU_add_test(s, "result cache: second run dispatches nothing, same bytes", test_screen_cache);
    CU_add_test(s, "outputs independent of the sort budget (spilled index)", test_screen_sort_budget);
    CU_add_test(s, "top CIFs: a record ranked twice is written under both ranks",
                test_top_cifs_twice);
    CU_add_test(s, "exact duplicates reuse symmetry and features, same bytes as without",
                test_screen_exact_duplicates);
    return CU_get_error();
}
