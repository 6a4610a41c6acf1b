/*
 * Cross-source de-duplication (see include/matscreen/dedup.h for the method and tolerances).
 */
#include "matscreen/dedup.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "matscreen/array.h"
#include "matscreen/hash.h"

#define RAD2DEG (180.0 / 3.14159265358979323846)

/* A cell as the comparison sees it: lattice rows, fractional positions, and for each site the
 * range [off[i], off[i + 1]) of species. */
typedef struct {
    const double (*lat)[3];
    size_t n;
    const double (*frac)[3];
    const size_t *off;
    const ms_species *sp;
} cell_view;

typedef struct {
    uint64_t key;
    long bin;
    size_t head; /* first group of the bin; MS_DEDUP_NONE for an empty slot */
} slot;

typedef struct {
    size_t seed;              /* record that started the group */
    size_t first, last;       /* member list (records) */
    size_t size;
    size_t next_in_bin;       /* next group with the same (key, bin) */
    size_t representative;
    int has_cell;
    double lattice[3][3];
    size_t n_sites, frac_at, off_at; /* into frac_pool / off_pool */
} group_t;

typedef struct {
    size_t group, next_member;
    ms_source_db db;
    size_t prop_at, n_props;
} record_t;

typedef struct {
    uint32_t name;
    double value;
} prop_t;

struct ms_dedup {
    ms_dedup_options opt;
    record_t *rec;
    size_t cap_rec;
    group_t *grp;
    size_t n_grp, cap_grp;
    slot *table;
    size_t cap_table, used_table;
    double (*frac_pool)[3];
    size_t n_frac, cap_frac;
    size_t *off_pool;
    size_t n_off, cap_off;
    ms_species *sp_pool;
    size_t n_sp, cap_sp;
    prop_t *props;
    size_t n_props, cap_props;
    char (*names)[MS_PROP_NAME_MAX];
    size_t n_names, cap_names;
    ms_dedup_conflict *conflicts;
    size_t n_conf, cap_conf;
    double (*scratch)[3];
    size_t cap_scratch;
    size_t comparisons;
    int finished;
};

void ms_dedup_options_default(ms_dedup_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->ltol = 0.01;
    opt->angle_tol = 1.0;
    opt->stol = 0.1;
    opt->occ_tol = 0.01;
    opt->prop_rtol = 0.05;
    opt->prop_atol = 0.01;
    opt->trust[0] = MS_DB_ICSD;
    opt->trust[1] = MS_DB_COD;
    opt->trust[2] = MS_DB_MP;
    opt->n_trust = 3;
}

ms_status ms_dedup_options_set_trust(ms_dedup_options *opt, const char *list)
{
    ms_source_db t[MS_DEDUP_TRUST_MAX];
    size_t n = 0;
    const char *p = list ? list : "";
    while (*p) {
        size_t len = strcspn(p, ",");
        char name[16];
        MS_CHECK(len > 0 && len < sizeof name, MS_ERR_USAGE, "trust order '%s': empty or long name",
                 list);
        memcpy(name, p, len);
        name[len] = '\0';
        ms_source_db db;
        if (strcasecmp(name, "ICSD") == 0) db = MS_DB_ICSD;
        else if (strcasecmp(name, "COD") == 0) db = MS_DB_COD;
        else if (strcasecmp(name, "MP") == 0) db = MS_DB_MP;
        else if (strcasecmp(name, "other") == 0) db = MS_DB_OTHER;
        else return ms_error_set(MS_ERR_USAGE, "trust order: unknown database '%s' (ICSD, COD, MP, other)", name);
        MS_CHECK(n < MS_DEDUP_TRUST_MAX, MS_ERR_USAGE, "trust order '%s': too many names", list);
        t[n++] = db;
        p += len;
        if (*p == ',') p++;
    }
    MS_CHECK(n > 0, MS_ERR_USAGE, "trust order is empty");
    memcpy(opt->trust, t, n * sizeof *t);
    opt->n_trust = n;
    return MS_SUCCESS;
}

