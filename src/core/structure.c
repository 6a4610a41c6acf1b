/* The crystal structure model; see structure.h. */
#include "matscreen/structure.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Occupancy sums up to this much above 1 pass silently (CIF rounding, e.g. three sites at 0.334). */
#define OCCUPANCY_SLACK 1e-3

/* 1 amu in grams divided by 1 Å^3 in cm^3 (CODATA 2018, as pymatgen via scipy). */
#define AMU_PER_A3_TO_G_PER_CM3 1.66053906660

void ms_structure_init(ms_structure *s)
{
    memset(s, 0, sizeof *s);
    s->prov.offset = -1;
    s->prov.length = -1;
}

void ms_structure_reset(ms_structure *s)
{
    memset(s->lattice, 0, sizeof s->lattice);
    s->n_sites = 0;
    s->n_species = 0;
    s->n_props = 0;
    s->formula_stated[0] = '\0';
    s->warnings[0] = '\0';
    memset(&s->prov, 0, sizeof s->prov);
    s->prov.offset = -1;
    s->prov.length = -1;
    if (s->site_species) s->site_species[0] = 0;
}

void ms_structure_destroy(ms_structure *s)
{
    free(s->frac);
    free(s->cart);
    free(s->label);
    free(s->site_species);
    free(s->species);
    free(s->props);
    ms_structure_init(s);
}

/* Grows *p to hold at least need elements of size elem, doubling; keeps old contents. */
static ms_status grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return MS_SUCCESS;
    size_t n = *cap ? *cap : 16;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return ms_error_set(MS_ERR_NOMEM, "structure: cannot grow to %zu items", n);
    *p = q;
    *cap = n;
    return MS_SUCCESS;
}

/* The four per-site arrays share one capacity; site_species holds one extra offset. */
static ms_status grow_sites(ms_structure *s, size_t need)
{
    if (need <= s->cap_sites) return MS_SUCCESS;
    size_t n = s->cap_sites ? s->cap_sites : 16;
    while (n < need) n *= 2;
    void *frac = realloc(s->frac, n * sizeof *s->frac);
    if (frac) s->frac = frac;
    void *cart = realloc(s->cart, n * sizeof *s->cart);
    if (cart) s->cart = cart;
    void *label = realloc(s->label, n * sizeof *s->label);
    if (label) s->label = label;
    void *offsets = realloc(s->site_species, (n + 1) * sizeof *s->site_species);
    if (offsets) s->site_species = offsets;
    /* Arrays that did grow are kept (realloc moved them); the capacity only rises when all did. */
    MS_CHECK(frac && cart && label && offsets, MS_ERR_NOMEM, "structure: cannot grow to %zu sites", n);
    s->cap_sites = n;
    return MS_SUCCESS;
}

ms_status ms_structure_set_lattice_parameters(ms_structure *s, double a, double b, double c,
                                              double alpha, double beta, double gamma)
{
    MS_CHECK(isfinite(a) && isfinite(b) && isfinite(c) && a > 0 && b > 0 && c > 0, MS_ERR_INVALID,
             "cell lengths must be positive and finite (a=%g b=%g c=%g)", a, b, c);
    MS_CHECK(a <= MS_CELL_LENGTH_MAX && b <= MS_CELL_LENGTH_MAX && c <= MS_CELL_LENGTH_MAX,
             MS_ERR_INVALID,
             "cell lengths a=%g b=%g c=%g: longer than %g Angstrom, not a crystal's cell (too "
             "large; check the values and that they are in Angstrom)",
             a, b, c, MS_CELL_LENGTH_MAX);
    MS_CHECK(isfinite(alpha) && isfinite(beta) && isfinite(gamma) && alpha > 0 && alpha < 180 &&
                 beta > 0 && beta < 180 && gamma > 0 && gamma < 180,
             MS_ERR_INVALID, "cell angles must lie in (0, 180) degrees (%g %g %g)", alpha, beta,
             gamma);
    const double d2r = M_PI / 180.0;
    double ca = cos(alpha * d2r), cb = cos(beta * d2r), cg = cos(gamma * d2r);
    double sg = sin(gamma * d2r);
    /* a along x, b in the xy plane (the crystallographic convention spglib and VESTA use). Exact
     * 90-degree angles give cos = 6e-17; snap so orthogonal cells have exact zeros. */
    if (fabs(ca) < 1e-15) ca = 0;
    if (fabs(cb) < 1e-15) cb = 0;
    if (fabs(cg) < 1e-15) cg = 0;
    double cx = c * cb;
    double cy = c * (ca - cb * cg) / sg;
    double cz2 = c * c - cx * cx - cy * cy;
    MS_CHECK(cz2 > 1e-12 * c * c, MS_ERR_INVALID,
             "cell angles %g %g %g do not form a cell (zero or imaginary volume)", alpha, beta,
             gamma);
    double m[3][3] = {{a, 0, 0}, {b * cg, b * sg, 0}, {cx, cy, sqrt(cz2)}};
    memcpy(s->lattice, m, sizeof m);
    return MS_SUCCESS;
}

