/* Test data of the GP and PCA tests; see gp_data.h. */
#include "gp_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/composition.h"
#include "matscreen/descriptor.h"

int ms_test_load_magpie(const ms_element_table *table, const char *csv, size_t nmax, ms_matrix *x,
                        double **y)
{
    const ms_descriptor_set *set;
    ms_featurizer *fz = NULL;
    if (ms_descriptor_set_lookup("magpie", &set) != MS_SUCCESS ||
        ms_featurizer_create(set, table, &fz) != MS_SUCCESS)
        return -1;
    FILE *f = fopen(csv, "r");
    if (!f) {
        ms_featurizer_destroy(&fz);
        return -1;
    }
    const size_t nf = ms_featurizer_n_features(fz);
    double *raw = malloc(nmax * nf * sizeof *raw), *t = malloc(nmax * sizeof *t);
    unsigned char *reason = malloc(nf);
    char line[512];
    size_t n = 0;
    int header = 1;
    while (raw && t && reason && n < nmax && fgets(line, sizeof line, f)) {
        if (header) {
            header = 0;
            continue;
        }
        char *comma = strrchr(line, ',');
        if (!comma) continue;
        *comma = '\0';
        ms_composition c;
        if (ms_composition_parse(line, &c) != MS_SUCCESS) continue;
        if (ms_featurizer_compute_composition(fz, &c, raw + n * nf, reason) != MS_SUCCESS)
            continue;
        int finite = 1;
        for (size_t j = 0; j < nf; j++) finite &= isfinite(raw[n * nf + j]) != 0;
        double v = strtod(comma + 1, NULL);
        if (!finite || !isfinite(v)) continue;
        t[n++] = v;
    }
    fclose(f);
    free(reason);
    ms_featurizer_destroy(&fz);
    if (!raw || !t || n < 2) {
        free(raw);
        free(t);
        return -1;
    }
    size_t keep = 0;
    size_t *cols = malloc(nf * sizeof *cols);
    double *mu = malloc(nf * sizeof *mu), *sd = malloc(nf * sizeof *sd);
    for (size_t j = 0; j < nf; j++) {
        double s = 0, v = 0;
        for (size_t i = 0; i < n; i++) s += raw[i * nf + j];
        s /= (double)n;
        for (size_t i = 0; i < n; i++) v += (raw[i * nf + j] - s) * (raw[i * nf + j] - s);
        v = sqrt(v / (double)n);
        if (v > 1e-12 * (1.0 + fabs(s))) {
            cols[keep] = j;
            mu[keep] = s;
            sd[keep] = v;
            keep++;
        }
    }
    int rc = ms_matrix_alloc(x, n, keep) == MS_SUCCESS ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        for (size_t k = 0; k < keep; k++)
            x->data[i * keep + k] = (raw[i * nf + cols[k]] - mu[k]) / sd[k];
    free(cols);
    free(mu);
    free(sd);
    free(raw);
    *y = t;
    return rc;
}
