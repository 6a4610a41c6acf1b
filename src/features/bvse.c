/*
 * Bond-valence site energy landscape of a Li+ probe and its percolation barriers (see bvse.h for
 * the model; docs/descriptors.md for the reference values and where we differ from bvlain).
 *
 * Speed: framework atoms are expanded once into the periodic images that can reach the cell;
 * the grid is cut into blocks of BLOCK^3 points, each block gathers the images within cutoff +
 * block radius into a contiguous list (a cell list whose cells are the blocks), and each image
 * is added to the sub-blocks of SUB^3 points it can reach, in a branch-free loop over the
 * sub-block's points that the compiler vectorises (pair terms from tables, see sub_sum).
 * Percolation is one pass of a union-find over the points below E_min + ENCUT sorted by energy
 * (an LSD radix sort on the bits of the energies).
 */
#include "matscreen/bvse.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor_impl.h"
#include "matscreen/oxidation.h"

#define Z_LI 3
#define BLOCK 8             /* grid points per block edge */
#define SUB 4               /* grid points per sub-block edge: 8 sub-blocks per block */
#define SUB_POINTS (SUB * SUB * SUB)         /* 64: a multiple of 8, see sub_sum */
#define BLOCK_POINTS (BLOCK * BLOCK * BLOCK) /* 512 */

/* x86-64 with gcc or clang: block_sum also in an AVX2 version, picked when the CPU has it (an
 * ifunc resolved at load time). Same operations in the same order (no FMA: ISO C mode does not
 * contract a * b + c), so the same bits as the SSE2 version. Not under AddressSanitizer, whose
 * runtime is not up yet when ifunc resolvers run. */
#if defined(__has_feature) /* clang 14 does not define __SANITIZE_ADDRESS__ */
#if __has_feature(address_sanitizer)
#define MS_BVSE_ASAN 1
#endif
#endif
#if defined(__x86_64__) && defined(__GNUC__) && defined(__has_attribute) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(MS_BVSE_ASAN)
#if __has_attribute(target_clones)
#define MS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef MS_VECTOR_CLONES
#define MS_VECTOR_CLONES
#endif
#define R_MIN_CLAMP 0.01    /* Å: closer framework atoms are taken at this distance */
#define SCREEN_FACTOR 0.74  /* Coulomb screening length = 0.74 (r_Li + r_M) */
#define COULOMB_EV_A 14.4   /* e^2 / (4 pi eps0) in eV Å */
#define GUESS_MAX_COMBOS 2000000L /* oxidation-state combinations tried at most */
#define MAX_ANION_VALENCE 4
#define N_TIERS 2
#define TAB_PER_A 512       /* pair-term tables: points per Å (step 1/512 Å, linear interpolation) */
#define MAX_TABLES 64       /* distinct pair functions of one structure */
#define TERM_FLOOR 1e-7     /* eV: pair terms below this beyond some R are cut there */

struct ms_bvse_context {
    const ms_element_table *table;
    /* candidate states in two tiers: the charge-balance guesser's (oxidation.h: common, else
     * ICSD, else all; negative states only for the anion-forming elements H, N, P, As, Sb, O,
     * S, Se, Te, F, Cl, Br, I), then those plus every positive common or ICSD state (Bi5+,
     * Cr2+, V2+ are not "common" in pymatgen's table) */
    int n_tier[N_TIERS][MS_MAX_Z + 1];
    int tier[N_TIERS][MS_MAX_Z + 1][3 * MS_MAX_OXI];
    /* Li+ - anion parameters by anion Z and |valence| (NULL: none) */
    const ms_bvse_pair *li_pair[MS_MAX_Z + 1][MAX_ANION_VALENCE + 1];
    int anion_has_rows[MS_MAX_Z + 1]; /* 1 when bvse.dat has some Li+ row for this anion */
    double r_cov[MS_MAX_Z + 1];       /* Å, NaN if unknown */
    double period[MS_MAX_Z + 1];      /* principal quantum number, NaN if unknown */
    double max_anion_cutoff;          /* Å */
};

ms_bvse_options ms_bvse_options_default(void)
{
    ms_bvse_options o = {MS_BVSE_SPACING, {0, 0, 0}, MS_BVSE_GRID_BVLAIN};
    return o;
}

ms_status ms_bvse_context_create(const ms_element_table *table, ms_bvse_context **out)
{
    *out = NULL;
    MS_CHECK(table != NULL, MS_ERR_USAGE, "ms_bvse_context_create needs an element table");
    MS_CHECK(ms_element_bvse_count(table) > 0, MS_ERR_NOT_FOUND,
             "bvse: no bond-valence parameters loaded; share/matscreen/bvse.dat is missing from "
             "the share directory (reinstall, or set MATSCREEN_SHARE to a directory holding it)");
    ms_bvse_context *c = calloc(1, sizeof *c);
    MS_CHECK(c != NULL, MS_ERR_NOMEM, "allocating the bvse context");
    c->table = table;
    ms_oxidation_states states;
    ms_oxidation_states_init(&states, table);
    static const int anion_formers[] = {1, 7, 15, 33, 51, 8, 16, 34, 52, 9, 17, 35, 53};
    for (int z = 1; z <= MS_MAX_Z; z++) {
        const ms_element *e = ms_element_get(table, z);
        int former = 0;
        for (size_t k = 0; k < sizeof anion_formers / sizeof anion_formers[0]; k++)
            former |= anion_formers[k] == z;
        const int *lists[3] = {states.oxi[z], e->oxi_common, e->oxi_icsd};
        const int counts[3] = {states.n[z], e->n_oxi_common, e->n_oxi_icsd};
        for (int t = 0; t < N_TIERS; t++) {
            int *n = &c->n_tier[t][z];
            if (t > 0) /* tier 1 = tier 0 + the positive common and ICSD states */
                for (int k = 0; k < c->n_tier[0][z]; k++) c->tier[t][z][(*n)++] = c->tier[0][z][k];
            for (int l = t == 0 ? 0 : 1; l <= (t == 0 ? 0 : 2); l++)
                for (int k = 0; k < counts[l]; k++) {
                    int q = lists[l][k], dup = 0;
                    for (int m = 0; m < *n; m++) dup |= c->tier[t][z][m] == q;
                    if (!dup && (t == 0 ? (q >= 0 || former) : q > 0)) c->tier[t][z][(*n)++] = q;
                }
        }
    }
    int row = ms_element_property_index(table, "Row");
    for (int z = 1; z <= MS_MAX_Z; z++) {
        const ms_element *e = ms_element_get(table, z);
        c->r_cov[z] = e ? e->covalent_radius : NAN;
        c->period[z] = ms_element_property(table, row, z);
        for (int v = 1; v <= MAX_ANION_VALENCE; v++) {
            c->li_pair[z][v] = ms_element_bvse_pair(table, Z_LI, 1, z, -v);
            if (c->li_pair[z][v]) {
                c->anion_has_rows[z] = 1;
                if (c->li_pair[z][v]->r_cutoff > c->max_anion_cutoff)
                    c->max_anion_cutoff = c->li_pair[z][v]->r_cutoff;
            }
        }
    }
    if (isnan(c->r_cov[Z_LI]) || isnan(c->period[Z_LI])) {
        free(c);
        return ms_error_set(MS_ERR_NOT_FOUND, "bvse: the element table lacks the covalent radius "
                                              "or the Row (period) of Li");
    }
    *out = c;
    return MS_SUCCESS;
}

