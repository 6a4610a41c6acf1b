/*
 * matscreen featurize -i INPUT... -o features.csv [--set NAME]: one CSV row of descriptors per
 * structure. The run is ms_featurize_run (featurize_run.h, src/parallel/featurize_run.c: columns,
 * order, how the ranks share the work); this file is its flags, messages and exit code. A record
 * that cannot be read or featurized is a line of the errors file (-e, default stderr) and makes
 * the exit status 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "matscreen/comm.h"
#include "matscreen/descriptor.h"
#include "matscreen/element.h"
#include "matscreen/featurize_run.h"

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
            MS_CLI_EXIT_HELP "Failed records are listed in the errors file. Under mpirun the files are\n"
            "shared among the ranks; the table is the same bytes for any number of ranks.\n");
}

/* Rank 0: the table (header line included) and the errors file. */
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
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const ms_descriptor_set *set;
    if (ms_descriptor_set_lookup(set_name, &set) != MS_SUCCESS) {
        fprintf(stderr, "matscreen featurize: %s\n", ms_error_message());
        free(inputs);
        return 2;
    }
    int rc = 2;
    ms_element_table *elements = NULL;
    if (ms_element_table_load_default(&elements) != MS_SUCCESS) {
        fprintf(stderr, "matscreen featurize: %s\n", ms_error_message());
        free(inputs);
        return 2;
    }
    ms_featurize_run_config cfg = {inputs, n_inputs, format, set, elements, out_path, err_path,
                                   reasons};
    ms_featurize_run_summary sum;
    ms_status st = ms_featurize_run(MPI_COMM_WORLD, &cfg, &sum);
    if (st != MS_SUCCESS) {
        if (rank == 0) fprintf(stderr, "matscreen featurize: %s\n", ms_error_message());
    } else {
        rc = ms_cli_status(sum.ok + sum.failed, sum.failed);
        char tail[256];
        snprintf(tail, sizeof tail, "%llu rows, set %s/%d (%zu features)", sum.ok, set->name,
                 set->version, sum.n_features);
        if (rank == 0)
            ms_cli_summary("featurize", sum.ok + sum.failed, sum.failed, ms_cli_now() - t0, tail);
    }
    ms_element_table_free(elements);
    free(inputs);
    return rc;
}
