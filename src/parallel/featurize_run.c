/*
 * The featurize run (featurize_run.h): one CSV row of descriptors per structure, over the ranks.
 *
 * Inputs are enumerated as by the screening engine (source.h: files, directories walked
 * recursively in sorted order, globs, @lists), so the row order is the same on every file system.
 * Columns: file, block, index, source_db, source_id, reduced_formula, then the features of the set
 * in the set's order, printed with %.17g (round-trip exact); NaN prints as "NaN". With reasons a
 * last column "nan_reasons" lists "feature=reason" for every NaN (and imputed) feature, separated
 * by ";". A record that cannot be read or featurized is never dropped silently: it becomes a line
 * of the errors file with file, block, index, stage and reason.
 *
 * The tasks (files, source.h) go out in rounds of ROUND_TASKS per rank: rank 0 enumerates a round
 * and broadcasts it, rank r featurizes the tasks j with j % size == r into memory, rank 0 gathers
 * the text and writes it in task order. The bytes are those of one process for any rank count;
 * memory is bounded by one round's rows. The cyclic share is balanced to within a task per round,
 * not dynamically (docs/scale.md). The row itself is the one featurizer path
 * (ms_structure_featurizer_compute, featurize.h), as in the screen and in training.
 */
#include "matscreen/featurize_run.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/comm.h"
#include "matscreen/composition.h"
#include "matscreen/csv.h"
#include "matscreen/farm.h"
#include "matscreen/outfile.h"
#include "matscreen/reader.h"
#include "matscreen/source.h"
#include "matscreen/structure.h"

typedef struct {
    const ms_element_table *elements;
    ms_structure_featurizer *fz;
    FILE *out, *err;           /* where on_record writes: this round's memory streams */
    FILE *out_file, *err_file; /* rank 0: the table and the errors file (or stderr) */
    int reasons;
    size_t n_features;
    double *row;
    unsigned char *reason;
    size_t n_ok, n_failed;
    MPI_Comm comm;
} featurize_state;

static void report_error(featurize_state *st, const char *file, const char *block, size_t index,
                         const char *stage, const char *message)
{
    st->n_failed++;
    ms_csv_write_field(st->err, file ? file : "");
    fputc(',', st->err);
    ms_csv_write_field(st->err, block ? block : "");
    fprintf(st->err, ",%zu,%s,", index, stage);
    ms_csv_write_field(st->err, message ? message : "");
    fputc('\n', st->err);
}

static int on_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    featurize_state *st = user;
    if (status != MS_SUCCESS) {
        report_error(st, s->prov.file, s->prov.block, s->prov.index, "read", message);
        return 0;
    }
    ms_error_clear();
    ms_status fs = ms_structure_featurizer_compute(st->fz, s, st->row, st->reason);
    if (fs != MS_SUCCESS) {
        report_error(st, s->prov.file, s->prov.block, s->prov.index, "featurize",
                     ms_error_message());
        return 0;
    }
    char reduced[MS_FORMULA_MAX];
    if (ms_composition_reduced_formula(ms_structure_featurizer_composition(st->fz), st->elements,
                                       reduced, sizeof reduced) != MS_SUCCESS)
        reduced[0] = '\0';
    FILE *o = st->out;
    ms_csv_write_field(o, s->prov.file ? s->prov.file : "");
    fputc(',', o);
    ms_csv_write_field(o, s->prov.block);
    fprintf(o, ",%zu,%s,", s->prov.index, ms_source_db_name(s->prov.db));
    ms_csv_write_field(o, s->prov.source_id);
    fputc(',', o);
    ms_csv_write_field(o, reduced);
    for (size_t k = 0; k < st->n_features; k++) {
        if (isnan(st->row[k])) fputs(",NaN", o);
        else fprintf(o, ",%.17g", st->row[k]);
    }
    if (st->reasons) {
        fputc(',', o);
        int first = 1;
        for (size_t k = 0; k < st->n_features; k++) {
            if (st->reason[k] == MS_NAN_NONE) continue;
            fprintf(o, "%s%s=%s", first ? "" : ";",
                    ms_structure_featurizer_feature_name(st->fz, k),
                    ms_nan_reason_name((ms_nan_reason)st->reason[k]));
            first = 0;
        }
    }
    fputc('\n', o);
    st->n_ok++;
    return 0;
}

