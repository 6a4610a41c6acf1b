/*
 * Validation checks (see include/matscreen/validate.h and docs/quality.md for each threshold).
 */
#include "matscreen/validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LI 3

static const ms_check_info checks[MS_CHECK_COUNT] = {
    {MS_CHECK_READ, "read", MS_SEVERITY_ERROR, "the record could not be read into a structure"},
    {MS_CHECK_VOLUME, "volume", MS_SEVERITY_ERROR, "cell volume zero, negative or not finite"},
    {MS_CHECK_FINITE, "finite", MS_SEVERITY_ERROR, "NaN or infinite lattice, coordinate or occupancy"},
    {MS_CHECK_OCCUPANCY, "occupancy", MS_SEVERITY_ERROR, "site occupancy sum above 1 + tolerance"},
    {MS_CHECK_CLOSE_ATOMS, "close_atoms", MS_SEVERITY_ERROR,
     "two atoms closer than a fraction of the sum of their covalent radii"},
    {MS_CHECK_UNKNOWN_ELEMENT, "unknown_element", MS_SEVERITY_ERROR,
     "an element symbol or number outside the periodic table"},
    {MS_CHECK_FORMULA, "formula", MS_SEVERITY_WARNING,
     "composition of the sites disagrees with the stated formula"},
    {MS_CHECK_LI_MISSING, "li_missing", MS_SEVERITY_ERROR, "Li expected but no site holds Li"},
    {MS_CHECK_CHARGE_BALANCE, "charge_balance", MS_SEVERITY_WARNING,
     "no charge-neutral assignment of common oxidation states"},
    {MS_CHECK_TOO_MANY_ATOMS, "too_many_atoms", MS_SEVERITY_ERROR,
     "more sites than the configured limit"},
    {MS_CHECK_SYMMETRY, "symmetry", MS_SEVERITY_WARNING,
     "space group not found at the requested tolerance (fallback or none)"},
};

const ms_check_info *ms_check_get(ms_check_id id)
{
    return ((int)id >= 0 && id < MS_CHECK_COUNT) ? &checks[id] : NULL;
}

int ms_check_find(const char *name)
{
    for (int i = 0; i < MS_CHECK_COUNT; i++)
        if (name && strcmp(checks[i].name, name) == 0) return i;
    return -1;
}

const char *ms_severity_name(ms_severity s)
{
    switch (s) {
    case MS_SEVERITY_WARNING: return "warning";
    case MS_SEVERITY_ERROR: return "error";
    default: return "none";
    }
}

void ms_validate_options_default(ms_validate_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->occupancy_tol = 1e-3;
    opt->close_fraction = 0.5;
    opt->formula_rtol = 0.01;
    opt->charge_tol = 0.05;
    opt->max_atoms = 2000;
    opt->expect_li = 0;
    for (int i = 0; i < MS_CHECK_COUNT; i++) opt->severity[i] = checks[i].severity;
    opt->elements = NULL;
}

ms_status ms_validate_workspace_init(ms_validate_workspace *ws)
{
    memset(ws, 0, sizeof *ws);
    ms_neighbor_list_init(&ws->nl);
    ws->charge_work = malloc(MS_OXIDATION_WORK_WORDS * sizeof *ws->charge_work);
    MS_CHECK(ws->charge_work != NULL, MS_ERR_NOMEM, "validation: cannot allocate the workspace");
    return MS_SUCCESS;
}

void ms_validate_workspace_destroy(ms_validate_workspace *ws)
{
    ms_neighbor_list_destroy(&ws->nl);
    free(ws->charge_work);
    ws->charge_work = NULL;
    ws->states_for = NULL;
}

void ms_validation_clear(ms_validation *v)
{
    v->n = 0;
    v->failed = 0;
    v->worst = MS_SEVERITY_NONE;
    v->charge_undecided = 0;
}

