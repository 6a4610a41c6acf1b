/*
 * report.html from an output directory (report.h). Hand-written SVG: no plotting library in
 * Debian is a C library producing self-contained SVG without a runtime (gnuplot would be a
 * process and a dependency for five simple charts), so the charts are drawn here.
 *
 * Layout of the page: summary, changes since the previous run, top-K table (inline uncertainty
 * bars), top-K plot, score and uncertainty histograms, data-quality counts, model evaluation
 * (parity, calibration) when evaluation.csv exists, errors. Element ids (plot-topk, plot-scores,
 * plot-sigma, plot-quality, plot-parity, plot-calibration) are stable: tests look for them.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "matscreen/array.h"
#include "matscreen/hash.h"
#include "matscreen/model.h"
#include "matscreen/outfile.h"
#include "matscreen/report.h"

#define REPORT_PATH_MAX 4200
#define MAX_FIELDS 40
#define TABLE_ROWS 100    /* rows of the top-K table */
#define WHY_ROWS 20       /* rows of the "why these candidates" table */
#define WHY_MAX 2048      /* ranked.csv's explain field (results.c: twice MS_RESULT_EXPLAIN_MAX) */
#define PLOT_ROWS 50      /* candidates in the top-K plot */
#define KEEP_MAX 10000    /* top-K rows kept for the comparison with the previous run */
#define HIST_BINS 30
#define ERROR_ROWS 50
#define COLLAPSE_ROWS 10  /* longer lists start folded (<details>): counts come first */
#define EVAL_POINTS 2000

/* ---- CSV ---------------------------------------------------------------------------------- */

typedef struct {
    FILE *f;
    const char *path;
    char *buf;
    size_t cap, len;
    long line;             /* line of the record just read */
    long next_line;
    char *fields[MAX_FIELDS];
    int n;
} csv_reader;

static int csv_open(csv_reader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->next_line = 1;
    r->f = fopen(path, "r");
    return r->f != NULL;
}

static void csv_close(csv_reader *r)
{
    if (r->f) fclose(r->f);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

/* Reads one record (RFC 4180 quoting, a quoted field may span lines); 1 on success, 0 at end,
 * -1 on memory failure. Fields point into r->buf. */
static int csv_next(csv_reader *r)
{
    r->len = 0;
    r->n = 0;
    r->line = r->next_line;
    int c, in_quotes = 0, any = 0;
    /* unlocked, and the buffer grown only when full: ranked.csv of a million rows is read
     * here on every night, the unchanged ones included (docs/scale.md) */
    while ((c = getc_unlocked(r->f)) != EOF) {
        any = 1;
        if (c == '\n') r->next_line++;
        if (c == '"') in_quotes = !in_quotes;
        if (c == '\n' && !in_quotes) break;
        if (r->len + 2 > r->cap &&
            ms_array_reserve(&r->buf, &r->cap, r->len + 2, 1, 4096) != MS_SUCCESS)
            return -1;
        r->buf[r->len++] = (char)c;
    }
    if (!any) return 0;
    if (!r->buf) {
        r->buf = malloc(16);
        if (!r->buf) return -1;
        r->cap = 16;
    }
    if (r->len && r->buf[r->len - 1] == '\r') r->len--;
    r->buf[r->len] = 0;
    /* split in place, unquoting */
    char *s = r->buf, *w = r->buf;
    r->fields[r->n++] = w;
    int q = 0;
    for (; *s; s++) {
        if (q) {
            if (*s == '"' && s[1] == '"') *w++ = '"', s++;
            else if (*s == '"') q = 0;
            else *w++ = *s;
        } else if (*s == '"') {
            q = 1;
        } else if (*s == ',') {
            *w++ = 0;
            if (r->n < MAX_FIELDS) r->fields[r->n++] = w;
        } else {
            *w++ = *s;
        }
    }
    *w = 0;
    return 1;
}

static int csv_col(const csv_reader *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->fields[i], name) == 0) return i;
    return -1;
}

static const char *field(const csv_reader *r, int col) { return col >= 0 && col < r->n ? r->fields[col] : ""; }

static double num(const char *s)
{
    if (!s || !*s) return NAN;
    char *end;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}

/* ---- output helpers ------------------------------------------------------------------------ */

static void esc(FILE *o, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", o); break;
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '"': fputs("&quot;", o); break;
        case '\'': fputs("&#39;", o); break;
        default: fputc(*s, o);
        }
    }
}

static void escf(FILE *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void escf(FILE *o, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    esc(o, buf);
}

/* After a read loop that stopped because csv_next returned -1 (out of memory): what the section
 * shows stops at that line. Said in the page, not hidden (the CSV files are complete). */
static void say_incomplete(FILE *o, const char *path, long line)
{
    fputs("<p class=\"bad\">Out of memory reading ", o);
    esc(o, path);
    fprintf(o, " at line %ld: this section is incomplete.</p>\n", line);
}

static void fmt_num(char *out, size_t n, double v)
{
    if (!isfinite(v)) snprintf(out, n, "-");
    else snprintf(out, n, "%.4g", v);
}

/* "Nice" tick step for a range, about five ticks. */
static double nice_step(double span)
{
    if (!(span > 0) || !isfinite(span)) return 1;
    double raw = span / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

typedef struct {
    double x0, x1, y0, y1;      /* data range */
    double left, top, w, h;     /* plot area in px */
} frame;

static double px(const frame *f, double x) { return f->left + (x - f->x0) / (f->x1 - f->x0) * f->w; }
static double py(const frame *f, double y) { return f->top + f->h - (y - f->y0) / (f->y1 - f->y0) * f->h; }

static void pad_range(double *lo, double *hi)
{
    if (!isfinite(*lo) || !isfinite(*hi)) *lo = 0, *hi = 1;
    if (*hi - *lo < 1e-12 * (fabs(*lo) + fabs(*hi)) || *hi == *lo) {
        double d = fabs(*lo) > 0 ? 0.1 * fabs(*lo) : 0.5;
        *lo -= d;
        *hi += d;
    }
}

static void svg_open(FILE *o, const char *id, const char *title, int width, int height)
{
    fprintf(o, "<figure><svg id=\"%s\" class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" "
               "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\"><title>",
            id, width, height, width, height);
    esc(o, title);
    fputs("</title>\n", o);
}

static void svg_close(FILE *o, const char *caption)
{
    fputs("</svg><figcaption>", o);
    esc(o, caption);
    fputs("</figcaption></figure>\n", o);
}

/* Axes with ticks and labels. */
static void svg_axes(FILE *o, const frame *f, const char *xlabel, const char *ylabel, int xticks)
{
    fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"area\"/>\n",
            f->left, f->top, f->w, f->h);
    double step = nice_step(f->y1 - f->y0);
    for (double t = ceil(f->y0 / step) * step; t <= f->y1 + 1e-9 * step; t += step) {
        double y = py(f, t);
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%.4g</text>\n",
                f->left, y, f->left + f->w, y, f->left - 4, y + 4, fabs(t) < 1e-12 * step ? 0 : t);
    }
    if (xticks) {
        step = nice_step(f->x1 - f->x0);
        if (xticks == 2 && step < 1) step = 1;
        for (double t = ceil(f->x0 / step) * step; t <= f->x1 + 1e-9 * step; t += step)
            fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">%.4g</text>\n",
                    px(f, t), f->top + f->h + 15, fabs(t) < 1e-12 * step ? 0 : t);
    }
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" text-anchor=\"middle\">", f->left + f->w / 2,
            f->top + f->h + 32);
    esc(o, xlabel);
    fprintf(o, "</text><text x=\"12\" y=\"%.1f\" class=\"label\" text-anchor=\"middle\" "
               "transform=\"rotate(-90 12 %.1f)\">", f->top + f->h / 2, f->top + f->h / 2);
    esc(o, ylabel);
    fputs("</text>\n", o);
}

static void svg_histogram(FILE *o, const char *id, const char *title, const char *xlabel,
                          const unsigned long long *counts, int nbins, double lo, double hi,
                          const char *caption)
{
    unsigned long long maxc = 1;
    for (int i = 0; i < nbins; i++)
        if (counts[i] > maxc) maxc = counts[i];
    frame f = {lo, hi, 0, (double)maxc * 1.05, 60, 15, 560, 200};
    svg_open(o, id, title, 640, 265);
    svg_axes(o, &f, xlabel, "candidates", 1);
    double bw = (hi - lo) / nbins;
    for (int i = 0; i < nbins; i++) {
        if (!counts[i]) continue;
        double x0 = px(&f, lo + i * bw), x1 = px(&f, lo + (i + 1) * bw), y = py(&f, (double)counts[i]);
        fprintf(o, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
                   "<title>%llu</title></rect>\n", x0 + 0.5, y, x1 - x0 - 1 > 0.5 ? x1 - x0 - 1 : 0.5,
                f.top + f.h - y, counts[i]);
    }
    svg_close(o, caption);
}

/* ---- the data ------------------------------------------------------------------------------ */

