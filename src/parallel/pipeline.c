/*
 * Worker-side processing of one task: read the records, run the registered stages, produce one
 * result per record. See pipeline.h.
 */
#include "matscreen/crash.h"
#include "matscreen/file_read.h"
#include "matscreen/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/array.h"
#include "matscreen/composition.h"
#include "matscreen/hash.h"
#include "matscreen/json_reader.h"

static const char *const stage_names[MS_STAGE_COUNT] = {
    "read", "validate", "symmetry", "fingerprint", "features", "models", "score", "quarantine", "done"};

static const char *const rank_names[MS_RANK_COUNT] = {
    "li_fraction", "density", "volume", "volume_per_atom", "n_sites", "n_atoms"};

const char *ms_stage_name(ms_stage stage)
{
    return (stage >= 0 && stage < MS_STAGE_COUNT) ? stage_names[stage] : "unknown";
}

const char *ms_rank_by_name(ms_rank_by r)
{
    return (r >= 0 && r < MS_RANK_COUNT) ? rank_names[r] : "unknown";
}

int ms_rank_by_from_name(const char *name)
{
    for (int i = 0; i < MS_RANK_COUNT; i++)
        if (name && strcmp(name, rank_names[i]) == 0) return i;
    return -1;
}

double ms_result_quantity(const ms_result *r, ms_rank_by which)
{
    switch (which) {
    case MS_RANK_LI_FRACTION: return r->li_fraction;
    case MS_RANK_DENSITY: return r->density;
    case MS_RANK_VOLUME: return r->volume;
    case MS_RANK_VOLUME_PER_ATOM: return r->volume_per_atom;
    case MS_RANK_N_SITES: return r->status == MS_SUCCESS ? (double)r->n_sites : NAN;
    case MS_RANK_N_ATOMS: return r->n_atoms;
    default: return NAN;
    }
}

void ms_result_clear(ms_result *r)
{
    memset(r, 0, offsetof(ms_result, formula));
    r->offset = -1;
    r->length = -1;
    r->stage = MS_STAGE_DONE;
    r->n_atoms = r->volume = r->density = r->volume_per_atom = r->li_fraction = NAN;
    r->class_prob = r->mean = r->sigma = r->acquisition = r->score = NAN;
    r->warnings = 0;
    r->fp_volume = NAN;
    for (size_t i = 0; i < MS_RESULT_N_PROPS; i++) r->props[i] = NAN;
    r->domain_score = NAN;
    r->in_domain = -1;
    r->rank_tier = 0;
    r->formula[0] = r->source_id[0] = r->block[0] = r->reason[0] = r->file[0] = '\0';
    r->domain_reason[0] = '\0';
    r->explain[0] = '\0';
}

/* ---- stages that exist today ------------------------------------------------------------- */

/* Physical sanity beyond what ms_structure_finish checks: a cell with atoms and a plausible
 * volume per atom (below 1 Å^3 atoms overlap; above 10^4 Å^3 the "crystal" is mostly vacuum). */
static ms_status stage_validate(const ms_pipeline *p, const ms_stage_entry *self,
                                const ms_structure *s, ms_result *r)
{
    (void)p;
    (void)self;
    (void)r;
    ms_composition c;
    ms_structure_composition(s, &c);
    double n = ms_composition_total(&c), v = ms_structure_volume(s);
    MS_CHECK(isfinite(n) && n > MS_COMPOSITION_TOL, MS_ERR_INVALID, "the cell holds no atoms");
    MS_CHECK(isfinite(v) && v > 0, MS_ERR_INVALID, "cell volume %g A^3 is not positive", v);
    MS_CHECK(v / n >= 1.0, MS_ERR_INVALID,
             "volume per atom %.4g A^3 is below 1 A^3: atoms overlap", v / n);
    MS_CHECK(v / n <= 1e4, MS_ERR_INVALID, "volume per atom %.4g A^3 is above 10^4 A^3", v / n);
    return MS_SUCCESS;
}

/* Placeholder fingerprint until src/quality provides one: the reader's content hash (per record
 * for JSON Lines, per file for other formats, so mixed with the record index). Only byte-identical
 * records merge; a structural fingerprint replaces this stage later. */
