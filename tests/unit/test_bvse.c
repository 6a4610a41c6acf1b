/* BVSE landscape and percolation barriers (bvse.c).
 *
 * References: gamma-Li3PO4 (mp-2878) E_1D/E_2D/E_3D = 0.4785/0.4785/0.8008 eV from bvlain with the
 * published settings (../shared/data/bvse/README.md; those are upper ends of a bisection with
 * 0.0098 eV steps, so the exact thresholds lie in (0.4687, 0.4785] and (0.7910, 0.8008]); LiFePO4
 * (examples/structures, a slightly distorted cell of mp-19017) is a 1-D conductor, E_1D near
 * 0.44 eV, E_2D and E_3D above 3 eV (bvlain on mp-19017: 0.4395/3.3301/3.3594); Li2O (antifluorite,
 * built here) has cubic symmetry, so its three barriers are the same number. The invariance tests
 * rebuild one structure as a supercell, with a shifted origin, with its sites reversed and with
 * an offset grid. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matscreen/bvse.h"
#include "matscreen/featurize.h"
#include "matscreen/reader.h"
#include "suites.h"
#include "test_util.h"

int ms_suite_bvse(void);

#define LIFEPO4 "../../examples/structures/LiFePO4.cif"

static ms_bvse_context *context(void)
{
    ms_bvse_context *c = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_bvse_context_create(ms_test_elements(), &c), MS_SUCCESS);
    return c;
}

/* Copies src into dst, repeated rep[d] times along each lattice vector, every fractional
 * coordinate shifted by shift (in the original cell), sites in reverse order when reverse. */
static void rebuild(const ms_structure *src, ms_structure *dst, const int rep[3],
                    const double shift[3], int reverse)
{
    ms_structure_reset(dst);
    for (int d = 0; d < 3; d++)
        for (int e = 0; e < 3; e++) dst->lattice[d][e] = src->lattice[d][e] * rep[d];
    for (int a = 0; a < rep[0]; a++)
        for (int b = 0; b < rep[1]; b++)
            for (int c = 0; c < rep[2]; c++)
                for (size_t t = 0; t < src->n_sites; t++) {
                    size_t i = reverse ? src->n_sites - 1 - t : t;
                    int cell[3] = {a, b, c};
                    double f[3];
                    for (int d = 0; d < 3; d++) {
                        double g = src->frac[i][d] + shift[d];
                        f[d] = (g - floor(g) + cell[d]) / rep[d];
                    }
                    CU_ASSERT_EQUAL_FATAL(ms_structure_add_site(dst, f, src->label[i]), MS_SUCCESS);
                    for (size_t k = src->site_species[i]; k < src->site_species[i + 1]; k++) {
                        const ms_species *sp = &src->species[k];
                        CU_ASSERT_EQUAL_FATAL(
                            ms_structure_add_species(dst, sp->z, sp->occu, sp->oxi, sp->has_oxi),
                            MS_SUCCESS);
                    }
                }
    CU_ASSERT_EQUAL_FATAL(ms_structure_finish(dst), MS_SUCCESS);
}

static int keep_first(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    if (status != MS_SUCCESS) return 0;
    const int one[3] = {1, 1, 1};
    const double zero[3] = {0, 0, 0};
    rebuild(s, user, one, zero, 0);
    return 0; /* the first record is enough */
}

static int read_first(const char *path, ms_structure *s)
{
    if (access(path, R_OK) != 0) return 0;
    ms_structure_init(s);
    ms_read_file(path, MS_FORMAT_AUTO, NULL, keep_first, s);
    return s->n_sites > 0;
}

static void run(const ms_bvse_context *c, const ms_structure *s, const ms_bvse_options *opt,
                ms_bvse_result *r)
{
    size_t n = ms_bvse_work_doubles(c, s, opt);
    CU_ASSERT_FATAL(n > 0);
    double *w = malloc(n * sizeof *w);
    CU_ASSERT_FATAL(w != NULL);
    CU_ASSERT_EQUAL(ms_bvse_compute(c, s, NULL, opt, w, n, r), MS_SUCCESS);
    free(w);
}

