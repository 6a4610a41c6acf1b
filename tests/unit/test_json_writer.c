/* Tests of the direct JSON writer (json_writer.h): its text must be jansson's, byte for byte,
 * for the values ranked.jsonl holds (golden.sh pins those files), so every check here builds the
 * same value with jansson and compares the two texts. */
#include <CUnit/CUnit.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/json_writer.h"
#include "matscreen/outfile.h"
#include "matscreen/rng.h"
#include "suites.h"

#define FLAGS(p) (JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(p))

/* Compares [v] written both ways; returns 1 when equal, else prints both. */
static int same_real(double v, int precision)
{
    json_t *a = json_array();
    json_array_append_new(a, json_real(v));
    char *ref = json_dumps(a, FLAGS(precision));
    json_decref(a);
    ms_json_writer w;
    ms_json_writer_init(&w, precision);
    ms_json_array_begin(&w);
    ms_json_real(&w, v);
    ms_json_array_end(&w);
    int ok = ref && !w.failed && strcmp(ref, w.data) == 0;
    if (!ok) printf("\n  real %.17g precision %d: jansson %s, writer %s\n", v, precision, ref, w.data);
    /* the pre-formatted form (one "%.Ng" for the CSV column and the JSON value) agrees too */
    char g[40], t[40];
    snprintf(g, sizeof g, "%.*g", precision, v);
    ms_json_writer_reset(&w);
    ms_json_array_begin(&w);
    ms_json_real_g(&w, g);
    ms_json_array_end(&w);
    ok = ok && strcmp(ref, w.data) == 0;
    ms_json_format_real(v, precision, t);
    ok = ok && strlen(ref) == strlen(t) + 2 && strncmp(ref + 1, t, strlen(t)) == 0;
    free(ref);
    ms_json_writer_free(&w);
    return ok;
}

