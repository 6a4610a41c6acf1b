/*
 * matscreen quality -i INPUT... -o DIR: validation, symmetry, fingerprints and cross-source
 * de-duplication of every record, with outliers of density and volume per atom; writes
 * DIR/quality.json (counts per data-quality criterion and per check, duplicates, conflicts,
 * outliers) and DIR/quality.csv (one row per record), and prints a short summary.
 *
 * Order: inputs are enumerated with ms_source (directories recursively, sorted), the files are
 * sorted by path, and records keep their index within the file, so rows come out sorted by file
 * then record index and the output is the same on every run.
 *
 * Memory: one compact summary per record (about 100 bytes plus its strings: block, source id,
 * formula, first message, in one growing pool; a few hundred bytes in all), the de-duplicator's
 * per-record words and one conventional cell per distinct structure. Structures themselves are
 * not kept. Single process (Not collective): de-duplication needs every record in one place;
 * the MPI screen gathers compact summaries the same way.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "matscreen/outfile.h"
#include "matscreen/number.h"
#include "matscreen/array.h"
#include "matscreen/csv.h"
#include "matscreen/dedup.h"
#include "matscreen/element.h"
#include "matscreen/fingerprint.h"
#include "matscreen/matrix.h"
#include "matscreen/outliers.h"
#include "matscreen/reader.h"
#include "matscreen/source.h"
#include "matscreen/symmetry.h"
#include "matscreen/validate.h"

#define NONE ((size_t)-1)

typedef struct {
    size_t file, index;
    size_t block, source_id, formula, message, wyckoff; /* offsets into the string pool */
    ms_source_db db;
    int spacegroup;
    uint32_t failed;
    ms_severity worst;
    int has_fp, complete, outlier;
    uint64_t key;
    long bin;
    double volume_per_atom, density;
} record_summary;

typedef struct {
    char *pool;
    size_t n_pool, cap_pool;
    record_summary *rec;
    size_t n_rec, cap_rec;
    char **files;
    size_t n_files;
    size_t current_file;
    /* stage state */
    const ms_element_table *elements;
    ms_read_options read_opt;
    ms_validate_options vopt;
    ms_validate_workspace vws;
    ms_symmetry_options sopt;
    ms_symmetry_workspace sws;
    ms_symmetry sym;
    ms_dedup *dedup;
    size_t check_count[MS_CHECK_COUNT];
    size_t file_failures, sym_fallback;
    ms_status fatal;
} quality_state;

static size_t pool_add(quality_state *q, const char *s)
{
    size_t len = strlen(s) + 1;
    if (q->n_pool + len > q->cap_pool) {
        size_t cap = q->cap_pool ? q->cap_pool : 1 << 16;
        while (cap < q->n_pool + len) cap *= 2;
        char *p = realloc(q->pool, cap);
        if (!p) {
            q->fatal = MS_ERR_NOMEM;
            return 0;
        }
        q->pool = p;
        q->cap_pool = cap;
    }
    memcpy(q->pool + q->n_pool, s, len);
    q->n_pool += len;
    return q->n_pool - len;
}

static record_summary *new_record(quality_state *q)
{
    if (ms_array_reserve(&q->rec, &q->cap_rec, q->n_rec + 1, sizeof *q->rec, 1024) != MS_SUCCESS) {
        q->fatal = MS_ERR_NOMEM;
        return NULL;
    }
    record_summary *r = &q->rec[q->n_rec++];
    memset(r, 0, sizeof *r);
    r->file = q->current_file;
    r->spacegroup = 0;
    r->volume_per_atom = r->density = NAN;
    return r;
}

static void count_findings(quality_state *q, const ms_validation *v)
{
    for (size_t i = 0; i < v->n; i++) q->check_count[v->findings[i].check]++;
}

/* The message of the most severe finding (first of equals). */
static const char *worst_message(const ms_validation *v)
{
    const ms_finding *best = NULL;
    for (size_t i = 0; i < v->n; i++)
        if (!best || v->findings[i].severity > best->severity) best = &v->findings[i];
    return best ? best->message : "";
}