ms_status ms_dedup_trust_from_inputs(ms_dedup_options *opt, const ms_source_db *db,
                                     const int *trust, size_t n)
{
    static const ms_source_db all[] = {MS_DB_ICSD, MS_DB_COD, MS_DB_MP, MS_DB_OTHER, MS_DB_UNKNOWN};
    enum { N_DB = sizeof all / sizeof all[0] };
    int rank[N_DB] = {0}; /* per database (by its place in all): the rank given, 0 none */
    size_t from[N_DB] = {0};
    for (size_t i = 0; i < n; i++) {
        if (trust[i] <= 0) continue;
        size_t d = 0;
        while (d < N_DB && all[d] != db[i]) d++;
        MS_CHECK(d < N_DB, MS_ERR_USAGE, "input %zu: unknown database code %d", i, (int)db[i]);
        MS_CHECK(!rank[d] || rank[d] == trust[i], MS_ERR_USAGE,
                 "inputs %zu and %zu are both %s but have trust %d and %d: duplicates are merged "
                 "by database, so give one database one trust rank", from[d], i,
                 ms_source_db_name(db[i]), rank[d], trust[i]);
        rank[d] = trust[i];
        from[d] = i;
    }
    ms_dedup_options o = *opt;
    o.n_trust = 0;
    /* ranked databases, smallest rank first; the order of all breaks ties (a stable pick) */
    for (int taken[N_DB] = {0};;) {
        size_t best = N_DB;
        for (size_t d = 0; d < N_DB; d++)
            if (rank[d] && !taken[d] && (best == N_DB || rank[d] < rank[best])) best = d;
        if (best == N_DB) break;
        taken[best] = 1;
        o.trust[o.n_trust++] = all[best];
    }
    if (o.n_trust == 0) {
        ms_dedup_options d;
        ms_dedup_options_default(&d);
        memcpy(o.trust, d.trust, d.n_trust * sizeof *d.trust);
        o.n_trust = d.n_trust;
    } else {
        for (size_t d = 0; d < N_DB; d++)
            if (!rank[d]) o.trust[o.n_trust++] = all[d];
    }
    *opt = o;
    return MS_SUCCESS;
}

static ms_status grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return MS_SUCCESS;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    MS_CHECK(q, MS_ERR_NOMEM, "de-duplication: cannot allocate %zu entries", n);
    *p = q;
    *cap = n;
    return MS_SUCCESS;
}

ms_status ms_dedup_create(const ms_dedup_options *opt, ms_dedup **out)
{
    *out = NULL;
    ms_dedup *d = calloc(1, sizeof *d);
    MS_CHECK(d, MS_ERR_NOMEM, "de-duplication: cannot allocate");
    if (opt) d->opt = *opt;
    else ms_dedup_options_default(&d->opt);
    *out = d;
    return MS_SUCCESS;
}

void ms_dedup_free(ms_dedup *d)
{
    if (!d) return;
    free(d->rec);
    free(d->grp);
    free(d->table);
    free(d->frac_pool);
    free(d->off_pool);
    free(d->sp_pool);
    free(d->props);
    free(d->names);
    free(d->conflicts);
    free(d->scratch);
    free(d);
}

/* ---- precise comparison ---- */

static int same_species(const cell_view *a, size_t i, const cell_view *b, size_t j, double occ_tol)
{
    size_t na = a->off[i + 1] - a->off[i], nb = b->off[j + 1] - b->off[j];
    if (na != nb) return 0;
    for (size_t p = a->off[i]; p < a->off[i + 1]; p++) {
        int found = 0;
        for (size_t q = b->off[j]; q < b->off[j + 1] && !found; q++)
            found = a->sp[p].z == b->sp[q].z && fabs(a->sp[p].occu - b->sp[q].occu) <= occ_tol;
        if (!found) return 0;
    }
    return 1;
}

