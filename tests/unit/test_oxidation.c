/* Tests of the bounded charge-balance search (src/core/oxidation.c). */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/composition.h"
#include "matscreen/csv.h"
#include "matscreen/oxidation.h"
#include "matscreen/reader.h"
#include "suites.h"
#include "test_util.h"

static int balance(const ms_oxidation_states *ox, const char *formula, uint64_t *work)
{
    ms_composition c;
    CU_ASSERT_EQUAL_FATAL(ms_composition_parse(formula, &c), MS_SUCCESS);
    double a[MS_MAX_Z];
    for (int i = 0; i < c.n; i++) a[i] = c.amount[c.z[i]];
    return ms_oxidation_balance(ox, c.z, a, c.n, work);
}

static void test_known_compositions(void)
{
    ms_oxidation_states ox;
    ms_oxidation_states_init(&ox, ms_test_elements());
    uint64_t *work = calloc(MS_OXIDATION_WORK_WORDS, sizeof *work);
    CU_ASSERT_PTR_NOT_NULL_FATAL(work);
    CU_ASSERT_EQUAL(balance(&ox, "Li7La3Zr2O12", work), 1);   /* 7 + 9 + 8 - 24 */
    CU_ASSERT_EQUAL(balance(&ox, "Li10GeP2S12", work), 1);    /* 10 + 4 + 10 - 24 */
    CU_ASSERT_EQUAL(balance(&ox, "LiO", work), 0);            /* Li+ and O2- only */
    CU_ASSERT_EQUAL(balance(&ox, "Li", work), 1);             /* an element is neutral */
    CU_ASSERT_EQUAL(balance(&ox, "Fe3O4", work), 1);          /* mixed valence: 2 + 2*3 = 8 */
    CU_ASSERT_EQUAL(balance(&ox, "Li0.5La0.5TiO3", work), 1); /* scaled by 2: 1 + 3 + 8 - 12 */
    free(work);
}

/* The work buffer is reused from structure to structure: a verdict must not depend on what an
 * earlier call left in it. Fill it with ones and compare with a clean buffer, on the OBELiX
 * compositions where the first version of the search gave run-dependent answers. */
static void test_dirty_buffer_gives_same_verdict(void)
{
    /* Cell compositions of OBELiX 1kq, 1m8, 1xf, 6jf, 7tu and 96f (as read by matscreen inspect):
     * their Li excess leaves them unbalanced, and stale bits made some look balanced. */
    static const char *formulas[] = {"Li24.024 P4 Se2.8 S17.2 Br4", "Li26.688 Ge3.16 P0.84 S20 I4",
                                     "Li8.904 Al2.88 Ge9.12 P18 O72", "Li24.024 P4 S20 Br4.0",
                                     "Li20.4 Si2 Sn0.5 P3.5 S24", "Li24.024 P4 Se2.4 S17.6 Br4"};
    ms_oxidation_states ox;
    ms_oxidation_states_init(&ox, ms_test_elements());
    uint64_t *clean = calloc(MS_OXIDATION_WORK_WORDS, sizeof *clean);
    uint64_t *dirty = malloc(MS_OXIDATION_WORK_WORDS * sizeof *dirty);
    CU_ASSERT_FATAL(clean && dirty);
    for (size_t i = 0; i < sizeof formulas / sizeof formulas[0]; i++) {
        int want = balance(&ox, formulas[i], clean);
        CU_ASSERT_EQUAL(want, 0);
        memset(dirty, 0xff, MS_OXIDATION_WORK_WORDS * sizeof *dirty);
        CU_ASSERT_EQUAL(balance(&ox, formulas[i], dirty), want);
        memset(clean, 0, MS_OXIDATION_WORK_WORDS * sizeof *clean);
    }
    free(clean);
    free(dirty);
}

/* ---- reference: the per-atom programme as it was before the saturation shortcut ------------- */

#define REF_WORK_MAX 5e7

