/* Tests of the checkpoint journal (journal.h): records round-trip; a resume replays only the
 * results of tasks done in the same life; faults: a torn tail is cut, a flipped byte ends the
 * valid part there, a foreign or empty file is refused; an identity change is refused with a
 * message naming it; deaths make a running task a suspect, then quarantined, while the tasks
 * behind it in its batch stay clean. The MPI kill-and-resume flow is tests/integration/resume.sh. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matscreen/hash.h"
#include "matscreen/crash.h"
#include "matscreen/journal.h"
#include "matscreen/pipeline.h"
#include "suites.h"
#include "test_util.h"


static char dir[64];
static char path[128];

static void fresh_path(void)
{
    snprintf(dir, sizeof dir, "/tmp/ms_test_journal_XXXXXX");
    if (!mkdtemp(dir)) dir[0] = '\0';
    snprintf(path, sizeof path, "%s/journal", dir);
}

/* What a crashing rank's handler leaves beside the journal (crash.h). */
static void crash_note(int rank, unsigned long long seq)
{
    char p[200];
    snprintf(p, sizeof p, "%s/" MS_CRASH_PREFIX "%d", dir, rank);
    FILE *f = fopen(p, "a");
    if (!f) return;
    fprintf(f, "%llu\n", seq);
    fclose(f);
}

static size_t crash_files(void)
{
    return ms_test_count_prefixed(dir, MS_CRASH_PREFIX);
}

static void cleanup(void)
{
    unlink(path);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    rmdir(dir);
}

static void identity(ms_journal_identity *id)
{
    memset(id, 0, sizeof *id);
    snprintf(id->version, sizeof id->version, "%s", "test");
    id->tasks_hash = 0x85944171f73967e8ULL;
    id->n_tasks = 2385;
    id->specs_hash = 0xaf63dc4c8601ec8cULL;
    snprintf(id->specs, sizeof id->specs, "%s", "/data/a /data/b");
    id->seed = 17;
    id->top_k = 20;
}

static void result_for(ms_result *r, uint64_t seq, uint64_t index)
{
    ms_result_clear(r);
    r->task_seq = seq;
    r->index = index;
    r->status = MS_SUCCESS;
    r->stage = MS_STAGE_DONE;
    r->score = 0.2385 * (double)(seq + 1);
    snprintf(r->file, sizeof r->file, "/data/a/file%llu.cif", (unsigned long long)seq);
    snprintf(r->formula, sizeof r->formula, "%s", "Li3PS4");
}

/* Writes: life 1 = tasks 0..n_done-1 dispatched to rank 1, two results each, done. */
static ms_journal *write_done_tasks(const ms_journal_identity *id, uint64_t n_done)
{
    ms_journal *j = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_journal_create(path, id, &j), MS_SUCCESS);
    ms_result r;
    for (uint64_t s = 0; s < n_done; s++) {
        CU_ASSERT_EQUAL(ms_journal_dispatch(j, s, 1), MS_SUCCESS);
        for (uint64_t k = 0; k < 2; k++) {
            result_for(&r, s, k);
            CU_ASSERT_EQUAL(ms_journal_result(j, &r, NULL, NULL), MS_SUCCESS);
        }
        CU_ASSERT_EQUAL(ms_journal_done(j, s, 2, 1), MS_SUCCESS);
    }
    return j;
}

typedef struct {
    size_t n;
    uint64_t seq_sum;
    int bad;
} replayed;

static int count_result(const ms_result *r, uint64_t pos, uint32_t len, void *user)
{
    replayed *c = user;
    c->n++;
    c->seq_sum += r->task_seq;
    if (len == 0 || pos == 0 || strcmp(r->formula, "Li3PS4") != 0) c->bad = 1;
    return 0;
}

static int count_record(uint32_t type, const unsigned char *payload, uint32_t n, uint64_t pos,
                        void *user)
{
    (void)payload;
    (void)n;
    (void)pos;
    size_t *counts = user;
    if (type < 8) counts[type]++;
    return 0;
}