typedef struct {
    char key[512];
    char formula[128];
    char source_id[128];
    char db[16];
    char file[512];
    char flags[64];
    int spacegroup;
    double score, mean, sigma, class_prob;
} top_row;

typedef struct {
    unsigned long long rows;
    double smin, smax, sigmin, sigmax;
    unsigned long long n_sigma, n_mean, n_prob;
    unsigned long long n_in_domain, n_out_domain; /* ranked.csv's in_domain column, when any */
    size_t n_top;
    top_row *top;
    char (*why)[WHY_MAX]; /* the explain column (screen --explain) of the first WHY_ROWS; NULL:
                             no such column. Apart from top_row: kept rows go up to KEEP_MAX */
    unsigned long long hist_score[HIST_BINS], hist_sigma[HIST_BINS];
} ranked_data;

typedef struct {
    int key, formula, source_id, db, file, flags, spacegroup, score, mean, sigma, prob, domain,
        explain;
} ranked_cols;

static void ranked_columns(const csv_reader *r, ranked_cols *c)
{
    c->key = csv_col(r, "key");
    c->formula = csv_col(r, "formula");
    c->source_id = csv_col(r, "source_id");
    c->db = csv_col(r, "source_db");
    c->file = csv_col(r, "file");
    c->flags = csv_col(r, "flags");
    c->spacegroup = csv_col(r, "spacegroup");
    c->score = csv_col(r, "score");
    c->mean = csv_col(r, "surrogate_mean");
    c->sigma = csv_col(r, "surrogate_sigma");
    c->prob = csv_col(r, "class_prob");
    c->domain = csv_col(r, "in_domain");
    c->explain = csv_col(r, "explain");
}

static void fill_row(const csv_reader *r, const ranked_cols *c, top_row *t)
{
    snprintf(t->key, sizeof t->key, "%s", field(r, c->key));
    snprintf(t->formula, sizeof t->formula, "%s", field(r, c->formula));
    snprintf(t->source_id, sizeof t->source_id, "%s", field(r, c->source_id));
    snprintf(t->db, sizeof t->db, "%s", field(r, c->db));
    snprintf(t->file, sizeof t->file, "%s", field(r, c->file));
    snprintf(t->flags, sizeof t->flags, "%s", field(r, c->flags));
    t->spacegroup = atoi(field(r, c->spacegroup));
    t->score = num(field(r, c->score));
    t->mean = num(field(r, c->mean));
    t->sigma = num(field(r, c->sigma));
    t->class_prob = num(field(r, c->prob));
}

/* Reads up to keep rows of a ranked.csv (and, when d->rows is wanted, statistics). */
static ms_status read_ranked(const char *path, size_t keep, ranked_data *d, int stats)
{
    csv_reader r;
    memset(d, 0, sizeof *d);
    d->smin = d->sigmin = INFINITY;
    d->smax = d->sigmax = -INFINITY;
    if (!csv_open(&r, path)) return ms_error_set(MS_ERR_IO, "%s: %s", path, strerror(errno));
    int rc = csv_next(&r);
    ranked_cols c;
    ranked_columns(&r, &c);
    if (rc <= 0 || c.key < 0 || c.score < 0) {
        csv_close(&r);
        return ms_error_set(MS_ERR_PARSE, "%s:1: not a ranked.csv (no key and score columns)", path);
    }
    d->top = calloc(keep ? keep : 1, sizeof *d->top);
    if (stats && c.explain >= 0) d->why = calloc(WHY_ROWS, sizeof *d->why);
    if (!d->top || (stats && c.explain >= 0 && !d->why)) {
        csv_close(&r);
        free(d->top);
        free(d->why);
        return ms_error_set(MS_ERR_NOMEM, "out of memory");
    }
    while ((rc = csv_next(&r)) > 0) {
        if (r.n == 1 && !r.fields[0][0]) continue;
        if (d->why && d->n_top < keep && d->n_top < WHY_ROWS)
            snprintf(d->why[d->n_top], WHY_MAX, "%s", field(&r, c.explain));
        if (d->n_top < keep) fill_row(&r, &c, &d->top[d->n_top++]);
        if (!stats) {
            if (d->n_top >= keep) break;
            continue;
        }
        d->rows++;
        double s = num(field(&r, c.score)), sg = num(field(&r, c.sigma));
        if (isfinite(s)) d->smin = fmin(d->smin, s), d->smax = fmax(d->smax, s);
        if (isfinite(sg)) d->sigmin = fmin(d->sigmin, sg), d->sigmax = fmax(d->sigmax, sg), d->n_sigma++;
        if (isfinite(num(field(&r, c.mean)))) d->n_mean++;
        if (isfinite(num(field(&r, c.prob)))) d->n_prob++;
        const char *dom = field(&r, c.domain);
        if (c.domain >= 0 && (!strcmp(dom, "1") || !strcmp(dom, "true"))) d->n_in_domain++;
        else if (c.domain >= 0 && (!strcmp(dom, "0") || !strcmp(dom, "false"))) d->n_out_domain++;
    }
    if (stats && rc == 0 && d->rows) {
        /* second pass: histograms */
        double slo = d->smin, shi = d->smax, glo = 0, ghi = d->sigmax;
        pad_range(&slo, &shi);
        pad_range(&glo, &ghi);
        d->smin = slo, d->smax = shi, d->sigmin = glo, d->sigmax = ghi;
        rewind(r.f);
        r.next_line = 1;
        csv_next(&r);
        while ((rc = csv_next(&r)) > 0) {
            if (r.n == 1 && !r.fields[0][0]) continue;
            double s = num(field(&r, c.score)), sg = num(field(&r, c.sigma));
            if (isfinite(s)) {
                int b = (int)((s - slo) / (shi - slo) * HIST_BINS);
                d->hist_score[b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b]++;
            }
            if (isfinite(sg)) {
                int b = (int)((sg - glo) / (ghi - glo) * HIST_BINS);
                d->hist_sigma[b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b]++;
            }
        }
    }
    csv_close(&r);
    if (rc < 0) {
        free(d->top);
        free(d->why);
        d->top = NULL;
        d->why = NULL;
        return ms_error_set(MS_ERR_NOMEM, "out of memory reading %s", path);
    }
    return MS_SUCCESS;
}

