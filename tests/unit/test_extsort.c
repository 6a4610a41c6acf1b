/*
 * Tests of the external merge sort (extsort.h): the sorted stream equals qsort with an insertion
 * sequence tie-break (so it is both correct and stable) in memory, spilled to a few runs, and
 * spilled to more runs than the fan-in (merge passes); empty input, one record, the budget
 * boundary; records of a real file list; errors on an unwritable directory and a damaged run
 * file; no run file left after destroy.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matscreen/extsort.h"
#include "matscreen/rng.h"
#include "suites.h"
#include "test_util.h"

/* A test record: key decides the order, seq is the insertion number (not looked at by the
 * sorter's comparator, only by the reference), payload checks that the bytes travel whole. */
typedef struct rec {
    double key;
    uint64_t seq;
    uint64_t payload;
} rec;

static int cmp_key(const void *pa, const void *pb, void *ctx)
{
    const rec *a = pa, *b = pb;
    int sign = ctx ? *(const int *)ctx : 1;
    if (a->key != b->key) return a->key < b->key ? -sign : sign;
    return 0;
}

/* The reference: the same order, ties by insertion number (what a stable sort must give). */
static int ref_sign = 1;
static int cmp_ref(const void *pa, const void *pb)
{
    const rec *a = pa, *b = pb;
    int c = cmp_key(pa, pb, &ref_sign);
    if (c) return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static char dir[64];

static void fresh_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/ms_test_extsort_XXXXXX");
    if (!mkdtemp(dir)) dir[0] = '\0';
}

static size_t count_files(const char *prefix) { return ms_test_count_prefixed(dir, prefix); }

/* n records; distinct > 0: keys drawn from that many high-entropy values (many ties), else
 * continuous uniform keys. */
static rec *make_records(size_t n, uint64_t distinct, uint64_t seed)
{
    ms_rng rng;
    ms_rng_seed(&rng, seed, 17);
    rec *r = malloc((n ? n : 1) * sizeof *r);
    for (size_t i = 0; r && i < n; i++) {
        double k = distinct ? 2.385 * (double)ms_rng_below(&rng, distinct) - 41.7
                            : 1e3 * ms_rng_normal(&rng);
        r[i] = (rec){k, i, ms_rng_next(&rng)};
    }
    return r;
}

/* Sorts n records through a sorter of the given budget, asserts that the stream equals qsort with
 * the insertion tie-break and that no run file is left, and returns the number of runs written. */
static size_t check_sort(const rec *in, size_t n, size_t budget, int sign)
{
    int ok = 1;
    int sg = sign;
    ref_sign = sign;
    ms_extsort *s = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_extsort_create(sizeof(rec), cmp_key, &sg, budget, dir, "test-sort", &s),
                          MS_SUCCESS);
    for (size_t i = 0; i < n; i++)
        if (ms_extsort_add(s, &in[i]) != MS_SUCCESS) ok = 0;
    CU_ASSERT_EQUAL(ms_extsort_count(s), n);
    CU_ASSERT_EQUAL_FATAL(ms_extsort_finish(s), MS_SUCCESS);
    rec *ref = malloc((n ? n : 1) * sizeof *ref);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    memcpy(ref, in, n * sizeof *ref);
    qsort(ref, n, sizeof *ref, cmp_ref);
    size_t got_n = 0;
    for (;;) {
        rec r;
        int got;
        if (ms_extsort_next(s, &r, &got) != MS_SUCCESS) {
            ok = 0;
            break;
        }
        if (!got) break;
        if (got_n >= n || memcmp(&r, &ref[got_n], sizeof r) != 0) ok = 0;
        got_n++;
    }
    if (got_n != n) ok = 0;
    CU_ASSERT(ok);
    size_t runs = ms_extsort_runs_written(s);
    ms_extsort_destroy(&s);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(count_files("test-sort"), 0); /* every run file removed */
    free(ref);
    return runs;
}

static void test_in_memory(void)
{
    fresh_dir();
    rec *in = make_records(5000, 0, 7);
    CU_ASSERT_EQUAL(check_sort(in, 5000, 8192, 1), 0); /* fits: no file */
    CU_ASSERT_EQUAL(check_sort(in, 5000, 5000, -1), 0); /* exactly the budget, descending */
    free(in);
    rmdir(dir);
}

static void test_spilled(void)
{
    fresh_dir();
    rec *in = make_records(20000, 0, 11);
    CU_ASSERT_EQUAL(check_sort(in, 20000, 1500, 1), 14); /* 13 full runs + the rest */
    CU_ASSERT_EQUAL(check_sort(in, 5001, 5000, 1), 2); /* one over the budget */
    free(in);
    rmdir(dir);
}

