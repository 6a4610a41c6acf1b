/*
 * Periodic neighbour lists by cell list; see neighbors.h.
 *
 * 1. Fractional positions are wrapped into [0, 1); a shift w per site remembers the wrap.
 * 2. Image points are generated for translations t with |t_k| <= floor(r / d_k) + 1, where d_k is
 *    the spacing of the lattice planes normal to axis k; only points whose fractional coordinates
 *    lie within r / d_k of the unit cell can be within r of a wrapped site, so the rest are dropped.
 * 3. The kept points are binned in Cartesian cubes of edge >= r (counting sort), and each site
 *    looks only at the 27 bins around it.
 * 4. A neighbour point (site j, translation t) seen from site i has image t - w_j + w_i in the
 *    coordinates the structure holds, so images refer to the positions as read, not the wrapped
 *    ones. Each site's entries are sorted (distance, j, image) so the list is machine-independent.
 */
#include "matscreen/neighbors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_PAIRS 50000000u
#define MAX_BINS_PER_POINT 4 /* bins beyond 4 per point only cost memory: coarsen instead */

void ms_neighbor_list_init(ms_neighbor_list *nl) { memset(nl, 0, sizeof *nl); }

void ms_neighbor_list_destroy(ms_neighbor_list *nl)
{
    free(nl->offset);
    free(nl->pairs);
    free(nl->scratch_pos);
    free(nl->scratch_img);
    free(nl->scratch_site);
    free(nl->cell_start);
    free(nl->cell_items);
    ms_neighbor_list_init(nl);
}

/* Grows *p to hold need elements of size elem (doubling); *cap is updated only on success. */
static ms_status reserve(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return MS_SUCCESS;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    MS_CHECK(q, MS_ERR_NOMEM, "neighbour list: cannot allocate %zu entries", n);
    *p = q;
    *cap = n;
    return MS_SUCCESS;
}

/* The three scratch arrays share one capacity. */
static ms_status reserve_scratch(ms_neighbor_list *nl, size_t need)
{
    if (need <= nl->cap_scratch) return MS_SUCCESS;
    size_t c1 = nl->cap_scratch, c2 = nl->cap_scratch, c3 = nl->cap_scratch;
    MS_CALL(reserve((void **)&nl->scratch_pos, &c1, need, sizeof *nl->scratch_pos));
    MS_CALL(reserve((void **)&nl->scratch_img, &c2, need, sizeof *nl->scratch_img));
    MS_CALL(reserve((void **)&nl->scratch_site, &c3, need, sizeof *nl->scratch_site));
    nl->cap_scratch = c1 < c2 ? (c1 < c3 ? c1 : c3) : (c2 < c3 ? c2 : c3);
    return MS_SUCCESS;
}

static void cross(const double *u, const double *v, double *out)
{
    out[0] = u[1] * v[2] - u[2] * v[1];
    out[1] = u[2] * v[0] - u[0] * v[2];
    out[2] = u[0] * v[1] - u[1] * v[0];
}

static double norm3(const double *v) { return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }

/* (distance, j, image) order. Inlined into the sort below: glibc's qsort, calling a comparator
 * through a pointer and copying through a temporary, was 57% of a build on OBELiX cells. */
static inline int neighbor_less(const ms_neighbor *p, const ms_neighbor *q)
{
    if (p->dist != q->dist) return p->dist < q->dist;
    if (p->j != q->j) return p->j < q->j;
    for (int k = 0; k < 3; k++)
        if (p->image[k] != q->image[k]) return p->image[k] < q->image[k];
    return 0;
}

static void swap_neighbors(ms_neighbor *a, ms_neighbor *b)
{
    ms_neighbor t = *a;
    *a = *b;
    *b = t;
}

/* Quicksort with median-of-three pivots, recursing into the smaller part (so the stack depth is
 * O(log n)), and insertion sort below 16 entries, where most per-site lists already are. */
