/*
 * matscreen screen -i INPUT... -o DIR: the screening engine from the command line.
 *
 * MPI_Init and MPI_Finalize happen here (not in main), so commands that do not need MPI stay
 * plain programs. Without mpirun Open MPI starts a singleton and rank 0 runs the pipeline itself.
 * Every rank parses the same argv; only rank 0 enumerates inputs and writes outputs. Each rank
 * loads the element table itself (see docs/engine.md: a broadcast needs an element-table-from-
 * buffer loader in src/core).
 */
#include <getopt.h>
#include <inttypes.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "matscreen/element.h"
#include "matscreen/farm.h"
#include "matscreen/journal.h"
#include "matscreen/pipeline.h"
#include "matscreen/results.h"
#include "matscreen/source.h"

static void screen_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen screen -i INPUT... -o DIR [--top K] [--rank-by NAME] [--ascending]\n"
            "                        [--seed N] [--format cif|json|jsonl|poscar] [--resume] [--quiet]\n"
            "       mpirun -np N matscreen screen ...\n\n"
            "Screens crystal structures: every record of every input is read, validated and\n"
            "described, then ranked. INPUT is a file, a directory (walked recursively in sorted\n"
            "order), a quoted glob pattern, or @LIST (a file naming one input per line); -i may\n"
            "be repeated and takes several inputs. Large JSON Lines files are split by byte range.\n\n"
            "Outputs in DIR: ranked.csv and ranked.jsonl (one row per unique candidate, best\n"
            "first), top/*.cif (the best K as P1 CIFs), errors.csv (every record that failed,\n"
            "with stage and reason), quality.json and manifest.json. ranked.csv is identical for\n"
            "any number of MPI ranks.\n\n"
            "Checkpoints: DIR/journal records every result as it arrives. After a crash or a kill,\n"
            "the same command with --resume finishes the run; the outputs are the same bytes as\n"
            "those of a run that was never interrupted. --resume is refused when the inputs (names,\n"
            "sizes, modification times) or the options differ. A file that was being screened\n"
            "when the run died twice is not run again: errors.csv lists it with stage quarantine.\n\n"
            "  -i, --input INPUT   structures to screen (required)\n"
            "  -o, --output DIR    output directory, created if needed (required)\n"
            "  -k, --top K         number of top candidates written as CIF (default 20)\n"
            "  -r, --rank-by NAME  li_fraction (default), density, volume, volume_per_atom,\n"
            "                      n_sites or n_atoms; larger first unless --ascending\n"
            "  -a, --ascending     smaller values rank first\n"
            "  -s, --seed N        seed of every random stream (default 0), written to the manifest\n"
            "  -f, --format F      read every file as F instead of detecting it\n"
            "  -m, --model MODEL   (models are not available yet)\n"
            "  -R, --resume        continue the run recorded in DIR/journal (a new run if none)\n"
            "  -q, --quiet         no progress on stderr\n"
            "  -h, --help          this text\n\n"
            "Exit status: 0 when the screen completed (failed records are in errors.csv),\n"
            "2 on usage errors or when outputs could not be written.\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    const char **inputs;
    size_t n_inputs;
    const char *out_dir;
    size_t top_k;
    int rank_by, ascending, quiet, help, resume;
    uint64_t seed;
    ms_format format;
} screen_args;

