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
 *    ones (t - w_j is stored with the point). Each site's entries are sorted (distance, j, image)
 *    so the list is machine-independent: on 16-byte keys (distance, j, place), then gathered.
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
    free(nl->sort_keys);
    free(nl->sort_tmp);
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

/* Sort key of one entry of a site's list: the entry's distance and j, and its place among the
 * unsorted entries. Keys are 16 bytes against 24 for an entry, and the image (the last criterion,
 * rarely reached) is read through the place. */
typedef struct sort_key {
    double dist;
    uint32_t j;
    uint32_t at;
} sort_key;

/* (distance, j, image) order. Inlined into the sort below: glibc's qsort, calling a comparator
 * through a pointer and copying through a temporary, was 57% of a build on OBELiX cells. */
static inline int key_less(const sort_key *p, const sort_key *q, const ms_neighbor *e)
{
    if (p->dist != q->dist) return p->dist < q->dist;
    if (p->j != q->j) return p->j < q->j;
    const int32_t *a = e[p->at].image, *b = e[q->at].image;
    for (int k = 0; k < 3; k++)
        if (a[k] != b[k]) return a[k] < b[k];
    return 0;
}

static inline void swap_keys(sort_key *a, sort_key *b)
{
    sort_key t = *a;
    *a = *b;
    *b = t;
}

/* Quicksort with median-of-three pivots, recursing into the smaller part (so the stack depth is
 * O(log n)), and insertion sort below 16 entries. e holds the entries the keys point to. */
static void sort_keys(sort_key *v, size_t n, const ms_neighbor *e)
{
    while (n > 16) {
        sort_key *mid = v + n / 2, *last = v + n - 1;
        if (key_less(mid, v, e)) swap_keys(mid, v);
        if (key_less(last, mid, e)) {
            swap_keys(last, mid);
            if (key_less(mid, v, e)) swap_keys(mid, v);
        }
        sort_key pivot = *mid;
        size_t i = 0, j = n - 1;
        for (;;) {
            while (key_less(&v[i], &pivot, e)) i++;
            while (key_less(&pivot, &v[j], e)) j--;
            if (i >= j) break;
            swap_keys(&v[i], &v[j]);
            i++;
            j--;
        }
        size_t left = j + 1; /* v[0..j] <= pivot <= v[j+1..n) */
        if (left < n - left) {
            sort_keys(v, left, e);
            v += left;
            n -= left;
        } else {
            sort_keys(v + left, n - left, e);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        sort_key x = v[i];
        size_t k = i;
        while (k > 0 && key_less(&x, &v[k - 1], e)) {
            v[k] = v[k - 1];
            k--;
        }
        v[k] = x;
    }
}

/* Sorts the n entries of one site (at v) in (distance, j, image) order, through keys and a copy
 * of the entries (tmp, n each). */
static void sort_neighbors(ms_neighbor *v, size_t n, sort_key *keys, ms_neighbor *tmp)
{
    if (n < 2) return;
    for (size_t t = 0; t < n; t++) {
        keys[t].dist = v[t].dist;
        keys[t].j = v[t].j;
        keys[t].at = (uint32_t)t;
    }
    sort_keys(keys, n, v);
    memcpy(tmp, v, n * sizeof *v);
    for (size_t t = 0; t < n; t++) v[t] = tmp[keys[t].at];
}

/* The image points of every site near the unit cell (into nl's scratch arrays: Cartesian
 * position, image relative to the position as read, site) and their bounding box; returns their
 * number. */
static size_t image_points(ms_neighbor_list *nl, const ms_structure *s, const int reach[3],
                           const double margin[3], double lo[3], double hi[3])
{
    const size_t n = s->n_sites;
    const double(*L)[3] = (const double(*)[3])s->lattice;
    size_t m = 0;
    for (int k = 0; k < 3; k++) {
        lo[k] = INFINITY;
        hi[k] = -INFINITY;
    }
    for (size_t j = 0; j < n; j++) {
        double f[3], w[3];
        for (int k = 0; k < 3; k++) {
            w[k] = floor(s->frac[j][k]);
            f[k] = s->frac[j][k] - w[k];
        }
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
                    /* image of the point relative to the position as read (step 4) */
                    nl->scratch_img[m][0] = a - (int32_t)w[0];
                    nl->scratch_img[m][1] = b - (int32_t)w[1];
                    nl->scratch_img[m][2] = c - (int32_t)w[2];
                    nl->scratch_site[m] = (uint32_t)j;
                    m++;
                }
            }
        }
    }
    return m;
}

static inline size_t bin_of(const double *p, int k, const double lo[3], double edge)
{
    return (size_t)floor((p[k] - lo[k]) / edge);
}

/* Sorts the m image points into bins of edge >= cutoff (coarsened when they would outnumber the
 * points): cell_start / cell_items in nl; *edge_out and dims describe the bins. */
