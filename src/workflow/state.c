/*
 * The state store of nightly incremental runs: SQLite, rank 0 only (include/matscreen/state.h).
 *
 * Why SQLite and not a file of our own (DESIGN.md section 4): atomic multi-row updates, a
 * crash-safe write-ahead log, a schema that other tools (the sqlite3 shell, Python) can read to
 * answer "since when is this candidate in the top-K", and concurrent readers while a run writes.
 *
 * Writes are grouped: every lookup or store that writes starts a transaction when none is open,
 * and it is committed after st->batch writes (and at the end of the run), so a night of 10^5
 * tasks is a few hundred fsyncs, not 10^5 (measured in docs/workflows.md).
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include "matscreen/array.h"
#include "matscreen/file_read.h"
#include "matscreen/reader.h"
#include "matscreen/csv.h"
#include "matscreen/farm.h"
#include "matscreen/hash.h"
#include "matscreen/state.h"

#define STATE_MSG_MAX 512

typedef struct pending {
    uint64_t seq;
    uint64_t hash;
    long long size, mtime_ns;
} pending;

struct ms_state {
    sqlite3 *db;
    char path[1024];
    ms_state_check check;
    size_t batch, writes;
    int in_tx;
    int64_t run;            /* current run id; 0 before ms_state_run_begin */
    int continued;          /* the run was continued by ms_state_run_resume */
    ms_state_counts counts;
    ms_status err;
    char err_msg[STATE_MSG_MAX];
    unsigned char *blob;    /* the last looked-up results (owned) */
    size_t blob_cap;
    ms_buffer out;          /* the same, renumbered for the current task */
    ms_result *scratch;
    unsigned char *io;      /* read buffer for hashing */
    pending *pend;          /* tasks looked up and not yet stored */
    size_t n_pend, cap_pend;
    sqlite3_stmt *q_get, *q_seen, *q_change, *q_put;
    char cwd[4096];         /* the working directory at open: relative task paths are keyed under it */
    char key[8400];         /* key_path's result */
};

static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL,"
    " finished TEXT, workflow_hash INTEGER, identity INTEGER, manifest TEXT, reused INTEGER,"
    " computed INTEGER, added INTEGER, changed INTEGER, removed INTEGER);"
    "CREATE TABLE IF NOT EXISTS records(path TEXT NOT NULL, offset INTEGER NOT NULL,"
    " length INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
    " content_hash INTEGER NOT NULL, identity INTEGER NOT NULL, results BLOB,"
    " first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, removed INTEGER NOT NULL DEFAULT 0,"
    " removed_run INTEGER, PRIMARY KEY(path, offset, length));"
    "CREATE INDEX IF NOT EXISTS records_seen ON records(removed, last_seen);"
    "CREATE TABLE IF NOT EXISTS changes(run INTEGER NOT NULL, path TEXT NOT NULL,"
    " offset INTEGER NOT NULL, length INTEGER NOT NULL, kind TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS changes_run ON changes(run);"
    "CREATE TABLE IF NOT EXISTS topk(run INTEGER NOT NULL, rank INTEGER NOT NULL, key TEXT,"
    " formula TEXT, source_id TEXT, score REAL, PRIMARY KEY(run, rank));"
    "CREATE TABLE IF NOT EXISTS errors(run INTEGER NOT NULL, key TEXT, stage TEXT, reason TEXT);"
    "CREATE INDEX IF NOT EXISTS errors_run ON errors(run);"
    /* added after version 1 without a version change: older builds ignore it */
    "CREATE TABLE IF NOT EXISTS outputs(run INTEGER NOT NULL, name TEXT NOT NULL,"
    " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, PRIMARY KEY(run, name));"
    "CREATE TABLE IF NOT EXISTS outcomes(run INTEGER PRIMARY KEY, records INTEGER NOT NULL,"
    " failed INTEGER NOT NULL, filtered INTEGER NOT NULL);";

static ms_status db_error(ms_state *st, const char *what)
{
    int code = sqlite3_errcode(st->db);
    const char *msg = sqlite3_errmsg(st->db);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        return ms_error_set(MS_ERR_IO, "state store %s: %s: locked by another process (another "
                            "run on the same output directory?) - %s", st->path, what, msg);
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
        return ms_error_set(MS_ERR_PARSE, "state store %s: %s: the file is damaged or not a "
                            "matscreen state store (%s); move it away to start a new history",
                            st->path, what, msg);
    return ms_error_set(MS_ERR_IO, "state store %s: %s: %s", st->path, what, msg);
}

static ms_status exec(ms_state *st, const char *sql, const char *what)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) return db_error(st, what);
    return MS_SUCCESS;
}

static ms_status prepare(ms_state *st, const char *sql, sqlite3_stmt **s)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK) return db_error(st, "prepare");
    return MS_SUCCESS;
}

static void keep_error(ms_state *st, ms_status s)
{
    if (s == MS_SUCCESS || st->err != MS_SUCCESS) return;
    st->err = s;
    snprintf(st->err_msg, sizeof st->err_msg, "%s", ms_error_message());
}

/* Opens a write transaction when none is open; commits after st->batch writes. */
static ms_status tx_write(ms_state *st)
{
    if (!st->in_tx) {
        if (exec(st, "BEGIN IMMEDIATE", "begin") != MS_SUCCESS) return MS_ERR_IO;
        st->in_tx = 1;
        st->writes = 0;
    }
    st->writes++;
    return MS_SUCCESS;
}

static ms_status tx_maybe_commit(ms_state *st, int force)
{
    if (st->in_tx && (force || st->writes >= st->batch)) {
        st->in_tx = 0;
        return exec(st, "COMMIT", "commit");
    }
    return MS_SUCCESS;
}

static void utc_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

