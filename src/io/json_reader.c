/*
 * Materials Project / pymatgen JSON reader; see json_reader.h.
 *
 * What counts as a record
 *   - JSON Lines: every non-blank line is exactly one record, so (offset, length) always names
 *     one record and ms_jsonl_read_record can re-read it.
 *   - A JSON file holding an array: every element is a record.
 *   - A JSON file holding an object:
 *       a Structure, or a document whose "structure" is a Structure: one record;
 *       a pandas DataFrame written column-wise (DataFrame.to_json(), as pymatgen's
 *         magnetic_orderings test data): "structure" maps row keys to Structures; each row is a
 *         record whose other columns give its properties;
 *       an object whose values are objects and at least one looks like a record (has "@class",
 *         "structure" or "lattice"), as {"Li2O": ComputedStructureEntry, ...}: each value is a
 *         record and its key becomes prov.block;
 *       anything else: one record that holds no structure (MS_ERR_NO_STRUCTURE).
 *
 * Content hashes: JSON Lines records hash their line bytes, a whole-file object hashes the file
 * bytes, and elements of arrays and mappings hash their own bytes, found by a byte scan of the
 * text jansson accepted. DataFrame rows (and members, should the scan disagree with jansson)
 * hash their canonical serialisation (sorted keys, compact), streamed through
 * json_dump_callback.
 *
 * Python's json module writes NaN and Infinity, which are not JSON. When a parse fails and the
 * text holds such tokens outside strings, they are read as null (a property that is null is not
 * stored; a coordinate that is null is an error for that record) and each record says so in its
 * warnings.
 */
#include "matscreen/json_reader.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "matscreen/file_read.h"
#include "matscreen/element.h"
#include "matscreen/hash.h"
#include "matscreen/structure.h"

/* jansson flags for every parse: duplicate keys would make a record ambiguous. */
#define JSON_FLAGS JSON_REJECT_DUPLICATES

typedef struct json_ctx {
    const char *name; /* file path or buffer name: messages and prov.file */
    const char *base; /* basename of name, for fallback source ids */
    ms_read_options opt;
    ms_record_fn fn;
    void *user;
    ms_structure s; /* reused across records */
    int stop;       /* the callback asked to stop */
    int nonfinite;  /* NaN/Infinity were read as null in the current text */
} json_ctx;

/* Where a record sits in its file. */
typedef struct rec_info {
    size_t index;
    long line;                /* physical line (JSON Lines), 0 when not known */
    long long offset, length; /* byte range, -1 for whole-file JSON */
    uint64_t hash;
    const char *block; /* mapping key or DataFrame row key, or NULL */
} rec_info;

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void ctx_init(json_ctx *c, const char *name, const ms_read_options *opt, ms_record_fn fn,
                     void *user)
{
    memset(c, 0, sizeof *c);
    c->name = name ? name : "(buffer)";
    c->base = base_name(c->name);
    if (opt) {
        c->opt = *opt;
    } else {
        ms_read_options_default(&c->opt);
    }
    c->fn = fn;
    c->user = user;
    ms_structure_init(&c->s);
}

/* ---------------------------------------------------------------------------------------------
 * Reading values with their types checked: every accessor fails with a message naming the key. */

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static ms_status get_number(const json_t *v, const char *what, double *out)
{
    MS_CHECK(v != NULL, MS_ERR_PARSE, "%s is missing", what);
    MS_CHECK(json_is_number(v), MS_ERR_PARSE, "%s is %s, not a number", what, json_type_name(v));
    double x = json_number_value(v);
    MS_CHECK(isfinite(x), MS_ERR_INVALID, "%s is not finite", what);
    *out = x;
    return MS_SUCCESS;
}

static ms_status get_vec3(const json_t *v, const char *what, double out[3])
{
    char item[64];
    MS_CHECK(v != NULL, MS_ERR_PARSE, "%s is missing", what);
    MS_CHECK(json_is_array(v) && json_array_size(v) == 3, MS_ERR_PARSE,
             "%s must be an array of 3 numbers (found %s%s)", what, json_type_name(v),
             json_is_array(v) ? " of another length" : "");
    for (size_t k = 0; k < 3; k++) {
        snprintf(item, sizeof item, "%s[%zu]", what, k);
        MS_CALL(get_number(json_array_get(v, k), item, &out[k]));
    }
    return MS_SUCCESS;
}

static int is_structure(const json_t *v)
{
    return json_is_object(v) && json_object_get(v, "lattice") && json_object_get(v, "sites");
}

/* ---------------------------------------------------------------------------------------------
 * Structure dicts. */