static long long file_size(void)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void test_roundtrip_and_finish(void)
{
    fresh_path();
    ms_journal_identity id;
    identity(&id);
    ms_journal *j = write_done_tasks(&id, 3);
    uint64_t pos = 0;
    uint32_t len = 0;
    ms_result r, back;
    result_for(&r, 3, 0);
    CU_ASSERT_EQUAL(ms_journal_result(j, &r, &pos, &len), MS_SUCCESS);
    unsigned char buf[8192];
    CU_ASSERT_FATAL(len <= sizeof buf);
    CU_ASSERT_EQUAL(ms_journal_read(j, pos, buf, len), MS_SUCCESS); /* flushes first */
    /* past the end: refused, naming the file and why (the file ends there) */
    CU_ASSERT_EQUAL(ms_journal_read(j, pos + 1000000, buf, len), MS_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "cannot read back"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "the file ends there"));
    size_t at = 0;
    CU_ASSERT_EQUAL(ms_result_unpack(buf, len, &at, &back), MS_SUCCESS);
    CU_ASSERT_EQUAL(back.task_seq, 3);
    CU_ASSERT_DOUBLE_EQUAL(back.score, r.score, 0.0);
    CU_ASSERT_EQUAL(ms_journal_done(j, 3, 1, 0), MS_SUCCESS);
    /* task 4 produced 3 results and the screen's filter kept one: only that one is journaled */
    CU_ASSERT_EQUAL(ms_journal_dispatch(j, 4, 1), MS_SUCCESS);
    result_for(&r, 4, 0);
    CU_ASSERT_EQUAL(ms_journal_result(j, &r, NULL, NULL), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_journal_done(j, 4, 3, 1), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_journal_finish(j), MS_SUCCESS);
    ms_journal_close(j);

    size_t counts[8] = {0};
    uint64_t end = 0;
    CU_ASSERT_EQUAL(ms_journal_scan(path, count_record, counts, &end), MS_SUCCESS);
    CU_ASSERT_EQUAL(counts[MS_JREC_HEADER], 1);
    CU_ASSERT_EQUAL(counts[MS_JREC_DISPATCH], 4);
    CU_ASSERT_EQUAL(counts[MS_JREC_RESULT], 8);
    CU_ASSERT_EQUAL(counts[MS_JREC_DONE], 5);
    CU_ASSERT_EQUAL(counts[MS_JREC_FINISHED], 1);
    CU_ASSERT_EQUAL((long long)end, file_size());

    replayed c = {0};
    CU_ASSERT_EQUAL(ms_journal_resume(path, &id, count_result, &c, &j), MS_SUCCESS);
    ms_journal_info info;
    ms_journal_get_info(j, &info);
    CU_ASSERT_EQUAL(info.finished, 1);
    CU_ASSERT_EQUAL(info.tasks_done, 5);
    CU_ASSERT_EQUAL(c.n, 8);
    CU_ASSERT_EQUAL(c.seq_sum, 0 + 0 + 1 + 1 + 2 + 2 + 3 + 4);
    CU_ASSERT_EQUAL(info.results, 8);
    CU_ASSERT_EQUAL(info.produced, 2 + 2 + 2 + 1 + 3); /* the 2 filtered ones are counted */
    CU_ASSERT_EQUAL(c.bad, 0);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 2), MS_FARM_SKIP);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 4), MS_FARM_SKIP);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 5), MS_FARM_RUN);
    ms_journal_close(j);
    CU_ASSERT_EQUAL(file_size(), (long long)end); /* a finished journal gets no RESUME record */
    cleanup();
}

static void test_torn_tail(void)
{
    fresh_path();
    ms_journal_identity id;
    identity(&id);
    ms_journal *j = write_done_tasks(&id, 2);
    ms_journal_flush(j);
    long long good = file_size();
    /* task 2: dispatched, one result, then the kill tears its second result */
    ms_result r;
    CU_ASSERT_EQUAL(ms_journal_dispatch(j, 2, 1), MS_SUCCESS);
    result_for(&r, 2, 0);
    ms_journal_result(j, &r, NULL, NULL);
    ms_journal_flush(j);
    long long before_torn = file_size();
    result_for(&r, 2, 1);
    ms_journal_result(j, &r, NULL, NULL);
    ms_journal_close(j);
    CU_ASSERT_EQUAL(truncate(path, (off_t)(file_size() - 7)), 0);

    replayed c = {0};
    CU_ASSERT_EQUAL_FATAL(ms_journal_resume(path, &id, count_result, &c, &j), MS_SUCCESS);
    ms_journal_info info;
    ms_journal_get_info(j, &info);
    CU_ASSERT(info.torn_bytes > 0);
    CU_ASSERT_EQUAL(info.tasks_done, 2);
    CU_ASSERT_EQUAL(c.n, 4);            /* the results of tasks 0 and 1 */
    CU_ASSERT_EQUAL(info.dropped, 1);   /* task 2's first result, not done */
    CU_ASSERT_EQUAL(info.lives, 1);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 1), MS_FARM_SKIP);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 2), MS_FARM_ALONE); /* running at the death */
    CU_ASSERT_EQUAL(ms_journal_deaths(j, 2), 1);
    ms_journal_close(j);
    /* cut at the last valid record, plus the RESUME frame */
    CU_ASSERT_EQUAL(file_size(), before_torn + 16);
    CU_ASSERT(good < before_torn);
    cleanup();
}