void ms_bvse_context_free(ms_bvse_context *ctx) { free(ctx); }

/* ---- geometry --------------------------------------------------------------------------------- */

/* Perpendicular width of the cell along each lattice direction: V / |b x c| etc. */
static void cell_widths(const double l[3][3], double h[3])
{
    for (int d = 0; d < 3; d++) {
        const double *u = l[(d + 1) % 3], *v = l[(d + 2) % 3];
        double cx = u[1] * v[2] - u[2] * v[1], cy = u[2] * v[0] - u[0] * v[2],
               cz = u[0] * v[1] - u[1] * v[0];
        double vol = fabs(l[d][0] * cx + l[d][1] * cy + l[d][2] * cz);
        h[d] = vol / sqrt(cx * cx + cy * cy + cz * cz);
    }
}

static int grid_dims(const ms_structure *s, double spacing, int rule, int n[3], long *points)
{
    *points = 1;
    for (int d = 0; d < 3; d++) {
        double len = sqrt(s->lattice[d][0] * s->lattice[d][0] + s->lattice[d][1] * s->lattice[d][1] +
                          s->lattice[d][2] * s->lattice[d][2]);
        /* bvlain: linspace(0, 1, floor(L / spacing)) whose last plane repeats the first */
        double k = rule == MS_BVSE_GRID_FINE ? ceil(len / spacing) : fmax(1, floor(len / spacing) - 1);
        if (!(k >= 1) || k > (double)MS_BVSE_MAX_POINTS) return 0;
        n[d] = (int)k;
        *points *= n[d];
        if (*points > MS_BVSE_MAX_POINTS) return 0;
    }
    return 1;
}

/* Image range K[d]: images f + m with |m| <= K[d] cover every point within cutoff of the cell. */
static long image_count(const ms_structure *s, double cutoff, int K[3])
{
    double h[3];
    cell_widths(s->lattice, h);
    long n = 1;
    for (int d = 0; d < 3; d++) {
        if (!(h[d] > 1e-6)) return -1;
        K[d] = (int)ceil(cutoff / h[d]) + 1;
        n *= 2 * K[d] + 1;
    }
    return n;
}

/* ---- workspace layout ------------------------------------------------------------------------- */

/* Per image, 7 doubles: x, y, z, weight, offset of its pair-term table, the table index its
 * cutoff falls on (ceil(cutoff x TAB_PER_A): terms at R whose index is below it count), cutoff. The pair
 * term is weight x table(R): cations weight w q_M (q = valence / sqrt(n)), table 14.4 q_Li
 * erfc(R / s) / R; anions weight w, table (D0/2) [(exp(alpha (Rmin - R)) - 1)^2 - 1]. */
#define IMG_FIELDS 7

typedef struct layout {
    long points, images, slots;
    int tables;   /* pair-term tables reserved */
    size_t tab_n; /* entries per table (value, slope pairs) */
    size_t total;
} layout;

static int plan(const ms_bvse_context *ctx, const ms_structure *s, const ms_bvse_options *opt,
                int n[3], layout *L)
{
    if (!opt || !(opt->spacing > 0) || !isfinite(opt->spacing)) return 0;
    if (!grid_dims(s, opt->spacing, opt->grid_rule, n, &L->points)) return 0;
    int K[3];
    double cutoff = fmax(MS_BVSE_COULOMB_CUTOFF, ctx->max_anion_cutoff);
    long per = image_count(s, cutoff, K);
    if (per < 0) return 0;
    size_t items = s->n_species;
    if (items > 0 && (size_t)per > (size_t)(MS_BVSE_MAX_POINTS * 8) / items) return 0;
    L->images = per * (long)items;
    int seen[MS_MAX_Z + 1] = {0};
    L->tables = 0;
    for (size_t k = 0; k < items; k++)
        if (!seen[s->species[k].z]++) L->tables += 2; /* as a cation and as one anion valence */
    if (L->tables > MAX_TABLES) L->tables = MAX_TABLES;
    L->tab_n = (size_t)(cutoff * TAB_PER_A) + 3; /* the last entry: the zero of sub_sum */
    int nmin = n[0] < n[1] ? (n[0] < n[2] ? n[0] : n[2]) : (n[1] < n[2] ? n[1] : n[2]);
    L->slots = L->points / nmin + 2;
    size_t np = (size_t)L->points;
    /* energies; order (uint32); region shared by the sort (keys x2, tmp order) and the union-find
     * (parent, size, slot, offset x3: six int32); slots (12 int32); species charges; image lists
     * (cations, anions, and the two lists gathered per block); tables; one block's points; one bit
     * per point (percolate) */
    L->total = np + (np + 1) / 2 + 3 * np + (size_t)L->slots * 6 + s->n_species +
               4 * (size_t)L->images * IMG_FIELDS + (size_t)L->tables * 2 * L->tab_n +
               5 * BLOCK_POINTS + (np + 63) / 64 + 16;
    return 1;
}

size_t ms_bvse_work_doubles(const ms_bvse_context *ctx, const ms_structure *s,
                            const ms_bvse_options *opt)
{
    int n[3];
    layout L;
    if (!ctx || !s) return 0;
    return plan(ctx, s, opt, n, &L) ? L.total : 0;
}

/* ---- oxidation states ------------------------------------------------------------------------- */

