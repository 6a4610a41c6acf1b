/*
 * Bounded charge-balance search (see include/matscreen/oxidation.h). Moved here from the
 * IonProperty descriptor so that validation and descriptors share one implementation.
 */
#include "matscreen/oxidation.h"

#include <math.h>
#include <string.h>

#define WORK_MAX 5e7 /* word operations, about 20 ms */

void ms_oxidation_states_init(ms_oxidation_states *states, const ms_element_table *table)
{
    memset(states, 0, sizeof *states);
    for (int z = 1; z <= MS_MAX_Z; z++) {
        const ms_element *el = ms_element_get(table, z);
        if (!el) continue;
        const int *src = el->oxi_common;
        int n = el->n_oxi_common;
        if (n == 0) { /* pymatgen: icsd_oxidation_states or oxidation_states */
            src = el->n_oxi_icsd ? el->oxi_icsd : el->oxi;
            n = el->n_oxi_icsd ? el->n_oxi_icsd : el->n_oxi;
        }
        if (n > MS_MAX_OXI) n = MS_MAX_OXI;
        states->n[z] = n;
        memcpy(states->oxi[z], src, (size_t)n * sizeof *src);
    }
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

int ms_oxidation_balance_counts(const ms_oxidation_states *states, const int *z,
                                const long long *count, int n, uint64_t *work)
{
    long long low = 0, span = 0;
    double steps = 0; /* atom-state pairs the programme visits */
    for (int i = 0; i < n; i++) {
        if (z[i] < 1 || z[i] > MS_MAX_Z) return 0;
        int n_oxi = states->n[z[i]];
        const int *oxi = states->oxi[z[i]];
        if (n_oxi == 0) return 0; /* no state for this element: pymatgen finds no combination */
        if (n_oxi > 1 && count[i] > MS_OXIDATION_SPAN) return -1;
        low += count[i] * oxi[0];
        span += count[i] * (oxi[n_oxi - 1] - oxi[0]);
        if (n_oxi > 1) steps += (double)count[i] * n_oxi;
    }
    if (span > MS_OXIDATION_SPAN - 1 || steps * (double)(span / 64 + 1) > WORK_MAX) return -1;
    if (-low < 0 || -low > span) return 0;
    size_t nwords = (size_t)span / 64 + 1;
    uint64_t *cur = work, *next = work + MS_OXIDATION_SPAN_WORDS;
    /* Both buffers are cleared over the whole span: each step clears next only up to its width,
     * and the step after reads the swapped buffer one width further, which must be zero, not
     * what an earlier call (the work buffer is reused) left there. */
    memset(cur, 0, nwords * sizeof *cur);
    memset(next, 0, nwords * sizeof *next);
    cur[0] = 1;
    long long top = 0; /* highest reachable offset so far */
    for (int i = 0; i < n; i++) {
        int n_oxi = states->n[z[i]];
        const int *oxi = states->oxi[z[i]];
        if (n_oxi == 1) continue;
        for (long long atom = 0; atom < count[i]; atom++) {
            top += oxi[n_oxi - 1] - oxi[0];
            size_t width = (size_t)top / 64 + 1;
            memset(next, 0, width * sizeof *next);
            for (int k = 0; k < n_oxi; k++) or_shifted(next, cur, width, (size_t)(oxi[k] - oxi[0]));
            uint64_t *swap = cur;
            cur = next;
            next = swap;
        }
    }
    return (int)((cur[-low / 64] >> (-low % 64)) & 1u);
}

int ms_oxidation_balance(const ms_oxidation_states *states, const int *z, const double *amount,
                         int n, uint64_t *work)
{
    if (n <= 0 || n > MS_MAX_Z) return -1;
    if (n == 1) return 1;
    long long count[MS_MAX_Z];
    int found = 0;
    for (int k = 1; k <= MS_OXIDATION_MAX_SCALE && !found; k++) {
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            double a = k * amount[i];
            if (!(a >= 0) || a > 1e12 || fabs(a - nearbyint(a)) > 1e-6) ok = 0;
        }
        if (!ok) continue;
        for (int i = 0; i < n; i++) count[i] = (long long)nearbyint(k * amount[i]);
        found = 1;
    }
    if (!found) return -1;
    int verdict = ms_oxidation_balance_counts(states, z, count, n, work);
    if (verdict < 0) {
        long long g = 0;
        for (int i = 0; i < n; i++) g = gcd_ll(g, count[i]);
        if (g > 1) {
            for (int i = 0; i < n; i++) count[i] /= g;
            verdict = ms_oxidation_balance_counts(states, z, count, n, work);
        }
    }
    return verdict;
}
