/*
 * Neighbour statistics of a structure from its periodic neighbour list (neighbors.h, cell list,
 * cutoff MS_STRUCTURE_CUTOFF = 6 Å), as a fixed-width vector of 16 features; and the bond and
 * anion helpers of structure_impl.h shared with li_transport.c.
 *
 * Coordination (the minimum-distance rule, pymatgen's MinimumDistanceNN with tol 0.1): the
 * neighbours of site i are the sites within (1 + 0.1) d_i of it, d_i being its nearest-neighbour
 * distance; split partners (structure_impl.h) are neither. With partial occupancy a neighbour
 * counts with its occupancy sum and every site statistic is weighted by the site's occupancy sum,
 * so an ordered structure gives plain averages over sites.
 *
 * Features (distances in Å):
 *   mean/std/min/max coordination number   over sites (std: population, weighted)
 *   mean/std/min nearest neighbor distance over sites (min: the shortest interatomic distance)
 *   mean/std bond length                    over all bonds of the rule (weights w_i w_j)
 *   mean bond length distortion             per site sum_j w_j |d_ij - dbar_i| / (CN_i dbar_i)
 *                                           (Baur's distortion index), averaged over sites
 *   n bonded element pairs                  distinct unordered element pairs with a bond
 *   mean/min/max pair bond ratio            per element pair A-B: its mean bond length over
 *                                           (covalent radius A + covalent radius B); over pairs
 *   mean/max pair bond spread               per element pair: std / mean of its bond lengths
 * Per-pair values are averaged over the pairs present, unweighted: a fixed-width summary of the
 * per-pair table, whose width would depend on the chemistry.
 *
 * NaN reasons: no structure or no neighbour list MS_NAN_NEEDS_STRUCTURE; a site with no neighbour
 * within the cutoff, or whose (1 + 0.1) d_i exceeds it, MS_NAN_TOO_LARGE (isolated atoms: not a
 * solid); a pair ratio with an unknown covalent radius MS_NAN_MISSING_ELEMENT_DATA.
 */
#include <math.h>
#include <string.h>

#include "descriptor_impl.h"
#include "matscreen/descriptor.h"
#include "structure_impl.h"

/* ---- shared helpers (structure_impl.h) -------------------------------------------------------- */

double ms_site_occupancy(const ms_structure *s, size_t i)
{
    double sum = 0;
    for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++) sum += s->species[k].occu;
    return sum;
}

/* Largest covalent radius of the species of site i (0 when none is known). */
static double site_radius(const ms_structure *s, const ms_element_table *table, size_t i)
{
    double r = 0;
    for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++) {
        const ms_element *e = ms_element_get(table, s->species[k].z);
        if (e && e->covalent_radius > r) r = e->covalent_radius;
    }
    return r;
}

int ms_sites_split(const ms_structure *s, const ms_element_table *table, size_t i, size_t j,
                   double d)
{
    if (d >= 2 * MS_SPLIT_FACTOR * 2.6) return 0; /* 2.6 Å: the largest covalent radius (Fr) */
    if (ms_site_occupancy(s, i) >= 1 - MS_PARTIAL_TOL && ms_site_occupancy(s, j) >= 1 - MS_PARTIAL_TOL)
        return 0;
    return d < MS_SPLIT_FACTOR * (site_radius(s, table, i) + site_radius(s, table, j));
}

int ms_elements_bonded(const ms_element_table *table, int za, int zb, double d)
{
    const ms_element *a = ms_element_get(table, za), *b = ms_element_get(table, zb);
    if (!a || !b || isnan(a->covalent_radius) || isnan(b->covalent_radius)) return 0;
    return d <= MS_BOND_FACTOR * (a->covalent_radius + b->covalent_radius);
}

double ms_bond_ionicity(const ms_element_table *table, int za, int zb)
{
    const ms_element *a = ms_element_get(table, za), *b = ms_element_get(table, zb);
    if (!a || !b) return NAN;
    double dx = a->x - b->x;
    return 1 - exp(-dx * dx / 4);
}

