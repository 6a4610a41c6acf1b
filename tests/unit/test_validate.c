/* Tests of the validation checks (src/quality/validate.c) and the charge-balance search
 * (src/core/oxidation.c). Every check is provoked by a real structure or a minimally edited real
 * one: edited files are in tests/data/quality (see its README), unedited ones are read from
 * ../shared/data, and a few edits (NaN coordinate, degenerate lattice) are made in memory on a
 * structure just read. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/oxidation.h"
#include "matscreen/reader.h"
#include "matscreen/validate.h"
#include "suites.h"
#include "test_util.h"

/* Declared here too until suites.h lists X(validate) (the lead registers suites). */
int ms_suite_validate(void);

typedef struct {
    ms_structure *copy;
    ms_status status;
    char message[512];
    int seen;
} first_record;

/* Copies the first record of a file (structure or failure) into the caller's structure. */
static int take_first(const ms_structure *s, ms_status status, const char *message, void *user)
{
    first_record *f = user;
    if (f->seen++) return 1;
    f->status = status;
    snprintf(f->message, sizeof f->message, "%s", message ? message : "");
    if (status != MS_SUCCESS) return 1;
    ms_structure *d = f->copy;
    ms_structure_reset(d);
    memcpy(d->lattice, s->lattice, sizeof d->lattice);
    for (size_t i = 0; i < s->n_sites; i++) {
        ms_structure_add_site(d, s->frac[i], s->label[i]);
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++)
            ms_structure_add_species(d, s->species[k].z, s->species[k].occu, s->species[k].oxi,
                                     s->species[k].has_oxi);
    }
    memcpy(d->formula_stated, s->formula_stated, sizeof d->formula_stated);
    for (size_t i = 0; i < s->n_props; i++) ms_structure_set_property(d, s->props[i].name, s->props[i].value);
    d->prov.db = s->prov.db;
    memcpy(d->prov.source_id, s->prov.source_id, sizeof d->prov.source_id);
    ms_structure_finish(d);
    return 1;
}

/* Reads the first record of path into s; returns the record status (message in f). */
static ms_status load(const char *path, ms_structure *s, first_record *f)
{
    memset(f, 0, sizeof *f);
    f->copy = s;
    ms_status st = ms_read_file(path, MS_FORMAT_AUTO, NULL, take_first, f);
    if (st != MS_SUCCESS) {
        f->status = st;
        snprintf(f->message, sizeof f->message, "%s", ms_error_message());
    }
    return f->seen || st != MS_SUCCESS ? f->status : MS_ERR_NOT_FOUND;
}

static ms_validate_workspace ws;
static ms_validate_options opt;

static void defaults(void)
{
    ms_validate_options_default(&opt);
    opt.elements = ms_test_elements();
}

static const ms_finding *finding(const ms_validation *v, ms_check_id c)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->findings[i].check == c) return &v->findings[i];
    return NULL;
}

/* Validates the first structure of path; CU-asserts it was read. */
static void validate_file(const char *path, ms_validation *v)
{
    ms_structure s;
    ms_structure_init(&s);
    first_record f;
    CU_ASSERT_EQUAL(load(path, &s, &f), MS_SUCCESS);
    if (f.status == MS_SUCCESS) CU_ASSERT_EQUAL(ms_validate_structure(&ws, &s, &opt, v), MS_SUCCESS);
    ms_structure_destroy(&s);
}