static void test_flipped_byte(void)
{
    fresh_path();
    ms_journal_identity id;
    identity(&id);
    ms_journal *j = write_done_tasks(&id, 1);
    ms_journal_flush(j);
    long long after_first = file_size();
    ms_journal_close(j);
    j = NULL;
    /* append tasks 1..3 by resuming (a second life) */
    CU_ASSERT_EQUAL_FATAL(ms_journal_resume(path, &id, NULL, NULL, &j), MS_SUCCESS);
    ms_result r;
    for (uint64_t s = 1; s < 4; s++) {
        ms_journal_dispatch(j, s, 1);
        result_for(&r, s, 0);
        ms_journal_result(j, &r, NULL, NULL);
        ms_journal_done(j, s, 1, 1);
    }
    ms_journal_close(j);
    /* flip one byte inside the first record after task 0 (the RESUME frame's check) */
    FILE *f = fopen(path, "r+b");
    CU_ASSERT_FATAL(f != NULL);
    fseek(f, (long)after_first + 9, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, (long)after_first + 9, SEEK_SET);
    fputc(ch ^ 0x5a, f);
    fclose(f);

    replayed c = {0};
    CU_ASSERT_EQUAL_FATAL(ms_journal_resume(path, &id, count_result, &c, &j), MS_SUCCESS);
    ms_journal_info info;
    ms_journal_get_info(j, &info);
    CU_ASSERT_EQUAL(info.tasks_done, 1); /* everything after the bad record is gone */
    CU_ASSERT_EQUAL(c.n, 2);
    CU_ASSERT(info.torn_bytes > 0);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 0), MS_FARM_SKIP);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 2), MS_FARM_RUN);
    ms_journal_close(j);
    CU_ASSERT_EQUAL(file_size(), after_first + 16);
    cleanup();
}

static void test_foreign_and_empty(void)
{
    fresh_path();
    ms_journal_identity id;
    identity(&id);
    ms_journal *j = NULL;
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f != NULL);
    for (int i = 0; i < 3000; i++) fputc((i * 2385 + 17) & 0xff, f);
    fclose(f);
    CU_ASSERT_EQUAL(ms_journal_resume(path, &id, NULL, NULL, &j), MS_ERR_PARSE);
    CU_ASSERT_PTR_NULL(j);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "not a matscreen journal"));
    CU_ASSERT_EQUAL(file_size(), 3000); /* left alone */
    f = fopen(path, "wb");
    fclose(f);
    CU_ASSERT_EQUAL(ms_journal_resume(path, &id, NULL, NULL, &j), MS_ERR_PARSE);
    /* a valid frame of another type first is foreign too */
    j = write_done_tasks(&id, 1);
    ms_journal_close(j);
    j = NULL;
    f = fopen(path, "r+b");
    unsigned type = MS_JREC_RESULT;
    fseek(f, 4, SEEK_SET);
    fwrite(&type, 4, 1, f);
    fclose(f);
    CU_ASSERT_EQUAL(ms_journal_resume(path, &id, NULL, NULL, &j), MS_ERR_PARSE);
    cleanup();
    CU_ASSERT_EQUAL(ms_journal_resume("/nonexistent/dir/journal", &id, NULL, NULL, &j), MS_ERR_IO);
}

/* Issue #18 item 16: a journal of another format names the file and what to do. The header
 * record is rewritten with format 1 and a valid frame check (16-byte frame: length, type,
 * FNV-1a of both and the payload; the payload starts with the 18-byte magic, then the format). */
