/* Space-group symmetry through spglib; see symmetry.h. */
#include "matscreen/symmetry.h"

#include <limits.h>
#include <math.h>
#include <spglib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/element.h"

/* Occupancies closer than this are the same site type: pymatgen's Composition.amount_tolerance. */
#define OCCU_TOL 1e-8

/* spglib's centring matrices (spacegroup.c): primitive basis vectors as columns, in fractional
 * coordinates of the conventional cell. */
static const double centring_a[3][3] = {{1, 0, 0}, {0, 0.5, -0.5}, {0, 0.5, 0.5}};
static const double centring_c[3][3] = {{0.5, 0.5, 0}, {-0.5, 0.5, 0}, {0, 0, 1}};
static const double centring_r[3][3] = {
    {2. / 3, -1. / 3, -1. / 3}, {1. / 3, 1. / 3, -2. / 3}, {1. / 3, 1. / 3, 1. / 3}};
static const double centring_i[3][3] = {{-0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0.5, 0.5, -0.5}};
static const double centring_f[3][3] = {{0, 0.5, 0.5}, {0.5, 0, 0.5}, {0.5, 0.5, 0}};
static const double centring_p[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};

void ms_symmetry_options_default(ms_symmetry_options *opt)
{
    static const double ladder[] = {1e-2, 1e-3, 1e-4, 1e-5, 1e-1};
    memset(opt, 0, sizeof *opt);
    memcpy(opt->symprec, ladder, sizeof ladder);
    opt->n_symprec = sizeof ladder / sizeof ladder[0];
    opt->angle_tolerance = 5.0;
    opt->cells = 1;
    opt->use_oxidation = 1;
    opt->elements = NULL;
}

static ms_status check_ladder(const double *symprec, size_t n)
{
    MS_CHECK(n >= 1 && n <= MS_SYMMETRY_LADDER_MAX, MS_ERR_USAGE,
             "symmetry: a tolerance ladder holds 1 to %d values, not %zu", MS_SYMMETRY_LADDER_MAX,
             n);
    for (size_t i = 0; i < n; i++)
        MS_CHECK(isfinite(symprec[i]) && symprec[i] > 0, MS_ERR_USAGE,
                 "symmetry: symprec %g (ladder entry %zu) must be positive and finite", symprec[i],
                 i);
    return MS_SUCCESS;
}

ms_status ms_symmetry_options_set_ladder(ms_symmetry_options *opt, const double *symprec, size_t n)
{
    MS_CALL(check_ladder(symprec, n));
    memcpy(opt->symprec, symprec, n * sizeof *symprec);
    opt->n_symprec = n;
    return MS_SUCCESS;
}

void ms_symmetry_workspace_init(ms_symmetry_workspace *ws) { memset(ws, 0, sizeof *ws); }

void ms_symmetry_workspace_destroy(ms_symmetry_workspace *ws)
{
    free(ws->pos);
    free(ws->keys);
    free(ws->order);
    free(ws->scratch);
    free(ws->types);
    free(ws->type_site);
    free(ws->prim_site);
    free(ws->text);
    ms_symmetry_workspace_init(ws);
}

void ms_symmetry_init(ms_symmetry *sym)
{
    memset(sym, 0, sizeof *sym);
    ms_structure_init(&sym->conventional);
    ms_structure_init(&sym->primitive);
}

void ms_symmetry_destroy(ms_symmetry *sym)
{
    free(sym->ops);
    free(sym->wyckoff);
    free(sym->equivalent);
    free(sym->site_type);
    ms_structure_destroy(&sym->conventional);
    ms_structure_destroy(&sym->primitive);
    ms_symmetry_init(sym);
}

ms_crystal_system ms_crystal_system_of(int number)
{
    if (number < 1 || number > 230) return MS_CRYSTAL_UNKNOWN;
    if (number < 3) return MS_CRYSTAL_TRICLINIC;
    if (number < 16) return MS_CRYSTAL_MONOCLINIC;
    if (number < 75) return MS_CRYSTAL_ORTHORHOMBIC;
    if (number < 143) return MS_CRYSTAL_TETRAGONAL;
    if (number < 168) return MS_CRYSTAL_TRIGONAL;
    if (number < 195) return MS_CRYSTAL_HEXAGONAL;
    return MS_CRYSTAL_CUBIC;
}

