/*
 * matscreen bvse -i INPUT... [-o FILE] [--spacing A] [--grid bvlain|fine]: the Li+ bond-valence
 * site energy barriers of each structure (bvse.h), one CSV row per structure that a reader can use
 * on its own: the oxidation states used and where they came from, the grid, the three barriers,
 * the volume fraction, the Li sites, and for a structure without barriers the reason in words.
 * Inputs are enumerated as by featurize (source.h). Single process; the screen runs the same
 * computation on its workers through the bvse descriptor family.
 *
 * Output: written to FILE.tmp beside FILE and renamed into place when complete ("-": stdout).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "matscreen/csv.h"
#include "matscreen/bvse.h"
#include "matscreen/composition.h"
#include "matscreen/number.h"
#include "matscreen/reader.h"
#include "matscreen/source.h"
#include "matscreen/symmetry.h"

typedef struct {
    const ms_element_table *elements;
    ms_bvse_context *ctx;
    ms_bvse_options opt;
    ms_symmetry_workspace sws;
    ms_symmetry sym;
    double *work;
    size_t n_work;
    FILE *out;
    size_t n_ok, n_nan, n_failed;
} bvse_state;

static void csv_number(FILE *f, double v, const char *fmt)
{
    fputc(',', f);
    if (isnan(v)) fputs("NaN", f);
    else fprintf(f, fmt, v);
}

/* Grows the workspace to what s needs (the only allocation, and only for a larger grid). */
static int ensure_work(bvse_state *st, const ms_structure *s)
{
    size_t need = ms_bvse_work_doubles(st->ctx, s, &st->opt);
    if (need <= st->n_work) return 1;
    double *w = realloc(st->work, need * sizeof *w);
    if (!w) return 0;
    st->work = w;
    st->n_work = need;
    return 1;
}

static int on_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    bvse_state *st = user;
    FILE *o = st->out;
    ms_csv_write_field(o, s->prov.file ? s->prov.file : "");
    fputc(',', o);
    ms_csv_write_field(o, s->prov.block);
    if (status != MS_SUCCESS) {
        st->n_failed++;
        fputs(",,,,,NaN,NaN,NaN,NaN,NaN,NaN,read-error,", o);
        ms_csv_write_field(o, message);
        fputc('\n', o);
        return 0;
    }
    ms_composition c;
    char formula[256] = "";
    ms_structure_composition(s, &c);
    ms_composition_reduced_formula(&c, st->elements, formula, sizeof formula);
    const ms_symmetry *sym =
        ms_symmetry_analyze(&st->sws, s, NULL, &st->sym) == MS_SUCCESS ? &st->sym : NULL;
    ms_bvse_result r;
    if (!ensure_work(st, s) ||
        ms_bvse_compute(st->ctx, s, sym, &st->opt, st->work, st->n_work, &r) != MS_SUCCESS) {
        st->n_failed++;
        fprintf(o, ",%s,,,,NaN,NaN,NaN,NaN,NaN,NaN,error,", formula);
        ms_csv_write_field(o, ms_error_message());
        fputc('\n', o);
        return 0;
    }
    r.reason == MS_NAN_NONE ? st->n_ok++ : st->n_nan++;
    fputc(',', o);
    ms_csv_write_field(o, formula);
    fputc(',', o);
    ms_csv_write_field(o, r.oxi_text);
    fprintf(o, ",%s,%dx%dx%d",
            r.oxi_guessed == 0 ? "structure" : (r.oxi_guessed > 0 ? "guessed" : "none"),
            r.grid[0], r.grid[1], r.grid[2]);
    for (int k = 0; k < 3; k++) csv_number(o, r.barrier[k], "%.4f");
    csv_number(o, r.e_min, "%.4f");
    csv_number(o, r.volume_fraction, "%.4f");
    csv_number(o, r.n_li_sites, "%.0f");
    fprintf(o, ",%s,", r.reason == MS_NAN_NONE ? "ok" : ms_nan_reason_name(r.reason));
    ms_csv_write_field(o, r.detail);
    fputc('\n', o);
    return 0;
}

