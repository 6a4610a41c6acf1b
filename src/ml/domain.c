/* Domain of applicability: k-nearest-neighbour distances in the standardised feature space,
 * normalised by leave-one-group-out distances; see domain.h. */
#include "matscreen/domain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Inserts squared distance d2 into the k smallest kept in best[0..*m) (ascending). */
static void keep_smallest(double *best, size_t *m, size_t k, double d2)
{
    if (*m == k && d2 >= best[k - 1]) return;
    size_t i = *m < k ? (*m)++ : k - 1;
    while (i > 0 && best[i - 1] > d2) {
        best[i] = best[i - 1];
        i--;
    }
    best[i] = d2;
}

/* Squared distance, abandoned (returning a value >= bound) once it exceeds bound: most stored
 * rows are far, so most sums stop early. */
static double dist2_bounded(const double *a, const double *b, size_t p, double bound)
{
    double s = 0;
    for (size_t j = 0; j < p; j++) {
        double t = a[j] - b[j];
        s += t * t;
        if ((j & 15) == 15 && s > bound) return s;
    }
    return s;
}

/* Mean distance from row to its k nearest rows of d, skipping row skip (SIZE_MAX: none) and rows
 * whose group equals skip_group (when group is not NULL). NaN when no row qualifies. */
static double knn_mean(const ms_domain *d, const double *row, size_t skip, const uint64_t *group,
                       uint64_t skip_group)
{
    double best[64];
    size_t k = d->k < 64 ? d->k : 64, m = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (i == skip || (group && group[i] == skip_group)) continue;
        double bound = m == k ? best[k - 1] : INFINITY;
        keep_smallest(best, &m, k, dist2_bounded(row, d->rows + i * d->p, d->p, bound));
    }
    if (m == 0) return NAN;
    double s = 0;
    for (size_t i = 0; i < m; i++) s += sqrt(best[i]);
    return s / (double)m;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Quantile q of sorted v[0..n) with linear interpolation (numpy's default). */
static double quantile_sorted(const double *v, size_t n, double q)
{
    double h = q * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n) return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

static size_t count_groups(const uint64_t *g, size_t n)
{
    uint64_t *s = malloc((n + 1) * sizeof *s);
    if (!s) return 0;
    memcpy(s, g, n * sizeof *s);
    for (size_t i = 1; i < n; i++) /* insertion sort: n <= MS_DOMAIN_MAX_ROWS, once per training */
        for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
            uint64_t t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    size_t c = n > 0;
    for (size_t i = 1; i < n; i++) c += s[i] != s[i - 1];
    free(s);
    return c;
}

/* Every stored row's leave-one-group-out distance into logo; sets scale and threshold. */
static void calibrate(ms_domain *d, const uint64_t *g, double *logo)
{
    int grouped = d->n_groups > 1;
    for (size_t i = 0; i < d->n; i++)
        logo[i] = knn_mean(d, d->rows + i * d->p, i, grouped ? g : NULL, g[i]);
    qsort(logo, d->n, sizeof *logo, cmp_double);
    d->scale = quantile_sorted(logo, d->n, 0.5);
    /* identical rows only: any positive distance is then "far" */
    if (!(d->scale > 0)) d->scale = logo[d->n - 1] > 0 ? logo[d->n - 1] : 1;
    d->threshold = quantile_sorted(logo, d->n, d->quantile) / d->scale;
}

ms_status ms_domain_build(const ms_matrix *z, const uint64_t *group, size_t k, double q,
                          ms_domain **out)
{
    *out = NULL;
    MS_CHECK(z->rows >= 2 && z->cols >= 1, MS_ERR_INVALID, "domain: need 2 rows and 1 column");
    MS_CHECK(k >= 1 && k <= 64 && q > 0 && q <= 1, MS_ERR_USAGE, "domain: k %zu, quantile %g", k,
             q);
    ms_domain *d = calloc(1, sizeof *d);
    MS_CHECK(d, MS_ERR_NOMEM, "domain: out of memory");
    d->n_train = z->rows;
    d->n = z->rows < MS_DOMAIN_MAX_ROWS ? z->rows : MS_DOMAIN_MAX_ROWS;
    d->p = z->cols;
    d->k = k;
    d->quantile = q;
    d->rows = malloc(d->n * d->p * sizeof *d->rows);
    uint64_t *g = malloc(d->n * sizeof *g);
    double *logo = malloc(d->n * sizeof *logo);
    ms_status st = d->rows && g && logo
                       ? MS_SUCCESS
                       : ms_error_set(MS_ERR_NOMEM, "domain: %zu rows of %zu features", d->n, d->p);
    for (size_t i = 0; st == MS_SUCCESS && i < d->n; i++) {
        /* even strides: deterministic, and spread over the file's order */
        size_t src = (size_t)((double)i * (double)z->rows / (double)d->n);
        memcpy(d->rows + i * d->p, &MS_AT(z, src, 0), d->p * sizeof *d->rows);
        g[i] = group ? group[src] : (uint64_t)i;
    }
    if (st == MS_SUCCESS) {
        d->n_groups = count_groups(g, d->n);
        calibrate(d, g, logo);
    }
    free(g);
    free(logo);
    if (st != MS_SUCCESS) {
        ms_domain_free(d);
        return st;
    }
    *out = d;
    return MS_SUCCESS;
}

double ms_domain_distance(const ms_domain *d, const double *row)
{
    return knn_mean(d, row, (size_t)-1, NULL, 0);
}

double ms_domain_score(const ms_domain *d, const double *row)
{
    return ms_domain_distance(d, row) / d->scale;
}

void ms_domain_save(const ms_domain *d, ms_model_writer *w)
{
    ms_model_put_u32(w, 1);
    ms_model_put_u64(w, d->k);
    ms_model_put_f64(w, d->scale);
    ms_model_put_f64(w, d->threshold);
    ms_model_put_f64(w, d->quantile);
    ms_model_put_u64(w, d->n_train);
    ms_model_put_u64(w, d->n_groups);
    ms_model_put_u64(w, d->n);
    ms_model_put_u64(w, d->p);
    for (size_t i = 0; i < d->n * d->p; i++) ms_model_put_f64(w, d->rows[i]);
}

ms_status ms_domain_load(ms_model_reader *r, size_t p, ms_domain **out)
{
    *out = NULL;
    uint32_t layout;
    uint64_t k, n_train, n_groups, n, cols;
    ms_domain tmp = {0};
    MS_CALL(ms_model_get_u32(r, &layout));
    MS_CHECK(layout == 1, MS_ERR_UNSUPPORTED,
             "domain field layout %u is newer than this matscreen (1)", layout);
    MS_CALL(ms_model_get_u64(r, &k));
    MS_CALL(ms_model_get_f64(r, &tmp.scale));
    MS_CALL(ms_model_get_f64(r, &tmp.threshold));
    MS_CALL(ms_model_get_f64(r, &tmp.quantile));
    MS_CALL(ms_model_get_u64(r, &n_train));
    MS_CALL(ms_model_get_u64(r, &n_groups));
    MS_CALL(ms_model_get_u64(r, &n));
    MS_CALL(ms_model_get_u64(r, &cols));
    MS_CHECK(k >= 1 && k <= 64 && isfinite(tmp.scale) && tmp.scale > 0 && !isnan(tmp.threshold) &&
                 cols == p && n >= 1 && n <= MS_DOMAIN_MAX_ROWS,
             MS_ERR_PARSE, "bad model: domain of %llu rows x %llu columns (model has %zu), k %llu",
             (unsigned long long)n, (unsigned long long)cols, p, (unsigned long long)k);
    MS_CHECK((r->len - r->pos) / 8 / (size_t)n >= p, MS_ERR_PARSE,
             "truncated model: domain rows");
    ms_domain *d = calloc(1, sizeof *d);
    MS_CHECK(d, MS_ERR_NOMEM, "domain: out of memory");
    *d = tmp;
    d->k = (size_t)k;
    d->n_train = (size_t)n_train;
    d->n_groups = (size_t)n_groups;
    d->n = (size_t)n;
    d->p = p;
    d->rows = malloc(d->n * p * sizeof *d->rows);
    ms_status st = d->rows ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "domain: out of memory");
    for (size_t i = 0; st == MS_SUCCESS && i < d->n * p; i++) {
        st = ms_model_get_f64(r, &d->rows[i]);
        if (st == MS_SUCCESS && !isfinite(d->rows[i]))
            st = ms_error_set(MS_ERR_PARSE, "bad model: domain row value is not finite");
    }
    if (st != MS_SUCCESS) {
        ms_domain_free(d);
        return st;
    }
    *out = d;
    return MS_SUCCESS;
}

void ms_domain_describe(const ms_domain *d, FILE *out)
{
    fprintf(out, "domain of applicability: %zu of %zu training rows stored (%zu chemical systems), "
                 "k = %zu; distance scale %.6g (median leave-one-group-out); in domain when the "
                 "score is <= %.4g (quantile %.2f)\n",
            d->n, d->n_train, d->n_groups, d->k, d->scale, d->threshold, d->quantile);
}

void ms_domain_free(ms_domain *d)
{
    if (!d) return;
    free(d->rows);
    free(d);
}
