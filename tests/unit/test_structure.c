/* Tests of the structure model: lattice, coordinates, composition, density, checks. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "matscreen/structure.h"
#include "suites.h"
#include "test_util.h"

/* Li2O antifluorite, a = 4.61 Å, as in pymatgen's tests/files/Li2O.cif; pymatgen gives volume
 * 97.97218100000002 Å^3 and density 2.0258498507735054 g/cm^3 (../shared/reference). */
static void build_li2o(ms_structure *s)
{
    static const double fcc[4][3] = {{0, 0, 0}, {0, 0.5, 0.5}, {0.5, 0, 0.5}, {0.5, 0.5, 0}};
    ms_structure_init(s);
    CU_ASSERT_EQUAL_FATAL(ms_structure_set_lattice_parameters(s, 4.61, 4.61, 4.61, 90, 90, 90),
                          MS_SUCCESS);
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(ms_structure_add_site(s, fcc[i], "O1"), MS_SUCCESS);
        CU_ASSERT_EQUAL(ms_structure_add_species(s, 8, 1.0, -2, 1), MS_SUCCESS);
        for (int k = 0; k < 2; k++) {
            double off = k ? 0.75 : 0.25;
            double f[3] = {fcc[i][0] + off, fcc[i][1] + off, fcc[i][2] + off};
            for (int j = 0; j < 3; j++) f[j] -= floor(f[j]);
            CU_ASSERT_EQUAL(ms_structure_add_site(s, f, "Li1"), MS_SUCCESS);
            CU_ASSERT_EQUAL(ms_structure_add_species(s, 3, 1.0, 1, 1), MS_SUCCESS);
        }
    }
    CU_ASSERT_EQUAL_FATAL(ms_structure_finish(s), MS_SUCCESS);
}

static void test_li2o_matches_pymatgen(void)
{
    ms_structure s;
    build_li2o(&s);
    CU_ASSERT_EQUAL(s.n_sites, 12);
    CU_ASSERT(ms_test_close(ms_structure_volume(&s), 97.97218100000002, 1e-12, 0));
    CU_ASSERT(ms_test_close(ms_structure_density(&s, ms_test_elements()), 2.0258498507735054, 1e-9, 0));
    CU_ASSERT_TRUE(ms_structure_is_ordered(&s));
    ms_composition c;
    char reduced[64];
    ms_structure_composition(&s, &c);
    CU_ASSERT_EQUAL(ms_composition_reduced_formula(&c, ms_test_elements(), reduced, sizeof reduced),
                    MS_SUCCESS);
    CU_ASSERT_STRING_EQUAL(reduced, "Li2O");
    /* Cartesian = fractional times the row lattice. */
    CU_ASSERT_DOUBLE_EQUAL(s.cart[1][0], 0.25 * 4.61, 1e-12);
    ms_structure_destroy(&s);
}

