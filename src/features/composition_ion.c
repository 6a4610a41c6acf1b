/*
 * IonProperty (matminer, PymatgenData source): "compound possible" (1 when some assignment of
 * oxidation states makes the composition charge neutral, else 0), "max ionic char" and
 * "avg ionic char", where the ionic character of an element pair is 1 - exp(-(X_A - X_B)^2 / 4)
 * with Pauling electronegativities X, the maximum is over pairs and the average is
 * sum_{i<j} x_i x_j I_ij over atomic fractions x. A single element gives (1, 0, 0).
 *
 * Charge balance follows pymatgen's Composition.oxi_state_guesses as matminer calls it: each
 * element's candidate states are its common oxidation states, else its ICSD states, else all its
 * states; every atom of the composition (the amounts as given, not reduced) picks one state, and
 * the compound is possible when some choice sums to 0. pymatgen enumerates the combinations; we
 * decide the same question by a bounded dynamic programme over reachable charge sums (a bitset,
 * one atom of a multivalent element at a time; single-valent elements only shift the sum).
 * Where we deliberately differ from matminer (see docs/descriptors.md):
 *   - Non-integer amounts (disordered structures): pymatgen raises "Charge balance analysis
 *     requires integer values", so matminer fails on the whole row. We scale the amounts by the
 *     smallest k <= MAX_SCALE that makes them integers (within 1e-6 atoms) and decide for that
 *     multiple; when there is no such k the feature is NaN with MS_NAN_TOO_LARGE.
 *   - The search is bounded (SPAN_MAX reachable sums, WORK_MAX steps); beyond the bound the
 *     amounts are divided by their greatest common divisor (a neutral reduced formula implies a
 *     neutral multiple) and, if still too large, the feature is NaN with MS_NAN_TOO_LARGE, where
 *     pymatgen would run for hours.
 *   - When the input structure carries oxidation states on every species, matminer's rule for
 *     compositions with oxidation states applies: possible when |sum occu * oxi| <= 1e-8.
 * Missing electronegativities (He, Ne, Ar, Z > 103) are imputed with the mean over all elements
 * that have one, as matminer's PymatgenData(impute_nan=True); those values carry MS_NAN_IMPUTED.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor_impl.h"
#include "matscreen/descriptor.h"

#define MAX_SCALE 1000
#define SPAN_MAX (1L << 20)                      /* reachable charge sums (bits) */
#define SPAN_WORDS ((size_t)SPAN_MAX / 64 + 1)   /* words per bitset */
#define WORK_MAX 5e7                             /* word operations, about 20 ms */
#define WORK_DOUBLES (2 * SPAN_WORDS)            /* two bitsets; a double holds 64 bits */

static const char *const feature_names[3] = {"compound possible", "max ionic char",
                                             "avg ionic char"};

typedef struct {
    double x[MS_MAX_Z + 1];               /* electronegativity, imputed where missing */
    unsigned char x_imputed[MS_MAX_Z + 1];
    int n_oxi[MS_MAX_Z + 1];              /* candidate oxidation states, ascending */
    int oxi[MS_MAX_Z + 1][MS_MAX_OXI];
} ion_state;

static ms_status ion_init(const ms_element_table *table, void **state)
{
    *state = NULL;
    ion_state *s = calloc(1, sizeof *s);
    MS_CHECK(s != NULL, MS_ERR_NOMEM, "allocating the ion_property state");
    double raw[MS_MAX_Z], tmp[MS_MAX_Z];
    for (int z = 1; z <= MS_MAX_Z; z++) {
        const ms_element *el = ms_element_get(table, z);
        /* PymatgenData: `if value and not pd.isnull(value)`, so 0 counts as missing too */
        raw[z - 1] = (el->x != 0) ? el->x : NAN;
        const int *src = el->oxi_common;
        int n = el->n_oxi_common;
        if (n == 0) { /* pymatgen: icsd_oxidation_states or oxidation_states */
            src = el->n_oxi_icsd ? el->oxi_icsd : el->oxi;
            n = el->n_oxi_icsd ? el->n_oxi_icsd : el->n_oxi;
        }
        s->n_oxi[z] = n;
        memcpy(s->oxi[z], src, (size_t)n * sizeof *src);
    }
    double mean = ms_np_nanmean(raw, MS_MAX_Z, tmp);
    for (int z = 1; z <= MS_MAX_Z; z++) {
        s->x_imputed[z] = (unsigned char)isnan(raw[z - 1]);
        s->x[z] = isnan(raw[z - 1]) ? mean : raw[z - 1];
    }
    *state = s;
    return MS_SUCCESS;
}

static size_t ion_work(const void *state, const ms_descriptor_input *in)
{
    (void)state;
    (void)in;
    return WORK_DOUBLES;
}