static void oxi_text_append(char *text, size_t cap, int z, double q)
{
    size_t used = strlen(text);
    if (q == rint(q))
        snprintf(text + used, cap - used, "%s%s%+d", used ? " " : "", ms_element_symbol(z), (int)q);
    else
        snprintf(text + used, cap - used, "%s%s%+.3g", used ? " " : "", ms_element_symbol(z), q);
}

/* Smallest and largest positive candidate state of z (0, 0 when none). */
static void positive_range(const ms_bvse_context *ctx, int t, int z, double *lo, double *hi)
{
    *lo = *hi = 0;
    for (int k = 0; k < ctx->n_tier[t][z]; k++) {
        int q = ctx->tier[t][z][k];
        if (q <= 0) continue;
        if (*lo == 0 || q < *lo) *lo = q;
        if (q > *hi) *hi = q;
    }
}

/* One state per element, Li fixed at +1, the most electronegative element negative, from the
 * candidates of tier t. Preferred: a neutral combination (within 1e-3 of the atom count) with the
 * least total |charge|, then the first in candidate order. Else (mixed valence as Mn3.5+ in
 * LiMn2O4, occupancies that do not balance) one cation element takes the fractional average
 * state that makes the cell neutral, if that lies between its smallest and largest positive
 * candidates. Else, when allow_charged, the combination of least |charge| (the Li content of
 * many disordered CIFs is off, and Li is not part of the framework). Returns 0 when nothing
 * fits, else 1 and fills q_of_z and *residual (the cell's remaining charge). */
static int guess_tier(const ms_bvse_context *ctx, int t, const ms_composition *c,
                      int allow_charged, double *q_of_z, double *residual)
{
    int z[MS_MAX_Z], idx[MS_MAX_Z], best[MS_MAX_Z], n = 0, most_en = -1, best_adj = -1;
    double total = 0, best_score = INFINITY, best_adj_q = 0, best_charge = 0;
    long combos = 1;
    for (int i = 0; i < c->n; i++) {
        int zi = c->z[i];
        if (fabs(c->amount[zi]) < MS_COMPOSITION_TOL) continue;
        if (zi != Z_LI && ctx->n_tier[t][zi] == 0) return 0;
        z[n] = zi;
        idx[n] = 0;
        combos *= zi == Z_LI ? 1 : ctx->n_tier[t][zi];
        if (combos > GUESS_MAX_COMBOS) return 0;
        total += c->amount[zi];
        double x = ms_element_get(ctx->table, zi)->x;
        if (!isnan(x) && (most_en < 0 || x > ms_element_get(ctx->table, z[most_en])->x))
            most_en = n;
        n++;
    }
    for (long k = 0; k < combos; k++) {
        double charge = 0, score = 0;
        int ok = 1;
        for (int i = 0; i < n; i++) {
            double q = z[i] == Z_LI ? 1 : ctx->tier[t][z[i]][idx[i]];
            if (i == most_en && q >= 0) ok = 0;
            charge += c->amount[z[i]] * q;
            score += c->amount[z[i]] * fabs(q);
        }
        int adj = -1;
        double adj_q = 0;
        if (ok && fabs(charge) > 1e-3 * total) {
            for (int i = 0; i < n && adj < 0; i++) {
                double q = z[i] == Z_LI ? 1 : ctx->tier[t][z[i]][idx[i]], lo, hi;
                if (z[i] == Z_LI || q <= 0) continue;
                positive_range(ctx, t, z[i], &lo, &hi);
                double avg = q - charge / c->amount[z[i]];
                if (avg >= lo && avg <= hi) adj = i, adj_q = avg;
            }
            /* ranks: neutral integer states, then one averaged element, then charged cells */
            score += adj >= 0 ? 1e6 : 1e9 * (1 + fabs(charge));
            ok = adj >= 0 || allow_charged;
        }
        if (ok && score < best_score) {
            best_score = score;
            memcpy(best, idx, sizeof(int) * (size_t)n);
            best_adj = adj;
            best_adj_q = adj_q;
            best_charge = adj >= 0 ? 0 : charge;
        }
        for (int i = 0; i < n; i++) { /* odometer */
            int len = z[i] == Z_LI ? 1 : ctx->n_tier[t][z[i]];
            if (++idx[i] < len) break;
            idx[i] = 0;
        }
    }
    if (best_score == INFINITY || (!allow_charged && best_score >= 1e9)) return 0;
    for (int i = 0; i < n; i++) q_of_z[z[i]] = z[i] == Z_LI ? 1 : ctx->tier[t][z[i]][best[i]];
    if (best_adj >= 0) q_of_z[z[best_adj]] = best_adj_q;
    *residual = fabs(best_charge) > 1e-3 * total ? best_charge : 0;
    return 1;
}

/* The tiers in turn (the guesser's states first); a charged cell only when no tier balances. */
static int guess_states(const ms_bvse_context *ctx, const ms_composition *c, double *q_of_z,
                        double *residual)
{
    for (int t = 0; t < N_TIERS; t++)
        if (guess_tier(ctx, t, c, 0, q_of_z, residual)) return 1;
    return guess_tier(ctx, 0, c, 1, q_of_z, residual);
}

/* Fills q[k] for every species k (the structure's states when all species carry one, else the
 * guess) and res->oxi_guessed / oxi_text. Returns 0 (res says why) when no assignment exists. */
static int assign_states(const ms_bvse_context *ctx, const ms_structure *s, double *q,
                         ms_bvse_result *res)
{
    int all = s->n_species > 0;
    for (size_t k = 0; k < s->n_species; k++) all &= s->species[k].has_oxi;
    res->oxi_text[0] = '\0';
    if (all) {
        res->oxi_guessed = 0;
        int shown[MS_MAX_Z + 1][2] = {{0}};
        for (size_t k = 0; k < s->n_species; k++) {
            q[k] = s->species[k].oxi;
            int z = s->species[k].z, sign = q[k] < 0;
            if (!shown[z][sign]) oxi_text_append(res->oxi_text, sizeof res->oxi_text, z, q[k]);
            shown[z][sign] = 1;
        }
        return 1;
    }
    ms_composition c;
    ms_structure_composition(s, &c);
    double q_of_z[MS_MAX_Z + 1], residual = 0;
    if (!guess_states(ctx, &c, q_of_z, &residual)) {
        res->oxi_guessed = -1;
        snprintf(res->detail, sizeof res->detail,
                 "no charge-neutral oxidation states found (the structure gives none)");
        return 0;
    }
    res->oxi_guessed = 1;
    for (int i = 0; i < c.n; i++)
        if (fabs(c.amount[c.z[i]]) >= MS_COMPOSITION_TOL)
            oxi_text_append(res->oxi_text, sizeof res->oxi_text, c.z[i], q_of_z[c.z[i]]);
    if (residual != 0) {
        size_t used = strlen(res->oxi_text);
        snprintf(res->oxi_text + used, sizeof res->oxi_text - used, " (cell charge %+.3g)",
                 residual);
    }
    for (size_t k = 0; k < s->n_species; k++) q[k] = q_of_z[s->species[k].z];
    return 1;
}