static int on_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    quality_state *q = user;
    record_summary *r = new_record(q);
    if (!r) return 1;
    size_t id = q->n_rec - 1;
    r->index = s->prov.index;
    r->block = pool_add(q, s->prov.block);
    r->db = s->prov.db;
    r->source_id = pool_add(q, s->prov.source_id);
    ms_validation v;
    if (status != MS_SUCCESS) {
        ms_validate_read_failure(status, message, &q->vopt, &v);
        r->formula = pool_add(q, "");
        r->wyckoff = pool_add(q, "");
    } else {
        ms_status st = ms_validate_structure(&q->vws, s, &q->vopt, &v);
        if (st != MS_SUCCESS) {
            q->fatal = st;
            return 1;
        }
        ms_composition comp;
        char formula[256] = "";
        ms_structure_composition(s, &comp);
        if (ms_composition_reduced_formula(&comp, q->elements, formula, sizeof formula) != MS_SUCCESS)
            formula[0] = '\0';
        r->formula = pool_add(q, formula);
        double atoms = ms_composition_total(&comp);
        r->volume_per_atom = atoms > 0 ? ms_structure_volume(s) / atoms : NAN;
        r->density = ms_structure_density(s, q->elements);
        r->complete = s->prov.db != MS_DB_UNKNOWN && s->prov.source_id[0] && s->formula_stated[0];
        const char *wy = "";
        ms_fingerprint fp;
        if (v.worst < MS_SEVERITY_ERROR) {
            st = ms_symmetry_analyze(&q->sws, s, &q->sopt, &q->sym);
            if (st == MS_SUCCESS) {
                r->spacegroup = q->sym.number;
                if (q->sym.ladder_index > 0) {
                    q->sym_fallback++;
                    ms_validation_add(&v, &q->vopt, MS_CHECK_SYMMETRY,
                                      "space group found only at fallback symprec %g A",
                                      q->sym.symprec);
                }
                if (ms_fingerprint_compute(s, &q->sym, q->elements, &fp) == MS_SUCCESS) {
                    r->has_fp = 1;
                    r->key = fp.key;
                    r->bin = fp.volume_bin;
                    wy = fp.wyckoff;
                }
            } else {
                ms_validation_add(&v, &q->vopt, MS_CHECK_SYMMETRY, "%s", ms_error_message());
            }
            ms_status ds = r->has_fp ? ms_dedup_add(q->dedup, id, &fp, &q->sym.conventional, s->prov.db, s, NULL)
                                     : ms_dedup_add_alone(q->dedup, id, s->prov.db, s, NULL);
            if (ds != MS_SUCCESS) {
                q->fatal = ds;
                return 1;
            }
        }
        r->wyckoff = pool_add(q, wy);
    }
    r->failed = v.failed;
    r->worst = v.worst;
    r->message = pool_add(q, worst_message(&v));
    count_findings(q, &v);
    return q->fatal != MS_SUCCESS;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- outputs ---- */

static void csv_field(FILE *f, const char *s, int last)
{
    ms_csv_write_field(f, s);
    fputc(last ? '\n' : ',', f);
}

static void checks_text(uint32_t failed, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int c = 0; c < MS_CHECK_COUNT; c++)
        if (failed & (1u << c))
            used += (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%s", used ? ";" : "",
                                     ms_check_get((ms_check_id)c)->name);
}

