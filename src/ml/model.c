/* The model interface, the learner registry and the model file format; see model.h. */
#include "matscreen/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "matscreen/calibration.h"
#include "matscreen/descriptor.h"
#include "matscreen/domain.h"
#include "matscreen/select.h"
#include "matscreen/file_read.h"
#include "matscreen/filters.h"
#include "matscreen/hash.h"
#include "matscreen/outfile.h"
#include "matscreen/scaling.h"

/* ---- registry -------------------------------------------------------------------------------- */

/* The learners of this build. To add one, export its const ms_model_type from its own file and
 * add one line here. The Gaussian process is ms_model_type_gp (model_gp.c). */
static const ms_model_type *const model_types[] = {
    &ms_model_type_forest,
    &ms_model_type_logistic,
    &ms_model_type_naive_bayes,
    &ms_model_type_gp,
    &ms_model_type_gbm,
};
#define N_TYPES (sizeof model_types / sizeof model_types[0])

size_t ms_model_type_count(void) { return N_TYPES; }

const ms_model_type *ms_model_type_get(size_t i) { return i < N_TYPES ? model_types[i] : NULL; }

ms_status ms_model_type_lookup(const char *name, const ms_model_type **out)
{
    *out = NULL;
    char list[256] = "";
    for (size_t i = 0; i < N_TYPES; i++) {
        if (name && strcmp(name, model_types[i]->name) == 0) {
            *out = model_types[i];
            return MS_SUCCESS;
        }
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, model_types[i]->name, sizeof list - strlen(list) - 1);
    }
    return ms_error_set(MS_ERR_NOT_FOUND, "unknown model kind '%s' (valid: %s)", name ? name : "",
                        list);
}

/* ---- options --------------------------------------------------------------------------------- */

ms_status ms_model_options_add(ms_model_options *opt, const char *key_eq_value)
{
    const char *eq = strchr(key_eq_value, '=');
    MS_CHECK(eq && eq != key_eq_value && eq[1], MS_ERR_USAGE,
             "parameter '%s' is not KEY=VALUE", key_eq_value);
    MS_CHECK(opt->n < MS_MODEL_MAX_OPTIONS, MS_ERR_USAGE, "more than %d parameters",
             MS_MODEL_MAX_OPTIONS);
    opt->key[opt->n] = key_eq_value;
    opt->value[opt->n] = eq + 1;
    opt->n++;
    return MS_SUCCESS;
}

static int key_is(const char *kv, const char *key)
{
    size_t n = strlen(key);
    return strncmp(kv, key, n) == 0 && kv[n] == '=';
}

ms_status ms_model_option_double(const ms_model_options *opt, const char *key, double *out)
{
    for (size_t i = 0; opt && i < opt->n; i++) {
        if (!key_is(opt->key[i], key)) continue;
        char *end;
        errno = 0;
        double v = strtod(opt->value[i], &end);
        MS_CHECK(end != opt->value[i] && *end == 0 && errno == 0 && isfinite(v), MS_ERR_USAGE,
                 "parameter %s: '%s' is not a number", key, opt->value[i]);
        *out = v;
    }
    return MS_SUCCESS;
}

ms_status ms_model_options_check(const ms_model_options *opt, const char *learner,
                                 const char *const *known)
{
    for (size_t i = 0; opt && i < opt->n; i++) {
        int ok = 0;
        for (size_t k = 0; known[k]; k++) ok |= key_is(opt->key[i], known[k]);
        if (ok) continue;
        char list[512] = "";
        for (size_t k = 0; known[k]; k++) {
            strncat(list, k ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, known[k], sizeof list - strlen(list) - 1);
        }
        size_t kl = (size_t)(opt->value[i] - opt->key[i]) - 1;
        return ms_error_set(MS_ERR_USAGE, "%s has no parameter '%.*s' (valid: %s)", learner,
                            (int)kl, opt->key[i], list[0] ? list : "none");
    }
    return MS_SUCCESS;
}

/* ---- writer / reader ------------------------------------------------------------------------- */

void ms_model_put_bytes(ms_model_writer *w, const void *p, size_t n)
{
    if (w->status != MS_SUCCESS) return;
    if (n > SIZE_MAX / 2 - w->len) {
        w->status = ms_error_set(MS_ERR_LIMIT, "model: too large");
        return;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n) cap *= 2;
        unsigned char *d = realloc(w->data, cap);
        if (!d) {
            w->status = ms_error_set(MS_ERR_NOMEM, "model: cannot grow the output buffer");
            return;
        }
        w->data = d;
        w->cap = cap;
    }
    if (n) memcpy(w->data + w->len, p, n);
    w->len += n;
}

void ms_model_put_u32(ms_model_writer *w, uint32_t v)
{
    unsigned char b[4];
    for (int k = 0; k < 4; k++) b[k] = (unsigned char)(v >> (8 * k));
    ms_model_put_bytes(w, b, 4);
}

void ms_model_put_u64(ms_model_writer *w, uint64_t v)
{
    unsigned char b[8];
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)(v >> (8 * k));
    ms_model_put_bytes(w, b, 8);
}

void ms_model_put_f64(ms_model_writer *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    ms_model_put_u64(w, u);
}

void ms_model_put_f64s(ms_model_writer *w, const double *v, size_t n)
{
    ms_model_put_u64(w, n);
    for (size_t i = 0; i < n; i++) ms_model_put_f64(w, v[i]);
}

void ms_model_put_u32s(ms_model_writer *w, const uint32_t *v, size_t n)
{
    ms_model_put_u64(w, n);
    for (size_t i = 0; i < n; i++) ms_model_put_u32(w, v[i]);
}

void ms_model_put_str(ms_model_writer *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    ms_model_put_u64(w, n);
    ms_model_put_bytes(w, s, n);
}

static ms_status need(ms_model_reader *r, size_t n, const char *what)
{
    MS_CHECK(r->pos <= r->len && n <= r->len - r->pos, MS_ERR_PARSE,
             "truncated model: %s needs %zu bytes, %zu left", what, n,
             r->pos <= r->len ? r->len - r->pos : 0);
    return MS_SUCCESS;
}

ms_status ms_model_get_u32(ms_model_reader *r, uint32_t *v)
{
    *v = 0;
    MS_CALL(need(r, 4, "a 32-bit integer"));
    uint32_t x = 0;
    for (int k = 0; k < 4; k++) x |= (uint32_t)r->data[r->pos + (size_t)k] << (8 * k);
    r->pos += 4;
    *v = x;
    return MS_SUCCESS;
}