static ms_status read_lattice(const json_t *lat, double m[3][3])
{
    char what[32];
    /* pymatgen writes {"matrix": [[..],[..],[..]], "a": ..}; a bare 3x3 array is accepted too. */
    const json_t *matrix = json_is_object(lat) ? json_object_get(lat, "matrix") : lat;
    if (json_is_object(lat) && !matrix) {
        double p[6];
        static const char *const keys[6] = {"a", "b", "c", "alpha", "beta", "gamma"};
        for (int k = 0; k < 6; k++) {
            snprintf(what, sizeof what, "lattice.%s", keys[k]);
            MS_CALL(get_number(json_object_get(lat, keys[k]), what, &p[k]));
        }
        ms_structure tmp;
        ms_structure_init(&tmp);
        MS_CALL(ms_structure_set_lattice_parameters(&tmp, p[0], p[1], p[2], p[3], p[4], p[5]));
        memcpy(m, tmp.lattice, sizeof tmp.lattice);
        return MS_SUCCESS;
    }
    MS_CHECK(json_is_array(matrix) && json_array_size(matrix) == 3, MS_ERR_PARSE,
             "lattice.matrix must be an array of 3 rows (found %s)",
             matrix ? json_type_name(matrix) : "nothing");
    for (size_t i = 0; i < 3; i++) {
        snprintf(what, sizeof what, "lattice.matrix[%zu]", i);
        MS_CALL(get_vec3(json_array_get(matrix, i), what, m[i]));
    }
    return MS_SUCCESS;
}

/* Splits a species string ("Li", "Fe2+", "O2-", "Li+", "Mn3.5+") into Z and an optional
 * oxidation state, as pymatgen's Species.from_str. */
static ms_status parse_species_name(ms_structure *s, const char *text, const char *what, int *z,
                                    double *oxi, int *has_oxi)
{
    size_t len = 0;
    *has_oxi = 0;
    if (text[0] >= 'A' && text[0] <= 'Z') {
        len = 1;
        if (text[1] >= 'a' && text[1] <= 'z') len = 2;
    }
    int isotope = 0;
    *z = len ? ms_element_z(text, len, &isotope) : 0;
    MS_CHECK(*z > 0, MS_ERR_UNKNOWN_ELEMENT, "%s \"%.32s\" is not a chemical element", what, text);
    if (isotope) ms_structure_warn(s, "isotope %.2s read as hydrogen", text);
    const char *rest = text + len;
    if (*rest == '\0') return MS_SUCCESS;
    char *end = NULL;
    double mag = 1.0;
    if (*rest != '+' && *rest != '-') {
        errno = 0;
        mag = strtod(rest, &end);
        MS_CHECK(end != rest && errno == 0 && isfinite(mag) && mag >= 0 && mag <= 20,
                 MS_ERR_UNKNOWN_ELEMENT, "%s \"%.32s\" is not an element or an ion", what, text);
        rest = end;
    }
    MS_CHECK((*rest == '+' || *rest == '-') && (rest[1] == '\0' || rest[1] == ','),
             MS_ERR_UNKNOWN_ELEMENT, "%s \"%.32s\" is not an element or an ion", what, text);
    *oxi = *rest == '-' ? -mag : mag;
    *has_oxi = 1;
    return MS_SUCCESS;
}

static ms_status read_species(ms_structure *s, const json_t *sp, size_t i, size_t k)
{
    char what[96];
    snprintf(what, sizeof what, "sites[%zu].species[%zu]", i, k);
    MS_CHECK(json_is_object(sp), MS_ERR_PARSE, "%s is %s, not an object", what, json_type_name(sp));
    const json_t *el = json_object_get(sp, "element");
    char key[128];
    snprintf(key, sizeof key, "%s.element", what);
    MS_CHECK(el != NULL, MS_ERR_PARSE, "%s is missing", key);
    MS_CHECK(json_is_string(el), MS_ERR_PARSE, "%s is %s, not a string", key, json_type_name(el));
    int z = 0, has_oxi = 0;
    double oxi = 0, occu = 0;
    MS_CALL(parse_species_name(s, json_string_value(el), key, &z, &oxi, &has_oxi));
    const json_t *ox = json_object_get(sp, "oxidation_state");
    if (ox && !json_is_null(ox)) {
        double v;
        snprintf(key, sizeof key, "%s.oxidation_state", what);
        MS_CALL(get_number(ox, key, &v));
        if (has_oxi && v != oxi)
            ms_structure_warn(s, "%s: oxidation_state %g differs from \"%s\"; %g kept", what, v,
                              json_string_value(el), v);
        oxi = v;
        has_oxi = 1;
    }
    snprintf(key, sizeof key, "%s.occu", what);
    MS_CALL(get_number(json_object_get(sp, "occu"), key, &occu));
    return ms_structure_add_species(s, z, occu, oxi, has_oxi);
}

