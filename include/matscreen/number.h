/*
 * Parsing of numeric options and attributes: the one place where a command-line value or a
 * workflow attribute becomes a number, so every one refuses the same things the same way.
 *
 * The whole text must be the number (no trailing characters, no empty text); a double must be
 * finite ("nan", "inf", 1e999 are refused) and inside [lo, hi]; an integer must be written in
 * decimal without a sign and inside [lo, hi] (strtoull would turn "-1" into 2^64-1 and
 * "99999999999999999999" into ULLONG_MAX). On failure the error names the option, the value and
 * the valid range: "--xi: 'nan' is not a finite number (give a number in [0, 1e+06])".
 * Not collective; thread-safe.
 */
#ifndef MATSCREEN_NUMBER_H
#define MATSCREEN_NUMBER_H

#include <stdint.h>

#include "matscreen/error.h"

/* Upper bound of a value with no natural one: finite, and far from overflow in arithmetic. */
#define MS_NUM_MAX 1e300

/* Upper bound of a count (rows, candidates, top-K): far below any overflow in size arithmetic. */
#define MS_COUNT_MAX 1000000000000ULL

/* Upper bound of top-K (CIFs written for the best candidates): it is an int in the manifest. */
#define MS_TOP_K_MAX 1000000000ULL

/* *out = the finite double text names, lo <= *out <= hi; MS_ERR_USAGE otherwise (*out kept). */
ms_status ms_parse_double(const char *name, const char *text, double lo, double hi, double *out);

/* *out = the unsigned decimal integer text names, lo <= *out <= hi; MS_ERR_USAGE otherwise. */
ms_status ms_parse_u64(const char *name, const char *text, uint64_t lo, uint64_t hi, uint64_t *out);

/* ms_parse_u64 into a size_t. */
ms_status ms_parse_size(const char *name, const char *text, uint64_t lo, uint64_t hi, size_t *out);

/* ms_parse_u64 into an int (hi is capped at INT_MAX). */
ms_status ms_parse_int(const char *name, const char *text, int lo, int hi, int *out);

#endif /* MATSCREEN_NUMBER_H */
