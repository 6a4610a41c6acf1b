/*
 * External merge sort of fixed-size records (see extsort.h): a buffer of at most budget records,
 * sorted by a stable merge sort of record indices and written as a run file when full; runs are
 * merged with a binary heap of at most MS_EXTSORT_FAN_IN sources, ties going to the older run.
 */
#include "matscreen/extsort.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matscreen/array.h"

/* One run file. path is NULL once the file is removed; f is open while it is written or read. */
typedef struct run {
    char *path;
    FILE *f;
} run;

/* A k-way merge of the runs first .. first+k-1 (consecutive in age order). heads holds the
 * current record of every source; heap holds the source numbers that still have one. */
typedef struct merger {
    size_t first, k, n;
    unsigned char *heads; /* k * record_size */
    size_t *heap;         /* k */
} merger;

enum { ADDING, FINISHED, FAILED };

struct ms_extsort {
    size_t rs, budget;
    ms_extsort_cmp cmp;
    void *ctx;
    char *dir, *name;
    unsigned char *buf;  /* n records of rs bytes, cap allocated */
    size_t n, cap;
    size_t *idx, *tmp;   /* sort order of buf and the merge sort's scratch (cap each) */
    uint64_t count;
    run *runs;           /* every run ever written, in age order */
    size_t n_runs, cap_runs, first_live; /* runs first_live .. n_runs-1 are still to merge */
    size_t next_mem;     /* position in idx of the in-memory stream */
    merger m;            /* the final merge (runs written) */
    int state;
};

/* Marks s unusable after a failure (its state is unknown: records may be half written). */
static ms_status fail(ms_extsort *s, ms_status st)
{
    s->state = FAILED;
    return st;
}

ms_status ms_extsort_create(size_t record_size, ms_extsort_cmp cmp, void *ctx, size_t budget,
                            const char *dir, const char *name, ms_extsort **out)
{
    MS_CHECK(out, MS_ERR_USAGE, "ms_extsort_create: out required");
    *out = NULL;
    MS_CHECK(record_size > 0 && cmp && budget > 0 && dir && name && name[0] && !strchr(name, '/'),
             MS_ERR_USAGE, "ms_extsort_create: record size, comparator, budget, directory and a "
             "file name without '/' required");
    MS_CHECK(budget <= SIZE_MAX / (record_size + 2 * sizeof(size_t)), MS_ERR_USAGE,
             "ms_extsort_create: a budget of %zu records of %zu bytes does not fit in memory",
             budget, record_size);
    ms_extsort *s = calloc(1, sizeof *s);
    MS_CHECK(s, MS_ERR_NOMEM, "cannot allocate a sorter");
    s->rs = record_size;
    s->budget = budget;
    s->cmp = cmp;
    s->ctx = ctx;
    s->dir = strdup(dir);
    s->name = strdup(name);
    if (!s->dir || !s->name) {
        ms_extsort_destroy(&s);
        return ms_error_set(MS_ERR_NOMEM, "cannot allocate a sorter");
    }
    *out = s;
    return MS_SUCCESS;
}

static void run_remove(run *r)
{
    if (r->f) fclose(r->f);
    r->f = NULL;
    if (r->path) unlink(r->path);
    free(r->path);
    r->path = NULL;
}

static void merger_free(merger *m)
{
    free(m->heads);
    free(m->heap);
    memset(m, 0, sizeof *m);
}

void ms_extsort_destroy(ms_extsort **ps)
{
    if (!ps || !*ps) return;
    ms_extsort *s = *ps;
    for (size_t i = 0; i < s->n_runs; i++) run_remove(&s->runs[i]);
    merger_free(&s->m);
    free(s->runs);
    free(s->buf);
    free(s->idx);
    free(s->tmp);
    free(s->dir);
    free(s->name);
    free(s);
    *ps = NULL;
}

uint64_t ms_extsort_count(const ms_extsort *s) { return s ? s->count : 0; }

