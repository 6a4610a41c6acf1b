/*
 * The task farm: master/worker protocol over MPI (see farm.h for the API and packed layouts).
 *
 * Roles
 *   Rank 0 (master) owns the source enumerator and a window of up to opt.window tasks, kept as a
 *   max-heap on task size (ties: smaller seq first) so large files go out first and the short ones
 *   fill the tail. Ranks 1..size-1 (workers) read their inputs themselves and run the pipeline.
 *   With opt.master_works (default) rank 0 runs tasks too, in batches sized like a worker's, from
 *   the same window, and handles the messages that are waiting (MPI_Iprobe, never blocking) after
 *   every record it produces: a look per structure, not a spin. With size == 1 that is the whole
 *   run. Tasks the journal calls suspects (hooks->admit == MS_FARM_ALONE) wait in a FIFO outside
 *   the window and go out one per batch, while no other suspect is in flight; quarantined tasks
 *   are not run, the master emits their single "quarantine" result itself.
 *
 * Messages (communicator: the one given to ms_farm_run; all payloads are MPI_BYTE)
 *   TAG_REQUEST 101  worker -> master. "I finished my batch, give me work." Header, then the items
 *                    of the tail of the previous batch (none in the first request).
 *   TAG_RESULTS 102  worker -> master. Header, then items. Sent (MPI_Isend, never waited for:
 *                    items gather while the previous one has not left) after a task of a batch
 *                    once opt.report_seconds passed since the last report (not after the last
 *                    task, which goes with the REQUEST), so the master knows, within that time,
 *                    which tasks are done if the run dies; and mid-task when the buffer exceeds
 *                    opt.flush_bytes, so worker memory is bounded by flush_bytes plus one batch
 *                    of tasks, whatever a file holds.
 *   TAG_TASKS   103  master -> worker. u32 PROTOCOL, u32 n (>= 1), then n packed tasks. MPI_Isend
 *                    from one of IN_FLIGHT slots per worker (a blocking send could meet the
 *                    worker's own blocking REQUEST: both rendezvous, neither receiving).
 *   TAG_STOP    104  master -> worker, empty. No more work: the worker leaves the farm.
 *   Header of REQUEST and RESULTS: u32 PROTOCOL, u32 n_items, f64 busy_seconds, u32 n_tasks
 *   (time spent and tasks done in the batch just finished; 0 in RESULTS). Items: 'R' + a packed
 *   result, or 'D' + u64 seq + u32 n_results after the last result of each task (farm.h), so the
 *   master knows when a task is complete (the journal's DONE record).
 *
 * Flow and termination
 *   A worker sends REQUEST after each batch; the master keeps it topped up to IN_FLIGHT (2)
 *   batches, so it starts the next one while the REQUEST travels, and sends STOP only to a worker
 *   that holds no batch. A worker waits for TASKS or STOP only with nothing queued. Nobody waits in a blocking
 *   MPI call: Open MPI's MPI_Probe/MPI_Recv poll the progress engine and keep a core at 100%, which
 *   on a machine with one core per rank takes the core from a worker. Waiting is MPI_Iprobe and a
 *   nanosleep growing from 20 us to 1 ms (wait_probe, service): at most 1 ms of latency per
 *   message, against batches of about 0.25 s of work. The master receives exactly the probed
 *   message, tops the worker up with TASKS while the window or the enumerator has tasks, sends
 *   STOP when it has none and the worker holds no batch, and hands every result to the collect callback. It returns when it has no
 *   task of its own and has sent STOP to every worker. Because MPI does not let messages between
 *   one pair of ranks overtake each other, all RESULTS of a worker arrive before its next REQUEST,
 *   and STOP answers the REQUEST of its last batch, so when the last STOP is sent every result has
 *   been collected.
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
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "matscreen/array.h"

#define PROTOCOL 0x4d530002u /* "MS" + version 2 (tasks carry range_skip) */
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
    int64_t off = t->offset, len = t->length, size = t->size, skip = t->range_skip;
    PUT(b, t->seq);
    PUT(b, t->input);
    PUT(b, format);
    PUT(b, off);
    PUT(b, len);
    PUT(b, size);
    PUT(b, skip);
    PUT(b, status);
    MS_CALL(put_str(b, t->reason));
    return put_str(b, t->path);
}

