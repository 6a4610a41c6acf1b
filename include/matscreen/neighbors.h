/*
 * Periodic neighbour lists: every site within a cutoff of every site, over all periodic images.
 *
 * Conventions
 *   - Distances in Å between Cartesian positions; the neighbour j of site i sits at
 *     cart[j] + image . lattice (image = integer lattice translation, lattice rows as in
 *     structure.h). A site's own periodic images (j == i, image != 0) are neighbours; the site
 *     itself (j == i, image == 0) is not.
 *   - The list is compressed by site: the neighbours of site i are pairs[offset[i] ..
 *     offset[i + 1]), sorted by distance, then j, then image, so the order is the same on every
 *     machine.
 *   - Disordered sites are positions: a neighbour is a site, whatever species it holds; callers
 *     weight by occupancy as their definition requires.
 *   - An ms_neighbor_list owns its arrays and reuses them: building a list for the next structure
 *     allocates nothing once capacities suffice (a caller-owned workspace, as STYLE.md asks).
 *   - Cost: a cell list over the image shell that the cutoff needs, O(N) for fixed density.
 */
#ifndef MATSCREEN_NEIGHBORS_H
#define MATSCREEN_NEIGHBORS_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"
#include "matscreen/structure.h"

typedef struct ms_neighbor {
    uint32_t j;       /* index of the neighbouring site */
    int32_t image[3]; /* lattice translation of the neighbour */
    double dist;      /* distance in Å */
} ms_neighbor;

typedef struct ms_neighbor_list {
    double cutoff;      /* Å, as built */
    size_t n_sites;     /* sites of the structure it was built for */
    size_t *offset;     /* n_sites + 1 offsets into pairs */
    ms_neighbor *pairs; /* all neighbour entries */
    size_t n_pairs;
    /* private: capacities and scratch reused across builds */
    size_t cap_offset, cap_pairs, cap_scratch, cap_cells, cap_items;
    double (*scratch_pos)[3];
    int32_t (*scratch_img)[3];
    uint32_t *scratch_site;
    size_t *cell_start;
    size_t *cell_items;
    void *sort_keys;           /* per-site sort keys */
    ms_neighbor *sort_tmp;     /* per-site copy of the entries while sorting */
    size_t cap_sort;
} ms_neighbor_list;

/* Initialises an empty list with no memory. */
void ms_neighbor_list_init(ms_neighbor_list *nl);

/* Releases the memory of nl and leaves it empty. */
void ms_neighbor_list_destroy(ms_neighbor_list *nl);

/* Builds the list of s (after ms_structure_finish) for cutoff Å (> 0). Fails with MS_ERR_INVALID
 * for a non-positive or non-finite cutoff, MS_ERR_LIMIT when the list would exceed max_pairs
 * entries (0 means 50 million; hostile cells with a huge cutoff become an error, not an OOM
 * kill), MS_ERR_NOMEM when memory runs out. Not collective. */
ms_status ms_neighbor_list_build(ms_neighbor_list *nl, const ms_structure *s, double cutoff,
                                 size_t max_pairs);

/* The shortest distance in Å from any site to any other site or periodic image (the nearest
 * neighbour distance of the structure); INFINITY when no pair lies within nl->cutoff. */
double ms_neighbor_list_min_distance(const ms_neighbor_list *nl);

#endif /* MATSCREEN_NEIGHBORS_H */