static ms_status stage_fingerprint(const ms_pipeline *p, const ms_stage_entry *self,
                                   const ms_structure *s, ms_result *r)
{
    (void)p;
    (void)self;
    (void)s;
    uint64_t h = ms_hash_update(MS_HASH_INIT, &r->content_hash, sizeof r->content_hash);
    if (r->format != MS_FORMAT_JSONL) h = ms_hash_update(h, &r->index, sizeof r->index);
    r->dedup_key = h;
    return MS_SUCCESS;
}

static const char *const prop_names[MS_RESULT_N_PROPS] = {
    "formation_energy_per_atom", "energy_above_hull", "band_gap"};

const char *ms_result_prop_name(size_t i) { return i < MS_RESULT_N_PROPS ? prop_names[i] : ""; }

void ms_pipeline_clear_stages(ms_pipeline *p)
{
    if (p) p->n_stages = 0;
}

static ms_status stage_features(const ms_pipeline *p, const ms_stage_entry *self,
                                const ms_structure *s, ms_result *r)
{
    (void)self;
    return ms_result_describe(p, s, r);
}

ms_status ms_result_describe(const ms_pipeline *p, const ms_structure *s, ms_result *r)
{
    for (size_t i = 0; i < MS_RESULT_N_PROPS; i++) {
        r->props[i] = NAN;
        for (size_t k = 0; k < s->n_props; k++)
            if (strcmp(s->props[k].name, prop_names[i]) == 0) r->props[i] = s->props[k].value;
    }
    ms_composition c;
    ms_structure_composition(s, &c);
    double n = ms_composition_total(&c);
    MS_CALL(ms_composition_reduced_formula(&c, p->elements, r->formula, sizeof r->formula));
    r->n_sites = (uint32_t)s->n_sites;
    r->n_atoms = n;
    r->volume = ms_structure_volume(s);
    r->density = ms_structure_density(s, p->elements);
    r->volume_per_atom = r->volume / n;
    r->li_fraction = c.amount[3] / n;
    MS_CHECK(isfinite(r->density), MS_ERR_INVALID, "density is not finite (unknown atomic mass?)");
    if (!ms_structure_is_ordered(s)) r->flags |= MS_FLAG_DISORDERED;
    if (c.amount[3] > MS_COMPOSITION_TOL) r->flags |= MS_FLAG_HAS_LI;
    return MS_SUCCESS;
}

/* Until models exist the score is the --rank-by quantity, negated for --ascending, so that the
 * ranking is always "larger score first". */
static ms_status stage_score(const ms_pipeline *p, const ms_stage_entry *self, const ms_structure *s,
                             ms_result *r)
{
    (void)self;
    (void)s;
    double q = ms_result_quantity(r, p->rank_by);
    MS_CHECK(isfinite(q), MS_ERR_INVALID, "%s is not a finite number", ms_rank_by_name(p->rank_by));
    r->score = p->ascending ? -q : q;
    if (r->score == 0) r->score = 0.0; /* no "-0" in the output */
    return MS_SUCCESS;
}

ms_status ms_pipeline_add_stage(ms_pipeline *p, ms_stage stage, const char *name, ms_stage_fn fn,
                                void *ctx)
{
    MS_CHECK(p && fn, MS_ERR_USAGE, "ms_pipeline_add_stage: pipeline and function are required");
    MS_CHECK(p->n_stages < MS_STAGE_COUNT, MS_ERR_LIMIT, "too many pipeline stages");
    p->stages[p->n_stages++] = (ms_stage_entry){stage, name, fn, ctx};
    return MS_SUCCESS;
}