static void bvse_usage(FILE *out)
{
    fprintf(out,
            "usage: matscreen bvse -i INPUT... [-o FILE] [--spacing A] [--grid bvlain|fine]\n"
            "                      [--format cif|json|jsonl|poscar]\n\n"
            "Li+ bond-valence site energy (BVSE) barriers of every structure: the energy of a Li+\n"
            "probe on a grid over the Li-free framework (softBV Morse terms to the anions,\n"
            "share/matscreen/bvse.dat; screened Coulomb repulsion from the cations), and the lowest\n"
            "energies at which the region below them percolates in 1, 2 and 3 dimensions, minus\n"
            "the minimum (eV). One CSV row per structure (default stdout):\n"
            "  file, block, formula, oxidation_states, oxidation_source (structure|guessed),\n"
            "  grid, E_1D_eV, E_2D_eV, E_3D_eV, E_min_eV, volume_fraction_0.5eV, li_sites,\n"
            "  status (ok or the NaN reason), detail\n"
            "Barriers above %.0f eV are reported as %.0f. Grids above %ld points are refused\n"
            "(status too-large): use a larger --spacing.\n\n"
            "  -i, --input PATH   file, directory, glob or @list (repeatable)\n"
            "  -o, --output FILE  CSV file, written beside and renamed into place ('-': stdout)\n"
            "  --spacing A        grid spacing in Angstrom (default %.1f)\n"
            "  --grid RULE        bvlain (default: bvlain's grid, the published settings) or fine\n"
            "                     (ceil(L / spacing) points, step at most the spacing)\n\n"
            "A structure whose barriers are NaN (no Li, no parameters: the reason is in its row)\n"
            "was processed; a record that cannot be read failed.\n" MS_CLI_EXIT_HELP,
            MS_BVSE_ENCUT, MS_BVSE_ENCUT, (long)MS_BVSE_MAX_POINTS, MS_BVSE_SPACING);
}

