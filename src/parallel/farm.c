/*
 * The task farm: master/worker protocol over MPI (see farm.h for the API and packed layouts).
 *
 * Roles
 *   Rank 0 (master) owns the source enumerator and a window of up to opt.window tasks, kept as a
 *   max-heap on task size (ties: smaller seq first) so large files go out first and the short ones
 *   fill the tail. Ranks 1..size-1 (workers) read their inputs themselves and run the pipeline.
 *   With size == 1 rank 0 takes tasks from the same window and runs the pipeline in-process.
 *
 * Messages (communicator: the one given to ms_farm_run; all payloads are MPI_BYTE)
 *   TAG_REQUEST 101  worker -> master. "I finished my batch, give me work." Header, then packed
 *                    results of the tail of the previous batch (0 results in the first request).
 *   TAG_RESULTS 102  worker -> master. Header, then packed results. Sent mid-batch whenever the
 *                    worker's buffer exceeds opt.flush_bytes, so worker memory is bounded by
 *                    flush_bytes plus one batch of tasks, whatever a file holds.
 *   TAG_TASKS   103  master -> worker. u32 PROTOCOL, u32 n (>= 1), then n packed tasks.
 *   TAG_STOP    104  master -> worker, empty. No more work: the worker leaves the farm.
 *   Header of REQUEST and RESULTS: u32 PROTOCOL, u32 n_results, f64 busy_seconds, u32 n_tasks
 *   (time spent and tasks done in the batch just finished; 0 in RESULTS).
 *
 * Flow and termination
 *   A worker sends REQUEST, then blocks in MPI_Probe/MPI_Recv for TASKS or STOP from rank 0. The
 *   master blocks in MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG) (no busy polling in our code), receives
 *   exactly the probed message, hands every result to the collect callback, and answers each
 *   REQUEST with TASKS while the window or the enumerator has tasks, otherwise with STOP. It
 *   returns after it has sent STOP to every worker. Because MPI does not let messages between
 *   one pair of ranks overtake each other, all RESULTS of a worker arrive before its next REQUEST,
 *   so when the last STOP is sent every result has been collected.
 *
 * Batch size (adaptive)
 *   Per worker the master keeps an estimate of its throughput (tasks per busy second, an
 *   exponential average of the REQUEST headers) and sends rate * opt.batch_seconds tasks (at least
 *   1, at most opt.max_batch), starting from 1 and doubling while there is no estimate. Once the
 *   enumerator is exhausted a batch is also capped at window / (2 * workers) so the tail stays
 *   balanced. Batching changes only which rank does what, never a result.
 *
 * Errors
 *   A structure that fails is a result with a status, never an MPI error. A malformed message is
 *   a bug: the receiver logs it and calls MPI_Abort, as the farm cannot continue consistently.
 */
#include "matscreen/farm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROTOCOL 0x4d530001u /* "MS" + version 1 */
#define TAG_REQUEST 101
#define TAG_RESULTS 102
#define TAG_TASKS 103
#define TAG_STOP 104
#define HEADER_BYTES (4 + 4 + 8 + 4)

/* ---- buffers and packing ---------------------------------------------------------------- */

void ms_buffer_reset(ms_buffer *b) { b->n = 0; }

void ms_buffer_free(ms_buffer *b)
{
    free(b->data);
    b->data = NULL;
    b->n = b->cap = 0;
}

static ms_status buffer_reserve(ms_buffer *b, size_t need)
{
    if (need <= b->cap) return MS_SUCCESS;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) cap *= 2;
    unsigned char *d = realloc(b->data, cap);
    MS_CHECK(d, MS_ERR_NOMEM, "cannot grow a message buffer to %zu bytes", cap);
    b->data = d;
    b->cap = cap;
    return MS_SUCCESS;
}

ms_status ms_buffer_append(ms_buffer *b, const void *data, size_t n)
{
    MS_CALL(buffer_reserve(b, b->n + n));
    if (n) memcpy(b->data + b->n, data, n);
    b->n += n;
    return MS_SUCCESS;
}

#define PUT(b, v) MS_CALL(ms_buffer_append((b), &(v), sizeof(v)))

static ms_status put_str(ms_buffer *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    PUT(b, n);
    return ms_buffer_append(b, s, n);
}

static ms_status get(const unsigned char *d, size_t n, size_t *pos, void *out, size_t size)
{
    MS_CHECK(*pos <= n && n - *pos >= size, MS_ERR_PARSE, "message truncated at byte %zu", *pos);
    memcpy(out, d + *pos, size);
    *pos += size;
    return MS_SUCCESS;
}