ms_status ms_pipeline_init(ms_pipeline *p, const ms_element_table *elements, ms_rank_by rank_by,
                           int ascending, uint64_t seed)
{
    MS_CHECK(p && elements, MS_ERR_USAGE, "ms_pipeline_init: pipeline and elements are required");
    MS_CHECK(rank_by >= 0 && rank_by < MS_RANK_COUNT, MS_ERR_USAGE, "unknown rank-by quantity");
    memset(p, 0, sizeof *p);
    p->elements = elements;
    ms_read_options_default(&p->read_opt);
    p->rank_by = rank_by;
    p->ascending = ascending;
    p->seed = seed;
    const char *crash = getenv("MATSCREEN_TEST_CRASH_ON");
    if (crash) snprintf(p->test_crash_on, sizeof p->test_crash_on, "%s", crash);
    p->test_crash_offset = -1;
    char *at = strrchr(p->test_crash_on, '@');
    if (at && at[1]) {
        p->test_crash_offset = strtoll(at + 1, NULL, 10);
        *at = '\0';
    }
    MS_CALL(ms_pipeline_add_stage(p, MS_STAGE_VALIDATE, "validate", stage_validate, NULL));
    MS_CALL(ms_pipeline_add_stage(p, MS_STAGE_FINGERPRINT, "fingerprint", stage_fingerprint, NULL));
    MS_CALL(ms_pipeline_add_stage(p, MS_STAGE_FEATURES, "features", stage_features, NULL));
    MS_CALL(ms_pipeline_add_stage(p, MS_STAGE_SCORE, "score", stage_score, NULL));
    return MS_SUCCESS;
}

void ms_pipeline_destroy(ms_pipeline *p)
{
    if (!p) return;
    if (p->crash_watching) ms_crash_unwatch();
    p->crash_watching = 0;
    p->n_stages = 0;
}

void ms_pipeline_run_structure(ms_pipeline *p, const ms_structure *s, ms_result *r)
{
    for (size_t i = 0; i < p->n_stages; i++) {
        const ms_stage_entry *e = &p->stages[i];
        ms_error_clear();
        ms_status st = e->fn(p, e, s, r);
        if (st != MS_SUCCESS) {
            r->status = st;
            r->stage = e->stage;
            snprintf(r->reason, sizeof r->reason, "%s", ms_error_message()[0] ? ms_error_message()
                                                                               : ms_strerror(st));
            r->score = NAN;
            return;
        }
    }
    r->status = MS_SUCCESS;
    r->stage = MS_STAGE_DONE;
}

typedef struct {
    ms_pipeline *p;
    const ms_task *task;
    ms_result *r;
    ms_result_fn fn;
    void *user;
    long long base;      /* byte offset of a JSONL chunk buffer in its file */
    size_t produced;
    size_t n_held;       /* results waiting in p->held (p->hold_max > 0) */
    int stop;
} run_ctx;

/* Where the next result is made: the caller's scratch, or the next held slot. */
static ms_result *next_slot(run_ctx *c)
{
    return c->p->hold_max ? &c->p->held[c->n_held] : c->r;
}

/* Completes the held results (hold_fn) and emits them in order. */
static void release_held(run_ctx *c)
{
    ms_pipeline *p = c->p;
    if (c->n_held && p->hold_fn) p->hold_fn(p->held, c->n_held, p->hold_ctx);
    for (size_t i = 0; i < c->n_held && !c->stop; i++) {
        c->produced++;
        if (c->fn(&p->held[i], c->user) != 0) c->stop = 1;
    }
    c->n_held = 0;
}

/* The result just made in next_slot(c) is done: emitted now, or held until the hold is full. */
static void emit(run_ctx *c)
{
    if (c->p->hold_max) {
        if (++c->n_held == c->p->hold_max) release_held(c);
        return;
    }
    c->produced++;
    if (c->fn(c->r, c->user) != 0) c->stop = 1;
}

static void result_from_task(ms_result *r, const ms_task *t)
{
    ms_result_clear(r);
    r->task_seq = t->seq;
    r->input = t->input;
    r->format = (int32_t)t->format;
    snprintf(r->file, sizeof r->file, "%s", t->path);
}

static int on_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    run_ctx *c = user;
    ms_result *r = next_slot(c);
    result_from_task(r, c->task);
    if (s) {
        r->offset = s->prov.offset >= 0 ? s->prov.offset + c->base : -1;
        r->length = s->prov.length;
        r->index = s->prov.index;
        r->db = (int32_t)s->prov.db;
        r->content_hash = s->prov.content_hash;
        snprintf(r->source_id, sizeof r->source_id, "%s", s->prov.source_id);
        snprintf(r->block, sizeof r->block, "%s", s->prov.block);
        if (s->warnings[0]) r->flags |= MS_FLAG_WARNINGS;
    }
    if (c->p->test_crash_offset >= 0 && r->offset == c->p->test_crash_offset) {
        const char *base = strrchr(c->task->path, '/');
        if (strcmp(base ? base + 1 : c->task->path, c->p->test_crash_on) == 0) {
            fprintf(stderr, "matscreen: MATSCREEN_TEST_CRASH_ON=%s@%lld: aborting (test hook)\n",
                    c->p->test_crash_on, r->offset);
            abort();
        }
    }
    if (status != MS_SUCCESS) {
        r->status = status;
        r->stage = MS_STAGE_READ;
        snprintf(r->reason, sizeof r->reason, "%s", message && message[0] ? message
                                                                          : ms_strerror(status));
    } else {
        ms_pipeline_run_structure(c->p, s, r);
    }
    emit(c);
    return c->stop;
}