static void sort_neighbors(ms_neighbor *v, size_t n)
{
    while (n > 16) {
        ms_neighbor *mid = v + n / 2, *last = v + n - 1;
        if (neighbor_less(mid, v)) swap_neighbors(mid, v);
        if (neighbor_less(last, mid)) {
            swap_neighbors(last, mid);
            if (neighbor_less(mid, v)) swap_neighbors(mid, v);
        }
        ms_neighbor pivot = *mid;
        size_t i = 0, j = n - 1;
        for (;;) {
            while (neighbor_less(&v[i], &pivot)) i++;
            while (neighbor_less(&pivot, &v[j])) j--;
            if (i >= j) break;
            swap_neighbors(&v[i], &v[j]);
            i++;
            j--;
        }
        size_t left = j + 1; /* v[0..j] <= pivot <= v[j+1..n) */
        if (left < n - left) {
            sort_neighbors(v, left);
            v += left;
            n -= left;
        } else {
            sort_neighbors(v + left, n - left);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        ms_neighbor x = v[i];
        size_t k = i;
        while (k > 0 && neighbor_less(&x, &v[k - 1])) {
            v[k] = v[k - 1];
            k--;
        }
        v[k] = x;
    }
}

ms_status ms_neighbor_list_build(ms_neighbor_list *nl, const ms_structure *s, double cutoff,
                                 size_t max_pairs)
{
    MS_CHECK(isfinite(cutoff) && cutoff > 0, MS_ERR_INVALID,
             "neighbour cutoff must be positive and finite (got %g)", cutoff);
    if (max_pairs == 0) max_pairs = DEFAULT_MAX_PAIRS;
    const size_t n = s->n_sites;
    nl->cutoff = cutoff;
    nl->n_sites = n;
    nl->n_pairs = 0;
    MS_CALL(reserve((void **)&nl->offset, &nl->cap_offset, n + 1, sizeof *nl->offset));
    nl->offset[0] = 0;
    if (n == 0) return MS_SUCCESS;

    const double(*L)[3] = (const double(*)[3])s->lattice;
    double volume = ms_structure_volume(s);
    MS_CHECK(volume > 0 && isfinite(volume), MS_ERR_INVALID, "neighbour list: cell has no volume");
    int reach[3];
    double margin[3];
    for (int k = 0; k < 3; k++) {
        double c[3];
        cross(L[(k + 1) % 3], L[(k + 2) % 3], c);
        double spacing = volume / norm3(c);
        double shells = floor(cutoff / spacing) + 1;
        MS_CHECK(shells < 1000, MS_ERR_LIMIT,
                 "neighbour cutoff %g Å needs %g periodic images along axis %d", cutoff, shells, k);
        reach[k] = (int)shells;
        margin[k] = cutoff / spacing;
    }

    /* Image points near the unit cell. Upper bound first, so memory is reserved once. */
    size_t per_site = (size_t)(2 * reach[0] + 1) * (size_t)(2 * reach[1] + 1) * (size_t)(2 * reach[2] + 1);
    MS_CHECK(per_site <= max_pairs / n + 1, MS_ERR_LIMIT,
             "neighbour list: %zu sites x %zu images exceeds the limit of %zu", n, per_site, max_pairs);
    MS_CALL(reserve_scratch(nl, n * per_site));
    size_t m = 0;
    double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (size_t j = 0; j < n; j++) {
        double f[3];
        for (int k = 0; k < 3; k++) f[k] = s->frac[j][k] - floor(s->frac[j][k]);
        for (int a = -reach[0]; a <= reach[0]; a++) {
            if (f[0] + a < -margin[0] || f[0] + a > 1 + margin[0]) continue;
            for (int b = -reach[1]; b <= reach[1]; b++) {
                if (f[1] + b < -margin[1] || f[1] + b > 1 + margin[1]) continue;
                for (int c = -reach[2]; c <= reach[2]; c++) {
                    if (f[2] + c < -margin[2] || f[2] + c > 1 + margin[2]) continue;
                    double g[3] = {f[0] + a, f[1] + b, f[2] + c};
                    double *p = nl->scratch_pos[m];
                    for (int k = 0; k < 3; k++) {
                        p[k] = g[0] * L[0][k] + g[1] * L[1][k] + g[2] * L[2][k];
                        if (p[k] < lo[k]) lo[k] = p[k];
                        if (p[k] > hi[k]) hi[k] = p[k];
                    }
                    nl->scratch_img[m][0] = a;
                    nl->scratch_img[m][1] = b;
                    nl->scratch_img[m][2] = c;
                    nl->scratch_site[m] = (uint32_t)j;
                    m++;
                }
            }
        }
    }

    /* Bins of edge >= cutoff, coarsened when they would outnumber the points. */
    double edge = cutoff;
    size_t dims[3], n_bins;
    for (;;) {
        n_bins = 1;
        for (int k = 0; k < 3; k++) {
            dims[k] = (size_t)floor((hi[k] - lo[k]) / edge) + 1;
            n_bins *= dims[k];
        }
        if (n_bins <= MAX_BINS_PER_POINT * m + 27) break;
        edge *= 1.5;
    }
    MS_CALL(reserve((void **)&nl->cell_start, &nl->cap_cells, n_bins + 1, sizeof *nl->cell_start));
    MS_CALL(reserve((void **)&nl->cell_items, &nl->cap_items, m, sizeof *nl->cell_items));
    memset(nl->cell_start, 0, (n_bins + 1) * sizeof *nl->cell_start);
#define BIN_OF(p, k) ((size_t)floor(((p)[k] - lo[k]) / edge))
    for (size_t q = 0; q < m; q++) {
        const double *p = nl->scratch_pos[q];
        size_t bin = (BIN_OF(p, 0) * dims[1] + BIN_OF(p, 1)) * dims[2] + BIN_OF(p, 2);
        nl->cell_start[bin + 1]++;
    }
    for (size_t b = 0; b < n_bins; b++) nl->cell_start[b + 1] += nl->cell_start[b];
    /* Fill with a running cursor (cell_start[b] moves to the end of bin b, then is restored). */
    for (size_t q = 0; q < m; q++) {
        const double *p = nl->scratch_pos[q];
        size_t bin = (BIN_OF(p, 0) * dims[1] + BIN_OF(p, 1)) * dims[2] + BIN_OF(p, 2);
        nl->cell_items[nl->cell_start[bin]++] = q;
    }
    for (size_t b = n_bins; b > 0; b--) nl->cell_start[b] = nl->cell_start[b - 1];
    nl->cell_start[0] = 0;

    const double r2 = cutoff * cutoff;
    for (size_t i = 0; i < n; i++) {
        double fi[3], pi[3];
        int wi[3];
        for (int k = 0; k < 3; k++) {
            wi[k] = (int)floor(s->frac[i][k]);
            fi[k] = s->frac[i][k] - wi[k];
        }
        for (int k = 0; k < 3; k++) pi[k] = fi[0] * L[0][k] + fi[1] * L[1][k] + fi[2] * L[2][k];
        size_t bi[3];
        for (int k = 0; k < 3; k++) bi[k] = BIN_OF(pi, k);
        size_t start = nl->n_pairs;
        for (int da = -1; da <= 1; da++) {
            if ((da < 0 && bi[0] == 0) || bi[0] + (size_t)(da + 1) > dims[0]) continue;
            for (int db = -1; db <= 1; db++) {
                if ((db < 0 && bi[1] == 0) || bi[1] + (size_t)(db + 1) > dims[1]) continue;
                for (int dc = -1; dc <= 1; dc++) {
                    if ((dc < 0 && bi[2] == 0) || bi[2] + (size_t)(dc + 1) > dims[2]) continue;
                    size_t bin = ((bi[0] + da) * dims[1] + (bi[1] + db)) * dims[2] + (bi[2] + dc);
                    for (size_t t = nl->cell_start[bin]; t < nl->cell_start[bin + 1]; t++) {
                        size_t q = nl->cell_items[t];
                        const double *p = nl->scratch_pos[q];
                        double dx = p[0] - pi[0], dy = p[1] - pi[1], dz = p[2] - pi[2];
                        double d2 = dx * dx + dy * dy + dz * dz;
                        uint32_t j = nl->scratch_site[q];
                        const int32_t *img = nl->scratch_img[q];
                        if (d2 > r2 || (j == i && !img[0] && !img[1] && !img[2])) continue;
                        MS_CHECK(nl->n_pairs < max_pairs, MS_ERR_LIMIT,
                                 "neighbour list exceeds %zu pairs (cutoff %g Å)", max_pairs, cutoff);
                        MS_CALL(reserve((void **)&nl->pairs, &nl->cap_pairs, nl->n_pairs + 1,
                                        sizeof *nl->pairs));
                        ms_neighbor *e = &nl->pairs[nl->n_pairs++];
                        e->j = j;
                        for (int k = 0; k < 3; k++)
                            e->image[k] = img[k] - (int32_t)floor(s->frac[j][k]) + wi[k];
                        e->dist = sqrt(d2);
                    }
                }
            }
        }
        sort_neighbors(nl->pairs + start, nl->n_pairs - start);
        nl->offset[i + 1] = nl->n_pairs;
    }
#undef BIN_OF
    return MS_SUCCESS;
}

double ms_neighbor_list_min_distance(const ms_neighbor_list *nl)
{
    double d = INFINITY;
    for (size_t i = 0; i < nl->n_sites; i++)
        if (nl->offset[i + 1] > nl->offset[i] && nl->pairs[nl->offset[i]].dist < d)
            d = nl->pairs[nl->offset[i]].dist; /* each site's list is sorted by distance */
    return d;
}
