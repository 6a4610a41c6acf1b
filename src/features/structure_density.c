/*
 * Density features (matminer DensityFeatures): "density" in g/cm^3, "vpa" (volume per atom) in
 * Å^3, "packing fraction" (dimensionless).
 *
 * On ordered structures these are matminer's numbers: density = cell mass / volume (pymatgen
 * Structure.density), vpa = volume / number of sites, packing fraction = 4 pi sum_sites r^3 /
 * (3 volume) with r pymatgen's Element.atomic_radius (periodic_table.json "Atomic radius", the
 * empirical radii of Slater 1964; ms_element.atomic_radius), as matminer's site.specie.atomic_radius.
 *
 * matminer refuses disordered structures ("Disordered structure support not built yet"); we extend
 * the definitions by occupancy, which reduces to matminer's on ordered structures: vpa = volume /
 * sum of occupancies (atoms per cell), packing fraction = 4 pi sum_sites sum_species occ r^3 /
 * (3 volume). An element without an atomic radius (He, Ne, Ar, Kr, Xe and Z >= 87 except a few:
 * pymatgen raises on None ** 3) gives NaN packing fraction with MS_NAN_MISSING_ELEMENT_DATA.
 */
#include <math.h>

#include "descriptor_impl.h"
#include "matscreen/descriptor.h"

#define N_DENSITY 3

static const char *const feature_names[N_DENSITY] = {"density", "vpa", "packing fraction"};

static ms_status density_init(const ms_element_table *table, void **state)
{
    *state = (void *)table; /* borrowed, read-only */
    return MS_SUCCESS;
}

static ms_status density_compute(const void *state, const ms_descriptor_input *in,
                                 ms_descriptor_workspace *ws, double *out, unsigned char *reason)
{
    (void)ws;
    const ms_element_table *table = state;
    const ms_structure *s = in->structure;
    if (!s) {
        ms_feature_fill_nan(out, reason, N_DENSITY, MS_NAN_NEEDS_STRUCTURE);
        return MS_SUCCESS;
    }
    double volume = ms_structure_volume(s);
    int ordered = ms_structure_is_ordered(s);
    double atoms = 0, r3 = 0;
    int missing = 0;
    for (size_t i = 0; i < s->n_sites; i++)
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++) {
            const ms_element *e = ms_element_get(table, s->species[k].z);
            double r = e ? e->atomic_radius : NAN;
            double occ = ordered ? 1.0 : s->species[k].occu;
            atoms += occ;
            if (isnan(r)) missing = 1;
            else r3 += occ * (r * r * r);
        }
    out[0] = ms_structure_density(s, table);
    reason[0] = isnan(out[0]) ? MS_NAN_MISSING_ELEMENT_DATA : MS_NAN_NONE;
    if (ordered) atoms = (double)s->n_sites;
    out[1] = atoms > 0 ? volume / atoms : NAN;
    reason[1] = atoms > 0 ? MS_NAN_NONE : MS_NAN_UNDEFINED;
    out[2] = missing ? NAN : 4 * M_PI * r3 / (3 * volume);
    reason[2] = missing ? MS_NAN_MISSING_ELEMENT_DATA : MS_NAN_NONE;
    return MS_SUCCESS;
}

const ms_descriptor_type ms_descriptor_density = {
    .name = "density",
    .version = 1,
    .n_features = N_DENSITY,
    .feature_names = feature_names,
    .summary = "density (g/cm^3), volume per atom (A^3), packing fraction (matminer DensityFeatures)",
    .init = density_init,
    .work_doubles = NULL,
    .compute = density_compute,
    .free = NULL,
};
