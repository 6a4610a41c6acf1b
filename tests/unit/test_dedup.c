/* Tests of fingerprints (src/quality/fingerprint.c) and de-duplication (src/quality/dedup.c).
 * Real structures: LiFePO4 and the disordered NASICON obelix-9s4 of examples/structures (pymatgen, MIT;
 * OBELiX, CC BY 4.0), pymatgen's Li4Fe3Mn1(PO4)4 as CIF and as JSON (../shared/data, MIT). The
 * variants (origin shift with permuted site order, 2% strain, one substitution, noise) are made
 * in memory from the real structure. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/dedup.h"
#include "matscreen/fingerprint.h"
#include "matscreen/reader.h"
#include "matscreen/symmetry.h"
#include "suites.h"
#include "test_util.h"

/* Declared here too until suites.h lists X(dedup) (the lead registers suites). */
int ms_suite_dedup(void);

static int copy_first(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    ms_structure *d = user;
    if (status != MS_SUCCESS) return 1;
    ms_structure_reset(d);
    memcpy(d->lattice, s->lattice, sizeof d->lattice);
    for (size_t i = 0; i < s->n_sites; i++) {
        ms_structure_add_site(d, s->frac[i], s->label[i]);
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++)
            ms_structure_add_species(d, s->species[k].z, s->species[k].occu, s->species[k].oxi,
                                     s->species[k].has_oxi);
    }
    d->prov.db = s->prov.db;
    ms_structure_finish(d);
    return 1;
}

static void load(const char *path, ms_structure *s)
{
    ms_structure_reset(s);
    CU_ASSERT_EQUAL_FATAL(ms_read_file(path, MS_FORMAT_AUTO, NULL, copy_first, s), MS_SUCCESS);
    CU_ASSERT_FATAL(s->n_sites > 0);
}

static size_t gcd(size_t a, size_t b)
{
    while (b) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Variant of src: lattice scaled per axis by strain[k], origin moved by shift (fractional),
 * sites in the order i -> (i * step) mod n (step coprime with n), each species of site `subst`
 * replaced by element subst_z (subst < 0: none), coordinates moved by noise Å at most. */
static void variant(const ms_structure *src, ms_structure *d, const double strain[3],
                    const double shift[3], size_t step, long subst, int subst_z, double noise)
{
    size_t n = src->n_sites;
    while (gcd(step, n) != 1) step++; /* a permutation needs a step coprime with n */
    ms_structure_reset(d);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) d->lattice[r][c] = src->lattice[r][c] * strain[r];
    unsigned seed = 12345;
    for (size_t k = 0; k < n; k++) {
        size_t i = (k * step) % n;
        double f[3];
        for (int a = 0; a < 3; a++) {
            seed = seed * 1103515245u + 12345u;
            double len = sqrt(d->lattice[a][0] * d->lattice[a][0] + d->lattice[a][1] * d->lattice[a][1] +
                              d->lattice[a][2] * d->lattice[a][2]);
            double jitter = noise * (((seed >> 8) & 0xffff) / 32767.5 - 1.0) / len;
            f[a] = src->frac[i][a] + shift[a] + jitter;
            f[a] -= floor(f[a]);
        }
        ms_structure_add_site(d, f, src->label[i]);
        for (size_t q = src->site_species[i]; q < src->site_species[i + 1]; q++)
            ms_structure_add_species(d, (long)i == subst ? subst_z : src->species[q].z,
                                     src->species[q].occu, 0, 0);
    }
    CU_ASSERT_EQUAL(ms_structure_finish(d), MS_SUCCESS);
}

static ms_symmetry_options sopt;
static ms_symmetry_workspace sws;
static ms_symmetry sym;

static void fingerprint(const ms_structure *s, ms_fingerprint *fp)
{
    ms_status st = ms_symmetry_analyze(&sws, s, &sopt, &sym);
    if (st != MS_SUCCESS) fprintf(stderr, "symmetry: %s\n", ms_error_message());
    CU_ASSERT_EQUAL_FATAL(st, MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_fingerprint_compute(s, &sym, ms_test_elements(), fp), MS_SUCCESS);
}