static ms_status read_structure(json_ctx *c, const json_t *st)
{
    ms_structure *s = &c->s;
    char what[64];
    MS_CALL(read_lattice(json_object_get(st, "lattice"), s->lattice));
    const json_t *sites = json_object_get(st, "sites");
    MS_CHECK(json_is_array(sites), MS_ERR_PARSE, "sites is %s, not an array",
             json_type_name(sites));
    size_t n = json_array_size(sites);
    MS_CHECK(n > 0, MS_ERR_NO_STRUCTURE, "sites is empty");
    MS_CHECK(n <= c->opt.max_atoms, MS_ERR_LIMIT, "%zu sites exceed the limit of %zu atoms", n,
             c->opt.max_atoms);
    int have_inv = 0;
    double inv[3][3];
    for (size_t i = 0; i < n; i++) {
        const json_t *site = json_array_get(sites, i);
        double frac[3];
        MS_CHECK(json_is_object(site), MS_ERR_PARSE, "sites[%zu] is %s, not an object", i,
                 json_type_name(site));
        const json_t *abc = json_object_get(site, "abc");
        if (abc) {
            snprintf(what, sizeof what, "sites[%zu].abc", i);
            MS_CALL(get_vec3(abc, what, frac));
        } else {
            double cart[3];
            snprintf(what, sizeof what, "sites[%zu].xyz", i);
            MS_CHECK(json_object_get(site, "xyz"), MS_ERR_PARSE,
                     "sites[%zu] has neither \"abc\" nor \"xyz\"", i);
            MS_CALL(get_vec3(json_object_get(site, "xyz"), what, cart));
            if (!have_inv) {
                MS_CALL(ms_lattice_inverse((const double(*)[3])s->lattice, inv));
                have_inv = 1;
            }
            ms_lattice_cart_to_frac((const double(*)[3])inv, cart, frac);
        }
        const json_t *label = json_object_get(site, "label");
        MS_CALL(ms_structure_add_site(s, frac,
                                      json_is_string(label) ? json_string_value(label) : NULL));
        const json_t *species = json_object_get(site, "species");
        MS_CHECK(json_is_array(species) && json_array_size(species) > 0, MS_ERR_PARSE,
                 "sites[%zu].species must be a non-empty array (found %s)", i,
                 species ? json_type_name(species) : "nothing");
        for (size_t k = 0; k < json_array_size(species); k++)
            MS_CALL(read_species(s, json_array_get(species, k), i, k));
        if (!json_is_string(label)) {
            /* pymatgen labels an unlabelled site with its species string */
            snprintf(s->label[i], MS_LABEL_MAX, "%s",
                     ms_element_symbol(s->species[s->site_species[i]].z));
        }
    }
    return MS_SUCCESS;
}

/* ---------------------------------------------------------------------------------------------
 * Documents: identifiers and scalar properties around a structure. */

static int is_mp_id(const char *id)
{
    return strncmp(id, "mp-", 3) == 0 || strncmp(id, "mvc-", 4) == 0;
}

/* The first Materials Project id among material_id, entry_id and task_id (top level before
 * "data"), or NULL. */
static const char *find_mp_id(const json_t *doc)
{
    static const char *const keys[3] = {"material_id", "entry_id", "task_id"};
    const json_t *data = json_object_get(doc, "data");
    for (int k = 0; k < 3; k++) {
        const json_t *where[2] = {doc, json_is_object(data) ? data : NULL};
        for (int w = 0; w < 2; w++) {
            if (!where[w]) continue;
            const json_t *v = json_object_get(where[w], keys[k]);
            if (json_is_string(v) && is_mp_id(json_string_value(v))) return json_string_value(v);
        }
    }
    return NULL;
}

static ms_status store_numbers(ms_structure *s, const json_t *obj, size_t *skipped)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!json_is_number(v) || key[0] == '@') continue;
        double x = json_number_value(v);
        if (!isfinite(x)) continue;
        if (strlen(key) >= MS_PROP_NAME_MAX) {
            (*skipped)++;
            continue;
        }
        MS_CALL(ms_structure_set_property(s, key, x));
    }
    return MS_SUCCESS;
}

static ms_status read_document(ms_structure *s, const json_t *doc)
{
    size_t skipped = 0;
    const json_t *data = json_object_get(doc, "data");
    /* "data" first so that a top-level value of the same name wins */
    if (json_is_object(data)) MS_CALL(store_numbers(s, data, &skipped));
    MS_CALL(store_numbers(s, doc, &skipped));
    if (skipped)
        ms_structure_warn(s, "%zu numeric properties with names of %d or more characters skipped",
                          skipped, MS_PROP_NAME_MAX);
    static const char *const formula_keys[4] = {"formula_pretty", "pretty_formula",
                                                "reduced_formula", "formula"};
    for (int k = 0; k < 4; k++) {
        const json_t *f = json_object_get(doc, formula_keys[k]);
        if (json_is_string(f)) {
            snprintf(s->formula_stated, MS_FORMULA_MAX, "%s", json_string_value(f));
            break;
        }
    }
    return MS_SUCCESS;
}