void ms_result_task_failure(ms_result *r, const ms_task *task, ms_stage stage, ms_status status,
                            const char *reason)
{
    result_from_task(r, task);
    r->status = status;
    r->stage = stage;
    r->index = 0;
    r->offset = task->length >= 0 ? task->offset : -1;
    snprintf(r->reason, sizeof r->reason, "%s", reason && reason[0] ? reason : ms_strerror(status));
}

static void file_failure(run_ctx *c, ms_status st, const char *reason)
{
    ms_result *r = next_slot(c);
    size_t index = c->produced + c->n_held;
    result_from_task(r, c->task);
    r->status = st;
    r->stage = MS_STAGE_READ;
    r->index = index;
    r->offset = c->task->length >= 0 ? c->task->offset : -1;
    snprintf(r->reason, sizeof r->reason, "%s", reason && reason[0] ? reason : ms_strerror(st));
    emit(c);
}

/* Seeks f to the first line that starts at or after byte offset (the line that began before it
 * belongs to the previous range) and returns that line's start in *line_start. */
static ms_status seek_line(FILE *f, const char *path, long long offset, long long *line_start)
{
    long long pos = offset > 0 ? offset - 1 : 0;
    MS_CHECK(fseeko(f, (off_t)pos, SEEK_SET) == 0, MS_ERR_IO, "%s: seek", path);
    if (offset > 0) {
        int ch;
        while ((ch = fgetc(f)) != EOF && ch != '\n') pos++;
        pos++;
    }
    *line_start = pos;
    return MS_SUCCESS;
}

/* A part of a split range (farm.c) numbers its records as the whole range does: counts, by the
 * reader's own rule (ms_jsonl_count_records), the lines and records between the range's first
 * line and part_start, where part_start begins a line. */
static ms_status count_part_lines(FILE *f, const ms_task *t, long long part_start, size_t *records,
                                  long *lines)
{
    long long from;
    MS_CALL(seek_line(f, t->path, t->offset - t->range_skip, &from));
    MS_CHECK(from <= part_start, MS_ERR_IO, "%s: a part of a range at byte %lld does not start a line",
             t->path, part_start);
    size_t n = (size_t)(part_start - from);
    char *buf = malloc(n ? n : 1);
    MS_CHECK(buf, MS_ERR_NOMEM, "%s: cannot hold %zu bytes before a part of a range", t->path, n);
    int ok = fread(buf, 1, n, f) == n && (n == 0 || buf[n - 1] == '\n');
    if (ok) *records = ms_jsonl_count_records(buf, n, lines);
    free(buf);
    MS_CHECK(ok, MS_ERR_IO, "%s: a part of a range at byte %lld does not start a line", t->path,
             part_start);
    return MS_SUCCESS;
}

/* Reads the records of a JSON Lines byte range: those whose first byte lies in
 * [offset, offset + length). The buffer holds the range plus the end of its last line. */
static ms_status read_jsonl_range(run_ctx *c)
{
    const ms_task *t = c->task;
    FILE *f;
    MS_CALL(ms_open_regular(t->path, 0, &f, NULL));
    ms_status head = ms_refuse_binary_head(f, t->path, "JSON Lines");
    if (head != MS_SUCCESS) {
        fclose(f);
        return head;
    }
    long long start = t->offset, end = t->offset + t->length;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    ms_status st = seek_line(f, t->path, start, &start);
    if (st == MS_SUCCESS && start < end) {
        int ch;
        long long pos = start;
        while (st == MS_SUCCESS && (ch = fgetc(f)) != EOF) {
            /* room for this byte and one spare */
            if (ms_array_reserve(&buf, &cap, n + 2, 1, (size_t)(end - start) + 4096) !=
                MS_SUCCESS) {
                st = ms_error_set(MS_ERR_NOMEM, "%s: cannot hold a chunk", t->path);
                break;
            }
            buf[n++] = (char)ch;
            pos++;
            if (ch == '\n' && pos >= end) break;
        }
        c->base = start;
        size_t first_index = 0;
        long first_line = 0;
        if (st == MS_SUCCESS && n > 0 && t->range_skip > 0)
            st = count_part_lines(f, t, start, &first_index, &first_line);
        if (st == MS_SUCCESS && n > 0)
            st = ms_jsonl_read_buffer_from(buf, n, t->path, first_index, first_line,
                                           &c->p->read_opt, on_record, c);
    }
    free(buf);
    fclose(f);
    return st;
}

