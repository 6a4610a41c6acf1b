/*
 * Checkpoint journal of a screen (see journal.h for the format and the rules).
 */
#include "matscreen/file_read.h"
#include "matscreen/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "matscreen/array.h"
#include "matscreen/crash.h"
#include "matscreen/hash.h"
#include "matscreen/sysio.h"

#define FRAME_BYTES 16
#define MAGIC "matscreen-journal"
#define MAGIC_BYTES 18 /* with the NUL */
#define FORMAT_VERSION 3u /* 2: results carry warnings, fp_volume, props; 3: the domain */
#define FLUSH_BYTES (1u << 20)

/* Sorted (seq, deaths, crashes) entries: the tasks that were in flight at some death, and how
 * many of those deaths were crashes of the task's own rank while it ran (crash.h). */
typedef struct {
    uint64_t seq;
    unsigned deaths, crashes;
} death_entry;

/* Tasks dispatched to one rank and not done yet, in dispatch order. */
typedef struct {
    uint64_t *seq;
    size_t head, n, cap;
} rank_queue;

struct ms_journal {
    char *path;
    int fd;
    uint64_t end;         /* logical end of the file, buffered bytes included */
    uint64_t flushed;     /* bytes handed to the kernel */
    ms_buffer buf;
    ms_buffer scratch;
    double sync_seconds, last_sync;
    ms_journal_identity id;
    /* replay state (empty for a new journal) */
    uint64_t *done_bits;  /* bit per seq: done */
    uint16_t *done_life;  /* life (1-based) in which seq was done, 0 when not */
    rank_queue *queues;   /* per rank: tasks dispatched and not done in the current life */
    size_t n_queues;
    size_t n_words, n_life; /* capacities: 64-bit words / entries */
    death_entry *deaths;
    size_t n_deaths, cap_deaths;
    uint64_t *crashed;    /* tasks a rank crashed on in the current life (CRASH records) */
    size_t n_crashed, cap_crashed;
    ms_journal_info info;
    void (*flush_hook)(void *user);
    void *flush_user;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- identity ---------------------------------------------------------------------------- */

static uint64_t hash_u64(uint64_t h, uint64_t v) { return ms_hash_update(h, &v, sizeof v); }

ms_status ms_journal_identity_source(ms_journal_identity *id, const char *const *specs,
                                     size_t n_specs, ms_source *src)
{
    MS_CHECK(id && src && (specs || n_specs == 0), MS_ERR_USAGE,
             "ms_journal_identity_source: arguments");
    memset(id, 0, sizeof *id);
    snprintf(id->version, sizeof id->version, "%s", MS_VERSION);
    uint64_t h = MS_HASH_INIT;
    size_t k = 0;
    for (size_t i = 0; i < n_specs; i++) {
        h = ms_hash_update(h, specs[i], strlen(specs[i]) + 1);
        k += (size_t)snprintf(id->specs + k, k < sizeof id->specs ? sizeof id->specs - k : 0,
                              "%s%s", i ? " " : "", specs[i]);
        if (k >= sizeof id->specs) k = sizeof id->specs - 1;
    }
    id->specs_hash = h;
    ms_task *t = malloc(sizeof *t);
    MS_CHECK(t, MS_ERR_NOMEM, "out of memory");
    h = MS_HASH_INIT;
    while (ms_source_next(src, t)) {
        /* the enumerator's own stat: a second one per file cost 12% of a dry run's master */
        int64_t mtime_ns = t->status == MS_SUCCESS ? t->mtime_ns : -1;
        h = hash_u64(h, t->seq);
        h = ms_hash_update(h, t->path, strlen(t->path) + 1);
        h = hash_u64(h, (uint64_t)t->size);
        h = hash_u64(h, (uint64_t)mtime_ns);
        h = hash_u64(h, (uint64_t)t->offset);
        h = hash_u64(h, (uint64_t)t->length);
        h = hash_u64(h, (uint64_t)t->format);
        h = hash_u64(h, (uint64_t)t->status);
        id->n_tasks++;
    }
    id->tasks_hash = h;
    free(t);
    return MS_SUCCESS;
}

ms_status ms_journal_identity_inputs(ms_journal_identity *id, const char *const *specs,
                                     size_t n_specs, const ms_source_options *so)
{
    MS_CHECK(id && (specs || n_specs == 0), MS_ERR_USAGE, "ms_journal_identity_inputs: arguments");
    ms_source *src = NULL;
    MS_CALL(ms_source_create(specs, n_specs, so, &src));
    ms_status st = ms_journal_identity_source(id, specs, n_specs, src);
    ms_source_free(src);
    return st;
}

static void diff_add(char *msg, size_t n, int *count, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void diff_add(char *msg, size_t n, int *count, const char *fmt, ...)
{
    size_t k = strlen(msg);
    if (*count && k + 2 < n) {
        memcpy(msg + k, "; ", 3);
        k += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    if (k < n) vsnprintf(msg + k, n - k, fmt, ap);
    va_end(ap);
    (*count)++;
}

int ms_journal_identity_diff(const ms_journal_identity *was, const ms_journal_identity *now_id,
                             char *msg, size_t n)
{
    int c = 0;
    if (n) msg[0] = '\0';
    if (was->specs_hash != now_id->specs_hash)
        diff_add(msg, n, &c, "inputs were '%s', now '%s'", was->specs, now_id->specs);
    else if (was->n_tasks != now_id->n_tasks)
        diff_add(msg, n, &c, "the input set changed: %llu tasks then, %llu now",
                 (unsigned long long)was->n_tasks, (unsigned long long)now_id->n_tasks);
    else if (was->tasks_hash != now_id->tasks_hash)
        diff_add(msg, n, &c, "input files changed (names, sizes or modification times)");
    if (was->rank_by != now_id->rank_by)
        diff_add(msg, n, &c, "--rank-by was %s, now %s", ms_rank_by_name((ms_rank_by)was->rank_by),
                 ms_rank_by_name((ms_rank_by)now_id->rank_by));
    if (was->ascending != now_id->ascending)
        diff_add(msg, n, &c, "--ascending was %s, now %s", was->ascending ? "on" : "off",
                 now_id->ascending ? "on" : "off");
    if (was->top_k != now_id->top_k)
        diff_add(msg, n, &c, "--top was %llu, now %llu", (unsigned long long)was->top_k,
                 (unsigned long long)now_id->top_k);
    if (was->seed != now_id->seed)
        diff_add(msg, n, &c, "--seed was %llu, now %llu", (unsigned long long)was->seed,
                 (unsigned long long)now_id->seed);
    if (was->format != now_id->format)
        diff_add(msg, n, &c, "--format was %s, now %s", ms_format_name((ms_format)was->format),
                 ms_format_name((ms_format)now_id->format));
    if (was->workflow_hash != now_id->workflow_hash) diff_add(msg, n, &c, "the workflow changed");
    if (was->model_hash != now_id->model_hash) diff_add(msg, n, &c, "the model changed");
    if (strcmp(was->version, now_id->version) != 0)
        diff_add(msg, n, &c, "matscreen was version %s, now %s", was->version, now_id->version);
    return c;
}

static ms_status pack_identity(const ms_journal_identity *id, ms_buffer *b)
{
    char magic[MAGIC_BYTES] = MAGIC;
    uint32_t version = FORMAT_VERSION;
    MS_CALL(ms_buffer_append(b, magic, sizeof magic));
    MS_CALL(ms_buffer_append(b, &version, sizeof version));
    MS_CALL(ms_buffer_append(b, id, sizeof *id));
    return MS_SUCCESS;
}

static ms_status unpack_identity(const char *path, const unsigned char *p, uint32_t n,
                                 ms_journal_identity *id)
{
    uint32_t version = 0;
    MS_CHECK(n >= MAGIC_BYTES + 4 && memcmp(p, MAGIC, MAGIC_BYTES) == 0, MS_ERR_PARSE,
             "%s: not a matscreen journal", path);
    memcpy(&version, p + MAGIC_BYTES, 4);
    /* before the size: another format may have another identity size */
    MS_CHECK(version == FORMAT_VERSION, MS_ERR_UNSUPPORTED,
             "%s: journal format %u, written by another matscreen version (this one reads format "
             "%u): it cannot be resumed. Run again without --resume to start over, or move its "
             "output directory away to keep it",
             path, version, FORMAT_VERSION);
    MS_CHECK(n == MAGIC_BYTES + 4 + sizeof *id, MS_ERR_PARSE,
             "%s: not a matscreen journal (header of %u bytes)", path, n);
    memcpy(id, p + MAGIC_BYTES + 4, sizeof *id);
    id->version[sizeof id->version - 1] = '\0';
    id->specs[sizeof id->specs - 1] = '\0';
    return MS_SUCCESS;
}

/* ---- framing and scanning ------------------------------------------------------------------ */

static uint64_t frame_check(uint32_t len, uint32_t type, const void *payload)
{
    uint64_t h = ms_hash_update(MS_HASH_INIT, &len, 4);
    h = ms_hash_update(h, &type, 4);
    return ms_hash_update(h, payload, len);
}

ms_status ms_journal_scan(const char *path, ms_journal_record_fn fn, void *user,
                          uint64_t *valid_end)
{
    if (valid_end) *valid_end = 0;
    FILE *f;
    MS_CALL(ms_open_regular(path, 0, &f, NULL));
    unsigned char *payload = NULL;
    size_t cap = 0;
    uint64_t pos = 0;
    ms_status st = MS_SUCCESS;
    for (int first = 1;; first = 0) {
        unsigned char hdr[FRAME_BYTES];
        uint32_t len, type;
        uint64_t check;
        int ok = fread(hdr, 1, FRAME_BYTES, f) == FRAME_BYTES;
        if (ok) {
            memcpy(&len, hdr, 4);
            memcpy(&type, hdr + 4, 4);
            memcpy(&check, hdr + 8, 8);
            ok = len <= MS_JOURNAL_MAX_RECORD && type >= MS_JREC_HEADER && type <= MS_JREC_CRASH;
        }
        if (ok && len + 1 > cap) {
            unsigned char *np = realloc(payload, len + 1);
            if (!np) {
                st = ms_error_set(MS_ERR_NOMEM, "%s: cannot hold a record of %u bytes", path, len);
                break;
            }
            payload = np;
            cap = len + 1;
        }
        if (ok) ok = fread(payload, 1, len, f) == len && frame_check(len, type, payload) == check;
        if (first && (!ok || type != MS_JREC_HEADER)) {
            st = ms_error_set(MS_ERR_PARSE, "%s: not a matscreen journal (no valid header record)",
                              path);
            break;
        }
        if (!ok) break;
        if (fn && fn(type, payload, len, pos + FRAME_BYTES, user)) {
            pos += FRAME_BYTES + len;
            break;
        }
        pos += FRAME_BYTES + len;
    }
    if (ferror(f) && st == MS_SUCCESS) st = ms_error_set(MS_ERR_IO, "%s: read error", path);
    fclose(f);
    free(payload);
    if (valid_end) *valid_end = pos;
    return st;
}

/* ---- writing ------------------------------------------------------------------------------- */

ms_status ms_journal_append(ms_journal *j, uint32_t type, const void *payload, uint32_t n,
                            uint64_t *pos)
{
    MS_CHECK(n <= MS_JOURNAL_MAX_RECORD, MS_ERR_LIMIT, "journal record of %u bytes", n);
    unsigned char hdr[FRAME_BYTES];
    uint64_t check = frame_check(n, type, payload);
    memcpy(hdr, &n, 4);
    memcpy(hdr + 4, &type, 4);
    memcpy(hdr + 8, &check, 8);
    MS_CALL(ms_buffer_append(&j->buf, hdr, FRAME_BYTES));
    MS_CALL(ms_buffer_append(&j->buf, payload, n));
    if (pos) *pos = j->end + FRAME_BYTES;
    j->end += FRAME_BYTES + n;
    if (j->buf.n >= FLUSH_BYTES) MS_CALL(ms_journal_flush(j));
    return MS_SUCCESS;
}

void ms_journal_set_flush_hook(ms_journal *j, void (*fn)(void *user), void *user)
{
    j->flush_hook = fn;
    j->flush_user = user;
}

ms_status ms_journal_flush(ms_journal *j)
{
    if (j->buf.n && j->flush_hook) j->flush_hook(j->flush_user);
    MS_CHECK(ms_pwrite_all(j->fd, j->buf.data, j->buf.n, j->flushed) == j->buf.n, MS_ERR_IO,
             "%s: write failed: %s", j->path, errno ? strerror(errno) : "no space");
    j->flushed += j->buf.n;
    ms_buffer_reset(&j->buf);
    return MS_SUCCESS;
}

ms_status ms_journal_sync(ms_journal *j)
{
    MS_CALL(ms_journal_flush(j));
    MS_CHECK(fdatasync(j->fd) == 0, MS_ERR_IO, "%s: fdatasync failed: %s", j->path,
             strerror(errno));
    j->last_sync = now();
    return MS_SUCCESS;
}

ms_status ms_journal_checkpoint(ms_journal *j)
{
    MS_CALL(ms_journal_flush(j));
    if (now() - j->last_sync >= j->sync_seconds) return ms_journal_sync(j);
    return MS_SUCCESS;
}

void ms_journal_set_sync_seconds(ms_journal *j, double seconds) { j->sync_seconds = seconds; }

ms_status ms_journal_result(ms_journal *j, const ms_result *r, uint64_t *pos, uint32_t *len)
{
    ms_buffer_reset(&j->scratch);
    MS_CALL(ms_result_pack(r, &j->scratch));
    if (len) *len = (uint32_t)j->scratch.n;
    return ms_journal_append(j, MS_JREC_RESULT, j->scratch.data, (uint32_t)j->scratch.n, pos);
}

ms_status ms_journal_dispatch(ms_journal *j, uint64_t seq, int rank)
{
    unsigned char p[12];
    int32_t r = rank;
    memcpy(p, &seq, 8);
    memcpy(p + 8, &r, 4);
    return ms_journal_append(j, MS_JREC_DISPATCH, p, sizeof p, NULL);
}

ms_status ms_journal_done(ms_journal *j, uint64_t seq, uint32_t n_results, int rank)
{
    unsigned char p[16];
    int32_t r = rank;
    memcpy(p, &seq, 8);
    memcpy(p + 8, &n_results, 4);
    memcpy(p + 12, &r, 4);
    return ms_journal_append(j, MS_JREC_DONE, p, sizeof p, NULL);
}

ms_status ms_journal_finish(ms_journal *j)
{
    MS_CALL(ms_journal_append(j, MS_JREC_FINISHED, "", 0, NULL));
    j->info.finished = 1;
    return ms_journal_sync(j);
}

ms_status ms_journal_read(ms_journal *j, uint64_t pos, void *buf, size_t len)
{
    if (pos + len > j->flushed) MS_CALL(ms_journal_flush(j));
    size_t got = ms_pread_all(j->fd, buf, len, pos);
    MS_CHECK(got == len, MS_ERR_IO, "%s: cannot read back %zu bytes at %llu: %s", j->path, len,
             (unsigned long long)pos,
             errno ? strerror(errno) : "the file ends there (truncated while the run read it?)");
    return MS_SUCCESS;
}

const char *ms_journal_path(const ms_journal *j) { return j->path; }

void ms_journal_get_info(const ms_journal *j, ms_journal_info *info) { *info = j->info; }

void ms_journal_close(ms_journal *j)
{
    if (!j) return;
    if (j->fd >= 0) {
        if (j->buf.n) ms_journal_flush(j);
        close(j->fd);
    }
    free(j->path);
    ms_buffer_free(&j->buf);
    ms_buffer_free(&j->scratch);
    free(j->done_bits);
    free(j->done_life);
    for (size_t i = 0; i < j->n_queues; i++) free(j->queues[i].seq);
    free(j->queues);
    free(j->deaths);
    free(j->crashed);
    free(j);
}

static ms_journal *journal_alloc(const char *path)
{
    ms_journal *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->fd = -1;
    j->sync_seconds = 1.0;
    j->last_sync = now();
    j->path = strdup(path);
    if (!j->path) {
        free(j);
        return NULL;
    }
    return j;
}

/* The directory of a journal path ("." for a bare name), for the crash records beside it. */
static char *journal_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

ms_status ms_journal_create(const char *path, const ms_journal_identity *id, ms_journal **out)
{
    MS_CHECK(path && id && out, MS_ERR_USAGE, "ms_journal_create: arguments");
    *out = NULL;
    ms_journal *j = journal_alloc(path);
    MS_CHECK(j, MS_ERR_NOMEM, "out of memory");
    j->id = *id;
    size_t n = strlen(path) + 5;
    char *tmp = malloc(n);
    ms_status st = tmp ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "out of memory");
    if (st == MS_SUCCESS) {
        snprintf(tmp, n, "%s.tmp", path);
        j->fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (j->fd < 0) st = ms_error_set(MS_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        else if (flock(j->fd, LOCK_EX | LOCK_NB) != 0)
            st = ms_error_set(MS_ERR_IO, "%s: cannot lock: %s", tmp, strerror(errno));
    }
    if (st == MS_SUCCESS) st = pack_identity(id, &j->scratch);
    if (st == MS_SUCCESS)
        st = ms_journal_append(j, MS_JREC_HEADER, j->scratch.data, (uint32_t)j->scratch.n, NULL);
    if (st == MS_SUCCESS) st = ms_journal_sync(j);
    if (st == MS_SUCCESS && rename(tmp, path) != 0)
        st = ms_error_set(MS_ERR_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
    free(tmp);
    if (st != MS_SUCCESS) {
        ms_journal_close(j);
        return st;
    }
    j->info.lives = 0;
    char *dir = journal_dir(path); /* crash records of an earlier run are not this run's */
    if (dir) ms_crash_clear(dir);
    free(dir);
    *out = j;
    return MS_SUCCESS;
}

/* ---- replay -------------------------------------------------------------------------------- */

static ms_status grow_seq(ms_journal *j, uint64_t seq)
{
    size_t words = (size_t)(seq / 64) + 1;
    if (words > j->n_words) {
        size_t nw = j->n_words ? j->n_words : 256;
        while (nw < words) nw *= 2;
        uint64_t *d = realloc(j->done_bits, nw * sizeof *d);
        MS_CHECK(d, MS_ERR_NOMEM, "out of memory");
        j->done_bits = d;
        memset(d + j->n_words, 0, (nw - j->n_words) * sizeof *d);
        j->n_words = nw;
    }
    if (seq >= j->n_life) {
        size_t nl = j->n_life ? j->n_life : 4096;
        while (nl <= seq) nl *= 2;
        uint16_t *l = realloc(j->done_life, nl * sizeof *l);
        MS_CHECK(l, MS_ERR_NOMEM, "out of memory");
        memset(l + j->n_life, 0, (nl - j->n_life) * sizeof *l);
        j->done_life = l;
        j->n_life = nl;
    }
    return MS_SUCCESS;
}

static int bit_get(const uint64_t *b, size_t n_words, uint64_t seq)
{
    return seq / 64 < n_words && (b[seq / 64] >> (seq % 64)) & 1u;
}

static size_t death_find(const ms_journal *j, uint64_t seq, int *found)
{
    size_t lo = 0, hi = j->n_deaths;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (j->deaths[mid].seq < seq) lo = mid + 1;
        else hi = mid;
    }
    *found = lo < j->n_deaths && j->deaths[lo].seq == seq;
    return lo;
}

static ms_status add_death(ms_journal *j, uint64_t seq, int crashed)
{
    int found;
    size_t i = death_find(j, seq, &found);
    if (found) {
        j->deaths[i].deaths++;
        j->deaths[i].crashes += crashed != 0;
        return MS_SUCCESS;
    }
    if (ms_array_reserve(&j->deaths, &j->cap_deaths, j->n_deaths + 1, sizeof *j->deaths, 64) !=
        MS_SUCCESS)
        return ms_error_set(MS_ERR_NOMEM, "out of memory");
    memmove(j->deaths + i + 1, j->deaths + i, (j->n_deaths - i) * sizeof *j->deaths);
    j->deaths[i] = (death_entry){seq, 1, crashed != 0};
    j->n_deaths++;
    return MS_SUCCESS;
}

/* The current life died. Every unfinished task of each rank's queue gains a death, not only the
 * first: ranks run their batch in order and report each finished task, but a report can still be
 * in transit when the job dies, so the task the journal sees first may already be done and the
 * one that killed the rank the next. Blaming the whole queue always counts the culprit; the
 * innocent tasks behind it become suspects, which run alone, so they are never in flight when
 * the culprit dies again and never reach a second death through it. */
static int crashed_in_life(const ms_journal *j, uint64_t seq)
{
    for (size_t i = 0; i < j->n_crashed; i++)
        if (j->crashed[i] == seq) return 1;
    return 0;
}

static ms_status end_life(ms_journal *j)
{
    for (size_t r = 0; r < j->n_queues; r++) {
        rank_queue *q = &j->queues[r];
        for (size_t k = q->head; k < q->n; k++)
            MS_CALL(add_death(j, q->seq[k], crashed_in_life(j, q->seq[k])));
        q->head = q->n = 0;
    }
    j->n_crashed = 0;
    return MS_SUCCESS;
}

/* The rule of journal.h: quarantined after two crashes of its rank while it ran, or after three
 * deaths of any kind (a task that hangs its rank until the job is killed, or is killed by the
 * kernel for memory, leaves no crash record); a suspect, run alone, after one death. */
static int quarantined(const death_entry *e)
{
    return e->crashes >= 2 || e->deaths >= 3;
}

static ms_status note_crash(ms_journal *j, uint64_t seq)
{
    if (crashed_in_life(j, seq)) return MS_SUCCESS;
    MS_CALL(ms_array_reserve(&j->crashed, &j->cap_crashed, j->n_crashed + 1, sizeof *j->crashed, 8));
    j->crashed[j->n_crashed++] = seq;
    return MS_SUCCESS;
}

static ms_status queue_push(ms_journal *j, int rank, uint64_t seq)
{
    if (rank < 0) return MS_SUCCESS;
    if ((size_t)rank >= j->n_queues) {
        size_t nq = (size_t)rank + 1;
        rank_queue *q = realloc(j->queues, nq * sizeof *q);
        MS_CHECK(q, MS_ERR_NOMEM, "out of memory");
        memset(q + j->n_queues, 0, (nq - j->n_queues) * sizeof *q);
        j->queues = q;
        j->n_queues = nq;
    }
    rank_queue *q = &j->queues[rank];
    if (q->head > 0 && q->n == q->cap) {
        memmove(q->seq, q->seq + q->head, (q->n - q->head) * sizeof *q->seq);
        q->n -= q->head;
        q->head = 0;
    }
    if (ms_array_reserve(&q->seq, &q->cap, q->n + 1, sizeof *q->seq, 64) != MS_SUCCESS)
        return ms_error_set(MS_ERR_NOMEM, "out of memory");
    q->seq[q->n++] = seq;
    return MS_SUCCESS;
}

static void queue_remove(ms_journal *j, int rank, uint64_t seq)
{
    if (rank < 0 || (size_t)rank >= j->n_queues) return;
    rank_queue *q = &j->queues[rank];
    for (size_t i = q->head; i < q->n; i++) {
        if (q->seq[i] != seq) continue;
        if (i == q->head) q->head++;
        else memmove(q->seq + i, q->seq + i + 1, (q->n - i - 1) * sizeof *q->seq), q->n--;
        return;
    }
}

typedef struct {
    ms_journal *j;
    int pass;                 /* 1: state, 2: results */
    unsigned life;            /* 1-based */
    ms_journal_identity id;
    int have_id;
    ms_journal_result_fn fn;
    void *user;
    ms_result *r;
    ms_status st;
    uint64_t max_seq;         /* tasks of the caller's own enumeration (not the header's, which
                                 is as untrusted as the rest): a seq beyond is malformed */
    int bad;                  /* a record with a valid check but malformed content was met */
    uint64_t bad_at;          /* its frame's offset: the valid journal ends there */
} replay_ctx;

/* Largest rank number a DISPATCH or DONE record may name (a hostile journal must not make the
 * replay allocate a queue per rank up to INT_MAX). */
#define MAX_RANKS (1 << 20)

/* A record with a valid check whose content is impossible (wrong size, a task the caller does
 * not have, an absurd rank) ends the valid journal like a torn record: replay stops before it
 * and the resume truncates it, so a resumed run never appends behind it. */
static int replay_bad(replay_ctx *c, uint64_t pos)
{
    if (!c->bad) {
        c->bad = 1;
        c->bad_at = pos - FRAME_BYTES;
    }
    return 1;
}

static int replay_record(uint32_t type, const unsigned char *p, uint32_t n, uint64_t pos, void *user)
{
    replay_ctx *c = user;
    ms_journal *j = c->j;
    uint64_t seq = 0;
    if (type == MS_JREC_HEADER) {
        if (c->have_id) return 0; /* a second header is ignored */
        c->st = unpack_identity(j->path, p, n, &c->id);
        c->have_id = 1;
        c->life = 1;
        return c->st != MS_SUCCESS;
    }
    if (type == MS_JREC_RESUME) {
        if (c->pass == 1) c->st = end_life(j);
        c->life++;
        return c->st != MS_SUCCESS;
    }
    if (type == MS_JREC_FINISHED) {
        if (c->pass == 1) j->info.finished = 1;
        return 0;
    }
    if (type == MS_JREC_CRASH) {
        if (n != 8u) return replay_bad(c, pos);
        memcpy(&seq, p, 8);
        if (seq >= c->max_seq) return replay_bad(c, pos);
        if (c->pass == 1) c->st = note_crash(j, seq);
        return c->st != MS_SUCCESS;
    }
    if (type == MS_JREC_DISPATCH || type == MS_JREC_DONE) {
        int32_t rank = -1;
        if (n != (type == MS_JREC_DISPATCH ? 12u : 16u)) return replay_bad(c, pos);
        memcpy(&seq, p, 8);
        memcpy(&rank, p + n - 4, 4);
        if (seq >= c->max_seq || rank < -1 || rank >= MAX_RANKS) return replay_bad(c, pos);
        if (c->pass == 2) return 0;
        if ((c->st = grow_seq(j, seq)) != MS_SUCCESS) return 1;
        uint64_t mask = 1ull << (seq % 64);
        if (j->done_bits[seq / 64] & mask) return 0; /* done in an earlier life */
        if (type == MS_JREC_DISPATCH) {
            c->st = queue_push(j, rank, seq);
            return c->st != MS_SUCCESS;
        }
        queue_remove(j, rank, seq);
        uint32_t n_results;
        memcpy(&n_results, p + 8, 4);
        j->info.produced += n_results;
        j->done_bits[seq / 64] |= mask;
        j->done_life[seq] = (uint16_t)(c->life < 65535 ? c->life : 65535);
        j->info.tasks_done++;
        return 0;
    }
    if (type == MS_JREC_RESULT && c->pass == 2) {
        size_t at = 0;
        if (ms_result_unpack(p, n, &at, c->r) != MS_SUCCESS) {
            c->st = ms_error_set(MS_ERR_PARSE, "%s: a result record at %llu does not unpack",
                                 j->path, (unsigned long long)pos);
            return 1;
        }
        seq = c->r->task_seq;
        if (seq < j->n_life && j->done_life[seq] == c->life) {
            j->info.results++;
            if (c->fn && c->fn(c->r, pos, n, c->user)) {
                c->st = ms_error_set(MS_ERR_IO, "replaying results failed: %s", ms_error_message());
                return 1;
            }
        } else {
            j->info.dropped++;
        }
    }
    return 0;
}

ms_status ms_journal_resume(const char *path, const ms_journal_identity *id,
                            ms_journal_result_fn fn, void *user, ms_journal **out)
{
    MS_CHECK(path && id && out, MS_ERR_USAGE, "ms_journal_resume: arguments");
    *out = NULL;
    ms_journal *j = journal_alloc(path);
    MS_CHECK(j, MS_ERR_NOMEM, "out of memory");
    replay_ctx c = {j, 1, 0, {0}, 0, fn, user, NULL, MS_SUCCESS, id->n_tasks, 0, 0};
    uint64_t valid_end = 0, size = 0;
    ms_status st = MS_SUCCESS;
    /* The lock first: a rank 0 that outlived its mpirun may still be appending. */
    j->fd = open(path, O_RDWR | O_CLOEXEC);
    if (j->fd < 0) st = ms_error_set(MS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    else if (flock(j->fd, LOCK_EX | LOCK_NB) != 0)
        st = ms_error_set(MS_ERR_IO, "%s: in use by another matscreen process (still running?); "
                          "wait for it to end, then --resume", path);
    if (st == MS_SUCCESS) st = ms_journal_scan(path, replay_record, &c, &valid_end);
    if (st == MS_SUCCESS) st = c.st;
    if (c.bad && c.bad_at < valid_end) valid_end = c.bad_at;
    if (st == MS_SUCCESS) {
        char msg[2048];
        if (ms_journal_identity_diff(&c.id, id, msg, sizeof msg) > 0)
            st = ms_error_set(MS_ERR_USAGE, "--resume refused: %s was started with other settings: "
                              "%s. Run without --resume to start over.", path, msg);
    }
    j->id = c.id;
    /* the crash records the ranks of the last life left beside the journal (crash.h) */
    char *dir = NULL;
    uint64_t *crashes = NULL;
    size_t n_crashes = 0;
    if (st == MS_SUCCESS && !j->info.finished) {
        dir = journal_dir(path);
        st = dir ? ms_crash_collect(dir, &crashes, &n_crashes)
                 : ms_error_set(MS_ERR_NOMEM, "out of memory");
        for (size_t i = 0; st == MS_SUCCESS && i < n_crashes; i++)
            if (crashes[i] < c.max_seq) st = note_crash(j, crashes[i]);
    }
    if (st == MS_SUCCESS && !j->info.finished) st = end_life(j); /* the last life died */
    j->info.lives = c.life;
    if (st == MS_SUCCESS) {
        c.pass = 2;
        c.life = 0;
        c.have_id = 0;
        c.r = malloc(sizeof *c.r);
        st = c.r ? ms_journal_scan(path, replay_record, &c, NULL)
                 : ms_error_set(MS_ERR_NOMEM, "out of memory");
        if (st == MS_SUCCESS) st = c.st;
        free(c.r);
    }
    if (st == MS_SUCCESS) {
        struct stat sb;
        if (fstat(j->fd, &sb) != 0)
            st = ms_error_set(MS_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        else size = (uint64_t)sb.st_size;
    }
    if (st == MS_SUCCESS && size > valid_end) {
        j->info.torn_bytes = size - valid_end;
        if (ftruncate(j->fd, (off_t)valid_end) != 0)
            st = ms_error_set(MS_ERR_IO, "%s: cannot truncate the torn tail: %s", path,
                              strerror(errno));
    }
    j->end = j->flushed = valid_end;
    for (size_t i = 0; i < j->n_deaths; i++) {
        if (bit_get(j->done_bits, j->n_words, j->deaths[i].seq)) continue;
        if (quarantined(&j->deaths[i])) j->info.quarantined++;
        else j->info.suspects++;
    }
    if (st == MS_SUCCESS && !j->info.finished) {
        /* CRASH records close the last life, before RESUME opens the next: a later replay
         * counts them in the life they happened in. The files go once that is durable. */
        for (size_t i = 0; st == MS_SUCCESS && i < n_crashes; i++)
            if (crashes[i] < c.max_seq)
                st = ms_journal_append(j, MS_JREC_CRASH, &crashes[i], 8, NULL);
        if (st == MS_SUCCESS) st = ms_journal_append(j, MS_JREC_RESUME, "", 0, NULL);
        if (st == MS_SUCCESS) st = ms_journal_sync(j);
        if (st == MS_SUCCESS && dir) ms_crash_clear(dir);
    }
    free(crashes);
    free(dir);
    if (st != MS_SUCCESS) {
        ms_journal_close(j);
        return st;
    }
    *out = j;
    return MS_SUCCESS;
}

unsigned ms_journal_deaths(const ms_journal *j, uint64_t seq)
{
    int found;
    size_t i = death_find(j, seq, &found);
    return found ? j->deaths[i].deaths : 0;
}

ms_farm_admit ms_journal_task_state(const ms_journal *j, uint64_t seq)
{
    if (j->n_words == 0) return MS_FARM_RUN; /* a new journal */
    if (bit_get(j->done_bits, j->n_words, seq)) return MS_FARM_SKIP;
    int found;
    size_t i = death_find(j, seq, &found);
    if (!found) return MS_FARM_RUN;
    return quarantined(&j->deaths[i]) ? MS_FARM_QUARANTINE : MS_FARM_ALONE;
}

/* ---- farm hooks ------------------------------------------------------------------------------ */

static ms_farm_admit hook_admit(const ms_task *t, void *user)
{
    return ms_journal_task_state(user, t->seq);
}

static int hook_dispatched(const ms_task *t, int rank, void *user)
{
    return ms_journal_dispatch(user, t->seq, rank) != MS_SUCCESS;
}

static int hook_done(uint64_t seq, uint32_t n_results, int rank, void *user)
{
    return ms_journal_done(user, seq, n_results, rank) != MS_SUCCESS;
}

static int hook_batch_end(void *user) { return ms_journal_checkpoint(user) != MS_SUCCESS; }

void ms_journal_farm_hooks(ms_journal *j, ms_farm_hooks *h)
{
    h->admit = hook_admit;
    h->dispatched = hook_dispatched;
    h->done = hook_done;
    h->batch_end = hook_batch_end;
    h->user = j;
}
