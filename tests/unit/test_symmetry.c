/* Tests of the symmetry module on hand-built real structures. Expected values were printed by
 * Debian 12's python3-pymatgen 2022.11.7 (SpacegroupAnalyzer, symprec 0.01, angle tolerance 5):
 * get_space_group_number(), get_symmetry_dataset()["wyckoffs"], len(get_symmetry_operations()),
 * is_laue(). The 230-group round trip checks the module against spglib's own database and its
 * spg_standardize_cell(to_primitive=1). */
#include <CUnit/CUnit.h>
#include <math.h>
#include <spglib.h>
#include <string.h>

#include "matscreen/symmetry.h"
#include "suites.h"
#include "test_util.h"

/* Declared here too until suites.h lists X(symmetry) (the lead registers suites). */
int ms_suite_symmetry(void);

typedef struct {
    double frac[3];
    int z[2]; /* second 0 when the site holds one species */
    double occu[2];
} site_spec;

/* Builds a finished structure from lattice parameters and sites. */
static void build(ms_structure *s, const double abc[3], const double ang[3], const site_spec *sites,
                  size_t n)
{
    ms_structure_reset(s);
    CU_ASSERT_EQUAL_FATAL(
        ms_structure_set_lattice_parameters(s, abc[0], abc[1], abc[2], ang[0], ang[1], ang[2]),
        MS_SUCCESS);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL_FATAL(ms_structure_add_site(s, sites[i].frac, NULL), MS_SUCCESS);
        for (int k = 0; k < 2 && sites[i].z[k]; k++)
            CU_ASSERT_EQUAL_FATAL(
                ms_structure_add_species(s, sites[i].z[k], sites[i].occu[k], 0, 0), MS_SUCCESS);
    }
    CU_ASSERT_EQUAL_FATAL(ms_structure_finish(s), MS_SUCCESS);
}

#define NA 11
#define CL 17
#define LI 3
#define O 8
#define K 19
#define LA 57

/* Rock salt NaCl, a = 5.6402 Å (ICSD 240598), conventional cell; cations first. */
static const site_spec nacl[] = {
    {{0, 0, 0}, {NA, 0}, {1, 0}},     {{0.5, 0.5, 0}, {NA, 0}, {1, 0}},
    {{0.5, 0, 0.5}, {NA, 0}, {1, 0}}, {{0, 0.5, 0.5}, {NA, 0}, {1, 0}},
    {{0.5, 0, 0}, {CL, 0}, {1, 0}},   {{0, 0.5, 0}, {CL, 0}, {1, 0}},
    {{0, 0, 0.5}, {CL, 0}, {1, 0}},   {{0.5, 0.5, 0.5}, {CL, 0}, {1, 0}},
};
static const double cubic_nacl[3] = {5.6402, 5.6402, 5.6402};
static const double right[3] = {90, 90, 90};