static ms_status write_csv(const quality_state *q, const char *path)
{
    ms_atomic_file *af = NULL; /* written beside and renamed (outfile.h) */
    MS_CALL(ms_atomic_open(path, &af));
    FILE *f = ms_atomic_stream(af);
    fputs("file,block,index,source,source_id,reduced_formula,spacegroup,checks_failed,severity,"
          "message,fingerprint,wyckoff,duplicate_group,group_size,representative,outlier\n",
          f);
    for (size_t i = 0; i < q->n_rec; i++) {
        const record_summary *r = &q->rec[i];
        char buf[256];
        csv_field(f, q->files[r->file], 0);
        csv_field(f, q->pool + r->block, 0);
        snprintf(buf, sizeof buf, "%zu", r->index);
        csv_field(f, buf, 0);
        csv_field(f, ms_source_db_name(r->db), 0);
        csv_field(f, q->pool + r->source_id, 0);
        csv_field(f, q->pool + r->formula, 0);
        if (r->spacegroup) snprintf(buf, sizeof buf, "%d", r->spacegroup);
        else buf[0] = '\0';
        csv_field(f, buf, 0);
        checks_text(r->failed, buf, sizeof buf);
        csv_field(f, buf, 0);
        csv_field(f, ms_severity_name(r->worst), 0);
        csv_field(f, q->pool + r->message, 0);
        if (r->has_fp) snprintf(buf, sizeof buf, "%016llx-%ld", (unsigned long long)r->key, r->bin);
        else buf[0] = '\0';
        csv_field(f, buf, 0);
        csv_field(f, q->pool + r->wyckoff, 0);
        size_t g = ms_dedup_group_of(q->dedup, i);
        if (g != MS_DEDUP_NONE) {
            snprintf(buf, sizeof buf, "%zu", g);
            csv_field(f, buf, 0);
            snprintf(buf, sizeof buf, "%zu", ms_dedup_group_size(q->dedup, g));
            csv_field(f, buf, 0);
            csv_field(f, ms_dedup_representative(q->dedup, g) == i ? "1" : "0", 0);
        } else {
            csv_field(f, "", 0);
            csv_field(f, "", 0);
            csv_field(f, "0", 0);
        }
        csv_field(f, r->outlier ? "1" : "0", 1);
    }
    return ms_atomic_commit(&af);
}

static json_t *criterion(size_t passed, size_t failed, const char *definition)
{
    json_t *o = json_object();
    json_object_set_new(o, "passed", json_integer((json_int_t)passed));
    json_object_set_new(o, "failed", json_integer((json_int_t)failed));
    json_object_set_new(o, "definition", json_string(definition));
    return o;
}

#define BIT(c) (1u << (c))
static const uint32_t validity_mask = BIT(MS_CHECK_READ) | BIT(MS_CHECK_VOLUME) |
                                      BIT(MS_CHECK_FINITE) | BIT(MS_CHECK_OCCUPANCY) |
                                      BIT(MS_CHECK_UNKNOWN_ELEMENT) | BIT(MS_CHECK_TOO_MANY_ATOMS) |
                                      BIT(MS_CHECK_LI_MISSING);
static const uint32_t accuracy_mask = BIT(MS_CHECK_CLOSE_ATOMS) | BIT(MS_CHECK_CHARGE_BALANCE);
static const uint32_t consistency_mask = BIT(MS_CHECK_FORMULA) | BIT(MS_CHECK_SYMMETRY);

typedef struct {
    size_t records, refused, flagged, clean, validity, accuracy, consistency, complete, in_conflict;
    size_t groups, dup_groups, merged, outliers;
} totals;

