/*
 * Fuzz entry points of the loaders that live beside the readers: the workflow XML loader
 * (src/workflow), the model file loader (src/ml) and the checkpoint journal reader
 * (src/parallel). Included by tests/fuzz/fuzz_{workflow,model,journal}.c and by the regression
 * suite (tests/unit/test_fuzz_regressions.c). Kept apart from fuzz_common.h because these
 * headers include <mpi.h>: the reader targets build without MPI, these need the flags of
 * `mpicc --showme:compile` (tests/fuzz/fuzz.mk). None of them calls MPI: the loaders are
 * Not collective, so MPI is never initialised.
 *
 * Checksums. A model file carries an FNV-1a checksum of its payload and every journal record an
 * FNV-1a check of its frame; a fuzzer that flips a byte nearly always fails that check and never
 * reaches the parsers behind it. So each input runs twice: once as it is (the header and check
 * paths), once repaired (model: header rewritten with the right length and checksum, or, for an
 * input not starting with the magic, the input taken as the payload; journal: every whole
 * frame's check recomputed), which is what a hostile, not a damaged, file looks like. A crash
 * file therefore reproduces with the same harness, not with `matscreen` on the raw bytes alone.
 */
#ifndef MS_FUZZ_LOADERS_H
#define MS_FUZZ_LOADERS_H

#include "fuzz_common.h"

#include <fcntl.h>

#include "matscreen/hash.h"
#include "matscreen/journal.h"
#include "matscreen/matrix.h"
#include "matscreen/model.h"
#include "matscreen/pipeline.h"
#include "matscreen/workflow.h"

/* The workflow schema: $MATSCREEN_SHARE/workflow.xsd, else FUZZ_SHARE_DIR's, else NULL (the
 * loader then looks in ms_share_dir()). */
static inline const char *fuzz_schema_path(void)
{
    static char path[4096];
    if (path[0]) return path;
    const char *env = getenv("MATSCREEN_SHARE");
    if (env && *env) {
        snprintf(path, sizeof path, "%s/workflow.xsd", env);
        return path;
    }
#ifdef FUZZ_SHARE_DIR
    snprintf(path, sizeof path, "%s/workflow.xsd", FUZZ_SHARE_DIR);
    return path;
#else
    return NULL;
#endif
}

/* ---- workflow XML ------------------------------------------------------------------------- */

static inline int fuzz_run_workflow(const uint8_t *data, size_t n)
{
    fuzz_problem = NULL;
    char path[64];
    int fd = fuzz_memfd_path(data, n, path, sizeof path);
    if (fd < 0) return 0;
    ms_workflow_issues *issues = calloc(1, sizeof *issues);
    if (!issues) abort();
    ms_workflow *w = NULL;
    ms_status st = ms_workflow_load(path, fuzz_schema_path(), &w, issues);
    double acc = (double)strlen(ms_error_message());
    FUZZ_EXPECT(issues->n <= MS_WORKFLOW_MAX_ISSUES, "%zu issues kept", issues->n);
    for (size_t i = 0; i < issues->n && i < MS_WORKFLOW_MAX_ISSUES; i++)
        acc += (double)strnlen(issues->items[i].message, sizeof issues->items[i].message);
    if (st == MS_SUCCESS) {
        FUZZ_EXPECT(w != NULL && issues->n == 0, "loaded with %zu issues", issues->n);
        if (w) {
            FUZZ_EXPECT(w->n_sources <= MS_WORKFLOW_MAX_SOURCES && w->n_models <= MS_WORKFLOW_MAX_MODELS &&
                            w->filter.n_ranges <= MS_RECORD_FILTER_MAX_RANGES,
                        "counts out of range: %zu sources, %zu models, %zu ranges", w->n_sources,
                        w->n_models, w->filter.n_ranges);
            for (size_t i = 0; i < w->n_sources && i < MS_WORKFLOW_MAX_SOURCES; i++)
                acc += (double)strnlen(w->sources[i].spec, sizeof w->sources[i].spec);
            for (size_t i = 0; i < w->n_models && i < MS_WORKFLOW_MAX_MODELS; i++)
                acc += (double)strnlen(w->models[i], sizeof w->models[i]);
            acc += (double)strnlen(w->name, sizeof w->name) + w->filter.max_atoms;
            double values[64];
            for (size_t i = 0; i < sizeof values / sizeof *values; i++) values[i] = 2.385 * (double)i;
            if (MS_RANK_COUNT <= 64) {
                acc += ms_workflow_accepts(w, "Li2O", 3.0, 0u, values);
                acc += ms_workflow_accepts(w, "LiFePO4", 7.0, ~0u, values);
                acc += ms_workflow_accepts(w, "not a formula", 1e9, 0u, values);
            }
        }
    } else {
        FUZZ_EXPECT(w == NULL, "failed load left a workflow");
        FUZZ_EXPECT(issues->n >= 1, "failed load (%s) with no issue", ms_strerror(st));
    }
    ms_workflow_free(w);
    free(issues);
    close(fd);
    fuzz_sink = acc;
    return 0;
}

