/* Tests of the farm's message packing, the worker pipeline (one result per record, failures as
 * results, JSONL chunks equal to whole-file reading) and the P1 CIF writer's round trip through
 * our own CIF reader. The MPI flow itself is tested by tests/integration/screen.sh. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matscreen/farm.h"
#include "matscreen/pipeline.h"
#include "matscreen/reader.h"
#include "matscreen/results.h"
#include "matscreen/cif_writer.h"
#include "matscreen/source.h"
#include "suites.h"
#include "test_util.h"

static void fill_result(ms_result *r)
{
    ms_result_clear(r);
    r->task_seq = 918273645ULL;
    r->offset = 123456789012LL;
    r->length = 2385;
    r->index = 7;
    r->input = 3;
    r->status = MS_SUCCESS;
    r->stage = MS_STAGE_DONE;
    r->db = MS_DB_COD;
    r->format = MS_FORMAT_JSONL;
    r->spacegroup = 225;
    r->flags = MS_FLAG_DISORDERED | MS_FLAG_HAS_LI;
    r->n_sites = 148;
    r->content_hash = 0x85944171f73967e8ULL;
    r->dedup_key = 0xaf63dc4c8601ec8cULL;
    r->n_atoms = 73.888;
    r->volume = 985.9661662;
    r->density = 2.288571928;
    r->volume_per_atom = 13.34406353;
    r->li_fraction = 0.6210480728;
    r->score = -0.6210480728;
    r->warnings = 0x140u;
    r->fp_volume = 16.30583;
    r->props[0] = -2.385;
    r->props[2] = 1.2385;
    snprintf(r->formula, sizeof r->formula, "Li45.888P4S20Br3.0Cl1");
    snprintf(r->source_id, sizeof r->source_id, "COD 8103382");
    snprintf(r->block, sizeof r->block, "Li6PS5Cl, \"quoted\"");
    snprintf(r->file, sizeof r->file, "/data/icsd/Li6PS5Cl.cif");
}

static void test_result_pack_roundtrip(void)
{
    ms_result *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    fill_result(a);
    ms_buffer buf = {0};
    CU_ASSERT_EQUAL(ms_result_pack(a, &buf), MS_SUCCESS);
    a->task_seq++;
    CU_ASSERT_EQUAL(ms_result_pack(a, &buf), MS_SUCCESS);
    a->task_seq--;
    size_t pos = 0;
    memset(b, 0x5a, sizeof *b);
    CU_ASSERT_EQUAL_FATAL(ms_result_unpack(buf.data, buf.n, &pos, b), MS_SUCCESS);
    CU_ASSERT_EQUAL(b->task_seq, a->task_seq);
    CU_ASSERT_EQUAL(b->offset, a->offset);
    CU_ASSERT_EQUAL(b->length, a->length);
    CU_ASSERT_EQUAL(b->index, a->index);
    CU_ASSERT_EQUAL(b->input, a->input);
    CU_ASSERT_EQUAL(b->db, a->db);
    CU_ASSERT_EQUAL(b->format, a->format);
    CU_ASSERT_EQUAL(b->spacegroup, 225);
    CU_ASSERT_EQUAL(b->flags, a->flags);
    CU_ASSERT_EQUAL(b->n_sites, 148);
    CU_ASSERT_EQUAL(b->content_hash, a->content_hash);
    CU_ASSERT_EQUAL(b->dedup_key, a->dedup_key);
    CU_ASSERT_EQUAL(b->n_atoms, a->n_atoms); /* bit-exact: doubles travel as bytes */
    CU_ASSERT_EQUAL(b->li_fraction, a->li_fraction);
    CU_ASSERT_EQUAL(b->warnings, 0x140u);
    CU_ASSERT_EQUAL(b->fp_volume, a->fp_volume);
    CU_ASSERT_EQUAL(b->props[0], a->props[0]);
    CU_ASSERT(isnan(b->props[1]));
    CU_ASSERT_EQUAL(b->props[2], a->props[2]);
    CU_ASSERT_EQUAL(b->score, a->score);
    CU_ASSERT(isnan(b->class_prob) && isnan(b->mean) && isnan(b->sigma) && isnan(b->acquisition));
    CU_ASSERT_STRING_EQUAL(b->formula, a->formula);
    CU_ASSERT_STRING_EQUAL(b->source_id, a->source_id);
    CU_ASSERT_STRING_EQUAL(b->block, a->block);
    CU_ASSERT_STRING_EQUAL(b->reason, "");
    CU_ASSERT_STRING_EQUAL(b->file, a->file);
    CU_ASSERT_EQUAL_FATAL(ms_result_unpack(buf.data, buf.n, &pos, b), MS_SUCCESS);
    CU_ASSERT_EQUAL(b->task_seq, a->task_seq + 1);
    CU_ASSERT_EQUAL(pos, buf.n);
    /* every truncation is detected */
    size_t one = buf.n / 2;
    int all_detected = 1;
    for (size_t cut = 0; cut < one; cut++) {
        pos = 0;
        if (ms_result_unpack(buf.data, cut, &pos, b) != MS_ERR_PARSE) all_detected = 0;
    }
    CU_ASSERT(all_detected);
    /* a string length beyond the destination is refused */
    ms_buffer_reset(&buf);
    snprintf(a->file, sizeof a->file, "x");
    CU_ASSERT_EQUAL(ms_result_pack(a, &buf), MS_SUCCESS);
    uint32_t huge = 100000;
    memcpy(buf.data + buf.n - 1 - 4, &huge, 4); /* length field of the file string */
    pos = 0;
    CU_ASSERT_EQUAL(ms_result_unpack(buf.data, buf.n, &pos, b), MS_ERR_PARSE);
    ms_buffer_free(&buf);
    ms_buffer_free(&buf);
    free(a);
    free(b);
}

