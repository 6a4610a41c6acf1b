/*
 * The screen as a library call (screen.h): worker stages validate -> symmetry -> fingerprint ->
 * features -> models -> score registered on the pipeline, and rank 0's orchestration (journal,
 * farm, result cache, keep filter, outputs).
 */
#include "matscreen/screen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "matscreen/acquisition.h"
#include "matscreen/array.h"
#include "matscreen/bcast.h"
#include "matscreen/comm.h"
#include "matscreen/dedup.h"
#include "matscreen/descriptor.h"
#include "matscreen/domain.h"
#include "matscreen/element.h"
#include "matscreen/farm.h"
#include "matscreen/featurize.h"
#include "matscreen/fingerprint.h"
#include "matscreen/hash.h"
#include "matscreen/journal.h"
#include "matscreen/memo.h"
#include "matscreen/model.h"
#include "matscreen/outfile.h"
#include "matscreen/results.h"
#include "matscreen/symmetry.h"
#include "matscreen/task_spill.h"
#include "matscreen/treeshap.h"

/* --explain explains this many records in one call (the pipeline holds them, up to the end of
 * their task): TreeSHAP's batch, whose one traversal of a tree serves every row of it. */
#define EXPLAIN_BATCH MS_TREESHAP_BATCH

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* How the score is made. */
typedef enum score_mode {
    SCORE_PLAIN = 0, /* a pipeline.h quantity */
    SCORE_ACQ,       /* acquisition.h on mean / sigma, gated by the classifier when present */
    SCORE_GATED,     /* EI times the classifier probability */
    SCORE_PROB       /* the classifier probability */
} score_mode;

/* What an exact duplicate reuses (docs/engine.md "Exact duplicates"): the symmetry stage's
 * outcome and the fingerprint; the memo's value is this, then the feature row and its NaN
 * reasons. Fixed-width fields, no padding: the value is these bytes. */
typedef struct memo_head {
    int32_t sym_ok;     /* a space group was found */
    int32_t spacegroup;
    int32_t sym_warn;   /* no space group, or found at a fallback tolerance */
    int32_t fp_ok;      /* ms_fingerprint_compute succeeded */
    uint64_t dedup_key;
    double fp_volume;
} memo_head;

/* Everything one rank needs to run the stages; reused for every structure. */
typedef struct screen_worker {
    const ms_element_table *elements;
    ms_validate_options vopt;
    ms_validate_workspace vws;
    ms_validation val;
    ms_symmetry_options sopt;
    ms_symmetry_workspace sws;
    ms_symmetry sym;
    int sym_ok;
    const ms_descriptor_set *set;  /* NULL: no features */
    ms_structure_featurizer *sfz;  /* the one featurizer path (featurize.h) */
    size_t n_features;
    double *row;
    unsigned char *reason;
    ms_model *clf, *reg;
    uint64_t model_hash[MS_SCREEN_MAX_MODELS];
    const char *model_role[MS_SCREEN_MAX_MODELS];
    double *kbuf; /* prepared row of the larger model */
    size_t explain_k; /* --explain K (0: off) */
    const ms_model *em;  /* the explained model: the surrogate, else the classifier */
    double *phi;      /* contributions of EXPLAIN_BATCH rows of em's raw features, then flags */
    double *base;     /* their expected values */
    double *ework;    /* ms_model_explain_ws workspace for EXPLAIN_BATCH rows */
    void *escratch;   /* em's explain scratch (the forest's TreeSHAP workspace), made once */
    double *erows;    /* the raw rows waiting to be explained (EXPLAIN_BATCH x em->n_raw), in
                         the order of their results in the pipeline's hold (explain_queued) */
    size_t n_erows;
    ms_result *held;  /* the pipeline's hold: EXPLAIN_BATCH results */
    score_mode mode;
    ms_acq_params acq;
    int gate;
    double best;
    const char *best_source; /* where best came from (summary, manifest); NULL: not used */
    int ascending;           /* resolved direction: cfg->ascending, else the surrogate's goal */
    const char *direction_source; /* "--ascending", "--descending", the model's goal; static */
    ms_record_filter filter; /* cfg->filter + the models' requirements (screen.h) */
    const ms_model *dom;     /* the model whose domain is scored (NULL: none) */
    double dscore;           /* the record's domain score under dom, from its prediction */
    ms_screen_domain domain_mode;
    char filter_text[512];   /* its description, with where a requirement came from */
    ms_rank_by plain;
    char rank_by[32];
    ms_memo *memo;             /* exact duplicates; NULL: off */
    unsigned char *mkey;       /* the record's exact key (ms_dedup_exact_key), reused */
    size_t mkey_cap, mkey_len; /* mkey_len 0: no key for this record, nothing stored */
    uint64_t mkey_hash;
    const unsigned char *hit;  /* the memo's value for this record; NULL: computed here */
    memo_head head;            /* this record's symmetry and fingerprint */
    unsigned char *mval;       /* the value being stored: head, row, reasons */
    size_t mval_len;
} screen_worker;

/* ---- stages ------------------------------------------------------------------------------ */

static ms_status stage_validate(const ms_pipeline *p, const ms_stage_entry *self,
                                const ms_structure *s, ms_result *r)
{
    screen_worker *w = self->ctx;
    MS_CALL(ms_validate_structure(&w->vws, s, &w->vopt, &w->val));
    for (size_t i = 0; i < w->val.n; i++) {
        const ms_finding *f = &w->val.findings[i];
        if (f->severity == MS_SEVERITY_ERROR)
            return ms_error_set(MS_ERR_INVALID, "%s: %s", ms_check_get(f->check)->name, f->message);
        if (f->severity == MS_SEVERITY_WARNING) r->warnings |= 1u << f->check;
    }
    return ms_result_describe(p, s, r);
}

/* An exact duplicate screened before on this rank: its memo value, or NULL. The key is built
 * even on a miss, for memo_store. A key that cannot be built only costs the reuse. */
static const unsigned char *memo_find(screen_worker *w, const ms_structure *s)
{
    w->mkey_len = 0;
    if (!w->memo) return NULL;
    if (ms_dedup_exact_key(s, &w->mkey, &w->mkey_cap, &w->mkey_len, &w->mkey_hash) != MS_SUCCESS) {
        ms_error_clear();
        w->mkey_len = 0;
        return NULL;
    }
    size_t n = 0;
    const unsigned char *v = ms_memo_get(w->memo, w->mkey_hash, w->mkey, w->mkey_len, &n);
    return v && n == w->mval_len ? v : NULL;
}

/* After the record's last memoised stage succeeded: its head and row go into the memo. */
static void memo_store(screen_worker *w)
{
    if (!w->memo || w->hit || w->mkey_len == 0) return;
    memcpy(w->mval, &w->head, sizeof w->head);
    if (w->n_features) {
        memcpy(w->mval + sizeof w->head, w->row, w->n_features * sizeof *w->row);
        memcpy(w->mval + sizeof w->head + w->n_features * sizeof *w->row, w->reason,
               w->n_features);
    }
    ms_memo_put(w->memo, w->mkey_hash, w->mkey, w->mkey_len, w->mval, w->mval_len);
}