static const top_row *find_key(const ranked_data *d, const char *key)
{
    for (size_t i = 0; i < d->n_top; i++)
        if (strcmp(d->top[i].key, key) == 0) return &d->top[i];
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Hashes of (key, stage) of an errors.csv, sorted; *n entries. NULL when there is no such
 * file, or (with *oom set) when memory ran out: then nothing can be called new. */
static uint64_t *error_hashes(const char *path, size_t *n, int *oom)
{
    *n = 0;
    *oom = 0;
    csv_reader r;
    if (!csv_open(&r, path)) return NULL;
    size_t cap = 0;
    uint64_t *h = NULL;
    int rc = csv_next(&r);
    int ck = csv_col(&r, "key"), cs = csv_col(&r, "stage");
    while (rc > 0 && (rc = csv_next(&r)) > 0) {
        if (r.n == 1 && !r.fields[0][0]) continue;
        if (ms_array_reserve(&h, &cap, *n + 1, sizeof *h, 256) != MS_SUCCESS) {
            rc = -1;
            break;
        }
        uint64_t x = ms_hash_bytes(field(&r, ck), strlen(field(&r, ck)));
        h[(*n)++] = ms_hash_update(x, field(&r, cs), strlen(field(&r, cs)));
    }
    csv_close(&r);
    if (rc < 0) {
        free(h);
        *n = 0;
        *oom = 1;
        return NULL;
    }
    if (h) qsort(h, *n, sizeof *h, cmp_u64);
    return h;
}

/* ---- sections ------------------------------------------------------------------------------ */

static void section_summary(FILE *o, const char *dir, const ms_report_options *opt, json_t *man,
                            json_t *qual, const ranked_data *d)
{
    fputs("<section id=\"summary\"><h2>Run summary</h2><table class=\"kv\">\n", o);
    if (opt->workflow_file) {
        fputs("<tr><th>workflow</th><td>", o);
        esc(o, opt->workflow_file);
        if (opt->has_workflow_hash) fprintf(o, " <span class=\"dim\">(hash %016llx)</span>",
                                            (unsigned long long)opt->workflow_hash);
        fputs("</td></tr>\n", o);
    }
    fputs("<tr><th>output directory</th><td>", o);
    esc(o, dir);
    fputs("</td></tr>\n", o);
    const char *version = json_string_value(json_object_get(man, "version"));
    if (version) {
        fputs("<tr><th>matscreen version</th><td>", o);
        esc(o, version);
        fputs("</td></tr>\n", o);
    }
    json_t *seed = json_object_get(man, "seed");
    if (json_is_integer(seed)) fprintf(o, "<tr><th>seed</th><td>%lld</td></tr>\n",
                                       (long long)json_integer_value(seed));
    const char *rank_by = json_string_value(json_object_get(man, "rank_by"));
    if (rank_by) {
        fputs("<tr><th>ranked by</th><td>", o);
        esc(o, rank_by);
        fputs(json_is_true(json_object_get(man, "ascending")) ? " (smaller first)" : " (larger first)", o);
        fputs("</td></tr>\n", o);
    }
    json_t *records = json_object_get(qual, "records");
    json_t *failed = json_object_get(qual, "failed");
    if (json_is_integer(records))
        fprintf(o, "<tr><th>records read</th><td>%lld</td></tr>\n",
                (long long)json_integer_value(records) + (long long)opt->filtered);
    if (json_is_integer(failed))
        fprintf(o, "<tr><th>records failed</th><td>%lld (see errors.csv)</td></tr>\n",
                (long long)json_integer_value(failed));
    if (opt->filters_text || opt->filtered) {
        fprintf(o, "<tr><th>removed by filters</th><td>%llu", opt->filtered);
        if (opt->filters_text) {
            fputs(" <span class=\"dim\">(", o);
            esc(o, opt->filters_text);
            fputs(")</span>", o);
        }
        fputs("</td></tr>\n", o);
    }
    fprintf(o, "<tr><th>candidates ranked</th><td>%llu</td></tr>\n", d->rows);
    json_t *inputs = json_object_get(man, "inputs");
    size_t i;
    json_t *in;
    json_array_foreach(inputs, i, in) {
        fputs("<tr><th>input</th><td>", o);
        esc(o, json_string_value(json_object_get(in, "spec")));
        json_t *rec = json_object_get(in, "records");
        if (json_is_integer(rec)) fprintf(o, " - %lld records", (long long)json_integer_value(rec));
        const char *h = json_string_value(json_object_get(in, "hash"));
        if (h) {
            fputs(" <span class=\"dim\">(hash ", o);
            esc(o, h);
            fputs(")</span>", o);
        }
        fputs("</td></tr>\n", o);
    }
    /* run-dependent values: one line each, marked */
    json_t *ranks = json_object_get(man, "ranks");
    if (json_is_integer(ranks))
        fprintf(o, "<tr data-volatile=\"1\"><th>MPI ranks</th><td>%lld</td></tr>\n",
                (long long)json_integer_value(ranks));
    json_t *tm = json_object_get(man, "timings");
    json_t *tot = json_object_get(tm, "total_seconds"), *rps = json_object_get(tm, "records_per_second");
    if (json_is_number(tot))
        fprintf(o, "<tr data-volatile=\"1\"><th>wall time</th><td>%.3g s</td></tr>\n", json_number_value(tot));
    if (json_is_number(rps))
        fprintf(o, "<tr data-volatile=\"1\"><th>throughput</th><td>%.4g records/s</td></tr>\n",
                json_number_value(rps));
    fputs("</table></section>\n", o);
}

/* The previous run's top-K from the state store, as ranked_data (top only). */
static ms_status history_ranked(const ms_report_history *h, ranked_data *d)
{
    memset(d, 0, sizeof *d);
    d->top = calloc(h->n_top ? h->n_top : 1, sizeof *d->top);
    if (!d->top) return ms_error_set(MS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < h->n_top; i++) {
        top_row *t = &d->top[i];
        snprintf(t->key, sizeof t->key, "%s", h->top[i].key ? h->top[i].key : "");
        snprintf(t->formula, sizeof t->formula, "%s", h->top[i].formula ? h->top[i].formula : "");
        snprintf(t->source_id, sizeof t->source_id, "%s",
                 h->top[i].source_id ? h->top[i].source_id : "");
        t->score = h->top[i].score;
    }
    d->n_top = d->rows = h->n_top;
    return MS_SUCCESS;
}

/* Sorted hashes of (key, stage) of the previous run's errors from the state store. */
static uint64_t *history_error_hashes(const ms_report_history *h, size_t *n)
{
    *n = 0;
    uint64_t *x = malloc((h->n_errors ? h->n_errors : 1) * sizeof *x);
    if (!x) return NULL;
    for (size_t i = 0; i < h->n_errors; i++) {
        const char *k = h->errors[i].key ? h->errors[i].key : "";
        const char *st = h->errors[i].stage ? h->errors[i].stage : "";
        x[i] = ms_hash_update(ms_hash_bytes(k, strlen(k)), st, strlen(st));
    }
    *n = h->n_errors;
    qsort(x, *n, sizeof *x, cmp_u64);
    return x;
}

#define INPUT_ROWS 200 /* recomputed or removed inputs listed in the report */

/* The state store's account of this run's inputs: reused, recomputed (new, changed, new
 * identity) and removed, with the list of those inputs (first INPUT_ROWS). */
/* A list of n rows: folded under a summary line when longer than COLLAPSE_ROWS, so that the
 * counts and the candidates stay on the first screen of a night with thousands of new files. */
static void fold_open(FILE *o, size_t n, const char *what)
{
    if (n > COLLAPSE_ROWS) fprintf(o, "<details><summary>%zu %s (click to list)</summary>\n", n, what);
}

static void fold_close(FILE *o, size_t n)
{
    if (n > COLLAPSE_ROWS) fputs("</details>\n", o);
}

static void section_inputs(FILE *o, const ms_report_history *h)
{
    size_t n_new = 0, n_changed = 0, n_identity = 0, n_removed = 0;
    for (size_t i = 0; i < h->n_inputs; i++) {
        const char *kd = h->inputs[i].kind;
        if (!strcmp(kd, "new")) n_new++;
        else if (!strcmp(kd, "changed")) n_changed++;
        else if (!strcmp(kd, "removed")) n_removed++;
        else n_identity++;
    }
    fprintf(o, "<ul class=\"counts\" id=\"inputs-counts\"><li><b>%llu</b> inputs reused from the "
               "state store</li><li><b>%llu</b> computed</li><li><b>%zu</b> new inputs</li>"
               "<li><b>%zu</b> changed inputs</li><li><b>%zu</b> recomputed for new models or "
               "descriptors</li><li><b>%zu</b> removed inputs</li></ul>\n",
            h->reused, h->computed, n_new, n_changed, n_identity, n_removed);
    if (!h->n_inputs) return;
    fputs("<h3>Inputs new, changed, recomputed or removed since the previous run</h3>\n", o);
    fold_open(o, h->n_inputs, "inputs new, changed, recomputed or removed");
    fputs("<table id=\"inputs\"><tr><th>change</th><th>input</th><th>bytes</th></tr>\n", o);
    for (size_t i = 0; i < h->n_inputs && i < INPUT_ROWS; i++) {
        const ms_report_input_change *c = &h->inputs[i];
        fputs("<tr class=\"input-change\"><td>", o);
        /* the state store's "identity": same bytes, computed again for new models/descriptors */
        esc(o, strcmp(c->kind, "identity") ? c->kind : "recomputed");
        fputs("</td><td>", o);
        esc(o, c->path ? c->path : "");
        if (c->length >= 0) fprintf(o, "</td><td>%lld+%lld</td></tr>\n", c->offset, c->length);
        else fputs("</td><td>whole file</td></tr>\n", o);
    }
    fputs("</table>\n", o);
    if (h->n_inputs > INPUT_ROWS)
        fprintf(o, "<p class=\"dim\">... and %zu more (table changes of the state store)</p>\n",
                h->n_inputs - INPUT_ROWS);
    fold_close(o, h->n_inputs);
}

/* The errors of this run (dir/errors.csv) that the previous run did not have, by (key, stage):
 * counts them and keeps the first ERROR_ROWS as "key\x1fstage\x1freason" rows. Without a previous
 * errors file every error is new. *oom_line is the line where reading stopped short, or 0. */
typedef struct {
    size_t n;                    /* new errors found */
    size_t n_rows;               /* of which kept in rows */
    char rows[ERROR_ROWS][700];
    long oom_line;
    int prev_oom;                /* the previous run's errors could not be read */
} new_errors;

static void find_new_errors(const char *ep, const ms_report_options *opt,
                            const ms_report_history *h, new_errors *e)
{
    char pp[REPORT_PATH_MAX];
    size_t n_prev_err = 0;
    uint64_t *prev_err;
    if (h) {
        prev_err = history_error_hashes(h, &n_prev_err);
        e->prev_oom = !prev_err;
    } else {
        snprintf(pp, sizeof pp, "%s/errors.csv", opt->previous_dir);
        prev_err = error_hashes(pp, &n_prev_err, &e->prev_oom);
    }
    csv_reader r;
    if (!e->prev_oom && csv_open(&r, ep)) {
        int rc = csv_next(&r);
        int ck = csv_col(&r, "key"), cs = csv_col(&r, "stage"), cr = csv_col(&r, "reason");
        while (rc > 0 && (rc = csv_next(&r)) > 0) {
            if (r.n == 1 && !r.fields[0][0]) continue;
            uint64_t x = ms_hash_bytes(field(&r, ck), strlen(field(&r, ck)));
            x = ms_hash_update(x, field(&r, cs), strlen(field(&r, cs)));
            if (prev_err && bsearch(&x, prev_err, n_prev_err, sizeof x, cmp_u64)) continue;
            e->n++;
            if (e->n_rows < ERROR_ROWS)
                snprintf(e->rows[e->n_rows++], sizeof e->rows[0], "%s\x1f%s\x1f%s",
                         field(&r, ck), field(&r, cs), field(&r, cr));
        }
        if (rc < 0) e->oom_line = r.line;
        csv_close(&r);
    }
    free(prev_err);
}

static int score_changed(const top_row *p, const top_row *c)
{
    return fabs(p->score - c->score) > 1e-9 * fmax(1, fabs(p->score));
}

/* One row of a top-K change table: rank, formula, then the source or the earlier score. */
static void change_row(FILE *o, size_t rank, const top_row *t, const char *third,
                       const char *fourth)
{
    fprintf(o, "<tr><td>%zu</td><td>", rank);
    esc(o, t->formula);
    fputs("</td><td>", o);
    esc(o, third);
    fprintf(o, "</td><td>%s</td></tr>\n", fourth);
}

/* The three top-K tables: entered, left, changed score (each folded when long). */
static void changes_tables(FILE *o, const ranked_data *cur, const ranked_data *prev, size_t kc,
                           size_t n_new, size_t n_left, size_t n_changed)
{
    char a[32], b[32];
    if (n_new) {
        fputs("<h3>New in the top-K</h3>", o);
        fold_open(o, n_new, "new in the top-K");
        fputs("<table><tr><th>rank</th><th>formula</th><th>source</th>"
              "<th>score</th></tr>\n", o);
        for (size_t i = 0; i < kc; i++) {
            if (find_key(prev, cur->top[i].key)) continue;
            fmt_num(a, sizeof a, cur->top[i].score);
            change_row(o, i + 1, &cur->top[i], cur->top[i].source_id, a);
        }
        fputs("</table>\n", o);
        fold_close(o, n_new);
    }
    if (n_left) {
        fputs("<h3>Left the top-K</h3>", o);
        fold_open(o, n_left, "left the top-K");
        fputs("<table><tr><th>previous rank</th><th>formula</th><th>source</th>"
              "<th>previous score</th></tr>\n", o);
        for (size_t i = 0; i < prev->n_top; i++) {
            const top_row *c = find_key(cur, prev->top[i].key);
            if (c && (size_t)(c - cur->top) < kc) continue;
            fmt_num(a, sizeof a, prev->top[i].score);
            change_row(o, i + 1, &prev->top[i], prev->top[i].source_id, a);
        }
        fputs("</table>\n", o);
        fold_close(o, n_left);
    }
    if (n_changed) {
        fputs("<h3>Changed scores</h3>", o);
        fold_open(o, n_changed, "changed scores");
        fputs("<table><tr><th>rank</th><th>formula</th><th>before</th>"
              "<th>now</th></tr>\n", o);
        for (size_t i = 0; i < kc; i++) {
            const top_row *p = find_key(prev, cur->top[i].key);
            if (!p || !score_changed(p, &cur->top[i])) continue;
            fmt_num(a, sizeof a, p->score);
            fmt_num(b, sizeof b, cur->top[i].score);
            change_row(o, i + 1, &cur->top[i], a, b);
        }
        fputs("</table>\n", o);
        fold_close(o, n_changed);
    }
}

static void new_errors_table(FILE *o, new_errors *e)
{
    if (!e->n_rows) return;
    fputs("<h3>New errors</h3>", o);
    fold_open(o, e->n_rows, "new errors");
    fputs("<table><tr><th>record</th><th>stage</th><th>reason</th></tr>\n", o);
    for (size_t i = 0; i < e->n_rows; i++) {
        char *a = e->rows[i], *b = strchr(a, '\x1f'), *c = b ? strchr(b + 1, '\x1f') : NULL;
        if (!b || !c) continue;
        *b++ = 0;
        *c++ = 0;
        fputs("<tr><td>", o);
        esc(o, a);
        fputs("</td><td>", o);
        esc(o, b);
        fputs("</td><td>", o);
        esc(o, c);
        fputs("</td></tr>\n", o);
    }
    fputs("</table>\n", o);
    fold_close(o, e->n_rows);
}

static void section_changes(FILE *o, const char *dir, const ms_report_options *opt,
                            const ranked_data *cur, size_t k)
{
    fputs("<section id=\"changes\"><h2>Changes since the previous run</h2>\n", o);
    char path[REPORT_PATH_MAX];
    ranked_data prev;
    memset(&prev, 0, sizeof prev);
    const ms_report_history *h = opt->history;
    if (h) {
        section_inputs(o, h);
        if (!h->has_previous || history_ranked(h, &prev) != MS_SUCCESS) {
            fputs("<p>No previous run in the state store: this is the first, so everything is "
                  "new.</p></section>\n", o);
            return;
        }
    } else {
        if (opt->previous_dir) snprintf(path, sizeof path, "%s/ranked.csv", opt->previous_dir);
        if (!opt->previous_dir || read_ranked(path, k, &prev, 0) != MS_SUCCESS) {
            fputs("<p>No previous run in this directory: this is the first, so everything is "
                  "new.</p></section>\n", o);
            return;
        }
    }
    size_t kc = cur->n_top < k ? cur->n_top : k;
    size_t n_new = 0, n_left = 0, n_changed = 0;
    for (size_t i = 0; i < kc; i++) {
        const top_row *p = find_key(&prev, cur->top[i].key);
        if (!p) n_new++;
        else if (score_changed(p, &cur->top[i])) n_changed++;
    }
    for (size_t i = 0; i < prev.n_top; i++) {
        const top_row *c = find_key(cur, prev.top[i].key);
        if (!c || (size_t)(c - cur->top) >= kc) n_left++;
    }
    new_errors *e = calloc(1, sizeof *e);
    if (!e) {
        free(prev.top);
        fputs("<p>Out of memory comparing with the previous run.</p></section>\n", o);
        return;
    }
    snprintf(path, sizeof path, "%s/errors.csv", dir);
    find_new_errors(path, opt, h, e);
    fprintf(o, "<ul class=\"counts\"><li><b>%zu</b> new in the top %zu</li><li><b>%zu</b> left the "
               "top %zu</li><li><b>%zu</b> changed score</li>", n_new, k, n_left, k, n_changed);
    if (e->prev_oom)
        fputs("<li>new errors: not known (out of memory reading the previous run's errors)</li>"
              "</ul>\n", o);
    else
        fprintf(o, "<li><b>%zu</b>%s new errors</li></ul>\n", e->n, e->oom_line ? " or more" : "");
    if (e->oom_line) say_incomplete(o, path, e->oom_line);
    changes_tables(o, cur, &prev, kc, n_new, n_left, n_changed);
    new_errors_table(o, e);
    free(e);
    free(prev.top);
    fputs("</section>\n", o);
}

/* The models' domain of applicability (manifest "domain", screen.h): how many candidates were
 * out of it and why. Nothing when the screen scored no domain. */
static void section_domain(FILE *o, const json_t *man)
{
    const json_t *dm = json_object_get(man, "domain");
    if (!json_is_object(dm)) return;
    json_int_t in = json_integer_value(json_object_get(dm, "in_domain"));
    json_int_t out = json_integer_value(json_object_get(dm, "out_of_domain"));
    json_int_t el = json_integer_value(json_object_get(dm, "unseen_elements"));
    json_int_t far = json_integer_value(json_object_get(dm, "far"));
    const char *mode = json_string_value(json_object_get(dm, "mode"));
    double th = json_number_value(json_object_get(dm, "threshold"));
    /* The manifest counts screened records, before duplicates merge into one candidate: the
     * Models section's counts are of ranked.csv's candidates, so the units are named. */
    fputs("<section id=\"domain\"><h2>Domain of applicability</h2>\n<table class=\"kv\">\n", o);
    fprintf(o, "<tr><th>records in the model's domain</th><td>%lld</td></tr>\n", (long long)in);
    fprintf(o, "<tr><th>records out of it</th><td>%lld (%lld with elements never seen in training, "
               "%lld far from the training rows)</td></tr>\n", (long long)out, (long long)el,
            (long long)far);
    if (th > 0) fprintf(o, "<tr><th>threshold</th><td>score &le; %.4g (1.0 = as far as a typical "
                           "unseen chemical system)</td></tr>\n", th);
    fputs("<tr><th>ranking</th><td>", o);
    esc(o, mode && !strcmp(mode, "rank") ? "out-of-domain candidates rank after in-domain ones"
           : mode && !strcmp(mode, "gate") ? "scores multiplied by a smooth domain weight"
                                           : "not changed by the domain (--domain off)");
    fputs("</td></tr>\n</table>\n<p class=\"dim\">Counted over the screened records, before "
          "duplicates are merged into one candidate of ranked.csv.</p></section>\n", o);
}

/* One line above everything: what the run found and how fast, the figure of the summary line. */
static void section_headline(FILE *o, json_t *man, json_t *qual, const ms_report_options *opt,
                             const ranked_data *d)
{
    json_t *rec = json_object_get(qual, "records"), *failed = json_object_get(qual, "failed");
    json_t *rps = json_object_get(json_object_get(man, "timings"), "records_per_second");
    fprintf(o, "<p class=\"lead\" id=\"headline\"><b>%llu</b> candidates ranked", d->rows);
    if (json_is_integer(rec))
        fprintf(o, " from <b>%lld</b> records", (long long)json_integer_value(rec) + (long long)opt->filtered);
    if (json_is_integer(failed) && json_integer_value(failed) > 0)
        fprintf(o, " (<b>%lld</b> failed, listed under Errors)", (long long)json_integer_value(failed));
    if (opt->filtered) fprintf(o, "; %llu removed by the filters", opt->filtered);
    if (json_is_number(rps))
        fprintf(o, "<span data-volatile=\"1\">; %.4g records/s</span>", json_number_value(rps));
    fputs(".</p>\n", o);
}

/* The models that scored the run (manifest.json): learner, task, training rows, CV metrics. */
static void section_models(FILE *o, json_t *man, const ranked_data *d)
{
    json_t *models = json_object_get(man, "models");
    if (!json_is_array(models) || json_array_size(models) == 0) return;
    fputs("<section id=\"models\"><h2>Models</h2><table id=\"models-table\"><tr><th>role</th>"
          "<th>file</th><th>learner</th><th>target</th><th>training rows</th><th>descriptors</th>"
          "<th>cross-validation</th></tr>\n", o);
    size_t i;
    json_t *v;
    json_array_foreach(models, i, v) {
        const char *path = json_string_value(json_object_get(v, "path"));
        const char *role = json_string_value(json_object_get(v, "role"));
        fputs("<tr><td>", o);
        esc(o, role ? role : "?");
        fputs("</td><td class=\"file\">", o);
        esc(o, path ? path : "?");
        ms_model *m = NULL;
        if (!path || ms_model_load(path, &m) != MS_SUCCESS) {
            fputs("</td><td colspan=\"5\" class=\"dim\">", o);
            escf(o, "not readable now: %s", path ? ms_error_message() : "no path");
            fputs("</td></tr>\n", o);
            continue;
        }
        fprintf(o, "</td><td>%s %s</td><td>", m->type->name,
                m->task == MS_MODEL_CLASSIFICATION ? "classifier" : "regressor");
        if (m->task == MS_MODEL_CLASSIFICATION && isfinite(m->threshold))
            escf(o, "%s >= %g", m->target ? m->target : "target", m->threshold);
        else escf(o, "%s%s%s%s", m->log10_target ? "log10(" : "", m->target ? m->target : "",
                  m->log10_target ? ")" : "", "");
        fprintf(o, "</td><td>%zu</td><td>", m->n_train);
        escf(o, "%s v%d", m->descriptor_set ? m->descriptor_set : "", m->descriptor_version);
        fputs("</td><td>", o);
        int any = 0;
        for (size_t q = 0; q < m->n_metrics; q++) {
            const char *nm = m->metric_name[q], *u = strchr(nm, '_');
            static const char *const shown[] = {"mae", "rmse", "r2", "within1", "accuracy",
                                                "roc_auc", "f1"};
            if (strncmp(nm, "cv", 2) || !u) continue;
            for (size_t z = 0; z < sizeof shown / sizeof shown[0]; z++)
                if (!strcmp(u + 1, shown[z])) {
                    escf(o, "%s%s %.3g", any ? ", " : "", u + 1, m->metric_value[q]);
                    any = 1;
                }
        }
        if (!any) fputs("<span class=\"dim\">none stored</span>", o);
        fputs("</td></tr>\n", o);
        ms_model_free(m);
    }
    fputs("</table>\n", o);
    if (d->n_in_domain + d->n_out_domain)
        fprintf(o, "<p id=\"domain-counts\">Domain of applicability: <b>%llu</b> candidates inside "
                   "the training data's domain, <b>%llu</b> outside (their predictions are "
                   "extrapolations).</p>\n", d->n_in_domain, d->n_out_domain);
    fputs("<p class=\"dim\">Cross-validation: out-of-fold metrics stored in the model file "
          "(regressors in the units trained on; within1 is the share of observations within one "
          "sigma).</p></section>\n", o);
}

/* What the top-K table and plot can show: sigma belongs to the surrogate's mean, so it is drawn
 * around the score only when the score is that mean (ranking by the mean); otherwise the plot
 * shows the mean with its sigma and the table bars show the score alone. */
typedef struct {
    size_t n;                      /* rows shown */
    int has_sigma, has_mean, has_prob, score_is_mean;
    double lo, hi;                 /* score axis of the inline bars */
} topk_view;

static void topk_view_init(const ranked_data *d, size_t k, topk_view *v)
{
    memset(v, 0, sizeof *v);
    v->n = d->n_top < k ? d->n_top : k;
    v->lo = INFINITY, v->hi = -INFINITY;
    v->score_is_mean = v->n > 0;
    for (size_t i = 0; i < v->n && i < TABLE_ROWS; i++) {
        const top_row *t = &d->top[i];
        v->has_sigma |= isfinite(t->sigma);
        v->has_mean |= isfinite(t->mean);
        v->has_prob |= isfinite(t->class_prob);
        if (!(isfinite(t->mean) && fabs(t->score - t->mean) <= 1e-9 * (1 + fabs(t->mean))))
            v->score_is_mean = 0;
    }
    for (size_t i = 0; i < v->n && i < TABLE_ROWS; i++) {
        const top_row *t = &d->top[i];
        double s = v->score_is_mean && isfinite(t->sigma) ? t->sigma : 0;
        if (isfinite(t->score)) v->lo = fmin(v->lo, t->score - s), v->hi = fmax(v->hi, t->score + s);
    }
    if (v->lo > 0) v->lo = 0; /* positive scores: bars from zero */
    pad_range(&v->lo, &v->hi);
}

/* Inline bar of one score: it grows to the right from the axis minimum, so that with negative
 * scores (log10 targets) the best candidate still has the longest bar. */
static void topk_bar(FILE *o, const topk_view *v, const top_row *t)
{
    const double W = 120;
    double span = v->hi - v->lo, xs = isfinite(t->score) ? (t->score - v->lo) / span * W : 0;
    fprintf(o, "<svg class=\"ubar\" width=\"120\" height=\"12\" viewBox=\"0 0 120 12\">"
               "<rect x=\"0\" y=\"3\" width=\"%.1f\" height=\"6\" class=\"bar\"/>", xs);
    if (v->score_is_mean && isfinite(t->sigma) && isfinite(t->score)) {
        double a = (t->score - t->sigma - v->lo) / span * W, b = (t->score + t->sigma - v->lo) / span * W;
        fprintf(o, "<line x1=\"%.1f\" y1=\"6\" x2=\"%.1f\" y2=\"6\" class=\"err\"/>"
                   "<line x1=\"%.1f\" y1=\"2\" x2=\"%.1f\" y2=\"10\" class=\"err\"/>"
                   "<line x1=\"%.1f\" y1=\"2\" x2=\"%.1f\" y2=\"10\" class=\"err\"/>", a, b, a, a, b, b);
    }
    fputs("</svg>", o);
}

/* One item of an explain field of ranked.csv ("name=value:contribution; ...", results.c), split
 * from the right: values and contributions are plain numbers, names may hold anything but "; ".
 * Cuts item in place; *value is "" and the result NaN when the item is not of that form. */
static double why_item(char *item, const char **value)
{
    char *colon = strrchr(item, ':'), *eq = NULL;
    if (colon) *colon = '\0';
    if (colon) eq = strrchr(item, '=');
    if (eq) *eq = '\0';
    *value = eq ? eq + 1 : "";
    return colon && eq ? num(colon + 1) : NAN;
}

/* Calls fn on each item of an explain field (why_item's three parts). */
static void why_each(const char *why, void (*fn)(void *ctx, const char *name, const char *value,
                                                 double c), void *ctx)
{
    char item[WHY_MAX];
    while (*why) {
        const char *end = strstr(why, "; ");
        size_t n = end ? (size_t)(end - why) : strlen(why);
        snprintf(item, sizeof item, "%.*s", (int)n, why);
        why += end ? n + 2 : n;
        const char *value;
        double c = why_item(item, &value);
        fn(ctx, item, value, c);
    }
}

static void why_max(void *ctx, const char *name, const char *value, double c)
{
    (void)name, (void)value;
    double *m = ctx;
    if (isfinite(c)) *m = fmax(*m, fabs(c));
}

typedef struct {
    FILE *o;
    double scale; /* largest |contribution| of the table: half a bar */
} why_out;

/* One contribution: a bar growing right (raises the prediction) or left from the middle, the
 * signed value, the feature and its value. */
static void why_line(void *ctx, const char *name, const char *value, double c)
{
    const why_out *w = ctx;
    double len = isfinite(c) && w->scale > 0 ? fabs(c) / w->scale * 40 : 0;
    fprintf(w->o, "<div><svg class=\"ubar\" width=\"84\" height=\"10\" viewBox=\"0 0 84 10\">"
                     "<line x1=\"42\" y1=\"0\" x2=\"42\" y2=\"10\" class=\"grid\"/><rect x=\"%.1f\" y=\"2\" "
                     "width=\"%.1f\" height=\"6\" class=\"%s\"/></svg> <span class=\"%s\">",
            c < 0 ? 42 - len : 42, len, c < 0 ? "bar bad" : "bar", c < 0 ? "down" : "up");
    if (isfinite(c)) fprintf(w->o, "%+.3g", c);
    else fputs("?", w->o);
    fputs("</span> ", w->o);
    esc(w->o, name);
    if (*value) {
        fputs(" = ", w->o);
        esc(w->o, value);
    }
    fputs("</div>", w->o);
}

/* Why each of the best candidates scored as it did (screen --explain: ranked.csv's explain
 * column): its largest feature contributions, on one scale for the whole table. */
static void topk_why(FILE *o, const ranked_data *d, const topk_view *v)
{
    size_t n = v->n < WHY_ROWS ? v->n : WHY_ROWS;
    double m = 0;
    for (size_t i = 0; i < n; i++) why_each(d->why[i], why_max, &m);
    why_out w = {o, m};
    fputs("<h3>Why these candidates</h3>\n<div class=\"wide\"><table id=\"topk-why\"><tr><th>rank</th>"
          "<th>formula</th><th>prediction</th><th>largest contributions: feature = value</th></tr>\n", o);
    for (size_t i = 0; i < n; i++) {
        const top_row *t = &d->top[i];
        char pm[32];
        fmt_num(pm, sizeof pm, isfinite(t->mean) ? t->mean : t->class_prob);
        fprintf(o, "<tr><td>%zu</td><td><b>", i + 1);
        esc(o, t->formula);
        fprintf(o, "</b></td><td class=\"num\">%s</td><td class=\"why\">", pm);
        why_each(d->why[i], why_line, &w);
        fputs("</td></tr>\n", o);
    }
    fputs("</table></div>\n<p class=\"dim\">Each candidate's largest feature contributions to the "
          "model's prediction (TreeSHAP for a forest, XGBoost's own for a gbm), in the prediction's "
          "units: with the model's expected value, all contributions sum to the prediction. "
          "Right (green) raises it, left (red) lowers it; bars share one scale.", o);
    if (v->n > n) fprintf(o, " The first %zu of %zu are shown; ranked.csv and ranked.jsonl have "
                             "them for every candidate.", n, v->n);
    fputs("</p>\n", o);
}

static void topk_table(FILE *o, const ranked_data *d, const topk_view *v)
{
    fputs("<div class=\"wide\"><table id=\"topk-table\"><tr><th>rank</th><th>formula and file</th>"
          "<th>source</th><th>space group</th>", o);
    if (v->has_prob) fputs("<th>class p</th>", o);
    if (v->has_mean) fputs("<th>mean &#177; &#963;</th>", o);
    fprintf(o, "<th>score</th><th>%s</th><th>flags</th></tr>\n",
            v->score_is_mean ? "score &#177; &#963;" : "score");
    for (size_t i = 0; i < v->n && i < TABLE_ROWS; i++) {
        const top_row *t = &d->top[i];
        char s[32], m[32], sg[32], p[32];
        fmt_num(s, sizeof s, t->score);
        fmt_num(m, sizeof m, t->mean);
        fmt_num(sg, sizeof sg, t->sigma);
        fmt_num(p, sizeof p, t->class_prob);
        fprintf(o, "<tr><td>%zu</td><td><b>", i + 1);
        esc(o, t->formula);
        fputs("</b><div class=\"file\">", o);
        esc(o, t->file);
        fputs("</div></td><td>", o);
        esc(o, t->db);
        fputs(" <span class=\"dim\">", o);
        esc(o, t->source_id);
        fputs("</span></td><td>", o);
        if (t->spacegroup > 0) fprintf(o, "%d", t->spacegroup);
        else fputs("-", o);
        fputs("</td>", o);
        if (v->has_prob) fprintf(o, "<td>%s</td>", p);
        if (v->has_mean) fprintf(o, "<td class=\"num\">%s &#177; %s</td>", m, sg);
        fprintf(o, "<td>%s</td><td>", s);
        topk_bar(o, v, t);
        fputs("</td><td class=\"flags\">", o);
        esc(o, t->flags);
        fputs("</td></tr>\n", o);
    }
    fputs("</table></div>\n", o);
    if (v->n > TABLE_ROWS) fprintf(o, "<p class=\"dim\">The first %d of %zu are shown; ranked.csv "
                                      "has them all.</p>\n", TABLE_ROWS, v->n);
}

/* Plot of the best: the score, or - when ranked by an acquisition - the surrogate mean, with
 * one-sigma bars. */
static void topk_plot(FILE *o, const ranked_data *d, const topk_view *v)
{
    int show_mean = v->has_mean && !v->score_is_mean;
    size_t np = v->n < PLOT_ROWS ? v->n : PLOT_ROWS;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < np; i++) {
        const top_row *t = &d->top[i];
        double y = show_mean ? t->mean : t->score, s = isfinite(t->sigma) && (show_mean || v->score_is_mean) ? t->sigma : 0;
        if (isfinite(y)) lo = fmin(lo, y - s), hi = fmax(hi, y + s);
    }
    if (!(lo <= hi)) lo = 0, hi = 1;
    pad_range(&lo, &hi);
    int bars = v->has_sigma && (show_mean || v->score_is_mean);
    frame f = {0.5, (double)np + 0.5, lo, hi, 60, 15, 560, 200};
    svg_open(o, "plot-topk", show_mean ? "surrogate prediction of the top-K with uncertainty"
                                       : "top-K scores with uncertainty", 640, 265);
    svg_axes(o, &f, "rank", show_mean ? "surrogate mean (bars: ± σ)"
                                      : bars ? "score (bars: ± σ)" : "score", 2);
    for (size_t i = 0; i < np; i++) {
        const top_row *t = &d->top[i];
        double yv = show_mean ? t->mean : t->score;
        if (!isfinite(yv)) continue;
        double x = px(&f, (double)(i + 1)), y = py(&f, yv);
        if (bars && isfinite(t->sigma)) {
            double y1 = py(&f, yv - t->sigma), y2 = py(&f, yv + t->sigma);
            fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"err\"/>"
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"err\"/>"
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"err\"/>\n",
                    x, y1, x, y2, x - 3, y1, x + 3, y1, x - 3, y2, x + 3, y2);
        }
        fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" class=\"pt\"><title>", x, y);
        escf(o, "%zu. %s: %.4g", i + 1, t->formula, yv);
        fputs("</title></circle>\n", o);
    }
    svg_close(o, show_mean ? "Surrogate prediction of the best candidates in rank order (they are "
                             "ranked by the acquisition score); bars span one standard deviation."
                 : bars ? "Score of the best candidates; bars span one standard deviation of the "
                          "surrogate model."
                        : "Score of the best candidates (no model uncertainty in this run).");
}