ms_status ms_model_get_u64(ms_model_reader *r, uint64_t *v)
{
    *v = 0;
    MS_CALL(need(r, 8, "a 64-bit integer"));
    uint64_t x = 0;
    for (int k = 0; k < 8; k++) x |= (uint64_t)r->data[r->pos + (size_t)k] << (8 * k);
    r->pos += 8;
    *v = x;
    return MS_SUCCESS;
}

ms_status ms_model_get_f64(ms_model_reader *r, double *v)
{
    uint64_t u;
    *v = 0;
    MS_CALL(ms_model_get_u64(r, &u));
    memcpy(v, &u, 8);
    return MS_SUCCESS;
}

static ms_status get_count(ms_model_reader *r, size_t max, size_t elem, size_t *n)
{
    uint64_t c;
    *n = 0;
    MS_CALL(ms_model_get_u64(r, &c));
    MS_CHECK(c <= max, MS_ERR_PARSE, "bad model: count %llu exceeds %zu",
             (unsigned long long)c, max);
    MS_CALL(need(r, (size_t)c * elem, "an array"));
    *n = (size_t)c;
    return MS_SUCCESS;
}

ms_status ms_model_get_f64s(ms_model_reader *r, size_t max, double **v, size_t *n)
{
    *v = NULL;
    size_t c;
    MS_CALL(get_count(r, max, 8, &c));
    *n = c;
    if (!c) return MS_SUCCESS;
    *v = malloc(c * sizeof **v);
    MS_CHECK(*v, MS_ERR_NOMEM, "model: out of memory");
    for (size_t i = 0; i < c; i++) ms_model_get_f64(r, &(*v)[i]);
    return MS_SUCCESS;
}

ms_status ms_model_get_u32s(ms_model_reader *r, size_t max, uint32_t **v, size_t *n)
{
    *v = NULL;
    size_t c;
    MS_CALL(get_count(r, max, 4, &c));
    *n = c;
    *v = malloc((c ? c : 1) * sizeof **v);
    MS_CHECK(*v, MS_ERR_NOMEM, "model: out of memory");
    for (size_t i = 0; i < c; i++) ms_model_get_u32(r, &(*v)[i]);
    return MS_SUCCESS;
}

ms_status ms_model_get_str(ms_model_reader *r, size_t max, char **s)
{
    *s = NULL;
    size_t c;
    MS_CALL(get_count(r, max, 1, &c));
    *s = malloc(c + 1);
    MS_CHECK(*s, MS_ERR_NOMEM, "model: out of memory");
    memcpy(*s, r->data + r->pos, c);
    (*s)[c] = 0;
    r->pos += c;
    if (strlen(*s) != c) { /* the caller does not own a string that failed */
        free(*s);
        *s = NULL;
        return ms_error_set(MS_ERR_PARSE, "bad model: string with a NUL byte");
    }
    return MS_SUCCESS;
}

/* ---- model ----------------------------------------------------------------------------------- */

void ms_model_spec_default(ms_model_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->kind = "forest";
    spec->task = MS_MODEL_REGRESSION;
    spec->variance_threshold = 0;
    spec->correlation_threshold = 1;
    spec->standardize = 1;
    spec->domain = 1;
}

static char *dup_str(const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

void ms_model_free(ms_model *m)
{
    if (!m) return;
    if (m->state && m->type) m->type->free(m->state);
    free(m->target);
    free(m->descriptor_set);
    free(m->descriptor_signature);
    if (m->feature_names)
        for (size_t j = 0; j < m->n_raw; j++) free(m->feature_names[j]);
    free(m->feature_names);
    free(m->keep);
    free(m->median);
    free(m->center);
    free(m->scale);
    free(m->created);
    for (size_t k = 0; k < m->n_metrics; k++) free(m->metric_name[k]);
    ms_domain_free(m->domain);
    ms_selection_free(m->selection);
    free(m);
}

double ms_model_y_best(const ms_model *m, int minimize)
{
    if (!m || m->task != MS_MODEL_REGRESSION) return NAN;
    return minimize ? m->y_min : m->y_max;
}

void ms_model_set_labels(ms_model *m, const double *y, size_t n, ms_model_goal goal)
{
    m->y_max = m->y_min = NAN;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) continue;
        if (!(y[i] <= m->y_max)) m->y_max = y[i];
        if (!(y[i] >= m->y_min)) m->y_min = y[i];
    }
    m->goal = (int)goal;
}

static ms_status model_alloc_features(ms_model *m, size_t n_raw)
{
    m->n_raw = n_raw;
    m->feature_names = calloc(n_raw + 1, sizeof *m->feature_names);
    m->keep = calloc(n_raw + 1, 1);
    MS_CHECK(m->feature_names && m->keep, MS_ERR_NOMEM, "model: out of memory");
    return MS_SUCCESS;
}

static ms_status model_alloc_kept(ms_model *m)
{
    m->median = calloc(m->n_kept + 1, sizeof *m->median);
    m->center = calloc(m->n_kept + 1, sizeof *m->center);
    m->scale = calloc(m->n_kept + 1, sizeof *m->scale);
    MS_CHECK(m->median && m->center && m->scale, MS_ERR_NOMEM, "model: out of memory");
    return MS_SUCCESS;
}

/* Rows of x restricted to kept columns, imputed and standardised, into a new matrix. */
/* The model's row preparation (model.h: keep -> median for NaN -> z-score) of x into out, whose
 * x->rows * m->n_kept doubles the caller provides. */
static ms_status prepare_into(const ms_model *m, const ms_matrix *x, ms_matrix *out)
{
    MS_CHECK(x->cols == m->n_raw, MS_ERR_USAGE, "model expects %zu features, rows have %zu",
             m->n_raw, x->cols);
    for (size_t i = 0; i < x->rows; i++) {
        size_t k = 0;
        for (size_t j = 0; j < m->n_raw; j++) {
            if (!m->keep[j]) continue;
            double v = MS_AT(x, i, j);
            if (!isfinite(v)) v = m->median[k];
            MS_AT(out, i, k) = (v - m->center[k]) / m->scale[k];
            k++;
        }
    }
    return MS_SUCCESS;
}

static ms_status prepare(const ms_model *m, const ms_matrix *x, ms_matrix *out)
{
    MS_CHECK(x->cols == m->n_raw, MS_ERR_USAGE, "model expects %zu features, rows have %zu",
             m->n_raw, x->cols);
    MS_CALL(ms_matrix_alloc(out, x->rows, m->n_kept));
    return prepare_into(m, x, out);
}

