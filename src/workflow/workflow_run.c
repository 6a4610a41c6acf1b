/*
 * The workflow executor (workflow_run.h). Every rank runs the same collective stages: train /
 * evaluate (stages.c) and the screen (ms_screen_run). Rank 0 alone holds the output directory's
 * lock, opens the state store of nightly runs (state.h) and gives it to the screen as its result
 * cache; after the screen it marks removed inputs, records the top-K and errors, and writes the
 * report with "what changed" from the store. Filters are the screen's record filter
 * (record_filter.h), the same as `screen --require-elements` etc.
 */
#include "matscreen/workflow_run.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "matscreen/comm.h"
#include "matscreen/file_read.h"
#include "matscreen/hash.h"
#include "matscreen/outfile.h"
#include "matscreen/record_filter.h"
#include "matscreen/report.h"

#define MANIFEST_MAX_BYTES ((size_t)64 << 20) /* manifests are a few kB */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ms_workflow_run_options_default(ms_workflow_run_options *o)
{
    memset(o, 0, sizeof *o);
    o->progress = 1;
}

static void warn(ms_workflow_run_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn(ms_workflow_run_result *r, const char *fmt, ...)
{
    if (r->n_warnings >= MS_WORKFLOW_RUN_WARNINGS) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->warnings[r->n_warnings++], MS_WORKFLOW_RUN_WARNING_MAX, fmt, ap);
    va_end(ap);
}

/* Moves the previous run's comparable outputs to DIR/previous/; returns 1 when there was one. */
static int keep_previous(const char *dir)
{
    static const char *const files[] = {"ranked.csv", "errors.csv", "manifest.json"};
    char from[MS_WORKFLOW_PATH_MAX + 32], to[MS_WORKFLOW_PATH_MAX + 48], prev[MS_WORKFLOW_PATH_MAX + 16];
    snprintf(from, sizeof from, "%s/ranked.csv", dir);
    struct stat sb;
    if (stat(from, &sb) != 0) return 0;
    snprintf(prev, sizeof prev, "%s/previous", dir);
    if (ms_mkdir_p(prev) != MS_SUCCESS) return 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(from, sizeof from, "%s/%s", dir, files[i]);
        snprintf(to, sizeof to, "%s/%s", prev, files[i]);
        if (stat(from, &sb) == 0) rename(from, to);
    }
    return 1;
}