static void test_rock_salt(void)
{
    ms_structure s;
    ms_symmetry_workspace ws;
    ms_symmetry sym;
    ms_structure_init(&s);
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    build(&s, cubic_nacl, right, nacl, 8);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 225);
    CU_ASSERT_STRING_EQUAL(sym.international, "Fm-3m");
    CU_ASSERT_STRING_EQUAL(sym.hall_symbol, "-F 4 2 3");
    CU_ASSERT_EQUAL(sym.hall_number, 523);
    CU_ASSERT_STRING_EQUAL(sym.pointgroup, "m-3m");
    CU_ASSERT_EQUAL(sym.crystal_system, MS_CRYSTAL_CUBIC);
    CU_ASSERT_STRING_EQUAL(ms_crystal_system_name(sym.crystal_system), "cubic");
    CU_ASSERT_EQUAL(sym.n_operations, 192); /* 48 point operations x 4 F-centring translations */
    CU_ASSERT_EQUAL(sym.centrosymmetric, 1);
    CU_ASSERT_STRING_EQUAL(sym.wyckoff, "aaaabbbb");
    CU_ASSERT_EQUAL(sym.equivalent[3], 0);
    CU_ASSERT_EQUAL(sym.equivalent[7], 4);
    CU_ASSERT_EQUAL(sym.n_types, 2);
    CU_ASSERT_EQUAL(sym.site_type[0], 1);
    CU_ASSERT_EQUAL(sym.site_type[5], 2);
    CU_ASSERT_EQUAL(sym.disordered, 0);
    CU_ASSERT_DOUBLE_EQUAL(sym.symprec, 0.01, 0);
    CU_ASSERT_EQUAL(sym.ladder_index, 0);
    CU_ASSERT_EQUAL(sym.conventional.n_sites, 8);
    CU_ASSERT_DOUBLE_EQUAL(ms_structure_volume(&sym.conventional), pow(5.6402, 3), 1e-9);
    CU_ASSERT_EQUAL(sym.primitive.n_sites, 2);
    CU_ASSERT_DOUBLE_EQUAL(ms_structure_volume(&sym.primitive), pow(5.6402, 3) / 4, 1e-9);
    /* primitive sites keep their species: one Na, one Cl */
    int zsum = 0;
    for (size_t i = 0; i < sym.primitive.n_sites; i++)
        zsum += sym.primitive.species[sym.primitive.site_species[i]].z;
    CU_ASSERT_EQUAL(zsum, NA + CL);
    ms_structure_destroy(&s);
    ms_symmetry_workspace_destroy(&ws);
    ms_symmetry_destroy(&sym);
}

/* NaCl given as its 2-atom primitive cell: same group, 48 operations, a 4x conventional cell. */
static void test_rock_salt_primitive_input(void)
{
    static const site_spec prim[] = {{{0, 0, 0}, {NA, 0}, {1, 0}},
                                     {{0.5, 0.5, 0.5}, {CL, 0}, {1, 0}}};
    double a = 5.6402 / sqrt(2.0);
    const double abc[3] = {a, a, a}, ang[3] = {60, 60, 60};
    ms_structure s;
    ms_symmetry_workspace ws;
    ms_symmetry sym;
    ms_structure_init(&s);
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    build(&s, abc, ang, prim, 2);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 225);
    CU_ASSERT_EQUAL(sym.n_operations, 48);
    CU_ASSERT_EQUAL(sym.conventional.n_sites, 8);
    CU_ASSERT_DOUBLE_EQUAL(ms_structure_volume(&sym.conventional), pow(5.6402, 3), 1e-9);
    CU_ASSERT_EQUAL(sym.primitive.n_sites, 2);
    ms_structure_destroy(&s);
    ms_symmetry_workspace_destroy(&ws);
    ms_symmetry_destroy(&sym);
}

/* Li2O antifluorite, a = 4.6114 Å: O on 4a, Li on 8c. */
static void test_li2o(void)
{
    site_spec sites[12];
    static const double f[4][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
    size_t n = 0;
    for (int i = 0; i < 4; i++)
        sites[n++] = (site_spec){{f[i][0], f[i][1], f[i][2]}, {O, 0}, {1, 0}};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 2; k++) {
            double d = k ? 0.75 : 0.25;
            sites[n++] = (site_spec){{f[i][0] + d, f[i][1] + d, f[i][2] + d}, {LI, 0}, {1, 0}};
        }
    const double abc[3] = {4.6114, 4.6114, 4.6114};
    ms_structure s;
    ms_symmetry_workspace ws;
    ms_symmetry sym;
    ms_structure_init(&s);
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    build(&s, abc, right, sites, n);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 225);
    CU_ASSERT_EQUAL(sym.n_operations, 192);
    CU_ASSERT_EQUAL(sym.centrosymmetric, 1);
    CU_ASSERT_STRING_EQUAL(sym.wyckoff, "aaaacccccccc");
    CU_ASSERT_EQUAL(sym.primitive.n_sites, 3);
    CU_ASSERT_EQUAL(sym.conventional.n_sites, 12);
    ms_structure_destroy(&s);
    ms_symmetry_workspace_destroy(&ws);
    ms_symmetry_destroy(&sym);
}

/* NaCl with one Na moved by 0.05 Å in a generic direction: P1 at symprec 0.01; at 0.1 spglib
 * absorbs part of the displacement and finds R3m (160), as pymatgen does. */
