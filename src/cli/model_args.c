/* Options shared by train and evaluate; see model_args.h. */
#include "model_args.h"

#include <getopt.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/bcast.h"
#include "matscreen/calibration.h"
#include "matscreen/number.h"
#include "matscreen/select.h"

/* After the options: what each command requires, and the data source. 0, or 2 (said by rank 0). */
static int check_required(const ms_model_args *a, int argc, const char *command, int select,
                          int train, int rank)
{
    if (select && !a->select && !a->help) {
        if (rank == 0) fprintf(stderr, "matscreen select: --select SPEC is required (see --help)\n");
        return 2;
    }
    if (train && !select && !a->output) {
        if (rank == 0) fprintf(stderr, "matscreen train: -o MODEL is required (see --help)\n");
        return 2;
    }
    if (optind < argc || (!a->matbench && !a->labels)) {
        if (rank == 0)
            fprintf(stderr, "matscreen %s: give --matbench FILE or -l LABELS (see --help)\n", command);
        return 2;
    }
    if (a->labels && !a->formula_col && !a->input) {
        if (rank == 0) fprintf(stderr, "matscreen %s: -l needs --formula-column or -i DIR\n", command);
        return 2;
    }
    if (a->repeats < 1 || a->repeats > 100 || (a->cv && (a->cv < 2 || a->cv > MS_CV_MAX_FOLDS))) {
        if (rank == 0) fprintf(stderr, "matscreen %s: --cv 2..64, --repeats 1..100\n", command);
        return 2;
    }
    return 0;
}

/* The options each command takes, so that getopt refuses the others: an option a command would
 * ignore is a usage error, never silently dropped. compare runs every kind with its defaults
 * (no learner options); select fits once, without cross-validation or calibration.
 * tests/integration/docs.sh checks every option of these tables against --help and the man page. */
#define DATA_LONGOPTS                                                                              \
    {"matbench", required_argument, 0, 'M'}, {"labels", required_argument, 0, 'l'},               \
        {"input", required_argument, 0, 'i'}, {"formula-column", required_argument, 0, 'F'},      \
        {"id-column", required_argument, 0, 'I'}, {"target", required_argument, 0, 't'},          \
        {"log10", no_argument, 0, 'L'}, {"threshold", required_argument, 0, 'T'},                 \
        {"max-rows", required_argument, 0, 'N'}, {"seed", required_argument, 0, 's'},             \
        {"group", required_argument, 0, 'G'}, {"help", no_argument, 0, 'h'}
#define CV_LONGOPTS                                                                                \
    {"cv", required_argument, 0, 'c'}, {"calibrate", required_argument, 0, 'B'},                  \
        {"calibration-fit", required_argument, 0, 'E'}
#define LEARNER_LONGOPTS                                                                           \
    {"kind", required_argument, 0, 'k'}, {"set", required_argument, 0, 'S'},                      \
        {"param", required_argument, 0, 'p'}, {"select", required_argument, 0, 'x'}

static const struct option train_longopts[] = {
    DATA_LONGOPTS, CV_LONGOPTS, LEARNER_LONGOPTS,
    {"output", required_argument, 0, 'o'}, {"conformal", required_argument, 0, 'Q'},
    {"goal", required_argument, 0, 'y'}, {"requires", required_argument, 0, 'z'},
    {0, 0, 0, 0}};
static const struct option select_longopts[] = {
    DATA_LONGOPTS, LEARNER_LONGOPTS, {"output", required_argument, 0, 'o'}, {0, 0, 0, 0}};
static const struct option evaluate_longopts[] = {
    DATA_LONGOPTS, CV_LONGOPTS, LEARNER_LONGOPTS,
    {"model", required_argument, 0, 'm'}, {"repeats", required_argument, 0, 'r'},
    {"folds", required_argument, 0, 'f'}, {"task", required_argument, 0, 'a'},
    {"class-threshold", required_argument, 0, 'C'}, {"importance", required_argument, 0, 'P'},
    {"predictions", required_argument, 0, 'O'}, {0, 0, 0, 0}};
static const struct option compare_longopts[] = {DATA_LONGOPTS, CV_LONGOPTS, {0, 0, 0, 0}};

/* Options of train and evaluate that compare refuses on purpose (it runs every kind with its
 * defaults on the same folds), as the user typed them: "-p", "-pX", "--kind", "--kind=X". */
static int not_for_compare(const char *arg)
{
    static const char *const names[] = {"--kind", "--set", "--folds", "--param", "--model"};
    if (arg[0] == '-' && (arg[1] == 'p' || arg[1] == 'm' || arg[1] == 'k')) return 1;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(arg, names[i], n) == 0 && (arg[n] == '\0' || arg[n] == '=')) return 1;
    }
    return 0;
}