static void test_task_pack_roundtrip(void)
{
    ms_task *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    a->seq = 2385;
    a->input = 2;
    a->format = MS_FORMAT_JSONL;
    a->offset = 8388608;
    a->length = 4194304;
    a->size = 4194304;
    a->range_skip = 1048576; /* a part of a split range */
    a->status = MS_ERR_NOT_FOUND;
    snprintf(a->reason, sizeof a->reason, "x: no such file");
    snprintf(a->path, sizeof a->path, "/data/mp/mp-2023.jsonl");
    ms_buffer buf = {0};
    CU_ASSERT_EQUAL(ms_task_pack(a, &buf), MS_SUCCESS);
    size_t pos = 0;
    CU_ASSERT_EQUAL_FATAL(ms_task_unpack(buf.data, buf.n, &pos, b), MS_SUCCESS);
    CU_ASSERT_EQUAL(pos, buf.n);
    CU_ASSERT_EQUAL(b->seq, 2385);
    CU_ASSERT_EQUAL(b->input, 2);
    CU_ASSERT_EQUAL(b->format, MS_FORMAT_JSONL);
    CU_ASSERT_EQUAL(b->offset, 8388608);
    CU_ASSERT_EQUAL(b->length, 4194304);
    CU_ASSERT_EQUAL(b->size, 4194304);
    CU_ASSERT_EQUAL(b->range_skip, 1048576);
    CU_ASSERT_EQUAL(b->status, MS_ERR_NOT_FOUND);
    CU_ASSERT_STRING_EQUAL(b->reason, a->reason);
    CU_ASSERT_STRING_EQUAL(b->path, a->path);
    pos = 0;
    CU_ASSERT_EQUAL(ms_task_unpack(buf.data, buf.n - 1, &pos, b), MS_ERR_PARSE);
    int32_t bad_format = 99;
    memcpy(buf.data + 12, &bad_format, 4);
    pos = 0;
    CU_ASSERT_EQUAL(ms_task_unpack(buf.data, buf.n, &pos, b), MS_ERR_PARSE);
    ms_buffer_free(&buf);
    free(a);
    free(b);
}

/* Collected results of a pipeline run. */
typedef struct {
    size_t n, ok;
    long long offsets[64];
    double li[64];
    int stage[64];
    char reason[256];
} seen;

