/*
 * ValenceOrbital (matminer, default orbitals s, p, d, f and props avg, frac): the amount-weighted
 * mean number of valence electrons in s, p, d and f shells (Magpie NsValence ... NfValence),
 * "avg s valence electrons" ..., then each divided by the weighted mean total (NValence),
 * "frac s valence electrons" .... Units: electrons per atom, and dimensionless fractions.
 * Magpie has these four tables for Z 1..112; beyond, matminer imputes the table mean
 * (impute_nan=True) and so do we, with reason MS_NAN_IMPUTED. A zero mean total valence (no such
 * element exists in the tables) would make the fractions NaN with MS_NAN_UNDEFINED.
 */
#include <math.h>
#include <stdlib.h>

#include "descriptor_impl.h"
#include "matscreen/descriptor.h"

static const char *const orbital_tables[5] = {"NsValence", "NpValence", "NdValence", "NfValence",
                                              "NValence"};
static const char *const feature_names[8] = {
    "avg s valence electrons",  "avg p valence electrons",  "avg d valence electrons",
    "avg f valence electrons",  "frac s valence electrons", "frac p valence electrons",
    "frac d valence electrons", "frac f valence electrons",
};

typedef struct {
    double value[5][MS_MAX_Z + 1]; /* s, p, d, f, total; imputed where Magpie lacks them */
    unsigned char imputed[MS_MAX_Z + 1];
} valence_state;

static ms_status valence_init(const ms_element_table *table, void **state)
{
    *state = NULL;
    valence_state *s = calloc(1, sizeof *s);
    MS_CHECK(s != NULL, MS_ERR_NOMEM, "allocating the valence_orbital state");
    for (int k = 0; k < 5; k++) {
        int idx = ms_element_property_index(table, orbital_tables[k]);
        if (idx < 0) {
            free(s);
            return ms_error_set(MS_ERR_NOT_FOUND, "Magpie table %s.table is not loaded",
                                orbital_tables[k]);
        }
        double raw[MS_MAX_Z], tmp[MS_MAX_Z];
        for (int z = 1; z <= MS_MAX_Z; z++) raw[z - 1] = ms_element_property(table, idx, z);
        double mean = ms_np_nanmean(raw, MS_MAX_Z, tmp);
        for (int z = 1; z <= MS_MAX_Z; z++) {
            if (isnan(raw[z - 1])) s->imputed[z] = 1;
            s->value[k][z] = isnan(raw[z - 1]) ? mean : raw[z - 1];
        }
    }
    *state = s;
    return MS_SUCCESS;
}

static size_t valence_work(const void *state, const ms_descriptor_input *in)
{
    (void)state;
    (void)in;
    return 2 * MS_MAX_Z;
}

static ms_status valence_compute(const void *state, const ms_descriptor_input *in,
                                 ms_descriptor_workspace *ws, double *out, unsigned char *reason)
{
    const valence_state *s = state;
    MS_CHECK(ws->n_d >= 2 * MS_MAX_Z, MS_ERR_USAGE, "valence_orbital: workspace too small");
    ms_feature_elements e;
    ms_feature_elements_get(in->composition, &e);
    if (e.n == 0 || e.negative) {
        ms_feature_fill_nan(out, reason, 8, MS_NAN_UNDEFINED);
        return MS_SUCCESS;
    }
    size_t n = (size_t)e.n;
    double *v = ws->d, *tmp = ws->d + MS_MAX_Z;
    int imputed = 0;
    for (size_t i = 0; i < n; i++) imputed |= s->imputed[e.z[i]];
    double avg[5];
    for (int k = 0; k < 5; k++) {
        for (size_t i = 0; i < n; i++) v[i] = s->value[k][e.z[i]];
        avg[k] = ms_np_average(v, e.amount, n, tmp);
    }
    unsigned char r = (unsigned char)(imputed ? MS_NAN_IMPUTED : MS_NAN_NONE);
    for (int k = 0; k < 4; k++) {
        out[k] = avg[k];
        reason[k] = r;
        if (avg[4] == 0) {
            out[4 + k] = NAN;
            reason[4 + k] = MS_NAN_UNDEFINED;
        } else {
            out[4 + k] = avg[k] / avg[4];
            reason[4 + k] = r;
        }
    }
    return MS_SUCCESS;
}

static void valence_free(void *state) { free(state); }

const ms_descriptor_type ms_descriptor_valence_orbital = {
    .name = "valence_orbital",
    .version = 1,
    .n_features = 8,
    .feature_names = feature_names,
    .summary = "mean s, p, d, f valence electrons and their fractions of the total (matminer)",
    .init = valence_init,
    .work_doubles = valence_work,
    .compute = valence_compute,
    .free = valence_free,
};
