/* Level-filtered, single-line logging to a stream. */
#include "matscreen/log.h"

#include <stdarg.h>
#include <string.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void ms_log_init(ms_log *log, ms_log_level level)
{
    log->level = level;
    log->rank = -1;
    log->stream = NULL;
}

int ms_log_level_from_name(const char *name)
{
    for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
        if (strcmp(name, level_names[i]) == 0) return i;
    return -1;
}

void ms_log_write(const ms_log *log, ms_log_level level, const char *fmt, ...)
{
    ms_log_level limit = log ? log->level : MS_LOG_WARN;
    if (level > limit) return;
    FILE *out = (log && log->stream) ? log->stream : stderr;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line so lines from different ranks do not interleave mid-line. */
    if (log && log->rank >= 0)
        fprintf(out, "matscreen[%d] %s: %s\n", log->rank, level_names[level], line);
    else
        fprintf(out, "matscreen: %s: %s\n", level_names[level], line);
}
