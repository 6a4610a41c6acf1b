/*
 * Helpers shared by the structure descriptor families (structure_neighbors.c, li_transport.c);
 * private, never installed. Implemented in structure_neighbors.c.
 *
 * Partial occupancy: a site is a position holding species with occupancies. Two sites closer
 * than MS_SPLIT_FACTOR x (r_i + r_j), r being the largest covalent radius of a site's species, of
 * which at least one is partially occupied (occupancy sum below 1 - MS_PARTIAL_TOL) are
 * alternative positions of one atom (a split site), not neighbours. Real bonds are longer: P-O
 * 1.53 Å against 0.8 x 1.73 = 1.38, C-O 1.28 against 1.11, Li-Li 2.3 against 2.05; the two Li1
 * positions 1.73 Å apart in Li10GeP2S12 (occupancy 0.691 each) are split partners.
 */
#ifndef MATSCREEN_STRUCTURE_IMPL_H
#define MATSCREEN_STRUCTURE_IMPL_H

#include "matscreen/element.h"
#include "matscreen/neighbors.h"
#include "matscreen/structure.h"

#define MS_SPLIT_FACTOR 0.8     /* split partners: d < 0.8 (r_i + r_j) */
#define MS_PARTIAL_TOL 1e-3     /* occupancy sums within this of 1 count as full */
#define MS_BOND_FACTOR 1.2      /* bonded: d <= 1.2 (covalent radius a + covalent radius b) */
#define MS_CN_TOLERANCE 0.1     /* neighbours within (1 + 0.1) x the nearest distance */
#define MS_STRUCTURE_CUTOFF 6.0 /* Å: neighbour list cutoff of the structure families */

/* Sum of the occupancies of site i. */
double ms_site_occupancy(const ms_structure *s, size_t i);

/* 1 when sites i and j at distance d (Å) are alternative positions of one atom (see above). */
int ms_sites_split(const ms_structure *s, const ms_element_table *table, size_t i, size_t j,
                   double d);

/* 1 when elements za and zb at distance d are bonded: d <= MS_BOND_FACTOR (r_a + r_b) with the
 * covalent radii of element.h (Magpie CovalentRadius, Cordero 2008); 0 when a radius is unknown. */
int ms_elements_bonded(const ms_element_table *table, int za, int zb, double d);

/* Anion weight of every site into alpha[0 .. n_sites) and, when species_anion is not NULL, 1 or 0
 * per species into species_anion[0 .. n_species): alpha is the summed occupancy of the site's anion
 * species (see docs/descriptors.md, "What counts as an anion"): a species with an oxidation state
 * is an anion when it is negative; otherwise an anion-forming element (H, N, P, As, Sb, O, S, Se,
 * Te, F, Cl, Br, I) is an anion unless its site is bonded to a site holding an anion-forming
 * element of higher Pauling electronegativity (the centre of a polyanion: P in PS4, S in SO4, N
 * in NO3). Needs the neighbour list of s. */
void ms_site_anion_weights(const ms_structure *s, const ms_neighbor_list *nl,
                           const ms_element_table *table, double *alpha, double *species_anion);

/* Pauling bond ionicity 1 - exp(-(X_a - X_b)^2 / 4); NaN when an electronegativity is unknown. */
double ms_bond_ionicity(const ms_element_table *table, int za, int zb);

#endif /* MATSCREEN_STRUCTURE_IMPL_H */
