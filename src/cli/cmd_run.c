/*
 * matscreen run WORKFLOW.xml: validate an XML workflow, run its stages, write report.html.
 *
 * MPI is started by main.c (comm.h); a singleton without mpirun. Only rank 0 reads the XML
 * (STYLE.md item 12); it broadcasts whether the run goes ahead and then the loaded workflow
 * (ms_workflow is plain data), so every rank runs the same collective stages. The run itself is
 * the workflow layer's executor (ms_workflow_run, workflow_run.h); this file is its flags, its
 * messages and its exit code.
 */
#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "matscreen/comm.h"
#include "matscreen/workflow.h"
#include "matscreen/workflow_run.h"

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

static void stage_done(const char *stage, const ms_workflow_model_summary *s, void *user)
{
    const run_args *a = user;
    if (!a->quiet) print_model_summary(stage, s);
}

/* Rank 0: what the run did, for a terminal or a Slurm log; returns the exit code. */
static int report_run(const run_args *a, const ms_workflow *w, const ms_workflow_run_result *r,
                      double t_start)
{
    for (size_t i = 0; i < r->n_warnings; i++)
        fprintf(stderr, "matscreen run: warning: %s\n", r->warnings[i]);
    const char *dir = a->out_dir ? a->out_dir : w->output_dir;
    if (r->campaign) {
        const ms_workflow_campaign_summary *cs = &r->campaign_summary;
        if (!a->quiet)
            fprintf(stderr, "matscreen run: campaign: %zu acquisition function%s x %zu seeds, "
                            "surrogate %s, pool %zu rows (%zu dropped), %zu features; %.2f s\n",
                    cs->n_acq, cs->n_acq == 1 ? "" : "s", cs->seeds, cs->surrogate, cs->rows,
                    cs->dropped, cs->features, cs->seconds);
        printf("campaign: %s/campaign.csv, %s/summary.csv\n", dir, dir);
        return 0;
    }
    const ms_screen_summary *sum = &r->screen;
    int code = ms_cli_status(sum->records + sum->earlier_records, sum->failed + sum->earlier_failed);
    if (sum->resumed_finished) code = sum->failed ? 1 : 0; /* outputs rewritten, nothing to read */
    char tail[1024];
    snprintf(tail, sizeof tail, "%s: %llu filtered out, %llu tasks computed, %.2f s in all%s",
             w->name, sum->filtered, sum->tasks, now() - t_start,
             code == 2 ? " (nothing could be read: see errors.csv)"
                       : sum->resumed_finished ? " (a resumed run that had finished)" : "");
    ms_cli_summary("run", sum->records, sum->failed, sum->farm_seconds, tail);
    if (!a->quiet && sum->direction_source) /* as screen says it: which end ranks first, why */
        fprintf(stderr, "matscreen run: %s first, from %s\n",
                sum->ascending ? "smaller (minimise)" : "larger (maximise)",
                w->ascending < 0 ? sum->direction_source
                : w->ascending   ? "<ranking order=\"ascending\">"
                                 : "<ranking order=\"descending\">");
    const ms_state_counts *k = &r->counts;
    if (!a->quiet && r->has_state)
        fprintf(stderr, "matscreen run: state %s (run %lld): %llu tasks reused, %llu computed "
                        "(%llu new, %llu changed, %llu for new models or descriptors), %llu "
                        "removed\n", r->state_path, (long long)r->run_id, k->reused, k->computed,
                k->added, k->changed, k->identity, k->removed);
    if (!a->quiet && r->unchanged_since)
        fprintf(stderr, "matscreen run: inputs, settings and outputs are those of run %lld: its "
                        "outputs are kept, not written again\n", (long long)r->unchanged_since);
    printf("report: %s/report.html\n", dir);
    return code;
}

/* Every rank: the loaded workflow run by the executor; the exit code (rank 0's counts). */
static int run_workflow(int argc, char **argv, const run_args *a, const ms_workflow *w, int rank,
                        double t_start)
{
    ms_workflow_run_options o;
    ms_workflow_run_options_default(&o);
    o.out_dir = a->out_dir;
    o.state = a->state;
    o.resume = a->resume;
    o.no_state = a->no_state;
    o.full_check = a->full;
    o.progress = !a->quiet;
    o.argc = argc;
    o.argv = argv;
    o.started = t_start;
    o.stage_done = stage_done;
    o.user = (void *)a;
    ms_workflow_run_result *r = calloc(1, sizeof *r);
    if (!r) {
        if (rank == 0) fprintf(stderr, "matscreen run: out of memory\n");
        return 2;
    }
    ms_status st = ms_workflow_run(MPI_COMM_WORLD, w, &o, r);
    int code = 2;
    if (rank == 0) {
        for (size_t i = 0; st != MS_SUCCESS && i < r->n_warnings; i++)
            fprintf(stderr, "matscreen run: warning: %s\n", r->warnings[i]);
        if (st != MS_SUCCESS) fprintf(stderr, "matscreen run: %s\n", ms_error_message());
        else code = report_run(a, w, r, t_start);
    }
    free(r);
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
            if (code == 1) code = 0; /* --validate-only: valid, nothing to run */
            else go = code == 0;
        }
        /* The workflow is plain data (workflow.h): every rank gets rank 0's bytes, since the
         * stages are collective and take the same settings everywhere. */
        char *bytes = (char *)w;
        size_t n = sizeof *w;
        ms_status st =
            ms_comm_bcast_buffer(MPI_COMM_WORLD, go ? MS_SUCCESS : MS_ERR_USAGE, &bytes, &n);
        if (rank != 0) w = (ms_workflow *)bytes;
        if (st == MS_SUCCESS) code = run_workflow(argc, argv, &a, w, rank, t_start);
        else if (go) code = 2; /* a rank cannot hold the workflow */
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    ms_workflow_free(w);
    return code;
}