/* ---- framework images ------------------------------------------------------------------------- */

typedef struct image_list {
    double *f[IMG_FIELDS];
    long n;
} image_list;

/* The points of one block (Cartesian) and their cation and anion sums, BLOCK_POINTS each, one
 * sub-block (SUB_POINTS) after the other; each sub-block's centre, whether it holds a point of
 * the grid (blocks at the grid's end overhang it), and the radius of a sub-block. */
typedef struct block_points {
    double *x, *y, *z, *ec, *ea;
    double centre[8][3];
    int live[8];
    double rb;
} block_points;

static void list_bind(image_list *l, double *base, long cap)
{
    for (int k = 0; k < IMG_FIELDS; k++) l->f[k] = base + (size_t)k * (size_t)cap;
    l->n = 0;
}

static void list_push(image_list *l, const double x[3], const double p[3], double rc)
{
    long i = l->n++;
    l->f[0][i] = x[0], l->f[1][i] = x[1], l->f[2][i] = x[2];
    l->f[3][i] = p[0], l->f[4][i] = p[1], l->f[5][i] = p[2], l->f[6][i] = rc;
}

/* Appends the images of species k (at site i) that can reach the cell within rc. */
static void push_images(const ms_structure *s, size_t i, double rc, const double p[3],
                        image_list *l)
{
    double h[3], f[3];
    int K[3];
    cell_widths(s->lattice, h);
    for (int d = 0; d < 3; d++) {
        K[d] = (int)ceil(rc / h[d]) + 1;
        f[d] = s->frac[i][d] - floor(s->frac[i][d]);
    }
    for (int a = -K[0]; a <= K[0]; a++)
        for (int b = -K[1]; b <= K[1]; b++)
            for (int c = -K[2]; c <= K[2]; c++) {
                double g[3] = {f[0] + a, f[1] + b, f[2] + c}, out = 0;
                for (int d = 0; d < 3; d++) {
                    double o = g[d] < 0 ? -g[d] : (g[d] > 1 ? g[d] - 1 : 0);
                    if (o * h[d] > out) out = o * h[d];
                }
                if (out > rc) continue;
                double x[3];
                for (int d = 0; d < 3; d++)
                    x[d] = g[0] * s->lattice[0][d] + g[1] * s->lattice[1][d] +
                           g[2] * s->lattice[2][d];
                list_push(l, x, (const double[3]){p[0], p[1], ceil(rc * TAB_PER_A)}, rc);
            }
}

/* Pair-term tables of one structure: value and slope at R = i / TAB_PER_A, i < n - 1 (R below
 * R_MIN_CLAMP evaluated at R_MIN_CLAMP), then entry n - 1 = 0 (value and slope), which
 * block_sum reads for pairs beyond their cutoff. Exact functions cost an exp or an erfc per pair and
 * grid point; a table lookup costs a multiply-add (error below 1e-5 eV per term beyond 1 Å). */
typedef struct tables {
    double *base;
    size_t n;
    int count, cap;
    long key[MAX_TABLES];
} tables;

/* Offset of the table for key, filled by f(r, a, b) on first use; -1 when all are taken. */
static long table_for(tables *t, long key, double (*f)(double, double, double, double), double a,
                      double b, double c)
{
    for (int k = 0; k < t->count; k++)
        if (t->key[k] == key) return (long)(2 * t->n) * k;
    if (t->count == t->cap) return -1;
    double *v = t->base + 2 * t->n * (size_t)t->count;
    size_t n = t->n - 1; /* entries of the function; then a zero value and slope */
    for (size_t i = 0; i < n; i++) v[2 * i] = f(fmax((double)i / TAB_PER_A, R_MIN_CLAMP), a, b, c);
    for (size_t i = 0; i + 1 < n; i++) v[2 * i + 1] = v[2 * i + 2] - v[2 * i];
    v[2 * n - 1] = v[2 * n] = v[2 * n + 1] = 0;
    t->key[t->count] = key;
    return (long)(2 * t->n) * t->count++;
}

/* The cutoff of a term weight x table at offset off: the given cutoff rc, or less when the term
 * stays below TERM_FLOOR from some R on (the screened Coulomb term is below 1e-7 eV beyond about
 * 7 Å for small cations; each such term changes an energy by less than that). */
static double term_cutoff(const tables *t, long off, double weight, double rc)
{
    const double *v = t->base + off;
    size_t last = (size_t)(rc * TAB_PER_A);
    if (last + 2 >= t->n) last = t->n - 2;
    for (size_t i = last + 1; i-- > 0;)
        if (fabs(weight * v[2 * i]) >= TERM_FLOOR) return fmin(rc, (double)(i + 1) / TAB_PER_A);
    return 0;
}

static double coulomb_term(double r, double q_li, double inv_s, double unused)
{
    (void)unused;
    return COULOMB_EV_A * q_li * erfc(r * inv_s) / r;
}

static double morse_term(double r, double half_d0, double alpha, double r_min)
{
    double t = exp(alpha * (r_min - r)) - 1;
    return half_d0 * (t * t - 1);
}

/* Builds the cation and anion image lists of the framework. Returns 0 with res->reason set when
 * an anion has no parameters or an element lacks a radius or period. */