static ms_status stage_symmetry(const ms_pipeline *p, const ms_stage_entry *self,
                                const ms_structure *s, ms_result *r)
{
    (void)p;
    screen_worker *w = self->ctx;
    w->hit = memo_find(w, s);
    if (w->hit) {
        memcpy(&w->head, w->hit, sizeof w->head);
        w->sym_ok = 0; /* w->sym is not this record's: the later stages take w->hit */
        r->flags |= MS_FLAG_REUSED;
    } else {
        w->sym_ok = ms_symmetry_analyze(&w->sws, s, &w->sopt, &w->sym) == MS_SUCCESS;
        memset(&w->head, 0, sizeof w->head);
        w->head.sym_ok = w->sym_ok;
        w->head.spacegroup = w->sym_ok ? w->sym.number : 0;
        w->head.sym_warn = !w->sym_ok || w->sym.ladder_index > 0;
    }
    if (w->head.sym_ok) r->spacegroup = w->head.spacegroup;
    if (w->head.sym_warn && w->vopt.severity[MS_CHECK_SYMMETRY] != MS_SEVERITY_NONE)
        r->warnings |= 1u << MS_CHECK_SYMMETRY;
    return MS_SUCCESS;
}

static ms_status stage_fingerprint(const ms_pipeline *p, const ms_stage_entry *self,
                                   const ms_structure *s, ms_result *r)
{
    screen_worker *w = self->ctx;
    ms_fingerprint fp;
    if (!w->hit) {
        w->head.fp_ok =
            w->sym_ok && ms_fingerprint_compute(s, &w->sym, p->elements, &fp) == MS_SUCCESS;
        w->head.dedup_key = w->head.fp_ok ? fp.key : 0;
        w->head.fp_volume = w->head.fp_ok ? fp.volume_per_site : 0;
        if (!w->sfz) memo_store(w); /* no features: the fingerprint is the last memoised stage */
    }
    if (w->head.fp_ok) {
        r->dedup_key = w->head.dedup_key;
        r->fp_volume = w->head.fp_volume;
        return MS_SUCCESS;
    }
    /* No space group: a candidate of its own (its stable key makes the key unique). */
    uint64_t h = ms_hash_update(MS_HASH_INIT, &r->task_seq, sizeof r->task_seq);
    h = ms_hash_update(h, &r->index, sizeof r->index);
    r->dedup_key = ms_hash_update(h, &r->offset, sizeof r->offset);
    r->fp_volume = NAN;
    return MS_SUCCESS;
}

/* The one road from a structure to a feature row (featurize.h), reusing the symmetry stage's
 * analysis (a second one only for structures with oxidation states). */
static ms_status stage_features(const ms_pipeline *p, const ms_stage_entry *self,
                                const ms_structure *s, ms_result *r)
{
    (void)p;
    (void)r;
    screen_worker *w = self->ctx;
    if (w->hit) {
        memcpy(w->row, w->hit + sizeof w->head, w->n_features * sizeof *w->row);
        memcpy(w->reason, w->hit + sizeof w->head + w->n_features * sizeof *w->row, w->n_features);
        return MS_SUCCESS;
    }
    ms_status st = ms_structure_featurizer_compute_with(w->sfz, s, w->sym_ok ? &w->sym : NULL,
                                                        w->row, w->reason);
    if (st == MS_SUCCESS) memo_store(w); /* a failed row is computed again: rare, and exact */
    return st;
}

/* The one road from a row to a prediction (ms_model_predict_ws, no allocation). sigma may be
 * NULL: a classifier's sigma is not reported, and skipping it saves the learner its uncertainty
 * work (the forest's jackknife). When m is the model whose domain is judged (w->dom), its domain
 * score comes with the prediction into w->dscore (computed once: the distance term of a GP's
 * sigma uses the same one). */
static ms_status predict_one(screen_worker *w, const ms_model *m, double *mean, double *sigma)
{
    ms_matrix x = {1, w->n_features, w->row, 0};
    *mean = NAN;
    if (sigma) *sigma = NAN;
    return ms_model_predict_ws(m, &x, w->kbuf, mean, sigma, m == w->dom ? &w->dscore : NULL);
}

/* The record's domain of applicability under w->dom, whose score predict_one put in w->dscore
 * (screen.h). Elements come from the structure's composition, the one the featurizer computes
 * (computed here: a reused row leaves the featurizer on an earlier structure). */
static void domain_check(screen_worker *w, const ms_structure *s, ms_result *r)
{
    ms_composition c;
    ms_structure_composition(s, &c);
    r->domain_score = w->dscore;
    r->in_domain = ms_model_domain_verdict(w->dom, &c, w->dscore, r->domain_reason,
                                           sizeof r->domain_reason);
}

/* --explain: the K largest |contributions| phi of m on the raw row x, as
 * "name\tvalue\tcontribution\n" lines into r->explain (value: the raw feature, before
 * imputation and scaling). Only features that reach the learner are listed. used: n_raw bytes. */
static void write_explain(const screen_worker *w, const ms_model *m, const double *x,
                          const double *phi, unsigned char *used, ms_result *r)
{
    size_t at = 0;
    r->explain[0] = '\0';
    for (size_t j = 0; j < m->n_raw; j++) used[j] = !ms_model_uses_feature(m, j);
    for (size_t q = 0; q < w->explain_k && q < m->n_kept; q++) {
        size_t best = m->n_raw;
        for (size_t j = 0; j < m->n_raw; j++) /* ties: the earlier feature, so output is stable */
            if (!used[j] && (best == m->n_raw || fabs(phi[j]) > fabs(phi[best]))) best = j;
        used[best] = 1;
        int len = snprintf(r->explain + at, sizeof r->explain - at, "%s\t%.6g\t%.6g\n",
                           m->feature_names[best], x[best], phi[best]);
        if (len < 0 || (size_t)len >= sizeof r->explain - at) {
            r->explain[at] = '\0'; /* whole lines only */
            break;
        }
        at += (size_t)len;
    }
}

/* Whether the models stage queued r's raw row in w->erows: r got past that stage (queueing is
 * its last step, and only the score stage comes after it). The held results that pass are those
 * of w->erows, in the same order. */
static int explain_queued(const ms_result *r)
{
    return r->stage > MS_STAGE_MODELS;
}

/* Rows i0..i0+n of the queue in one ms_model_explain_ws call: their contributions in w->phi. */
static ms_status explain_rows(screen_worker *w, size_t i0, size_t n)
{
    ms_matrix x = {n, w->em->n_raw, w->erows + i0 * w->em->n_raw, 0};
    return ms_model_explain_ws(w->em, &x, w->ework, w->escratch, w->phi, w->base);
}

/* A record whose explanation failed fails as it did when explained in the models stage: that
 * stage, its reason, no score. */
