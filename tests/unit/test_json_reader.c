/*
 * Tests of the Materials Project / pymatgen JSON reader on pymatgen's own JSON test files
 * (../shared/data/json, MIT) and tests/data/json/mp_records.jsonl (built from them; see the
 * README there).
 *
 * Expected values were computed once with /usr/bin/python3 and pymatgen 2022.11.7 (Debian):
 *   Structure.from_dict(d) or ComputedStructureEntry.from_dict(d).structure, then
 *   s.composition.reduced_formula, len(s), s.volume, float(s.density).
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "matscreen/composition.h"
#include "matscreen/hash.h"
#include "matscreen/json_reader.h"
#include "matscreen/reader.h"
#include "matscreen/structure.h"
#include "suites.h"
#include "test_util.h"

#define RTOL 1e-6

/* What a test keeps of one record (the structure itself lives only during the callback). */
typedef struct rec_summary {
    ms_status status;
    char msg[512];
    ms_source_db db;
    char id[MS_SOURCE_ID_MAX];
    char block[MS_BLOCK_MAX];
    char formula[64];
    size_t n_sites, index, n_props;
    long long offset, length;
    uint64_t hash;
    double volume, density, energy;
    int has_energy;
} rec_summary;

typedef struct collected {
    rec_summary *r;
    size_t n, cap;
    size_t stop_after; /* 0: never stop */
} collected;

static int collect(const ms_structure *s, ms_status status, const char *message, void *user)
{
    collected *c = user;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        rec_summary *r = realloc(c->r, cap * sizeof *r);
        if (!r) return 1;
        c->r = r;
        c->cap = cap;
    }
    rec_summary *r = &c->r[c->n++];
    memset(r, 0, sizeof *r);
    r->status = status;
    snprintf(r->msg, sizeof r->msg, "%s", message ? message : "(null)");
    r->db = s->prov.db;
    snprintf(r->id, sizeof r->id, "%s", s->prov.source_id);
    snprintf(r->block, sizeof r->block, "%s", s->prov.block);
    r->index = s->prov.index;
    r->offset = s->prov.offset;
    r->length = s->prov.length;
    r->hash = s->prov.content_hash;
    if (status == MS_SUCCESS) {
        ms_composition comp;
        ms_structure_composition(s, &comp);
        ms_composition_reduced_formula(&comp, ms_test_elements(), r->formula, sizeof r->formula);
        r->n_sites = s->n_sites;
        r->n_props = s->n_props;
        r->volume = ms_structure_volume(s);
        r->density = ms_structure_density(s, ms_test_elements());
        r->has_energy = ms_structure_get_property(s, "energy", &r->energy);
    }
    return c->stop_after && c->n >= c->stop_after;
}

static void collected_free(collected *c)
{
    free(c->r);
    memset(c, 0, sizeof *c);
}

static size_t count_ok(const collected *c)
{
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        k += c->r[i].status == MS_SUCCESS;
    return k;
}

typedef struct expect {
    size_t index;
    const char *formula;
    size_t n_sites;
    double volume, density;
    const char *id;
} expect;

static void check_expect(const collected *c, const expect *e)
{
    CU_ASSERT_FATAL(e->index < c->n);
    const rec_summary *r = &c->r[e->index];
    CU_ASSERT_EQUAL(r->status, MS_SUCCESS);
    CU_ASSERT_STRING_EQUAL(r->formula, e->formula);
    CU_ASSERT_EQUAL(r->n_sites, e->n_sites);
    CU_ASSERT(ms_test_close(r->volume, e->volume, RTOL, 0));
    CU_ASSERT(ms_test_close(r->density, e->density, RTOL, 0));
    if (e->id) CU_ASSERT_STRING_EQUAL(r->id, e->id);
    if (strcmp(r->formula, e->formula) != 0 || !ms_test_close(r->volume, e->volume, RTOL, 0))
        fprintf(stderr, "record %zu: %s %zu %.9g %.9g\n", e->index, r->formula, r->n_sites,
                r->volume, r->density);
}

static ms_status read_json(const char *path, collected *c, const ms_read_options *opt)
{
    memset(c, 0, sizeof *c);
    return ms_json_read_file(path, opt, collect, c);
}

/* ------------------------------------------------------------------------------------------- */

/* Collects the .json files under dir (recursively) into a sorted list. */
static void list_json(const char *dir, char ***paths, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) {
            list_json(path, paths, n, cap);
        } else {
            size_t len = strlen(path);
            if (len < 5 || strcmp(path + len - 5, ".json") != 0) continue;
            if (*n == *cap) {
                *cap = *cap ? 2 * *cap : 128;
                *paths = realloc(*paths, *cap * sizeof **paths);
            }
            (*paths)[(*n)++] = strdup(path);
        }
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every shared JSON file is read or rejected with a reason. Three files hold no structure:
 * Fe2O3_exp.json (31 ThermoData), Li-Fe-P-O_entries.json (859 ComputedEntry, which carry no
 * structure) and correction_calculator/exp_compounds_norm.json (241 {formula, exp energy}). */
