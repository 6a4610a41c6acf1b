/*
 * Quality-stage throughput: validation, symmetry + fingerprint, and de-duplication, single
 * process, and the scaling of de-duplication with the number of records.
 *
 * usage: bench_quality DATA_DIR   (DATA_DIR is ../shared/data)
 * Reads the first structure of every CIF of cif/perov5/cifs (7,572 perovskites) and
 * labeled/obelix-train/cifs (254 disordered solid electrolytes) into memory (reading is timed by
 * bench_parse), then times:
 *   - ms_validate_structure (all checks, neighbour list included), records/s;
 *   - ms_symmetry_analyze + ms_fingerprint_compute, records/s;
 *   - ms_dedup_add over the fingerprints + standardized conventional cells, records/s;
 *   - scaling: the first 2,000 perovskites as 1x, 2x and 4x records, each extra copy with a
 *     shifted origin and permuted sites (so every copy is a true duplicate that the precise
 *     comparison must find). Only ms_dedup_add is timed; near-linear cost shows as a constant
 *     time per record.
 * Tests never assert on time; this program only reports.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/bench_util.h"
#include "matscreen/dedup.h"
#include "matscreen/element.h"
#include "matscreen/fingerprint.h"
#include "matscreen/reader.h"
#include "matscreen/symmetry.h"
#include "matscreen/validate.h"

typedef struct {
    ms_structure *items;
    size_t n, cap;
} corpus;

static ms_structure *push(corpus *c)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1024;
        ms_structure *g = realloc(c->items, cap * sizeof *g);
        if (!g) return NULL;
        c->items = g;
        c->cap = cap;
    }
    ms_structure *d = &c->items[c->n];
    ms_structure_init(d);
    return d;
}

/* Deep copy of s into d, with origin shift and a site permutation (step coprime with n). */
static int copy_into(ms_structure *d, const ms_structure *s, const double shift[3], size_t step)
{
    size_t n = s->n_sites;
    for (;; step++) {
        size_t a = step, b = n;
        while (b) {
            size_t t = a % b;
            a = b;
            b = t;
        }
        if (a == 1) break;
    }
    memcpy(d->lattice, s->lattice, sizeof d->lattice);
    memcpy(d->formula_stated, s->formula_stated, sizeof d->formula_stated);
    for (size_t k = 0; k < n; k++) {
        size_t i = (k * step) % n;
        double f[3];
        for (int a = 0; a < 3; a++) f[a] = s->frac[i][a] + shift[a] - floor(s->frac[i][a] + shift[a]);
        if (ms_structure_add_site(d, f, s->label[i]) != MS_SUCCESS) return 1;
        for (size_t q = s->site_species[i]; q < s->site_species[i + 1]; q++) {
            const ms_species *sp = &s->species[q];
            if (ms_structure_add_species(d, sp->z, sp->occu, sp->oxi, sp->has_oxi) != MS_SUCCESS) return 1;
        }
    }
    return ms_structure_finish(d) != MS_SUCCESS;
}

static int keep_first(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    if (status != MS_SUCCESS) return 0;
    corpus *c = user;
    ms_structure *d = push(c);
    static const double zero[3] = {0, 0, 0};
    if (!d) return 1;
    if (copy_into(d, s, zero, 1) == 0) c->n++;
    else ms_structure_destroy(d);
    return 1;
}

static void load(const char *data, const char *rel, corpus *c)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", data, rel);
    ms_bench_read_cifs(dir, keep_first, c);
}

static void free_corpus(corpus *c)
{
    for (size_t i = 0; i < c->n; i++) ms_structure_destroy(&c->items[i]);
    free(c->items);
    memset(c, 0, sizeof *c);
}

typedef struct {
    ms_fingerprint *fp;
    corpus conv; /* conventional cells */
    int *ok;
} prepared;

/* Symmetry + fingerprint of every structure (timed), keeping conventional cells for dedup. */
static double prepare(const corpus *c, const ms_symmetry_options *so, const ms_element_table *t,
                      prepared *p)
{
    ms_symmetry_workspace ws;
    ms_symmetry sym;
    ms_symmetry_workspace_init(&ws);
    ms_symmetry_init(&sym);
    p->fp = calloc(c->n, sizeof *p->fp);
    p->ok = calloc(c->n, sizeof *p->ok);
    memset(&p->conv, 0, sizeof p->conv);
    double t_sym = 0;
    static const double zero[3] = {0, 0, 0};
    for (size_t i = 0; i < c->n; i++) {
        double t0 = ms_bench_now();
        int ok = ms_symmetry_analyze(&ws, &c->items[i], so, &sym) == MS_SUCCESS &&
                 ms_fingerprint_compute(&c->items[i], &sym, t, &p->fp[i]) == MS_SUCCESS;
        t_sym += ms_bench_now() - t0;
        ms_structure *d = push(&p->conv);
        if (ok && d && copy_into(d, &sym.conventional, zero, 1) == 0) p->ok[i] = 1;
        else if (d) ms_structure_init(d);
        p->conv.n++;
    }
    ms_symmetry_destroy(&sym);
    ms_symmetry_workspace_destroy(&ws);
    return t_sym;
}