static void explain_failed(ms_result *r, ms_status st)
{
    r->status = st;
    r->stage = MS_STAGE_MODELS;
    snprintf(r->reason, sizeof r->reason, "%s",
             ms_error_message()[0] ? ms_error_message() : ms_strerror(st));
    r->score = r->acquisition = NAN; /* as cleared: the score stage did not run */
    r->rank_tier = 0;
}

/* The pipeline's hold is full or its task ends (ms_pipeline.hold_fn): explains the held records
 * that passed the models stage, all in one call. The batched contributions are those of one row
 * per call to the bit (TreeSHAP's batch kernel and its row variant sum in the same order;
 * XGBoost explains each row alone; test_treeshap.c checks both), so the outputs are those of
 * one call per record. Should the call fail, each record is explained alone, and a record that
 * fails then fails as it did when explained in the models stage, its neighbours keep theirs. */
static void explain_held(ms_result *held, size_t n, void *ctx)
{
    screen_worker *w = ctx;
    const ms_model *m = w->em;
    unsigned char *used = (unsigned char *)(w->phi + EXPLAIN_BATCH * m->n_raw);
    int batched = w->n_erows && explain_rows(w, 0, w->n_erows) == MS_SUCCESS;
    for (size_t k = 0, i = 0; k < n && i < w->n_erows; k++) {
        if (!explain_queued(&held[k])) continue;
        const double *phi = w->phi + i * m->n_raw;
        if (!batched) {
            ms_error_clear();
            ms_status st = explain_rows(w, i, 1);
            phi = w->phi;
            if (st != MS_SUCCESS) {
                explain_failed(&held[k], st);
                i++;
                continue;
            }
        }
        write_explain(w, m, w->erows + i * m->n_raw, phi, used, &held[k]);
        i++;
    }
    w->n_erows = 0;
}

static ms_status stage_models(const ms_pipeline *p, const ms_stage_entry *self,
                              const ms_structure *s, ms_result *r)
{
    (void)p;
    screen_worker *w = self->ctx;
    if (w->clf) {
        MS_CALL(predict_one(w, w->clf, &r->class_prob, NULL));
        MS_CHECK(isfinite(r->class_prob), MS_ERR_INVALID, "classifier probability is not finite");
        if (w->dom == w->clf) domain_check(w, s, r);
    }
    if (w->reg) {
        MS_CALL(predict_one(w, w->reg, &r->mean, &r->sigma));
        MS_CHECK(isfinite(r->mean), MS_ERR_INVALID, "surrogate mean is not finite");
        if (w->dom == w->reg) domain_check(w, s, r);
    }
    if (w->explain_k) { /* explained with its neighbours when the pipeline releases them */
        MS_CHECK(w->n_erows < EXPLAIN_BATCH, MS_ERR_LIMIT,
                 "screen: more records to explain than the pipeline holds");
        memcpy(w->erows + w->n_erows++ * w->em->n_raw, w->row, w->em->n_raw * sizeof *w->row);
    }
    return MS_SUCCESS;
}

static ms_status stage_score(const ms_pipeline *p, const ms_stage_entry *self,
                             const ms_structure *s, ms_result *r)
{
    (void)s;
    screen_worker *w = self->ctx;
    double a = NAN;
    switch (w->mode) {
    case SCORE_PLAIN: {
        double q = ms_result_quantity(r, p->rank_by);
        MS_CHECK(isfinite(q), MS_ERR_INVALID, "%s is not a finite number", w->rank_by);
        r->score = p->ascending ? -q : q;
        if (r->score == 0) r->score = 0.0; /* no "-0" in the output */
        return MS_SUCCESS;
    }
    case SCORE_PROB: a = r->class_prob; break;
    case SCORE_GATED: {
        ms_acq_params ei = w->acq;
        ei.kind = MS_ACQ_EI;
        a = ms_acq_value(&ei, r->mean, r->sigma, w->best) * r->class_prob;
        break;
    }
    case SCORE_ACQ:
        a = ms_acq_value(&w->acq, r->mean, r->sigma, w->best);
        if (w->gate) a *= r->class_prob;
        break;
    }
    MS_CHECK(isfinite(a), MS_ERR_INVALID, "acquisition %s is not a finite number (mean %g, sigma %g)",
             w->rank_by, r->mean, r->sigma);
    if (a == 0) a = 0.0;
    r->acquisition = a;
    r->score = a;
    if (w->dom && w->domain_mode == MS_SCREEN_DOMAIN_RANK) r->rank_tier = r->in_domain == 0;
    if (w->dom && w->domain_mode == MS_SCREEN_DOMAIN_GATE) {
        double wt = ms_acq_domain_gate(r->in_domain == 0 && ms_domain_reason_is_elements(r->domain_reason),
                                       r->domain_score,
                                       w->dom->domain ? w->dom->domain->threshold : NAN);
        r->score = a * wt;
        if (r->score == 0) r->score = 0.0;
    }
    return MS_SUCCESS;
}

/* ---- setup ------------------------------------------------------------------------------- */

static void worker_destroy(screen_worker *w)
{
    ms_validate_workspace_destroy(&w->vws);
    ms_symmetry_workspace_destroy(&w->sws);
    ms_symmetry_destroy(&w->sym);
    ms_structure_featurizer_destroy(&w->sfz);
    free(w->row);
    free(w->reason);
    free(w->kbuf);
    free(w->ework);
    if (w->em) ms_model_explain_scratch_free(w->em, w->escratch);
    free(w->phi);
    free(w->base);
    free(w->erows);
    free(w->held);
    ms_model_free(w->clf);
    ms_model_free(w->reg);
    ms_memo_free(w->memo);
    free(w->mkey);
    free(w->mval);
    memset(w, 0, sizeof *w);
}

/* The record filter: cfg->filter and the models' required elements (screen.h). */
static void setup_filter(screen_worker *w, const ms_screen_config *cfg)
{
    if (cfg->filter) w->filter = *cfg->filter;
    else ms_record_filter_init(&w->filter);
    int from_model = 0;
    const ms_model *ms[2] = {w->clf, w->reg};
    for (int i = 0; i < 2 && !cfg->ignore_model_requirements; i++)
        for (int z = 1; ms[i] && ms[i]->has_elements && z <= MS_MAX_Z; z++)
            if (ms[i]->elem_required[z] && !w->filter.require[z]) w->filter.require[z] = 1, from_model = 1;
    ms_record_filter_describe(&w->filter, w->filter_text, sizeof w->filter_text);
    if (from_model) {
        size_t k = strlen(w->filter_text);
        snprintf(w->filter_text + k, sizeof w->filter_text - k,
                 " (required elements include the model's own; --ignore-model-requirements "
                 "screens without them)");
    }
}