int ms_model_args_parse(int argc, char **argv, const char *command, ms_model_args *a, int rank)
{
    /* select takes train's options; its -o MODEL is optional */
    const int select = strcmp(command, "select") == 0, train = select || !strcmp(command, "train");
    const int compare = strcmp(command, "compare") == 0;
    memset(a, 0, sizeof *a);
    a->kind = "forest";
    a->threshold = a->class_threshold = NAN;
    a->repeats = 1;
    a->group.kind = MS_GROUP_CHEMSYS;
    a->calibrate = 1;
    a->cal_criterion = -1; /* the learner's default (ms_train_calibration_criterion) */
    const struct option *longopts = select    ? select_longopts
                                    : train   ? train_longopts
                                    : compare ? compare_longopts
                                              : evaluate_longopts;
    const char *shortopts = train ? "o:k:l:i:t:p:s:h" : compare ? "l:i:t:s:h" : "m:k:l:i:t:p:s:h";
    optind = 1;
    opterr = rank == 0;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        ms_status st = MS_SUCCESS;
        switch (c) {
        case 'o': a->output = optarg; break;
        case 'm': a->model = optarg; break;
        case 'k': a->kind = optarg; break;
        case 'M': a->matbench = optarg; break;
        case 'l': a->labels = optarg; break;
        case 'i': a->input = optarg; break;
        case 'F': a->formula_col = optarg; break;
        case 'I': a->id_col = optarg; break;
        case 't': a->target = optarg; break;
        case 'S': a->set = optarg; break;
        case 'L': a->log10 = 1; break;
        case 'T':
            st = ms_parse_double("--threshold", optarg, -MS_NUM_MAX, MS_NUM_MAX, &a->threshold);
            break;
        case 'p':
            if (ms_model_options_add(&a->opt, optarg) != MS_SUCCESS) {
                if (rank == 0) fprintf(stderr, "matscreen %s: %s\n", command, ms_error_message());
                return 2;
            }
            break;
        case 'c': st = ms_parse_size("--cv", optarg, 2, MS_CV_MAX_FOLDS, &a->cv); break;
        case 'r': st = ms_parse_int("--repeats", optarg, 1, 100, &a->repeats); break;
        case 'f': a->folds = optarg; break;
        case 'a': a->task = optarg; break;
        case 's': st = ms_parse_u64("--seed", optarg, 0, UINT64_MAX, &a->seed); break;
        case 'C':
            st = ms_parse_double("--class-threshold", optarg, -MS_NUM_MAX, MS_NUM_MAX,
                                 &a->class_threshold);
            break;
        case 'P': st = ms_parse_int("--importance", optarg, 0, 100000, &a->importance); break;
        case 'O': a->predictions = optarg; break;
        case 'N': st = ms_parse_size("--max-rows", optarg, 0, MS_COUNT_MAX, &a->max_rows); break;
        case 'x':
            if (ms_select_check(optarg) != MS_SUCCESS) {
                if (rank == 0) fprintf(stderr, "matscreen %s: %s\n", command, ms_error_message());
                return 2;
            }
            a->select = optarg;
            break;
        case 'G':
            if (ms_group_spec_parse(optarg, &a->group) != MS_SUCCESS) {
                if (rank == 0) fprintf(stderr, "matscreen %s: %s\n", command, ms_error_message());
                return 2;
            }
            break;
        case 'B':
        case 'E':
            if (c == 'B' ? strcmp(optarg, "grouped") && strcmp(optarg, "oob")
                         : ms_calibration_criterion_lookup(optarg) < 0) {
                if (rank == 0)
                    fprintf(stderr, "matscreen %s: --%s %s: use %s\n", command,
                            c == 'B' ? "calibrate" : "calibration-fit", optarg,
                            c == 'B' ? "grouped or oob" : "area, likelihood or coverage");
                return 2;
            }
            if (c == 'B') a->calibrate = !strcmp(optarg, "grouped");
            else a->cal_criterion = ms_calibration_criterion_lookup(optarg);
            break;
        case 'Q': st = ms_parse_double("--conformal", optarg, 1e-9, 1 - 1e-9, &a->conformal); break;
        case 'z': a->requires = optarg; break;
        case 'y':
            if (strcmp(optarg, "max") == 0 || strcmp(optarg, "min") == 0) {
                a->goal = optarg[1] == 'a' ? MS_GOAL_MAX : MS_GOAL_MIN;
            } else {
                if (rank == 0)
                    fprintf(stderr, "matscreen train: --goal '%s': give max (larger targets are "
                                    "better) or min\n", optarg);
                return 2;
            }
            break;
        case 'h': a->help = 1; return 0;
        default: /* getopt said which option; say where the options are */
            if (rank == 0 && compare && not_for_compare(argv[optind - 1]))
                fprintf(stderr, "matscreen compare: every kind runs with its defaults on the same "
                                "grouped folds: -p, -m, --kind, --set and --folds are not options "
                                "of compare (see --help)\n");
            else if (rank == 0)
                fprintf(stderr, "matscreen %s: 'matscreen %s --help' lists its options\n", command,
                        command);
            return 2;
        }
        if (st != MS_SUCCESS) {
            if (rank == 0) fprintf(stderr, "matscreen %s: %s\n", command, ms_error_message());
            return 2;
        }
    }
    return check_required(a, argc, command, select, train, rank);
}

