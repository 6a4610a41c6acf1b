/*
 * Space-group symmetry of a structure through spglib: space group, Hall number, Wyckoff letters,
 * symmetry operations and the standardized conventional and primitive cells, with a tolerance
 * ladder.
 *
 * Conventions
 *   - Input and output cells are ms_structure: lattice vectors are ROWS in Å, positions
 *     fractional. spglib wants lattice vectors as COLUMNS; the transpose happens only inside
 *     symmetry.c.
 *   - Site types. spglib sees one integer type per site. A site's type is its set of (element,
 *     occupancy, oxidation state) entries, compared with an occupancy tolerance of 1e-8 and
 *     ignoring order, numbered 1, 2, ... in order of first appearance. This is exactly what
 *     pymatgen 2022.11.7's SpacegroupAnalyzer passes to spglib (one number per distinct
 *     site.species), so space groups agree with it. An ordered structure's types are its elements
 *     (and oxidation states, where the source gives them); a disordered structure's symmetry is
 *     that of its site-type pattern: Li(0.5) and Li(1.0) are different types, Li(0.5)La(0.5) is
 * one.
 *   - Site order. spglib's answer for a structure within about symprec of a higher symmetry
 *     depends on the order of the atoms it is given. pymatgen's CifParser returns every structure
 *     sorted (Structure.get_sorted_structure: by average electronegativity of the site, then the
 *     species string). With options->elements set, sites are given to spglib in that order, which
 *     reproduces pymatgen on such boundary cases and makes the result independent of the order of
 *     species in the source; without it, the input order is used. Results (Wyckoff letters,
 *     equivalent sites, site types) are always reported in input order.
 *   - Tolerances. symprec is spglib's distance tolerance in Å; angle_tolerance is in degrees
 *     (pymatgen uses 5; a negative value asks spglib for its own symprec-based rule).
 *   - Tolerance ladder. options->symprec[0] is the requested tolerance, the one a screen reports
 *     and documents. The later entries are fallbacks, tried in order only when spglib fails at the
 *     earlier ones (typically "too close distance between atoms" for split or partially occupied
 *     sites at a loose tolerance). The result records the symprec that succeeded and its index;
 *     a caller that wants only one tolerance gives a ladder of length 1.
 *   - One spglib call per structure in the common case: everything in ms_symmetry (crystal
 *     system, centrosymmetry, operations, Wyckoff letters, both standardized cells) is derived
 *     from one spgat_get_dataset result. The primitive cell is the standardized conventional
 *     cell transformed by spglib's own centring matrices, as spg_standardize_cell(to_primitive=1)
 *     does, without a second symmetry search.
 *   - Memory. ms_symmetry_workspace (spglib's input arrays and the site-type table) and
 *     ms_symmetry (the result arrays and cells) are caller-owned and grow by doubling; reused
 *     across structures they allocate nothing in steady state. spglib itself allocates its dataset
 *     on every call; symmetry.c frees it before returning.
 *   - Threads and MPI. Not collective: each rank analyses its own structures. spglib 2.0.2 keeps
 *     its error code in a process-global variable (spg_get_error_code), so the failure *message*
 *     may be wrong when several threads call spglib at once; success and the results depend only
 *     on spglib's return value. matscreen runs one thread per MPI rank (OMP_NUM_THREADS=1).
 */
#ifndef MATSCREEN_SYMMETRY_H
#define MATSCREEN_SYMMETRY_H

#include <stddef.h>

#include "matscreen/error.h"
#include "matscreen/structure.h"

#define MS_SYMMETRY_LADDER_MAX 8 /* most tolerances in a ladder */

/* Crystal systems. The values are matminer's GlobalSymmetryFeatures "crystal_system_int" (cubic 1
 * ... triclinic 7), so the descriptor stage can use them as they are. */
typedef enum ms_crystal_system {
    MS_CRYSTAL_UNKNOWN = 0,      /* no space group */
    MS_CRYSTAL_CUBIC = 1,        /* 195-230 */
    MS_CRYSTAL_HEXAGONAL = 2,    /* 168-194 */
    MS_CRYSTAL_TRIGONAL = 3,     /* 143-167 */
    MS_CRYSTAL_TETRAGONAL = 4,   /* 75-142 */
    MS_CRYSTAL_ORTHORHOMBIC = 5, /* 16-74 */
    MS_CRYSTAL_MONOCLINIC = 6,   /* 3-15 */
    MS_CRYSTAL_TRICLINIC = 7     /* 1-2 */
} ms_crystal_system;

typedef struct ms_symmetry_options {
    double symprec[MS_SYMMETRY_LADDER_MAX]; /* Å; [0] is requested, the rest are fallbacks */
    size_t n_symprec;                       /* 1..MS_SYMMETRY_LADDER_MAX */
    double angle_tolerance;                 /* degrees; < 0: spglib's default rule */
    int cells;         /* 1: build the standardized conventional and primitive cells */
    int use_oxidation; /* 1: sites differing only in oxidation state are different types */
    /* Borrowed; may be NULL. When set, sites go to spglib in pymatgen's order (by average Pauling
     * electronegativity, then species string, then input order; see "Site order" above). */
    const struct ms_element_table *elements;
} ms_symmetry_options;

/* A symmetry operation on fractional coordinates of the INPUT cell: x' = rot x + trans. */
typedef struct ms_symmetry_op {
    int rot[3][3];
    double trans[3];
} ms_symmetry_op;