ms_status ms_model_fit(const ms_model_spec *spec, const ms_matrix *x, const double *y,
                       const char *const *feature_names, MPI_Comm comm, ms_model **out)
{
    *out = NULL;
    const ms_model_type *type;
    MS_CALL(ms_model_type_lookup(spec->kind, &type));
    MS_CHECK(spec->task == MS_MODEL_CLASSIFICATION ? type->classification : type->regression,
             MS_ERR_USAGE, "model kind %s does not do %s", type->name,
             spec->task == MS_MODEL_CLASSIFICATION ? "classification" : "regression");
    MS_CHECK(x->rows >= 2 && x->cols >= 1, MS_ERR_INVALID, "need at least 2 rows and 1 feature");
    ms_model *m = calloc(1, sizeof *m);
    MS_CHECK(m, MS_ERR_NOMEM, "model: out of memory");
    m->type = type;
    m->task = spec->task;
    m->seed = spec->seed;
    m->threshold = NAN;
    m->y_max = m->y_min = NAN;
    m->n_train = x->rows;
    ms_matrix imp = {0}, kept = {0};
    double *med_all = NULL;
    ms_status st = model_alloc_features(m, x->cols);
    for (size_t j = 0; st == MS_SUCCESS && j < x->cols; j++) {
        char buf[32];
        snprintf(buf, sizeof buf, "f%zu", j);
        m->feature_names[j] = dup_str(feature_names && feature_names[j] ? feature_names[j] : buf);
        if (!m->feature_names[j]) st = ms_error_set(MS_ERR_NOMEM, "model: out of memory");
        m->keep[j] = 1;
    }
    if (st == MS_SUCCESS) {
        med_all = malloc((x->cols + 1) * sizeof *med_all);
        if (!med_all) st = ms_error_set(MS_ERR_NOMEM, "model: out of memory");
    }
    if (st == MS_SUCCESS) st = ms_scaling_medians(x, med_all);
    if (st == MS_SUCCESS) st = ms_matrix_copy(&imp, x);
    if (st == MS_SUCCESS) {
        ms_scaling_impute(&imp, med_all);
        ms_filter_variance(&imp, spec->variance_threshold, m->keep);
        st = ms_filter_correlation(&imp, spec->correlation_threshold, m->keep);
        for (size_t j = 0; spec->columns && j < x->cols; j++) m->keep[j] &= spec->columns[j] != 0;
    }
    if (st == MS_SUCCESS && spec->select)
        st = ms_select_run(spec, &imp, y, comm, m->keep, &m->selection);
    if (st == MS_SUCCESS) {
        for (size_t j = 0; j < x->cols; j++) m->n_kept += m->keep[j];
        if (!m->n_kept) st = ms_error_set(MS_ERR_INVALID, "every feature is constant");
    }
    if (st == MS_SUCCESS) st = model_alloc_kept(m);
    if (st == MS_SUCCESS) {
        size_t k = 0;
        for (size_t j = 0; j < x->cols; j++)
            if (m->keep[j]) {
                m->median[k] = med_all[j];
                m->center[k] = 0;
                m->scale[k] = 1;
                k++;
            }
        st = prepare(m, &imp, &kept);
    }
    if (st == MS_SUCCESS && spec->standardize) {
        ms_scaling_fit(&kept, m->center, m->scale);
        ms_scaling_apply(&kept, m->center, m->scale);
    }
    if (st == MS_SUCCESS) {
        uint64_t h = ms_hash_update(MS_HASH_INIT, x->data, x->rows * x->cols * sizeof(double));
        m->data_hash = ms_hash_update(h, y, x->rows * sizeof(double));
        /* SOURCE_DATE_EPOCH (reproducible-builds.org) pins the stamp, so that files made by
         * different runs (e.g. on 1 and 3 ranks) can be compared byte for byte */
        const char *sde = getenv("SOURCE_DATE_EPOCH");
        time_t now = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
        struct tm tmv;
        char buf[96];
        gmtime_r(&now, &tmv);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tmv);
#ifdef MS_VERSION
        strncat(buf, " matscreen " MS_VERSION, sizeof buf - strlen(buf) - 1);
#endif
        m->created = dup_str(buf);
        ms_model_options none = {0};
        ms_model_fit_args a = {&kept, y, spec->task, spec->seed,
                               spec->options.n ? &spec->options : &none, comm};
        /* the defaults the learner saw are kept with the options */
        st = type->fit(&a, &m->state);
    }
    ms_matrix_free(&imp);
    ms_matrix_free(&kept);
    free(med_all);
    if (st != MS_SUCCESS) {
        ms_model_free(m);
        return st;
    }
    m->target = dup_str("");
    m->descriptor_set = dup_str("");
    m->descriptor_signature = dup_str("");
    *out = m;
    return MS_SUCCESS;
}

ms_status ms_model_set_meta(ms_model *m, const char *target, int log10_target, double threshold,
                            const char *descriptor_set, int descriptor_version,
                            const char *descriptor_signature)
{
    char *t = dup_str(target), *d = dup_str(descriptor_set), *s = dup_str(descriptor_signature);
    if (!t || !d || !s) {
        free(t);
        free(d);
        free(s);
        return ms_error_set(MS_ERR_NOMEM, "model: out of memory");
    }
    free(m->target);
    free(m->descriptor_set);
    free(m->descriptor_signature);
    m->target = t;
    m->descriptor_set = d;
    m->descriptor_signature = s;
    m->log10_target = log10_target;
    m->threshold = threshold;
    m->descriptor_version = descriptor_version;
    return MS_SUCCESS;
}

ms_status ms_model_add_metric(ms_model *m, const char *name, double value)
{
    for (size_t k = 0; k < m->n_metrics; k++)
        if (strcmp(m->metric_name[k], name) == 0) {
            m->metric_value[k] = value;
            return MS_SUCCESS;
        }
    MS_CHECK(m->n_metrics < MS_MODEL_MAX_METRICS, MS_ERR_LIMIT, "more than %d metrics",
             MS_MODEL_MAX_METRICS);
    m->metric_name[m->n_metrics] = dup_str(name);
    MS_CHECK(m->metric_name[m->n_metrics], MS_ERR_NOMEM, "model: out of memory");
    m->metric_value[m->n_metrics++] = value;
    return MS_SUCCESS;
}

ms_status ms_model_standardize(const ms_model *m, const ms_matrix *x, ms_matrix *out)
{
    return prepare(m, x, out);
}

/* The model-level sigma recalibration (grouped-CV residuals), applied on both prediction paths so
 * that the screen, suggest and evaluate give one sigma for one row, and the rows' domain scores.
 * k: the prepared rows. Each row's score against m->domain is computed at most once, after the
 * learner's prediction: when the distance term needs it (a finite sigma) or score (may be NULL)
 * asks for it; the term takes it clipped, score gets it as ms_domain_score gives it (NaN without
 * a domain). */
