/*
 * Suite "cif_reader": the CIF reader (src/io/cif_reader.c) and symmetry operators (src/io/symop.c).
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/cif_reader.h"
#include "matscreen/composition.h"
#include "matscreen/structure.h"
#include "matscreen/symop.h"
#include "suites.h"
#include "test_util.h"

/* Copies of every record a read produced (the reader's structure is valid only in the call). */
#define MAX_RECORDS 8
typedef struct records {
    int n;
    ms_status status[MAX_RECORDS];
    char message[MAX_RECORDS][512];
    char block[MAX_RECORDS][MS_BLOCK_MAX];
    char source_id[MAX_RECORDS][MS_SOURCE_ID_MAX];
    ms_source_db db[MAX_RECORDS];
    size_t index[MAX_RECORDS];
    char formula[MAX_RECORDS][128];
    char warnings[MAX_RECORDS][MS_WARNINGS_MAX];
    size_t n_sites[MAX_RECORDS];
    double abc[MAX_RECORDS][3], angles[MAX_RECORDS][3];
    ms_structure first; /* a deep copy of the fields the tests look at, record 0 */
    size_t n_species0;
    ms_species species0[16];
    size_t site_species0[17];
    char label0[16][MS_LABEL_MAX];
    double frac0[16][3];
    char stated0[MS_FORMULA_MAX];
} records;

static int keep(const ms_structure *s, ms_status status, const char *message, void *user)
{
    records *r = user;
    if (r->n >= MAX_RECORDS) return 0;
    int i = r->n++;
    r->status[i] = status;
    snprintf(r->message[i], sizeof r->message[i], "%s", message ? message : "");
    snprintf(r->block[i], sizeof r->block[i], "%s", s->prov.block);
    snprintf(r->source_id[i], sizeof r->source_id[i], "%s", s->prov.source_id);
    r->db[i] = s->prov.db;
    r->index[i] = s->prov.index;
    snprintf(r->warnings[i], sizeof r->warnings[i], "%s", s->warnings);
    r->n_sites[i] = s->n_sites;
    if (status == MS_SUCCESS) {
        ms_composition c;
        ms_structure_composition(s, &c);
        ms_composition_reduced_formula(&c, ms_test_elements(), r->formula[i], sizeof r->formula[i]);
        ms_structure_lattice_parameters(s, r->abc[i], r->angles[i]);
        if (i == 0) {
            r->n_species0 = s->n_species < 16 ? s->n_species : 16;
            memcpy(r->species0, s->species, r->n_species0 * sizeof *s->species);
            size_t ns = s->n_sites < 16 ? s->n_sites : 16;
            memcpy(r->site_species0, s->site_species, (ns + 1) * sizeof *s->site_species);
            memcpy(r->label0, s->label, ns * sizeof *s->label);
            memcpy(r->frac0, s->frac, ns * sizeof *s->frac);
            snprintf(r->stated0, sizeof r->stated0, "%s", s->formula_stated);
        }
    }
    return 0;
}

static ms_status read_text(const char *text, const char *name, records *r)
{
    memset(r, 0, sizeof *r);
    return ms_cif_read_buffer(text, strlen(text), name, NULL, keep, r);
}

/* --- symmetry operators ------------------------------------------------------------------- */