/* Writes DIR/incremental.json: what the state store reused and recomputed. */
static void write_incremental(const char *dir, const ms_workflow_run_result *r)
{
    char path[MS_WORKFLOW_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/incremental.json", dir);
    ms_atomic_file *af = NULL;
    if (ms_atomic_open(path, &af) != MS_SUCCESS) return;
    FILE *f = ms_atomic_stream(af);
    const ms_state_counts *k = &r->counts;
    fprintf(f, "{\"run\": %lld, \"reused\": %llu, \"computed\": %llu, \"new\": %llu, "
               "\"changed\": %llu, \"identity\": %llu, \"removed\": %llu, \"hashed\": %llu, "
               "\"unchanged_since\": %lld, \"seconds_screen\": %.6f, \"seconds_total\": %.6f}\n",
            (long long)r->run_id, k->reused, k->computed, k->added, k->changed, k->identity,
            k->removed, k->hashed, (long long)r->unchanged_since, r->seconds_screen,
            r->seconds_total);
    ms_atomic_commit(&af);
}

/* The acquisition names of the workflow in the engine's terms (screen.h). */
static const char *engine_rank_by(const ms_workflow *w, size_t n_models)
{
    static const char *const map[][2] = {{"mei", "ei"}, {"mli", "pi"}, {"mu", "mu"},
                                         {"ucb", "ucb"}, {"mean", "mean"}, {"probability", "prob"}};
    if (n_models && w->acquisition[0])
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (!strcmp(w->acquisition, map[i][0])) return map[i][1];
    return ms_rank_by_name((ms_rank_by)w->rank_by);
}

static void screen_config(const ms_workflow *w, const ms_workflow_run_options *o, const char *dir,
                          const char *const *models, size_t n_models,
                          ms_screen_input inputs[MS_WORKFLOW_MAX_SOURCES], ms_screen_config *cfg)
{
    for (size_t i = 0; i < w->n_sources; i++) {
        inputs[i].spec = w->sources[i].spec;
        inputs[i].format = w->sources[i].format;
        inputs[i].db = w->sources[i].db;
        inputs[i].trust = w->sources[i].trust;
    }
    ms_screen_config_default(cfg);
    cfg->inputs = inputs;
    cfg->n_inputs = w->n_sources;
    cfg->format = MS_FORMAT_AUTO; /* each source forces its own format, if any */
    cfg->out_dir = dir;
    cfg->top_k = w->top_k;
    cfg->seed = w->seed;
    for (size_t i = 0; i < n_models && i < MS_SCREEN_MAX_MODELS; i++)
        cfg->model_paths[cfg->n_models++] = models[i];
    cfg->rank_by = engine_rank_by(w, cfg->n_models);
    cfg->ascending = w->ascending;
    cfg->filter = &w->filter;
    cfg->best = w->acq_target; /* NaN: the surrogate's stored best label, when it has one */
    cfg->xi = w->acq_xi;
    if (!isnan(w->acq_kappa)) cfg->kappa = w->acq_kappa; /* else the screen's default */
    cfg->explain_k = w->explain_k;
    cfg->resume = o->resume;
    cfg->argc = o->argc;
    cfg->argv = o->argv;
    cfg->workflow_hash = w->hash;
    cfg->progress = o->progress;
}

/* Rank 0, before the screen: the state store of this run (or, without one, the previous outputs
 * moved aside). --resume continues the interrupted (or finished) run whose journal is there, so
 * the tasks it replays are not taken for removed inputs (issue 18, item 2). */
static ms_status state_begin(const ms_workflow *w, const ms_workflow_run_options *o,
                             const char *dir, ms_state **state, int *had_previous,
                             ms_workflow_run_result *r)
{
    MS_CALL(ms_mkdir_p(dir));
    if (o->no_state) {
        *had_previous = keep_previous(dir);
        return MS_SUCCESS;
    }
    MS_CALL(ms_state_open(r->state_path, state));
    r->has_state = 1;
    if (o->full_check) ms_state_set_check(*state, MS_STATE_CHECK_HASH);
    char jpath[MS_WORKFLOW_PATH_MAX + 16];
    snprintf(jpath, sizeof jpath, "%s/journal", dir);
    struct stat jsb;
    if (o->resume && stat(jpath, &jsb) == 0)
        return ms_state_run_resume(*state, w->hash, 0, &r->run_id, NULL);
    return ms_state_run_begin(*state, w->hash, 0, &r->run_id);
}

/* What decides a night's outputs besides its inputs, for the state store's unchanged-night check
 * (state.h): program version, workflow file, output directory, share directory, the source specs
 * as resolved, and each model file's path, size and mtime (a retrained model changes them). The
 * paths as spelled, not made absolute: the outputs name inputs as spelled (relative to the working
 * directory when under it), so a night run from another directory writes other bytes. */
static uint64_t run_key(const ms_workflow *w, const char *dir, const char *const *models,
                        size_t n_models)
{
    uint64_t h = ms_hash_update(MS_HASH_INIT, MS_VERSION, strlen(MS_VERSION));
    h = ms_hash_update(h, &w->hash, sizeof w->hash);
    h = ms_hash_update(h, dir, strlen(dir) + 1);
    const char *share = getenv("MATSCREEN_SHARE");
    if (share) h = ms_hash_update(h, share, strlen(share) + 1);
    for (size_t i = 0; i < w->n_sources; i++)
        h = ms_hash_update(h, w->sources[i].spec, strlen(w->sources[i].spec) + 1);
    for (size_t i = 0; i < n_models; i++) {
        struct stat sb;
        if (stat(models[i], &sb) != 0) return 0; /* the screen reports it */
        long long v[2] = {(long long)sb.st_size,
                          (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec};
        h = ms_hash_update(h, models[i], strlen(models[i]) + 1);
        h = ms_hash_update(h, v, sizeof v);
    }
    return h ? h : 1; /* 0 means "never unchanged" */
}

/* Rank 0, with the run begun: r->unchanged_since = the previous run when this night's inputs,
 * settings and outputs are all that run's (state.h ms_state_unchanged; the sources enumerated as
 * the screen enumerates them), with its outcome in *was; else 0. A failed check is a warning:
 * the night then runs in full. */
static void unchanged_since(ms_state *state, uint64_t key, const ms_workflow *w, const char *dir,
                            ms_state_outcome *was, ms_workflow_run_result *r)
{
    const char *specs[MS_WORKFLOW_MAX_SOURCES];
    ms_format formats[MS_WORKFLOW_MAX_SOURCES];
    for (size_t i = 0; i < w->n_sources; i++) {
        specs[i] = w->sources[i].spec;
        formats[i] = w->sources[i].format;
    }
    ms_source_options so;
    ms_source_options_default(&so);
    so.spec_format = formats;
    so.exclude_dir = dir;
    if (ms_state_unchanged(state, key, specs, w->n_sources, &so, dir, &r->unchanged_since, was) !=
        MS_SUCCESS) {
        warn(r, "%s; the night runs in full", ms_error_message());
        r->unchanged_since = 0;
    }
}

/* Rank 0, after the screen: removed inputs marked, the top-K and errors recorded, the report
 * written with the store's history, the run closed with a copy of its manifest. */
static ms_status state_finish(const ms_workflow *w, const char *dir, ms_state *state,
                              int had_previous, uint64_t key, ms_workflow_run_result *r)
{
    char msg[512] = "";
    if (state && ms_state_error(state, msg, sizeof msg) != MS_SUCCESS)
        warn(r, "the state store could not keep every result (they are computed again next "
                "time): %s", msg);
    ms_report_history *hist = NULL;
    ms_status st = MS_SUCCESS;
    if (state) st = ms_state_mark_removed(state, NULL);
    if (st == MS_SUCCESS && state) st = ms_state_record_outputs(state, dir, w->top_k);
    if (st == MS_SUCCESS && state) st = ms_state_history(state, &hist);
    MS_CALL(st);
    char filters[1024], prev[MS_WORKFLOW_PATH_MAX + 16];
    ms_record_filter_describe(&w->filter, filters, sizeof filters);
    snprintf(prev, sizeof prev, "%s/previous", dir);
    ms_report_options ro = {w->name, w->file, 1, w->hash, r->screen.filtered,
                            filters[0] ? filters : NULL, had_previous ? prev : NULL, NULL, hist};
    st = ms_report_write(dir, &ro);
    ms_state_history_free(hist);
    if (st == MS_SUCCESS && state) {
        char mp[MS_WORKFLOW_PATH_MAX + 32];
        snprintf(mp, sizeof mp, "%s/manifest.json", dir);
        /* The state store keeps a copy of the manifest for the history; the run itself is
         * complete without it, so a manifest that cannot be read is a warning, not a failure. */
        char *manifest = NULL;
        size_t manifest_len = 0;
        if (ms_read_whole_file(mp, MANIFEST_MAX_BYTES, &manifest, &manifest_len) != MS_SUCCESS)
            warn(r, "%s; the state store records this run without its manifest",
                 ms_error_message());
        ms_state_outcome done = {r->screen.records, r->screen.failed, r->screen.filtered};
        /* a resumed finished run screened nothing: its outcome is the one recorded before */
        st = ms_state_record_files(state, dir, key, r->screen.resumed_finished ? NULL : &done);
        if (st == MS_SUCCESS) st = ms_state_run_finish(state, manifest);
        free(manifest);
    }
    if (st != MS_SUCCESS) return ms_error_set(st, "report: %s", ms_error_message());
    return MS_SUCCESS;
}

/* The screen stage with the state store around it. Collective. */
static ms_status run_screen(MPI_Comm comm, const ms_workflow *w, const ms_workflow_run_options *o,
                            const char *dir, const char *const *models, size_t n_models,
                            ms_workflow_run_result *r)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    ms_screen_input inputs[MS_WORKFLOW_MAX_SOURCES];
    ms_screen_config cfg;
    screen_config(w, o, dir, models, n_models, inputs, &cfg);
    cfg.out_dir_locked = rank == 0; /* run_locked holds it */
    if (o->state) snprintf(r->state_path, sizeof r->state_path, "%s", o->state);
    else snprintf(r->state_path, sizeof r->state_path, "%s/state.db", dir);

    ms_state *state = NULL;
    ms_result_cache cache = {NULL, ms_state_lookup, ms_state_store, ms_state_sync};
    int had_previous = 0;
    ms_status st = MS_SUCCESS;
    if (rank == 0) {
        st = state_begin(w, o, dir, &state, &had_previous, r);
        if (state) {
            cache.ctx = state;
            cfg.cache = &cache;
        }
    }
    /* a night whose inputs, settings and outputs are the previous run's keeps its outputs */
    double t_screen = now();
    uint64_t key = 0;
    ms_state_outcome was = {0};
    if (st == MS_SUCCESS && state) {
        /* recorded by every complete run, a resumed or fully checked one included, so that the
         * next night can find it unchanged; only the check itself is skipped for those */
        key = run_key(w, dir, models, n_models);
        if (!o->resume && !o->full_check) unchanged_since(state, key, w, dir, &was, r);
    }
    int go[2] = {st == MS_SUCCESS, r->unchanged_since > 0};
    MPI_Bcast(go, 2, MPI_INT, 0, comm);
    if (!go[0]) {
        ms_state_close(state);
        return rank == 0 ? st : MS_ERR_IO;
    }
    if (go[1]) {
        r->screen.records = was.records, r->screen.failed = was.failed;
        r->screen.filtered = was.filtered;
        if (rank == 0) st = ms_state_run_unchanged(state, r->unchanged_since);
    } else {
        st = ms_screen_run(comm, &cfg, &r->screen);
    }
    r->seconds_screen = now() - t_screen;
    if (rank != 0) return st;
    if (st == MS_SUCCESS) st = state_finish(w, dir, state, had_previous, key, r);
    ms_state_get_counts(state, &r->counts);
    ms_state_close(state);
    r->seconds_total = now() - o->started;
    if (st == MS_SUCCESS && r->has_state) write_incremental(dir, r);
    return st;
}

/* A campaign: a simulation on labelled data, no screen, no ranked.csv, so no report.html. */
static ms_status run_campaign(MPI_Comm comm, const ms_workflow *w, const char *dir,
                              ms_workflow_run_result *r)
{
    r->campaign = 1;
    ms_status st = ms_workflow_run_campaign(w, comm, dir, &r->campaign_summary);
    if (st != MS_SUCCESS) return ms_error_set(st, "campaign: %s", ms_error_message());
    return MS_SUCCESS;
}

/* The stages of the workflow, on every rank, with the output directory locked. */
static ms_status run_stages(MPI_Comm comm, const ms_workflow *w, const ms_workflow_run_options *o,
                            const char *dir, ms_workflow_run_result *r)
{
    if (w->stage == MS_WORKFLOW_CAMPAIGN) return run_campaign(comm, w, dir, r);
    const char *models[MS_WORKFLOW_MAX_MODELS + 1];
    size_t n_models = 0;
    for (size_t i = 0; i < w->n_models; i++) models[n_models++] = w->models[i];
    if (w->stage == MS_WORKFLOW_TRAIN || w->stage == MS_WORKFLOW_EVALUATE) {
        int rank;
        MPI_Comm_rank(comm, &rank);
        ms_workflow_model_summary ms;
        const char *stage = ms_workflow_stage_name(w->stage);
        ms_status st = w->stage == MS_WORKFLOW_TRAIN ? ms_workflow_train(w, comm, dir, &ms)
                                                     : ms_workflow_evaluate(w, comm, dir, &ms);
        if (st == MS_SUCCESS && rank == 0) st = ms_workflow_write_model_summary(dir, stage, &ms);
        if (!ms_comm_all_ok(comm, st == MS_SUCCESS))
            return ms_error_set(st != MS_SUCCESS ? st : MS_ERR_IO, "%s: %s", stage,
                                ms_error_message());
        if (rank == 0 && o->stage_done) o->stage_done(stage, &ms, o->user);
        /* the screen that follows uses the freshly trained model */
        if (w->stage == MS_WORKFLOW_TRAIN) models[n_models++] = w->training.output;
    }
    return run_screen(comm, w, o, dir, models, n_models, r);
}

/* Two runs on one directory (--no-state, or different --state files) would otherwise race:
 * rank 0 locks it for the whole run - training, the previous outputs moved aside, the state
 * store, the screen and the report. */
ms_status ms_workflow_run(MPI_Comm comm, const ms_workflow *w, const ms_workflow_run_options *o,
                          ms_workflow_run_result *result)
{
    ms_workflow_run_options local = *o;
    if (local.started == 0) local.started = now();
    memset(result, 0, sizeof *result);
    const char *dir = o->out_dir ? o->out_dir : w->output_dir;
    int rank;
    MPI_Comm_rank(comm, &rank);
    ms_dir_lock *lock = NULL;
    ms_status st = MS_SUCCESS;
    if (rank == 0) {
        st = ms_mkdir_p(dir);
        if (st == MS_SUCCESS) st = ms_dir_lock_take(dir, o->argc, o->argv, &lock);
    }
    if (!ms_comm_all_ok(comm, st == MS_SUCCESS)) return rank == 0 ? st : MS_ERR_IO;
    st = run_stages(comm, w, &local, dir, result);
    ms_dir_lock_release(&lock);
    return st;
}