static void test_distortion_and_ladder(void)
{
    site_spec sites[8];
    memcpy(sites, nacl, sizeof sites);
    sites[0].frac[0] = 0.003;
    sites[0].frac[1] = 0.005;
    sites[0].frac[2] = 0.007;
    ms_structure s;
    ms_symmetry_workspace ws;
    ms_symmetry sym;
    ms_symmetry_options opt;
    ms_structure_init(&s);
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    build(&s, cubic_nacl, right, sites, 8);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 1);
    CU_ASSERT_EQUAL(sym.n_operations, 1);
    CU_ASSERT_EQUAL(sym.centrosymmetric, 0);
    CU_ASSERT_EQUAL(sym.crystal_system, MS_CRYSTAL_TRICLINIC);
    CU_ASSERT_STRING_EQUAL(sym.wyckoff, "aaaaaaaa");
    CU_ASSERT_EQUAL(sym.primitive.n_sites, 8);
    ms_symmetry_options_default(&opt);
    const double loose[] = {0.1};
    CU_ASSERT_EQUAL(ms_symmetry_options_set_ladder(&opt, loose, 1), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, &opt, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 160);
    CU_ASSERT_EQUAL(sym.crystal_system, MS_CRYSTAL_TRIGONAL);
    ms_structure_destroy(&s);
    ms_symmetry_workspace_destroy(&ws);
    ms_symmetry_destroy(&sym);
}

/* Two Na 0.05 Å apart: spglib refuses symprec 0.1 ("too close distance between atoms"), so the
 * ladder falls back to the next tolerance and records it. */
static void test_ladder_fallback(void)
{
    site_spec sites[9];
    memcpy(sites, nacl, sizeof nacl);
    sites[8] = (site_spec){{0.25, 0.25, 0.25}, {NA, 0}, {1, 0}};
    sites[7].frac[0] = 0.25 + 0.05 / 5.6402; /* Cl at 0.5,0.5,0.5 moves next to the extra Na */
    sites[7].frac[1] = 0.25;
    sites[7].frac[2] = 0.25;
    sites[7].z[0] = NA;
    ms_structure s;
    ms_symmetry_workspace ws;
    ms_symmetry sym;
    ms_symmetry_options opt;
    ms_structure_init(&s);
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    build(&s, cubic_nacl, right, sites, 9);
    ms_symmetry_options_default(&opt);
    const double only_loose[] = {0.1};
    CU_ASSERT_EQUAL(ms_symmetry_options_set_ladder(&opt, only_loose, 1), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_symmetry_analyze(&ws, &s, &opt, &sym), MS_ERR_SYMMETRY);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "0.1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "too close"));
    CU_ASSERT_EQUAL(sym.number, 0);
    const double ladder[] = {0.1, 0.01};
    CU_ASSERT_EQUAL(ms_symmetry_options_set_ladder(&opt, ladder, 2), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, &opt, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.ladder_index, 1);
    CU_ASSERT_DOUBLE_EQUAL(sym.symprec, 0.01, 0);
    CU_ASSERT(sym.number >= 1 && sym.number <= 230);
    ms_structure_destroy(&s);
    ms_symmetry_workspace_destroy(&ws);
    ms_symmetry_destroy(&sym);
}

/* Disorder: the symmetry is that of the site-type pattern. Two cation sites Na, two Na0.5K0.5
 * layer the cell: P4/mmm (123), Wyckoff a a d d c c b b, 32 operations (pymatgen). All four
 * Li0.5La0.5 keep Fm-3m; Li(0.5) and Li(1.0) are different types. */
