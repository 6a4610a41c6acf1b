/* Feature selection: filters and the recursive-elimination wrapper; see select.h. */
#include "matscreen/select.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/cv.h"
#include "matscreen/filters.h"
#include "matscreen/importance.h"
#include "matscreen/metrics.h"

#define SELECT_LAYOUT 1u
#define MI_BINS 10

typedef enum { ST_VARIANCE, ST_CORR, ST_F, ST_MI, ST_RFE } stage_kind;

typedef struct stage {
    stage_kind kind;
    double a, b; /* threshold or K; rfe: folds, step */
} stage;

/* Parses one stage "name[:a[:b]]" of length len. */
static ms_status parse_stage(const char *s, size_t len, stage *out)
{
    char buf[96];
    MS_CHECK(len > 0 && len < sizeof buf, MS_ERR_USAGE, "--select: empty or too long stage in '%s'",
             s);
    memcpy(buf, s, len);
    buf[len] = 0;
    char *arg = strchr(buf, ':'), *arg2 = NULL, *end = NULL;
    if (arg) *arg++ = 0;
    if (arg && (arg2 = strchr(arg, ':'))) *arg2++ = 0;
    static const char *const names[] = {"variance", "corr", "f", "mi", "rfe"};
    int k = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(buf, names[i])) k = i;
    const char *forms = "variance:T, corr:T, f:K, mi:K, rfe[:FOLDS[:STEP]] separated by commas";
    MS_CHECK(k >= 0, MS_ERR_USAGE, "--select: unknown stage '%s' (valid: %s)", buf, forms);
    *out = (stage){(stage_kind)k, k == ST_RFE ? 5 : NAN, 0.2};
    if (arg) out->a = strtod(arg, &end);
    MS_CHECK(k == ST_RFE || (arg && end && !*end), MS_ERR_USAGE,
             "--select: stage '%s' needs a number (valid: %s)", buf, forms);
    MS_CHECK(!arg || (end && !*end), MS_ERR_USAGE, "--select: '%s' in stage %s is not a number",
             arg ? arg : "", buf);
    if (arg2) {
        out->b = strtod(arg2, &end);
        MS_CHECK(k == ST_RFE && !*end, MS_ERR_USAGE, "--select: '%s' after %s:%s is not valid",
                 arg2, buf, arg);
    }
    MS_CHECK(k == ST_VARIANCE || k == ST_CORR || (out->a >= 1 && out->a == floor(out->a)),
             MS_ERR_USAGE, "--select: %s needs a whole number >= 1, not %s", buf, arg);
    MS_CHECK(k != ST_RFE || (out->a >= 2 && out->a <= MS_CV_MAX_FOLDS && out->b > 0 && out->b < 1),
             MS_ERR_USAGE, "--select: rfe needs 2..%d folds and a step in (0, 1)", MS_CV_MAX_FOLDS);
    return MS_SUCCESS;
}

/* Splits spec into at most max stages. */
static ms_status parse_spec(const char *spec, stage *st, size_t max, size_t *n)
{
    *n = 0;
    MS_CHECK(spec && *spec, MS_ERR_USAGE, "--select: empty spec");
    for (const char *s = spec;;) {
        const char *c = strchr(s, ',');
        size_t len = c ? (size_t)(c - s) : strlen(s);
        MS_CHECK(*n < max, MS_ERR_USAGE, "--select: more than %zu stages", max);
        MS_CALL(parse_stage(s, len, &st[(*n)++]));
        if (!c) break;
        s = c + 1;
    }
    return MS_SUCCESS;
}

ms_status ms_select_check(const char *spec)
{
    stage st[16];
    size_t n;
    return parse_spec(spec, st, 16, &n);
}

/* ---- filters ---------------------------------------------------------------------------------- */

