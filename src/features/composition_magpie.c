/*
 * ElementProperty, matminer's "magpie" preset: 22 Magpie elemental properties, each summarised
 * over the composition by 6 statistics, 132 features named and ordered exactly as matminer
 * ("MagpieData minimum Number", ..., "MagpieData mode SpaceGroupNumber").
 *
 * Definitions (matminer featurizers/utils/stats.py PropertyStats, weights = element amounts):
 *   minimum, maximum, range   of the element values (weights ignored)
 *   mean                      sum(w v) / sum(w)                           (np.average)
 *   avg_dev                   sum(w |v - mean|) / sum(w)
 *   mode                      the smallest value among the elements whose weight is within
 *                             np.isclose (rtol 1e-5, atol 1e-8) of the largest weight
 * Missing element data: matminer's MagpieData(impute_nan=True), the preset's default, replaces a
 * missing value by the mean of that property over elements 1..118 that have it (np.nanmean). We
 * do the same so that models trained on matminer features stay valid, and mark every feature that
 * used an imputed value with MS_NAN_IMPUTED (matminer says nothing). Sums follow numpy's order.
 */
#include <math.h>
#include <stdlib.h>

#include "descriptor_impl.h"
#include "matscreen/descriptor.h"

#define N_PROPS 22
#define N_STATS 6

static const char *const prop_names[N_PROPS] = {
    "Number",     "MendeleevNumber", "AtomicWeight", "MeltingT",     "Column",
    "Row",        "CovalentRadius",  "Electronegativity", "NsValence", "NpValence",
    "NdValence",  "NfValence",       "NValence",     "NsUnfilled",   "NpUnfilled",
    "NdUnfilled", "NfUnfilled",      "NUnfilled",    "GSvolume_pa",  "GSbandgap",
    "GSmagmom",   "SpaceGroupNumber",
};

#define MAGPIE_STATS(p)                                                                            \
    "MagpieData minimum " p, "MagpieData maximum " p, "MagpieData range " p,                       \
        "MagpieData mean " p, "MagpieData avg_dev " p, "MagpieData mode " p

static const char *const feature_names[N_PROPS * N_STATS] = {
    MAGPIE_STATS("Number"),       MAGPIE_STATS("MendeleevNumber"), MAGPIE_STATS("AtomicWeight"),
    MAGPIE_STATS("MeltingT"),     MAGPIE_STATS("Column"),          MAGPIE_STATS("Row"),
    MAGPIE_STATS("CovalentRadius"), MAGPIE_STATS("Electronegativity"), MAGPIE_STATS("NsValence"),
    MAGPIE_STATS("NpValence"),    MAGPIE_STATS("NdValence"),       MAGPIE_STATS("NfValence"),
    MAGPIE_STATS("NValence"),     MAGPIE_STATS("NsUnfilled"),      MAGPIE_STATS("NpUnfilled"),
    MAGPIE_STATS("NdUnfilled"),   MAGPIE_STATS("NfUnfilled"),      MAGPIE_STATS("NUnfilled"),
    MAGPIE_STATS("GSvolume_pa"),  MAGPIE_STATS("GSbandgap"),       MAGPIE_STATS("GSmagmom"),
    MAGPIE_STATS("SpaceGroupNumber"),
};

/* Property values by Z after imputation, and which of them were imputed. */
typedef struct {
    double value[N_PROPS][MS_MAX_Z + 1];
    unsigned char imputed[N_PROPS][MS_MAX_Z + 1];
} magpie_state;