static void test_disordered_pattern(void)
{
    site_spec sites[8];
    memcpy(sites, nacl, sizeof sites);
    for (int i = 2; i < 4; i++)
        sites[i] = (site_spec){{0}, {NA, K}, {0.5, 0.5}};
    memcpy(sites[2].frac, nacl[2].frac, sizeof sites[2].frac);
    memcpy(sites[3].frac, nacl[3].frac, sizeof sites[3].frac);
    ms_structure s;
    ms_symmetry_workspace ws;
    ms_symmetry sym;
    ms_structure_init(&s);
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    build(&s, cubic_nacl, right, sites, 8);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 123);
    CU_ASSERT_EQUAL(sym.n_operations, 32);
    CU_ASSERT_EQUAL(sym.centrosymmetric, 1);
    CU_ASSERT_STRING_EQUAL(sym.wyckoff, "aaddccbb");
    CU_ASSERT_EQUAL(sym.disordered, 1);
    CU_ASSERT_EQUAL(sym.n_types, 3);
    /* The standard P4/mmm cell is the a/sqrt(2) one: 4 sites, one of them Na0.5K0.5, which keeps
     * both species. */
    CU_ASSERT_EQUAL(sym.conventional.n_sites, 4);
    CU_ASSERT_EQUAL(sym.primitive.n_sites, 4);
    CU_ASSERT_DOUBLE_EQUAL(ms_structure_volume(&sym.conventional), pow(5.6402, 3) / 2, 1e-9);
    size_t two = 0;
    for (size_t i = 0; i < sym.conventional.n_sites; i++)
        two += sym.conventional.site_species[i + 1] - sym.conventional.site_species[i] == 2;
    CU_ASSERT_EQUAL(two, 1);

    /* K0.5Na0.5 written in the other order is the same site type */
    ms_structure_reset(&s);
    build(&s, cubic_nacl, right, sites, 8);
    size_t k = s.site_species[3];
    s.species[k].z = K;
    s.species[k + 1].z = NA;
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 123);
    CU_ASSERT_EQUAL(sym.n_types, 3);

    for (int i = 0; i < 4; i++) {
        sites[i] = (site_spec){{0}, {LI, LA}, {0.5, 0.5}};
        memcpy(sites[i].frac, nacl[i].frac, sizeof sites[i].frac);
        sites[i + 4].z[0] = O;
    }
    build(&s, cubic_nacl, right, sites, 8);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 225);
    CU_ASSERT_EQUAL(sym.n_operations, 192);
    CU_ASSERT_EQUAL(sym.disordered, 1);

    for (int i = 0; i < 4; i++)
        sites[i] = (site_spec){{0}, {LI, 0}, {i < 2 ? 0.5 : 1.0, 0}};
    for (int i = 0; i < 4; i++)
        memcpy(sites[i].frac, nacl[i].frac, sizeof sites[i].frac);
    build(&s, cubic_nacl, right, sites, 8);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 123);
    CU_ASSERT_STRING_EQUAL(sym.wyckoff, "aaddccbb");
    ms_structure_destroy(&s);
    ms_symmetry_workspace_destroy(&ws);
    ms_symmetry_destroy(&sym);
}

/* Oxidation states are part of the site type when use_oxidation is set (pymatgen's Species). */
static void test_oxidation_states(void)
{
    ms_structure s;
    ms_symmetry_workspace ws;
    ms_symmetry sym;
    ms_symmetry_options opt;
    ms_structure_init(&s);
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    build(&s, cubic_nacl, right, nacl, 8);
    for (size_t i = 0; i < 4; i++) {
        s.species[i].has_oxi = 1;
        s.species[i].oxi = (i < 2) ? 1 : 2; /* a made-up charge pattern on the cations */
    }
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 123);
    ms_symmetry_options_default(&opt);
    opt.use_oxidation = 0;
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, &opt, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 225);
    ms_structure_destroy(&s);
    ms_symmetry_workspace_destroy(&ws);
    ms_symmetry_destroy(&sym);
}

/* TaSiO3 of perov5 (perov5-13608.cif): Si and Ta sit about 0.01 Å off the cubic positions, so
 * at symprec 0.01 spglib's answer depends on the atom order: P4mm (99) in the file's order (Si
 * first), Pm-3m (221) in pymatgen's electronegativity order (Ta, Si, O), which the module uses
 * when given the element table. Wyckoff letters stay in input order either way. */