static void metric(const double (*l)[3], double g[3][3])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) g[i][j] = l[i][0] * l[j][0] + l[i][1] * l[j][1] + l[i][2] * l[j][2];
}

static int metric_match(const double ga[3][3], const double gb[3][3], const ms_dedup_options *o)
{
    double la[3], lb[3];
    for (int i = 0; i < 3; i++) {
        la[i] = sqrt(ga[i][i]);
        lb[i] = sqrt(gb[i][i]);
        if (fabs(la[i] - lb[i]) > o->ltol * la[i]) return 0;
    }
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++) {
            double ca = fmax(-1, fmin(1, ga[i][j] / (la[i] * la[j])));
            double cb = fmax(-1, fmin(1, gb[i][j] / (lb[i] * lb[j])));
            if (fabs(acos(ca) - acos(cb)) * RAD2DEG > o->angle_tol) return 0;
        }
    return 1;
}

/* The 48 signed permutation matrices: perm p (6) times signs s (8). */
static void signed_perm(int index, int r[3][3])
{
    static const int perms[6][3] = {{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}, {1, 0, 2}};
    const int *p = perms[index / 8];
    int s = index % 8;
    memset(r, 0, 9 * sizeof(int));
    for (int i = 0; i < 3; i++) r[i][p[i]] = (s >> i) & 1 ? -1 : 1;
}

static int compare_cells(const cell_view *a, const cell_view *b, const ms_dedup_options *o,
                         double (*bf)[3])
{
    if (a->n != b->n || a->n == 0) return 0;
    size_t n = a->n;
    /* rarest site kind of A */
    size_t anchor = 0, best = SIZE_MAX;
    for (size_t i = 0; i < n && best > 1; i++) {
        size_t c = 0;
        for (size_t j = 0; j < n; j++) c += same_species(a, i, a, j, o->occ_tol);
        if (c < best) {
            best = c;
            anchor = i;
        }
    }
    double ga[3][3], gb[3][3];
    metric(a->lat, ga);
    metric(b->lat, gb);
    double stol2 = o->stol * o->stol;
    for (int ri = 0; ri < 48; ri++) {
        int r[3][3];
        signed_perm(ri, r);
        double gr[3][3]; /* R G_B R^T */
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                double v = 0;
                for (int k = 0; k < 3; k++)
                    for (int l = 0; l < 3; l++) v += r[i][k] * gb[k][l] * r[j][l];
                gr[i][j] = v;
            }
        if (!metric_match(ga, gr, o)) continue;
        for (size_t j = 0; j < n; j++) /* f' = f R^T */
            for (int k = 0; k < 3; k++)
                bf[j][k] = r[k][0] * b->frac[j][0] + r[k][1] * b->frac[j][1] + r[k][2] * b->frac[j][2];
        for (size_t c = 0; c < n; c++) {
            if (!same_species(a, anchor, b, c, o->occ_tol)) continue;
            double t[3];
            for (int k = 0; k < 3; k++) t[k] = a->frac[anchor][k] - bf[c][k];
            int ok = 1;
            for (size_t i = 0; i < n && ok; i++) {
                int hit = 0;
                for (size_t j = 0; j < n && !hit; j++) {
                    double d[3], x[3];
                    for (int k = 0; k < 3; k++) {
                        d[k] = a->frac[i][k] - bf[j][k] - t[k];
                        d[k] -= nearbyint(d[k]);
                    }
                    for (int k = 0; k < 3; k++)
                        x[k] = d[0] * a->lat[0][k] + d[1] * a->lat[1][k] + d[2] * a->lat[2][k];
                    if (x[0] * x[0] + x[1] * x[1] + x[2] * x[2] > stol2) continue;
                    hit = same_species(a, i, b, j, o->occ_tol);
                }
                ok = hit;
            }
            if (ok) return 1;
        }
    }
    return 0;
}

