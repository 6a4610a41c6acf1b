/* Cross-validation folds, out-of-fold predictions and their scores; see cv.h. */
#include "matscreen/file_read.h"
#include "matscreen/cv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/calibration.h"
#include "matscreen/csv.h"
#include "matscreen/domain.h"
#include "matscreen/metrics.h"
#include "matscreen/model.h"
#include "matscreen/rng.h"

/* ---- folds ----------------------------------------------------------------------------------- */

static int cmp_dbl_asc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void shuffle(size_t *a, size_t n, ms_rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)ms_rng_below(rng, i);
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

void ms_folds_kfold(size_t n, size_t k, uint64_t seed, int *fold)
{
    size_t *perm = malloc((n + 1) * sizeof *perm);
    ms_rng rng;
    ms_rng_seed(&rng, seed, 0);
    if (!perm) {
        for (size_t i = 0; i < n; i++) fold[i] = (int)(i % k);
        return;
    }
    for (size_t i = 0; i < n; i++) perm[i] = i;
    shuffle(perm, n, &rng);
    for (size_t i = 0; i < n; i++) fold[perm[i]] = (int)(i % k);
    free(perm);
}

void ms_folds_stratified(const double *y, size_t n, size_t k, uint64_t seed, int *fold)
{
    size_t *perm = malloc((n + 1) * sizeof *perm);
    ms_rng rng;
    ms_rng_seed(&rng, seed, 0);
    if (!perm) {
        ms_folds_kfold(n, k, seed, fold);
        return;
    }
    size_t off = 0;
    for (int c = 0; c < 2; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if ((y[i] > 0.5) == c) perm[m++] = i;
        shuffle(perm, m, &rng);
        for (size_t q = 0; q < m; q++) fold[perm[q]] = (int)((off + q) % k);
        off += m;
    }
    free(perm);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

ms_status ms_folds_read(const char *path, const char *task, char *const *ids, size_t n, int *fold,
                        size_t *k)
{
    *k = 0;
    FILE *f;
    MS_CALL(ms_open_regular(path, 0, &f, NULL));
    /* sorted (id, index) for lookup */
    char **sorted = malloc((n + 1) * sizeof *sorted);
    if (!sorted) {
        fclose(f);
        return ms_error_set(MS_ERR_NOMEM, "folds: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        sorted[i] = ids[i];
        fold[i] = -1;
    }
    qsort(sorted, n, sizeof *sorted, cmp_str);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    char *fields[8];
    int ct = 0, ci = 1, cf = 2;
    int maxf = -1;
    while (getline(&line, &cap, f) > 0) {
        int nf = ms_csv_split(line, fields, 8);
        if (lineno++ == 0) {
            ct = ms_csv_column(fields, nf, "task");
            ci = ms_csv_column(fields, nf, "mbid");
            cf = ms_csv_column(fields, nf, "test_fold");
            if (ct < 0 || ci < 0 || cf < 0) break;
            continue;
        }
        if (nf <= ct || nf <= ci || nf <= cf || strcmp(fields[ct], task) != 0) continue;
        char *key = fields[ci];
        char **hit = bsearch(&key, sorted, n, sizeof *sorted, cmp_str);
        if (!hit) continue;
        int fv = atoi(fields[cf]);
        if (fv < 0 || fv > 1000) continue;
        /* map back: ids are unique; find index by pointer identity */
        for (size_t i = 0; i < n; i++)
            if (ids[i] == *hit) {
                fold[i] = fv;
                break;
            }
        if (fv > maxf) maxf = fv;
    }
    free(line);
    fclose(f);
    free(sorted);
    MS_CHECK(lineno > 0 && ct >= 0 && ci >= 0 && cf >= 0, MS_ERR_PARSE,
             "%s: need columns task,mbid,test_fold", path);
    for (size_t i = 0; i < n; i++)
        MS_CHECK(fold[i] >= 0, MS_ERR_NOT_FOUND, "%s: no fold for %s of task %s", path, ids[i], task);
    *k = (size_t)maxf + 1;
    return MS_SUCCESS;
}

/* ---- grouped folds --------------------------------------------------------------------------- */

ms_status ms_group_spec_parse(const char *text, ms_group_spec *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !strcmp(text, "none") || !strcmp(text, "random")) return MS_SUCCESS;
    if (!strcmp(text, "chemsys")) out->kind = MS_GROUP_CHEMSYS;
    else if (!strcmp(text, "formula")) out->kind = MS_GROUP_FORMULA;
    else if (!strncmp(text, "column:", 7) && text[7] && strlen(text + 7) < sizeof out->column) {
        out->kind = MS_GROUP_COLUMN;
        snprintf(out->column, sizeof out->column, "%s", text + 7);
    } else if (!strncmp(text, "kmeans:", 7)) {
        char *end;
        errno = 0;
        unsigned long k = strtoul(text + 7, &end, 10);
        MS_CHECK(text[7] >= '0' && text[7] <= '9' && !*end && !errno && k >= 2 && k <= 100000,
                 MS_ERR_USAGE, "--group %s: K of kmeans:K must be a whole number 2..100000", text);
        out->kind = MS_GROUP_KMEANS;
        out->clusters = (size_t)k;
    } else
        return ms_error_set(MS_ERR_USAGE,
                            "--group '%s' is not a grouping: use chemsys (chemical system, the "
                            "default), formula, column:NAME, kmeans:K or none",
                            text);
    return MS_SUCCESS;
}

const char *ms_group_spec_format(const ms_group_spec *g, char *buf, size_t n)
{
    switch (g->kind) {
    case MS_GROUP_CHEMSYS: snprintf(buf, n, "chemsys"); break;
    case MS_GROUP_FORMULA: snprintf(buf, n, "formula"); break;
    case MS_GROUP_COLUMN: snprintf(buf, n, "column:%s", g->column); break;
    case MS_GROUP_KMEANS: snprintf(buf, n, "kmeans:%zu", g->clusters); break;
    default: snprintf(buf, n, "none"); break;
    }
    return buf;
}

typedef struct keyed {
    const char *key;
    size_t row;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* Group ids from string keys: equal keys, equal ids, numbered in sorted key order. */
static ms_status groups_of_keys(char *const *key, size_t n, int *group, size_t *n_groups)
{
    keyed *k = malloc((n + 1) * sizeof *k);
    MS_CHECK(k, MS_ERR_NOMEM, "cv: out of memory");
    for (size_t i = 0; i < n; i++) k[i] = (keyed){key[i] ? key[i] : "", i};
    qsort(k, n, sizeof *k, cmp_keyed);
    size_t g = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(k[i].key, k[i - 1].key) != 0) g++;
        group[k[i].row] = (int)g;
    }
    *n_groups = n ? g + 1 : 0;
    free(k);
    return MS_SUCCESS;
}

