/*
 * Tests of the descriptor registry, the named sets, reason codes and the composition families
 * other than magpie (which test_magpie_reference.c checks row by row against matminer).
 *
 * Expected values were printed with repr() by /usr/bin/python3 (Debian 12, pymatgen 2022.11.7)
 * running matminer 8ddb18c from ../shared/peers/matminer/src:
 *   Stoichiometry().featurize(Composition(f)), ValenceOrbital().featurize(...),
 *   IonProperty().featurize(...), ElementFraction().featurize(...)
 * Where matminer raises (IonProperty on non-integer amounts) the expected value is ours, derived
 * by hand in the comment next to it.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "matscreen/composition.h"
#include "matscreen/descriptor.h"
#include "matscreen/structure.h"
#include "suites.h"
#include "test_util.h"

#define RTOL 1e-12

/* Offsets of the families in the "composition" set's row. */
#define OFF_MAGPIE 0
#define OFF_STOICH 132
#define OFF_VALENCE 138
#define OFF_ION 146
#define OFF_FRACTION 149
#define N_COMPOSITION 267

typedef struct {
    const char *formula;
    double stoich[6];
    double valence[8];
    double ion[3];
    int frac_z[5];      /* non-zero element fractions: Z and value */
    double frac[5];
} family_case;

static const family_case cases[] = {
    {"Li7La3Zr2O12",
     {4.0, 0.5980291706003051, 0.5340823352122396, 0.5066837765343595, 0.5016302651235982,
      0.5002276880158075},
     {1.7083333333333333, 2.0, 0.2916666666666667, 0.0, 0.4270833333333333, 0.5,
      0.07291666666666667, 0.0},
     {1.0, 0.7797297329475583, 0.18928888294659724},
     {3, 8, 40, 57},
     {0.2916666666666667, 0.5, 0.08333333333333333, 0.125}},
    /* mixed valence: Fe2+ Fe3+ Fe3+ O4 balances only with two states of Fe */
    {"Fe3O4",
     {2.0, 0.7142857142857142, 0.6425630636107735, 0.5962896661282494, 0.5817489027710038,
      0.5745677356889045},
     {2.0, 2.2857142857142856, 2.5714285714285716, 0.0, 0.2916666666666667, 0.3333333333333333,
      0.37500000000000006, 0.0},
     {1.0, 0.47692216400686216, 0.11679726465474173},
     {8, 26},
     {0.5714285714285714, 0.42857142857142855}},
    {"Li10GeP2S12",
     {4.0, 0.63118935352238, 0.5595234040250857, 0.5135603326659555, 0.4971787900300949,
      0.4872404864992309},
     {1.6, 2.24, 0.4, 0.0, 0.37735849056603776, 0.5283018867924528, 0.09433962264150944, 0.0},
     {1.0, 0.47270757595695156, 0.10725221329380857},
     {3, 15, 16, 32},
     {0.4, 0.08, 0.48, 0.04}},
    {"NaCl",
     {2.0, 0.7071067811865476, 0.6299605249474366, 0.5743491774985174, 0.5520447568369062,
      0.5358867312681466},
     {1.5, 2.5, 0.0, 0.0, 0.375, 0.625, 0.0, 0.0},
     {1.0, 0.7115475428918885, 0.17788688572297212},
     {11, 17},
     {0.5, 0.5}},
    {"Fe",
     {1.0, 1.0, 1.0, 1.0, 1.0, 1.0},
     {2.0, 0.0, 6.0, 0.0, 0.25, 0.0, 0.75, 0.0},
     {1.0, 0.0, 0.0},
     {26},
     {1.0}},
    /* He: no oxidation state (not possible) and no Pauling X (imputed, 1.713) */
    {"LiHe",
     {2.0, 0.7071067811865476, 0.6299605249474366, 0.5743491774985174, 0.5520447568369062,
      0.5358867312681466},
     {1.5, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0},
     {0.0, 0.1256917266389319, 0.03142293165973298},
     {2, 3},
     {0.5, 0.5}},
    /* Tl is +1 or +3: Tl2O2 balances (Tl+ Tl3+), TlO does not; amounts are not reduced */
    {"Tl2O2",
     {2.0, 0.7071067811865476, 0.6299605249474366, 0.5743491774985174, 0.5520447568369062,
      0.5358867312681466},
     {2.0, 2.5, 5.0, 7.0, 0.12121212121212122, 0.15151515151515152, 0.30303030303030304,
      0.42424242424242425},
     {1.0, 0.5631214324667777, 0.14078035811669443},
     {8, 81},
     {0.5, 0.5}},
    {"TlO",
     {2.0, 0.7071067811865476, 0.6299605249474366, 0.5743491774985174, 0.5520447568369062,
      0.5358867312681466},
     {2.0, 2.5, 5.0, 7.0, 0.12121212121212122, 0.15151515151515152, 0.30303030303030304,
      0.42424242424242425},
     {0.0, 0.5631214324667777, 0.14078035811669443},
     {8, 81},
     {0.5, 0.5}},
    {"Li2Fe",
     {2.0, 0.7453559924999299, 0.6933612743506347, 0.6707822056951861, 0.667408235036379,
      0.6667317422407864},
     {1.3333333333333333, 0.0, 2.0, 0.0, 0.39999999999999997, 0.0, 0.6, 0.0},
     {0.0, 0.16525166936612878, 0.03672259319247306},
     {3, 26},
     {0.6666666666666666, 0.3333333333333333}},
    /* Disordered garnet. matminer's IonProperty raises (non-integer amounts); we scale by 5:
     * Li32 Ga1 La15 Zr10 O60 has 32 + 3 + 45 + 40 = 120 = 60 * 2, so possible = 1. The ionic
     * characters are matminer's loop run by hand in Python on pymatgen's X (no oxi_state_guesses). */
    {"Li6.4Ga0.2La3Zr2O12",
     {5.0, 0.5962392915029783, 0.536093496575194, 0.5128976102520052, 0.5093661497106431,
      0.5085692259050009},
     {1.7288135593220337, 2.042372881355932, 0.3813559322033898, 0.0, 0.4163265306122449,
      0.49183673469387756, 0.09183673469387756, 0.0},
     {1.0, 0.7797297329475583, 0.1882261028465503},
     {3, 8, 31, 40, 57},
     {0.2711864406779661, 0.5084745762711864, 0.00847457627118644, 0.0847457627118644,
      0.1271186440677966}},
    /* Scaled by 100: Li56 La33 Ti100 O300 gives 56 + 99 + 400 = 555 != 600: not possible. */
    {"Li0.56La0.33TiO3",
     {4.0, 0.6602023908939847, 0.6225393466398756, 0.6140307230761675, 0.6135377078494212,
      0.6134979746369562},
     {1.8854805725971369, 2.4539877300613493, 0.476482617586912, 0.0, 0.3915074309978769,
      0.5095541401273885, 0.09893842887473461, 0.0},
     {0.0, 0.7797297329475583, 0.16267590324159986},
     {3, 8, 22, 57},
     {0.11451942740286299, 0.6134969325153373, 0.20449897750511245, 0.06748466257668712}},
    /* Og (Z 118): Magpie has no data, matminer imputes table means */
    {"Cs2Og",
     {2.0, 0.7453559924999299, 0.6933612743506347, 0.6707822056951861, 0.667408235036379,
      0.6667317422407864},
     {1.2738095238095237, 0.31547619047619047, 1.255952380952381, 1.6785714285714286,
      0.28157894736842104, 0.06973684210526315, 0.2776315789473684, 0.37105263157894736},
     {0.0, 0.19182951788476543, 0.042628781752170095},
     {55, 118},
     {0.6666666666666666, 0.3333333333333333}},
};