static void section_topk(FILE *o, const ranked_data *d, size_t k)
{
    topk_view v;
    topk_view_init(d, k, &v);
    fprintf(o, "<section id=\"topk\"><h2>Top %zu candidates</h2>\n", v.n);
    if (v.n == 0) {
        fputs("<p>No candidate was ranked.</p></section>\n", o);
        return;
    }
    if (!v.has_sigma)
        fputs("<p class=\"dim\">No uncertainty: no surrogate model scored this run, so the bars show "
              "the score alone.</p>\n", o);
    topk_table(o, d, &v);
    topk_plot(o, d, &v);
    if (d->why) topk_why(o, d, &v);
    fputs("</section>\n", o);
}

static void section_distributions(FILE *o, const ranked_data *d, const char *rank_by)
{
    fputs("<section id=\"distributions\"><h2>Distributions</h2>\n", o);
    if (d->rows == 0) {
        fputs("<p>No candidate was ranked.</p></section>\n", o);
        return;
    }
    char xl[128];
    snprintf(xl, sizeof xl, "score%s%s%s", rank_by ? " (" : "", rank_by ? rank_by : "", rank_by ? ")" : "");
    svg_histogram(o, "plot-scores", "score distribution", xl, d->hist_score, HIST_BINS, d->smin,
                  d->smax, "Scores of all ranked candidates.");
    if (d->n_sigma)
        svg_histogram(o, "plot-sigma", "uncertainty distribution", "surrogate σ", d->hist_sigma,
                      HIST_BINS, d->sigmin, d->sigmax, "Standard deviation of the surrogate "
                                                       "prediction over all ranked candidates.");
    else
        fputs("<p id=\"plot-sigma-none\" class=\"dim\">No uncertainty distribution: no surrogate "
              "model scored this run.</p>\n", o);
    fputs("</section>\n", o);
}

