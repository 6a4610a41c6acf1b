/*
 * The periodic table; see element.h.
 *
 * periodic_table.json is read with jansson; Magpie tables are one value per line, line i holding
 * element Z = i + 1, "Missing" where unknown (the format matminer reads).
 */
#include "matscreen/element.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/array.h"
#include "matscreen/share.h"

#define PROPERTY_NAME_MAX 48

struct ms_element_table {
    ms_element el[MS_MAX_Z + 1];          /* indexed by Z; el[0] unused */
    size_t n_props;                       /* Magpie properties loaded */
    char (*prop_names)[PROPERTY_NAME_MAX]; /* sorted by name */
    double *prop_values;                  /* n_props x (MS_MAX_Z + 1), row per property */
    size_t n_bvse;                        /* rows of bvse.dat loaded (0: file absent) */
    ms_bvse_pair bvse[MS_BVSE_MAX_PAIRS]; /* in file order */
};

const char *const ms_element_symbols[MS_MAX_Z + 1] = {
    "",   "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si",
    "P",  "S",  "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu",
    "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru",
    "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr",
    "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",
    "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac",
    "Th", "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf",
    "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};

int ms_element_z(const char *s, size_t len, int *isotope)
{
    if (isotope) *isotope = 0;
    if (len == 0 || len > 2) return 0;
    if (len == 1 && (s[0] == 'D' || s[0] == 'T')) {
        if (isotope) *isotope = 1;
        return 1;
    }
    /* Linear scan of 118 short strings: a few hundred ns, far below parsing cost. */
    for (int z = 1; z <= MS_MAX_Z; z++) {
        const char *sym = ms_element_symbols[z];
        if (sym[0] == s[0] && sym[1] == (len == 2 ? s[1] : '\0')) return z;
    }
    return 0;
}

const char *ms_element_symbol(int z)
{
    return (z >= 1 && z <= MS_MAX_Z) ? ms_element_symbols[z] : "";
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void read_int_list(json_t *arr, int *out, int *n)
{
    *n = 0;
    if (!json_is_array(arr)) return;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_number(v) && *n < MS_MAX_OXI) out[(*n)++] = (int)json_number_value(v);
    }
    qsort(out, (size_t)*n, sizeof *out, int_cmp);
}

static double number_or_nan(json_t *v) { return json_is_number(v) ? json_number_value(v) : NAN; }

static ms_status load_periodic_table(ms_element_table *t, const char *path)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        return ms_error_set(MS_ERR_PARSE, "%s:%d: %s", path, jerr.line, jerr.text);
    for (int z = 1; z <= MS_MAX_Z; z++) {
        ms_element *e = &t->el[z];
        json_t *d = json_object_get(root, ms_element_symbols[z]);
        e->z = z;
        snprintf(e->symbol, sizeof e->symbol, "%s", ms_element_symbols[z]);
        e->mass = NAN;
        e->x = NAN;
        e->atomic_radius = NAN;
        if (!json_is_object(d)) continue;
        e->mass = number_or_nan(json_object_get(d, "Atomic mass"));
        e->x = number_or_nan(json_object_get(d, "X"));
        e->atomic_radius = number_or_nan(json_object_get(d, "Atomic radius"));
        read_int_list(json_object_get(d, "Oxidation states"), e->oxi, &e->n_oxi);
        read_int_list(json_object_get(d, "Common oxidation states"), e->oxi_common, &e->n_oxi_common);
        read_int_list(json_object_get(d, "ICSD oxidation states"), e->oxi_icsd, &e->n_oxi_icsd);
    }
    json_decref(root);
    for (int z = 1; z <= 103; z++)
        if (isnan(t->el[z].mass))
            return ms_error_set(MS_ERR_INVALID, "%s: no atomic mass for %s", path,
                                ms_element_symbols[z]);
    return MS_SUCCESS;
}

/* Reads one Magpie table into values[0..MS_MAX_Z]. Like matminer, a line that is not one number
 * ("Missing", "None", empty) is NaN. Tables with several numbers on a line (oxidation states,
 * ionisation energies) are not scalar properties: MS_ERR_UNSUPPORTED, and the caller skips them. */