static void add_va(ms_validation *v, ms_severity sev, ms_check_id check, const char *fmt,
                   va_list ap)
{
    if (sev == MS_SEVERITY_NONE || (v->failed & (1u << check)) || v->n >= MS_CHECK_COUNT) return;
    ms_finding *f = &v->findings[v->n++];
    f->check = check;
    f->severity = sev;
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    v->failed |= 1u << check;
    if (sev > v->worst) v->worst = sev;
}

void ms_validation_add(ms_validation *v, const ms_validate_options *opt, ms_check_id check,
                       const char *fmt, ...)
{
    if ((int)check < 0 || check >= MS_CHECK_COUNT) return;
    ms_severity sev = opt ? opt->severity[check] : checks[check].severity;
    va_list ap;
    va_start(ap, fmt);
    add_va(v, sev, check, fmt, ap);
    va_end(ap);
}

/* A finding with an explicit severity (a milder case of a check), unless the check is off. */
static void add_sev(ms_validation *v, const ms_validate_options *opt, ms_check_id check,
                    ms_severity sev, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static void add_sev(ms_validation *v, const ms_validate_options *opt, ms_check_id check,
                    ms_severity sev, const char *fmt, ...)
{
    if (opt->severity[check] == MS_SEVERITY_NONE) return;
    va_list ap;
    va_start(ap, fmt);
    add_va(v, sev, check, fmt, ap);
    va_end(ap);
}

static double det3(const double m[3][3])
{
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
           m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

static const char *site_name(const ms_structure *s, size_t i, char *buf, size_t n)
{
    if (s->label && s->label[i][0]) snprintf(buf, n, "%s (site %zu)", s->label[i], i);
    else snprintf(buf, n, "site %zu", i);
    return buf;
}

/* Returns 1 when lattice, coordinates and occupancies are finite (else adds a finding). */
static int check_finite(const ms_structure *s, const ms_validate_options *opt, ms_validation *v)
{
    char name[48];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            if (!isfinite(s->lattice[r][c])) {
                ms_validation_add(v, opt, MS_CHECK_FINITE, "lattice[%d][%d] is not finite", r, c);
                return 0;
            }
    for (size_t i = 0; i < s->n_sites; i++) {
        int bad = 0;
        for (int k = 0; k < 3; k++) bad |= !isfinite(s->frac[i][k]) || (s->cart && !isfinite(s->cart[i][k]));
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++)
            bad |= !isfinite(s->species[k].occu);
        if (bad) {
            ms_validation_add(v, opt, MS_CHECK_FINITE, "%s has a non-finite coordinate or occupancy",
                              site_name(s, i, name, sizeof name));
            return 0;
        }
    }
    return 1;
}

static int check_volume(const ms_structure *s, const ms_validate_options *opt, ms_validation *v)
{
    double det = det3(s->lattice);
    double len = 1;
    for (int r = 0; r < 3; r++)
        len *= sqrt(s->lattice[r][0] * s->lattice[r][0] + s->lattice[r][1] * s->lattice[r][1] +
                    s->lattice[r][2] * s->lattice[r][2]);
    if (!isfinite(det) || fabs(det) <= 1e-8 * len || fabs(det) < 1e-6) {
        ms_validation_add(v, opt, MS_CHECK_VOLUME, "cell volume %.6g A^3 is zero (degenerate lattice)",
                          det);
        return 0;
    }
    if (det < 0)
        add_sev(v, opt, MS_CHECK_VOLUME, MS_SEVERITY_WARNING,
                "negative volume %.6g A^3: left-handed lattice vectors", det);
    return 1;
}

static void check_occupancy(const ms_structure *s, const ms_validate_options *opt,
                            ms_validation *v)
{
    char name[48];
    for (size_t i = 0; i < s->n_sites; i++) {
        double sum = 0;
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++)
            sum += s->species[k].occu;
        if (sum > 1.0 + opt->occupancy_tol) {
            ms_validation_add(v, opt, MS_CHECK_OCCUPANCY, "%s holds occupancy %.4g > 1 + %g",
                              site_name(s, i, name, sizeof name), sum, opt->occupancy_tol);
            return;
        }
    }
}

