/*
 * Parse throughput: structures per second and MB per second for the readers, single process.
 *
 * usage: bench_parse DATA_DIR   (DATA_DIR is ../shared/data)
 * Reads every CIF of cif/perov5/cifs (7,572 small perovskites written by pymatgen) and of
 * labeled/obelix-train/cifs (254 disordered solid electrolytes), twice each: the first pass warms
 * the page cache, the second is timed. Prints one line per corpus. Tests never assert on time;
 * this program only reports.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "../common/bench_util.h"
#include "matscreen/reader.h"

typedef struct {
    size_t ok, failed, sites;
} counts;

static int count_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    counts *c = user;
    if (status == MS_SUCCESS) {
        c->ok++;
        c->sites += s->n_sites;
    } else {
        c->failed++;
    }
    return 0;
}

static void bench_dir(const char *data, const char *rel, const char *name)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", data, rel);
    struct dirent **names;
    int n = scandir(dir, &names, ms_bench_is_cif, alphasort);
    if (n <= 0) {
        printf("%-8s no CIFs in %s\n", name, dir);
        return;
    }
    char (*paths)[PATH_MAX] = malloc((size_t)n * sizeof *paths);
    double bytes = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        snprintf(paths[i], PATH_MAX, "%s/%s", dir, names[i]->d_name);
        if (stat(paths[i], &st) == 0) bytes += (double)st.st_size;
        free(names[i]);
    }
    free(names);
    ms_read_options opt;
    ms_read_options_default(&opt);
    double t = 0;
    counts c = {0};
    for (int pass = 0; pass < 2; pass++) {
        memset(&c, 0, sizeof c);
        double t0 = ms_bench_now();
        for (int i = 0; i < n; i++)
            if (ms_read_file(paths[i], MS_FORMAT_CIF, &opt, count_record, &c) != MS_SUCCESS) c.failed++;
        t = ms_bench_now() - t0;
    }
    printf("parse  %-8s files %6d  structures %6zu  failed %4zu  sites %8zu  %9.1f structures/s  "
           "%6.1f MB/s  %7.3f ms/structure\n",
           name, n, c.ok, c.failed, c.sites, (double)c.ok / t, bytes / t / 1e6, 1e3 * t / (double)c.ok);
    free(paths);
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    bench_dir(data, "cif/perov5/cifs", "perov5");
    bench_dir(data, "labeled/obelix-train/cifs", "obelix");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("parse  peak RSS %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    return 0;
}
