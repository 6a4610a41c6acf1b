/*
 * Logging with levels, to stderr.
 *
 * The level is a property of an ms_log object passed explicitly (no mutable globals); a NULL
 * logger logs warnings and errors. Messages are single lines prefixed with the level and,
 * under MPI, the rank.
 */
#ifndef MATSCREEN_LOG_H
#define MATSCREEN_LOG_H

#include <stdio.h>

typedef enum ms_log_level {
    MS_LOG_ERROR = 0, /* a failure the user must act on */
    MS_LOG_WARN,      /* something suspicious that did not stop the work */
    MS_LOG_INFO,      /* progress and results */
    MS_LOG_DEBUG      /* details for developers */
} ms_log_level;

typedef struct ms_log {
    ms_log_level level; /* messages above this level are dropped */
    int rank;           /* MPI rank printed in the prefix; -1 for none */
    FILE *stream;       /* where to write; NULL means stderr */
} ms_log;

/* Initialises a logger at level with no rank prefix, writing to stderr. */
void ms_log_init(ms_log *log, ms_log_level level);

/* Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int ms_log_level_from_name(const char *name);

/* Writes one line at level if the logger lets it through. */
void ms_log_write(const ms_log *log, ms_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif /* MATSCREEN_LOG_H */