static cell_view view_of(const ms_structure *s)
{
    cell_view v = {(const double(*)[3])s->lattice, s->n_sites, (const double(*)[3])s->frac,
                   s->site_species, s->species};
    return v;
}

int ms_dedup_same_cell(const ms_structure *a, const ms_structure *b, const ms_dedup_options *opt)
{
    ms_dedup_options def;
    if (!opt) {
        ms_dedup_options_default(&def);
        opt = &def;
    }
    if (a->n_sites != b->n_sites || a->n_sites == 0) return 0;
    double(*bf)[3] = malloc(b->n_sites * sizeof *bf);
    if (!bf) return 0;
    cell_view va = view_of(a), vb = view_of(b);
    int same = compare_cells(&va, &vb, opt, bf);
    free(bf);
    return same;
}

/* ---- records, groups, bins ---- */

static ms_status reserve_record(ms_dedup *d, size_t record)
{
    size_t old = d->cap_rec;
    MS_CALL(grow((void **)&d->rec, &d->cap_rec, record + 1, sizeof *d->rec));
    for (size_t i = old; i < d->cap_rec; i++) {
        d->rec[i].group = MS_DEDUP_NONE;
        d->rec[i].next_member = MS_DEDUP_NONE;
        d->rec[i].db = MS_DB_UNKNOWN;
        d->rec[i].prop_at = d->rec[i].n_props = 0;
    }
    return MS_SUCCESS;
}

static uint64_t slot_hash(uint64_t key, long bin)
{
    uint64_t h = key ^ ((uint64_t)bin * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 29);
}

static slot *find_slot(slot *table, size_t cap, uint64_t key, long bin)
{
    size_t mask = cap - 1, i = (size_t)slot_hash(key, bin) & mask;
    while (table[i].head != MS_DEDUP_NONE && !(table[i].key == key && table[i].bin == bin))
        i = (i + 1) & mask;
    return &table[i];
}

static ms_status rehash(ms_dedup *d)
{
    size_t cap = d->cap_table ? d->cap_table * 2 : 1024;
    slot *t = malloc(cap * sizeof *t);
    MS_CHECK(t, MS_ERR_NOMEM, "de-duplication: cannot allocate the bin table");
    for (size_t i = 0; i < cap; i++) t[i].head = MS_DEDUP_NONE;
    for (size_t i = 0; i < d->cap_table; i++)
        if (d->table[i].head != MS_DEDUP_NONE) *find_slot(t, cap, d->table[i].key, d->table[i].bin) = d->table[i];
    free(d->table);
    d->table = t;
    d->cap_table = cap;
    return MS_SUCCESS;
}

static ms_status intern_name(ms_dedup *d, const char *name, uint32_t *id)
{
    for (size_t i = 0; i < d->n_names; i++)
        if (strcmp(d->names[i], name) == 0) {
            *id = (uint32_t)i;
            return MS_SUCCESS;
        }
    MS_CALL(grow((void **)&d->names, &d->cap_names, d->n_names + 1, sizeof *d->names));
    snprintf(d->names[d->n_names], MS_PROP_NAME_MAX, "%s", name);
    *id = (uint32_t)d->n_names++;
    return MS_SUCCESS;
}

static ms_status add_record(ms_dedup *d, size_t record, ms_source_db db, const ms_structure *s)
{
    MS_CHECK(!d->finished, MS_ERR_USAGE, "de-duplication: add after finish");
    MS_CHECK(record != MS_DEDUP_NONE, MS_ERR_USAGE, "de-duplication: bad record number");
    MS_CALL(reserve_record(d, record));
    MS_CHECK(d->rec[record].group == MS_DEDUP_NONE, MS_ERR_USAGE,
             "de-duplication: record %zu added twice", record);
    record_t *r = &d->rec[record];
    r->db = db;
    r->prop_at = d->n_props;
    r->n_props = 0;
    if (s && s->n_props) {
        MS_CALL(grow((void **)&d->props, &d->cap_props, d->n_props + s->n_props, sizeof *d->props));
        for (size_t i = 0; i < s->n_props; i++) {
            if (!isfinite(s->props[i].value)) continue;
            uint32_t id;
            MS_CALL(intern_name(d, s->props[i].name, &id));
            d->props[d->n_props].name = id;
            d->props[d->n_props++].value = s->props[i].value;
            d->rec[record].n_props++;
        }
    }
    return MS_SUCCESS;
}