const char *ms_crystal_system_name(ms_crystal_system cs)
{
    switch (cs) {
    case MS_CRYSTAL_CUBIC: return "cubic";
    case MS_CRYSTAL_HEXAGONAL: return "hexagonal";
    case MS_CRYSTAL_TRIGONAL: return "trigonal";
    case MS_CRYSTAL_TETRAGONAL: return "tetragonal";
    case MS_CRYSTAL_ORTHORHOMBIC: return "orthorhombic";
    case MS_CRYSTAL_MONOCLINIC: return "monoclinic";
    case MS_CRYSTAL_TRICLINIC: return "triclinic";
    case MS_CRYSTAL_UNKNOWN: break;
    }
    return "unknown";
}

/* Grows the workspace to n sites; its arrays share one capacity. */
static ms_status grow_workspace(ms_symmetry_workspace *ws, size_t n)
{
    if (n <= ws->cap) return MS_SUCCESS;
    size_t cap = ws->cap ? ws->cap : 64;
    while (cap < n)
        cap *= 2;
    void *pos = realloc(ws->pos, cap * sizeof *ws->pos);
    if (pos) ws->pos = pos;
    void *keys = realloc(ws->keys, cap * sizeof *ws->keys);
    if (keys) ws->keys = keys;
    void *order = realloc(ws->order, cap * sizeof *ws->order);
    if (order) ws->order = order;
    void *scratch = realloc(ws->scratch, cap * sizeof *ws->scratch);
    if (scratch) ws->scratch = scratch;
    void *types = realloc(ws->types, cap * sizeof *ws->types);
    if (types) ws->types = types;
    void *type_site = realloc(ws->type_site, cap * sizeof *ws->type_site);
    if (type_site) ws->type_site = type_site;
    void *prim_site = realloc(ws->prim_site, cap * sizeof *ws->prim_site);
    if (prim_site) ws->prim_site = prim_site;
    void *text = realloc(ws->text, cap * MS_SYMMETRY_SITE_TEXT);
    if (text) ws->text = text;
    /* Arrays that did grow are kept; the capacity only rises when all did. */
    MS_CHECK(pos && keys && order && scratch && types && type_site && prim_site && text,
             MS_ERR_NOMEM,
             "symmetry: cannot grow the workspace to %zu sites", cap);
    ws->cap = cap;
    return MS_SUCCESS;
}

static ms_status grow_result(ms_symmetry *out, size_t n_sites, size_t n_ops)
{
    if (n_sites > out->cap_sites) {
        size_t cap = out->cap_sites ? out->cap_sites : 64;
        while (cap < n_sites)
            cap *= 2;
        void *w = realloc(out->wyckoff, cap + 1);
        if (w) out->wyckoff = w;
        void *e = realloc(out->equivalent, cap * sizeof *out->equivalent);
        if (e) out->equivalent = e;
        void *t = realloc(out->site_type, cap * sizeof *out->site_type);
        if (t) out->site_type = t;
        MS_CHECK(w && e && t, MS_ERR_NOMEM, "symmetry: cannot grow the result to %zu sites", cap);
        out->cap_sites = cap;
    }
    if (n_ops > out->cap_ops) {
        size_t cap = out->cap_ops ? out->cap_ops : 192;
        while (cap < n_ops)
            cap *= 2;
        void *o = realloc(out->ops, cap * sizeof *out->ops);
        MS_CHECK(o, MS_ERR_NOMEM, "symmetry: cannot hold %zu operations", cap);
        out->ops = o;
        out->cap_ops = cap;
    }
    return MS_SUCCESS;
}

/* 1 when sites i and j hold the same species with the same occupancies, in any order. This is
 * pymatgen's site.species equality (Composition.__eq__, tolerance 1e-8), which decides the spglib
 * types in SpacegroupAnalyzer. */
static int same_site_kind(const ms_structure *s, size_t i, size_t j, int use_oxidation)
{
    size_t a0 = s->site_species[i], a1 = s->site_species[i + 1];
    size_t b0 = s->site_species[j], b1 = s->site_species[j + 1];
    if (a1 - a0 != b1 - b0) return 0;
    for (size_t a = a0; a < a1; a++) {
        const ms_species *x = &s->species[a];
        int found = 0;
        for (size_t b = b0; b < b1 && !found; b++) {
            const ms_species *y = &s->species[b];
            if (x->z != y->z || fabs(x->occu - y->occu) > OCCU_TOL) continue;
            if (use_oxidation &&
                (x->has_oxi != y->has_oxi || (x->has_oxi && fabs(x->oxi - y->oxi) > OCCU_TOL)))
                continue;
            found = 1;
        }
        if (!found) return 0;
    }
    return 1;
}