ms_status ms_task_unpack(const unsigned char *d, size_t n, size_t *pos, ms_task *t)
{
    int32_t format = 0, status = 0;
    int64_t off = 0, len = 0, size = 0, skip = 0;
    GET(d, n, pos, t->seq);
    GET(d, n, pos, t->input);
    GET(d, n, pos, format);
    GET(d, n, pos, off);
    GET(d, n, pos, len);
    GET(d, n, pos, size);
    GET(d, n, pos, skip);
    GET(d, n, pos, status);
    MS_CHECK(skip >= 0 && skip <= off, MS_ERR_PARSE, "bad range part in a task");
    MS_CHECK(format >= MS_FORMAT_AUTO && format <= MS_FORMAT_POSCAR, MS_ERR_PARSE,
             "bad format %d in a task", (int)format);
    MS_CHECK(status >= 0 && status < MS_STATUS_COUNT, MS_ERR_PARSE, "bad status in a task");
    t->format = (ms_format)format;
    t->status = (ms_status)status;
    t->mtime_ns = -1; /* not sent: the master's journal identity alone needs it */
    t->offset = off;
    t->length = len;
    t->size = size;
    t->range_skip = skip;
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
    PUT(b, r->warnings);
    PUT(b, r->in_domain);
    PUT(b, r->rank_tier);
    const double v[15] = {r->n_atoms, r->volume, r->density, r->volume_per_atom, r->li_fraction,
                          r->class_prob, r->mean, r->sigma, r->acquisition, r->score,
                          r->fp_volume, r->props[0], r->props[1], r->props[2], r->domain_score};
    MS_CALL(ms_buffer_append(b, v, sizeof v));
    MS_CALL(put_str(b, r->formula));
    MS_CALL(put_str(b, r->source_id));
    MS_CALL(put_str(b, r->block));
    MS_CALL(put_str(b, r->reason));
    MS_CALL(put_str(b, r->domain_reason));
    MS_CALL(put_str(b, r->file));
    return put_str(b, r->explain);
}

ms_status ms_result_unpack(const unsigned char *d, size_t n, size_t *pos, ms_result *r)
{
    int64_t off = 0, len = 0;
    double v[15] = {0};
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
    GET(d, n, pos, r->warnings);
    GET(d, n, pos, r->in_domain);
    GET(d, n, pos, r->rank_tier);
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
    r->fp_volume = v[10];
    for (size_t i = 0; i < MS_RESULT_N_PROPS; i++) r->props[i] = v[11 + i];
    r->domain_score = v[14];
    MS_CALL(get_str(d, n, pos, r->formula, sizeof r->formula));
    MS_CALL(get_str(d, n, pos, r->source_id, sizeof r->source_id));
    MS_CALL(get_str(d, n, pos, r->block, sizeof r->block));
    MS_CALL(get_str(d, n, pos, r->reason, sizeof r->reason));
    MS_CALL(get_str(d, n, pos, r->domain_reason, sizeof r->domain_reason));
    MS_CALL(get_str(d, n, pos, r->file, sizeof r->file));
    return get_str(d, n, pos, r->explain, sizeof r->explain);
}