static int keep(const ms_result *r, void *user)
{
    seen *s = user;
    if (s->n < 64) {
        s->offsets[s->n] = r->offset;
        s->li[s->n] = r->li_fraction;
        s->stage[s->n] = r->stage;
    }
    if (r->status == MS_SUCCESS) s->ok++;
    else snprintf(s->reason, sizeof s->reason, "%s", r->reason);
    s->n++;
    return 0;
}

static ms_task *task_for(const char *path, ms_format format)
{
    ms_task *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->format = format;
    t->length = -1;
    snprintf(t->path, sizeof t->path, "%s", path);
    return t;
}

static void test_pipeline_results(void)
{
    ms_pipeline p;
    CU_ASSERT_EQUAL_FATAL(ms_pipeline_init(&p, ms_test_elements(), MS_RANK_LI_FRACTION, 0, 42),
                          MS_SUCCESS);
    ms_result *r = malloc(sizeof *r);
    ms_task *t = task_for(ms_test_data("labeled/obelix-train/cifs/9yt.cif"), MS_FORMAT_CIF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    seen s = {0};
    CU_ASSERT_EQUAL(ms_pipeline_run_task(&p, t, r, keep, &s), 1);
    CU_ASSERT_EQUAL(s.ok, 1);
    CU_ASSERT_STRING_EQUAL(r->formula, "Li45.888P4S20Br3.0Cl1");
    CU_ASSERT_EQUAL(r->n_sites, 148);
    CU_ASSERT(ms_test_close(r->li_fraction, 45.888 / 73.888, 1e-9, 0));
    CU_ASSERT(ms_test_close(r->volume_per_atom, r->volume / 73.888, 1e-12, 0));
    CU_ASSERT_EQUAL(r->score, r->li_fraction);
    CU_ASSERT(r->flags & MS_FLAG_DISORDERED);
    CU_ASSERT(isnan(r->class_prob) && isnan(r->mean) && isnan(r->sigma) && isnan(r->acquisition));
    CU_ASSERT_EQUAL(r->spacegroup, 0);
    /* ascending negates the score */
    p.ascending = 1;
    ms_pipeline_run_task(&p, t, r, keep, &s);
    CU_ASSERT_EQUAL(r->score, -r->li_fraction);
    /* a broken file is one failed result at the read stage; an error task likewise */
    snprintf(t->path, sizeof t->path, "%s", ms_test_local("broken/truncated.cif"));
    memset(&s, 0, sizeof s);
    CU_ASSERT_EQUAL(ms_pipeline_run_task(&p, t, r, keep, &s), 1);
    CU_ASSERT_EQUAL(s.ok, 0);
    CU_ASSERT_EQUAL(s.stage[0], MS_STAGE_READ);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.reason, "truncated.cif"));
    t->status = MS_ERR_NOT_FOUND;
    snprintf(t->reason, sizeof t->reason, "gone.cif: no such file or directory");
    memset(&s, 0, sizeof s);
    CU_ASSERT_EQUAL(ms_pipeline_run_task(&p, t, r, keep, &s), 1);
    CU_ASSERT_EQUAL(r->status, MS_ERR_NOT_FOUND);
    CU_ASSERT_STRING_EQUAL(r->reason, "gone.cif: no such file or directory");
    CU_ASSERT(ms_rank_by_from_name("density") == MS_RANK_DENSITY);
    CU_ASSERT(ms_rank_by_from_name("bogus") == -1);
    CU_ASSERT_STRING_EQUAL(ms_stage_name(MS_STAGE_VALIDATE), "validate");
    CU_ASSERT_STRING_EQUAL(ms_stage_name(MS_STAGE_QUARANTINE), "quarantine");
    CU_ASSERT_STRING_EQUAL(ms_stage_name(MS_STAGE_DONE), "done");
    /* the single result of a quarantined task: a JSONL range keeps its offset */
    t->seq = 2385;
    t->offset = 8388608;
    t->length = 4096;
    t->status = MS_SUCCESS;
    ms_result_task_failure(r, t, MS_STAGE_QUARANTINE, MS_ERR_INTERNAL, "in flight twice");
    CU_ASSERT_EQUAL(r->task_seq, 2385);
    CU_ASSERT_EQUAL(r->stage, MS_STAGE_QUARANTINE);
    CU_ASSERT_EQUAL(r->status, MS_ERR_INTERNAL);
    CU_ASSERT_EQUAL(r->offset, 8388608);
    CU_ASSERT_EQUAL(r->index, 0);
    CU_ASSERT_STRING_EQUAL(r->reason, "in flight twice");
    CU_ASSERT_STRING_EQUAL(r->file, t->path);
    free(t);
    free(r);
    ms_pipeline_destroy(&p);
}