static void calibrate_sigma(const ms_model *m, const ms_matrix *k, double *sigma, double *score)
{
    const ms_model_calibration *c = &m->calibration;
    int cal = sigma && c->kind == MS_MODEL_CAL_GROUPED && m->task == MS_MODEL_REGRESSION;
    int dist = cal && c->dist_coef > 0 && m->domain;
    if (!cal && !score) return;
    for (size_t i = 0; i < k->rows; i++) {
        int use = cal && isfinite(sigma[i]);
        double d = m->domain && (score || (dist && use)) ? ms_domain_score(m->domain, &MS_AT(k, i, 0))
                                                         : NAN;
        if (score) score[i] = d;
        if (use)
            sigma[i] = ms_calibration_sigma(sigma[i], c->scale, c->floor, c->dist_coef,
                                            dist ? fmin(d, c->dist_clip) : NAN);
    }
}

ms_status ms_model_predict_scored(const ms_model *m, const ms_matrix *x, double *mean,
                                  double *sigma, double *score)
{
    ms_matrix k = {0};
    MS_CALL(prepare(m, x, &k));
    ms_status st = m->type->predict(m->state, &k, mean, sigma);
    if (st == MS_SUCCESS) calibrate_sigma(m, &k, sigma, score);
    ms_matrix_free(&k);
    return st;
}

ms_status ms_model_predict(const ms_model *m, const ms_matrix *x, double *mean, double *sigma)
{
    return ms_model_predict_scored(m, x, mean, sigma, NULL);
}

size_t ms_model_workspace_size(const ms_model *m, size_t rows) { return rows * m->n_kept; }

ms_status ms_model_predict_ws(const ms_model *m, const ms_matrix *x, double *work, double *mean,
                              double *sigma, double *score)
{
    ms_matrix k = {x->rows, m->n_kept, work, 0};
    MS_CALL(prepare_into(m, x, &k));
    MS_CALL(m->type->predict(m->state, &k, mean, sigma));
    calibrate_sigma(m, &k, sigma, score);
    return MS_SUCCESS;
}

double ms_model_interval_half_width(const ms_model *m, double sigma)
{
    const ms_model_calibration *c = &m->calibration;
    return c->kind == MS_MODEL_CAL_GROUPED && c->alpha > 0 ? c->q * sigma : NAN;
}

size_t ms_model_explain_workspace_size(const ms_model *m, size_t rows)
{
    return 2 * rows * m->n_kept; /* the prepared rows, then their kept features' contributions */
}

int ms_model_uses_feature(const ms_model *m, size_t j) { return j < m->n_raw && m->keep[j]; }

int ms_domain_reason_is_elements(const char *why)
{
    return why && strncmp(why, MS_DOMAIN_REASON_ELEMENTS, sizeof MS_DOMAIN_REASON_ELEMENTS - 1) == 0;
}

int ms_model_domain_verdict(const ms_model *m, const ms_composition *c, double score, char *why,
                            size_t n)
{
    size_t k = 0;
    why[0] = '\0';
    for (int e = 1; m->has_elements && e <= MS_MAX_Z; e++) {
        if (!(c->amount[e] > MS_COMPOSITION_TOL) || m->elem_seen[e]) continue;
        if (k == 0) k = (size_t)snprintf(why, n, "%s:", MS_DOMAIN_REASON_ELEMENTS);
        if (k < n) k += (size_t)snprintf(why + k, n - k, " %s", ms_element_symbol(e));
    }
    int far = m->domain && !(score <= m->domain->threshold);
    if (far && k == 0)
        snprintf(why, n, "far from the training rows (score %.3g > %.3g)", score,
                 m->domain->threshold);
    return !far && k == 0;
}

ms_status ms_model_explain_scratch_new(const ms_model *m, void **out)
{
    *out = NULL;
    if (!m->type->explain_ws_new) return MS_SUCCESS;
    *out = m->type->explain_ws_new(m->state);
    MS_CHECK(*out, MS_ERR_NOMEM, "model: out of memory");
    return MS_SUCCESS;
}

void ms_model_explain_scratch_free(const ms_model *m, void *scratch)
{
    if (scratch && m->type->explain_ws_free) m->type->explain_ws_free(scratch);
}

ms_status ms_model_explain_ws(const ms_model *m, const ms_matrix *x, double *work, void *scratch,
                              double *phi, double *base)
{
    MS_CHECK(m->type->explain, MS_ERR_UNSUPPORTED,
             "model kind %s cannot explain its predictions (forest and gbm can)", m->type->name);
    ms_matrix k = {x->rows, m->n_kept, work, 0};
    double *pk = work + x->rows * m->n_kept;
    MS_CALL(prepare_into(m, x, &k));
    MS_CALL(scratch && m->type->explain_with
                ? m->type->explain_with(m->state, &k, scratch, pk, base)
                : m->type->explain(m->state, &k, pk, base));
    for (size_t i = 0; i < x->rows; i++)
        for (size_t j = 0, c = 0; j < m->n_raw; j++)
            phi[i * m->n_raw + j] = m->keep[j] ? pk[i * m->n_kept + c++] : 0;
    return MS_SUCCESS;
}

ms_status ms_model_explain(const ms_model *m, const ms_matrix *x, double *phi, double *base)
{
    double *work = malloc((ms_model_explain_workspace_size(m, x->rows) + 1) * sizeof *work);
    MS_CHECK(work, MS_ERR_NOMEM, "model: out of memory");
    ms_status st = ms_model_explain_ws(m, x, work, NULL, phi, base);
    free(work);
    return st;
}

/* ---- file format ----------------------------------------------------------------------------- */

enum {
    TAG_KIND = 1, TAG_TASK, TAG_SEED, TAG_TARGET, TAG_LOG10, TAG_THRESHOLD, TAG_SET,
    TAG_SET_VERSION, TAG_SIGNATURE, TAG_FEATURES, TAG_KEEP, TAG_MEDIAN, TAG_CENTER, TAG_SCALE,
    TAG_HASH, TAG_NTRAIN, TAG_CREATED, TAG_METRICS, TAG_STATE,
    TAG_CALIBRATION = 40 /* format version 3; a number apart so that fields other changes add
                            after TAG_STATE cannot collide with it */,
    /* optional fields (model.h); numbered apart so that other additions do not collide */
    TAG_LABELS = 64, TAG_ELEMENTS = 65, TAG_DOMAIN = 66, TAG_SELECTION = 67
};

/* Body of TAG_CALIBRATION: u32 layout version (2), u32 kind, u32 criterion, string grouping,
 * u64 folds, groups, rows, f64 scale, floor, within1, within2, alpha, q, and from layout 2 (file
 * format 4) f64 dist_coef, dist_clip. Layout 1 (format 3) loads with no distance term. */