static int anion_former(int z)
{
    switch (z) {
    case 1: case 7: case 8: case 9: case 15: case 16: case 17: case 33: case 34: case 35: case 51:
    case 52: case 53: return 1;
    default: return 0;
    }
}

#define MAX_FORMER_RADIUS 1.40 /* Å: largest covalent radius of an anion former (Sb, I 1.39) */

/* 1 when species k of site i is an anion (see structure_impl.h). */
static int species_is_anion(const ms_structure *s, const ms_neighbor_list *nl,
                            const ms_element_table *table, size_t i, size_t k)
{
    const ms_species *sp = &s->species[k];
    if (sp->has_oxi) return sp->oxi < 0;
    if (!anion_former(sp->z)) return 0;
    const ms_element *e = ms_element_get(table, sp->z);
    if (!e || isnan(e->covalent_radius)) return 1;
    double reach = MS_BOND_FACTOR * (e->covalent_radius + MAX_FORMER_RADIUS);
    for (size_t p = nl->offset[i]; p < nl->offset[i + 1]; p++) {
        const ms_neighbor *nb = &nl->pairs[p];
        if (nb->dist > reach) break;
        if (ms_sites_split(s, table, i, nb->j, nb->dist)) continue;
        for (size_t q = s->site_species[nb->j]; q < s->site_species[nb->j + 1]; q++) {
            int zb = s->species[q].z;
            if (!anion_former(zb) || zb == sp->z) continue;
            const ms_element *f = ms_element_get(table, zb);
            if (f && f->x > e->x && ms_elements_bonded(table, sp->z, zb, nb->dist)) return 0;
        }
    }
    return 1;
}

void ms_site_anion_weights(const ms_structure *s, const ms_neighbor_list *nl,
                           const ms_element_table *table, double *alpha, double *species_anion)
{
    for (size_t i = 0; i < s->n_sites; i++) {
        alpha[i] = 0;
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++) {
            int an = species_is_anion(s, nl, table, i, k);
            if (species_anion) species_anion[k] = an;
            if (an) alpha[i] += s->species[k].occu;
        }
    }
}

/* ---- the neighbors family --------------------------------------------------------------------- */

enum {
    F_CN_MEAN, F_CN_STD, F_CN_MIN, F_CN_MAX, F_NN_MEAN, F_NN_STD, F_NN_MIN, F_BL_MEAN, F_BL_STD,
    F_DISTORTION, F_N_PAIRS, F_RATIO_MEAN, F_RATIO_MIN, F_RATIO_MAX, F_SPREAD_MEAN, F_SPREAD_MAX,
    N_NEIGHBORS
};

static const char *const feature_names[N_NEIGHBORS] = {
    "mean coordination number",    "std coordination number",
    "min coordination number",     "max coordination number",
    "mean nearest neighbor distance", "std nearest neighbor distance",
    "min nearest neighbor distance", "mean bond length",
    "std bond length",             "mean bond length distortion",
    "n bonded element pairs",      "mean pair bond ratio",
    "min pair bond ratio",         "max pair bond ratio",
    "mean pair bond spread",       "max pair bond spread",
};

static ms_status neighbors_init(const ms_element_table *table, void **state)
{
    *state = (void *)table; /* borrowed, read-only */
    return MS_SUCCESS;
}

/* Local indices 0.. of the elements of s in order of first appearance; returns their number. */
static int local_elements(const ms_structure *s, int local[MS_MAX_Z + 1])
{
    int n = 0;
    for (int z = 0; z <= MS_MAX_Z; z++) local[z] = -1;
    for (size_t k = 0; k < s->n_species; k++) {
        int z = s->species[k].z;
        if (z >= 1 && z <= MS_MAX_Z && local[z] < 0) local[z] = n++;
    }
    return n;
}

static size_t neighbors_work(const void *state, const ms_descriptor_input *in)
{
    (void)state;
    if (!in->structure) return 0;
    int local[MS_MAX_Z + 1];
    size_t n_el = (size_t)local_elements(in->structure, local);
    return 4 * n_el * n_el + 3 * in->structure->n_sites;
}

