/*
 * Bond-valence site energy (BVSE) landscape of a Li+ probe and its percolation barriers.
 *
 * Conventions
 *   - Framework = the structure without Li (every Li species is removed, whatever its charge).
 *   - Grid: periodic, n_d points along lattice vector d, point (i, j, k) at fractional
 *     ((i + o_0) / n_0, ...), o the grid offset in units of one step. Two rules for n_d:
 *     MS_BVSE_GRID_BVLAIN (default, the published settings): n_d = floor(|a_d| / spacing) - 1
 *     (at least 1), the points of bvlain's linspace(0, 1, floor(|a_d| / spacing)) without its last
 *     plane, which repeats the first (step slightly above spacing); MS_BVSE_GRID_FINE:
 *     n_d = ceil(|a_d| / spacing) (step at most spacing).
 *   - Energy of a Li+ probe at a point, in eV:
 *       sum over framework anions A within r_cutoff(Li+, A):
 *           w_A (D0/2) [(exp(alpha (Rmin - R)) - 1)^2 - 1]        (softBV Morse term, bvse.dat)
 *     + sum over framework cations M within MS_BVSE_COULOMB_CUTOFF:
 *           w_M 14.4 q_Li q_M / R erfc(R / (0.74 (r_Li + r_M)))    (screened Coulomb repulsion)
 *     w = site occupancy of the species, q = valence / sqrt(n) with n the principal quantum number
 *     (the period: Magpie "Row" table), r = covalent radius (Cordero et al. 2008, the Magpie
 *     "CovalentRadius" table of share/matscreen/elements, the same values as ase.data's
 *     covalent_radii that bvlain uses). Distances below 0.01 Å are taken as 0.01 Å.
 *   - Oxidation states: the structure's when every species carries one; else a guess (see
 *     ms_bvse_result.oxi_guessed and docs/descriptors.md).
 *   - Percolation: points are added in increasing energy to a union-find over the periodic grid
 *     (26 neighbours, as scipy.ndimage.label with a 3x3x3 structure in bvlain); each point keeps its
 *     lattice offset from its root; joining two points of one cluster with different offsets adds a
 *     winding vector. E_kD is the energy of the point at which the rank of some cluster's winding
 *     vectors first reaches k. Barrier k = E_kD - E_min, capped at MS_BVSE_ENCUT.
 *   - Memory: the caller owns the workspace (ms_bvse_work_doubles doubles); grids above
 *     MS_BVSE_MAX_POINTS points are refused (about 40 bytes per point: 80 MB at the bound).
 *   - Every function is Not collective and thread-safe with one workspace per thread.
 */
#ifndef MATSCREEN_BVSE_H
#define MATSCREEN_BVSE_H

#include <stddef.h>

#include "matscreen/descriptor.h"
#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/structure.h"
#include "matscreen/symmetry.h"

#define MS_BVSE_SPACING 0.2          /* Å: default grid spacing */
#define MS_BVSE_COULOMB_CUTOFF 10.0  /* Å: cation repulsion cutoff */
#define MS_BVSE_MAX_POINTS (1L << 21) /* grid points: larger grids are refused */
#define MS_BVSE_WINDOW 0.5           /* eV: the volume fraction counts E <= E_min + this */
#define MS_BVSE_ENCUT 10.0           /* eV: barriers above this are reported as this */

enum { MS_BVSE_GRID_BVLAIN = 0, MS_BVSE_GRID_FINE = 1 };

typedef struct ms_bvse_options {
    double spacing;   /* Å, > 0: grid spacing (default MS_BVSE_SPACING) */
    double offset[3]; /* grid origin in steps, each in [0, 1) (default 0) */
    int grid_rule;    /* MS_BVSE_GRID_BVLAIN (default) or MS_BVSE_GRID_FINE, see above */
} ms_bvse_options;

/* Read-only parameters built once from the element table (bvse.dat, radii, periods, oxidation
 * state candidates); free with ms_bvse_context_free. */
typedef struct ms_bvse_context ms_bvse_context;

/* One structure's outcome. When reason is not MS_NAN_NONE the numbers are NaN and detail says
 * why in words. */
typedef struct ms_bvse_result {
    unsigned char reason;   /* ms_nan_reason of the barriers */
    char detail[160];       /* "no Li+ - P3- parameters in bvse.dat", ... ("" when computed) */
    double barrier[3];      /* eV: E_1D, E_2D, E_3D minus E_min */
    double e_min;           /* eV: lowest grid energy */
    double volume_fraction; /* fraction of grid points with E <= E_min + MS_BVSE_WINDOW */
    double n_li_sites;      /* symmetry-distinct sites holding Li; NaN without symmetry */
    int oxi_guessed;        /* 0: from the structure, 1: guessed, -1: none assigned */
    char oxi_text[256];     /* states used, "Li+1 P+5 O-2" */
    int grid[3];            /* points along a, b, c */
} ms_bvse_result;

/* Builds the context. Fails with MS_ERR_NOT_FOUND when the table holds no bvse.dat rows (the
 * message names share/matscreen/bvse.dat). *out is NULL on failure. */
ms_status ms_bvse_context_create(const ms_element_table *table, ms_bvse_context **out);

/* Frees ctx; NULL is a no-op. */
void ms_bvse_context_free(ms_bvse_context *ctx);

/* The defaults above. */
ms_bvse_options ms_bvse_options_default(void);

/* Doubles of workspace that ms_bvse_compute needs for s with opt; 0 when the grid would exceed
 * MS_BVSE_MAX_POINTS or opt is invalid (compute then reports MS_NAN_TOO_LARGE). */
size_t ms_bvse_work_doubles(const ms_bvse_context *ctx, const ms_structure *s,
                            const ms_bvse_options *opt);

/* Computes the landscape and barriers of s (finished). sym may be NULL (n_li_sites is then NaN).
 * work holds n_work doubles (ms_bvse_work_doubles). Never allocates. Returns MS_ERR_USAGE on
 * misuse (bad options, workspace too small); data that cannot be used gives NaN and a reason in
 * *res, not an error. */
ms_status ms_bvse_compute(const ms_bvse_context *ctx, const ms_structure *s,
                          const ms_symmetry *sym, const ms_bvse_options *opt, double *work,
                          size_t n_work, ms_bvse_result *res);

#endif /* MATSCREEN_BVSE_H */