static int parse_args(int argc, char **argv, const char ***inputs, size_t *n_inputs,
                      const char **out_path, ms_bvse_options *opt, ms_format *format)
{
    static const struct option longopts[] = {
        {"input", required_argument, NULL, 'i'}, {"output", required_argument, NULL, 'o'},
        {"spacing", required_argument, NULL, 's'}, {"grid", required_argument, NULL, 'g'},
        {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    *inputs = calloc((size_t)argc, sizeof **inputs);
    if (!*inputs) return 2;
    int c;
    while ((c = getopt_long(argc, argv, "i:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i': (*inputs)[(*n_inputs)++] = optarg; break;
        case 'o': *out_path = optarg; break;
        case 's': /* Angstrom */
            if (ms_parse_double("--spacing", optarg, 0.05, 2.0, &opt->spacing) != MS_SUCCESS) {
                fprintf(stderr, "matscreen bvse: %s\n", ms_error_message());
                return 2;
            }
            break;
        case 'g':
            if (strcmp(optarg, "bvlain") == 0) opt->grid_rule = MS_BVSE_GRID_BVLAIN;
            else if (strcmp(optarg, "fine") == 0) opt->grid_rule = MS_BVSE_GRID_FINE;
            else {
                fprintf(stderr, "matscreen bvse: --grid %s: use bvlain or fine\n", optarg);
                return 2;
            }
            break;
        case 'f':
            if (strcmp(optarg, "cif") == 0) *format = MS_FORMAT_CIF;
            else if (strcmp(optarg, "json") == 0) *format = MS_FORMAT_JSON;
            else if (strcmp(optarg, "jsonl") == 0) *format = MS_FORMAT_JSONL;
            else if (strcmp(optarg, "poscar") == 0) *format = MS_FORMAT_POSCAR;
            else {
                fprintf(stderr, "matscreen bvse: unknown format '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': bvse_usage(stdout); return 0;
        default: bvse_usage(stderr); return 2;
        }
    }
    if (*n_inputs == 0 || optind < argc) {
        fprintf(stderr, "matscreen bvse: give inputs with -i (see --help)\n");
        return 2;
    }
    int missing = 0;
    for (size_t i = 0; i < *n_inputs; i++) missing |= ms_cli_input_missing("bvse", (*inputs)[i]);
    return missing ? 2 : -1;
}

static int run_sources(bvse_state *st, const char **inputs, size_t n_inputs, ms_format format)
{
    ms_source_options sopt;
    ms_source_options_default(&sopt);
    sopt.format = format;
    sopt.chunk_bytes = 0;
    ms_source *src = NULL;
    if (ms_source_create(inputs, n_inputs, &sopt, &src) != MS_SUCCESS) {
        fprintf(stderr, "matscreen bvse: %s\n", ms_error_message());
        return 0;
    }
    ms_read_options ropt;
    ms_read_options_default(&ropt);
    static ms_task task; /* 4 kB path: off the stack */
    while (ms_source_next(src, &task)) {
        ms_error_clear();
        ms_status s = task.status != MS_SUCCESS
                          ? ms_error_set(task.status, "%s", task.reason)
                          : ms_read_file(task.path, task.format, &ropt, on_record, st);
        if (s != MS_SUCCESS) {
            st->n_failed++;
            ms_csv_write_field(st->out, task.path);
            fputs(",,,,,,NaN,NaN,NaN,NaN,NaN,NaN,read-error,", st->out);
            ms_csv_write_field(st->out, ms_error_message());
            fputc('\n', st->out);
        }
    }
    ms_source_free(src);
    return 1;
}

int ms_cmd_bvse(int argc, char **argv)
{
    const char **inputs = NULL, *out_path = "-";
    size_t n_inputs = 0;
    ms_format format = MS_FORMAT_AUTO;
    bvse_state st = {0};
    st.opt = ms_bvse_options_default();
    int rc = parse_args(argc, argv, &inputs, &n_inputs, &out_path, &st.opt, &format);
    if (rc >= 0) {
        free(inputs);
        return rc;
    }
    rc = 2;
    ms_element_table *elements = NULL;
    char tmp[4096] = "";
    ms_symmetry_workspace_init(&st.sws);
    ms_symmetry_init(&st.sym);
    if (ms_element_table_load_default(&elements) != MS_SUCCESS ||
        ms_bvse_context_create(elements, &st.ctx) != MS_SUCCESS) {
        fprintf(stderr, "matscreen bvse: %s\n", ms_error_message());
        goto done;
    }
    st.elements = elements;
    if (strcmp(out_path, "-") != 0) snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
    st.out = tmp[0] ? fopen(tmp, "w") : stdout;
    if (!st.out) {
        fprintf(stderr, "matscreen bvse: cannot write %s (check the directory exists and is "
                        "writable)\n", tmp);
        goto done;
    }
    fputs("file,block,formula,oxidation_states,oxidation_source,grid,E_1D_eV,E_2D_eV,E_3D_eV,"
          "E_min_eV,volume_fraction_0.5eV,li_sites,status,detail\n", st.out);
    if (!run_sources(&st, inputs, n_inputs, format)) goto done;
    if (fflush(st.out) != 0 || ferror(st.out)) {
        fprintf(stderr, "matscreen bvse: error writing %s\n", tmp[0] ? tmp : "stdout");
        goto done;
    }
    if (tmp[0]) {
        int bad = fclose(st.out) != 0;
        st.out = NULL;
        if (bad || rename(tmp, out_path) != 0) {
            fprintf(stderr, "matscreen bvse: cannot write %s\n", out_path);
            goto done;
        }
    }
    fprintf(stderr, "matscreen bvse: %zu structures with barriers, %zu NaN (reason in the row), "
                    "%zu failed records\n", st.n_ok, st.n_nan, st.n_failed);
    rc = ms_cli_status(st.n_ok + st.n_nan + st.n_failed, st.n_failed);
done:
    if (st.out && st.out != stdout) {
        fclose(st.out);
        remove(tmp);
    }
    ms_symmetry_destroy(&st.sym);
    ms_symmetry_workspace_destroy(&st.sws);
    ms_bvse_context_free(st.ctx);
    ms_element_table_free(elements);
    free(st.work);
    free(inputs);
    return rc;
}