/* Returns 0 when the arguments are usable, 2 on usage errors (message printed by rank 0). */
static int parse_args(int argc, char **argv, screen_args *a, int rank)
{
    static const struct option longopts[] = {
        {"input", required_argument, NULL, 'i'},   {"output", required_argument, NULL, 'o'},
        {"top", required_argument, NULL, 'k'},     {"rank-by", required_argument, NULL, 'r'},
        {"ascending", no_argument, NULL, 'a'},     {"seed", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},  {"model", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {"resume", no_argument, NULL, 'R'},
        {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    a->top_k = 20;
    a->inputs = calloc((size_t)argc + 1, sizeof *a->inputs);
    if (!a->inputs) return 2;
    int c, bad = 0;
    char *end;
    opterr = rank == 0;
    while ((c = getopt_long(argc, argv, "i:o:k:r:as:f:m:qhR", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            a->inputs[a->n_inputs++] = optarg;
            /* -i A B C: the following non-option words are inputs too. */
            while (optind < argc && argv[optind][0] != '-') a->inputs[a->n_inputs++] = argv[optind++];
            break;
        case 'o': a->out_dir = optarg; break;
        case 'k':
            a->top_k = (size_t)strtoull(optarg, &end, 10);
            if (*end || optarg[0] == '-') bad = 1;
            break;
        case 'r':
            a->rank_by = ms_rank_by_from_name(optarg);
            if (a->rank_by < 0) {
                if (rank == 0) {
                    fprintf(stderr, "matscreen screen: unknown --rank-by '%s'; valid:", optarg);
                    for (int i = 0; i < MS_RANK_COUNT; i++)
                        fprintf(stderr, " %s", ms_rank_by_name((ms_rank_by)i));
                    fputc('\n', stderr);
                }
                return 2;
            }
            break;
        case 'a': a->ascending = 1; break;
        case 's':
            a->seed = (uint64_t)strtoull(optarg, &end, 10);
            if (*end || optarg[0] == '-') bad = 1;
            break;
        case 'f':
            if (strcmp(optarg, "cif") == 0) a->format = MS_FORMAT_CIF;
            else if (strcmp(optarg, "json") == 0) a->format = MS_FORMAT_JSON;
            else if (strcmp(optarg, "jsonl") == 0) a->format = MS_FORMAT_JSONL;
            else if (strcmp(optarg, "poscar") == 0) a->format = MS_FORMAT_POSCAR;
            else bad = 1;
            break;
        case 'm':
            if (rank == 0)
                fprintf(stderr, "matscreen screen: -m %s: models are not available yet (they come "
                                "with the models issue); rank with --rank-by for now\n", optarg);
            return 2;
        case 'q': a->quiet = 1; break;
        case 'R': a->resume = 1; break;
        case 'h': a->help = 1; return 0;
        default: bad = 1;
        }
    }
    for (; optind < argc; optind++) a->inputs[a->n_inputs++] = argv[optind];
    if (!bad && (a->n_inputs == 0 || !a->out_dir)) {
        if (rank == 0) fprintf(stderr, "matscreen screen: -i INPUT and -o DIR are required\n");
        bad = 1;
    }
    if (bad && rank == 0) screen_usage(stderr);
    return bad ? 2 : 0;
}

/* Rank 0's part after argument parsing; returns the exit code. Broadcasts "go" to the workers:
 * 0 stop, 1 run the farm, 2 nothing to run (a resumed run that had finished: outputs only). */
static int screen_master(int argc, char **argv, const screen_args *a, ms_pipeline *p, int size,
                         double t_start)
{
    ms_results *res = NULL;
    ms_source *src = NULL;
    ms_source_options so;
    ms_source_options_default(&so);
    so.format = a->format;
    ms_journal_identity id;
    ms_journal_info ji = {0};
    ms_status st = ms_journal_identity_inputs(&id, a->inputs, a->n_inputs, &so);
    id.seed = a->seed;
    id.top_k = a->top_k;
    id.rank_by = a->rank_by;
    id.ascending = a->ascending;
    id.format = (int32_t)a->format;
    if (st == MS_SUCCESS) st = ms_results_open_journal(a->out_dir, &id, a->resume, &res);
    if (st == MS_SUCCESS) ms_journal_get_info(ms_results_journal(res), &ji);
    if (st == MS_SUCCESS && !ji.finished) st = ms_source_create(a->inputs, a->n_inputs, &so, &src);
    int go = st != MS_SUCCESS ? 0 : ji.finished ? 2 : 1;
    if (!go) fprintf(stderr, "matscreen screen: %s\n", ms_error_message());
    else if (a->resume && !a->quiet && ji.lives == 0)
        fprintf(stderr, "matscreen screen: --resume: no journal in %s, starting from the beginning\n",
                a->out_dir);
    else if (a->resume && !a->quiet)
        fprintf(stderr, "matscreen screen: resuming after %u run%s: %llu tasks done, %llu results "
                        "kept, %llu dropped (unfinished tasks), %llu torn bytes cut, %zu suspect%s "
                        "to run alone, %zu quarantined%s\n",
                ji.lives, ji.lives > 1 ? "s" : "", ji.tasks_done, ji.results, ji.dropped,
                ji.torn_bytes, ji.suspects, ji.suspects == 1 ? "" : "s", ji.quarantined,
                ji.finished ? "; the screen had finished, writing the outputs" : "");
    MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!go) {
        ms_results_free(res);
        return 2;
    }
    ms_farm_options fo;
    ms_farm_options_default(&fo);
    fo.progress = !a->quiet;
    ms_farm_hooks hooks;
    ms_journal_farm_hooks(ms_results_journal(res), &hooks);
    fo.hooks = &hooks;
    ms_farm_stats stats = {0};
    if (go == 1) {
        st = ms_farm_run(MPI_COMM_WORLD, src, p, &fo, ms_results_add, res, &stats);
        if (st == MS_SUCCESS) st = ms_journal_finish(ms_results_journal(res));
    }
    ms_source_free(src);
    int code = 0;
    if (st == MS_SUCCESS) {
        ms_run_info info = {argc, argv, a->inputs, a->n_inputs, size, a->seed,
                            ms_rank_by_name((ms_rank_by)a->rank_by), a->ascending, a->top_k,
                            now() - t_start, stats.seconds, stats.tasks, stats.messages};
        st = ms_results_finish(res, &info, p->elements);
    }
    if (st != MS_SUCCESS) {
        fprintf(stderr, "matscreen screen: %s\n", ms_error_message());
        code = 2;
    } else if (!a->quiet) {
        fprintf(stderr, "matscreen screen: %llu records this run, %llu failed, %llu quarantined, "
                        "%d rank%s, %.2f s; outputs in %s\n",
                stats.records, stats.failed, stats.quarantined, size, size > 1 ? "s" : "",
                now() - t_start, a->out_dir);
    }
    ms_results_free(res);
    return code;
}

int ms_cmd_screen(int argc, char **argv)
{
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) MPI_Init(&argc, &argv);
    double t_start = now();
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    screen_args a;
    int code = parse_args(argc, argv, &a, rank);
    if (code == 0 && a.help) {
        if (rank == 0) screen_usage(stdout);
    } else if (code == 0) {
        ms_element_table *elements = NULL;
        ms_pipeline p;
        int ok = ms_element_table_load_default(&elements) == MS_SUCCESS &&
                 ms_pipeline_init(&p, elements, (ms_rank_by)a.rank_by, a.ascending, a.seed) ==
                     MS_SUCCESS;
        if (!ok) fprintf(stderr, "matscreen screen (rank %d): %s\n", rank, ms_error_message());
        int all_ok = 0;
        MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        if (!all_ok) {
            code = 2;
        } else if (rank == 0) {
            code = screen_master(argc, argv, &a, &p, size, t_start);
        } else {
            int go = 0;
            MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
            if (go == 1) ms_farm_run(MPI_COMM_WORLD, NULL, &p, NULL, NULL, NULL, NULL);
        }
        if (ok) ms_pipeline_destroy(&p);
        ms_element_table_free(elements);
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    free(a.inputs);
    MPI_Finalize();
    return code;
}
