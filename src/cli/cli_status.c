/*
 * The one exit-status rule of every command, the missing-input check and the closing summary
 * line (commands.h). Every command goes through these, so that cron and Slurm read the same
 * status from all of them: 0 every record was processed, 1 some records failed (each reported,
 * the rest done), 2 usage error, a missing input path, or nothing could be read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"

int ms_cli_status(unsigned long long records, unsigned long long failed)
{
    if (records == 0 || failed >= records) return 2;
    return failed ? 1 : 0;
}

/* A glob pattern (the engine expands it; no match is its own error) or a path. */
static int is_pattern(const char *spec) { return strpbrk(spec, "*?[") != NULL; }

int ms_cli_input_missing(const char *command, const char *spec)
{
    if (!spec || !*spec) {
        fprintf(stderr, "matscreen %s: an empty input path was given\n", command);
        return 1;
    }
    const char *path = spec[0] == '@' ? spec + 1 : spec;
    if (spec[0] != '@' && is_pattern(spec)) return 0;
    struct stat st;
    if (stat(path, &st) == 0) return 0;
    fprintf(stderr, "matscreen %s: %s%s: %s (check the path; nothing was run)\n", command,
            spec[0] == '@' ? "input list " : "", path, strerror(errno));
    return 1;
}

void ms_cli_summary(const char *command, unsigned long long records, unsigned long long failed,
                    double seconds, const char *tail)
{
    fprintf(stderr, "matscreen %s: %llu record%s, %llu failed, %.2f s, %.4g records/s%s%s\n",
            command, records, records == 1 ? "" : "s", failed, seconds,
            seconds > 0 ? (double)records / seconds : 0.0, tail && *tail ? "; " : "",
            tail ? tail : "");
}

double ms_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