/* Adds s as record r; returns its group. */
static size_t add(ms_dedup *d, size_t r, const ms_structure *s, ms_source_db db)
{
    ms_fingerprint fp;
    fingerprint(s, &fp);
    size_t g = MS_DEDUP_NONE;
    CU_ASSERT_EQUAL(ms_dedup_add(d, r, &fp, &sym.conventional, db, s, &g), MS_SUCCESS);
    return g;
}

static const double one[3] = {1, 1, 1}, zero[3] = {0, 0, 0};
static const double shift[3] = {0.2385, 0.6171, 0.4419};

static void test_shift_permute(void)
{
    ms_structure a, b;
    ms_structure_init(&a);
    ms_structure_init(&b);
    const char *files[2] = {"../../examples/structures/LiFePO4.cif",
                            "../../examples/structures/obelix-9s4.cif"};
    for (int f = 0; f < 2; f++) {
        load(ms_test_local(files[f]), &a);
        variant(&a, &b, one, shift, 7, -1, 0, 0);
        ms_fingerprint fa, fb;
        fingerprint(&a, &fa);
        fingerprint(&b, &fb);
        CU_ASSERT_EQUAL(fa.key, fb.key);
        CU_ASSERT_EQUAL(fa.volume_bin, fb.volume_bin);
        CU_ASSERT_STRING_EQUAL(fa.reduced_formula, fb.reduced_formula);
        ms_dedup *d;
        CU_ASSERT_EQUAL_FATAL(ms_dedup_create(NULL, &d), MS_SUCCESS);
        size_t g0 = add(d, 0, &a, MS_DB_UNKNOWN), g1 = add(d, 1, &b, MS_DB_UNKNOWN);
        CU_ASSERT_EQUAL(g0, g1);
        CU_ASSERT_EQUAL(ms_dedup_group_count(d), 1);
        ms_dedup_free(d);
    }
    CU_ASSERT_STRING_EQUAL(sym.international, "R-3c"); /* disordered NASICON (LATP-type) */
    CU_ASSERT_EQUAL(sym.disordered, 1);
    ms_structure_destroy(&a);
    ms_structure_destroy(&b);
}

static void test_cif_json(void)
{
    ms_structure a, b;
    ms_structure_init(&a);
    ms_structure_init(&b);
    load(ms_test_data("cif/pymatgen/tests/files/Li4Fe3Mn1(PO4)4.cif"), &a);
    load(ms_test_data("json/tests/files/Li4Fe3Mn1(PO4)4.json"), &b);
    ms_dedup *d;
    CU_ASSERT_EQUAL_FATAL(ms_dedup_create(NULL, &d), MS_SUCCESS);
    size_t g0 = add(d, 0, &a, MS_DB_COD), g1 = add(d, 1, &b, MS_DB_MP);
    CU_ASSERT_EQUAL(g0, g1);
    CU_ASSERT_EQUAL(ms_dedup_finish(d), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_dedup_group_size(d, g0), 2);
    CU_ASSERT_EQUAL(ms_dedup_representative(d, g0), 0); /* COD before MP */
    ms_dedup_free(d);
    ms_structure_destroy(&a);
    ms_structure_destroy(&b);
}