/* Explains why an object is not a structure, with its class or first keys. */
static ms_status no_structure(const json_t *rec)
{
    if (!json_is_object(rec))
        return ms_error_set(MS_ERR_NO_STRUCTURE, "holds no crystal structure (%s, not an object)",
                            json_type_name(rec));
    const json_t *cls = json_object_get(rec, "@class");
    const json_t *st = json_object_get(rec, "structure");
    if (st)
        return ms_error_set(MS_ERR_NO_STRUCTURE,
                            "holds no crystal structure (\"structure\" is %s without \"lattice\" "
                            "and \"sites\")",
                            json_type_name(st));
    if (json_is_string(cls))
        return ms_error_set(MS_ERR_NO_STRUCTURE,
                            "holds no crystal structure (a %.64s with no \"structure\", "
                            "\"lattice\" or \"sites\")",
                            json_string_value(cls));
    char keys[200] = "";
    size_t used = 0, n = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)rec, key, v)
    {
        if (n == 4) {
            snprintf(keys + used, sizeof keys - used, ", ...");
            break;
        }
        int w = snprintf(keys + used, sizeof keys - used, "%s\"%.40s\"", n ? ", " : "", key);
        if (w < 0 || (size_t)w >= sizeof keys - used) break;
        used += (size_t)w;
        n++;
    }
    (void)v;
    return ms_error_set(MS_ERR_NO_STRUCTURE,
                        "holds no crystal structure (an object with keys %s but no \"structure\", "
                        "\"lattice\" or \"sites\")",
                        n ? keys : "(none)");
}

static ms_status read_record(json_ctx *c, const json_t *rec, const rec_info *ri)
{
    ms_structure *s = &c->s;
    const json_t *st = NULL, *doc = NULL;
    if (is_structure(rec)) {
        st = rec;
    } else if (json_is_object(rec) && is_structure(json_object_get(rec, "structure"))) {
        st = json_object_get(rec, "structure");
        doc = rec;
    }
    if (!st) return no_structure(rec);
    const char *id = doc ? find_mp_id(doc) : NULL;
    if (id) {
        s->prov.db = MS_DB_MP;
        snprintf(s->prov.source_id, MS_SOURCE_ID_MAX, "%s", id);
    } else {
        s->prov.db = c->opt.default_db;
        snprintf(s->prov.source_id, MS_SOURCE_ID_MAX, "%s#%zu", c->base, ri->index);
    }
    if (c->nonfinite) ms_structure_warn(s, "NaN or Infinity in the JSON text read as null");
    MS_CALL(read_structure(c, st));
    if (doc) MS_CALL(read_document(s, doc));
    return ms_structure_finish(s);
}

/* Reads one record and hands it to the callback; a failing record does not stop the file. */
static void emit(json_ctx *c, const json_t *rec, const rec_info *ri, ms_status parse_status)
{
    ms_structure *s = &c->s;
    ms_structure_reset(s);
    s->prov.db = c->opt.default_db;
    snprintf(s->prov.source_id, MS_SOURCE_ID_MAX, "%s#%zu", c->base, ri->index);
    s->prov.file = c->name;
    if (ri->block) snprintf(s->prov.block, MS_BLOCK_MAX, "%s", ri->block);
    s->prov.offset = ri->offset;
    s->prov.length = ri->length;
    s->prov.index = ri->index;
    s->prov.content_hash = ri->hash;
    ms_status st = parse_status != MS_SUCCESS ? parse_status : read_record(c, rec, ri);
    if (st != MS_SUCCESS) {
        char where[96] = "";
        if (ri->line > 0) snprintf(where, sizeof where, " (line %ld)", ri->line);
        if (ri->block)
            ms_error_prefix("%s: record %zu \"%.40s\"%s", c->name, ri->index, ri->block, where);
        else
            ms_error_prefix("%s: record %zu%s", c->name, ri->index, where);
    }
    if (c->fn(s, st, st == MS_SUCCESS ? "" : ms_error_message(), c->user)) c->stop = 1;
}

/* ---------------------------------------------------------------------------------------------
 * Parsing text, with the NaN/Infinity fallback. */

static int hash_chunk(const char *buffer, size_t size, void *data)
{
    uint64_t *h = data;
    *h = ms_hash_update(*h, buffer, size);
    return 0;
}

static uint64_t canonical_hash(const json_t *v)
{
    uint64_t h = MS_HASH_INIT;
    json_dump_callback(v, hash_chunk, &h, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    return h;
}

/* Length of a NaN / Infinity / -Infinity token at p (n bytes left), else 0. */
static size_t nonfinite_token(const char *p, size_t n)
{
    if (n >= 3 && memcmp(p, "NaN", 3) == 0) return 3;
    if (n >= 8 && memcmp(p, "Infinity", 8) == 0) return 8;
    if (n >= 9 && memcmp(p, "-Infinity", 9) == 0) return 9;
    return 0;
}

/* Copies text with NaN/Infinity tokens outside strings replaced by null; NULL when there are
 * none (or no memory). The caller frees. */
static char *replace_nonfinite(const char *text, size_t n, size_t *out_n)
{
    size_t found = 0;
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = text[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (nonfinite_token(text + i, n - i)) {
            found++;
            i += nonfinite_token(text + i, n - i) - 1;
        }
    }
    if (!found) return NULL;
    char *out = malloc(n + found + 1); /* "NaN" -> "null" grows by one byte at most */
    if (!out) return NULL;
    size_t o = 0;
    in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = text[i];
        size_t t;
        if (in_str) {
            out[o++] = ch;
            if (ch == '\\' && i + 1 < n)
                out[o++] = text[++i];
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
            out[o++] = ch;
        } else if ((t = nonfinite_token(text + i, n - i)) != 0) {
            memcpy(out + o, "null", 4);
            o += 4;
            i += t - 1;
        } else {
            out[o++] = ch;
        }
    }
    out[o] = '\0';
    *out_n = o;
    return out;
}