static ms_status write_json(const quality_state *q, const char *path, const totals *t,
                            const ms_outlier_summary os[2], const char *trust)
{
    json_t *root = json_object();
    json_object_set_new(root, "records", json_integer((json_int_t)t->records));
    json_object_set_new(root, "files", json_integer((json_int_t)q->n_files));
    json_object_set_new(root, "files_unreadable", json_integer((json_int_t)q->file_failures));
    json_object_set_new(root, "screened", json_integer((json_int_t)(t->records - t->refused)));
    json_object_set_new(root, "refused", json_integer((json_int_t)t->refused));
    json_object_set_new(root, "flagged", json_integer((json_int_t)t->flagged));
    json_object_set_new(root, "clean", json_integer((json_int_t)t->clean));
    json_t *c = json_object();
    json_object_set_new(c, "validity",
                        criterion(t->records - t->validity, t->validity,
                                  "read, finite, non-zero volume, occupancy <= 1 + tol, known "
                                  "elements, within the atom limit, Li present when expected"));
    json_object_set_new(c, "accuracy",
                        criterion(t->records - t->accuracy, t->accuracy,
                                  "no atoms too close, charge balance possible, density and volume "
                                  "per atom not robust-z outliers"));
    json_object_set_new(c, "consistency",
                        criterion(t->records - t->consistency, t->consistency,
                                  "sites agree with the stated formula, symmetry at the requested "
                                  "tolerance, no property conflict with duplicates from other "
                                  "records"));
    json_object_set_new(c, "completeness",
                        criterion(t->complete, t->records - t->complete,
                                  "source database, source id and stated formula present"));
    json_t *tl = json_object();
    json_object_set_new(tl, "passed", json_null());
    json_object_set_new(tl, "failed", json_null());
    json_object_set_new(tl, "definition",
                        json_string("not measured: the readers keep no dates (CIF "
                                    "_audit_creation_date, MP last_updated), so record age is "
                                    "unknown here"));
    json_object_set_new(c, "timeliness", tl);
    json_t *u = json_object();
    json_object_set_new(u, "unique_structures", json_integer((json_int_t)t->groups));
    json_object_set_new(u, "duplicates_merged", json_integer((json_int_t)t->merged));
    json_object_set_new(u, "groups_with_duplicates", json_integer((json_int_t)t->dup_groups));
    json_object_set_new(u, "definition",
                        json_string("screened records grouped by fingerprint and precise cell "
                                    "comparison; one representative per group by trust order"));
    json_object_set_new(c, "uniqueness", u);
    json_object_set_new(root, "criteria", c);
    json_t *checks = json_object();
    for (int i = 0; i < MS_CHECK_COUNT; i++) {
        const ms_check_info *info = ms_check_get((ms_check_id)i);
        json_t *o = json_object();
        json_object_set_new(o, "severity", json_string(ms_severity_name(q->vopt.severity[i])));
        json_object_set_new(o, "failed", json_integer((json_int_t)q->check_count[i]));
        json_object_set_new(o, "description", json_string(info->description));
        json_object_set_new(checks, info->name, o);
    }
    json_object_set_new(root, "checks", checks);
    json_t *dup = json_object();
    json_object_set_new(dup, "groups", json_integer((json_int_t)t->groups));
    json_object_set_new(dup, "merged", json_integer((json_int_t)t->merged));
    json_object_set_new(dup, "comparisons", json_integer((json_int_t)ms_dedup_comparisons(q->dedup)));
    json_object_set_new(dup, "trust", json_string(trust));
    json_object_set_new(root, "duplicates", dup);
    json_t *conf = json_array();
    for (size_t i = 0; i < ms_dedup_conflict_count(q->dedup); i++) {
        const ms_dedup_conflict *k = ms_dedup_conflict_get(q->dedup, i);
        json_t *o = json_object();
        json_object_set_new(o, "group", json_integer((json_int_t)k->group));
        json_object_set_new(o, "property", json_string(k->name));
        json_object_set_new(o, "min", json_real(k->min));
        json_object_set_new(o, "max", json_real(k->max));
        json_object_set_new(o, "values", json_integer((json_int_t)k->n_values));
        const record_summary *a = &q->rec[k->record_min], *b = &q->rec[k->record_max];
        char ra[512], rb[512];
        snprintf(ra, sizeof ra, "%s#%zu", q->files[a->file], a->index);
        snprintf(rb, sizeof rb, "%s#%zu", q->files[b->file], b->index);
        json_object_set_new(o, "record_min", json_string(ra));
        json_object_set_new(o, "record_max", json_string(rb));
        json_array_append_new(conf, o);
    }
    json_object_set_new(root, "n_conflicts", json_integer((json_int_t)json_array_size(conf)));
    json_object_set_new(root, "conflicts", conf);
    json_t *out = json_object();
    static const char *const names[2] = {"density", "volume_per_atom"};
    for (int i = 0; i < 2; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "method", json_string("robust z-score, |z| > 3.5, z = (x - median) / (1.4826 MAD)"));
        json_object_set_new(o, "values", json_integer((json_int_t)os[i].n_valid));
        json_object_set_new(o, "median", json_real(isnan(os[i].median) ? 0 : os[i].median));
        json_object_set_new(o, "mad", json_real(isnan(os[i].mad) ? 0 : os[i].mad));
        json_object_set_new(o, "outliers", json_integer((json_int_t)os[i].n_outliers));
        json_object_set_new(out, names[i], o);
    }
    json_object_set_new(root, "outliers", out);
    json_t *opt = json_object();
    json_object_set_new(opt, "symprec", json_real(q->sopt.symprec[0]));
    json_object_set_new(opt, "expect_li", json_boolean(q->vopt.expect_li));
    json_object_set_new(opt, "max_atoms", json_integer((json_int_t)q->vopt.max_atoms));
    json_object_set_new(root, "options", opt);
    ms_atomic_file *af = NULL; /* written beside and renamed (outfile.h) */
    ms_status st = ms_atomic_open(path, &af);
    if (st == MS_SUCCESS)
        json_dumpf(root, ms_atomic_stream(af),
                   JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    return st == MS_SUCCESS ? ms_atomic_commit(&af) : st;
}