static void test_symop_parse(void)
{
    ms_symop op;
    CU_ASSERT_EQUAL(ms_symop_parse("x,y,z", 5, &op), MS_SUCCESS);
    CU_ASSERT(op.rot[0][0] == 1 && op.rot[1][1] == 1 && op.rot[2][2] == 1 && op.rot[0][1] == 0);
    CU_ASSERT(op.trans[0] == 0 && op.trans[1] == 0 && op.trans[2] == 0);

    const char *s = "-x+1/2, y, -z+0.5";
    CU_ASSERT_EQUAL(ms_symop_parse(s, strlen(s), &op), MS_SUCCESS);
    CU_ASSERT(op.rot[0][0] == -1 && op.rot[1][1] == 1 && op.rot[2][2] == -1);
    CU_ASSERT(ms_test_close(op.trans[0], 0.5, 0, 1e-15) && ms_test_close(op.trans[2], 0.5, 0, 1e-15));

    s = "x-y,x,z+1/6";
    CU_ASSERT_EQUAL(ms_symop_parse(s, strlen(s), &op), MS_SUCCESS);
    CU_ASSERT(op.rot[0][0] == 1 && op.rot[0][1] == -1 && op.rot[1][0] == 1 && op.rot[1][1] == 0);
    CU_ASSERT(ms_test_close(op.trans[2], 1.0 / 6, 1e-15, 0));

    s = "1/2+X,-Y,Z-1/3";
    CU_ASSERT_EQUAL(ms_symop_parse(s, strlen(s), &op), MS_SUCCESS);
    CU_ASSERT(op.rot[0][0] == 1 && op.rot[1][1] == -1 && op.rot[2][2] == 1);
    CU_ASSERT(ms_test_close(op.trans[0], 0.5, 0, 1e-15) && ms_test_close(op.trans[2], -1.0 / 3, 1e-15, 0));

    double p[3] = {0.125, 0.385, 0.75}, q[3];
    ms_symop_apply(&op, p, q);
    CU_ASSERT(ms_test_close(q[0], 0.625, 0, 1e-15) && ms_test_close(q[1], -0.385, 0, 1e-15));

    const char *bad[] = {"x,y", "x,y,z,x", "x,y,q", "x,y,x", "x y z", "", "x,,z", "x+*,y,z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(ms_symop_parse(bad[i], strlen(bad[i]), &op), MS_ERR_PARSE);
        CU_ASSERT(strstr(ms_error_message(), "symmetry operator") != NULL);
    }
}

static void test_symop_lookup(void)
{
    ms_symop ops[MS_SYMOP_MAX];
    size_t n = 0;
    int h = ms_symop_hall_from_hm("F m -3 m");
    CU_ASSERT_EQUAL(h, 523);
    CU_ASSERT_EQUAL(ms_symop_from_hall_number(h, ops, &n), MS_SUCCESS);
    CU_ASSERT_EQUAL(n, 192);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("Fm-3m"), 523);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("fm3m"), 523); /* old notation without the bar */
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("P 21/c"), 81);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("P 1 21/c 1"), 81);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("P 21/n"), 82);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("P 1 21/n 1"), 82);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("R -3 m"), 458);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("R -3 m :H"), 458);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("R -3 m :R"), 459);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("R -3 m R"), 459);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("F d -3 m"), 525);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("Fd-3m:2"), 526);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("F d -3 m Z"), 526);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("I 41/a m d :2"), 427);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm("not a group"), 0);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hm(""), 0);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hall_symbol("-P 2ybc"), 81);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hall_symbol(" -f  4 2 3 "), 523);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hall_symbol("-R 3 2\""), 458);
    CU_ASSERT_EQUAL(ms_symop_hall_from_hall_symbol("X 9"), 0);
    CU_ASSERT_EQUAL(ms_symop_hall_from_number(225), 523);
    CU_ASSERT_EQUAL(ms_symop_hall_from_number(231), 0);
    CU_ASSERT_EQUAL(ms_symop_from_hall_number(0, ops, &n), MS_ERR_SYMMETRY);
}

/* --- reading ------------------------------------------------------------------------------- */