static void free_prepared(prepared *p)
{
    free(p->fp);
    free(p->ok);
    free_corpus(&p->conv);
}

/* ms_dedup_add over n records (time per record); prints groups and comparisons. */
static double dedup_time(const prepared *p, size_t n, size_t *groups, size_t *cmp)
{
    ms_dedup *d;
    if (ms_dedup_create(NULL, &d) != MS_SUCCESS) return 0;
    double t0 = ms_bench_now();
    for (size_t i = 0; i < n; i++) {
        if (p->ok[i]) ms_dedup_add(d, i, &p->fp[i], &p->conv.items[i], MS_DB_UNKNOWN, NULL, NULL);
        else ms_dedup_add_alone(d, i, MS_DB_UNKNOWN, NULL, NULL);
    }
    ms_dedup_finish(d);
    double t = ms_bench_now() - t0;
    *groups = ms_dedup_group_count(d);
    *cmp = ms_dedup_comparisons(d);
    ms_dedup_free(d);
    return t;
}

static void bench_corpus(const char *name, const corpus *c, const ms_element_table *t)
{
    ms_validate_options vo;
    ms_validate_options_default(&vo);
    vo.elements = t;
    ms_validate_workspace vws;
    if (ms_validate_workspace_init(&vws) != MS_SUCCESS) return;
    ms_validation v;
    size_t flagged = 0;
    double t0 = ms_bench_now();
    for (size_t i = 0; i < c->n; i++) {
        ms_validate_structure(&vws, &c->items[i], &vo, &v);
        flagged += v.n > 0;
    }
    double tv = ms_bench_now() - t0;
    ms_validate_workspace_destroy(&vws);
    printf("quality %-8s validate              %6zu records %9.0f records/s %7.3f ms each (%zu with findings)\n",
           name, c->n, (double)c->n / tv, 1e3 * tv / (double)c->n, flagged);
    ms_symmetry_options so;
    ms_symmetry_options_default(&so);
    so.use_oxidation = 0;
    so.elements = t;
    prepared p;
    double ts = prepare(c, &so, t, &p);
    printf("quality %-8s symmetry+fingerprint  %6zu records %9.0f records/s %7.3f ms each\n", name, c->n,
           (double)c->n / ts, 1e3 * ts / (double)c->n);
    size_t groups, cmp;
    double td = dedup_time(&p, c->n, &groups, &cmp);
    printf("quality %-8s dedup                 %6zu records %9.0f records/s %7.4f ms each (%zu groups, %zu comparisons)\n",
           name, c->n, (double)c->n / td, 1e3 * td / (double)c->n, groups, cmp);
    free_prepared(&p);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_quality DATA_DIR\n");
        return 2;
    }
    ms_element_table *t;
    if (ms_element_table_load_default(&t) != MS_SUCCESS) {
        fprintf(stderr, "bench_quality: %s\n", ms_error_message());
        return 2;
    }
    corpus perov = {0}, obx = {0};
    load(argv[1], "cif/perov5/cifs", &perov);
    load(argv[1], "labeled/obelix-train/cifs", &obx);
    bench_corpus("perov5", &perov, t);
    bench_corpus("obelix", &obx, t);
    /* scaling: 1x, 2x, 4x of the first 2,000 perovskites, extra copies shifted and permuted */
    size_t base = perov.n < 2000 ? perov.n : 2000;
    corpus big = {0};
    for (int copy = 0; copy < 4; copy++)
        for (size_t i = 0; i < base; i++) {
            double shift[3] = {0.1371 * copy, 0.2913 * copy, 0.5639 * copy};
            ms_structure *d = push(&big);
            if (!d) break;
            if (copy_into(d, &perov.items[i], shift, 1 + 2 * (size_t)copy) == 0) big.n++;
            else ms_structure_destroy(d);
        }
    ms_symmetry_options so;
    ms_symmetry_options_default(&so);
    so.use_oxidation = 0;
    so.elements = t;
    prepared p;
    prepare(&big, &so, t, &p);
    double first = 0;
    for (size_t k = 1; k <= 4; k *= 2) {
        size_t n = base * k, groups, cmp;
        dedup_time(&p, n, &groups, &cmp); /* warm-up */
        double td = dedup_time(&p, n, &groups, &cmp);
        if (k == 1) first = td;
        printf("quality dedup scaling %zux  %6zu records  %8.4f s  %7.2f us/record  time ratio %.2f"
               "  (%zu groups, %zu comparisons)\n",
               k, n, td, 1e6 * td / (double)n, td / first, groups, cmp);
    }
    free_prepared(&p);
    free_corpus(&big);
    free_corpus(&perov);
    free_corpus(&obx);
    ms_element_table_free(t);
    return 0;
}