ms_status ms_state_open(const char *path, ms_state **out)
{
    MS_CHECK(path && out, MS_ERR_USAGE, "ms_state_open: path and out are required");
    *out = NULL;
    ms_state *st = calloc(1, sizeof *st);
    if (!st) return ms_error_set(MS_ERR_NOMEM, "out of memory");
    snprintf(st->path, sizeof st->path, "%s", path);
    if (!getcwd(st->cwd, sizeof st->cwd)) st->cwd[0] = '\0'; /* then paths are keyed as given */
    st->batch = MS_STATE_DEFAULT_BATCH;
    ms_status s = MS_SUCCESS;
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        s = st->db ? db_error(st, "open")
                   : ms_error_set(MS_ERR_NOMEM, "state store %s: out of memory", path);
        goto fail;
    }
    sqlite3_busy_timeout(st->db, MS_STATE_BUSY_MS);
    /* The first statement reads the header: a foreign or damaged file fails here. */
    s = exec(st, "PRAGMA journal_mode=WAL", "open");
    if (s == MS_SUCCESS) s = exec(st, "PRAGMA synchronous=NORMAL", "open");
    if (s == MS_SUCCESS) s = exec(st, "BEGIN IMMEDIATE", "open");
    if (s != MS_SUCCESS) goto fail;
    s = exec(st, SCHEMA, "create schema");
    sqlite3_stmt *q = NULL;
    if (s == MS_SUCCESS) s = prepare(st, "SELECT value FROM meta WHERE key='schema_version'", &q);
    if (s == MS_SUCCESS) {
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            long v = strtol((const char *)sqlite3_column_text(q, 0), NULL, 10);
            if (v > MS_STATE_SCHEMA_VERSION)
                s = ms_error_set(MS_ERR_UNSUPPORTED, "state store %s: schema version %ld is newer "
                                 "than this build's (%d): it was written by a newer matscreen; "
                                 "run that one, or move the file away to start a new history",
                                 path, v, MS_STATE_SCHEMA_VERSION);
            else if (v < 1)
                s = ms_error_set(MS_ERR_PARSE, "state store %s: bad schema version '%s'", path,
                                 (const char *)sqlite3_column_text(q, 0));
        } else if (rc == SQLITE_DONE) {
            char sql[128];
            snprintf(sql, sizeof sql, "INSERT INTO meta VALUES('schema_version','%d');"
                     "INSERT INTO meta VALUES('created_by','matscreen')", MS_STATE_SCHEMA_VERSION);
            s = exec(st, sql, "create schema");
        } else {
            s = db_error(st, "read schema version");
        }
    }
    sqlite3_finalize(q);
    if (s != MS_SUCCESS) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        goto fail;
    }
    s = exec(st, "COMMIT", "create schema");
    if (s == MS_SUCCESS)
        s = prepare(st, "SELECT size, mtime_ns, content_hash, identity, results, removed FROM "
                        "records WHERE path=?1 AND offset=?2 AND length=?3", &st->q_get);
    if (s == MS_SUCCESS)
        s = prepare(st, "UPDATE records SET last_seen=?4, size=?5, mtime_ns=?6 WHERE path=?1 AND "
                        "offset=?2 AND length=?3", &st->q_seen);
    if (s == MS_SUCCESS)
        s = prepare(st, "INSERT INTO changes(run, path, offset, length, kind) VALUES(?1,?2,?3,?4,?5)",
                    &st->q_change);
    if (s == MS_SUCCESS)
        s = prepare(st, "INSERT INTO records(path, offset, length, size, mtime_ns, content_hash, "
                        "identity, results, first_seen, last_seen, removed) "
                        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?9,0) ON CONFLICT(path, offset, length) "
                        "DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, "
                        "content_hash=excluded.content_hash, identity=excluded.identity, "
                        "results=excluded.results, last_seen=excluded.last_seen, "
                        "first_seen=CASE WHEN records.removed THEN excluded.first_seen "
                        "ELSE records.first_seen END, removed=0, removed_run=NULL", &st->q_put);
    if (s != MS_SUCCESS) goto fail;
    *out = st;
    return MS_SUCCESS;
fail:
    ms_state_close(st);
    return s;
}

void ms_state_close(ms_state *st)
{
    if (!st) return;
    if (st->in_tx) sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    sqlite3_finalize(st->q_get);
    sqlite3_finalize(st->q_seen);
    sqlite3_finalize(st->q_change);
    sqlite3_finalize(st->q_put);
    sqlite3_close(st->db);
    free(st->blob);
    ms_buffer_free(&st->out);
    free(st->scratch);
    free(st->io);
    free(st->pend);
    free(st);
}

void ms_state_set_check(ms_state *st, ms_state_check check)
{
    if (st) st->check = check;
}

void ms_state_set_busy_ms(ms_state *st, int ms)
{
    if (st) sqlite3_busy_timeout(st->db, ms);
}

void ms_state_set_batch(ms_state *st, size_t n)
{
    if (st) st->batch = n ? n : 1;
}

ms_status ms_state_run_begin(ms_state *st, uint64_t workflow_hash, uint64_t identity,
                             int64_t *run_id)
{
    MS_CHECK(st, MS_ERR_USAGE, "ms_state_run_begin: no store");
    char now[32];
    utc_now(now);
    memset(&st->counts, 0, sizeof st->counts);
    st->err = MS_SUCCESS;
    st->err_msg[0] = 0;
    st->n_pend = 0;
    sqlite3_stmt *q = NULL;
    MS_CALL(tx_maybe_commit(st, 1));
    MS_CALL(prepare(st, "INSERT INTO runs(started, workflow_hash, identity) VALUES(?1,?2,?3)", &q));
    sqlite3_bind_text(q, 1, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)workflow_hash);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)identity);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return db_error(st, "begin run");
    st->run = (int64_t)sqlite3_last_insert_rowid(st->db);
    st->continued = 0;
    if (run_id) *run_id = st->run;
    return MS_SUCCESS;
}

