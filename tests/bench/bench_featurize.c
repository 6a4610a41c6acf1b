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
    ms_bench_featurized f;
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
    ms_bench_featurize(&b->f, s, status);
    if (status != MS_SUCCESS) return 1;
    if (b->n_fam) {
        ms_descriptor_input in = {s, ms_structure_featurizer_composition(b->f.fz),
                                  ms_structure_featurizer_symmetry(b->f.fz),
                                  ms_structure_featurizer_neighbors(b->f.fz)};
        for (size_t k = 0; k < b->n_fam; k++) {
            double t1 = ms_bench_now();
            ms_featurizer_compute(b->single[k], &in, b->f.row, b->f.reason);
            b->t_fam[k] += ms_bench_now() - t1;
        }
    }
    return 1; /* first structure only, as the peer */
}

static void run(const char *dir, const char *corpus, const ms_descriptor_set *set,
                const ms_element_table *table, size_t limit, int per_family)
{
    static bench b;
    memset(&b, 0, sizeof b);
    if (ms_structure_featurizer_create(set, table, NULL, &b.f.fz) != MS_SUCCESS) return;
    static ms_descriptor_set one[MAX_FAMILIES];
    if (per_family)
        for (size_t k = 0; k < set->n_families && k < MAX_FAMILIES; k++) {
            b.fam[k] = set->families[k];
            one[k] = (ms_descriptor_set){set->families[k]->name, 1, "", 1, &set->families[k]};
            if (ms_featurizer_create(&one[k], table, &b.single[k]) == MS_SUCCESS) b.n_fam++;
        }
    double t0 = ms_bench_now();
    long count = ms_bench_read_cifs_limit(dir, limit, on_record, &b);
    double total = ms_bench_now() - t0;
    if (count < 0) printf("%s: cannot list %s\n", corpus, dir);
    /* the per-family pass ran inside the callbacks: take it out of the end-to-end time */
    double fam_total = 0;
    for (size_t k = 0; k < b.n_fam; k++) fam_total += b.t_fam[k];
    total -= fam_total;
    ms_featurize_timing tm = ms_structure_featurizer_timing(b.f.fz);
    double t_cif = total - b.f.seconds, t_spg = tm.symmetry_s, t_ours = total - t_cif - t_spg;
    size_t m = b.f.n_ok + b.f.n_fail;
    if (count > 0)
        printf("%-7s %-8s %5ld files %4zu fail  %8.3f ms/structure  %7.0f structures/s   "
               "libcif %4.1f%%  spglib %4.1f%%  ours %4.1f%% (neighbours %4.1f%%, descriptors "
               "%4.1f%%)\n",
               corpus, set->name, count, b.f.n_fail, 1e3 * total / (double)m, (double)m / total,
               100 * t_cif / total, 100 * t_spg / total, 100 * t_ours / total,
               100 * tm.neighbors_s / total, 100 * tm.descriptors_s / total);
    for (size_t k = 0; k < b.n_fam; k++) {
        if (count > 0)
            printf("        family %-16s %9.2f us/structure %10.0f structures/s\n", b.fam[k]->name,
                   1e6 * b.t_fam[k] / (double)m, (double)m / b.t_fam[k]);
        ms_featurizer_destroy(&b.single[k]);
    }
    ms_structure_featurizer_destroy(&b.f.fz);
}

int main(int argc, char **argv)
{
    ms_bench_corpora c;
    int status = ms_bench_corpora_open(argc, argv, "bench_featurize", 0, &c);
    if (status) return status;
    static const ms_descriptor_type *const peer_families[] = {
        &ms_descriptor_magpie, &ms_descriptor_stoichiometry, &ms_descriptor_valence_orbital,
        &ms_descriptor_density, &ms_descriptor_global_symmetry};
    const ms_descriptor_set peer = {"peer", 1, "features of peer_pipeline.py", 5, peer_families};
    const ms_descriptor_set *def;
    if (ms_descriptor_set_lookup("default", &def) != MS_SUCCESS) return 2;
    printf("bench_featurize: CIF file -> feature row, single process (peer, measured here: "
           "pymatgen + matminer about 9.4 ms per perov5 CIF, 40 ms per OBELiX CIF)\n");
    run(c.perov5, "perov5", &peer, c.table, c.limit, 0);
    run(c.perov5, "perov5", def, c.table, c.limit, 1);
    run(c.obelix, "OBELiX", &peer, c.table, c.limit, 0);
    run(c.obelix, "OBELiX", def, c.table, c.limit, 1);
    ms_bench_corpora_close(&c);
    return 0;
}