static void test_li3po4(void)
{
    ms_structure s;
    if (!read_first(ms_test_data("bvse/Li3PO4_mp-2878.cif"), &s)) {
        printf("\n  SKIP Li3PO4: ../shared/data/bvse/Li3PO4_mp-2878.cif absent\n");
        return;
    }
    ms_bvse_context *c = context();
    ms_bvse_options opt = ms_bvse_options_default();
    ms_bvse_result r;
    run(c, &s, &opt, &r);
    CU_ASSERT_EQUAL(r.reason, MS_NAN_NONE);
    CU_ASSERT_EQUAL(r.oxi_guessed, 0); /* the CIF carries Li+, P5+, O2- */
    /* bvlain's linspace(0, 1, floor(L / 0.2)) = 24, 30, 52 planes, one of each pair repeated */
    CU_ASSERT(r.grid[0] == 23 && r.grid[1] == 29 && r.grid[2] == 51);
    CU_ASSERT(fabs(r.barrier[0] - 0.4785) <= 0.01);
    CU_ASSERT(fabs(r.barrier[1] - 0.4785) <= 0.01);
    CU_ASSERT(fabs(r.barrier[2] - 0.8008) <= 0.01);
    CU_ASSERT(r.barrier[0] <= r.barrier[1] && r.barrier[1] <= r.barrier[2]);
    printf("\n  Li3PO4: %.4f %.4f %.4f eV (bvlain 0.4785 0.4785 0.8008)\n", r.barrier[0],
           r.barrier[1], r.barrier[2]);
    ms_structure_destroy(&s);
    ms_bvse_context_free(c);
}

static void test_lifepo4(void)
{
    ms_structure s;
    CU_ASSERT_FATAL(read_first(ms_test_local(LIFEPO4), &s));
    ms_bvse_context *c = context();
    ms_bvse_options opt = ms_bvse_options_default();
    ms_bvse_result r;
    run(c, &s, &opt, &r);
    CU_ASSERT_EQUAL(r.reason, MS_NAN_NONE);
    CU_ASSERT_EQUAL(r.oxi_guessed, 1); /* no states in the CIF: Li+1 Fe+2 P+5 O-2 guessed */
    CU_ASSERT_STRING_EQUAL(r.oxi_text, "Fe+2 Li+1 O-2 P+5");
    CU_ASSERT(r.barrier[0] > 0.40 && r.barrier[0] < 0.48);
    CU_ASSERT(r.barrier[1] > 3.0 && r.barrier[2] > 3.0);
    printf("  LiFePO4: %.4f %.4f %.4f eV (bvlain on mp-19017 0.4395 3.3301 3.3594)\n",
           r.barrier[0], r.barrier[1], r.barrier[2]);
    ms_structure_destroy(&s);
    ms_bvse_context_free(c);
}

/* Li2O antifluorite (Fm-3m, a = 4.61 Å): O on the fcc sites, Li on the eight (1/4, 1/4, 1/4)
 * tetrahedral sites; no oxidation states given, so they are guessed. */
static void build_li2o(ms_structure *s)
{
    static const double fcc[4][3] = {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}};
    ms_structure_init(s);
    CU_ASSERT_EQUAL_FATAL(ms_structure_set_lattice_parameters(s, 4.61, 4.61, 4.61, 90, 90, 90),
                          MS_SUCCESS);
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL_FATAL(ms_structure_add_site(s, fcc[i], "O"), MS_SUCCESS);
        CU_ASSERT_EQUAL_FATAL(ms_structure_add_species(s, 8, 1, 0, 0), MS_SUCCESS);
        for (int t = 0; t < 2; t++) {
            double f[3];
            for (int d = 0; d < 3; d++) f[d] = fcc[i][d] + (t ? 0.75 : 0.25);
            CU_ASSERT_EQUAL_FATAL(ms_structure_add_site(s, f, "Li"), MS_SUCCESS);
            CU_ASSERT_EQUAL_FATAL(ms_structure_add_species(s, 3, 1, 0, 0), MS_SUCCESS);
        }
    }
    CU_ASSERT_EQUAL_FATAL(ms_structure_finish(s), MS_SUCCESS);
}

