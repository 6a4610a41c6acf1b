/*
 * matscreen featurize -i INPUT... -o features.csv [--set NAME]: one CSV row of descriptors per
 * structure. Inputs are enumerated as by the screening engine (source.h: files, directories walked
 * recursively in sorted order, globs, @lists), so the row order is the same on every file system.
 *
 * Columns: file, block, index, source_db, source_id, reduced_formula, then the features of the set
 * in the set's order, printed with %.17g (round-trip exact); NaN prints as "NaN". With --reasons a
 * last column "nan_reasons" lists "feature=reason" for every NaN (and imputed) feature, separated
 * by ";". A record that cannot be read or featurized is never dropped silently: it becomes a line
 * of the errors file (-e, default stderr) with file, block, index, stage and reason, and the exit
 * status is 1.
 *
 * Single process for now: under mpirun with more than one rank it refuses to run (every rank would
 * write the same file) until it moves onto the screening engine's task farm.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "matscreen/outfile.h"
#include "matscreen/composition.h"
#include "matscreen/csv.h"
#include "matscreen/descriptor.h"
#include "matscreen/element.h"
#include "matscreen/featurize.h"
#include "matscreen/reader.h"
#include "matscreen/source.h"
#include "matscreen/structure.h"

typedef struct {
    const ms_element_table *elements;
    ms_structure_featurizer *fz;
    FILE *out, *err;
    int reasons;
    size_t n_features;
    double *row;
    unsigned char *reason;
    size_t n_ok, n_failed;
    int write_failed;
} featurize_state;

static void report_error(featurize_state *st, const char *file, const char *block, size_t index,
                         const char *stage, const char *message)
{
    st->n_failed++;
    ms_csv_write_field(st->err, file ? file : "");
    fputc(',', st->err);
    ms_csv_write_field(st->err, block ? block : "");
    fprintf(st->err, ",%zu,%s,", index, stage);
    ms_csv_write_field(st->err, message ? message : "");
    fputc('\n', st->err);
}

static int on_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    featurize_state *st = user;
    if (status != MS_SUCCESS) {
        report_error(st, s->prov.file, s->prov.block, s->prov.index, "read", message);
        return 0;
    }
    ms_error_clear();
    ms_status fs = ms_structure_featurizer_compute(st->fz, s, st->row, st->reason);
    if (fs != MS_SUCCESS) {
        report_error(st, s->prov.file, s->prov.block, s->prov.index, "featurize",
                     ms_error_message());
        return 0;
    }
    char reduced[MS_FORMULA_MAX];
    if (ms_composition_reduced_formula(ms_structure_featurizer_composition(st->fz), st->elements,
                                       reduced, sizeof reduced) != MS_SUCCESS)
        reduced[0] = '\0';
    FILE *o = st->out;
    ms_csv_write_field(o, s->prov.file ? s->prov.file : "");
    fputc(',', o);
    ms_csv_write_field(o, s->prov.block);
    fprintf(o, ",%zu,%s,", s->prov.index, ms_source_db_name(s->prov.db));
    ms_csv_write_field(o, s->prov.source_id);
    fputc(',', o);
    ms_csv_write_field(o, reduced);
    for (size_t k = 0; k < st->n_features; k++) {
        if (isnan(st->row[k])) fputs(",NaN", o);
        else fprintf(o, ",%.17g", st->row[k]);
    }
    if (st->reasons) {
        fputc(',', o);
        int first = 1;
        for (size_t k = 0; k < st->n_features; k++) {
            if (st->reason[k] == MS_NAN_NONE) continue;
            fprintf(o, "%s%s=%s", first ? "" : ";",
                    ms_structure_featurizer_feature_name(st->fz, k),
                    ms_nan_reason_name((ms_nan_reason)st->reason[k]));
            first = 0;
        }
    }
    fputc('\n', o);
    st->n_ok++;
    return 0;
}

static void featurize_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen featurize -i INPUT... -o features.csv [--set NAME] [-e errors.csv]\n"
            "                           [--reasons] [--format cif|json|jsonl|poscar]\n\n"
            "Computes the descriptors of a named set for every structure of the inputs and writes\n"
            "one CSV row per structure: file, block, index, source_db, source_id, reduced_formula,\n"
            "then the features (%%.17g; NaN where a value cannot be computed). INPUT is a file, a\n"
            "directory (walked recursively in sorted order), a glob or @LIST. '-o -' writes to\n"
            "standard output.\n\n"
            "  -i, --input INPUT...  structure files or directories\n"
            "  -o, --output FILE     the feature table\n"
            "  -s, --set NAME        descriptor set (default: default); valid sets:");
    for (size_t i = 0; i < ms_descriptor_set_count(); i++)
        fprintf(out, " %s", ms_descriptor_set_get(i)->name);
    fprintf(out,
            "\n  -e, --errors FILE     records that failed (file,block,index,stage,reason);\n"
            "                        default: standard error\n"
            "  -r, --reasons         add a last column listing why each NaN is NaN\n"
            "  -f, --format FMT      force the input format\n"
            "  -h, --help            this text\n\n"
            MS_CLI_EXIT_HELP "Failed records are listed in the errors file. Single process: under mpirun run\n"
            "it with one rank.\n");
}

static int more_than_one_rank(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 1) return 1;
    }
    return 0;
}

int ms_cmd_featurize(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"input", required_argument, NULL, 'i'},  {"output", required_argument, NULL, 'o'},
        {"set", required_argument, NULL, 's'},    {"errors", required_argument, NULL, 'e'},
        {"reasons", no_argument, NULL, 'r'},      {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    if (!inputs) return 2;
    size_t n_inputs = 0;
    const char *out_path = NULL, *err_path = NULL, *set_name = "default";
    ms_format format = MS_FORMAT_AUTO;
    int reasons = 0, c, bad = 0;
    while ((c = getopt_long(argc, argv, "i:o:s:e:rf:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            inputs[n_inputs++] = optarg;
            while (optind < argc && argv[optind][0] != '-') inputs[n_inputs++] = argv[optind++];
            break;
        case 'o': out_path = optarg; break;
        case 's': set_name = optarg; break;
        case 'e': err_path = optarg; break;
        case 'r': reasons = 1; break;
        case 'f':
            if (strcmp(optarg, "cif") == 0) format = MS_FORMAT_CIF;
            else if (strcmp(optarg, "json") == 0) format = MS_FORMAT_JSON;
            else if (strcmp(optarg, "jsonl") == 0) format = MS_FORMAT_JSONL;
            else if (strcmp(optarg, "poscar") == 0) format = MS_FORMAT_POSCAR;
            else bad = 1;
            break;
        case 'h':
            featurize_usage(stdout);
            free(inputs);
            return 0;
        default: bad = 1;
        }
    }
    for (; optind < argc; optind++) inputs[n_inputs++] = argv[optind];
    if (bad || n_inputs == 0 || !out_path) {
        featurize_usage(stderr);
        free(inputs);
        return 2;
    }
    int missing = 0;
    for (size_t i = 0; i < n_inputs; i++) missing |= ms_cli_input_missing("featurize", inputs[i]);
    if (missing) {
        free(inputs);
        return 2;
    }
    double t0 = ms_cli_now();
    if (more_than_one_rank()) {
        fprintf(stderr, "matscreen featurize: runs as a single process for now; start it with one "
                        "rank (mpirun -np 1) or without mpirun\n");
        free(inputs);
        return 2;
    }
    const ms_descriptor_set *set;
    if (ms_descriptor_set_lookup(set_name, &set) != MS_SUCCESS) {
        fprintf(stderr, "matscreen featurize: %s\n", ms_error_message());
        free(inputs);
        return 2;
    }
    int rc = 2;
    featurize_state st = {0};
    ms_atomic_file *af = NULL; /* features.csv, unless it goes to stdout */
    ms_element_table *elements = NULL;
    ms_source *src = NULL;
    if (ms_element_table_load_default(&elements) != MS_SUCCESS) {
        fprintf(stderr, "matscreen featurize: %s\n", ms_error_message());
        goto done;
    }
    st.elements = elements;
    st.reasons = reasons;
    if (ms_structure_featurizer_create(set, elements, NULL, &st.fz) != MS_SUCCESS) {
        fprintf(stderr, "matscreen featurize: %s\n", ms_error_message());
        goto done;
    }
    st.n_features = ms_structure_featurizer_n_features(st.fz);
    st.row = malloc((st.n_features + 1) * sizeof *st.row);
    st.reason = malloc(st.n_features + 1);
    if (!st.row || !st.reason) goto done;
    /* features.csv is written beside and renamed at the end (outfile.h): a failed run keeps
     * the previous file whole. */
    if (strcmp(out_path, "-") == 0) st.out = stdout;
    else if (ms_atomic_open(out_path, &af) == MS_SUCCESS) st.out = ms_atomic_stream(af);
    if (!st.out) {
        fprintf(stderr, "matscreen featurize: %s\n", ms_error_message());
        goto done;
    }
    st.err = err_path ? fopen(err_path, "w") : stderr;
    if (!st.err) {
        fprintf(stderr, "matscreen featurize: cannot write %s\n", err_path);
        goto done;
    }
    if (err_path) fputs("file,block,index,stage,reason\n", st.err);
    fputs("file,block,index,source_db,source_id,reduced_formula", st.out);
    for (size_t k = 0; k < st.n_features; k++) {
        fputc(',', st.out);
        ms_csv_write_field(st.out, ms_structure_featurizer_feature_name(st.fz, k));
    }
    if (reasons) fputs(",nan_reasons", st.out);
    fputc('\n', st.out);

    ms_source_options sopt;
    ms_source_options_default(&sopt);
    sopt.format = format;
    sopt.chunk_bytes = 0; /* whole files: one process reads everything anyway */
    if (ms_source_create(inputs, n_inputs, &sopt, &src) != MS_SUCCESS) {
        fprintf(stderr, "matscreen featurize: %s\n", ms_error_message());
        goto done;
    }
    ms_read_options ropt;
    ms_read_options_default(&ropt);
    static ms_task task; /* 4 kB path: off the stack */
    while (ms_source_next(src, &task)) {
        if (task.status != MS_SUCCESS) {
            report_error(&st, task.path, "", 0, "input", task.reason);
            continue;
        }
        ms_error_clear();
        ms_status s = ms_read_file(task.path, task.format, &ropt, on_record, &st);
        if (s != MS_SUCCESS) report_error(&st, task.path, "", 0, "read", ms_error_message());
    }
    if (fflush(st.out) != 0 || ferror(st.out)) {
        fprintf(stderr, "matscreen featurize: error writing %s\n", out_path);
        goto done;
    }
    if (af && ms_atomic_commit(&af) != MS_SUCCESS) {
        fprintf(stderr, "matscreen featurize: %s\n", ms_error_message());
        goto done;
    }
    char tail[256];
    snprintf(tail, sizeof tail, "%zu rows, set %s/%d (%zu features)", st.n_ok, set->name,
             set->version, st.n_features);
    ms_cli_summary("featurize", st.n_ok + st.n_failed, st.n_failed, ms_cli_now() - t0, tail);
    rc = ms_cli_status(st.n_ok + st.n_failed, st.n_failed);
done:
    ms_atomic_abort(&af); /* not committed: the previous file stays */
    if (st.err && st.err != stderr) fclose(st.err);
    ms_source_free(src);
    free(st.row);
    free(st.reason);
    ms_structure_featurizer_destroy(&st.fz);
    ms_element_table_free(elements);
    free(inputs);
    return rc;
}