#define CALIBRATION_LAYOUT 2u

static void put_calibration(ms_model_writer *w, const ms_model_calibration *c)
{
    ms_model_put_u32(w, CALIBRATION_LAYOUT);
    ms_model_put_u32(w, (uint32_t)c->kind);
    ms_model_put_u32(w, (uint32_t)c->criterion);
    ms_model_put_str(w, c->grouping);
    ms_model_put_u64(w, c->folds);
    ms_model_put_u64(w, c->groups);
    ms_model_put_u64(w, c->rows);
    const double v[8] = {c->scale, c->floor, c->within1, c->within2, c->alpha, c->q,
                         c->dist_coef, c->dist_clip};
    for (int k = 0; k < 8; k++) ms_model_put_f64(w, v[k]);
}

static ms_status get_calibration(ms_model_reader *r, ms_model_calibration *c)
{
    uint32_t layout, kind, crit;
    uint64_t u[3];
    char *g = NULL;
    double v[8] = {0};
    MS_CALL(ms_model_get_u32(r, &layout));
    MS_CHECK(layout >= 1 && layout <= CALIBRATION_LAYOUT, MS_ERR_UNSUPPORTED,
             "calibration layout %u is not known to this matscreen (%u)", layout,
             CALIBRATION_LAYOUT);
    MS_CALL(ms_model_get_u32(r, &kind));
    MS_CALL(ms_model_get_u32(r, &crit));
    MS_CALL(ms_model_get_str(r, sizeof c->grouping - 1, &g));
    snprintf(c->grouping, sizeof c->grouping, "%s", g);
    free(g);
    for (int k = 0; k < 3; k++) MS_CALL(ms_model_get_u64(r, &u[k]));
    for (int k = 0; k < (layout >= 2 ? 8 : 6); k++) MS_CALL(ms_model_get_f64(r, &v[k]));
    MS_CHECK(kind <= MS_MODEL_CAL_GROUPED, MS_ERR_PARSE, "bad model: calibration kind %u", kind);
    MS_CHECK(kind == MS_MODEL_CAL_NONE ||
                 (v[0] > 0 && isfinite(v[0]) && v[1] >= 0 && isfinite(v[1]) && v[4] >= 0 &&
                  v[4] < 1 && !isnan(v[5])),
             MS_ERR_PARSE, "bad model: calibration scale %g, floor %g, alpha %g, q %g", v[0], v[1],
             v[4], v[5]);
    MS_CHECK(v[6] >= 0 && isfinite(v[6]) && v[7] >= 0 && isfinite(v[7]), MS_ERR_PARSE,
             "bad model: calibration distance term %g, clipped at %g", v[6], v[7]);
    c->kind = (ms_model_calibration_kind)kind;
    c->criterion = (int)crit;
    c->folds = (size_t)u[0], c->groups = (size_t)u[1], c->rows = (size_t)u[2];
    c->scale = v[0], c->floor = v[1], c->within1 = v[2], c->within2 = v[3], c->alpha = v[4];
    c->q = v[5];
    c->dist_coef = v[6], c->dist_clip = v[7];
    return MS_SUCCESS;
}

#define MAX_FEATURES 1000000
#define MAX_NAME 4096

/* A field: u32 tag, u64 length (patched after the body), body. */
static size_t field_begin(ms_model_writer *w, uint32_t tag)
{
    ms_model_put_u32(w, tag);
    size_t at = w->len;
    ms_model_put_u64(w, 0);
    return at;
}

static void field_end(ms_model_writer *w, size_t at)
{
    if (w->status != MS_SUCCESS) return;
    uint64_t n = (uint64_t)(w->len - at - 8);
    for (int k = 0; k < 8; k++) w->data[at + (size_t)k] = (unsigned char)(n >> (8 * k));
}

static void field_str(ms_model_writer *w, uint32_t tag, const char *s)
{
    size_t at = field_begin(w, tag);
    ms_model_put_str(w, s);
    field_end(w, at);
}

static void field_u64(ms_model_writer *w, uint32_t tag, uint64_t v)
{
    size_t at = field_begin(w, tag);
    ms_model_put_u64(w, v);
    field_end(w, at);
}

static void field_f64(ms_model_writer *w, uint32_t tag, double v)
{
    size_t at = field_begin(w, tag);
    ms_model_put_f64(w, v);
    field_end(w, at);
}

static void field_f64s(ms_model_writer *w, uint32_t tag, const double *v, size_t n)
{
    size_t at = field_begin(w, tag);
    ms_model_put_f64s(w, v, n);
    field_end(w, at);
}

ms_status ms_model_save_buffer(const ms_model *m, ms_model_writer *w)
{
    ms_model_writer p = {0};
    field_str(&p, TAG_KIND, m->type->name);
    field_u64(&p, TAG_TASK, (uint64_t)m->task);
    field_u64(&p, TAG_SEED, m->seed);
    field_str(&p, TAG_TARGET, m->target);
    field_u64(&p, TAG_LOG10, (uint64_t)m->log10_target);
    field_f64(&p, TAG_THRESHOLD, m->threshold);
    field_str(&p, TAG_SET, m->descriptor_set);
    field_u64(&p, TAG_SET_VERSION, (uint64_t)m->descriptor_version);
    field_str(&p, TAG_SIGNATURE, m->descriptor_signature);
    size_t at = field_begin(&p, TAG_FEATURES);
    ms_model_put_u64(&p, m->n_raw);
    for (size_t j = 0; j < m->n_raw; j++) ms_model_put_str(&p, m->feature_names[j]);
    field_end(&p, at);
    at = field_begin(&p, TAG_KEEP);
    ms_model_put_u64(&p, m->n_raw);
    ms_model_put_bytes(&p, m->keep, m->n_raw);
    field_end(&p, at);
    field_f64s(&p, TAG_MEDIAN, m->median, m->n_kept);
    field_f64s(&p, TAG_CENTER, m->center, m->n_kept);
    field_f64s(&p, TAG_SCALE, m->scale, m->n_kept);
    field_u64(&p, TAG_HASH, m->data_hash);
    field_u64(&p, TAG_NTRAIN, m->n_train);
    field_str(&p, TAG_CREATED, m->created);
    at = field_begin(&p, TAG_METRICS);
    ms_model_put_u64(&p, m->n_metrics);
    for (size_t k = 0; k < m->n_metrics; k++) {
        ms_model_put_str(&p, m->metric_name[k]);
        ms_model_put_f64(&p, m->metric_value[k]);
    }
    field_end(&p, at);
    if (!isnan(m->y_max) || !isnan(m->y_min)) {
        at = field_begin(&p, TAG_LABELS);
        ms_model_put_u32(&p, 1);
        ms_model_put_f64(&p, m->y_max);
        ms_model_put_f64(&p, m->y_min);
        ms_model_put_u32(&p, (uint32_t)m->goal);
        field_end(&p, at);
    }
    if (m->has_elements) {
        at = field_begin(&p, TAG_ELEMENTS);
        ms_model_put_u32(&p, 1);
        ms_model_put_u64(&p, MS_MAX_Z + 1);
        ms_model_put_bytes(&p, m->elem_seen, MS_MAX_Z + 1);
        ms_model_put_bytes(&p, m->elem_required, MS_MAX_Z + 1);
        field_end(&p, at);
    }
    if (m->domain) {
        at = field_begin(&p, TAG_DOMAIN);
        ms_domain_save(m->domain, &p);
        field_end(&p, at);
    }
    if (m->selection) {
        at = field_begin(&p, TAG_SELECTION);
        ms_selection_save(m->selection, &p);
        field_end(&p, at);
    }
    if (m->calibration.kind != MS_MODEL_CAL_NONE) {
        at = field_begin(&p, TAG_CALIBRATION);
        put_calibration(&p, &m->calibration);
        field_end(&p, at);
    }
    at = field_begin(&p, TAG_STATE);
    ms_status st = p.status == MS_SUCCESS ? m->type->save(m->state, &p) : p.status;
    field_end(&p, at);
    if (st == MS_SUCCESS) st = p.status;
    if (st == MS_SUCCESS) {
        ms_model_put_bytes(w, "MSMODEL", 8);
        ms_model_put_u32(w, MS_MODEL_FORMAT_VERSION);
        ms_model_put_u32(w, 0x01020304u);
        ms_model_put_u64(w, p.len);
        ms_model_put_u64(w, ms_hash_bytes(p.data, p.len));
        ms_model_put_bytes(w, p.data, p.len);
        st = w->status;
    }
    free(p.data);
    return st;
}

