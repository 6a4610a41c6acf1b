/*
 * The periodic table: symbols, masses, electronegativities, oxidation states, and the Magpie
 * elemental property tables that composition descriptors use.
 *
 * Conventions
 *   - Elements are identified by atomic number Z (1..MS_MAX_Z); 0 means "no element".
 *   - Symbol lookup (ms_element_z) needs no data file; every other property comes from the
 *     table loaded from share/matscreen/elements, which copies pymatgen's periodic_table.json
 *     (masses, Pauling electronegativity X, oxidation states) and matminer's Magpie tables.
 *   - Deuterium (D) and tritium (T) are hydrogen isotopes: ms_element_z maps them to Z = 1 and
 *     sets *isotope so readers can warn.
 *   - Missing values are NaN, never 0.
 */
#ifndef MATSCREEN_ELEMENT_H
#define MATSCREEN_ELEMENT_H

#include <stddef.h>

#include "matscreen/error.h"

#define MS_MAX_Z 118
#define MS_MAX_OXI 16

typedef struct ms_element {
    int z;                      /* atomic number */
    char symbol[4];             /* "Li" */
    double mass;                /* atomic mass in amu, as pymatgen */
    double x;                   /* Pauling electronegativity; NaN where pymatgen has none (He, Ne, Ar, Z > 103) */
    int n_oxi;                  /* number of known oxidation states */
    int oxi[MS_MAX_OXI];        /* known oxidation states, ascending */
    int n_oxi_common;           /* number of common oxidation states */
    int oxi_common[MS_MAX_OXI]; /* common oxidation states, ascending */
    int n_oxi_icsd;             /* number of oxidation states seen in ICSD */
    int oxi_icsd[MS_MAX_OXI];   /* ICSD oxidation states, ascending */
    double covalent_radius;     /* Å (Magpie CovalentRadius / 100); NaN if unknown */
    double atomic_radius;       /* Å (pymatgen "Atomic radius"); NaN if unknown */
} ms_element;

typedef struct ms_element_table ms_element_table;

/* softBV bond-valence parameters of one cation-anion pair (Chen & Adams, IUCrJ 4, 614 (2017)),
 * one row of share/matscreen/bvse.dat (MIT, LICENSE-bvse.dat.txt next to it). Distances in Å,
 * d0 in eV, alpha in 1/Å (= 1/b). */
typedef struct ms_bvse_pair {
    int cation_z, cation_valence; /* e.g. 3, +1 for Li+ */
    int anion_z, anion_valence;   /* e.g. 8, -2 for O2- */
    double r_cutoff, d0, r_min, alpha;
} ms_bvse_pair;

#define MS_BVSE_MAX_PAIRS 1024 /* rows kept from bvse.dat (591 today) */

/* Atomic number of the symbol s[0..len) ("Li", case-sensitive as in chemistry), or 0 when it is
 * not an element. D and T give 1 and set *isotope to 1 (isotope may be NULL). No table needed. */
int ms_element_z(const char *s, size_t len, int *isotope);

/* The symbol of Z ("" for Z outside 1..MS_MAX_Z). No table needed. */
const char *ms_element_symbol(int z);

/* The symbols by Z: [0] is "", [1] "H" ... [MS_MAX_Z] "Og" (what ms_element_symbol returns), for
 * a static table that needs them, e.g. the names of the element-fraction features. */
extern const char *const ms_element_symbols[MS_MAX_Z + 1];

/* Loads the tables from share_dir (the directory holding elements/). On failure nothing is
 * allocated and the message names the file and line. The caller frees with ms_element_table_free.
 * Not collective: under MPI every rank may load it (it is a few hundred kB). */
ms_status ms_element_table_load(const char *share_dir, ms_element_table **out);

/* Loads from ms_share_dir(). */
ms_status ms_element_table_load_default(ms_element_table **out);

/* Serialises the table into one buffer (*buf, *n bytes; the caller frees *buf with free()), so
 * that rank 0 alone reads share/ and broadcasts the bytes to the other ranks. Not collective. */
ms_status ms_element_table_pack(const ms_element_table *table, void **buf, size_t *n);

/* Rebuilds a table from ms_element_table_pack's bytes. Fails with MS_ERR_INVALID on a buffer of the
 * wrong size or version (never reads past n). Free with ms_element_table_free. */
ms_status ms_element_table_unpack(const void *buf, size_t n, ms_element_table **out);

/* The bond-valence parameters of the pair (cation_z with cation_valence, anion_z with
 * anion_valence), or NULL when bvse.dat has no such row (commented rows are not loaded). The
 * table loads share_dir/bvse.dat when present; ms_element_bvse_count() is 0 when it was absent. */
const ms_bvse_pair *ms_element_bvse_pair(const ms_element_table *table, int cation_z,
                                         int cation_valence, int anion_z, int anion_valence);
size_t ms_element_bvse_count(const ms_element_table *table);

/* Frees the table; NULL is a no-op. */
void ms_element_table_free(ms_element_table *table);

/* The element of atomic number z, or NULL when z is out of range. Borrowed from the table. */
const ms_element *ms_element_get(const ms_element_table *table, int z);

/* Index of a Magpie property by its table name ("Electronegativity", "CovalentRadius"), or -1. */
int ms_element_property_index(const ms_element_table *table, const char *name);

/* Number of loaded Magpie properties and the name of property i. */
size_t ms_element_property_count(const ms_element_table *table);
const char *ms_element_property_name(const ms_element_table *table, size_t i);

/* Value of Magpie property index for element z (NaN where Magpie says "Missing" or z is out of
 * range). */
double ms_element_property(const ms_element_table *table, int index, int z);

#endif /* MATSCREEN_ELEMENT_H */