/* Fills ws->types (1-based, in order of first appearance) and ws->type_site; returns the number
 * of types. Sites are compared with the representative of each type found so far: O(sites x
 * types), and types are few even in disordered structures. */
static size_t assign_types(ms_symmetry_workspace *ws, const ms_structure *s, int use_oxidation)
{
    size_t n_types = 0;
    for (size_t j = 0; j < s->n_sites; j++) {
        size_t i = ws->order[j], t = 0;
        while (t < n_types && !same_site_kind(s, i, ws->type_site[t], use_oxidation))
            t++;
        if (t == n_types) ws->type_site[n_types++] = i;
        ws->types[j] = (int)t + 1;
    }
    return n_types;
}

/* pymatgen's Species string: "Li", "Li+", "O2-", "Fe2.5+". */
static int species_text(char *buf, size_t n, const ms_species *sp, int use_oxidation)
{
    const char *sym = ms_element_symbol(sp->z);
    if (!use_oxidation || !sp->has_oxi) return snprintf(buf, n, "%s", sym);
    double q = fabs(sp->oxi);
    const char *sign = sp->oxi >= 0 ? "+" : "-";
    if (q == 1.0) return snprintf(buf, n, "%s%s", sym, sign);
    return snprintf(buf, n, "%s%g%s", sym, q, sign);
}

/* pymatgen's site.species_string: the species for an ordered site, else "A:0.500, B:0.500" (in
 * stored order; pymatgen sorts the species by electronegativity, which only matters for ties of
 * the average electronegativity between two disordered sites). */
static void site_text(char *buf, size_t n, const ms_structure *s, size_t i, int use_oxidation)
{
    size_t k0 = s->site_species[i], k1 = s->site_species[i + 1], used = 0;
    buf[0] = '\0';
    if (k1 - k0 == 1 && fabs(s->species[k0].occu - 1.0) <= OCCU_TOL) {
        species_text(buf, n, &s->species[k0], use_oxidation);
        return;
    }
    for (size_t k = k0; k < k1 && used + 1 < n; k++) {
        char sp[32];
        species_text(sp, sizeof sp, &s->species[k], use_oxidation);
        int w =
            snprintf(buf + used, n - used, "%s%s:%.3f", k > k0 ? ", " : "", sp, s->species[k].occu);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* Sort key of a site: pymatgen's Site.__lt__ (average electronegativity of its species, then the
 * species string), then the input index, which makes qsort stable like Python's sort. */
static int compare_keys(const void *pa, const void *pb)
{
    const ms_symmetry_site_key *a = pa, *b = pb;
    /* A NaN electronegativity (noble gases) sorts last, so that the order is total; Python's
     * sort has no defined answer there. */
    int na = isnan(a->x), nb = isnan(b->x);
    if (na != nb) return na - nb;
    if (!na && a->x < b->x) return -1;
    if (!na && a->x > b->x) return 1;
    if (a->site != b->site) {
        int c = strcmp(a->text, b->text);
        if (c) return c;
    }
    return a->site < b->site ? -1 : a->site > b->site;
}

/* Fills ws->order (spglib atom j is input site order[j]) and ws->pos. With an element table the
 * order is pymatgen's Structure.get_sorted_structure(), which CifParser applies to every structure
 * it returns: spglib's answer for a structure close to a tolerance boundary depends on the atom
 * order, and this order also makes the answer independent of the order of species in the source.
 * Without a table the input order is kept. */
static void order_sites(ms_symmetry_workspace *ws, const ms_structure *s,
                        const ms_symmetry_options *opt)
{
    size_t n = s->n_sites;
    if (opt->elements) {
        for (size_t i = 0; i < n; i++) {
            double sum = 0, occ = 0;
            for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++) {
                const ms_element *e = ms_element_get(opt->elements, s->species[k].z);
                double x = e ? e->x : NAN;
                sum += x * fabs(s->species[k].occu);
                occ += fabs(s->species[k].occu);
            }
            /* The species string is the second criterion: written once per site here, not
             * twice per comparison (it was most of our own cost on large cells). */
            char *text = ws->text + i * MS_SYMMETRY_SITE_TEXT;
            site_text(text, MS_SYMMETRY_SITE_TEXT, s, i, opt->use_oxidation);
            ws->keys[i] = (ms_symmetry_site_key){sum / occ, i, s, opt->use_oxidation, text};
        }
        qsort(ws->keys, n, sizeof *ws->keys, compare_keys);
        for (size_t j = 0; j < n; j++)
            ws->order[j] = ws->keys[j].site;
    } else {
        for (size_t j = 0; j < n; j++)
            ws->order[j] = j;
    }
    for (size_t j = 0; j < n; j++)
        memcpy(ws->pos[j], s->frac[ws->order[j]], sizeof ws->pos[j]);
}