static ms_status open_outputs(featurize_state *st, const char *out_path, const char *err_path,
                              ms_atomic_file **af)
{
    if (strcmp(out_path, "-") == 0) st->out_file = stdout;
    else if (ms_atomic_open(out_path, af) == MS_SUCCESS) st->out_file = ms_atomic_stream(*af);
    if (!st->out_file) return MS_ERR_IO; /* ms_atomic_open said why */
    st->err_file = err_path ? fopen(err_path, "w") : stderr;
    if (!st->err_file) return ms_error_set(MS_ERR_IO, "%s: cannot write: %s", err_path, strerror(errno));
    if (err_path) fputs("file,block,index,stage,reason\n", st->err_file);
    FILE *o = st->out_file;
    fputs("file,block,index,source_db,source_id,reduced_formula", o);
    for (size_t k = 0; k < st->n_features; k++) {
        fputc(',', o);
        ms_csv_write_field(o, ms_structure_featurizer_feature_name(st->fz, k));
    }
    if (st->reasons) fputs(",nan_reasons", o);
    fputc('\n', o);
    return MS_SUCCESS;
}

/* Tasks per rank and round: small enough that a round's rows stay small, large enough that the
 * per-round gather is rare against the reading and featurizing of the files. */
#define ROUND_TASKS 8

/* One task into st->out / st->err (this round's memory streams). */
static void featurize_task(featurize_state *st, const ms_task *task, const ms_read_options *ropt)
{
    if (task->status != MS_SUCCESS) {
        report_error(st, task->path, "", 0, "input", task->reason);
        return;
    }
    ms_error_clear();
    ms_status s = ms_read_file(task->path, task->format, ropt, on_record, st);
    if (s != MS_SUCCESS) report_error(st, task->path, "", 0, "read", ms_error_message());
}

/* This rank's share of a round: its tasks' text in two memory streams, and per task the bytes of
 * each (lens[2k], lens[2k + 1]). */
typedef struct {
    char *out, *err;
    size_t n_out, n_err;
    uint64_t *lens;
    size_t n_tasks;
} share;

static ms_status run_share(featurize_state *st, const char *tasks, size_t n_bytes, int rank,
                           int size, share *sh)
{
    size_t pos = 0;
    uint32_t n = 0;
    MS_CHECK(n_bytes >= 4, MS_ERR_INTERNAL, "featurize: empty round");
    memcpy(&n, tasks, 4);
    pos = 4;
    sh->n_tasks = 0;
    sh->lens = calloc(2 * ((size_t)n / (size_t)size + 1), sizeof *sh->lens);
    st->out = open_memstream(&sh->out, &sh->n_out);
    st->err = open_memstream(&sh->err, &sh->n_err);
    MS_CHECK(sh->lens && st->out && st->err, MS_ERR_NOMEM, "featurize: cannot hold a round");
    ms_read_options ropt;
    ms_read_options_default(&ropt);
    static ms_task task; /* 4 kB path: off the stack */
    long o0 = 0, e0 = 0;
    for (uint32_t j = 0; j < n; j++) {
        MS_CALL(ms_task_unpack((const unsigned char *)tasks, n_bytes, &pos, &task));
        if (j % (uint32_t)size != (uint32_t)rank) continue;
        featurize_task(st, &task, &ropt);
        MS_CHECK(fflush(st->out) == 0 && fflush(st->err) == 0, MS_ERR_NOMEM,
                 "featurize: cannot hold a round");
        long o1 = ftell(st->out), e1 = ftell(st->err);
        sh->lens[2 * sh->n_tasks] = (uint64_t)(o1 - o0);
        sh->lens[2 * sh->n_tasks + 1] = (uint64_t)(e1 - e0);
        sh->n_tasks++;
        o0 = o1;
        e0 = e1;
    }
    MS_CHECK(fclose(st->out) == 0 && fclose(st->err) == 0, MS_ERR_NOMEM,
             "featurize: cannot hold a round");
    st->out = st->err = NULL;
    return MS_SUCCESS;
}

