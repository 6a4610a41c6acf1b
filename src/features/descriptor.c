/*
 * The descriptor registry, named sets and the featurizer; see descriptor.h.
 *
 * The family table and the set table below are the only places that list families: a new family
 * file adds its extern to descriptor.h, one line to families[] and, when a set should include it,
 * its pointer to that set's list together with a bump of the set's version.
 */
#include "matscreen/descriptor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor_impl.h"

/* ---- reasons ---------------------------------------------------------------------------------- */

static const char *const reason_names[MS_NAN_REASON_COUNT] = {
    [MS_NAN_NONE] = "none",
    [MS_NAN_MISSING_ELEMENT_DATA] = "missing-element-data",
    [MS_NAN_NEEDS_STRUCTURE] = "needs-structure",
    [MS_NAN_NEEDS_ORDERED] = "needs-ordered",
    [MS_NAN_NEEDS_SYMMETRY] = "needs-symmetry",
    [MS_NAN_UNDEFINED] = "undefined",
    [MS_NAN_TOO_LARGE] = "too-large",
    [MS_NAN_IMPUTED] = "imputed",
    [MS_NAN_NO_PARAMETERS] = "no-parameters",
    [MS_NAN_UNSUPPORTED_ANION] = "unsupported-anion",
};

const char *ms_nan_reason_name(ms_nan_reason reason)
{
    if ((int)reason < 0 || reason >= MS_NAN_REASON_COUNT) return "unknown";
    return reason_names[reason];
}

/* ---- shared helpers (descriptor_impl.h) ------------------------------------------------------- */

void ms_feature_elements_get(const ms_composition *c, ms_feature_elements *e)
{
    e->n = 0;
    e->negative = 0;
    for (int i = 0; i < c->n; i++) {
        int z = c->z[i];
        double a = c->amount[z];
        if (fabs(a) < MS_COMPOSITION_TOL) continue;
        if (a < 0) e->negative = 1;
        e->z[e->n] = z;
        e->amount[e->n] = a;
        e->n++;
    }
}

/* numpy's pairwise summation (loops_utils.h.src): 8 accumulators per block of up to 128 values,
 * halves above that. np.add.reduce starts from the identity 0, which changes nothing. */
static double pairwise_sum(const double *a, size_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        size_t i;
        for (int j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + (size_t)j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

double ms_np_sum(const double *a, size_t n) { return pairwise_sum(a, n); }

double ms_np_average(const double *v, const double *w, size_t n, double *tmp)
{
    for (size_t i = 0; i < n; i++) tmp[i] = v[i] * w[i];
    return pairwise_sum(tmp, n) / pairwise_sum(w, n);
}

double ms_np_nanmean(const double *a, size_t n, double *tmp)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        tmp[i] = isnan(a[i]) ? 0.0 : a[i];
        count += !isnan(a[i]);
    }
    return count ? pairwise_sum(tmp, n) / (double)count : NAN;
}

void ms_feature_fill_nan(double *out, unsigned char *reason, size_t n, ms_nan_reason r)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = NAN;
        reason[i] = (unsigned char)r;
    }
}

/* ---- registry --------------------------------------------------------------------------------- */

static const ms_descriptor_type *const families[] = {
    &ms_descriptor_magpie,          &ms_descriptor_stoichiometry,
    &ms_descriptor_valence_orbital, &ms_descriptor_ion_property,
    &ms_descriptor_element_fraction, &ms_descriptor_density,
    &ms_descriptor_global_symmetry, &ms_descriptor_neighbors,
    &ms_descriptor_li_transport,    &ms_descriptor_bvse,
};
#define N_FAMILIES (sizeof families / sizeof families[0])

static const ms_descriptor_type *const set_magpie[] = {&ms_descriptor_magpie};

/* The composition families in the order of matminer's usual composition featurizer union. */
static const ms_descriptor_type *const set_composition[] = {
    &ms_descriptor_magpie, &ms_descriptor_stoichiometry, &ms_descriptor_valence_orbital,
    &ms_descriptor_ion_property, &ms_descriptor_element_fraction,
};