static void quality_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen quality -i INPUT... -o DIR [--trust ICSD,COD,MP] [--expect-li]\n"
            "                         [--symprec A] [--max-atoms N]\n\n"
            "Validates every structure record of the inputs (files, directories, globs, @lists),\n"
            "finds its space group and fingerprint, groups duplicates across sources and picks a\n"
            "representative by the trust order. Writes DIR/quality.json (counts per data-quality\n"
            "criterion: validity, accuracy, consistency, completeness, timeliness, uniqueness; per\n"
            "check; duplicates, conflicts, outliers) and DIR/quality.csv (one row per record), and\n"
            "prints a summary. See docs/quality.md.\n\n"
            "  -i, --input INPUT   input file or directory (repeatable; trailing arguments too)\n"
            "  -o, --output DIR    output directory (created)\n"
            "  --trust LIST        trust order of source databases (default ICSD,COD,MP)\n"
            "  --expect-li         structures without a Li site are errors (li_missing)\n"
            "  --symprec A         requested symmetry tolerance in A (default 0.01)\n"
            "  --max-atoms N       sites per structure (default 2000)\n\n"
            MS_CLI_EXIT_HELP "Here failed records are those refused (unreadable, or a validation error);\n"
            "warnings are findings, not failures.\n");
}

static ms_status run(quality_state *q, const char *const *inputs, size_t n_inputs)
{
    ms_source *src = NULL;
    ms_source_options so;
    ms_source_options_default(&so);
    so.chunk_bytes = 0; /* whole files: records keep their index within the file */
    MS_CALL(ms_source_create(inputs, n_inputs, &so, &src));
    ms_task *task = malloc(sizeof *task);
    size_t cap = 0;
    ms_status st = task ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "quality: out of memory");
    while (st == MS_SUCCESS && ms_source_next(src, task)) {
        if (task->status != MS_SUCCESS) {
            fprintf(stderr, "matscreen quality: %s\n", task->reason);
            q->file_failures++;
            continue;
        }
        if (ms_array_reserve(&q->files, &cap, q->n_files + 1, sizeof *q->files, 256) !=
            MS_SUCCESS) {
            st = ms_error_set(MS_ERR_NOMEM, "quality: out of memory");
            break;
        }
        q->files[q->n_files] = strdup(task->path);
        if (!q->files[q->n_files]) st = ms_error_set(MS_ERR_NOMEM, "quality: out of memory");
        else q->n_files++;
    }
    free(task);
    ms_source_free(src);
    MS_CALL(st);
    qsort(q->files, q->n_files, sizeof *q->files, cmp_str);
    for (size_t i = 0; i < q->n_files; i++) {
        if (i > 0 && strcmp(q->files[i], q->files[i - 1]) == 0) continue; /* named twice */
        q->current_file = i;
        ms_error_clear();
        ms_status rs = ms_read_file(q->files[i], MS_FORMAT_AUTO, &q->read_opt, on_record, q);
        if (q->fatal != MS_SUCCESS) return q->fatal;
        if (rs != MS_SUCCESS) {
            fprintf(stderr, "matscreen quality: %s\n", ms_error_message());
            q->file_failures++;
        }
    }
    return ms_dedup_finish(q->dedup);
}

/* Outliers of density and volume per atom over the screened records (robust z-score). */
static ms_status flag_outliers(quality_state *q, ms_outlier_summary os[2])
{
    ms_matrix m = {0};
    double *work = NULL;
    unsigned char *flags = NULL;
    ms_status st = ms_matrix_alloc(&m, q->n_rec ? q->n_rec : 1, 2);
    if (st == MS_SUCCESS) {
        work = malloc((q->n_rec + 1) * sizeof *work);
        flags = calloc(q->n_rec + 1, 1);
        if (!work || !flags) st = ms_error_set(MS_ERR_NOMEM, "quality: out of memory");
    }
    for (size_t i = 0; st == MS_SUCCESS && i < m.rows; i++) {
        int ok = i < q->n_rec && q->rec[i].worst < MS_SEVERITY_ERROR;
        MS_AT(&m, i, 0) = ok ? q->rec[i].density : NAN;
        MS_AT(&m, i, 1) = ok ? q->rec[i].volume_per_atom : NAN;
    }
    for (size_t col = 0; st == MS_SUCCESS && col < 2; col++) {
        st = ms_outliers_robust_z(&m, col, MS_OUTLIER_ROBUST_Z, work, flags, &os[col]);
        for (size_t i = 0; st == MS_SUCCESS && i < q->n_rec; i++) q->rec[i].outlier |= flags[i];
    }
    ms_matrix_free(&m);
    free(work);
    free(flags);
    return st;
}