/* Which model's domain is scored, and whether --domain gate may multiply the score (screen.h). */
static ms_status setup_domain(screen_worker *w, const ms_screen_config *cfg)
{
    w->domain_mode = cfg->domain;
    const ms_model *m = w->reg ? w->reg : w->clf;
    if (w->mode == SCORE_PLAIN || !m || (!m->domain && !m->has_elements)) return MS_SUCCESS;
    w->dom = m;
    MS_CHECK(cfg->domain != MS_SCREEN_DOMAIN_GATE || w->mode != SCORE_ACQ ||
                 (w->acq.kind != MS_ACQ_MEAN && w->acq.kind != MS_ACQ_UCB),
             MS_ERR_USAGE, "--domain gate multiplies the score by a weight in [0, 1], which would "
             "raise a negative %s; use --domain rank with it", w->rank_by);
    return MS_SUCCESS;
}

/* The exact-duplicate memo of this rank (cfg->reuse_bytes; off for --dry-run, which reads
 * nothing). Its value: the head, the row, the row's NaN reasons. */
static ms_status setup_memo(screen_worker *w, const ms_screen_config *cfg)
{
    if (!cfg->reuse_bytes || cfg->dry_run) return MS_SUCCESS;
    MS_CALL(ms_memo_create(cfg->reuse_bytes, &w->memo));
    w->mval_len = sizeof w->head + w->n_features * (sizeof *w->row + 1);
    w->mval = malloc(w->mval_len);
    MS_CHECK(w->mval, MS_ERR_NOMEM, "screen: the exact-duplicate memo");
    return MS_SUCCESS;
}

/* Loads the models, the descriptor set and the score mode. Collective on comm: the models are read by rank 0 and broadcast, before anything that could
 * fail on one rank only, so that every rank reaches every broadcast. */
/* The ranking direction: --ascending / --descending when given, else the goal the surrogate
 * stores (train --goal min: smaller first), else larger first (screen.h). */
static void resolve_direction(screen_worker *w, const ms_screen_config *cfg)
{
    if (cfg->ascending >= 0) {
        w->ascending = cfg->ascending != 0;
        w->direction_source = w->ascending ? "--ascending" : "--descending";
    } else if (w->reg && w->reg->goal == MS_GOAL_MIN) {
        w->ascending = 1;
        w->direction_source = "the model's goal (train --goal min)";
    } else {
        w->ascending = 0;
        w->direction_source = w->reg && w->reg->goal == MS_GOAL_MAX
                                  ? "the model's goal (train --goal max)"
                                  : "the default (larger first)";
    }
}

static ms_status worker_setup(MPI_Comm comm, screen_worker *w, const ms_screen_config *cfg,
                              const ms_element_table *elements)
{
    memset(w, 0, sizeof *w);
    w->elements = elements;
    w->best = NAN;
    ms_symmetry_workspace_init(&w->sws);
    ms_symmetry_init(&w->sym);
    MS_CHECK(cfg->n_models <= MS_SCREEN_MAX_MODELS, MS_ERR_USAGE, "at most %d models",
             MS_SCREEN_MAX_MODELS);
    ms_model *loaded[MS_SCREEN_MAX_MODELS] = {NULL};
    for (size_t i = 0; i < cfg->n_models; i++) {
        ms_status st = ms_model_load_bcast(comm, cfg->model_paths[i], &loaded[i], &w->model_hash[i]);
        if (st != MS_SUCCESS) {
            for (size_t k = 0; k < i; k++) ms_model_free(loaded[k]);
            return st;
        }
    }
    for (size_t i = 0; i < cfg->n_models; i++) {
        ms_model *m = loaded[i];
        loaded[i] = NULL;
        ms_model **slot = m->task == MS_MODEL_CLASSIFICATION ? &w->clf : &w->reg;
        w->model_role[i] = m->task == MS_MODEL_CLASSIFICATION ? "classifier" : "surrogate";
        if (*slot) {
            ms_model_free(m);
            for (size_t k = i + 1; k < cfg->n_models; k++) ms_model_free(loaded[k]);
            return ms_error_set(MS_ERR_USAGE, "%s: a second %s; give one classifier and one "
                                "regression surrogate", cfg->model_paths[i], w->model_role[i]);
        }
        *slot = m;
    }
    resolve_direction(w, cfg);
    setup_filter(w, cfg);
    MS_CALL(ms_validate_workspace_init(&w->vws));
    w->vopt = cfg->validate;
    w->vopt.elements = elements;
    ms_symmetry_options_default(&w->sopt);
    w->sopt.cells = 1;
    w->sopt.use_oxidation = 0;
    w->sopt.elements = elements;

    const char *set = cfg->descriptor_set;
    const ms_model *ms[2] = {w->clf, w->reg};
    for (int i = 0; i < 2; i++) {
        if (!ms[i]) continue;
        MS_CHECK(ms[i]->descriptor_set && ms[i]->descriptor_set[0], MS_ERR_USAGE,
                 "a model was trained on features from outside matscreen (no descriptor set); "
                 "the screen cannot compute them");
        if (!set) set = ms[i]->descriptor_set;
        MS_CHECK(strcmp(set, ms[i]->descriptor_set) == 0, MS_ERR_USAGE,
                 "the models use descriptor sets %s and %s; they must agree", set,
                 ms[i]->descriptor_set);
    }
    if (set && strcmp(set, "none") != 0) {
        MS_CALL(ms_descriptor_set_lookup(set, &w->set));
        /* default symmetry options: use_oxidation 1, pymatgen's convention for descriptors */
        MS_CALL(ms_structure_featurizer_create(w->set, elements, NULL, &w->sfz));
        w->n_features = ms_structure_featurizer_n_features(w->sfz);
        w->row = calloc(w->n_features ? w->n_features : 1, sizeof *w->row);
        w->reason = calloc(w->n_features ? w->n_features : 1, 1);
        size_t nk = 1;
        for (int i = 0; i < 2; i++)
            if (ms[i] && ms_model_workspace_size(ms[i], 1) > nk) nk = ms_model_workspace_size(ms[i], 1);
        w->kbuf = calloc(nk, sizeof *w->kbuf);
        MS_CHECK(w->row && w->reason && w->kbuf, MS_ERR_NOMEM, "screen: feature buffers");
    }
    if (cfg->explain_k) {
        const ms_model *em = w->reg ? w->reg : w->clf;
        MS_CHECK(em && em->type->explain, MS_ERR_USAGE,
                 "--explain needs a model (-m) whose kind can explain its predictions (forest, "
                 "gbm)%s%s", em ? "; this one is " : "", em ? em->type->name : "");
        w->explain_k = cfg->explain_k;
        w->em = em;
        /* EXPLAIN_BATCH rows: phi of every raw feature, then the used flags; the model's own
         * workspace; the rows waiting; the pipeline's hold */
        size_t b = EXPLAIN_BATCH;
        w->phi = malloc(b * em->n_raw * sizeof *w->phi + em->n_raw + 1);
        w->base = malloc(b * sizeof *w->base);
        w->ework = malloc((ms_model_explain_workspace_size(em, b) + 1) * sizeof *w->ework);
        w->erows = malloc(b * em->n_raw * sizeof *w->erows + 1);
        w->held = malloc(b * sizeof *w->held);
        MS_CHECK(w->phi && w->base && w->ework && w->erows && w->held, MS_ERR_NOMEM,
                 "screen: explanation buffers");
        MS_CALL(ms_model_explain_scratch_new(em, &w->escratch));
    }

    /* The score. */
    const char *rb = cfg->rank_by;
    if (!rb) rb = w->reg ? "ei" : w->clf ? "prob" : "li_fraction";
    snprintf(w->rank_by, sizeof w->rank_by, "%s", rb);
    ms_acq_params_default(&w->acq);
    w->acq.xi = cfg->xi;
    w->acq.kappa = cfg->kappa;
    w->acq.minimize = w->ascending;
    int plain = ms_rank_by_from_name(rb);
    ms_acq_kind kind;
    if (plain >= 0) {
        w->mode = SCORE_PLAIN;
        w->plain = (ms_rank_by)plain;
    } else if (strcmp(rb, "prob") == 0) {
        MS_CHECK(w->clf, MS_ERR_USAGE, "--rank-by prob needs a classifier model");
        w->mode = SCORE_PROB;
    } else if (strcmp(rb, "gated") == 0) {
        MS_CHECK(w->clf && w->reg, MS_ERR_USAGE,
                 "--rank-by gated needs a classifier and a surrogate model");
        w->mode = SCORE_GATED;
        w->acq.kind = MS_ACQ_EI;
    } else if (ms_acq_lookup(rb, &kind) == MS_SUCCESS) {
        MS_CHECK(kind != MS_ACQ_RANDOM, MS_ERR_USAGE, "--rank-by random is for campaigns only");
        MS_CHECK(w->reg, MS_ERR_USAGE, "--rank-by %s needs a surrogate (regression) model", rb);
        w->mode = SCORE_ACQ;
        w->acq.kind = kind;
        w->gate = w->clf && (kind == MS_ACQ_EI || kind == MS_ACQ_PI || kind == MS_ACQ_MU);
    } else {
        ms_error_clear();
        return ms_error_set(MS_ERR_USAGE, "unknown --rank-by '%s'; valid: ei pi mu ucb mean gated "
                            "prob li_fraction density volume volume_per_atom n_sites n_atoms", rb);
    }
    if (w->mode == SCORE_GATED || (w->mode == SCORE_ACQ && (w->acq.kind == MS_ACQ_EI ||
                                                            w->acq.kind == MS_ACQ_PI))) {
        w->best = isfinite(cfg->best) ? cfg->best : ms_model_y_best(w->reg, w->ascending);
        w->best_source = isfinite(cfg->best) ? "--best"
                         : w->ascending      ? "the model's smallest training label (y_best)"
                                             : "the model's largest training label (y_best)";
        MS_CHECK(isfinite(w->best), MS_ERR_USAGE,
                 "--rank-by %s needs the best label so far, and the surrogate model stores none "
                 "(it was trained before models stored y_best): give --best VALUE (in the "
                 "surrogate's target units%s), or train the model again", rb,
                 w->reg->log10_target ? ", log10" : "");
    }
    MS_CALL(setup_domain(w, cfg));
    return setup_memo(w, cfg);
}