static long long ref_gcd(long long a, long long b)
{
    while (b) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static void ref_or_shifted(uint64_t *next, const uint64_t *cur, size_t nwords, size_t shift)
{
    size_t q = shift / 64, r = shift % 64;
    for (size_t w = nwords; w-- > q;) {
        uint64_t v = cur[w - q] << r;
        if (r && w > q) v |= cur[w - q - 1] >> (64 - r);
        next[w] |= v;
    }
}

static int ref_counts(const ms_oxidation_states *states, const int *z, const long long *count,
                      int n, uint64_t *work)
{
    long long low = 0, span = 0;
    double steps = 0;
    for (int i = 0; i < n; i++) {
        if (z[i] < 1 || z[i] > MS_MAX_Z) return 0;
        int n_oxi = states->n[z[i]];
        const int *oxi = states->oxi[z[i]];
        if (n_oxi == 0) return 0;
        if (n_oxi > 1 && count[i] > MS_OXIDATION_SPAN) return -1;
        low += count[i] * oxi[0];
        span += count[i] * (oxi[n_oxi - 1] - oxi[0]);
        if (n_oxi > 1) steps += (double)count[i] * n_oxi;
    }
    if (span > MS_OXIDATION_SPAN - 1 || steps * (double)(span / 64 + 1) > REF_WORK_MAX) return -1;
    if (-low < 0 || -low > span) return 0;
    size_t nwords = (size_t)span / 64 + 1;
    uint64_t *cur = work, *next = work + MS_OXIDATION_SPAN_WORDS;
    memset(cur, 0, nwords * sizeof *cur);
    memset(next, 0, nwords * sizeof *next);
    cur[0] = 1;
    long long top = 0;
    for (int i = 0; i < n; i++) {
        int n_oxi = states->n[z[i]];
        const int *oxi = states->oxi[z[i]];
        if (n_oxi == 1) continue;
        for (long long atom = 0; atom < count[i]; atom++) {
            top += oxi[n_oxi - 1] - oxi[0];
            size_t width = (size_t)top / 64 + 1;
            memset(next, 0, width * sizeof *next);
            for (int k = 0; k < n_oxi; k++)
                ref_or_shifted(next, cur, width, (size_t)(oxi[k] - oxi[0]));
            uint64_t *swap = cur;
            cur = next;
            next = swap;
        }
    }
    return (int)((cur[-low / 64] >> (-low % 64)) & 1u);
}

static int ref_balance(const ms_oxidation_states *states, const int *z, const double *amount,
                       int n, uint64_t *work)
{
    if (n <= 0 || n > MS_MAX_Z) return -1;
    if (n == 1) return 1;
    long long count[MS_MAX_Z];
    int found = 0;
    for (int k = 1; k <= MS_OXIDATION_MAX_SCALE && !found; k++) {
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            double a = k * amount[i];
            if (!(a >= 0) || a > 1e12 || fabs(a - nearbyint(a)) > 1e-6) ok = 0;
        }
        if (!ok) continue;
        for (int i = 0; i < n; i++) count[i] = (long long)nearbyint(k * amount[i]);
        found = 1;
    }
    if (!found) return -1;
    int verdict = ref_counts(states, z, count, n, work);
    if (verdict < 0) {
        long long g = 0;
        for (int i = 0; i < n; i++) g = ref_gcd(g, count[i]);
        if (g > 1) {
            for (int i = 0; i < n; i++) count[i] /= g;
            verdict = ref_counts(states, z, count, n, work);
        }
    }
    return verdict;
}

typedef struct {
    const ms_oxidation_states *ox;
    uint64_t *work, *ref_work;
    size_t n, n_differ, n_verdict[3];
} compare_state;

/* Compares the search with the reference on one composition; prints a disagreement. */
static void compare_one(compare_state *cs, const ms_composition *c, const char *what)
{
    int z[MS_MAX_Z];
    double a[MS_MAX_Z];
    int n = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->amount[c->z[i]] == 0) continue;
        z[n] = c->z[i];
        a[n++] = c->amount[c->z[i]];
    }
    if (n == 0) return;
    int got = ms_oxidation_balance(cs->ox, z, a, n, cs->work);
    int want = ref_balance(cs->ox, z, a, n, cs->ref_work);
    cs->n++;
    cs->n_verdict[want + 1]++;
    if (got != want) {
        cs->n_differ++;
        if (cs->n_differ <= 10) fprintf(stderr, "\n%s: search %d, reference %d\n", what, got, want);
    }
}

