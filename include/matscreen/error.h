/*
 * matscreen status codes and error reporting.
 *
 * Conventions
 *   - Every fallible function returns an ms_status; MS_SUCCESS is 0.
 *   - Outputs go through pointer arguments.
 *   - When a function fails it records a human-readable message (naming the file, line or record
 *     where it can) in a per-thread buffer, read with ms_error_message(). The message of the
 *     innermost failure wins; callers may prepend context with ms_error_prefix().
 *   - assert() is used only for internal invariants, never for input checks.
 */
#ifndef MATSCREEN_ERROR_H
#define MATSCREEN_ERROR_H

#include <stddef.h>

typedef enum ms_status {
    MS_SUCCESS = 0,       /* no error */
    MS_ERR_NOMEM,         /* memory allocation failed */
    MS_ERR_IO,            /* a file could not be opened, read or written */
    MS_ERR_PARSE,         /* the input is not well-formed in its format */
    MS_ERR_INVALID,       /* the input is well-formed but its values are invalid */
    MS_ERR_NOT_FOUND,     /* a requested item (file, block, key, element) does not exist */
    MS_ERR_NO_STRUCTURE,  /* the input is valid but holds no crystal structure */
    MS_ERR_UNKNOWN_ELEMENT, /* an element symbol that is not in the periodic table */
    MS_ERR_LIMIT,         /* a configured size limit was exceeded */
    MS_ERR_UNSUPPORTED,   /* a valid input feature that matscreen does not handle */
    MS_ERR_SYMMETRY,      /* symmetry could not be determined or applied */
    MS_ERR_USAGE,         /* wrong use of a command or an API (bad argument) */
    MS_ERR_INTERNAL,      /* an internal invariant failed: a bug in matscreen */
    MS_STATUS_COUNT       /* number of codes; not a status */
} ms_status;

/* A one-line, static description of a status code. Never NULL. Not collective. */
const char *ms_strerror(ms_status status);

/* The detailed message of the last failure on this thread ("" if none). Valid until the next
 * ms_error_set on this thread. Not collective. */
const char *ms_error_message(void);

/* Records a detailed message for code and returns code, so callers can write
 * `return ms_error_set(MS_ERR_PARSE, "%s:%zu: bad cell", file, line);`. */
ms_status ms_error_set(ms_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prepends "context: " to the current message (for example a file name known only to the caller). */
void ms_error_prefix(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Clears the message of this thread. */
void ms_error_clear(void);

/* Evaluates expr (an ms_status expression) and returns its status from the enclosing function
 * when it fails. The detailed message set by the callee is kept. */
#define MS_CALL(expr)                                                                              \
    do {                                                                                           \
        ms_status ms_call_status_ = (expr);                                                        \
        if (ms_call_status_ != MS_SUCCESS) return ms_call_status_;                                 \
    } while (0)

/* Returns code with a formatted message from the enclosing function when cond is false. */
#define MS_CHECK(cond, code, ...)                                                                  \
    do {                                                                                           \
        if (!(cond)) return ms_error_set((code), __VA_ARGS__);                                     \
    } while (0)

#endif /* MATSCREEN_ERROR_H */
