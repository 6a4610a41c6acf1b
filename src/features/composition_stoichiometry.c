/*
 * Stoichiometry (matminer Stoichiometry with its default p_list (0, 2, 3, 5, 7, 10)): the number of
 * elements ("0-norm") and the p-norms of the atomic fractions, (sum_i x_i^p)^(1/p), named "2-norm",
 * "3-norm", "5-norm", "7-norm", "10-norm". Dimensionless. Fractions are occupancy weighted.
 * The sums run over the elements in order of first appearance, as Python's loop over
 * get_el_amt_dict(), with the same pow() calls.
 */
#include <math.h>

#include "descriptor_impl.h"
#include "matscreen/descriptor.h"

#define N_P 6

static const int p_list[N_P] = {0, 2, 3, 5, 7, 10};
static const char *const feature_names[N_P] = {"0-norm", "2-norm", "3-norm",
                                               "5-norm", "7-norm", "10-norm"};

static ms_status stoichiometry_compute(const void *state, const ms_descriptor_input *in,
                                       ms_descriptor_workspace *ws, double *out,
                                       unsigned char *reason)
{
    (void)state;
    (void)ws;
    ms_feature_elements e;
    ms_feature_elements_get(in->composition, &e);
    if (e.n == 0 || e.negative) {
        ms_feature_fill_nan(out, reason, N_P, MS_NAN_UNDEFINED);
        return MS_SUCCESS;
    }
    double total = 0; /* Python's sum(): left to right */
    for (int i = 0; i < e.n; i++) total += e.amount[i];
    for (int k = 0; k < N_P; k++) {
        reason[k] = MS_NAN_NONE;
        if (p_list[k] == 0) {
            out[k] = (double)e.n;
            continue;
        }
        double s = 0;
        for (int i = 0; i < e.n; i++) s += pow(e.amount[i] / total, (double)p_list[k]);
        out[k] = pow(s, 1.0 / (double)p_list[k]);
    }
    return MS_SUCCESS;
}

const ms_descriptor_type ms_descriptor_stoichiometry = {
    .name = "stoichiometry",
    .version = 1,
    .n_features = N_P,
    .feature_names = feature_names,
    .summary = "number of elements and p-norms (2, 3, 5, 7, 10) of the atomic fractions",
    .init = NULL,
    .work_doubles = NULL,
    .compute = stoichiometry_compute,
    .free = NULL,
};
