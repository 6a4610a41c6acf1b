/* Tests of the bounded charge-balance search (src/core/oxidation.c). */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/composition.h"
#include "matscreen/oxidation.h"
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

int ms_suite_oxidation(void)
{
    CU_pSuite s = CU_add_suite("oxidation", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "known compositions", test_known_compositions);
    CU_add_test(s, "a dirty work buffer gives the same verdict", test_dirty_buffer_gives_same_verdict);
    return CU_get_error();
}
