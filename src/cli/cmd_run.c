/*
 * matscreen run WORKFLOW.xml: validate an XML workflow, run its stage, write report.html.
 *
 * MPI as in cmd_screen.c: MPI_Init here, a singleton without mpirun. Only rank 0 reads the XML
 * (STYLE.md item 12); it broadcasts whether the run goes ahead and the few settings the workers'
 * pipelines need (run_settings), then every rank joins the farm. Filters are applied on rank 0 as
 * results arrive (they need nothing but the result record), so workers stay unaware of them.
 *
 * The screen is driven through the engine's public API (results.h, source.h, farm.h) exactly as
 * cmd_screen.c does; see docs/workflows.md for what a workflow can say that the engine does not
 * take yet (per-source formats, trust order), which validation rejects instead of ignoring.
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
#include "matscreen/element.h"
#include "matscreen/farm.h"
#include "matscreen/pipeline.h"
#include "matscreen/report.h"
#include "matscreen/results.h"
#include "matscreen/source.h"
#include "matscreen/workflow.h"

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
            "errors.csv, quality.json, manifest.json and report.html (open it in a browser).\n"
            "The previous run's ranked.csv, errors.csv and manifest.json move to DIR/previous/,\n"
            "and the report lists what changed since then.\n\n"
            "  --validate-only     check the workflow and exit (0 valid, 2 not): do this before\n"
            "                      spending a cluster allocation\n"
            "  -o, --output DIR    write outputs to DIR instead of the workflow's <output dir>\n"
            "  --resume            continue an interrupted run (when the engine's journal exists;\n"
            "                      otherwise the run starts over and says so)\n"
            "  -q, --quiet         no progress on stderr\n"
            "  -h, --help          this text\n\n"
            "Exit status: 0 the run completed (failed records are in errors.csv); 2 the workflow\n"
            "is invalid or outputs could not be written.\n");
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
    int validate_only, resume, quiet, help;
} run_args;

static int parse_args(int argc, char **argv, run_args *a, int rank)
{
    static const struct option longopts[] = {
        {"validate-only", no_argument, NULL, 'V'}, {"output", required_argument, NULL, 'o'},
        {"resume", no_argument, NULL, 'R'},        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    int c, bad = 0;
    opterr = rank == 0;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'V': a->validate_only = 1; break;
        case 'o': a->out_dir = optarg; break;
        case 'R': a->resume = 1; break;
        case 'q': a->quiet = 1; break;
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

/* What the workers' pipelines need from the workflow; broadcast as bytes. */
typedef struct {
    int go;            /* 1: the run goes ahead */
    int rank_by, ascending;
    int default_db;    /* ms_source_db of records that do not state theirs */
    uint64_t seed;
} run_settings;

typedef struct {
    const ms_workflow *w;
    ms_results *res;
    unsigned long long filtered;
} collect_ctx;