/* The run identity for the cache and the journal (screen.h). */
static uint64_t worker_identity(const screen_worker *w, const ms_screen_config *cfg)
{
    uint64_t h = ms_hash_update(MS_HASH_INIT, MS_VERSION, strlen(MS_VERSION));
    if (w->set) {
        char sig[1024] = "";
        ms_descriptor_set_signature(w->set, sig, sizeof sig);
        h = ms_hash_update(h, w->set->name, strlen(w->set->name));
        h = ms_hash_update(h, &w->set->version, sizeof w->set->version);
        h = ms_hash_update(h, sig, strlen(sig));
    }
    for (size_t i = 0; i < cfg->n_models; i++)
        h = ms_hash_update(h, &w->model_hash[i], sizeof w->model_hash[i]);
    if (cfg->dry_run) { /* synthetic results: never resumed or cached as real ones */
        const char tag[] = "dry-run";
        h = ms_hash_update(h, tag, sizeof tag);
    }
    if (w->explain_k) { /* results with explanations are not those without (off: as before) */
        uint64_t k = w->explain_k;
        h = ms_hash_update(h, &k, sizeof k);
    }
    const ms_validate_options *v = &cfg->validate;
    const double th[4] = {v->occupancy_tol, v->close_fraction, v->formula_rtol, v->charge_tol};
    h = ms_hash_update(h, th, sizeof th);
    uint64_t ma = v->max_atoms;
    int32_t ex = v->expect_li;
    h = ms_hash_update(h, &ma, sizeof ma);
    h = ms_hash_update(h, &ex, sizeof ex);
    for (int i = 0; i < MS_CHECK_COUNT; i++) {
        int32_t sv = (int32_t)v->severity[i];
        h = ms_hash_update(h, &sv, sizeof sv);
    }
    h = ms_hash_update(h, w->rank_by, strlen(w->rank_by));
    if (w->dom && w->domain_mode != MS_SCREEN_DOMAIN_RANK) { /* rank: the identity of old runs */
        int32_t dm = (int32_t)w->domain_mode;
        h = ms_hash_update(h, &dm, sizeof dm);
    }
    int32_t asc = w->ascending;
    h = ms_hash_update(h, &asc, sizeof asc);
    const double acq[3] = {w->best, cfg->xi, cfg->kappa};
    for (int i = 0; i < 3; i++) {
        uint64_t bits = 0;
        if (!isnan(acq[i])) memcpy(&bits, &acq[i], sizeof bits); /* every NaN hashes alike */
        h = ms_hash_update(h, &bits, sizeof bits);
    }
    return h;
}

static ms_status register_stages(ms_pipeline *p, screen_worker *w)
{
    ms_pipeline_clear_stages(p);
    MS_CALL(ms_pipeline_add_stage(p, MS_STAGE_VALIDATE, "validate", stage_validate, w));
    MS_CALL(ms_pipeline_add_stage(p, MS_STAGE_SYMMETRY, "symmetry", stage_symmetry, w));
    MS_CALL(ms_pipeline_add_stage(p, MS_STAGE_FINGERPRINT, "fingerprint", stage_fingerprint, w));
    if (w->sfz) MS_CALL(ms_pipeline_add_stage(p, MS_STAGE_FEATURES, "features", stage_features, w));
    if (w->clf || w->reg) MS_CALL(ms_pipeline_add_stage(p, MS_STAGE_MODELS, "models", stage_models, w));
    return ms_pipeline_add_stage(p, MS_STAGE_SCORE, "score", stage_score, w);
}

/* ---- rank 0: hooks around the journal's, the cache and the keep filter ------------------- */

typedef struct pending {
    int used;
    ms_task task;
    ms_spill_buf buf; /* the task's packed results so far, on disk beyond a chunk */
} pending;

typedef struct master_ctx {
    const ms_screen_config *cfg;
    ms_results *res;
    ms_farm_hooks jh; /* the journal's hooks */
    uint64_t identity;
    pending *pend;
    size_t n_pend;
    ms_spill spill;     /* the pending tasks' results (task_spill.h) */
    ms_buffer gathered; /* a finished task's results, handed to the cache */
    ms_result *scratch;
    ms_screen_summary *sum;
    int failed;
    const ms_record_filter *filter; /* NULL: none */
} master_ctx;