size_t ms_extsort_runs_written(const ms_extsort *s) { return s ? s->n_runs : 0; }

/* ---- in memory ----------------------------------------------------------------------------- */

#define REC(s, i) ((s)->buf + (i) * (s)->rs)

/* Stable bottom-up merge sort of idx[0..n) by the records they name (ties keep index order, which
 * is insertion order). O(n log n) comparisons whatever the input, unlike some qsorts. */
static void sort_buffer(ms_extsort *s)
{
    size_t n = s->n, *a = s->idx, *b = s->tmp;
    for (size_t i = 0; i < n; i++) a[i] = i;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                b[k++] = s->cmp(REC(s, a[j]), REC(s, a[i]), s->ctx) < 0 ? a[j++] : a[i++];
            while (i < mid) b[k++] = a[i++];
            while (j < hi) b[k++] = a[j++];
        }
        size_t *t = a;
        a = b;
        b = t;
    }
    s->idx = a;
    s->tmp = b;
}

/* Makes room for one more record in the buffer (the buffer is not full: n < budget). */
static ms_status grow(ms_extsort *s)
{
    if (s->n < s->cap) return MS_SUCCESS;
    size_t cap = s->cap ? 2 * s->cap : 256;
    if (cap > s->budget) cap = s->budget;
    unsigned char *buf = realloc(s->buf, cap * s->rs);
    if (buf) s->buf = buf;
    size_t *idx = buf ? realloc(s->idx, cap * sizeof *idx) : NULL;
    if (idx) s->idx = idx;
    size_t *tmp = idx ? realloc(s->tmp, cap * sizeof *tmp) : NULL;
    if (tmp) s->tmp = tmp;
    MS_CHECK(tmp, MS_ERR_NOMEM, "cannot sort: no memory for %zu records of %zu bytes", cap, s->rs);
    s->cap = cap;
    return MS_SUCCESS;
}

/* ---- run files ----------------------------------------------------------------------------- */

/* Creates a new run file (registered at once, so that destroy removes it whatever happens) and
 * leaves it open for writing as the last run. */
static ms_status run_create(ms_extsort *s)
{
    if (ms_array_reserve(&s->runs, &s->cap_runs, s->n_runs + 1, sizeof *s->runs, 16) != MS_SUCCESS)
        return ms_error_set(MS_ERR_NOMEM, "cannot sort: no memory for %zu run files",
                            s->n_runs + 1);
    size_t len = strlen(s->dir) + strlen(s->name) + 9;
    char *path = malloc(len);
    MS_CHECK(path, MS_ERR_NOMEM, "cannot sort: no memory for a file name");
    snprintf(path, len, "%s/%s.XXXXXX", s->dir, s->name);
    int fd = mkstemp(path);
    if (fd < 0) {
        ms_status st = ms_error_set(MS_ERR_IO, "%s: cannot create a sort run: %s", path,
                                    strerror(errno));
        free(path);
        return st;
    }
    run *r = &s->runs[s->n_runs++];
    r->path = path;
    r->f = fdopen(fd, "wb");
    if (!r->f) {
        close(fd);
        return ms_error_set(MS_ERR_IO, "%s: cannot open a sort run: %s", path, strerror(errno));
    }
    return MS_SUCCESS;
}

static ms_status run_write(ms_extsort *s, run *r, const void *rec)
{
    MS_CHECK(fwrite(rec, s->rs, 1, r->f) == 1, MS_ERR_IO, "%s: cannot write a sort run: %s",
             r->path, strerror(errno ? errno : EIO));
    return MS_SUCCESS;
}

/* Flushes and closes a run that was written; a full disk shows up here at the latest. */
static ms_status run_close_written(run *r)
{
    errno = 0;
    int bad = ferror(r->f);
    int err = bad ? (errno ? errno : EIO) : 0;
    if (fclose(r->f) != 0 && !err) err = errno ? errno : EIO;
    r->f = NULL;
    MS_CHECK(!err, MS_ERR_IO, "%s: cannot write a sort run: %s", r->path, strerror(err));
    return MS_SUCCESS;
}