static void test_more_runs_than_fan_in(void)
{
    fresh_dir();
    /* 3001 records in runs of 7: 429 runs, merged in one pass (429 -> 7) and then on the fly. */
    rec *in = make_records(5000, 0, 23);
    size_t runs = check_sort(in, 3001, 7, 1);
    CU_ASSERT_EQUAL(runs, 429 + 7); /* the pass wrote ceil(429 / 64) = 7 runs more */
    /* Budget 1: one record per run, two merge passes (5000 -> 79 -> 2). */
    runs = check_sort(in, 5000, 1, -1);
    CU_ASSERT_EQUAL(runs, 5000 + 79 + 2);
    free(in);
    rmdir(dir);
}

static void test_stable(void)
{
    fresh_dir();
    /* 13 distinct keys for 40000 records: ties everywhere, across runs and merge passes. */
    rec *in = make_records(40000, 13, 5);
    check_sort(in, 40000, 40000, 1);
    CU_ASSERT(check_sort(in, 40000, 300, 1) > MS_EXTSORT_FAN_IN);
    check_sort(in, 40000, 300, -1);
    free(in);
    rmdir(dir);
}

static void test_empty_and_one(void)
{
    fresh_dir();
    rec one = {-3.1415, 0, 0x9e3779b97f4a7c15ULL};
    CU_ASSERT_EQUAL(check_sort(&one, 0, 4, 1), 0);
    CU_ASSERT_EQUAL(check_sort(&one, 1, 1, 1), 0);
    rmdir(dir);
}

/* Real data: the file list of the perov5 CIFs, sorted by size (many equal sizes: stability) with
 * a budget that makes more runs than the fan-in. */
typedef struct file_rec {
    uint64_t size;
    uint64_t seq;
    char name[48];
} file_rec;

static int cmp_size(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const file_rec *a = pa, *b = pb;
    return a->size < b->size ? -1 : a->size > b->size;
}

static int cmp_size_ref(const void *pa, const void *pb)
{
    int c = cmp_size(pa, pb, NULL);
    if (c) return c;
    const file_rec *a = pa, *b = pb;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void test_real_file_list(void)
{
    const char *cifs = ms_test_data("cif/perov5/cifs");
    DIR *d = opendir(cifs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    fresh_dir();
    size_t n = 0, cap = 8192;
    file_rec *in = calloc(cap, sizeof *in);
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    for (struct dirent *e; (e = readdir(d)) && n < cap;) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", cifs, e->d_name);
        if (stat(path, &sb) != 0) continue;
        in[n].size = (uint64_t)sb.st_size;
        in[n].seq = n;
        snprintf(in[n].name, sizeof in[n].name, "%s", e->d_name);
        n++;
    }
    closedir(d);
    CU_ASSERT(n > 7000); /* 7572 files */
    ms_extsort *s = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_extsort_create(sizeof *in, cmp_size, NULL, 97, dir, "cif-sizes", &s),
                          MS_SUCCESS);
    for (size_t i = 0; i < n; i++) CU_ASSERT_EQUAL_FATAL(ms_extsort_add(s, &in[i]), MS_SUCCESS);
    CU_ASSERT(count_files("cif-sizes.") > MS_EXTSORT_FAN_IN); /* runs on disk before finish */
    CU_ASSERT_EQUAL_FATAL(ms_extsort_finish(s), MS_SUCCESS);
    qsort(in, n, sizeof *in, cmp_size_ref);
    size_t k = 0, ties = 0;
    int same = 1;
    for (file_rec r;; k++) {
        int got;
        CU_ASSERT_EQUAL_FATAL(ms_extsort_next(s, &r, &got), MS_SUCCESS);
        if (!got) break;
        if (k >= n || memcmp(&r, &in[k], sizeof r) != 0) same = 0;
        if (k > 0 && k < n && in[k].size == in[k - 1].size) ties++;
    }
    CU_ASSERT(same);
    CU_ASSERT_EQUAL(k, n);
    CU_ASSERT(ties > 100); /* the data does exercise stability */
    ms_extsort_destroy(&s);
    CU_ASSERT_EQUAL(count_files("cif-sizes."), 0);
    free(in);
    rmdir(dir);
}

