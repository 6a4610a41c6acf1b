/*
 * The workflow executor: one call runs a loaded workflow's stages (campaign, or train / evaluate
 * and then the screen), with the output directory locked, the nightly state store, the report and
 * incremental.json. `matscreen run` is its command-line face (src/cli/cmd_run.c): it parses flags,
 * loads the XML on rank 0, broadcasts it and prints what this returns; the executor prints
 * nothing, so a library user gets the same run without the command's messages.
 */
#ifndef MATSCREEN_WORKFLOW_RUN_H
#define MATSCREEN_WORKFLOW_RUN_H

#include <mpi.h>
#include <stdint.h>

#include "matscreen/screen.h"
#include "matscreen/state.h"
#include "matscreen/workflow.h"

#define MS_WORKFLOW_RUN_WARNINGS 4
#define MS_WORKFLOW_RUN_WARNING_MAX 600

typedef struct ms_workflow_run_options {
    const char *out_dir; /* NULL: the workflow's <output dir> */
    const char *state;   /* the state store; NULL: OUT_DIR/state.db */
    int resume;          /* continue the run whose journal is in OUT_DIR */
    int no_state;        /* no state store: the previous outputs move to OUT_DIR/previous/ */
    int full_check;      /* the state store hashes every input's bytes */
    int progress;        /* the screen's progress lines on stderr (rank 0) */
    int argc;            /* the command line, for the manifest and the directory lock */
    char **argv;
    double started;      /* monotonic seconds when the command started (incremental.json's
                          * seconds_total); 0: when ms_workflow_run was called */
    /* Called on rank 0 when a train or evaluate stage is done, before the screen starts (a
     * nightly log shows the model's figures while the screen runs); NULL: not called. */
    void (*stage_done)(const char *stage, const ms_workflow_model_summary *s, void *user);
    void *user;
} ms_workflow_run_options;

typedef struct ms_workflow_run_result {
    int campaign;                      /* the stage was a campaign: only `campaign` is set */
    ms_workflow_campaign_summary campaign_summary;
    ms_screen_summary screen;          /* the screen's counts (rank 0) */
    int has_state;                     /* a state store was used: counts, run_id, state_path */
    ms_state_counts counts;
    int64_t run_id;
    char state_path[MS_WORKFLOW_PATH_MAX + 16];
    int64_t unchanged_since;           /* > 0: inputs, settings and outputs were those of this
                                          earlier run, whose outputs were kept (state.h) */
    double seconds_screen, seconds_total;
    size_t n_warnings;                 /* things that did not stop the run, for the log */
    char warnings[MS_WORKFLOW_RUN_WARNINGS][MS_WORKFLOW_RUN_WARNING_MAX];
} ms_workflow_run_result;

void ms_workflow_run_options_default(ms_workflow_run_options *o);

/* Runs the workflow w (the same copy on every rank of comm). Collective on comm. Rank 0 takes
 * the output directory's lock, keeps the state store and writes the report; rank 0's status is
 * the run's (the others return theirs from the collective stages). On failure the message says
 * which stage failed and why ("train: ...", "report: ..."). */
ms_status ms_workflow_run(MPI_Comm comm, const ms_workflow *w, const ms_workflow_run_options *o,
                          ms_workflow_run_result *result);

#endif /* MATSCREEN_WORKFLOW_RUN_H */