static void test_registry(void)
{
    for (int i = 0; i < MS_CHECK_COUNT; i++) {
        const ms_check_info *c = ms_check_get((ms_check_id)i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CU_ASSERT_EQUAL(c->id, (ms_check_id)i);
        CU_ASSERT_EQUAL(ms_check_find(c->name), i);
        CU_ASSERT(c->severity == MS_SEVERITY_ERROR || c->severity == MS_SEVERITY_WARNING);
        for (int j = 0; j < i; j++) CU_ASSERT_NOT_EQUAL(strcmp(c->name, ms_check_get((ms_check_id)j)->name), 0);
    }
    CU_ASSERT_PTR_NULL(ms_check_get(MS_CHECK_COUNT));
    CU_ASSERT_EQUAL(ms_check_find("frobnicate"), -1);
    CU_ASSERT_STRING_EQUAL(ms_severity_name(MS_SEVERITY_ERROR), "error");
    ms_validation v;
    ms_structure s;
    ms_structure_init(&s);
    CU_ASSERT_EQUAL(ms_validate_structure(&ws, &s, NULL, &v), MS_ERR_USAGE);
}

/* A clean real structure gives no finding: LiFePO4 (pymatgen test file, MIT). */
static void test_clean(void)
{
    defaults();
    opt.expect_li = 1;
    ms_validation v;
    validate_file(ms_test_local("../../examples/structures/LiFePO4.cif"), &v);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_EQUAL(v.worst, MS_SEVERITY_NONE);
    validate_file(ms_test_local("../../examples/structures/obelix-joc.cif"), &v);
    CU_ASSERT_EQUAL(v.n, 0);
}

static void test_occupancy(void)
{
    defaults();
    ms_validation v;
    validate_file(ms_test_local("quality/joc_overfull.cif"), &v);
    const ms_finding *f = finding(&v, MS_CHECK_OCCUPANCY);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->severity, MS_SEVERITY_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->message, "Li1"));
    CU_ASSERT_EQUAL(v.worst, MS_SEVERITY_ERROR);
    /* a configurable tolerance: 0.3 accepts 1.25 */
    opt.occupancy_tol = 0.3;
    validate_file(ms_test_local("quality/joc_overfull.cif"), &v);
    CU_ASSERT_PTR_NULL(finding(&v, MS_CHECK_OCCUPANCY));
}

static void test_close_atoms(void)
{
    defaults();
    ms_validation v;
    validate_file(ms_test_local("quality/joc_close_atoms.cif"), &v);
    const ms_finding *f = finding(&v, MS_CHECK_CLOSE_ATOMS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->severity, MS_SEVERITY_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->message, "0.54"));
    /* GEMDAT's lisnps.cif (bundled): the 16h site Li2 stated fully occupied, its images 0.985 A
     * apart - a split site whose file lost the occupancy: a warning, the record is kept */
    validate_file(ms_test_local("../../examples/candidates/gemdat/lisnps.cif"), &v);
    f = finding(&v, MS_CHECK_CLOSE_ATOMS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->severity, MS_SEVERITY_WARNING);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->message, "split site"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f->message, "0.985"));
    CU_ASSERT_EQUAL(v.worst, MS_SEVERITY_WARNING);
    /* OBELiX 13q (Li10SnP2S12): split Li2 sites 0.42 A apart, occupancy 0.54 each: a warning */
    validate_file(ms_test_data("labeled/obelix-train/cifs/13q.cif"), &v);
    f = finding(&v, MS_CHECK_CLOSE_ATOMS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->severity, MS_SEVERITY_WARNING);
    /* switched off */
    opt.severity[MS_CHECK_CLOSE_ATOMS] = MS_SEVERITY_NONE;
    validate_file(ms_test_local("quality/joc_close_atoms.cif"), &v);
    CU_ASSERT_PTR_NULL(finding(&v, MS_CHECK_CLOSE_ATOMS));
}

static void test_unknown_element(void)
{
    defaults();
    ms_structure s;
    ms_structure_init(&s);
    first_record f;
    ms_status st = load(ms_test_local("quality/joc_unknown_element.cif"), &s, &f);
    CU_ASSERT_EQUAL(st, MS_ERR_UNKNOWN_ELEMENT);
    ms_validation v;
    ms_validate_read_failure(st, f.message, &opt, &v);
    CU_ASSERT_EQUAL(v.n, 1);
    CU_ASSERT_PTR_NOT_NULL(finding(&v, MS_CHECK_UNKNOWN_ELEMENT));
    CU_ASSERT_EQUAL(v.worst, MS_SEVERITY_ERROR);
    /* a structure holding Z outside the table (set in memory on a real one) */
    CU_ASSERT_EQUAL(load(ms_test_local("../../examples/structures/obelix-joc.cif"), &s, &f), MS_SUCCESS);
    s.species[0].z = MS_MAX_Z + 3;
    CU_ASSERT_EQUAL(ms_validate_structure(&ws, &s, &opt, &v), MS_SUCCESS);
    CU_ASSERT_PTR_NOT_NULL(finding(&v, MS_CHECK_UNKNOWN_ELEMENT));
    ms_structure_destroy(&s);
}

static void test_formula(void)
{
    defaults();
    ms_validation v;
    validate_file(ms_test_local("quality/joc_formula.cif"), &v);
    const ms_finding *f = finding(&v, MS_CHECK_FORMULA);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->severity, MS_SEVERITY_WARNING);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->message, "Li7 P2 S7.82"));
    /* pymatgen's Senegalite CIF states H5 that no site holds (implicit hydrogens) */
    validate_file(ms_test_data("cif/pymatgen/tests/files/Senegalite_implicit_hydrogen.cif"), &v);
    CU_ASSERT_PTR_NOT_NULL(finding(&v, MS_CHECK_FORMULA));
}