void ms_farm_options_default(ms_farm_options *opt)
{
    opt->window = 512;
    opt->max_batch = 256;
    opt->batch_seconds = 0.25;
    opt->flush_bytes = 256u << 10;
    opt->report_seconds = 0.05;
    opt->progress = 1;
    opt->master_works = 1;
    opt->hooks = NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds (user + system) of this process. */
static double cpu_now(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           1e-6 * (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void pause_us(long us)
{
    struct timespec ts = {0, us * 1000L};
    nanosleep(&ts, NULL);
}

/* Waits for a message from source without spinning: MPI_Iprobe, then a sleep growing from 20 us
 * to 1 ms. Open MPI's blocking MPI_Probe polls its progress engine and keeps a core busy. */
static void wait_probe(MPI_Comm comm, int source, MPI_Status *st)
{
    long us = 20;
    for (;;) {
        int flag = 0;
        MPI_Iprobe(source, MPI_ANY_TAG, comm, &flag, st);
        if (flag) return;
        pause_us(us);
        if (us < 1000) us *= 2;
    }
}

static void fatal(MPI_Comm comm, const char *what)
{
    fprintf(stderr, "matscreen farm: %s: %s\n", what, ms_error_message());
    MPI_Abort(comm, 3);
}

/* Receives exactly the probed message st into b. */
static ms_status recv_probed(MPI_Comm comm, const MPI_Status *st, ms_buffer *b)
{
    int count;
    MPI_Get_count(st, MPI_BYTE, &count);
    MS_CALL(buffer_reserve(b, (size_t)count + 1));
    MPI_Recv(b->data, count, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, comm, MPI_STATUS_IGNORE);
    b->n = (size_t)count;
    return MS_SUCCESS;
}

/* ---- the master ---------------------------------------------------------------------------- */

/* Batches a worker holds at once: it computes one while the next waits in its queue, so the
 * round trip of a REQUEST never leaves it idle. */
#define IN_FLIGHT 2

/* A worker's batches in flight, oldest first; alone[k]: batch k is a suspect's. */
typedef struct {
    int n;
    int alone[IN_FLIGHT];
    int next_slot;             /* send slot of the next batch (round robin) */
} flight;

/* A suspect JSON Lines range split into parts on resume, so that its records keep every rank busy
 * instead of one: a range of ~11,000 records run alone made a serial tail (docs/scale.md). Its
 * parts go out one per batch to any rank while no other suspect is in flight, so a later death
 * still names this one task. The journal sees one task: its DISPATCH with the first part, its DONE
 * (every part's results) after the last; crash records name its seq from any part. */
typedef struct {
    int active;
    ms_task task;        /* the suspect */
    ms_task part;        /* the part handed out last */
    long long next;      /* offset of the next part */
    long long part_bytes;
    unsigned out;        /* parts handed out and not done */
    uint32_t results;    /* results of its finished parts */
    int rank;            /* rank of its DISPATCH record, -1 before the first part */
} split_state;

/* Parts of a split suspect: about four per rank, at least this many bytes each. */
#define SPLIT_MIN_BYTES (16 << 10)

/* The task window: a max-heap on size over preallocated slots, plus a FIFO of suspects (tasks
 * admitted MS_FARM_ALONE), which do not count against the window. */
typedef struct {
    MPI_Comm comm;
    int size, active;          /* ranks; remote workers not yet stopped */
    int works;                 /* rank 0 runs tasks too */
    const ms_farm_options *opt;
    const ms_farm_hooks *hooks;
    ms_pipeline *p;
    ms_source *src;
    ms_task *slots;            /* window slots */
    size_t *heap;              /* slot indices, heap-ordered */
    size_t *free_ids;          /* free slot indices */
    size_t n, n_free, cap;
    int exhausted;
    ms_task *alone;            /* suspects: alone[alone_head .. n_alone) */
    size_t alone_head, n_alone, cap_alone;
    int alone_holder;          /* rank running a suspect, -1 none */
    split_state split;         /* a suspect range split into parts (none: split.active 0) */
    unsigned char *hungry;     /* per rank: asked for work while only a suspect's tasks were
                                  left; answered when the suspect is done (not stopped early) */
    size_t n_hungry;
    double *rate;              /* per rank: tasks per busy second */
    flight *flight;            /* per rank: batches sent and not yet finished */
    ms_buffer *send_buf;       /* per rank IN_FLIGHT slots: TASKS messages being sent */
    MPI_Request *send_req;
    size_t *last_batch;
    ms_buffer in, out;
    ms_result *r;              /* scratch: unpacked and quarantine results */
    ms_result *own_r;          /* scratch of rank 0's own pipeline */
    ms_task *own_task;         /* rank 0's own batch: up to opt.max_batch tasks */
    uint32_t own_results;
    size_t own_last;           /* size of rank 0's previous batch (doubling before a rate) */
    int enabled, tty;
    unsigned long long done;   /* tasks finished or skipped, for the progress line */
    double start, last;
    ms_farm_stats *stats;
    ms_result_fn collect;
    void *user;
    int stop;
    char stop_message[1024]; /* ms_error_message() when stop was set: rank 0 goes on working
                                after it (its own task, messages), which may overwrite it */
} master;

/* Stops the farm after a collect or hook failure, keeping that failure's message. */
static void master_stop(master *m)
{
    if (m->stop) return;
    m->stop = 1;
    snprintf(m->stop_message, sizeof m->stop_message, "%s", ms_error_message());
}

static int task_before(const ms_task *a, const ms_task *b)
{
    if (a->size != b->size) return a->size > b->size;
    return a->seq < b->seq;
}

static void heap_up(master *w, size_t i)
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

static void heap_down(master *w, size_t i)
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

/* Seconds as "1h02m", "3m05s" or "42s", for the ETA. */
static void format_duration(double s, char *out, size_t n)
{
    long t = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;
    if (t >= 3600) snprintf(out, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(out, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(out, n, "%lds", t);
}

/* Progress on stderr (rank 0). On a terminal one line rewritten every 0.5 s: tasks done of the
 * total (">=" while the inputs are still being enumerated), records, failures, rate and ETA.
 * Without a terminal (a batch log) a line at the start, every 30 s and at the end, so that a
 * Slurm log shows life. The end line has no rate: the command's summary line prints the one
 * throughput figure, the same as the report's. */
static void progress(master *m, int final)
{
    if (!m->enabled) return;
    double t = now();
    if (!final && t - m->last < (m->tty ? 0.5 : 30.0)) return;
    m->last = t;
    double el = t - m->start;
    unsigned long long total = ms_source_count(m->src), done = m->done;
    if (final) {
        fprintf(stderr, "%sscreen: done: %llu tasks, %llu records (%llu failed), %.1f s\n",
                m->tty ? "\r\033[K" : "", done, m->stats->records, m->stats->failed, el);
        fflush(stderr);
        return;
    }
    double rate = el > 0 ? (double)done / el : 0.0;
    char eta[32] = "?";
    if (m->exhausted && rate > 0 && total >= done) format_duration((double)(total - done) / rate, eta, sizeof eta);
    fprintf(stderr, "%sscreen: %llu/%s%llu tasks, %llu records (%llu failed), %.0f tasks/s, ETA %s%s",
            m->tty ? "\r\033[K" : "", done, m->exhausted ? "" : ">=", total, m->stats->records,
            m->stats->failed, rate, m->exhausted ? eta : "?", m->tty ? "" : "\n");
    fflush(stderr);
}

/* The first progress line of a run without a terminal: a batch log shows when work began. */
static void progress_start(master *m)
{
    if (!m->enabled || m->tty) return;
    fprintf(stderr, "screen: started on %d rank%s; progress every 30 s\n", m->size,
            m->size > 1 ? "s" : "");
    fflush(stderr);
}

static void master_collect(master *m, const ms_result *r)
{
    m->stats->records++;
    if (r->status != MS_SUCCESS) m->stats->failed++;
    if (!m->stop && m->collect && m->collect(r, m->user) != 0) master_stop(m);
    progress(m, 0);
}

static void hook_done(master *m, uint64_t seq, uint32_t n_results, int rank)
{
    m->done++;
    if (m->hooks && m->hooks->done && !m->stop &&
        m->hooks->done(seq, n_results, rank, m->hooks->user))
        master_stop(m);
}

static void hook_batch_end(master *m)
{
    if (m->hooks && m->hooks->batch_end && !m->stop && m->hooks->batch_end(m->hooks->user))
        master_stop(m);
}

static void hook_dispatched(master *m, const ms_task *t, int rank)
{
    if (m->hooks && m->hooks->dispatched && !m->stop &&
        m->hooks->dispatched(t, rank, m->hooks->user))
        master_stop(m);
}

/* The DISPATCH of a split suspect goes with its first part, under the suspect's own task (the
 * result cache stores the suspect's results under it). */
static void task_dispatched(master *m, const ms_task *t, int rank)
{
    if (m->split.active && t == &m->split.part) {
        if (m->split.rank >= 0) return;
        m->split.rank = rank;
        t = &m->split.task;
    }
    hook_dispatched(m, t, rank);
}

/* A task (or a part of the split suspect) finished on rank with n_results results. */
static void task_done(master *m, uint64_t seq, uint32_t n_results, int rank)
{
    split_state *sp = &m->split;
    if (!sp->active || seq != sp->task.seq) {
        hook_done(m, seq, n_results, rank);
        return;
    }
    sp->results += n_results;
    if (sp->out > 0) sp->out--;
    if (sp->out > 0 || sp->next < sp->task.offset + sp->task.length) return;
    sp->active = 0;
    hook_done(m, seq, sp->results, sp->rank);
}

/* Starts splitting suspect t when it is a JSON Lines range worth splitting; returns 1 if so. */
static int split_start(master *m, const ms_task *t)
{
    int ranks = m->size - 1 + (m->works ? 1 : 0);
    long long part = t->length / (4LL * (ranks > 0 ? ranks : 1));
    if (part < SPLIT_MIN_BYTES) part = SPLIT_MIN_BYTES;
    if (ranks < 2 || t->status != MS_SUCCESS || t->format != MS_FORMAT_JSONL || t->length < 0 ||
        t->length < 2 * part)
        return 0;
    split_state *sp = &m->split;
    sp->active = 1;
    sp->task = *t;
    sp->next = t->offset;
    sp->part_bytes = part;
    sp->out = 0;
    sp->results = 0;
    sp->rank = -1;
    return 1;
}

/* The next part of the split suspect (its records: those whose first byte lies in it). */
static const ms_task *split_part(master *m)
{
    split_state *sp = &m->split;
    long long end = sp->task.offset + sp->task.length, len = sp->part_bytes;
    if (len > end - sp->next) len = end - sp->next;
    sp->part = sp->task;
    sp->part.offset = sp->next;
    sp->part.length = len;
    sp->part.size = len;
    sp->part.range_skip = sp->next - sp->task.offset;
    sp->next += len;
    sp->out++;
    return &sp->part;
}

static ms_status alone_push(master *m, const ms_task *t)
{
    if (m->n_alone == m->cap_alone && m->alone_head > 0) {
        memmove(m->alone, m->alone + m->alone_head, (m->n_alone - m->alone_head) * sizeof *m->alone);
        m->n_alone -= m->alone_head;
        m->alone_head = 0;
    }
    if (ms_array_reserve(&m->alone, &m->cap_alone, m->n_alone + 1, sizeof *m->alone, 16) !=
        MS_SUCCESS)
        return ms_error_set(MS_ERR_NOMEM, "cannot queue %zu suspect tasks", m->n_alone + 1);
    m->alone[m->n_alone++] = *t;
    return MS_SUCCESS;
}

static void window_fill(master *m)
{
    while (!m->exhausted && m->n < m->cap) {
        size_t id = m->free_ids[--m->n_free];
        ms_task *t = &m->slots[id];
        if (!ms_source_next(m->src, t)) {
            m->free_ids[m->n_free++] = id;
            m->exhausted = 1;
            break;
        }
        ms_farm_admit a = (m->hooks && m->hooks->admit) ? m->hooks->admit(t, m->hooks->user)
                                                         : MS_FARM_RUN;
        if (a == MS_FARM_RUN) {
            m->heap[m->n++] = id;
            heap_up(m, m->n - 1);
            continue;
        }
        m->free_ids[m->n_free++] = id;
        if (a == MS_FARM_SKIP) m->done++;
        if (a == MS_FARM_ALONE) {
            if (alone_push(m, t) != MS_SUCCESS) fatal(m->comm, "suspect queue");
        } else if (a == MS_FARM_QUARANTINE) {
            ms_result_task_failure(m->r, t, MS_STAGE_QUARANTINE, MS_ERR_INTERNAL,
                                   "quarantined: its rank crashed running it twice, or it was in "
                                   "flight at three deaths of the run (suspected of crashing or "
                                   "hanging its rank); not run again");
            m->stats->quarantined++;
            master_collect(m, m->r);
            hook_done(m, t->seq, 1, -1);
        }
    }
}

/* The next task for rank, or NULL. A suspect goes out only as the first task of a batch
 * (allow_alone) and only while no other suspect is in flight; *alone tells the caller to end the
 * batch there. The pointer is valid until the next call. */
static const ms_task *next_task(master *m, int rank, int allow_alone, int *alone)
{
    window_fill(m);
    *alone = 0;
    if (allow_alone && m->split.active && m->split.next < m->split.task.offset + m->split.task.length) {
        *alone = 1;
        return split_part(m);
    }
    if (allow_alone && m->alone_holder < 0 && !m->split.active && m->alone_head < m->n_alone) {
        *alone = 1;
        const ms_task *t = &m->alone[m->alone_head++];
        if (split_start(m, t)) return split_part(m);
        m->alone_holder = rank;
        return t;
    }
    if (m->n == 0) return NULL;
    size_t id = m->heap[0];
    m->heap[0] = m->heap[--m->n];
    heap_down(m, 0);
    m->free_ids[m->n_free++] = id; /* the slot is refilled by the next window_fill only */
    return &m->slots[id];
}

/* Sends worker `from` one batch of tasks sized from its measured rate; returns the number sent
 * (0: nothing left to hand out). */
static uint32_t send_batch(master *m, int from)
{
    const ms_farm_options *opt = m->opt;
    size_t batch;
    if (m->rate[from] > 0) batch = (size_t)(m->rate[from] * opt->batch_seconds);
    else batch = m->last_batch[from] ? 2 * m->last_batch[from] : 1;
    if (batch > opt->max_batch) batch = opt->max_batch;
    window_fill(m);
    if (m->exhausted) {
        int workers = m->size - 1 + (m->works ? 1 : 0);
        size_t cap = m->n / (2 * (size_t)workers);
        if (batch > cap) batch = cap;
    }
    if (batch < 1) batch = 1;
    ms_buffer_reset(&m->out);
    uint32_t hdr[2] = {PROTOCOL, 0};
    if (ms_buffer_append(&m->out, hdr, sizeof hdr) != MS_SUCCESS) fatal(m->comm, "pack");
    while (!m->stop && hdr[1] < batch) {
        int alone;
        const ms_task *t = next_task(m, from, hdr[1] == 0, &alone);
        if (!t) break;
        task_dispatched(m, t, from);
        if (ms_task_pack(t, &m->out) != MS_SUCCESS) fatal(m->comm, "pack");
        hdr[1]++;
        if (alone) break;
    }
    if (hdr[1] == 0) return 0;
    hook_batch_end(m); /* DISPATCH records reach the kernel before the tasks leave */
    memcpy(m->out.data + 4, &hdr[1], 4);
    m->last_batch[from] = hdr[1];
    m->stats->tasks += hdr[1];
    m->stats->messages++;
    /* Never a blocking send: the worker may be sending us its REQUEST at the same moment (both
     * rendezvous-sized), and neither would reach its receive. The slot's previous message was
     * received already: its batch finished before this slot came round again. */
    size_t slot = (size_t)from * IN_FLIGHT + m->flight[from].next_slot;
    m->flight[from].next_slot = (m->flight[from].next_slot + 1) % IN_FLIGHT;
    MPI_Wait(&m->send_req[slot], MPI_STATUS_IGNORE);
    ms_buffer t = m->send_buf[slot];
    m->send_buf[slot] = m->out;
    m->out = t;
    MPI_Isend(m->send_buf[slot].data, (int)m->send_buf[slot].n, MPI_BYTE, from, TAG_TASKS,
              m->comm, &m->send_req[slot]);
    return hdr[1];
}

/* Answers a REQUEST from worker `from` (n_tasks > 0: it finished its oldest batch, which took
 * busy seconds): tops it up to IN_FLIGHT batches, so that it starts the next one while this
 * answer travels; STOP once nothing is left and it holds no batch, so every result of a stopped
 * worker has arrived. */
static void reply(master *m, int from, uint32_t n_tasks, double busy)
{
    flight *f = &m->flight[from];
    if (n_tasks > 0) {
        if (f->n > 0) {
            if (f->alone[0] && m->alone_holder == from) m->alone_holder = -1;
            f->alone[0] = f->alone[1];
            f->alone[1] = 0;
            f->n--;
        }
        if (busy > 1e-6) {
            double x = (double)n_tasks / busy;
            m->rate[from] = m->rate[from] > 0 ? 0.5 * m->rate[from] + 0.5 * x : x;
        }
    }
    while (f->n < IN_FLIGHT && !m->stop) {
        int holder = m->alone_holder;
        if (send_batch(m, from) == 0) break;
        f->alone[f->n++] = m->alone_holder == from && holder != from;
    }
    if (f->n == 0 && !m->stop && (m->split.active || m->alone_head < m->n_alone)) {
        /* Only suspects are left, one in flight at a time: this worker may get a part of the
         * next one (feed_hungry), so it is not stopped yet. */
        if (!m->hungry[from]) m->n_hungry++;
        m->hungry[from] = 1;
        return;
    }
    if (f->n == 0) {
        MPI_Send(NULL, 0, MPI_BYTE, from, TAG_STOP, m->comm);
        m->active--;
    }
}

/* Answers the workers left waiting by reply, once a suspect has finished (or the run stops). */
static void feed_hungry(master *m)
{
    for (int r = 1; m->n_hungry > 0 && r < m->size; r++) {
        if (!m->hungry[r]) continue;
        m->hungry[r] = 0;
        m->n_hungry--;
        reply(m, r, 0, 0.0);
    }
}

/* Receives one probed worker message, answers it if it is a REQUEST, collects its items. */
static void handle_message(master *m, const MPI_Status *st)
{
    if (recv_probed(m->comm, st, &m->in) != MS_SUCCESS) fatal(m->comm, "receive");
    const unsigned char *d = m->in.data;
    size_t n = m->in.n, pos = 0;
    int from = st->MPI_SOURCE;
    uint32_t proto = 0, n_items = 0, n_tasks = 0;
    double busy = 0;
    if (get(d, n, &pos, &proto, 4) || proto != PROTOCOL || get(d, n, &pos, &n_items, 4) ||
        get(d, n, &pos, &busy, 8) || get(d, n, &pos, &n_tasks, 4))
        fatal(m->comm, "malformed message header from a worker");
    /* Answer first, so the worker computes while we write. */
    if (st->MPI_TAG == TAG_REQUEST) reply(m, from, n_tasks, busy);
    for (uint32_t k = 0; k < n_items; k++) {
        unsigned char kind = 0;
        if (get(d, n, &pos, &kind, 1)) fatal(m->comm, "truncated message");
        if (kind == 'R') {
            if (ms_result_unpack(d, n, &pos, m->r) != MS_SUCCESS) fatal(m->comm, "bad result");
            master_collect(m, m->r);
        } else if (kind == 'D') {
            uint64_t seq = 0;
            uint32_t n_results = 0;
            if (get(d, n, &pos, &seq, 8) || get(d, n, &pos, &n_results, 4))
                fatal(m->comm, "bad task-done item");
            task_done(m, seq, n_results, from);
        } else {
            fatal(m->comm, "unknown item in a worker message");
        }
    }
    hook_batch_end(m);
    feed_hungry(m);
}

/* Handles every pending message; with block, waits (without spinning) for at least one. */
static void service(master *m, int block)
{
    if (m->size == 1) return;
    long us = 20;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, m->comm, &flag, &st);
        if (flag) {
            handle_message(m, &st);
            block = 0;
            us = 20;
            continue;
        }
        if (!block) return;
        pause_us(us);
        if (us < 1000) us *= 2;
    }
}

/* Collect callback of rank 0's own pipeline: one look at the messages per record produced. */
static int own_collect(const ms_result *r, void *user)
{
    master *m = user;
    m->own_results++;
    master_collect(m, r);
    service(m, 0);
    return m->stop;
}

/* Rank 0's own batch, sized like a worker's (its rate times opt.batch_seconds). Its DISPATCH
 * records reach the kernel together before the first task runs, and its DONE records at most
 * every opt.report_seconds and at the end, as a worker's reports do: one task at a time cost two
 * journal writes per task, the largest share of the farm's own time in a dry run. If rank 0 dies
 * in the batch, the journal blames the batch's unfinished tasks and those finished since the
 * last write, as for a worker. Returns the number of tasks run (0: none to run). */
static size_t run_own_batch(master *m)
{
    const ms_farm_options *opt = m->opt;
    size_t want = m->rate[0] > 0 ? (size_t)(m->rate[0] * opt->batch_seconds)
                                 : m->own_last ? 2 * m->own_last : 1;
    if (want > opt->max_batch) want = opt->max_batch;
    window_fill(m);
    if (m->exhausted) { /* the tail stays balanced, as for the workers */
        size_t cap = m->n / (2 * (size_t)m->size); /* rank 0 works: size workers */
        if (want > cap) want = cap;
    }
    if (want < 1) want = 1;
    size_t n = 0;
    int alone = 0;
    while (n < want && !m->stop) {
        const ms_task *t = next_task(m, 0, n == 0, &alone);
        if (!t) break;
        m->own_task[n] = *t;
        task_dispatched(m, t, 0);
        n++;
        if (alone) break;
    }
    if (n == 0) return 0;
    hook_batch_end(m); /* DISPATCH records reach the kernel before the tasks run */
    m->stats->tasks += n;
    m->own_last = n;
    double t0 = now(), last = t0;
    for (size_t k = 0; k < n && !m->stop; k++) {
        m->own_results = 0;
        ms_pipeline_run_task(m->p, &m->own_task[k], m->own_r, own_collect, m);
        task_done(m, m->own_task[k].seq, m->own_results, 0);
        double tk = now();
        if (tk - last >= opt->report_seconds) {
            hook_batch_end(m);
            last = tk;
        }
        service(m, 0);
    }
    if (alone && m->alone_holder == 0) m->alone_holder = -1;
    hook_batch_end(m);
    feed_hungry(m);
    double busy = now() - t0;
    if (busy > 1e-6) {
        double x = (double)n / busy;
        m->rate[0] = m->rate[0] > 0 ? 0.5 * m->rate[0] + 0.5 * x : x;
    }
    return n;
}

static ms_status run_master(master *m)
{
    for (;;) {
        if (m->works && !m->stop) {
            if (run_own_batch(m)) continue;
        }
        if (m->active == 0) break;
        service(m, 1);
    }
    return m->stop ? ms_error_set(MS_ERR_IO, "writing results failed: %s", m->stop_message)
                   : MS_SUCCESS;
}

static void master_destroy(master *m)
{
    free(m->slots);
    free(m->heap);
    free(m->free_ids);
    free(m->alone);
    free(m->rate);
    free(m->flight);
    free(m->hungry);
    for (size_t i = 0; m->send_req && m->send_buf && i < (size_t)m->size * IN_FLIGHT; i++) {
        MPI_Wait(&m->send_req[i], MPI_STATUS_IGNORE);
        ms_buffer_free(&m->send_buf[i]);
    }
    free(m->send_buf);
    free(m->send_req);
    free(m->last_batch);
    free(m->r);
    free(m->own_r);
    free(m->own_task);
    ms_buffer_free(&m->in);
    ms_buffer_free(&m->out);
}

static ms_status master_init(master *m, MPI_Comm comm, int size, ms_source *src, ms_pipeline *p,
                             const ms_farm_options *opt, ms_result_fn collect, void *user,
                             ms_farm_stats *stats)
{
    memset(m, 0, sizeof *m);
    m->comm = comm;
    m->size = size;
    m->active = size - 1;
    m->works = size == 1 || opt->master_works;
    m->opt = opt;
    m->hooks = opt->hooks;
    m->p = p;
    m->src = src;
    m->cap = opt->window ? opt->window : 1;
    m->alone_holder = -1;
    m->enabled = opt->progress;
    m->tty = isatty(2);
    m->start = m->last = now();
    m->stats = stats;
    progress_start(m);
    m->collect = collect;
    m->user = user;
    m->slots = malloc(m->cap * sizeof *m->slots);
    m->heap = malloc(m->cap * sizeof *m->heap);
    m->free_ids = malloc(m->cap * sizeof *m->free_ids);
    m->rate = calloc((size_t)size, sizeof *m->rate);
    m->last_batch = calloc((size_t)size, sizeof *m->last_batch);
    m->flight = calloc((size_t)size, sizeof *m->flight);
    m->hungry = calloc((size_t)size, 1);
    m->send_buf = calloc((size_t)size * IN_FLIGHT, sizeof *m->send_buf);
    m->send_req = malloc((size_t)size * IN_FLIGHT * sizeof *m->send_req);
    for (size_t i = 0; m->send_req && i < (size_t)size * IN_FLIGHT; i++)
        m->send_req[i] = MPI_REQUEST_NULL;
    m->r = malloc(sizeof *m->r);
    m->own_r = malloc(sizeof *m->own_r);
    m->own_task = malloc((opt->max_batch ? opt->max_batch : 1) * sizeof *m->own_task);
    if (!m->slots || !m->heap || !m->free_ids || !m->rate || !m->flight || !m->hungry || !m->send_buf ||
        !m->send_req || !m->last_batch || !m->r ||
        !m->own_r || !m->own_task) {
        master_destroy(m);
        return ms_error_set(MS_ERR_NOMEM, "cannot allocate a task window of %zu", m->cap);
    }
    for (size_t i = 0; i < m->cap; i++) m->free_ids[i] = m->cap - 1 - i;
    m->n_free = m->cap;
    return MS_SUCCESS;
}

/* ---- worker ------------------------------------------------------------------------------ */

typedef struct {
    MPI_Comm comm;
    ms_buffer out;       /* items being gathered */
    ms_buffer sending;   /* items of the report in flight (MPI_Isend) */
    MPI_Request req;     /* that report, or MPI_REQUEST_NULL */
    uint32_t n_items, task_results;
    size_t flush_bytes;
} worker_state;

static void worker_begin(worker_state *ws)
{
    ms_buffer_reset(&ws->out);
    unsigned char hdr[HEADER_BYTES] = {0};
    if (ms_buffer_append(&ws->out, hdr, sizeof hdr) != MS_SUCCESS) fatal(ws->comm, "pack");
    ws->n_items = 0;
}

static void worker_header(worker_state *ws, double busy, uint32_t n_tasks)
{
    uint32_t proto = PROTOCOL;
    memcpy(ws->out.data, &proto, 4);
    memcpy(ws->out.data + 4, &ws->n_items, 4);
    memcpy(ws->out.data + 8, &busy, 8);
    memcpy(ws->out.data + 16, &n_tasks, 4);
}

/* Blocking send of the gathered items (after the report in flight, so the order holds). */
static void worker_send(worker_state *ws, int tag, double busy, uint32_t n_tasks)
{
    MPI_Wait(&ws->req, MPI_STATUS_IGNORE);
    worker_header(ws, busy, n_tasks);
    MPI_Send(ws->out.data, (int)ws->out.n, MPI_BYTE, 0, tag, ws->comm);
    worker_begin(ws);
}

/* Reports finished tasks without waiting: when the previous report has not left yet (the master
 * has not looked at its messages), the items stay and go with the next report. A blocking send
 * here would cost up to the master's polling interval per task. */
static void worker_report(worker_state *ws)
{
    int done = 1;
    MPI_Test(&ws->req, &done, MPI_STATUS_IGNORE);
    if (!done || ws->n_items == 0) return;
    worker_header(ws, 0.0, 0);
    ms_buffer t = ws->sending;
    ws->sending = ws->out;
    ws->out = t;
    MPI_Isend(ws->sending.data, (int)ws->sending.n, MPI_BYTE, 0, TAG_RESULTS, ws->comm, &ws->req);
    worker_begin(ws);
}

static int worker_collect(const ms_result *r, void *user)
{
    worker_state *ws = user;
    unsigned char kind = 'R';
    if (ms_buffer_append(&ws->out, &kind, 1) != MS_SUCCESS || ms_result_pack(r, &ws->out) != MS_SUCCESS)
        fatal(ws->comm, "pack a result");
    ws->n_items++;
    ws->task_results++;
    if (ws->out.n > ws->flush_bytes) { /* without waiting when the previous report has left */
        size_t before = ws->out.n;
        worker_report(ws);
        if (ws->out.n == before) worker_send(ws, TAG_RESULTS, 0.0, 0);
    }
    return 0;
}

static void worker_task_done(worker_state *ws, uint64_t seq)
{
    unsigned char kind = 'D';
    if (ms_buffer_append(&ws->out, &kind, 1) != MS_SUCCESS ||
        ms_buffer_append(&ws->out, &seq, 8) != MS_SUCCESS ||
        ms_buffer_append(&ws->out, &ws->task_results, 4) != MS_SUCCESS)
        fatal(ws->comm, "pack");
    ws->n_items++;
}

/* Receives the master's next message into q: TASKS (returns 1) or STOP (returns 0). With wait 0
 * returns -1 when none is waiting. */
static int worker_receive(MPI_Comm comm, ms_buffer *q, int wait)
{
    MPI_Status st;
    if (wait) {
        wait_probe(comm, 0, &st);
    } else {
        int flag = 0;
        MPI_Iprobe(0, MPI_ANY_TAG, comm, &flag, &st);
        if (!flag) return -1;
    }
    if (recv_probed(comm, &st, q) != MS_SUCCESS) fatal(comm, "receive");
    return st.MPI_TAG == TAG_STOP ? 0 : 1;
}

/* Runs one TASKS message; finished tasks are reported every opt->report_seconds (the rest goes
 * with the REQUEST that ends the batch). */
static void worker_batch(worker_state *ws, ms_pipeline *p, const ms_buffer *in, ms_task *t,
                         ms_result *r, double report_seconds)
{
    size_t pos = 0;
    uint32_t proto = 0, n = 0;
    if (get(in->data, in->n, &pos, &proto, 4) || proto != PROTOCOL ||
        get(in->data, in->n, &pos, &n, 4))
        fatal(ws->comm, "malformed task message");
    double t0 = now(), last = t0;
    for (uint32_t k = 0; k < n; k++) {
        if (ms_task_unpack(in->data, in->n, &pos, t) != MS_SUCCESS) fatal(ws->comm, "bad task");
        ws->task_results = 0;
        ms_pipeline_run_task(p, t, r, worker_collect, ws);
        worker_task_done(ws, t->seq);
        /* Finished tasks are reported without waiting, at most every report_seconds: the
         * journal then knows which tasks of the batch were done if the run dies (those of the
         * last interval are blamed too, and run alone on resume), without a message per task. */
        double tk = now();
        if (k + 1 < n && tk - last >= report_seconds) {
            worker_report(ws);
            last = tk;
        }
    }
    worker_send(ws, TAG_REQUEST, now() - t0, n);
}

static ms_status run_worker(MPI_Comm comm, ms_pipeline *p, const ms_farm_options *opt)
{
    worker_state ws = {comm, {0}, {0}, MPI_REQUEST_NULL, 0, 0, opt->flush_bytes};
    ms_buffer q[IN_FLIGHT] = {{0}};
    size_t head = 0, nq = 0;
    ms_task *t = malloc(sizeof *t);
    ms_result *r = malloc(sizeof *r);
    if (!t || !r) fatal(comm, "out of memory");
    worker_begin(&ws);
    worker_send(&ws, TAG_REQUEST, 0.0, 0);
    for (;;) {
        /* Take what has arrived; wait only with nothing to run. The master sends at most
         * IN_FLIGHT batches ahead, and STOP only when this worker holds none. */
        int got = 1;
        while (nq < IN_FLIGHT) {
            got = worker_receive(comm, &q[(head + nq) % IN_FLIGHT], nq == 0);
            if (got != 1) break;
            nq++;
        }
        if (got == 0) break;
        worker_batch(&ws, p, &q[head], t, r, opt->report_seconds);
        head = (head + 1) % IN_FLIGHT;
        nq--;
    }
    free(t);
    free(r);
    MPI_Wait(&ws.req, MPI_STATUS_IGNORE);
    for (size_t i = 0; i < IN_FLIGHT; i++) ms_buffer_free(&q[i]);
    ms_buffer_free(&ws.out);
    ms_buffer_free(&ws.sending);
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
    master m;
    double cpu0 = cpu_now();
    if (master_init(&m, comm, size, src, p, opt, collect, user, stats) != MS_SUCCESS)
        fatal(comm, "task window");
    ms_status st = run_master(&m);
    stats->seconds = now() - m.start;
    stats->cpu_seconds = cpu_now() - cpu0;
    progress(&m, 1);
    master_destroy(&m);
    return st;
}