/* Parses text; on failure *err describes the first error of the original text. */
static json_t *parse_text(json_ctx *c, const char *text, size_t n, json_error_t *err)
{
    c->nonfinite = 0;
    json_t *root = json_loadb(text, n, JSON_FLAGS, err);
    if (root) return root;
    size_t m = 0;
    char *fixed = replace_nonfinite(text, n, &m);
    if (!fixed) return NULL;
    json_error_t err2;
    root = json_loadb(fixed, m, JSON_FLAGS, &err2);
    free(fixed);
    if (root) {
        c->nonfinite = 1;
    } else {
        *err = err2;
    }
    return root;
}

/* ---------------------------------------------------------------------------------------------
 * Whole-file JSON. */

static int has_record_shape(const json_t *v)
{
    return json_is_object(v) && (json_object_get(v, "@class") || json_object_get(v, "structure") ||
                                 json_object_get(v, "lattice"));
}

/* {"structure": {"0": Structure, "1": ...}, "energy": {"0": ..}}: pandas' column orientation. */
static int is_dataframe(const json_t *root)
{
    const json_t *col = json_object_get(root, "structure");
    if (!json_is_object(col) || json_object_size(col) == 0 || is_structure(col)) return 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)col, key, v)
    {
        if (!is_structure(v)) return 0;
    }
    (void)key;
    return 1;
}

/* An object whose values are all objects, at least one shaped like a record. */
static int is_mapping(const json_t *root)
{
    if (json_object_get(root, "structure") || json_object_get(root, "lattice") ||
        json_object_get(root, "sites") || json_object_size(root) == 0)
        return 0;
    int any = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)root, key, v)
    {
        if (!json_is_object(v)) return 0;
        if (has_record_shape(v)) any = 1;
    }
    (void)key;
    return any;
}

static void read_dataframe(json_ctx *c, const json_t *root)
{
    const json_t *col = json_object_get(root, "structure");
    const char *row_key;
    json_t *unused;
    size_t index = 0;
    json_object_foreach((json_t *)col, row_key, unused)
    {
        if (c->stop) break;
        rec_info ri = {index, 0, -1, -1, 0, row_key};
        ms_status st = MS_SUCCESS;
        /* the row as its own document: {column: root[column][row_key]} (borrowed values) */
        json_t *row = json_object();
        const char *name;
        json_t *column;
        if (!row) st = ms_error_set(MS_ERR_NOMEM, "out of memory building row %s", row_key);
        json_object_foreach((json_t *)root, name, column)
        {
            if (!row) break;
            json_t *cell = json_is_object(column) ? json_object_get(column, row_key) : NULL;
            if (cell && json_object_set(row, name, cell) != 0) {
                st = ms_error_set(MS_ERR_NOMEM, "out of memory building row %s", row_key);
                break;
            }
        }
        ri.hash = row ? canonical_hash(row) : 0;
        emit(c, row, &ri, st);
        json_decref(row);
        index++;
    }
    (void)unused;
}

/* Finds the byte range [start, end) of each member value of the top-level array or object of
 * text (which jansson has already accepted), so records hash their own bytes. Returns the number
 * of members found, at most max. */