static void test_li2o(void)
{
    ms_structure s;
    build_li2o(&s);
    ms_bvse_context *c = context();
    ms_bvse_options opt = ms_bvse_options_default();
    ms_bvse_result r;
    run(c, &s, &opt, &r);
    CU_ASSERT_EQUAL(r.reason, MS_NAN_NONE);
    CU_ASSERT_STRING_EQUAL(r.oxi_text, "O-2 Li+1");
    CU_ASSERT(r.barrier[0] > 0.1 && r.barrier[0] < 1.0);
    CU_ASSERT_DOUBLE_EQUAL(r.barrier[0], r.barrier[1], 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r.barrier[1], r.barrier[2], 1e-12);
    ms_structure_destroy(&s);
    ms_bvse_context_free(c);
}

/* Within the grid's resolution: a saddle sampled 0.1 Å off moves by about |grad E| x 0.1 Å, so
 * the tolerance grows with the barrier (steeper walls around high saddles): 0.03 eV + 2 %. */
static int near_grid(double a, double b) { return fabs(a - b) <= 0.03 + 0.02 * fabs(b); }

/* Supercell, shifted origin, reversed sites, offset grid: the same barriers. Exact (to rounding)
 * where the grid maps onto itself; within the grid's resolution where it does not. */
static void test_invariance(void)
{
    ms_structure s, t;
    CU_ASSERT_FATAL(read_first(ms_test_local(LIFEPO4), &s));
    ms_structure_init(&t);
    ms_bvse_context *c = context();
    ms_bvse_result r0, r;
    ms_bvse_options opt = ms_bvse_options_default();
    run(c, &s, &opt, &r0);
    const int one[3] = {1, 1, 1}, two_b[3] = {1, 2, 1};
    const double zero[3] = {0, 0, 0}, odd[3] = {0.123, 0.456, 0.789};

    rebuild(&s, &t, one, zero, 1); /* reversed site order */
    run(c, &t, &opt, &r);
    for (int k = 0; k < 3; k++) CU_ASSERT_DOUBLE_EQUAL(r.barrier[k], r0.barrier[k], 1e-9);

    /* origin shifted by whole grid steps: the same grid points, relabelled */
    double steps[3];
    for (int d = 0; d < 3; d++) steps[d] = 3.0 / r0.grid[d];
    rebuild(&s, &t, one, steps, 0);
    run(c, &t, &opt, &r);
    for (int k = 0; k < 3; k++) CU_ASSERT_DOUBLE_EQUAL(r.barrier[k], r0.barrier[k], 1e-9);

    rebuild(&s, &t, one, odd, 0); /* arbitrary origin */
    run(c, &t, &opt, &r);
    for (int k = 0; k < 3; k++) CU_ASSERT(near_grid(r.barrier[k], r0.barrier[k]));

    ms_bvse_options off = opt;
    off.offset[0] = off.offset[1] = off.offset[2] = 0.5;
    run(c, &s, &off, &r);
    for (int k = 0; k < 3; k++) CU_ASSERT(near_grid(r.barrier[k], r0.barrier[k]));

    /* supercell: with the fine rule and a spacing that divides b into k - 1/4 steps, the doubled
     * cell gets exactly twice the points along b, so the landscape is the same grid */
    ms_bvse_options fine = opt;
    fine.grid_rule = MS_BVSE_GRID_FINE;
    double lb = sqrt(s.lattice[1][0] * s.lattice[1][0] + s.lattice[1][1] * s.lattice[1][1] +
                     s.lattice[1][2] * s.lattice[1][2]);
    fine.spacing = lb / (30 - 0.25);
    ms_bvse_result f0;
    run(c, &s, &fine, &f0);
    rebuild(&s, &t, two_b, zero, 0);
    run(c, &t, &fine, &r);
    CU_ASSERT_EQUAL(r.grid[1], 2 * f0.grid[1]);
    for (int k = 0; k < 3; k++) CU_ASSERT_DOUBLE_EQUAL(r.barrier[k], f0.barrier[k], 1e-9);
    run(c, &t, &opt, &r); /* default rule on the supercell: a slightly different grid */
    for (int k = 0; k < 3; k++) CU_ASSERT(near_grid(r.barrier[k], r0.barrier[k]));

    ms_structure_destroy(&s);
    ms_structure_destroy(&t);
    ms_bvse_context_free(c);
}

