/*
 * matscreen model info MODEL...: prints what a model file is (kind, task, target, descriptor
 * set, features, training data hash) and how it scored (OOB and CV metrics stored in it).
 * Not an MPI program: it never calls MPI_Init.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "matscreen/model.h"

static void model_usage(FILE *out)
{
    fprintf(out, "usage: matscreen model info MODEL...\n\n"
                 "Prints what each model file is and how it scored. A damaged, truncated or\n"
                 "foreign file gives a one-line error naming it; the others are still shown.\n\n"
                 "Exit status: 0 every record was processed; 1 some records failed (each is reported,\n"
                 "the rest is done); 2 usage error, a missing input path, or nothing could be read.\n"
                 "(Here each model file is one record.)\n");
}

int ms_cmd_model(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        model_usage(stdout);
        return 0;
    }
    if (argc < 3 || strcmp(argv[1], "info") != 0) {
        model_usage(stderr);
        return 2;
    }
    int failed = 0;
    for (int i = 2; i < argc; i++) {
        ms_model *m = NULL;
        if (ms_model_load(argv[i], &m) != MS_SUCCESS) {
            fprintf(stderr, "matscreen model: %s\n", ms_error_message());
            failed++;
            continue;
        }
        printf("file: %s\n", argv[i]);
        ms_model_describe(m, stdout);
        ms_model_free(m);
    }
    /* the one exit rule: nothing read is 2, some files refused is 1 */
    return failed == argc - 2 ? 2 : failed ? 1 : 0;
}
