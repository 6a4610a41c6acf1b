/* Suite "state": the SQLite state store of nightly incremental runs (src/workflow/state.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matscreen/farm.h"
#include "matscreen/state.h"

int ms_suite_state(void); /* registered in suites.h by the lead */

static char dir[256];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/ms-state-XXXXXX");
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
}

static void cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", dir);
}

static void write_file(const char *name, const char *text)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    CU_ASSERT_FATAL(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void make_task(ms_task *t, const char *name, uint64_t seq)
{
    memset(t, 0, sizeof *t);
    t->seq = seq;
    t->input = 0;
    t->format = MS_FORMAT_CIF;
    t->length = -1;
    t->status = MS_SUCCESS;
    snprintf(t->path, sizeof t->path, "%s/%s", dir, name);
}

/* Packs n results of task t with high-entropy values into b. */
static void pack_results(const ms_task *t, size_t n, double base, ms_buffer *b)
{
    ms_result *r = calloc(1, sizeof *r);
    CU_ASSERT_FATAL(r != NULL);
    ms_buffer_reset(b);
    for (size_t i = 0; i < n; i++) {
        ms_result_clear(r);
        r->task_seq = t->seq;
        r->index = i;
        r->status = MS_SUCCESS;
        r->li_fraction = base + 0.0137 * (double)i;
        r->score = r->li_fraction;
        snprintf(r->formula, sizeof r->formula, "Li%zuPS4", i + 3);
        snprintf(r->file, sizeof r->file, "%s", t->path);
        CU_ASSERT_FATAL(ms_result_pack(r, b) == MS_SUCCESS);
    }
    free(r);
}

static char db_path[300];

static ms_state *open_store(void)
{
    snprintf(db_path, sizeof db_path, "%s/state.db", dir);
    ms_state *st = NULL;
    CU_ASSERT_FATAL(ms_state_open(db_path, &st) == MS_SUCCESS);
    return st;
}

static void test_roundtrip(void)
{
    make_dir();
    write_file("a.cif", "data_a\n_cell_length_a 2.385\n");
    ms_state *st = open_store();
    ms_task t;
    make_task(&t, "a.cif", 7);
    ms_buffer b = {0};
    pack_results(&t, 2, 0.2385, &b);
    const void *data;
    size_t len;
    CU_ASSERT(ms_state_run_begin(st, 11, 0x5eed, NULL) == MS_SUCCESS);
    CU_ASSERT(ms_state_lookup(st, &t, 0x5eed, &data, &len) == 0);
    ms_state_store(st, &t, 0x5eed, b.data, b.n);
    CU_ASSERT(ms_state_run_finish(st, "{\"night\": 1}") == MS_SUCCESS);
    ms_state_counts k;
    ms_state_get_counts(st, &k);
    CU_ASSERT(k.added == 1 && k.computed == 1 && k.reused == 0);
    ms_state_close(st);

    /* night 2: same file, now seq 3 and input 1 (a file was added before it) */
    st = open_store();
    CU_ASSERT(ms_state_run_begin(st, 11, 0x5eed, NULL) == MS_SUCCESS);
    t.seq = 3;
    t.input = 1;
    CU_ASSERT_FATAL(ms_state_lookup(st, &t, 0x5eed, &data, &len) == 1);
    ms_result *r = calloc(1, sizeof *r);
    size_t pos = 0, n = 0;
    while (pos < len && ms_result_unpack(data, len, &pos, r) == MS_SUCCESS) {
        CU_ASSERT(r->task_seq == 3);
        CU_ASSERT(r->input == 1);
        CU_ASSERT(fabs(r->li_fraction - (0.2385 + 0.0137 * (double)n)) < 1e-15);
        n++;
    }
    CU_ASSERT(n == 2);
    CU_ASSERT(pos == len);
    free(r);
    ms_state_get_counts(st, &k);
    CU_ASSERT(k.reused == 1 && k.computed == 0 && k.hashed == 0);
    char msg[64];
    CU_ASSERT(ms_state_error(st, msg, sizeof msg) == MS_SUCCESS);
    ms_state_close(st);
    ms_buffer_free(&b);
    cleanup();
}

static void test_identity_and_content(void)
{
    make_dir();
    write_file("a.cif", "data_a\n_cell_length_a 2.385\n");
    ms_state *st = open_store();
    ms_task t;
    make_task(&t, "a.cif", 0);
    ms_buffer b = {0};
    pack_results(&t, 1, 0.4117, &b);
    const void *data;
    size_t len;
    ms_state_run_begin(st, 1, 100, NULL);
    CU_ASSERT(ms_state_lookup(st, &t, 100, &data, &len) == 0);
    ms_state_store(st, &t, 100, b.data, b.n);
    ms_state_run_finish(st, NULL);

    /* another identity (a new model): computed again, counted as such */
    ms_state_counts k;
    ms_state_run_begin(st, 1, 101, NULL);
    CU_ASSERT(ms_state_lookup(st, &t, 101, &data, &len) == 0);
    ms_state_get_counts(st, &k);
    CU_ASSERT(k.identity == 1 && k.changed == 0 && k.added == 0);
    ms_state_store(st, &t, 101, b.data, b.n);
    ms_state_run_finish(st, NULL);

    /* touched, same bytes: hashed, reused */
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1700000000, 123456789}};
    CU_ASSERT(utimensat(AT_FDCWD, t.path, ts, 0) == 0);
    ms_state_run_begin(st, 1, 101, NULL);
    CU_ASSERT(ms_state_lookup(st, &t, 101, &data, &len) == 1);
    ms_state_get_counts(st, &k);
    CU_ASSERT(k.reused == 1 && k.hashed == 1);
    ms_state_run_finish(st, NULL);

    /* same size and the same mtime but other bytes: the stat check trusts (size, mtime); the
     * hash check sees the change */
    write_file("a.cif", "data_a\n_cell_length_a 2.386\n");
    CU_ASSERT(utimensat(AT_FDCWD, t.path, ts, 0) == 0);
    ms_state_run_begin(st, 1, 101, NULL);
    CU_ASSERT(ms_state_lookup(st, &t, 101, &data, &len) == 1);
    ms_state_run_finish(st, NULL);
    ms_state_set_check(st, MS_STATE_CHECK_HASH);
    ms_state_run_begin(st, 1, 101, NULL);
    CU_ASSERT(ms_state_lookup(st, &t, 101, &data, &len) == 0);
    ms_state_get_counts(st, &k);
    CU_ASSERT(k.changed == 1);
    ms_state_store(st, &t, 101, b.data, b.n);
    ms_state_run_finish(st, NULL);
    ms_state_set_check(st, MS_STATE_CHECK_STAT);

    /* a normal edit (new mtime): changed */
    write_file("a.cif", "data_a\n_cell_length_a 2.3871\n");
    ms_state_run_begin(st, 1, 101, NULL);
    CU_ASSERT(ms_state_lookup(st, &t, 101, &data, &len) == 0);
    ms_state_get_counts(st, &k);
    CU_ASSERT(k.changed == 1 && k.added == 0);

    /* an error task is never cached */
    ms_task e;
    make_task(&e, "missing.cif", 5);
    e.status = MS_ERR_NOT_FOUND;
    CU_ASSERT(ms_state_lookup(st, &e, 101, &data, &len) == 0);
    ms_state_close(st);
    ms_buffer_free(&b);
    cleanup();
}