/* Returns 1 when every element is known. */
static int check_elements(const ms_structure *s, const ms_validate_options *opt, ms_validation *v)
{
    for (size_t k = 0; k < s->n_species; k++) {
        int z = s->species[k].z;
        if (z < 1 || z > MS_MAX_Z || !ms_element_get(opt->elements, z)) {
            ms_validation_add(v, opt, MS_CHECK_UNKNOWN_ELEMENT, "atomic number %d is not an element",
                              z);
            return 0;
        }
    }
    return 1;
}

static double site_occupancy(const ms_structure *s, size_t i)
{
    double sum = 0;
    for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++) sum += s->species[k].occu;
    return sum;
}

/* Smallest covalent radius among the species of site i (lenient for mixed sites); 0.7 Å when the
 * table has none (the median of the table, so the check stays meaningful). */
static double site_radius(const ms_structure *s, const ms_element_table *t, size_t i)
{
    double r = INFINITY;
    for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++) {
        const ms_element *el = ms_element_get(t, s->species[k].z);
        double rk = (el && isfinite(el->covalent_radius) && el->covalent_radius > 0)
                        ? el->covalent_radius
                        : 0.7;
        if (rk < r) r = rk;
    }
    return isfinite(r) ? r : 0.7;
}

/* Sites i and j carry the same label and species: images of one crystallographic site. */
static int same_site(const ms_structure *s, size_t i, size_t j)
{
    if (!s->label || !s->label[i][0] || strcmp(s->label[i], s->label[j]) != 0) return 0;
    size_t ni = s->site_species[i + 1] - s->site_species[i];
    if (ni != s->site_species[j + 1] - s->site_species[j]) return 0;
    for (size_t k = 0; k < ni; k++)
        if (s->species[s->site_species[i] + k].z != s->species[s->site_species[j] + k].z) return 0;
    return 1;
}

