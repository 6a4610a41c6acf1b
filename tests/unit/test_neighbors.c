/* Tests of the periodic neighbour list against hand values and a brute-force image search. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/neighbors.h"
#include "matscreen/reader.h"
#include "suites.h"
#include "test_util.h"

static int keep_first(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    ms_structure *out = user;
    if (status != MS_SUCCESS || out->n_sites) return 1;
    /* Copy what the tests need: lattice and sites (species are not used here). */
    memcpy(out->lattice, s->lattice, sizeof out->lattice);
    for (size_t i = 0; i < s->n_sites; i++) {
        ms_structure_add_site(out, s->frac[i], s->label[i]);
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++)
            ms_structure_add_species(out, s->species[k].z, s->species[k].occu, 0, 0);
    }
    ms_structure_finish(out);
    return 1;
}

static void read_first(const char *path, ms_structure *s)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    ms_structure_init(s);
    CU_ASSERT_EQUAL_FATAL(ms_read_file(p, MS_FORMAT_AUTO, NULL, keep_first, s), MS_SUCCESS);
    CU_ASSERT_FATAL(s->n_sites > 0);
}

/* Li2O antifluorite, a = 4.61 Å: every Li has 4 O at a*sqrt(3)/4, every O has 8 Li there. */
static void test_li2o_coordination(void)
{
    ms_structure s;
    ms_neighbor_list nl;
    read_first(ms_test_data("cif/pymatgen/tests/files/Li2O.cif"), &s);
    ms_neighbor_list_init(&nl);
    CU_ASSERT_EQUAL_FATAL(ms_neighbor_list_build(&nl, &s, 2.1, 0), MS_SUCCESS);
    const double d = 4.61 * sqrt(3.0) / 4.0;
    for (size_t i = 0; i < s.n_sites; i++) {
        int is_li = s.species[s.site_species[i]].z == 3;
        size_t cn = nl.offset[i + 1] - nl.offset[i];
        CU_ASSERT_EQUAL(cn, is_li ? 4u : 8u);
        for (size_t k = nl.offset[i]; k < nl.offset[i + 1]; k++) {
            CU_ASSERT_DOUBLE_EQUAL(nl.pairs[k].dist, d, 1e-9);
            int zj = s.species[s.site_species[nl.pairs[k].j]].z;
            CU_ASSERT_NOT_EQUAL(zj, is_li ? 3 : 8); /* Li-O bonds only at this distance */
        }
    }
    CU_ASSERT_DOUBLE_EQUAL(ms_neighbor_list_min_distance(&nl), d, 1e-9);
    ms_neighbor_list_destroy(&nl);
    ms_structure_destroy(&s);
}

/* Every entry of the list is a true neighbour, and none is missing: compare with all images
 * within a generous box, for a disordered real structure (OBELiX LLZO garnet, 192 sites). */