static void test_removed_and_history(void)
{
    make_dir();
    write_file("a.cif", "data_a\n");
    write_file("b.cif", "data_b\n");
    write_file("ranked.csv", "rank,key,formula,source_id,score\n1,x#0,Li3PS4,\"id, one\",0.375\n"
                             "2,y#0,Li7La3Zr2O12,id2,0.2917\n3,z#0,LiCl,id3,0.25\n");
    write_file("errors.csv", "key,file,stage,status,reason\nq#0,q.cif,read,syntax error,\"bad, loop\"\n");
    ms_state *st = open_store();
    ms_task ta, tb;
    make_task(&ta, "a.cif", 0);
    make_task(&tb, "b.cif", 1);
    ms_buffer b = {0};
    const void *data;
    size_t len, nrem = 99;
    ms_state_run_begin(st, 1, 5, NULL);
    ms_state_lookup(st, &ta, 5, &data, &len);
    pack_results(&ta, 1, 0.1, &b);
    ms_state_store(st, &ta, 5, b.data, b.n);
    ms_state_lookup(st, &tb, 5, &data, &len);
    pack_results(&tb, 1, 0.2, &b);
    ms_state_store(st, &tb, 5, b.data, b.n);
    CU_ASSERT(ms_state_mark_removed(st, &nrem) == MS_SUCCESS);
    CU_ASSERT(nrem == 0);
    CU_ASSERT(ms_state_record_outputs(st, dir, 2) == MS_SUCCESS);
    ms_report_history *h = NULL;
    CU_ASSERT_FATAL(ms_state_history(st, &h) == MS_SUCCESS);
    CU_ASSERT(h->has_previous == 0);
    CU_ASSERT(h->n_inputs == 2);
    ms_state_history_free(h);
    ms_state_run_finish(st, NULL);

    /* night 2: b is gone */
    ms_state_run_begin(st, 1, 5, NULL);
    CU_ASSERT(ms_state_lookup(st, &ta, 5, &data, &len) == 1);
    CU_ASSERT(ms_state_mark_removed(st, &nrem) == MS_SUCCESS);
    CU_ASSERT(nrem == 1);
    CU_ASSERT_FATAL(ms_state_history(st, &h) == MS_SUCCESS);
    CU_ASSERT(h->has_previous == 1);
    CU_ASSERT_FATAL(h->n_top == 2);
    CU_ASSERT(strcmp(h->top[0].source_id, "id, one") == 0);
    CU_ASSERT(fabs(h->top[1].score - 0.2917) < 1e-12);
    CU_ASSERT_FATAL(h->n_errors == 1);
    CU_ASSERT(strcmp(h->errors[0].reason, "bad, loop") == 0);
    CU_ASSERT_FATAL(h->n_inputs == 1);
    CU_ASSERT(strcmp(h->inputs[0].kind, "removed") == 0);
    CU_ASSERT(strstr(h->inputs[0].path, "b.cif") != NULL);
    CU_ASSERT(h->reused == 1 && h->computed == 0);
    ms_state_history_free(h);
    ms_state_run_finish(st, NULL);

    /* night 3: b is back: new again, not removed twice */
    ms_state_run_begin(st, 1, 5, NULL);
    CU_ASSERT(ms_state_lookup(st, &ta, 5, &data, &len) == 1);
    CU_ASSERT(ms_state_lookup(st, &tb, 5, &data, &len) == 0);
    ms_state_store(st, &tb, 5, b.data, b.n);
    CU_ASSERT(ms_state_mark_removed(st, &nrem) == MS_SUCCESS);
    CU_ASSERT(nrem == 0);
    ms_state_counts k;
    ms_state_get_counts(st, &k);
    CU_ASSERT(k.added == 1 && k.reused == 1);
    ms_state_close(st);
    ms_buffer_free(&b);
    cleanup();
}