#define GET(d, n, pos, v) MS_CALL(get((d), (n), (pos), &(v), sizeof(v)))

static ms_status get_str(const unsigned char *d, size_t n, size_t *pos, char *out, size_t cap)
{
    uint32_t len = 0;
    GET(d, n, pos, len);
    MS_CHECK(len < cap, MS_ERR_PARSE, "string of %u bytes does not fit %zu", len, cap);
    MS_CALL(get(d, n, pos, out, len));
    out[len] = '\0';
    return MS_SUCCESS;
}

ms_status ms_task_pack(const ms_task *t, ms_buffer *b)
{
    int32_t format = (int32_t)t->format, status = (int32_t)t->status;
    int64_t off = t->offset, len = t->length, size = t->size;
    PUT(b, t->seq);
    PUT(b, t->input);
    PUT(b, format);
    PUT(b, off);
    PUT(b, len);
    PUT(b, size);
    PUT(b, status);
    MS_CALL(put_str(b, t->reason));
    return put_str(b, t->path);
}

ms_status ms_task_unpack(const unsigned char *d, size_t n, size_t *pos, ms_task *t)
{
    int32_t format = 0, status = 0;
    int64_t off = 0, len = 0, size = 0;
    GET(d, n, pos, t->seq);
    GET(d, n, pos, t->input);
    GET(d, n, pos, format);
    GET(d, n, pos, off);
    GET(d, n, pos, len);
    GET(d, n, pos, size);
    GET(d, n, pos, status);
    MS_CHECK(format >= MS_FORMAT_AUTO && format <= MS_FORMAT_POSCAR, MS_ERR_PARSE,
             "bad format %d in a task", (int)format);
    MS_CHECK(status >= 0 && status < MS_STATUS_COUNT, MS_ERR_PARSE, "bad status in a task");
    t->format = (ms_format)format;
    t->status = (ms_status)status;
    t->offset = off;
    t->length = len;
    t->size = size;
    MS_CALL(get_str(d, n, pos, t->reason, sizeof t->reason));
    return get_str(d, n, pos, t->path, sizeof t->path);
}

ms_status ms_result_pack(const ms_result *r, ms_buffer *b)
{
    int64_t off = r->offset, len = r->length;
    PUT(b, r->task_seq);
    PUT(b, off);
    PUT(b, len);
    PUT(b, r->index);
    PUT(b, r->input);
    PUT(b, r->status);
    PUT(b, r->stage);
    PUT(b, r->db);
    PUT(b, r->format);
    PUT(b, r->spacegroup);
    PUT(b, r->flags);
    PUT(b, r->n_sites);
    PUT(b, r->content_hash);
    PUT(b, r->dedup_key);
    const double v[10] = {r->n_atoms, r->volume, r->density, r->volume_per_atom, r->li_fraction,
                          r->class_prob, r->mean, r->sigma, r->acquisition, r->score};
    MS_CALL(ms_buffer_append(b, v, sizeof v));
    MS_CALL(put_str(b, r->formula));
    MS_CALL(put_str(b, r->source_id));
    MS_CALL(put_str(b, r->block));
    MS_CALL(put_str(b, r->reason));
    return put_str(b, r->file);
}

ms_status ms_result_unpack(const unsigned char *d, size_t n, size_t *pos, ms_result *r)
{
    int64_t off = 0, len = 0;
    double v[10] = {0};
    GET(d, n, pos, r->task_seq);
    GET(d, n, pos, off);
    GET(d, n, pos, len);
    GET(d, n, pos, r->index);
    GET(d, n, pos, r->input);
    GET(d, n, pos, r->status);
    GET(d, n, pos, r->stage);
    GET(d, n, pos, r->db);
    GET(d, n, pos, r->format);
    GET(d, n, pos, r->spacegroup);
    GET(d, n, pos, r->flags);
    GET(d, n, pos, r->n_sites);
    GET(d, n, pos, r->content_hash);
    GET(d, n, pos, r->dedup_key);
    GET(d, n, pos, v);
    MS_CHECK(r->status >= 0 && r->status < MS_STATUS_COUNT, MS_ERR_PARSE, "bad status in a result");
    MS_CHECK(r->stage >= 0 && r->stage < MS_STAGE_COUNT, MS_ERR_PARSE, "bad stage in a result");
    r->offset = off;
    r->length = len;
    r->n_atoms = v[0];
    r->volume = v[1];
    r->density = v[2];
    r->volume_per_atom = v[3];
    r->li_fraction = v[4];
    r->class_prob = v[5];
    r->mean = v[6];
    r->sigma = v[7];
    r->acquisition = v[8];
    r->score = v[9];
    MS_CALL(get_str(d, n, pos, r->formula, sizeof r->formula));
    MS_CALL(get_str(d, n, pos, r->source_id, sizeof r->source_id));
    MS_CALL(get_str(d, n, pos, r->block, sizeof r->block));
    MS_CALL(get_str(d, n, pos, r->reason, sizeof r->reason));
    return get_str(d, n, pos, r->file, sizeof r->file);
}