/* z-scored copy of x (NaN -> column median; constant columns dropped) into z (n x *pz). */
static ms_status standardise(const ms_matrix *x, double *z, size_t *pz)
{
    size_t n = x->rows, p = x->cols, q = 0;
    double *col = malloc((n + 1) * sizeof *col);
    MS_CHECK(col, MS_ERR_NOMEM, "cv: out of memory");
    for (size_t j = 0; j < p; j++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (isfinite(x->data[i * p + j])) col[m++] = x->data[i * p + j];
        if (!m) continue;
        qsort(col, m, sizeof *col, cmp_dbl_asc);
        double med = m % 2 ? col[m / 2] : 0.5 * (col[m / 2 - 1] + col[m / 2]), s = 0, s2 = 0;
        for (size_t i = 0; i < n; i++) {
            double v = x->data[i * p + j];
            v = isfinite(v) ? v : med;
            z[i * p + q] = v;
            s += v;
        }
        s /= (double)n;
        for (size_t i = 0; i < n; i++) s2 += (z[i * p + q] - s) * (z[i * p + q] - s);
        double sd = sqrt(s2 / (double)n);
        if (!(sd > 1e-12 * (fabs(s) + 1))) continue;
        for (size_t i = 0; i < n; i++) z[i * p + q] = (z[i * p + q] - s) / sd;
        q++;
    }
    free(col);
    *pz = q;
    return MS_SUCCESS;
}