/* Guessed states: LiMn2O4 (repository example, no states) has no neutral integer assignment from
 * Mn's common states (2, 4, 7): Mn takes the average 3.5. Li2O with Li at occupancy 0.9 balances
 * with nothing: the cell keeps formal states and says it is charged (Li is not in the
 * framework, so its content does not change the landscape). */
static void test_guess(void)
{
    ms_bvse_context *c = context();
    ms_bvse_options opt = ms_bvse_options_default();
    ms_bvse_result r;
    ms_structure s;
    CU_ASSERT_FATAL(read_first(ms_test_local("../../examples/structures/LiMn2O4.json"), &s));
    run(c, &s, &opt, &r);
    CU_ASSERT_EQUAL(r.reason, MS_NAN_NONE);
    CU_ASSERT_EQUAL(r.oxi_guessed, 1);
    CU_ASSERT_STRING_EQUAL(r.oxi_text, "Li+1 Mn+3.5 O-2");
    ms_structure_destroy(&s);

    ms_bvse_result full;
    build_li2o(&s);
    run(c, &s, &opt, &full);
    for (size_t k = 0; k < s.n_species; k++)
        if (s.species[k].z == 3) s.species[k].occu = 0.9;
    run(c, &s, &opt, &r);
    CU_ASSERT_EQUAL(r.reason, MS_NAN_NONE);
    CU_ASSERT_STRING_EQUAL(r.oxi_text, "O-2 Li+1 (cell charge -0.8)");
    for (int k = 0; k < 3; k++) CU_ASSERT_DOUBLE_EQUAL(r.barrier[k], full.barrier[k], 1e-12);
    ms_structure_destroy(&s);
    ms_bvse_context_free(c);
}

/* NaN with a reason: no Li, an anion without Li+ parameters (P3- in Li3P), an anion element at a
 * valence bvse.dat lacks (O- in Li2O2 written with states), a grid over the bound. */
