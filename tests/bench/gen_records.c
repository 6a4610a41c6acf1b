/*
 * Generator of many distinct, realistic structure records for scale measurements (issue #22):
 * real structures (the CIFs of a directory, e.g. ../shared/data/cif/perov5/cifs) with a small
 * seeded random strain of the cell (each strain component uniform in [-2%, 2%]) and small site
 * shifts (each fractional coordinate moved by up to 0.005), so every record is a different cell
 * of a plausible crystal. Record i derives from source file i % n_sources; its random stream is
 * seeded from (SEED, i), so the output is a pure function of the arguments.
 *
 * usage: gen_records SRC_DIR N SEED OUT.jsonl [CIF_DIR]
 *        gen_records DATA_DIR      (make bench: 10,000 records from DATA_DIR/cif/perov5/cifs into
 *                                   a temporary file, and the generation rate)
 *   OUT.jsonl  one pymatgen-style record per line: {"material_id": "gen-I", "structure":
 *              {"lattice": {"matrix": ...}, "sites": [{"species": [{"element", "occu"}], "abc"}]}}
 *   CIF_DIR    also one P1 CIF per record, CIF_DIR/DDDD/gen-I.cif (1,000 per subdirectory)
 * Not part of the library or of make check; screens of the output measure scale (docs/scale.md).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/bench_util.h"
#include "matscreen/element.h"
#include "matscreen/reader.h"
#include "matscreen/rng.h"

typedef struct {
    double lattice[3][3];
    size_t n_sites, first_species;
    double (*frac)[3];
    size_t *site_species; /* n_sites + 1 offsets into the pool below */
} source;

static source *src;
static size_t n_src, cap_src;
static ms_species *pool;
static size_t n_pool, cap_pool;

static int keep(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    (void)user;
    if (status != MS_SUCCESS || s->n_sites == 0) return 1; /* first record of a file only */
    if (n_src == cap_src) {
        cap_src = cap_src ? 2 * cap_src : 1024;
        src = realloc(src, cap_src * sizeof *src);
    }
    if (n_pool + s->n_species > cap_pool) {
        cap_pool = 2 * (n_pool + s->n_species) + 4096;
        pool = realloc(pool, cap_pool * sizeof *pool);
    }
    source *o = &src[n_src];
    memcpy(o->lattice, s->lattice, sizeof o->lattice);
    o->n_sites = s->n_sites;
    o->frac = malloc(s->n_sites * sizeof *o->frac);
    o->site_species = malloc((s->n_sites + 1) * sizeof *o->site_species);
    if (!src || !pool || !o->frac || !o->site_species) {
        fprintf(stderr, "gen_records: out of memory\n");
        exit(2);
    }
    memcpy(o->frac, s->frac, s->n_sites * sizeof *o->frac);
    for (size_t i = 0; i <= s->n_sites; i++) o->site_species[i] = n_pool + s->site_species[i];
    memcpy(pool + n_pool, s->species, s->n_species * sizeof *pool);
    n_pool += s->n_species;
    n_src++;
    return 1;
}

/* Record i: strained cell m and shifted coordinates f of its source. */
static const source *make(size_t i, uint64_t seed, double m[3][3], double (*f)[3])
{
    const source *o = &src[i % n_src];
    ms_rng rng;
    ms_rng_seed(&rng, seed, (uint64_t)i);
    double e[3][3];
    for (int a = 0; a < 3; a++)
        for (int b = a; b < 3; b++) e[a][b] = e[b][a] = 0.04 * (ms_rng_uniform(&rng) - 0.5);
    for (int r = 0; r < 3; r++) /* row r of m = lattice row r times (I + e) */
        for (int c = 0; c < 3; c++) {
            m[r][c] = 0;
            for (int k = 0; k < 3; k++) m[r][c] += o->lattice[r][k] * ((k == c) + e[k][c]);
        }
    for (size_t s = 0; s < o->n_sites; s++)
        for (int k = 0; k < 3; k++) {
            double x = o->frac[s][k] + 0.01 * (ms_rng_uniform(&rng) - 0.5);
            f[s][k] = x - floor(x);
        }
    return o;
}