static ms_status check_input(const ms_structure *s)
{
    MS_CHECK(s->n_sites > 0, MS_ERR_INVALID, "symmetry: the structure has no sites");
    MS_CHECK(s->n_sites <= INT_MAX / 4, MS_ERR_LIMIT,
             "symmetry: %zu sites is more than spglib takes", s->n_sites);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            MS_CHECK(isfinite(s->lattice[i][j]), MS_ERR_INVALID,
                     "symmetry: the lattice holds a non-finite value");
    const double(*m)[3] = s->lattice;
    double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                 m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                 m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    MS_CHECK(fabs(det) > 1e-8, MS_ERR_INVALID, "symmetry: the cell volume is %g Å^3", fabs(det));
    for (size_t i = 0; i < s->n_sites; i++) {
        MS_CHECK(isfinite(s->frac[i][0]) && isfinite(s->frac[i][1]) && isfinite(s->frac[i][2]),
                 MS_ERR_INVALID, "symmetry: site %zu (%s) has a non-finite position", i,
                 s->label[i]);
        MS_CHECK(s->site_species[i + 1] > s->site_species[i], MS_ERR_INVALID,
                 "symmetry: site %zu (%s) holds no species", i, s->label[i]);
    }
    return MS_SUCCESS;
}

static void copy_trimmed(char *dst, size_t n, const char *src)
{
    while (*src == ' ')
        src++;
    snprintf(dst, n, "%s", src);
    size_t len = strlen(dst);
    while (len > 0 && dst[len - 1] == ' ')
        dst[--len] = '\0';
}

/* Wraps a fractional coordinate into [0, 1); values within 1e-10 of an integer become exact. */
static double wrap(double x)
{
    double r = nearbyint(x);
    if (fabs(x - r) < 1e-10) return 0.0;
    x -= floor(x);
    return x >= 1.0 ? 0.0 : x;
}

static void invert3(const double m[3][3], double inv[3][3])
{
    double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                 m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                 m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            /* cofactor of m[j][i] */
            int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
            inv[i][j] = (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det;
        }
}

/* Appends a site at frac that copies species and label of input site `from`. */
static ms_status copy_site(ms_structure *dst, const ms_structure *src, size_t from,
                           const double frac[3])
{
    MS_CALL(ms_structure_add_site(dst, frac, src->label[from]));
    for (size_t k = src->site_species[from]; k < src->site_species[from + 1]; k++) {
        const ms_species *sp = &src->species[k];
        MS_CALL(ms_structure_add_species(dst, sp->z, sp->occu, sp->oxi, sp->has_oxi));
    }
    return MS_SUCCESS;
}

/* Builds the standardized conventional cell (spglib's std_* arrays) and the primitive cell
 * derived from it by the centring of the Hall symbol, as spg_standardize_cell(to_primitive=1)
 * does, but without a second symmetry search. Each atom copies an input site of its orbit,
 * found through spglib's mappings to the (internal) primitive cell. */