static void test_reals(void)
{
    const double fixed[] = {0.0, -0.0, 1.0, -1.0, 2.385, 1e20, -1e20, 1.5e-5, 1e-5, 1e-4, 1e-10,
                            123456789012.0, 1234567890.0, 12345678901.0, 0.1, 1.0 / 3.0,
                            -2.385e-300, 1e300, DBL_MAX, DBL_MIN, 5e-324, 1e15, 1e16, 1e17,
                            9999999999.5, 0.00012345678905, 100.0, 1e100, 1e-100, 4.2e7};
    int bad = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        for (int p = 1; p <= 17; p += 8) bad += !same_real(fixed[i], p), bad += !same_real(fixed[i], 10);
    /* random values over the whole range of exponents, and random small integers */
    ms_rng rng;
    ms_rng_seed(&rng, 2385, 22);
    for (int i = 0; i < 20000 && bad < 5; i++) {
        double m = ms_rng_uniform(&rng) * 2 - 1;
        int e = (int)ms_rng_below(&rng, 600) - 300;
        double v = i % 4 == 0 ? (double)((long long)ms_rng_below(&rng, 2000000) - 1000000)
                              : m * pow(10.0, e);
        bad += !same_real(v, 10);
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* not finite: null, as the results' jnum wrote it */
    ms_json_writer w;
    ms_json_writer_init(&w, 10);
    ms_json_array_begin(&w);
    ms_json_real(&w, NAN);
    ms_json_real(&w, INFINITY);
    ms_json_real(&w, -INFINITY);
    ms_json_array_end(&w);
    CU_ASSERT_STRING_EQUAL(w.data, "[null,null,null]");
    ms_json_writer_free(&w);
}

/* ms_format_g against printf on values of every kind: random doubles over all exponents,
 * values near rounding ties and powers of ten, integers, results-like quantities. */
static int same_g(double v, int p)
{
    char a[64], b[64];
    snprintf(a, sizeof a, "%.*g", p, v);
    size_t n = ms_format_g(v, p, b);
    if (strcmp(a, b) == 0 && n == strlen(a)) return 1;
    printf("\n  %%.%dg of %.17g: printf %s, ms_format_g %s\n", p, v, a, b);
    return 0;
}

static void test_format_g(void)
{
    int bad = 0;
    const double fixed[] = {0.0, -0.0, 1.0, 10.0, 1e9, 1e10, 9999999999.0, 99999999995.0,
                            0.5, 0.25, 1.5, 2.5, 1.00000000005, 1.00000000015, 123456789.25,
                            0.000123456789012, 1e-4, 1e-5, 9.9999999995e-5, 5e-324, DBL_MAX,
                            1e-300, 1e300, 4.35, 2.675, 1.0 / 3.0, -2.385e-7, 6.02214076e23};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        for (int p = 1; p <= 17; p++) bad += !same_g(fixed[i], p) + !same_g(-fixed[i], p);
    ms_rng rng;
    ms_rng_seed(&rng, 2385, 7);
    for (int i = 0; i < 400000 && bad < 5; i++) {
        double v;
        int kind = i % 5;
        if (kind == 0) { /* any bits */
            uint64_t u = ms_rng_next(&rng);
            memcpy(&v, &u, sizeof v);
            if (!isfinite(v)) continue;
        } else if (kind == 1) { /* a decimal with 11 significant digits ending in 5: a tie at 10 */
            long long d = (long long)ms_rng_below(&rng, 9000000000ULL) + 1000000000LL;
            v = (double)(10 * d + 5) * pow(10.0, (double)((int)ms_rng_below(&rng, 30) - 20));
        } else if (kind == 2) { /* near a power of ten */
            v = pow(10.0, (double)((int)ms_rng_below(&rng, 40) - 20)) *
                (1.0 + (ms_rng_uniform(&rng) - 0.5) * 1e-9);
        } else if (kind == 3) { /* integers */
            v = (double)((long long)ms_rng_below(&rng, 1ULL << 40) - (1LL << 39));
        } else { /* quantities of a result: densities, volumes, probabilities, log10 sigma */
            v = ms_rng_uniform(&rng) * pow(10.0, (double)((int)ms_rng_below(&rng, 12) - 6));
        }
        bad += !same_g(v, 10) + !same_g(v, 6) + !same_g(v, 15);
    }
    CU_ASSERT_EQUAL(bad, 0);
    char t[24];
    CU_ASSERT_EQUAL(ms_format_i64(-9007199254740993LL, t), 17);
    CU_ASSERT_STRING_EQUAL(t, "-9007199254740993");
    ms_format_u64(18446744073709551615ULL, t);
    CU_ASSERT_STRING_EQUAL(t, "18446744073709551615");
    ms_format_i64(0, t);
    CU_ASSERT_STRING_EQUAL(t, "0");
}

/* s as jansson wrote it in results.c: as it is when valid UTF-8, else escaped first. */
static json_t *jstr(const char *s)
{
    if (ms_utf8_valid(s)) return json_string(s);
    char e[4096];
    ms_name_escape(s, e, sizeof e);
    return json_string(e);
}

static void test_strings(void)
{
    char ctl[64];
    for (int c = 1; c < 32; c++) ctl[c - 1] = (char)c;
    ctl[31] = 0x7f;
    ctl[32] = '\0';
    const char *cases[] = {"", "Li3PS4", "a\"b\\c/d", "tab\there\nnew\rline\b\f", ctl,
                           "Na\xc3\xaf ve \xe2\x82\xac \xf0\x9f\x98\x80", /* 2, 3 and 4 bytes */
                           "bad\xff.cif", "cut\xe2\x82", "surrogate\xed\xa0\x80",
                           "overlong\xc0\xaf", "back\\slash\xfe", "/data/x@123#4"};
    ms_json_writer w;
    ms_json_writer_init(&w, 10);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *a = json_array();
        json_array_append_new(a, jstr(cases[i]));
        char *ref = json_dumps(a, FLAGS(10));
        json_decref(a);
        ms_json_writer_reset(&w);
        ms_json_array_begin(&w);
        ms_json_string(&w, cases[i]);
        ms_json_array_end(&w);
        CU_ASSERT_FALSE(w.failed);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
        if (strcmp(ref, w.data) != 0) printf("\n  case %zu: jansson %s, writer %s\n", i, ref, w.data);
        CU_ASSERT_STRING_EQUAL(w.data, ref);
        free(ref);
    }
    ms_json_writer_free(&w);
}