/* The per-criterion counts of quality.json and of the printed summary. */
static ms_status count_totals(const quality_state *q, totals *t)
{
    ms_status st = MS_SUCCESS;
    /* records of a group with a conflict */
    unsigned char *conflicted = calloc(ms_dedup_group_count(q->dedup) + 1, 1);
    if (!conflicted) st = ms_error_set(MS_ERR_NOMEM, "quality: out of memory");
    for (size_t i = 0; conflicted && i < ms_dedup_conflict_count(q->dedup); i++)
        conflicted[ms_dedup_conflict_get(q->dedup, i)->group] = 1;
    t->records = q->n_rec;
    t->groups = ms_dedup_group_count(q->dedup);
    for (size_t g = 0; g < t->groups; g++) t->dup_groups += ms_dedup_group_size(q->dedup, g) > 1;
    for (size_t i = 0; conflicted && i < q->n_rec; i++) {
        const record_summary *r = &q->rec[i];
        t->refused += r->worst == MS_SEVERITY_ERROR;
        t->flagged += r->worst == MS_SEVERITY_WARNING;
        t->clean += r->worst == MS_SEVERITY_NONE;
        t->validity += (r->failed & validity_mask) != 0;
        t->accuracy += (r->failed & accuracy_mask) != 0 || r->outlier;
        size_t g = ms_dedup_group_of(q->dedup, i);
        int inc = g != MS_DEDUP_NONE && conflicted[g];
        t->in_conflict += (size_t)inc;
        t->consistency += (r->failed & consistency_mask) != 0 || inc;
        t->complete += (size_t)r->complete;
        t->outliers += (size_t)r->outlier;
    }
    t->merged = (t->records - t->refused) - t->groups;
    free(conflicted);
    return st;
}

/* The summary on standard output. */
static void print_summary(const quality_state *q, const totals *t, double secs, const char *outdir)
{
    printf("quality: %zu records in %zu files (%.1f s)\n", t->records, q->n_files, secs);
    printf("  screened %zu (clean %zu, flagged %zu), refused %zu\n", t->records - t->refused,
           t->clean, t->flagged, t->refused);
    printf("  validity %zu failed, accuracy %zu, consistency %zu, incomplete %zu, "
           "timeliness not measured\n",
           t->validity, t->accuracy, t->consistency, t->records - t->complete);
    printf("  uniqueness: %zu unique structures, %zu duplicates merged in %zu groups, "
           "%zu conflicts\n",
           t->groups, t->merged, t->dup_groups, ms_dedup_conflict_count(q->dedup));
    printf("  checks:");
    for (int i = 0; i < MS_CHECK_COUNT; i++)
        if (q->check_count[i])
            printf(" %s %zu", ms_check_get((ms_check_id)i)->name, q->check_count[i]);
    printf("\n  wrote %s/quality.json and %s/quality.csv\n", outdir, outdir);
}

