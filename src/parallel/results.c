/*
 * Output writers of a screen (see results.h): the journal holds results as they stream in; compact
 * index entries go into external sorters (extsort.h) as they arrive, and the output files are
 * written from sorted streams, so rank 0's memory does not grow with the number of results.
 */
#include "matscreen/results.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "matscreen/array.h"
#include "matscreen/composition.h"
#include "matscreen/csv.h"
#include "matscreen/dedup.h"
#include "matscreen/extsort.h"
#include "matscreen/farm.h"
#include "matscreen/comm.h"
#include "matscreen/hash.h"
#include "matscreen/journal.h"
#include "matscreen/json_reader.h"
#include "matscreen/json_writer.h"
#include "matscreen/model.h"
#include "matscreen/outfile.h"
#include "matscreen/reader.h"
#include "matscreen/validate.h"
#include "top_cifs.h"

#define DEDUP_VOLUME_TOL 0.03 /* relative: fp_volume within 3% of the group's smallest */
#define MAX_CONFLICTS_LISTED 1000
/* Index entries each sorter holds in memory (docs/engine.md "Memory bounds"): about 1.5 MB per
 * sorter; up to a few times this many records everything is sorted in memory and no file is
 * written. MATSCREEN_SORT_BUDGET overrides it (tests force spills on small inputs with it). */
#define SORT_BUDGET_DEFAULT 16384
/* Temporary files in DIR are "tmp-results-PID-WHAT.XXXXXX": PID tells a live run's files from
 * those a killed run left behind (removed when the next run opens the journal). */
#define TMP_PREFIX "tmp-results-"

/* A screened record in grouping and rank order: what sorting and de-duplication need, and where
 * the record is. 88 bytes, no padding (it is written to run files as bytes). */
typedef struct entry {
    double score;
    uint64_t seq;
    int64_t offset;
    uint64_t index;
    uint64_t dedup;
    uint64_t pos;      /* byte position of the packed result in the journal */
    uint64_t mfirst;   /* representative with duplicates: its first other member in the member file */
    double fpv;        /* fingerprint volume per site (NaN: no fingerprint) */
    uint32_t len;      /* packed length */
    int32_t stage, db;
    uint32_t dups;     /* duplicates merged into this one */
    int32_t tier;      /* ms_result.rank_tier: lower tiers rank first */
    int32_t pad;       /* zero */
} entry;

/* Every record in stable-key order: errors.csv rows and the manifest's input hashes. 56 bytes. */
typedef struct sentry {
    uint64_t seq;
    int64_t offset;
    uint64_t index;
    uint64_t content_hash;
    uint64_t pos;
    uint32_t len;
    uint32_t input;
    int32_t status, stage;
} sentry;

/* Sorted records go to run files as bytes: no padding, so no uninitialised byte is written. */
_Static_assert(sizeof(entry) == 88 && sizeof(sentry) == 56, "index entries have no padding");

/* Where a group member other than the representative is in the journal (member file record). */
typedef struct member {
    uint64_t pos;
    uint32_t len;
    uint32_t zero; /* padding, written as 0 */
} member;

struct ms_results {
    char *dir;
    ms_journal *journal;  /* DIR/journal: the results themselves live there */
    ms_extsort *groups;   /* entry of every screened record, grouping order */
    ms_extsort *stable;   /* sentry of every record, stable-key order */
    size_t budget;        /* entries per sorter in memory */
    size_t warn_by_check[MS_CHECK_COUNT]; /* screened records with each validation warning */
    ms_results_domain domain; /* counted per indexed result, replayed ones too */
    unsigned long long replayed_failed; /* failed results replayed from the journal */
    ms_buffer buf;
    ms_result *scratch;
    int failed;
};

static ms_status make_dir(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST) {
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return MS_SUCCESS;
    }
    return ms_error_set(MS_ERR_IO, "%s: cannot create directory: %s", path, strerror(errno));
}

void ms_results_free(ms_results *res)
{
    if (!res) return;
    ms_extsort_destroy(&res->groups);
    ms_extsort_destroy(&res->stable);
    ms_journal_close(res->journal);
    free(res->dir);
    free(res->scratch);
    ms_buffer_free(&res->buf);
    free(res);
}

/* ---- ordering ------------------------------------------------------------------------------ */

/* The stable key: task sequence number, byte offset, record index, then stage. */
static int cmp_key(uint64_t seq_a, int64_t off_a, uint64_t idx_a, int32_t stage_a, uint64_t seq_b,
                   int64_t off_b, uint64_t idx_b, int32_t stage_b)
{
    if (seq_a != seq_b) return seq_a < seq_b ? -1 : 1;
    if (off_a != off_b) return off_a < off_b ? -1 : 1;
    if (idx_a != idx_b) return idx_a < idx_b ? -1 : 1;
    if (stage_a != stage_b) return stage_a < stage_b ? -1 : 1;
    return 0;
}

static int cmp_entry_key(const entry *a, const entry *b)
{
    return cmp_key(a->seq, a->offset, a->index, a->stage, b->seq, b->offset, b->index, b->stage);
}

/* Grouping order: key, then fingerprint volume (NaN last), then the stable key. */
static int cmp_group(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const entry *a = pa, *b = pb;
    if (a->dedup != b->dedup) return a->dedup < b->dedup ? -1 : 1;
    int na = isnan(a->fpv), nb = isnan(b->fpv);
    if (na != nb) return na ? 1 : -1;
    if (!na && a->fpv != b->fpv) return a->fpv < b->fpv ? -1 : 1;
    return cmp_entry_key(a, b);
}

/* Within a group: trust order (ctx: the run's ms_dedup_options, NULL the default), then the
 * stable key. */
static int cmp_trust(const void *pa, const void *pb, void *ctx)
{
    const entry *a = pa, *b = pb;
    size_t ta = ms_dedup_trust_rank(ctx, (ms_source_db)a->db);
    size_t tb = ms_dedup_trust_rank(ctx, (ms_source_db)b->db);
    if (ta != tb) return ta < tb ? -1 : 1;
    return cmp_entry_key(a, b);
}

static int cmp_rank(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const entry *a = pa, *b = pb;
    if (a->tier != b->tier) return a->tier < b->tier ? -1 : 1;
    int na = isnan(a->score), nb = isnan(b->score);
    if (na != nb) return na ? 1 : -1;
    if (!na && a->score != b->score) return a->score > b->score ? -1 : 1;
    return cmp_entry_key(a, b);
}

static int cmp_stable(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const sentry *a = pa, *b = pb;
    return cmp_key(a->seq, a->offset, a->index, a->stage, b->seq, b->offset, b->index, b->stage);
}

/* ---- index --------------------------------------------------------------------------------- */

/* Creates a sorter of DIR whose run files are named TMP_PREFIX PID-what. */
static ms_status sorter_create(const ms_results *res, size_t size, ms_extsort_cmp cmp,
                               const char *what, ms_extsort **out)
{
    char name[64];
    snprintf(name, sizeof name, TMP_PREFIX "%ld-%s", (long)getpid(), what);
    return ms_extsort_create(size, cmp, NULL, res->budget, res->dir, name, out);
}

/* Removes the temporary files a killed run left in dir (TMP_PREFIX with another PID). Called with
 * the journal open, that is locked: no live process of this run can be using them. */
static void remove_stale_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    size_t plen = strlen(TMP_PREFIX);
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, TMP_PREFIX, plen) != 0) continue;
        char *end;
        long pid = strtol(e->d_name + plen, &end, 10);
        if (end == e->d_name + plen || *end != '-' || pid == (long)getpid()) continue;
        char *path = ms_path_join(dir, e->d_name);
        if (path) unlink(path);
        free(path);
    }
    closedir(d);
}