static void test_strain_substitution(void)
{
    ms_structure a, b;
    ms_structure_init(&a);
    ms_structure_init(&b);
    load(ms_test_local("../../examples/structures/LiFePO4.cif"), &a);
    ms_dedup *d;
    CU_ASSERT_EQUAL_FATAL(ms_dedup_create(NULL, &d), MS_SUCCESS);
    size_t g0 = add(d, 0, &a, MS_DB_UNKNOWN);
    const double iso[3] = {1.02, 1.02, 1.02}, uni[3] = {1, 1.02, 1};
    variant(&a, &b, iso, shift, 5, -1, 0, 0);
    CU_ASSERT_NOT_EQUAL(add(d, 1, &b, MS_DB_UNKNOWN), g0);
    variant(&a, &b, uni, zero, 1, -1, 0, 0);
    CU_ASSERT_NOT_EQUAL(add(d, 2, &b, MS_DB_UNKNOWN), g0);
    CU_ASSERT_FALSE(ms_dedup_same_cell(&sym.conventional, &sym.conventional, NULL) == 0);
    /* first Fe site -> Mn */
    long fe = -1;
    for (size_t i = 0; i < a.n_sites && fe < 0; i++)
        if (a.species[a.site_species[i]].z == 26) fe = (long)i;
    CU_ASSERT_FATAL(fe >= 0);
    variant(&a, &b, one, zero, 1, fe, 25, 0);
    ms_fingerprint fa, fb;
    fingerprint(&a, &fa);
    fingerprint(&b, &fb);
    CU_ASSERT_NOT_EQUAL(fa.key, fb.key);
    CU_ASSERT_NOT_EQUAL(add(d, 3, &b, MS_DB_UNKNOWN), g0);
    /* noise: 0.3% uniaxial and 0.001 A moves (well below symprec) stay one structure */
    const double small[3] = {1.003, 1, 1};
    variant(&a, &b, small, shift, 3, -1, 0, 0.001);
    ms_fingerprint fn;
    fingerprint(&b, &fn);
    CU_ASSERT_EQUAL(fn.key, fa.key);
    CU_ASSERT_EQUAL(add(d, 4, &b, MS_DB_UNKNOWN), g0);
    CU_ASSERT_EQUAL(ms_dedup_finish(d), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_dedup_group_count(d), 4);
    CU_ASSERT(ms_dedup_comparisons(d) >= 2);
    ms_dedup_free(d);
    ms_structure_destroy(&a);
    ms_structure_destroy(&b);
}

/* A workflow's per-source trust= ranks become one database order; one database, two ranks is
 * refused; no rank at all keeps the default. */
static void test_trust_from_inputs(void)
{
    ms_dedup_options o;
    ms_dedup_options_default(&o);
    const ms_source_db db[] = {MS_DB_MP, MS_DB_COD, MS_DB_ICSD, MS_DB_COD};
    const int rank[] = {1, 2, 0, 2};
    CU_ASSERT_EQUAL_FATAL(ms_dedup_trust_from_inputs(&o, db, rank, 4), MS_SUCCESS);
    CU_ASSERT_EQUAL(o.n_trust, 5);
    CU_ASSERT_EQUAL(ms_dedup_trust_rank(&o, MS_DB_MP), 0);
    CU_ASSERT_EQUAL(ms_dedup_trust_rank(&o, MS_DB_COD), 1);
    CU_ASSERT_EQUAL(ms_dedup_trust_rank(&o, MS_DB_ICSD), 2); /* unranked: after, default order */
    CU_ASSERT_EQUAL(ms_dedup_trust_rank(&o, MS_DB_OTHER), 3);
    CU_ASSERT_EQUAL(ms_dedup_trust_rank(&o, MS_DB_UNKNOWN), 4);
    const int none[] = {0, 0, 0, 0};
    CU_ASSERT_EQUAL_FATAL(ms_dedup_trust_from_inputs(&o, db, none, 4), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_dedup_trust_rank(&o, MS_DB_ICSD), 0);
    CU_ASSERT_EQUAL(ms_dedup_trust_rank(&o, MS_DB_COD), 1);
    CU_ASSERT_EQUAL(ms_dedup_trust_rank(&o, MS_DB_MP), 2);
    const int clash[] = {1, 2, 0, 3}; /* COD ranked 2 and 3 */
    CU_ASSERT_EQUAL(ms_dedup_trust_from_inputs(&o, db, clash, 4), MS_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "inputs 1 and 3 are both COD"));
    CU_ASSERT_EQUAL(ms_dedup_trust_rank(&o, MS_DB_ICSD), 0); /* unchanged by the failed call */
}

