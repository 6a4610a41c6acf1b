/* Benchmark helpers; see bench_util.h. */
#include "bench_util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

double ms_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double ms_bench_cpu(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return 0;
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

int ms_bench_is_cif(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && strcmp(e->d_name + n - 4, ".cif") == 0;
}

int ms_bench_read_cifs(const char *dir, ms_record_fn fn, void *user)
{
    char path[PATH_MAX];
    struct dirent **names;
    int n = scandir(dir, &names, ms_bench_is_cif, alphasort);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        ms_read_file(path, MS_FORMAT_CIF, NULL, fn, user);
        free(names[i]);
    }
    if (n > 0) free(names);
    return n > 0 ? n : 0;
}