/* Reads MATSCREEN_SORT_BUDGET (a positive number of index entries) or the default. */
static ms_status sort_budget(size_t *out)
{
    const char *v = getenv("MATSCREEN_SORT_BUDGET");
    *out = SORT_BUDGET_DEFAULT;
    if (!v || !*v) return MS_SUCCESS;
    char *end;
    errno = 0;
    unsigned long long b = strtoull(v, &end, 10);
    MS_CHECK(!errno && *end == '\0' && b > 0 && b <= SIZE_MAX / 1024 && v[0] != '-',
             MS_ERR_USAGE, "MATSCREEN_SORT_BUDGET=%s: not a positive number of index entries", v);
    *out = (size_t)b;
    return MS_SUCCESS;
}

/* Adds the index entries of a result whose packed bytes are at pos (len bytes) in the journal. */
static int index_result(ms_results *res, const ms_result *r, uint64_t pos, uint32_t len)
{
    sentry s = (sentry){r->task_seq, r->offset, r->index, r->content_hash, pos, len, r->input, r->status,
                 r->stage};
    ms_status st = ms_extsort_add(res->stable, &s);
    if (st == MS_SUCCESS && r->status == MS_SUCCESS) {
        entry e = (entry){r->score, r->task_seq, r->offset, r->index, r->dedup_key, pos, 0, r->fp_volume,
                    len, r->stage, r->db, 0, r->rank_tier, 0};
        st = ms_extsort_add(res->groups, &e);
        for (int c = 0; c < MS_CHECK_COUNT; c++)
            if (r->warnings & (1u << c)) res->warn_by_check[c]++;
        if (r->in_domain == 1) res->domain.in_domain++;
        if (r->in_domain == 0) {
            res->domain.out_of_domain++;
            if (ms_domain_reason_is_elements(r->domain_reason)) res->domain.ood_elements++;
            else res->domain.ood_far++;
        }
    }
    if (st != MS_SUCCESS) res->failed = 1;
    return st != MS_SUCCESS;
}

static int replay_result(const ms_result *r, uint64_t pos, uint32_t len, void *user)
{
    ms_results *res = user;
    if (r->status != MS_SUCCESS) res->replayed_failed++;
    return index_result(res, r, pos, len);
}

unsigned long long ms_results_replayed_failed(const ms_results *res)
{
    return res ? res->replayed_failed : 0;
}

ms_status ms_results_open_journal(const char *dir, const ms_journal_identity *id, int resume,
                                  ms_results **out)
{
    MS_CHECK(dir && id && out, MS_ERR_USAGE, "ms_results_open_journal: directory and identity required");
    *out = NULL;
    size_t budget;
    MS_CALL(sort_budget(&budget));
    MS_CALL(make_dir(dir));
    ms_results *res = calloc(1, sizeof *res);
    MS_CHECK(res, MS_ERR_NOMEM, "cannot allocate the result collector");
    res->dir = strdup(dir);
    res->budget = budget;
    char *jpath = ms_path_join(dir, MS_JOURNAL_FILE);
    res->scratch = malloc(sizeof *res->scratch);
    ms_status st = (res->dir && jpath && res->scratch)
                       ? MS_SUCCESS
                       : ms_error_set(MS_ERR_NOMEM, "cannot allocate the result collector");
    if (st == MS_SUCCESS) st = sorter_create(res, sizeof(entry), cmp_group, "groups", &res->groups);
    if (st == MS_SUCCESS) st = sorter_create(res, sizeof(sentry), cmp_stable, "stable", &res->stable);
    if (st == MS_SUCCESS && resume && access(jpath, F_OK) == 0)
        st = ms_journal_resume(jpath, id, replay_result, res, &res->journal);
    else if (st == MS_SUCCESS)
        st = ms_journal_create(jpath, id, &res->journal);
    free(jpath);
    if (st != MS_SUCCESS) {
        ms_results_free(res);
        return st;
    }
    remove_stale_files(dir);
    ms_atomic_remove_stale(dir);
    *out = res;
    return MS_SUCCESS;
}

ms_status ms_results_open(const char *dir, ms_results **out)
{
    ms_journal_identity id;
    memset(&id, 0, sizeof id);
    snprintf(id.version, sizeof id.version, "%s", MS_VERSION);
    return ms_results_open_journal(dir, &id, 0, out);
}

ms_journal *ms_results_journal(ms_results *res) { return res->journal; }

void ms_results_domain_counts(const ms_results *res, ms_results_domain *out)
{
    *out = res->domain;
}

int ms_results_add(const ms_result *r, void *user)
{
    ms_results *res = user;
    uint64_t pos;
    uint32_t len;
    if (ms_journal_result(res->journal, r, &pos, &len) != MS_SUCCESS) return res->failed = 1;
    return index_result(res, r, pos, len);
}

/* Makes b hold at least n bytes (its contents are then scratch). */
static ms_status buffer_reserve_n(ms_buffer *b, size_t n)
{
    ms_buffer_reset(b);
    if (n > b->cap) {
        unsigned char *d = realloc(b->data, n);
        MS_CHECK(d, MS_ERR_NOMEM, "cannot read back a result of %zu bytes", n);
        b->data = d;
        b->cap = n;
    }
    return MS_SUCCESS;
}

/* Reads the result packed at pos (len bytes) in the journal into r. */
static ms_status load(ms_results *res, uint64_t pos, uint32_t len, ms_result *r)
{
    ms_status st = buffer_reserve_n(&res->buf, len);
    if (st != MS_SUCCESS) return st;
    unsigned char *tmp = res->buf.data;
    st = ms_journal_read(res->journal, pos, tmp, len);
    size_t at = 0;
    if (st == MS_SUCCESS) st = ms_result_unpack(tmp, len, &at, r);
    return st;
}

/* ---- formatting helpers -------------------------------------------------------------------- */

/* "file@offset" (a JSON Lines record) or "file#index" into out (n >= MS_TASK_PATH_MAX + 32:
 * never cut). Written without printf: it runs several times per output row. */
static void record_key(const ms_result *r, char *out, size_t n)
{
    size_t k = strnlen(r->file, n - 24);
    memcpy(out, r->file, k);
    if (r->format == MS_FORMAT_JSONL && r->offset >= 0) {
        out[k++] = '@';
        ms_format_i64(r->offset, out + k);
    } else {
        out[k++] = '#';
        ms_format_u64((unsigned long long)r->index, out + k);
    }
}

/* An unsigned number and then the character after, to a CSV row. */
static void csv_u64(FILE *f, unsigned long long v, int after)
{
    char t[24];
    fwrite(t, 1, ms_format_u64(v, t), f);
    if (after) fputc(after, f);
}