static void section_quality(FILE *o, json_t *q, unsigned long long filtered, unsigned long long ranked)
{
    fputs("<section id=\"quality\"><h2>Data quality</h2>\n", o);
    struct { const char *label; long long v; } bars[16];
    int nb = 0;
    static const char *const keys[][2] = {{"records", "records read"}, {"screened", "screened"},
                                          {"failed", "failed"}, {"unique_candidates", "unique"},
                                          {"duplicates_merged", "duplicates merged"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(q, keys[i][0]);
        /* the engine never sees filtered candidates: they were read and screened */
        long long extra = i < 2 ? (long long)filtered : 0;
        if (json_is_integer(v))
            bars[nb].label = keys[i][1], bars[nb++].v = (long long)json_integer_value(v) + extra;
    }
    bars[nb].label = "filtered out", bars[nb++].v = (long long)filtered;
    bars[nb].label = "ranked", bars[nb++].v = (long long)ranked;
    long long maxv = 1;
    for (int i = 0; i < nb; i++)
        if (bars[i].v > maxv) maxv = bars[i].v;
    frame f = {0, (double)maxv * 1.1, 0, (double)nb, 140, 10, 440, 22.0 * nb};
    svg_open(o, "plot-quality", "data-quality counts", 640, (int)(22.0 * nb + 50));
    fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"area\"/>\n",
            f.left, f.top, f.w, f.h);
    for (int i = 0; i < nb; i++) {
        double y = f.top + 22.0 * i + 4, w = (double)bars[i].v / f.x1 * f.w;
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>"
                   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" class=\"bar%s\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%lld</text>\n",
                f.left - 6, y + 11, bars[i].label, f.left, y, w,
                strcmp(bars[i].label, "failed") == 0 ? " bad" : "", f.left + w + 4, y + 11, bars[i].v);
    }
    svg_close(o, "Records through the run: read, screened, failed, unique after de-duplication, "
                 "removed by the workflow's filters, ranked.");
    /* failures by stage / status, and the six criteria */
    const char *groups[] = {"failed_by_stage", "failed_by_status"};
    for (int g = 0; g < 2; g++) {
        json_t *obj = json_object_get(q, groups[g]);
        if (!json_is_object(obj) || json_object_size(obj) == 0) continue;
        fprintf(o, "<h3>%s</h3><table>", g == 0 ? "Failures by stage" : "Failures by status");
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v) {
            fputs("<tr><th>", o);
            esc(o, k);
            fprintf(o, "</th><td>%lld</td></tr>", (long long)json_integer_value(v));
        }
        fputs("</table>\n", o);
    }
    json_t *crit = json_object_get(q, "criteria");
    if (json_is_object(crit)) {
        fputs("<h3>The six criteria</h3><table id=\"criteria\"><tr><th>criterion</th><th>measure"
              "</th><th>value</th></tr>", o);
        const char *k;
        json_t *v;
        json_object_foreach(crit, k, v) {
            size_t rows = json_is_object(v) && json_object_size(v) ? json_object_size(v) : 1;
            fprintf(o, "<tr><th rowspan=\"%zu\">", rows);
            esc(o, k);
            fputs("</th>", o);
            if (!json_is_object(v) || json_object_size(v) == 0) {
                fputs("<td colspan=\"2\" class=\"dim\">not assessed by this run's stages</td>"
                      "</tr>\n", o);
                continue;
            }
            const char *mk;
            json_t *mv;
            int first = 1;
            json_object_foreach(v, mk, mv) {
                if (!first) fputs("<tr>", o);
                first = 0;
                char label[128];
                snprintf(label, sizeof label, "%s", mk);
                for (char *c = label; *c; c++)
                    if (*c == '_') *c = ' ';
                fputs("<td>", o);
                esc(o, label);
                fputs("</td><td>", o);
                if (json_is_integer(mv)) fprintf(o, "%lld", (long long)json_integer_value(mv));
                else if (json_is_real(mv)) fprintf(o, "%.4g", json_real_value(mv));
                else if (json_is_string(mv)) esc(o, json_string_value(mv));
                else if (json_is_null(mv)) fputs("<span class=\"dim\">-</span>", o);
                else {
                    char *t = json_dumps(mv, JSON_COMPACT | JSON_PRESERVE_ORDER);
                    esc(o, t ? t : "");
                    free(t);
                }
                fputs("</td></tr>\n", o);
            }
        }
        fputs("</table>\n", o);
    }
    fputs("</section>\n", o);
}