/* F-score of column j (select.h). */
static double f_score(const ms_matrix *x, size_t j, const double *y, int cls)
{
    size_t n = x->rows;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) mx += MS_AT(x, i, j), my += y[i];
    mx /= (double)n;
    my /= (double)n;
    if (!cls) {
        double sxy = 0, sxx = 0, syy = 0;
        for (size_t i = 0; i < n; i++) {
            double a = MS_AT(x, i, j) - mx, b = y[i] - my;
            sxy += a * b, sxx += a * a, syy += b * b;
        }
        if (sxx <= 0 || syy <= 0) return 0;
        double r2 = sxy * sxy / (sxx * syy);
        return r2 >= 1 ? INFINITY : r2 / (1 - r2) * (double)(n - 2);
    }
    double s[2] = {0}, c[2] = {0}, within = 0;
    for (size_t i = 0; i < n; i++) s[y[i] != 0] += MS_AT(x, i, j), c[y[i] != 0] += 1;
    if (c[0] == 0 || c[1] == 0) return 0;
    double m0 = s[0] / c[0], m1 = s[1] / c[1];
    for (size_t i = 0; i < n; i++) {
        double d = MS_AT(x, i, j) - (y[i] != 0 ? m1 : m0);
        within += d * d;
    }
    double between = c[0] * (m0 - mx) * (m0 - mx) + c[1] * (m1 - mx) * (m1 - mx);
    return within > 0 ? between / (within / (double)(n - 2)) : (between > 0 ? INFINITY : 0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Equal-frequency bin (0..MI_BINS-1) of every value of v (n values; tmp holds n). */
static void quantile_bins(const double *v, size_t n, double *tmp, int *bin)
{
    memcpy(tmp, v, n * sizeof *tmp);
    qsort(tmp, n, sizeof *tmp, cmp_double);
    double cut[MI_BINS - 1];
    for (int b = 1; b < MI_BINS; b++) cut[b - 1] = tmp[(size_t)b * n / MI_BINS];
    for (size_t i = 0; i < n; i++) {
        int b = 0;
        while (b < MI_BINS - 1 && v[i] >= cut[b]) b++;
        bin[i] = b;
    }
}

/* Plug-in mutual information (nats) of the binned column and the target bins yb. */
static double mutual_info(const int *xb, const int *yb, size_t n)
{
    double joint[MI_BINS][MI_BINS] = {{0}}, px[MI_BINS] = {0}, py[MI_BINS] = {0}, mi = 0;
    for (size_t i = 0; i < n; i++) joint[xb[i]][yb[i]] += 1, px[xb[i]] += 1, py[yb[i]] += 1;
    for (int a = 0; a < MI_BINS; a++)
        for (int b = 0; b < MI_BINS; b++)
            if (joint[a][b] > 0)
                mi += joint[a][b] / (double)n * log(joint[a][b] * (double)n / (px[a] * py[b]));
    return mi;
}

/* Keeps the k kept columns of largest score (ties: the earlier column). */
static void keep_top(const double *score, size_t p, size_t k, unsigned char *keep)
{
    size_t have = 0;
    for (size_t j = 0; j < p; j++) have += keep[j];
    while (have > k) {
        size_t worst = p;
        for (size_t j = p; j-- > 0;)
            if (keep[j] && (worst == p || score[j] < score[worst])) worst = j;
        keep[worst] = 0;
        have--;
    }
}

/* f:K or mi:K on the kept columns. */
static ms_status rank_filter(const stage *s, const ms_matrix *x, const double *y, int cls,
                             unsigned char *keep)
{
    size_t n = x->rows, p = x->cols;
    double *score = calloc(p + 1, sizeof *score), *col = malloc((n + 1) * sizeof *col);
    double *tmp = malloc((n + 1) * sizeof *tmp);
    int *xb = malloc((n + 1) * sizeof *xb), *yb = malloc((n + 1) * sizeof *yb);
    ms_status st = score && col && tmp && xb && yb ? MS_SUCCESS
                                                   : ms_error_set(MS_ERR_NOMEM, "select: out of memory");
    if (st == MS_SUCCESS && s->kind == ST_MI) {
        if (cls)
            for (size_t i = 0; i < n; i++) yb[i] = y[i] != 0;
        else
            quantile_bins(y, n, tmp, yb);
    }
    for (size_t j = 0; st == MS_SUCCESS && j < p; j++) {
        if (!keep[j]) continue;
        if (s->kind == ST_F) {
            score[j] = f_score(x, j, y, cls);
            continue;
        }
        for (size_t i = 0; i < n; i++) col[i] = MS_AT(x, i, j);
        quantile_bins(col, n, tmp, xb);
        score[j] = mutual_info(xb, yb, n);
    }
    if (st == MS_SUCCESS) keep_top(score, p, (size_t)s->a, keep);
    free(score);
    free(col);
    free(tmp);
    free(xb);
    free(yb);
    return st;
}

/* ---- the wrapper ------------------------------------------------------------------------------ */

/* Score of predictions mu of y (lower is better): MAE, or 1 - ROC-AUC. */
static double loss_of(const double *y, const double *mu, size_t n, int cls)
{
    if (cls) return 1 - ms_metrics_roc_auc(y, mu, n);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs(y[i] - mu[i]);
    return n ? s / (double)n : NAN;
}

/* One CV pass of inner (its columns are the current set): per-fold scores, and the permutation
 * importance on each held-out fold averaged into imp (x->cols). */
static ms_status cv_pass(const ms_model_spec *inner, const ms_matrix *x, const double *y,
                         const int *fold, size_t k, MPI_Comm comm, double *imp, double *scores)
{
    size_t n = x->rows, p = x->cols;
    size_t *tr = malloc((n + 1) * sizeof *tr), *te = malloc((n + 1) * sizeof *te);
    double *ytr = malloc((n + 1) * sizeof *ytr), *yte = malloc((n + 1) * sizeof *yte);
    double *mu = malloc((n + 1) * sizeof *mu), *fi = malloc((p + 1) * sizeof *fi);
    ms_status st = tr && te && ytr && yte && mu && fi
                       ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "select: out of memory");
    for (size_t j = 0; j < p; j++) imp[j] = 0;
    for (size_t f = 0; st == MS_SUCCESS && f < k; f++) {
        size_t ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == (int)f) yte[nte] = y[i], te[nte++] = i;
            else ytr[ntr] = y[i], tr[ntr++] = i;
        }
        ms_matrix xtr = {0}, xte = {0};
        ms_model *m = NULL;
        st = ms_matrix_take_rows(&xtr, x, tr, ntr);
        if (st == MS_SUCCESS) st = ms_matrix_take_rows(&xte, x, te, nte);
        if (st == MS_SUCCESS) st = ms_model_fit(inner, &xtr, ytr, NULL, comm, &m);
        if (st == MS_SUCCESS) st = ms_model_predict(m, &xte, mu, NULL);
        if (st == MS_SUCCESS) {
            scores[f] = loss_of(yte, mu, nte, inner->task == MS_MODEL_CLASSIFICATION);
            st = ms_permutation_importance(m, &xte, yte, 1, inner->seed + f, fi);
        }
        for (size_t j = 0; st == MS_SUCCESS && j < p; j++) imp[j] += fi[j] / (double)k;
        ms_model_free(m);
        ms_matrix_free(&xtr);
        ms_matrix_free(&xte);
    }
    free(tr);
    free(te);
    free(ytr);
    free(yte);
    free(mu);
    free(fi);
    return st;
}

