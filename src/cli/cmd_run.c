/*
 * matscreen run WORKFLOW.xml: validate an XML workflow, run its stages, write report.html.
 *
 * MPI is started by main.c (comm.h); a singleton without mpirun. Only rank 0 reads the XML
 * (STYLE.md item 12); it broadcasts whether the run goes ahead and then the loaded workflow
 * (ms_workflow is plain data), so every rank runs the same collective stages: train / evaluate
 * (src/workflow/stages.c) and the screen (ms_screen_run, screen.h). Filters are the screen's
 * record filter (record_filter.h, the same as screen --require-elements etc.). Rank 0 alone opens the state store of nightly runs (state.h) and gives it
 * to the screen as its result cache; after the screen it marks removed inputs, records the top-K
 * and errors, and writes the report with "what changed" from the store.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "matscreen/comm.h"
#include "matscreen/element.h"
#include "matscreen/file_read.h"
#include "matscreen/outfile.h"
#include "matscreen/pipeline.h"
#include "matscreen/report.h"
#include "matscreen/screen.h"
#include "matscreen/state.h"
#include "matscreen/workflow.h"

#define MANIFEST_MAX_BYTES ((size_t)64 << 20) /* manifests are a few kB */

static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen run WORKFLOW.xml [--validate-only] [-o DIR] [--resume] [--quiet]\n"
            "       mpirun -np N matscreen run WORKFLOW.xml\n\n"
            "Runs an XML workflow (schema: share/matscreen/workflow.xsd, guide: docs/workflows.md).\n"
            "The workflow is checked first - schema, element symbols, descriptor sets, files,\n"
            "stages this build can run - and every problem is printed as FILE:LINE: message;\n"
            "nothing runs unless the workflow is valid. Relative paths in the workflow start at\n"
            "the workflow file's directory.\n\n"
            "Outputs in the workflow's <output dir>: ranked.csv, ranked.jsonl, top/*.cif,\n"
            "errors.csv, quality.json, manifest.json, incremental.json and report.html (open it\n"
            "in a browser). Nightly runs are incremental: DIR/state.db (SQLite) keeps every\n"
            "input's results; unchanged inputs reuse them, new or changed ones are computed,\n"
            "removed ones are marked, and the report lists what changed since the last run.\n\n"
            "  --validate-only     check the workflow and exit (0 valid, 2 not): do this before\n"
            "                      spending a cluster allocation\n"
            "  -o, --output DIR    write outputs to DIR instead of the workflow's <output dir>\n"
            "  --resume            continue an interrupted run (when the engine's journal exists;\n"
            "                      otherwise the run starts over and says so)\n"
            "  -q, --quiet         no progress on stderr\n"
            "      --state FILE    the state store (default DIR/state.db)\n"
            "      --no-state      no state store: compute everything; the previous outputs move\n"
            "                      to DIR/previous/ and the report compares with them\n"
            "      --full-check    hash every input's bytes (default: only inputs whose size or\n"
            "                      modification time changed)\n"
            "  -h, --help          this text\n\n"
            MS_CLI_EXIT_HELP "Failed records are in errors.csv; an invalid workflow (a source path that does\n"
            "not exist included) or outputs that cannot be written are 2.\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    const char *workflow;
    const char *out_dir;
    const char *state;   /* --state FILE; NULL: DIR/state.db */
    int validate_only, resume, quiet, help, no_state, full;
    int dir_locked; /* rank 0 holds the output directory's lock (outfile.h) for the whole run */
} run_args;

static int parse_args(int argc, char **argv, run_args *a, int rank)
{
    static const struct option longopts[] = {
        {"validate-only", no_argument, NULL, 'V'}, {"output", required_argument, NULL, 'o'},
        {"resume", no_argument, NULL, 'R'},        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},          {"state", required_argument, NULL, 'S'},
        {"no-state", no_argument, NULL, 'N'},      {"full-check", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    int c, bad = 0;
    opterr = rank == 0;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'V': a->validate_only = 1; break;
        case 'o': a->out_dir = optarg; break;
        case 'R': a->resume = 1; break;
        case 'q': a->quiet = 1; break;
        case 'S': a->state = optarg; break;
        case 'N': a->no_state = 1; break;
        case 'F': a->full = 1; break;
        case 'h': a->help = 1; return 0;
        default: bad = 1;
        }
    }
    if (!bad && optind + 1 != argc) {
        if (rank == 0)
            fprintf(stderr, "matscreen run: give exactly one WORKFLOW.xml (workflows/ has "
                            "examples)\n");
        bad = 1;
    }
    if (!bad) a->workflow = argv[optind];
    if (bad && rank == 0) run_usage(stderr);
    return bad ? 2 : 0;
}