static ms_status build_cells(ms_symmetry_workspace *ws, const ms_structure *s,
                             const SpglibDataset *d, ms_symmetry *out)
{
    ms_structure *conv = &out->conventional, *prim = &out->primitive;
    ms_structure_reset(conv);
    ms_structure_reset(prim);

    /* Input site of each primitive atom; n_prim <= n_sites. */
    size_t n_prim = 0;
    for (int i = 0; i < d->n_atoms; i++)
        if ((size_t)d->mapping_to_primitive[i] + 1 > n_prim)
            n_prim = (size_t)d->mapping_to_primitive[i] + 1;
    MS_CHECK(n_prim <= s->n_sites, MS_ERR_INTERNAL, "symmetry: spglib primitive cell too large");
    /* prim_site holds spglib atom indices; ws->order maps them to input sites. */
    for (size_t p = 0; p < n_prim; p++)
        ws->prim_site[p] = -1;
    for (int i = d->n_atoms - 1; i >= 0; i--)
        ws->prim_site[d->mapping_to_primitive[i]] = i;

    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            conv->lattice[i][j] = d->std_lattice[j][i];
    for (int k = 0; k < d->n_std_atoms; k++) {
        int p = d->std_mapping_to_primitive[k];
        MS_CHECK(p >= 0 && (size_t)p < n_prim && ws->prim_site[p] >= 0, MS_ERR_INTERNAL,
                 "symmetry: spglib std atom %d maps to no input site", k);
        MS_CHECK(ws->types[ws->prim_site[p]] == d->std_types[k], MS_ERR_INTERNAL,
                 "symmetry: spglib std atom %d changed its type", k);
        double f[3] = {wrap(d->std_positions[k][0]), wrap(d->std_positions[k][1]),
                       wrap(d->std_positions[k][2])};
        MS_CALL(copy_site(conv, s, ws->order[ws->prim_site[p]], f));
    }

    const double(*c)[3] = centring_p;
    const char *h = d->hall_symbol;
    while (*h == ' ' || *h == '-')
        h++;
    switch (*h) {
    case 'P': c = centring_p; break;
    case 'A': c = centring_a; break;
    case 'C': c = centring_c; break;
    case 'I': c = centring_i; break;
    case 'F': c = centring_f; break;
    case 'R': c = centring_r; break;
    default:
        return ms_error_set(MS_ERR_INTERNAL, "symmetry: unexpected centring in Hall symbol '%s'",
                            d->hall_symbol);
    }
    double cinv[3][3];
    invert3(c, cinv);
    /* Rows: prim_j = sum_i c[i][j] conv_i (c holds the primitive vectors as columns). */
    for (int j = 0; j < 3; j++)
        for (int x = 0; x < 3; x++) {
            double v = 0;
            for (int i = 0; i < 3; i++)
                v += c[i][j] * conv->lattice[i][x];
            prim->lattice[j][x] = v;
        }
    /* One primitive atom per spglib primitive index, from the first std atom mapped to it. */
    for (size_t p = 0; p < n_prim; p++)
        ws->scratch[p] = 0; /* "placed" flags */
    for (int k = 0; k < d->n_std_atoms; k++) {
        int p = d->std_mapping_to_primitive[k];
        if (ws->scratch[p]) continue;
        ws->scratch[p] = 1;
        double f[3];
        for (int i = 0; i < 3; i++)
            f[i] = wrap(cinv[i][0] * d->std_positions[k][0] + cinv[i][1] * d->std_positions[k][1] +
                        cinv[i][2] * d->std_positions[k][2]);
        MS_CALL(copy_site(prim, s, ws->order[ws->prim_site[p]], f));
    }
    conv->prov = s->prov;
    prim->prov = s->prov;
    MS_CALL(ms_structure_finish(conv));
    MS_CALL(ms_structure_finish(prim));
    return MS_SUCCESS;
}