/* Mean and standard error of k scores. */
static void mean_se(const double *s, size_t k, double *mean, double *se)
{
    double m = 0, v = 0;
    for (size_t f = 0; f < k; f++) m += s[f] / (double)k;
    for (size_t f = 0; f < k; f++) v += (s[f] - m) * (s[f] - m);
    *mean = m;
    *se = k > 1 ? sqrt(v / (double)(k - 1)) / sqrt((double)k) : 0;
}

/* Clears the drop least important kept columns (ties: the later column goes first). */
static void drop_least(const double *imp, size_t p, size_t drop, unsigned char *cur)
{
    for (size_t d = 0; d < drop; d++) {
        size_t worst = p;
        for (size_t j = p; j-- > 0;)
            if (cur[j] && (worst == p || imp[j] < imp[worst])) worst = j;
        if (worst < p) cur[worst] = 0;
    }
}

/* The chosen step: fewest columns whose mean is within one standard error of the best mean. */
static size_t one_se_choice(const ms_select_step *s, size_t n)
{
    size_t best = 0, pick = 0;
    for (size_t i = 1; i < n; i++)
        if (s[i].score < s[best].score) best = i;
    double bar = s[best].score + s[best].se;
    pick = best;
    for (size_t i = 0; i < n; i++)
        if (s[i].score <= bar && s[i].n_features < s[pick].n_features) pick = i;
    return pick;
}

