/*
 * Li-transport descriptors after Sendek et al., Energy Environ. Sci. 10, 306 (2017): the five
 * features of their final logistic-regression model plus two of their candidate features.
 * docs/descriptors.md gives the exact definitions next to the paper's wording and says where the
 * paper is ambiguous; the summary here is the contract of the code.
 *
 * Weights: lambda_i = Li occupancy of site i, alpha_i = anion occupancy of site i (anions as in
 * structure_impl.h), N_Li = sum lambda_i. Distances in Å, from the neighbour list (cutoff 6 Å);
 * split partners (structure_impl.h: two sites closer than 0.8 x the sum of their largest covalent
 * radii, one of them partially occupied) are never neighbours.
 *   LLB  Li-Li bonds per Li: sum_i lambda_i sum_{j Li, d_ij <= 1.2 (2 r_cov(Li)) = 3.072 Å}
 *        lambda_j / N_Li (own periodic images count).
 *   SBI  sublattice bond ionicity: mean Pauling ionicity 1 - exp(-(X_a - X_b)^2/4) over the bonds
 *        of the Li-free sublattice, weighted by occ_a occ_b; a bond joins species a, b (neither Li,
 *        at least one an anion) with d <= 1.2 (r_cov(a) + r_cov(b)).
 *   AFC  anion framework coordination: sum_i alpha_i CN_i / sum alpha_i, CN_i = sum alpha_j over
 *        anion sites j within (1 + 0.1) of the distance from i to its nearest anion site.
 *   LLSD Li-Li separation distance: sum_i lambda_i (distance from i to the nearest other site
 *        holding Li) / N_Li.
 *   LASD Li-anion separation distance: sum_i lambda_i (distance from i to the nearest anion site)
 *        / N_Li.
 *   Li fraction: N_Li / (sum of all occupancies), dimensionless.
 *   free volume per Li: (V - 4 pi/3 sum_sites sum_species occ r_atomic^3) / N_Li in Å^3 (atomic
 *        radii as the packing fraction of structure_density.c).
 * NaN reasons: no structure or neighbour list MS_NAN_NEEDS_STRUCTURE; no Li (LLB, LLSD, LASD, free
 * volume per Li), no anion (AFC, LASD), no bond in the sublattice (SBI) MS_NAN_UNDEFINED; the
 * nearest partner beyond the cutoff MS_NAN_TOO_LARGE; unknown radius or electronegativity
 * MS_NAN_MISSING_ELEMENT_DATA. A structure without Li has Li fraction 0, a true zero.
 */
#include <math.h>

#include "descriptor_impl.h"
#include "matscreen/descriptor.h"
#include "structure_impl.h"

#define Z_LI 3

enum { F_LLB, F_SBI, F_AFC, F_LLSD, F_LASD, F_LI_FRACTION, F_FREE_VOLUME, N_LI };

static const char *const feature_names[N_LI] = {
    "LLB Li-Li bonds per Li", "SBI sublattice bond ionicity", "AFC anion framework coordination",
    "LLSD Li-Li separation distance", "LASD Li-anion separation distance", "Li fraction",
    "free volume per Li",
};

static ms_status li_init(const ms_element_table *table, void **state)
{
    *state = (void *)table; /* borrowed, read-only */
    return MS_SUCCESS;
}

static size_t li_work(const void *state, const ms_descriptor_input *in)
{
    (void)state;
    return in->structure ? in->structure->n_sites + in->structure->n_species : 0;
}

static double li_occupancy(const ms_structure *s, size_t i)
{
    double sum = 0;
    for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++)
        if (s->species[k].z == Z_LI) sum += s->species[k].occu;
    return sum;
}

static void set(double *out, unsigned char *reason, int k, double v, ms_nan_reason r)
{
    out[k] = r == MS_NAN_NONE ? v : NAN;
    reason[k] = (unsigned char)r;
}

/* Distance from site i to the nearest non-split neighbour whose weight (w[j]) is positive;
 * INFINITY when none lies within the list's cutoff. */
static double nearest_weighted(const ms_structure *s, const ms_element_table *table,
                               const ms_neighbor_list *nl, size_t i, const double *w)
{
    for (size_t p = nl->offset[i]; p < nl->offset[i + 1]; p++) {
        const ms_neighbor *nb = &nl->pairs[p];
        if (w[nb->j] > 0 && !ms_sites_split(s, table, i, nb->j, nb->dist)) return nb->dist;
    }
    return INFINITY;
}

