/*
 * ElementFraction (matminer): the atomic fraction of every element H..Og, 118 features in order of
 * Z, named by the element symbol as matminer names them ("H", "He", ..., "Og"). Fractions are
 * occupancy weighted: amount / total amount, 0 for absent elements (a true zero, not a missing
 * value). An empty composition gives NaN with MS_NAN_UNDEFINED.
 */
#include <string.h>

#include "descriptor_impl.h"
#include "matscreen/descriptor.h"

static ms_status fraction_compute(const void *state, const ms_descriptor_input *in,
                                  ms_descriptor_workspace *ws, double *out, unsigned char *reason)
{
    (void)state;
    (void)ws;
    ms_feature_elements e;
    ms_feature_elements_get(in->composition, &e);
    if (e.n == 0 || e.negative) {
        ms_feature_fill_nan(out, reason, MS_MAX_Z, MS_NAN_UNDEFINED);
        return MS_SUCCESS;
    }
    /* pymatgen's num_atoms: Python sum over the amounts, left to right */
    double total = 0;
    for (int i = 0; i < e.n; i++) total += e.amount[i];
    memset(reason, MS_NAN_NONE, MS_MAX_Z);
    for (int z = 0; z < MS_MAX_Z; z++) out[z] = 0.0;
    for (int i = 0; i < e.n; i++) out[e.z[i] - 1] = e.amount[i] / total;
    return MS_SUCCESS;
}

const ms_descriptor_type ms_descriptor_element_fraction = {
    .name = "element_fraction",
    .version = 1,
    .n_features = MS_MAX_Z,
    .feature_names = ms_element_symbols + 1, /* H ... Og */
    .summary = "atomic fraction of each element H..Og (matminer ElementFraction)",
    .init = NULL,
    .work_doubles = NULL,
    .compute = fraction_compute,
    .free = NULL,
};