static long long gcd_ll(long long a, long long b)
{
    while (b) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Integer atom counts for e: the smallest multiple k <= MAX_SCALE of the amounts that is integral
 * within 1e-6. Returns 0 when there is none. */
static int integer_counts(const ms_feature_elements *e, long long *count)
{
    for (int k = 1; k <= MAX_SCALE; k++) {
        int ok = 1;
        for (int i = 0; i < e->n && ok; i++) {
            double a = k * e->amount[i];
            if (a > 1e12 || fabs(a - nearbyint(a)) > 1e-6) ok = 0;
        }
        if (!ok) continue;
        for (int i = 0; i < e->n; i++) count[i] = (long long)nearbyint(k * e->amount[i]);
        return 1;
    }
    return 0;
}

/* next |= cur shifted up by shift bits, over nwords 64-bit words. */
static void or_shifted(uint64_t *next, const uint64_t *cur, size_t nwords, size_t shift)
{
    size_t q = shift / 64, r = shift % 64;
    for (size_t w = nwords; w-- > q;) {
        uint64_t v = cur[w - q] << r;
        if (r && w > q) v |= cur[w - q - 1] >> (64 - r);
        next[w] |= v;
    }
}

/* Reachable-sum programme on bitsets: bit t of the set means "charge low + t is reachable".
 * Returns 1 (neutral possible), 0 (impossible) or -1 (over the bound). */
static int charge_balance(const ion_state *s, const ms_feature_elements *e, const long long *count,
                          uint64_t *buf)
{
    long long low = 0, span = 0;
    double steps = 0; /* atom-state pairs the programme visits */
    for (int i = 0; i < e->n; i++) {
        int n_oxi = s->n_oxi[e->z[i]];
        const int *oxi = s->oxi[e->z[i]];
        if (n_oxi == 0) return 0; /* no state for this element: pymatgen finds no combination */
        if (n_oxi > 1 && count[i] > SPAN_MAX) return -1;
        low += count[i] * oxi[0];
        span += count[i] * (oxi[n_oxi - 1] - oxi[0]);
        if (n_oxi > 1) steps += (double)count[i] * n_oxi;
    }
    if (span > SPAN_MAX - 1 || steps * (double)(span / 64 + 1) > WORK_MAX) return -1;
    if (-low < 0 || -low > span) return 0;
    size_t nwords = (size_t)span / 64 + 1;
    uint64_t *cur = buf, *next = buf + SPAN_WORDS;
    memset(cur, 0, nwords * sizeof *cur);
    cur[0] = 1;
    size_t width = 1; /* words that may hold reachable bits so far */
    long long top = 0; /* highest reachable offset so far */
    for (int i = 0; i < e->n; i++) {
        int n_oxi = s->n_oxi[e->z[i]];
        const int *oxi = s->oxi[e->z[i]];
        if (n_oxi == 1) continue;
        for (long long atom = 0; atom < count[i]; atom++) {
            top += oxi[n_oxi - 1] - oxi[0];
            width = (size_t)top / 64 + 1;
            memset(next, 0, width * sizeof *next);
            for (int k = 0; k < n_oxi; k++) or_shifted(next, cur, width, (size_t)(oxi[k] - oxi[0]));
            uint64_t *swap = cur;
            cur = next;
            next = swap;
        }
    }
    return (int)((cur[-low / 64] >> (-low % 64)) & 1u);
}

static ms_status ion_compute(const void *state, const ms_descriptor_input *in,
                             ms_descriptor_workspace *ws, double *out, unsigned char *reason)
{
    const ion_state *s = state;
    MS_CHECK(ws->n_d >= WORK_DOUBLES, MS_ERR_USAGE, "ion_property: workspace too small");
    ms_feature_elements e;
    ms_feature_elements_get(in->composition, &e);
    if (e.n == 0 || e.negative) {
        ms_feature_fill_nan(out, reason, 3, MS_NAN_UNDEFINED);
        return MS_SUCCESS;
    }
    memset(reason, MS_NAN_NONE, 3);
    if (e.n == 1) {
        out[0] = 1;
        out[1] = 0;
        out[2] = 0;
        return MS_SUCCESS;
    }
    /* compound possible */
    const ms_structure *st = in->structure;
    int all_oxi = st && st->n_species > 0;
    for (size_t i = 0; all_oxi && i < st->n_species; i++) all_oxi = st->species[i].has_oxi;
    if (all_oxi) {
        double q = 0;
        for (size_t i = 0; i < st->n_species; i++) q += st->species[i].occu * st->species[i].oxi;
        out[0] = fabs(q) <= 1e-8;
    } else {
        long long count[MS_MAX_Z];
        int verdict = -1;
        if (integer_counts(&e, count)) {
            /* the workspace is doubles; its storage holds the two bitsets */
            uint64_t *buf = (uint64_t *)(void *)ws->d;
            verdict = charge_balance(s, &e, count, buf);
            if (verdict < 0) {
                long long g = 0;
                for (int i = 0; i < e.n; i++) g = gcd_ll(g, count[i]);
                if (g > 1) {
                    for (int i = 0; i < e.n; i++) count[i] /= g;
                    verdict = charge_balance(s, &e, count, buf);
                }
            }
        }
        if (verdict < 0) {
            out[0] = NAN;
            reason[0] = MS_NAN_TOO_LARGE;
        } else {
            out[0] = verdict;
        }
    }
    /* ionic character */
    double total = 0;
    int imputed = 0;
    for (int i = 0; i < e.n; i++) {
        total += e.amount[i];
        imputed |= s->x_imputed[e.z[i]];
    }
    double max_ic = -INFINITY, avg_ic = 0;
    for (int i = 0; i < e.n; i++)
        for (int j = i + 1; j < e.n; j++) {
            double dx = s->x[e.z[i]] - s->x[e.z[j]];
            double ic = 1.0 - exp(-0.25 * (dx * dx));
            if (ic > max_ic) max_ic = ic;
            avg_ic += (e.amount[i] / total) * (e.amount[j] / total) * ic;
        }
    out[1] = max_ic;
    out[2] = avg_ic;
    if (imputed) reason[1] = reason[2] = MS_NAN_IMPUTED;
    return MS_SUCCESS;
}

static void ion_free(void *state) { free(state); }

const ms_descriptor_type ms_descriptor_ion_property = {
    .name = "ion_property",
    .version = 1,
    .n_features = 3,
    .feature_names = feature_names,
    .summary = "charge balance possible, max and average ionic character (matminer IonProperty)",
    .init = ion_init,
    .work_doubles = ion_work,
    .compute = ion_compute,
    .free = ion_free,
};
