/*
 * report.html: one self-contained page describing an output directory (docs/workflows.md).
 *
 * Conventions
 *   - Inputs are the files the engine writes into the directory (docs/engine.md): ranked.csv,
 *     errors.csv, quality.json, manifest.json; optional evaluation.csv (columns id, observed,
 *     predicted, sigma: a model's held-out or cross-validated predictions) gives parity and
 *     calibration plots. "What changed" comes from the state store's history of runs when given
 *     (ms_report_history, state.h), else from a previous run's directory.
 *   - The page needs no network: CSS and plots are inline (SVG), no scripts, no fonts, no images.
 *     Every text taken from data (formulas, file names, reasons) is HTML-escaped.
 *   - Deterministic: the same directory gives the same bytes. The only run-dependent values are
 *     those of manifest.json that differ between runs by design (ranks, timings); each is on a
 *     line of its own carrying the attribute data-volatile, so tests can compare the rest.
 *   - Memory is bounded by top-K and the error count of the previous run, not by the number of
 *     candidates: ranked.csv is streamed twice (range, then histograms).
 *   - Not collective: rank 0 writes the report.
 */
#ifndef MATSCREEN_REPORT_H
#define MATSCREEN_REPORT_H

#include <stdint.h>

#include "matscreen/error.h"

/* One row of a previous run's top-K, as kept by the state store (state.h). */
typedef struct ms_report_top_entry {
    char *key, *formula, *source_id;
    double score;
} ms_report_top_entry;

/* One error row of a previous run. */
typedef struct ms_report_error_entry {
    char *key, *stage, *reason;
} ms_report_error_entry;

/* One input (task) of the current run that was computed again or removed. kind is "new",
 * "changed", "identity" (same bytes, recomputed for new models or descriptors) or "removed". */
typedef struct ms_report_input_change {
    char *path;
    long long offset, length;  /* byte range (length -1: the whole file) */
    char kind[16];
} ms_report_input_change;

/* "What changed" from the state store: filled by ms_state_history, freed by
 * ms_state_history_free. has_previous 0: this is the first run in the store. */
typedef struct ms_report_history {
    int has_previous;
    long long previous_run, current_run;
    char previous_started[32];               /* UTC time the previous run started */
    size_t n_top;                            /* previous run's top-K, best first */
    ms_report_top_entry *top;
    size_t n_errors;                         /* previous run's errors */
    ms_report_error_entry *errors;
    size_t n_inputs;                         /* the current run's recomputed and removed inputs */
    ms_report_input_change *inputs;
    unsigned long long reused, computed;     /* tasks reused from the store / computed */
} ms_report_history;

typedef struct ms_report_options {
    const char *title;             /* heading, e.g. the workflow name; NULL: "matscreen run" */
    const char *workflow_file;     /* shown in the summary; may be NULL */
    int has_workflow_hash;         /* 1: workflow_hash is shown */
    uint64_t workflow_hash;
    unsigned long long filtered;   /* screened candidates removed by workflow filters */
    const char *filters_text;      /* one-line description of the filters, or NULL */
    const char *previous_dir;      /* directory with the previous run's ranked.csv, errors.csv;
                                      NULL or missing files: no comparison */
    const char *evaluation_csv;    /* NULL: DIR/evaluation.csv when it exists */
    const ms_report_history *history; /* from the state store; when given, previous_dir is
                                         ignored and the comparison is with the stored run */
} ms_report_options;

/* Writes DIR/report.html (through a temporary file and rename). opt may be NULL. Fails with
 * MS_ERR_IO when ranked.csv cannot be read or the page cannot be written, MS_ERR_PARSE when an
 * input file is malformed (message names file and line). Not collective. */
ms_status ms_report_write(const char *dir, const ms_report_options *opt);

#endif /* MATSCREEN_REPORT_H */
