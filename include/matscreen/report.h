/*
 * report.html: one self-contained page describing an output directory (docs/workflows.md).
 *
 * Conventions
 *   - Inputs are the files the engine writes into the directory (docs/engine.md): ranked.csv,
 *     errors.csv, quality.json, manifest.json; optional evaluation.csv (columns id, observed,
 *     predicted, sigma: a model's held-out or cross-validated predictions) gives parity and
 *     calibration plots. A previous run's directory, when given, gives "what changed".
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
} ms_report_options;

/* Writes DIR/report.html (through a temporary file and rename). opt may be NULL. Fails with
 * MS_ERR_IO when ranked.csv cannot be read or the page cannot be written, MS_ERR_PARSE when an
 * input file is malformed (message names file and line). Not collective. */
ms_status ms_report_write(const char *dir, const ms_report_options *opt);

#endif /* MATSCREEN_REPORT_H */
