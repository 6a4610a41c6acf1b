/* Tests of formula parsing and pymatgen-compatible formula output. Expected strings and weights
 * were printed by Debian 12's python3-pymatgen 2022.11.7:
 *   Composition(f).reduced_formula, .formula, .weight */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "matscreen/composition.h"
#include "suites.h"
#include "test_util.h"

typedef struct {
    const char *input, *reduced, *formula;
    double weight;
} formula_case;

static const formula_case cases[] = {
    {"Li7La3Zr2O12", "Li7La3Zr2O12", "Li7 La3 Zr2 O12", 839.74421},
    {"Li6.4Ga0.2La3Zr2O12", "Li6.4La3Zr2Ga0.2O12", "Li6.4 La3 Zr2 Ga0.2 O12", 849.52421},
    {"Li4Fe3Mn(PO4)4", "Li4MnFe3(PO4)4", "Li4 Mn1 Fe3 P4 O16", 630.1224930000001},
    {"Li10GeP2S12", "Li10Ge(PS6)2", "Li10 Ge1 P2 S12", 588.777524},
    {"O2", "O2", "O2", 31.9988},
    {"H2O2", "H2O2", "H2 O2", 34.01468},
    {"LiO2", "LiO2", "Li1 O2", 38.9398},
    {"Li2O", "Li2O", "Li2 O1", 29.8814},
    {"Li6PS5Cl", "Li6PS5Cl", "Li6 P1 S5 Cl1", 268.397762},
    {"Li0.56La0.33TiO3", "Li0.56La0.33Ti1O3", "Li0.56 La0.33 Ti1 O3", 145.5909651},
    {"CuSO4(H2O)5", "CuH10SO9", "Cu1 H10 S1 O9", 249.68499999999997},
    {"Ca3(PO4)2", "Ca3(PO4)2", "Ca3 P2 O8", 310.17672400000004},
    {"K4Fe(CN)6", "K4Fe(CN)6", "K4 Fe1 C6 N6", 368.34260000000006},
    /* Same compositions written as CIF _chemical_formula_sum, hydrates and with charges. */
    {"Li7 La3 Zr2 O12", "Li7La3Zr2O12", "Li7 La3 Zr2 O12", 839.74421},
    {"CuSO4\xc2\xb7" "5H2O", "CuH10SO9", "Cu1 H10 S1 O9", 249.68499999999997},
    {"CuSO4.5H2O", "CuH10SO9", "Cu1 H10 S1 O9", 249.68499999999997},
    {"CuSO4*5H2O", "CuH10SO9", "Cu1 H10 S1 O9", 249.68499999999997},
    {"Li+ Li+ O2-", "Li2O", "Li2 O1", 29.8814},
    {"[Li2]O", "Li2O", "Li2 O1", 29.8814},
};

static void test_formulas_match_pymatgen(void)
{
    const ms_element_table *t = ms_test_elements();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ms_composition c;
        char reduced[256], formula[256];
        CU_ASSERT_EQUAL_FATAL(ms_composition_parse(cases[i].input, &c), MS_SUCCESS);
        CU_ASSERT_EQUAL(ms_composition_reduced_formula(&c, t, reduced, sizeof reduced), MS_SUCCESS);
        CU_ASSERT_EQUAL(ms_composition_formula(&c, t, formula, sizeof formula), MS_SUCCESS);
        if (strcmp(reduced, cases[i].reduced) || strcmp(formula, cases[i].formula))
            fprintf(stderr, "\n%s -> %s | %s\n", cases[i].input, reduced, formula);
        CU_ASSERT_STRING_EQUAL(reduced, cases[i].reduced);
        CU_ASSERT_STRING_EQUAL(formula, cases[i].formula);
        CU_ASSERT(ms_test_close(ms_composition_weight(&c, t), cases[i].weight, 1e-12, 0));
    }
}

static void test_fractions_are_not_rounded(void)
{
    ms_composition c;
    CU_ASSERT_EQUAL_FATAL(ms_composition_parse("Li6.4Ga0.2La3Zr2O12", &c), MS_SUCCESS);
    CU_ASSERT_DOUBLE_EQUAL(c.amount[3], 6.4, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(c.amount[31], 0.2, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(ms_composition_total(&c), 6.4 + 0.2 + 3 + 2 + 12, 1e-12);
    CU_ASSERT_EQUAL(c.n, 5);
}

static void test_bad_formulas_are_errors(void)
{
    ms_composition c;
    CU_ASSERT_EQUAL(ms_composition_parse("Li2Xx", &c), MS_ERR_UNKNOWN_ELEMENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "Xx"));
    CU_ASSERT_EQUAL(ms_composition_parse("Li2(PO4", &c), MS_ERR_PARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "unclosed"));
    CU_ASSERT_EQUAL(ms_composition_parse("li2o", &c), MS_ERR_PARSE);
    CU_ASSERT_EQUAL(ms_composition_parse("", &c), MS_ERR_PARSE);
    CU_ASSERT_EQUAL(ms_composition_parse("((((((((((((((((((Li))))))))))))))))))", &c), MS_ERR_LIMIT);
    /* Found by fuzzing: huge counts overflowed an integer cast or became inf/NaN, and hydrate
     * separators recursed without limit. */
    CU_ASSERT_EQUAL(ms_composition_parse("H1e308", &c), MS_ERR_LIMIT);
    CU_ASSERT_EQUAL(ms_composition_parse("(H1e308)1e308", &c), MS_ERR_LIMIT);
    char chain[4001];
    for (int i = 0; i < 2000; i++) memcpy(chain + 2 * i, "H*", 2);
    chain[4000] = '\0';
    CU_ASSERT_EQUAL(ms_composition_parse(chain, &c), MS_ERR_LIMIT);
    CU_ASSERT_EQUAL(ms_composition_parse("CuSO4*5H2O", &c), MS_SUCCESS); /* one separator is fine */
}

static void test_proportional(void)
{
    ms_composition a, b, d;
    CU_ASSERT_EQUAL_FATAL(ms_composition_parse("Li7La3Zr2O12", &a), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_composition_parse("Li56La24Zr16O96", &b), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_composition_parse("Li6.4Ga0.2La3Zr2O12", &d), MS_SUCCESS);
    CU_ASSERT_TRUE(ms_composition_proportional(&a, &b, 1e-9));
    CU_ASSERT_FALSE(ms_composition_proportional(&a, &d, 1e-3));
}

int ms_suite_composition(void)
{
    CU_pSuite s = CU_add_suite("composition", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "formulas match pymatgen", test_formulas_match_pymatgen);
    CU_add_test(s, "fractions are not rounded", test_fractions_are_not_rounded);
    CU_add_test(s, "bad formulas are errors", test_bad_formulas_are_errors);
    CU_add_test(s, "proportional compositions", test_proportional);
    return CU_get_error();
}
