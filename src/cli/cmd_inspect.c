/*
 * matscreen inspect FILE|DIR...: one JSON line per structure the readers find, and one per record
 * that could not be read. Directories are walked recursively in sorted order, so the output is
 * the same on every file system.
 */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "matscreen/composition.h"
#include "matscreen/element.h"
#include "matscreen/hash.h"
#include "matscreen/reader.h"
#include "matscreen/source.h"
#include "matscreen/structure.h"

typedef struct {
    const ms_element_table *elements;
    ms_format format;
    const ms_read_options *opt;
    size_t n_ok, n_failed;
} inspect_state;

static void print_line(json_t *obj)
{
    char *text = json_dumps(obj, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (text) {
        puts(text);
        free(text);
    }
    json_decref(obj);
}

static json_t *provenance_json(const ms_structure *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(s->prov.file ? s->prov.file : ""));
    if (s->prov.block[0]) json_object_set_new(o, "block", json_string(s->prov.block));
    json_object_set_new(o, "index", json_integer((json_int_t)s->prov.index));
    if (s->prov.offset >= 0) json_object_set_new(o, "offset", json_integer(s->prov.offset));
    json_object_set_new(o, "source", json_string(ms_source_db_name(s->prov.db)));
    json_object_set_new(o, "id", json_string(s->prov.source_id));
    return o;
}

/* Partial occupancy summary: how many sites are not fully occupied by one species. */
static json_t *occupancy_json(const ms_structure *s)
{
    size_t partial = 0, mixed = 0;
    double min_occ = 1.0;
    for (size_t i = 0; i < s->n_sites; i++) {
        size_t a = s->site_species[i], b = s->site_species[i + 1];
        double sum = 0;
        for (size_t k = a; k < b; k++) {
            sum += s->species[k].occu;
            min_occ = fmin(min_occ, s->species[k].occu);
        }
        if (b - a > 1) mixed++;
        if (fabs(sum - 1.0) > 1e-8 || b - a > 1) partial++;
    }
    json_t *o = json_object();
    json_object_set_new(o, "ordered", json_boolean(ms_structure_is_ordered(s)));
    json_object_set_new(o, "partial_sites", json_integer((json_int_t)partial));
    json_object_set_new(o, "mixed_sites", json_integer((json_int_t)mixed));
    json_object_set_new(o, "min_occupancy", json_real(min_occ));
    return o;
}

static int on_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    inspect_state *st = user;
    json_t *o = provenance_json(s);
    if (status != MS_SUCCESS) {
        st->n_failed++;
        json_object_set_new(o, "status", json_string(ms_strerror(status)));
        json_object_set_new(o, "error", json_string(message));
        print_line(o);
        return 0;
    }
    st->n_ok++;
    ms_composition comp;
    char formula[256], reduced[256], hash[17];
    ms_structure_composition(s, &comp);
    if (ms_composition_formula(&comp, st->elements, formula, sizeof formula) != MS_SUCCESS)
        formula[0] = '\0';
    if (ms_composition_reduced_formula(&comp, st->elements, reduced, sizeof reduced) != MS_SUCCESS)
        reduced[0] = '\0';
    ms_hash_format(s->prov.content_hash, hash);
    json_object_set_new(o, "formula", json_string(formula));
    json_object_set_new(o, "reduced_formula", json_string(reduced));
    if (s->formula_stated[0]) json_object_set_new(o, "formula_stated", json_string(s->formula_stated));
    json_object_set_new(o, "n_sites", json_integer((json_int_t)s->n_sites));
    json_object_set_new(o, "n_atoms", json_real(ms_composition_total(&comp)));
    json_object_set_new(o, "volume", json_real(ms_structure_volume(s)));
    json_object_set_new(o, "density", json_real(ms_structure_density(s, st->elements)));
    json_object_set_new(o, "occupancy", occupancy_json(s));
    if (s->n_props) {
        json_t *props = json_object();
        for (size_t i = 0; i < s->n_props; i++)
            json_object_set_new(props, s->props[i].name, json_real(s->props[i].value));
        json_object_set_new(o, "properties", props);
    }
    json_object_set_new(o, "hash", json_string(hash));
    json_object_set_new(o, "warnings", json_string(s->warnings));
    print_line(o);
    return 0;
}