static ms_status rfe(const ms_model_spec *spec, const stage *sg, const ms_matrix *x,
                     const double *y, MPI_Comm comm, unsigned char *keep, ms_selection *sel)
{
    size_t n = x->rows, p = x->cols, k = (size_t)sg->a;
    int cls = spec->task == MS_MODEL_CLASSIFICATION;
    int *fold = malloc((n + 1) * sizeof *fold);
    unsigned char *masks = malloc((p + 1) * (p + 1)), *cur = malloc(p + 1);
    double *imp = malloc((p + 1) * sizeof *imp), scores[MS_CV_MAX_FOLDS];
    sel->steps = calloc(p + 1, sizeof *sel->steps);
    ms_status st = fold && masks && cur && imp && sel->steps
                       ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "select: out of memory");
    if (st == MS_SUCCESS && spec->group) st = ms_folds_grouped(spec->group, n, k, spec->seed, fold);
    else if (st == MS_SUCCESS && cls) ms_folds_stratified(y, n, k, spec->seed, fold);
    else if (st == MS_SUCCESS) ms_folds_kfold(n, k, spec->seed, fold);
    if (st == MS_SUCCESS) memcpy(cur, keep, p);
    ms_model_spec inner = *spec;
    inner.select = NULL;
    inner.group = NULL;
    inner.columns = cur;
    while (st == MS_SUCCESS) {
        size_t have = 0;
        for (size_t j = 0; j < p; j++) have += cur[j];
        if (!have) break;
        st = cv_pass(&inner, x, y, fold, k, comm, imp, scores);
        if (st != MS_SUCCESS) break;
        ms_select_step *s = &sel->steps[sel->n_steps];
        s->n_features = have;
        mean_se(scores, k, &s->score, &s->se);
        memcpy(masks + sel->n_steps * p, cur, p);
        sel->n_steps++;
        if (have <= 1 || sel->n_steps > p) break;
        size_t drop = (size_t)floor(sg->b * (double)have);
        drop_least(imp, p, drop ? drop : 1, cur);
    }
    if (st == MS_SUCCESS && sel->n_steps) {
        sel->chosen = one_se_choice(sel->steps, sel->n_steps);
        memcpy(keep, masks + sel->chosen * p, p);
    }
    free(fold);
    free(masks);
    free(cur);
    free(imp);
    return st;
}

/* ---- the run, the record ---------------------------------------------------------------------- */

static void log_add(ms_selection *s, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t old = s->log ? strlen(s->log) : 0;
    char *g = realloc(s->log, old + strlen(line) + 1);
    if (!g) return;
    memcpy(g + old, line, strlen(line) + 1);
    s->log = g;
}

static size_t count(const unsigned char *keep, size_t p)
{
    size_t c = 0;
    for (size_t j = 0; j < p; j++) c += keep[j];
    return c;
}

ms_status ms_select_run(const ms_model_spec *spec, const ms_matrix *x, const double *y,
                        MPI_Comm comm, unsigned char *keep, ms_selection **out)
{
    *out = NULL;
    stage sg[16];
    size_t ns = 0, p = x->cols;
    MS_CALL(parse_spec(spec->select, sg, 16, &ns));
    ms_selection *s = calloc(1, sizeof *s);
    MS_CHECK(s, MS_ERR_NOMEM, "select: out of memory");
    s->spec = strdup(spec->select);
    s->classification = spec->task == MS_MODEL_CLASSIFICATION;
    ms_status st = s->spec ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "select: out of memory");
    const char *names[] = {"variance", "corr", "f", "mi", "rfe"};
    for (size_t i = 0; st == MS_SUCCESS && i < ns; i++) {
        size_t before = count(keep, p);
        switch (sg[i].kind) {
        case ST_VARIANCE: ms_filter_variance(x, sg[i].a, keep); break;
        case ST_CORR: st = ms_filter_correlation(x, sg[i].a, keep); break;
        case ST_F:
        case ST_MI: st = rank_filter(&sg[i], x, y, s->classification, keep); break;
        case ST_RFE:
            st = s->steps ? ms_error_set(MS_ERR_USAGE, "--select: one rfe stage at most")
                          : rfe(spec, &sg[i], x, y, comm, keep, s);
            break;
        }
        log_add(s, "%s: %zu -> %zu columns%s\n", names[sg[i].kind], before, count(keep, p),
                sg[i].kind == ST_RFE ? (spec->group ? " (grouped folds)" : " (random folds)") : "");
    }
    if (st == MS_SUCCESS && !count(keep, p))
        st = ms_error_set(MS_ERR_INVALID, "--select %s keeps no column", spec->select);
    if (st != MS_SUCCESS) {
        ms_selection_free(s);
        return st;
    }
    *out = s;
    return MS_SUCCESS;
}