ms_status ms_model_save(const ms_model *m, const char *path)
{
    ms_model_writer w = {0};
    ms_status st = ms_model_save_buffer(m, &w);
    if (st == MS_SUCCESS) {
        /* Written beside and renamed (outfile.h): a failed save keeps the previous model. */
        ms_atomic_file *af = NULL;
        st = ms_atomic_open(path, &af);
        if (st == MS_SUCCESS) {
            fwrite(w.data, 1, w.len, ms_atomic_stream(af));
            st = ms_atomic_commit(&af);
        }
    }
    free(w.data);
    return st;
}

static ms_status parse_labels(ms_model_reader *f, ms_model *m)
{
    uint32_t layout, goal;
    MS_CALL(ms_model_get_u32(f, &layout));
    MS_CHECK(layout == 1, MS_ERR_UNSUPPORTED,
             "label field layout %u is newer than this matscreen (1)", layout);
    MS_CALL(ms_model_get_f64(f, &m->y_max));
    MS_CALL(ms_model_get_f64(f, &m->y_min));
    MS_CALL(ms_model_get_u32(f, &goal));
    MS_CHECK(goal <= MS_GOAL_MIN, MS_ERR_PARSE, "bad model: goal %u", goal);
    m->goal = (int)goal;
    return MS_SUCCESS;
}

static ms_status parse_elements(ms_model_reader *f, ms_model *m)
{
    uint32_t layout;
    uint64_t n;
    MS_CALL(ms_model_get_u32(f, &layout));
    MS_CHECK(layout == 1, MS_ERR_UNSUPPORTED,
             "element field layout %u is newer than this matscreen (1)", layout);
    MS_CALL(ms_model_get_u64(f, &n));
    MS_CHECK(n == MS_MAX_Z + 1, MS_ERR_PARSE, "bad model: %llu element flags, expected %d",
             (unsigned long long)n, MS_MAX_Z + 1);
    MS_CALL(need(f, 2 * (size_t)n, "element flags"));
    for (size_t z = 0; z <= MS_MAX_Z; z++) {
        m->elem_seen[z] = f->data[f->pos + z] != 0;
        m->elem_required[z] = f->data[f->pos + n + z] != 0;
    }
    f->pos += 2 * (size_t)n;
    m->has_elements = 1;
    return MS_SUCCESS;
}

/* After the fields are read: the scaler is usable, the defaults of optional strings are set,
 * and a named descriptor set is this build's at the same version and width. */
static ms_status check_payload(ms_model *m)
{
    for (size_t k = 0; k < m->n_kept; k++)
        MS_CHECK(isfinite(m->median[k]) && isfinite(m->center[k]) && isfinite(m->scale[k]) &&
                     m->scale[k] > 0,
                 MS_ERR_PARSE, "bad model: scaler value %zu is not a positive finite number", k);
    if (!m->target) m->target = dup_str("");
    if (!m->descriptor_set) m->descriptor_set = dup_str("");
    if (!m->descriptor_signature) m->descriptor_signature = dup_str("");
    if (!m->created) m->created = dup_str("");
    MS_CHECK(m->target && m->descriptor_set && m->descriptor_signature && m->created, MS_ERR_NOMEM,
             "model: out of memory");
    if (m->descriptor_set[0]) {
        const ms_descriptor_set *set;
        if (ms_descriptor_set_lookup(m->descriptor_set, &set) != MS_SUCCESS)
            return ms_error_set(MS_ERR_UNSUPPORTED,
                                "made for descriptor set %s v%d, which this matscreen does not have",
                                m->descriptor_set, m->descriptor_version);
        MS_CHECK(set->version == m->descriptor_version, MS_ERR_UNSUPPORTED,
                 "made for descriptor set %s v%d but this matscreen has v%d", m->descriptor_set,
                 m->descriptor_version, set->version);
        MS_CHECK(ms_descriptor_set_n_features(set) == m->n_raw, MS_ERR_PARSE,
                 "bad model: descriptor set %s has %zu features, the model %zu", m->descriptor_set,
                 ms_descriptor_set_n_features(set), m->n_raw);
    }
    return MS_SUCCESS;
}