static void test_li_missing(void)
{
    defaults();
    ms_validation v;
    validate_file(ms_test_data("labeled/obelix-train/cifs/b4c.cif"), &v);
    CU_ASSERT_PTR_NULL(finding(&v, MS_CHECK_LI_MISSING)); /* not expected: no finding */
    opt.expect_li = 1;
    validate_file(ms_test_data("labeled/obelix-train/cifs/b4c.cif"), &v);
    const ms_finding *f = finding(&v, MS_CHECK_LI_MISSING);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->severity, MS_SEVERITY_ERROR);
}

static void test_charge_balance(void)
{
    defaults();
    ms_validation v;
    /* OBELiX 5tl: La1.24Ti2O6 (La3+ Ti4+ O2-: +11.72 against -12) */
    validate_file(ms_test_data("labeled/obelix-train/cifs/5tl.cif"), &v);
    const ms_finding *f = finding(&v, MS_CHECK_CHARGE_BALANCE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->severity, MS_SEVERITY_WARNING);
    /* the disordered NASICON Li1.3Al0.3Ti1.7(PO4)3-type obelix-9s4 balances */
    validate_file(ms_test_local("../../examples/structures/obelix-9s4.cif"), &v);
    CU_ASSERT_PTR_NULL(finding(&v, MS_CHECK_CHARGE_BALANCE));
}

static void test_too_many_atoms(void)
{
    defaults();
    opt.max_atoms = 20; /* LiFePO4 has 28 sites */
    ms_validation v;
    validate_file(ms_test_local("../../examples/structures/LiFePO4.cif"), &v);
    const ms_finding *f = finding(&v, MS_CHECK_TOO_MANY_ATOMS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->message, "28 sites"));
    ms_validate_read_failure(MS_ERR_LIMIT, "x.cif: 200000 atom sites after symmetry expansion", &opt, &v);
    CU_ASSERT_PTR_NOT_NULL(finding(&v, MS_CHECK_TOO_MANY_ATOMS));
}

static void test_volume_and_finite(void)
{
    defaults();
    ms_structure s;
    ms_structure_init(&s);
    first_record f;
    ms_validation v;
    /* pymatgen's JSON of Li4Fe3Mn1(PO4)4 has a left-handed lattice: a warning */
    CU_ASSERT_EQUAL(load(ms_test_data("json/tests/files/Li4Fe3Mn1(PO4)4.json"), &s, &f), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_validate_structure(&ws, &s, &opt, &v), MS_SUCCESS);
    const ms_finding *g = finding(&v, MS_CHECK_VOLUME);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g->severity, MS_SEVERITY_WARNING);
    /* the real joc structure with c set to a: zero volume, an error */
    CU_ASSERT_EQUAL(load(ms_test_local("../../examples/structures/obelix-joc.cif"), &s, &f), MS_SUCCESS);
    memcpy(s.lattice[2], s.lattice[0], sizeof s.lattice[0]);
    CU_ASSERT_EQUAL(ms_validate_structure(&ws, &s, &opt, &v), MS_SUCCESS);
    g = finding(&v, MS_CHECK_VOLUME);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g->severity, MS_SEVERITY_ERROR);
    /* and with a NaN coordinate */
    CU_ASSERT_EQUAL(load(ms_test_local("../../examples/structures/obelix-joc.cif"), &s, &f), MS_SUCCESS);
    s.frac[3][1] = NAN;
    CU_ASSERT_EQUAL(ms_validate_structure(&ws, &s, &opt, &v), MS_SUCCESS);
    CU_ASSERT_PTR_NOT_NULL(finding(&v, MS_CHECK_FINITE));
    CU_ASSERT_EQUAL(v.worst, MS_SEVERITY_ERROR);
    /* the reader refuses tests/data/broken/nan_coordinates.cif: mapped to "finite" */
    ms_status st = load(ms_test_local("broken/nan_coordinates.cif"), &s, &f);
    CU_ASSERT_NOT_EQUAL(st, MS_SUCCESS);
    ms_validate_read_failure(st, f.message, &opt, &v);
    CU_ASSERT_PTR_NOT_NULL(finding(&v, MS_CHECK_FINITE));
    /* a truncated file: "read" */
    st = load(ms_test_local("broken/truncated.cif"), &s, &f);
    CU_ASSERT_NOT_EQUAL(st, MS_SUCCESS);
    ms_validate_read_failure(st, f.message, &opt, &v);
    CU_ASSERT_EQUAL(v.worst, MS_SEVERITY_ERROR);
    CU_ASSERT_EQUAL(v.n, 1);
    ms_structure_destroy(&s);
}