static double dist2(const double *a, const double *b, size_t p)
{
    double s = 0;
    for (size_t j = 0; j < p; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
    return s;
}

/* Lloyd's k-means with k-means++ seeds on the rows of z (n x p, leading dimension ld). */
static void kmeans(const double *z, size_t n, size_t p, size_t ld, size_t k, uint64_t seed,
                   double *cen, double *d2, size_t *cnt, int *group)
{
    ms_rng rng;
    ms_rng_seed(&rng, seed, 1);
    size_t first = (size_t)ms_rng_below(&rng, n);
    memcpy(cen, z + first * ld, p * sizeof *cen);
    for (size_t i = 0; i < n; i++) d2[i] = dist2(z + i * ld, cen, p);
    for (size_t c = 1; c < k; c++) {
        double tot = 0;
        for (size_t i = 0; i < n; i++) tot += d2[i];
        size_t pick = n - 1;
        double u = ms_rng_uniform(&rng) * tot, acc = 0;
        for (size_t i = 0; i < n && tot > 0; i++)
            if ((acc += d2[i]) >= u && d2[i] > 0) {
                pick = i;
                break;
            }
        memcpy(cen + c * p, z + pick * ld, p * sizeof *cen);
        for (size_t i = 0; i < n; i++) d2[i] = fmin(d2[i], dist2(z + i * ld, cen + c * p, p));
    }
    for (size_t i = 0; i < n; i++) group[i] = -1;
    for (int it = 0; it < 300; it++) {
        int moved = 0;
        for (size_t i = 0; i < n; i++) {
            size_t best = 0;
            double bd = INFINITY;
            for (size_t c = 0; c < k; c++) {
                double v = dist2(z + i * ld, cen + c * p, p);
                if (v < bd) {
                    bd = v;
                    best = c;
                }
            }
            if (group[i] != (int)best) moved = 1;
            group[i] = (int)best;
        }
        if (!moved) break;
        memset(cnt, 0, k * sizeof *cnt);
        memset(cen, 0, k * p * sizeof *cen);
        for (size_t i = 0; i < n; i++) {
            cnt[group[i]]++;
            for (size_t j = 0; j < p; j++) cen[(size_t)group[i] * p + j] += z[i * ld + j];
        }
        for (size_t c = 0; c < k; c++)
            for (size_t j = 0; cnt[c] && j < p; j++) cen[c * p + j] /= (double)cnt[c];
    }
}

static ms_status groups_kmeans(const ms_matrix *x, size_t k, uint64_t seed, int *group,
                               size_t *n_groups)
{
    size_t n = x->rows, p = x->cols, q = 0;
    MS_CHECK(k <= n, MS_ERR_INVALID, "--group kmeans:%zu: only %zu rows", k, n);
    double *z = malloc((n * p + 1) * sizeof *z), *cen = malloc((k * p + 1) * sizeof *cen);
    double *d2 = malloc((n + 1) * sizeof *d2);
    size_t *cnt = calloc(k + 1, sizeof *cnt);
    ms_status st = z && cen && d2 && cnt ? standardise(x, z, &q)
                                         : ms_error_set(MS_ERR_NOMEM, "cv: out of memory");
    if (st == MS_SUCCESS) {
        kmeans(z, n, q, p, k, seed, cen, d2, cnt, group);
        /* number the clusters that kept rows 0.. in cluster order */
        int *id = (int *)cnt; /* reuse: cnt holds the final counts from the last update */
        memset(cnt, 0, k * sizeof *cnt);
        for (size_t i = 0; i < n; i++) cnt[group[i]]++;
        size_t g = 0;
        for (size_t c = 0; c < k; c++) {
            int used = cnt[c] > 0;
            id[c] = used ? (int)g : -1;
            g += (size_t)used;
        }
        for (size_t i = 0; i < n; i++) group[i] = id[group[i]];
        *n_groups = g;
    }
    free(z);
    free(cen);
    free(d2);
    free(cnt);
    return st;
}

ms_status ms_cv_groups(const ms_dataset *d, const ms_group_spec *g, uint64_t seed, int *group,
                       size_t *n_groups)
{
    *n_groups = 0;
    switch (g->kind) {
    case MS_GROUP_CHEMSYS: return groups_of_keys(d->chemsys, d->n, group, n_groups);
    case MS_GROUP_FORMULA: return groups_of_keys(d->formula, d->n, group, n_groups);
    case MS_GROUP_COLUMN:
        MS_CHECK(d->group, MS_ERR_USAGE,
                 "--group column:%s: the data set was loaded without that column", g->column);
        return groups_of_keys(d->group, d->n, group, n_groups);
    case MS_GROUP_KMEANS: return groups_kmeans(&d->x, g->clusters, seed, group, n_groups);
    default:
        for (size_t i = 0; i < d->n; i++) group[i] = (int)i;
        *n_groups = d->n;
        return MS_SUCCESS;
    }
}

typedef struct group_size {
    size_t size;
    uint64_t tie;
    int id;
} group_size;

static int cmp_group_size(const void *a, const void *b)
{
    const group_size *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    if (x->tie != y->tie) return x->tie < y->tie ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

ms_status ms_folds_grouped(const int *group, size_t n, size_t k, uint64_t seed, int *fold)
{
    int gmax = -1;
    for (size_t i = 0; i < n; i++) {
        MS_CHECK(group[i] >= 0, MS_ERR_USAGE, "cv: row %zu has no group", i);
        if (group[i] > gmax) gmax = group[i];
    }
    size_t ng = (size_t)(gmax + 1);
    group_size *gs = calloc(ng + 1, sizeof *gs);
    size_t *load = calloc(k + 1, sizeof *load);
    int *to = malloc((ng + 1) * sizeof *to);
    if (!gs || !load || !to) {
        free(gs);
        free(load);
        free(to);
        return ms_error_set(MS_ERR_NOMEM, "cv: out of memory");
    }
    ms_rng rng;
    ms_rng_seed(&rng, seed, 0);
    for (size_t g = 0; g < ng; g++) {
        gs[g].id = (int)g;
        gs[g].tie = ms_rng_next(&rng);
    }
    for (size_t i = 0; i < n; i++) gs[group[i]].size++;
    qsort(gs, ng, sizeof *gs, cmp_group_size);
    size_t used = 0;
    for (size_t g = 0; g < ng && gs[g].size; g++) {
        size_t best = 0;
        for (size_t f = 1; f < k; f++)
            if (load[f] < load[best]) best = f;
        load[best] += gs[g].size;
        to[gs[g].id] = (int)best;
        used++;
    }
    ms_status st = MS_SUCCESS;
    if (used < k)
        st = ms_error_set(MS_ERR_INVALID,
                          "grouped CV: %zu groups are too few for %zu folds (use fewer folds or "
                          "another --group)",
                          used, k);
    for (size_t i = 0; st == MS_SUCCESS && i < n; i++) fold[i] = to[group[i]];
    free(gs);
    free(load);
    free(to);
    return st;
}

/* ---- cross-validation ------------------------------------------------------------------------ */

static ms_status cv_predict(const ms_model_spec *spec, const ms_matrix *x, const double *y,
                            const int *fold, size_t k, const ms_cv_recal *rc,
                            const uint64_t *dgroup, MPI_Comm comm, double *mean, double *sigma,
                            double *sigma_own, double *dist, size_t *n_recal);

/* The domain scores of a fold's test rows xte against the domain of its model m built on its
 * training rows xtr (groups gtr: chemical systems), clipped at that domain's threshold, as
 * train's model computes them (train.c record_domain, domain.h). NaN when the domain cannot be
 * built (fewer than 2 rows). */
static ms_status fold_domain(const ms_model *m, const ms_matrix *xtr, const uint64_t *gtr,
                             const ms_matrix *xte, double *d)
{
    ms_matrix ztr = {0}, zte = {0};
    ms_domain *dom = NULL;
    for (size_t q = 0; q < xte->rows; q++) d[q] = NAN;
    if (xtr->rows < 2) return MS_SUCCESS;
    ms_status st = ms_model_standardize(m, xtr, &ztr);
    if (st == MS_SUCCESS) st = ms_model_standardize(m, xte, &zte);
    if (st == MS_SUCCESS) st = ms_domain_build(&ztr, gtr, MS_DOMAIN_K, MS_DOMAIN_QUANTILE, &dom);
    for (size_t q = 0; st == MS_SUCCESS && q < xte->rows; q++)
        d[q] = fmin(ms_domain_score(dom, &MS_AT(&zte, q, 0)), dom->threshold);
    ms_domain_free(dom);
    ms_matrix_free(&ztr);
    ms_matrix_free(&zte);
    return st;
}

/* The recalibration of ms_cv_predict_recalibrated for one fold's model: grouped CV on that
 * fold's training rows (xtr, ytr; their groups gtr, their chemical systems dtr or NULL),
 * (scale, floor[, c]) fitted on its out-of-fold residuals as train fits them (train.h
 * ms_train_calibration_fit; the distance term when dtr is given). *fitted = 0 when the rows
 * or groups are too few (the fold keeps the learner's own sigma, as train would). */
static ms_status fold_recalibration(const ms_model_spec *spec, const ms_matrix *xtr,
                                    const double *ytr, const int *gtr, const uint64_t *dtr,
                                    const ms_cv_recal *rc, MPI_Comm comm, double *scale,
                                    double *floor_sd, double *coef, int *fitted)
{
    size_t n = xtr->rows;
    *fitted = 0;
    if (n < MS_CALIBRATION_MIN_ROWS) return MS_SUCCESS;
    int *fold = malloc((n + 1) * sizeof *fold);
    double *mu = malloc((n + 1) * sizeof *mu), *sg = malloc((n + 1) * sizeof *sg);
    double *dd = dtr ? malloc((n + 1) * sizeof *dd) : NULL;
    ms_status st = fold && mu && sg && (!dtr || dd) ? MS_SUCCESS
                                                     : ms_error_set(MS_ERR_NOMEM, "cv: out of memory");
    if (st == MS_SUCCESS) st = ms_folds_grouped(gtr, n, rc->k, spec->seed, fold);
    if (st == MS_ERR_INVALID) { /* fewer groups than folds: train keeps the learner's sigma too */
        ms_error_clear();
        free(fold);
        free(mu);
        free(sg);
        free(dd);
        return MS_SUCCESS;
    }
    if (st == MS_SUCCESS)
        st = cv_predict(spec, xtr, ytr, fold, rc->k, NULL, dtr, comm, mu, sg, NULL, dd, NULL);
    size_t m = 0;
    int use_d = dd != NULL;
    for (size_t i = 0; st == MS_SUCCESS && i < n; i++)
        if (isfinite(sg[i]) && sg[i] >= 0 && isfinite(mu[i])) {
            mu[m] = fabs(ytr[i] - mu[i]); /* in place: row m <= i */
            sg[m] = sg[i];
            if (dd) {
                use_d &= isfinite(dd[i]);
                dd[m] = dd[i];
            }
            m++;
        }
    *scale = 1;
    *floor_sd = 0;
    *coef = 0;
    if (st == MS_SUCCESS && m >= MS_CALIBRATION_MIN_ROWS)
        st = ms_calibration_fit_floor_dist(mu, sg, use_d ? dd : NULL, m, rc->criterion, scale,
                                           floor_sd, coef, fitted);
    free(fold);
    free(mu);
    free(sg);
    free(dd);
    return st;
}

/* ms_cv_predict, and with rc each fold's model recalibrated by fold_recalibration; sigma_own
 * (may be NULL) keeps the fold model's own sigma; dist (may be NULL; needs dgroup) the test
 * rows' clipped domain scores against their fold model's domain. */
static ms_status cv_predict(const ms_model_spec *spec, const ms_matrix *x, const double *y,
                            const int *fold, size_t k, const ms_cv_recal *rc,
                            const uint64_t *dgroup, MPI_Comm comm, double *mean, double *sigma,
                            double *sigma_own, double *dist, size_t *n_recal)
{
    size_t n = x->rows;
    size_t *tr = malloc((n + 1) * sizeof *tr), *te = malloc((n + 1) * sizeof *te);
    double *ytr = malloc((n + 1) * sizeof *ytr), *mu = malloc((n + 1) * sizeof *mu);
    double *sg = malloc((n + 1) * sizeof *sg);
    int *gtr = spec->group ? malloc((n + 1) * sizeof *gtr) : NULL;
    int *rtr = rc ? malloc((n + 1) * sizeof *rtr) : NULL;
    /* the distance term needs the fold model's domain: only for models that keep one */
    const uint64_t *dg = spec->domain ? dgroup : NULL;
    uint64_t *dtr = dg ? malloc((n + 1) * sizeof *dtr) : NULL;
    double *dte = dg ? malloc((n + 1) * sizeof *dte) : NULL;
    ms_status st = MS_SUCCESS;
    if (!tr || !te || !ytr || !mu || !sg || (spec->group && !gtr) || (rc && !rtr) ||
        (dg && (!dtr || !dte)))
        st = ms_error_set(MS_ERR_NOMEM, "cv: out of memory");
    if (n_recal) *n_recal = 0;
    for (size_t f = 0; st == MS_SUCCESS && f < k; f++) {
        size_t ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == (int)f) te[nte++] = i;
            else {
                ytr[ntr] = y[i];
                if (dtr) dtr[ntr] = dg[i];
                tr[ntr++] = i;
            }
        }
        if (!nte) continue;
        ms_matrix xtr = {0}, xte = {0};
        ms_model *m = NULL;
        st = ms_matrix_take_rows(&xtr, x, tr, ntr);
        if (st == MS_SUCCESS) st = ms_matrix_take_rows(&xte, x, te, nte);
        ms_model_spec fs = *spec; /* the selection's groups follow the training rows */
        fs.group = gtr;
        for (size_t q = 0; gtr && q < ntr; q++) gtr[q] = spec->group[tr[q]];
        if (st == MS_SUCCESS) st = ms_model_fit(&fs, &xtr, ytr, NULL, comm, &m);
        if (st == MS_SUCCESS) st = ms_model_predict(m, &xte, mu, sg);
        int want_d = dg && (dist || rc) && m && m->task == MS_MODEL_REGRESSION;
        for (size_t q = 0; dte && q < nte; q++) dte[q] = NAN;
        if (st == MS_SUCCESS && want_d) st = fold_domain(m, &xtr, dtr, &xte, dte);
        double scale = 1, floor_sd = 0, coef = 0;
        int fitted = 0;
        for (size_t q = 0; rc && q < ntr; q++) rtr[q] = rc->group[tr[q]];
        if (st == MS_SUCCESS && rc && sigma && m->task == MS_MODEL_REGRESSION)
            st = fold_recalibration(&fs, &xtr, ytr, rtr, dtr, rc, comm, &scale, &floor_sd, &coef,
                                    &fitted);
        if (n_recal) *n_recal += (size_t)fitted;
        if (st == MS_SUCCESS)
            for (size_t q = 0; q < nte; q++) {
                mean[te[q]] = mu[q];
                /* as ms_model_predict applies a stored calibration (model.c calibrate_sigma) */
                if (sigma)
                    sigma[te[q]] = fitted && isfinite(sg[q])
                                       ? ms_calibration_sigma(sg[q], scale, floor_sd, coef,
                                                              dte ? dte[q] : NAN)
                                       : sg[q];
                if (sigma_own) sigma_own[te[q]] = sg[q];
                if (dist) dist[te[q]] = dte ? dte[q] : NAN;
            }
        ms_model_free(m);
        ms_matrix_free(&xtr);
        ms_matrix_free(&xte);
    }
    free(gtr);
    free(rtr);
    free(dtr);
    free(dte);
    free(tr);
    free(te);
    free(ytr);
    free(mu);
    free(sg);
    return st;
}