static void write_json(FILE *out, size_t i, const source *o, double m[3][3], double (*f)[3])
{
    fprintf(out, "{\"material_id\": \"gen-%zu\", \"structure\": {\"lattice\": {\"matrix\": [", i);
    for (int r = 0; r < 3; r++)
        fprintf(out, "%s[%.10g, %.10g, %.10g]", r ? ", " : "", m[r][0], m[r][1], m[r][2]);
    fputs("]}, \"sites\": [", out);
    for (size_t s = 0; s < o->n_sites; s++) {
        fputs(s ? ", {\"species\": [" : "{\"species\": [", out);
        for (size_t k = o->site_species[s]; k < o->site_species[s + 1]; k++)
            fprintf(out, "%s{\"element\": \"%s\", \"occu\": %.10g}",
                    k > o->site_species[s] ? ", " : "", ms_element_symbol(pool[k].z), pool[k].occu);
        fprintf(out, "], \"abc\": [%.10g, %.10g, %.10g]}", f[s][0], f[s][1], f[s][2]);
    }
    fputs("]}}\n", out);
}

static double norm(const double v[3]) { return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }

static double angle(const double u[3], const double v[3])
{
    return acos((u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (norm(u) * norm(v))) * 180.0 / M_PI;
}

static int write_cif(const char *dir, size_t i, const source *o, double m[3][3], double (*f)[3])
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%04zu", dir, i / 1000);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%04zu/gen-%zu.cif", dir, i / 1000, i);
    FILE *c = fopen(path, "w");
    if (!c) return 1;
    fprintf(c, "data_gen-%zu\n_symmetry_space_group_name_H-M 'P 1'\n", i);
    fprintf(c, "_cell_length_a %.10g\n_cell_length_b %.10g\n_cell_length_c %.10g\n", norm(m[0]),
            norm(m[1]), norm(m[2]));
    fprintf(c, "_cell_angle_alpha %.10g\n_cell_angle_beta %.10g\n_cell_angle_gamma %.10g\n",
            angle(m[1], m[2]), angle(m[0], m[2]), angle(m[0], m[1]));
    fputs("loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n"
          "_atom_site_fract_y\n_atom_site_fract_z\n_atom_site_occupancy\n", c);
    for (size_t s = 0; s < o->n_sites; s++)
        for (size_t k = o->site_species[s]; k < o->site_species[s + 1]; k++)
            fprintf(c, "%s%zu %s %.10g %.10g %.10g %.10g\n", ms_element_symbol(pool[k].z), s,
                    ms_element_symbol(pool[k].z), f[s][0], f[s][1], f[s][2], pool[k].occu);
    return fclose(c) != 0;
}

/* make bench: 10,000 records from perov5, timed, then removed. */
static int bench(const char *data, const char *self)
{
    char dir[4096], out[] = "/tmp/ms_gen_records_XXXXXX", cmd[8400];
    snprintf(dir, sizeof dir, "%s/cif/perov5/cifs", data);
    int fd = mkstemp(out);
    if (fd < 0) return 1;
    close(fd);
    snprintf(cmd, sizeof cmd, "'%s' '%s' 10000 1 '%s'", self, dir, out);
    double t0 = ms_bench_now();
    int rc = system(cmd);
    double t = ms_bench_now() - t0;
    struct stat sb;
    if (rc == 0 && stat(out, &sb) == 0)
        printf("gen_records: 10,000 strained perov5 records (JSON Lines, %.1f MB) in %.2f s, "
               "reading the 7,572 sources included\n", (double)sb.st_size / 1e6, t);
    unlink(out);
    return rc != 0;
}

int main(int argc, char **argv)
{
    if (argc == 2) return bench(argv[1], argv[0]);
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: gen_records SRC_DIR N SEED OUT.jsonl [CIF_DIR]\n");
        return 2;
    }
    size_t n = strtoull(argv[2], NULL, 10);
    uint64_t seed = strtoull(argv[3], NULL, 10);
    if (ms_bench_read_cifs(argv[1], keep, NULL) == 0 || n_src == 0) {
        fprintf(stderr, "gen_records: no readable CIF in %s\n", argv[1]);
        return 2;
    }
    size_t max_sites = 0;
    for (size_t k = 0; k < n_src; k++)
        if (src[k].n_sites > max_sites) max_sites = src[k].n_sites;
    double(*f)[3] = malloc(max_sites * sizeof *f), m[3][3];
    FILE *out = fopen(argv[4], "w");
    if (!f || !out) return 2;
    if (argc == 6) mkdir(argv[5], 0755);
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        const source *o = make(i, seed, m, f);
        write_json(out, i, o, m, f);
        if (argc == 6) bad = write_cif(argv[5], i, o, m, f);
    }
    bad |= fclose(out) != 0;
    fprintf(stderr, "gen_records: %zu records from %zu source structures%s\n", n, n_src,
            bad ? ": WRITE FAILED" : "");
    free(f);
    for (size_t k = 0; k < n_src; k++) {
        free(src[k].frac);
        free(src[k].site_species);
    }
    free(src);
    free(pool);
    return bad ? 1 : 0;
}
