/* Labelled datasets: labels read from a Matbench JSON or a CSV, featurised; see dataset.h. */
#include "matscreen/file_read.h"
#include "matscreen/dataset.h"

#include <errno.h>
#include <sys/stat.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/array.h"
#include "matscreen/composition.h"
#include "matscreen/hash.h"
#include "matscreen/csv.h"
#include "matscreen/descriptor.h"
#include "matscreen/featurize.h"
#include "matscreen/reader.h"

void ms_dataset_spec_default(ms_dataset_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->formula_column = "formula";
    spec->set = "magpie";
    spec->threshold = NAN;
}

void ms_dataset_free(ms_dataset *d)
{
    ms_matrix_free(&d->x);
    for (size_t i = 0; d->ids && i < d->n; i++) free(d->ids[i]);
    for (size_t i = 0; d->chemsys && i < d->n; i++) free(d->chemsys[i]);
    for (size_t i = 0; d->formula && i < d->n; i++) free(d->formula[i]);
    for (size_t i = 0; d->group && i < d->n; i++) free(d->group[i]);
    free(d->chemsys);
    free(d->formula);
    free(d->group);
    for (size_t j = 0; d->feature_names && j < d->n_features; j++) free(d->feature_names[j]);
    free(d->ids);
    free(d->feature_names);
    free(d->y);
    free(d->target);
    free(d->elements);
    free(d->source_row);
    memset(d, 0, sizeof *d);
}

int ms_dataset_has_element(const ms_dataset *d, size_t i, int z)
{
    if (!d->elements || i >= d->n || z < 1 || z > MS_MAX_Z) return 0;
    return (int)((d->elements[2 * i + (size_t)(z - 1) / 64] >> ((z - 1) % 64)) & 1);
}

uint64_t ms_dataset_chemical_system(const ms_dataset *d, size_t i)
{
    if (!d->elements || i >= d->n) return 0;
    return ms_hash_update(MS_HASH_INIT, d->elements + 2 * i, 2 * sizeof *d->elements);
}

/* A row before featurisation. */
typedef struct raw_row {
    char *id, *what; /* formula or structure path */
    char *group;     /* value of the group column, or NULL */
    double target;
    size_t line;     /* line of the CSV (record number for Matbench JSON), for messages */
} raw_row;

typedef struct raw_rows {
    raw_row *r;
    size_t n, cap;
} raw_rows;

static char *dup(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

static ms_status push_row(raw_rows *rows, const char *id, const char *what, const char *group,
                          double target, size_t line)
{
    if (ms_array_reserve(&rows->r, &rows->cap, rows->n + 1, sizeof *rows->r, 1024) != MS_SUCCESS)
        return ms_error_set(MS_ERR_NOMEM, "dataset: out of memory");
    raw_row *r = &rows->r[rows->n];
    r->id = dup(id);
    r->what = dup(what);
    r->group = group ? dup(group) : NULL;
    r->target = target;
    r->line = line;
    MS_CHECK(r->id && r->what && (!group || r->group), MS_ERR_NOMEM, "dataset: out of memory");
    rows->n++;
    return MS_SUCCESS;
}

static void rows_free(raw_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        free(rows->r[i].id);
        free(rows->r[i].what);
        free(rows->r[i].group);
    }
    free(rows->r);
}

static double json_target(const json_t *v)
{
    if (json_is_boolean(v)) return json_is_true(v) ? 1 : 0;
    if (json_is_number(v)) return json_number_value(v);
    return NAN;
}