ms_status ms_cv_predict(const ms_model_spec *spec, const ms_matrix *x, const double *y,
                        const int *fold, size_t k, MPI_Comm comm, double *mean, double *sigma)
{
    return cv_predict(spec, x, y, fold, k, NULL, NULL, comm, mean, sigma, NULL, NULL, NULL);
}

ms_status ms_cv_predict_recalibrated(const ms_model_spec *spec, const ms_matrix *x,
                                     const double *y, const int *fold, size_t k,
                                     const ms_cv_recal *rc, const uint64_t *dgroup,
                                     MPI_Comm comm, double *mean, double *sigma,
                                     double *sigma_own, double *dist, size_t *n_recal)
{
    return cv_predict(spec, x, y, fold, k, rc, dgroup, comm, mean, sigma, sigma_own, dist,
                      n_recal);
}


ms_status ms_cv_score(int classification, const double *y, const double *mean, const double *sigma,
                      const int *fold, size_t n, size_t k, ms_cv_scores *out)
{
    memset(out, 0, sizeof *out);
    MS_CHECK(k >= 1 && k <= MS_CV_MAX_FOLDS, MS_ERR_USAGE, "cv: 1..%d folds", MS_CV_MAX_FOLDS);
    out->k = k;
    /* balanced_accuracy_prior: labels p >= the positive fraction of the training folds (see
     * ms_metrics_balanced_accuracy_at): Matbench's "rocauc" like for like. */
    static const char *const cls[] = {"roc_auc", "balanced_accuracy", "f1", "accuracy", "mcc",
                                      "log_loss", "balanced_accuracy_prior"};
    static const char *const reg[] = {"mae", "rmse", "r2", "spearman", "baseline_mean_mae",
                                      "baseline_median_mae", "within1", "within2", "miscal_area",
                                      "nll"};
    size_t ns = classification ? 7 : (sigma ? 10 : 6);
    out->n_scores = ns;
    for (size_t s = 0; s < ns; s++) out->name[s] = classification ? cls[s] : reg[s];
    double *yt = malloc((n + 1) * sizeof *yt), *mt = malloc((n + 1) * sizeof *mt);
    double *st_ = malloc((n + 1) * sizeof *st_), *ytr = malloc((n + 1) * sizeof *ytr);
    ms_status st = MS_SUCCESS;
    if (!yt || !mt || !st_ || !ytr) st = ms_error_set(MS_ERR_NOMEM, "cv: out of memory");
    for (size_t f = 0; st == MS_SUCCESS && f < k; f++) {
        size_t m = 0, mtr = 0;
        double sum_tr = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == (int)f) {
                yt[m] = y[i];
                mt[m] = mean[i];
                st_[m] = sigma ? sigma[i] : NAN;
                m++;
            } else {
                ytr[mtr++] = y[i];
                sum_tr += y[i];
            }
        }
        double *v = &out->fold[0][f];
        (void)v;
        if (classification) {
            ms_class_metrics cm;
            st = ms_metrics_classification(yt, mt, m, &cm);
            double prior = mtr ? sum_tr / (double)mtr : 0.5;
            double vals[7] = {cm.roc_auc, cm.balanced_accuracy, cm.f1, cm.accuracy, cm.mcc,
                              cm.log_loss, ms_metrics_balanced_accuracy_at(yt, mt, m, prior)};
            for (size_t s = 0; s < 7; s++) out->fold[s][f] = vals[s];
        } else {
            ms_reg_metrics rm;
            st = ms_metrics_regression(yt, mt, m, &rm);
            qsort(ytr, mtr, sizeof *ytr, cmp_dbl_asc);
            double med = mtr ? (mtr % 2 ? ytr[mtr / 2] : 0.5 * (ytr[mtr / 2 - 1] + ytr[mtr / 2])) : NAN;
            double mu = mtr ? sum_tr / (double)mtr : NAN, bm = 0, bd = 0;
            for (size_t q = 0; q < m; q++) {
                bm += fabs(yt[q] - mu);
                bd += fabs(yt[q] - med);
            }
            double vals[10] = {rm.mae, rm.rmse, rm.r2, rm.spearman, m ? bm / (double)m : NAN,
                               m ? bd / (double)m : NAN, NAN, NAN, NAN, NAN};
            if (sigma && st == MS_SUCCESS) {
                ms_calibration c;
                st = ms_calibration_compute(yt, mt, st_, m, &c);
                vals[6] = c.within1;
                vals[7] = c.within2;
                vals[8] = c.miscal_area;
                vals[9] = c.nll;
            }
            for (size_t s = 0; s < ns; s++) out->fold[s][f] = vals[s];
        }
    }
    for (size_t s = 0; st == MS_SUCCESS && s < ns; s++) {
        double a = 0, b = 0;
        for (size_t f = 0; f < k; f++) a += out->fold[s][f];
        a /= (double)k;
        for (size_t f = 0; f < k; f++) b += (out->fold[s][f] - a) * (out->fold[s][f] - a);
        out->mean[s] = a;
        out->std[s] = sqrt(b / (double)k);
    }
    free(yt);
    free(mt);
    free(st_);
    free(ytr);
    return st;
}