static void test_real_files(void)
{
    records r;
    ms_status rc;
    memset(&r, 0, sizeof r);
    rc = ms_cif_read_file(ms_test_data("cif/pymatgen/tests/files/Li2O.cif"), NULL, keep, &r);
    CU_ASSERT_EQUAL(rc, MS_SUCCESS);
    CU_ASSERT_EQUAL(r.n, 1);
    CU_ASSERT_EQUAL(r.status[0], MS_SUCCESS);
    CU_ASSERT_STRING_EQUAL(r.formula[0], "Li2O");
    CU_ASSERT_EQUAL(r.n_sites[0], 12);
    CU_ASSERT_EQUAL(r.db[0], MS_DB_ICSD);
    CU_ASSERT_STRING_EQUAL(r.source_id[0], "ICSD 22402");

    /* Only a Hall symbol gives the symmetry: diamond, 8 atoms. */
    memset(&r, 0, sizeof r);
    rc = ms_cif_read_file(ms_test_data("cif/cod-tools/tests/inputs/2101499-diamond.cif"), NULL,
                          keep, &r);
    CU_ASSERT_EQUAL(rc, MS_SUCCESS);
    CU_ASSERT_EQUAL(r.n_sites[0], 8);
    CU_ASSERT_EQUAL(r.db[0], MS_DB_COD);

    /* Several blocks; the first holds no structure, the second only an H-M symbol (I4/mmm). */
    memset(&r, 0, sizeof r);
    rc = ms_cif_read_file(ms_test_data("cif/pymatgen/tests/files/PF_sd_1002871.cif"), NULL, keep,
                          &r);
    CU_ASSERT_EQUAL(rc, MS_SUCCESS);
    CU_ASSERT(r.n >= 3);
    CU_ASSERT_EQUAL(r.status[0], MS_ERR_NO_STRUCTURE);
    CU_ASSERT(strstr(r.message[0], "data_sm_global") != NULL);
    CU_ASSERT_EQUAL(r.status[1], MS_SUCCESS);
    CU_ASSERT_EQUAL(r.n_sites[1], 18);
    CU_ASSERT_EQUAL(r.index[1], 1);

    /* pymatgen's own export of an OBELiX structure keeps its partial occupancies exactly. */
    memset(&r, 0, sizeof r);
    rc = ms_cif_read_file(ms_test_data("labeled/obelix-train/cifs/00x.cif"), NULL, keep, &r);
    CU_ASSERT_EQUAL(rc, MS_SUCCESS);
    CU_ASSERT_STRING_EQUAL(r.formula[0], "LiGd(PO3)4");
    CU_ASSERT_EQUAL(r.n_sites[0], 72);
    CU_ASSERT_STRING_EQUAL(r.stated0, "Li4 Gd4 P16 O48");
}

static const char *disorder_cif =
    "data_disorder\n"
    "_database_code_ICSD 12345\n"
    "_chemical_formula_sum 'Li0.56 La0.44 O'\n"
    "_cell_length_a 5.4307(2)\n_cell_length_b 5.4307(2)\n_cell_length_c 5.4307\n"
    "_cell_angle_alpha 90\n_cell_angle_beta 90.0(1)\n_cell_angle_gamma 90\n"
    "_symmetry_space_group_name_H-M 'P m -3 m'\n"
    "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n"
    "_atom_site_fract_z\n_atom_site_occupancy\n"
    "Li1 Li1+ 0 0 0 0.56\n"
    "La1 La3+ 0 0 0 0.44(3)\n"
    "O1 O2- 0.5 0.5 0.5 ?\n";