static int collect(const ms_result *r, void *user)
{
    collect_ctx *c = user;
    if (r->status == MS_SUCCESS) {
        double values[MS_RANK_COUNT];
        for (int i = 0; i < MS_RANK_COUNT; i++) values[i] = ms_result_quantity(r, (ms_rank_by)i);
        if (!ms_workflow_accepts(c->w, r->formula, r->n_atoms, r->flags, values)) {
            c->filtered++;
            return 0;
        }
    }
    return ms_results_add(r, c->res);
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

static void describe_filters(const ms_workflow *w, char *out, size_t n)
{
    size_t k = 0;
    out[0] = 0;
#define ADD(...) (k < n ? (k += (size_t)snprintf(out + k, n - k, __VA_ARGS__)) : 0)
    int first = 1;
    for (int z = 1; z <= MS_MAX_Z; z++)
        if (w->require[z]) ADD("%s%s", first ? "requires " : " ", ms_element_symbol(z)), first = 0;
    if (!first) ADD("; ");
    first = 1;
    for (int z = 1; z <= MS_MAX_Z; z++)
        if (w->exclude[z]) ADD("%s%s", first ? "excludes " : " ", ms_element_symbol(z)), first = 0;
    if (!first) ADD("; ");
    if (isfinite(w->max_atoms)) ADD("at most %.10g atoms per cell; ", w->max_atoms);
    if (w->reject_warnings) ADD("records with reader warnings removed; ");
    for (size_t i = 0; i < w->n_ranges; i++) {
        const ms_workflow_range *r = &w->ranges[i];
        if (isfinite(r->min) && isfinite(r->max))
            ADD("%.10g <= %s <= %.10g; ", r->min, r->quantity, r->max);
        else if (isfinite(r->min)) ADD("%s >= %.10g; ", r->quantity, r->min);
        else ADD("%s <= %.10g; ", r->quantity, r->max);
    }
#undef ADD
    if (k >= 2 && k < n && out[k - 2] == ';') out[k - 2] = 0;
}

/* Rank 0: the screen stage. Returns the exit code. */
static int run_screen(int argc, char **argv, const run_args *a, const ms_workflow *w,
                      ms_pipeline *p, int size, double t_start)
{
    const char *dir = a->out_dir ? a->out_dir : w->output_dir;
    const char *specs[MS_WORKFLOW_MAX_SOURCES];
    for (size_t i = 0; i < w->n_sources; i++) specs[i] = w->sources[i].spec;
    ms_results *res = NULL;
    ms_source *src = NULL;
    ms_source_options so;
    ms_source_options_default(&so);
    so.format = w->n_sources ? w->sources[0].format : MS_FORMAT_AUTO;
    ms_status st = mkdir_p(dir) == 0 ? MS_SUCCESS
                                     : ms_error_set(MS_ERR_IO, "cannot create %s: %s", dir,
                                                    strerror(errno));
    int had_previous = st == MS_SUCCESS && keep_previous(dir);
    if (st == MS_SUCCESS) st = ms_results_open(dir, &res);
    if (st == MS_SUCCESS) st = ms_source_create(specs, w->n_sources, &so, &src);
    int ok = st == MS_SUCCESS;
    if (!ok) fprintf(stderr, "matscreen run: %s\n", ms_error_message());
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok) {
        ms_results_free(res);
        return 2;
    }
    ms_farm_options fo;
    ms_farm_options_default(&fo);
    fo.progress = !a->quiet;
    ms_farm_stats stats;
    collect_ctx cc = {w, res, 0};
    st = ms_farm_run(MPI_COMM_WORLD, src, p, &fo, collect, &cc, &stats);
    ms_source_free(src);
    if (st == MS_SUCCESS) {
        ms_run_info info = {argc, argv, specs, w->n_sources, size, w->seed,
                            ms_rank_by_name((ms_rank_by)w->rank_by), w->ascending, w->top_k,
                            now() - t_start, stats.seconds, stats.tasks, stats.messages};
        st = ms_results_finish(res, &info, p->elements);
    }
    ms_results_free(res);
    if (st != MS_SUCCESS) {
        fprintf(stderr, "matscreen run: %s\n", ms_error_message());
        return 2;
    }
    char filters[1024], prev[MS_WORKFLOW_PATH_MAX + 16];
    describe_filters(w, filters, sizeof filters);
    snprintf(prev, sizeof prev, "%s/previous", dir);
    ms_report_options ro = {w->name, w->file, 1, w->hash, cc.filtered,
                            filters[0] ? filters : NULL, had_previous ? prev : NULL, NULL};
    st = ms_report_write(dir, &ro);
    if (st != MS_SUCCESS) {
        fprintf(stderr, "matscreen run: report: %s\n", ms_error_message());
        return 2;
    }
    if (!a->quiet)
        fprintf(stderr, "matscreen run: %s: %llu records, %llu failed, %llu filtered out, %d rank%s, "
                        "%.2f s\n", w->name, stats.records, stats.failed, cc.filtered, size,
                size > 1 ? "s" : "", now() - t_start);
    printf("report: %s/report.html\n", dir);
    return 0;
}

/* Rank 0: loads the workflow; fills settings. Returns the exit code so far (0 = go on). */
static int load_workflow(const run_args *a, ms_workflow **w, run_settings *s)
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
        return 1; /* stop, successfully */
    }
    if (a->resume)
        fprintf(stderr, "matscreen run: note: --resume needs the engine's journal, which this "
                        "build does not have yet; the run starts over\n");
    s->go = 1;
    s->rank_by = wf->rank_by;
    s->ascending = wf->ascending;
    s->default_db = MS_DB_UNKNOWN;
    s->seed = wf->seed;
    /* One database for every source: records that do not state theirs get it. */
    int same = wf->n_sources > 0;
    for (size_t i = 1; i < wf->n_sources; i++) same &= wf->sources[i].db == wf->sources[0].db;
    if (same) s->default_db = wf->sources[0].db;
    return 0;
}

int ms_cmd_run(int argc, char **argv)
{
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) MPI_Init(&argc, &argv);
    double t_start = now();
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    run_args a;
    int code = parse_args(argc, argv, &a, rank);
    ms_workflow *w = NULL;
    run_settings s;
    memset(&s, 0, sizeof s);
    if (code == 0 && a.help) {
        if (rank == 0) run_usage(stdout);
    } else if (code == 0) {
        if (rank == 0) {
            code = load_workflow(&a, &w, &s);
            if (code == 1) code = 0; /* --validate-only: valid */
        }
        MPI_Bcast(&s, (int)sizeof s, MPI_BYTE, 0, MPI_COMM_WORLD);
        if (s.go) {
            ms_element_table *elements = NULL;
            ms_pipeline p;
            int ok = ms_element_table_load_default(&elements) == MS_SUCCESS &&
                     ms_pipeline_init(&p, elements, (ms_rank_by)s.rank_by, s.ascending, s.seed) ==
                         MS_SUCCESS;
            if (!ok) fprintf(stderr, "matscreen run (rank %d): %s\n", rank, ms_error_message());
            if (ok) p.read_opt.default_db = (ms_source_db)s.default_db;
            int all_ok = 0;
            MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
            if (!all_ok) {
                code = 2;
            } else if (rank == 0) {
                code = run_screen(argc, argv, &a, w, &p, size, t_start);
            } else {
                int go = 0;
                MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
                if (go) ms_farm_run(MPI_COMM_WORLD, NULL, &p, NULL, NULL, NULL, NULL);
            }
            if (ok) ms_pipeline_destroy(&p);
            ms_element_table_free(elements);
        }
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    ms_workflow_free(w);
    MPI_Finalize();
    return code;
}