/* Copies everything but the cells from a spglib dataset. */
static ms_status fill_result(ms_symmetry_workspace *ws, const ms_structure *s,
                             const SpglibDataset *d, ms_symmetry *out)
{
    MS_CALL(grow_result(out, s->n_sites, (size_t)d->n_operations));
    out->number = d->spacegroup_number;
    out->hall_number = d->hall_number;
    copy_trimmed(out->international, sizeof out->international, d->international_symbol);
    copy_trimmed(out->hall_symbol, sizeof out->hall_symbol, d->hall_symbol);
    copy_trimmed(out->choice, sizeof out->choice, d->choice);
    copy_trimmed(out->pointgroup, sizeof out->pointgroup, d->pointgroup_symbol);
    out->crystal_system = ms_crystal_system_of(d->spacegroup_number);
    out->n_operations = (size_t)d->n_operations;
    out->centrosymmetric = 0;
    for (int k = 0; k < d->n_operations; k++) {
        memcpy(out->ops[k].rot, d->rotations[k], sizeof out->ops[k].rot);
        memcpy(out->ops[k].trans, d->translations[k], sizeof out->ops[k].trans);
        int inversion = 1;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                if (d->rotations[k][i][j] != (i == j ? -1 : 0)) inversion = 0;
        out->centrosymmetric |= inversion;
    }
    /* Wyckoff letters as spglib's Python interface prints them: 0 -> 'a', 26 -> 'A'. */
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzA";
    out->n_sites = s->n_sites;
    /* Back to input order: spglib atom j is input site order[j]. An orbit is named by its lowest
     * input index (scratch[r]: that index for the orbit of spglib representative r). */
    for (size_t j = 0; j < s->n_sites; j++)
        ws->scratch[j] = INT_MAX;
    for (size_t j = 0; j < s->n_sites; j++) {
        int r = d->equivalent_atoms[j], i = (int)ws->order[j];
        if (i < ws->scratch[r]) ws->scratch[r] = i;
    }
    for (size_t j = 0; j < s->n_sites; j++) {
        size_t i = ws->order[j];
        int w = d->wyckoffs[j];
        out->wyckoff[i] = (w >= 0 && w < (int)sizeof letters - 1) ? letters[w] : '?';
        out->equivalent[i] = ws->scratch[d->equivalent_atoms[j]];
        out->site_type[i] = ws->types[j];
    }
    out->wyckoff[s->n_sites] = '\0';
    memcpy(out->transformation, d->transformation_matrix, sizeof out->transformation);
    memcpy(out->origin_shift, d->origin_shift, sizeof out->origin_shift);
    memcpy(out->std_rotation, d->std_rotation_matrix, sizeof out->std_rotation);
    return MS_SUCCESS;
}

ms_status ms_symmetry_analyze(ms_symmetry_workspace *ws, const ms_structure *s,
                              const ms_symmetry_options *opt, ms_symmetry *out)
{
    ms_symmetry_options defaults;
    if (!opt) {
        ms_symmetry_options_default(&defaults);
        opt = &defaults;
    }
    out->number = 0;
    out->n_sites = 0;
    out->n_operations = 0;
    ms_structure_reset(&out->conventional);
    ms_structure_reset(&out->primitive);
    MS_CALL(check_ladder(opt->symprec, opt->n_symprec));
    MS_CALL(check_input(s));
    MS_CALL(grow_workspace(ws, s->n_sites));
    MS_CALL(grow_result(out, s->n_sites, 0));

    /* spglib takes lattice vectors as columns. */
    double lattice_cols[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            lattice_cols[i][j] = s->lattice[j][i];
    order_sites(ws, s, opt);
    size_t n_types = assign_types(ws, s, opt->use_oxidation);

    char why[512];
    size_t used = 0;
    why[0] = '\0';
    for (size_t r = 0; r < opt->n_symprec; r++) {
        SpglibDataset *d = spgat_get_dataset(lattice_cols, ws->pos, ws->types, (int)s->n_sites,
                                             opt->symprec[r], opt->angle_tolerance);
        if (!d || d->spacegroup_number < 1) {
            /* The code is process-global in spglib 2.0.2: read it at once (see symmetry.h). */
            SpglibError e = spg_get_error_code();
            if (d) spg_free_dataset(d);
            int n = snprintf(why + used, sizeof why - used, "%s%g: %s", used ? "; " : "",
                             opt->symprec[r], spg_get_error_message(e));
            if (n > 0) used = (size_t)n + used < sizeof why ? used + (size_t)n : sizeof why - 1;
            continue;
        }
        ms_status st = fill_result(ws, s, d, out);
        if (st == MS_SUCCESS && opt->cells) st = build_cells(ws, s, d, out);
        spg_free_dataset(d);
        if (st != MS_SUCCESS) {
            out->number = 0;
            out->n_sites = 0;
            return st;
        }
        out->symprec = opt->symprec[r];
        out->ladder_index = r;
        out->n_types = n_types;
        out->disordered = !ms_structure_is_ordered(s);
        return MS_SUCCESS;
    }
    return ms_error_set(MS_ERR_SYMMETRY, "symmetry: spglib failed at every symprec (%s)", why);
}