ms_status ms_structure_add_site(ms_structure *s, const double frac[3], const char *label)
{
    MS_CALL(grow_sites(s, s->n_sites + 1));
    size_t i = s->n_sites;
    memcpy(s->frac[i], frac, sizeof s->frac[i]);
    if (label) {
        snprintf(s->label[i], MS_LABEL_MAX, "%s", label);
    } else {
        s->label[i][0] = '\0';
    }
    s->site_species[i] = s->n_species;
    s->site_species[i + 1] = s->n_species;
    s->n_sites++;
    return MS_SUCCESS;
}

ms_status ms_structure_add_species(ms_structure *s, int z, double occu, double oxi, int has_oxi)
{
    MS_CHECK(s->n_sites > 0, MS_ERR_INTERNAL, "species added before any site");
    MS_CHECK(z >= 1 && z <= MS_MAX_Z, MS_ERR_UNKNOWN_ELEMENT, "atomic number %d out of range", z);
    MS_CALL(grow((void **)&s->species, &s->cap_species, s->n_species + 1, sizeof *s->species));
    ms_species *sp = &s->species[s->n_species++];
    sp->z = z;
    sp->occu = occu;
    sp->oxi = has_oxi ? oxi : 0.0;
    sp->has_oxi = has_oxi ? 1 : 0;
    s->site_species[s->n_sites] = s->n_species;
    return MS_SUCCESS;
}

ms_status ms_structure_set_property(ms_structure *s, const char *name, double value)
{
    for (size_t i = 0; i < s->n_props; i++)
        if (strcmp(s->props[i].name, name) == 0) {
            s->props[i].value = value;
            return MS_SUCCESS;
        }
    MS_CALL(grow((void **)&s->props, &s->cap_props, s->n_props + 1, sizeof *s->props));
    snprintf(s->props[s->n_props].name, MS_PROP_NAME_MAX, "%s", name);
    s->props[s->n_props].value = value;
    s->n_props++;
    return MS_SUCCESS;
}

int ms_structure_get_property(const ms_structure *s, const char *name, double *value)
{
    for (size_t i = 0; i < s->n_props; i++)
        if (strcmp(s->props[i].name, name) == 0) {
            *value = s->props[i].value;
            return 1;
        }
    return 0;
}