void ms_model_args_data_spec(const ms_model_args *a, const ms_model *m, ms_dataset_spec *ds)
{
    ms_dataset_spec_default(ds);
    if (a->matbench) {
        ds->source = MS_DATASET_MATBENCH;
        ds->path = a->matbench;
    } else if (a->input) {
        ds->source = MS_DATASET_STRUCTURE_CSV;
        ds->path = a->labels;
        ds->structure_dir = a->input;
        ds->id_column = a->id_col ? a->id_col : "ID";
    } else {
        ds->source = MS_DATASET_FORMULA_CSV;
        ds->path = a->labels;
        ds->formula_column = a->formula_col;
        ds->id_column = a->id_col;
    }
    ds->target = a->target;
    ds->set = a->set ? a->set : "magpie";
    ds->log10_target = a->log10;
    ds->threshold = a->threshold;
    ds->max_rows = a->max_rows;
    if (a->group.kind == MS_GROUP_COLUMN) ds->group_column = a->group.column;
    if (m) {
        if (m->descriptor_set[0]) ds->set = m->descriptor_set;
        if (m->target[0] && !a->target && !a->matbench) ds->target = m->target;
        ds->log10_target = m->log10_target;
        ds->threshold = m->threshold;
    }
}

int ms_model_args_load(const ms_model_args *a, const char *command, int rank, ms_model **m,
                       ms_dataset *d)
{
    *m = NULL;
    memset(d, 0, sizeof *d);
    ms_status st = MS_SUCCESS;
    if (a->model) st = ms_model_load_bcast(MPI_COMM_WORLD, a->model, m, NULL);
    ms_dataset_spec ds;
    ms_model_args_data_spec(a, *m, &ds);
    if (st == MS_SUCCESS) st = ms_dataset_load_bcast(MPI_COMM_WORLD, &ds, d);
    /* every rank has the same status and message: rank 0 says it */
    if (st != MS_SUCCESS && rank == 0)
        fprintf(stderr, "matscreen %s: %s\n", command, ms_error_message());
    return st == MS_SUCCESS ? 0 : 2;
}

int *ms_model_args_spec(const ms_model_args *a, const ms_dataset *d, ms_model_spec *spec)
{
    ms_model_spec_default(spec);
    spec->kind = a->kind;
    spec->task = d->classification ? MS_MODEL_CLASSIFICATION : MS_MODEL_REGRESSION;
    spec->options = a->opt;
    spec->seed = a->seed;
    spec->select = a->select;
    spec->group = ms_model_args_select_groups(a, d);
    return (int *)spec->group;
}

int *ms_model_args_select_groups(const ms_model_args *a, const ms_dataset *d)
{
    if (!a->select || a->group.kind == MS_GROUP_NONE) return NULL;
    int *g = malloc((d->n + 1) * sizeof *g);
    size_t ng = 0;
    if (g && ms_cv_groups(d, &a->group, a->seed, g, &ng) == MS_SUCCESS) return g;
    free(g);
    return NULL;
}

int ms_model_command(int argc, char **argv, const char *command, void (*usage)(FILE *),
                     int (*run)(const ms_model_args *, const ms_dataset *, int))
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    ms_model_args a;
    int code = ms_model_args_parse(argc, argv, command, &a, rank);
    if (code == 0 && a.help) {
        if (rank == 0) usage(stdout);
    } else if (code == 0) {
        ms_model *none = NULL; /* train and select have no -m */
        ms_dataset d;
        code = ms_model_args_load(&a, command, rank, &none, &d);
        if (code == 0) code = run(&a, &d, rank);
        ms_dataset_free(&d);
        ms_model_free(none);
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return code;
}