static void test_other_format_named(void)
{
    fresh_path();
    ms_journal_identity id;
    identity(&id);
    ms_journal_close(write_done_tasks(&id, 1));
    FILE *f = fopen(path, "r+b");
    CU_ASSERT_FATAL(f != NULL);
    uint32_t len = 0, type = 0;
    CU_ASSERT_FATAL(fread(&len, 4, 1, f) == 1 && fread(&type, 4, 1, f) == 1 && len < 65536);
    unsigned char *payload = malloc(len);
    CU_ASSERT_FATAL(payload != NULL);
    fseek(f, 16, SEEK_SET);
    CU_ASSERT_FATAL(fread(payload, 1, len, f) == len);
    uint32_t old_format = 1;
    memcpy(payload + 18, &old_format, 4);
    uint64_t check = ms_hash_update(ms_hash_update(ms_hash_update(MS_HASH_INIT, &len, 4), &type, 4),
                                    payload, len);
    fseek(f, 8, SEEK_SET);
    fwrite(&check, 8, 1, f);
    fseek(f, 16, SEEK_SET);
    fwrite(payload, 1, len, f);
    fclose(f);
    free(payload);
    ms_journal *j = NULL;
    CU_ASSERT_EQUAL(ms_journal_resume(path, &id, NULL, NULL, &j), MS_ERR_UNSUPPORTED);
    CU_ASSERT_PTR_NULL(j);
    const char *m = ms_error_message();
    CU_ASSERT_PTR_NOT_NULL(strstr(m, path));
    CU_ASSERT_PTR_NOT_NULL(strstr(m, "journal format 1, written by another matscreen version"));
    CU_ASSERT_PTR_NOT_NULL(strstr(m, "without --resume"));
    cleanup();
}

static void test_identity_refused(void)
{
    fresh_path();
    ms_journal_identity id, other;
    identity(&id);
    ms_journal *j = write_done_tasks(&id, 1);
    ms_journal_close(j);
    j = NULL;
    other = id;
    other.seed = 23;
    other.rank_by = MS_RANK_DENSITY;
    CU_ASSERT_EQUAL(ms_journal_resume(path, &other, NULL, NULL, &j), MS_ERR_USAGE);
    CU_ASSERT_PTR_NULL(j);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "--seed was 17, now 23"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "--rank-by was li_fraction, now density"));
    other = id;
    other.n_tasks++;
    CU_ASSERT_EQUAL(ms_journal_resume(path, &other, NULL, NULL, &j), MS_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "input set changed: 2385 tasks then, 2386 now"));
    other = id;
    other.tasks_hash ^= 1;
    CU_ASSERT_EQUAL(ms_journal_resume(path, &other, NULL, NULL, &j), MS_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(ms_error_message(), "input files changed"));
    char msg[256];
    CU_ASSERT_EQUAL(ms_journal_identity_diff(&id, &id, msg, sizeof msg), 0);
    CU_ASSERT_STRING_EQUAL(msg, "");
    cleanup();
}