static void check_block(const char *formula, const char *family, const double *ours,
                        const double *expected, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int ok = ms_test_close(ours[i], expected[i], RTOL, 0);
        if (!ok)
            fprintf(stderr, "\n%s %s[%zu]: ours %.17g matminer %.17g\n", formula, family, i, ours[i],
                    expected[i]);
        CU_ASSERT(ok);
    }
}

static ms_featurizer *composition_featurizer(void)
{
    const ms_descriptor_set *set;
    ms_featurizer *f = NULL;
    if (ms_descriptor_set_lookup("composition", &set) != MS_SUCCESS) return NULL;
    if (ms_featurizer_create(set, ms_test_elements(), &f) != MS_SUCCESS) return NULL;
    return f;
}

static void test_families_match_matminer(void)
{
    ms_featurizer *f = composition_featurizer();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL_FATAL(ms_featurizer_n_features(f), N_COMPOSITION);
    double row[N_COMPOSITION];
    unsigned char reason[N_COMPOSITION];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const family_case *c = &cases[k];
        ms_composition comp;
        CU_ASSERT_EQUAL_FATAL(ms_composition_parse(c->formula, &comp), MS_SUCCESS);
        CU_ASSERT_EQUAL_FATAL(ms_featurizer_compute_composition(f, &comp, row, reason), MS_SUCCESS);
        check_block(c->formula, "stoichiometry", row + OFF_STOICH, c->stoich, 6);
        check_block(c->formula, "valence_orbital", row + OFF_VALENCE, c->valence, 8);
        check_block(c->formula, "ion_property", row + OFF_ION, c->ion, 3);
        double frac[MS_MAX_Z] = {0};
        for (int i = 0; i < 5 && c->frac_z[i]; i++) frac[c->frac_z[i] - 1] = c->frac[i];
        check_block(c->formula, "element_fraction", row + OFF_FRACTION, frac, MS_MAX_Z);
        for (size_t i = 0; i < N_COMPOSITION; i++) {
            /* every value is a number here; the reasons say none or imputed */
            CU_ASSERT(!isnan(row[i]));
            CU_ASSERT(reason[i] == MS_NAN_NONE || reason[i] == MS_NAN_IMPUTED);
        }
    }
    ms_featurizer_destroy(&f);
    CU_ASSERT_PTR_NULL(f);
}