/* A stage that always fails: the record becomes an error with that stage and reason. */
static ms_status failing_stage(const ms_pipeline *p, const ms_stage_entry *self,
                               const ms_structure *s, ms_result *r)
{
    (void)p;
    (void)s;
    (void)r;
    return ms_error_set(MS_ERR_SYMMETRY, "stage %s refused", self->name);
}

static void test_pipeline_stage_failure(void)
{
    ms_pipeline p;
    CU_ASSERT_EQUAL_FATAL(ms_pipeline_init(&p, ms_test_elements(), MS_RANK_DENSITY, 0, 1), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_pipeline_add_stage(&p, MS_STAGE_SYMMETRY, "symmetry", failing_stage, NULL),
                    MS_SUCCESS);
    ms_result *r = malloc(sizeof *r);
    ms_task *t = task_for(ms_test_local("poscar/Li2O.POSCAR"), MS_FORMAT_POSCAR);
    seen s = {0};
    CU_ASSERT_EQUAL(ms_pipeline_run_task(&p, t, r, keep, &s), 1);
    CU_ASSERT_EQUAL(r->stage, MS_STAGE_SYMMETRY);
    CU_ASSERT_EQUAL(r->status, MS_ERR_SYMMETRY);
    CU_ASSERT_STRING_EQUAL(r->reason, "stage symmetry refused");
    CU_ASSERT(isnan(r->score));
    CU_ASSERT(isfinite(r->density)); /* what earlier stages computed stays */
    for (int i = 0; i < MS_STAGE_COUNT; i++) ms_pipeline_add_stage(&p, MS_STAGE_MODELS, "m", failing_stage, NULL);
    CU_ASSERT_EQUAL(ms_pipeline_add_stage(&p, MS_STAGE_MODELS, "m", failing_stage, NULL), MS_ERR_LIMIT);
    free(t);
    free(r);
    ms_pipeline_destroy(&p);
}

/* Chunked reading gives the same records (offsets, values) as reading the whole file. */
static void test_jsonl_chunks_match_whole(void)
{
    const char *path = ms_test_local("json/mp_records.jsonl");
    ms_pipeline p;
    CU_ASSERT_EQUAL_FATAL(ms_pipeline_init(&p, ms_test_elements(), MS_RANK_LI_FRACTION, 0, 0),
                          MS_SUCCESS);
    ms_result *r = malloc(sizeof *r);
    ms_task *t = task_for(path, MS_FORMAT_JSONL);
    seen whole = {0}, chunked = {0};
    ms_pipeline_run_task(&p, t, r, keep, &whole);
    CU_ASSERT(whole.n >= 2);
    ms_source_options opt;
    ms_source_options_default(&opt);
    opt.chunk_bytes = 1021;
    ms_source *src = NULL;
    const char *specs[] = {path};
    CU_ASSERT_EQUAL_FATAL(ms_source_create(specs, 1, &opt, &src), MS_SUCCESS);
    size_t tasks = 0;
    while (ms_source_next(src, t)) {
        ms_pipeline_run_task(&p, t, r, keep, &chunked);
        tasks++;
    }
    ms_source_free(src);
    CU_ASSERT(tasks > whole.n); /* more chunks than records: empty chunks must yield nothing */
    CU_ASSERT_EQUAL_FATAL(chunked.n, whole.n);
    for (size_t i = 0; i < whole.n && i < 64; i++) {
        CU_ASSERT_EQUAL(chunked.offsets[i], whole.offsets[i]);
        CU_ASSERT(chunked.li[i] == whole.li[i] || (isnan(chunked.li[i]) && isnan(whole.li[i])));
    }
    free(t);
    free(r);
    ms_pipeline_destroy(&p);
}