static int build_images(const ms_bvse_context *ctx, const ms_structure *s, const double *q,
                        tables *tab, image_list *cat, image_list *an, ms_bvse_result *res)
{
    double q_li = 1.0 / sqrt(ctx->period[Z_LI]);
    for (size_t i = 0; i < s->n_sites; i++)
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++) {
            const ms_species *sp = &s->species[k];
            if (sp->z == Z_LI || q[k] == 0) continue;
            const char *sym = ms_element_symbol(sp->z);
            if (q[k] > 0) {
                double r = ctx->r_cov[sp->z], n = ctx->period[sp->z];
                if (isnan(r) || isnan(n)) {
                    res->reason = MS_NAN_MISSING_ELEMENT_DATA;
                    snprintf(res->detail, sizeof res->detail,
                             "no covalent radius or period for %s", sym);
                    return 0;
                }
                long off = table_for(tab, sp->z, coulomb_term, q_li,
                                     1.0 / (SCREEN_FACTOR * (ctx->r_cov[Z_LI] + r)), 0);
                if (off < 0) goto too_many;
                double p[3] = {sp->occu * q[k] / sqrt(n), (double)off, 0};
                push_images(s, i, term_cutoff(tab, off, p[0], MS_BVSE_COULOMB_CUTOFF), p, cat);
                continue;
            }
            int v = (int)lround(-q[k]);
            const ms_bvse_pair *pp =
                (v >= 1 && v <= MAX_ANION_VALENCE && v == -q[k]) ? ctx->li_pair[sp->z][v] : NULL;
            if (!pp) {
                res->reason = ctx->anion_has_rows[sp->z] ? MS_NAN_UNSUPPORTED_ANION
                                                          : MS_NAN_NO_PARAMETERS;
                snprintf(res->detail, sizeof res->detail,
                         "no Li+ - %s%g parameters in bvse.dat", sym, q[k]);
                return 0;
            }
            long off = table_for(tab, 1000L * sp->z + v, morse_term, 0.5 * pp->d0, pp->alpha,
                                 pp->r_min);
            if (off < 0) goto too_many;
            double p[3] = {sp->occu, (double)off, 0};
            push_images(s, i, term_cutoff(tab, off, p[0], pp->r_cutoff), p, an);
        }
    return 1;
too_many:
    res->reason = MS_NAN_TOO_LARGE;
    snprintf(res->detail, sizeof res->detail, "more than %d distinct pair functions",
             MAX_TABLES);
    return 0;
}

/* ---- energies --------------------------------------------------------------------------------- */

static void grid_point(const ms_structure *s, const int n[3], const double o[3], int i, int j,
                       int k, double x[3])
{
    double f[3] = {(i + o[0]) / n[0], (j + o[1]) / n[1], (k + o[2]) / n[2]};
    for (int d = 0; d < 3; d++)
        x[d] = f[0] * s->lattice[0][d] + f[1] * s->lattice[1][d] + f[2] * s->lattice[2][d];
}

/* Copies the images of src within sqrt(rc2) + rb of centre into dst. */
static void gather(const image_list *src, const double c[3], double rb, image_list *dst)
{
    dst->n = 0;
    for (long m = 0; m < src->n; m++) {
        double dx = src->f[0][m] - c[0], dy = src->f[1][m] - c[1], dz = src->f[2][m] - c[2];
        double reach = src->f[6][m] + rb;
        if (dx * dx + dy * dy + dz * dz > reach * reach) continue;
        long i = dst->n++;
        for (int k = 0; k < IMG_FIELDS; k++) dst->f[k][i] = src->f[k][m];
    }
}

/* Adds one image's pair term to e[p] for the SUB_POINTS points (px, py, pz): weight w x
 * table t at R, read by linear interpolation at u = R TAB_PER_A; a pair beyond the cutoff (index
 * last) reads the table's zero entry (zero) instead of branching. A fixed trip count (a multiple
 * of 8) and no branch, so gcc -O2 vectorises it (it needs -fno-math-errno for sqrt, which the
 * Makefile gives this file; no value changes). */
static inline void sub_sum(const double *restrict px, const double *restrict py,
                           const double *restrict pz, const double img[3], double w,
                           const double *restrict t, int last, int zero, double *restrict e)
{
    for (int p = 0; p < SUB_POINTS; p++) {
        double dx = px[p] - img[0], dy = py[p] - img[1], dz = pz[p] - img[2];
        double u = sqrt(dx * dx + dy * dy + dz * dz) * TAB_PER_A; /* < 2^31: see gather */
        int i = (int)u;
        i = i < last ? i : zero;
        e[p] += w * (t[2 * i] + (u - (double)i) * t[2 * i + 1]);
    }
}

/* Adds the pair terms of list l to e for the points of block b: each image to each live
 * sub-block within its cutoff + the sub-block's radius (the others would add zeros). Each point
 * sums its images in list order, as a scalar loop would. */
MS_VECTOR_CLONES
static void block_sum(const block_points *b, const image_list *l, const double *restrict tab,
                      int zero, double *restrict e)
{
    for (long m = 0; m < l->n; m++) {
        const double img[3] = {l->f[0][m], l->f[1][m], l->f[2][m]}, w = l->f[3][m];
        const double *restrict t = tab + (size_t)l->f[4][m];
        const int last = (int)l->f[5][m];
        const double reach = l->f[6][m] + b->rb;
        for (int q = 0; q < 8; q++) {
            double dx = b->centre[q][0] - img[0], dy = b->centre[q][1] - img[1],
                   dz = b->centre[q][2] - img[2];
            if (!b->live[q] || dx * dx + dy * dy + dz * dz > reach * reach) continue;
            size_t o = (size_t)q * SUB_POINTS;
            sub_sum(b->x + o, b->y + o, b->z + o, img, w, t, last, zero, e + o);
        }
    }
}

/* Radius of a box of `steps` grid steps about its centre (box_centre): half the longest
 * diagonal of the parallelepiped of `steps` steps; the box's points lie within it. */
static double block_radius(const ms_structure *s, const int n[3], int steps)
{
    double rb = 0;
    for (int sa = -1; sa <= 1; sa += 2)
        for (int sb = -1; sb <= 1; sb += 2) {
            double v[3];
            for (int d = 0; d < 3; d++)
                v[d] = s->lattice[0][d] * steps / n[0] + sa * s->lattice[1][d] * steps / n[1] +
                       sb * s->lattice[2][d] * steps / n[2];
            double r = 0.5 * sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
            if (r > rb) rb = r;
        }
    return rb;
}

/* Cartesian centre of the parallelepiped of `steps` grid steps from point (i, j, k). */
static void box_centre(const ms_structure *s, const int n[3], const double o[3], int i, int j,
                       int k, int steps, double c[3])
{
    double f[3] = {(i + 0.5 * steps + o[0]) / n[0], (j + 0.5 * steps + o[1]) / n[1],
                   (k + 0.5 * steps + o[2]) / n[2]};
    for (int d = 0; d < 3; d++)
        c[d] = f[0] * s->lattice[0][d] + f[1] * s->lattice[1][d] + f[2] * s->lattice[2][d];
}