static ms_status new_group(ms_dedup *d, size_t record, size_t *g)
{
    MS_CALL(grow((void **)&d->grp, &d->cap_grp, d->n_grp + 1, sizeof *d->grp));
    group_t *G = &d->grp[d->n_grp];
    memset(G, 0, sizeof *G);
    G->seed = G->first = G->last = G->representative = record;
    G->size = 1;
    G->next_in_bin = MS_DEDUP_NONE;
    d->rec[record].group = d->n_grp;
    *g = d->n_grp++;
    return MS_SUCCESS;
}

static void join_group(ms_dedup *d, size_t record, size_t g)
{
    group_t *G = &d->grp[g];
    d->rec[G->last].next_member = record;
    G->last = record;
    G->size++;
    d->rec[record].group = g;
}

ms_status ms_dedup_add_alone(ms_dedup *d, size_t record, ms_source_db db, const ms_structure *s,
                             size_t *group)
{
    MS_CALL(add_record(d, record, db, s));
    size_t g;
    MS_CALL(new_group(d, record, &g));
    if (group) *group = g;
    return MS_SUCCESS;
}

ms_status ms_dedup_add(ms_dedup *d, size_t record, const ms_fingerprint *fp,
                       const ms_structure *conventional, ms_source_db db, const ms_structure *s,
                       size_t *group)
{
    if (!fp || !conventional || conventional->n_sites == 0)
        return ms_dedup_add_alone(d, record, db, s, group);
    MS_CALL(add_record(d, record, db, s));
    MS_CALL(grow((void **)&d->scratch, &d->cap_scratch, conventional->n_sites, sizeof *d->scratch));
    cell_view vb = view_of(conventional);
    for (long bin = fp->volume_bin - 1; d->cap_table && bin <= fp->volume_bin + 1; bin++) {
        slot *sl = find_slot(d->table, d->cap_table, fp->key, bin);
        for (size_t g = sl->head; g != MS_DEDUP_NONE; g = d->grp[g].next_in_bin) {
            const group_t *G = &d->grp[g];
            if (G->n_sites != conventional->n_sites) continue;
            cell_view va = {(const double(*)[3])G->lattice, G->n_sites,
                            (const double(*)[3])(d->frac_pool + G->frac_at), d->off_pool + G->off_at,
                            d->sp_pool};
            d->comparisons++;
            if (compare_cells(&va, &vb, &d->opt, d->scratch)) {
                join_group(d, record, g);
                if (group) *group = g;
                return MS_SUCCESS;
            }
        }
    }
    /* a new group, seeded with this cell */
    size_t g;
    MS_CALL(new_group(d, record, &g));
    size_t n = conventional->n_sites, ns = conventional->n_species;
    MS_CALL(grow((void **)&d->frac_pool, &d->cap_frac, d->n_frac + n, sizeof *d->frac_pool));
    MS_CALL(grow((void **)&d->off_pool, &d->cap_off, d->n_off + n + 1, sizeof *d->off_pool));
    MS_CALL(grow((void **)&d->sp_pool, &d->cap_sp, d->n_sp + ns, sizeof *d->sp_pool));
    group_t *G = &d->grp[g];
    G->has_cell = 1;
    memcpy(G->lattice, conventional->lattice, sizeof G->lattice);
    G->n_sites = n;
    G->frac_at = d->n_frac;
    G->off_at = d->n_off;
    memcpy(d->frac_pool + d->n_frac, conventional->frac, n * sizeof *d->frac_pool);
    for (size_t i = 0; i <= n; i++) d->off_pool[d->n_off + i] = d->n_sp + conventional->site_species[i];
    memcpy(d->sp_pool + d->n_sp, conventional->species, ns * sizeof *d->sp_pool);
    d->n_frac += n;
    d->n_off += n + 1;
    d->n_sp += ns;
    if ((d->used_table + 1) * 2 > d->cap_table) MS_CALL(rehash(d));
    slot *sl = find_slot(d->table, d->cap_table, fp->key, fp->volume_bin);
    if (sl->head == MS_DEDUP_NONE) {
        sl->key = fp->key;
        sl->bin = fp->volume_bin;
        d->used_table++;
        sl->head = g;
    } else { /* append, so earlier groups are tried first */
        size_t t = sl->head;
        while (d->grp[t].next_in_bin != MS_DEDUP_NONE) t = d->grp[t].next_in_bin;
        d->grp[t].next_in_bin = g;
    }
    if (group) *group = g;
    return MS_SUCCESS;
}