static void test_matches_brute_force(void)
{
    ms_structure s;
    ms_neighbor_list nl;
    read_first(ms_test_data("labeled/obelix-train/cifs/wyu.cif"), &s);
    ms_neighbor_list_init(&nl);
    const double cutoff = 3.7;
    CU_ASSERT_EQUAL_FATAL(ms_neighbor_list_build(&nl, &s, cutoff, 0), MS_SUCCESS);
    size_t brute = 0, bad = 0;
    for (size_t i = 0; i < s.n_sites; i++) {
        for (size_t j = 0; j < s.n_sites; j++)
            for (int a = -2; a <= 2; a++)
                for (int b = -2; b <= 2; b++)
                    for (int c = -2; c <= 2; c++) {
                        if (i == j && !a && !b && !c) continue;
                        double f[3] = {s.frac[j][0] + a - s.frac[i][0], s.frac[j][1] + b - s.frac[i][1],
                                       s.frac[j][2] + c - s.frac[i][2]};
                        double v[3];
                        for (int k = 0; k < 3; k++)
                            v[k] = f[0] * s.lattice[0][k] + f[1] * s.lattice[1][k] + f[2] * s.lattice[2][k];
                        if (sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) <= cutoff) brute++;
                    }
        /* Each listed entry: recompute its distance from the image it names. */
        for (size_t k = nl.offset[i]; k < nl.offset[i + 1]; k++) {
            const ms_neighbor *e = &nl.pairs[k];
            double f[3], v[3];
            for (int t = 0; t < 3; t++) f[t] = s.frac[e->j][t] + e->image[t] - s.frac[i][t];
            for (int t = 0; t < 3; t++)
                v[t] = f[0] * s.lattice[0][t] + f[1] * s.lattice[1][t] + f[2] * s.lattice[2][t];
            double d = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
            if (fabs(d - e->dist) > 1e-9 || d > cutoff) bad++;
            if (k > nl.offset[i]) CU_ASSERT(nl.pairs[k - 1].dist <= e->dist);
        }
    }
    CU_ASSERT_EQUAL(nl.n_pairs, brute);
    CU_ASSERT_EQUAL(bad, 0);
    ms_neighbor_list_destroy(&nl);
    ms_structure_destroy(&s);
}

/* A cutoff longer than the cell: a site's own images are its neighbours. Simple cubic Li
 * (a = 2.385 Å): 6 images at a, 12 at a*sqrt(2). */
static void test_self_images_and_reuse(void)
{
    ms_structure s;
    ms_neighbor_list nl;
    double origin[3] = {0.75, -0.25, 1.5}; /* outside [0,1): images refer to the stored position */
    ms_structure_init(&s);
    ms_structure_set_lattice_parameters(&s, 2.385, 2.385, 2.385, 90, 90, 90);
    ms_structure_add_site(&s, origin, "Li1");
    ms_structure_add_species(&s, 3, 1.0, 0, 0);
    CU_ASSERT_EQUAL_FATAL(ms_structure_finish(&s), MS_SUCCESS);
    ms_neighbor_list_init(&nl);
    CU_ASSERT_EQUAL_FATAL(ms_neighbor_list_build(&nl, &s, 2.385 * 1.5, 0), MS_SUCCESS);
    CU_ASSERT_EQUAL(nl.n_pairs, 18);
    CU_ASSERT_DOUBLE_EQUAL(nl.pairs[0].dist, 2.385, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(nl.pairs[17].dist, 2.385 * sqrt(2.0), 1e-12);
    int sum = abs(nl.pairs[0].image[0]) + abs(nl.pairs[0].image[1]) + abs(nl.pairs[0].image[2]);
    CU_ASSERT_EQUAL(sum, 1);
    /* Reuse for a smaller cutoff: same object, fewer pairs, no stale entries. */
    CU_ASSERT_EQUAL_FATAL(ms_neighbor_list_build(&nl, &s, 2.4, 0), MS_SUCCESS);
    CU_ASSERT_EQUAL(nl.n_pairs, 6);
    /* Errors: bad cutoff, and a limit that turns a hostile request into a clear error. */
    CU_ASSERT_EQUAL(ms_neighbor_list_build(&nl, &s, -1.0, 0), MS_ERR_INVALID);
    CU_ASSERT_EQUAL(ms_neighbor_list_build(&nl, &s, NAN, 0), MS_ERR_INVALID);
    CU_ASSERT_EQUAL(ms_neighbor_list_build(&nl, &s, 30.0, 100), MS_ERR_LIMIT);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "limit"));
    ms_neighbor_list_destroy(&nl);
    ms_structure_destroy(&s);
}

int ms_suite_neighbors(void)
{
    CU_pSuite s = CU_add_suite("neighbors", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "Li2O coordination", test_li2o_coordination);
    CU_add_test(s, "matches brute force on a garnet", test_matches_brute_force);
    CU_add_test(s, "self images and reuse", test_self_images_and_reuse);
    return CU_get_error();
}