ms_status ms_state_run_resume(ms_state *st, uint64_t workflow_hash, uint64_t identity,
                              int64_t *run_id, int *continued)
{
    MS_CHECK(st, MS_ERR_USAGE, "ms_state_run_resume: no store");
    if (continued) *continued = 0;
    sqlite3_stmt *q = NULL;
    MS_CALL(prepare(st, "SELECT id, workflow_hash FROM runs ORDER BY id DESC LIMIT 1", &q));
    int rc = sqlite3_step(q);
    int64_t last = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    uint64_t wh = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(q, 1) : 0;
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_error(st, "find the run to resume");
    if (!last || wh != workflow_hash) return ms_state_run_begin(st, workflow_hash, identity, run_id);
    memset(&st->counts, 0, sizeof st->counts);
    st->err = MS_SUCCESS;
    st->err_msg[0] = 0;
    st->n_pend = 0;
    /* A task looked up in an earlier life of the run (its change recorded) and not finished is
     * looked up again: its change is recorded once. */
    sqlite3_stmt *once = NULL;
    MS_CALL(prepare(st, "INSERT INTO changes(run, path, offset, length, kind) SELECT ?1,?2,?3,?4,?5 "
                        "WHERE NOT EXISTS (SELECT 1 FROM changes WHERE run=?1 AND path=?2 AND "
                        "offset=?3 AND length=?4)", &once));
    sqlite3_finalize(st->q_change);
    st->q_change = once;
    st->run = last;
    st->continued = 1;
    if (run_id) *run_id = last;
    if (continued) *continued = 1;
    return MS_SUCCESS;
}

void ms_state_sync(void *ctx)
{
    ms_state *st = ctx;
    if (st) keep_error(st, tx_maybe_commit(st, 1));
}

/* A count of the current run from the store: SQL with ?1 = the run. */
static ms_status run_count(ms_state *st, const char *sql, unsigned long long *out)
{
    sqlite3_stmt *q = NULL;
    MS_CALL(prepare(st, sql, &q));
    sqlite3_bind_int64(q, 1, st->run);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *out = (unsigned long long)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? MS_SUCCESS : db_error(st, "count the run's records");
}

/* The counts of a continued run, over all its lives: what the changes table says it computed,
 * and what else it saw (reused). */
static ms_status counts_from_store(ms_state *st)
{
    ms_state_counts *k = &st->counts;
    static const char *const kinds[] = {"new", "changed", "identity", "removed"};
    unsigned long long *dst[] = {&k->added, &k->changed, &k->identity, &k->removed};
    for (int i = 0; i < 4; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM changes WHERE run=?1 AND kind='%s'",
                 kinds[i]);
        MS_CALL(run_count(st, sql, dst[i]));
    }
    unsigned long long seen = 0;
    MS_CALL(run_count(st, "SELECT count(*) FROM records WHERE last_seen=?1 AND removed=0", &seen));
    k->computed = k->added + k->changed + k->identity;
    k->reused = seen > k->computed ? seen - k->computed : 0;
    return MS_SUCCESS;
}

/* FNV-1a of the task's bytes. Only a regular file within the readers' size limit is hashed, and
 * never more bytes than its size when opened: a FIFO or /dev/zero would otherwise block or
 * stream forever (the worker then reports the file as the readers do). */
static ms_status hash_task(ms_state *st, const ms_task *t, uint64_t *out)
{
    enum { CHUNK = 1 << 20 };
    if (!st->io && !(st->io = malloc(CHUNK))) return ms_error_set(MS_ERR_NOMEM, "out of memory");
    ms_read_options ro;
    ms_read_options_default(&ro);
    FILE *f;
    long long size;
    MS_CALL(ms_open_regular(t->path, ro.max_file_bytes, &f, &size));
    if (t->offset > 0 && fseeko(f, (off_t)t->offset, SEEK_SET) != 0) {
        fclose(f);
        return ms_error_set(MS_ERR_IO, "%s: seek: %s", t->path, strerror(errno));
    }
    uint64_t h = ms_hash_bytes("", 0);
    long long left = t->length >= 0 ? t->length : size;
    for (;;) {
        size_t want = CHUNK;
        if (left >= 0 && (long long)want > left) want = (size_t)left;
        if (want == 0) break;
        size_t got = fread(st->io, 1, want, f);
        h = ms_hash_update(h, st->io, got);
        if (left >= 0) left -= (long long)got;
        if (got < want) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) return ms_error_set(MS_ERR_IO, "%s: read error", t->path);
    st->counts.hashed++;
    *out = h;
    return MS_SUCCESS;
}

/* Records are keyed by absolute path: a workflow writes an input under the working directory
 * relative to it (workflow_xml.c), so one file run as `run /dir/wf.xml` and as `cd /dir; run
 * wf.xml` would otherwise be two records, every task "new" and every old one "removed". Lexical
 * only (no realpath: no system call per task). */
static const char *key_path(ms_state *st, const char *path)
{
    if (path[0] == '/' || !st->cwd[0]) return path;
    while (path[0] == '.' && path[1] == '/') path += 2;
    snprintf(st->key, sizeof st->key, "%s/%s", st->cwd, path);
    return st->key;
}

static void bind_key(ms_state *st, sqlite3_stmt *q, const ms_task *t)
{
    sqlite3_bind_text(q, 1, key_path(st, t->path), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, t->offset);
    sqlite3_bind_int64(q, 3, t->length);
}

static void add_change(ms_state *st, const ms_task *t, const char *kind)
{
    ms_status s = tx_write(st);
    if (s == MS_SUCCESS) {
        sqlite3_reset(st->q_change);
        sqlite3_bind_int64(st->q_change, 1, st->run);
        sqlite3_bind_text(st->q_change, 2, t->path, -1, SQLITE_TRANSIENT); /* as the user spelled it */
        sqlite3_bind_int64(st->q_change, 3, t->offset);
        sqlite3_bind_int64(st->q_change, 4, t->length);
        sqlite3_bind_text(st->q_change, 5, kind, -1, SQLITE_STATIC);
        if (sqlite3_step(st->q_change) != SQLITE_DONE) s = db_error(st, "record a change");
        sqlite3_reset(st->q_change);
    }
    keep_error(st, s);
}