static void energies(const ms_structure *s, const int n[3], const double o[3],
                     const image_list *cat, const image_list *an, image_list *gc, image_list *ga,
                     const double *tab, int zero, block_points *b, double *E)
{
    double rb = block_radius(s, n, BLOCK);
    b->rb = block_radius(s, n, SUB);
    for (int bi = 0; bi < n[0]; bi += BLOCK)
        for (int bj = 0; bj < n[1]; bj += BLOCK)
            for (int bk = 0; bk < n[2]; bk += BLOCK) {
                double c[3];
                box_centre(s, n, o, bi, bj, bk, BLOCK, c);
                gather(cat, c, rb, gc);
                gather(an, c, rb, ga);
                int p = 0;
                for (int q = 0; q < 8; q++) {
                    int i0 = bi + SUB * (q >> 2), j0 = bj + SUB * ((q >> 1) & 1),
                        k0 = bk + SUB * (q & 1);
                    b->live[q] = i0 < n[0] && j0 < n[1] && k0 < n[2];
                    box_centre(s, n, o, i0, j0, k0, SUB, b->centre[q]);
                    for (int i = i0; i < i0 + SUB; i++) /* past the grid's end: discarded */
                        for (int j = j0; j < j0 + SUB; j++)
                            for (int k = k0; k < k0 + SUB; k++, p++) {
                                double x[3];
                                grid_point(s, n, o, i, j, k, x);
                                b->x[p] = x[0], b->y[p] = x[1], b->z[p] = x[2];
                                b->ec[p] = b->ea[p] = 0;
                            }
                }
                block_sum(b, gc, tab, zero, b->ec);
                block_sum(b, ga, tab, zero, b->ea);
                p = 0;
                for (int q = 0; q < 8; q++) {
                    int i0 = bi + SUB * (q >> 2), j0 = bj + SUB * ((q >> 1) & 1),
                        k0 = bk + SUB * (q & 1);
                    for (int i = i0; i < i0 + SUB; i++)
                        for (int j = j0; j < j0 + SUB; j++)
                            for (int k = k0; k < k0 + SUB; k++, p++)
                                if (i < n[0] && j < n[1] && k < n[2])
                                    E[((size_t)i * (size_t)n[1] + (size_t)j) * (size_t)n[2] +
                                      (size_t)k] = b->ec[p] + b->ea[p];
                }
            }
}

/* ---- sort ------------------------------------------------------------------------------------- */

/* order[0..m) = the m indices of the points with E <= top, by increasing E (stable LSD radix
 * sort, 11-bit digits, on keys that order like the doubles); returns m. Points above top can
 * take no part in a barrier below ENCUT, so they are neither sorted nor joined. keys holds 2 np
 * words, tmp np uint32. */
static size_t sort_points(const double *E, size_t np, double top, uint64_t *keys,
                          uint32_t *order, uint32_t *tmp)
{
    uint64_t *k0 = keys, *k1 = keys + np;
    size_t m = 0;
    for (size_t i = 0; i < np; i++) {
        if (!(E[i] <= top)) continue;
        uint64_t u;
        memcpy(&u, &E[i], sizeof u);
        k0[m] = (u >> 63) ? ~u : (u | (1ULL << 63));
        order[m++] = (uint32_t)i;
    }
    np = m;
    if (np == 0) return 0;
    uint32_t *o0 = order, *o1 = tmp;
    for (int shift = 0; shift < 64; shift += 11) {
        size_t count[2048] = {0};
        for (size_t i = 0; i < np; i++) count[(k0[i] >> shift) & 2047]++;
        if (count[(k0[0] >> shift) & 2047] == np) continue; /* one digit value: nothing moves */
        size_t sum = 0;
        for (int b = 0; b < 2048; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < np; i++) {
            size_t dst = count[(k0[i] >> shift) & 2047]++;
            k1[dst] = k0[i];
            o1[dst] = o0[i];
        }
        uint64_t *tk = k0;
        k0 = k1, k1 = tk;
        uint32_t *to = o0;
        o0 = o1, o1 = to;
    }
    if (o0 != order) memcpy(order, o0, np * sizeof *order);
    return np;
}

/* ---- percolation ------------------------------------------------------------------------------ */

typedef struct uf {
    int32_t *parent, *size, *slot, *off; /* off: 3 per point, lattice offset from the parent */
    int32_t *basis;                      /* 12 per slot: 3 vectors, rank at [9] */
    long n_slots, cap_slots;             /* a slot is opened only for a cluster's first winding;
                                            such a cluster spans the cell, so holds at least
                                            min(n_d) points: cap = points / min(n_d) + 2 */
} uf;

/* Root of x; pos = x's lattice offset from the root. Compresses the path. */
static int32_t uf_find(uf *u, int32_t x, int32_t pos[3])
{
    int32_t r = x;
    pos[0] = pos[1] = pos[2] = 0;
    while (u->parent[r] != r) {
        for (int d = 0; d < 3; d++) pos[d] += u->off[3 * r + d];
        r = u->parent[r];
    }
    int32_t y = x, c[3] = {pos[0], pos[1], pos[2]};
    while (u->parent[y] != y) {
        int32_t next = u->parent[y];
        for (int d = 0; d < 3; d++) {
            int32_t o = u->off[3 * y + d];
            u->off[3 * y + d] = c[d];
            c[d] -= o;
        }
        u->parent[y] = r;
        y = next;
    }
    return r;
}

/* Adds lattice vector v to the winding basis of root r; returns the new rank. */
static int add_winding(uf *u, int32_t r, const int64_t v[3])
{
    if (v[0] == 0 && v[1] == 0 && v[2] == 0) return u->slot[r] < 0 ? 0 : u->basis[12 * u->slot[r] + 9];
    if (u->slot[r] < 0) {
        if (u->n_slots == u->cap_slots) return 0; /* cannot happen (see uf); never overrun */
        u->slot[r] = (int32_t)u->n_slots++;
        u->basis[12 * u->slot[r] + 9] = 0;
    }
    int32_t *b = &u->basis[12 * u->slot[r]];
    int rank = b[9];
    int independent = 0;
    if (rank == 0) independent = 1;
    else if (rank == 1) {
        int64_t cx = b[1] * v[2] - b[2] * v[1], cy = b[2] * v[0] - b[0] * v[2],
                cz = b[0] * v[1] - b[1] * v[0];
        independent = cx || cy || cz;
    } else if (rank == 2) {
        int64_t cx = (int64_t)b[1] * b[5] - (int64_t)b[2] * b[4],
                cy = (int64_t)b[2] * b[3] - (int64_t)b[0] * b[5],
                cz = (int64_t)b[0] * b[4] - (int64_t)b[1] * b[3];
        independent = cx * v[0] + cy * v[1] + cz * v[2] != 0;
    }
    if (independent) {
        for (int d = 0; d < 3; d++) b[3 * rank + d] = (int32_t)v[d];
        b[9] = ++rank;
    }
    return rank;
}

