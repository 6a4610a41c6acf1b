/*
 * Filters on screened records: required and excluded elements, atoms per cell, ranges of the
 * ranking quantities, records with reader warnings. ONE implementation for `matscreen screen`
 * (--require-elements, --exclude-elements, --max-atoms, --range, and a model's own requirement,
 * model.h) and the workflow's <filters> (workflow.h).
 *
 * Conventions
 *   - Applied on rank 0 to screened records (failed records are errors, not filtered), before
 *     de-duplication; every record filtered is counted (ms_screen_summary.filtered, manifest).
 *   - Elements: a record holds z when its reduced formula has a positive amount of z. A formula
 *     that cannot be parsed fails the element filters only when some are set.
 *   - max_atoms: occupancy-weighted atoms per cell, +inf when unset; ranges are inclusive, with
 *     -inf / +inf for an open end; a NaN value fails a range.
 *   - Plain data (no pointers): it may be copied or sent as bytes. Not collective.
 */
#ifndef MATSCREEN_RECORD_FILTER_H
#define MATSCREEN_RECORD_FILTER_H

#include <stddef.h>

#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/pipeline.h"

#define MS_RECORD_FILTER_MAX_RANGES 64

typedef struct ms_record_range {
    char quantity[64];   /* a ranking quantity (ms_rank_by_from_name) */
    int rank_by;         /* its ms_rank_by value */
    double min, max;     /* -inf / +inf when not given */
} ms_record_range;

typedef struct ms_record_filter {
    unsigned char require[MS_MAX_Z + 1]; /* require[z] = 1: records must contain element z */
    unsigned char exclude[MS_MAX_Z + 1]; /* exclude[z] = 1: records must not contain z */
    double max_atoms;                    /* +inf when unset */
    int reject_warnings;                 /* 1: drop records with reader warnings */
    size_t n_ranges;
    ms_record_range ranges[MS_RECORD_FILTER_MAX_RANGES];
} ms_record_filter;

/* No filter: nothing required or excluded, max_atoms +inf, no range. */
void ms_record_filter_init(ms_record_filter *f);

/* 1 when f filters anything. */
int ms_record_filter_active(const ms_record_filter *f);

/* 1 when a record described by (reduced formula, occupancy-weighted atoms per cell, result
 * flags, quantity values by ms_rank_by: MS_RANK_COUNT entries, may be NULL) passes f. */
int ms_record_filter_accepts(const ms_record_filter *f, const char *formula, double n_atoms,
                             unsigned flags, const double *values);

/* The same on a screened result (its quantities from ms_result_quantity). */
int ms_record_filter_accepts_result(const ms_record_filter *f, const ms_result *r);

/* Parses a list of element symbols ("Li,Na K": commas and/or spaces) and sets set[z] = 1 for
 * each. MS_ERR_USAGE naming the first bad symbol, or when the list is empty. */
ms_status ms_record_filter_parse_elements(const char *text, unsigned char *set);

/* Adds a range on quantity name: MS_ERR_USAGE when name is not a ranking quantity (listing
 * them), min > max, a NaN bound, both ends open, or the table is full. */
ms_status ms_record_filter_add_range(ms_record_filter *f, const char *name, double min,
                                     double max);

/* Parses "NAME:MIN:MAX" (either bound may be empty: open) and adds it. */
ms_status ms_record_filter_parse_range(ms_record_filter *f, const char *spec);

/* A one-line description ("requires Li; excludes Pb; at most 200 atoms per cell; 1 <= density
 * <= 5"), "" when f filters nothing. */
void ms_record_filter_describe(const ms_record_filter *f, char *out, size_t n);

#endif /* MATSCREEN_RECORD_FILTER_H */