/* Reads the next record of run r into rec; *got 0 at its end. */
static ms_status run_read(ms_extsort *s, run *r, void *rec, int *got)
{
    size_t k = fread(rec, 1, s->rs, r->f);
    *got = k == s->rs;
    if (k == s->rs) return MS_SUCCESS;
    MS_CHECK(!ferror(r->f), MS_ERR_IO, "%s: cannot read a sort run: %s", r->path,
             strerror(errno ? errno : EIO));
    MS_CHECK(k == 0, MS_ERR_IO, "%s: sort run is truncated (%zu of %zu bytes of a record)",
             r->path, k, s->rs);
    return MS_SUCCESS;
}

/* Sorts the buffer and writes it as a new run; the buffer is then empty. */
static ms_status spill(ms_extsort *s)
{
    sort_buffer(s);
    MS_CALL(run_create(s));
    run *r = &s->runs[s->n_runs - 1];
    for (size_t i = 0; i < s->n; i++) MS_CALL(run_write(s, r, REC(s, s->idx[i])));
    MS_CALL(run_close_written(r));
    s->n = 0;
    return MS_SUCCESS;
}

/* ---- merging ------------------------------------------------------------------------------- */

/* Heap order: the smaller head first, the older run (smaller source number) on ties. */
static int heap_less(const ms_extsort *s, const merger *m, size_t a, size_t b)
{
    int c = s->cmp(m->heads + a * s->rs, m->heads + b * s->rs, s->ctx);
    return c < 0 || (c == 0 && a < b);
}

static void sift_down(const ms_extsort *s, merger *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < m->n && heap_less(s, m, m->heap[l], m->heap[best])) best = l;
        if (r < m->n && heap_less(s, m, m->heap[r], m->heap[best])) best = r;
        if (best == i) return;
        size_t t = m->heap[i];
        m->heap[i] = m->heap[best];
        m->heap[best] = t;
        i = best;
    }
}

/* Opens runs first .. first+k-1 for reading and loads their first records. */
static ms_status merger_open(ms_extsort *s, merger *m, size_t first, size_t k)
{
    merger_free(m);
    m->first = first;
    m->k = k;
    m->heads = malloc(k * s->rs);
    m->heap = malloc(k * sizeof *m->heap);
    MS_CHECK(m->heads && m->heap, MS_ERR_NOMEM, "cannot merge %zu sort runs", k);
    for (size_t i = 0; i < k; i++) {
        run *r = &s->runs[first + i];
        r->f = fopen(r->path, "rb");
        MS_CHECK(r->f, MS_ERR_IO, "%s: cannot open a sort run: %s", r->path, strerror(errno));
        int got;
        MS_CALL(run_read(s, r, m->heads + i * s->rs, &got));
        if (got) m->heap[m->n++] = i;
        else run_remove(r);
    }
    for (size_t i = m->n / 2; i-- > 0;) sift_down(s, m, i);
    return MS_SUCCESS;
}

/* Copies the smallest head to rec (*got 0 when every source is exhausted) and refills it from its
 * run; an exhausted run is removed at once. */
static ms_status merger_next(ms_extsort *s, merger *m, void *rec, int *got)
{
    *got = m->n > 0;
    if (!m->n) return MS_SUCCESS;
    size_t src = m->heap[0];
    unsigned char *head = m->heads + src * s->rs;
    memcpy(rec, head, s->rs);
    run *r = &s->runs[m->first + src];
    int more;
    MS_CALL(run_read(s, r, head, &more));
    if (!more) {
        run_remove(r);
        m->heap[0] = m->heap[--m->n];
    }
    sift_down(s, m, 0);
    return MS_SUCCESS;
}

/* One merge pass: the live runs, in groups of MS_EXTSORT_FAN_IN in age order, each merged into one
 * new run (so age order, and with it stability, is kept). */