static ms_status load_magpie_table(const char *path, double *values)
{
    FILE *f = fopen(path, "r");
    if (!f) return ms_error_set(MS_ERR_IO, "%s: %s", path, strerror(errno));
    char line[512];
    int z = 1;
    ms_status status = MS_SUCCESS;
    for (int i = 0; i <= MS_MAX_Z; i++) values[i] = NAN;
    while (fgets(line, sizeof line, f) && z <= MS_MAX_Z) {
        char *end;
        double v = strtod(line, &end);
        if (end == line) { /* not a number */
            z++;
            continue;
        }
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
        if (*end != '\0') {
            status = MS_ERR_UNSUPPORTED;
            break;
        }
        values[z++] = v;
    }
    fclose(f);
    return status;
}

static int name_cmp(const void *a, const void *b) { return strcmp(a, b); }

static ms_status load_magpie(ms_element_table *t, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return ms_error_set(MS_ERR_IO, "%s: %s", dir, strerror(errno));
    size_t cap = 0;
    struct dirent *ent;
    char (*names)[PROPERTY_NAME_MAX] = NULL;
    while ((ent = readdir(d))) {
        size_t len = strlen(ent->d_name);
        if (len < 7 || len - 6 >= PROPERTY_NAME_MAX || strcmp(ent->d_name + len - 6, ".table") != 0)
            continue;
        if (ms_array_reserve(&names, &cap, t->n_props + 1, sizeof *names, 64) != MS_SUCCESS) {
            closedir(d);
            free(names);
            return ms_error_set(MS_ERR_NOMEM, "loading %s", dir);
        }
        memcpy(names[t->n_props], ent->d_name, len - 6);
        names[t->n_props][len - 6] = '\0';
        t->n_props++;
    }
    closedir(d);
    /* Sorted so that property indices do not depend on the file system's order. */
    qsort(names, t->n_props, sizeof *names, name_cmp);
    t->prop_names = names;
    t->prop_values = malloc(t->n_props * (MS_MAX_Z + 1) * sizeof *t->prop_values);
    if (!t->prop_values && t->n_props) return ms_error_set(MS_ERR_NOMEM, "loading %s", dir);
    size_t kept = 0;
    for (size_t i = 0; i < t->n_props; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s.table", dir, names[i]);
        ms_status s = load_magpie_table(path, t->prop_values + kept * (MS_MAX_Z + 1));
        if (s == MS_ERR_UNSUPPORTED) continue;
        if (s != MS_SUCCESS) return s;
        if (kept != i) memcpy(names[kept], names[i], PROPERTY_NAME_MAX);
        kept++;
    }
    t->n_props = kept;
    return MS_SUCCESS;
}

/* One field of a bvse.dat row: text up to the next tab, trailing spaces allowed. */
static int bvse_field(char **cursor, char *out, size_t n)
{
    char *p = *cursor;
    if (!p) return 0;
    char *tab = strchr(p, '\t');
    size_t len = tab ? (size_t)(tab - p) : strcspn(p, "\r\n");
    *cursor = tab ? tab + 1 : NULL;
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r' || p[len - 1] == '\n')) len--;
    while (len > 0 && *p == ' ') p++, len--;
    if (len == 0 || len >= n) return 0;
    memcpy(out, p, len);
    out[len] = '\0';
    return 1;
}

static int bvse_number(const char *text, double *v)
{
    char *end;
    *v = strtod(text, &end);
    return *end == '\0' && isfinite(*v);
}

/* Parses one data row of bvse.dat: cation, valence, anion, valence, Nc, R0, Rcutoff, D0, Rmin,
 * alpha (tab-separated). */