static ms_status parse_payload(ms_model_reader *r, ms_model *m)
{
    size_t state_pos = 0, state_len = 0;
    int have_state = 0;
    char *kind = NULL;
    uint64_t u;
    while (r->pos < r->len) {
        uint32_t tag;
        uint64_t flen;
        MS_CALL(ms_model_get_u32(r, &tag));
        MS_CALL(ms_model_get_u64(r, &flen));
        MS_CALL(need(r, (size_t)flen, "a field"));
        ms_model_reader f = {r->data + r->pos, (size_t)flen, 0, r->version};
        r->pos += (size_t)flen;
        switch (tag) {
        case TAG_KIND:
            MS_CALL(ms_model_get_str(&f, 64, &kind));
            {
                ms_status st = ms_model_type_lookup(kind, &m->type);
                if (st != MS_SUCCESS) {
                    ms_error_set(MS_ERR_UNSUPPORTED,
                                 "model kind '%s' is not available in this matscreen", kind);
                    free(kind);
                    return MS_ERR_UNSUPPORTED;
                }
                free(kind);
            }
            break;
        case TAG_TASK:
            MS_CALL(ms_model_get_u64(&f, &u));
            MS_CHECK(u <= 1, MS_ERR_PARSE, "bad model: task %llu", (unsigned long long)u);
            m->task = (ms_model_task)u;
            break;
        case TAG_SEED: MS_CALL(ms_model_get_u64(&f, &m->seed)); break;
        case TAG_TARGET: free(m->target); MS_CALL(ms_model_get_str(&f, MAX_NAME, &m->target)); break;
        case TAG_LOG10:
            MS_CALL(ms_model_get_u64(&f, &u));
            m->log10_target = u != 0;
            break;
        case TAG_THRESHOLD: MS_CALL(ms_model_get_f64(&f, &m->threshold)); break;
        case TAG_SET:
            free(m->descriptor_set);
            MS_CALL(ms_model_get_str(&f, MAX_NAME, &m->descriptor_set));
            break;
        case TAG_SET_VERSION:
            MS_CALL(ms_model_get_u64(&f, &u));
            MS_CHECK(u < 1000000, MS_ERR_PARSE, "bad model: descriptor version");
            m->descriptor_version = (int)u;
            break;
        case TAG_SIGNATURE:
            free(m->descriptor_signature);
            MS_CALL(ms_model_get_str(&f, MAX_NAME * 16, &m->descriptor_signature));
            break;
        case TAG_FEATURES:
            MS_CHECK(!m->feature_names, MS_ERR_PARSE, "bad model: feature names twice");
            MS_CALL(get_count(&f, MAX_FEATURES, 8, &m->n_raw));
            MS_CALL(model_alloc_features(m, m->n_raw));
            for (size_t j = 0; j < m->n_raw; j++)
                MS_CALL(ms_model_get_str(&f, MAX_NAME, &m->feature_names[j]));
            break;
        case TAG_KEEP: {
            size_t n;
            MS_CHECK(m->feature_names, MS_ERR_PARSE, "bad model: feature mask before names");
            MS_CALL(get_count(&f, MAX_FEATURES, 1, &n));
            MS_CHECK(n == m->n_raw, MS_ERR_PARSE, "bad model: mask of %zu for %zu features", n,
                     m->n_raw);
            m->n_kept = 0;
            for (size_t j = 0; j < n; j++) {
                m->keep[j] = f.data[f.pos + j] != 0;
                m->n_kept += m->keep[j];
            }
            f.pos += n;
            break;
        }
        case TAG_MEDIAN:
        case TAG_CENTER:
        case TAG_SCALE: {
            double **dst = tag == TAG_MEDIAN ? &m->median : tag == TAG_CENTER ? &m->center : &m->scale;
            size_t n;
            MS_CHECK(!*dst, MS_ERR_PARSE, "bad model: repeated field %u", (unsigned)tag);
            MS_CALL(ms_model_get_f64s(&f, MAX_FEATURES, dst, &n));
            MS_CHECK(n == m->n_kept && n > 0, MS_ERR_PARSE,
                     "bad model: %zu scaler values for %zu kept features", n, m->n_kept);
            break;
        }
        case TAG_HASH: MS_CALL(ms_model_get_u64(&f, &m->data_hash)); break;
        case TAG_NTRAIN:
            MS_CALL(ms_model_get_u64(&f, &u));
            m->n_train = (size_t)u;
            break;
        case TAG_CREATED: free(m->created); MS_CALL(ms_model_get_str(&f, MAX_NAME, &m->created)); break;
        case TAG_METRICS: {
            size_t n;
            MS_CALL(get_count(&f, MS_MODEL_MAX_METRICS, 16, &n));
            for (size_t k = 0; k < m->n_metrics; k++) free(m->metric_name[k]);
            m->n_metrics = 0;
            for (size_t k = 0; k < n; k++) {
                MS_CALL(ms_model_get_str(&f, 256, &m->metric_name[k]));
                m->n_metrics = k + 1;
                MS_CALL(ms_model_get_f64(&f, &m->metric_value[k]));
            }
            break;
        }
        case TAG_LABELS: MS_CALL(parse_labels(&f, m)); break;
        case TAG_ELEMENTS: MS_CALL(parse_elements(&f, m)); break;
        case TAG_DOMAIN:
            MS_CHECK(!m->domain && m->center, MS_ERR_PARSE, "bad model: domain field out of place");
            MS_CALL(ms_domain_load(&f, m->n_kept, &m->domain));
            break;
        case TAG_CALIBRATION: MS_CALL(get_calibration(&f, &m->calibration)); break;
        case TAG_SELECTION:
            MS_CHECK(!m->selection, MS_ERR_PARSE, "bad model: two selection fields");
            MS_CALL(ms_selection_load(&f, &m->selection));
            break;
        case TAG_STATE:
            state_pos = (size_t)(f.data - r->data);
            state_len = f.len;
            have_state = 1;
            break;
        default: break; /* unknown fields of later versions are skipped */
        }
    }
    MS_CHECK(m->type && m->feature_names && m->median && m->center && m->scale && have_state,
             MS_ERR_PARSE, "bad model: a required field is missing");
    MS_CHECK(!(m->calibration.dist_coef > 0) || m->domain, MS_ERR_PARSE,
             "bad model: the sigma calibration's distance term needs the domain field");
    MS_CALL(check_payload(m));
    ms_model_reader sr = {r->data + state_pos, state_len, 0, r->version};
    ms_status st = m->type->load(&sr, m->n_kept, m->task, &m->state);
    if (st != MS_SUCCESS) {
        m->state = NULL;
        return st;
    }
    return MS_SUCCESS;
}