static ms_status merge_pass(ms_extsort *s)
{
    size_t hi = s->n_runs;
    unsigned char *rec = malloc(s->rs);
    MS_CHECK(rec, MS_ERR_NOMEM, "cannot merge sort runs");
    ms_status st = MS_SUCCESS;
    for (size_t lo = s->first_live; st == MS_SUCCESS && lo < hi; lo += MS_EXTSORT_FAN_IN) {
        size_t k = hi - lo < MS_EXTSORT_FAN_IN ? hi - lo : MS_EXTSORT_FAN_IN;
        st = run_create(s); /* may move s->runs: merger refers to runs by number */
        size_t out = s->n_runs - 1;
        if (st == MS_SUCCESS) st = merger_open(s, &s->m, lo, k);
        int got = 1;
        while (st == MS_SUCCESS) {
            st = merger_next(s, &s->m, rec, &got);
            if (st != MS_SUCCESS || !got) break;
            st = run_write(s, &s->runs[out], rec);
        }
        if (st == MS_SUCCESS) st = run_close_written(&s->runs[out]);
    }
    free(rec);
    merger_free(&s->m);
    if (st == MS_SUCCESS) s->first_live = hi;
    return st;
}

/* ---- public -------------------------------------------------------------------------------- */

ms_status ms_extsort_add(ms_extsort *s, const void *record)
{
    MS_CHECK(s && record, MS_ERR_USAGE, "ms_extsort_add: sorter and record required");
    MS_CHECK(s->state == ADDING, MS_ERR_USAGE, "ms_extsort_add: the sorter is %s",
             s->state == FINISHED ? "finished" : "unusable after an earlier failure");
    ms_status st = MS_SUCCESS;
    if (s->n == s->budget) st = spill(s);
    if (st == MS_SUCCESS) st = grow(s);
    if (st != MS_SUCCESS) return fail(s, st);
    memcpy(REC(s, s->n), record, s->rs);
    s->n++;
    s->count++;
    return MS_SUCCESS;
}

ms_status ms_extsort_finish(ms_extsort *s)
{
    MS_CHECK(s, MS_ERR_USAGE, "ms_extsort_finish: sorter required");
    MS_CHECK(s->state == ADDING, MS_ERR_USAGE, "ms_extsort_finish: the sorter is %s",
             s->state == FINISHED ? "finished already" : "unusable after an earlier failure");
    s->state = FINISHED;
    if (s->n_runs == 0) { /* everything fits: no file at all */
        sort_buffer(s);
        return MS_SUCCESS;
    }
    ms_status st = s->n ? spill(s) : MS_SUCCESS;
    /* The records are all in runs now: the buffer is not needed while merging. */
    free(s->buf);
    free(s->idx);
    free(s->tmp);
    s->buf = NULL;
    s->idx = s->tmp = NULL;
    s->n = s->cap = 0;
    while (st == MS_SUCCESS && s->n_runs - s->first_live > MS_EXTSORT_FAN_IN) st = merge_pass(s);
    if (st == MS_SUCCESS) st = merger_open(s, &s->m, s->first_live, s->n_runs - s->first_live);
    return st == MS_SUCCESS ? st : fail(s, st);
}

ms_status ms_extsort_next(ms_extsort *s, void *record, int *got)
{
    MS_CHECK(s && record && got, MS_ERR_USAGE, "ms_extsort_next: sorter, record and flag required");
    *got = 0;
    MS_CHECK(s->state == FINISHED, MS_ERR_USAGE, "ms_extsort_next: the sorter is %s",
             s->state == ADDING ? "not finished" : "unusable after an earlier failure");
    if (s->n_runs == 0) {
        if (s->next_mem < s->n) {
            memcpy(record, REC(s, s->idx[s->next_mem]), s->rs);
            s->next_mem++;
            *got = 1;
        }
        return MS_SUCCESS;
    }
    ms_status st = merger_next(s, &s->m, record, got);
    return st == MS_SUCCESS ? st : fail(s, st);
}