static void test_deaths_and_quarantine(void)
{
    fresh_path();
    ms_journal_identity id;
    identity(&id);
    ms_journal *j = NULL;
    ms_result r;
    CU_ASSERT_EQUAL_FATAL(ms_journal_create(path, &id, &j), MS_SUCCESS);
    /* life 1: rank 1 gets the batch 5, 6, 7; 5 is done, 6 is running when the run dies; rank 0
     * runs 9 and is done; rank 2 runs 8 (one result written) */
    ms_journal_dispatch(j, 5, 1);
    ms_journal_dispatch(j, 6, 1);
    ms_journal_dispatch(j, 7, 1);
    ms_journal_dispatch(j, 8, 2);
    ms_journal_dispatch(j, 9, 0);
    result_for(&r, 5, 0);
    ms_journal_result(j, &r, NULL, NULL);
    ms_journal_done(j, 5, 1, 1);
    result_for(&r, 8, 0);
    ms_journal_result(j, &r, NULL, NULL);
    result_for(&r, 9, 0);
    ms_journal_result(j, &r, NULL, NULL);
    ms_journal_done(j, 9, 1, 0);
    ms_journal_close(j);
    crash_note(1, 6); /* rank 1 crashed running 6 (its fatal-signal handler wrote this) */

    replayed c = {0};
    CU_ASSERT_EQUAL_FATAL(ms_journal_resume(path, &id, count_result, &c, &j), MS_SUCCESS);
    CU_ASSERT_EQUAL(crash_files(), 0); /* read into the journal, then removed */
    CU_ASSERT_EQUAL(c.n, 2);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 5), MS_FARM_SKIP);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 6), MS_FARM_ALONE);
    /* behind 6 in rank 1's queue: it may not have started, but the journal cannot tell whether a
     * "done" report of 6 was in transit, so it is a suspect too (and runs alone next time) */
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 7), MS_FARM_ALONE);
    CU_ASSERT_EQUAL(ms_journal_deaths(j, 7), 1);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 8), MS_FARM_ALONE);
    /* life 2: 8 runs alone on rank 1 and is done (its new result counts, the old one not);
     * then 6 runs alone on rank 2 and the run dies again */
    ms_journal_dispatch(j, 8, 1);
    result_for(&r, 8, 0);
    ms_journal_result(j, &r, NULL, NULL);
    ms_journal_done(j, 8, 1, 1);
    ms_journal_dispatch(j, 6, 2);
    ms_journal_close(j);
    crash_note(2, 6);

    c = (replayed){0};
    CU_ASSERT_EQUAL_FATAL(ms_journal_resume(path, &id, count_result, &c, &j), MS_SUCCESS);
    ms_journal_info info;
    ms_journal_get_info(j, &info);
    CU_ASSERT_EQUAL(info.lives, 2);
    CU_ASSERT_EQUAL(c.n, 3);                /* 5, 9 from life 1, 8 from life 2 */
    CU_ASSERT_EQUAL(c.seq_sum, 5 + 9 + 8);
    CU_ASSERT_EQUAL(info.dropped, 1);       /* 8's result of life 1 */
    CU_ASSERT_EQUAL(ms_journal_deaths(j, 6), 2);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 6), MS_FARM_QUARANTINE);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 8), MS_FARM_SKIP);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 7), MS_FARM_ALONE); /* not in flight in life 2 */
    CU_ASSERT_EQUAL(ms_journal_deaths(j, 7), 1);
    CU_ASSERT_EQUAL(info.quarantined, 1);
    CU_ASSERT_EQUAL(info.suspects, 1);
    ms_journal_close(j);
    /* the crashes are in the journal now: a third resume, with no files left, still knows */
    CU_ASSERT_EQUAL_FATAL(ms_journal_resume(path, &id, NULL, NULL, &j), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 6), MS_FARM_QUARANTINE);
    CU_ASSERT_EQUAL(ms_journal_task_state(j, 7), MS_FARM_ALONE);
    ms_journal_close(j);
    cleanup();
}

/* Kills from outside (no crash record: the scheduler's time limit, mpirun killed) while an
 * innocent suspect runs alone: two such deaths leave it a suspect that runs again, and only a
 * third death quarantines it (a task that hangs its rank until the job is killed). A new run in
 * the same directory removes crash records an earlier run left. */
static void test_outside_kills(void)
{
    fresh_path();
    ms_journal_identity id;
    identity(&id);
    ms_journal *j = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_journal_create(path, &id, &j), MS_SUCCESS);
    for (int life = 1; life <= 3; life++) {
        ms_journal_dispatch(j, 4, 1); /* 4 runs (alone from life 2 on) when the job is killed */
        ms_journal_close(j);
        CU_ASSERT_EQUAL_FATAL(ms_journal_resume(path, &id, NULL, NULL, &j), MS_SUCCESS);
        CU_ASSERT_EQUAL(ms_journal_deaths(j, 4), (unsigned)life);
        CU_ASSERT_EQUAL(ms_journal_task_state(j, 4), life < 3 ? MS_FARM_ALONE : MS_FARM_QUARANTINE);
    }
    ms_journal_close(j);
    crash_note(3, 4); /* left by some earlier run */
    CU_ASSERT_EQUAL_FATAL(ms_journal_create(path, &id, &j), MS_SUCCESS);
    CU_ASSERT_EQUAL(crash_files(), 0);
    ms_journal_close(j);
    cleanup();
}

int ms_suite_journal(void)
{
    CU_pSuite s = CU_add_suite("journal", NULL, NULL);
    if (!s) return -1;
    CU_add_test(s, "records round-trip; a finished journal replays every result", test_roundtrip_and_finish);
    CU_add_test(s, "a torn tail is detected and cut; the running task becomes a suspect", test_torn_tail);
    CU_add_test(s, "a flipped byte ends the valid journal there", test_flipped_byte);
    CU_add_test(s, "foreign, empty and headless files are refused", test_foreign_and_empty);
    CU_add_test(s, "a changed identity is refused, naming what changed", test_identity_refused);
    CU_add_test(s, "a journal of another format names the file and the fix", test_other_format_named);
    CU_add_test(s, "two crashes quarantine a task; results count once", test_deaths_and_quarantine);
    CU_add_test(s, "kills from outside: a suspect survives two, not three", test_outside_kills);
    return 0;
}
