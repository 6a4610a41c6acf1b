/* Tests of format detection and dispatch (src/io/reader.c) on real files. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matscreen/reader.h"
#include "suites.h"
#include "test_util.h"

static void test_detect_by_name(void)
{
    CU_ASSERT_EQUAL(ms_format_detect(ms_test_data("cif/gemdat/li3ps4.cif")), MS_FORMAT_CIF);
    CU_ASSERT_EQUAL(ms_format_detect(ms_test_data("json/tests/files/LiMn2O4.json")), MS_FORMAT_JSON);
    CU_ASSERT_EQUAL(ms_format_detect(ms_test_local("json/mp_records.jsonl")), MS_FORMAT_JSONL);
    CU_ASSERT_EQUAL(ms_format_detect(ms_test_local("poscar/Li2O.POSCAR")), MS_FORMAT_POSCAR);
    CU_ASSERT_EQUAL(ms_format_detect("/some/where/CONTCAR"), MS_FORMAT_POSCAR);
    CU_ASSERT_EQUAL(ms_format_detect("/some/where/relaxed.vasp"), MS_FORMAT_POSCAR);
    CU_ASSERT_STRING_EQUAL(ms_format_name(MS_FORMAT_JSONL), "jsonl");
    CU_ASSERT_STRING_EQUAL(ms_format_name(MS_FORMAT_AUTO), "auto");
}

/* Copies a real file under a name without a telling extension; sniffing must still work. */
static const char *copy_as(const char *src, const char *name)
{
    static char dst[256];
    snprintf(dst, sizeof dst, "/tmp/ms_test_reader_%d_%s", (int)getpid(), name);
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    return dst;
}

static void test_detect_by_content(void)
{
    const char *p = copy_as(ms_test_data("cif/gemdat/li3ps4.cif"), "structure.txt");
    CU_ASSERT_EQUAL(ms_format_detect(p), MS_FORMAT_CIF);
    remove(p);
    p = copy_as(ms_test_data("json/tests/files/LiMn2O4.json"), "structure.dat");
    CU_ASSERT_EQUAL(ms_format_detect(p), MS_FORMAT_JSON);
    remove(p);
    p = copy_as(ms_test_local("json/mp_records.jsonl"), "records.dat");
    CU_ASSERT_EQUAL(ms_format_detect(p), MS_FORMAT_JSONL);
    remove(p);
    p = copy_as(ms_test_local("json/README.md"), "notes.txt");
    CU_ASSERT_EQUAL(ms_format_detect(p), MS_FORMAT_AUTO);
    CU_ASSERT_EQUAL(ms_read_file(p, MS_FORMAT_AUTO, NULL, NULL, NULL), MS_ERR_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "notes.txt"));
    remove(p);
}

typedef struct {
    int n_ok, n_failed;
    char first_formula_file[256];
} tally;

static int count(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    tally *t = user;
    if (status == MS_SUCCESS) t->n_ok++;
    else t->n_failed++;
    if (t->n_ok == 1 && status == MS_SUCCESS)
        snprintf(t->first_formula_file, sizeof t->first_formula_file, "%s", s->prov.file);
    return 0;
}

static void test_dispatch_reads_each_format(void)
{
    const char *files[] = {ms_test_data("cif/gemdat/li3ps4.cif"),
                           ms_test_data("json/tests/files/LiMn2O4.json"),
                           ms_test_local("json/mp_records.jsonl"), ms_test_local("poscar/Li2O.POSCAR")};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        tally t = {0};
        char path[4096];
        snprintf(path, sizeof path, "%s", files[i]);
        CU_ASSERT_EQUAL(ms_read_file(path, MS_FORMAT_AUTO, NULL, count, &t), MS_SUCCESS);
        CU_ASSERT(t.n_ok >= 1);
        CU_ASSERT_STRING_EQUAL(t.first_formula_file, path); /* provenance names the file */
    }
}

static void test_read_options_defaults(void)
{
    ms_read_options o;
    ms_read_options_default(&o);
    CU_ASSERT_EQUAL(o.max_atoms, 100000);
    CU_ASSERT_DOUBLE_EQUAL(o.merge_tol, 0.01, 0);
    CU_ASSERT_EQUAL(o.default_db, MS_DB_UNKNOWN);
    /* A limit below the structure's size is a clear error, not a truncated structure. */
    o.max_atoms = 4;
    tally t = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s", ms_test_data("cif/gemdat/li3ps4.cif"));
    ms_read_file(path, MS_FORMAT_AUTO, &o, count, &t);
    CU_ASSERT_EQUAL(t.n_ok, 0);
    CU_ASSERT_EQUAL(t.n_failed, 1);
}

int ms_suite_reader(void)
{
    CU_pSuite s = CU_add_suite("reader", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "detect by name", test_detect_by_name);
    CU_add_test(s, "detect by content", test_detect_by_content);
    CU_add_test(s, "dispatch reads each format", test_dispatch_reads_each_format);
    CU_add_test(s, "read options and limits", test_read_options_defaults);
    return CU_get_error();
}