static void pending_put(ms_state *st, uint64_t seq, uint64_t hash, long long size, long long mtime)
{
    for (size_t i = 0; i < st->n_pend; i++)
        if (st->pend[i].seq == seq) {
            st->pend[i] = (pending){seq, hash, size, mtime};
            return;
        }
    if (st->n_pend == st->cap_pend) {
        size_t cap = st->cap_pend ? 2 * st->cap_pend : 256;
        pending *p = realloc(st->pend, cap * sizeof *p);
        if (!p) return; /* store() hashes again */
        st->pend = p;
        st->cap_pend = cap;
    }
    st->pend[st->n_pend++] = (pending){seq, hash, size, mtime};
}

/* Stored results carry the task sequence number and input index of the run that computed
 * them; both shift when inputs are added or removed, so they are set to the current task's. */
static ms_status renumber(ms_state *st, const ms_task *t, const unsigned char *d, size_t n)
{
    if (!st->scratch && !(st->scratch = malloc(sizeof *st->scratch)))
        return ms_error_set(MS_ERR_NOMEM, "out of memory");
    ms_buffer_reset(&st->out);
    size_t pos = 0;
    while (pos < n) {
        MS_CALL(ms_result_unpack(d, n, &pos, st->scratch));
        st->scratch->task_seq = t->seq;
        st->scratch->input = t->input;
        /* this run's spelling of the file (records are keyed by absolute path: key_path) */
        snprintf(st->scratch->file, sizeof st->scratch->file, "%s", t->path);
        MS_CALL(ms_result_pack(st->scratch, &st->out));
    }
    return MS_SUCCESS;
}

int ms_state_lookup(void *ctx, const ms_task *task, uint64_t identity, const void **data,
                    size_t *len)
{
    ms_state *st = ctx;
    *data = NULL;
    *len = 0;
    if (!st || !task || task->status != MS_SUCCESS || st->run == 0) return 0;
    struct stat sb;
    if (stat(task->path, &sb) != 0) return 0; /* the worker reports it */
    long long size = (long long)sb.st_size;
    long long mtime = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
    sqlite3_reset(st->q_get);
    bind_key(st, st->q_get, task);
    int rc = sqlite3_step(st->q_get);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        keep_error(st, db_error(st, "look up a task"));
        sqlite3_reset(st->q_get);
        return 0;
    }
    const char *kind = "new";
    uint64_t hash = 0;
    int have_hash = 0, hit = 0;
    if (rc == SQLITE_ROW && sqlite3_column_int(st->q_get, 5) == 0) {
        long long rsize = sqlite3_column_int64(st->q_get, 0);
        long long rmtime = sqlite3_column_int64(st->q_get, 1);
        uint64_t rhash = (uint64_t)sqlite3_column_int64(st->q_get, 2);
        uint64_t rid = (uint64_t)sqlite3_column_int64(st->q_get, 3);
        int same;
        if (st->check == MS_STATE_CHECK_STAT && rsize == size && rmtime == mtime) {
            same = 1;
        } else {
            ms_status s = hash_task(st, task, &hash);
            if (s != MS_SUCCESS) {
                sqlite3_reset(st->q_get);
                return 0; /* unreadable: the worker reports it */
            }
            have_hash = 1;
            same = hash == rhash;
        }
        if (same && rid == identity) {
            const void *b = sqlite3_column_blob(st->q_get, 4);
            size_t n = (size_t)sqlite3_column_bytes(st->q_get, 4);
            if (n > st->blob_cap) {
                unsigned char *g = realloc(st->blob, n);
                if (!g) {
                    sqlite3_reset(st->q_get);
                    return 0;
                }
                st->blob = g;
                st->blob_cap = n;
            }
            if (n) memcpy(st->blob, b, n);
            hit = renumber(st, task, st->blob, n) == MS_SUCCESS;
            if (hit) {
                *data = st->out.data ? (const void *)st->out.data : (const void *)st;
                *len = st->out.n;
            } else {
                kind = "changed"; /* unreadable stored results: computed again */
            }
        } else {
            kind = same ? "identity" : "changed";
        }
    }
    sqlite3_reset(st->q_get);
    if (hit) {
        ms_status s = tx_write(st);
        if (s == MS_SUCCESS) {
            sqlite3_reset(st->q_seen);
            bind_key(st, st->q_seen, task);
            sqlite3_bind_int64(st->q_seen, 4, st->run);
            sqlite3_bind_int64(st->q_seen, 5, size);
            sqlite3_bind_int64(st->q_seen, 6, mtime);
            if (sqlite3_step(st->q_seen) != SQLITE_DONE) s = db_error(st, "mark a task seen");
            sqlite3_reset(st->q_seen);
        }
        keep_error(st, s);
        if (s == MS_SUCCESS) keep_error(st, tx_maybe_commit(st, 0));
        st->counts.reused++;
        return s == MS_SUCCESS;
    }
    if (!have_hash && hash_task(st, task, &hash) != MS_SUCCESS) return 0;
    if (!strcmp(kind, "new")) st->counts.added++;
    else if (!strcmp(kind, "changed")) st->counts.changed++;
    else st->counts.identity++;
    add_change(st, task, kind);
    pending_put(st, task->seq, hash, size, mtime);
    return 0;
}