/* Inside the gather a rank cannot leave alone (the others would wait for it): end the job. */
static void round_abort(MPI_Comm comm, const char *why)
{
    fprintf(stderr, "matscreen featurize: %s\n", why);
    MPI_Abort(comm, 2);
}

/* Rank 0: every rank's share of the round gathered and written in task order. */
static void write_round(featurize_state *st, share *sh, int rank, int size)
{
    uint64_t mine[3] = {sh->n_tasks, sh->n_out, sh->n_err}, *all = NULL;
    if (rank == 0) all = calloc(3 * (size_t)size, sizeof *all);
    MPI_Gather(mine, 3, MPI_UINT64_T, all, 3, MPI_UINT64_T, 0, st->comm);
    int *counts = NULL, *displ = NULL;
    char *buf = NULL;
    size_t total = 0;
    if (rank == 0) {
        counts = calloc((size_t)size, sizeof *counts);
        displ = calloc((size_t)size, sizeof *displ);
        for (int r = 0; counts && displ && all && r < size; r++) {
            uint64_t bytes = 16 * all[3 * r] + all[3 * r + 1] + all[3 * r + 2];
            if (bytes >= (1u << 30) || total + bytes >= (1u << 30))
                round_abort(st->comm, "a round's rows exceed 1 GiB (MPI counts are int)");
            counts[r] = (int)bytes;
            displ[r] = (int)total;
            total += bytes;
        }
        buf = malloc(total + 1);
        if (!all || !counts || !displ || !buf) round_abort(st->comm, "cannot gather a round: out of memory");
    }
    /* One message per rank: lens, then the rows, then the error lines. */
    size_t mine_bytes = 16 * sh->n_tasks + sh->n_out + sh->n_err;
    char *pack = malloc(mine_bytes + 1);
    if (!pack) round_abort(st->comm, "cannot hold a round: out of memory");
    if (sh->n_tasks) memcpy(pack, sh->lens, 16 * sh->n_tasks);
    if (sh->n_out) memcpy(pack + 16 * sh->n_tasks, sh->out, sh->n_out);
    if (sh->n_err) memcpy(pack + 16 * sh->n_tasks + sh->n_out, sh->err, sh->n_err);
    MPI_Gatherv(pack, (int)mine_bytes, MPI_BYTE, buf, counts, displ, MPI_BYTE, 0, st->comm);
    free(pack);
    if (rank == 0) {
        size_t *at_out = calloc((size_t)size, sizeof *at_out), *at_err = calloc((size_t)size, sizeof *at_err);
        if (!at_out || !at_err) round_abort(st->comm, "cannot gather a round: out of memory");
        uint64_t n_all = 0;
        for (int r = 0; r < size; r++) n_all += all[3 * r];
        for (uint64_t j = 0; j < n_all; j++) {
            int r = (int)(j % (uint64_t)size);
            uint64_t k = j / (uint64_t)size, lo, le;
            const char *base = buf + displ[r];
            memcpy(&lo, base + 16 * k, 8);
            memcpy(&le, base + 16 * k + 8, 8);
            const char *rows = base + 16 * all[3 * r];
            fwrite(rows + at_out[r], 1, lo, st->out_file);
            fwrite(rows + all[3 * r + 1] + at_err[r], 1, le, st->err_file);
            at_out[r] += lo;
            at_err[r] += le;
        }
        free(at_out);
        free(at_err);
    }
    free(all);
    free(counts);
    free(displ);
    free(buf);
}