static void test_feature_names(void)
{
    ms_featurizer *f = composition_featurizer();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_STRING_EQUAL(ms_featurizer_feature_name(f, 0), "MagpieData minimum Number");
    CU_ASSERT_STRING_EQUAL(ms_featurizer_feature_name(f, 46), "MagpieData avg_dev Electronegativity");
    CU_ASSERT_STRING_EQUAL(ms_featurizer_feature_name(f, 131), "MagpieData mode SpaceGroupNumber");
    CU_ASSERT_STRING_EQUAL(ms_featurizer_feature_name(f, OFF_STOICH), "0-norm");
    CU_ASSERT_STRING_EQUAL(ms_featurizer_feature_name(f, OFF_STOICH + 5), "10-norm");
    CU_ASSERT_STRING_EQUAL(ms_featurizer_feature_name(f, OFF_VALENCE + 7), "frac f valence electrons");
    CU_ASSERT_STRING_EQUAL(ms_featurizer_feature_name(f, OFF_ION), "compound possible");
    CU_ASSERT_STRING_EQUAL(ms_featurizer_feature_name(f, OFF_FRACTION), "H");
    CU_ASSERT_STRING_EQUAL(ms_featurizer_feature_name(f, OFF_FRACTION + 117), "Og");
    CU_ASSERT_STRING_EQUAL(ms_featurizer_feature_name(f, N_COMPOSITION), "");
    /* names are unique within the row */
    int dup = 0;
    for (size_t i = 0; i < N_COMPOSITION; i++)
        for (size_t j = i + 1; j < N_COMPOSITION; j++)
            dup += !strcmp(ms_featurizer_feature_name(f, i), ms_featurizer_feature_name(f, j));
    CU_ASSERT_EQUAL(dup, 0);
    ms_featurizer_destroy(&f);
}

static void test_registry(void)
{
    CU_ASSERT_EQUAL(ms_descriptor_type_count(), 10);
    CU_ASSERT_PTR_NULL(ms_descriptor_type_get(ms_descriptor_type_count()));
    for (size_t i = 0; i < ms_descriptor_type_count(); i++) {
        const ms_descriptor_type *t = ms_descriptor_type_get(i), *found;
        CU_ASSERT_EQUAL(ms_descriptor_type_lookup(t->name, &found), MS_SUCCESS);
        CU_ASSERT_PTR_EQUAL(found, t);
        CU_ASSERT(t->version >= 1);
        CU_ASSERT(t->n_features > 0 && t->compute != NULL && t->summary != NULL);
        for (size_t k = 0; k < t->n_features; k++) CU_ASSERT(t->feature_names[k][0] != '\0');
    }
    const ms_descriptor_type *t = (const ms_descriptor_type *)&t;
    CU_ASSERT_EQUAL(ms_descriptor_type_lookup("magpy", &t), MS_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "\"magpy\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "magpie, stoichiometry, valence_orbital, "
                                                      "ion_property, element_fraction"));
}

/* The recorded membership of each set: changing a family's version or a set's members without
 * bumping the set's version (and this table) fails here, so model files cannot silently load
 * features that changed. */
static const struct {
    const char *name;
    int version;
    size_t n_features;
    const char *signature;
} pinned_sets[] = {
    {"magpie", 1, 132, "magpie/1"},
    {"composition", 1, 267,
     "magpie/1,stoichiometry/1,valence_orbital/1,ion_property/1,element_fraction/1"},
    {"default", 2, 297,
     "magpie/1,stoichiometry/1,valence_orbital/1,ion_property/1,element_fraction/1,density/1,"
     "global_symmetry/1,neighbors/1,li_transport/1"},
    {"structure", 1, 23, "density/1,global_symmetry/1,neighbors/1"},
    {"li-transport", 2, 13, "li_transport/1,bvse/1"},
    {"bvse", 1, 6, "bvse/1"},
    {"full", 1, 303,
     "magpie/1,stoichiometry/1,valence_orbital/1,ion_property/1,element_fraction/1,density/1,"
     "global_symmetry/1,neighbors/1,li_transport/1,bvse/1"},
};

