/*
 * The crystal structure model that every stage takes as input.
 *
 * Conventions
 *   - Lattice vectors are ROWS of lattice[3][3], Cartesian, in Å: lattice[0] is a. Built from
 *     parameters, a lies along x and b in the xy plane. (spglib wants COLUMNS: transpose there.)
 *   - Positions are fractional (frac) and Cartesian in Å (cart = frac * lattice); readers fill frac
 *     and call ms_structure_finish(), which computes cart.
 *   - Disorder is kept as read: a site holds one or more species, each with an occupancy in (0, 1]
 *     and an optional oxidation state. Site i owns species[site_species[i] .. site_species[i+1]).
 *   - Arrays are struct-of-arrays and grow by doubling; ms_structure_reset() empties a structure but
 *     keeps its memory, so a reader reusing one ms_structure allocates nothing in steady state.
 *   - Provenance travels with the structure: source database, source id, file, data block, byte
 *     range of the record and a hash of its bytes.
 */
#ifndef MATSCREEN_STRUCTURE_H
#define MATSCREEN_STRUCTURE_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/composition.h"
#include "matscreen/element.h"
#include "matscreen/error.h"

/* Physical bounds every reader applies (ms_structure_finish): no crystal's cell vector is longer
 * than 10 micrometres, and a fractional coordinate beyond +-1000 cells is a typo or Cartesian
 * values given as fractional. Below them the geometry cannot overflow. */
#define MS_CELL_LENGTH_MAX 1e5 /* Angstrom */
#define MS_FRAC_COORD_MAX 1e3

#define MS_LABEL_MAX 16      /* site label length including NUL (longer labels are cut) */
#define MS_SOURCE_ID_MAX 64  /* "ICSD 12345", "mp-1234", "COD 1000000" */
#define MS_BLOCK_MAX 128     /* CIF data block name */
#define MS_FORMULA_MAX 256   /* stated formula text */
#define MS_PROP_NAME_MAX 48  /* numeric property name */
#define MS_WARNINGS_MAX 1024 /* all warnings of a structure, "; "-separated */

typedef enum ms_source_db {
    MS_DB_UNKNOWN = 0, /* not stated */
    MS_DB_ICSD,        /* Inorganic Crystal Structure Database */
    MS_DB_COD,         /* Crystallography Open Database */
    MS_DB_MP,          /* Materials Project */
    MS_DB_OTHER        /* a named source that is none of the above */
} ms_source_db;

typedef struct ms_species {
    int z;          /* atomic number */
    double occu;    /* occupancy in (0, 1], as read */
    double oxi;     /* oxidation state when has_oxi */
    int has_oxi;    /* 1 when an oxidation state was given */
} ms_species;

typedef struct ms_provenance {
    ms_source_db db;                /* database the record came from */
    char source_id[MS_SOURCE_ID_MAX]; /* id within that database ("" if unknown) */
    const char *file;               /* path of the file read; borrowed from the caller */
    char block[MS_BLOCK_MAX];       /* CIF data block name, or "" */
    long long offset;               /* byte offset of the record in the file; -1 if whole file */
    long long length;               /* byte length of the record; -1 if whole file */
    size_t index;                   /* position of the record within its file (0-based) */
    uint64_t content_hash;          /* ms_hash of the record's bytes */
} ms_provenance;

typedef struct ms_property {
    char name[MS_PROP_NAME_MAX]; /* "formation_energy_per_atom", "band_gap", ... */
    double value;
} ms_property;

typedef struct ms_structure {
    double lattice[3][3];        /* rows are a, b, c in Å */
    size_t n_sites;
    double (*frac)[3];           /* fractional coordinates, n_sites */
    double (*cart)[3];           /* Cartesian coordinates in Å, n_sites (after finish) */
    char (*label)[MS_LABEL_MAX]; /* site labels ("Li1"), n_sites */
    size_t *site_species;        /* n_sites + 1 offsets into species */
    size_t n_species;
    ms_species *species;         /* all species of all sites */
    char formula_stated[MS_FORMULA_MAX]; /* formula the source states (_chemical_formula_sum) */
    size_t n_props;
    ms_property *props;          /* scalar properties from the source (MP documents) */
    ms_provenance prov;
    char warnings[MS_WARNINGS_MAX]; /* what the reader noticed but accepted */
    /* capacities (private) */
    size_t cap_sites, cap_species, cap_props;
} ms_structure;

/* Initialises s as empty with no memory. */
void ms_structure_init(ms_structure *s);

/* Empties s, keeping its memory. */
void ms_structure_reset(ms_structure *s);

/* Releases the memory of s and leaves it empty; safe on an initialised empty structure. */
void ms_structure_destroy(ms_structure *s);

/* Sets the lattice from a, b, c (Å) and alpha, beta, gamma (degrees). Fails with MS_ERR_INVALID
 * when a length is not positive and finite or the angles give no cell. */
ms_status ms_structure_set_lattice_parameters(ms_structure *s, double a, double b, double c,
                                              double alpha, double beta, double gamma);

/* Appends a site at fractional position frac with label (may be NULL); its species follow with
 * ms_structure_add_species. */
ms_status ms_structure_add_site(ms_structure *s, const double frac[3], const char *label);

/* Appends a species to the last site. oxi is used only when has_oxi is 1. */
ms_status ms_structure_add_species(ms_structure *s, int z, double occu, double oxi, int has_oxi);

/* Adds or replaces a scalar property. */
ms_status ms_structure_set_property(ms_structure *s, const char *name, double value);

/* Looks up a property; returns 1 and sets *value when present, else 0. */
int ms_structure_get_property(const ms_structure *s, const char *name, double *value);

/* Appends a warning (formatted) to s->warnings, separated by "; "; a full buffer ends in "...". */
void ms_structure_warn(ms_structure *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Computes Cartesian coordinates from fractional ones and checks the model: finite lattice with
 * non-zero volume, finite coordinates, positive finite occupancies, at least one site. Fails with
 * MS_ERR_INVALID naming the site. A site whose occupancies sum above 1 + 1e-3 is kept with a
 * warning: the validation stage decides how severe that is. Readers call it last. */
ms_status ms_structure_finish(ms_structure *s);

/* Determinant of a lattice given as rows; its absolute value is the cell volume in Å^3. */
double ms_lattice_det(const double lattice[3][3]);

/* Inverse of a row-vector lattice, so that frac = cart . inv. Fails with MS_ERR_INVALID when the
 * lattice is singular or not finite. */
ms_status ms_lattice_inverse(const double lattice[3][3], double inv[3][3]);

/* frac = cart . inv, with inv from ms_lattice_inverse. */
void ms_lattice_cart_to_frac(const double inv[3][3], const double cart[3], double frac[3]);

/* Cell volume in Å^3 (absolute value of the determinant). */
double ms_structure_volume(const ms_structure *s);

/* Occupancy-weighted composition of the cell. */
void ms_structure_composition(const ms_structure *s, ms_composition *c);

/* Density in g/cm^3 from the occupancy-weighted mass and the volume. */
double ms_structure_density(const ms_structure *s, const ms_element_table *table);

/* Lattice parameters: lengths in Å and angles in degrees. */
void ms_structure_lattice_parameters(const ms_structure *s, double abc[3], double angles[3]);

/* 1 when every site holds one species with occupancy 1 (within 1e-8), else 0. */
int ms_structure_is_ordered(const ms_structure *s);

/* Name of a source database ("ICSD", "COD", "MP", "other", "unknown"). */
const char *ms_source_db_name(ms_source_db db);

#endif /* MATSCREEN_STRUCTURE_H */