static size_t scan_members(const char *t, size_t n, size_t *start, size_t *end, size_t max)
{
    size_t i = 0, count = 0, s0 = 0, last = 0;
    while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
        i++;
    if (i >= n || (t[i] != '[' && t[i] != '{')) return 0;
    int is_obj = t[i] == '{', depth = 0, in_str = 0, open = 0;
    int want = !is_obj; /* the next token at depth 1 starts a value */
    for (; i < n; i++) {
        char ch = t[i];
        if (in_str) {
            if (ch == '\\') {
                i++;
            } else if (ch == '"') {
                in_str = 0;
                last = i;
            }
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') continue;
        if (depth == 1 && want) {
            if (ch != ']') {
                s0 = i;
                open = 1;
            }
            want = 0;
        }
        switch (ch) {
        case '"': in_str = 1; break;
        case '[':
        case '{': depth++; break;
        case ']':
        case '}':
            if (--depth == 0) {
                if (open && count < max) {
                    start[count] = s0;
                    end[count] = last + 1;
                }
                return count + (size_t)open;
            }
            break;
        case ',':
            if (depth == 1) {
                if (open && count < max) {
                    start[count] = s0;
                    end[count] = last + 1;
                }
                count += (size_t)open;
                open = 0;
                want = !is_obj;
            }
            break;
        case ':':
            if (depth == 1 && is_obj) want = 1;
            break;
        default: break;
        }
        last = i;
    }
    return 0;
}

/* Hashes of the members of root: their own bytes when the scan agrees with jansson on the count
 * (jansson keeps object members in file order), else their canonical serialisation. */
static ms_status member_hashes(const json_t *root, const char *text, size_t n, uint64_t **out)
{
    size_t m = json_is_array(root) ? json_array_size(root) : json_object_size(root);
    uint64_t *h = malloc((m ? m : 1) * sizeof *h);
    size_t *start = malloc((m ? m : 1) * sizeof *start);
    size_t *end = malloc((m ? m : 1) * sizeof *end);
    if (!h || !start || !end) {
        free(h);
        free(start);
        free(end);
        return ms_error_set(MS_ERR_NOMEM, "out of memory for %zu record hashes", m);
    }
    if (scan_members(text, n, start, end, m) == m) {
        for (size_t i = 0; i < m; i++)
            h[i] = ms_hash_bytes(text + start[i], end[i] - start[i]);
    } else if (json_is_array(root)) {
        for (size_t i = 0; i < m; i++)
            h[i] = canonical_hash(json_array_get(root, i));
    } else {
        const char *key;
        json_t *v;
        size_t i = 0;
        json_object_foreach((json_t *)root, key, v) h[i++] = canonical_hash(v);
        (void)key;
    }
    free(start);
    free(end);
    *out = h;
    return MS_SUCCESS;
}

static ms_status read_root(json_ctx *c, const json_t *root, const char *text, size_t n)
{
    uint64_t *hashes = NULL;
    if (json_is_array(root)) {
        MS_CALL(member_hashes(root, text, n, &hashes));
        for (size_t i = 0; i < json_array_size(root) && !c->stop; i++) {
            const json_t *rec = json_array_get(root, i);
            rec_info ri = {i, 0, -1, -1, hashes[i], NULL};
            emit(c, rec, &ri, MS_SUCCESS);
        }
        free(hashes);
        return MS_SUCCESS;
    }
    if (json_is_object(root) && is_dataframe(root)) {
        read_dataframe(c, root);
        return MS_SUCCESS;
    }
    if (json_is_object(root) && is_mapping(root)) {
        const char *key;
        json_t *rec;
        size_t index = 0;
        MS_CALL(member_hashes(root, text, n, &hashes));
        json_object_foreach((json_t *)root, key, rec)
        {
            if (c->stop) break;
            rec_info ri = {index, 0, -1, -1, hashes[index], key};
            index++;
            emit(c, rec, &ri, MS_SUCCESS);
        }
        free(hashes);
        return MS_SUCCESS;
    }
    rec_info ri = {0, 0, -1, -1, ms_hash_bytes(text, n), NULL};
    emit(c, root, &ri, MS_SUCCESS);
    return MS_SUCCESS;
}

/* Skips a UTF-8 byte order mark, which jansson rejects. */
static size_t bom_length(const char *data, size_t n)
{
    return (n >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
}

static void read_lines(json_ctx *c, const char *data, size_t n, long long base_offset,
                       size_t index, long line);

static ms_status read_json_text(json_ctx *c, const char *data, size_t n)
{
    size_t skip = bom_length(data, n);
    json_error_t err;
    json_t *root = parse_text(c, data + skip, n - skip, &err);
    if (!root) {
        /* Several values one per line is JSON Lines whatever the extension says. */
        if (json_error_code(&err) == json_error_end_of_input_expected) {
            const char *nl = memchr(data + skip, '\n', n - skip);
            json_error_t e1;
            json_t *first =
                nl ? json_loadb(data + skip, (size_t)(nl - data - skip), JSON_FLAGS, &e1) : NULL;
            if (first) {
                json_decref(first);
                read_lines(c, data, n, 0, 0, 0);
                return MS_SUCCESS;
            }
        }
        return ms_error_set(MS_ERR_PARSE, "%s:%d:%d: JSON parse error: %s", c->name, err.line,
                            err.column, err.text);
    }
    /* the byte scan works on the original text, NaN tokens included */
    ms_status st = read_root(c, root, data + skip, n - skip);
    json_decref(root);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * JSON Lines. */

static int blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') return 0;
    return 1;
}

/* Reads one line [offset, offset+len) as record index. */
static void read_line(json_ctx *c, const char *p, size_t len, long long offset, size_t index,
                      long line)
{
    rec_info ri = {index, line, offset, (long long)len, ms_hash_bytes(p, len), NULL};
    json_error_t err;
    const char *z = memchr(p, '\0', len);
    json_t *rec = z ? NULL : parse_text(c, p, len, &err);
    ms_status st = MS_SUCCESS;
    if (z)
        st =
            ms_error_set(MS_ERR_PARSE, "a NUL byte at byte offset %lld: binary data, not JSON text",
                         offset + (long long)(z - p));
    else if (!rec)
        st = ms_error_set(MS_ERR_PARSE, "column %d: JSON parse error: %s", err.column, err.text);
    emit(c, rec, &ri, st);
    json_decref(rec);
}

/* Trims a trailing "\r" and "\n" so the record's bytes are the JSON text alone. */
static size_t trim_eol(const char *p, size_t len)
{
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    return len;
}

/* The JSON Lines record rule, shared by the reader and ms_jsonl_count_records: a buffer's
 * leading byte order mark is skipped; a line is its bytes up to '\n' without the end-of-line
 * bytes; a blank line is no record. Moves *pos past the next line and returns its text. */
static const char *next_line(const char *data, size_t n, size_t *pos, size_t *len, int *is_record)
{
    if (*pos == 0) *pos = bom_length(data, n);
    const char *p = data + *pos;
    const char *nl = memchr(p, '\n', n - *pos);
    size_t raw = nl ? (size_t)(nl - p) + 1 : n - *pos;
    *len = trim_eol(p, raw);
    *is_record = !blank(p, *len);
    *pos += raw;
    return p;
}

/* Records are numbered from index and lines counted after line (0, 0 from the stream's start). */
static void read_lines(json_ctx *c, const char *data, size_t n, long long base_offset,
                       size_t index, long line)
{
    size_t pos = 0, len;
    int is_record;
    while (pos < n && !c->stop) {
        const char *p = next_line(data, n, &pos, &len, &is_record);
        line++;
        if (is_record) read_line(c, p, len, base_offset + (long long)(p - data), index++, line);
    }
}

size_t ms_jsonl_count_records(const char *data, size_t n, long *lines)
{
    size_t pos = 0, len, records = 0;
    int is_record;
    *lines = 0;
    while (pos < n) {
        next_line(data, n, &pos, &len, &is_record);
        records += (size_t)is_record;
        (*lines)++;
    }
    return records;
}

/* A JSON Lines file whose first bytes hold a NUL is binary and refused whole; a NUL further on
 * fails the line holding it (read_line). */
static ms_status open_checked(json_ctx *c, FILE **out, long long *size)
{
    MS_CALL(ms_open_regular(c->name, c->opt.max_file_bytes, out, size));
    ms_status st = ms_refuse_binary_head(*out, c->name, "JSON Lines");
    if (st != MS_SUCCESS) {
        fclose(*out);
        *out = NULL;
    }
    return st;
}

static ms_status slurp(json_ctx *c, char **out, size_t *n)
{
    return ms_read_text_file(c->name, c->opt.max_file_bytes, "JSON", out, n);
}

/* ---------------------------------------------------------------------------------------------
 * Public entry points. */

ms_status ms_json_read_file(const char *path, const ms_read_options *opt, ms_record_fn fn,
                            void *user)
{
    MS_CHECK(path && fn, MS_ERR_USAGE, "ms_json_read_file: path and callback are required");
    json_ctx c;
    ctx_init(&c, path, opt, fn, user);
    char *data = NULL;
    size_t n = 0;
    ms_status st = slurp(&c, &data, &n);
    if (st == MS_SUCCESS) st = read_json_text(&c, data, n);
    free(data);
    ms_structure_destroy(&c.s);
    return st;
}

/* Streams the file with getline so memory is bounded by the longest line, not the file. */
ms_status ms_jsonl_read_file(const char *path, const ms_read_options *opt, ms_record_fn fn,
                             void *user)
{
    MS_CHECK(path && fn, MS_ERR_USAGE, "ms_jsonl_read_file: path and callback are required");
    json_ctx c;
    ctx_init(&c, path, opt, fn, user);
    FILE *f;
    long long size;
    ms_status st = open_checked(&c, &f, &size);
    if (st != MS_SUCCESS) return st;
    char *line = NULL;
    size_t cap = 0, index = 0;
    long long offset = 0;
    long lineno = 0;
    ssize_t got;
    while (!c.stop && (got = getline(&line, &cap, f)) > 0) {
        const char *p = line;
        size_t len = (size_t)got;
        long long start = offset;
        offset += got;
        lineno++;
        if (lineno == 1 && bom_length(p, len)) {
            p += 3;
            len -= 3;
            start += 3;
        }
        len = trim_eol(p, len);
        if (!blank(p, len)) read_line(&c, p, len, start, index++, lineno);
    }
    if (!c.stop && ferror(f))
        st = ms_error_set(MS_ERR_IO, "%s: read error after line %ld", path, lineno);
    free(line);
    fclose(f);
    ms_structure_destroy(&c.s);
    return st;
}

/* Counts records (non-blank lines) and lines before offset, so that prov.index and the fallback
 * source id match what a full read gives. */
static ms_status count_before(json_ctx *c, FILE *f, long long offset, size_t *records, long *lines)
{
    char buf[65536];
    long long left = offset;
    int line_blank = 1;
    *records = 0;
    *lines = 0;
    while (left > 0) {
        size_t want = left < (long long)sizeof buf ? (size_t)left : sizeof buf;
        size_t got = fread(buf, 1, want, f);
        MS_CHECK(got == want, MS_ERR_IO, "%s: read error before offset %lld", c->name, offset);
        for (size_t i = 0; i < got; i++) {
            char ch = buf[i];
            if (ch == '\n') {
                if (!line_blank) (*records)++;
                (*lines)++;
                line_blank = 1;
            } else if (ch != ' ' && ch != '\t' && ch != '\r' &&
                       !(offset - left + (long long)i < 3 && (unsigned char)ch >= 0xBB)) {
                /* (a UTF-8 byte order mark at the start of the file counts as blank) */
                line_blank = 0;
            }
        }
        left -= (long long)got;
    }
    MS_CHECK(line_blank, MS_ERR_USAGE, "%s: offset %lld is not at the start of a line", c->name,
             offset);
    return MS_SUCCESS;
}

ms_status ms_jsonl_read_record(const char *path, long long offset, long long length,
                               const ms_read_options *opt, ms_record_fn fn, void *user)
{
    MS_CHECK(path && fn, MS_ERR_USAGE, "ms_jsonl_read_record: path and callback are required");
    json_ctx c;
    ctx_init(&c, path, opt, fn, user);
    FILE *f;
    long long size;
    MS_CALL(open_checked(&c, &f, &size));
    ms_status st = MS_SUCCESS;
    char *buf = NULL;
    size_t index = 0;
    long lines = 0;
    if (offset < 0 || length <= 0 || offset > size || length > size - offset) {
        st = ms_error_set(MS_ERR_USAGE,
                          "%s: byte range [%lld, +%lld) is outside the file (%lld "
                          "bytes)",
                          path, offset, length, size);
    }
    if (st == MS_SUCCESS) st = count_before(&c, f, offset, &index, &lines);
    if (st == MS_SUCCESS && fseeko(f, (off_t)offset, SEEK_SET) != 0)
        st = ms_error_set(MS_ERR_IO, "%s: cannot seek to %lld", path, offset);
    if (st == MS_SUCCESS && !(buf = malloc((size_t)length + 1)))
        st = ms_error_set(MS_ERR_NOMEM, "%s: cannot hold %lld bytes", path, length);
    if (st == MS_SUCCESS && fread(buf, 1, (size_t)length, f) != (size_t)length)
        st = ms_error_set(MS_ERR_IO, "%s: read error at %lld", path, offset);
    fclose(f);
    if (st == MS_SUCCESS) {
        size_t len = trim_eol(buf, (size_t)length);
        if (memchr(buf, '\n', len)) {
            st = ms_error_set(MS_ERR_USAGE, "%s: byte range [%lld, +%lld) spans more than one line",
                              path, offset, length);
        } else {
            read_line(&c, buf, len, offset, index, lines + 1);
        }
    }
    free(buf);
    ms_structure_destroy(&c.s);
    return st;
}

ms_status ms_json_read_buffer(const char *data, size_t n, const char *name, int lines,
                              const ms_read_options *opt, ms_record_fn fn, void *user)
{
    MS_CHECK((data || n == 0) && fn, MS_ERR_USAGE,
             "ms_json_read_buffer: data and callback are required");
    json_ctx c;
    ctx_init(&c, name, opt, fn, user);
    ms_status st = MS_SUCCESS;
    if (n > c.opt.max_file_bytes) {
        st = ms_error_set(MS_ERR_LIMIT, "%s: %zu bytes exceed the limit of %zu", c.name, n,
                          c.opt.max_file_bytes);
    } else if (lines) {
        read_lines(&c, data ? data : "", n, 0, 0, 0);
    } else if ((st = ms_refuse_binary(c.name, "JSON", data, n, 0)) == MS_SUCCESS) {
        st = read_json_text(&c, data ? data : "", n);
    }
    ms_structure_destroy(&c.s);
    return st;
}

ms_status ms_jsonl_read_buffer_from(const char *data, size_t n, const char *name,
                                    size_t first_index, long first_line,
                                    const ms_read_options *opt, ms_record_fn fn, void *user)
{
    MS_CHECK((data || n == 0) && fn, MS_ERR_USAGE,
             "ms_jsonl_read_buffer_from: data and callback are required");
    json_ctx c;
    ctx_init(&c, name, opt, fn, user);
    ms_status st = MS_SUCCESS;
    if (n > c.opt.max_file_bytes)
        st = ms_error_set(MS_ERR_LIMIT, "%s: %zu bytes exceed the limit of %zu", c.name, n,
                          c.opt.max_file_bytes);
    else
        read_lines(&c, data ? data : "", n, 0, first_index, first_line);
    ms_structure_destroy(&c.s);
    return st;
}
