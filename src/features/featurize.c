/*
 * The structure featurizer; see featurize.h.
 */
#include "matscreen/featurize.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "matscreen/neighbors.h"

struct ms_structure_featurizer {
    ms_featurizer *base;
    const ms_element_table *table;
    ms_symmetry_options sym_opt;
    int needs_symmetry;
    double cutoff; /* Å; 0: no neighbour list */
    ms_symmetry_workspace sym_ws;
    ms_symmetry sym;
    int sym_ok;
    const ms_symmetry *sym_used; /* f->sym, the caller's, or NULL */
    ms_neighbor_list nl;
    ms_composition comp;
    ms_featurize_timing timing;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

ms_status ms_structure_featurizer_create(const ms_descriptor_set *set,
                                         const ms_element_table *table,
                                         const ms_symmetry_options *sym_opt,
                                         ms_structure_featurizer **out)
{
    *out = NULL;
    MS_CHECK(set && table, MS_ERR_USAGE, "ms_structure_featurizer_create needs a set and a table");
    ms_structure_featurizer *f = calloc(1, sizeof *f);
    MS_CHECK(f != NULL, MS_ERR_NOMEM, "allocating a structure featurizer");
    ms_status st = ms_featurizer_create(set, table, &f->base);
    if (st != MS_SUCCESS) {
        free(f);
        return st;
    }
    f->table = table;
    if (sym_opt) {
        f->sym_opt = *sym_opt;
    } else {
        ms_symmetry_options_default(&f->sym_opt);
        f->sym_opt.cells = 0;
        f->sym_opt.elements = table;
    }
    f->needs_symmetry = ms_descriptor_set_needs_symmetry(set);
    f->cutoff = ms_descriptor_set_neighbor_cutoff(set);
    ms_symmetry_workspace_init(&f->sym_ws);
    ms_symmetry_init(&f->sym);
    ms_neighbor_list_init(&f->nl);
    *out = f;
    return MS_SUCCESS;
}

void ms_structure_featurizer_destroy(ms_structure_featurizer **fp)
{
    if (!fp || !*fp) return;
    ms_structure_featurizer *f = *fp;
    ms_featurizer_destroy(&f->base);
    ms_symmetry_workspace_destroy(&f->sym_ws);
    ms_symmetry_destroy(&f->sym);
    ms_neighbor_list_destroy(&f->nl);
    free(f);
    *fp = NULL;
}

size_t ms_structure_featurizer_n_features(const ms_structure_featurizer *f)
{
    return ms_featurizer_n_features(f->base);
}

const char *ms_structure_featurizer_feature_name(const ms_structure_featurizer *f, size_t i)
{
    return ms_featurizer_feature_name(f->base, i);
}

ms_featurizer *ms_structure_featurizer_base(ms_structure_featurizer *f) { return f->base; }

static int has_oxidation_states(const ms_structure *s)
{
    for (size_t i = 0; i < s->n_species; i++)
        if (s->species[i].has_oxi) return 1;
    return 0;
}

/* The symmetry step: analyse s, or take the caller's analysis (plain, made without oxidation
 * states) when s has none, since then both conventions give the same dataset. */
static void featurizer_symmetry(ms_structure_featurizer *f, const ms_structure *s,
                                const ms_symmetry *plain, int have_plain)
{
    f->sym_ok = 0;
    f->sym_used = NULL;
    if (!f->needs_symmetry) return;
    if (have_plain && !(f->sym_opt.use_oxidation && has_oxidation_states(s))) {
        f->sym_used = plain;
        f->sym_ok = plain != NULL;
        return;
    }
    f->sym_ok = ms_symmetry_analyze(&f->sym_ws, s, &f->sym_opt, &f->sym) == MS_SUCCESS;
    if (f->sym_ok) f->sym_used = &f->sym;
    else ms_error_clear(); /* a structure without symmetry still gets a row (NaN features) */
}

static ms_status featurizer_compute(ms_structure_featurizer *f, const ms_structure *s,
                                    const ms_symmetry *plain, int have_plain, double *row,
                                    unsigned char *reason)
{
    MS_CHECK(f && s && row, MS_ERR_USAGE, "ms_structure_featurizer_compute needs a structure");
    double t0 = now(), t1 = t0, t2 = t0;
    if (f->needs_symmetry) {
        featurizer_symmetry(f, s, plain, have_plain);
        t1 = now();
    } else {
        f->sym_ok = 0;
        f->sym_used = NULL;
    }
    if (f->cutoff > 0) {
        ms_status st = ms_neighbor_list_build(&f->nl, s, f->cutoff, 0);
        if (st != MS_SUCCESS) {
            ms_error_prefix("neighbour list");
            return st;
        }
        t2 = now();
    } else {
        t2 = t1;
    }
    ms_structure_composition(s, &f->comp);
    ms_descriptor_input in = {s, &f->comp, f->sym_used, f->cutoff > 0 ? &f->nl : NULL};
    ms_status st = ms_featurizer_compute(f->base, &in, row, reason);
    double t3 = now();
    f->timing.symmetry_s += t1 - t0;
    f->timing.neighbors_s += t2 - t1;
    f->timing.descriptors_s += t3 - t2;
    f->timing.n_structures++;
    return st;
}

ms_status ms_structure_featurizer_compute(ms_structure_featurizer *f, const ms_structure *s,
                                          double *row, unsigned char *reason)
{
    return featurizer_compute(f, s, NULL, 0, row, reason);
}

ms_status ms_structure_featurizer_compute_with(ms_structure_featurizer *f, const ms_structure *s,
                                               const ms_symmetry *plain, double *row,
                                               unsigned char *reason)
{
    return featurizer_compute(f, s, plain, 1, row, reason);
}

const ms_symmetry *ms_structure_featurizer_symmetry(const ms_structure_featurizer *f)
{
    return f->sym_ok ? f->sym_used : NULL;
}

const ms_neighbor_list *ms_structure_featurizer_neighbors(const ms_structure_featurizer *f)
{
    return f->cutoff > 0 ? &f->nl : NULL;
}

const ms_composition *ms_structure_featurizer_composition(const ms_structure_featurizer *f)
{
    return &f->comp;
}

ms_featurize_timing ms_structure_featurizer_timing(const ms_structure_featurizer *f)
{
    return f->timing;
}

void ms_structure_featurizer_reset_timing(ms_structure_featurizer *f)
{
    ms_featurize_timing zero = {0, 0, 0, 0};
    f->timing = zero;
}
