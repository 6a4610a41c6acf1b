/*
 * Featurization throughput, single process: CIF file to feature row, end to end and per family.
 *
 * usage: bench_featurize DATA_DIR [LIMIT]   (DATA_DIR is ../shared/data)
 * Corpora: cif/perov5/cifs (7,572 small perovskites) and labeled/obelix-train/cifs (254
 * disordered solid electrolytes). For each file: read it with the CIF reader (first structure),
 * then one ms_structure_featurizer_compute (one spglib call, one neighbour list, all families).
 * Two sets: "peer" (magpie, stoichiometry, valence_orbital, density, global_symmetry: the features
 * of ../shared/bench/peer_pipeline.py) and "default" (every family). Time shares: libcif = the CIF
 * read (ms_read_file minus the featurizer), spglib = ms_symmetry_analyze, ours = the rest
 * (neighbour list, composition, descriptors, row). Per-family figures time each family's compute
 * alone on the same inputs. Peak RSS from getrusage. Tests never assert on time.
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../common/bench_util.h"
#include "matscreen/descriptor.h"
#include "matscreen/element.h"
#include "matscreen/featurize.h"
#include "matscreen/reader.h"

#define MAX_FAMILIES 16

typedef struct {
    ms_structure_featurizer *fz;
    double row[1024];
    unsigned char reason[1024];
    double t_feat; /* seconds inside the featurizer (callback) */
    size_t n_ok, n_fail;
    /* per family */
    size_t n_fam;
    const ms_descriptor_type *fam[MAX_FAMILIES];
    ms_featurizer *single[MAX_FAMILIES];
    double t_fam[MAX_FAMILIES];
} bench;

static int on_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    bench *b = user;
    if (status != MS_SUCCESS) {
        b->n_fail++;
        return 1;
    }
    double t0 = ms_bench_now();
    if (ms_structure_featurizer_compute(b->fz, s, b->row, b->reason) != MS_SUCCESS) b->n_fail++;
    else b->n_ok++;
    b->t_feat += ms_bench_now() - t0;
    if (b->n_fam) {
        ms_descriptor_input in = {s, ms_structure_featurizer_composition(b->fz),
                                  ms_structure_featurizer_symmetry(b->fz),
                                  ms_structure_featurizer_neighbors(b->fz)};
        for (size_t k = 0; k < b->n_fam; k++) {
            double t1 = ms_bench_now();
            ms_featurizer_compute(b->single[k], &in, b->row, b->reason);
            b->t_fam[k] += ms_bench_now() - t1;
        }
    }
    return 1; /* first structure only, as the peer */
}

static void run(const char *dir, const char *corpus, const ms_descriptor_set *set,
                const ms_element_table *table, size_t limit, int per_family)
{
    struct dirent **names;
    int n = scandir(dir, &names, ms_bench_is_cif, alphasort);
    if (n < 0) {
        printf("%s: cannot list %s\n", corpus, dir);
        return;
    }
    size_t count = limit && (size_t)n > limit ? limit : (size_t)n;
    static bench b;
    memset(&b, 0, sizeof b);
    if (ms_structure_featurizer_create(set, table, NULL, &b.fz) != MS_SUCCESS) return;
    static ms_descriptor_set one[MAX_FAMILIES];
    if (per_family)
        for (size_t k = 0; k < set->n_families && k < MAX_FAMILIES; k++) {
            b.fam[k] = set->families[k];
            one[k] = (ms_descriptor_set){set->families[k]->name, 1, "", 1, &set->families[k]};
            if (ms_featurizer_create(&one[k], table, &b.single[k]) == MS_SUCCESS) b.n_fam++;
        }
    double t0 = ms_bench_now();
    for (size_t i = 0; i < count; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        ms_read_file(path, MS_FORMAT_CIF, NULL, on_record, &b);
    }
    double total = ms_bench_now() - t0;
    /* the per-family pass ran inside the callbacks: take it out of the end-to-end time */
    double fam_total = 0;
    for (size_t k = 0; k < b.n_fam; k++) fam_total += b.t_fam[k];
    total -= fam_total;
    ms_featurize_timing tm = ms_structure_featurizer_timing(b.fz);
    double t_cif = total - b.t_feat, t_spg = tm.symmetry_s, t_ours = total - t_cif - t_spg;
    size_t m = b.n_ok + b.n_fail;
    printf("%-7s %-8s %5zu files %4zu fail  %8.3f ms/structure  %7.0f structures/s   "
           "libcif %4.1f%%  spglib %4.1f%%  ours %4.1f%% (neighbours %4.1f%%, descriptors %4.1f%%)\n",
           corpus, set->name, count, b.n_fail, 1e3 * total / (double)m, (double)m / total,
           100 * t_cif / total, 100 * t_spg / total, 100 * t_ours / total,
           100 * tm.neighbors_s / total, 100 * tm.descriptors_s / total);
    for (size_t k = 0; k < b.n_fam; k++) {
        printf("        family %-16s %9.2f us/structure %10.0f structures/s\n", b.fam[k]->name,
               1e6 * b.t_fam[k] / (double)m, (double)m / b.t_fam[k]);
        ms_featurizer_destroy(&b.single[k]);
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    ms_structure_featurizer_destroy(&b.fz);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_featurize DATA_DIR [LIMIT]\n");
        return 2;
    }
    size_t limit = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 0;
    ms_element_table *table;
    if (ms_element_table_load_default(&table) != MS_SUCCESS) {
        fprintf(stderr, "bench_featurize: %s\n", ms_error_message());
        return 2;
    }
    static const ms_descriptor_type *const peer_families[] = {
        &ms_descriptor_magpie, &ms_descriptor_stoichiometry, &ms_descriptor_valence_orbital,
        &ms_descriptor_density, &ms_descriptor_global_symmetry};
    const ms_descriptor_set peer = {"peer", 1, "features of peer_pipeline.py", 5, peer_families};
    const ms_descriptor_set *def;
    if (ms_descriptor_set_lookup("default", &def) != MS_SUCCESS) return 2;
    char perov[PATH_MAX], obelix[PATH_MAX];
    snprintf(perov, sizeof perov, "%s/cif/perov5/cifs", argv[1]);
    snprintf(obelix, sizeof obelix, "%s/labeled/obelix-train/cifs", argv[1]);
    printf("bench_featurize: CIF file -> feature row, single process (peer, measured here: "
           "pymatgen + matminer about 9.4 ms per perov5 CIF, 40 ms per OBELiX CIF)\n");
    run(perov, "perov5", &peer, table, limit, 0);
    run(perov, "perov5", def, table, limit, 1);
    run(obelix, "OBELiX", &peer, table, limit, 0);
    run(obelix, "OBELiX", def, table, limit, 1);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
    ms_element_table_free(table);
    return 0;
}