/* screen --dry-run: one result per task from the task alone (no read, no stage), distinct per
 * seq so de-duplication, ranking and the journal do their full work on it. */
static void dry_run_task(run_ctx *c)
{
    const ms_task *t = c->task;
    ms_result *r = next_slot(c);
    result_from_task(r, t);
    uint64_t h = ms_hash_update(MS_HASH_INIT, &t->seq, sizeof t->seq);
    h = ms_hash_update(h, t->path, strlen(t->path));
    r->offset = t->length >= 0 ? t->offset : -1;
    r->content_hash = h;
    r->dedup_key = h;
    r->n_sites = 1;
    r->n_atoms = 1.0;
    r->volume = r->volume_per_atom = 10.0;
    r->density = 1.0;
    r->li_fraction = (double)(h >> 11) * 0x1.0p-53; /* uniform in [0, 1): a real sort */
    r->fp_volume = 10.0;
    r->score = ms_result_quantity(r, c->p->rank_by);
    if (c->p->ascending) r->score = -r->score;
    snprintf(r->formula, sizeof r->formula, "DryRun");
    emit(c);
}

static size_t run_task(ms_pipeline *p, const ms_task *task, ms_result *r, ms_result_fn fn,
                       void *user);

/* The task is noted for the crash record while it runs (crash.h): a fatal signal in a reader,
 * a stage or a library names it, and the journal then knows the death was this task's. */
size_t ms_pipeline_run_task(ms_pipeline *p, const ms_task *task, ms_result *r, ms_result_fn fn,
                            void *user)
{
    if (p->crash_dir && !p->crash_watching) {
        ms_crash_watch(p->crash_dir, p->crash_rank);
        p->crash_watching = 1;
    }
    ms_crash_task(task->seq);
    size_t produced = run_task(p, task, r, fn, user); /* (its end released what it held) */
    ms_crash_task_done();
    return produced;
}

/* The task's records into c (those held stay in p->held: run_task releases them). */
static void run_records(run_ctx *c)
{
    ms_pipeline *p = c->p;
    const ms_task *task = c->task;
    if (p->test_crash_on[0] && p->test_crash_offset < 0) {
        const char *base = strrchr(task->path, '/');
        if (strcmp(base ? base + 1 : task->path, p->test_crash_on) == 0) {
            fprintf(stderr, "matscreen: MATSCREEN_TEST_CRASH_ON=%s: aborting on %s (test hook)\n",
                    p->test_crash_on, task->path);
            abort();
        }
    }
    if (task->status != MS_SUCCESS) {
        file_failure(c, task->status, task->reason);
        return;
    }
    if (p->dry_run) {
        dry_run_task(c);
        return;
    }
    ms_error_clear();
    if (p->input_db && task->input < p->n_input_db)
        p->read_opt.default_db = p->input_db[task->input];
    ms_status st;
    if (task->format == MS_FORMAT_JSONL && task->length >= 0)
        st = read_jsonl_range(c);
    else
        st = ms_read_file(task->path, task->format, &p->read_opt, on_record, c);
    if (st != MS_SUCCESS && !c->stop) file_failure(c, st, ms_error_message());
}

/* Every exit of a task releases what it holds: a task's results leave with the task. */
static size_t run_task(ms_pipeline *p, const ms_task *task, ms_result *r, ms_result_fn fn,
                       void *user)
{
    run_ctx c = {p, task, r, fn, user, 0, 0, 0, 0};
    run_records(&c);
    release_held(&c);
    return c.produced;
}