static void test_site_order(void)
{
    static const site_spec tasio3[] = {
        {{0.00139041, 0, 0}, {14, 0}, {1, 0}},    {{0.50211160, 0.5, 0.5}, {73, 0}, {1, 0}},
        {{0.50304481, 0, 0.5}, {O, 0}, {1, 0}},   {{0.50304481, 0.5, 0}, {O, 0}, {1, 0}},
        {{0.00248389, 0.5, 0.5}, {O, 0}, {1, 0}},
    };
    const double abc[3] = {4.05808335, 4.05808335, 4.05808335};
    ms_structure s;
    ms_symmetry_workspace ws;
    ms_symmetry sym;
    ms_symmetry_options opt;
    ms_structure_init(&s);
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    build(&s, abc, right, tasio3, 5);
    ms_symmetry_options_default(&opt);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, &opt, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 99);
    opt.elements = ms_test_elements();
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, &opt, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 221);
    CU_ASSERT_STRING_EQUAL(sym.wyckoff, "baddd"); /* Si 1b, Ta 1a, O 3d (pymatgen), input order */
    CU_ASSERT_EQUAL(sym.equivalent[4], 2);
    CU_ASSERT_EQUAL(sym.site_type[1], 1); /* Ta comes first for spglib */
    CU_ASSERT_EQUAL(sym.site_type[0], 2);
    CU_ASSERT_EQUAL(sym.conventional.n_sites, 5);
    /* the standardized cell keeps every element */
    int zsum = 0;
    for (size_t i = 0; i < sym.conventional.n_sites; i++)
        zsum += sym.conventional.species[sym.conventional.site_species[i]].z;
    CU_ASSERT_EQUAL(zsum, 14 + 73 + 3 * O);
    /* the same crystal with its sites listed in another order gives the same answer */
    static const site_spec shuffled[] = {tasio3[4], tasio3[1], tasio3[2], tasio3[0], tasio3[3]};
    build(&s, abc, right, shuffled, 5);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &s, &opt, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 221);
    CU_ASSERT_STRING_EQUAL(sym.wyckoff, "dadbd");
    ms_structure_destroy(&s);
    ms_symmetry_workspace_destroy(&ws);
    ms_symmetry_destroy(&sym);
}