/* A ranked.jsonl-like row: nested object and arrays, every kind of value, a raw fragment. */
static void test_row(void)
{
    json_t *o = json_object(), *members = json_array(), *why = json_array();
    json_object_set_new(o, "rank", json_integer(12));
    json_object_set_new(o, "key", json_string("x/a.jsonl@4096"));
    json_object_set_new(o, "offset", json_null());
    json_array_append_new(members, json_string("x/a.jsonl@4096"));
    json_array_append_new(members, json_string("x/b.cif#0"));
    json_object_set(o, "members", members);
    json_object_set_new(o, "spacegroup", json_integer(225));
    json_object_set_new(o, "density", json_real(4.2385));
    json_object_set_new(o, "in_domain", json_boolean(1));
    json_object_set_new(o, "ood", json_boolean(0));
    json_object_set_new(o, "big", json_integer(-9007199254740993LL));
    json_t *e = json_object();
    json_object_set_new(e, "feature", json_string("mean \"Z\""));
    json_object_set_new(e, "value", json_real(1e-7));
    json_array_append_new(why, e);
    json_array_append_new(why, json_object());
    json_object_set_new(o, "explain", why);
    json_object_set_new(o, "empty", json_array());
    char *ref = json_dumps(o, FLAGS(10));
    json_decref(o);
    json_decref(members);

    ms_json_writer m, w;
    ms_json_writer_init(&m, 10);
    ms_json_array_begin(&m);
    ms_json_string(&m, "x/a.jsonl@4096");
    ms_json_string(&m, "x/b.cif#0");
    ms_json_array_end(&m);
    ms_json_writer_init(&w, 10);
    ms_json_object_begin(&w);
    ms_json_key(&w, "rank");
    ms_json_integer(&w, 12);
    ms_json_key(&w, "key");
    ms_json_string(&w, "x/a.jsonl@4096");
    ms_json_key(&w, "offset");
    ms_json_null(&w);
    ms_json_key(&w, "members");
    ms_json_raw(&w, m.data, m.n);
    ms_json_key(&w, "spacegroup");
    ms_json_integer(&w, 225);
    ms_json_key(&w, "density");
    ms_json_real(&w, 4.2385);
    ms_json_key(&w, "in_domain");
    ms_json_bool(&w, 1);
    ms_json_key(&w, "ood");
    ms_json_bool(&w, 0);
    ms_json_key(&w, "big");
    ms_json_integer(&w, -9007199254740993LL);
    ms_json_key(&w, "explain");
    ms_json_array_begin(&w);
    ms_json_object_begin(&w);
    ms_json_key(&w, "feature");
    ms_json_string(&w, "mean \"Z\"");
    ms_json_key(&w, "value");
    ms_json_real(&w, 1e-7);
    ms_json_object_end(&w);
    ms_json_object_begin(&w);
    ms_json_object_end(&w);
    ms_json_array_end(&w);
    ms_json_key(&w, "empty");
    ms_json_array_begin(&w);
    ms_json_array_end(&w);
    ms_json_object_end(&w);
    CU_ASSERT_FALSE(w.failed);
    CU_ASSERT_EQUAL(w.depth, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    CU_ASSERT_STRING_EQUAL(w.data, ref);
    free(ref);
    ms_json_writer_free(&m);
    ms_json_writer_free(&w);
}

/* Misuse is reported, not written as broken JSON silently. */
static void test_misuse(void)
{
    ms_json_writer w;
    ms_json_writer_init(&w, 10);
    ms_json_key(&w, "outside"); /* no object open */
    CU_ASSERT_TRUE(w.failed);
    ms_json_writer_reset(&w);
    CU_ASSERT_FALSE(w.failed);
    ms_json_object_begin(&w);
    ms_json_integer(&w, 1); /* a value in an object without its key */
    CU_ASSERT_TRUE(w.failed);
    ms_json_writer_reset(&w);
    ms_json_object_begin(&w);
    ms_json_key(&w, "k");
    ms_json_object_end(&w); /* the key's value is missing */
    CU_ASSERT_TRUE(w.failed);
    ms_json_writer_reset(&w);
    for (int i = 0; i <= MS_JSON_MAX_DEPTH; i++) ms_json_array_begin(&w);
    CU_ASSERT_TRUE(w.failed);
    ms_json_writer_free(&w);
}

int ms_suite_json_writer(void)
{
    CU_pSuite s = CU_add_suite("json_writer", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "reals as jansson writes them (fixed and 20,000 random values)", test_reals);
    CU_add_test(s, "ms_format_g is printf's %.Ng (1.2 million values)", test_format_g);
    CU_add_test(s, "strings: escapes, UTF-8, invalid bytes escaped", test_strings);
    CU_add_test(s, "a ranked row with nesting equals jansson's dump", test_row);
    CU_add_test(s, "misuse marks the writer failed", test_misuse);
    return CU_get_error();
}