void ms_farm_options_default(ms_farm_options *opt)
{
    opt->window = 512;
    opt->max_batch = 256;
    opt->batch_seconds = 0.25;
    opt->flush_bytes = 4u << 20;
    opt->progress = 1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the master's task window: a max-heap on size over preallocated slots --------------- */

typedef struct {
    ms_source *src;
    ms_task *slots;   /* window slots */
    size_t *heap;     /* slot indices, heap-ordered */
    size_t *free_ids; /* free slot indices */
    size_t n, n_free, cap;
    int exhausted;
} window;

static int task_before(const ms_task *a, const ms_task *b)
{
    if (a->size != b->size) return a->size > b->size;
    return a->seq < b->seq;
}

static void heap_up(window *w, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!task_before(&w->slots[w->heap[i]], &w->slots[w->heap[parent]])) break;
        size_t t = w->heap[i];
        w->heap[i] = w->heap[parent];
        w->heap[parent] = t;
        i = parent;
    }
}

static void heap_down(window *w, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < w->n && task_before(&w->slots[w->heap[l]], &w->slots[w->heap[best]])) best = l;
        if (r < w->n && task_before(&w->slots[w->heap[r]], &w->slots[w->heap[best]])) best = r;
        if (best == i) return;
        size_t t = w->heap[i];
        w->heap[i] = w->heap[best];
        w->heap[best] = t;
        i = best;
    }
}

static void window_fill(window *w)
{
    while (!w->exhausted && w->n < w->cap) {
        size_t id = w->free_ids[--w->n_free];
        if (!ms_source_next(w->src, &w->slots[id])) {
            w->free_ids[w->n_free++] = id;
            w->exhausted = 1;
            break;
        }
        w->heap[w->n++] = id;
        heap_up(w, w->n - 1);
    }
}

/* Pops the largest task into a slot index that stays valid until window_release. */
static int window_pop(window *w, size_t *id)
{
    window_fill(w);
    if (w->n == 0) return 0;
    *id = w->heap[0];
    w->heap[0] = w->heap[--w->n];
    heap_down(w, 0);
    return 1;
}

static void window_release(window *w, size_t id) { w->free_ids[w->n_free++] = id; }

static ms_status window_init(window *w, ms_source *src, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->src = src;
    w->cap = cap ? cap : 1;
    w->slots = malloc(w->cap * sizeof *w->slots);
    w->heap = malloc(w->cap * sizeof *w->heap);
    w->free_ids = malloc(w->cap * sizeof *w->free_ids);
    if (!w->slots || !w->heap || !w->free_ids) {
        free(w->slots);
        free(w->heap);
        free(w->free_ids);
        return ms_error_set(MS_ERR_NOMEM, "cannot allocate a task window of %zu", w->cap);
    }
    for (size_t i = 0; i < w->cap; i++) w->free_ids[i] = w->cap - 1 - i;
    w->n_free = w->cap;
    return MS_SUCCESS;
}

static void window_destroy(window *w)
{
    free(w->slots);
    free(w->heap);
    free(w->free_ids);
}

/* ---- progress (rank 0) ------------------------------------------------------------------- */

typedef struct {
    int enabled, tty;
    double start, last;
    ms_farm_stats *stats;
    ms_result_fn collect;
    void *user;
    int stop;
} master_state;

static void progress(master_state *m, int final)
{
    if (!m->enabled) return;
    double t = now();
    if (!final && t - m->last < (m->tty ? 0.5 : 60.0)) return;
    m->last = t;
    double el = t - m->start;
    fprintf(stderr, "%sscreen: %llu tasks, %llu records (%llu failed), %.1f s, %.0f records/s%s",
            m->tty ? "\r" : "", m->stats->tasks, m->stats->records, m->stats->failed, el,
            el > 0 ? (double)m->stats->records / el : 0.0, (m->tty && !final) ? "" : "\n");
    fflush(stderr);
}

static int master_collect(const ms_result *r, void *user)
{
    master_state *m = user;
    m->stats->records++;
    if (r->status != MS_SUCCESS) m->stats->failed++;
    if (!m->stop && m->collect(r, m->user) != 0) m->stop = 1;
    progress(m, 0);
    return m->stop;
}