int ms_cmd_quality(int argc, char **argv)
{
    static const struct option longopts[] = {{"input", required_argument, NULL, 'i'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"trust", required_argument, NULL, 't'},
                                             {"expect-li", no_argument, NULL, 'L'},
                                             {"symprec", required_argument, NULL, 's'},
                                             {"max-atoms", required_argument, NULL, 'm'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    quality_state q;
    memset(&q, 0, sizeof q);
    ms_validate_options_default(&q.vopt);
    ms_symmetry_options_default(&q.sopt);
    q.sopt.use_oxidation = 0; /* "Fe2+" in a CIF and "Fe" in a JSON are one structure */
    ms_read_options_default(&q.read_opt);
    ms_dedup_options dopt;
    ms_dedup_options_default(&dopt);
    const char *trust = "ICSD,COD,MP", *outdir = NULL;
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    size_t n_inputs = 0;
    if (!inputs) return 2;
    int c, usage = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i': inputs[n_inputs++] = optarg; break;
        case 'o': outdir = optarg; break;
        case 't': trust = optarg; break;
        case 'L': q.vopt.expect_li = 1; break;
        case 's': {
            double v = 0;
            double ladder[MS_SYMMETRY_LADDER_MAX];
            size_t n = 0;
            ms_status st = ms_parse_double("--symprec", optarg, 1e-12, 10, &v);
            ladder[n++] = v;
            for (size_t k = 0; k < q.sopt.n_symprec && n < MS_SYMMETRY_LADDER_MAX; k++)
                if (q.sopt.symprec[k] != v) ladder[n++] = q.sopt.symprec[k];
            if (st == MS_SUCCESS) st = ms_symmetry_options_set_ladder(&q.sopt, ladder, n);
            if (st != MS_SUCCESS) {
                fprintf(stderr, "matscreen quality: %s\n", ms_error_message());
                usage = 1;
            }
            break;
        }
        case 'm':
            if (ms_parse_size("--max-atoms", optarg, 1, 100000000, &q.vopt.max_atoms) !=
                MS_SUCCESS) {
                fprintf(stderr, "matscreen quality: %s\n", ms_error_message());
                usage = 1;
            }
            break;
        case 'h': quality_usage(stdout); free(inputs); return 0;
        default: usage = 1; break;
        }
    }
    for (int i = optind; i < argc; i++) inputs[n_inputs++] = argv[i];
    if (!usage && ms_dedup_options_set_trust(&dopt, trust) != MS_SUCCESS) {
        fprintf(stderr, "matscreen quality: %s\n", ms_error_message());
        usage = 1;
    }
    if (usage || n_inputs == 0 || !outdir) {
        quality_usage(stderr);
        free(inputs);
        return 2;
    }
    int missing = 0;
    for (size_t i = 0; i < n_inputs; i++) missing |= ms_cli_input_missing("quality", inputs[i]);
    if (missing) {
        free(inputs);
        return 2;
    }
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "matscreen quality: cannot create %s: %s\n", outdir, strerror(errno));
        free(inputs);
        return 2;
    }
    ms_element_table *elements = NULL;
    int rc = 2;
    ms_status st = ms_element_table_load_default(&elements);
    if (st == MS_SUCCESS) {
        q.elements = elements;
        q.vopt.elements = elements;
        q.sopt.elements = elements;
        st = ms_validate_workspace_init(&q.vws);
    }
    ms_symmetry_workspace_init(&q.sws);
    ms_symmetry_init(&q.sym);
    if (st == MS_SUCCESS) st = ms_dedup_create(&dopt, &q.dedup);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (st == MS_SUCCESS) st = run(&q, inputs, n_inputs);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    totals t = {0};
    ms_outlier_summary os[2];
    memset(os, 0, sizeof os);
    if (st == MS_SUCCESS) st = flag_outliers(&q, os);
    if (st == MS_SUCCESS) st = count_totals(&q, &t);
    char path[4096];
    if (st == MS_SUCCESS) {
        snprintf(path, sizeof path, "%s/quality.csv", outdir);
        st = write_csv(&q, path);
    }
    if (st == MS_SUCCESS) {
        snprintf(path, sizeof path, "%s/quality.json", outdir);
        st = write_json(&q, path, &t, os, trust);
    }
    if (st == MS_SUCCESS) {
        double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        print_summary(&q, &t, secs, outdir);
        rc = ms_cli_status(t.records + q.file_failures, t.refused + q.file_failures);
        ms_cli_summary("quality", t.records + q.file_failures, t.refused + q.file_failures, secs,
                       "failed = refused records and unreadable files");
    } else {
        fprintf(stderr, "matscreen quality: %s\n", ms_error_message());
    }
    ms_dedup_free(q.dedup);
    ms_symmetry_destroy(&q.sym);
    ms_symmetry_workspace_destroy(&q.sws);
    ms_validate_workspace_destroy(&q.vws);
    ms_element_table_free(elements);
    for (size_t i = 0; i < q.n_files; i++) free(q.files[i]);
    free(q.files);
    free(q.rec);
    free(q.pool);
    free(inputs);
    return rc;
}