static ms_status check_close(ms_validate_workspace *ws, const ms_structure *s,
                             const ms_validate_options *opt, ms_validation *v)
{
    if (opt->severity[MS_CHECK_CLOSE_ATOMS] == MS_SEVERITY_NONE || opt->close_fraction <= 0)
        return MS_SUCCESS;
    double rmax = 0;
    for (size_t i = 0; i < s->n_sites; i++) {
        double r = site_radius(s, opt->elements, i);
        if (r > rmax) rmax = r;
    }
    double cutoff = opt->close_fraction * 2 * rmax;
    if (!(cutoff > 0)) return MS_SUCCESS;
    ms_status st = ms_neighbor_list_build(&ws->nl, s, cutoff, 0);
    if (st == MS_ERR_LIMIT) {
        ms_validation_add(v, opt, MS_CHECK_CLOSE_ATOMS,
                          "more than 5e7 atom pairs within %.3g A: atoms pile up", cutoff);
        return MS_SUCCESS;
    }
    MS_CALL(st);
    char a[48], b[48];
    /* first clash involving a fully occupied site (error), else first clash of two partially
     * occupied sites that together hold more than one atom (warning: refined split sites often
     * sum slightly above 1, e.g. Li in LGPS-type Li10SnP2S12) */
    size_t wi = SIZE_MAX, wj = 0;
    double wd = 0, wl = 0;
    for (size_t i = 0; i < s->n_sites; i++) {
        double ri = site_radius(s, opt->elements, i), oi = site_occupancy(s, i);
        for (size_t p = ws->nl.offset[i]; p < ws->nl.offset[i + 1]; p++) {
            const ms_neighbor *nb = &ws->nl.pairs[p];
            size_t j = nb->j;
            if (j < i) continue; /* each pair once */
            double limit = opt->close_fraction * (ri + site_radius(s, opt->elements, j));
            if (nb->dist >= limit) continue;
            double oj = site_occupancy(s, j);
            /* two partially occupied sites that together hold at most one atom are alternative
             * positions (split sites), not a clash */
            if (j != i && oi + oj <= 1.0 + opt->occupancy_tol) continue;
            int partial = j != i && oi < 1.0 - opt->occupancy_tol && oj < 1.0 - opt->occupancy_tol;
            /* Symmetry images of one labelled site closer than a bond (but not coincident): a
             * split site whose file states full occupancy (GEMDAT's lisnps.cif, Li2 images
             * 0.985 A apart). The occupancy is the file's error, not the structure's: a warning,
             * so that the record is kept and flagged. */
            if (partial || (j != i && nb->dist >= 0.5 && same_site(s, i, j))) {
                if (wi == SIZE_MAX) {
                    wi = i;
                    wj = j;
                    wd = nb->dist;
                    wl = limit;
                }
                continue;
            }
            ms_validation_add(v, opt, MS_CHECK_CLOSE_ATOMS,
                              "%s and %s are %.3f A apart, below %.2f x covalent radii (%.3f A)",
                              site_name(s, i, a, sizeof a), site_name(s, j, b, sizeof b), nb->dist,
                              opt->close_fraction, limit);
            return MS_SUCCESS;
        }
    }
    if (wi != SIZE_MAX && same_site(s, wi, wj) && site_occupancy(s, wi) >= 1.0 - opt->occupancy_tol)
        add_sev(v, opt, MS_CHECK_CLOSE_ATOMS, MS_SEVERITY_WARNING,
                "split site stated as fully occupied: images %s and %s %.3f A apart (below %.3f A)",
                site_name(s, wi, a, sizeof a), site_name(s, wj, b, sizeof b), wd, wl);
    else if (wi != SIZE_MAX)
        add_sev(v, opt, MS_CHECK_CLOSE_ATOMS, MS_SEVERITY_WARNING,
                "partially occupied %s and %s are %.3f A apart (below %.3f A) and hold %.3g atoms "
                "together",
                site_name(s, wi, a, sizeof a), site_name(s, wj, b, sizeof b), wd, wl,
                site_occupancy(s, wi) + site_occupancy(s, wj));
    return MS_SUCCESS;
}

static void check_formula(const ms_structure *s, const ms_composition *sites,
                          const ms_validate_options *opt, ms_validation *v)
{
    if (!s->formula_stated[0]) return;
    ms_composition stated;
    if (ms_composition_parse(s->formula_stated, &stated) != MS_SUCCESS) {
        add_sev(v, opt, MS_CHECK_FORMULA, MS_SEVERITY_WARNING, "stated formula '%s' cannot be parsed",
                s->formula_stated);
        return;
    }
    if (ms_composition_proportional(sites, &stated, opt->formula_rtol)) return;
    char f[128];
    if (ms_composition_formula(sites, opt->elements, f, sizeof f) != MS_SUCCESS) f[0] = '\0';
    ms_validation_add(v, opt, MS_CHECK_FORMULA, "sites give %s, stated formula is '%s'", f,
                      s->formula_stated);
}

