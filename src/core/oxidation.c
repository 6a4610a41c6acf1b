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

/* Bits [start, start + 64) of a bitset (bits past the end must read as zero there). */
static uint64_t bits_at(const uint64_t *b, size_t start)
{
    size_t q = start / 64, r = start % 64;
    uint64_t v = b[q] >> r;
    if (r) v |= b[q + 1] << (64 - r);
    return v;
}

/* Window width (bits) of the saturation test below. */
#define SAT_WINDOW 256

/* Saturation test for one more atom of an element whose state offsets (from its lowest state)
 * all are multiples of g and whose largest offset is a (> 0). prev is the reachable set R_h (top
 * bit prev_top), cur is R_{h+1} = R_h + D (top bit cur_top = prev_top + a). With W = SAT_WINDOW,
 * R_{h+1} is saturated when
 *   (1) its bits [0, W) equal those of R_h,
 *   (2) its W bits ending at its top equal the W bits ending at the top of R_h,
 *   (3) its middle [W, cur_top - W] is periodic with period g and at least W + a + g long.
 * Then every later atom leaves (1) and (2) unchanged and extends the periodic middle by a:
 * the bits below W of R_{h+2} depend only on the bits below W of R_{h+1} (offsets are >= 0), the
 * top window likewise only on the top window; the middle plus D is the same periodic pattern over
 * a longer range (0 and a are offsets, D is in gZ, and the middle is longer than a); and what the
 * windows add to the middle lands at the same places (relative to the bottom, or to the top, which
 * moves by a multiple of g) as in the previous step, where it was inside the periodic middle of
 * R_{h+1}. So R_{h+1+r} is known without stepping: the same low window, the middle pattern up
 * to the new top minus W, and the same top window. Returns 1 when saturated. */
static int saturated(const uint64_t *prev, long long prev_top, const uint64_t *cur,
                     long long cur_top, int g, int a)
{
    const long long W = SAT_WINDOW;
    if (cur_top - 2 * W < W + a + g || prev_top < 2 * W) return 0;
    for (int w = 0; w < (int)(W / 64); w++)
        if (prev[w] != cur[w]) return 0;
    for (long long k = 0; k < W; k += 64)
        if (bits_at(prev, (size_t)(prev_top - W + 1 + k)) != bits_at(cur, (size_t)(cur_top - W + 1 + k)))
            return 0;
    /* middle: bit p == bit p + g for p in [W, cur_top - W - g] */
    long long end = cur_top - W - g; /* last p */
    for (long long p = W; p <= end; p += 64) {
        uint64_t x = bits_at(cur, (size_t)p) ^ bits_at(cur, (size_t)(p + g));
        long long left = end - p + 1;
        if (left < 64) x &= ((uint64_t)1 << left) - 1;
        if (x) return 0;
    }
    return 1;
}

/* Writes R_{h+1+r} into cur (see saturated): the low window stays, the middle [W, new_top - W]
 * repeats the period-g pattern of the saturated set, and its top window moves to new_top. Words
 * past new_top's word must already be zero. */
static void extend_saturated(uint64_t *cur, long long cur_top, long long new_top, int g)
{
    const long long W = SAT_WINDOW;
    uint64_t topwin[SAT_WINDOW / 64];
    for (long long k = 0; k < W; k += 64)
        topwin[k / 64] = bits_at(cur, (size_t)(cur_top - W + 1 + k));
    /* pattern of g bits starting at W (W + g <= cur_top - W, all inside the middle) */
    uint64_t pat = bits_at(cur, (size_t)W) & (g >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << g) - 1));
    /* the 64-bit word at bit position p (p >= W) of the periodic middle: pattern rotated by
     * (p - W) mod g, repeated; built bit-exactly from the g-bit pattern. */
    size_t w0 = (size_t)W / 64, w1 = (size_t)(new_top / 64);
    for (size_t w = w0; w <= w1; w++) {
        long long p = (long long)w * 64;
        int phase = (int)((p - W) % g);
        uint64_t v = 0;
        /* rotate: bit i of v is pattern bit (phase + i) mod g */
        int ph = phase;
        for (int i = 0; i < 64;) {
            int take = g - ph; /* pattern bits ph..g-1 */
            if (take > 64 - i) take = 64 - i;
            uint64_t chunk = (pat >> ph) & (take >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << take) - 1));
            v |= chunk << i;
            i += take;
            ph = 0;
        }
        cur[w] = v;
    }
    /* clear above new_top in its word */
    int hb = (int)(new_top % 64);
    if (hb < 63) cur[w1] &= (((uint64_t)1 << (hb + 1)) - 1);
    /* top window: bits (new_top - W, new_top] */
    long long start = new_top - W + 1;
    for (long long k = 0; k < W; k++) {
        long long p = start + k;
        uint64_t bit = (topwin[k / 64] >> (k % 64)) & 1u;
        uint64_t m = (uint64_t)1 << (p % 64);
        if (bit) cur[p / 64] |= m;
        else cur[p / 64] &= ~m;
    }
}

int ms_oxidation_balance_counts(const ms_oxidation_states *states, const int *z,
                                const long long *count, int n, uint64_t *work)
{
    long long low = 0, span = 0;
    double steps = 0; /* atom-state pairs the per-atom programme would visit (the bound) */
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
    /* bits_at may read the word after a set's top word: it exists (top < MS_OXIDATION_SPAN) and
     * is zero. */
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
        int a = oxi[n_oxi - 1] - oxi[0], g = 0;
        for (int k = 1; k < n_oxi; k++) g = (int)gcd_ll(g, oxi[k] - oxi[0]);
        for (long long atom = 0; atom < count[i]; atom++) {
            long long prev_top = top;
            top += a;
            size_t width = (size_t)top / 64 + 1;
            memset(next, 0, width * sizeof *next);
            for (int k = 0; k < n_oxi; k++) or_shifted(next, cur, width, (size_t)(oxi[k] - oxi[0]));
            uint64_t *swap = cur;
            cur = next;
            next = swap;
            long long rest = count[i] - atom - 1;
            if (rest > 0 && saturated(next, prev_top, cur, top, g, a)) {
                /* The remaining atoms only extend the periodic middle (see saturated). Words of
                 * cur past its new top were zero (cleared up front, written only below). */
                long long new_top = top + rest * a;
                extend_saturated(cur, top, new_top, g);
                /* next keeps stale bits below the old width only: the next step clears it up to
                 * its own, larger, width before writing. */
                top = new_top;
                break;
            }
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