/* The identity under which a task's results are cached: the run's, plus what the task's input
 * spec sets for it (database of records that state none, a forced format) when it sets anything,
 * so that stores written without per-input settings stay valid. */
static uint64_t task_identity(const master_ctx *m, const ms_task *t)
{
    if (t->input >= m->cfg->n_inputs) return m->identity;
    const ms_screen_input *in = &m->cfg->inputs[t->input];
    if (in->db == MS_DB_UNKNOWN && in->format == MS_FORMAT_AUTO) return m->identity;
    int32_t v[2] = {(int32_t)in->db, (int32_t)in->format};
    return ms_hash_update(m->identity, v, sizeof v);
}

static pending *pending_find(master_ctx *m, uint64_t seq)
{
    for (size_t i = 0; i < m->n_pend; i++)
        if (m->pend[i].used && m->pend[i].task.seq == seq) return &m->pend[i];
    return NULL;
}

static int m_collect_kept(master_ctx *m, const ms_result *r)
{
    m->sum->records++;
    if (r->status != MS_SUCCESS) m->sum->failed++;
    if (r->status == MS_SUCCESS && ((m->filter && !ms_record_filter_accepts_result(m->filter, r)) ||
                                    (m->cfg->keep && !m->cfg->keep(r, m->cfg->keep_user)))) {
        m->sum->filtered++;
        return 0;
    }
    return ms_results_add(r, m->res); /* domain counts: results.c, replayed results too */
}

static int m_collect(const ms_result *r, void *user)
{
    master_ctx *m = user;
    if (r->flags & MS_FLAG_REUSED) m->sum->reused++; /* workers' results only, not the cache's */
    if (m->cfg->cache) {
        pending *pd = pending_find(m, r->task_seq);
        if (pd && (ms_result_pack(r, &pd->buf.mem) != MS_SUCCESS ||
                   ms_spill_flush(&m->spill, &pd->buf) != MS_SUCCESS))
            return m->failed = 1;
    }
    return m_collect_kept(m, r);
}

static int m_dispatched(const ms_task *t, int rank, void *user)
{
    master_ctx *m = user;
    if (m->cfg->cache) {
        pending *pd = NULL;
        for (size_t i = 0; i < m->n_pend && !pd; i++)
            if (!m->pend[i].used) pd = &m->pend[i];
        if (!pd) {
            size_t old = m->n_pend;
            if (ms_array_reserve(&m->pend, &m->n_pend, old + 1, sizeof *m->pend, 64) != MS_SUCCESS) {
                ms_error_prefix("keeping %zu tasks in flight for the result cache", old + 1);
                return m->failed = 1;
            }
            memset(m->pend + old, 0, (m->n_pend - old) * sizeof *m->pend);
            pd = m->pend + old;
        }
        pd->used = 1;
        pd->task = *t;
        ms_spill_reset(&m->spill, &pd->buf);
    }
    return m->jh.dispatched ? m->jh.dispatched(t, rank, m->jh.user) : 0;
}

static int m_done(uint64_t seq, uint32_t n_results, int rank, void *user)
{
    master_ctx *m = user;
    if (m->cfg->cache) {
        pending *pd = pending_find(m, seq);
        if (pd) {
            /* A JSON Lines range's results (~4 MB) wait on disk, not in memory: one buffer per
             * task in flight made rank 0's peak RSS grow with the tasks in flight at once. */
            if (rank >= 0) {
                if (ms_spill_gather(&m->spill, &pd->buf, &m->gathered) != MS_SUCCESS)
                    m->failed = 1;
                else
                    m->cfg->cache->store(m->cfg->cache->ctx, &pd->task,
                                         task_identity(m, &pd->task), m->gathered.data,
                                         m->gathered.n);
            }
            ms_spill_reset(&m->spill, &pd->buf);
            pd->used = 0;
        }
    }
    return m->jh.done ? m->jh.done(seq, n_results, rank, m->jh.user) : 0;
}

static int m_batch_end(void *user)
{
    master_ctx *m = user;
    if (m->failed) return 1;
    return m->jh.batch_end ? m->jh.batch_end(m->jh.user) : 0;
}

/* A cache hit is checked whole before anything is fed, so a malformed one changes nothing. */
static int feed_cached(master_ctx *m, const ms_task *t, const unsigned char *d, size_t n)
{
    size_t pos = 0;
    uint32_t count = 0;
    while (pos < n) {
        if (ms_result_unpack(d, n, &pos, m->scratch) != MS_SUCCESS) return -1;
        if (m->scratch->task_seq != t->seq) return -1;
        count++;
    }
    if (count == 0) return -1;
    if (m->jh.dispatched && m->jh.dispatched(t, 0, m->jh.user)) return 1;
    pos = 0;
    while (pos < n) {
        ms_result_unpack(d, n, &pos, m->scratch);
        if (m_collect_kept(m, m->scratch)) return 1;
    }
    if (m->jh.done && m->jh.done(t->seq, count, 0, m->jh.user)) return 1;
    return 0;
}

static ms_farm_admit m_admit(const ms_task *t, void *user)
{
    master_ctx *m = user;
    ms_farm_admit a = m->jh.admit ? m->jh.admit(t, m->jh.user) : MS_FARM_RUN;
    if ((a != MS_FARM_RUN && a != MS_FARM_ALONE) || !m->cfg->cache || m->failed) return a;
    const void *data = NULL;
    size_t len = 0;
    if (!m->cfg->cache->lookup(m->cfg->cache->ctx, t, task_identity(m, t), &data, &len) || !data)
        return a;
    int rc = feed_cached(m, t, data, len);
    if (rc < 0) return a; /* malformed: run the task */
    if (rc > 0) m->failed = 1;
    m->sum->cache_hits++;
    return MS_FARM_SKIP;
}

/* ---- the run ----------------------------------------------------------------------------- */

void ms_screen_config_default(ms_screen_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->top_k = 20;
    cfg->ascending = -1; /* the surrogate's goal */
    cfg->best = NAN;
    cfg->xi = 0;
    cfg->kappa = MS_ACQ_DEFAULT_KAPPA;
    ms_validate_options_default(&cfg->validate);
    cfg->progress = 1;
    cfg->master_works = 1;
    cfg->reuse_bytes = MS_SCREEN_REUSE_DEFAULT;
}

static const char *domain_mode_name(ms_screen_domain d)
{
    return d == MS_SCREEN_DOMAIN_GATE ? "gate" : d == MS_SCREEN_DOMAIN_OFF ? "off" : "rank";
}

/* The trust order of the inputs' (database, trust) pairs (dedup.h): a workflow's trust= ranks
 * the duplicates' representatives. Checked before any work. */