static int bvse_parse_row(char *line, ms_bvse_pair *row)
{
    char f[10][32];
    char *cursor = line;
    for (int i = 0; i < 10; i++)
        if (!bvse_field(&cursor, f[i], sizeof f[i])) return 0;
    double v[10];
    for (int i = 1; i < 10; i++)
        if (i != 2 && !bvse_number(f[i], &v[i])) return 0;
    row->cation_z = ms_element_z(f[0], strlen(f[0]), NULL);
    row->anion_z = ms_element_z(f[2], strlen(f[2]), NULL);
    row->cation_valence = (int)lround(v[1]);
    row->anion_valence = (int)lround(v[3]);
    row->r_cutoff = v[6];
    row->d0 = v[7];
    row->r_min = v[8];
    row->alpha = v[9];
    return row->cation_z > 0 && row->anion_z > 0 && v[1] == row->cation_valence &&
           v[3] == row->anion_valence && row->r_cutoff > 0 && row->d0 > 0 && row->r_min > 0 &&
           row->alpha > 0;
}

/* share_dir/bvse.dat (optional: a share directory without it loads, and the bvse descriptor then
 * refuses to start with a message naming the file). Lines starting with '#' are skipped. */
static ms_status load_bvse(ms_element_table *t, const char *path)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        if (errno == ENOENT) return MS_SUCCESS;
        return ms_error_set(MS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    char line[512];
    long lineno = 0;
    ms_status st = MS_SUCCESS;
    while (st == MS_SUCCESS && fgets(line, sizeof line, in)) {
        lineno++;
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0') continue;
        if (lineno == 1 && strncmp(line, "cation", 6) == 0) continue;
        if (t->n_bvse == MS_BVSE_MAX_PAIRS)
            st = ms_error_set(MS_ERR_LIMIT, "%s:%ld: more than %d rows", path, lineno,
                              MS_BVSE_MAX_PAIRS);
        else if (!bvse_parse_row(line, &t->bvse[t->n_bvse]))
            st = ms_error_set(MS_ERR_PARSE,
                              "%s:%ld: expected 10 tab-separated fields (cation, valence, anion, "
                              "valence, Nc, R0, Rcutoff, D0, Rmin, alpha > 0)",
                              path, lineno);
        else t->n_bvse++;
    }
    fclose(in);
    if (st != MS_SUCCESS) t->n_bvse = 0;
    return st;
}

const ms_bvse_pair *ms_element_bvse_pair(const ms_element_table *table, int cation_z,
                                         int cation_valence, int anion_z, int anion_valence)
{
    for (size_t i = 0; i < table->n_bvse; i++) {
        const ms_bvse_pair *p = &table->bvse[i];
        if (p->cation_z == cation_z && p->cation_valence == cation_valence &&
            p->anion_z == anion_z && p->anion_valence == anion_valence)
            return p;
    }
    return NULL;
}

size_t ms_element_bvse_count(const ms_element_table *table) { return table->n_bvse; }

ms_status ms_element_table_load(const char *share_dir, ms_element_table **out)
{
    *out = NULL;
    ms_element_table *t = calloc(1, sizeof *t);
    if (!t) return ms_error_set(MS_ERR_NOMEM, "allocating the element table");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/elements/periodic_table.json", share_dir);
    ms_status s = load_periodic_table(t, path);
    if (s == MS_SUCCESS) {
        snprintf(path, sizeof path, "%s/elements/magpie", share_dir);
        s = load_magpie(t, path);
    }
    if (s == MS_SUCCESS) {
        snprintf(path, sizeof path, "%s/bvse.dat", share_dir);
        s = load_bvse(t, path);
    }
    if (s != MS_SUCCESS) {
        ms_element_table_free(t); /* a failed constructor frees what it allocated */
        return s;
    }
    int cov = ms_element_property_index(t, "CovalentRadius");
    for (int z = 1; z <= MS_MAX_Z; z++)
        t->el[z].covalent_radius = cov >= 0 ? ms_element_property(t, cov, z) / 100.0 : NAN;
    *out = t;
    return MS_SUCCESS;
}

ms_status ms_element_table_load_default(ms_element_table **out)
{
    char dir[PATH_MAX];
    *out = NULL;
    MS_CALL(ms_share_dir(dir, sizeof dir));
    return ms_element_table_load(dir, out);
}

/* Packed layout: magic, n_props, n_bvse, the element array, property names, property values, the
 * bvse rows. Every rank
 * runs the same binary, so the native layout of ms_element is safe to copy. */
#define PACK_MAGIC 0x4d53454cu /* "MSEL" */