static void test_trust_conflicts(void)
{
    ms_structure a, b, c;
    ms_structure_init(&a);
    ms_structure_init(&b);
    ms_structure_init(&c);
    load(ms_test_local("../../examples/structures/LiFePO4.cif"), &a);
    variant(&a, &b, one, shift, 11, -1, 0, 0);
    variant(&a, &c, one, zero, 13, -1, 0, 0);
    ms_structure_set_property(&a, "band_gap", 3.71);
    ms_structure_set_property(&b, "band_gap", 3.69); /* within 5%: no conflict */
    ms_structure_set_property(&c, "band_gap", 0.385);
    ms_structure_set_property(&a, "energy_above_hull", 0.0);
    ms_structure_set_property(&c, "energy_above_hull", 0.004); /* within 0.01 absolute */
    ms_dedup_options o;
    ms_dedup_options_default(&o);
    CU_ASSERT_EQUAL(ms_dedup_options_set_trust(&o, "cod,ICSD,mp"), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_dedup_options_set_trust(&o, "ICSD,nowhere"), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(o.trust[0], MS_DB_COD); /* unchanged by the failed call */
    ms_dedup *d;
    CU_ASSERT_EQUAL_FATAL(ms_dedup_create(&o, &d), MS_SUCCESS);
    size_t g = add(d, 0, &a, MS_DB_MP);
    CU_ASSERT_EQUAL(add(d, 1, &b, MS_DB_ICSD), g);
    CU_ASSERT_EQUAL(add(d, 2, &c, MS_DB_COD), g);
    size_t lone = MS_DEDUP_NONE;
    CU_ASSERT_EQUAL(ms_dedup_add_alone(d, 3, MS_DB_UNKNOWN, NULL, &lone), MS_SUCCESS);
    CU_ASSERT_NOT_EQUAL(lone, g);
    CU_ASSERT_EQUAL(ms_dedup_add_alone(d, 3, MS_DB_UNKNOWN, NULL, NULL), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_dedup_finish(d), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_dedup_representative(d, g), 2); /* COD first in this trust order */
    CU_ASSERT_EQUAL(ms_dedup_group_of(d, 1), g);
    CU_ASSERT_EQUAL(ms_dedup_group_of(d, 99), MS_DEDUP_NONE);
    CU_ASSERT_EQUAL_FATAL(ms_dedup_conflict_count(d), 1);
    const ms_dedup_conflict *k = ms_dedup_conflict_get(d, 0);
    CU_ASSERT_STRING_EQUAL(k->name, "band_gap");
    CU_ASSERT_DOUBLE_EQUAL(k->min, 0.385, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(k->max, 3.71, 1e-12);
    CU_ASSERT_EQUAL(k->record_min, 2);
    CU_ASSERT_EQUAL(k->record_max, 0);
    CU_ASSERT_EQUAL(k->n_values, 3);
    ms_dedup_free(d);
    ms_structure_destroy(&a);
    ms_structure_destroy(&b);
    ms_structure_destroy(&c);
}

static void test_volume_bins(void)
{
    CU_ASSERT_EQUAL(ms_fingerprint_volume_bin(10.0), ms_fingerprint_volume_bin(10.0 * 1.0001));
    long b = ms_fingerprint_volume_bin(10.0);
    CU_ASSERT(labs(ms_fingerprint_volume_bin(10.0 * 1.029) - b) <= 1);
    CU_ASSERT(ms_fingerprint_volume_bin(10.0 * 1.07) - b >= 2);
    CU_ASSERT_EQUAL(ms_fingerprint_volume_bin(-1), 0);
    ms_fingerprint fp;
    memset(&fp, 0, sizeof fp);
    fp.key = 0xabcdefULL;
    fp.volume_bin = 77;
    char text[40];
    ms_fingerprint_format(&fp, text, sizeof text);
    CU_ASSERT_STRING_EQUAL(text, "0000000000abcdef-77");
}

static int suite_init(void)
{
    ms_symmetry_options_default(&sopt);
    sopt.use_oxidation = 0;
    sopt.elements = ms_test_elements();
    ms_symmetry_workspace_init(&sws);
    ms_symmetry_init(&sym);
    return 0;
}

/* The exact key: the same cell and sites give the same bytes whatever the labels, properties
 * and provenance; one ulp of one coordinate, an occupancy or an oxidation state changes it. */
static void test_exact_key(void)
{
    ms_structure a, b;
    ms_structure_init(&a);
    ms_structure_init(&b);
    load(ms_test_data("cif/pymatgen/tests/files/Li4Fe3Mn1(PO4)4.cif"), &a);
    load(ms_test_data("cif/pymatgen/tests/files/Li4Fe3Mn1(PO4)4.cif"), &b);
    unsigned char *ka = NULL, *kb = NULL;
    size_t ca = 0, cb = 0, la = 0, lb = 0;
    uint64_t ha = 0, hb = 0;
    CU_ASSERT_EQUAL_FATAL(ms_dedup_exact_key(&a, &ka, &ca, &la, &ha), MS_SUCCESS);
    /* 9 lattice numbers, the site count, 28 bytes a site, 24 a species */
    CU_ASSERT_EQUAL(la, 72 + 8 + 28 * a.n_sites + 24 * a.site_species[a.n_sites]);
    snprintf(b.label[0], MS_LABEL_MAX, "X99");
    CU_ASSERT_EQUAL(ms_structure_set_property(&b, "band_gap", 2.385), MS_SUCCESS);
    b.prov.db = MS_DB_MP;
    snprintf(b.prov.source_id, sizeof b.prov.source_id, "mp-12345");
    snprintf(b.formula_stated, sizeof b.formula_stated, "Li4 Fe3 Mn1 P4 O16");
    CU_ASSERT_EQUAL_FATAL(ms_dedup_exact_key(&b, &kb, &cb, &lb, &hb), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(lb, la);
    CU_ASSERT(memcmp(ka, kb, la) == 0);
    CU_ASSERT_EQUAL(ha, hb);
    double x = b.frac[3][1];
    b.frac[3][1] = nextafter(x, 2.0);
    CU_ASSERT_EQUAL(ms_dedup_exact_key(&b, &kb, &cb, &lb, &hb), MS_SUCCESS);
    CU_ASSERT(lb == la && memcmp(ka, kb, la) != 0 && hb != ha);
    b.frac[3][1] = x;
    b.species[2].occu = 0.9995;
    CU_ASSERT_EQUAL(ms_dedup_exact_key(&b, &kb, &cb, &lb, &hb), MS_SUCCESS);
    CU_ASSERT(memcmp(ka, kb, la) != 0);
    b.species[2].occu = a.species[2].occu;
    b.species[5].has_oxi = 1;
    b.species[5].oxi = 2.0;
    CU_ASSERT_EQUAL(ms_dedup_exact_key(&b, &kb, &cb, &lb, &hb), MS_SUCCESS);
    CU_ASSERT(memcmp(ka, kb, la) != 0);
    b.species[5] = a.species[5];
    CU_ASSERT_EQUAL(ms_dedup_exact_key(&b, &kb, &cb, &lb, &hb), MS_SUCCESS);
    CU_ASSERT(memcmp(ka, kb, la) == 0 && hb == ha);
    free(ka);
    free(kb);
    ms_structure_destroy(&a);
    ms_structure_destroy(&b);
}

static int suite_clean(void)
{
    ms_symmetry_destroy(&sym);
    ms_symmetry_workspace_destroy(&sws);
    return 0;
}

int ms_suite_dedup(void)
{
    CU_pSuite s = CU_add_suite("dedup", suite_init, suite_clean);
    if (!s) return CU_get_error();
    if (!CU_add_test(s, "shifted origin, permuted sites", test_shift_permute) ||
        !CU_add_test(s, "CIF and pymatgen JSON", test_cif_json) ||
        !CU_add_test(s, "2% strain and substitution differ", test_strain_substitution) ||
        !CU_add_test(s, "trust order and conflicts", test_trust_conflicts) ||
        !CU_add_test(s, "trust order from per-input ranks", test_trust_from_inputs) ||
        !CU_add_test(s, "volume bins", test_volume_bins) ||
        !CU_add_test(s, "exact key of cell and sites", test_exact_key))
        return CU_get_error();
    return CUE_SUCCESS;
}