size_t ms_dedup_trust_rank(const ms_dedup_options *o, ms_source_db db)
{
    static const ms_source_db defaults[] = {MS_DB_ICSD, MS_DB_COD, MS_DB_MP};
    const ms_source_db *t = o ? o->trust : defaults;
    size_t n = o ? o->n_trust : sizeof defaults / sizeof defaults[0];
    for (size_t i = 0; i < n; i++)
        if (t[i] == db) return i;
    return db == MS_DB_UNKNOWN ? n + 1 : n;
}

ms_status ms_dedup_finish(ms_dedup *d)
{
    MS_CHECK(!d->finished, MS_ERR_USAGE, "de-duplication: finished twice");
    d->finished = 1;
    double *lo = NULL, *hi = NULL;
    size_t *rlo = NULL, *rhi = NULL, *cnt = NULL;
    if (d->n_names) {
        lo = malloc(d->n_names * sizeof *lo);
        hi = malloc(d->n_names * sizeof *hi);
        rlo = malloc(d->n_names * sizeof *rlo);
        rhi = malloc(d->n_names * sizeof *rhi);
        cnt = calloc(d->n_names, sizeof *cnt);
    }
    ms_status st = MS_SUCCESS;
    if (d->n_names && !(lo && hi && rlo && rhi && cnt))
        st = ms_error_set(MS_ERR_NOMEM, "de-duplication: cannot allocate the conflict scratch");
    for (size_t g = 0; g < d->n_grp && st == MS_SUCCESS; g++) {
        group_t *G = &d->grp[g];
        size_t best = G->first;
        for (size_t r = G->first; r != MS_DEDUP_NONE; r = d->rec[r].next_member) {
            size_t a = ms_dedup_trust_rank(&d->opt, d->rec[r].db);
            size_t b = ms_dedup_trust_rank(&d->opt, d->rec[best].db);
            if (a < b || (a == b && r < best)) best = r;
        }
        G->representative = best;
        if (G->size < 2 || !d->n_names) continue;
        for (size_t r = G->first; r != MS_DEDUP_NONE; r = d->rec[r].next_member)
            for (size_t p = d->rec[r].prop_at; p < d->rec[r].prop_at + d->rec[r].n_props; p++) {
                uint32_t id = d->props[p].name;
                double v = d->props[p].value;
                if (cnt[id] == 0 || v < lo[id]) { lo[id] = v; rlo[id] = r; }
                if (cnt[id] == 0 || v > hi[id]) { hi[id] = v; rhi[id] = r; }
                cnt[id]++;
            }
        for (size_t r = G->first; r != MS_DEDUP_NONE && st == MS_SUCCESS; r = d->rec[r].next_member)
            for (size_t p = d->rec[r].prop_at; p < d->rec[r].prop_at + d->rec[r].n_props; p++) {
                uint32_t id = d->props[p].name;
                if (cnt[id] == 0) continue; /* already handled */
                double tol = fmax(d->opt.prop_rtol * fmax(fabs(lo[id]), fabs(hi[id])), d->opt.prop_atol);
                if (cnt[id] > 1 && hi[id] - lo[id] > tol) {
                    st = grow((void **)&d->conflicts, &d->cap_conf, d->n_conf + 1, sizeof *d->conflicts);
                    if (st != MS_SUCCESS) break;
                    ms_dedup_conflict *c = &d->conflicts[d->n_conf++];
                    c->group = g;
                    memcpy(c->name, d->names[id], MS_PROP_NAME_MAX);
                    c->min = lo[id];
                    c->max = hi[id];
                    c->record_min = rlo[id];
                    c->record_max = rhi[id];
                    c->n_values = cnt[id];
                }
                cnt[id] = 0;
            }
    }
    free(lo);
    free(hi);
    free(rlo);
    free(rhi);
    free(cnt);
    return st;
}