typedef struct {
    ms_structure s;
    int n;
} copy_ctx;

static int copy_first(const ms_structure *s, ms_status status, const char *message, void *user)
{
    (void)message;
    copy_ctx *c = user;
    if (status != MS_SUCCESS || c->n++ > 0) return 0;
    ms_structure_reset(&c->s);
    c->s.prov = s->prov;
    memcpy(c->s.lattice, s->lattice, sizeof s->lattice);
    for (size_t i = 0; i < s->n_sites; i++) {
        ms_structure_add_site(&c->s, s->frac[i], s->label[i]);
        for (size_t k = s->site_species[i]; k < s->site_species[i + 1]; k++)
            ms_structure_add_species(&c->s, s->species[k].z, s->species[k].occu, 0, 0);
    }
    ms_structure_finish(&c->s);
    return 0;
}

/* The top-K CIF of a disordered structure reads back with the same cell, sites and occupancies. */
static void test_cif_p1_roundtrip(void)
{
    copy_ctx a = {0}, b = {0};
    ms_structure_init(&a.s);
    ms_structure_init(&b.s);
    CU_ASSERT_EQUAL_FATAL(ms_read_file(ms_test_data("labeled/obelix-train/cifs/9yt.cif"),
                                       MS_FORMAT_CIF, NULL, copy_first, &a), MS_SUCCESS);
    char path[] = "/tmp/ms_test_p1_XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_EQUAL_FATAL(ms_cif_write_p1(&a.s, "roundtrip_9yt", "test", ms_test_elements(), path),
                          MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(ms_read_file(path, MS_FORMAT_CIF, NULL, copy_first, &b), MS_SUCCESS);
    CU_ASSERT_EQUAL(b.n, 1);
    CU_ASSERT_EQUAL_FATAL(b.s.n_sites, a.s.n_sites);
    CU_ASSERT_EQUAL(b.s.n_species, a.s.n_species);
    CU_ASSERT(ms_test_close(ms_structure_volume(&b.s), ms_structure_volume(&a.s), 1e-8, 0));
    int same = 1;
    for (size_t i = 0; i < a.s.n_sites; i++) {
        for (int d = 0; d < 3; d++) same &= ms_test_close(a.s.frac[i][d], b.s.frac[i][d], 0, 1e-9);
        for (size_t k = a.s.site_species[i]; k < a.s.site_species[i + 1]; k++) {
            same &= a.s.species[k].z == b.s.species[k].z;
            same &= ms_test_close(a.s.species[k].occu, b.s.species[k].occu, 1e-9, 0);
        }
    }
    CU_ASSERT(same);
    CU_ASSERT_STRING_EQUAL(b.s.prov.block, "roundtrip_9yt");
    CU_ASSERT_EQUAL(ms_cif_write_p1(&a.s, "x", NULL, ms_test_elements(), "/nonexistent/dir/x.cif"),
                    MS_ERR_IO);
    unlink(path);
    ms_structure_destroy(&a.s);
    ms_structure_destroy(&b.s);
}

int ms_suite_farm(void); /* declared in suites.h once registered */
int ms_suite_farm(void)
{
    CU_pSuite s = CU_add_suite("farm", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "result records pack and unpack bit-exactly", test_result_pack_roundtrip);
    CU_add_test(s, "tasks pack and unpack", test_task_pack_roundtrip);
    CU_add_test(s, "pipeline: one result per record, failures as results", test_pipeline_results);
    CU_add_test(s, "pipeline: a failing stage stops the record", test_pipeline_stage_failure);
    CU_add_test(s, "JSONL chunks give the records of the whole file", test_jsonl_chunks_match_whole);
    CU_add_test(s, "P1 CIF of a disordered structure round-trips", test_cif_p1_roundtrip);
    return CU_get_error();
}
