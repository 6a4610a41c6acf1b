/*
 * Tests of the labelled-dataset loader (dataset.h) on perov5's labels.csv, whose "file" column
 * names the CIF itself ("perov5-18517.cif"), unlike OBELiX's ID column (ID -> cifs/ID.cif).
 * Expected values are read from the CSV's own text (line 2: perov5-18517.cif, heat_ref
 * 2.709152583232041, ind_gap 0.0; line 5: perov5-8226.cif, ind_gap 2.9).
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/dataset.h"
#include "suites.h"
#include "test_util.h"

int ms_suite_dataset(void);

static void perov5_spec(ms_dataset_spec *s, const char *target, const char *dir)
{
    ms_dataset_spec_default(s);
    s->source = MS_DATASET_STRUCTURE_CSV;
    s->path = strdup(ms_test_data("cif/perov5/labels.csv"));
    s->structure_dir = strdup(dir);
    s->id_column = "file";
    s->target = target;
    s->max_rows = 12;
}

static void spec_free(ms_dataset_spec *s)
{
    free((char *)s->path);
    free((char *)s->structure_dir);
}

static void test_ids_that_name_the_file(void)
{
    ms_dataset_spec s;
    perov5_spec(&s, "heat_ref", ms_test_data("cif/perov5/cifs"));
    ms_dataset d;
    CU_ASSERT_EQUAL_FATAL(ms_dataset_load(&s, ms_test_elements(), &d), MS_SUCCESS);
    CU_ASSERT_EQUAL(d.n, 12);
    CU_ASSERT_EQUAL(d.n_dropped, 0);
    CU_ASSERT_STRING_EQUAL(d.first_dropped, "");
    CU_ASSERT_STRING_EQUAL(d.ids[0], "perov5-18517.cif");
    CU_ASSERT_DOUBLE_EQUAL(d.y[0], 2.709152583232041, 1e-15);
    CU_ASSERT(!isnan(d.x.data[0]));
    ms_dataset_free(&d);
    spec_free(&s);
}

static void test_missing_files_say_where_and_why(void)
{
    ms_dataset_spec s;
    perov5_spec(&s, "heat_ref", ms_test_local("json")); /* a directory without these CIFs */
    ms_dataset d;
    CU_ASSERT_EQUAL(ms_dataset_load(&s, ms_test_elements(), &d), MS_ERR_INVALID);
    const char *msg = ms_error_message();
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "12 dropped"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "labels.csv:2 (perov5-18517.cif)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "perov5-18517.cif.cif: cannot open"));
    spec_free(&s);
}

static void test_dropped_rows_keep_the_first_reason(void)
{
    ms_dataset_spec s;
    perov5_spec(&s, "ind_gap", ms_test_data("cif/perov5/cifs"));
    s.log10_target = 1; /* of lines 2-16 only 5 and 16 have ind_gap > 0 */
    ms_dataset d;
    CU_ASSERT_EQUAL_FATAL(ms_dataset_load(&s, ms_test_elements(), &d), MS_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "fewer than 2 usable rows (11 dropped"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "labels.csv:2 (perov5-18517.cif): log10"));
    s.max_rows = 15; /* lines 5 and 16 are usable: two rows */
    CU_ASSERT_EQUAL_FATAL(ms_dataset_load(&s, ms_test_elements(), &d), MS_SUCCESS);
    CU_ASSERT_EQUAL(d.n, 2);
    CU_ASSERT_EQUAL(d.n_dropped, 13);
    CU_ASSERT_STRING_EQUAL(d.ids[0], "perov5-8226.cif");
    CU_ASSERT_DOUBLE_EQUAL(d.y[0], log10(2.9), 1e-15);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.first_dropped, "labels.csv:2 (perov5-18517.cif): log10 of a "
                                                   "target that is not positive"));
    ms_dataset_free(&d);
    spec_free(&s);
}

/* Pack / unpack (what rank 0 broadcasts): a real data set with dropped rows and NaN features
 * comes back equal in every field and byte; cut or damaged bytes are refused. */
static void test_pack_round_trip(void)
{
    ms_dataset_spec s;
    perov5_spec(&s, "ind_gap", ms_test_data("cif/perov5/cifs"));
    s.log10_target = 1;
    s.max_rows = 15;
    s.set = "default"; /* structure features too: some are NaN */
    ms_dataset d, u;
    CU_ASSERT_EQUAL_FATAL(ms_dataset_load(&s, ms_test_elements(), &d), MS_SUCCESS);
    void *buf = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(ms_dataset_pack(&d, &buf, &n), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_dataset_unpack(buf, n, &u), MS_SUCCESS);
    CU_ASSERT_EQUAL(u.n, d.n);
    CU_ASSERT_EQUAL_FATAL(u.n_features, d.n_features);
    CU_ASSERT_EQUAL(u.x.rows, d.x.rows);
    CU_ASSERT_EQUAL(u.x.cols, d.x.cols);
    CU_ASSERT_EQUAL(u.n_dropped, 13);
    CU_ASSERT_EQUAL(u.classification, d.classification);
    CU_ASSERT_EQUAL(u.set_version, d.set_version);
    CU_ASSERT_STRING_EQUAL(u.set_name, d.set_name);
    CU_ASSERT_STRING_EQUAL(u.set_signature, d.set_signature);
    CU_ASSERT_STRING_EQUAL(u.first_dropped, d.first_dropped);
    CU_ASSERT_STRING_EQUAL(u.target_name, d.target_name);
    CU_ASSERT(memcmp(u.x.data, d.x.data, d.n * d.n_features * sizeof *d.x.data) == 0);
    CU_ASSERT(memcmp(u.y, d.y, d.n * sizeof *d.y) == 0);
    CU_ASSERT(memcmp(u.target, d.target, d.n * sizeof *d.target) == 0);
    size_t nan = 0;
    for (size_t k = 0; k < d.n * d.n_features; k++) nan += isnan(d.x.data[k]);
    CU_ASSERT(nan > 0); /* the round trip kept NaN features, not only numbers */
    for (size_t i = 0; i < d.n; i++) {
        CU_ASSERT_STRING_EQUAL(u.ids[i], d.ids[i]);
        CU_ASSERT_STRING_EQUAL(u.chemsys[i], d.chemsys[i]);
        CU_ASSERT_STRING_EQUAL(u.formula[i], d.formula[i]);
    }
    CU_ASSERT_PTR_NULL(u.group);
    for (size_t j = 0; j < d.n_features; j++)
        CU_ASSERT_STRING_EQUAL(u.feature_names[j], d.feature_names[j]);
    ms_dataset_free(&u);
    /* every cut is refused, never read past */
    for (size_t cut = 0; cut < n; cut += n / 50 + 1) {
        CU_ASSERT_EQUAL(ms_dataset_unpack(buf, cut, &u), MS_ERR_INVALID);
        CU_ASSERT_EQUAL(u.n, 0);
    }
    ((unsigned char *)buf)[0] ^= 1; /* not the magic */
    CU_ASSERT_EQUAL(ms_dataset_unpack(buf, n, &u), MS_ERR_INVALID);
    free(buf);
    ms_dataset_free(&d);
    spec_free(&s);
}

int ms_suite_dataset(void)
{
    CU_pSuite s = CU_add_suite("dataset", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "ids that name the structure file", test_ids_that_name_the_file);
    CU_add_test(s, "missing structure files: where and why", test_missing_files_say_where_and_why);
    CU_add_test(s, "dropped rows keep the first reason", test_dropped_rows_keep_the_first_reason);
    CU_add_test(s, "pack / unpack round trip", test_pack_round_trip);
    return CU_get_error();
}