void ms_structure_warn(ms_structure *s, const char *fmt, ...)
{
    size_t used = strlen(s->warnings);
    if (used + 4 >= MS_WARNINGS_MAX) return; /* already full and marked */
    if (used > 0) {
        memcpy(s->warnings + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->warnings + used, MS_WARNINGS_MAX - used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= MS_WARNINGS_MAX - used)
        memcpy(s->warnings + MS_WARNINGS_MAX - 4, "...", 4);
}

double ms_lattice_det(const double m[3][3])
{
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
           m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

double ms_structure_volume(const ms_structure *s)
{
    return fabs(ms_lattice_det((const double(*)[3])s->lattice));
}

ms_status ms_lattice_inverse(const double m[3][3], double inv[3][3])
{
    double det = ms_lattice_det(m);
    MS_CHECK(isfinite(det) && det != 0.0, MS_ERR_INVALID,
             "lattice is singular: Cartesian coordinates cannot be converted");
    /* Adjugate over determinant, written out: 3x3 needs no LAPACK. */
    inv[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
    inv[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
    inv[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
    inv[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
    inv[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
    inv[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
    inv[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
    inv[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
    inv[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
    return MS_SUCCESS;
}

void ms_lattice_cart_to_frac(const double inv[3][3], const double cart[3], double frac[3])
{
    for (int j = 0; j < 3; j++)
        frac[j] = cart[0] * inv[0][j] + cart[1] * inv[1][j] + cart[2] * inv[2][j];
}

ms_status ms_structure_finish(ms_structure *s)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            MS_CHECK(isfinite(s->lattice[i][j]), MS_ERR_INVALID, "lattice holds a non-finite value");
    double vol = ms_structure_volume(s);
    double lmax = 0;
    for (int i = 0; i < 3; i++)
        lmax = fmax(lmax, sqrt(s->lattice[i][0] * s->lattice[i][0] +
                               s->lattice[i][1] * s->lattice[i][1] +
                               s->lattice[i][2] * s->lattice[i][2]));
    MS_CHECK(lmax <= MS_CELL_LENGTH_MAX, MS_ERR_INVALID,
             "a lattice vector is %g Angstrom long: longer than %g Angstrom, not a crystal's cell "
             "(too large; check the values and that they are in Angstrom)",
             lmax, MS_CELL_LENGTH_MAX);
    /* Relative test: a cell flatter than 1e-8 of its cube is degenerate whatever its size. */
    MS_CHECK(vol > 1e-8 * lmax * lmax * lmax && vol > 0, MS_ERR_INVALID,
             "cell volume is zero or the lattice vectors are linearly dependent");
    MS_CHECK(s->n_sites > 0, MS_ERR_NO_STRUCTURE, "no atom sites");
    for (size_t i = 0; i < s->n_sites; i++) {
        const double *f = s->frac[i];
        MS_CHECK(isfinite(f[0]) && isfinite(f[1]) && isfinite(f[2]), MS_ERR_INVALID,
                 "site %zu (%s) has a non-finite coordinate", i + 1, s->label[i]);
        MS_CHECK(fabs(f[0]) <= MS_FRAC_COORD_MAX && fabs(f[1]) <= MS_FRAC_COORD_MAX &&
                     fabs(f[2]) <= MS_FRAC_COORD_MAX,
                 MS_ERR_INVALID,
                 "site %zu (%s) has fractional coordinates %g %g %g: beyond "
                 "+-%g cells, not a position in this crystal (a typo, or Cartesian values "
                 "given as fractional?)",
                 i + 1, s->label[i], f[0], f[1], f[2], MS_FRAC_COORD_MAX);
        MS_CHECK(s->site_species[i + 1] > s->site_species[i], MS_ERR_INVALID,
                 "site %zu (%s) holds no species", i + 1, s->label[i]);
        double sum = 0;
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++) {
            double o = s->species[k].occu;
            MS_CHECK(isfinite(o) && o > 0, MS_ERR_INVALID,
                     "site %zu (%s) has occupancy %g for %s (must be > 0)", i + 1, s->label[i], o,
                     ms_element_symbol(s->species[k].z));
            sum += o;
        }
        /* Kept, not refused: whether an over-full site is an error is the validation stage's
         * call (with its severity), and the record must reach it. */
        if (sum > 1 + OCCUPANCY_SLACK)
            ms_structure_warn(s, "site %zu (%s) has total occupancy %.6g > 1", i + 1, s->label[i], sum);
        for (int j = 0; j < 3; j++)
            s->cart[i][j] = f[0] * s->lattice[0][j] + f[1] * s->lattice[1][j] + f[2] * s->lattice[2][j];
    }
    return MS_SUCCESS;
}

void ms_structure_composition(const ms_structure *s, ms_composition *c)
{
    ms_composition_clear(c);
    for (size_t k = 0; k < s->n_species; k++) ms_composition_add(c, s->species[k].z, s->species[k].occu);
}

double ms_structure_density(const ms_structure *s, const ms_element_table *table)
{
    double mass = 0;
    for (size_t k = 0; k < s->n_species; k++) {
        const ms_element *e = ms_element_get(table, s->species[k].z);
        mass += s->species[k].occu * (e ? e->mass : NAN);
    }
    return mass * AMU_PER_A3_TO_G_PER_CM3 / ms_structure_volume(s);
}

void ms_structure_lattice_parameters(const ms_structure *s, double abc[3], double angles[3])
{
    const double r2d = 180.0 / M_PI;
    for (int i = 0; i < 3; i++) {
        const double *v = s->lattice[i];
        abc[i] = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    }
    for (int i = 0; i < 3; i++) {
        const double *u = s->lattice[(i + 1) % 3], *w = s->lattice[(i + 2) % 3];
        double dot = u[0] * w[0] + u[1] * w[1] + u[2] * w[2];
        double cosang = dot / (abc[(i + 1) % 3] * abc[(i + 2) % 3]);
        angles[i] = acos(fmax(-1.0, fmin(1.0, cosang))) * r2d;
    }
}

int ms_structure_is_ordered(const ms_structure *s)
{
    for (size_t i = 0; i < s->n_sites; i++) {
        if (s->site_species[i + 1] - s->site_species[i] != 1) return 0;
        if (fabs(s->species[s->site_species[i]].occu - 1.0) > 1e-8) return 0;
    }
    return 1;
}

const char *ms_source_db_name(ms_source_db db)
{
    switch (db) {
    case MS_DB_ICSD: return "ICSD";
    case MS_DB_COD: return "COD";
    case MS_DB_MP: return "MP";
    case MS_DB_OTHER: return "other";
    default: return "unknown";
    }
}