void ms_selection_free(ms_selection *s)
{
    if (!s) return;
    free(s->spec);
    free(s->log);
    free(s->steps);
    free(s);
}

void ms_selection_save(const ms_selection *s, ms_model_writer *w)
{
    ms_model_put_u32(w, SELECT_LAYOUT);
    ms_model_put_str(w, s->spec);
    ms_model_put_str(w, s->log ? s->log : "");
    ms_model_put_u32(w, (uint32_t)s->classification);
    ms_model_put_u64(w, s->n_steps);
    for (size_t i = 0; i < s->n_steps; i++) {
        ms_model_put_u64(w, s->steps[i].n_features);
        ms_model_put_f64(w, s->steps[i].score);
        ms_model_put_f64(w, s->steps[i].se);
    }
    ms_model_put_u64(w, s->chosen);
}

ms_status ms_selection_load(ms_model_reader *r, ms_selection **out)
{
    *out = NULL;
    uint32_t layout, cls;
    uint64_t n, chosen;
    MS_CALL(ms_model_get_u32(r, &layout));
    MS_CHECK(layout == SELECT_LAYOUT, MS_ERR_UNSUPPORTED,
             "selection layout %u is not %u: made by another matscreen", layout, SELECT_LAYOUT);
    ms_selection *s = calloc(1, sizeof *s);
    MS_CHECK(s, MS_ERR_NOMEM, "select: out of memory");
    ms_status st = ms_model_get_str(r, 4096, &s->spec);
    if (st == MS_SUCCESS) st = ms_model_get_str(r, 1 << 16, &s->log);
    if (st == MS_SUCCESS) st = ms_model_get_u32(r, &cls);
    if (st == MS_SUCCESS) st = ms_model_get_u64(r, &n);
    if (st == MS_SUCCESS && n > (r->len - r->pos) / 24)
        st = ms_error_set(MS_ERR_PARSE, "bad model: %llu selection steps", (unsigned long long)n);
    if (st == MS_SUCCESS && n) {
        s->steps = calloc((size_t)n, sizeof *s->steps);
        if (!s->steps) st = ms_error_set(MS_ERR_NOMEM, "select: out of memory");
    }
    for (size_t i = 0; st == MS_SUCCESS && i < n; i++) {
        uint64_t nf;
        st = ms_model_get_u64(r, &nf);
        s->steps[i].n_features = (size_t)nf;
        if (st == MS_SUCCESS) st = ms_model_get_f64(r, &s->steps[i].score);
        if (st == MS_SUCCESS) st = ms_model_get_f64(r, &s->steps[i].se);
    }
    if (st == MS_SUCCESS) st = ms_model_get_u64(r, &chosen);
    if (st == MS_SUCCESS && n && chosen >= n)
        st = ms_error_set(MS_ERR_PARSE, "bad model: chosen selection step %llu of %llu",
                          (unsigned long long)chosen, (unsigned long long)n);
    if (st != MS_SUCCESS) {
        ms_selection_free(s);
        return st;
    }
    s->classification = cls != 0;
    s->n_steps = (size_t)n;
    s->chosen = (size_t)chosen;
    *out = s;
    return MS_SUCCESS;
}

void ms_selection_describe(const ms_selection *s, FILE *out)
{
    fprintf(out, "selection: %s\n", s->spec);
    for (const char *l = s->log; l && *l;) {
        const char *e = strchr(l, '\n');
        int len = e ? (int)(e - l) : (int)strlen(l);
        fprintf(out, "  %.*s\n", len, l);
        l += len + (e != NULL);
    }
    if (!s->n_steps) return;
    fprintf(out, "  wrapper path (%s, mean and standard error over folds; * chosen: fewest "
                 "columns within one standard error of the best):\n   columns  score     se\n",
            s->classification ? "1 - ROC-AUC" : "MAE");
    for (size_t i = 0; i < s->n_steps; i++)
        fprintf(out, "  %c%7zu  %.5f  %.5f\n", i == s->chosen ? '*' : ' ', s->steps[i].n_features,
                s->steps[i].score, s->steps[i].se);
}