static void test_corrupt_and_foreign(void)
{
    make_dir();
    ms_state *st = NULL;
    /* not SQLite at all */
    write_file("foreign.db", "this is a CSV file, not a state store\n1,2,3\n");
    char p[400];
    snprintf(p, sizeof p, "%s/foreign.db", dir);
    ms_status s = ms_state_open(p, &st);
    CU_ASSERT(s == MS_ERR_PARSE);
    CU_ASSERT(st == NULL);
    CU_ASSERT(strstr(ms_error_message(), "foreign.db") != NULL);
    CU_ASSERT(strstr(ms_error_message(), "damaged or not a matscreen state store") != NULL);

    /* a real store, cut short */
    st = open_store();
    ms_task t;
    write_file("a.cif", "data_a\n");
    make_task(&t, "a.cif", 0);
    ms_buffer b = {0};
    pack_results(&t, 3, 0.3, &b);
    const void *data;
    size_t len;
    ms_state_run_begin(st, 1, 5, NULL);
    ms_state_lookup(st, &t, 5, &data, &len);
    ms_state_store(st, &t, 5, b.data, b.n);
    ms_state_run_finish(st, NULL);
    ms_state_close(st); /* checkpoints the WAL into the file */
    CU_ASSERT(truncate(db_path, 1500) == 0);
    st = NULL;
    s = ms_state_open(db_path, &st);
    if (s == MS_SUCCESS) { /* the header survived: the damage shows at the first read */
        ms_state_run_begin(st, 1, 5, NULL);
        s = ms_state_lookup(st, &t, 5, &data, &len) ? MS_SUCCESS : ms_state_error(st, NULL, 0);
        ms_state_close(st);
    }
    CU_ASSERT(s == MS_ERR_PARSE);
    /* garbage over the header page of a fresh store */
    unlink(db_path);
    char side[420];
    snprintf(side, sizeof side, "%s-wal", db_path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db_path);
    unlink(side);
    st = open_store();
    ms_state_close(st);
    FILE *f = fopen(db_path, "r+b");
    CU_ASSERT_FATAL(f != NULL);
    fwrite("garbage garbage garbage garbage!", 1, 32, f);
    fclose(f);
    st = NULL;
    CU_ASSERT(ms_state_open(db_path, &st) == MS_ERR_PARSE);
    CU_ASSERT(st == NULL);
    ms_buffer_free(&b);
    cleanup();
}