/* ---- one rank ------------------------------------------------------------------------------ */

static ms_status run_serial(window *w, ms_pipeline *p, master_state *m)
{
    ms_result *r = malloc(sizeof *r);
    MS_CHECK(r, MS_ERR_NOMEM, "cannot allocate a result record");
    size_t id;
    while (!m->stop && window_pop(w, &id)) {
        m->stats->tasks++;
        ms_pipeline_run_task(p, &w->slots[id], r, master_collect, m);
        window_release(w, id);
    }
    free(r);
    return m->stop ? ms_error_set(MS_ERR_IO, "writing results failed") : MS_SUCCESS;
}

/* ---- master ------------------------------------------------------------------------------ */

static void fatal(MPI_Comm comm, const char *what)
{
    fprintf(stderr, "matscreen farm: %s: %s\n", what, ms_error_message());
    MPI_Abort(comm, 3);
}

static ms_status recv_any(MPI_Comm comm, int source, ms_buffer *b, MPI_Status *st)
{
    int count;
    MPI_Probe(source, MPI_ANY_TAG, comm, st);
    MPI_Get_count(st, MPI_BYTE, &count);
    MS_CALL(buffer_reserve(b, (size_t)count + 1));
    MPI_Recv(b->data, count, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, comm, MPI_STATUS_IGNORE);
    b->n = (size_t)count;
    return MS_SUCCESS;
}

/* Answers a REQUEST from worker `from`: a batch of tasks sized from its measured rate, or STOP. */
static void reply(MPI_Comm comm, int from, uint32_t n_tasks, double busy, int workers, window *w,
                  const ms_farm_options *opt, master_state *m, double *rate, size_t *last_batch,
                  ms_buffer *out, int *active)
{
    if (n_tasks > 0 && busy > 1e-6) {
        double x = (double)n_tasks / busy;
        rate[from] = rate[from] > 0 ? 0.5 * rate[from] + 0.5 * x : x;
    }
    size_t batch;
    if (rate[from] > 0) batch = (size_t)(rate[from] * opt->batch_seconds);
    else batch = last_batch[from] ? 2 * last_batch[from] : 1;
    if (batch > opt->max_batch) batch = opt->max_batch;
    window_fill(w);
    if (w->exhausted) {
        size_t cap = w->n / (2 * (size_t)workers);
        if (batch > cap) batch = cap;
    }
    if (batch < 1) batch = 1;
    ms_buffer_reset(out);
    uint32_t hdr[2] = {PROTOCOL, 0};
    if (ms_buffer_append(out, hdr, sizeof hdr) != MS_SUCCESS) fatal(comm, "pack");
    size_t id;
    while (!m->stop && hdr[1] < batch && window_pop(w, &id)) {
        if (ms_task_pack(&w->slots[id], out) != MS_SUCCESS) fatal(comm, "pack");
        window_release(w, id);
        hdr[1]++;
    }
    if (hdr[1] == 0) {
        MPI_Send(NULL, 0, MPI_BYTE, from, TAG_STOP, comm);
        (*active)--;
        return;
    }
    memcpy(out->data + 4, &hdr[1], 4);
    last_batch[from] = hdr[1];
    m->stats->tasks += hdr[1];
    m->stats->messages++;
    MPI_Send(out->data, (int)out->n, MPI_BYTE, from, TAG_TASKS, comm);
}

static ms_status run_master(MPI_Comm comm, int size, window *w, const ms_farm_options *opt,
                            master_state *m)
{
    int workers = size - 1, active = workers;
    double *rate = calloc((size_t)size, sizeof *rate);
    size_t *last_batch = calloc((size_t)size, sizeof *last_batch);
    ms_result *r = malloc(sizeof *r);
    ms_buffer in = {0}, out = {0};
    if (!rate || !last_batch || !r) fatal(comm, "out of memory");
    while (active > 0) {
        MPI_Status st;
        if (recv_any(comm, MPI_ANY_SOURCE, &in, &st) != MS_SUCCESS) fatal(comm, "receive");
        int from = st.MPI_SOURCE;
        size_t pos = 0;
        uint32_t proto = 0, n_results = 0, n_tasks = 0;
        double busy = 0;
        if (get(in.data, in.n, &pos, &proto, 4) || proto != PROTOCOL ||
            get(in.data, in.n, &pos, &n_results, 4) || get(in.data, in.n, &pos, &busy, 8) ||
            get(in.data, in.n, &pos, &n_tasks, 4))
            fatal(comm, "malformed message header from a worker");
        if (st.MPI_TAG == TAG_REQUEST) reply(comm, from, n_tasks, busy, workers, w, opt, m,
                                            rate, last_batch, &out, &active);
        /* Results are collected after the reply, so the worker computes while we write. */
        for (uint32_t k = 0; k < n_results; k++) {
            if (ms_result_unpack(in.data, in.n, &pos, r) != MS_SUCCESS) fatal(comm, "bad result");
            master_collect(r, m);
        }
    }
    free(rate);
    free(last_batch);
    free(r);
    ms_buffer_free(&in);
    ms_buffer_free(&out);
    return m->stop ? ms_error_set(MS_ERR_IO, "writing results failed") : MS_SUCCESS;
}