/* Structure families: matminer DensityFeatures, GlobalSymmetryFeatures, neighbour statistics. */
static const ms_descriptor_type *const set_structure[] = {
    &ms_descriptor_density, &ms_descriptor_global_symmetry, &ms_descriptor_neighbors,
};

/* Version 2 added the bvse family (version 1 was li_transport alone). */
static const ms_descriptor_type *const set_li_transport[] = {&ms_descriptor_li_transport,
                                                             &ms_descriptor_bvse};

static const ms_descriptor_type *const set_bvse[] = {&ms_descriptor_bvse};

/* "default" is the documented union of every family a screen uses: composition, then structure,
 * then Li transport (version 2; version 1 was the composition families alone). */
static const ms_descriptor_type *const set_default[] = {
    &ms_descriptor_magpie,          &ms_descriptor_stoichiometry,
    &ms_descriptor_valence_orbital, &ms_descriptor_ion_property,
    &ms_descriptor_element_fraction, &ms_descriptor_density,
    &ms_descriptor_global_symmetry, &ms_descriptor_neighbors,
    &ms_descriptor_li_transport,
};

/* "full" is "default" plus the bvse family, kept out of "default" because its grid costs tens of
 * milliseconds per Li structure (docs/descriptors.md, bvse). */
static const ms_descriptor_type *const set_full[] = {
    &ms_descriptor_magpie,          &ms_descriptor_stoichiometry,
    &ms_descriptor_valence_orbital, &ms_descriptor_ion_property,
    &ms_descriptor_element_fraction, &ms_descriptor_density,
    &ms_descriptor_global_symmetry, &ms_descriptor_neighbors,
    &ms_descriptor_li_transport,    &ms_descriptor_bvse,
};

#define SET(name, version, summary, list)                                                          \
    {name, version, summary, sizeof list / sizeof list[0], list}
static const ms_descriptor_set sets[] = {
    SET("magpie", 1, "matminer ElementProperty \"magpie\" preset (132 features)", set_magpie),
    SET("composition", 1,
        "magpie + stoichiometry + valence_orbital + ion_property + element_fraction",
        set_composition),
    SET("default", 2, "composition + structure + li-transport", set_default),
    SET("structure", 1, "density + global_symmetry + neighbors (matminer DensityFeatures, "
        "GlobalSymmetryFeatures, neighbour statistics)", set_structure),
    SET("li-transport", 2, "Sendek et al. 2017 Li-transport descriptors (LLB, SBI, AFC, LLSD, LASD) "
        "+ bvse", set_li_transport),
    SET("bvse", 1, "bond-valence site energy barriers of a Li+ probe (E_1D, E_2D, E_3D)",
        set_bvse),
    SET("full", 1, "default + bvse", set_full),
};
#define N_SETS (sizeof sets / sizeof sets[0])

size_t ms_descriptor_type_count(void) { return N_FAMILIES; }

const ms_descriptor_type *ms_descriptor_type_get(size_t i)
{
    return i < N_FAMILIES ? families[i] : NULL;
}

size_t ms_descriptor_set_count(void) { return N_SETS; }

const ms_descriptor_set *ms_descriptor_set_get(size_t i) { return i < N_SETS ? &sets[i] : NULL; }

ms_status ms_descriptor_type_lookup(const char *name, const ms_descriptor_type **out)
{
    *out = NULL;
    MS_CHECK(name != NULL, MS_ERR_USAGE, "descriptor family name is NULL");
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (strcmp(families[i]->name, name) == 0) {
            *out = families[i];
            return MS_SUCCESS;
        }
    char list[512] = "";
    for (size_t i = 0; i < N_FAMILIES; i++) {
        if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, families[i]->name, sizeof list - strlen(list) - 1);
    }
    return ms_error_set(MS_ERR_NOT_FOUND, "unknown descriptor family \"%s\"; valid families: %s",
                        name, list);
}

