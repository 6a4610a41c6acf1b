/*
 * End-to-end screening throughput: structures per second for 1 to 4 MPI ranks.
 *
 * usage: bench_screen DATA_DIR            (DATA_DIR is ../shared/data)
 * Screens the 7,572 perov5 CIFs (cif/perov5/cifs) with the same farm, pipeline and writers as
 * `matscreen screen` (outputs into a temporary directory, top 20 CIFs). Without --child the program
 * starts itself under $MPIEXEC (default mpiexec) with -np 1..4 and --oversubscribe; each child
 * prints one line. A warm-up run at 1 rank fills the page cache first. Rank 0 is the master and
 * does not screen when there are workers, so N ranks have N-1 workers. Tests never assert on time.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "matscreen/element.h"
#include "matscreen/farm.h"
#include "matscreen/pipeline.h"
#include "matscreen/results.h"
#include "matscreen/source.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int child(const char *data, int quiet)
{
    MPI_Init(NULL, NULL);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ms_element_table *elements = NULL;
    ms_pipeline p;
    if (ms_element_table_load_default(&elements) != MS_SUCCESS ||
        ms_pipeline_init(&p, elements, MS_RANK_LI_FRACTION, 0, 0) != MS_SUCCESS) {
        fprintf(stderr, "bench_screen: %s\n", ms_error_message());
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    ms_farm_options fo;
    ms_farm_options_default(&fo);
    fo.progress = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now();
    if (rank == 0) {
        char in[4096], out[] = "/tmp/ms_bench_screen_XXXXXX";
        snprintf(in, sizeof in, "%s/cif/perov5/cifs", data);
        const char *specs[] = {in};
        ms_source *src = NULL;
        ms_results *res = NULL;
        if (!mkdtemp(out) || ms_source_create(specs, 1, NULL, &src) != MS_SUCCESS ||
            ms_results_open(out, &res) != MS_SUCCESS) {
            fprintf(stderr, "bench_screen: %s\n", ms_error_message());
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        ms_farm_stats stats;
        ms_status st = ms_farm_run(MPI_COMM_WORLD, src, &p, &fo, ms_results_add, res, &stats);
        char *argv0 = "bench_screen";
        ms_run_info info = {1, &argv0, specs, 1, size, 0, "li_fraction", 0, 20, 0, stats.seconds,
                            stats.tasks, stats.messages};
        if (st == MS_SUCCESS) st = ms_results_finish(res, &info, elements);
        double t = now() - t0;
        ms_results_free(res);
        ms_source_free(src);
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
        if (system(cmd) != 0) fprintf(stderr, "bench_screen: cannot remove %s\n", out);
        if (!quiet)
            printf("screen   %d rank%s (%d worker%s): %llu structures (%llu failed) in %.2f s = "
                   "%.0f structures/s end to end, %llu task messages\n",
                   size, size > 1 ? "s" : " ", size > 1 ? size - 1 : 1, size > 2 ? "s" : " ",
                   stats.records, stats.failed, t, (double)stats.records / t, stats.messages);
        if (st != MS_SUCCESS) fprintf(stderr, "bench_screen: %s\n", ms_error_message());
    } else {
        ms_farm_run(MPI_COMM_WORLD, NULL, &p, &fo, NULL, NULL, NULL);
    }
    ms_pipeline_destroy(&p);
    ms_element_table_free(elements);
    MPI_Finalize();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_screen DATA_DIR\n");
        return 2;
    }
    if (argc > 2 && strcmp(argv[2], "--child") == 0) return child(argv[1], 0);
    if (argc > 2 && strcmp(argv[2], "--warm") == 0) return child(argv[1], 1);
    const char *mpiexec = getenv("MPIEXEC");
    if (!mpiexec || !*mpiexec) mpiexec = "mpiexec";
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
    setenv("OMP_NUM_THREADS", "1", 0);
    setenv("OPENBLAS_NUM_THREADS", "1", 0);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("screen   perov5 (7,572 CIFs), %ld cores; rank 0 is the master\n", cores);
    fflush(stdout);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s --oversubscribe -np 1 '%s' '%s' --warm", mpiexec, argv[0], argv[1]);
    if (system(cmd) != 0) return 1;
    for (int n = 1; n <= 4; n++) {
        snprintf(cmd, sizeof cmd, "%s --oversubscribe -np %d '%s' '%s' --child", mpiexec, n,
                 argv[0], argv[1]);
        if (system(cmd) != 0) return 1;
    }
    return 0;
}