static int on_structure(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    if (status != MS_SUCCESS) return 1;
    ms_composition c;
    ms_structure_composition(s, &c);
    compare_one(user, &c, s->prov.source_id[0] ? s->prov.source_id : "OBELiX structure");
    return 0; /* first structure */
}

static int cif_name(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && strcmp(e->d_name + n - 4, ".cif") == 0;
}

/* The search with the saturation shortcut gives the per-atom programme's verdict (1, 0 and -1
 * alike) on every composition of the reference table, every OBELiX training cell (the large
 * disordered cells the shortcut is for), their scaled multiples, and random compositions of
 * multivalent elements. The work buffers start dirty. */
static void test_same_verdict_as_per_atom_programme(void)
{
    ms_oxidation_states ox;
    ms_oxidation_states_init(&ox, ms_test_elements());
    compare_state cs = {&ox, malloc(MS_OXIDATION_WORK_WORDS * sizeof(uint64_t)),
                        malloc(MS_OXIDATION_WORK_WORDS * sizeof(uint64_t)), 0, 0, {0, 0, 0}};
    CU_ASSERT_FATAL(cs.work && cs.ref_work);
    memset(cs.work, 0xff, MS_OXIDATION_WORK_WORDS * sizeof(uint64_t));
    memset(cs.ref_work, 0, MS_OXIDATION_WORK_WORDS * sizeof(uint64_t));

    /* structures.csv, `formula` column */
    FILE *f = fopen(ms_test_reference("structures.csv"), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *line = NULL, *field[64];
    size_t cap = 0, n_formulas = 0;
    int col = -1;
    if (getline(&line, &cap, f) > 0) col = ms_csv_column(field, ms_csv_split(line, field, 64), "formula");
    CU_ASSERT_FATAL(col >= 0);
    while (getline(&line, &cap, f) > 0) {
        int k = ms_csv_split(line, field, 64);
        ms_composition c;
        if (k <= col || !field[col][0] || ms_composition_parse(field[col], &c) != MS_SUCCESS) continue;
        compare_one(&cs, &c, field[col]);
        n_formulas++;
        /* twice the cell and a tenth of it: other scales, other gcd retries */
        for (int i = 0; i < c.n; i++) c.amount[c.z[i]] *= 2;
        compare_one(&cs, &c, field[col]);
    }
    free(line);
    fclose(f);
    CU_ASSERT(n_formulas > 8000);

    /* OBELiX training cells: the compositions as the featurizer sees them */
    const char *dir = ms_test_data("labeled/obelix-train/cifs");
    struct dirent **names;
    int n = scandir(dir, &names, cif_name, alphasort);
    CU_ASSERT(n > 200);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        ms_read_file(path, MS_FORMAT_CIF, NULL, on_structure, &cs);
        free(names[i]);
    }
    if (n >= 0) free(names);

    /* random compositions: 2 to 4 elements among multivalent ones, counts up to 3000 */
    static const int multi[] = {7, 15, 16, 22, 23, 24, 25, 26, 27, 29, 33, 34, 41, 50, 51, 52, 8, 3, 9, 53};
    uint64_t rng = 88172645463325252ull;
    for (int t = 0; t < 400; t++) {
        ms_composition c;
        ms_composition_clear(&c);
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int m = 2 + (int)(rng % 3);
        for (int k = 0; k < m; k++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            int zz = multi[rng % (sizeof multi / sizeof multi[0])];
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            ms_composition_add(&c, zz, (double)(1 + rng % (t < 200 ? 3000 : 40)));
        }
        compare_one(&cs, &c, "random composition");
    }
    fprintf(stderr, "[%zu compositions: %zu balanced, %zu not, %zu undecided] ", cs.n,
            cs.n_verdict[2], cs.n_verdict[1], cs.n_verdict[0]);
    CU_ASSERT_EQUAL(cs.n_differ, 0);
    free(cs.work);
    free(cs.ref_work);
}

int ms_suite_oxidation(void)
{
    CU_pSuite s = CU_add_suite("oxidation", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "known compositions", test_known_compositions);
    CU_add_test(s, "a dirty work buffer gives the same verdict", test_dirty_buffer_gives_same_verdict);
    CU_add_test(s, "same verdicts as the per-atom programme", test_same_verdict_as_per_atom_programme);
    return CU_get_error();
}