ms_status ms_descriptor_set_lookup(const char *name, const ms_descriptor_set **out)
{
    *out = NULL;
    MS_CHECK(name != NULL, MS_ERR_USAGE, "descriptor set name is NULL");
    for (size_t i = 0; i < N_SETS; i++)
        if (strcmp(sets[i].name, name) == 0) {
            *out = &sets[i];
            return MS_SUCCESS;
        }
    char list[512] = "";
    for (size_t i = 0; i < N_SETS; i++) {
        if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, sets[i].name, sizeof list - strlen(list) - 1);
    }
    return ms_error_set(MS_ERR_NOT_FOUND, "unknown descriptor set \"%s\"; valid sets: %s", name,
                        list);
}

size_t ms_descriptor_set_n_features(const ms_descriptor_set *set)
{
    size_t n = 0;
    for (size_t i = 0; i < set->n_families; i++) n += set->families[i]->n_features;
    return n;
}

int ms_descriptor_set_needs_symmetry(const ms_descriptor_set *set)
{
    for (size_t i = 0; i < set->n_families; i++)
        if (set->families[i]->needs_symmetry) return 1;
    return 0;
}

double ms_descriptor_set_neighbor_cutoff(const ms_descriptor_set *set)
{
    double c = 0;
    for (size_t i = 0; i < set->n_families; i++)
        if (set->families[i]->neighbor_cutoff > c) c = set->families[i]->neighbor_cutoff;
    return c;
}

ms_status ms_descriptor_set_signature(const ms_descriptor_set *set, char *out, size_t n)
{
    MS_CHECK(out && n > 0, MS_ERR_USAGE, "no output buffer for the signature of set %s", set->name);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < set->n_families; i++) {
        int w = snprintf(out + used, n - used, "%s%s/%d", i ? "," : "", set->families[i]->name,
                         set->families[i]->version);
        if (w < 0 || (size_t)w >= n - used) {
            out[0] = '\0';
            return ms_error_set(MS_ERR_LIMIT, "signature of set %s needs more than %zu bytes",
                                set->name, n);
        }
        used += (size_t)w;
    }
    return MS_SUCCESS;
}

/* ---- featurizer ------------------------------------------------------------------------------- */

struct ms_featurizer {
    const ms_descriptor_set *set;
    const ms_element_table *table;
    size_t n_features;
    void **states;                /* one per family */
    size_t *offsets;              /* start of each family in the row */
    const char **names;           /* n_features, borrowed from the families */
    unsigned char *reason_scratch; /* used when the caller passes no reason array */
    ms_descriptor_workspace ws;
};

/* Workspace a composition-only input needs: families size their scratch from the composition, so
 * sizing once for the largest composition (every element present) covers them all. */
static size_t work_needed(const ms_featurizer *f, const ms_descriptor_input *in)
{
    size_t need = 0;
    for (size_t i = 0; i < f->set->n_families; i++) {
        const ms_descriptor_type *t = f->set->families[i];
        if (!t->work_doubles) continue;
        size_t w = t->work_doubles(f->states[i], in);
        if (w > need) need = w;
    }
    return need;
}

static ms_status grow_workspace(ms_featurizer *f, size_t need)
{
    if (need <= f->ws.n_d) return MS_SUCCESS;
    size_t cap = f->ws.n_d ? f->ws.n_d : 64;
    while (cap < need) cap *= 2;
    double *d = realloc(f->ws.d, cap * sizeof *d);
    MS_CHECK(d != NULL, MS_ERR_NOMEM, "descriptor workspace of %zu doubles", cap);
    f->ws.d = d;
    f->ws.n_d = cap;
    return MS_SUCCESS;
}

