/* Benchmark helpers; see bench_util.h. */
#include "bench_util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "matscreen/error.h"

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

long ms_bench_read_cifs_limit(const char *dir, size_t limit, ms_record_fn fn, void *user)
{
    char path[PATH_MAX];
    struct dirent **names;
    int n = scandir(dir, &names, ms_bench_is_cif, alphasort);
    if (n < 0) return -1;
    size_t count = limit && (size_t)n > limit ? limit : (size_t)n;
    for (int i = 0; i < n; i++) {
        if ((size_t)i < count) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
            ms_read_file(path, MS_FORMAT_CIF, NULL, fn, user);
        }
        free(names[i]);
    }
    free(names);
    return (long)count;
}

int ms_bench_read_cifs(const char *dir, ms_record_fn fn, void *user)
{
    long n = ms_bench_read_cifs_limit(dir, 0, fn, user);
    return n > 0 ? (int)n : 0;
}

int ms_bench_featurize(ms_bench_featurized *f, const ms_structure *s, ms_status status)
{
    if (status != MS_SUCCESS) {
        f->n_fail++;
        return 0;
    }
    double t0 = ms_bench_now();
    int ok = ms_structure_featurizer_compute(f->fz, s, f->row, f->reason) == MS_SUCCESS;
    f->seconds += ms_bench_now() - t0;
    if (ok)
        f->n_ok++;
    else
        f->n_fail++;
    return ok;
}

int ms_bench_corpora_open(int argc, char **argv, const char *name, size_t default_limit,
                          ms_bench_corpora *c)
{
    memset(c, 0, sizeof *c);
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR [LIMIT]\n", name);
        return 2;
    }
    c->limit = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : default_limit;
    if (ms_element_table_load_default(&c->table) != MS_SUCCESS) {
        fprintf(stderr, "%s: %s\n", name, ms_error_message());
        return 2;
    }
    snprintf(c->perov5, sizeof c->perov5, "%s/cif/perov5/cifs", argv[1]);
    snprintf(c->obelix, sizeof c->obelix, "%s/labeled/obelix-train/cifs", argv[1]);
    return 0;
}

void ms_bench_corpora_close(ms_bench_corpora *c)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
    ms_element_table_free(c->table);
    c->table = NULL;
}

long ms_bench_vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}