/* Joins p (at cell 0) with its neighbour q seen at lattice shift sh; returns the rank of the
 * winding basis of the resulting cluster. */
static int uf_join(uf *u, int32_t p, int32_t q, const int sh[3])
{
    int32_t pp[3], pq[3];
    int32_t rp = uf_find(u, p, pp), rq = uf_find(u, q, pq);
    int64_t w[3];
    for (int d = 0; d < 3; d++) w[d] = (int64_t)pp[d] + sh[d] - pq[d];
    if (rp == rq) return add_winding(u, rp, w);
    if (u->size[rp] < u->size[rq]) { /* attach the smaller tree: rp under rq, offset -w */
        int32_t t = rp;
        rp = rq, rq = t;
        for (int d = 0; d < 3; d++) w[d] = -w[d];
    }
    u->parent[rq] = rp;
    u->size[rp] += u->size[rq];
    for (int d = 0; d < 3; d++) u->off[3 * rq + d] = (int32_t)w[d];
    if (u->slot[rp] < 0) { /* rp inherits rq's windings (no new slot) */
        u->slot[rp] = u->slot[rq];
        u->slot[rq] = -1;
    }
    int rank = add_winding(u, rp, (const int64_t[3]){0, 0, 0});
    if (u->slot[rq] >= 0) {
        const int32_t *b = &u->basis[12 * u->slot[rq]];
        for (int k = 0; k < b[9]; k++) {
            int64_t v[3] = {b[3 * k], b[3 * k + 1], b[3 * k + 2]};
            rank = add_winding(u, rp, v);
        }
    }
    return rank;
}

/* Energies E_kD (k = 1, 2, 3) of the percolation thresholds: see bvse.h. */
static void percolate(const double *E, const uint32_t *order, size_t n_order, const int n[3], uf *u,
                      uint64_t *added, double ek[3])
{
    size_t np = (size_t)n[0] * (size_t)n[1] * (size_t)n[2];
    /* which points are in: one bit each (a cache-friendly test for the 26 neighbours of every
     * point; the union-find fields of a point are set when it is added) */
    memset(added, 0, (np + 63) / 64 * sizeof *added);
    u->n_slots = 0;
    int reached = 0;
    ek[0] = ek[1] = ek[2] = NAN;
    for (size_t t = 0; t < n_order && reached < 3; t++) {
        int32_t p = (int32_t)order[t];
        int ip = p / (n[1] * n[2]), jp = (p / n[2]) % n[1], kp = p % n[2];
        u->parent[p] = p;
        u->size[p] = 1;
        u->slot[p] = -1;
        u->off[3 * p] = u->off[3 * p + 1] = u->off[3 * p + 2] = 0;
        added[p >> 6] |= 1ULL << (p & 63);
        for (int di = -1; di <= 1; di++)
            for (int dj = -1; dj <= 1; dj++)
                for (int dk = -1; dk <= 1; dk++) {
                    if (!di && !dj && !dk) continue;
                    int c[3] = {ip + di, jp + dj, kp + dk}, sh[3];
                    for (int d = 0; d < 3; d++) {
                        sh[d] = c[d] < 0 ? -1 : (c[d] >= n[d] ? 1 : 0);
                        c[d] -= sh[d] * n[d];
                    }
                    int32_t q = (c[0] * n[1] + c[1]) * n[2] + c[2];
                    if (!((added[q >> 6] >> (q & 63)) & 1)) continue;
                    int rank = uf_join(u, p, q, sh);
                    while (reached < rank) ek[reached++] = E[p];
                }
    }
}

/* ---- driver ----------------------------------------------------------------------------------- */

static double li_sites(const ms_structure *s, const ms_symmetry *sym)
{
    if (!sym || sym->n_sites != s->n_sites || !sym->equivalent) return NAN;
    double count = 0;
    for (size_t i = 0; i < s->n_sites; i++) {
        if (sym->equivalent[i] != (int)i) continue;
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++)
            if (s->species[k].z == Z_LI) {
                count++;
                break;
            }
    }
    return count;
}

static void result_nan(ms_bvse_result *res, ms_nan_reason r)
{
    res->reason = (unsigned char)r;
    res->barrier[0] = res->barrier[1] = res->barrier[2] = NAN;
    res->e_min = res->volume_fraction = NAN;
}