static void test_all_shared_files(void)
{
    char **paths = NULL;
    size_t n = 0, cap = 0;
    list_json(ms_test_data("json"), &paths, &n, &cap);
    CU_ASSERT_EQUAL(n, 77);
    qsort(paths, n, sizeof *paths, cmp_str);
    size_t files_with = 0, files_without = 0, structures = 0, rejected = 0, file_errors = 0;
    int verbose = getenv("MS_TEST_VERBOSE") != NULL;
    for (size_t i = 0; i < n; i++) {
        collected c;
        ms_status st = read_json(paths[i], &c, NULL);
        if (st != MS_SUCCESS) {
            file_errors++;
            CU_ASSERT(strlen(ms_error_message()) > 0);
        }
        size_t ok = count_ok(&c);
        for (size_t k = 0; k < c.n; k++) {
            if (c.r[k].status == MS_SUCCESS) continue;
            rejected++;
            CU_ASSERT_EQUAL(c.r[k].status, MS_ERR_NO_STRUCTURE);
            /* the reason names the file and the record */
            CU_ASSERT_PTR_NOT_NULL(strstr(c.r[k].msg, paths[i]));
            CU_ASSERT_PTR_NOT_NULL(strstr(c.r[k].msg, "record "));
        }
        structures += ok;
        if (ok > 0)
            files_with++;
        else
            files_without++;
        if (verbose || (ok == 0 && c.n == 0))
            printf("\n  %s: %zu structures, %zu rejected%s%s", paths[i], ok, c.n - ok,
                   c.n > ok ? ": " : "", c.n > ok ? c.r[ok == 0 ? 0 : c.n - 1].msg : "");
        collected_free(&c);
        free(paths[i]);
    }
    free(paths);
    CU_ASSERT_EQUAL(file_errors, 0);
    CU_ASSERT_EQUAL(files_with, 74);
    CU_ASSERT_EQUAL(files_without, 3);
    CU_ASSERT_EQUAL(structures, 503);
    CU_ASSERT_EQUAL(rejected, 31 + 859 + 241);
}