/* Rounds until rank 0's enumerator is exhausted; collective. */
static ms_status run_rounds(featurize_state *st, ms_source *src, int rank, int size)
{
    ms_buffer b = {0};
    ms_status res = MS_SUCCESS;
    for (;;) {
        uint32_t n = 0;
        ms_status s = MS_SUCCESS;
        if (rank == 0) {
            static ms_task task;
            ms_buffer_reset(&b);
            s = ms_buffer_append(&b, &n, 4);
            while (s == MS_SUCCESS && n < ROUND_TASKS * (uint32_t)size && ms_source_next(src, &task)) {
                s = ms_task_pack(&task, &b);
                n++;
            }
            if (s == MS_SUCCESS) memcpy(b.data, &n, 4);
        }
        char *data = rank == 0 ? (char *)b.data : NULL;
        size_t n_bytes = rank == 0 ? b.n : 0;
        s = ms_comm_bcast_buffer(st->comm, s, &data, &n_bytes);
        if (s == MS_SUCCESS) memcpy(&n, data, 4);
        share sh = {0};
        if (s == MS_SUCCESS && n > 0) s = run_share(st, data, n_bytes, rank, size, &sh);
        if (st->out) fclose(st->out);
        if (st->err) fclose(st->err);
        st->out = st->err = NULL;
        s = ms_comm_agree(st->comm, s, MS_ERR_INTERNAL, "featurize failed on another rank");
        if (s == MS_SUCCESS && n > 0) write_round(st, &sh, rank, size);
        free(sh.out);
        free(sh.err);
        free(sh.lens);
        if (rank != 0) free(data);
        if (s != MS_SUCCESS || n == 0) {
            res = s;
            break;
        }
    }
    ms_buffer_free(&b);
    return res;
}


static void state_free(featurize_state *st)
{
    if (st->err_file && st->err_file != stderr) fclose(st->err_file);
    free(st->row);
    free(st->reason);
    ms_structure_featurizer_destroy(&st->fz);
}

/* Rank 0: the outputs opened and the inputs enumerated. */
static ms_status open_rank0(featurize_state *st, const ms_featurize_run_config *cfg,
                            ms_atomic_file **af, ms_source **src)
{
    MS_CALL(open_outputs(st, cfg->out_path, cfg->err_path, af));
    ms_source_options sopt;
    ms_source_options_default(&sopt);
    sopt.format = cfg->format;
    sopt.chunk_bytes = 0; /* whole files: the reader of a task reads the whole file */
    return ms_source_create(cfg->inputs, cfg->n_inputs, &sopt, src);
}

ms_status ms_featurize_run(MPI_Comm comm, const ms_featurize_run_config *cfg,
                           ms_featurize_run_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    featurize_state st;
    memset(&st, 0, sizeof st);
    st.comm = comm;
    st.elements = cfg->elements;
    st.reasons = cfg->reasons;
    ms_atomic_file *af = NULL; /* features.csv, unless it goes to stdout */
    ms_source *src = NULL;
    ms_status s = ms_structure_featurizer_create(cfg->set, cfg->elements, NULL, &st.fz);
    if (s == MS_SUCCESS) {
        st.n_features = ms_structure_featurizer_n_features(st.fz);
        st.row = malloc((st.n_features + 1) * sizeof *st.row);
        st.reason = malloc(st.n_features + 1);
        if (!st.row || !st.reason) s = ms_error_set(MS_ERR_NOMEM, "out of memory");
    }
    /* features.csv is written beside and renamed at the end (outfile.h): a failed run keeps
     * the previous file whole. Rank 0 writes; the others featurize into memory. */
    if (s == MS_SUCCESS && rank == 0) s = open_rank0(&st, cfg, &af, &src);
    s = ms_comm_agree(comm, s, MS_ERR_INTERNAL, "featurize failed on another rank");
    if (s == MS_SUCCESS) s = run_rounds(&st, src, rank, size);
    if (s == MS_SUCCESS) {
        unsigned long long counts[2] = {st.n_ok, st.n_failed}, total[2] = {0, 0};
        MPI_Allreduce(counts, total, 2, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm);
        sum->ok = total[0];
        sum->failed = total[1];
        sum->n_features = st.n_features;
        if (rank == 0 && (fflush(st.out_file) != 0 || ferror(st.out_file)))
            s = ms_error_set(MS_ERR_IO, "error writing %s", cfg->out_path);
        if (s == MS_SUCCESS && af) s = ms_atomic_commit(&af);
        s = ms_comm_agree(comm, s, MS_ERR_IO, "featurize failed on another rank");
    }
    ms_atomic_abort(&af); /* not committed: the previous file stays */
    ms_source_free(src);
    state_free(&st);
    return s;
}
