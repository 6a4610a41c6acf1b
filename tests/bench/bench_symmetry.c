/*
 * Symmetry throughput: structures per second for ms_symmetry_analyze, single process.
 *
 * usage: bench_symmetry DATA_DIR   (DATA_DIR is ../shared/data)
 * Reads every CIF of cif/perov5/cifs (7,572 small perovskites) and labeled/obelix-train/cifs (254
 * disordered solid electrolytes) into memory first (the first structure of each file; reading is
 * timed separately by bench_parse), then times only the symmetry step: one pass at the default
 * ladder (requested symprec 0.01) with and without the standardized cells, and one pass at a
 * single symprec 0.1, each after a warm-up pass. Peer figure: one spglib call costs about
 * 0.5-0.9 ms in pymatgen's SpacegroupAnalyzer on these cells. Tests never assert on time; this
 * program only reports.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/bench_util.h"
#include "matscreen/element.h"
#include "matscreen/reader.h"
#include "matscreen/symmetry.h"

typedef struct {
    ms_structure *items;
    size_t n, cap;
} corpus;

/* Deep copy of the first structure of a file (the reader's structure lives only in the call). */
static int keep_first(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    if (status != MS_SUCCESS) return 0;
    corpus *c = user;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1024;
        ms_structure *g = realloc(c->items, cap * sizeof *g);
        if (!g) return 1;
        c->items = g;
        c->cap = cap;
    }
    ms_structure *d = &c->items[c->n];
    ms_structure_init(d);
    memcpy(d->lattice, s->lattice, sizeof d->lattice);
    for (size_t i = 0; i < s->n_sites; i++) {
        if (ms_structure_add_site(d, s->frac[i], s->label[i]) != MS_SUCCESS) return 1;
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++) {
            const ms_species *sp = &s->species[k];
            if (ms_structure_add_species(d, sp->z, sp->occu, sp->oxi, sp->has_oxi) != MS_SUCCESS)
                return 1;
        }
    }
    if (ms_structure_finish(d) == MS_SUCCESS)
        c->n++;
    else
        ms_structure_destroy(d);
    return 1;
}

static void load(const char *data, const char *rel, corpus *c)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", data, rel);
    ms_bench_read_cifs(dir, keep_first, c);
}

/* Runs the symmetry step over the corpus twice (warm-up, then timed); prints one line. */
static void run(const char *name, const char *what, const corpus *c, const ms_symmetry_options *opt)
{
    ms_symmetry_workspace ws;
    ms_symmetry sym;
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    size_t ok = 0, fallback = 0, sites = 0;
    double t = 0;
    for (int pass = 0; pass < 2; pass++) {
        ok = fallback = sites = 0;
        double t0 = ms_bench_now();
        for (size_t i = 0; i < c->n; i++) {
            if (ms_symmetry_analyze(&ws, &c->items[i], opt, &sym) == MS_SUCCESS) {
                ok++;
                fallback += sym.ladder_index > 0;
            }
            sites += c->items[i].n_sites;
        }
        t = ms_bench_now() - t0;
    }
    printf("symmetry %-8s %-34s %6zu structures %7zu sites  %8.0f structures/s  %6.3f ms each"
           "  (%zu ok, %zu via ladder fallback)\n",
           name, what, c->n, sites, (double)c->n / t, 1e3 * t / (double)c->n, ok, fallback);
    ms_symmetry_workspace_destroy(&ws);
    ms_symmetry_destroy(&sym);
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    ms_element_table *elements = NULL;
    if (ms_element_table_load_default(&elements) != MS_SUCCESS) {
        fprintf(stderr, "bench_symmetry: %s\n", ms_error_message());
        return 1;
    }
    static const struct {
        const char *name, *rel;
    } sets[] = {{"perov5", "cif/perov5/cifs"}, {"obelix", "labeled/obelix-train/cifs"}};
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        corpus c = {0};
        double t0 = ms_bench_now();
        load(data, sets[k].rel, &c);
        double t_read = ms_bench_now() - t0;
        if (c.n == 0) {
            printf("symmetry %-8s no structures in %s/%s\n", sets[k].name, data, sets[k].rel);
            continue;
        }
        printf("symmetry %-8s read %zu structures in %.2f s (not in the figures below)\n",
               sets[k].name, c.n, t_read);
        ms_symmetry_options opt;
        ms_symmetry_options_default(&opt);
        opt.elements = elements;
        run(sets[k].name, "ladder from 0.01, with cells", &c, &opt);
        opt.cells = 0;
        run(sets[k].name, "ladder from 0.01, no cells", &c, &opt);
        const double loose = 0.1;
        ms_symmetry_options_set_ladder(&opt, &loose, 1);
        run(sets[k].name, "symprec 0.1 only, no cells", &c, &opt);
        for (size_t i = 0; i < c.n; i++)
            ms_structure_destroy(&c.items[i]);
        free(c.items);
    }
    ms_element_table_free(elements);
    return 0;
}