/* 279 ComputedStructureEntry objects keyed by formula. */
static void test_calc_compounds(void)
{
    collected c;
    CU_ASSERT_EQUAL_FATAL(
        read_json(ms_test_data("json/tests/files/correction_calculator/calc_compounds_norm.json"),
                  &c, NULL),
        MS_SUCCESS);
    CU_ASSERT_EQUAL(c.n, 279);
    CU_ASSERT_EQUAL(count_ok(&c), 279);
    static const expect e[] = {
        {0, "Li2O", 3, 25.279818687680972, 1.9628001560343873, "mp-1960"},
        {1, "Li", 3, 60.33455343202653, 0.5730945704730711, "mp-1018134"},
        {100, "Ca3Sb2", 5, 193.10055200000002, 3.128047648626174, "mp-1013546"},
        {278, "SrH2", 12, 179.4499109889202, 3.3177810942076125, "mp-23714"},
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        check_expect(&c, &e[i]);
    CU_ASSERT_STRING_EQUAL(c.r[0].block, "Li2O");
    CU_ASSERT_EQUAL(c.r[0].db, MS_DB_MP);
    CU_ASSERT_EQUAL(c.r[0].index, 0);
    CU_ASSERT_EQUAL(c.r[0].offset, -1);
    CU_ASSERT_TRUE(c.r[0].has_energy);
    CU_ASSERT(ms_test_close(c.r[0].energy, -14.26360048, 1e-12, 0)); /* ComputedEntry.energy */
    CU_ASSERT_TRUE(c.r[278].has_energy);
    CU_ASSERT(ms_test_close(c.r[278].energy, -40.29927581, 1e-12, 0));
    /* hashes identify records: different entries differ, a second read gives the same */
    CU_ASSERT_NOT_EQUAL(c.r[0].hash, c.r[1].hash);
    uint64_t h0 = c.r[0].hash;
    collected_free(&c);
    CU_ASSERT_EQUAL(
        read_json(ms_test_data("json/tests/files/correction_calculator/calc_compounds_norm.json"),
                  &c, NULL),
        MS_SUCCESS);
    CU_ASSERT_EQUAL(c.r[0].hash, h0);
    collected_free(&c);
}

/* A list of ComputedStructureEntry with mp- and mvc- ids. */
static void test_entry_list(void)
{
    collected c;
    CU_ASSERT_EQUAL_FATAL(read_json(ms_test_data("json/tests/files/MnO2_batt.json"), &c, NULL),
                          MS_SUCCESS);
    CU_ASSERT_EQUAL(c.n, 48);
    CU_ASSERT_EQUAL(count_ok(&c), 48);
    static const expect e[] = {
        {0, "Mn", 29, 351.77209029237935, 7.5207112843711785, "mp-35"},
        {14, "MnO2", 36, 412.81609553035383, 4.196406942824761, "mvc-5444"},
        {22, "MnO2", 72, 764.348472030803, 4.532865290593722, "mvc-12283"},
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        check_expect(&c, &e[i]);
    CU_ASSERT_EQUAL(c.r[14].db, MS_DB_MP);
    CU_ASSERT_EQUAL(c.r[14].index, 14);
    collected_free(&c);
}

/* Plain Structure dicts: provenance falls back to the workflow's database and basename#index. */
static void test_structure_dicts(void)
{
    static const struct {
        const char *file;
        expect e;
    } cases[] = {
        {"json/tests/files/Li4Fe3Mn1(PO4)4.json",
         {0, "Li4MnFe3(PO4)4", 28, 299.60796771125047, 3.492373798878093,
          "Li4Fe3Mn1(PO4)4.json#0"}},
        {"json/tests/files/mp-554015.json",
         {0, "CsK(ClO4)2", 36, 666.5883909550262, 2.7718851887426488, "mp-554015.json#0"}},
        {"json/tests/files/tric_684654.json",
         {0, "Bi2O3", 5, 92.72425942357071, 8.344559748914879, "tric_684654.json#0"}},
        {"json/tests/files/structure_KF.json",
         {0, "KF", 2, 39.892877896074175, 2.4182723932724577, "structure_KF.json#0"}},
        {"json/tests/files/chemenv/json/test_O--6_Sr3Fe2O7_icsd_2648.json",
         {0, "Sr3Fe2O7", 48, 605.027513064, 5.341431859841304, NULL}},
    };
    ms_read_options opt;
    ms_read_options_default(&opt);
    opt.default_db = MS_DB_OTHER;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        collected c;
        CU_ASSERT_EQUAL(read_json(ms_test_data(cases[i].file), &c, &opt), MS_SUCCESS);
        CU_ASSERT_EQUAL(c.n, 1);
        if (c.n == 1) {
            check_expect(&c, &cases[i].e);
            CU_ASSERT_EQUAL(c.r[0].db, MS_DB_OTHER);
            CU_ASSERT_EQUAL(c.r[0].offset, -1);
            CU_ASSERT_EQUAL(c.r[0].length, -1);
        }
        collected_free(&c);
    }
}

/* pandas DataFrame.to_json() columns: {"structure": {"0": ..}, "energy_per_atom": {"0": ..}}. */
static void test_dataframe_columns(void)
{
    collected c;
    CU_ASSERT_EQUAL_FATAL(
        read_json(ms_test_data("json/tests/files/magnetic_orderings/LiMnPO4.json"), &c, NULL),
        MS_SUCCESS);
    CU_ASSERT_EQUAL(c.n, 8);
    CU_ASSERT_EQUAL(count_ok(&c), 8);
    static const expect e = {3, "LiMnPO4", 56, 626.4792239214221, 3.325967961782286, NULL};
    check_expect(&c, &e);
    CU_ASSERT_STRING_EQUAL(c.r[3].block, "3");
    collected_free(&c);
}

/* Species details need the structure itself: these callbacks check inside the call. */
typedef struct occu_check {
    int calls, ok;
} occu_check;

/* YMn0.63In0.37O3 (COD 4105420), as the file writes it: 6 sites In 0.37 + Mn 0.63 (the first at
 * abc (0.6657, 0.6657, 0.27890000000000004)), 12 sites with occupancy 1.0 (Y, O) and 24 O sites
 * with 0.44, 0.56, 0.7 or 0.3 (6 each). Every value must come back exactly. */
static int check_partial(const ms_structure *s, ms_status status, const char *message, void *user)
{
    occu_check *oc = user;
    (void)message;
    oc->calls++;
    if (status != MS_SUCCESS) return 0;
    size_t disordered = 0, first = (size_t)-1, ones = 0, partial = 0;
    for (size_t i = 0; i < s->n_sites; i++) {
        size_t a = s->site_species[i], b = s->site_species[i + 1];
        double o = s->species[a].occu;
        if (b - a > 1) {
            if (!disordered) first = i;
            disordered++;
        } else if (o == 1.0) {
            ones++;
        } else if (o == 0.44 || o == 0.56 || o == 0.7 || o == 0.3) {
            partial++;
        }
    }
    if (first == (size_t)-1) return 0;
    const ms_species *sp = &s->species[s->site_species[first]];
    int good = disordered == 6 && ones == 12 && partial == 24 && sp[0].z == 49 &&
               sp[0].occu == 0.37 && sp[1].z == 25 && sp[1].occu == 0.63 &&
               s->frac[first][0] == 0.6657 && s->frac[first][2] == 0.27890000000000004 &&
               !ms_structure_is_ordered(s);
    oc->ok += good;
    return 0;
}

/* structure_KF.json writes "occu": 1 (a JSON integer) on both sites. */
static int check_integer_occu(const ms_structure *s, ms_status status, const char *message,
                              void *user)
{
    occu_check *oc = user;
    (void)message;
    oc->calls++;
    oc->ok += status == MS_SUCCESS && s->n_species == 2 && s->species[0].occu == 1.0 &&
              s->species[1].occu == 1.0 && ms_structure_is_ordered(s);
    return 0;
}

/* Sr3Fe2O7 (ICSD 2648) writes "oxidation_state": 2.0 on every Sr species. */
static int check_oxidation(const ms_structure *s, ms_status status, const char *message, void *user)
{
    occu_check *oc = user;
    (void)message;
    oc->calls++;
    if (status != MS_SUCCESS) return 0;
    const ms_species *sp = &s->species[0];
    oc->ok += sp->z == 38 && sp->has_oxi && sp->oxi == 2.0 && sp->occu == 1.0;
    return 0;
}

static void test_occupancies_and_oxidation(void)
{
    occu_check oc = {0, 0};
    CU_ASSERT_EQUAL(
        ms_json_read_file(
            ms_test_data(
                "json/tests/files/chemenv/json/test_T--5_cod_YMn0.63In0.37O3_4105420.json"),
            NULL, check_partial, &oc),
        MS_SUCCESS);
    CU_ASSERT_EQUAL(oc.calls, 1);
    CU_ASSERT_EQUAL(oc.ok, 1);
    oc.calls = oc.ok = 0;
    CU_ASSERT_EQUAL(ms_json_read_file(ms_test_data("json/tests/files/structure_KF.json"), NULL,
                                      check_integer_occu, &oc),
                    MS_SUCCESS);
    CU_ASSERT_EQUAL(oc.ok, 1);
    oc.calls = oc.ok = 0;
    CU_ASSERT_EQUAL(
        ms_json_read_file(
            ms_test_data("json/tests/files/chemenv/json/test_O--6_Sr3Fe2O7_icsd_2648.json"), NULL,
            check_oxidation, &oc),
        MS_SUCCESS);
    CU_ASSERT_EQUAL(oc.ok, 1);
}

/* Loads a real file with jansson for tests that edit it. */
static json_t *load_real(const char *relative)
{
    json_error_t err;
    json_t *j = json_load_file(ms_test_data(relative), 0, &err);
    CU_ASSERT_PTR_NOT_NULL(j);
    return j;
}

static ms_status read_json_value(const json_t *v, int lines, collected *c)
{
    char *text = json_dumps(v, JSON_COMPACT);
    memset(c, 0, sizeof *c);
    ms_status st =
        ms_json_read_buffer(text, text ? strlen(text) : 0, "edited.json", lines, NULL, collect, c);
    free(text);
    return st;
}

/* Species strings with charges, as pymatgen's Species.__str__ writes them, and xyz-only sites. */
typedef struct species_seen {
    int z[4];
    double oxi[4];
    int has_oxi[4];
    double frac[3];
    ms_status status;
} species_seen;

static int see_species(const ms_structure *s, ms_status status, const char *message, void *user)
{
    species_seen *seen = user;
    (void)message;
    seen->status = status;
    for (size_t k = 0; k < s->n_species && k < 4; k++) {
        seen->z[k] = s->species[k].z;
        seen->oxi[k] = s->species[k].oxi;
        seen->has_oxi[k] = s->species[k].has_oxi;
    }
    if (s->n_sites > 0) memcpy(seen->frac, s->frac[0], sizeof seen->frac);
    return 0;
}

static void test_charged_species_and_xyz(void)
{
    json_t *kf = load_real("json/tests/files/structure_KF.json");
    if (!kf) return;
    json_t *sites = json_object_get(kf, "sites");
    double abc0[3];
    for (int j = 0; j < 3; j++)
        abc0[j] =
            json_number_value(json_array_get(json_object_get(json_array_get(sites, 0), "abc"), j));
    json_t *sp0 = json_array_get(json_object_get(json_array_get(sites, 0), "species"), 0);
    json_t *sp1 = json_array_get(json_object_get(json_array_get(sites, 1), "species"), 0);
    const char *e0 = json_string_value(json_object_get(sp0, "element"));
    const char *e1 = json_string_value(json_object_get(sp1, "element"));
    CU_ASSERT_FATAL(e0 && e1 && strcmp(e0, "F") == 0 && strcmp(e1, "K") == 0);
    json_object_set_new(sp0, "element", json_string("F-"));
    json_object_set_new(sp1, "element", json_string("K+"));
    /* Cartesian only: the reader must convert with the inverse lattice */
    for (size_t i = 0; i < json_array_size(sites); i++)
        json_object_del(json_array_get(sites, i), "abc");
    char *text = json_dumps(kf, JSON_COMPACT);
    species_seen seen;
    memset(&seen, 0, sizeof seen);
    CU_ASSERT_EQUAL(ms_json_read_buffer(text, strlen(text), "kf.json", 0, NULL, see_species, &seen),
                    MS_SUCCESS);
    free(text);
    CU_ASSERT_EQUAL(seen.status, MS_SUCCESS);
    CU_ASSERT_EQUAL(seen.z[0], 9);
    CU_ASSERT_TRUE(seen.has_oxi[0] && seen.oxi[0] == -1.0);
    CU_ASSERT_EQUAL(seen.z[1], 19);
    CU_ASSERT_TRUE(seen.has_oxi[1] && seen.oxi[1] == 1.0);
    for (int j = 0; j < 3; j++)
        CU_ASSERT(ms_test_close(seen.frac[j], abc0[j], 1e-9, 1e-9));
    /* "Fe2+" style */
    json_object_set_new(sp0, "element", json_string("Fe2+"));
    text = json_dumps(kf, JSON_COMPACT);
    memset(&seen, 0, sizeof seen);
    ms_json_read_buffer(text, strlen(text), "kf.json", 0, NULL, see_species, &seen);
    free(text);
    CU_ASSERT_EQUAL(seen.z[0], 26);
    CU_ASSERT_TRUE(seen.has_oxi[0] && seen.oxi[0] == 2.0);
    /* a dummy species is an unknown element for that record */
    json_object_set_new(sp0, "element", json_string("X0+"));
    collected c;
    CU_ASSERT_EQUAL(read_json_value(kf, 0, &c), MS_SUCCESS);
    CU_ASSERT_EQUAL(c.n, 1);
    if (c.n == 1) {
        CU_ASSERT_EQUAL(c.r[0].status, MS_ERR_UNKNOWN_ELEMENT);
        CU_ASSERT_PTR_NOT_NULL(strstr(c.r[0].msg, "sites[0].species[0].element"));
    }
    collected_free(&c);
    json_decref(kf);
}

/* An API document: "structure" plus numeric properties and an MP id. */
static void test_api_document(void)
{
    json_t *st = load_real("json/tests/files/structure_KF.json");
    if (!st) return;
    json_t *doc = json_pack("{s:s, s:f, s:f, s:i, s:s, s:o}", "material_id", "mp-463",
                            "formation_energy_per_atom", -2.9165, "band_gap", 6.0632, "nsites", 2,
                            "formula_pretty", "KF", "structure", st);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    collected c;
    CU_ASSERT_EQUAL(read_json_value(doc, 0, &c), MS_SUCCESS);
    CU_ASSERT_EQUAL(c.n, 1);
    if (c.n == 1) {
        CU_ASSERT_EQUAL(c.r[0].status, MS_SUCCESS);
        CU_ASSERT_EQUAL(c.r[0].db, MS_DB_MP);
        CU_ASSERT_STRING_EQUAL(c.r[0].id, "mp-463");
        CU_ASSERT_EQUAL(c.r[0].n_props, 3); /* the string id and formula are not properties */
    }
    collected_free(&c);
    json_decref(doc);
}

/* Reads a real file into a NUL-terminated buffer without trailing whitespace. */
static char *load_text(const char *relative, size_t *n)
{
    FILE *f = fopen(ms_test_data(relative), "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 16);
    *n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    while (*n > 0 && (buf[*n - 1] == '\n' || buf[*n - 1] == ' ' || buf[*n - 1] == '\r'))
        (*n)--;
    buf[*n] = '\0';
    return buf;
}

/* Members of arrays and mappings hash their own bytes, whatever surrounds them. */
static void test_member_hashes(void)
{
    size_t na = 0, nb = 0;
    char *a = load_text("json/tests/files/structure_KF.json", &na);
    char *b = load_text("json/tests/files/Mg_batt.json", &nb);
    CU_ASSERT_FATAL(a && b);
    size_t cap = na + nb + 64;
    char *text = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    static const char *const shapes[2] = {"[\n  %s ,%s\n]\n",
                                          "{\"a, \\\"x\\\"\": %s,\n \"b\" :\t%s }"};
    for (int k = 0; k < 2; k++) {
        int len = snprintf(text, cap, shapes[k], a, b);
        collected c;
        memset(&c, 0, sizeof c);
        CU_ASSERT_EQUAL(ms_json_read_buffer(text, (size_t)len, "pair.json", 0, NULL, collect, &c),
                        MS_SUCCESS);
        CU_ASSERT_EQUAL(c.n, 2);
        if (c.n == 2) {
            CU_ASSERT_EQUAL(c.r[0].status, MS_SUCCESS);
            CU_ASSERT_EQUAL(c.r[1].status, MS_SUCCESS);
            CU_ASSERT_EQUAL(c.r[0].hash, ms_hash_bytes(a, na));
            CU_ASSERT_EQUAL(c.r[1].hash, ms_hash_bytes(b, nb));
        }
        collected_free(&c);
    }
    free(text);
    free(a);
    free(b);
}

/* ------------------------------------------------------------------------------------------- */
/* JSON Lines */

static void test_jsonl_offsets(void)
{
    const char *path = ms_test_local("json/mp_records.jsonl");
    collected c;
    memset(&c, 0, sizeof c);
    CU_ASSERT_EQUAL_FATAL(ms_jsonl_read_file(path, NULL, collect, &c), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(c.n, 6);
    CU_ASSERT_EQUAL(count_ok(&c), 5);
    /* line 4 (record 2) is cut: reported with its line, the others are read */
    CU_ASSERT_EQUAL(c.r[2].status, MS_ERR_PARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.r[2].msg, "line 4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.r[2].msg, "mp_records.jsonl"));
    CU_ASSERT_STRING_EQUAL(c.r[0].id, "mp-1960");
    CU_ASSERT_STRING_EQUAL(c.r[0].formula, "Li2O");
    CU_ASSERT_STRING_EQUAL(c.r[1].formula, "KF");
    CU_ASSERT_STRING_EQUAL(c.r[1].id, "mp_records.jsonl#1");
    CU_ASSERT_STRING_EQUAL(c.r[3].formula, "CsK(ClO4)2");
    CU_ASSERT_STRING_EQUAL(c.r[4].id, "mvc-5444");
    CU_ASSERT(ms_test_close(c.r[4].volume, 412.81609553035383, RTOL, 0));
    CU_ASSERT_STRING_EQUAL(c.r[5].formula, "Y6Mn3.78In2.22O18");

    /* the byte ranges are exactly the JSON texts of the lines */
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *all = malloc(1 << 16);
    size_t size = fread(all, 1, 1 << 16, f);
    fclose(f);
    long long expected_offset = 0;
    size_t line_start[8], nl = 0;
    line_start[nl++] = 0;
    for (size_t i = 0; i < size && nl < 8; i++)
        if (all[i] == '\n') line_start[nl++] = i + 1;
    static const int line_of_record[6] = {1, 2, 4, 5, 6, 7};
    for (size_t k = 0; k < 6; k++) {
        expected_offset = (long long)line_start[line_of_record[k] - 1];
        CU_ASSERT_EQUAL(c.r[k].offset, expected_offset);
        CU_ASSERT_EQUAL(c.r[k].index, k);
        CU_ASSERT_EQUAL(all[c.r[k].offset], '{');
        CU_ASSERT_EQUAL(all[c.r[k].offset + c.r[k].length], '\n');
    }
    free(all);

    /* re-reading record k by its range gives the same record */
    for (size_t k = 0; k < 6; k++) {
        collected one;
        memset(&one, 0, sizeof one);
        CU_ASSERT_EQUAL(
            ms_jsonl_read_record(path, c.r[k].offset, c.r[k].length, NULL, collect, &one),
            MS_SUCCESS);
        CU_ASSERT_EQUAL(one.n, 1);
        if (one.n == 1) {
            CU_ASSERT_EQUAL(one.r[0].status, c.r[k].status);
            CU_ASSERT_EQUAL(one.r[0].hash, c.r[k].hash);
            CU_ASSERT_EQUAL(one.r[0].index, k);
            CU_ASSERT_STRING_EQUAL(one.r[0].id, c.r[k].id);
            CU_ASSERT_EQUAL(one.r[0].n_sites, c.r[k].n_sites);
            CU_ASSERT_STRING_EQUAL(one.r[0].msg, c.r[k].msg);
        }
        collected_free(&one);
    }
    /* ranges that are not one record are refused */
    collected bad;
    memset(&bad, 0, sizeof bad);
    CU_ASSERT_EQUAL(ms_jsonl_read_record(path, c.r[0].offset, c.r[0].length + c.r[1].length + 2,
                                         NULL, collect, &bad),
                    MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_jsonl_read_record(path, 5, 10, NULL, collect, &bad), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_jsonl_read_record(path, 0, 1 << 30, NULL, collect, &bad), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(bad.n, 0);
    collected_free(&bad);

    /* the same file through the buffer interface, and through the .json reader (which sees
     * several values, one per line, and reads them as JSON Lines) */
    collected viajson;
    CU_ASSERT_EQUAL(read_json(path, &viajson, NULL), MS_SUCCESS);
    CU_ASSERT_EQUAL(viajson.n, 6);
    CU_ASSERT_EQUAL(viajson.r[4].offset, c.r[4].offset);
    CU_ASSERT_EQUAL(viajson.r[4].hash, c.r[4].hash);
    collected_free(&viajson);
    collected_free(&c);
}

/* The callback can stop a file. */
static void test_stop_early(void)
{
    collected c;
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    CU_ASSERT_EQUAL(
        ms_json_read_file(ms_test_data("json/tests/files/MnO2_batt.json"), NULL, collect, &c),
        MS_SUCCESS);
    CU_ASSERT_EQUAL(c.n, 2);
    collected_free(&c);
    memset(&c, 0, sizeof c);
    c.stop_after = 1;
    CU_ASSERT_EQUAL(ms_jsonl_read_file(ms_test_local("json/mp_records.jsonl"), NULL, collect, &c),
                    MS_SUCCESS);
    CU_ASSERT_EQUAL(c.n, 1);
    collected_free(&c);
}

/* ------------------------------------------------------------------------------------------- */
/* Errors and hostile input */

static void test_file_errors(void)
{
    collected c;
    CU_ASSERT_EQUAL(read_json("/nonexistent/matscreen.json", &c, NULL), MS_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "/nonexistent/matscreen.json"));
    ms_read_options opt;
    ms_read_options_default(&opt);
    opt.max_file_bytes = 1000;
    CU_ASSERT_EQUAL(read_json(ms_test_data("json/tests/files/MnO2_batt.json"), &c, &opt),
                    MS_ERR_LIMIT);
    CU_ASSERT_EQUAL(c.n, 0);
    /* a cut file: a parse error naming the file, the line and the column */
    FILE *f = fopen(ms_test_data("json/tests/files/LiMn2O4.json"), "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char buf[1500];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    memset(&c, 0, sizeof c);
    CU_ASSERT_EQUAL(ms_json_read_buffer(buf, n, "LiMn2O4-cut.json", 0, NULL, collect, &c),
                    MS_ERR_PARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "LiMn2O4-cut.json:1:"));
    CU_ASSERT_EQUAL(c.n, 0);
    CU_ASSERT_EQUAL(ms_json_read_buffer("", 0, "empty.json", 0, NULL, collect, &c), MS_ERR_PARSE);
    /* too many atoms for the limit: the record fails, the file goes on */
    opt.max_file_bytes = (size_t)1 << 30;
    opt.max_atoms = 30;
    CU_ASSERT_EQUAL(read_json(ms_test_data("json/tests/files/MnO2_batt.json"), &c, &opt),
                    MS_SUCCESS);
    CU_ASSERT_EQUAL(c.n, 48);
    CU_ASSERT_EQUAL(c.r[14].status, MS_ERR_LIMIT);
    CU_ASSERT_EQUAL(c.r[0].status, MS_SUCCESS);
    collected_free(&c);
    /* not structures */
    CU_ASSERT_EQUAL(read_json(ms_test_data("json/tests/files/Fe2O3_exp.json"), &c, NULL),
                    MS_SUCCESS);
    CU_ASSERT_EQUAL(c.n, 31);
    CU_ASSERT_EQUAL(c.r[0].status, MS_ERR_NO_STRUCTURE);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.r[0].msg, "Fe2O3_exp.json: record 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.r[0].msg, "ThermoData"));
    collected_free(&c);
}

static void test_hostile_buffers(void)
{
    static const struct {
        const char *text;
        int lines;
        ms_status file_status, record_status;
    } cases[] = {
        {"{\"lattice\": 5, \"sites\": []}", 0, MS_SUCCESS, MS_ERR_PARSE},
        {"{\"lattice\": {\"matrix\": [[1,0,0],[0,1,0]]}, \"sites\": [{}]}", 0, MS_SUCCESS,
         MS_ERR_PARSE},
        {"{\"lattice\": {\"matrix\": [[3,0,0],[0,3,0],[0,0,3]]}, \"sites\": [{\"abc\": [0,0,0], "
         "\"species\": [{\"element\": \"Li\", \"occu\": \"1\"}]}]}",
         0, MS_SUCCESS, MS_ERR_PARSE},
        {"{\"lattice\": {\"matrix\": [[3,0,0],[0,3,0],[0,0,3]]}, \"sites\": [{\"abc\": [0,0,0], "
         "\"species\": [{\"element\": \"Li\", \"occu\": 1.5}]}]}",
         0, MS_SUCCESS, MS_SUCCESS}, /* over-full: kept with a warning for the validation stage */
        {"{\"lattice\": {\"matrix\": [[3,0,0],[3,0,0],[0,0,3]]}, \"sites\": [{\"abc\": [0,0,0], "
         "\"species\": [{\"element\": \"Li\", \"occu\": 1}]}]}",
         0, MS_SUCCESS, MS_ERR_INVALID},
        {"{\"lattice\": {\"matrix\": [[1e300,0,0],[0,1e300,0],[0,0,1e300]]}, \"sites\": [{\"xyz\": "
         "[0,0,0], \"species\": [{\"element\": \"Li\", \"occu\": 1}]}]}",
         0, MS_SUCCESS, MS_ERR_INVALID},
        {"{\"lattice\": {\"matrix\": [[1e999,0,0],[0,3,0],[0,0,3]]}, \"sites\": []}", 0,
         MS_ERR_PARSE, MS_SUCCESS},
        {"{\"lattice\": {\"matrix\": [[NaN,0,0],[0,3,0],[0,0,3]]}, \"sites\": [{\"abc\": [0,0,0], "
         "\"species\": [{\"element\": \"Li\", \"occu\": 1}]}]}",
         0, MS_SUCCESS, MS_ERR_PARSE},
        {"{\"band_gap\": NaN, \"s\": \"NaN\", \"structure\": {\"lattice\": {\"matrix\": "
         "[[3,0,0],[0,3,0],[0,0,3]]}, \"sites\": [{\"abc\": [0,0,0], \"species\": "
         "[{\"element\": \"Li\", \"occu\": 1}]}]}}",
         0, MS_SUCCESS, MS_SUCCESS},
        {"[1, \"x\", null, [], {}]", 0, MS_SUCCESS, MS_ERR_NO_STRUCTURE},
        {"{\"a\": 1, \"a\": 2}", 0, MS_ERR_PARSE, MS_SUCCESS},
        {"\"just a string\"", 0, MS_ERR_PARSE, MS_SUCCESS},
        {"[1, 2\n{\"x\": 1}\n\n", 1, MS_SUCCESS, MS_ERR_PARSE},
        {"\xEF\xBB\xBF{\"x\": {\"@class\": \"PhaseDiagram\"}}", 0, MS_SUCCESS, MS_ERR_NO_STRUCTURE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        collected c;
        memset(&c, 0, sizeof c);
        ms_status st = ms_json_read_buffer(cases[i].text, strlen(cases[i].text), "hostile.json",
                                           cases[i].lines, NULL, collect, &c);
        CU_ASSERT_EQUAL(st, cases[i].file_status);
        if (st != cases[i].file_status) fprintf(stderr, "case %zu: file status %d\n", i, st);
        if (st == MS_SUCCESS) {
            CU_ASSERT(c.n >= 1);
            if (c.n >= 1) {
                CU_ASSERT_EQUAL(c.r[0].status, cases[i].record_status);
                if (c.r[0].status != cases[i].record_status)
                    fprintf(stderr, "case %zu: %s\n", i, c.r[0].msg);
                if (c.r[0].status != MS_SUCCESS) CU_ASSERT(strlen(c.r[0].msg) > 10);
            }
        } else {
            CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "hostile.json"));
        }
        collected_free(&c);
    }
    /* deep nesting: jansson's depth limit makes it a parse error, never a stack overflow */
    size_t depth = 200000;
    char *deep = malloc(2 * depth);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    collected c;
    memset(&c, 0, sizeof c);
    CU_ASSERT_EQUAL(ms_json_read_buffer(deep, 2 * depth, "deep.json", 0, NULL, collect, &c),
                    MS_ERR_PARSE);
    CU_ASSERT_EQUAL(ms_json_read_buffer(deep, 2 * depth, "deep.jsonl", 1, NULL, collect, &c),
                    MS_SUCCESS);
    CU_ASSERT_EQUAL(c.n, 1);
    if (c.n == 1) CU_ASSERT_EQUAL(c.r[0].status, MS_ERR_PARSE);
    collected_free(&c);
    free(deep);
}

/* Replaces every value of a real record, one at a time, by values of the wrong type: the reader
 * must answer each with a success or a clear error, never a crash (ASan checks the rest). */
static int wrong_types_at(json_t *root, json_t *node, size_t *runs, size_t *bad_messages)
{
    json_t *repl[6] = {json_null(),   json_string("Li"), json_array(),
                       json_object(), json_real(-1e300), json_integer(0)};
    int rc = 0;
    if (json_is_object(node) || json_is_array(node)) {
        size_t n = json_is_object(node) ? json_object_size(node) : json_array_size(node);
        void *it = json_is_object(node) ? json_object_iter(node) : NULL;
        for (size_t i = 0; i < n; i++) {
            json_t *child =
                json_is_object(node) ? json_object_iter_value(it) : json_array_get(node, i);
            json_incref(child);
            for (int r = 0; r < 6; r++) {
                if (json_is_object(node))
                    json_object_iter_set(node, it, repl[r]);
                else
                    json_array_set(node, i, repl[r]);
                collected c;
                if (read_json_value(root, 0, &c) != MS_SUCCESS) rc = 1;
                for (size_t k = 0; k < c.n; k++)
                    if (c.r[k].status != MS_SUCCESS && strlen(c.r[k].msg) < 20) (*bad_messages)++;
                collected_free(&c);
                (*runs)++;
            }
            if (json_is_object(node))
                json_object_iter_set(node, it, child);
            else
                json_array_set(node, i, child);
            rc |= wrong_types_at(root, child, runs, bad_messages);
            json_decref(child);
            if (json_is_object(node)) it = json_object_iter_next(node, it);
        }
    }
    for (int r = 0; r < 6; r++)
        json_decref(repl[r]);
    return rc;
}

static void test_wrong_types_everywhere(void)
{
    json_t *doc = load_real("json/tests/files/Mg_batt.json"); /* a ComputedStructureEntry */
    if (!doc) return;
    size_t runs = 0, bad_messages = 0;
    CU_ASSERT_EQUAL(wrong_types_at(doc, doc, &runs, &bad_messages), 0);
    CU_ASSERT(runs > 100);
    CU_ASSERT_EQUAL(bad_messages, 0);
    json_decref(doc);
}

int ms_suite_json_reader(void)
{
    CU_pSuite s = CU_add_suite("json_reader", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "all 77 shared JSON files", test_all_shared_files);
    CU_add_test(s, "calc_compounds_norm: 279 entries vs pymatgen", test_calc_compounds);
    CU_add_test(s, "entry list with mp/mvc ids", test_entry_list);
    CU_add_test(s, "Structure dicts vs pymatgen", test_structure_dicts);
    CU_add_test(s, "pandas DataFrame columns", test_dataframe_columns);
    CU_add_test(s, "integer and partial occupancies, oxidation", test_occupancies_and_oxidation);
    CU_add_test(s, "charged species and xyz-only sites", test_charged_species_and_xyz);
    CU_add_test(s, "API document", test_api_document);
    CU_add_test(s, "array and mapping members hash their own bytes", test_member_hashes);
    CU_add_test(s, "JSON Lines offsets and record re-read", test_jsonl_offsets);
    CU_add_test(s, "callback stops early", test_stop_early);
    CU_add_test(s, "file-level errors", test_file_errors);
    CU_add_test(s, "hostile buffers", test_hostile_buffers);
    CU_add_test(s, "wrong types at every key", test_wrong_types_everywhere);
    return CU_get_error();
}
