/*
 * Global symmetry features (matminer GlobalSymmetryFeatures) from the symmetry dataset of the
 * input (one ms_symmetry_analyze per structure, done by featurize.c and shared by every family):
 * "spacegroup_num" (1..230), "crystal_system_int" (cubic 1, hexagonal 2, trigonal 3, tetragonal 4,
 * orthorhombic 5, monoclinic 6, triclinic 7, matminer's crystal_idx), "is_centrosymmetric" (1 when
 * an operation is the inversion -1, i.e. the point group is a Laue class: matminer's sga.is_laue())
 * and "n_symmetry_ops" (operations of the input cell including centring translations:
 * len(sga.get_symmetry_operations())).
 *
 * matminer's fifth feature, "crystal_system", is a string ("cubic"); a feature row holds numbers,
 * so it is not a column: crystal_system_int carries the same information and
 * ms_crystal_system_name() gives the text. Without a dataset (symmetry failed at every tolerance of
 * the ladder, or the caller gave none) all four are NaN with MS_NAN_NEEDS_SYMMETRY.
 */
#include "descriptor_impl.h"
#include "matscreen/descriptor.h"
#include "matscreen/symmetry.h"

#define N_SYM 4

static const char *const feature_names[N_SYM] = {"spacegroup_num", "crystal_system_int",
                                                 "is_centrosymmetric", "n_symmetry_ops"};

static ms_status symmetry_compute(const void *state, const ms_descriptor_input *in,
                                  ms_descriptor_workspace *ws, double *out, unsigned char *reason)
{
    (void)state;
    (void)ws;
    const ms_symmetry *sym = in->symmetry;
    if (!in->structure) {
        ms_feature_fill_nan(out, reason, N_SYM, MS_NAN_NEEDS_STRUCTURE);
        return MS_SUCCESS;
    }
    if (!sym || sym->number < 1 || sym->number > 230) {
        ms_feature_fill_nan(out, reason, N_SYM, MS_NAN_NEEDS_SYMMETRY);
        return MS_SUCCESS;
    }
    out[0] = sym->number;
    out[1] = (double)ms_crystal_system_of(sym->number);
    out[2] = sym->centrosymmetric ? 1.0 : 0.0;
    out[3] = (double)sym->n_operations;
    for (int k = 0; k < N_SYM; k++) reason[k] = MS_NAN_NONE;
    return MS_SUCCESS;
}

const ms_descriptor_type ms_descriptor_global_symmetry = {
    .name = "global_symmetry",
    .version = 1,
    .n_features = N_SYM,
    .feature_names = feature_names,
    .summary = "space group number, crystal system, centrosymmetry, number of symmetry operations "
               "(matminer GlobalSymmetryFeatures)",
    .init = NULL,
    .work_doubles = NULL,
    .compute = symmetry_compute,
    .free = NULL,
    .needs_symmetry = 1,
};
