/*
 * Composition featurization throughput, single process: compositions per second for each
 * composition descriptor family and for the whole "composition" set through a featurizer.
 *
 * usage: bench_features DATA_DIR   (DATA_DIR is ../shared/data; the formulas are read from the
 *                                   `formula` column of DATA_DIR/../reference/structures.csv)
 * Formulas are parsed once, outside the timed loops (parsing is reported on its own line). Each
 * figure repeats passes over all compositions until at least 0.5 s have passed. For comparison,
 * matminer's ElementProperty("magpie") takes about 1.7 ms per small composition. Tests never
 * assert on time; this program only reports.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/bench_util.h"
#include "matscreen/composition.h"
#include "matscreen/descriptor.h"
#include "matscreen/element.h"

/* The formula field of one structures.csv line: column 7 (0-based), never quoted in practice,
 * but quoted fields before it (warnings with commas) are skipped properly. */
static int formula_field(const char *line, char *out, size_t n)
{
    int col = 0;
    const char *p = line;
    while (*p && col < 7) {
        if (*p == '"') {
            for (p++; *p && !(*p == '"' && p[1] != '"'); p += (*p == '"') ? 2 : 1) {}
            if (*p) p++;
        }
        while (*p && *p != ',') p++;
        if (*p == ',') p++;
        col++;
    }
    size_t k = 0;
    while (p[k] && p[k] != ',' && p[k] != '\n' && k + 1 < n) {
        out[k] = p[k];
        k++;
    }
    out[k] = '\0';
    return k > 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/../reference/structures.csv", argv[1]);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("bench_features: cannot open %s\n", path);
        return 0;
    }
    size_t cap = 0, n = 0, alloc = 0, lines = 0;
    char *line = NULL, formula[1024];
    char **formulas = NULL;
    if (getline(&line, &cap, f) < 0) {
        fclose(f);
        return 1;
    }
    while (getline(&line, &cap, f) > 0) {
        lines++;
        if (!formula_field(line, formula, sizeof formula)) continue;
        if (n == alloc) {
            alloc = alloc ? 2 * alloc : 1024;
            char **p = realloc(formulas, alloc * sizeof *formulas);
            if (!p) return 1;
            formulas = p;
        }
        formulas[n++] = strdup(formula);
    }
    free(line);
    fclose(f);

    ms_composition *comps = malloc(n * sizeof *comps);
    if (!comps) return 1;
    size_t ok = 0;
    double t0 = ms_bench_now();
    for (size_t i = 0; i < n; i++)
        if (ms_composition_parse(formulas[i], &comps[ok]) == MS_SUCCESS) ok++;
    double t_parse = ms_bench_now() - t0;
    printf("bench_features: %zu reference rows, %zu formulas, %zu parsed\n", lines, n, ok);
    printf("  %-18s %12.0f compositions/s\n", "formula parse", (double)ok / t_parse);

    ms_element_table *table;
    if (ms_element_table_load_default(&table) != MS_SUCCESS) {
        fprintf(stderr, "bench_features: %s\n", ms_error_message());
        return 1;
    }
    double *row = malloc(512 * sizeof *row);
    unsigned char *reason = malloc(512);
    double sink = 0;
    for (size_t k = 0; k < ms_descriptor_type_count(); k++) {
        const ms_descriptor_type *t = ms_descriptor_type_get(k);
        void *state = NULL;
        if (t->init && t->init(table, &state) != MS_SUCCESS) {
            fprintf(stderr, "%s: %s\n", t->name, ms_error_message());
            return 1;
        }
        ms_composition all;
        ms_composition_clear(&all);
        for (int z = 1; z <= MS_MAX_Z; z++) ms_composition_add(&all, z, 1.0);
        ms_descriptor_input in = {NULL, &all, NULL, NULL};
        ms_descriptor_workspace ws = {NULL, 0};
        ws.n_d = t->work_doubles ? t->work_doubles(state, &in) : 0;
        ws.d = malloc((ws.n_d ? ws.n_d : 1) * sizeof *ws.d);
        size_t done = 0;
        double start = ms_bench_now(), el;
        do {
            for (size_t i = 0; i < ok; i++) {
                in.composition = &comps[i];
                t->compute(state, &in, &ws, row, reason);
                sink += row[0];
            }
            done += ok;
        } while ((el = ms_bench_now() - start) < 0.5);
        printf("  %-18s %12.0f compositions/s  (%zu features, %.2f us each)\n", t->name,
               (double)done / el, t->n_features, 1e6 * el / (double)done);
        free(ws.d);
        if (t->free) t->free(state);
    }
    const ms_descriptor_set *set;
    ms_featurizer *fz;
    if (ms_descriptor_set_lookup("composition", &set) != MS_SUCCESS ||
        ms_featurizer_create(set, table, &fz) != MS_SUCCESS) {
        fprintf(stderr, "bench_features: %s\n", ms_error_message());
        return 1;
    }
    size_t done = 0;
    double start = ms_bench_now(), el;
    do {
        for (size_t i = 0; i < ok; i++) {
            ms_featurizer_compute_composition(fz, &comps[i], row, reason);
            sink += row[0];
        }
        done += ok;
    } while ((el = ms_bench_now() - start) < 0.5);
    printf("  %-18s %12.0f compositions/s  (set \"composition\", %zu features, %.2f us each)\n",
           "featurizer", (double)done / el, ms_featurizer_n_features(fz), 1e6 * el / (double)done);
    printf("  (checksum %g)\n", sink);
    ms_featurizer_destroy(&fz);
    ms_element_table_free(table);
    for (size_t i = 0; i < n; i++) free(formulas[i]);
    free(formulas);
    free(comps);
    free(row);
    free(reason);
    return 0;
}