size_t ms_dedup_group_count(const ms_dedup *d) { return d->n_grp; }

size_t ms_dedup_group_of(const ms_dedup *d, size_t record)
{
    return record < d->cap_rec ? d->rec[record].group : MS_DEDUP_NONE;
}

size_t ms_dedup_group_size(const ms_dedup *d, size_t group)
{
    return group < d->n_grp ? d->grp[group].size : 0;
}

size_t ms_dedup_representative(const ms_dedup *d, size_t group)
{
    return group < d->n_grp ? d->grp[group].representative : MS_DEDUP_NONE;
}

size_t ms_dedup_conflict_count(const ms_dedup *d) { return d->n_conf; }

const ms_dedup_conflict *ms_dedup_conflict_get(const ms_dedup *d, size_t i)
{
    return i < d->n_conf ? &d->conflicts[i] : NULL;
}

size_t ms_dedup_comparisons(const ms_dedup *d) { return d->comparisons; }

/* ---- exact duplicates -------------------------------------------------------------------- */

static unsigned char *put_bytes(unsigned char *at, const void *v, size_t n)
{
    memcpy(at, v, n);
    return at + n;
}

ms_status ms_dedup_exact_key(const ms_structure *s, unsigned char **buf, size_t *cap, size_t *len,
                             uint64_t *hash)
{
    /* fields written one by one: no struct padding reaches the key */
    const size_t per_site = 3 * sizeof(double) + sizeof(uint32_t);
    const size_t per_species = 2 * sizeof(int32_t) + 2 * sizeof(double);
    size_t n_sp = s->n_sites ? s->site_species[s->n_sites] - s->site_species[0] : 0;
    size_t n = sizeof s->lattice + sizeof(uint64_t) + s->n_sites * per_site + n_sp * per_species;
    MS_CALL(ms_array_reserve(buf, cap, n, 1, n > 1024 ? n : 1024));
    unsigned char *at = *buf;
    at = put_bytes(at, s->lattice, sizeof s->lattice);
    uint64_t n_sites = s->n_sites;
    at = put_bytes(at, &n_sites, sizeof n_sites);
    for (size_t i = 0; i < s->n_sites; i++) {
        at = put_bytes(at, s->frac[i], 3 * sizeof(double));
        uint32_t k = (uint32_t)(s->site_species[i + 1] - s->site_species[i]);
        at = put_bytes(at, &k, sizeof k);
        for (size_t j = s->site_species[i]; j < s->site_species[i + 1]; j++) {
            const ms_species *sp = &s->species[j];
            int32_t z = sp->z, has_oxi = sp->has_oxi;
            at = put_bytes(at, &z, sizeof z);
            at = put_bytes(at, &has_oxi, sizeof has_oxi);
            at = put_bytes(at, &sp->occu, sizeof sp->occu);
            at = put_bytes(at, &sp->oxi, sizeof sp->oxi);
        }
    }
    *len = (size_t)(at - *buf);
    *hash = ms_hash_bytes(*buf, *len);
    return MS_SUCCESS;
}