static ms_status bin_points(ms_neighbor_list *nl, size_t m, const double lo[3], const double hi[3],
                            double cutoff, double *edge_out, size_t dims[3])
{
    /* Bins of edge >= cutoff, coarsened when they would outnumber the points. */
    double edge = cutoff;
    size_t n_bins;
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
    for (size_t q = 0; q < m; q++) {
        const double *p = nl->scratch_pos[q];
        size_t bin = (bin_of(p, 0, lo, edge) * dims[1] + bin_of(p, 1, lo, edge)) * dims[2] + bin_of(p, 2, lo, edge);
        nl->cell_start[bin + 1]++;
    }
    for (size_t b = 0; b < n_bins; b++) nl->cell_start[b + 1] += nl->cell_start[b];
    /* Fill with a running cursor (cell_start[b] moves to the end of bin b, then is restored). */
    for (size_t q = 0; q < m; q++) {
        const double *p = nl->scratch_pos[q];
        size_t bin = (bin_of(p, 0, lo, edge) * dims[1] + bin_of(p, 1, lo, edge)) * dims[2] + bin_of(p, 2, lo, edge);
        nl->cell_items[nl->cell_start[bin]++] = q;
    }
    for (size_t b = n_bins; b > 0; b--) nl->cell_start[b] = nl->cell_start[b - 1];
    nl->cell_start[0] = 0;
    *edge_out = edge;
    return MS_SUCCESS;
}

/* The neighbours of site i within the cutoff, from the 27 bins around it, appended to nl->pairs
 * sorted by distance; sets nl->offset[i + 1]. */
static ms_status site_pairs(ms_neighbor_list *nl, const ms_structure *s, size_t i, const double lo[3],
                            double edge, const size_t dims[3], size_t max_pairs)
{
    const double(*L)[3] = (const double(*)[3])s->lattice;
    const double cutoff = nl->cutoff, r2 = cutoff * cutoff;
    double fi[3], pi[3];
    int wi[3];
    for (int k = 0; k < 3; k++) {
        wi[k] = (int)floor(s->frac[i][k]);
        fi[k] = s->frac[i][k] - wi[k];
    }
    for (int k = 0; k < 3; k++) pi[k] = fi[0] * L[0][k] + fi[1] * L[1][k] + fi[2] * L[2][k];
    size_t bi[3];
    for (int k = 0; k < 3; k++) bi[k] = bin_of(pi, k, lo, edge);
    size_t start = nl->n_pairs;
    /* Room for every point of the 27 bins, so the loop below appends without checks. */
    size_t lo_b[3], hi_b[3], cand = 0;
    for (int k = 0; k < 3; k++) {
        lo_b[k] = bi[k] > 0 ? bi[k] - 1 : 0;
        hi_b[k] = bi[k] + 1 < dims[k] ? bi[k] + 1 : dims[k] - 1;
    }
    for (size_t a = lo_b[0]; a <= hi_b[0]; a++)
        for (size_t b = lo_b[1]; b <= hi_b[1]; b++) {
            size_t row = (a * dims[1] + b) * dims[2];
            cand += nl->cell_start[row + hi_b[2] + 1] - nl->cell_start[row + lo_b[2]];
        }
    size_t room = start + cand < max_pairs ? start + cand : max_pairs;
    MS_CALL(reserve((void **)&nl->pairs, &nl->cap_pairs, room, sizeof *nl->pairs));
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
                    if (d2 > r2) continue;
                    int32_t im0 = img[0] + wi[0], im1 = img[1] + wi[1], im2 = img[2] + wi[2];
                    if (j == i && !im0 && !im1 && !im2) continue; /* the site itself */
                    MS_CHECK(nl->n_pairs < max_pairs, MS_ERR_LIMIT,
                             "neighbour list exceeds %zu pairs (cutoff %g Å)", max_pairs, cutoff);
                    ms_neighbor *e = &nl->pairs[nl->n_pairs++];
                    e->j = j;
                    e->image[0] = im0;
                    e->image[1] = im1;
                    e->image[2] = im2;
                    e->dist = sqrt(d2);
                }
            }
        }
    }
    size_t count = nl->n_pairs - start;
    if (count > nl->cap_sort) {
        size_t c1 = nl->cap_sort, c2 = nl->cap_sort;
        MS_CALL(reserve((void **)&nl->sort_keys, &c1, count, sizeof(sort_key)));
        MS_CALL(reserve((void **)&nl->sort_tmp, &c2, count, sizeof *nl->sort_tmp));
        nl->cap_sort = c1 < c2 ? c1 : c2;
    }
    sort_neighbors(nl->pairs + start, count, nl->sort_keys, nl->sort_tmp);
    nl->offset[i + 1] = nl->n_pairs;
    return MS_SUCCESS;
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
    double lo[3], hi[3], edge;
    size_t dims[3];
    size_t m = image_points(nl, s, reach, margin, lo, hi);
    MS_CALL(bin_points(nl, m, lo, hi, cutoff, &edge, dims));
    for (size_t i = 0; i < n; i++) MS_CALL(site_pairs(nl, s, i, lo, edge, dims, max_pairs));
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