/* ---- model files -------------------------------------------------------------------------- */

static inline void fuzz_touch_model(const ms_model *m)
{
    static FILE *devnull;
    if (!devnull) devnull = fopen("/dev/null", "w");
    if (devnull) ms_model_describe(m, devnull);
    FUZZ_EXPECT(m->n_kept <= m->n_raw, "%zu kept features of %zu", m->n_kept, m->n_raw);
    if (fuzz_problem || m->n_raw == 0 || m->n_raw > 4096) return;
    enum { ROWS = 3 };
    ms_matrix x;
    if (ms_matrix_alloc(&x, ROWS, m->n_raw) != MS_SUCCESS) return;
    for (size_t i = 0; i < ROWS * m->n_raw; i++)
        x.data[i] = i % 7 == 3 ? NAN : 2.385 * (double)(i % 13) - 11.0;
    double mean[ROWS], sigma[ROWS];
    if (ms_model_predict(m, &x, mean, sigma) == MS_SUCCESS)
        fuzz_sink = mean[0] + mean[ROWS - 1] + sigma[0];
    ms_matrix_free(&x);
}

static inline void fuzz_model_once(const unsigned char *buf, size_t n)
{
    ms_model *m = NULL;
    ms_status st = ms_model_load_buffer(buf, n, "fuzz.model", &m);
    if (st == MS_SUCCESS) {
        FUZZ_EXPECT(m != NULL, "model load succeeded without a model");
        if (m) fuzz_touch_model(m);
    } else {
        FUZZ_EXPECT(m == NULL, "failed model load left a model");
        fuzz_sink = (double)strlen(ms_error_message());
    }
    ms_model_free(m);
}

static inline void fuzz_put_u32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void fuzz_put_u64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }

static inline int fuzz_run_model(const uint8_t *data, size_t n)
{
    fuzz_problem = NULL;
    unsigned char *raw = (unsigned char *)fuzz_copy(data, n, 0);
    fuzz_model_once(raw, n);
    free(raw);
    if (fuzz_problem) return 0;
    /* Repaired: a valid header over the payload (the input's own, or the input itself). */
    int has_header = n >= 32 && memcmp(data, "MSMODEL", 8) == 0;
    size_t plen = has_header ? n - 32 : n;
    unsigned char *fixed = malloc(plen + 32);
    if (!fixed) abort();
    memcpy(fixed, "MSMODEL", 8);
    /* the input's own format version when it is one we read (each version's layout gets
     * fuzzed past the checksum), else the current one */
    uint32_t version = MS_MODEL_FORMAT_VERSION;
    if (has_header) {
        uint32_t v;
        memcpy(&v, data + 8, 4);
        if (v >= 1 && v <= MS_MODEL_FORMAT_VERSION) version = v;
    }
    fuzz_put_u32(fixed + 8, version);
    fuzz_put_u32(fixed + 12, 0x01020304u);
    fuzz_put_u64(fixed + 16, plen);
    if (plen) memcpy(fixed + 32, has_header ? data + 32 : data, plen);
    fuzz_put_u64(fixed + 24, ms_hash_bytes(fixed + 32, plen));
    fuzz_model_once(fixed, plen + 32);
    free(fixed);
    return 0;
}

/* ---- checkpoint journal ------------------------------------------------------------------- */

typedef struct {
    size_t records, results;
    double acc;
} fuzz_journal_ctx;