static void test_schema_version(void)
{
    make_dir();
    ms_state *st = open_store();
    ms_state_close(st);
    sqlite3 *db = NULL;
    CU_ASSERT_FATAL(sqlite3_open(db_path, &db) == SQLITE_OK);
    CU_ASSERT(sqlite3_exec(db, "UPDATE meta SET value='1' WHERE key='schema_version'", NULL, NULL,
                           NULL) == SQLITE_OK);
    sqlite3_close(db);
    st = open_store(); /* same version: fine */
    ms_state_close(st);
    sqlite3_open(db_path, &db);
    sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='schema_version'", NULL, NULL, NULL);
    sqlite3_close(db);
    st = NULL;
    CU_ASSERT(ms_state_open(db_path, &st) == MS_ERR_UNSUPPORTED);
    CU_ASSERT(st == NULL);
    CU_ASSERT(strstr(ms_error_message(), "schema version 99 is newer") != NULL);
    cleanup();
}

static void test_batches(void)
{
    /* one transaction per store and per 512 stores give the same store */
    make_dir();
    char name[32];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "f%02d.cif", i);
        write_file(name, name);
    }
    ms_buffer b = {0};
    const void *data;
    size_t len;
    for (int mode = 0; mode < 2; mode++) {
        ms_state *st = open_store();
        ms_state_set_batch(st, mode ? 1 : 512);
        ms_state_run_begin(st, 1, 9, NULL);
        for (int i = 0; i < 40; i++) {
            ms_task t;
            snprintf(name, sizeof name, "f%02d.cif", i);
            make_task(&t, name, (uint64_t)i);
            int hit = ms_state_lookup(st, &t, 9, &data, &len);
            CU_ASSERT(hit == mode);
            if (!hit) {
                pack_results(&t, 1, 0.01 * i, &b);
                ms_state_store(st, &t, 9, b.data, b.n);
            }
        }
        ms_state_counts k;
        ms_state_get_counts(st, &k);
        CU_ASSERT(mode ? k.reused == 40 : k.computed == 40);
        ms_state_run_finish(st, NULL);
        ms_state_close(st);
    }
    ms_buffer_free(&b);
    cleanup();
}

static void test_locked(void)
{
    make_dir();
    ms_state *a = open_store();
    ms_state_set_busy_ms(a, 200);
    sqlite3 *db = NULL;
    CU_ASSERT_FATAL(sqlite3_open(db_path, &db) == SQLITE_OK);
    CU_ASSERT(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK);
    /* the other connection holds the write lock for longer than the busy timeout */
    ms_status s = ms_state_run_begin(a, 1, 1, NULL);
    CU_ASSERT(s == MS_ERR_IO);
    CU_ASSERT(strstr(ms_error_message(), "locked by another process") != NULL);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    CU_ASSERT(ms_state_run_begin(a, 1, 1, NULL) == MS_SUCCESS);
    ms_state_close(a);
    cleanup();
}


/* One night of the inputs under dir/in: every task enumerated is looked up and, when not reused,
 * stored with one result; the outputs of dir/out are recorded under key. */
static void full_night(uint64_t key)
{
    ms_state *st = open_store();
    CU_ASSERT_FATAL(ms_state_run_begin(st, 5, 0x5eed, NULL) == MS_SUCCESS);
    char in[300];
    snprintf(in, sizeof in, "%s/in", dir);
    const char *specs[] = {in};
    ms_source *src = NULL;
    CU_ASSERT_FATAL(ms_source_create(specs, 1, NULL, &src) == MS_SUCCESS);
    ms_task *t = malloc(sizeof *t);
    ms_buffer b = {0};
    while (ms_source_next(src, t)) {
        const void *data;
        size_t len;
        if (ms_state_lookup(st, t, 0x5eed, &data, &len)) continue;
        pack_results(t, 1, 0.2385, &b);
        ms_state_store(st, t, 0x5eed, b.data, b.n);
    }
    ms_source_free(src);
    free(t);
    ms_buffer_free(&b);
    CU_ASSERT(ms_state_mark_removed(st, NULL) == MS_SUCCESS);
    snprintf(in, sizeof in, "%s/out", dir);
    ms_state_outcome o = {2, 1, 0};
    CU_ASSERT(ms_state_record_files(st, in, key, &o) == MS_SUCCESS);
    CU_ASSERT(ms_state_run_finish(st, NULL) == MS_SUCCESS);
    ms_state_close(st);
}