static void test_triclinic_lattice(void)
{
    ms_structure s;
    ms_structure_init(&s);
    double a = 5.123, b = 6.385, c = 7.911, al = 81.3, be = 97.25, ga = 103.7;
    CU_ASSERT_EQUAL_FATAL(ms_structure_set_lattice_parameters(&s, a, b, c, al, be, ga), MS_SUCCESS);
    double d2r = M_PI / 180, ca = cos(al * d2r), cb = cos(be * d2r), cg = cos(ga * d2r);
    double v = a * b * c * sqrt(1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg);
    CU_ASSERT(ms_test_close(ms_structure_volume(&s), v, 1e-13, 0));
    double abc[3], ang[3];
    ms_structure_lattice_parameters(&s, abc, ang);
    CU_ASSERT_DOUBLE_EQUAL(abc[0], a, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(abc[2], c, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(ang[0], al, 1e-10);
    CU_ASSERT_DOUBLE_EQUAL(ang[1], be, 1e-10);
    CU_ASSERT_DOUBLE_EQUAL(ang[2], ga, 1e-10);
    CU_ASSERT_DOUBLE_EQUAL(s.lattice[0][1], 0.0, 0); /* a along x */
    CU_ASSERT_DOUBLE_EQUAL(s.lattice[1][2], 0.0, 0); /* b in the xy plane */
    CU_ASSERT_EQUAL(ms_structure_set_lattice_parameters(&s, 5, 5, 5, 120, 120, 120), MS_ERR_INVALID);
    CU_ASSERT_EQUAL(ms_structure_set_lattice_parameters(&s, -5, 5, 5, 90, 90, 90), MS_ERR_INVALID);
    CU_ASSERT_EQUAL(ms_structure_set_lattice_parameters(&s, NAN, 5, 5, 90, 90, 90), MS_ERR_INVALID);
    ms_structure_destroy(&s);
}

static void test_partial_occupancy_is_kept(void)
{
    /* A Li site at 0.56 and a mixed La/Li site, as in LLTO; the Li count must stay 0.56 + 0.1. */
    ms_structure s;
    ms_structure_init(&s);
    CU_ASSERT_EQUAL(ms_structure_set_lattice_parameters(&s, 3.87, 3.87, 7.74, 90, 90, 90), MS_SUCCESS);
    double f1[3] = {0, 0, 0}, f2[3] = {0, 0, 0.5}, f3[3] = {0.5, 0.5, 0.25};
    ms_structure_add_site(&s, f1, "Li1");
    ms_structure_add_species(&s, 3, 0.56, 0, 0);
    ms_structure_add_site(&s, f2, "La1");
    ms_structure_add_species(&s, 57, 0.66, 0, 0);
    ms_structure_add_species(&s, 3, 0.1, 0, 0);
    ms_structure_add_site(&s, f3, "Ti1");
    ms_structure_add_species(&s, 22, 1.0, 0, 0);
    CU_ASSERT_EQUAL_FATAL(ms_structure_finish(&s), MS_SUCCESS);
    ms_composition c;
    ms_structure_composition(&s, &c);
    CU_ASSERT_DOUBLE_EQUAL(c.amount[3], 0.66, 1e-15);
    CU_ASSERT_FALSE(ms_structure_is_ordered(&s));
    /* Reuse keeps memory and forgets content. */
    ms_structure_reset(&s);
    CU_ASSERT_EQUAL(s.n_sites, 0);
    CU_ASSERT_EQUAL(s.n_species, 0);
    CU_ASSERT(s.cap_sites >= 3);
    ms_structure_destroy(&s);
}

static void test_finish_rejects_bad_structures(void)
{
    ms_structure s;
    double ok[3] = {0.1, 0.2, 0.3}, bad[3] = {0.1, NAN, 0.3};
    ms_structure_init(&s);
    ms_structure_set_lattice_parameters(&s, 4, 4, 4, 90, 90, 90);
    CU_ASSERT_EQUAL(ms_structure_finish(&s), MS_ERR_NO_STRUCTURE);
    ms_structure_add_site(&s, bad, "Li1");
    ms_structure_add_species(&s, 3, 1.0, 0, 0);
    CU_ASSERT_EQUAL(ms_structure_finish(&s), MS_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "Li1"));
    ms_structure_reset(&s);
    ms_structure_set_lattice_parameters(&s, 4, 4, 4, 90, 90, 90);
    ms_structure_add_site(&s, ok, "Li1");
    ms_structure_add_species(&s, 3, 0.7, 0, 0);
    ms_structure_add_species(&s, 11, 0.4, 0, 0);
    CU_ASSERT_EQUAL(ms_structure_finish(&s), MS_SUCCESS); /* over-full: kept, with a warning */
    CU_ASSERT_PTR_NOT_NULL(strstr(s.warnings, "total occupancy 1.1 > 1"));
    ms_structure_reset(&s);
    ms_structure_set_lattice_parameters(&s, 4, 4, 4, 90, 90, 90);
    ms_structure_add_site(&s, ok, "Li1");
    ms_structure_add_species(&s, 3, -0.2, 0, 0);
    CU_ASSERT_EQUAL(ms_structure_finish(&s), MS_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "occupancy"));
    ms_structure_reset(&s);
    ms_structure_add_site(&s, ok, "Li1");
    ms_structure_add_species(&s, 3, 1.0, 0, 0);
    CU_ASSERT_EQUAL(ms_structure_finish(&s), MS_ERR_INVALID); /* zero lattice after reset */
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "volume"));
    ms_structure_destroy(&s);
}

static void test_properties_and_warnings(void)
{
    ms_structure s;
    double v = 0;
    ms_structure_init(&s);
    CU_ASSERT_EQUAL(ms_structure_set_property(&s, "band_gap", 2.385), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_structure_set_property(&s, "band_gap", 3.125), MS_SUCCESS);
    CU_ASSERT_EQUAL(s.n_props, 1);
    CU_ASSERT_TRUE(ms_structure_get_property(&s, "band_gap", &v));
    CU_ASSERT_DOUBLE_EQUAL(v, 3.125, 0);
    CU_ASSERT_FALSE(ms_structure_get_property(&s, "e_above_hull", &v));
    ms_structure_warn(&s, "first %d", 1);
    ms_structure_warn(&s, "second");
    CU_ASSERT_STRING_EQUAL(s.warnings, "first 1; second");
    for (int i = 0; i < 200; i++) ms_structure_warn(&s, "a long repeated warning %d", i);
    CU_ASSERT(strlen(s.warnings) < MS_WARNINGS_MAX);
    CU_ASSERT_STRING_EQUAL(s.warnings + strlen(s.warnings) - 3, "...");
    ms_structure_destroy(&s);
}

int ms_suite_structure(void)
{
    CU_pSuite s = CU_add_suite("structure", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "Li2O matches pymatgen", test_li2o_matches_pymatgen);
    CU_add_test(s, "triclinic lattice", test_triclinic_lattice);
    CU_add_test(s, "partial occupancy is kept", test_partial_occupancy_is_kept);
    CU_add_test(s, "finish rejects bad structures", test_finish_rejects_bad_structures);
    CU_add_test(s, "properties and warnings", test_properties_and_warnings);
    return CU_get_error();
}