/* z such that P(|Z| <= z) = p for a standard normal Z (central interval). */
static const double calib_p[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99};
static const double calib_z[] = {0.12566, 0.25335, 0.38532, 0.52440, 0.67449, 0.84162,
                                 1.03643, 1.28155, 1.64485, 1.95996, 2.57583};

/* Error and sigma-coverage sums of one column of out-of-fold predictions. */
typedef struct cv_acc {
    size_t n, n_sig, w1, w2;
    double sae, sse;
} cv_acc;

static void cv_acc_add(cv_acc *a, double y, double yh, double s)
{
    if (!isfinite(y) || !isfinite(yh)) return;
    a->n++;
    a->sae += fabs(y - yh);
    a->sse += (y - yh) * (y - yh);
    if (!(isfinite(s) && s > 0)) return;
    a->n_sig++;
    a->w1 += fabs(y - yh) <= s;
    a->w2 += fabs(y - yh) <= 2 * s;
}

static void cv_acc_row(FILE *o, const char *label, const cv_acc *a)
{
    fprintf(o, "<tr><th>%s</th><td>%.4g</td><td>%.4g</td>", label, a->sae / (double)a->n,
            sqrt(a->sse / (double)a->n));
    if (a->n_sig)
        fprintf(o, "<td>%.3f</td><td>%.3f</td></tr>\n", (double)a->w1 / (double)a->n_sig,
                (double)a->w2 / (double)a->n_sig);
    else
        fputs("<td></td><td></td></tr>\n", o);
}

