/* Tests of the periodic table and the Magpie property tables loaded from share/matscreen. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/element.h"
#include "suites.h"
#include "test_util.h"

static void test_symbols_round_trip(void)
{
    for (int z = 1; z <= MS_MAX_Z; z++) {
        const char *sym = ms_element_symbol(z);
        CU_ASSERT_EQUAL(ms_element_z(sym, strlen(sym), NULL), z);
    }
    int iso = 0;
    CU_ASSERT_EQUAL(ms_element_z("D", 1, &iso), 1);
    CU_ASSERT_EQUAL(iso, 1);
    CU_ASSERT_EQUAL(ms_element_z("Li", 2, &iso), 3);
    CU_ASSERT_EQUAL(iso, 0);
    CU_ASSERT_EQUAL(ms_element_z("Xx", 2, NULL), 0);
    CU_ASSERT_EQUAL(ms_element_z("li", 2, NULL), 0);
    CU_ASSERT_EQUAL(ms_element_z("Lix", 3, NULL), 0);
    CU_ASSERT_STRING_EQUAL(ms_element_symbol(0), "");
    CU_ASSERT_STRING_EQUAL(ms_element_symbol(119), "");
}

static void test_pymatgen_values(void)
{
    /* Values of pymatgen's periodic_table.json, as Element("Li").atomic_mass etc. give them. */
    const ms_element_table *t = ms_test_elements();
    const ms_element *li = ms_element_get(t, 3), *zr = ms_element_get(t, 40), *ar = ms_element_get(t, 18);
    CU_ASSERT_DOUBLE_EQUAL(li->mass, 6.941, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(li->x, 0.98, 1e-12);
    CU_ASSERT_EQUAL(li->n_oxi_common, 1);
    CU_ASSERT_EQUAL(li->oxi_common[0], 1);
    CU_ASSERT_DOUBLE_EQUAL(zr->mass, 91.224, 1e-12);
    CU_ASSERT(isnan(ar->x)); /* pymatgen has no Pauling electronegativity for argon */
    CU_ASSERT_PTR_NULL(ms_element_get(t, 0));
    CU_ASSERT_PTR_NULL(ms_element_get(t, MS_MAX_Z + 1));
}

static void test_magpie_tables(void)
{
    const ms_element_table *t = ms_test_elements();
    int en = ms_element_property_index(t, "Electronegativity");
    int num = ms_element_property_index(t, "Number");
    CU_ASSERT_FATAL(en >= 0 && num >= 0);
    CU_ASSERT_DOUBLE_EQUAL(ms_element_property(t, en, 3), 0.98, 1e-12);
    CU_ASSERT(isnan(ms_element_property(t, en, 2))); /* "Missing" in Magpie's table for He */
    CU_ASSERT_DOUBLE_EQUAL(ms_element_property(t, num, 92), 92.0, 0);
    CU_ASSERT_EQUAL(ms_element_property_index(t, "NoSuchProperty"), -1);
    /* The 22 properties of matminer's magpie preset must all be scalar tables. */
    const char *preset[] = {"Number", "MendeleevNumber", "AtomicWeight", "MeltingT", "Column",
                            "Row", "CovalentRadius", "Electronegativity", "NsValence", "NpValence",
                            "NdValence", "NfValence", "NValence", "NsUnfilled", "NpUnfilled",
                            "NdUnfilled", "NfUnfilled", "NUnfilled", "GSvolume_pa", "GSbandgap",
                            "GSmagmom", "SpaceGroupNumber"};
    for (size_t i = 0; i < sizeof preset / sizeof preset[0]; i++)
        CU_ASSERT(ms_element_property_index(t, preset[i]) >= 0);
    /* Multi-valued tables (oxidation states) are not scalar properties. */
    CU_ASSERT_EQUAL(ms_element_property_index(t, "OxidationStates"), -1);
    CU_ASSERT_DOUBLE_EQUAL(ms_element_get(t, 3)->covalent_radius, 1.28, 1e-12);
}

static void test_missing_share_is_a_clear_error(void)
{
    ms_element_table *t = (ms_element_table *)1;
    CU_ASSERT_EQUAL(ms_element_table_load("/nonexistent/share", &t), MS_ERR_PARSE);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "/nonexistent/share/elements/periodic_table.json"));
}

static void test_pack_round_trip(void)
{
    const ms_element_table *t = ms_test_elements();
    void *buf;
    size_t n;
    ms_element_table *u;
    CU_ASSERT_EQUAL_FATAL(ms_element_table_pack(t, &buf, &n), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_element_table_unpack(buf, n, &u), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_element_property_count(u), ms_element_property_count(t));
    int en = ms_element_property_index(u, "Electronegativity");
    CU_ASSERT_EQUAL(en, ms_element_property_index(t, "Electronegativity"));
    CU_ASSERT_DOUBLE_EQUAL(ms_element_property(u, en, 3), 0.98, 0);
    CU_ASSERT_DOUBLE_EQUAL(ms_element_get(u, 40)->mass, 91.224, 0);
    CU_ASSERT_EQUAL(ms_element_get(u, 26)->n_oxi_common, ms_element_get(t, 26)->n_oxi_common);
    ms_element_table_free(u);
    /* A short or foreign buffer is refused, never read past its end. */
    CU_ASSERT_EQUAL(ms_element_table_unpack(buf, n - 1, &u), MS_ERR_INVALID);
    CU_ASSERT_PTR_NULL(u);
    ((unsigned char *)buf)[0] ^= 0xff;
    CU_ASSERT_EQUAL(ms_element_table_unpack(buf, n, &u), MS_ERR_INVALID);
    CU_ASSERT_EQUAL(ms_element_table_unpack(buf, 3, &u), MS_ERR_INVALID);
    free(buf);
}

int ms_suite_element(void)
{
    CU_pSuite s = CU_add_suite("element", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "symbols round trip", test_symbols_round_trip);
    CU_add_test(s, "pymatgen values", test_pymatgen_values);
    CU_add_test(s, "magpie tables", test_magpie_tables);
    CU_add_test(s, "missing share dir is a clear error", test_missing_share_is_a_clear_error);
    CU_add_test(s, "pack and unpack for broadcast", test_pack_round_trip);
    return CU_get_error();
}