typedef struct ms_symmetry {
    int number;             /* international space-group number, 1..230 */
    int hall_number;        /* spglib Hall number, 1..530 */
    char international[11]; /* short Hermann-Mauguin symbol ("Fm-3m") */
    char hall_symbol[17];   /* Hall symbol ("-F 4 2 3") */
    char choice[6];         /* setting choice ("", "1", "2", "H", "R", ...) */
    char pointgroup[6];     /* point group ("m-3m") */
    ms_crystal_system crystal_system;
    int centrosymmetric;         /* 1 when an operation has rotation -identity */
    size_t n_operations;         /* operations of the input cell (includes its centrings) */
    ms_symmetry_op *ops;         /* n_operations */
    double symprec;              /* Å: the ladder tolerance that succeeded */
    size_t ladder_index;         /* its index in options->symprec (0: the requested one) */
    int disordered;              /* 1 when the input was not ordered (site-type pattern) */
    size_t n_types;              /* distinct site types given to spglib */
    size_t n_sites;              /* sites of the input structure */
    char *wyckoff;               /* n_sites letters 'a'..'z', 'A' (27th) + NUL */
    int *equivalent;             /* n_sites: first (lowest-index) site of each site's orbit */
    int *site_type;              /* n_sites: spglib type, 1..n_types (first appearance in the
                                    order given to spglib) */
    double transformation[3][3]; /* spglib: L_input = L_std * transformation (columns) */
    double origin_shift[3];      /* spglib: origin shift, fractional of the std cell */
    double std_rotation[3][3];   /* spglib: Cartesian L_idealized = std_rotation L_std */
    /* Standardized cells (built when options->cells; else n_sites 0). Each site copies the species
     * and label of an input site of its orbit; provenance is copied from the input. The
     * conventional cell is spglib's idealized std_lattice/std_positions (what spglib.refine_cell
     * and pymatgen's get_refined_structure give): spglib's standard orientation, not the input's;
     * std_rotation rotates the input frame into it. Positions are wrapped into [0, 1). */
    ms_structure conventional;
    ms_structure primitive;
    /* private */
    size_t cap_sites, cap_ops;
} ms_symmetry;

/* private: sort key of a site (see ms_symmetry_options.elements) */
typedef struct ms_symmetry_site_key {
    double x;    /* average electronegativity */
    size_t site; /* input index */
    const ms_structure *s;
    int use_oxidation;
    const char *text; /* the site's species string (pymatgen's species_string), computed once */
} ms_symmetry_site_key;

#define MS_SYMMETRY_SITE_TEXT 128 /* private: bytes of one site's species string */

typedef struct ms_symmetry_workspace {
    /* private: spglib's input arrays in spglib order (positions, types), the map to input sites,
     * the site-type table and scratch, n_sites each */
    double (*pos)[3];
    ms_symmetry_site_key *keys;
    size_t *order; /* spglib atom j is input site order[j] */
    int *scratch;
    int *types;
    size_t *type_site; /* one representative input site per type */
    int *prim_site;    /* scratch: input site of each primitive atom */
    char *text;        /* MS_SYMMETRY_SITE_TEXT bytes per site: sort-key strings */
    size_t cap;
} ms_symmetry_workspace;

/* Defaults: ladder {0.01, 0.001, 1e-4, 1e-5, 0.1} Å (pymatgen's default 0.01 requested; tighter
 * ones next because spglib fails at loose tolerances on close sites; 0.1, Materials Project's
 * value, last), angle_tolerance 5 degrees (pymatgen), cells 1, use_oxidation 1 (pymatgen),
 * elements NULL (input order; set it to get pymatgen's site order). */
void ms_symmetry_options_default(ms_symmetry_options *opt);

/* Sets the ladder to symprec[0..n). Fails with MS_ERR_USAGE (opt unchanged) when n is 0 or more
 * than MS_SYMMETRY_LADDER_MAX or a value is not positive and finite. */
ms_status ms_symmetry_options_set_ladder(ms_symmetry_options *opt, const double *symprec, size_t n);

/* Initialises an empty workspace / result with no memory. */
void ms_symmetry_workspace_init(ms_symmetry_workspace *ws);
void ms_symmetry_init(ms_symmetry *sym);

/* Release their memory and leave them empty. */
void ms_symmetry_workspace_destroy(ms_symmetry_workspace *ws);
void ms_symmetry_destroy(ms_symmetry *sym);

/* Finds the symmetry of s (finished: ms_structure_finish was called) with the ladder of opt
 * (NULL: defaults), using and growing ws and out. Not collective.
 * Returns MS_SUCCESS with out filled; MS_ERR_INVALID when s has no sites, a non-finite or
 * degenerate lattice or non-finite positions; MS_ERR_USAGE for a bad ladder; MS_ERR_SYMMETRY when
 * spglib fails at every tolerance of the ladder (the message gives spglib's reason at each);
 * MS_ERR_NOMEM. On failure out holds no valid result (out->number is 0). */
ms_status ms_symmetry_analyze(ms_symmetry_workspace *ws, const ms_structure *s,
                              const ms_symmetry_options *opt, ms_symmetry *out);

/* Crystal system of a space-group number (MS_CRYSTAL_UNKNOWN outside 1..230). */
ms_crystal_system ms_crystal_system_of(int number);

/* Lower-case name of a crystal system as pymatgen prints it ("cubic"; "unknown"). */
const char *ms_crystal_system_name(ms_crystal_system cs);

#endif /* MATSCREEN_SYMMETRY_H */
