/*
 * A JSON text written straight into a growing buffer, one value at a time: for outputs written
 * once per record (ranked.jsonl), where building a jansson tree per row and dumping it cost a
 * quarter of the master's time (docs/scale.md).
 *
 * Conventions
 *   - The text is byte for byte what jansson's json_dumps gives for the same values with
 *     JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(precision), so outputs written
 *     with either are the same (tests/unit/test_json_writer.c compares the two):
 *     reals as printf's "%.<precision>g" with ".0" added when the text has neither '.' nor 'e'
 *     and the exponent without '+' or leading zeros (1e+20 -> 1e20, 1.5e-05 -> 1.5e-5);
 *     integers as "%lld"; strings with \" \\ \b \f \n \r \t and \u00XX (upper-case hex) for
 *     the other bytes below 0x20, everything else (UTF-8, '/', DEL) as is.
 *   - Strings that are not valid UTF-8 (JSON's rule) are written escaped by ms_name_escape
 *     (outfile.h: invalid bytes as \xHH), so that provenance is never dropped.
 *   - Non-finite reals are written as null (JSON has no NaN).
 *   - Commas are placed by the writer: begin/end containers, ms_json_key before each member's
 *     value. Nesting deeper than MS_JSON_MAX_DEPTH, or a key outside an object, is a bug of the
 *     caller and marks the writer failed.
 *   - Out of memory marks the writer failed (ms_json_writer.failed); later calls do nothing.
 *   - Not collective; no global state.
 */
#ifndef MATSCREEN_JSON_WRITER_H
#define MATSCREEN_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>

#define MS_JSON_MAX_DEPTH 32

typedef struct ms_json_writer {
    char *data;        /* the text so far, NUL-terminated once anything was written */
    size_t n, cap;     /* its length and capacity in bytes */
    int failed;        /* out of memory or misuse: the text is incomplete */
    int precision;     /* significant digits of reals (jansson's JSON_REAL_PRECISION) */
    int depth;         /* open containers */
    int after_key;     /* a key was written and waits for its value */
    uint32_t has_item; /* bit d: the container at depth d already holds an item */
    uint32_t is_object; /* bit d: the container at depth d is an object */
} ms_json_writer;

/* Starts an empty writer whose reals have precision significant digits (1-17). */
void ms_json_writer_init(ms_json_writer *w, int precision);

/* Empties the text (keeps the memory) and clears failed. */
void ms_json_writer_reset(ms_json_writer *w);

/* Frees the memory; the writer may be initialised again. */
void ms_json_writer_free(ms_json_writer *w);

void ms_json_object_begin(ms_json_writer *w);
void ms_json_object_end(ms_json_writer *w);
void ms_json_array_begin(ms_json_writer *w);
void ms_json_array_end(ms_json_writer *w);

/* The name of the next member of the current object (escaped like a string). */
void ms_json_key(ms_json_writer *w, const char *key);

/* Values, as the next array item or the value of the key just written. s NULL writes null. */
void ms_json_string(ms_json_writer *w, const char *s);
void ms_json_real(ms_json_writer *w, double v);
void ms_json_integer(ms_json_writer *w, long long v);
void ms_json_bool(ms_json_writer *w, int v);
void ms_json_null(ms_json_writer *w);

/* A real that the caller already formatted with "%.<w->precision>g" (finite, so that one
 * formatting serves a CSV column and the JSON value). */
void ms_json_real_g(ms_json_writer *w, const char *g);

/* A complete JSON value written elsewhere (another writer's text), as is. */
void ms_json_raw(ms_json_writer *w, const char *text, size_t n);

/* Formats finite v as ms_json_real does into out (at least 40 bytes); returns the length. */
size_t ms_json_format_real(double v, int precision, char *out);

/* printf's "%.<precision>g" of v (precision 1-15) into out (at least 40 bytes), byte for byte,
 * without printf's cost for the values outputs hold: the digits are rounded in long double
 * arithmetic, and whenever that rounding could differ from printf's exact one (a value within
 * 1e-6 of a rounding tie at the last digit, or outside about 1e-18 .. 1e29) printf itself is
 * used. Returns the length. tests/unit/test_json_writer.c compares it with snprintf. */
size_t ms_format_g(double v, int precision, char *out);

/* "%llu" / "%lld" of v into out (at least 24 bytes); returns the length. */
size_t ms_format_u64(unsigned long long v, char *out);
size_t ms_format_i64(long long v, char *out);

#endif /* MATSCREEN_JSON_WRITER_H */