ms_status ms_element_table_pack(const ms_element_table *table, void **buf, size_t *n)
{
    size_t names = table->n_props * sizeof *table->prop_names;
    size_t values = table->n_props * (MS_MAX_Z + 1) * sizeof *table->prop_values;
    size_t bvse = table->n_bvse * sizeof *table->bvse;
    size_t total = 3 * sizeof(uint64_t) + sizeof table->el + names + values + bvse;
    unsigned char *p = malloc(total);
    MS_CHECK(p, MS_ERR_NOMEM, "packing the element table");
    uint64_t head[3] = {PACK_MAGIC, table->n_props, table->n_bvse};
    memcpy(p, head, sizeof head);
    memcpy(p + sizeof head, table->el, sizeof table->el);
    memcpy(p + sizeof head + sizeof table->el, table->prop_names, names);
    memcpy(p + sizeof head + sizeof table->el + names, table->prop_values, values);
    memcpy(p + sizeof head + sizeof table->el + names + values, table->bvse, bvse);
    *buf = p;
    *n = total;
    return MS_SUCCESS;
}

ms_status ms_element_table_unpack(const void *buf, size_t n, ms_element_table **out)
{
    *out = NULL;
    uint64_t head[3];
    MS_CHECK(n >= sizeof head, MS_ERR_INVALID, "element table buffer too short");
    memcpy(head, buf, sizeof head);
    MS_CHECK(head[0] == PACK_MAGIC && head[1] < 4096 && head[2] <= MS_BVSE_MAX_PAIRS,
             MS_ERR_INVALID, "not a packed element table");
    size_t np = (size_t)head[1], nb = (size_t)head[2];
    size_t names = np * PROPERTY_NAME_MAX, values = np * (MS_MAX_Z + 1) * sizeof(double);
    size_t bvse = nb * sizeof(ms_bvse_pair);
    size_t expect = sizeof head + sizeof((ms_element_table *)0)->el + names + values + bvse;
    MS_CHECK(n == expect, MS_ERR_INVALID, "packed element table has %zu bytes, expected %zu", n,
             expect);
    ms_element_table *t = calloc(1, sizeof *t);
    MS_CHECK(t, MS_ERR_NOMEM, "unpacking the element table");
    t->prop_names = malloc(names ? names : 1);
    t->prop_values = malloc(values ? values : 1);
    if (!t->prop_names || !t->prop_values) {
        ms_element_table_free(t);
        return ms_error_set(MS_ERR_NOMEM, "unpacking the element table");
    }
    const unsigned char *p = (const unsigned char *)buf + sizeof head;
    memcpy(t->el, p, sizeof t->el);
    memcpy(t->prop_names, p + sizeof t->el, names);
    memcpy(t->prop_values, p + sizeof t->el + names, values);
    memcpy(t->bvse, p + sizeof t->el + names + values, bvse);
    t->n_props = np;
    t->n_bvse = nb;
    for (size_t i = 0; i < np; i++) t->prop_names[i][PROPERTY_NAME_MAX - 1] = '\0';
    *out = t;
    return MS_SUCCESS;
}

void ms_element_table_free(ms_element_table *table)
{
    if (!table) return;
    free(table->prop_names);
    free(table->prop_values);
    free(table);
}

const ms_element *ms_element_get(const ms_element_table *table, int z)
{
    return (z >= 1 && z <= MS_MAX_Z) ? &table->el[z] : NULL;
}

int ms_element_property_index(const ms_element_table *table, const char *name)
{
    for (size_t i = 0; i < table->n_props; i++)
        if (strcmp(table->prop_names[i], name) == 0) return (int)i;
    return -1;
}

size_t ms_element_property_count(const ms_element_table *table) { return table->n_props; }

const char *ms_element_property_name(const ms_element_table *table, size_t i)
{
    return i < table->n_props ? table->prop_names[i] : "";
}

double ms_element_property(const ms_element_table *table, int index, int z)
{
    if (index < 0 || (size_t)index >= table->n_props || z < 1 || z > MS_MAX_Z) return NAN;
    return table->prop_values[(size_t)index * (MS_MAX_Z + 1) + (size_t)z];
}
