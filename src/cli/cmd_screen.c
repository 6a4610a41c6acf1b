/*
 * matscreen screen -i INPUT... -o DIR: the screening engine from the command line.
 *
 * MPI is started and ended by main.c (comm.h) for the commands that use it; the others stay
 * plain programs. Without mpirun Open MPI starts a singleton and rank 0 runs the pipeline itself.
 * Every rank parses the same argv; only rank 0 enumerates inputs and writes outputs. Each rank
 * loads the element table itself (see docs/engine.md: a broadcast needs an element-table-from-
 * buffer loader in src/core).
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "matscreen/number.h"
#include "matscreen/screen.h"

static void screen_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen screen -i INPUT... -o DIR [-m MODEL [-m MODEL]] [--top K]\n"
            "                        [--rank-by NAME] [--best Y] [--ascending|--descending]\n"
            "                        [--set NAME]\n"
            "                        [--seed N] [--format cif|json|jsonl|poscar] [--resume] [--quiet]\n"
            "       mpirun -np N matscreen screen ...\n\n"
            "Screens crystal structures: every record of every input is read, validated, analysed\n"
            "for symmetry, fingerprinted, featurized, scored by the models, then ranked. INPUT is a file, a directory (walked recursively in sorted\n"
            "order), a quoted glob pattern, or @LIST (a file naming one input per line); -i may\n"
            "be repeated and takes several inputs. Large JSON Lines files are split by byte range.\n\n"
            "Outputs in DIR: ranked.csv and ranked.jsonl (one row per unique candidate, best\n"
            "first), top/*.cif (the best K as P1 CIFs), errors.csv (every record that failed,\n"
            "with stage and reason), quality.json and manifest.json. ranked.csv is identical for\n"
            "any number of MPI ranks.\n\n"
            "Checkpoints: DIR/journal records every result as it arrives. After a crash or a kill,\n"
            "the same command with --resume finishes the run; the outputs are the same bytes as\n"
            "those of a run that was never interrupted. --resume is refused when the inputs (names,\n"
            "sizes, modification times) or the options differ. A file that crashed its rank twice\n"
            "(or was running at three deaths of the run) is not run again: errors.csv lists it\n"
            "with stage quarantine. Kills from outside (a time limit) never quarantine a file.\n\n"
            "  -i, --input INPUT   structures to screen (required)\n"
            "  -o, --output DIR    output directory, created if needed (required)\n"
            "  -k, --top K         number of top candidates written as CIF (default 20)\n"
            "  -m, --model MODEL   a classifier and/or a regression surrogate (matscreen train);\n"
            "                      fills class_prob, surrogate_mean, surrogate_sigma\n"
            "  -r, --rank-by NAME  an acquisition: ei (default with a surrogate), pi, mu (max\n"
            "                      uncertainty), ucb, mean, gated (EI x classifier probability),\n"
            "                      prob (default with only a classifier); or a quantity:\n"
            "                      li_fraction (default without models), density, volume,\n"
            "                      volume_per_atom, n_sites, n_atoms. EI, PI, MU are multiplied by\n"
            "                      the classifier probability when both models are given\n"
            "      --best Y        best label so far for ei / pi / gated (surrogate target units;\n"
            "                      default: the surrogate's best training label, y_best)\n"
            "      --xi X          EI / PI margin (default 0);  --kappa K: UCB weight (default 2)\n"
            "  -a, --ascending     smaller values rank first (acquisitions: minimise the target)\n"
            "      --descending    larger values rank first (maximise). Without either, the\n"
            "                      surrogate's stored goal (train --goal min|max) decides,\n"
            "                      else larger first\n"
            "      --set NAME      descriptor set (default: the models' set; none without models)\n"
            "      --expect-li     a structure without Li fails validation\n"
            "      --require-elements LIST  keep records holding every element of LIST (Li,S)\n"
            "      --exclude-elements LIST  drop records holding any element of LIST (Pb,Hg)\n"
            "      --max-atoms N   drop records with more than N atoms per cell\n"
            "      --range NAME:MIN:MAX  keep records with MIN <= NAME <= MAX (an end may be\n"
            "                      empty); NAME: li_fraction density volume volume_per_atom\n"
            "                      n_sites n_atoms. Repeatable, as the two lists\n"
            "      --domain rank|gate|off  the models' domain of applicability (columns\n"
            "                      domain_score, in_domain, domain_reason): rank (default)\n"
            "                      puts out-of-domain records after in-domain ones; gate\n"
            "                      multiplies the score by a smooth weight (ei, pi, mu, prob,\n"
            "                      gated); off reports it only\n"
            "      --ignore-model-requirements  do not apply the elements a model requires\n"
            "                      (matscreen model info: \"requires elements\"; an OBELiX\n"
            "                      conductivity model requires Li). Filtered records are\n"
            "                      counted in the summary and the manifest\n"
            "      --explain K     why each candidate scored as it did: the K (1..20) features\n"
            "                      with the largest contributions to the surrogate (else the\n"
            "                      classifier): exact TreeSHAP for a forest, XGBoost's for gbm;\n"
            "                      a last ranked.csv column \"name=value:contribution; ...\" and\n"
            "                      \"explain\" in ranked.jsonl (outputs are unchanged without it)\n"
            "      --reuse-cache MIB  memory per rank (default 16) for exact duplicates: a record\n"
            "                      whose cell and sites equal, byte for byte, those of one the\n"
            "                      rank screened before reuses its symmetry and features (same\n"
            "                      outputs; the manifest counts reused_records); 0: off\n"
            "  -s, --seed N        seed of every random stream (default 0), written to the manifest\n"
            "  -f, --format F      read every file as F instead of detecting it\n"
            "  -R, --resume        continue the run recorded in DIR/journal (a new run if none)\n"
            "      --dry-run       measure the master: workers neither read files nor compute\n"
            "                      (one synthetic record per task); enumeration, journal, index\n"
            "                      and outputs run as usual (no top CIFs). Rows are not science\n"
            "  -q, --quiet         no progress on stderr\n"
            "  -h, --help          this text\n\n"
            MS_CLI_EXIT_HELP "Failed records are in DIR/errors.csv; outputs that cannot be written are 2.\n");
}

typedef struct {
    ms_screen_input *inputs;
    ms_screen_config cfg;
    ms_record_filter filter;
    int quiet, help;
} screen_args;

/* --require-elements, --exclude-elements (element lists) and --range (NAME:MIN:MAX). */
static ms_status parse_filter(int c, const char *arg, ms_record_filter *f)
{
    ms_status st = c == 'G' ? ms_record_filter_parse_range(f, arg)
                            : ms_record_filter_parse_elements(arg, c == 'e' ? f->require : f->exclude);
    if (st != MS_SUCCESS && c != 'G')
        ms_error_prefix("--%s '%s'", c == 'e' ? "require-elements" : "exclude-elements", arg);
    for (int z = 1; st == MS_SUCCESS && z <= MS_MAX_Z; z++)
        if (f->require[z] && f->exclude[z])
            st = ms_error_set(MS_ERR_USAGE, "%s is both required and excluded; no record can pass",
                              ms_element_symbol(z));
    return st;
}

