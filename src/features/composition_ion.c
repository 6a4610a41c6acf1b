/*
 * IonProperty (matminer, PymatgenData source): "compound possible" (1 when some assignment of
 * oxidation states makes the composition charge neutral, else 0), "max ionic char" and
 * "avg ionic char", where the ionic character of an element pair is 1 - exp(-(X_A - X_B)^2 / 4)
 * with Pauling electronegativities X, the maximum is over pairs and the average is
 * sum_{i<j} x_i x_j I_ij over atomic fractions x. A single element gives (1, 0, 0).
 *
 * Charge balance follows pymatgen's Composition.oxi_state_guesses as matminer calls it: each
 * element's candidate states are its common oxidation states, else its ICSD states, else all its
 * states; every atom of the composition (the amounts as given, not reduced) picks one state, and
 * the compound is possible when some choice sums to 0. pymatgen enumerates the combinations; we
 * decide the same question with the bounded search of include/matscreen/oxidation.h, which the
 * validation stage shares.
 * Where we deliberately differ from matminer (see docs/descriptors.md):
 *   - Non-integer amounts (disordered structures): pymatgen raises "Charge balance analysis
 *     requires integer values", so matminer fails on the whole row. We scale the amounts by the
 *     smallest k <= MS_OXIDATION_MAX_SCALE that makes them integers and decide for that multiple;
 *     when there is no such k, or the bounded search gives up, the feature is NaN with
 *     MS_NAN_TOO_LARGE, where pymatgen would run for hours.
 *   - When the input structure carries oxidation states on every species, matminer's rule for
 *     compositions with oxidation states applies: possible when |sum occu * oxi| <= 1e-8.
 * Missing electronegativities (He, Ne, Ar, Z > 103) are imputed with the mean over all elements
 * that have one, as matminer's PymatgenData(impute_nan=True); those values carry MS_NAN_IMPUTED.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor_impl.h"
#include "matscreen/descriptor.h"
#include "matscreen/oxidation.h"

/* The search's work buffer lives in the descriptor workspace, whose storage is doubles. */
#define WORK_DOUBLES MS_OXIDATION_WORK_WORDS

static const char *const feature_names[3] = {"compound possible", "max ionic char",
                                             "avg ionic char"};

typedef struct {
    double x[MS_MAX_Z + 1];               /* electronegativity, imputed where missing */
    unsigned char x_imputed[MS_MAX_Z + 1];
    ms_oxidation_states ox;               /* candidate oxidation states */
} ion_state;

static ms_status ion_init(const ms_element_table *table, void **state)
{
    *state = NULL;
    ion_state *s = calloc(1, sizeof *s);
    MS_CHECK(s != NULL, MS_ERR_NOMEM, "allocating the ion_property state");
    double raw[MS_MAX_Z], tmp[MS_MAX_Z];
    for (int z = 1; z <= MS_MAX_Z; z++) {
        const ms_element *el = ms_element_get(table, z);
        /* PymatgenData: `if value and not pd.isnull(value)`, so 0 counts as missing too */
        raw[z - 1] = (el->x != 0) ? el->x : NAN;
    }
    ms_oxidation_states_init(&s->ox, table);
    double mean = ms_np_nanmean(raw, MS_MAX_Z, tmp);
    for (int z = 1; z <= MS_MAX_Z; z++) {
        s->x_imputed[z] = (unsigned char)isnan(raw[z - 1]);
        s->x[z] = isnan(raw[z - 1]) ? mean : raw[z - 1];
    }
    *state = s;
    return MS_SUCCESS;
}

static size_t ion_work(const void *state, const ms_descriptor_input *in)
{
    (void)state;
    (void)in;
    return WORK_DOUBLES;
}

static ms_status ion_compute(const void *state, const ms_descriptor_input *in,
                             ms_descriptor_workspace *ws, double *out, unsigned char *reason)
{
    const ion_state *s = state;
    MS_CHECK(ws->n_d >= WORK_DOUBLES, MS_ERR_USAGE, "ion_property: workspace too small");
    ms_feature_elements e;
    ms_feature_elements_get(in->composition, &e);
    if (e.n == 0 || e.negative) {
        ms_feature_fill_nan(out, reason, 3, MS_NAN_UNDEFINED);
        return MS_SUCCESS;
    }
    memset(reason, MS_NAN_NONE, 3);
    if (e.n == 1) {
        out[0] = 1;
        out[1] = 0;
        out[2] = 0;
        return MS_SUCCESS;
    }
    /* compound possible */
    const ms_structure *st = in->structure;
    int all_oxi = st && st->n_species > 0;
    for (size_t i = 0; all_oxi && i < st->n_species; i++) all_oxi = st->species[i].has_oxi;
    if (all_oxi) {
        double q = 0;
        for (size_t i = 0; i < st->n_species; i++) q += st->species[i].occu * st->species[i].oxi;
        out[0] = fabs(q) <= 1e-8;
    } else {
        double amount[MS_MAX_Z];
        for (int i = 0; i < e.n; i++) amount[i] = e.amount[i];
        /* the workspace is doubles; its storage holds the search's bitsets */
        int verdict = ms_oxidation_balance(&s->ox, e.z, amount, e.n, (uint64_t *)(void *)ws->d);
        if (verdict < 0) {
            out[0] = NAN;
            reason[0] = MS_NAN_TOO_LARGE;
        } else {
            out[0] = verdict;
        }
    }
    /* ionic character */
    double total = 0;
    int imputed = 0;
    for (int i = 0; i < e.n; i++) {
        total += e.amount[i];
        imputed |= s->x_imputed[e.z[i]];
    }
    double max_ic = -INFINITY, avg_ic = 0;
    for (int i = 0; i < e.n; i++)
        for (int j = i + 1; j < e.n; j++) {
            double dx = s->x[e.z[i]] - s->x[e.z[j]];
            double ic = 1.0 - exp(-0.25 * (dx * dx));
            if (ic > max_ic) max_ic = ic;
            avg_ic += (e.amount[i] / total) * (e.amount[j] / total) * ic;
        }
    out[1] = max_ic;
    out[2] = avg_ic;
    if (imputed) reason[1] = reason[2] = MS_NAN_IMPUTED;
    return MS_SUCCESS;
}

static void ion_free(void *state) { free(state); }

const ms_descriptor_type ms_descriptor_ion_property = {
    .name = "ion_property",
    .version = 1,
    .n_features = 3,
    .feature_names = feature_names,
    .summary = "charge balance possible, max and average ionic character (matminer IonProperty)",
    .init = ion_init,
    .work_doubles = ion_work,
    .compute = ion_compute,
    .free = ion_free,
};