static void test_errors(void)
{
    ms_structure s;
    ms_symmetry_workspace ws;
    ms_symmetry sym;
    ms_symmetry_options opt;
    ms_structure_init(&s);
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    /* zero atoms (a structure that was never finished) */
    CU_ASSERT_EQUAL(ms_structure_set_lattice_parameters(&s, 3, 3, 3, 90, 90, 90), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "no sites"));
    build(&s, cubic_nacl, right, nacl, 8);
    s.frac[5][1] = NAN;
    CU_ASSERT_EQUAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "site 5"));
    CU_ASSERT_EQUAL(sym.number, 0);
    build(&s, cubic_nacl, right, nacl, 8);
    s.lattice[1][1] = INFINITY;
    CU_ASSERT_EQUAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_ERR_INVALID);
    build(&s, cubic_nacl, right, nacl, 8);
    memcpy(s.lattice[2], s.lattice[0], sizeof s.lattice[2]); /* zero volume */
    CU_ASSERT_EQUAL(ms_symmetry_analyze(&ws, &s, NULL, &sym), MS_ERR_INVALID);
    /* bad ladders */
    ms_symmetry_options_default(&opt);
    const double bad[] = {0.01, -1};
    CU_ASSERT_EQUAL(ms_symmetry_options_set_ladder(&opt, bad, 2), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(opt.n_symprec, 5); /* unchanged */
    const double nan_ladder[] = {NAN};
    CU_ASSERT_EQUAL(ms_symmetry_options_set_ladder(&opt, nan_ladder, 1), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_symmetry_options_set_ladder(&opt, bad, 0), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_symmetry_options_set_ladder(&opt, bad, MS_SYMMETRY_LADDER_MAX + 1),
                    MS_ERR_USAGE);
    build(&s, cubic_nacl, right, nacl, 8);
    opt.n_symprec = 0;
    CU_ASSERT_EQUAL(ms_symmetry_analyze(&ws, &s, &opt, &sym), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_crystal_system_of(0), MS_CRYSTAL_UNKNOWN);
    CU_ASSERT_EQUAL(ms_crystal_system_of(231), MS_CRYSTAL_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(ms_crystal_system_name(MS_CRYSTAL_UNKNOWN), "unknown");
    /* destroy is safe on empty and twice */
    ms_symmetry_destroy(&sym);
    ms_symmetry_destroy(&sym);
    ms_structure_destroy(&s);
    ms_symmetry_workspace_destroy(&ws);
    ms_symmetry_workspace_destroy(&ws);
}

static void test_crystal_systems(void)
{
    static const struct {
        int lo, hi;
        ms_crystal_system cs;
        const char *name;
    } table[] = {{1, 2, MS_CRYSTAL_TRICLINIC, "triclinic"},
                 {3, 15, MS_CRYSTAL_MONOCLINIC, "monoclinic"},
                 {16, 74, MS_CRYSTAL_ORTHORHOMBIC, "orthorhombic"},
                 {75, 142, MS_CRYSTAL_TETRAGONAL, "tetragonal"},
                 {143, 167, MS_CRYSTAL_TRIGONAL, "trigonal"},
                 {168, 194, MS_CRYSTAL_HEXAGONAL, "hexagonal"},
                 {195, 230, MS_CRYSTAL_CUBIC, "cubic"}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        CU_ASSERT_EQUAL(ms_crystal_system_of(table[i].lo), table[i].cs);
        CU_ASSERT_EQUAL(ms_crystal_system_of(table[i].hi), table[i].cs);
        CU_ASSERT_STRING_EQUAL(ms_crystal_system_name(table[i].cs), table[i].name);
    }
    /* matminer's crystal_system_int */
    CU_ASSERT_EQUAL((int)MS_CRYSTAL_CUBIC, 1);
    CU_ASSERT_EQUAL((int)MS_CRYSTAL_TRICLINIC, 7);
}

/* Builds, for the standard setting of space group `number`, two general-position orbits (Li and
 * O at arbitrary coordinates) in a cell of the right metric. */
static int build_from_group(ms_structure *s, int number, int *n_ops_out)
{
    static int rot[192][3][3];
    static double trans[192][3];
    int hall = 0;
    for (int h = 1; h <= 530 && !hall; h++)
        if (spg_get_spacegroup_type(h).number == number) hall = h;
    int n_ops = spg_get_symmetry_from_database(rot, trans, hall);
    ms_crystal_system cs = ms_crystal_system_of(number);
    double abc[3] = {5.132, 6.417, 7.283}, ang[3] = {90, 90, 90};
    switch (cs) {
    case MS_CRYSTAL_TRICLINIC:
        ang[0] = 81.3;
        ang[1] = 97.7;
        ang[2] = 103.1;
        break;
    case MS_CRYSTAL_MONOCLINIC: ang[1] = 103.9; break;
    case MS_CRYSTAL_ORTHORHOMBIC: break;
    case MS_CRYSTAL_TETRAGONAL: abc[1] = abc[0]; break;
    case MS_CRYSTAL_TRIGONAL:
    case MS_CRYSTAL_HEXAGONAL:
        abc[1] = abc[0];
        ang[2] = 120;
        break;
    default: abc[1] = abc[2] = abc[0]; break;
    }
    ms_structure_reset(s);
    if (ms_structure_set_lattice_parameters(s, abc[0], abc[1], abc[2], ang[0], ang[1], ang[2]))
        return -1;
    static const double seeds[2][3] = {{0.1183, 0.3071, 0.0457}, {0.3419, 0.0862, 0.2713}};
    static const int z[2] = {LI, O};
    for (int o = 0; o < 2; o++) {
        size_t first = s->n_sites;
        for (int k = 0; k < n_ops; k++) {
            double x[3];
            for (int i = 0; i < 3; i++) {
                x[i] = trans[k][i];
                for (int j = 0; j < 3; j++)
                    x[i] += rot[k][i][j] * seeds[o][j];
                x[i] -= floor(x[i]);
            }
            int dup = 0;
            for (size_t m = first; m < s->n_sites && !dup; m++) {
                int same = 1;
                for (int i = 0; i < 3; i++) {
                    double d = x[i] - s->frac[m][i];
                    if (fabs(d - nearbyint(d)) > 1e-8) same = 0;
                }
                dup = same;
            }
            if (dup) continue;
            if (ms_structure_add_site(s, x, NULL) || ms_structure_add_species(s, z[o], 1, 0, 0))
                return -1;
        }
    }
    *n_ops_out = n_ops;
    return ms_structure_finish(s) == MS_SUCCESS ? 0 : -1;
}

/* Every space group in its standard setting comes back with its number, its operations, and a
 * primitive cell equal to spglib's spg_standardize_cell(to_primitive=1). */
static void test_all_230_groups(void)
{
    ms_structure s;
    ms_symmetry_workspace ws;
    ms_symmetry sym;
    ms_structure_init(&s);
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    static double lat[3][3], pos[4 * 384][3];
    static int types[4 * 384];
    int bad = 0;
    for (int number = 1; number <= 230; number++) {
        int n_ops = 0;
        CU_ASSERT_EQUAL_FATAL(build_from_group(&s, number, &n_ops), 0);
        if (ms_symmetry_analyze(&ws, &s, NULL, &sym) != MS_SUCCESS) {
            fprintf(stderr, "\ngroup %d: %s\n", number, ms_error_message());
            bad++;
            continue;
        }
        int ok = sym.number == number && (int)sym.n_operations == n_ops && sym.ladder_index == 0 &&
                 sym.conventional.n_sites == s.n_sites;
        /* centrosymmetric iff the point group is a Laue class */
        static const char *laue[] = {"-1",  "2/m", "mmm",   "4/m", "4/mmm", "-3",
                                     "-3m", "6/m", "6/mmm", "m-3", "m-3m"};
        int is_laue = 0;
        for (size_t i = 0; i < sizeof laue / sizeof laue[0]; i++)
            is_laue |= strcmp(sym.pointgroup, laue[i]) == 0;
        ok &= is_laue == sym.centrosymmetric;
        /* spglib's own primitive cell */
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                lat[i][j] = s.lattice[j][i];
        for (size_t i = 0; i < s.n_sites; i++) {
            memcpy(pos[i], s.frac[i], sizeof pos[i]);
            types[i] = s.species[s.site_species[i]].z;
        }
        int n_prim = spgat_standardize_cell(lat, pos, types, (int)s.n_sites, 1, 0, 0.01, 5.0);
        ok &= n_prim == (int)sym.primitive.n_sites;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                ok &= fabs(lat[j][i] - sym.primitive.lattice[i][j]) < 1e-8;
        /* every spglib primitive atom is one of ours, with the same element */
        for (int a = 0; a < n_prim && ok; a++) {
            int found = 0;
            for (size_t b = 0; b < sym.primitive.n_sites && !found; b++) {
                int same = sym.primitive.species[sym.primitive.site_species[b]].z == types[a];
                for (int i = 0; i < 3; i++) {
                    double d = pos[a][i] - sym.primitive.frac[b][i];
                    same &= fabs(d - nearbyint(d)) < 1e-6;
                }
                found = same;
            }
            ok &= found;
        }
        if (!ok) {
            fprintf(stderr, "\ngroup %d: got %d (%zu ops of %d), primitive %zu vs %d\n", number,
                    sym.number, sym.n_operations, n_ops, sym.primitive.n_sites, n_prim);
            bad++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    ms_structure_destroy(&s);
    ms_symmetry_workspace_destroy(&ws);
    ms_symmetry_destroy(&sym);
}

/* A workspace and result reused across structures give the same answers and, once grown, keep
 * their memory (no allocation in steady state). */
static void test_reused_workspace(void)
{
    ms_structure small, large;
    ms_symmetry_workspace ws;
    ms_symmetry sym, fresh;
    ms_structure_init(&small);
    ms_structure_init(&large);
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    ms_symmetry_init(&fresh);
    build(&small, cubic_nacl, right, nacl, 8);
    int n_ops;
    CU_ASSERT_EQUAL_FATAL(build_from_group(&large, 229, &n_ops), 0); /* Im-3m: 192 sites */
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &large, NULL, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 229);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &small, NULL, &sym), MS_SUCCESS);
    const int *types = ws.types;
    const ms_symmetry_op *ops = sym.ops;
    const char *wyckoff = sym.wyckoff;
    const double(*conv)[3] = sym.conventional.frac;
    for (int round = 0; round < 3; round++) {
        CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &large, NULL, &sym), MS_SUCCESS);
        CU_ASSERT_EQUAL(sym.number, 229);
        CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &small, NULL, &sym), MS_SUCCESS);
        CU_ASSERT_EQUAL(sym.number, 225);
    }
    CU_ASSERT_PTR_EQUAL(ws.types, types);
    CU_ASSERT_PTR_EQUAL(sym.ops, ops);
    CU_ASSERT_PTR_EQUAL(sym.wyckoff, wyckoff);
    CU_ASSERT_PTR_EQUAL(sym.conventional.frac, conv);
    /* same answer as a fresh result and workspace */
    ms_symmetry_workspace ws2;
    ms_symmetry_workspace_init(&ws2);
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws2, &small, NULL, &fresh), MS_SUCCESS);
    CU_ASSERT_EQUAL(fresh.n_operations, sym.n_operations);
    CU_ASSERT_STRING_EQUAL(fresh.wyckoff, sym.wyckoff);
    int same_ops = 1;
    for (size_t k = 0; k < sym.n_operations; k++) /* field by field: the struct has padding */
        same_ops &= !memcmp(fresh.ops[k].rot, sym.ops[k].rot, sizeof sym.ops[k].rot) &&
                    !memcmp(fresh.ops[k].trans, sym.ops[k].trans, sizeof sym.ops[k].trans);
    CU_ASSERT(same_ops);
    CU_ASSERT_EQUAL(fresh.conventional.n_sites, sym.conventional.n_sites);
    CU_ASSERT_EQUAL(memcmp(fresh.conventional.frac, sym.conventional.frac,
                           sym.conventional.n_sites * sizeof *sym.conventional.frac),
                    0);
    /* cells can be switched off */
    ms_symmetry_options opt;
    ms_symmetry_options_default(&opt);
    opt.cells = 0;
    CU_ASSERT_EQUAL_FATAL(ms_symmetry_analyze(&ws, &large, &opt, &sym), MS_SUCCESS);
    CU_ASSERT_EQUAL(sym.number, 229);
    CU_ASSERT_EQUAL(sym.conventional.n_sites, 0);
    CU_ASSERT_EQUAL(sym.primitive.n_sites, 0);
    ms_symmetry_workspace_destroy(&ws2);
    ms_symmetry_workspace_destroy(&ws);
    ms_symmetry_destroy(&sym);
    ms_symmetry_destroy(&fresh);
    ms_structure_destroy(&small);
    ms_structure_destroy(&large);
}

int ms_suite_symmetry(void)
{
    CU_pSuite suite = CU_add_suite("symmetry", NULL, NULL);
    if (!suite) return CU_get_error();
    if (!CU_add_test(suite, "rock salt NaCl: Fm-3m, 192 operations", test_rock_salt) ||
        !CU_add_test(suite, "NaCl primitive input", test_rock_salt_primitive_input) ||
        !CU_add_test(suite, "Li2O antifluorite", test_li2o) ||
        !CU_add_test(suite, "P1 distortion, symprec matters", test_distortion_and_ladder) ||
        !CU_add_test(suite, "tolerance ladder fallback", test_ladder_fallback) ||
        !CU_add_test(suite, "disordered site-type pattern", test_disordered_pattern) ||
        !CU_add_test(suite, "oxidation states in site types", test_oxidation_states) ||
        !CU_add_test(suite, "pymatgen site order", test_site_order) ||
        !CU_add_test(suite, "error paths", test_errors) ||
        !CU_add_test(suite, "crystal systems", test_crystal_systems) ||
        !CU_add_test(suite, "all 230 space groups round trip", test_all_230_groups) ||
        !CU_add_test(suite, "reused workspace", test_reused_workspace))
        return CU_get_error();
    return CUE_SUCCESS;
}