/* The previous run this night would repeat (0: none) with key, and with it run as unchanged. */
static int64_t unchanged_night(uint64_t key, ms_state_check check)
{
    ms_state *st = open_store();
    ms_state_set_check(st, check);
    CU_ASSERT_FATAL(ms_state_run_begin(st, 5, 0x5eed, NULL) == MS_SUCCESS);
    char in[300], out[300];
    snprintf(in, sizeof in, "%s/in", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    const char *specs[] = {in};
    ms_source_options so;
    ms_source_options_default(&so);
    int64_t prev = -1;
    ms_state_outcome o = {9, 9, 9};
    CU_ASSERT(ms_state_unchanged(st, key, specs, 1, &so, out, &prev, &o) == MS_SUCCESS);
    if (prev > 0) {
        CU_ASSERT(o.records == 2 && o.failed == 1 && o.filtered == 0);
        CU_ASSERT(ms_state_run_unchanged(st, prev) == MS_SUCCESS);
        ms_state_counts k;
        ms_state_get_counts(st, &k);
        CU_ASSERT(k.reused == 2 && k.computed == 0 && k.hashed == 0);
        CU_ASSERT(ms_state_mark_removed(st, NULL) == MS_SUCCESS);
        ms_state_get_counts(st, &k);
        CU_ASSERT(k.removed == 0);
        CU_ASSERT(ms_state_record_files(st, out, key, &o) == MS_SUCCESS);
        CU_ASSERT(ms_state_run_finish(st, NULL) == MS_SUCCESS);
    } else {
        CU_ASSERT(prev == 0 && o.records == 0);
    }
    ms_state_close(st);
    return prev;
}

static void test_unchanged_night(void)
{
    make_dir();
    char p[400];
    snprintf(p, sizeof p, "%s/in", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/out", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/out/top", dir);
    mkdir(p, 0755);
    write_file("in/a.cif", "data_a\n_cell_length_a 2.385\n");
    write_file("in/b.cif", "data_b\n_cell_length_a 3.917\n");
    write_file("out/ranked.csv", "key,score\na,0.2385\n");
    write_file("out/top/0001_a.cif", "data_a\n");
    write_file("out/report.html", "<p>run 1</p>\n"); /* rewritten every night: not an output */
    full_night(77);
    CU_ASSERT(unchanged_night(77, MS_STATE_CHECK_STAT) == 1);
    CU_ASSERT(unchanged_night(77, MS_STATE_CHECK_STAT) == 2); /* the repeat is a run like others */
    write_file("out/report.html", "<p>run 3, longer</p>\n");
    CU_ASSERT(unchanged_night(77, MS_STATE_CHECK_STAT) == 3);
    CU_ASSERT(unchanged_night(78, MS_STATE_CHECK_STAT) == 0);  /* another key: settings changed */
    CU_ASSERT(unchanged_night(77, MS_STATE_CHECK_HASH) == 0);  /* --full-check trusts no mtime */
    full_night(77);                                            /* runs 6 and 7 ran in full */
    CU_ASSERT(unchanged_night(77, MS_STATE_CHECK_STAT) == 7);
    write_file("out/ranked.csv", "key,score\na,0.2386\n");    /* an output edited */
    CU_ASSERT(unchanged_night(77, MS_STATE_CHECK_STAT) == 0);
    full_night(77);
    write_file("out/extra.txt", "x\n");                        /* a file added to the outputs */
    CU_ASSERT(unchanged_night(77, MS_STATE_CHECK_STAT) == 0);
    full_night(77);
    write_file("in/c.cif", "data_c\n_cell_length_a 4.271\n"); /* an input added */
    CU_ASSERT(unchanged_night(77, MS_STATE_CHECK_STAT) == 0);
    snprintf(p, sizeof p, "%s/in/c.cif", dir);
    unlink(p);
    full_night(77);
    snprintf(p, sizeof p, "%s/in/b.cif", dir);
    unlink(p);                                                 /* an input removed */
    CU_ASSERT(unchanged_night(77, MS_STATE_CHECK_STAT) == 0);
    cleanup();
}

int ms_suite_state(void)
{
    CU_pSuite s = CU_add_suite("state", NULL, NULL);
    if (!s) return -1;
    CU_add_test(s, "store and look up: results come back renumbered for the current task", test_roundtrip);
    CU_add_test(s, "a new identity or new content invalidates; a touched file is reused", test_identity_and_content);
    CU_add_test(s, "inputs gone are marked removed once; history of top-K and errors", test_removed_and_history);
    CU_add_test(s, "a foreign, truncated or overwritten file is refused clearly", test_corrupt_and_foreign);
    CU_add_test(s, "a newer schema is refused", test_schema_version);
    CU_add_test(s, "one transaction per store or per batch: same contents", test_batches);
    CU_add_test(s, "a store locked by another process fails after the busy timeout", test_locked);
    CU_add_test(s, "an unchanged night: same key, inputs and outputs; any change runs in full", test_unchanged_night);
    return 0;
}