static void test_reasons(void)
{
    ms_bvse_context *c = context();
    ms_bvse_options opt = ms_bvse_options_default();
    ms_bvse_result r;
    double w[64];
    ms_structure s;
    ms_structure_init(&s);
    CU_ASSERT_EQUAL_FATAL(ms_structure_set_lattice_parameters(&s, 4.1, 4.1, 4.1, 90, 90, 90),
                          MS_SUCCESS);
    const double o[3] = {0, 0, 0}, h[3] = {.5, .5, .5};
    ms_structure_add_site(&s, o, "Na");
    ms_structure_add_species(&s, 11, 1, 1, 1);
    ms_structure_add_site(&s, h, "Cl");
    ms_structure_add_species(&s, 17, 1, -1, 1);
    CU_ASSERT_EQUAL_FATAL(ms_structure_finish(&s), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_bvse_compute(c, &s, NULL, &opt, w, 64, &r), MS_SUCCESS);
    CU_ASSERT_EQUAL(r.reason, MS_NAN_UNDEFINED);
    CU_ASSERT(isnan(r.barrier[0]) && strstr(r.detail, "no Li") != NULL);

    s.species[0].z = 3; /* LiCl with P3- in place of Cl- */
    s.species[1].z = 15;
    s.species[1].oxi = -3;
    run(c, &s, &opt, &r);
    CU_ASSERT_EQUAL(r.reason, MS_NAN_NO_PARAMETERS);
    CU_ASSERT(isnan(r.barrier[2]) && strstr(r.detail, "P-3") != NULL);

    s.species[1].z = 8; /* O- */
    s.species[1].oxi = -1;
    run(c, &s, &opt, &r);
    CU_ASSERT_EQUAL(r.reason, MS_NAN_UNSUPPORTED_ANION);

    s.species[1].z = 17; /* LiCl: fine */
    run(c, &s, &opt, &r);
    CU_ASSERT_EQUAL(r.reason, MS_NAN_NONE);
    CU_ASSERT(isfinite(r.barrier[0]));

    opt.spacing = 0.01; /* 409^3 points: refused, with the bound in the message */
    CU_ASSERT_EQUAL(ms_bvse_work_doubles(c, &s, &opt), 0);
    CU_ASSERT_EQUAL(ms_bvse_compute(c, &s, NULL, &opt, w, 64, &r), MS_SUCCESS);
    CU_ASSERT_EQUAL(r.reason, MS_NAN_TOO_LARGE);
    CU_ASSERT(strstr(r.detail, "larger spacing") != NULL);
    opt.spacing = -1;
    CU_ASSERT_EQUAL(ms_bvse_compute(c, &s, NULL, &opt, w, 64, &r), MS_ERR_USAGE);
    ms_structure_destroy(&s);
    ms_bvse_context_free(c);
}

/* The family in the featurizer: li-transport = li_transport + bvse, symmetry counts Li sites. */
static void test_family(void)
{
    ms_structure s;
    build_li2o(&s);
    const ms_descriptor_set *set;
    CU_ASSERT_EQUAL_FATAL(ms_descriptor_set_lookup("bvse", &set), MS_SUCCESS);
    ms_structure_featurizer *fz = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_structure_featurizer_create(set, ms_test_elements(), NULL, &fz),
                          MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_structure_featurizer_n_features(fz), 6);
    double row[6];
    unsigned char reason[6];
    CU_ASSERT_EQUAL(ms_structure_featurizer_compute(fz, &s, row, reason), MS_SUCCESS);
    CU_ASSERT_DOUBLE_EQUAL(row[0], row[2], 1e-12);
    CU_ASSERT_EQUAL(row[4], 1); /* one Li orbit (8c) */
    CU_ASSERT_EQUAL(row[5], 1); /* states guessed */
    for (int k = 0; k < 6; k++) CU_ASSERT_EQUAL(reason[k], MS_NAN_NONE);
    ms_structure_featurizer_destroy(&fz);
    ms_structure_destroy(&s);
}

int ms_suite_bvse(void)
{
    CU_pSuite suite = CU_add_suite("bvse", NULL, NULL);
    if (!suite) return CU_get_error();
    if (!CU_add_test(suite, "gamma-Li3PO4 against bvlain", test_li3po4) ||
        !CU_add_test(suite, "LiFePO4 is a 1-D conductor", test_lifepo4) ||
        !CU_add_test(suite, "Li2O: equal barriers by symmetry", test_li2o) ||
        !CU_add_test(suite, "supercell, origin, order, grid offset", test_invariance) ||
        !CU_add_test(suite, "guessed oxidation states", test_guess) ||
        !CU_add_test(suite, "NaN reasons", test_reasons) ||
        !CU_add_test(suite, "bvse family in a featurizer", test_family))
        return CU_get_error();
    return CUE_SUCCESS;
}