static ms_status magpie_init(const ms_element_table *table, void **state)
{
    *state = NULL;
    magpie_state *s = calloc(1, sizeof *s);
    MS_CHECK(s != NULL, MS_ERR_NOMEM, "allocating the magpie state");
    for (int p = 0; p < N_PROPS; p++) {
        int idx = ms_element_property_index(table, prop_names[p]);
        if (idx < 0) {
            free(s);
            return ms_error_set(MS_ERR_NOT_FOUND, "Magpie table %s.table is not loaded",
                                prop_names[p]);
        }
        double raw[MS_MAX_Z], tmp[MS_MAX_Z];
        for (int z = 1; z <= MS_MAX_Z; z++) raw[z - 1] = ms_element_property(table, idx, z);
        /* matminer: avg_prop = np.nanmean(list of the 118 values) */
        double mean = ms_np_nanmean(raw, MS_MAX_Z, tmp);
        for (int z = 1; z <= MS_MAX_Z; z++) {
            s->imputed[p][z] = (unsigned char)isnan(raw[z - 1]);
            s->value[p][z] = isnan(raw[z - 1]) ? mean : raw[z - 1];
        }
    }
    *state = s;
    return MS_SUCCESS;
}

static size_t magpie_work(const void *state, const ms_descriptor_input *in)
{
    (void)state;
    (void)in;
    return 2 * MS_MAX_Z;
}

static ms_status magpie_compute(const void *state, const ms_descriptor_input *in,
                                ms_descriptor_workspace *ws, double *out, unsigned char *reason)
{
    const magpie_state *s = state;
    MS_CHECK(ws->n_d >= 2 * MS_MAX_Z, MS_ERR_USAGE, "magpie: workspace too small");
    ms_feature_elements e;
    ms_feature_elements_get(in->composition, &e);
    if (e.n == 0 || e.negative) {
        ms_feature_fill_nan(out, reason, N_PROPS * N_STATS, MS_NAN_UNDEFINED);
        return MS_SUCCESS;
    }
    size_t n = (size_t)e.n;
    double *v = ws->d, *tmp = ws->d + MS_MAX_Z;
    /* The weights do not depend on the property: find the mode candidates once. */
    double wmax = e.amount[0];
    for (size_t i = 1; i < n; i++) wmax = fmax(wmax, e.amount[i]);
    for (int p = 0; p < N_PROPS; p++) {
        int imputed = 0;
        for (size_t i = 0; i < n; i++) {
            v[i] = s->value[p][e.z[i]];
            imputed |= s->imputed[p][e.z[i]];
        }
        double lo = v[0], hi = v[0];
        for (size_t i = 1; i < n; i++) {
            if (v[i] < lo) lo = v[i];
            if (v[i] > hi) hi = v[i];
        }
        double mean = ms_np_average(v, e.amount, n, tmp);
        for (size_t i = 0; i < n; i++) tmp[i] = fabs(v[i] - mean) * e.amount[i];
        double avg_dev = ms_np_sum(tmp, n) / ms_np_sum(e.amount, n);
        /* np.isclose(w, w.max()): |w - max| <= 1e-8 + 1e-5 |max| */
        double mode = INFINITY;
        for (size_t i = 0; i < n; i++)
            if (fabs(e.amount[i] - wmax) <= 1e-8 + 1e-5 * fabs(wmax) && v[i] < mode) mode = v[i];
        double *o = out + p * N_STATS;
        o[0] = lo;
        o[1] = hi;
        o[2] = hi - lo;
        o[3] = mean;
        o[4] = avg_dev;
        o[5] = mode;
        for (int k = 0; k < N_STATS; k++)
            reason[p * N_STATS + k] = (unsigned char)(imputed ? MS_NAN_IMPUTED : MS_NAN_NONE);
    }
    return MS_SUCCESS;
}

static void magpie_free(void *state) { free(state); }

const ms_descriptor_type ms_descriptor_magpie = {
    .name = "magpie",
    .version = 1,
    .n_features = N_PROPS * N_STATS,
    .feature_names = feature_names,
    .summary = "Magpie elemental properties: min, max, range, mean, avg_dev, mode (matminer)",
    .init = magpie_init,
    .work_doubles = magpie_work,
    .compute = magpie_compute,
    .free = magpie_free,
};