static ms_status li_compute(const void *state, const ms_descriptor_input *in,
                            ms_descriptor_workspace *ws, double *out, unsigned char *reason)
{
    const ms_element_table *table = state;
    const ms_structure *s = in->structure;
    const ms_neighbor_list *nl = in->neighbors;
    if (!s || !nl || nl->n_sites != s->n_sites || nl->cutoff < MS_STRUCTURE_CUTOFF) {
        ms_feature_fill_nan(out, reason, N_LI, MS_NAN_NEEDS_STRUCTURE);
        return MS_SUCCESS;
    }
    MS_CHECK(ws->n_d >= li_work(state, in), MS_ERR_USAGE, "li_transport: workspace too small");
    size_t n = s->n_sites;
    double *alpha = ws->d, *anion = ws->d + n;
    ms_site_anion_weights(s, nl, table, alpha, anion);
    /* Li weights are computed on the fly (li_occupancy): cheaper than a pass to store them. */
    double n_li = 0, n_atoms = 0, n_anion = 0, r3 = 0;
    int radius_missing = 0;
    for (size_t i = 0; i < n; i++) {
        n_li += li_occupancy(s, i);
        n_anion += alpha[i];
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++) {
            const ms_element *e = ms_element_get(table, s->species[k].z);
            double r = e ? e->atomic_radius : NAN;
            n_atoms += s->species[k].occu;
            if (isnan(r)) radius_missing = 1;
            else r3 += s->species[k].occu * r * r * r;
        }
    }
    set(out, reason, F_LI_FRACTION, n_li / n_atoms, n_atoms > 0 ? MS_NAN_NONE : MS_NAN_UNDEFINED);

    /* LLB, LLSD, LASD: averages over Li sites weighted by their Li occupancy */
    const ms_element *li = ms_element_get(table, Z_LI);
    double li_bond = MS_BOND_FACTOR * 2 * li->covalent_radius;
    double llb = 0, llsd = 0, lasd = 0;
    int llsd_far = 0, lasd_far = 0;
    for (size_t i = 0; i < n && n_li > 0; i++) {
        double lam = li_occupancy(s, i);
        if (lam <= 0) continue;
        double d_li = INFINITY, d_an = INFINITY;
        for (size_t p = nl->offset[i]; p < nl->offset[i + 1]; p++) {
            const ms_neighbor *nb = &nl->pairs[p];
            if (ms_sites_split(s, table, i, nb->j, nb->dist)) continue;
            double lj = li_occupancy(s, nb->j);
            if (lj > 0) {
                if (nb->dist <= li_bond) llb += lam * lj;
                if (d_li == INFINITY) d_li = nb->dist;
            }
            if (alpha[nb->j] > 0 && d_an == INFINITY) d_an = nb->dist;
            if (d_li < INFINITY && d_an < INFINITY && nb->dist > li_bond) break;
        }
        if (d_li == INFINITY) llsd_far = 1;
        if (d_an == INFINITY) lasd_far = 1;
        llsd += lam * d_li;
        lasd += lam * d_an;
    }
    ms_nan_reason no_li = n_li > 0 ? MS_NAN_NONE : MS_NAN_UNDEFINED;
    set(out, reason, F_LLB, llb / n_li, no_li);
    set(out, reason, F_LLSD, llsd / n_li,
        no_li ? no_li : (llsd_far ? MS_NAN_TOO_LARGE : MS_NAN_NONE));
    set(out, reason, F_LASD, lasd / n_li,
        no_li ? no_li
              : (n_anion <= 0 ? MS_NAN_UNDEFINED : (lasd_far ? MS_NAN_TOO_LARGE : MS_NAN_NONE)));
    set(out, reason, F_FREE_VOLUME, (ms_structure_volume(s) - 4 * M_PI / 3 * r3) / n_li,
        no_li ? no_li : (radius_missing ? MS_NAN_MISSING_ELEMENT_DATA : MS_NAN_NONE));

    /* AFC: anion-anion coordination by the minimum-distance rule on the anion sublattice */
    double afc = 0;
    int afc_far = 0;
    for (size_t i = 0; i < n && n_anion > 0; i++) {
        if (alpha[i] <= 0) continue;
        double d0 = nearest_weighted(s, table, nl, i, alpha), lim = d0 * (1 + MS_CN_TOLERANCE), cn = 0;
        if (lim > nl->cutoff) {
            afc_far = 1;
            break;
        }
        for (size_t p = nl->offset[i]; p < nl->offset[i + 1] && nl->pairs[p].dist <= lim; p++) {
            const ms_neighbor *nb = &nl->pairs[p];
            if (alpha[nb->j] > 0 && !ms_sites_split(s, table, i, nb->j, nb->dist)) cn += alpha[nb->j];
        }
        afc += alpha[i] * cn;
    }
    set(out, reason, F_AFC, afc / n_anion,
        n_anion <= 0 ? MS_NAN_UNDEFINED : (afc_far ? MS_NAN_TOO_LARGE : MS_NAN_NONE));

    /* SBI: bonds of the Li-free sublattice with an anion at one end at least */
    double sbi_w = 0, sbi = 0;
    int x_missing = 0;
    /* Bonds need d <= MS_BOND_FACTOR (r_a + r_b) (covalent radii, ms_elements_bonded), so a site's
     * list (sorted by distance) holds no bond past MS_BOND_FACTOR (its largest non-Li radius + the
     * structure's largest non-Li radius): the loop stops there. The pairs it skips added nothing,
     * so the sums are the same, bit for bit; on 6 Å lists it visits about a tenth of the pairs. */
    double r_all = -INFINITY;
    for (size_t k = 0; k < s->n_species; k++) {
        const ms_element *e = s->species[k].z == Z_LI ? NULL : ms_element_get(table, s->species[k].z);
        if (e && e->covalent_radius > r_all) r_all = e->covalent_radius;
    }
    for (size_t i = 0; i < n; i++) {
        double r_i = -INFINITY;
        for (size_t a = s->site_species[i]; a < s->site_species[i + 1]; a++) {
            const ms_element *e = s->species[a].z == Z_LI ? NULL : ms_element_get(table, s->species[a].z);
            if (e && e->covalent_radius > r_i) r_i = e->covalent_radius;
        }
        if (r_i == -INFINITY || r_all == -INFINITY) continue; /* no bondable species */
        double reach = MS_BOND_FACTOR * (r_i + r_all);
        for (size_t p = nl->offset[i]; p < nl->offset[i + 1]; p++) {
            const ms_neighbor *nb = &nl->pairs[p];
            if (nb->dist > reach) break;
            if (ms_sites_split(s, table, i, nb->j, nb->dist)) continue;
            for (size_t a = s->site_species[i]; a < s->site_species[i + 1]; a++) {
                int za = s->species[a].z;
                if (za == Z_LI) continue;
                for (size_t b = s->site_species[nb->j]; b < s->site_species[nb->j + 1]; b++) {
                    int zb = s->species[b].z;
                    if (zb == Z_LI || (anion[a] == 0 && anion[b] == 0)) continue;
                    if (!ms_elements_bonded(table, za, zb, nb->dist)) continue;
                    double w = s->species[a].occu * s->species[b].occu;
                    double ion = ms_bond_ionicity(table, za, zb);
                    if (isnan(ion)) x_missing = 1;
                    sbi_w += w;
                    sbi += w * ion;
                }
            }
        }
    }
    set(out, reason, F_SBI, sbi / sbi_w,
        sbi_w <= 0 ? MS_NAN_UNDEFINED : (x_missing ? MS_NAN_MISSING_ELEMENT_DATA : MS_NAN_NONE));
    return MS_SUCCESS;
}

const ms_descriptor_type ms_descriptor_li_transport = {
    .name = "li_transport",
    .version = 1,
    .n_features = N_LI,
    .feature_names = feature_names,
    .summary = "Sendek et al. 2017 Li-transport descriptors: LLB, SBI, AFC, LLSD, LASD, Li "
               "fraction, free volume per Li",
    .init = li_init,
    .work_doubles = li_work,
    .compute = li_compute,
    .free = NULL,
    .neighbor_cutoff = MS_STRUCTURE_CUTOFF,
};