/* Returns 0 when the arguments are usable, 2 on usage errors (message printed by rank 0). */
static int parse_args(int argc, char **argv, screen_args *a, int rank)
{
    static const struct option longopts[] = {
        {"input", required_argument, NULL, 'i'},   {"output", required_argument, NULL, 'o'},
        {"top", required_argument, NULL, 'k'},     {"rank-by", required_argument, NULL, 'r'},
        {"ascending", no_argument, NULL, 'a'},     {"seed", required_argument, NULL, 's'},
        {"descending", no_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},  {"model", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {"resume", no_argument, NULL, 'R'},        {"set", required_argument, NULL, 'S'},
        {"best", required_argument, NULL, 'B'},    {"xi", required_argument, NULL, 'X'},
        {"kappa", required_argument, NULL, 'K'},   {"expect-li", no_argument, NULL, 'L'},
        {"require-elements", required_argument, NULL, 'e'},
        {"exclude-elements", required_argument, NULL, 'x'},
        {"max-atoms", required_argument, NULL, 'A'},
        {"range", required_argument, NULL, 'G'},
        {"ignore-model-requirements", no_argument, NULL, 'I'},
        {"domain", required_argument, NULL, 'D'},
        {"explain", required_argument, NULL, 'E'}, {"dry-run", no_argument, NULL, 'N'},
        {"reuse-cache", required_argument, NULL, 'U'},
        {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    ms_screen_config_default(&a->cfg);
    ms_record_filter_init(&a->filter);
    a->cfg.argc = argc;
    a->cfg.argv = argv;
    a->inputs = calloc((size_t)argc + 1, sizeof *a->inputs);
    if (!a->inputs) return 2;
    size_t n = 0;
    int c, bad = 0;
    opterr = rank == 0;
    while ((c = getopt_long(argc, argv, "i:o:k:r:as:f:m:qhR", longopts, NULL)) != -1) {
        ms_status st = MS_SUCCESS;
        switch (c) {
        case 'i':
            a->inputs[n++].spec = optarg;
            /* -i A B C: the following non-option words are inputs too. */
            while (optind < argc && argv[optind][0] != '-') a->inputs[n++].spec = argv[optind++];
            break;
        case 'o': a->cfg.out_dir = optarg; break;
        case 'k': st = ms_parse_size("--top", optarg, 0, MS_TOP_K_MAX, &a->cfg.top_k); break;
        case 'r': a->cfg.rank_by = optarg; break;
        case 'a':
        case 'd':
            if (a->cfg.ascending >= 0 && a->cfg.ascending != (c == 'a')) {
                if (rank == 0) fprintf(stderr, "matscreen screen: give --ascending or --descending, not both\n");
                bad = 1;
            }
            a->cfg.ascending = c == 'a';
            break;
        case 's': st = ms_parse_u64("--seed", optarg, 0, UINT64_MAX, &a->cfg.seed); break;
        case 'f':
            if (strcmp(optarg, "cif") == 0) a->cfg.format = MS_FORMAT_CIF;
            else if (strcmp(optarg, "json") == 0) a->cfg.format = MS_FORMAT_JSON;
            else if (strcmp(optarg, "jsonl") == 0) a->cfg.format = MS_FORMAT_JSONL;
            else if (strcmp(optarg, "poscar") == 0) a->cfg.format = MS_FORMAT_POSCAR;
            else bad = 1;
            break;
        case 'm':
            if (a->cfg.n_models == MS_SCREEN_MAX_MODELS) {
                if (rank == 0) fprintf(stderr, "matscreen screen: at most %d models (-m)\n",
                                       MS_SCREEN_MAX_MODELS);
                bad = 1;
            } else {
                a->cfg.model_paths[a->cfg.n_models++] = optarg;
            }
            break;
        case 'S': a->cfg.descriptor_set = optarg; break;
        case 'B':
            st = ms_parse_double("--best", optarg, -MS_NUM_MAX, MS_NUM_MAX, &a->cfg.best);
            break;
        case 'X': st = ms_parse_double("--xi", optarg, 0, MS_NUM_MAX, &a->cfg.xi); break;
        case 'K': st = ms_parse_double("--kappa", optarg, 0, MS_NUM_MAX, &a->cfg.kappa); break;
        case 'L': a->cfg.validate.expect_li = 1; break;
        case 'e':
        case 'x':
        case 'G': st = parse_filter(c, optarg, &a->filter); break;
        case 'A': /* at most what the readers accept */
            st = ms_parse_double("--max-atoms", optarg, 1, 1e6, &a->filter.max_atoms);
            break;
        case 'I': a->cfg.ignore_model_requirements = 1; break;
        case 'D':
            if (strcmp(optarg, "rank") == 0) a->cfg.domain = MS_SCREEN_DOMAIN_RANK;
            else if (strcmp(optarg, "gate") == 0) a->cfg.domain = MS_SCREEN_DOMAIN_GATE;
            else if (strcmp(optarg, "off") == 0) a->cfg.domain = MS_SCREEN_DOMAIN_OFF;
            else {
                if (rank == 0)
                    fprintf(stderr, "matscreen screen: --domain '%s': give rank, gate or off\n",
                            optarg);
                bad = 1;
            }
            break;
        case 'E': st = ms_parse_size("--explain", optarg, 1, 20, &a->cfg.explain_k); break;
        case 'N': a->cfg.dry_run = 1; break;
        case 'U': {
            size_t mib = 0;
            st = ms_parse_size("--reuse-cache", optarg, 0, 1u << 20, &mib);
            a->cfg.reuse_bytes = mib << 20;
            break;
        }
        case 'q': a->quiet = 1; break;
        case 'R': a->cfg.resume = 1; break;
        case 'h': a->help = 1; return 0;
        default: bad = 1;
        }
        if (st != MS_SUCCESS) {
            if (rank == 0) fprintf(stderr, "matscreen screen: %s\n", ms_error_message());
            bad = 1;
        }
    }
    for (; optind < argc; optind++) a->inputs[n++].spec = argv[optind];
    a->cfg.filter = &a->filter;
    a->cfg.inputs = a->inputs;
    a->cfg.n_inputs = n;
    a->cfg.progress = !a->quiet;
    if (!bad && a->cfg.dry_run && (a->cfg.n_models || a->cfg.descriptor_set || a->cfg.explain_k)) {
        if (rank == 0)
            fprintf(stderr, "matscreen screen: --dry-run computes nothing: drop -m, --set and "
                            "--explain\n");
        bad = 1;
    }
    if (a->cfg.dry_run) a->cfg.top_k = 0; /* top CIFs re-read real records */
    if (!bad && (n == 0 || !a->cfg.out_dir)) {
        if (rank == 0) fprintf(stderr, "matscreen screen: -i INPUT and -o DIR are required\n");
        bad = 1;
    }
    if (bad && rank == 0) screen_usage(stderr);
    return bad ? 2 : 0;
}

/* Runs the screen; the exit code on every rank (commands.h). */
/* The filter, domain of applicability and best label behind the ranking, after the summary. */
static void screen_details(const screen_args *a, const ms_screen_summary *sum)
{
    if (sum->filters[0])
        fprintf(stderr, "matscreen screen: %llu records filtered out: %s\n", sum->filtered,
                sum->filters);
    if (sum->has_domain)
        fprintf(stderr, "matscreen screen: domain of applicability: %llu records in, %llu "
                        "out (%llu with elements not in training, %llu far from the "
                        "training rows)%s\n",
                sum->in_domain, sum->out_of_domain, sum->ood_elements, sum->ood_far,
                a->cfg.domain == MS_SCREEN_DOMAIN_RANK ? "; out-of-domain records rank last"
                : a->cfg.domain == MS_SCREEN_DOMAIN_GATE ? "; scores weighted by it" : "");
    if (sum->direction_source && a->cfg.ascending < 0 && strncmp(sum->direction_source, "the model", 9) == 0)
        fprintf(stderr, "matscreen screen: %s first, from %s\n",
                sum->ascending ? "smaller (minimise)" : "larger (maximise)", sum->direction_source);
    if (sum->best_source)
        fprintf(stderr, "matscreen screen: %s best label so far %.6g, from %s\n",
                a->cfg.rank_by ? a->cfg.rank_by : "ei", sum->best, sum->best_source);
    if (sum->reused)
        fprintf(stderr, "matscreen screen: %llu records had the cell and sites of one screened "
                        "before on their rank: its symmetry and features were reused "
                        "(--reuse-cache)\n", sum->reused);
}

static int screen(const screen_args *a, int rank, int size)
{
    ms_screen_summary sum;
    memset(&sum, 0, sizeof sum);
    ms_status st = ms_screen_run(MPI_COMM_WORLD, &a->cfg, &sum);
    int code = st == MS_SUCCESS ? ms_cli_status(sum.records + sum.earlier_records,
                                                sum.failed + sum.earlier_failed)
                                : 2;
    if (sum.resumed_finished && st == MS_SUCCESS) code = sum.failed ? 1 : 0;
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank != 0) return code;
    if (st != MS_SUCCESS) {
        fprintf(stderr, "matscreen screen: %s\n", ms_error_message());
        return code;
    }
    char tail[1200];
    snprintf(tail, sizeof tail, "%llu quarantined, %llu filtered, %llu tasks from the cache, %d "
             "rank%s, %.2f s in all; outputs in %s%s", sum.quarantined, sum.filtered,
             sum.cache_hits, size, size > 1 ? "s" : "", sum.seconds, a->cfg.out_dir,
             code == 2 ? " (nothing could be read: see errors.csv)" : "");
    ms_cli_summary("screen", sum.records, sum.failed, sum.farm_seconds, tail);
    if (!a->quiet) screen_details(a, &sum);
    return code;
}

int ms_cmd_screen(int argc, char **argv)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    screen_args a;
    int code = parse_args(argc, argv, &a, rank);
    if (code == 0 && a.help) {
        if (rank == 0) screen_usage(stdout);
    } else if (code == 0) {
        int missing = 0;
        if (rank == 0)
            for (size_t i = 0; i < a.cfg.n_inputs; i++)
                missing |= ms_cli_input_missing("screen", a.cfg.inputs[i].spec);
        MPI_Bcast(&missing, 1, MPI_INT, 0, MPI_COMM_WORLD);
        code = missing ? 2 : screen(&a, rank, size);
    }
    free(a.inputs);
    return code;
}