static ms_status read_matbench(const ms_dataset_spec *spec, raw_rows *rows, char *target_name,
                               size_t tn)
{
    json_error_t err;
    FILE *f;
    MS_CALL(ms_open_regular(spec->path, 0, &f, NULL));
    json_t *root = json_loadf(f, 0, &err);
    fclose(f);
    MS_CHECK(root, MS_ERR_PARSE, "%s:%d: %s", spec->path, err.line, err.text);
    ms_status st = MS_SUCCESS;
    json_t *ids = json_object_get(root, "mbid"), *comp = json_object_get(root, "composition");
    const char *tname = spec->target;
    if (!tname) {
        const char *key;
        json_t *val;
        json_object_foreach(root, key, val) tname = key; /* the last column */
    }
    json_t *tgt = tname ? json_object_get(root, tname) : NULL;
    if (!json_is_object(ids) || !json_is_object(comp) || !json_is_object(tgt))
        st = ms_error_set(MS_ERR_PARSE,
                          "%s: not a Matbench composition task (need mbid, composition, %s)",
                          spec->path, tname ? tname : "target");
    if (st == MS_SUCCESS) snprintf(target_name, tn, "%s", tname);
    size_t n = st == MS_SUCCESS ? json_object_size(ids) : 0;
    for (size_t i = 0; st == MS_SUCCESS && i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "%zu", i);
        json_t *id = json_object_get(ids, key), *c = json_object_get(comp, key);
        json_t *t = json_object_get(tgt, key);
        if (!json_is_string(id) || !json_is_string(c) || !t) {
            st = ms_error_set(MS_ERR_PARSE, "%s: row %zu is incomplete", spec->path, i);
            break;
        }
        st = push_row(rows, json_string_value(id), json_string_value(c), NULL, json_target(t), i);
        if (spec->max_rows && rows->n >= spec->max_rows) break;
    }
    json_decref(root);
    return st;
}

static ms_status read_csv(const ms_dataset_spec *spec, raw_rows *rows, char *target_name, size_t tn)
{
    FILE *f;
    MS_CALL(ms_open_regular(spec->path, 0, &f, NULL));
    char *line = NULL;
    size_t cap = 0;
    char *fields[256];
    ms_status st = MS_SUCCESS;
    int tcol = -1, wcol = -1, icol = -1, gcol = -1;
    size_t lineno = 0;
    int structure = spec->source == MS_DATASET_STRUCTURE_CSV;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        int nf = ms_csv_split(line, fields, 256);
        if (lineno == 1) {
            tcol = spec->target ? ms_csv_column(fields, nf, spec->target) : nf - 1;
            const char *wname = structure ? (spec->id_column ? spec->id_column : "ID")
                                          : spec->formula_column;
            wcol = ms_csv_column(fields, nf, wname);
            icol = spec->id_column ? ms_csv_column(fields, nf, spec->id_column) : -1;
            gcol = spec->group_column ? ms_csv_column(fields, nf, spec->group_column) : -1;
            if (spec->group_column && gcol < 0) {
                st = ms_error_set(MS_ERR_NOT_FOUND,
                                  "%s: no column '%s' to group by (--group column:NAME names a "
                                  "column of the labels file)",
                                  spec->path, spec->group_column);
                break;
            }
            if (tcol < 0 || wcol < 0) {
                st = ms_error_set(MS_ERR_NOT_FOUND, "%s: no column '%s'", spec->path,
                                  tcol < 0 ? (spec->target ? spec->target : "") : wname);
                break;
            }
            snprintf(target_name, tn, "%s", fields[tcol]);
            continue;
        }
        if (tcol >= nf || wcol >= nf) continue;
        char *end;
        double t = strtod(fields[tcol], &end);
        if (end == fields[tcol]) t = NAN;
        char idbuf[32];
        snprintf(idbuf, sizeof idbuf, "%zu", lineno - 1);
        const char *id = icol >= 0 && icol < nf ? fields[icol] : idbuf;
        const char *grp = gcol < 0 ? NULL : gcol < nf ? fields[gcol] : "";
        if (structure) {
            /* DIR/<id>.cif (OBELiX ids), or DIR/<id> when the id names the file itself
             * (perov5's "file" column holds "perov5-1.cif"). */
            const char *dir = spec->structure_dir ? spec->structure_dir : ".";
            char path[4096];
            struct stat sb;
            snprintf(path, sizeof path, "%s/%s", dir, fields[wcol]);
            if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
                snprintf(path, sizeof path, "%s/%s.cif", dir, fields[wcol]);
            st = push_row(rows, id, path, grp, t, lineno);
        } else {
            st = push_row(rows, id, fields[wcol], grp, t, lineno);
        }
        if (st != MS_SUCCESS || (spec->max_rows && rows->n >= spec->max_rows)) break;
    }
    free(line);
    fclose(f);
    return st;
}

typedef struct first_structure {
    ms_structure_featurizer *sf;
    ms_featurizer *fz; /* composition-only sets: featurise the structure's composition */
    double *row;
    ms_composition *comp; /* receives the structure's composition */
    int done;
    ms_status st;
} first_structure;