static ms_status neighbors_compute(const void *state, const ms_descriptor_input *in,
                                   ms_descriptor_workspace *ws, double *out, unsigned char *reason)
{
    const ms_element_table *table = state;
    const ms_structure *s = in->structure;
    const ms_neighbor_list *nl = in->neighbors;
    if (!s || !nl || nl->n_sites != s->n_sites || nl->cutoff < MS_STRUCTURE_CUTOFF) {
        ms_feature_fill_nan(out, reason, N_NEIGHBORS, MS_NAN_NEEDS_STRUCTURE);
        return MS_SUCCESS;
    }
    MS_CHECK(ws->n_d >= neighbors_work(state, in), MS_ERR_USAGE, "neighbors: workspace too small");
    int local[MS_MAX_Z + 1];
    size_t n_el = (size_t)local_elements(s, local), n = s->n_sites;
    /* n_el^2 x (weight, sum w (d - K), sum w (d - K)^2, K): sums shifted by the pair's first bond
     * length K, so that equal lengths give a spread of exactly 0 (no cancellation) */
    double *pair = ws->d;
    double *cn = pair + 4 * n_el * n_el; /* per site */
    double *dmin = cn + n;
    double *dist = dmin + n;
    memset(pair, 0, 4 * n_el * n_el * sizeof *pair);
    double bw = 0, bwd = 0, bwd2 = 0, bk = NAN; /* all bonds: weights, sums shifted by bk */
    for (size_t i = 0; i < n; i++) {
        size_t p0 = nl->offset[i], p1 = nl->offset[i + 1], p;
        double d0 = INFINITY;
        for (p = p0; p < p1; p++)
            if (!ms_sites_split(s, table, i, nl->pairs[p].j, nl->pairs[p].dist)) {
                d0 = nl->pairs[p].dist;
                break;
            }
        double lim = d0 * (1 + MS_CN_TOLERANCE);
        if (!isfinite(d0) || lim > nl->cutoff) {
            ms_feature_fill_nan(out, reason, N_NEIGHBORS, MS_NAN_TOO_LARGE);
            return MS_SUCCESS;
        }
        double wi = ms_site_occupancy(s, i), c = 0, sd = 0;
        for (; p < p1 && nl->pairs[p].dist <= lim; p++) {
            const ms_neighbor *nb = &nl->pairs[p];
            if (ms_sites_split(s, table, i, nb->j, nb->dist)) continue;
            double wj = ms_site_occupancy(s, nb->j);
            c += wj;
            sd += wj * nb->dist;
            if (isnan(bk)) bk = nb->dist;
            double x = nb->dist - bk;
            bw += wi * wj;
            bwd += wi * wj * x;
            bwd2 += wi * wj * x * x;
            for (size_t a = s->site_species[i]; a < s->site_species[i + 1]; a++)
                for (size_t b = s->site_species[nb->j]; b < s->site_species[nb->j + 1]; b++) {
                    size_t la = (size_t)local[s->species[a].z], lb = (size_t)local[s->species[b].z];
                    size_t slot = 4 * (la <= lb ? la * n_el + lb : lb * n_el + la);
                    double w = s->species[a].occu * s->species[b].occu;
                    if (pair[slot] == 0) pair[slot + 3] = nb->dist;
                    double y = nb->dist - pair[slot + 3];
                    pair[slot] += w;
                    pair[slot + 1] += w * y;
                    pair[slot + 2] += w * y * y;
                }
        }
        double mean = sd / c, dev = 0;
        for (p = p0; p < p1 && nl->pairs[p].dist <= lim; p++) {
            const ms_neighbor *nb = &nl->pairs[p];
            if (ms_sites_split(s, table, i, nb->j, nb->dist)) continue;
            dev += ms_site_occupancy(s, nb->j) * fabs(nb->dist - mean);
        }
        cn[i] = c;
        dmin[i] = d0;
        dist[i] = dev / (c * mean);
    }
    /* site statistics, weighted by the site occupancy */
    double w = 0, cn_mean = 0, nn_mean = 0, dist_mean = 0, cn_min = INFINITY, cn_max = -INFINITY;
    double nn_min = INFINITY;
    for (size_t i = 0; i < n; i++) {
        double wi = ms_site_occupancy(s, i);
        w += wi;
        cn_mean += wi * cn[i];
        nn_mean += wi * dmin[i];
        dist_mean += wi * dist[i];
        cn_min = fmin(cn_min, cn[i]);
        cn_max = fmax(cn_max, cn[i]);
        nn_min = fmin(nn_min, dmin[i]);
    }
    cn_mean /= w;
    nn_mean /= w;
    dist_mean /= w;
    double cn_var = 0, nn_var = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = ms_site_occupancy(s, i);
        cn_var += wi * (cn[i] - cn_mean) * (cn[i] - cn_mean);
        nn_var += wi * (dmin[i] - nn_mean) * (dmin[i] - nn_mean);
    }
    out[F_CN_MEAN] = cn_mean;
    out[F_CN_STD] = sqrt(cn_var / w);
    out[F_CN_MIN] = cn_min;
    out[F_CN_MAX] = cn_max;
    out[F_NN_MEAN] = nn_mean;
    out[F_NN_STD] = sqrt(nn_var / w);
    out[F_NN_MIN] = nn_min;
    double bl = bwd / bw;
    out[F_BL_MEAN] = bk + bl;
    out[F_BL_STD] = sqrt(fmax(0, bwd2 / bw - bl * bl));
    out[F_DISTORTION] = dist_mean;
    for (int k = 0; k < N_NEIGHBORS; k++) reason[k] = MS_NAN_NONE;
    /* per element pair */
    int zs[MS_MAX_Z];
    for (int z = 1; z <= MS_MAX_Z; z++)
        if (local[z] >= 0) zs[local[z]] = z;
    double n_pairs = 0, r_sum = 0, r_min = INFINITY, r_max = -INFINITY, sp_sum = 0, sp_max = 0;
    int missing = 0;
    for (size_t a = 0; a < n_el; a++)
        for (size_t b = a; b < n_el; b++) {
            const double *acc = &pair[4 * (a * n_el + b)];
            if (acc[0] <= 0) continue;
            double dm = acc[1] / acc[0], m = acc[3] + dm;
            double sd = sqrt(fmax(0, acc[2] / acc[0] - dm * dm)) / m;
            const ms_element *ea = ms_element_get(table, zs[a]), *eb = ms_element_get(table, zs[b]);
            double r = (ea && eb) ? m / (ea->covalent_radius + eb->covalent_radius) : NAN;
            if (isnan(r)) missing = 1;
            n_pairs += 1;
            r_sum += r;
            r_min = fmin(r_min, r);
            r_max = fmax(r_max, r);
            sp_sum += sd;
            sp_max = fmax(sp_max, sd);
        }
    out[F_N_PAIRS] = n_pairs;
    out[F_RATIO_MEAN] = r_sum / n_pairs;
    out[F_RATIO_MIN] = r_min;
    out[F_RATIO_MAX] = r_max;
    out[F_SPREAD_MEAN] = sp_sum / n_pairs;
    out[F_SPREAD_MAX] = sp_max;
    if (missing)
        for (int k = F_RATIO_MEAN; k <= F_RATIO_MAX; k++) {
            out[k] = NAN;
            reason[k] = MS_NAN_MISSING_ELEMENT_DATA;
        }
    return MS_SUCCESS;
}

const ms_descriptor_type ms_descriptor_neighbors = {
    .name = "neighbors",
    .version = 1,
    .n_features = N_NEIGHBORS,
    .feature_names = feature_names,
    .summary = "coordination numbers, nearest-neighbour distances, bond lengths and their spread "
               "per element pair (cell-list neighbour search)",
    .init = neighbors_init,
    .work_doubles = neighbors_work,
    .compute = neighbors_compute,
    .free = NULL,
    .neighbor_cutoff = MS_STRUCTURE_CUTOFF,
};