/* Result flags, then the names of the validation checks that warned. */
static void flags_text(uint32_t flags, uint32_t warnings, char *out, size_t n)
{
    out[0] = '\0';
    const char *names[] = {"disordered", "warnings", "li"};
    for (int i = 0; i < 3; i++) {
        if (!(flags & (1u << i))) continue;
        size_t k = strlen(out);
        snprintf(out + k, n - k, "%s%s", k ? "|" : "", names[i]);
    }
    for (int c = 0; c < MS_CHECK_COUNT; c++) {
        if (!(warnings & (1u << c))) continue;
        size_t k = strlen(out);
        snprintf(out + k, n - k, "%s%s", k ? "|" : "", ms_check_get((ms_check_id)c)->name);
    }
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* A JSON string of a name or id: as it is when it is UTF-8 (JSON's rule, and jansson's), else
 * escaped (outfile.h: invalid bytes as \xHH), so that provenance is never dropped. */
static json_t *jstr(const char *s)
{
    if (ms_utf8_valid(s)) return json_string(s);
    size_t n = 4 * strlen(s) + 1;
    char *e = malloc(n);
    if (!e) return json_null();
    ms_name_escape(s, e, n);
    json_t *j = json_string(e);
    free(e);
    return j;
}

/* The outputs of finish, each written beside its final name and renamed into place together
 * at the end (outfile.h): a failure on the way leaves the previous complete outputs. */
enum { OUT_RANKED_CSV, OUT_RANKED_JSONL, OUT_ERRORS, OUT_QUALITY, OUT_MANIFEST, N_OUT };
static const char *const out_names[N_OUT] = {"ranked.csv", "ranked.jsonl", "errors.csv",
                                             "quality.json", "manifest.json"};

static ms_status open_out(const ms_results *res, ms_atomic_file **out, int k)
{
    char *path = ms_path_join(res->dir, out_names[k]);
    MS_CHECK(path, MS_ERR_NOMEM, "out of memory");
    ms_status st = ms_atomic_open(path, &out[k]);
    free(path);
    return st;
}

static ms_status write_json_file(json_t *o, const ms_results *res, ms_atomic_file **out, int k)
{
    MS_CALL(open_out(res, out, k));
    errno = 0;
    int rc = json_dumpf(o, ms_atomic_stream(out[k]),
                        JSON_PRESERVE_ORDER | JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    MS_CHECK(rc == 0, MS_ERR_IO, "%s: cannot write: %s", ms_atomic_path(out[k]),
             strerror(errno ? errno : EIO));
    return MS_SUCCESS;
}

/* ---- finish -------------------------------------------------------------------------------- */

/* screen --explain: r->explain ("name\tvalue\tcontribution\n" lines) as the compact CSV text
 * "name=value:contribution; ..." into out, and as a JSON array of {feature, value, contribution}
 * into w. */
static void explain_parse(const char *e, char *out, size_t cap, ms_json_writer *w)
{
    size_t at = 0;
    out[0] = '\0';
    ms_json_array_begin(w);
    while (*e) {
        const char *t1 = strchr(e, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        const char *nl = t2 ? strchr(t2 + 1, '\n') : NULL;
        if (!nl) break;
        char name[512];
        snprintf(name, sizeof name, "%.*s", (int)(t1 - e), e);
        double v = strtod(t1 + 1, NULL), c = strtod(t2 + 1, NULL);
        ms_json_object_begin(w);
        ms_json_key(w, "feature");
        ms_json_string(w, name);
        ms_json_key(w, "value");
        ms_json_real(w, v);
        ms_json_key(w, "contribution");
        ms_json_real(w, c);
        ms_json_object_end(w);
        int n = snprintf(out + at, cap - at, "%s%s=%.*s:%.*s", at ? "; " : "", name,
                         (int)(t2 - t1 - 1), t1 + 1, (int)(nl - t2 - 1), t2 + 1);
        if (n > 0 && (size_t)n < cap - at) at += (size_t)n;
        e = nl + 1;
    }
    ms_json_array_end(w);
}

/* Writes a JSON member "key":value where value is a "%.10g" text (empty: not finite -> null). */
static void json_num_g(ms_json_writer *w, const char *key, const char *g)
{
    ms_json_key(w, key);
    if (g[0]) ms_json_real_g(w, g);
    else ms_json_null(w);
}

/* A ranked row's numbers as printf's "%.10g" text, formatted once for both files ("": not
 * finite, null in JSON). */
enum { N_NUM = 10 };
static const char *const num_names[N_NUM] = {
    "n_atoms", "volume", "density", "volume_per_atom", "li_fraction", "class_prob",
    "surrogate_mean", "surrogate_sigma", "acquisition", "score"};
typedef struct row_numbers {
    char g[N_NUM][32], gd[32];
} row_numbers;

static void format_numbers(const ms_result *r, row_numbers *nb)
{
    const double v[N_NUM] = {r->n_atoms, r->volume, r->density, r->volume_per_atom, r->li_fraction,
                             r->class_prob, r->mean, r->sigma, r->acquisition, r->score};
    for (size_t i = 0; i < N_NUM; i++) {
        if (isfinite(v[i])) ms_format_g(v[i], 10, nb->g[i]); /* printf's %.10g */
        else nb->g[i][0] = '\0';
    }
    if (isfinite(r->domain_score)) ms_format_g(r->domain_score, 10, nb->gd);
    else nb->gd[0] = '\0';
}

/* One ranked.csv row. */
static void write_csv_row(FILE *csv, const ms_result *r, size_t rank, uint32_t dups,
                          const char *sources, const char *key, const char *flags,
                          const row_numbers *nb, int explain, ms_json_writer *why)
{
    csv_u64(csv, rank, ',');
    ms_csv_write_field(csv, key);
    fputc(',', csv);
    ms_csv_write_field(csv, r->file);
    fputc(',', csv);
    ms_csv_write_field(csv, r->block);
    fputc(',', csv);
    fputs(ms_source_db_name((ms_source_db)r->db), csv);
    fputc(',', csv);
    ms_csv_write_field(csv, r->source_id);
    fputc(',', csv);
    ms_csv_write_field(csv, sources);
    fputc(',', csv);
    ms_csv_write_field(csv, r->formula);
    fputc(',', csv);
    if (r->spacegroup > 0) csv_u64(csv, (unsigned long long)r->spacegroup, 0);
    fputc(',', csv);
    csv_u64(csv, r->n_sites, 0);
    for (size_t i = 0; i < N_NUM; i++) {
        fputc(',', csv);
        fputs(nb->g[i], csv);
    }
    fputc(',', csv);
    csv_u64(csv, dups, ',');
    fputs(flags, csv);
    fputc(',', csv);
    /* the domain columns come after the older ones, so that their readers keep working; the
     * optional explain column is last */
    fputs(nb->gd, csv);
    fputc(',', csv);
    if (r->in_domain >= 0) csv_u64(csv, (unsigned long long)r->in_domain, 0);
    fputc(',', csv);
    ms_csv_write_field(csv, r->domain_reason);
    if (explain) {
        char compact[2 * MS_RESULT_EXPLAIN_MAX];
        ms_json_writer_reset(why);
        explain_parse(r->explain, compact, sizeof compact, why);
        fputc(',', csv);
        ms_csv_write_field(csv, compact);
    }
    fputc('\n', csv);
}

/* One ranked.jsonl row into o (reset first): jansson's bytes (json_writer.h), at a fraction of
 * the cost of building and dumping a jansson object per row. members is the JSON array of the
 * group's keys (mlen bytes); why receives the explanation array when explain is set. */
static void format_jsonl_row(ms_json_writer *o, const ms_result *r, size_t rank, uint32_t dups,
                             const char *sources, const char *members, size_t mlen,
                             const char *key, const char *flags, const row_numbers *nb,
                             int explain, ms_json_writer *why)
{
    ms_json_writer_reset(o);
    ms_json_object_begin(o);
    ms_json_key(o, "rank");
    ms_json_integer(o, (long long)rank);
    ms_json_key(o, "key");
    ms_json_string(o, key);
    ms_json_key(o, "file");
    ms_json_string(o, r->file);
    ms_json_key(o, "block");
    ms_json_string(o, r->block);
    ms_json_key(o, "index");
    ms_json_integer(o, (long long)r->index);
    ms_json_key(o, "offset");
    if (r->offset >= 0) ms_json_integer(o, r->offset);
    else ms_json_null(o);
    ms_json_key(o, "source_db");
    ms_json_string(o, ms_source_db_name((ms_source_db)r->db));
    ms_json_key(o, "source_id");
    ms_json_string(o, r->source_id);
    ms_json_key(o, "sources");
    ms_json_string(o, sources);
    ms_json_key(o, "members");
    ms_json_raw(o, members, mlen);
    ms_json_key(o, "formula");
    ms_json_string(o, r->formula);
    ms_json_key(o, "spacegroup");
    if (r->spacegroup > 0) ms_json_integer(o, r->spacegroup);
    else ms_json_null(o);
    ms_json_key(o, "n_sites");
    ms_json_integer(o, r->n_sites);
    for (size_t i = 0; i < N_NUM; i++) json_num_g(o, num_names[i], nb->g[i]);
    ms_json_key(o, "duplicates");
    ms_json_integer(o, dups);
    char hash[17];
    ms_hash_format(r->content_hash, hash);
    ms_json_key(o, "content_hash");
    ms_json_string(o, hash);
    ms_json_key(o, "flags");
    ms_json_string(o, flags);
    json_num_g(o, "domain_score", nb->gd);
    ms_json_key(o, "in_domain");
    if (r->in_domain >= 0) ms_json_bool(o, r->in_domain);
    else ms_json_null(o);
    ms_json_key(o, "domain_reason");
    ms_json_string(o, r->domain_reason);
    if (explain) {
        char compact[2 * MS_RESULT_EXPLAIN_MAX];
        ms_json_writer_reset(why);
        explain_parse(r->explain, compact, sizeof compact, why);
        ms_json_key(o, "explain");
        ms_json_raw(o, why->data, why->n);
    }
    ms_json_object_end(o);
}

/* ---- the ranked files' writer threads ---------------------------------------------------- */

/* ranked.csv and ranked.jsonl are formatted and written by two threads while the ranked pass
 * reads the sorted index, the journal and the member file (docs/scale.md, session 4): a
 * pipeline of three stages - the pass (index, journal read, group's sources), ranked.csv's
 * thread (numbers formatted once, printf's "%.10g", the CSV row) and ranked.jsonl's thread (the
 * JSON row, from the numbers ranked.csv's thread hands on) - each on a core when there are
 * three, two stages sharing one when there are two. Rows go from stage to stage in batches of
 * about RW_BATCH bytes, three buffers per thread in turn (one being filled, one queued, one
 * being written), so memory is bounded and hand-overs are few (a few hundred per 100,000
 * rows). A row in a batch: u64 rank, u32 duplicates, u32 n + the packed result (farm.h), u32 n
 * + the sources text, u32 n + the members JSON; to ranked.jsonl's thread also the numbers'
 * texts and the flags, each NUL-terminated. A thread makes no MPI call; a failure is a flag
 * the pass turns into its error after joining. When a thread cannot be started its stage runs
 * in the thread that feeds it, batch by batch in the same order: the same bytes. */
#define RW_BATCH ((size_t)256 << 10)
#define RW_BUFS 3

typedef struct row_writer row_writer;
struct row_writer {
    FILE *f;
    row_writer *next;            /* ranked.csv's writer: ranked.jsonl's, which it feeds; NULL */
    int csv;                     /* 1: ranked.csv rows, 0: ranked.jsonl rows */
    int explain;
    pthread_t thread;
    int started;                 /* the thread runs */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ms_buffer buf[RW_BUFS];
    int free_list[RW_BUFS], n_free; /* buffers nobody holds */
    int queued;                  /* a full batch waiting for the thread (-1: none) */
    int cur;                     /* the batch being filled by the pass (-1: none) */
    int done;                    /* no more batches */
    int failed;                  /* a row could not be formatted (out of memory) or unpacked */
    ms_result *r;                /* the thread's own scratch */
    ms_json_writer row, why;
};

static void rw_submit(row_writer *jw);
static ms_status rw_row_begin(row_writer *jw, const unsigned char *packed, uint32_t plen,
                              size_t rank, uint32_t dups);
static ms_status rw_row_end(row_writer *jw, const char *sources, const ms_json_writer *members,
                            const row_numbers *nb, const char *flags);

static int get_u32(const unsigned char **p, const unsigned char *end, uint32_t *v)
{
    if ((size_t)(end - *p) < 4) return -1;
    memcpy(v, *p, 4);
    *p += 4;
    return 0;
}

static const char *get_cstr(const unsigned char **p, const unsigned char *end)
{
    const unsigned char *z = memchr(*p, '\0', (size_t)(end - *p));
    if (!z) return NULL;
    const char *s = (const char *)*p;
    *p = z + 1;
    return s;
}

/* Formats and writes the rows of one batch; ranked.csv's writer hands each row on to
 * ranked.jsonl's with the numbers and flags it formatted. */
static void rw_write_batch(row_writer *jw, const ms_buffer *b)
{
    const unsigned char *p = b->data, *end = b->data + b->n;
    while (p < end && !jw->failed) {
        uint64_t rank;
        uint32_t dups, plen, slen, mlen;
        row_numbers nb;
        if ((size_t)(end - p) < 12) break;
        memcpy(&rank, p, 8);
        memcpy(&dups, p + 8, 4);
        p += 12;
        size_t at = 0;
        if (get_u32(&p, end, &plen) || (size_t)(end - p) < plen ||
            ms_result_unpack(p, plen, &at, jw->r) != MS_SUCCESS)
            break;
        const unsigned char *packed = p;
        p += plen;
        if (get_u32(&p, end, &slen) || (size_t)(end - p) < slen || !slen || p[slen - 1]) break;
        const char *sources = (const char *)p;
        p += slen;
        if (get_u32(&p, end, &mlen) || (size_t)(end - p) < mlen) break;
        const char *members = (const char *)p;
        p += mlen;
        char key[MS_TASK_PATH_MAX + 32], flags_buf[512];
        record_key(jw->r, key, sizeof key);
        const char *flags = flags_buf;
        if (jw->csv) { /* numbers formatted once, here, for both files */
            flags_text(jw->r->flags, jw->r->warnings, flags_buf, sizeof flags_buf);
            format_numbers(jw->r, &nb);
            write_csv_row(jw->f, jw->r, (size_t)rank, dups, sources, key, flags, &nb, jw->explain,
                          &jw->why);
            if (jw->why.failed) break;
            ms_json_writer mw = {.data = (char *)members, .n = mlen};
            if (rw_row_begin(jw->next, packed, plen, (size_t)rank, dups) != MS_SUCCESS ||
                rw_row_end(jw->next, sources, &mw, &nb, flags) != MS_SUCCESS)
                break;
            continue;
        }
        const char *t = NULL;
        for (size_t i = 0; i <= N_NUM; i++) {
            if (!(t = get_cstr(&p, end)) || strlen(t) >= sizeof nb.gd) break;
            strcpy(i < N_NUM ? nb.g[i] : nb.gd, t);
        }
        if (!t || !(flags = get_cstr(&p, end))) break;
        format_jsonl_row(&jw->row, jw->r, (size_t)rank, dups, sources, members, mlen, key, flags,
                         &nb, jw->explain, &jw->why);
        if (jw->row.failed || jw->why.failed) break;
        fwrite(jw->row.data, 1, jw->row.n, jw->f);
        fputc('\n', jw->f);
    }
    if (p != end) jw->failed = 1;
}

/* The writer threads inherit rank 0's CPU binding and keep it: a binding is the user's, the
 * batch system's or the launcher's decision (taskset, Slurm's --cpu-bind, mpirun --bind-to),
 * never matscreen's. Under Open MPI's default per-core binding (up to 2 ranks) they share rank
 * 0's core; with --bind-to none, or socket binding (Open MPI's default above 2 ranks), they
 * use the cores the waiting ranks leave idle (docs/scale.md, session 4). */
static void *rw_main(void *arg)
{
    row_writer *jw = arg;
    pthread_mutex_lock(&jw->mu);
    for (;;) {
        while (jw->queued < 0 && !jw->done) pthread_cond_wait(&jw->cv, &jw->mu);
        if (jw->queued < 0) break; /* done, nothing queued */
        int k = jw->queued;
        jw->queued = -1;
        pthread_cond_broadcast(&jw->cv);
        pthread_mutex_unlock(&jw->mu);
        rw_write_batch(jw, &jw->buf[k]);
        ms_buffer_reset(&jw->buf[k]);
        pthread_mutex_lock(&jw->mu);
        jw->free_list[jw->n_free++] = k;
        pthread_cond_broadcast(&jw->cv);
    }
    pthread_mutex_unlock(&jw->mu);
    return NULL;
}

static ms_status rw_start(row_writer *jw, FILE *f, row_writer *next, int explain)
{
    memset(jw, 0, sizeof *jw);
    jw->f = f;
    jw->next = next;
    jw->csv = next != NULL;
    jw->explain = explain;
    jw->queued = -1;
    jw->cur = 0;
    for (int k = 1; k < RW_BUFS; k++) jw->free_list[jw->n_free++] = k;
    ms_json_writer_init(&jw->row, 10);
    ms_json_writer_init(&jw->why, 10);
    jw->r = malloc(sizeof *jw->r);
    MS_CHECK(jw->r, MS_ERR_NOMEM, "cannot write the ranked rows");
    if (!ms_comm_threads_allowed()) return MS_SUCCESS; /* MPI_THREAD_SINGLE: inline */
    if (pthread_mutex_init(&jw->mu, NULL) != 0) return MS_SUCCESS; /* no thread: inline */
    if (pthread_cond_init(&jw->cv, NULL) != 0) {
        pthread_mutex_destroy(&jw->mu);
        return MS_SUCCESS;
    }
    jw->started = pthread_create(&jw->thread, NULL, rw_main, jw) == 0;
    if (!jw->started) {
        pthread_cond_destroy(&jw->cv);
        pthread_mutex_destroy(&jw->mu);
    }
    return MS_SUCCESS;
}

/* Hands the batch being filled to the thread (or writes it here without one) and takes a free
 * buffer for the next rows. */
static void rw_submit(row_writer *jw)
{
    if (!jw->started) {
        rw_write_batch(jw, &jw->buf[jw->cur]);
        ms_buffer_reset(&jw->buf[jw->cur]);
        return;
    }
    pthread_mutex_lock(&jw->mu);
    while (jw->queued >= 0) pthread_cond_wait(&jw->cv, &jw->mu);
    jw->queued = jw->cur;
    pthread_cond_broadcast(&jw->cv);
    while (jw->n_free == 0) pthread_cond_wait(&jw->cv, &jw->mu);
    jw->cur = jw->free_list[--jw->n_free];
    pthread_mutex_unlock(&jw->mu);
}

/* Queues one row in two steps: its rank, duplicates and packed result (read from the journal
 * into a buffer the group's members then reuse), then the group's sources and members; the
 * batch is submitted once it is full. */
static ms_status rw_row_begin(row_writer *jw, const unsigned char *packed, uint32_t plen,
                              size_t rank, uint32_t dups)
{
    ms_buffer *b = &jw->buf[jw->cur];
    uint64_t rk = rank;
    ms_status st = ms_buffer_append(b, &rk, 8);
    if (st == MS_SUCCESS) st = ms_buffer_append(b, &dups, 4);
    if (st == MS_SUCCESS) st = ms_buffer_append(b, &plen, 4);
    if (st == MS_SUCCESS) st = ms_buffer_append(b, packed, plen);
    return st;
}

static ms_status rw_row_end(row_writer *jw, const char *sources, const ms_json_writer *members,
                            const row_numbers *nb, const char *flags)
{
    ms_buffer *b = &jw->buf[jw->cur];
    uint32_t slen = (uint32_t)strlen(sources) + 1, mlen = (uint32_t)members->n;
    ms_status st = ms_buffer_append(b, &slen, 4);
    if (st == MS_SUCCESS) st = ms_buffer_append(b, sources, slen);
    if (st == MS_SUCCESS) st = ms_buffer_append(b, &mlen, 4);
    if (st == MS_SUCCESS) st = ms_buffer_append(b, members->data, mlen);
    for (size_t i = 0; nb && st == MS_SUCCESS && i <= N_NUM; i++) {
        const char *t = i < N_NUM ? nb->g[i] : nb->gd;
        st = ms_buffer_append(b, t, strlen(t) + 1);
    }
    if (nb && st == MS_SUCCESS) st = ms_buffer_append(b, flags, strlen(flags) + 1);
    if (st == MS_SUCCESS && b->n >= RW_BATCH) rw_submit(jw);
    return st;
}

/* Writes what is left, stops and joins the thread, frees everything. MS_ERR_NOMEM when a row
 * could not be formatted (a write error is the stream's, seen when the file is synced). */
static ms_status rw_finish(row_writer *jw)
{
    if (jw->r && jw->buf[jw->cur].n) rw_submit(jw);
    if (jw->started) {
        pthread_mutex_lock(&jw->mu);
        jw->done = 1;
        pthread_cond_broadcast(&jw->cv);
        pthread_mutex_unlock(&jw->mu);
        pthread_join(jw->thread, NULL);
        pthread_cond_destroy(&jw->cv);
        pthread_mutex_destroy(&jw->mu);
        jw->started = 0;
    }
    int failed = jw->failed;
    for (int k = 0; k < RW_BUFS; k++) ms_buffer_free(&jw->buf[k]);
    ms_json_writer_free(&jw->row);
    ms_json_writer_free(&jw->why);
    free(jw->r);
    jw->r = NULL;
    MS_CHECK(!failed, MS_ERR_NOMEM, "cannot format the rows of %s",
             jw->csv ? "ranked.csv" : "ranked.jsonl");
    return MS_SUCCESS;
}

static void write_error_row(FILE *f, const ms_result *r)
{
    char key[MS_TASK_PATH_MAX + 32];
    record_key(r, key, sizeof key);
    ms_csv_write_field(f, key);
    fputc(',', f);
    ms_csv_write_field(f, r->file);
    fputc(',', f);
    ms_csv_write_field(f, r->block);
    fprintf(f, ",%llu,", (unsigned long long)r->index);
    if (r->offset >= 0) fprintf(f, "%lld", r->offset);
    fprintf(f, ",%s,", ms_source_db_name((ms_source_db)r->db));
    ms_csv_write_field(f, r->source_id);
    fprintf(f, ",%s,%s,", ms_stage_name((ms_stage)r->stage), ms_strerror((ms_status)r->status));
    ms_csv_write_field(f, r->reason);
    fputc('\n', f);
}

/* Appends "db:id" of r (its key when it names no id) to text, ';'-separated. */
static ms_status append_source(ms_buffer *text, const ms_result *r)
{
    char key[MS_TASK_PATH_MAX + 32];
    const char *db = ms_source_db_name((ms_source_db)r->db), *id = r->source_id;
    if (!id[0]) {
        record_key(r, key, sizeof key);
        id = key;
    }
    if (text->n) MS_CALL(ms_buffer_append(text, ";", 1));
    MS_CALL(ms_buffer_append(text, db, strlen(db)));
    MS_CALL(ms_buffer_append(text, ":", 1));
    return ms_buffer_append(text, id, strnlen(id, MS_TASK_PATH_MAX + MS_SOURCE_ID_MAX));
}

/* ---- member file --------------------------------------------------------------------------- */

/* DIR/tmp-results-PID-members.XXXXXX: the members of every group with duplicates, other than
 * the representative, in group order (trust order inside a group); the representative's mfirst
 * says where its group starts. Written by the group pass, read back in rank order. */
typedef struct member_file {
    char *path;
    FILE *f;
    uint64_t n;
} member_file;

static ms_status member_file_open(const ms_results *res, member_file *mf)
{
    char name[64];
    snprintf(name, sizeof name, TMP_PREFIX "%ld-members.XXXXXX", (long)getpid());
    mf->path = ms_path_join(res->dir, name);
    MS_CHECK(mf->path, MS_ERR_NOMEM, "cannot allocate a file name");
    int fd = mkstemp(mf->path);
    if (fd < 0) {
        ms_status st = ms_error_set(MS_ERR_IO, "%s: cannot create the group member file: %s",
                                    mf->path, strerror(errno));
        free(mf->path);
        mf->path = NULL;
        return st;
    }
    mf->f = fdopen(fd, "w+b");
    if (!mf->f) close(fd);
    MS_CHECK(mf->f, MS_ERR_IO, "%s: cannot open the group member file: %s", mf->path,
             strerror(errno));
    return MS_SUCCESS;
}

static ms_status member_write(member_file *mf, const entry *e)
{
    member m = {e->pos, e->len, 0};
    MS_CHECK(fwrite(&m, sizeof m, 1, mf->f) == 1, MS_ERR_IO,
             "%s: cannot write the group member file: %s", mf->path, strerror(errno ? errno : EIO));
    mf->n++;
    return MS_SUCCESS;
}

/* Ends writing: a full disk shows up at the flush at the latest. */
static ms_status member_file_written(member_file *mf)
{
    MS_CHECK(fflush(mf->f) == 0 && !ferror(mf->f), MS_ERR_IO,
             "%s: cannot write the group member file: %s", mf->path, strerror(errno ? errno : EIO));
    return MS_SUCCESS;
}

static ms_status member_seek(member_file *mf, uint64_t k)
{
    MS_CHECK(k <= mf->n && fseeko(mf->f, (off_t)(k * sizeof(member)), SEEK_SET) == 0, MS_ERR_IO,
             "%s: cannot seek to group member %llu: %s", mf->path, (unsigned long long)k,
             strerror(errno ? errno : EINVAL));
    return MS_SUCCESS;
}

static ms_status member_read(member_file *mf, member *m)
{
    MS_CHECK(fread(m, sizeof *m, 1, mf->f) == 1, MS_ERR_IO,
             "%s: cannot read the group member file: %s", mf->path,
             ferror(mf->f) ? strerror(errno ? errno : EIO) : "file is short");
    return MS_SUCCESS;
}

static void member_file_remove(member_file *mf)
{
    if (mf->f) fclose(mf->f);
    if (mf->path) unlink(mf->path);
    free(mf->path);
    memset(mf, 0, sizeof *mf);
}

/* Sources text of a group (rep r already loaded; its other members are next in the member file)
 * and its property conflicts. */
static ms_status group_sources(ms_results *res, member_file *mf, const entry *rep,
                               const ms_result *r, ms_result *mr, ms_buffer *text, ms_json_writer *keys,
                               json_t *conflicts, size_t *n_conflicts, size_t *n_conflict_groups)
{
    char key[MS_TASK_PATH_MAX + 32];
    ms_buffer_reset(text);
    ms_json_writer_reset(keys);
    ms_json_array_begin(keys);
    MS_CALL(append_source(text, r));
    record_key(r, key, sizeof key);
    ms_json_string(keys, key);
    double lo[MS_RESULT_N_PROPS], hi[MS_RESULT_N_PROPS];
    size_t cnt[MS_RESULT_N_PROPS];
    for (size_t p = 0; p < MS_RESULT_N_PROPS; p++) {
        lo[p] = hi[p] = r->props[p];
        cnt[p] = isfinite(r->props[p]) ? 1 : 0;
    }
    size_t n = rep->dups + (size_t)1;
    if (n > 1) MS_CALL(member_seek(mf, rep->mfirst));
    for (size_t k = 1; k < n; k++) {
        member m;
        MS_CALL(member_read(mf, &m));
        MS_CALL(load(res, m.pos, m.len, mr));
        MS_CALL(append_source(text, mr));
        record_key(mr, key, sizeof key);
        ms_json_string(keys, key);
        for (size_t p = 0; p < MS_RESULT_N_PROPS; p++) {
            double v = mr->props[p];
            if (!isfinite(v)) continue;
            if (!cnt[p]++) lo[p] = hi[p] = v;
            if (v < lo[p]) lo[p] = v;
            if (v > hi[p]) hi[p] = v;
        }
    }
    int any = 0;
    for (size_t p = 0; p < MS_RESULT_N_PROPS && n > 1; p++) {
        double mx = fmax(fabs(lo[p]), fabs(hi[p]));
        if (cnt[p] < 2 || hi[p] - lo[p] <= fmax(0.05 * mx, 0.01)) continue;
        (*n_conflicts)++;
        any = 1;
        if (json_array_size(conflicts) < MAX_CONFLICTS_LISTED) {
            record_key(r, key, sizeof key);
            json_array_append_new(conflicts, json_pack("{s:o,s:s,s:f,s:f,s:I}", "key", jstr(key),
                                  "property", ms_result_prop_name(p), "min", lo[p], "max", hi[p],
                                  "values", (json_int_t)cnt[p]));
        }
    }
    if (any) (*n_conflict_groups)++;
    ms_json_array_end(keys);
    MS_CHECK(!keys->failed, MS_ERR_NOMEM, "cannot hold the member keys of a group of %zu", n);
    return ms_buffer_append(text, "", 1); /* NUL */
}

/* De-duplication (results.h) as a stream: screened records in grouping order; a group is the
 * records of one key whose fingerprint volumes lie within 3% of the group's smallest. The
 * representative is the most trusted member; it goes to ranks (rank order) with its number of
 * duplicates and where the other members start in the member file.
 * One group is held in memory while it is formed (88 bytes per member): groups are small in
 * real data, and a pathological one (1e5 copies of one structure: 8 MB) is the limit of the
 * bounded-memory claim (docs/engine.md). */
static ms_status group_pass(ms_results *res, const ms_dedup_options *trust, ms_extsort *ranks,
                            member_file *mf, size_t *n_unique, size_t *n_dup)
{
    MS_CALL(ms_extsort_finish(res->groups));
    entry *g = NULL, next;
    size_t gn = 0, gcap = 0;
    int got;
    ms_status st = ms_extsort_next(res->groups, &next, &got);
    while (st == MS_SUCCESS && got) {
        gn = 0;
        const uint64_t key = next.dedup;
        const double v0 = next.fpv;
        do {
            if (ms_array_reserve(&g, &gcap, gn + 1, sizeof *g, 64) != MS_SUCCESS) {
                st = ms_error_set(MS_ERR_NOMEM, "cannot hold a group of %zu duplicates", gn + 1);
                break;
            }
            g[gn++] = next;
            st = ms_extsort_next(res->groups, &next, &got);
        } while (st == MS_SUCCESS && got && next.dedup == key && !isnan(v0) && !isnan(next.fpv) &&
                 next.fpv <= v0 * (1 + DEDUP_VOLUME_TOL));
        if (st != MS_SUCCESS) break;
        qsort_r(g, gn, sizeof *g, cmp_trust, (void *)trust); /* distinct records: a total order */
        g[0].dups = (uint32_t)(gn - 1);
        g[0].mfirst = mf->n;
        for (size_t k = 1; st == MS_SUCCESS && k < gn; k++) st = member_write(mf, &g[k]);
        if (st == MS_SUCCESS) st = ms_extsort_add(ranks, &g[0]);
        (*n_unique)++;
        *n_dup += gn - 1;
    }
    free(g);
    if (st == MS_SUCCESS) st = member_file_written(mf);
    /* The grouping stream is consumed: its buffers and run files go before the rank pass. */
    ms_extsort_destroy(&res->groups);
    return st;
}

static const char *const ranked_header =
    "rank,key,file,block,source_db,source_id,sources,formula,spacegroup,n_sites,n_atoms,volume,density,"
    "volume_per_atom,li_fraction,class_prob,surrogate_mean,surrogate_sigma,acquisition,score,"
    "duplicates,flags,domain_score,in_domain,domain_reason\n";

/* Counts and hashes gathered by the passes of finish for quality.json and manifest.json. */
typedef struct finish_counts {
    size_t n, n_ok, n_err, n_unique, n_dup, n_conflicts, n_conflict_groups;
    size_t top_written, top_failed;
    size_t by_stage[MS_STAGE_COUNT], by_status[MS_STATUS_COUNT];
    uint64_t *input_hash; /* info->n_inputs: content hashes folded in stable-key order */
    size_t *input_records;
    ms_atomic_file *out[N_OUT];
    top_list top;
} finish_counts;

/* ranked.csv, ranked.jsonl and top/ from the representatives in rank order; the two files by
 * the writer threads above. */
static ms_status ranked_pass(ms_results *res, const ms_run_info *info,
                             const ms_element_table *elements, ms_extsort *ranks, member_file *mf,
                             json_t *conflicts, finish_counts *c)
{
    MS_CALL(ms_extsort_finish(ranks));
    ms_result *r = res->scratch, *mr = malloc(sizeof *mr);
    ms_json_writer members;
    ms_json_writer_init(&members, 10);
    ms_buffer src_text = {0};
    row_writer w[2];
    memset(w, 0, sizeof w);
    const int explain = info->explain_k > 0;
    ms_status st = mr ? MS_SUCCESS
                      : ms_error_set(MS_ERR_NOMEM, "cannot write the ranked output");
    if (st == MS_SUCCESS) st = open_out(res, c->out, OUT_RANKED_CSV);
    if (st == MS_SUCCESS) st = open_out(res, c->out, OUT_RANKED_JSONL);
    if (st == MS_SUCCESS) st = top_dir_create(res->dir, &c->top);
    FILE *csv = ms_atomic_stream(c->out[OUT_RANKED_CSV]);
    if (st == MS_SUCCESS) { /* --explain adds its column last: the others keep their places */
        fwrite(ranked_header, 1, strlen(ranked_header) - 1, csv);
        fputs(explain ? ",explain\n" : "\n", csv);
    }
    /* w[1] before w[0], which feeds it */
    if (st == MS_SUCCESS) st = rw_start(&w[1], ms_atomic_stream(c->out[OUT_RANKED_JSONL]), NULL, explain);
    if (st == MS_SUCCESS) st = rw_start(&w[0], csv, &w[1], explain);
    entry e;
    int got = 1;
    for (size_t i = 0; st == MS_SUCCESS; i++) {
        st = ms_extsort_next(ranks, &e, &got);
        if (st != MS_SUCCESS || !got) break;
        st = load(res, e.pos, e.len, r);
        if (st == MS_SUCCESS) st = rw_row_begin(&w[0], res->buf.data, e.len, i + 1, e.dups);
        if (st == MS_SUCCESS)
            st = group_sources(res, mf, &e, r, mr, &src_text, &members, conflicts,
                               &c->n_conflicts, &c->n_conflict_groups);
        if (st != MS_SUCCESS) break;
        const char *sources = (const char *)src_text.data;
        if (st == MS_SUCCESS) st = rw_row_end(&w[0], sources, &members, NULL, NULL);
        if (st == MS_SUCCESS && i < info->top_k) st = top_list_add(&c->top, r, i + 1);
    }
    for (int k = 0; k < 2; k++) { /* ranked.csv's first: it feeds ranked.jsonl's to its end */
        ms_status wst = rw_finish(&w[k]);
        if (st == MS_SUCCESS) st = wst;
    }
    if (st == MS_SUCCESS) write_top_cifs(&c->top, elements, &c->top_written, &c->top_failed);
    ms_json_writer_free(&members);
    ms_buffer_free(&src_text);
    free(mr);
    return st;
}

/* errors.csv from every record in stable-key order (the failed ones), and on the same pass the
 * manifest's input hashes: the content hashes of each input's records folded in that order. */
static ms_status stable_pass(ms_results *res, const ms_run_info *info, finish_counts *c)
{
    MS_CALL(ms_extsort_finish(res->stable));
    ms_result *r = res->scratch;
    MS_CALL(open_out(res, c->out, OUT_ERRORS));
    FILE *ef = ms_atomic_stream(c->out[OUT_ERRORS]);
    fputs("key,file,block,index,offset,source_db,source_id,stage,status,reason\n", ef);
    ms_status st = MS_SUCCESS;
    for (;;) {
        sentry s;
        int got;
        st = ms_extsort_next(res->stable, &s, &got);
        if (st != MS_SUCCESS || !got) break;
        if (s.input < info->n_inputs) {
            c->input_hash[s.input] = ms_hash_update(c->input_hash[s.input], &s.content_hash,
                                                    sizeof s.content_hash);
            c->input_records[s.input]++;
        }
        if (s.status == MS_SUCCESS) continue;
        st = load(res, s.pos, s.len, r);
        if (st != MS_SUCCESS) break;
        write_error_row(ef, r);
        c->by_stage[s.stage]++;
        c->by_status[s.status]++;
    }
    return st;
}

static ms_status write_quality(ms_results *res, const ms_run_info *info, finish_counts *c,
                               json_t *conflicts)
{
    const size_t *warn_by_check = res->warn_by_check;
    json_t *q = json_object();
    json_object_set_new(q, "records", json_integer((json_int_t)c->n));
    json_object_set_new(q, "screened", json_integer((json_int_t)c->n_ok));
    json_object_set_new(q, "failed", json_integer((json_int_t)c->n_err));
    json_object_set_new(q, "unique_candidates", json_integer((json_int_t)c->n_unique));
    json_object_set_new(q, "duplicates_merged", json_integer((json_int_t)c->n_dup));
    json_t *fs = json_object(), *fc = json_object();
    for (int s = 0; s < MS_STAGE_COUNT; s++)
        if (c->by_stage[s]) json_object_set_new(fs, ms_stage_name((ms_stage)s), json_integer((json_int_t)c->by_stage[s]));
    for (int s = 0; s < MS_STATUS_COUNT; s++)
        if (c->by_status[s]) json_object_set_new(fc, ms_strerror((ms_status)s), json_integer((json_int_t)c->by_status[s]));
    json_object_set_new(q, "failed_by_stage", fs);
    json_object_set_new(q, "failed_by_status", fc);
    /* The six criteria, as far as the stages that exist can tell. */
    json_t *crit = json_object();
    json_object_set_new(crit, "validity", json_pack("{s:I,s:I,s:I}", "read_failures",
                        (json_int_t)c->by_stage[MS_STAGE_READ], "validation_failures",
                        (json_int_t)c->by_stage[MS_STAGE_VALIDATE], "quarantined",
                        (json_int_t)c->by_stage[MS_STAGE_QUARANTINE]));
    json_object_set_new(crit, "uniqueness", json_pack("{s:I,s:I,s:s}", "unique_candidates",
                        (json_int_t)c->n_unique, "duplicates_merged", (json_int_t)c->n_dup,
                        "fingerprint", "structural: formula + space group + orbits, "
                        "primitive volume per site within 3%"));
    json_object_set_new(crit, "accuracy", json_pack("{s:I,s:I,s:I,s:I}", "formula_mismatch",
                        (json_int_t)warn_by_check[MS_CHECK_FORMULA], "charge_unbalanced",
                        (json_int_t)warn_by_check[MS_CHECK_CHARGE_BALANCE], "close_atoms",
                        (json_int_t)warn_by_check[MS_CHECK_CLOSE_ATOMS], "left_handed_cell",
                        (json_int_t)warn_by_check[MS_CHECK_VOLUME]));
    json_object_set_new(crit, "consistency", json_pack("{s:I,s:I}", "property_conflicts",
                        (json_int_t)c->n_conflicts, "groups_with_conflicts",
                        (json_int_t)c->n_conflict_groups));
    json_object_set_new(crit, "completeness", json_pack("{s:I,s:I,s:I}",
                        "symmetry_not_found_or_fallback",
                        (json_int_t)warn_by_check[MS_CHECK_SYMMETRY], "feature_failures",
                        (json_int_t)c->by_stage[MS_STAGE_FEATURES], "model_failures",
                        (json_int_t)(c->by_stage[MS_STAGE_MODELS] + c->by_stage[MS_STAGE_SCORE])));
    json_object_set_new(crit, "timeliness", json_null()); /* the records carry no dates */
    json_object_set_new(q, "criteria", crit);
    json_t *wc = json_object();
    for (int k = 0; k < MS_CHECK_COUNT; k++)
        if (warn_by_check[k])
            json_object_set_new(wc, ms_check_get((ms_check_id)k)->name,
                                json_integer((json_int_t)warn_by_check[k]));
    json_object_set_new(q, "warnings_by_check", wc);
    json_object_set_new(q, "filtered", json_integer((json_int_t)info->filtered));
    json_object_set(q, "conflicts", conflicts);
    json_object_set_new(q, "top_cif_written", json_integer((json_int_t)c->top_written));
    json_object_set_new(q, "top_cif_failed", json_integer((json_int_t)c->top_failed));
    ms_status st = write_json_file(q, res, c->out, OUT_QUALITY);
    json_decref(q);
    return st;
}

static ms_status write_manifest(ms_results *res, const ms_run_info *info, finish_counts *c)
{
    json_t *m = json_object(), *inputs = json_array(), *cmd = json_array();
    json_object_set_new(m, "program", json_string("matscreen"));
    json_object_set_new(m, "version", jstr(MS_VERSION));
    for (int i = 0; i < info->argc; i++) json_array_append_new(cmd, jstr(info->argv[i]));
    json_object_set_new(m, "command", cmd);
    char hx[17];
    for (size_t k = 0; k < info->n_inputs; k++) {
        ms_hash_format(c->input_hash[k], hx);
        json_array_append_new(inputs, json_pack("{s:o,s:I,s:s}", "spec", jstr(info->inputs[k]),
                                                "records", (json_int_t)c->input_records[k],
                                                "hash", hx));
    }
    json_object_set_new(m, "inputs", inputs);
    json_t *trust = json_array(); /* the order that picked each duplicate group's representative */
    ms_dedup_options dflt;
    ms_dedup_options_default(&dflt);
    const ms_dedup_options *t = info->trust ? info->trust : &dflt;
    for (size_t k = 0; k < t->n_trust; k++)
        json_array_append_new(trust, json_string(ms_source_db_name(t->trust[k])));
    json_object_set_new(m, "trust_order", trust);
    if (info->workflow_hash) {
        ms_hash_format(info->workflow_hash, hx);
        json_object_set_new(m, "workflow_hash", jstr(hx));
    } else {
        json_object_set_new(m, "workflow_hash", json_null());
    }
    json_t *models = json_array();
    for (size_t k = 0; k < info->n_models; k++) {
        ms_hash_format(info->model_hashes[k], hx);
        json_array_append_new(models, json_pack("{s:o,s:s,s:s}", "path",
                                                jstr(info->model_paths[k]), "role",
                                                info->model_roles[k], "hash", hx));
    }
    json_object_set_new(m, "models", models);
    json_object_set_new(m, "descriptor_set", info->descriptor_set ?
                        json_pack("{s:s,s:i}", "name", info->descriptor_set, "version",
                                  info->descriptor_version) : json_null());
    ms_hash_format(info->identity, hx);
    json_object_set_new(m, "identity", jstr(hx));
    json_object_set_new(m, "cache_hits", json_integer((json_int_t)info->cache_hits));
    json_object_set_new(m, "reused_records", json_integer((json_int_t)info->reused));
    json_object_set_new(m, "ranks", json_integer(info->ranks));
    json_object_set_new(m, "seed", json_integer((json_int_t)info->seed));
    json_object_set_new(m, "rank_by", jstr(info->rank_by));
    json_object_set_new(m, "ascending", json_boolean(info->ascending));
    json_object_set_new(m, "acquisition_best", info->best_source ?
                        json_pack("{s:o,s:s}", "value", jnum(info->best), "source",
                                  info->best_source) : json_null());
    json_object_set_new(m, "domain", !info->domain_mode ? json_null() :
                        json_pack("{s:s,s:o,s:I,s:I,s:I,s:I}", "mode", info->domain_mode,
                                  "threshold", jnum(info->domain_threshold), "in_domain",
                                  (json_int_t)info->in_domain, "out_of_domain",
                                  (json_int_t)info->out_of_domain, "unseen_elements",
                                  (json_int_t)info->ood_elements, "far", (json_int_t)info->ood_far));
    json_object_set_new(m, "filters", json_pack("{s:s?,s:I}", "description", info->filters,
                                                "filtered", (json_int_t)info->filtered));
    json_object_set_new(m, "top_k", json_integer((json_int_t)info->top_k));
    json_object_set_new(m, "tasks", json_integer((json_int_t)info->tasks));
    json_object_set_new(m, "task_messages", json_integer((json_int_t)info->messages));
    json_object_set_new(m, "records", json_integer((json_int_t)c->n));
    json_object_set_new(m, "timings", json_pack("{s:f,s:f,s:f}", "total_seconds",
                        info->seconds_total, "farm_seconds", info->seconds_farm,
                        "records_per_second", info->seconds_farm > 0 ?
                        (double)info->records_run / info->seconds_farm : 0.0));
    ms_status st = write_json_file(m, res, c->out, OUT_MANIFEST);
    json_decref(m);
    return st;
}

/* Puts the outputs written beside into place: top/ first, the manifest last (a manifest that
 * matches the other files says the set is complete). Every step is a rename: a kill between two
 * leaves each file whole, some of this run and some of the previous one. */
static ms_status commit_outputs(ms_results *res, finish_counts *c)
{
    for (int k = 0; k < N_OUT; k++) MS_CALL(ms_atomic_sync(c->out[k])); /* all written? */
    char *top = ms_path_join(res->dir, "top");
    MS_CHECK(top, MS_ERR_NOMEM, "out of memory");
    ms_status st = ms_dir_replace(c->top.dir, top);
    free(top);
    if (st == MS_SUCCESS) {
        free(c->top.dir);
        c->top.dir = NULL;
    }
    for (int k = 0; st == MS_SUCCESS && k < N_OUT; k++) st = ms_atomic_commit(&c->out[k]);
    return st;
}

/* The passes of finish: group pass, ranked output and top CIFs, errors + input hashes, quality,
 * manifest, all written beside; then, when every one succeeded, renamed into place.
 * Memory: the sorters' budgets, one group, the conflicts listed (at most 1000), the top-K list. */
static ms_status finish_outputs(ms_results *res, const ms_run_info *info,
                                const ms_element_table *elements, member_file *mf,
                                ms_extsort **ranks)
{
    finish_counts c;
    memset(&c, 0, sizeof c);
    c.n = (size_t)ms_extsort_count(res->stable);
    c.n_ok = (size_t)ms_extsort_count(res->groups);
    c.n_err = c.n - c.n_ok;
    size_t ni = info->n_inputs ? info->n_inputs : 1;
    c.input_hash = malloc(ni * sizeof *c.input_hash);
    c.input_records = calloc(ni, sizeof *c.input_records);
    json_t *conflicts = json_array();
    ms_status st = c.input_hash && c.input_records && conflicts
                       ? MS_SUCCESS
                       : ms_error_set(MS_ERR_NOMEM, "cannot write the outputs");
    for (size_t k = 0; st == MS_SUCCESS && k < info->n_inputs; k++) c.input_hash[k] = MS_HASH_INIT;
    if (st == MS_SUCCESS) st = member_file_open(res, mf);
    if (st == MS_SUCCESS) st = sorter_create(res, sizeof(entry), cmp_rank, "ranks", ranks);
    if (st == MS_SUCCESS) st = group_pass(res, info->trust, *ranks, mf, &c.n_unique, &c.n_dup);
    if (st == MS_SUCCESS) st = ranked_pass(res, info, elements, *ranks, mf, conflicts, &c);
    if (st == MS_SUCCESS) st = stable_pass(res, info, &c);
    if (st == MS_SUCCESS) st = write_quality(res, info, &c, conflicts);
    if (st == MS_SUCCESS) st = write_manifest(res, info, &c);
    if (st == MS_SUCCESS) st = commit_outputs(res, &c);
    for (int k = 0; k < N_OUT; k++) ms_atomic_abort(&c.out[k]);
    top_list_free(&c.top);
    json_decref(conflicts);
    free(c.input_hash);
    free(c.input_records);
    if (st == MS_SUCCESS && c.top_failed > 0) /* everything else is written; the message says which */
        st = ms_error_set(MS_ERR_IO, "%s/top: %zu of the best %zu CIFs could not be written (see "
                          "above)", res->dir, c.top_failed, c.top_failed + c.top_written);
    return st;
}

ms_status ms_results_finish(ms_results *res, const ms_run_info *info,
                            const ms_element_table *elements)
{
    MS_CHECK(res && info, MS_ERR_USAGE, "ms_results_finish: arguments required");
    MS_CHECK(!res->failed, MS_ERR_IO, "results were lost while streaming: %s", ms_error_message());
    MS_CHECK(res->groups && res->stable, MS_ERR_USAGE, "ms_results_finish: called twice");
    MS_CALL(ms_journal_flush(res->journal));
    member_file mf;
    memset(&mf, 0, sizeof mf);
    ms_extsort *ranks = NULL;
    ms_status st = finish_outputs(res, info, elements, &mf, &ranks);
    /* Every temporary file goes, whatever happened: the sorters' runs and the member file. */
    member_file_remove(&mf);
    ms_extsort_destroy(&ranks);
    ms_extsort_destroy(&res->groups);
    ms_extsort_destroy(&res->stable);
    return st;
}