ms_status ms_bvse_compute(const ms_bvse_context *ctx, const ms_structure *s,
                          const ms_symmetry *sym, const ms_bvse_options *opt, double *work,
                          size_t n_work, ms_bvse_result *res)
{
    MS_CHECK(ctx && s && opt && res, MS_ERR_USAGE, "ms_bvse_compute: missing argument");
    MS_CHECK(opt->spacing > 0 && isfinite(opt->spacing), MS_ERR_USAGE,
             "bvse grid spacing %g Å: must be a positive number", opt->spacing);
    MS_CHECK(opt->grid_rule == MS_BVSE_GRID_BVLAIN || opt->grid_rule == MS_BVSE_GRID_FINE,
             MS_ERR_USAGE, "bvse grid rule %d: unknown", opt->grid_rule);
    for (int d = 0; d < 3; d++)
        MS_CHECK(opt->offset[d] >= 0 && opt->offset[d] < 1, MS_ERR_USAGE,
                 "bvse grid offset %g: must be in [0, 1) steps", opt->offset[d]);
    memset(res, 0, sizeof *res);
    result_nan(res, MS_NAN_NONE);
    res->n_li_sites = li_sites(s, sym);
    double n_li = 0;
    for (size_t k = 0; k < s->n_species; k++)
        if (s->species[k].z == Z_LI) n_li += s->species[k].occu;
    if (n_li <= 0) {
        result_nan(res, MS_NAN_UNDEFINED);
        snprintf(res->detail, sizeof res->detail, "no Li in the structure");
        return MS_SUCCESS;
    }
    int n[3];
    layout L;
    if (!plan(ctx, s, opt, n, &L)) {
        result_nan(res, MS_NAN_TOO_LARGE);
        snprintf(res->detail, sizeof res->detail,
                 "grid above %ld points at %g Å spacing (use a larger spacing)",
                 (long)MS_BVSE_MAX_POINTS, opt->spacing);
        return MS_SUCCESS;
    }
    MS_CHECK(work && n_work >= L.total, MS_ERR_USAGE,
             "bvse: workspace of %zu doubles, %zu needed", n_work, L.total);
    memcpy(res->grid, n, sizeof n);
    size_t np = (size_t)L.points;
    double *E = work;
    uint32_t *order = (uint32_t *)(E + np);
    double *shared = E + np + (np + 1) / 2;           /* 3 np doubles */
    int32_t *basis = (int32_t *)(shared + 3 * np);    /* 12 int32 per slot */
    double *q = shared + 3 * np + (size_t)L.slots * 6;
    double *img = q + s->n_species;
    if (!assign_states(ctx, s, q, res)) {
        result_nan(res, MS_NAN_UNDEFINED);
        return MS_SUCCESS;
    }
    image_list cat, an, gc, ga;
    size_t cap = (size_t)L.images * IMG_FIELDS;
    tables tab = {img + 4 * cap, L.tab_n, 0, L.tables, {0}};
    list_bind(&cat, img, L.images);
    list_bind(&an, img + cap, L.images);
    list_bind(&gc, img + 2 * cap, L.images);
    list_bind(&ga, img + 3 * cap, L.images);
    if (!build_images(ctx, s, q, &tab, &cat, &an, res)) {
        result_nan(res, (ms_nan_reason)res->reason);
        return MS_SUCCESS;
    }
    double *bp = tab.base + (size_t)L.tables * 2 * L.tab_n;
    block_points blk = {.x = bp,
                        .y = bp + BLOCK_POINTS,
                        .z = bp + 2 * BLOCK_POINTS,
                        .ec = bp + 3 * BLOCK_POINTS,
                        .ea = bp + 4 * BLOCK_POINTS};
    energies(s, n, opt->offset, &cat, &an, &gc, &ga, tab.base, (int)L.tab_n - 1, &blk, E);

    uint64_t *keys = (uint64_t *)shared;
    uint32_t *tmp = (uint32_t *)(shared + 2 * np);
    res->e_min = E[0];
    for (size_t i = 1; i < np; i++) /* energies are finite: no fmin (a libm call) */
        if (E[i] < res->e_min) res->e_min = E[i];
    size_t n_order = sort_points(E, np, res->e_min + MS_BVSE_ENCUT, keys, order, tmp);
    int32_t *ui = (int32_t *)shared;
    uf u = {ui, ui + np, ui + 2 * np, ui + 3 * np, basis, 0, L.slots};
    double ek[3]; /* NaN where E_min + ENCUT is reached first: the barrier is then ENCUT */
    percolate(E, order, n_order, n, &u, (uint64_t *)(bp + 5 * BLOCK_POINTS), ek);
    size_t below = 0;
    for (size_t i = 0; i < np; i++) below += E[i] <= res->e_min + MS_BVSE_WINDOW;
    res->volume_fraction = (double)below / (double)np;
    for (int k = 0; k < 3; k++) res->barrier[k] = fmin(ek[k] - res->e_min, MS_BVSE_ENCUT);
    res->reason = MS_NAN_NONE;
    return MS_SUCCESS;
}

/* ---- descriptor family ------------------------------------------------------------------------ */

enum { F_E1, F_E2, F_E3, F_VOLUME, F_SITES, F_GUESSED, N_BVSE };

static const char *const feature_names[N_BVSE] = {
    "bvse E_1D barrier", "bvse E_2D barrier", "bvse E_3D barrier",
    "bvse volume fraction below E_min + 0.5 eV", "bvse distinct Li sites",
    "bvse oxidation states guessed",
};

static ms_status bvse_init(const ms_element_table *table, void **state)
{
    ms_bvse_context *c = NULL;
    MS_CALL(ms_bvse_context_create(table, &c));
    *state = c;
    return MS_SUCCESS;
}

static void bvse_free(void *state) { ms_bvse_context_free(state); }

static size_t bvse_work(const void *state, const ms_descriptor_input *in)
{
    if (!in->structure) return 0;
    ms_bvse_options opt = ms_bvse_options_default();
    return ms_bvse_work_doubles(state, in->structure, &opt);
}

static ms_status bvse_compute(const void *state, const ms_descriptor_input *in,
                              ms_descriptor_workspace *ws, double *out, unsigned char *reason)
{
    if (!in->structure) {
        ms_feature_fill_nan(out, reason, N_BVSE, MS_NAN_NEEDS_STRUCTURE);
        return MS_SUCCESS;
    }
    ms_bvse_options opt = ms_bvse_options_default();
    ms_bvse_result r;
    MS_CALL(ms_bvse_compute(state, in->structure, in->symmetry, &opt, ws->d, ws->n_d, &r));
    for (int k = 0; k < 3; k++) {
        out[F_E1 + k] = r.barrier[k];
        reason[F_E1 + k] = r.reason;
    }
    out[F_VOLUME] = r.volume_fraction;
    reason[F_VOLUME] = r.reason;
    out[F_SITES] = r.n_li_sites;
    reason[F_SITES] = isnan(r.n_li_sites) ? MS_NAN_NEEDS_SYMMETRY : MS_NAN_NONE;
    out[F_GUESSED] = r.oxi_guessed < 0 ? NAN : r.oxi_guessed;
    reason[F_GUESSED] = r.oxi_guessed < 0 ? MS_NAN_UNDEFINED : MS_NAN_NONE;
    return MS_SUCCESS;
}

const ms_descriptor_type ms_descriptor_bvse = {
    .name = "bvse",
    .version = 1,
    .n_features = N_BVSE,
    .feature_names = feature_names,
    .summary = "bond-valence site energy of a Li+ probe: 1-, 2-, 3-D percolation barriers",
    .init = bvse_init,
    .work_doubles = bvse_work,
    .compute = bvse_compute,
    .free = bvse_free,
    .needs_symmetry = 1,
    .neighbor_cutoff = 0,
};