static void test_add(void)
{
    defaults();
    ms_validation v;
    ms_validation_clear(&v);
    ms_validation_add(&v, &opt, MS_CHECK_SYMMETRY, "spglib failed at %g", 0.01);
    ms_validation_add(&v, &opt, MS_CHECK_SYMMETRY, "second finding of a check is ignored");
    CU_ASSERT_EQUAL(v.n, 1);
    CU_ASSERT_EQUAL(v.worst, MS_SEVERITY_WARNING);
    CU_ASSERT_STRING_EQUAL(v.findings[0].message, "spglib failed at 0.01");
    CU_ASSERT_EQUAL(v.failed, 1u << MS_CHECK_SYMMETRY);
}

/* The search itself, against pymatgen's Composition.oxi_state_guesses answers. */
static void test_oxidation(void)
{
    ms_oxidation_states *st = malloc(sizeof *st);
    uint64_t *work = malloc(MS_OXIDATION_WORK_WORDS * sizeof *work);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_PTR_NOT_NULL_FATAL(work);
    ms_oxidation_states_init(st, ms_test_elements());
    int z1[3] = {26, 8}; /* Fe3O4: mixed valence, balanced */
    double a1[2] = {3, 4};
    CU_ASSERT_EQUAL(ms_oxidation_balance(st, z1, a1, 2, work), 1);
    int z2[2] = {3, 8}; /* LiO: Li+ O2- cannot balance (pymatgen: no guess with common states) */
    double a2[2] = {1, 1};
    CU_ASSERT_EQUAL(ms_oxidation_balance(st, z2, a2, 2, work), 0);
    int z3[5] = {3, 31, 57, 40, 8}; /* Li6.4Ga0.2La3Zr2O12: scaled by 5, balanced */
    double a3[5] = {6.4, 0.2, 3, 2, 12};
    CU_ASSERT_EQUAL(ms_oxidation_balance(st, z3, a3, 5, work), 1);
    double a4[2] = {1.0 / 3.14159, 1}; /* no integer multiple: undecided */
    CU_ASSERT_EQUAL(ms_oxidation_balance(st, z2, a4, 2, work), -1);
    int z5[2] = {26, 8}; /* huge multivalent count: bounded, gcd rescues it */
    double a5[2] = {3e6, 4e6};
    CU_ASSERT_EQUAL(ms_oxidation_balance(st, z5, a5, 2, work), 1);
    CU_ASSERT_EQUAL(ms_oxidation_balance(st, z5, a5, 0, work), -1);
    int z6[1] = {26};
    CU_ASSERT_EQUAL(ms_oxidation_balance(st, z6, a5, 1, work), 1);
    free(st);
    free(work);
}

static int suite_init(void) { return ms_validate_workspace_init(&ws) == MS_SUCCESS ? 0 : 1; }
static int suite_clean(void)
{
    ms_validate_workspace_destroy(&ws);
    return 0;
}

int ms_suite_validate(void)
{
    CU_pSuite s = CU_add_suite("validate", suite_init, suite_clean);
    if (!s) return CU_get_error();
    if (!CU_add_test(s, "check registry", test_registry) || !CU_add_test(s, "clean real structures", test_clean) ||
        !CU_add_test(s, "occupancy above 1", test_occupancy) ||
        !CU_add_test(s, "atoms too close", test_close_atoms) ||
        !CU_add_test(s, "unknown element", test_unknown_element) ||
        !CU_add_test(s, "formula disagrees", test_formula) ||
        !CU_add_test(s, "Li expected", test_li_missing) ||
        !CU_add_test(s, "charge balance", test_charge_balance) ||
        !CU_add_test(s, "too many atoms", test_too_many_atoms) ||
        !CU_add_test(s, "volume and finite values", test_volume_and_finite) ||
        !CU_add_test(s, "adding findings", test_add) ||
        !CU_add_test(s, "charge-balance search", test_oxidation))
        return CU_get_error();
    return CUE_SUCCESS;
}