static void check_charge(ms_validate_workspace *ws, const ms_structure *s,
                         const ms_composition *comp, const ms_validate_options *opt,
                         ms_validation *v)
{
    if (opt->severity[MS_CHECK_CHARGE_BALANCE] == MS_SEVERITY_NONE) return;
    int all_oxi = s->n_species > 0;
    for (size_t k = 0; all_oxi && k < s->n_species; k++) all_oxi = s->species[k].has_oxi;
    if (all_oxi) {
        double q = 0;
        for (size_t k = 0; k < s->n_species; k++) q += s->species[k].occu * s->species[k].oxi;
        double per_atom = q / fmax(ms_composition_total(comp), 1e-300);
        if (fabs(per_atom) > opt->charge_tol)
            ms_validation_add(v, opt, MS_CHECK_CHARGE_BALANCE,
                              "stated oxidation states sum to %+.3g per cell", q);
        return;
    }
    if (ws->states_for != opt->elements) {
        ms_oxidation_states_init(&ws->states, opt->elements);
        ws->states_for = opt->elements;
    }
    int z[MS_MAX_Z];
    double amount[MS_MAX_Z];
    int n = 0;
    for (int i = 0; i < comp->n; i++) {
        double a = comp->amount[comp->z[i]];
        if (a <= MS_COMPOSITION_TOL) continue;
        z[n] = comp->z[i];
        amount[n++] = a;
    }
    int verdict = ms_oxidation_balance(&ws->states, z, amount, n, ws->charge_work);
    if (verdict < 0) {
        v->charge_undecided = 1;
        return;
    }
    if (verdict == 0) {
        char f[128];
        if (ms_composition_formula(comp, opt->elements, f, sizeof f) != MS_SUCCESS) f[0] = '\0';
        ms_validation_add(v, opt, MS_CHECK_CHARGE_BALANCE,
                          "no neutral assignment of common oxidation states for %s", f);
    }
}

ms_status ms_validate_structure(ms_validate_workspace *ws, const ms_structure *s,
                                const ms_validate_options *opt, ms_validation *out)
{
    ms_validation_clear(out);
    MS_CHECK(opt && opt->elements, MS_ERR_USAGE, "validation needs an element table");
    if (s->n_sites > opt->max_atoms)
        ms_validation_add(out, opt, MS_CHECK_TOO_MANY_ATOMS, "%zu sites, limit %zu", s->n_sites,
                          opt->max_atoms);
    int finite = check_finite(s, opt, out);
    int volume = finite && check_volume(s, opt, out);
    int known = check_elements(s, opt, out);
    check_occupancy(s, opt, out);
    ms_composition comp;
    ms_structure_composition(s, &comp);
    if (opt->expect_li && !(comp.amount[LI] > MS_COMPOSITION_TOL))
        ms_validation_add(out, opt, MS_CHECK_LI_MISSING, "no site holds Li");
    if (!known) return MS_SUCCESS;
    check_formula(s, &comp, opt, out);
    check_charge(ws, s, &comp, opt, out);
    /* the neighbour list needs a sound cell and is the costliest check: skip it for structures
     * that are refused anyway for their size */
    if (finite && volume && s->cart && !(out->failed & (1u << MS_CHECK_TOO_MANY_ATOMS)))
        MS_CALL(check_close(ws, s, opt, out));
    return MS_SUCCESS;
}

void ms_validate_read_failure(ms_status status, const char *message,
                              const ms_validate_options *opt, ms_validation *out)
{
    ms_validation_clear(out);
    const char *m = message ? message : "";
    ms_check_id c = MS_CHECK_READ;
    if (status == MS_ERR_UNKNOWN_ELEMENT) c = MS_CHECK_UNKNOWN_ELEMENT;
    else if (status == MS_ERR_LIMIT && (strstr(m, "atom") || strstr(m, "site")))
        c = MS_CHECK_TOO_MANY_ATOMS;
    else if (strstr(m, "finite") || strstr(m, "NaN") || strstr(m, "nan") || strstr(m, "inf"))
        c = MS_CHECK_FINITE;
    else if (strstr(m, "volume")) c = MS_CHECK_VOLUME;
    ms_severity sev = opt ? opt->severity[c] : checks[c].severity;
    /* a record that was not read cannot be screened, whatever the check's configured severity */
    if (sev != MS_SEVERITY_ERROR) sev = MS_SEVERITY_ERROR;
    ms_finding *f = &out->findings[out->n++];
    f->check = c;
    f->severity = sev;
    snprintf(f->message, sizeof f->message, "%s: %s", ms_strerror(status), m);
    out->failed |= 1u << c;
    out->worst = sev;
}