ms_status ms_featurizer_create(const ms_descriptor_set *set, const ms_element_table *table,
                               ms_featurizer **out)
{
    *out = NULL;
    MS_CHECK(set && table, MS_ERR_USAGE, "ms_featurizer_create needs a set and an element table");
    ms_featurizer *f = calloc(1, sizeof *f);
    MS_CHECK(f != NULL, MS_ERR_NOMEM, "allocating a featurizer");
    f->set = set;
    f->table = table;
    f->n_features = ms_descriptor_set_n_features(set);
    f->states = calloc(set->n_families, sizeof *f->states);
    f->offsets = calloc(set->n_families, sizeof *f->offsets);
    f->names = calloc(f->n_features ? f->n_features : 1, sizeof *f->names);
    f->reason_scratch = calloc(f->n_features ? f->n_features : 1, 1);
    if (!f->states || !f->offsets || !f->names || !f->reason_scratch) {
        ms_featurizer_destroy(&f); /* a failed constructor frees what it allocated */
        return ms_error_set(MS_ERR_NOMEM, "allocating a featurizer for set %s", set->name);
    }
    size_t off = 0;
    for (size_t i = 0; i < set->n_families; i++) {
        const ms_descriptor_type *t = set->families[i];
        f->offsets[i] = off;
        for (size_t k = 0; k < t->n_features; k++) f->names[off + k] = t->feature_names[k];
        off += t->n_features;
        if (t->init) {
            ms_status s = t->init(table, &f->states[i]);
            if (s != MS_SUCCESS) {
                ms_error_prefix("descriptor family %s", t->name);
                ms_featurizer_destroy(&f);
                return s;
            }
        }
    }
    /* Composition families need at most what the full periodic table needs: size for that now so
     * that no composition ever grows the workspace. */
    ms_composition all;
    ms_composition_clear(&all);
    for (int z = 1; z <= MS_MAX_Z; z++) ms_composition_add(&all, z, 1.0);
    ms_descriptor_input in = {NULL, &all, NULL, NULL};
    ms_status s = grow_workspace(f, work_needed(f, &in));
    if (s != MS_SUCCESS) {
        ms_featurizer_destroy(&f);
        return s;
    }
    *out = f;
    return MS_SUCCESS;
}

void ms_featurizer_destroy(ms_featurizer **fp)
{
    if (!fp || !*fp) return;
    ms_featurizer *f = *fp;
    if (f->states)
        for (size_t i = 0; i < f->set->n_families; i++)
            if (f->set->families[i]->free) f->set->families[i]->free(f->states[i]);
    free(f->states);
    free(f->offsets);
    free(f->names);
    free(f->reason_scratch);
    free(f->ws.d);
    free(f);
    *fp = NULL;
}

const ms_descriptor_set *ms_featurizer_set(const ms_featurizer *f) { return f->set; }

size_t ms_featurizer_n_features(const ms_featurizer *f) { return f->n_features; }

const char *ms_featurizer_feature_name(const ms_featurizer *f, size_t i)
{
    return i < f->n_features ? f->names[i] : "";
}

ms_status ms_featurizer_compute(ms_featurizer *f, const ms_descriptor_input *in, double *row,
                                unsigned char *reason)
{
    MS_CHECK(in && in->composition && row, MS_ERR_USAGE,
             "ms_featurizer_compute needs an input with a composition and a row");
    MS_CALL(grow_workspace(f, work_needed(f, in)));
    unsigned char *r = reason ? reason : f->reason_scratch;
    for (size_t i = 0; i < f->set->n_families; i++) {
        const ms_descriptor_type *t = f->set->families[i];
        ms_status s = t->compute(f->states[i], in, &f->ws, row + f->offsets[i], r + f->offsets[i]);
        if (s != MS_SUCCESS) {
            ms_error_prefix("descriptor family %s", t->name);
            return s;
        }
    }
    return MS_SUCCESS;
}

ms_status ms_featurizer_compute_composition(ms_featurizer *f, const ms_composition *c, double *row,
                                            unsigned char *reason)
{
    ms_descriptor_input in = {NULL, c, NULL, NULL};
    return ms_featurizer_compute(f, &in, row, reason);
}

ms_status ms_featurizer_compute_structure(ms_featurizer *f, const ms_structure *s, double *row,
                                          unsigned char *reason)
{
    ms_composition c;
    MS_CHECK(s != NULL, MS_ERR_USAGE, "ms_featurizer_compute_structure needs a structure");
    ms_structure_composition(s, &c);
    ms_descriptor_input in = {s, &c, NULL, NULL};
    return ms_featurizer_compute(f, &in, row, reason);
}