static inline int fuzz_journal_record(uint32_t type, const unsigned char *payload, uint32_t len,
                                      uint64_t pos, void *user)
{
    fuzz_journal_ctx *c = user;
    c->records++;
    FUZZ_EXPECT(type >= MS_JREC_HEADER && type <= MS_JREC_CRASH, "record of type %u", type);
    FUZZ_EXPECT(len <= MS_JOURNAL_MAX_RECORD, "record of %u bytes", len);
    if (len) c->acc += payload[0] + payload[len - 1];
    c->acc += (double)pos;
    return 0;
}

static inline int fuzz_journal_result(const ms_result *r, uint64_t pos, uint32_t len, void *user)
{
    fuzz_journal_ctx *c = user;
    c->results++;
    c->acc += (double)r->task_seq + (double)pos + len;
    return 0;
}

/* Recomputes the check of every whole frame (16-byte header: u32 length, u32 type, u64 FNV-1a
 * of length, type and payload). */
static inline void fuzz_journal_repair(unsigned char *buf, size_t n)
{
    size_t pos = 0;
    while (n - pos >= 16) {
        uint32_t len, type;
        memcpy(&len, buf + pos, 4);
        memcpy(&type, buf + pos + 4, 4);
        if (len > n - pos - 16) break;
        uint64_t h = ms_hash_update(MS_HASH_INIT, &len, 4);
        h = ms_hash_update(h, &type, 4);
        h = ms_hash_update(h, buf + pos + 16, len);
        memcpy(buf + pos + 8, &h, 8);
        pos += 16 + (size_t)len;
    }
}

/* Scan, then resume (replay both passes, truncate a torn tail, append RESUME) with the identity
 * the journal's own header holds, so that a hostile journal gets past the identity check. */
static inline void fuzz_journal_once(const unsigned char *buf, size_t n)
{
    char path[64];
    int fd = fuzz_memfd_path(buf, n, path, sizeof path);
    if (fd < 0) return;
    fuzz_journal_ctx c = {0, 0, 0};
    uint64_t valid_end = 0;
    ms_status st = ms_journal_scan(path, fuzz_journal_record, &c, &valid_end);
    FUZZ_EXPECT(valid_end <= n, "valid end %llu of a %zu-byte journal",
                (unsigned long long)valid_end, n);
    ms_journal_identity *id = calloc(1, sizeof *id);
    if (!id) abort();
    const size_t id_at = 16 + 18 + 4; /* frame, magic "matscreen-journal\0", format version */
    if (st == MS_SUCCESS && n >= id_at + sizeof *id) memcpy(id, buf + id_at, sizeof *id);
    /* A caller's identity comes from enumerating real files: never billions of tasks. A header
     * that claims more is then refused as another run's, as it would be. */
    if (id->n_tasks > (1u << 16)) id->n_tasks = 1u << 16;
    ms_journal *j = NULL;
    st = ms_journal_resume(path, id, fuzz_journal_result, &c, &j);
    if (st == MS_SUCCESS) {
        ms_journal_info info;
        ms_journal_get_info(j, &info);
        FUZZ_EXPECT(info.results <= c.records, "%llu results from %zu records", info.results,
                    c.records);
        c.acc += (double)info.lives + (double)info.tasks_done + (double)info.suspects +
                 (double)info.quarantined + (double)info.torn_bytes;
        for (uint64_t seq = 0; seq < 64; seq++) c.acc += (double)ms_journal_task_state(j, seq);
    } else {
        FUZZ_EXPECT(j == NULL, "failed resume left a journal");
        c.acc += (double)strlen(ms_error_message());
    }
    ms_journal_close(j);
    free(id);
    close(fd);
    fuzz_sink = c.acc;
}

static inline int fuzz_run_journal(const uint8_t *data, size_t n)
{
    fuzz_problem = NULL;
    unsigned char *buf = calloc(1, n + 1); /* the journal is read from a file, not from buf */
    if (!buf) abort();
    if (n) memcpy(buf, data, n);
    fuzz_journal_once(buf, n);
    if (!fuzz_problem) {
        fuzz_journal_repair(buf, n);
        fuzz_journal_once(buf, n);
    }
    free(buf);
    return 0;
}

#endif /* MS_FUZZ_LOADERS_H */
