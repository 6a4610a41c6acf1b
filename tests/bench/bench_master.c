/*
 * The master's own capacity: `matscreen screen --dry-run` (ms_screen_config.dry_run), where the
 * workers neither read files nor compute (one synthetic record per task) and rank 0 does all its
 * bookkeeping as in a real screen: the identity pass and the enumeration (a stat per file), the
 * task window, the messages, the checkpoint journal, the result index (external sorters) and the
 * outputs (ranked.csv, ranked.jsonl, errors.csv, quality.json, manifest.json; no top CIFs).
 *
 * usage: bench_master DATA_DIR [N]   (DATA_DIR is ../shared/data; N tasks, default 100000)
 * Input: the perov5 CIF paths repeated through an @LIST file to N tasks (every line is a task).
 * Without --child the program starts itself under $MPIEXEC (default mpiexec) with
 * --oversubscribe and prints, for 1 rank, 2 ranks with a working master (the default) and 2 ranks
 * with a coordinating master (rank 0 only hands out and collects, rank 1 does the no-op tasks):
 *   - the farm's rate (tasks per second of the farm phase: dispatch, messages, journal, index);
 *   - the end-to-end rate (the whole ms_screen_run, outputs included);
 *   - rank 0's CPU time in the farm per task (getrusage around ms_farm_run, microseconds) and
 *     the capacity it gives, 1e6 / that tasks per second of one core: the master's own cost,
 *     which the wall-clock rates above show only on an idle machine;
 *   - rank 0's CPU time (getrusage, user + system) per task over the whole run, in microseconds;
 *   - messages (task batches) sent and rank 0's peak RSS.
 * Tests never assert on time; this program only reports (docs/scale.md).
 */
#include <dirent.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../common/bench_util.h"
#include "matscreen/comm.h"
#include "matscreen/screen.h"

/* argv: DATA --child LIST MASTER_WORKS. Rank 0 prints
 * "RESULT ranks tasks wall farm cpu0 rss0_kb farm_cpu0". */
static int child(const char *list, int master_works)
{
    ms_comm_init(NULL, NULL);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char spec[4200], out[] = "/tmp/ms_bench_master_XXXXXX";
    snprintf(spec, sizeof spec, "@%s", list);
    if (rank == 0 && !mkdtemp(out)) MPI_Abort(MPI_COMM_WORLD, 2);
    MPI_Bcast(out, (int)sizeof out, MPI_CHAR, 0, MPI_COMM_WORLD);
    ms_screen_input in = {0};
    in.spec = spec;
    ms_screen_config cfg;
    ms_screen_config_default(&cfg);
    cfg.inputs = &in;
    cfg.n_inputs = 1;
    cfg.out_dir = out;
    cfg.top_k = 0;
    cfg.dry_run = 1;
    cfg.progress = 0;
    cfg.master_works = master_works;
    MPI_Barrier(MPI_COMM_WORLD);
    double cpu0 = ms_bench_cpu(), t0 = ms_bench_now();
    ms_screen_summary sum;
    ms_status st = ms_screen_run(MPI_COMM_WORLD, &cfg, &sum);
    double wall = ms_bench_now() - t0, cpu = ms_bench_cpu() - cpu0;
    if (rank == 0) {
        if (st != MS_SUCCESS) fprintf(stderr, "bench_master: %s\n", ms_error_message());
        else printf("RESULT %d %llu %.4f %.4f %.4f %ld %.4f\n", size, sum.records, wall,
                    sum.farm_seconds, cpu, ms_bench_vm_hwm_kb(), sum.farm_cpu_seconds);
        fflush(stdout);
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
        if (system(cmd) != 0) fprintf(stderr, "bench_master: cannot remove %s\n", out);
    }
    MPI_Finalize();
    return st != MS_SUCCESS;
}

typedef struct {
    int ranks;
    unsigned long long tasks;
    double wall, farm, cpu;
    long rss;
    double farm_cpu;
} run_result;

static int run(const char *self, const char *data, const char *list, int ranks, int master_works,
               run_result *r)
{
    const char *mpiexec = getenv("MPIEXEC");
    if (!mpiexec || !*mpiexec) mpiexec = "mpiexec";
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s --oversubscribe -np %d '%s' '%s' --child '%s' %d", mpiexec,
             ranks, self, data, list, master_works);
    FILE *f = popen(cmd, "r");
    if (!f) return 1;
    char line[512];
    int ok = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RESULT %d %llu %lf %lf %lf %ld %lf", &r->ranks, &r->tasks, &r->wall,
                   &r->farm, &r->cpu, &r->rss, &r->farm_cpu) == 7)
            ok = 1;
    return pclose(f) != 0 || !ok;
}

static int not_hidden(const struct dirent *e) { return e->d_name[0] != '.'; }

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[2], "--child") == 0) return child(argv[3], atoi(argv[4]));
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_master DATA_DIR [N]\n");
        return 2;
    }
    size_t n = argc == 3 ? strtoull(argv[2], NULL, 10) : 100000;
    char dir[4096], list[] = "/tmp/ms_bench_master_list_XXXXXX";
    snprintf(dir, sizeof dir, "%s/cif/perov5/cifs", argv[1]);
    struct dirent **names = NULL;
    int n_names = scandir(dir, &names, not_hidden, alphasort);
    if (n_names <= 0 || n == 0) {
        printf("bench_master: skipped: no CIFs in %s\n", dir);
        return 0;
    }
    int fd = mkstemp(list);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) return 1;
    for (size_t i = 0; i < n; i++) fprintf(f, "%s/%s\n", dir, names[i % (size_t)n_names]->d_name);
    for (int i = 0; i < n_names; i++) free(names[i]);
    free(names);
    if (fclose(f) != 0) return 1;
    printf("bench_master: screen --dry-run of %zu tasks (perov5 paths, one task each): the "
           "master's own cost\n", n);
    printf("%-28s %10s %12s %12s %14s %14s %14s %9s %8s\n", "configuration", "farm s",
           "farm tasks/s", "e2e tasks/s", "farm CPU us/t", "capacity t/s", "rank0 CPU us/t",
           "e2e s", "RSS0 MB");
    const struct { int ranks, works; const char *name; } cfgs[] = {
        {1, 1, "1 rank"}, {2, 1, "2 ranks, master works"}, {2, 0, "2 ranks, master coordinates"}};
    int bad = 0;
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        run_result r = {0};
        if (run(argv[0], argv[1], list, cfgs[k].ranks, cfgs[k].works, &r) || r.tasks != n) {
            printf("%-28s failed\n", cfgs[k].name);
            bad = 1;
            continue;
        }
        double fcpu = 1e6 * r.farm_cpu / (double)r.tasks;
        printf("%-28s %10.3f %12.0f %12.0f %14.2f %14.0f %14.2f %9.3f %8.1f\n", cfgs[k].name,
               r.farm, (double)r.tasks / r.farm, (double)r.tasks / r.wall, fcpu,
               fcpu > 0 ? 1e6 / fcpu : 0.0, 1e6 * r.cpu / (double)r.tasks, r.wall,
               (double)r.rss / 1024.0);
        fflush(stdout);
    }
    unlink(list);
    return bad;
}