static void test_sets(void)
{
    size_t n = sizeof pinned_sets / sizeof pinned_sets[0];
    CU_ASSERT_EQUAL(ms_descriptor_set_count(), n);
    CU_ASSERT_PTR_NULL(ms_descriptor_set_get(n));
    for (size_t i = 0; i < n; i++) {
        const ms_descriptor_set *set;
        char sig[512];
        CU_ASSERT_EQUAL_FATAL(ms_descriptor_set_lookup(pinned_sets[i].name, &set), MS_SUCCESS);
        CU_ASSERT_PTR_EQUAL(set, ms_descriptor_set_get(i));
        CU_ASSERT_EQUAL(set->version, pinned_sets[i].version);
        CU_ASSERT_EQUAL(ms_descriptor_set_n_features(set), pinned_sets[i].n_features);
        CU_ASSERT_EQUAL(ms_descriptor_set_signature(set, sig, sizeof sig), MS_SUCCESS);
        CU_ASSERT_STRING_EQUAL(sig, pinned_sets[i].signature);
        CU_ASSERT_EQUAL(ms_descriptor_set_signature(set, sig, 4), MS_ERR_LIMIT);
    }
    const ms_descriptor_set *set = (const ms_descriptor_set *)&set;
    CU_ASSERT_EQUAL(ms_descriptor_set_lookup("li_transport_v9", &set), MS_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NULL(set);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "valid sets: magpie, composition, default"));
    CU_ASSERT_EQUAL(ms_descriptor_set_lookup(NULL, &set), MS_ERR_USAGE);
}

static void test_reason_names(void)
{
    for (int i = 0; i < MS_NAN_REASON_COUNT; i++) {
        const char *a = ms_nan_reason_name((ms_nan_reason)i);
        CU_ASSERT(a != NULL && a[0] != '\0' && strcmp(a, "unknown") != 0);
        for (int j = 0; j < i; j++) CU_ASSERT(strcmp(a, ms_nan_reason_name((ms_nan_reason)j)) != 0);
    }
    CU_ASSERT_STRING_EQUAL(ms_nan_reason_name(MS_NAN_REASON_COUNT), "unknown");
    CU_ASSERT_EQUAL(MS_NAN_NONE, 0);
}

static void test_nan_reasons(void)
{
    ms_featurizer *f = composition_featurizer();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    double row[N_COMPOSITION];
    unsigned char reason[N_COMPOSITION];
    ms_composition c;

    /* an empty composition: every feature NaN and undefined */
    ms_composition_clear(&c);
    CU_ASSERT_EQUAL(ms_featurizer_compute_composition(f, &c, row, reason), MS_SUCCESS);
    for (size_t i = 0; i < N_COMPOSITION; i++) {
        CU_ASSERT(isnan(row[i]));
        CU_ASSERT_EQUAL(reason[i], MS_NAN_UNDEFINED);
    }

    /* He has no Magpie electronegativity and no Pauling X: imputed, and said so */
    CU_ASSERT_EQUAL(ms_composition_parse("LiHe", &c), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_featurizer_compute_composition(f, &c, row, reason), MS_SUCCESS);
    CU_ASSERT_EQUAL(reason[7 * 6 + 3], MS_NAN_IMPUTED); /* mean Electronegativity */
    CU_ASSERT_EQUAL(reason[0], MS_NAN_NONE);            /* minimum Number */
    CU_ASSERT_EQUAL(reason[OFF_ION], MS_NAN_NONE);
    CU_ASSERT_EQUAL(reason[OFF_ION + 1], MS_NAN_IMPUTED);

    /* amounts with no integer multiple up to 1000: charge balance is NaN, too large */
    CU_ASSERT_EQUAL(ms_composition_parse("LiO0.0001234567", &c), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_featurizer_compute_composition(f, &c, row, reason), MS_SUCCESS);
    CU_ASSERT(isnan(row[OFF_ION]));
    CU_ASSERT_EQUAL(reason[OFF_ION], MS_NAN_TOO_LARGE);
    CU_ASSERT(!isnan(row[OFF_ION + 1]));

    /* a million multivalent atoms exceed the search bound; dividing by the gcd solves FeO */
    CU_ASSERT_EQUAL(ms_composition_parse("Fe1000000O1000000", &c), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_featurizer_compute_composition(f, &c, row, reason), MS_SUCCESS);
    CU_ASSERT_EQUAL(row[OFF_ION], 1.0);
    CU_ASSERT_EQUAL(reason[OFF_ION], MS_NAN_NONE);
    /* ... but not when the amounts are coprime */
    CU_ASSERT_EQUAL(ms_composition_parse("Fe999999O1000000", &c), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_featurizer_compute_composition(f, &c, row, reason), MS_SUCCESS);
    CU_ASSERT(isnan(row[OFF_ION]));
    CU_ASSERT_EQUAL(reason[OFF_ION], MS_NAN_TOO_LARGE);

    /* reasons are optional */
    CU_ASSERT_EQUAL(ms_composition_parse("Li2O", &c), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_featurizer_compute_composition(f, &c, row, NULL), MS_SUCCESS);
    CU_ASSERT_EQUAL(row[OFF_ION], 1.0);
    ms_featurizer_destroy(&f);
}