ms_status ms_model_load_buffer(const unsigned char *data, size_t len, const char *name,
                               ms_model **out)
{
    *out = NULL;
    if (len < 8 || memcmp(data, "MSMODEL", 8) != 0)
        return ms_error_set(MS_ERR_PARSE, "%s: not a matscreen model", name);
    MS_CHECK(len >= 32, MS_ERR_PARSE, "%s: truncated: %zu bytes, the header alone has 32", name,
             len);
    ms_model_reader r = {data, len, 8, 0};
    uint32_t version, mark;
    uint64_t plen, sum;
    ms_model_get_u32(&r, &version);
    ms_model_get_u32(&r, &mark);
    ms_model_get_u64(&r, &plen);
    ms_model_get_u64(&r, &sum);
    MS_CHECK(mark == 0x01020304u, MS_ERR_PARSE, "%s: damaged header (byte-order mark)", name);
    MS_CHECK(version >= 1, MS_ERR_PARSE, "%s: damaged header (format version 0)", name);
    MS_CHECK(version <= MS_MODEL_FORMAT_VERSION, MS_ERR_UNSUPPORTED,
             "%s: model format version %u is newer than this matscreen (%u)", name, version,
             MS_MODEL_FORMAT_VERSION);
    MS_CHECK(plen <= len - 32, MS_ERR_PARSE,
             "%s: truncated: header says %llu payload bytes, the file has %zu", name,
             (unsigned long long)plen, len - 32);
    MS_CHECK(plen == len - 32, MS_ERR_PARSE, "%s: %zu bytes of garbage after the model", name,
             (size_t)(len - 32 - plen));
    MS_CHECK(ms_hash_bytes(data + 32, (size_t)plen) == sum, MS_ERR_PARSE,
             "%s: checksum mismatch: file is damaged", name);
    ms_model *m = calloc(1, sizeof *m);
    MS_CHECK(m, MS_ERR_NOMEM, "model: out of memory");
    m->threshold = NAN;
    m->y_max = m->y_min = NAN;
    ms_model_reader p = {data + 32, (size_t)plen, 0, version};
    ms_status st = parse_payload(&p, m);
    if (st != MS_SUCCESS) {
        ms_error_prefix("%s", name);
        ms_model_free(m);
        return st;
    }
    *out = m;
    return MS_SUCCESS;
}

ms_status ms_model_load(const char *path, ms_model **out)
{
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    MS_CALL(ms_read_whole_file(path, MS_MODEL_MAX_BYTES, &buf, &len));
    ms_status st = ms_model_load_buffer((const unsigned char *)buf, len, path, out);
    free(buf);
    return st;
}

void ms_model_describe(const ms_model *m, FILE *out)
{
    char h[17];
    ms_hash_format(m->data_hash, h);
    fprintf(out, "kind: %s (%s)\n", m->type->name, m->type->summary);
    fprintf(out, "task: %s\n", m->task == MS_MODEL_CLASSIFICATION ? "classification" : "regression");
    fprintf(out, "target: %s%s\n", m->target[0] ? m->target : "(unnamed)",
            m->log10_target ? " (log10)" : "");
    if (m->task == MS_MODEL_CLASSIFICATION && !isnan(m->threshold))
        fprintf(out, "positive class: %s >= %g\n", m->target, m->threshold);
    if (m->descriptor_set[0])
        fprintf(out, "descriptor set: %s v%d (%s)\n", m->descriptor_set, m->descriptor_version,
                m->descriptor_signature);
    else
        fprintf(out, "descriptor set: none recorded (features supplied by the caller)\n");
    fprintf(out, "features: %zu (%zu kept after filters)\n", m->n_raw, m->n_kept);
    fprintf(out, "training rows: %zu\ntraining data hash: %s\nseed: %llu\ncreated: %s\n",
            m->n_train, h, (unsigned long long)m->seed, m->created);
    if (!isnan(m->y_max)) {
        static const char *const goals[] = {"not stated: the screen's --ascending decides",
                                            "larger is better", "smaller is better"};
        fprintf(out, "best training label (y_best): %.6g largest, %.6g smallest%s; goal: %s\n",
                m->y_max, m->y_min, m->log10_target ? " (log10)" : "", goals[m->goal]);
    } else if (m->task == MS_MODEL_REGRESSION) {
        fprintf(out, "best training label (y_best): not stored (a model from before y_best); "
                     "ei / pi need --best\n");
    }
    if (m->has_elements) {
        fprintf(out, "requires elements:");
        int any = 0;
        for (int z = 1; z <= MS_MAX_Z; z++)
            if (m->elem_required[z]) fprintf(out, " %s", ms_element_symbol(z)), any = 1;
        fprintf(out, "%s\nelements seen in training:", any ? "" : " none");
        for (int z = 1; z <= MS_MAX_Z; z++)
            if (m->elem_seen[z]) fprintf(out, " %s", ms_element_symbol(z));
        fprintf(out, "\n");
    }
    if (m->domain) ms_domain_describe(m->domain, out);
    if (m->selection) ms_selection_describe(m->selection, out);
    fprintf(out, "learner:\n");
    if (m->type->describe) m->type->describe(m->state, out);
    const ms_model_calibration *c = &m->calibration;
    if (c->kind == MS_MODEL_CAL_GROUPED) {
        const char *crit = c->criterion == 2 ? "1- and 2-sigma coverage"
                           : c->criterion          ? "miscalibration area"
                                                   : "likelihood";
        if (c->dist_coef > 0)
            fprintf(out, "sigma calibration: grouped CV (%s, %zu folds, %zu groups, %zu rows), by "
                         "%s, distance-aware: sigma = sqrt((%.6g s)^2 + (%.6g (1 + %.6g "
                         "min(domain score, %.4g)))^2); out-of-fold within 1 sigma %.3f, 2 sigma "
                         "%.3f\n",
                    c->grouping, c->folds, c->groups, c->rows, crit, c->scale, c->floor,
                    c->dist_coef, c->dist_clip, c->within1, c->within2);
        else
            fprintf(out, "sigma calibration: grouped CV (%s, %zu folds, %zu groups, %zu rows), by "
                         "%s: sigma = sqrt((%.6g s)^2 + %.6g^2); out-of-fold within 1 sigma %.3f, "
                         "2 sigma %.3f\n",
                    c->grouping, c->folds, c->groups, c->rows, crit, c->scale, c->floor,
                    c->within1, c->within2);
        if (c->alpha > 0)
            fprintf(out, "conformal interval: mean +- %.6g sigma covers %.3g%% (alpha %.3g, split "
                         "conformal on the grouped out-of-fold rows)\n",
                    c->q, 100 * (1 - c->alpha), c->alpha);
    } else if (m->task == MS_MODEL_REGRESSION) {
        fprintf(out, "sigma calibration: the learner's own%s\n",
                m->type == &ms_model_type_forest ? " (forest: out-of-bag rows)" : "");
    }
    if (m->n_metrics) {
        fprintf(out, "metrics:\n");
        for (size_t k = 0; k < m->n_metrics; k++)
            fprintf(out, "  %s: %.6g\n", m->metric_name[k], m->metric_value[k]);
    }
}