static void test_unwritable_directory(void)
{
    /* Root may write anywhere, so the directory is a path through a regular file. */
    fresh_dir();
    char file[96], bad[128];
    snprintf(file, sizeof file, "%s/plain", dir);
    FILE *f = fopen(file, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    snprintf(bad, sizeof bad, "%s/sub", file);
    ms_extsort *s = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_extsort_create(sizeof(rec), cmp_key, NULL, 4, bad, "runs", &s),
                          MS_SUCCESS);
    rec *in = make_records(5, 0, 3);
    for (int i = 0; i < 4; i++) CU_ASSERT_EQUAL(ms_extsort_add(s, &in[i]), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_extsort_add(s, &in[4]), MS_ERR_IO); /* the first spill */
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), bad));
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "sort run"));
    CU_ASSERT_EQUAL(ms_extsort_add(s, &in[4]), MS_ERR_USAGE); /* unusable after a failure */
    CU_ASSERT_EQUAL(ms_extsort_finish(s), MS_ERR_USAGE);
    ms_extsort_destroy(&s);
    /* Bad arguments. */
    CU_ASSERT_EQUAL(ms_extsort_create(0, cmp_key, NULL, 4, dir, "x", &s), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_extsort_create(8, cmp_key, NULL, 0, dir, "x", &s), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_extsort_create(8, cmp_key, NULL, 4, dir, "a/b", &s), MS_ERR_USAGE);
    CU_ASSERT_PTR_NULL(s);
    free(in);
    unlink(file);
    rmdir(dir);
}

/* A run file damaged between spill and merge (truncated in the middle of a record) is a clear
 * error naming the file, and destroy still removes every run, also after the failure and also
 * when the sorter is abandoned before finish. */
static void test_damaged_run_and_cleanup(void)
{
    fresh_dir();
    rec *in = make_records(100, 0, 9);
    ms_extsort *s = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_extsort_create(sizeof(rec), cmp_key, NULL, 10, dir, "damaged", &s),
                          MS_SUCCESS);
    for (int i = 0; i < 100; i++) CU_ASSERT_EQUAL_FATAL(ms_extsort_add(s, &in[i]), MS_SUCCESS);
    CU_ASSERT_EQUAL(count_files("damaged."), 9); /* the tenth buffer is still in memory */
    DIR *d = opendir(dir);
    char victim[256] = "";
    for (struct dirent *e; d && (e = readdir(d));)
        if (!strncmp(e->d_name, "damaged.", 8)) snprintf(victim, sizeof victim, "%s/%s", dir, e->d_name);
    if (d) closedir(d);
    CU_ASSERT_EQUAL_FATAL(truncate(victim, 5 * sizeof(rec) + 3), 0);
    ms_status st = ms_extsort_finish(s);
    int got = 1;
    rec r;
    while (st == MS_SUCCESS && got) st = ms_extsort_next(s, &r, &got);
    CU_ASSERT_EQUAL(st, MS_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), victim));
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "truncated"));
    ms_extsort_destroy(&s);
    CU_ASSERT_EQUAL(count_files("damaged."), 0);

    CU_ASSERT_EQUAL_FATAL(ms_extsort_create(sizeof(rec), cmp_key, NULL, 10, dir, "abandoned", &s),
                          MS_SUCCESS);
    for (int i = 0; i < 35; i++) CU_ASSERT_EQUAL(ms_extsort_add(s, &in[i]), MS_SUCCESS);
    CU_ASSERT_EQUAL(count_files("abandoned."), 3);
    ms_extsort_destroy(&s);
    CU_ASSERT_EQUAL(count_files("abandoned."), 0);
    ms_extsort_destroy(&s); /* NULL: no-op */
    ms_extsort_destroy(NULL);
    free(in);
    rmdir(dir);
}

static void test_usage_order(void)
{
    fresh_dir();
    ms_extsort *s = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_extsort_create(sizeof(rec), cmp_key, NULL, 4, dir, "order", &s),
                          MS_SUCCESS);
    rec r = {2.385, 0, 1};
    int got = 1;
    CU_ASSERT_EQUAL(ms_extsort_next(s, &r, &got), MS_ERR_USAGE); /* before finish */
    CU_ASSERT_EQUAL(got, 0);
    CU_ASSERT_EQUAL(ms_extsort_finish(s), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_extsort_finish(s), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_extsort_add(s, &r), MS_ERR_USAGE);
    ms_extsort_destroy(&s);
    rmdir(dir);
}

int ms_suite_extsort(void)
{
    CU_pSuite s = CU_add_suite("extsort", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "in memory equals qsort, no file", test_in_memory);
    CU_add_test(s, "spilled to runs equals qsort", test_spilled);
    CU_add_test(s, "more runs than the fan-in: merge passes", test_more_runs_than_fan_in);
    CU_add_test(s, "stable: ties keep insertion order", test_stable);
    CU_add_test(s, "empty input and one record", test_empty_and_one);
    CU_add_test(s, "real file list (perov5 CIF sizes)", test_real_file_list);
    CU_add_test(s, "unwritable directory and bad arguments", test_unwritable_directory);
    CU_add_test(s, "damaged run file; no run left after destroy", test_damaged_run_and_cleanup);
    CU_add_test(s, "calls out of order", test_usage_order);
    return CU_get_error();
}