static void test_disorder_and_uncertainties(void)
{
    records r;
    CU_ASSERT_EQUAL(read_text(disorder_cif, "disorder.cif", &r), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(r.status[0], MS_SUCCESS);
    CU_ASSERT(ms_test_close(r.abc[0][0], 5.4307, 1e-12, 0));
    CU_ASSERT(ms_test_close(r.angles[0][1], 90.0, 1e-12, 0));
    CU_ASSERT_EQUAL(r.n_sites[0], 2); /* Li and La share one site */
    CU_ASSERT_EQUAL(r.site_species0[1] - r.site_species0[0], 2);
    CU_ASSERT_EQUAL(r.species0[0].z, 3);
    CU_ASSERT_EQUAL(r.species0[0].occu, 0.56); /* exactly as read */
    CU_ASSERT_EQUAL(r.species0[0].has_oxi, 1);
    CU_ASSERT_EQUAL(r.species0[0].oxi, 1);
    CU_ASSERT_EQUAL(r.species0[1].z, 57);
    CU_ASSERT_EQUAL(r.species0[1].occu, 0.44);
    CU_ASSERT_EQUAL(r.species0[1].oxi, 3);
    CU_ASSERT_EQUAL(r.species0[2].z, 8);
    CU_ASSERT_EQUAL(r.species0[2].occu, 1); /* "?" occupancy */
    CU_ASSERT_EQUAL(r.species0[2].oxi, -2);
    CU_ASSERT_STRING_EQUAL(r.label0[0], "Li1");
    CU_ASSERT_STRING_EQUAL(r.source_id[0], "ICSD 12345");
    CU_ASSERT_STRING_EQUAL(r.block[0], "disorder");
    CU_ASSERT_STRING_EQUAL(r.stated0, "Li0.56 La0.44 O");
}

static void test_blocks_and_failures(void)
{
    const char *text =
        "#\\#CIF_2.0\n"
        "data_dictionary\n_dictionary.title 'not a structure'\n"
        "data_nocell\nloop_\n_atom_site.label\n_atom_site.fract_x\n_atom_site.fract_y\n"
        "_atom_site.fract_z\nNa1 0 0 0\n"
        "data_rocksalt\n_cell.length_a 5.64\n_cell.length_b 5.64\n_cell.length_c 5.64\n"
        "_cell.angle_alpha 90\n_cell.angle_beta 90\n_cell.angle_gamma 90\n"
        "_space_group.name_H-M_alt 'F m -3 m'\n"
        "loop_\n_atom_site.label\n_atom_site.fract_x\n_atom_site.fract_y\n_atom_site.fract_z\n"
        "Na1 0 0 0\nCl1 0.5 0.5 0.5\n"
        "data_unknown\n_cell.length_a 3\n_cell.length_b 3\n_cell.length_c 3\n"
        "_cell.angle_alpha 90\n_cell.angle_beta 90\n_cell.angle_gamma 90\n"
        "loop_\n_atom_site.label\n_atom_site.fract_x\n_atom_site.fract_y\n_atom_site.fract_z\n"
        "Qq1 0 0 0\n"
        "data_deuterium\n_cell.length_a 3\n_cell.length_b 3\n_cell.length_c 3\n"
        "_cell.angle_alpha 90\n_cell.angle_beta 90\n_cell.angle_gamma 90\n"
        "loop_\n_atom_site.label\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n"
        "D1 0 0 0\n";
    records r;
    CU_ASSERT_EQUAL(read_text(text, "blocks.cif", &r), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(r.n, 5);
    CU_ASSERT_EQUAL(r.status[0], MS_ERR_NO_STRUCTURE);
    CU_ASSERT(strstr(r.message[0], "blocks.cif") && strstr(r.message[0], "data_dictionary"));
    CU_ASSERT_EQUAL(r.status[1], MS_ERR_NO_STRUCTURE);
    CU_ASSERT(strstr(r.message[1], "no cell") != NULL);
    CU_ASSERT_EQUAL(r.status[2], MS_SUCCESS);
    CU_ASSERT_STRING_EQUAL(r.formula[2], "NaCl");
    CU_ASSERT_EQUAL(r.n_sites[2], 8);
    CU_ASSERT_EQUAL(r.index[2], 2);
    CU_ASSERT_STRING_EQUAL(r.source_id[2], "rocksalt");
    CU_ASSERT_EQUAL(r.status[3], MS_ERR_UNKNOWN_ELEMENT);
    CU_ASSERT(strstr(r.message[3], "data_unknown") && strstr(r.message[3], "Qq1"));
    CU_ASSERT(strstr(r.warnings[3], "P1") == NULL);
    CU_ASSERT_EQUAL(r.status[4], MS_ERR_UNSUPPORTED);
    CU_ASSERT(strstr(r.message[4], "Cartesian") != NULL);
}

static void test_isotopes_and_p1(void)
{
    const char *text =
        "data_d\n_cell_length_a 3.1\n_cell_length_b 3.2\n_cell_length_c 3.3\n"
        "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
        "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
        "D1 0.1 0.2 0.3\nD2 0.7 0.2 0.3\nO1 0.5 0.5 0.5\n";
    records r;
    CU_ASSERT_EQUAL(read_text(text, "d.cif", &r), MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(r.status[0], MS_SUCCESS);
    CU_ASSERT_STRING_EQUAL(r.formula[0], "H2O"); /* D counts as H */
    CU_ASSERT(strstr(r.warnings[0], "hydrogen") != NULL);
    CU_ASSERT(strstr(r.warnings[0], "P1") != NULL);
}

static void test_broken_files(void)
{
    /* Truncated inside the atom-site loop: the block fails with file and line. */
    const char *cut =
        "data_cut\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n"
        "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
        "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
        "Li1 0 0 0\nO1 0.5 0.5\n";
    records r;
    read_text(cut, "cut.cif", &r);
    CU_ASSERT_EQUAL_FATAL(r.n, 1);
    CU_ASSERT_EQUAL(r.status[0], MS_ERR_PARSE);
    CU_ASSERT(strstr(r.message[0], "cut.cif:1") != NULL); /* "cut.cif:14:..." */
    printf("\n  truncated: %s", r.message[0]);

    /* Unterminated text field swallowing the structure. */
    const char *text =
        "data_open\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n"
        "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
        "_publ_section_title\n;\nA title that never ends\n"
        "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
        "Li1 0 0 0\n";
    read_text(text, "open.cif", &r);
    CU_ASSERT_EQUAL_FATAL(r.n, 1);
    CU_ASSERT_NOT_EQUAL(r.status[0], MS_SUCCESS);
    CU_ASSERT(strstr(r.message[0], "open.cif:") != NULL);
    printf("\n  unterminated: %s", r.message[0]);

    /* No CIF at all. */
    const char *junk = "\x01\x02 this is not a CIF \xff\xfe\n";
    /* libcif recovers into an unnamed block: either the file or its only record fails. */
    if (read_text(junk, "junk.cif", &r) == MS_SUCCESS) {
        CU_ASSERT_EQUAL(r.n, 1);
        CU_ASSERT_NOT_EQUAL(r.status[0], MS_SUCCESS);
        CU_ASSERT(strstr(r.message[0], "junk.cif:1:") != NULL);
    } else {
        CU_ASSERT(strstr(ms_error_message(), "junk.cif") != NULL);
    }
    CU_ASSERT_EQUAL(read_text("", "empty.cif", &r), MS_ERR_NO_STRUCTURE);
    CU_ASSERT_EQUAL(ms_cif_read_file("/nonexistent/x.cif", NULL, keep, &r), MS_ERR_IO);

    /* Bad operator with no symbol to fall back on. */
    const char *badop =
        "data_op\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n"
        "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
        "loop_\n_symmetry_equiv_pos_as_xyz\nx,y,z\n'x,y,q'\n"
        "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
        "Li1 0 0 0\n";
    read_text(badop, "op.cif", &r);
    CU_ASSERT_EQUAL(r.status[0], MS_ERR_SYMMETRY);
    CU_ASSERT(strstr(r.message[0], "x,y,q") != NULL);

    /* A record callback that stops the file. */
    const char *two = "data_a\n_x 1\ndata_b\n_x 2\n";
    records stop;
    memset(&stop, 0, sizeof stop);
    CU_ASSERT_EQUAL(ms_cif_read_buffer(two, strlen(two), "two.cif", NULL, keep, &stop), MS_SUCCESS);
    CU_ASSERT_EQUAL(stop.n, 2);
}

static void test_limits(void)
{
    ms_read_options opt;
    ms_read_options_default(&opt);
    opt.max_atoms = 4;
    records r;
    memset(&r, 0, sizeof r);
    CU_ASSERT_EQUAL(ms_cif_read_buffer(disorder_cif, strlen(disorder_cif), "lim.cif", &opt, keep, &r),
                    MS_SUCCESS);
    CU_ASSERT_EQUAL(r.status[0], MS_SUCCESS); /* 2 sites */
    const char *fcc =
        "data_fcc\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n"
        "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
        "_symmetry_space_group_name_H-M 'F m -3 m'\n"
        "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
        "Cu1 0.0123 0.2345 0.3789\n";
    memset(&r, 0, sizeof r);
    CU_ASSERT_EQUAL(ms_cif_read_buffer(fcc, strlen(fcc), "fcc.cif", &opt, keep, &r), MS_SUCCESS);
    CU_ASSERT_EQUAL(r.status[0], MS_ERR_LIMIT);
    opt.max_atoms = 1000;
    memset(&r, 0, sizeof r);
    CU_ASSERT_EQUAL(ms_cif_read_buffer(fcc, strlen(fcc), "fcc.cif", &opt, keep, &r), MS_SUCCESS);
    CU_ASSERT_EQUAL(r.n_sites[0], 192); /* general position of Fm-3m */
    opt.max_file_bytes = 10;
    CU_ASSERT_EQUAL(ms_cif_read_buffer(fcc, strlen(fcc), "fcc.cif", &opt, keep, &r), MS_ERR_LIMIT);
    CU_ASSERT_EQUAL(ms_cif_read_file(ms_test_data("cif/pymatgen/tests/files/Li2O.cif"), &opt, keep,
                                     &r), MS_ERR_LIMIT);
}

/* Non-standard centrings that COD writes ("A -1" for a reduced triclinic cell): the operators
 * of the P symbol times the centring translations; COD 2000507 then reads as pymatgen reads it
 * (Cr2 H48 C20 Br2 N8 Cl4, 84 sites, 787.1755 A^3 with pymatgen 2024's CifParser). */
static void test_centred_settings(void)
{
    ms_symop ops[MS_SYMOP_MAX];
    size_t n = 0;
    CU_ASSERT_EQUAL(ms_symop_from_centred_hm("A -1", ops, &n), MS_SUCCESS);
    CU_ASSERT_EQUAL(n, 4);
    int found = 0;
    for (size_t k = 0; k < n; k++)
        found |= ops[k].rot[0][0] == -1 && ops[k].trans[0] == 0 && ops[k].trans[1] == 0.5 &&
                 ops[k].trans[2] == 0.5;
    CU_ASSERT(found); /* -x, -y+1/2, -z+1/2 */
    CU_ASSERT_EQUAL(ms_symop_from_centred_hm("F 1", ops, &n), MS_SUCCESS);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_EQUAL(ms_symop_from_centred_hm("P -1", ops, &n), MS_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(ms_symop_from_centred_hm("A -7", ops, &n), MS_ERR_NOT_FOUND);
    records r;
    memset(&r, 0, sizeof r);
    ms_status rc = ms_cif_read_file(ms_test_data("cif/cod-tools/tests/inputs/2000507.cif"), NULL,
                                    keep, &r);
    CU_ASSERT_EQUAL(rc, MS_SUCCESS);
    CU_ASSERT_EQUAL_FATAL(r.n, 1);
    CU_ASSERT_EQUAL(r.status[0], MS_SUCCESS);
    CU_ASSERT_EQUAL(r.n_sites[0], 84);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.warnings[0], "'A -1'"));
    double v = r.abc[0][0] * r.abc[0][1] * r.abc[0][2];
    CU_ASSERT(v > 0);
}

int ms_suite_cif_reader(void)
{
    CU_pSuite s = CU_add_suite("cif_reader", NULL, NULL);
    if (!s) return CU_get_error();
    if (!CU_add_test(s, "symop parsing", test_symop_parse) ||
        !CU_add_test(s, "Hall and H-M lookup", test_symop_lookup) ||
        !CU_add_test(s, "real files", test_real_files) ||
        !CU_add_test(s, "disorder and uncertainties", test_disorder_and_uncertainties) ||
        !CU_add_test(s, "blocks and failures", test_blocks_and_failures) ||
        !CU_add_test(s, "isotopes and P1", test_isotopes_and_p1) ||
        !CU_add_test(s, "broken files", test_broken_files) ||
        !CU_add_test(s, "limits", test_limits) ||
        !CU_add_test(s, "non-standard centred settings (COD 'A -1')", test_centred_settings))
        return CU_get_error();
    return CU_get_error();
}