static void section_evaluation(FILE *o, const char *path)
{
    csv_reader r;
    if (!csv_open(&r, path)) return;
    int rc = csv_next(&r);
    int ci = csv_col(&r, "id"), co = csv_col(&r, "observed"), cp = csv_col(&r, "predicted"),
        cs = csv_col(&r, "sigma");
    /* grouped CV beside the random folds (stages.c writes these columns when it ran) */
    int cg = csv_col(&r, "grouped_predicted"), cgs = csv_col(&r, "grouped_sigma");
    cv_acc acc_r = {0}, acc_g = {0};
    fputs("<section id=\"evaluation\"><h2>Model evaluation</h2>\n", o);
    if (rc <= 0 || co < 0 || cp < 0) {
        fputs("<p class=\"bad\">evaluation.csv lacks the columns observed and predicted.</p></section>\n", o);
        csv_close(&r);
        return;
    }
    (void)ci;
    size_t n = 0, cap = 0, n_sig = 0;
    double *obs = NULL, *pred = NULL, *sig = NULL;
    double lo = INFINITY, hi = -INFINITY, sae = 0, sse = 0, so = 0, soo = 0;
    size_t within[sizeof calib_p / sizeof calib_p[0]] = {0};
    while ((rc = csv_next(&r)) > 0) {
        if (r.n == 1 && !r.fields[0][0]) continue;
        double y = num(field(&r, co)), yh = num(field(&r, cp)), s = num(field(&r, cs));
        if (cg >= 0) cv_acc_add(&acc_g, y, num(field(&r, cg)), num(field(&r, cgs)));
        cv_acc_add(&acc_r, y, yh, s);
        if (!isfinite(y) || !isfinite(yh)) continue;
        if (n == cap && n < EVAL_POINTS) {
            cap = cap ? 2 * cap : 256;
            double *a = realloc(obs, cap * sizeof *a), *b = a ? realloc(pred, cap * sizeof *b) : NULL,
                   *c = b ? realloc(sig, cap * sizeof *c) : NULL;
            if (a) obs = a;
            if (b) pred = b;
            if (c) sig = c;
            if (!a || !b || !c) {
                rc = -1;
                break;
            }
        }
        if (n < EVAL_POINTS) obs[n] = y, pred[n] = yh, sig[n] = s;
        n++;
        lo = fmin(lo, fmin(y, yh));
        hi = fmax(hi, fmax(y, yh));
        sae += fabs(y - yh);
        sse += (y - yh) * (y - yh);
        so += y;
        soo += y * y;
        if (isfinite(s) && s > 0) {
            n_sig++;
            for (size_t k = 0; k < sizeof calib_p / sizeof calib_p[0]; k++)
                if (fabs(y - yh) <= calib_z[k] * s) within[k]++;
        }
    }
    long oom_line = rc < 0 ? r.line : 0;
    csv_close(&r);
    if (oom_line) say_incomplete(o, path, oom_line);
    if (n == 0) {
        fputs("<p>evaluation.csv has no rows.</p></section>\n", o);
        free(obs), free(pred), free(sig);
        return;
    }
    double mean = so / (double)n, sst = soo - (double)n * mean * mean;
    fprintf(o, "<p>%zu predictions: MAE %.4g, RMSE %.4g, R&#178; %.4g.</p>\n", n, sae / (double)n,
            sqrt(sse / (double)n), sst > 0 ? 1 - sse / sst : NAN);
    if (acc_g.n) {
        fputs("<table id=\"cv-grouped\"><tr><th>cross-validation</th><th>MAE</th><th>RMSE</th>"
              "<th>within 1&#963;</th><th>within 2&#963;</th></tr>\n", o);
        cv_acc_row(o, "random folds", &acc_r);
        cv_acc_row(o, "grouped by chemical system", &acc_g);
        fputs("</table>\n<p>Grouped folds hold out whole chemical systems: their figures are what "
              "to expect on families the model has not seen. The plots show the random folds.</p>\n", o);
    }
    pad_range(&lo, &hi);
    frame f = {lo, hi, lo, hi, 60, 15, 300, 300};
    svg_open(o, "plot-parity", "parity: predicted against observed", 380, 365);
    svg_axes(o, &f, "observed", "predicted", 1);
    fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"diag\"/>\n", px(&f, lo),
            py(&f, lo), px(&f, hi), py(&f, hi));
    size_t shown = n < EVAL_POINTS ? n : EVAL_POINTS;
    for (size_t i = 0; i < shown; i++) {
        double x = px(&f, obs[i]), y = py(&f, pred[i]);
        if (isfinite(sig[i]) && sig[i] > 0)
            fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"err\"/>", x,
                    py(&f, fmax(lo, pred[i] - sig[i])), x, py(&f, fmin(hi, pred[i] + sig[i])));
        fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" class=\"pt\"/>\n", x, y);
    }
    svg_close(o, "Each point is one held-out prediction; the diagonal is perfect agreement, bars "
                 "are ± σ.");
    if (n_sig) {
        frame g = {0, 1, 0, 1, 60, 15, 300, 300};
        svg_open(o, "plot-calibration", "uncertainty calibration", 380, 365);
        svg_axes(o, &g, "expected coverage of the central interval", "observed coverage", 1);
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"diag\"/>\n<polyline "
                   "class=\"curve\" points=\"", px(&g, 0), py(&g, 0), px(&g, 1), py(&g, 1));
        for (size_t k = 0; k < sizeof calib_p / sizeof calib_p[0]; k++)
            fprintf(o, "%.1f,%.1f ", px(&g, calib_p[k]), py(&g, (double)within[k] / (double)n_sig));
        fputs("\"/>\n", o);
        for (size_t k = 0; k < sizeof calib_p / sizeof calib_p[0]; k++)
            fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" class=\"pt\"><title>%.0f%%: %.3f</title>"
                       "</circle>\n", px(&g, calib_p[k]), py(&g, (double)within[k] / (double)n_sig),
                    100 * calib_p[k], (double)within[k] / (double)n_sig);
        svg_close(o, "Fraction of observations inside the central interval predicted by mean ± z σ "
                     "(normal). Below the diagonal: overconfident; above: underconfident.");
    }
    free(obs), free(pred), free(sig);
    fputs("</section>\n", o);
}