static int mkdir_p(const char *dir)
{
    char p[MS_WORKFLOW_PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
        *s = '/';
    }
    return mkdir(p, 0777) == 0 || errno == EEXIST ? 0 : -1;
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
    if (mkdir_p(prev) != 0) return 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(from, sizeof from, "%s/%s", dir, files[i]);
        snprintf(to, sizeof to, "%s/%s", prev, files[i]);
        if (stat(from, &sb) == 0) rename(from, to);
    }
    return 1;
}


/* Writes DIR/incremental.json: what the state store reused and recomputed. */
static void write_incremental(const char *dir, const ms_state_counts *k, int64_t run,
                              double seconds_screen, double seconds_total)
{
    char path[MS_WORKFLOW_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/incremental.json", dir);
    ms_atomic_file *af = NULL;
    if (ms_atomic_open(path, &af) != MS_SUCCESS) return;
    FILE *f = ms_atomic_stream(af);
    fprintf(f, "{\"run\": %lld, \"reused\": %llu, \"computed\": %llu, \"new\": %llu, "
               "\"changed\": %llu, \"identity\": %llu, \"removed\": %llu, \"hashed\": %llu, "
               "\"seconds_screen\": %.6f, \"seconds_total\": %.6f}\n",
            (long long)run, k->reused, k->computed, k->added, k->changed, k->identity, k->removed,
            k->hashed, seconds_screen, seconds_total);
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

/* The screen stage. Collective: every rank calls it with the same workflow; rank 0 keeps the
 * state store and writes the report. Returns the exit code (on every rank). */
static int run_screen(int argc, char **argv, const run_args *a, const ms_workflow *w,
                      const char *const *model_files, size_t n_models, int rank, double t_start)
{
    const char *dir = a->out_dir ? a->out_dir : w->output_dir;
    ms_screen_input inputs[MS_WORKFLOW_MAX_SOURCES];
    for (size_t i = 0; i < w->n_sources; i++) {
        inputs[i].spec = w->sources[i].spec;
        inputs[i].format = w->sources[i].format;
        inputs[i].db = w->sources[i].db;
        inputs[i].trust = w->sources[i].trust;
    }
    ms_screen_config cfg;
    ms_screen_config_default(&cfg);
    cfg.inputs = inputs;
    cfg.n_inputs = w->n_sources;
    cfg.format = MS_FORMAT_AUTO; /* each source forces its own format, if any */
    cfg.out_dir = dir;
    cfg.top_k = w->top_k;
    cfg.seed = w->seed;
    for (size_t i = 0; i < n_models && i < MS_SCREEN_MAX_MODELS; i++)
        cfg.model_paths[cfg.n_models++] = model_files[i];
    cfg.rank_by = engine_rank_by(w, cfg.n_models);
    cfg.ascending = w->ascending;
    cfg.filter = &w->filter;
    cfg.best = w->acq_target; /* NaN: the surrogate's stored best label, when it has one */
    cfg.xi = w->acq_xi;
    cfg.kappa = w->acq_kappa;
    cfg.explain_k = w->explain_k;
    cfg.resume = a->resume;
    cfg.argc = argc;
    cfg.argv = argv;
    cfg.workflow_hash = w->hash;
    cfg.progress = !a->quiet;
    cfg.out_dir_locked = a->dir_locked;

    /* rank 0: the state store (or, without one, the previous outputs moved aside) */
    ms_state *state = NULL;
    ms_result_cache cache = {NULL, ms_state_lookup, ms_state_store, ms_state_sync};
    char state_path[MS_WORKFLOW_PATH_MAX + 16];
    int had_previous = 0, ok = 1;
    int64_t run_id = 0;
    if (a->state) snprintf(state_path, sizeof state_path, "%s", a->state);
    else snprintf(state_path, sizeof state_path, "%s/state.db", dir);
    if (rank == 0) {
        ms_status st = mkdir_p(dir) == 0 ? MS_SUCCESS
                                         : ms_error_set(MS_ERR_IO, "cannot create %s: %s", dir,
                                                        strerror(errno));
        if (st == MS_SUCCESS && a->no_state) had_previous = keep_previous(dir);
        else if (st == MS_SUCCESS) st = ms_state_open(state_path, &state);
        if (st == MS_SUCCESS && state) {
            if (a->full) ms_state_set_check(state, MS_STATE_CHECK_HASH);
            /* --resume continues the interrupted (or finished) run whose journal is there, so
             * the tasks it replays are not taken for removed inputs (issue 18, item 2). */
            char jpath[MS_WORKFLOW_PATH_MAX + 16];
            snprintf(jpath, sizeof jpath, "%s/journal", dir);
            struct stat jsb;
            if (a->resume && stat(jpath, &jsb) == 0)
                st = ms_state_run_resume(state, w->hash, 0, &run_id, NULL);
            else
                st = ms_state_run_begin(state, w->hash, 0, &run_id);
            cache.ctx = state;
            cfg.cache = &cache;
        }
        ok = st == MS_SUCCESS;
        if (!ok) fprintf(stderr, "matscreen run: %s\n", ms_error_message());
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok) {
        ms_state_close(state);
        return 2;
    }
    ms_screen_summary sum;
    memset(&sum, 0, sizeof sum);
    double t_screen = now();
    ms_status st = ms_screen_run(MPI_COMM_WORLD, &cfg, &sum);
    double secs_screen = now() - t_screen;
    if (rank != 0) return st == MS_SUCCESS ? 0 : 2;

    char state_msg[512] = "";
    if (state && ms_state_error(state, state_msg, sizeof state_msg) != MS_SUCCESS)
        fprintf(stderr, "matscreen run: warning: the state store could not keep every result "
                        "(they are computed again next time): %s\n", state_msg);
    ms_report_history *hist = NULL;
    if (st == MS_SUCCESS && state) st = ms_state_mark_removed(state, NULL);
    if (st == MS_SUCCESS && state) st = ms_state_record_outputs(state, dir, w->top_k);
    if (st == MS_SUCCESS && state) st = ms_state_history(state, &hist);
    if (st != MS_SUCCESS) {
        fprintf(stderr, "matscreen run: %s\n", ms_error_message());
        ms_state_close(state);
        return 2;
    }
    char filters[1024], prev[MS_WORKFLOW_PATH_MAX + 16];
    ms_record_filter_describe(&w->filter, filters, sizeof filters);
    snprintf(prev, sizeof prev, "%s/previous", dir);
    ms_report_options ro = {w->name, w->file, 1, w->hash, sum.filtered,
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
            fprintf(stderr, "matscreen run: warning: %s; the state store records this run "
                            "without its manifest\n", ms_error_message());
        st = ms_state_run_finish(state, manifest);
        free(manifest);
    }
    ms_state_counts counts;
    ms_state_get_counts(state, &counts);
    ms_state_close(state);
    if (st != MS_SUCCESS) {
        fprintf(stderr, "matscreen run: report: %s\n", ms_error_message());
        return 2;
    }
    if (state) write_incremental(dir, &counts, run_id, secs_screen, now() - t_start);
    int code = ms_cli_status(sum.records, sum.failed);
    if (sum.resumed_finished) code = sum.failed ? 1 : 0; /* outputs rewritten, nothing to read */
    char tail[1024];
    snprintf(tail, sizeof tail, "%s: %llu filtered out, %llu tasks computed, %.2f s in all%s",
             w->name, sum.filtered, sum.tasks, now() - t_start,
             code == 2 ? " (nothing could be read: see errors.csv)"
                       : sum.resumed_finished ? " (a resumed run that had finished)" : "");
    ms_cli_summary("run", sum.records, sum.failed, sum.farm_seconds, tail);
    if (!a->quiet) {
        if (state)
            fprintf(stderr, "matscreen run: state %s (run %lld): %llu tasks reused, %llu computed "
                            "(%llu new, %llu changed, %llu for new models or descriptors), %llu "
                            "removed\n", state_path, (long long)run_id, counts.reused,
                    counts.computed, counts.added, counts.changed, counts.identity, counts.removed);
    }
    printf("report: %s/report.html\n", dir);
    return code;
}

/* Rank 0: loads the workflow. Returns the exit code so far (0 = go on, 1 = valid, stop). */
static int load_workflow(const run_args *a, ms_workflow **w)
{
    ms_workflow_issues *issues = calloc(1, sizeof *issues);
    if (!issues) return 2;
    ms_status st = ms_workflow_load(a->workflow, NULL, w, issues);
    if (st != MS_SUCCESS) {
        for (size_t i = 0; i < issues->n; i++) fprintf(stderr, "%s\n", issues->items[i].message);
        if (issues->dropped) fprintf(stderr, "(%zu more problems not shown)\n", issues->dropped);
        fprintf(stderr, "matscreen run: %s is not valid (%zu problem%s)\n", a->workflow,
                issues->n + issues->dropped, issues->n + issues->dropped == 1 ? "" : "s");
        free(issues);
        return 2;
    }
    free(issues);
    const ms_workflow *wf = *w;
    if (a->validate_only) {
        printf("%s: valid: workflow '%s', stage %s, %zu source%s, descriptor set %s, top %zu, "
               "outputs in %s\n", a->workflow, wf->name, ms_workflow_stage_name(wf->stage),
               wf->n_sources, wf->n_sources == 1 ? "" : "s", wf->descriptor_set, wf->top_k,
               a->out_dir ? a->out_dir : wf->output_dir);
        return 1;
    }
    return 0;
}

static void print_model_summary(const char *stage, const ms_workflow_model_summary *s)
{
    fprintf(stderr, "matscreen run: %s: %s on %zu rows (%zu dropped), %zu features (%s)", stage,
            s->learner, s->rows, s->dropped, s->features, s->descriptor_set);
    if (s->folds) fprintf(stderr, ", %zu-fold CV", s->folds);
    else fprintf(stderr, ", held out");
    if (s->classification)
        fprintf(stderr, ": accuracy %.4f roc_auc %.4f", s->accuracy, s->roc_auc);
    else
        fprintf(stderr, ": mae %.4f rmse %.4f r2 %.4f; within 1 sigma %.3f", s->mae, s->rmse,
                s->r2, s->within1);
    if (s->g_groups && s->classification)
        fprintf(stderr, "; grouped by chemical system (%zu): accuracy %.4f roc_auc %.4f",
                s->g_groups, s->g_accuracy, s->g_roc_auc);
    else if (s->g_groups)
        fprintf(stderr, "; grouped by chemical system (%zu): mae %.4f r2 %.4f within 1 sigma %.3f",
                s->g_groups, s->g_mae, s->g_r2, s->g_within1);
    fprintf(stderr, "; %.2f s%s%s\n", s->seconds, s->model[0] ? "; model " : "", s->model);
}

/* The stages of the workflow, on every rank. */
static int run_stages(int argc, char **argv, const run_args *a, const ms_workflow *w, int rank,
                      double t_start)
{
    const char *dir = a->out_dir ? a->out_dir : w->output_dir;
    const char *models[MS_WORKFLOW_MAX_MODELS + 1];
    size_t n_models = 0;
    for (size_t i = 0; i < w->n_models; i++) models[n_models++] = w->models[i];
    if (w->stage == MS_WORKFLOW_CAMPAIGN) {
        /* a simulation on labelled data: no screen, no ranked.csv, so no report.html */
        int ok = 1;
        if (rank == 0) ok = mkdir_p(dir) == 0;
        MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (!ok) {
            if (rank == 0) fprintf(stderr, "matscreen run: cannot create %s\n", dir);
            return 2;
        }
        ms_workflow_campaign_summary cs;
        ms_status st = ms_workflow_run_campaign(w, MPI_COMM_WORLD, dir, &cs);
        if (st != MS_SUCCESS) {
            if (rank == 0) fprintf(stderr, "matscreen run: campaign: %s\n", ms_error_message());
            return 2;
        }
        if (rank == 0 && !a->quiet)
            fprintf(stderr, "matscreen run: campaign: %zu acquisition function%s x %zu seeds, "
                            "surrogate %s, pool %zu rows (%zu dropped), %zu features; %.2f s\n",
                    cs.n_acq, cs.n_acq == 1 ? "" : "s", cs.seeds, cs.surrogate, cs.rows,
                    cs.dropped, cs.features, cs.seconds);
        if (rank == 0) printf("campaign: %s/campaign.csv, %s/summary.csv\n", dir, dir);
        return 0;
    }
    if (w->stage == MS_WORKFLOW_TRAIN || w->stage == MS_WORKFLOW_EVALUATE) {
        int ok = 1;
        if (rank == 0) ok = mkdir_p(dir) == 0;
        MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (!ok) {
            if (rank == 0) fprintf(stderr, "matscreen run: cannot create %s\n", dir);
            return 2;
        }
        ms_workflow_model_summary ms;
        const char *stage = ms_workflow_stage_name(w->stage);
        ms_status st = w->stage == MS_WORKFLOW_TRAIN ? ms_workflow_train(w, MPI_COMM_WORLD, dir, &ms)
                                                     : ms_workflow_evaluate(w, MPI_COMM_WORLD, dir, &ms);
        if (st == MS_SUCCESS && rank == 0) st = ms_workflow_write_model_summary(dir, stage, &ms);
        if (!ms_comm_all_ok(MPI_COMM_WORLD, st == MS_SUCCESS)) {
            if (rank == 0) fprintf(stderr, "matscreen run: %s: %s\n", stage, ms_error_message());
            return 2;
        }
        if (rank == 0 && !a->quiet) print_model_summary(stage, &ms);
        /* the screen that follows uses the freshly trained model */
        if (w->stage == MS_WORKFLOW_TRAIN) models[n_models++] = w->training.output;
    }
    return run_screen(argc, argv, a, w, models, n_models, rank, t_start);
}

/* run_stages with the output directory locked by rank 0 for the whole run: training, the
 * previous outputs moved aside (--no-state), the state store, the screen and the report. Two runs
 * on one directory (--no-state, or different --state files) would otherwise race. */
static int run_locked(int argc, char **argv, run_args *a, const ms_workflow *w, int rank,
                      double t_start)
{
    const char *dir = a->out_dir ? a->out_dir : w->output_dir;
    ms_dir_lock *lock = NULL;
    int ok = 1;
    if (rank == 0) {
        if (mkdir_p(dir) != 0) {
            fprintf(stderr, "matscreen run: cannot create %s: %s\n", dir, strerror(errno));
            ok = 0;
        } else if (ms_dir_lock_take(dir, argc, argv, &lock) != MS_SUCCESS) {
            fprintf(stderr, "matscreen run: %s\n", ms_error_message());
            ok = 0;
        }
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok) return 2;
    a->dir_locked = rank == 0;
    int code = run_stages(argc, argv, a, w, rank, t_start);
    ms_dir_lock_release(&lock);
    return code;
}

int ms_cmd_run(int argc, char **argv)
{
    double t_start = now();
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    run_args a;
    int code = parse_args(argc, argv, &a, rank);
    ms_workflow *w = NULL;
    if (code == 0 && a.help) {
        if (rank == 0) run_usage(stdout);
    } else if (code == 0) {
        int go = 0;
        if (rank == 0) {
            code = load_workflow(&a, &w);
            if (code == 1) code = 0; /* --validate-only: valid */
            else go = code == 0;
        }
        MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (go) {
            /* The workflow is plain data: every rank gets the same copy (the stages are
             * collective and take the same settings everywhere). */
            if (rank != 0) w = calloc(1, sizeof *w);
            if (!ms_comm_all_ok(MPI_COMM_WORLD, w != NULL)) {
                code = 2;
            } else {
                MPI_Bcast(w, (int)sizeof *w, MPI_BYTE, 0, MPI_COMM_WORLD);
                code = run_locked(argc, argv, &a, w, rank, t_start);
            }
        }
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    ms_workflow_free(w);
    return code;
}