/* A structure whose species carry oxidation states: matminer's rule is sum(occu * oxi) == 0. */
static void test_structure_oxidation_states(void)
{
    ms_featurizer *f = composition_featurizer();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    double row[N_COMPOSITION];
    for (int wrong = 0; wrong < 2; wrong++) {
        ms_structure s;
        ms_structure_init(&s);
        CU_ASSERT_EQUAL(ms_structure_set_lattice_parameters(&s, 5.64, 5.64, 5.64, 90, 90, 90),
                        MS_SUCCESS);
        const double p0[3] = {0, 0, 0}, p1[3] = {0.5, 0.5, 0.5};
        CU_ASSERT_EQUAL(ms_structure_add_site(&s, p0, "Na1"), MS_SUCCESS);
        CU_ASSERT_EQUAL(ms_structure_add_species(&s, 11, 1.0, wrong ? 2.0 : 1.0, 1), MS_SUCCESS);
        CU_ASSERT_EQUAL(ms_structure_add_site(&s, p1, "Cl1"), MS_SUCCESS);
        CU_ASSERT_EQUAL(ms_structure_add_species(&s, 17, 1.0, -1.0, 1), MS_SUCCESS);
        CU_ASSERT_EQUAL(ms_structure_finish(&s), MS_SUCCESS);
        CU_ASSERT_EQUAL(ms_featurizer_compute_structure(f, &s, row, NULL), MS_SUCCESS);
        CU_ASSERT_EQUAL(row[OFF_ION], wrong ? 0.0 : 1.0);
        CU_ASSERT(ms_test_close(row[OFF_ION + 1], 0.7115475428918885, RTOL, 0));
        ms_structure_destroy(&s);
    }
    ms_featurizer_destroy(&f);
}

static void test_misuse(void)
{
    ms_featurizer *f = (ms_featurizer *)&f;
    const ms_descriptor_set *set;
    CU_ASSERT_EQUAL(ms_descriptor_set_lookup("magpie", &set), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_featurizer_create(set, NULL, &f), MS_ERR_USAGE);
    CU_ASSERT_PTR_NULL(f);
    ms_featurizer_destroy(&f); /* NULL handle: no-op */
    ms_featurizer_destroy(NULL);
    CU_ASSERT_EQUAL(ms_featurizer_create(set, ms_test_elements(), &f), MS_SUCCESS);
    CU_ASSERT_PTR_EQUAL(ms_featurizer_set(f), set);
    double row[132];
    ms_descriptor_input in = {NULL, NULL, NULL, NULL};
    CU_ASSERT_EQUAL(ms_featurizer_compute(f, &in, row, NULL), MS_ERR_USAGE);
    ms_featurizer_destroy(&f);
}

/* Declared here too until suites.h lists this suite (a compatible redeclaration). */
int ms_suite_descriptor(void);

int ms_suite_descriptor(void)
{
    CU_pSuite s = CU_add_suite("descriptor", NULL, NULL);
    if (!s) return CU_get_error();
    if (!CU_add_test(s, "registry lookup and unknown family", test_registry) ||
        !CU_add_test(s, "named sets, versions and unknown set", test_sets) ||
        !CU_add_test(s, "reason names are distinct", test_reason_names) ||
        !CU_add_test(s, "feature names as matminer", test_feature_names) ||
        !CU_add_test(s, "stoichiometry, valence, ion, fraction match matminer",
                     test_families_match_matminer) ||
        !CU_add_test(s, "NaN values carry reasons", test_nan_reasons) ||
        !CU_add_test(s, "oxidation states of a structure", test_structure_oxidation_states) ||
        !CU_add_test(s, "misuse is reported", test_misuse))
        return CU_get_error();
    return CUE_SUCCESS;
}