/* ---- worker ------------------------------------------------------------------------------ */

typedef struct {
    MPI_Comm comm;
    ms_buffer out;
    uint32_t n_results;
    size_t flush_bytes;
} worker_state;

static void worker_begin(worker_state *ws)
{
    ms_buffer_reset(&ws->out);
    unsigned char hdr[HEADER_BYTES] = {0};
    if (ms_buffer_append(&ws->out, hdr, sizeof hdr) != MS_SUCCESS) fatal(ws->comm, "pack");
    ws->n_results = 0;
}

static void worker_send(worker_state *ws, int tag, double busy, uint32_t n_tasks)
{
    uint32_t proto = PROTOCOL;
    memcpy(ws->out.data, &proto, 4);
    memcpy(ws->out.data + 4, &ws->n_results, 4);
    memcpy(ws->out.data + 8, &busy, 8);
    memcpy(ws->out.data + 16, &n_tasks, 4);
    MPI_Send(ws->out.data, (int)ws->out.n, MPI_BYTE, 0, tag, ws->comm);
    worker_begin(ws);
}

static int worker_collect(const ms_result *r, void *user)
{
    worker_state *ws = user;
    if (ms_result_pack(r, &ws->out) != MS_SUCCESS) fatal(ws->comm, "pack a result");
    ws->n_results++;
    if (ws->out.n > ws->flush_bytes) worker_send(ws, TAG_RESULTS, 0.0, 0);
    return 0;
}

static ms_status run_worker(MPI_Comm comm, ms_pipeline *p, const ms_farm_options *opt)
{
    worker_state ws = {comm, {0}, 0, opt->flush_bytes};
    ms_buffer in = {0};
    ms_task *t = malloc(sizeof *t);
    ms_result *r = malloc(sizeof *r);
    if (!t || !r) fatal(comm, "out of memory");
    worker_begin(&ws);
    worker_send(&ws, TAG_REQUEST, 0.0, 0);
    for (;;) {
        MPI_Status st;
        if (recv_any(comm, 0, &in, &st) != MS_SUCCESS) fatal(comm, "receive");
        if (st.MPI_TAG == TAG_STOP) break;
        size_t pos = 0;
        uint32_t proto = 0, n = 0;
        if (get(in.data, in.n, &pos, &proto, 4) || proto != PROTOCOL ||
            get(in.data, in.n, &pos, &n, 4))
            fatal(comm, "malformed task message");
        double t0 = now();
        for (uint32_t k = 0; k < n; k++) {
            if (ms_task_unpack(in.data, in.n, &pos, t) != MS_SUCCESS) fatal(comm, "bad task");
            ms_pipeline_run_task(p, t, r, worker_collect, &ws);
        }
        worker_send(&ws, TAG_REQUEST, now() - t0, n);
    }
    free(t);
    free(r);
    ms_buffer_free(&in);
    ms_buffer_free(&ws.out);
    return MS_SUCCESS;
}

ms_status ms_farm_run(MPI_Comm comm, ms_source *src, ms_pipeline *p, const ms_farm_options *opt,
                      ms_result_fn collect, void *user, ms_farm_stats *stats)
{
    ms_farm_options defaults;
    if (!opt) {
        ms_farm_options_default(&defaults);
        opt = &defaults;
    }
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (rank != 0) return run_worker(comm, p, opt);

    ms_farm_stats local = {0};
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    master_state m = {opt->progress, isatty(2), now(), now(), stats, collect, user, 0};
    window w;
    ms_status st = window_init(&w, src, opt->window);
    if (st != MS_SUCCESS) fatal(comm, "task window");
    st = size == 1 ? run_serial(&w, p, &m) : run_master(comm, size, &w, opt, &m);
    window_destroy(&w);
    stats->seconds = now() - m.start;
    progress(&m, 1);
    return st;
}