static ms_status input_trust(const ms_screen_config *cfg, ms_dedup_options *trust)
{
    ms_dedup_options_default(trust);
    size_t n = cfg->n_inputs;
    ms_source_db *db = calloc(n ? n : 1, sizeof *db);
    int *rank = calloc(n ? n : 1, sizeof *rank);
    ms_status st = db && rank ? MS_SUCCESS : ms_error_set(MS_ERR_NOMEM, "screen: setup");
    for (size_t i = 0; st == MS_SUCCESS && i < n; i++) {
        db[i] = cfg->inputs[i].db;
        rank[i] = cfg->inputs[i].trust;
    }
    if (st == MS_SUCCESS) st = ms_dedup_trust_from_inputs(trust, db, rank, n);
    free(db);
    free(rank);
    return st;
}

/* The journal's run identity from one enumeration of the inputs, recorded so that the farm
 * replays the tasks instead of walking and stat'ing the inputs again (two stats per file were a
 * fifth of the master's time with a file per task, docs/scale.md). Without a temporary file the
 * farm's enumerator walks the inputs again. *src: the farm's enumerator (the caller frees it). */
static ms_status identify_inputs(const char **specs, size_t n, const ms_source_options *so,
                                 ms_journal_identity *id, ms_source **src)
{
    *src = NULL;
    MS_CALL(ms_source_create(specs, n, so, src));
    int taped = ms_source_record(*src) == MS_SUCCESS;
    ms_status st = ms_journal_identity_source(id, specs, n, *src);
    if (st == MS_SUCCESS && taped && ms_source_replay(*src) == MS_SUCCESS) return MS_SUCCESS;
    ms_source_free(*src);
    *src = NULL;
    if (st != MS_SUCCESS) return st;
    ms_error_clear();
    return ms_source_create(specs, n, so, src);
}

/* Rank 0's part; returns the status. Broadcasts "go" (0 stop, 1 farm, 2 outputs only). */
static ms_status screen_master(MPI_Comm comm, const ms_screen_config *cfg, ms_pipeline *p,
                               screen_worker *w, uint64_t identity, ms_screen_summary *sum,
                               double t_start)
{
    int size;
    MPI_Comm_size(comm, &size);
    size_t n_in = cfg->n_inputs ? cfg->n_inputs : 1;
    const char **specs = calloc(n_in, sizeof *specs);
    ms_format *formats = calloc(n_in, sizeof *formats);
    ms_result *scratch = malloc(sizeof *scratch);
    ms_status st = specs && formats && scratch ? MS_SUCCESS
                                               : ms_error_set(MS_ERR_NOMEM, "screen: setup");
    for (size_t i = 0; st == MS_SUCCESS && i < cfg->n_inputs; i++) {
        specs[i] = cfg->inputs[i].spec;
        formats[i] = cfg->inputs[i].format;
    }
    ms_dedup_options trust;
    if (st == MS_SUCCESS) st = input_trust(cfg, &trust);
    ms_results *res = NULL;
    ms_source *src = NULL;
    ms_source_options so;
    ms_source_options_default(&so);
    so.format = cfg->format;
    so.spec_format = formats;
    so.exclude_dir = cfg->out_dir; /* "-o data/out -i data" must not screen its own top/ */
    ms_journal_identity id;
    ms_journal_info ji = {0};
    memset(&id, 0, sizeof id);
    if (st == MS_SUCCESS) st = identify_inputs(specs, cfg->n_inputs, &so, &id, &src);
    /* A source's database changes the results without changing a file: part of the inputs. */
    for (size_t i = 0; st == MS_SUCCESS && i < cfg->n_inputs; i++) {
        int32_t db = (int32_t)cfg->inputs[i].db;
        if (db != MS_DB_UNKNOWN) id.specs_hash = ms_hash_update(id.specs_hash, &db, sizeof db);
    }
    id.seed = cfg->seed;
    id.top_k = cfg->top_k;
    id.rank_by = w->mode == SCORE_PLAIN ? (int32_t)w->plain : -1 - (int32_t)w->mode;
    id.ascending = w->ascending;
    id.format = (int32_t)cfg->format;
    id.workflow_hash = cfg->workflow_hash;
    id.model_hash = identity;
    /* One writer per output directory for the whole screen: taken before the journal is
     * touched, so a second screen cannot rename its journal over ours or remove our files. */
    ms_dir_lock *lock = NULL;
    if (st == MS_SUCCESS && !cfg->out_dir_locked)
        st = ms_dir_lock_take(cfg->out_dir, cfg->argc, cfg->argv, &lock);
    /* The journal holds filtered results: a resume with other filters is another run. The cache
     * identity leaves the filter out (it stores results before filtering; screen.h). */
    if (ms_record_filter_active(&w->filter))
        id.model_hash = ms_hash_update(identity, &w->filter, sizeof w->filter);
    if (st == MS_SUCCESS) st = ms_results_open_journal(cfg->out_dir, &id, cfg->resume, &res);
    if (st == MS_SUCCESS) ms_journal_get_info(ms_results_journal(res), &ji);
    if (st == MS_SUCCESS && cfg->cache && cfg->cache->sync)
        ms_journal_set_flush_hook(ms_results_journal(res), cfg->cache->sync, cfg->cache->ctx);
    int go = st != MS_SUCCESS ? 0 : ji.finished ? 2 : 1;
    if (go && cfg->resume && cfg->progress && ji.lives == 0)
        fprintf(stderr, "matscreen screen: --resume: no journal in %s, starting from the beginning\n",
                cfg->out_dir);
    else if (go && cfg->resume && cfg->progress)
        fprintf(stderr, "matscreen screen: resuming after %u run%s: %llu tasks done, %llu results "
                        "kept, %llu dropped (unfinished tasks), %llu torn bytes cut, %zu suspect%s "
                        "to run alone, %zu quarantined%s\n",
                ji.lives, ji.lives > 1 ? "s" : "", ji.tasks_done, ji.results, ji.dropped,
                ji.torn_bytes, ji.suspects, ji.suspects == 1 ? "" : "s", ji.quarantined,
                ji.finished ? "; the screen had finished, writing the outputs" : "");
    ms_comm_bcast_int_idle(comm, &go);
    sum->resumed_finished = go == 2;
    master_ctx m = {cfg, res, {0}, identity, NULL, 0, {0}, {0}, scratch, sum, 0,
                    ms_record_filter_active(&w->filter) ? &w->filter : NULL};
    ms_spill_init(&m.spill);
    ms_farm_stats stats = {0};
    if (go == 1) {
        ms_journal_farm_hooks(ms_results_journal(res), &m.jh);
        ms_farm_hooks hooks = {m_admit, m_dispatched, m_done, m_batch_end, &m};
        ms_farm_options fo;
        ms_farm_options_default(&fo);
        fo.progress = cfg->progress;
        fo.master_works = cfg->master_works;
        fo.hooks = &hooks;
        st = ms_farm_run(comm, src, p, &fo, m_collect, &m, &stats);
        if (st == MS_SUCCESS && m.failed)
            st = ms_error_set(MS_ERR_IO, "collecting results failed: %s", ms_error_message());
        if (st == MS_SUCCESS) st = ms_journal_finish(ms_results_journal(res));
    }
    if (go == 1 && ms_source_excluded(src))
        fprintf(stderr,
                "matscreen screen: note: %s is this run's output directory, inside an "
                "input: not screened\n",
                ms_source_excluded(src));
    if (go == 1 && ms_source_repeats(src))
        fprintf(stderr,
                "matscreen screen: note: %llu directories or list files were reached "
                "again (links or overlapping inputs): each was read once\n",
                (unsigned long long)ms_source_repeats(src));
    ms_source_free(src);
    sum->tasks = stats.tasks;
    sum->quarantined = stats.quarantined;
    /* Records filtered out in earlier runs of a resumed screen are in no journal record but the
     * DONE counts: without them quality.json's "filtered" counted the last run only. */
    if (ji.produced > ji.results) sum->filtered += ji.produced - ji.results;
    /* the exit status judges the whole screen, not the last run's share of it */
    sum->earlier_records = ji.produced;
    sum->earlier_failed = ms_results_replayed_failed(res);
    if (res) { /* kept records of every run of a resumed screen (results.c counts the replay) */
        ms_results_domain dc;
        ms_results_domain_counts(res, &dc);
        sum->in_domain = dc.in_domain;
        sum->out_of_domain = dc.out_of_domain;
        sum->ood_elements = dc.ood_elements;
        sum->ood_far = dc.ood_far;
    }
    sum->farm_seconds = stats.seconds;
    sum->farm_cpu_seconds = stats.cpu_seconds;
    if (st == MS_SUCCESS) {
        const char *paths[MS_SCREEN_MAX_MODELS] = {0};
        for (size_t i = 0; i < cfg->n_models; i++) paths[i] = cfg->model_paths[i];
        ms_run_info info = {cfg->argc, cfg->argv, specs, cfg->n_inputs, size, cfg->seed,
                            w->rank_by, w->ascending, cfg->top_k, now_s() - t_start,
                            stats.seconds, stats.tasks, stats.messages,
                            w->set ? w->set->name : NULL, w->set ? w->set->version : 0,
                            cfg->n_models, paths, w->model_hash, w->model_role,
                            cfg->workflow_hash, identity, sum->filtered, sum->cache_hits,
                            w->best, w->best_source,
                            w->filter_text[0] ? w->filter_text : NULL,
                            w->dom ? domain_mode_name(w->domain_mode) : NULL,
                            w->dom && w->dom->domain ? w->dom->domain->threshold : NAN,
                            sum->in_domain, sum->out_of_domain, sum->ood_elements, sum->ood_far,
                            w->explain_k, sum->records, &trust, sum->reused};
        st = ms_results_finish(res, &info, p->elements);
    }
    for (size_t i = 0; i < m.n_pend; i++) ms_spill_buf_free(&m.pend[i].buf);
    free(m.pend);
    ms_spill_close(&m.spill);
    ms_buffer_free(&m.gathered);
    ms_results_free(res);
    ms_dir_lock_release(&lock);
    free(specs);
    free(formats);
    free(scratch);
    return st;
}