static int on_structure(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    first_structure *fs = user;
    if (fs->done) return 1;
    fs->done = 1;
    fs->st = status;
    if (status == MS_SUCCESS) ms_structure_composition(s, fs->comp);
    if (status == MS_SUCCESS && fs->sf)
        fs->st = ms_structure_featurizer_compute(fs->sf, s, fs->row, NULL);
    if (status == MS_SUCCESS && fs->fz)
        fs->st = ms_featurizer_compute_composition(fs->fz, fs->comp, fs->row, NULL);
    return 1;
}

static int cmp_symbol(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The chemical system ("La-Li-O-Zr": symbols sorted alphabetically, as pymatgen's
 * Composition.chemical_system) and reduced formula of c, new strings in *chemsys, *formula. */
static ms_status group_keys(const ms_composition *c, const ms_element_table *table, char **chemsys,
                            char **formula)
{
    const char *sym[MS_MAX_Z];
    int n = 0;
    for (int k = 0; k < c->n; k++)
        if (c->amount[c->z[k]] > MS_COMPOSITION_TOL) sym[n++] = ms_element_symbol(c->z[k]);
    qsort(sym, (size_t)n, sizeof *sym, cmp_symbol);
    char buf[4 * MS_MAX_Z + 8] = "";
    for (int k = 0; k < n; k++) {
        if (k) strcat(buf, "-");
        strcat(buf, sym[k]);
    }
    char f[1024];
    if (ms_composition_reduced_formula(c, table, f, sizeof f) != MS_SUCCESS) snprintf(f, sizeof f, "%s", buf);
    *chemsys = dup(buf);
    *formula = dup(f);
    MS_CHECK(*chemsys && *formula, MS_ERR_NOMEM, "dataset: out of memory");
    return MS_SUCCESS;
}

/* Counts a dropped row and keeps the reason of the first one, so that a loader that drops every
 * row (a wrong id column, a directory without the files) says why instead of only how many. */
const char *ms_dataset_drop_reason_name(ms_dataset_drop_reason r)
{
    static const char *const names[MS_DATASET_DROP_COUNT] = {
        "target empty or not a number", "target <= 0 under log10",
        "structure file missing or unreadable", "structure or formula could not be read"};
    return (unsigned)r < MS_DATASET_DROP_COUNT ? names[r] : "?";
}

void ms_dataset_drop_summary(const ms_dataset *d, char *out, size_t n)
{
    size_t k = 0;
    if (n) out[0] = 0;
    for (int i = 0; i < MS_DATASET_DROP_COUNT && k < n; i++)
        if (d->n_dropped_by[i])
            k += (size_t)snprintf(out + k, n - k, "%s%zu %s", k ? ", " : "", d->n_dropped_by[i],
                                  ms_dataset_drop_reason_name((ms_dataset_drop_reason)i));
}

static void note_drop(ms_dataset *d, const ms_dataset_spec *spec, const raw_row *r,
                      ms_dataset_drop_reason reason, const char *why)
{
    d->n_dropped_by[reason]++;
    if (!d->n_dropped++) d->first_dropped_line = r->line;
    if (d->n_dropped == 1)
        snprintf(d->first_dropped, sizeof d->first_dropped, "%s:%zu (%s): %s", spec->path, r->line,
                 r->id, why && *why ? why : "unreadable");
}

static ms_status check_rows(const ms_dataset_spec *spec, ms_dataset *d)
{
    d->x.rows = d->n;
    if (d->n < 2)
        return ms_error_set(MS_ERR_INVALID, "%s: fewer than 2 usable rows (%zu dropped%s%s)",
                            spec->path, d->n_dropped, d->n_dropped ? "; first: " : "",
                            d->first_dropped);
    return MS_SUCCESS;
}

ms_status ms_dataset_load(const ms_dataset_spec *spec, const ms_element_table *table, ms_dataset *d)
{
    return ms_dataset_load_part(spec, table, 0, 1, d);
}

ms_status ms_dataset_load_part(const ms_dataset_spec *spec, const ms_element_table *table,
                               size_t part, size_t n_parts, ms_dataset *d)
{
    memset(d, 0, sizeof *d);
    const ms_descriptor_set *set;
    MS_CALL(ms_descriptor_set_lookup(spec->set ? spec->set : "magpie", &set));
    raw_rows rows = {0};
    ms_status st = spec->source == MS_DATASET_MATBENCH
                       ? read_matbench(spec, &rows, d->target_name, sizeof d->target_name)
                       : read_csv(spec, &rows, d->target_name, sizeof d->target_name);
    ms_featurizer *fz = NULL;
    ms_structure_featurizer *sf = NULL;
    if (st == MS_SUCCESS) {
        if (spec->source == MS_DATASET_STRUCTURE_CSV && strcmp(set->name, "magpie") != 0 &&
            strcmp(set->name, "composition") != 0)
            st = ms_structure_featurizer_create(set, table, NULL, &sf);
        else
            st = ms_featurizer_create(set, table, &fz);
    }
    size_t p = 0;
    if (st == MS_SUCCESS) {
        p = sf ? ms_structure_featurizer_n_features(sf) : ms_featurizer_n_features(fz);
        d->n_features = p;
        snprintf(d->set_name, sizeof d->set_name, "%s", set->name);
        d->set_version = set->version;
        st = ms_descriptor_set_signature(set, d->set_signature, sizeof d->set_signature);
    }
    if (st == MS_SUCCESS) {
        d->feature_names = calloc(p + 1, sizeof *d->feature_names);
        if (!d->feature_names) st = ms_error_set(MS_ERR_NOMEM, "dataset: out of memory");
        for (size_t j = 0; st == MS_SUCCESS && j < p; j++) {
            d->feature_names[j] = dup(sf ? ms_structure_featurizer_feature_name(sf, j)
                                         : ms_featurizer_feature_name(fz, j));
            if (!d->feature_names[j]) st = ms_error_set(MS_ERR_NOMEM, "dataset: out of memory");
        }
    }
    if (st == MS_SUCCESS) st = ms_matrix_alloc(&d->x, rows.n ? rows.n : 1, p);
    if (st == MS_SUCCESS) {
        d->y = malloc((rows.n + 1) * sizeof *d->y);
        d->target = malloc((rows.n + 1) * sizeof *d->target);
        d->ids = calloc(rows.n + 1, sizeof *d->ids);
        d->chemsys = calloc(rows.n + 1, sizeof *d->chemsys);
        d->formula = calloc(rows.n + 1, sizeof *d->formula);
        if (spec->group_column) d->group = calloc(rows.n + 1, sizeof *d->group);
        d->elements = calloc(2 * (rows.n + 1), sizeof *d->elements);
        if (n_parts > 1) d->source_row = calloc(rows.n + 1, sizeof *d->source_row);
        if (!d->y || !d->target || !d->ids || !d->chemsys || !d->formula || !d->elements ||
            (n_parts > 1 && !d->source_row) ||
            (spec->group_column && !d->group))
            st = ms_error_set(MS_ERR_NOMEM, "dataset: out of memory");
    }
    d->classification = !isnan(spec->threshold);
    for (size_t i = 0; st == MS_SUCCESS && i < rows.n; i++) {
        if (n_parts > 1 && i % n_parts != part) continue;
        raw_row *r = &rows.r[i];
        double t = r->target, y = t;
        if (!isfinite(t) || (spec->log10_target && !(t > 0))) {
            note_drop(d, spec, r,
                      isfinite(t) ? MS_DATASET_DROP_NOT_POSITIVE : MS_DATASET_DROP_NO_TARGET,
                      isfinite(t) ? "log10 of a target that is not positive"
                                  : "target is empty or not a number");
            continue;
        }
        if (spec->log10_target) y = log10(t);
        if (d->classification) y = (spec->log10_target ? y >= log10(spec->threshold) : t >= spec->threshold) ? 1 : 0;
        double *row = d->x.data + d->n * p;
        ms_status rs;
        ms_composition c;
        ms_composition_clear(&c);
        if (spec->source == MS_DATASET_STRUCTURE_CSV) {
            first_structure fs = {sf, sf ? NULL : fz, row, &c, 0, MS_ERR_NO_STRUCTURE};
            rs = ms_read_file(r->what, MS_FORMAT_AUTO, NULL, on_structure, &fs);
            if (rs == MS_SUCCESS) rs = fs.st;
        } else {
            rs = ms_composition_parse(r->what, &c);
            if (rs == MS_SUCCESS) rs = ms_featurizer_compute_composition(fz, &c, row, NULL);
        }
        if (rs != MS_SUCCESS) {
            note_drop(d, spec, r,
                      (rs == MS_ERR_IO || rs == MS_ERR_NOT_FOUND) ? MS_DATASET_DROP_NO_FILE : MS_DATASET_DROP_UNREADABLE,
                      ms_error_message());
            continue;
        }
        for (int z = 1; z <= MS_MAX_Z; z++)
            if (c.amount[z] > MS_COMPOSITION_TOL)
                d->elements[2 * d->n + (size_t)(z - 1) / 64] |= 1ULL << ((z - 1) % 64);
        st = group_keys(&c, table, &d->chemsys[d->n], &d->formula[d->n]);
        if (st != MS_SUCCESS) break;
        if (d->group) {
            d->group[d->n] = r->group;
            r->group = NULL;
        }
        d->y[d->n] = y;
        d->target[d->n] = t;
        d->ids[d->n] = r->id;
        r->id = NULL;
        if (d->source_row) d->source_row[d->n] = i;
        d->n++;
    }
    /* Matbench booleans are labels already */
    if (st == MS_SUCCESS && !d->classification && spec->source == MS_DATASET_MATBENCH) {
        int all01 = d->n > 0;
        for (size_t i = 0; i < d->n && all01; i++) all01 = d->y[i] == 0 || d->y[i] == 1;
        d->classification = all01;
    }
    if (st == MS_SUCCESS) d->x.rows = d->n;
    if (st == MS_SUCCESS && n_parts <= 1) st = check_rows(spec, d);
    ms_featurizer_destroy(&fz);
    ms_structure_featurizer_destroy(&sf);
    rows_free(&rows);
    if (st != MS_SUCCESS) ms_dataset_free(d);
    return st;
}

/* Moves row k of part src to row i of d. */
static void move_row(ms_dataset *d, size_t i, ms_dataset *src, size_t k)
{
    size_t p = d->n_features;
    if (p) memcpy(d->x.data + i * p, src->x.data + k * p, p * sizeof *d->x.data);
    d->y[i] = src->y[k];
    d->target[i] = src->target[k];
    d->ids[i] = src->ids[k];
    d->chemsys[i] = src->chemsys[k];
    d->formula[i] = src->formula[k];
    src->ids[k] = src->chemsys[k] = src->formula[k] = NULL;
    if (d->group) {
        d->group[i] = src->group ? src->group[k] : NULL;
        if (src->group) src->group[k] = NULL;
    }
    d->elements[2 * i] = src->elements[2 * k];
    d->elements[2 * i + 1] = src->elements[2 * k + 1];
}

ms_status ms_dataset_merge_parts(const ms_dataset_spec *spec, ms_dataset *parts, size_t n_parts,
                                 ms_dataset *out)
{
    memset(out, 0, sizeof *out);
    MS_CHECK(n_parts > 0, MS_ERR_USAGE, "ms_dataset_merge_parts: no parts");
    ms_dataset *a = &parts[0];
    size_t n = 0, p = a->n_features, first = SIZE_MAX;
    for (size_t r = 0; r < n_parts; r++) {
        n += parts[r].n;
        out->n_dropped += parts[r].n_dropped;
        for (int k = 0; k < MS_DATASET_DROP_COUNT; k++) out->n_dropped_by[k] += parts[r].n_dropped_by[k];
        if (parts[r].n_dropped && parts[r].first_dropped_line < first) {
            first = parts[r].first_dropped_line;
            out->first_dropped_line = first;
            memcpy(out->first_dropped, parts[r].first_dropped, sizeof out->first_dropped);
        }
    }
    out->n_features = p;
    out->feature_names = a->feature_names;
    a->feature_names = NULL;
    memcpy(out->set_name, a->set_name, sizeof out->set_name);
    out->set_version = a->set_version;
    memcpy(out->set_signature, a->set_signature, sizeof out->set_signature);
    memcpy(out->target_name, a->target_name, sizeof out->target_name);
    out->classification = a->classification;
    ms_status st = ms_matrix_alloc(&out->x, n ? n : 1, p);
    out->y = malloc((n + 1) * sizeof *out->y);
    out->target = malloc((n + 1) * sizeof *out->target);
    out->ids = calloc(n + 1, sizeof *out->ids);
    out->chemsys = calloc(n + 1, sizeof *out->chemsys);
    out->formula = calloc(n + 1, sizeof *out->formula);
    if (spec->group_column) out->group = calloc(n + 1, sizeof *out->group);
    out->elements = calloc(2 * (n + 1), sizeof *out->elements);
    size_t *at = calloc(n_parts, sizeof *at);
    if (st == MS_SUCCESS && (!out->y || !out->target || !out->ids || !out->chemsys ||
                             !out->formula || !out->elements || !at ||
                             (spec->group_column && !out->group)))
        st = ms_error_set(MS_ERR_NOMEM, "dataset: out of memory");
    /* Each part holds its rows in file order: take the smallest next source row. */
    for (size_t i = 0; st == MS_SUCCESS && i < n; i++) {
        size_t best = n_parts;
        for (size_t r = 0; r < n_parts; r++)
            if (at[r] < parts[r].n && (best == n_parts || parts[r].source_row[at[r]] <
                                                              parts[best].source_row[at[best]]))
                best = r;
        move_row(out, i, &parts[best], at[best]++);
        out->n = i + 1;
    }
    free(at);
    if (st == MS_SUCCESS) st = check_rows(spec, out);
    if (st != MS_SUCCESS) ms_dataset_free(out);
    return st;
}

/* ---- packing (for broadcasting a data set that rank 0 loaded) --------------------------------
 * Layout: u64 magic, n, n_features, n_dropped, classification, set_version; the fixed strings
 * set_name, set_signature, first_dropped, target_name; x (n * n_features doubles), y, target
 * (n doubles each); then n ids and n_features names, each u64 length + bytes; then n chemsys
 * and n formula strings, u64 1 or 0 (a group column or not) and with 1 n group strings. Then 2n u64 element sets (bit z - 1: element z). Same machine
 * representation on every rank (one cluster, one build). */

#define PACK_MAGIC 0x4d53445334ULL /* "MSDS4": the group keys, the drop counts by reason and
                                      the element sets */

typedef struct packer {
    unsigned char *p; /* NULL: only count */
    size_t n;
} packer;

static void put(packer *k, const void *data, size_t len)
{
    if (k->p) memcpy(k->p + k->n, data, len);
    k->n += len;
}

static void put_string(packer *k, const char *s)
{
    uint64_t len = strlen(s);
    put(k, &len, sizeof len);
    put(k, s, (size_t)len);
}

static void pack_into(const ms_dataset *d, packer *k)
{
    uint64_t head[6] = {PACK_MAGIC, d->n, d->n_features, d->n_dropped,
                        (uint64_t)d->classification, (uint64_t)d->set_version};
    put(k, head, sizeof head);
    put(k, d->set_name, sizeof d->set_name);
    put(k, d->set_signature, sizeof d->set_signature);
    put(k, d->first_dropped, sizeof d->first_dropped);
    put(k, d->n_dropped_by, sizeof d->n_dropped_by);
    put(k, d->target_name, sizeof d->target_name);
    put(k, d->x.data, d->n * d->n_features * sizeof *d->x.data);
    put(k, d->y, d->n * sizeof *d->y);
    put(k, d->target, d->n * sizeof *d->target);
    put(k, d->elements, 2 * d->n * sizeof *d->elements);
    for (size_t i = 0; i < d->n; i++) put_string(k, d->ids[i]);
    for (size_t j = 0; j < d->n_features; j++) put_string(k, d->feature_names[j]);
    for (size_t i = 0; i < d->n; i++) put_string(k, d->chemsys[i]);
    for (size_t i = 0; i < d->n; i++) put_string(k, d->formula[i]);
    uint64_t has_group = d->group != NULL;
    put(k, &has_group, sizeof has_group);
    for (size_t i = 0; has_group && i < d->n; i++) put_string(k, d->group[i]);
}


ms_status ms_dataset_pack(const ms_dataset *d, void **buf, size_t *n)
{
    *buf = NULL;
    *n = 0;
    packer count = {NULL, 0};
    pack_into(d, &count);
    packer k = {malloc(count.n), 0};
    MS_CHECK(k.p, MS_ERR_NOMEM, "packing a data set of %zu bytes", count.n);
    pack_into(d, &k);
    *buf = k.p;
    *n = k.n;
    return MS_SUCCESS;
}

typedef struct unpacker {
    const unsigned char *p;
    size_t n, at;
} unpacker;

static int get(unpacker *u, void *out, size_t len)
{
    if (len > u->n - u->at) return 0;
    memcpy(out, u->p + u->at, len);
    u->at += len;
    return 1;
}

static char *get_string(unpacker *u)
{
    uint64_t len;
    if (!get(u, &len, sizeof len) || len > u->n - u->at) return NULL;
    char *s = malloc((size_t)len + 1);
    if (!s) return NULL;
    memcpy(s, u->p + u->at, (size_t)len);
    s[len] = '\0';
    u->at += (size_t)len;
    return s;
}

/* n strings into a new array *out (calloc'd so that a failure leaves it freeable). */
static ms_status get_strings(unpacker *u, size_t n, const char *what, char ***out)
{
    *out = calloc(n + 1, sizeof **out);
    MS_CHECK(*out, MS_ERR_NOMEM, "unpacking %zu %s", n, what);
    for (size_t i = 0; i < n; i++)
        MS_CHECK((*out)[i] = get_string(u), MS_ERR_INVALID, "packed data set: bad %s %zu", what, i);
    return MS_SUCCESS;
}

ms_status ms_dataset_unpack(const void *buf, size_t n, ms_dataset *d)
{
    memset(d, 0, sizeof *d);
    unpacker u = {buf, n, 0};
    uint64_t head[6];
    MS_CHECK(get(&u, head, sizeof head) && head[0] == PACK_MAGIC, MS_ERR_INVALID,
             "not a packed data set");
    size_t rows = (size_t)head[1], p = (size_t)head[2];
    /* every row and feature takes at least 8 bytes: bounds the allocations by n */
    MS_CHECK(rows <= n / 8 && p <= n / 8 && (p == 0 || rows <= n / 8 / p), MS_ERR_INVALID,
             "packed data set: %zu x %zu does not fit %zu bytes", rows, p, n);
    d->n = rows;
    d->n_features = p;
    d->n_dropped = (size_t)head[3];
    d->classification = (int)head[4];
    d->set_version = (int)head[5];
    ms_status st = MS_SUCCESS;
    if (!get(&u, d->set_name, sizeof d->set_name) ||
        !get(&u, d->set_signature, sizeof d->set_signature) ||
        !get(&u, d->first_dropped, sizeof d->first_dropped) ||
        !get(&u, d->n_dropped_by, sizeof d->n_dropped_by) ||
        !get(&u, d->target_name, sizeof d->target_name))
        st = ms_error_set(MS_ERR_INVALID, "packed data set: truncated header");
    if (st == MS_SUCCESS) st = ms_matrix_alloc(&d->x, rows, p);
    if (st == MS_SUCCESS) {
        d->y = malloc((rows + 1) * sizeof *d->y);
        d->target = malloc((rows + 1) * sizeof *d->target);
        d->ids = calloc(rows + 1, sizeof *d->ids);
        d->elements = calloc(2 * (rows + 1), sizeof *d->elements);
        d->feature_names = calloc(p + 1, sizeof *d->feature_names);
        if (!d->y || !d->target || !d->ids || !d->elements || !d->feature_names)
            st = ms_error_set(MS_ERR_NOMEM, "unpacking a data set of %zu rows", rows);
    }
    if (st == MS_SUCCESS && (!get(&u, d->x.data, rows * p * sizeof *d->x.data) ||
                             !get(&u, d->y, rows * sizeof *d->y) ||
                             !get(&u, d->target, rows * sizeof *d->target) ||
                             !get(&u, d->elements, 2 * rows * sizeof *d->elements)))
        st = ms_error_set(MS_ERR_INVALID, "packed data set: truncated values");
    for (size_t i = 0; st == MS_SUCCESS && i < rows; i++)
        if (!(d->ids[i] = get_string(&u)))
            st = ms_error_set(MS_ERR_INVALID, "packed data set: bad row id %zu", i);
    for (size_t j = 0; st == MS_SUCCESS && j < p; j++)
        if (!(d->feature_names[j] = get_string(&u)))
            st = ms_error_set(MS_ERR_INVALID, "packed data set: bad feature name %zu", j);
    if (st == MS_SUCCESS) st = get_strings(&u, rows, "chemical system", &d->chemsys);
    if (st == MS_SUCCESS) st = get_strings(&u, rows, "formula", &d->formula);
    uint64_t has_group = 0;
    if (st == MS_SUCCESS && !get(&u, &has_group, sizeof has_group))
        st = ms_error_set(MS_ERR_INVALID, "packed data set: truncated group flag");
    if (st == MS_SUCCESS && has_group) st = get_strings(&u, rows, "group", &d->group);
    if (st == MS_SUCCESS && u.at != n)
        st = ms_error_set(MS_ERR_INVALID, "packed data set: %zu bytes left over", n - u.at);
    if (st != MS_SUCCESS) ms_dataset_free(d);
    return st;
}