void ms_state_store(void *ctx, const ms_task *task, uint64_t identity, const void *data,
                    size_t len)
{
    ms_state *st = ctx;
    if (!st || !task || task->status != MS_SUCCESS || st->run == 0) return;
    pending p = {task->seq, 0, -1, -1};
    int found = 0;
    for (size_t i = 0; i < st->n_pend; i++)
        if (st->pend[i].seq == task->seq) {
            p = st->pend[i];
            st->pend[i] = st->pend[--st->n_pend];
            found = 1;
            break;
        }
    if (!found) { /* stored without a lookup: read the file now */
        struct stat sb;
        if (stat(task->path, &sb) != 0 || hash_task(st, task, &p.hash) != MS_SUCCESS) return;
        p.size = (long long)sb.st_size;
        p.mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
    }
    ms_status s = tx_write(st);
    if (s == MS_SUCCESS) {
        sqlite3_stmt *q = st->q_put;
        sqlite3_reset(q);
        bind_key(st, q, task);
        sqlite3_bind_int64(q, 4, p.size);
        sqlite3_bind_int64(q, 5, p.mtime_ns);
        sqlite3_bind_int64(q, 6, (sqlite3_int64)p.hash);
        sqlite3_bind_int64(q, 7, (sqlite3_int64)identity);
        /* STATIC: data outlives the step, and a task's results (~4 MB for an 8 MiB JSON Lines
         * range) are not copied once more on rank 0 (docs/scale.md, peak RSS) */
        sqlite3_bind_blob(q, 8, len ? data : "", (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(q, 9, st->run);
        if (sqlite3_step(q) != SQLITE_DONE) s = db_error(st, "store results");
        sqlite3_reset(q);
    }
    if (s == MS_SUCCESS) s = tx_maybe_commit(st, 0);
    keep_error(st, s);
    if (s == MS_SUCCESS) st->counts.computed++;
}

ms_status ms_state_error(const ms_state *st, char *msg, size_t n)
{
    if (msg && n) snprintf(msg, n, "%s", st ? st->err_msg : "");
    return st ? st->err : MS_ERR_USAGE;
}

ms_status ms_state_mark_removed(ms_state *st, size_t *n_removed)
{
    MS_CHECK(st && st->run, MS_ERR_USAGE, "ms_state_mark_removed: no run");
    MS_CALL(tx_write(st));
    sqlite3_stmt *q = NULL;
    MS_CALL(prepare(st, "INSERT INTO changes(run, path, offset, length, kind) SELECT ?1, path, "
                        "offset, length, 'removed' FROM records WHERE removed=0 AND last_seen<?1",
                    &q));
    sqlite3_bind_int64(q, 1, st->run);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return db_error(st, "mark removed records");
    MS_CALL(prepare(st, "UPDATE records SET removed=1, removed_run=?1 WHERE removed=0 AND "
                        "last_seen<?1", &q));
    sqlite3_bind_int64(q, 1, st->run);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return db_error(st, "mark removed records");
    size_t n = (size_t)sqlite3_changes(st->db);
    st->counts.removed = n;
    if (st->continued) MS_CALL(counts_from_store(st)); /* every life of the run */
    if (n_removed) *n_removed = (size_t)st->counts.removed;
    return tx_maybe_commit(st, 1);
}

/* Reads a CSV file's rows: cb(fields, n, user) for each data row; header columns are looked up
 * by the caller through cols. */
typedef int (*row_fn)(char **f, int n, const int *cols, void *user);

static ms_status read_csv(const char *path, const char *const *names, int n_names, row_fn cb,
                          void *user)
{
    FILE *f = fopen(path, "r");
    if (!f) return ms_error_set(MS_ERR_IO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    char *fields[64];
    int cols[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    ms_status s = MS_SUCCESS;
    if (getline(&line, &cap, f) > 0) {
        int n = ms_csv_split(line, fields, 64);
        for (int i = 0; i < n_names && i < 8; i++) cols[i] = ms_csv_column(fields, n, names[i]);
        for (int i = 0; i < n_names; i++)
            if (cols[i] < 0) s = ms_error_set(MS_ERR_PARSE, "%s: no column %s", path, names[i]);
    }
    while (s == MS_SUCCESS && getline(&line, &cap, f) > 0) {
        if (line[0] == '\n' || line[0] == 0) continue;
        int n = ms_csv_split(line, fields, 64);
        if (cb(fields, n, cols, user)) break;
    }
    free(line);
    fclose(f);
    return s;
}

typedef struct {
    ms_state *st;
    sqlite3_stmt *q;
    size_t n, max;
    int failed;
} rows_ctx;

static const char *fld(char **f, int n, int c) { return c >= 0 && c < n ? f[c] : ""; }

static int top_row(char **f, int n, const int *cols, void *user)
{
    rows_ctx *c = user;
    if (c->n >= c->max) return 1;
    sqlite3_reset(c->q);
    sqlite3_bind_int64(c->q, 1, c->st->run);
    sqlite3_bind_int64(c->q, 2, (sqlite3_int64)++c->n);
    sqlite3_bind_text(c->q, 3, fld(f, n, cols[0]), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(c->q, 4, fld(f, n, cols[1]), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(c->q, 5, fld(f, n, cols[2]), -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(c->q, 6, strtod(fld(f, n, cols[3]), NULL));
    if (sqlite3_step(c->q) != SQLITE_DONE) c->failed = 1;
    return c->failed;
}

static int error_row(char **f, int n, const int *cols, void *user)
{
    rows_ctx *c = user;
    sqlite3_reset(c->q);
    sqlite3_bind_int64(c->q, 1, c->st->run);
    sqlite3_bind_text(c->q, 2, fld(f, n, cols[0]), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(c->q, 3, fld(f, n, cols[1]), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(c->q, 4, fld(f, n, cols[2]), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(c->q) != SQLITE_DONE) c->failed = 1;
    return c->failed;
}

ms_status ms_state_record_outputs(ms_state *st, const char *dir, size_t top_k)
{
    MS_CHECK(st && st->run && dir, MS_ERR_USAGE, "ms_state_record_outputs: no run");
    char path[4200];
    MS_CALL(tx_write(st));
    rows_ctx c = {st, NULL, 0, top_k, 0};
    /* A continued run (ms_state_run_resume) records its outputs again: the latest ones count. */
    MS_CALL(prepare(st, "DELETE FROM topk WHERE run=?1", &c.q));
    sqlite3_bind_int64(c.q, 1, st->run);
    int rc = sqlite3_step(c.q);
    sqlite3_finalize(c.q);
    MS_CALL(prepare(st, "DELETE FROM errors WHERE run=?1", &c.q));
    sqlite3_bind_int64(c.q, 1, st->run);
    if (rc == SQLITE_DONE) rc = sqlite3_step(c.q);
    sqlite3_finalize(c.q);
    if (rc != SQLITE_DONE) return db_error(st, "record the outputs");
    MS_CALL(prepare(st, "INSERT OR REPLACE INTO topk(run, rank, key, formula, source_id, score) "
                        "VALUES(?1,?2,?3,?4,?5,?6)", &c.q));
    static const char *const tn[] = {"key", "formula", "source_id", "score"};
    snprintf(path, sizeof path, "%s/ranked.csv", dir);
    ms_status s = read_csv(path, tn, 4, top_row, &c);
    sqlite3_finalize(c.q);
    if (s == MS_SUCCESS && c.failed) s = db_error(st, "record the top-K");
    if (s != MS_SUCCESS) return s;
    rows_ctx e = {st, NULL, 0, 0, 0};
    MS_CALL(prepare(st, "INSERT INTO errors(run, key, stage, reason) VALUES(?1,?2,?3,?4)", &e.q));
    static const char *const en[] = {"key", "stage", "reason"};
    snprintf(path, sizeof path, "%s/errors.csv", dir);
    s = read_csv(path, en, 3, error_row, &e);
    sqlite3_finalize(e.q);
    if (s == MS_SUCCESS && e.failed) s = db_error(st, "record the errors");
    if (s != MS_SUCCESS) return s;
    return tx_maybe_commit(st, 1);
}

ms_status ms_state_run_finish(ms_state *st, const char *manifest_json)
{
    MS_CHECK(st && st->run, MS_ERR_USAGE, "ms_state_run_finish: no run");
    char now[32];
    utc_now(now);
    MS_CALL(tx_write(st));
    sqlite3_stmt *q = NULL;
    MS_CALL(prepare(st, "UPDATE runs SET finished=?2, manifest=?3, reused=?4, computed=?5, "
                        "added=?6, changed=?7, removed=?8 WHERE id=?1", &q));
    sqlite3_bind_int64(q, 1, st->run);
    sqlite3_bind_text(q, 2, now, -1, SQLITE_TRANSIENT);
    if (manifest_json) sqlite3_bind_text(q, 3, manifest_json, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(q, 3);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)st->counts.reused);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)st->counts.computed);
    sqlite3_bind_int64(q, 6, (sqlite3_int64)st->counts.added);
    sqlite3_bind_int64(q, 7, (sqlite3_int64)st->counts.changed);
    sqlite3_bind_int64(q, 8, (sqlite3_int64)st->counts.removed);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return db_error(st, "finish run");
    return tx_maybe_commit(st, 1);
}

void ms_state_get_counts(const ms_state *st, ms_state_counts *out)
{
    if (st) *out = st->counts;
    else memset(out, 0, sizeof *out);
}

static char *dup_col(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return strdup(t ? (const char *)t : "");
}

void ms_state_history_free(ms_report_history *h)
{
    if (!h) return;
    for (size_t i = 0; i < h->n_top; i++) {
        free(h->top[i].key);
        free(h->top[i].formula);
        free(h->top[i].source_id);
    }
    for (size_t i = 0; i < h->n_errors; i++) {
        free(h->errors[i].key);
        free(h->errors[i].stage);
        free(h->errors[i].reason);
    }
    for (size_t i = 0; i < h->n_inputs; i++) free(h->inputs[i].path);
    free(h->top);
    free(h->errors);
    free(h->inputs);
    free(h);
}

ms_status ms_state_history(ms_state *st, ms_report_history **out)
{
    MS_CHECK(st && st->run && out, MS_ERR_USAGE, "ms_state_history: no run");
    *out = NULL;
    MS_CALL(tx_maybe_commit(st, 1));
    ms_report_history *h = calloc(1, sizeof *h);
    if (!h) return ms_error_set(MS_ERR_NOMEM, "out of memory");
    h->current_run = st->run;
    h->reused = st->counts.reused;
    h->computed = st->counts.computed;
    ms_status s = MS_SUCCESS;
    sqlite3_stmt *q = NULL;
    size_t cap = 0;
    s = prepare(st, "SELECT id, started FROM runs WHERE id<?1 AND finished IS NOT NULL ORDER BY id "
                    "DESC LIMIT 1", &q);
    if (s == MS_SUCCESS) {
        sqlite3_bind_int64(q, 1, st->run);
        if (sqlite3_step(q) == SQLITE_ROW) {
            h->has_previous = 1;
            h->previous_run = sqlite3_column_int64(q, 0);
            snprintf(h->previous_started, sizeof h->previous_started, "%s",
                     (const char *)sqlite3_column_text(q, 1));
        }
        sqlite3_finalize(q);
        q = NULL;
    }
    if (s == MS_SUCCESS && h->has_previous) {
        s = prepare(st, "SELECT key, formula, source_id, score FROM topk WHERE run=?1 ORDER BY rank",
                    &q);
        if (s == MS_SUCCESS) sqlite3_bind_int64(q, 1, h->previous_run);
        while (s == MS_SUCCESS && sqlite3_step(q) == SQLITE_ROW) {
            if (ms_array_reserve(&h->top, &cap, h->n_top + 1, sizeof *h->top, 64) != MS_SUCCESS) {
                s = ms_error_set(MS_ERR_NOMEM, "out of memory");
                break;
            }
            ms_report_top_entry *e = &h->top[h->n_top++];
            e->key = dup_col(q, 0);
            e->formula = dup_col(q, 1);
            e->source_id = dup_col(q, 2);
            e->score = sqlite3_column_double(q, 3);
        }
        sqlite3_finalize(q);
        q = NULL;
        cap = 0;
        if (s == MS_SUCCESS)
            s = prepare(st, "SELECT key, stage, reason FROM errors WHERE run=?1 ORDER BY rowid", &q);
        if (s == MS_SUCCESS) sqlite3_bind_int64(q, 1, h->previous_run);
        while (s == MS_SUCCESS && sqlite3_step(q) == SQLITE_ROW) {
            if (ms_array_reserve(&h->errors, &cap, h->n_errors + 1, sizeof *h->errors, 64) !=
                MS_SUCCESS) {
                s = ms_error_set(MS_ERR_NOMEM, "out of memory");
                break;
            }
            ms_report_error_entry *e = &h->errors[h->n_errors++];
            e->key = dup_col(q, 0);
            e->stage = dup_col(q, 1);
            e->reason = dup_col(q, 2);
        }
        sqlite3_finalize(q);
        q = NULL;
    }
    cap = 0;
    if (s == MS_SUCCESS)
        s = prepare(st, "SELECT path, offset, length, kind FROM changes WHERE run=?1 ORDER BY "
                        "CASE kind WHEN 'new' THEN 0 WHEN 'changed' THEN 1 WHEN 'removed' THEN 2 "
                        "ELSE 3 END, path, offset", &q);
    if (s == MS_SUCCESS) sqlite3_bind_int64(q, 1, st->run);
    while (s == MS_SUCCESS && sqlite3_step(q) == SQLITE_ROW) {
        if (ms_array_reserve(&h->inputs, &cap, h->n_inputs + 1, sizeof *h->inputs, 64) !=
            MS_SUCCESS) {
            s = ms_error_set(MS_ERR_NOMEM, "out of memory");
            break;
        }
        ms_report_input_change *e = &h->inputs[h->n_inputs++];
        e->path = dup_col(q, 0);
        e->offset = sqlite3_column_int64(q, 1);
        e->length = sqlite3_column_int64(q, 2);
        snprintf(e->kind, sizeof e->kind, "%s", (const char *)sqlite3_column_text(q, 3));
    }
    sqlite3_finalize(q);
    if (s != MS_SUCCESS) {
        ms_state_history_free(h);
        return s;
    }
    *out = h;
    return MS_SUCCESS;
}

/* ---- unchanged nights ---------------------------------------------------------------------- */

static long long mtime_ns_of(const struct stat *sb)
{
    return (long long)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
}

/* Files of a run directory that are not its outputs: rewritten by every run (report, counts,
 * journal, lock), or the store itself. */
static int not_an_output(const char *name)
{
    static const char *const skip[] = {"report.html", "incremental.json", "journal", "previous"};
    if (name[0] == '.' || !strncmp(name, "state.db", 8)) return 1;
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (!strcmp(name, skip[i])) return 1;
    return 0;
}

typedef int (*file_fn)(const char *rel, const struct stat *sb, void *user);

/* Calls fn for every regular file under dir/rel (rel "" at the top), depth first, skipping what
 * not_an_output names at the top level; stops when fn returns nonzero (returned). -1 when a
 * directory cannot be listed. */
static int walk_outputs(const char *dir, const char *rel, int depth, file_fn fn, void *user)
{
    char path[4200];
    snprintf(path, sizeof path, "%s%s%s", dir, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d) return -1;
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (depth == 0 && not_an_output(e->d_name)) continue;
        char sub[4200], full[8400];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", dir, sub);
        struct stat sb;
        if (lstat(full, &sb) != 0) rc = -1;
        else if (S_ISDIR(sb.st_mode)) rc = depth < 4 ? walk_outputs(dir, sub, depth + 1, fn, user) : -1;
        else if (S_ISREG(sb.st_mode)) rc = fn(sub, &sb, user);
        else rc = -1; /* a link or special file: not what a run writes */
    }
    closedir(d);
    return rc;
}

typedef struct files_ctx {
    ms_state *st; /* its run is the one recorded */
    sqlite3_stmt *q;
    size_t n;
    int failed;
} files_ctx;

static int put_file(const char *rel, const struct stat *sb, void *user)
{
    files_ctx *c = user;
    sqlite3_reset(c->q);
    sqlite3_bind_int64(c->q, 1, c->st->run);
    sqlite3_bind_text(c->q, 2, rel, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(c->q, 3, (sqlite3_int64)sb->st_size);
    sqlite3_bind_int64(c->q, 4, mtime_ns_of(sb));
    if (sqlite3_step(c->q) != SQLITE_DONE) c->failed = 1;
    c->n++;
    return c->failed;
}

ms_status ms_state_record_files(ms_state *st, const char *dir, uint64_t key,
                                const ms_state_outcome *o)
{
    MS_CHECK(st && st->run && dir, MS_ERR_USAGE, "ms_state_record_files: no run");
    MS_CALL(tx_write(st));
    files_ctx c = {st, NULL, 0, 0};
    MS_CALL(prepare(st, "DELETE FROM outputs WHERE run=?1", &c.q));
    sqlite3_bind_int64(c.q, 1, st->run);
    int rc = sqlite3_step(c.q);
    sqlite3_finalize(c.q);
    if (rc != SQLITE_DONE) return db_error(st, "record the output files");
    MS_CALL(prepare(st, "INSERT INTO outputs(run, name, size, mtime_ns) VALUES(?1,?2,?3,?4)", &c.q));
    int w = walk_outputs(dir, "", 0, put_file, &c);
    sqlite3_finalize(c.q);
    if (c.failed) return db_error(st, "record the output files");
    /* a directory that cannot be listed whole: no key, so the next night rewrites everything */
    MS_CALL(prepare(st, "UPDATE runs SET identity=?2 WHERE id=?1", &c.q));
    sqlite3_bind_int64(c.q, 1, st->run);
    sqlite3_bind_int64(c.q, 2, w == 0 ? (sqlite3_int64)key : 0);
    rc = sqlite3_step(c.q);
    sqlite3_finalize(c.q);
    if (rc != SQLITE_DONE) return db_error(st, "record the output files");
    if (!o) return tx_maybe_commit(st, 1);
    MS_CALL(prepare(st, "INSERT OR REPLACE INTO outcomes(run, records, failed, filtered) "
                        "VALUES(?1,?2,?3,?4)", &c.q));
    sqlite3_bind_int64(c.q, 1, st->run);
    sqlite3_bind_int64(c.q, 2, (sqlite3_int64)o->records);
    sqlite3_bind_int64(c.q, 3, (sqlite3_int64)o->failed);
    sqlite3_bind_int64(c.q, 4, (sqlite3_int64)o->filtered);
    rc = sqlite3_step(c.q);
    sqlite3_finalize(c.q);
    if (rc != SQLITE_DONE) return db_error(st, "record the run's outcome");
    return tx_maybe_commit(st, 1);
}

typedef struct same_ctx {
    sqlite3_stmt *q; /* size, mtime of (run, name) */
    int64_t run;
    size_t n;
} same_ctx;

static int same_file(const char *rel, const struct stat *sb, void *user)
{
    same_ctx *c = user;
    sqlite3_reset(c->q);
    sqlite3_bind_int64(c->q, 1, c->run);
    sqlite3_bind_text(c->q, 2, rel, -1, SQLITE_TRANSIENT);
    int same = sqlite3_step(c->q) == SQLITE_ROW &&
               sqlite3_column_int64(c->q, 0) == (sqlite3_int64)sb->st_size &&
               sqlite3_column_int64(c->q, 1) == mtime_ns_of(sb);
    sqlite3_reset(c->q);
    c->n++;
    return !same;
}

/* 1 when the files of dir are those recorded for run (same names, sizes and mtimes), 0 when
 * not, -1 on a store error. */
static int outputs_intact(ms_state *st, const char *dir, int64_t run)
{
    unsigned long long n = 0;
    sqlite3_stmt *q = NULL;
    if (prepare(st, "SELECT count(*) FROM outputs WHERE run=?1", &q) != MS_SUCCESS) return -1;
    sqlite3_bind_int64(q, 1, run);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) n = (unsigned long long)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW) return -1;
    if (n == 0) return 0;
    same_ctx c = {NULL, run, 0};
    if (prepare(st, "SELECT size, mtime_ns FROM outputs WHERE run=?1 AND name=?2", &c.q) != MS_SUCCESS)
        return -1;
    int w = walk_outputs(dir, "", 0, same_file, &c);
    sqlite3_finalize(c.q);
    return w == 0 && c.n == n;
}

/* 1 when the tasks of the enumeration are exactly the records run saw (key, size, mtime), 0 when
 * not, -1 on a store error. Stops at the first difference. */
static int inputs_unchanged(ms_state *st, const char *const *specs, size_t n_specs,
                            const ms_source_options *so, int64_t run)
{
    unsigned long long n = 0, seen = 0;
    sqlite3_stmt *q = NULL;
    if (prepare(st, "SELECT count(*) FROM records WHERE removed=0 AND last_seen=?1", &q) != MS_SUCCESS)
        return -1;
    sqlite3_bind_int64(q, 1, run);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) n = (unsigned long long)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW) return -1;
    ms_source *src = NULL;
    ms_task *t = malloc(sizeof *t);
    if (!t || ms_source_create(specs, n_specs, so, &src) != MS_SUCCESS) {
        free(t);
        return -1;
    }
    if (prepare(st, "SELECT size, mtime_ns FROM records WHERE path=?1 AND offset=?2 AND length=?3 "
                    "AND removed=0 AND last_seen=?4", &q) != MS_SUCCESS) {
        ms_source_free(src);
        free(t);
        return -1;
    }
    int same = 1;
    while (same && ms_source_next(src, t)) {
        struct stat sb;
        same = t->status == MS_SUCCESS && stat(t->path, &sb) == 0 && ++seen <= n;
        if (!same) break;
        sqlite3_reset(q);
        bind_key(st, q, t);
        sqlite3_bind_int64(q, 4, run);
        same = sqlite3_step(q) == SQLITE_ROW &&
               sqlite3_column_int64(q, 0) == (sqlite3_int64)sb.st_size &&
               sqlite3_column_int64(q, 1) == mtime_ns_of(&sb);
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    ms_source_free(src);
    free(t);
    return same && seen == n;
}

ms_status ms_state_unchanged(ms_state *st, uint64_t key, const char *const *specs, size_t n_specs,
                             const ms_source_options *so, const char *dir, int64_t *prev_run,
                             ms_state_outcome *o)
{
    MS_CHECK(st && st->run && prev_run && o, MS_ERR_USAGE, "ms_state_unchanged: no run");
    *prev_run = 0;
    memset(o, 0, sizeof *o);
    if (key == 0 || st->check == MS_STATE_CHECK_HASH) return MS_SUCCESS;
    MS_CALL(tx_maybe_commit(st, 1));
    sqlite3_stmt *q = NULL;
    /* the previous run, with its outcome when it recorded one (a finished, complete run) */
    MS_CALL(prepare(st, "SELECT r.id, r.identity, r.finished IS NOT NULL, o.records, o.failed, "
                        "o.filtered FROM runs r JOIN outcomes o ON o.run=r.id WHERE r.id<?1 "
                        "AND r.id=(SELECT max(id) FROM runs WHERE id<?1)", &q));
    sqlite3_bind_int64(q, 1, st->run);
    int rc = sqlite3_step(q);
    int64_t prev = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    uint64_t pkey = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(q, 1) : 0;
    int finished = rc == SQLITE_ROW && sqlite3_column_int(q, 2);
    ms_state_outcome was = {0};
    if (rc == SQLITE_ROW) {
        was.records = (unsigned long long)sqlite3_column_int64(q, 3);
        was.failed = (unsigned long long)sqlite3_column_int64(q, 4);
        was.filtered = (unsigned long long)sqlite3_column_int64(q, 5);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_error(st, "find the previous run");
    if (!prev || !finished || pkey != key) return MS_SUCCESS;
    int ok = outputs_intact(st, dir, prev);
    if (ok > 0) ok = inputs_unchanged(st, specs, n_specs, so, prev);
    if (ok < 0) return db_error(st, "compare with the previous run");
    if (ok) {
        *prev_run = prev;
        *o = was;
    }
    return MS_SUCCESS;
}

ms_status ms_state_run_unchanged(ms_state *st, int64_t prev_run)
{
    MS_CHECK(st && st->run && prev_run > 0, MS_ERR_USAGE, "ms_state_run_unchanged: no run");
    MS_CALL(tx_write(st));
    sqlite3_stmt *q = NULL;
    MS_CALL(prepare(st, "UPDATE records SET last_seen=?1 WHERE removed=0 AND last_seen=?2", &q));
    sqlite3_bind_int64(q, 1, st->run);
    sqlite3_bind_int64(q, 2, prev_run);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return db_error(st, "mark the records seen");
    st->counts.reused = (unsigned long long)sqlite3_changes(st->db);
    return tx_maybe_commit(st, 1);
}