static void section_errors(FILE *o, const char *path)
{
    csv_reader r;
    fputs("<section id=\"errors\"><h2>Errors</h2>\n", o);
    if (!csv_open(&r, path)) {
        fputs("<p>No errors.csv.</p></section>\n", o);
        return;
    }
    int rc = csv_next(&r);
    int ck = csv_col(&r, "key"), cs = csv_col(&r, "stage"), cst = csv_col(&r, "status"),
        cr = csv_col(&r, "reason");
    unsigned long long n = 0;
    while (rc > 0 && (rc = csv_next(&r)) > 0) {
        if (r.n == 1 && !r.fields[0][0]) continue;
        if (n == 0) fputs("<table><tr><th>record</th><th>stage</th><th>status</th><th>reason</th></tr>\n", o);
        if (n < ERROR_ROWS) {
            fputs("<tr><td class=\"file\">", o);
            esc(o, field(&r, ck));
            fputs("</td><td>", o);
            esc(o, field(&r, cs));
            fputs("</td><td>", o);
            esc(o, field(&r, cst));
            fputs("</td><td>", o);
            esc(o, field(&r, cr));
            fputs("</td></tr>\n", o);
        }
        n++;
    }
    long oom_line = rc < 0 ? r.line : 0;
    csv_close(&r);
    if (n == 0 && !oom_line) fputs("<p>No record failed.</p>\n", o);
    else {
        fputs("</table>\n", o);
        if (n > ERROR_ROWS) fprintf(o, "<p class=\"dim\">The first %d of %llu are shown; errors.csv "
                                       "has them all.</p>\n", ERROR_ROWS, n);
    }
    if (oom_line) say_incomplete(o, path, oom_line);
    fputs("</section>\n", o);
}

static const char *const STYLE =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;"
    "padding:0 1em;color:#222}\n"
    "h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}\n"
    "table{border-collapse:collapse;font-size:.9em;margin:.5em 0}\n"
    "th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:middle}\n"
    "table.kv th{background:#f6f6f6;width:12em}\n"
    ".dim{color:#777}.bad{color:#b00}.file{font-family:monospace;font-size:.85em;min-width:24em;"
    "word-break:break-all}\n.wide{overflow-x:auto}.lead{font-size:1.05em}\n"
    "details summary{cursor:pointer;color:#245;margin:.3em 0}td.num{white-space:nowrap}\n"
    "td.flags{font-size:.85em;max-width:14em}\n"

    "ul.counts li{display:inline-block;margin-right:2em}\n"
    "figure{margin:1em 0}figcaption{font-size:.85em;color:#555}\n"
    "svg .area{fill:#fcfcfc;stroke:#999}svg .grid{stroke:#e5e5e5}svg .tick{font-size:11px;fill:#444}\n"
    "svg .label{font-size:12px;fill:#222}svg .bar{fill:#4a78b5}svg .bar.bad{fill:#c0504d}\n"
    "svg .pt{fill:#c0504d}svg .err{stroke:#333;stroke-width:1.2}svg .diag{stroke:#999;"
    "stroke-dasharray:4 3}\nsvg .curve{fill:none;stroke:#c0504d;stroke-width:1.5}\n";

/* Only in reports with explanations, so that the others keep their bytes (golden.sh). */
static const char *const WHY_STYLE =
    "td.why{font-size:.8em;white-space:nowrap}td.why span{display:inline-block;min-width:4.5em;"
    "font-family:monospace}.up{color:#1a6b2a}.down{color:#b00}\n";

ms_status ms_report_write(const char *dir, const ms_report_options *opt_in)
{
    ms_report_options none;
    memset(&none, 0, sizeof none);
    const ms_report_options *opt = opt_in ? opt_in : &none;
    char path[REPORT_PATH_MAX];
    json_error_t jerr;
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *man = json_load_file(path, 0, &jerr);
    if (!man && errno != ENOENT && jerr.line > 0)
        return ms_error_set(MS_ERR_PARSE, "%s:%d: %s", path, jerr.line, jerr.text);
    snprintf(path, sizeof path, "%s/quality.json", dir);
    json_t *qual = json_load_file(path, 0, &jerr);
    json_t *top_k = json_object_get(man, "top_k");
    size_t k = json_is_integer(top_k) && json_integer_value(top_k) > 0 ? (size_t)json_integer_value(top_k) : 20;
    if (k > KEEP_MAX) k = KEEP_MAX;
    ranked_data d;
    snprintf(path, sizeof path, "%s/ranked.csv", dir);
    ms_status st = read_ranked(path, k, &d, 1);
    if (st != MS_SUCCESS) {
        json_decref(man);
        json_decref(qual);
        return st;
    }
    snprintf(path, sizeof path, "%s/report.html", dir);
    ms_atomic_file *af = NULL; /* written beside and renamed into place (outfile.h) */
    if (ms_atomic_open(path, &af) != MS_SUCCESS) {
        free(d.top);
        free(d.why);
        json_decref(man);
        json_decref(qual);
        return MS_ERR_IO;
    }
    FILE *o = ms_atomic_stream(af);
    const char *title = opt->title ? opt->title : "matscreen run";
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n<title>", o);
    esc(o, title);
    fputs(" - matscreen report</title>\n<style>\n", o);
    fputs(STYLE, o);
    if (d.why) fputs(WHY_STYLE, o);
    fputs("</style></head><body>\n<h1>", o);
    esc(o, title);
    fputs(" <span class=\"dim\">- matscreen report</span></h1>\n", o);
    /* candidates first, then what changed tonight, then how good the models and the data are;
     * the run's details (inputs, seed, timings) last */
    section_headline(o, man, qual, opt, &d);
    section_topk(o, &d, k);
    section_models(o, man, &d);
    section_domain(o, man);
    section_changes(o, dir, opt, &d, k);
    char eval[REPORT_PATH_MAX];
    if (opt->evaluation_csv) snprintf(eval, sizeof eval, "%s", opt->evaluation_csv);
    else snprintf(eval, sizeof eval, "%s/evaluation.csv", dir);
    section_evaluation(o, eval);
    section_distributions(o, &d, json_string_value(json_object_get(man, "rank_by")));
    section_quality(o, qual, opt->filtered, d.rows);
    snprintf(path, sizeof path, "%s/errors.csv", dir);
    section_errors(o, path);
    section_summary(o, dir, opt, man, qual, &d);
    fputs("<footer class=\"dim\"><p>Written by matscreen from ranked.csv, errors.csv, quality.json "
          "and manifest.json in this directory.</p></footer>\n</body></html>\n", o);
    free(d.top);
    free(d.why);
    json_decref(man);
    json_decref(qual);
    return ms_atomic_commit(&af);
}