static void report_file_error(inspect_state *st, const char *path, ms_status status)
{
    st->n_failed++;
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "status", json_string(ms_strerror(status)));
    json_object_set_new(o, "error", json_string(ms_error_message()));
    print_line(o);
}

/* Walks the inputs as the screen does (ms_source: sorted, hidden entries and files of unknown
 * format skipped inside directories, each directory once, link cycles and FIFOs reported) and
 * reads each file whole. */
static void inspect_inputs(inspect_state *st, const char *const *inputs, size_t n)
{
    ms_source_options so;
    ms_source_options_default(&so);
    so.format = st->format;
    so.chunk_bytes = 0; /* whole files: records keep their index within the file */
    ms_source *src = NULL;
    ms_task *t = malloc(sizeof *t); /* 4 kB of path: not on the stack */
    ms_status cs = t ? ms_source_create(inputs, n, &so, &src)
                     : ms_error_set(MS_ERR_NOMEM, "out of memory");
    if (cs != MS_SUCCESS) {
        report_file_error(st, "", cs);
        free(t);
        return;
    }
    while (ms_source_next(src, t)) {
        if (t->status != MS_SUCCESS) {
            report_file_error(st, t->path, ms_error_set(t->status, "%s", t->reason));
            continue;
        }
        ms_error_clear();
        ms_status s = ms_read_file(t->path, st->format, st->opt, on_record, st);
        if (s != MS_SUCCESS) report_file_error(st, t->path, s);
    }
    ms_source_free(src);
    free(t);
}

static void inspect_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen inspect [--format cif|json|jsonl|poscar] FILE|DIR...\n\n"
            "Reads structure files (CIF, Materials Project / pymatgen JSON or JSON Lines, POSCAR)\n"
            "and prints one JSON line per structure: provenance, formula, number of sites, volume\n"
            "(A^3), density (g/cm^3), occupancy summary and reader warnings. Records that cannot be\n"
            "read give a line with \"error\".\n\n" MS_CLI_EXIT_HELP);
}

int ms_cmd_inspect(int argc, char **argv)
{
    static const struct option longopts[] = {{"format", required_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    inspect_state st = {0};
    ms_read_options opt;
    ms_read_options_default(&opt);
    st.opt = &opt;
    int c;
    while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "cif") == 0) st.format = MS_FORMAT_CIF;
            else if (strcmp(optarg, "json") == 0) st.format = MS_FORMAT_JSON;
            else if (strcmp(optarg, "jsonl") == 0) st.format = MS_FORMAT_JSONL;
            else if (strcmp(optarg, "poscar") == 0) st.format = MS_FORMAT_POSCAR;
            else {
                fprintf(stderr, "matscreen inspect: unknown format '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': inspect_usage(stdout); return 0;
        default: inspect_usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        inspect_usage(stderr);
        return 2;
    }
    ms_element_table *elements;
    if (ms_element_table_load_default(&elements) != MS_SUCCESS) {
        fprintf(stderr, "matscreen inspect: %s\n", ms_error_message());
        return 2;
    }
    int missing = 0;
    for (int i = optind; i < argc; i++) missing |= ms_cli_input_missing("inspect", argv[i]);
    if (missing) {
        ms_element_table_free(elements);
        return 2;
    }
    st.elements = elements;
    double t0 = ms_cli_now();
    inspect_inputs(&st, (const char *const *)argv + optind, (size_t)(argc - optind));
    double secs = ms_cli_now() - t0;
    ms_element_table_free(elements);
    char tail[64];
    snprintf(tail, sizeof tail, "%zu structures read", st.n_ok);
    ms_cli_summary("inspect", st.n_ok + st.n_failed, st.n_failed, secs, tail);
    return ms_cli_status(st.n_ok + st.n_failed, st.n_failed);
}