ms_status ms_screen_run(MPI_Comm comm, const ms_screen_config *cfg, ms_screen_summary *out)
{
    double t_start = now_s();
    int rank;
    MPI_Comm_rank(comm, &rank);
    ms_screen_summary sum;
    memset(&sum, 0, sizeof sum);
    ms_element_table *elements = NULL;
    ms_pipeline p;
    screen_worker w;
    memset(&w, 0, sizeof w);
    int have_pipeline = 0;
    ms_status st = cfg && cfg->out_dir && (cfg->n_inputs == 0 || cfg->inputs)
                       ? MS_SUCCESS
                       : ms_error_set(MS_ERR_USAGE, "ms_screen_run: inputs and output required");
    if (st == MS_SUCCESS) st = ms_element_table_load_bcast(comm, &elements);
    if (st == MS_SUCCESS) st = worker_setup(comm, &w, cfg, elements);
    if (st == MS_SUCCESS) {
        st = ms_pipeline_init(&p, elements, w.mode == SCORE_PLAIN ? w.plain : MS_RANK_LI_FRACTION,
                              w.ascending, cfg->seed);
        have_pipeline = st == MS_SUCCESS;
    }
    if (st == MS_SUCCESS) st = register_stages(&p, &w);
    if (st == MS_SUCCESS) p.dry_run = cfg->dry_run;
    if (st == MS_SUCCESS && w.explain_k) { /* records explained in batches (explain_held) */
        p.hold_max = EXPLAIN_BATCH;
        p.held = w.held;
        p.hold_fn = explain_held;
        p.hold_ctx = &w;
    }
    if (st == MS_SUCCESS && !cfg->dry_run) { /* which task a crash of this rank was (crash.h) */
        p.crash_dir = cfg->out_dir;
        p.crash_rank = rank;
    }
    ms_source_db *input_db = NULL;
    if (st == MS_SUCCESS && cfg->n_inputs) {
        input_db = malloc(cfg->n_inputs * sizeof *input_db);
        if (!input_db) st = ms_error_set(MS_ERR_NOMEM, "screen: setup");
        for (size_t i = 0; input_db && i < cfg->n_inputs; i++) input_db[i] = cfg->inputs[i].db;
        p.input_db = input_db;
        p.n_input_db = input_db ? cfg->n_inputs : 0;
    }
    int ok = st == MS_SUCCESS, all_ok = ms_comm_all_ok(comm, ok);
    int code = st;
    if (!all_ok) {
        if (ok) st = ms_error_set(MS_ERR_USAGE, "setup failed on another rank");
        code = st;
        ms_comm_bcast_int_idle(comm, &code);
    } else {
        sum.identity = worker_identity(&w, cfg);
        if (rank == 0) {
            st = screen_master(comm, cfg, &p, &w, sum.identity, &sum, t_start);
        } else {
            int go = 0;
            ms_comm_bcast_int_idle(comm, &go);
            if (go == 1) ms_farm_run(comm, NULL, &p, NULL, NULL, NULL, NULL);
        }
        code = st;
        ms_comm_bcast_int_idle(comm, &code);
    }
    if (rank != 0 && code != MS_SUCCESS && st == MS_SUCCESS)
        st = ms_error_set((ms_status)code, "the screen failed on rank 0");
    if (rank != 0 && code == MS_SUCCESS) st = MS_SUCCESS;
    if (have_pipeline) ms_pipeline_destroy(&p);
    free(input_db);
    sum.best = w.best;
    sum.best_source = w.best_source;
    sum.ascending = w.ascending;
    sum.direction_source = w.direction_source;
    snprintf(sum.filters, sizeof sum.filters, "%s", w.filter_text);
    sum.has_domain = w.dom != NULL;
    worker_destroy(&w);
    ms_element_table_free(elements);
    sum.seconds = now_s() - t_start;
    if (out) *out = sum;
    return (ms_status)code == MS_SUCCESS ? MS_SUCCESS : st;
}
