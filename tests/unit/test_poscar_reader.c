/*
 * Tests of the POSCAR reader on tests/data/poscar (written by pymatgen from its own test CIFs;
 * see the README there for how each file was made).
 *
 * Expected values were computed once with /usr/bin/python3 and pymatgen 2022.11.7 (Debian):
 *   s = Structure.from_file("tests/data/poscar/<file>"); s.composition.reduced_formula, len(s),
 *   s.volume, float(s.density), s[5].frac_coords.
 * Li2O_three_scale and LiFePO4_potcar_symbols cannot be read by that pymatgen; they were derived
 * so that they describe the same cell as Li2O.POSCAR and LiFePO4.POSCAR (README).
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/composition.h"
#include "matscreen/hash.h"
#include "matscreen/poscar_reader.h"
#include "matscreen/reader.h"
#include "matscreen/structure.h"
#include "suites.h"
#include "test_util.h"

#define RTOL 1e-6

typedef struct poscar_seen {
    int calls;
    ms_status status;
    char msg[512];
    char formula[64];
    char id[MS_SOURCE_ID_MAX];
    char label0[MS_LABEL_MAX];
    ms_source_db db;
    size_t n_sites;
    double volume, density, frac5[3];
    uint64_t hash;
    long long offset;
} poscar_seen;

static int see(const ms_structure *s, ms_status status, const char *message, void *user)
{
    poscar_seen *p = user;
    p->calls++;
    p->status = status;
    snprintf(p->msg, sizeof p->msg, "%s", message ? message : "(null)");
    snprintf(p->id, sizeof p->id, "%s", s->prov.source_id);
    p->db = s->prov.db;
    p->hash = s->prov.content_hash;
    p->offset = s->prov.offset;
    if (status != MS_SUCCESS) return 0;
    ms_composition c;
    ms_structure_composition(s, &c);
    ms_composition_reduced_formula(&c, ms_test_elements(), p->formula, sizeof p->formula);
    p->n_sites = s->n_sites;
    p->volume = ms_structure_volume(s);
    p->density = ms_structure_density(s, ms_test_elements());
    snprintf(p->label0, sizeof p->label0, "%s", s->label[0]);
    if (s->n_sites > 5) memcpy(p->frac5, s->frac[5], sizeof p->frac5);
    return 0;
}

static ms_status read_poscar(const char *name, poscar_seen *p, const ms_read_options *opt)
{
    memset(p, 0, sizeof *p);
    return ms_poscar_read_file(ms_test_local(name), opt, see, p);
}

/* pymatgen: Li2O n=12 V=97.97218100000002 rho=2.0258498507735054;
 *           LiFePO4 n=28 V=299.60796771125035 rho=3.4974004816484263,
 *           site 5 at (0.28116, 0.25346, 0.97492). */
static const struct {
    const char *file, *formula;
    size_t n;
    double volume, density;
} good[] = {
    {"poscar/Li2O.POSCAR", "Li2O", 12, 97.97218100000002, 2.0258498507735054},
    {"poscar/Li2O_negative_scale.POSCAR", "Li2O", 12, 97.97218100000002, 2.0258498507735054},
    {"poscar/Li2O_three_scale.POSCAR", "Li2O", 12, 97.97218100000002, 2.0258498507735054},
    {"poscar/LiFePO4.POSCAR", "LiFePO4", 28, 299.60796771125035, 3.4974004816484263},
    {"poscar/LiFePO4_cartesian.POSCAR", "LiFePO4", 28, 299.60796771125035, 3.4974004816484263},
    {"poscar/LiFePO4_selective.POSCAR", "LiFePO4", 28, 299.60796771125035, 3.4974004816484263},
    {"poscar/LiFePO4_potcar_symbols.POSCAR", "LiFePO4", 28, 299.60796771125035, 3.4974004816484263},
};

static void test_against_pymatgen(void)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        poscar_seen p;
        CU_ASSERT_EQUAL(read_poscar(good[i].file, &p, NULL), MS_SUCCESS);
        CU_ASSERT_EQUAL(p.calls, 1);
        CU_ASSERT_EQUAL(p.status, MS_SUCCESS);
        if (p.status != MS_SUCCESS) {
            fprintf(stderr, "%s: %s\n", good[i].file, p.msg);
            continue;
        }
        CU_ASSERT_STRING_EQUAL(p.formula, good[i].formula);
        CU_ASSERT_EQUAL(p.n_sites, good[i].n);
        CU_ASSERT(ms_test_close(p.volume, good[i].volume, RTOL, 0));
        CU_ASSERT(ms_test_close(p.density, good[i].density, RTOL, 0));
        if (good[i].n == 28) {
            /* direct, Cartesian (converted back) and selective dynamics agree on positions */
            static const double f5[3] = {0.28116, 0.25346, 0.97492};
            for (int j = 0; j < 3; j++)
                CU_ASSERT(ms_test_close(p.frac5[j], f5[j], 1e-9, 1e-9));
        }
        CU_ASSERT_STRING_EQUAL(p.label0, "Li");
    }
}

static void test_provenance(void)
{
    ms_read_options opt;
    ms_read_options_default(&opt);
    opt.default_db = MS_DB_ICSD;
    poscar_seen p;
    CU_ASSERT_EQUAL(read_poscar("poscar/LiFePO4.POSCAR", &p, &opt), MS_SUCCESS);
    CU_ASSERT_STRING_EQUAL(p.id, "LiFePO4.POSCAR");
    CU_ASSERT_EQUAL(p.db, MS_DB_ICSD);
    CU_ASSERT_EQUAL(p.offset, -1);
    FILE *f = fopen(ms_test_local("poscar/LiFePO4.POSCAR"), "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CU_ASSERT_EQUAL(p.hash, ms_hash_bytes(buf, n));
    /* the buffer interface gives the same */
    poscar_seen q;
    memset(&q, 0, sizeof q);
    CU_ASSERT_EQUAL(ms_poscar_read_buffer(buf, n, "mem/LiFePO4", NULL, see, &q), MS_SUCCESS);
    CU_ASSERT_EQUAL(q.status, MS_SUCCESS);
    CU_ASSERT_STRING_EQUAL(q.id, "LiFePO4");
    CU_ASSERT_EQUAL(q.hash, p.hash);
    CU_ASSERT(ms_test_close(q.volume, p.volume, 1e-15, 0));
}

static void test_vasp4_refused(void)
{
    poscar_seen p;
    CU_ASSERT_EQUAL(read_poscar("poscar/Li2O_vasp4.POSCAR", &p, NULL), MS_SUCCESS);
    CU_ASSERT_EQUAL(p.calls, 1);
    CU_ASSERT_EQUAL(p.status, MS_ERR_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(p.msg, "Li2O_vasp4.POSCAR:6:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p.msg, "VASP 4"));
}

static void test_truncated(void)
{
    poscar_seen p;
    CU_ASSERT_EQUAL(read_poscar("poscar/LiFePO4_truncated.POSCAR", &p, NULL), MS_SUCCESS);
    CU_ASSERT_EQUAL(p.status, MS_ERR_PARSE);
    /* 8 header lines + 20 positions: the 21st position was expected on line 29 */
    CU_ASSERT_PTR_NOT_NULL(strstr(p.msg, "LiFePO4_truncated.POSCAR:29:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p.msg, "atom 21"));
    if (!strstr(p.msg, ":29:")) fprintf(stderr, "%s\n", p.msg);
}

static void test_limits_and_missing(void)
{
    poscar_seen p;
    CU_ASSERT_EQUAL(read_poscar("poscar/does-not-exist.POSCAR", &p, NULL), MS_ERR_IO);
    CU_ASSERT_EQUAL(p.calls, 0);
    ms_read_options opt;
    ms_read_options_default(&opt);
    opt.max_atoms = 20;
    CU_ASSERT_EQUAL(read_poscar("poscar/LiFePO4.POSCAR", &p, &opt), MS_SUCCESS);
    CU_ASSERT_EQUAL(p.status, MS_ERR_LIMIT);
    opt.max_atoms = 100000;
    opt.max_file_bytes = 100;
    CU_ASSERT_EQUAL(read_poscar("poscar/LiFePO4.POSCAR", &p, &opt), MS_ERR_LIMIT);
}

/* Edits of the real Li2O file, one error each: the message names the line. */
static void test_broken_edits(void)
{
    FILE *f = fopen(ms_test_local("poscar/Li2O.POSCAR"), "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char orig[4096];
    size_t n = fread(orig, 1, sizeof orig - 1, f);
    fclose(f);
    orig[n] = '\0';
    /* line k (1-based) replaced by text; expected status and "name:line:" in the message */
    static const struct {
        int line;
        const char *text;
        ms_status status;
        int msg_line;
    } edits[] = {
        {2, "0.0", MS_ERR_INVALID, 2},
        {2, "abc", MS_ERR_PARSE, 2},
        {2, "", MS_ERR_PARSE, 2},
        {2, "1.0 -1.0 1.0", MS_ERR_INVALID, 2},
        {3, "4.61 0.0", MS_ERR_PARSE, 3},
        {3, "4.61 nan 0.0", MS_ERR_PARSE, 3},
        {3, "1e999 0 0", MS_ERR_PARSE, 3},
        {5, "4.61 0.0 0.0", MS_ERR_INVALID, 3},
        {6, "Li Xx", MS_ERR_UNKNOWN_ELEMENT, 6},
        {7, "8", MS_ERR_PARSE, 7},
        {7, "8 -4", MS_ERR_PARSE, 7},
        {7, "0 0", MS_ERR_NO_STRUCTURE, 7},
        {7, "8 99999999", MS_ERR_LIMIT, 7},
        {8, "Fractional", MS_ERR_PARSE, 8},
        {9, "0.25 0.25", MS_ERR_PARSE, 9},
    };
    for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
        char buf[4096 + 64];
        size_t o = 0;
        int line = 1;
        for (size_t i = 0; i < n; i++) {
            if (line == edits[e].line) {
                o += (size_t)snprintf(buf + o, sizeof buf - o, "%s\n", edits[e].text);
                while (i < n && orig[i] != '\n')
                    i++;
                line++;
                continue;
            }
            buf[o++] = orig[i];
            if (orig[i] == '\n') line++;
        }
        poscar_seen p;
        memset(&p, 0, sizeof p);
        CU_ASSERT_EQUAL(ms_poscar_read_buffer(buf, o, "edit", NULL, see, &p), MS_SUCCESS);
        CU_ASSERT_EQUAL(p.status, edits[e].status);
        char want[32];
        snprintf(want, sizeof want, "edit:%d", edits[e].msg_line);
        CU_ASSERT_PTR_NOT_NULL(strstr(p.msg, want));
        if (p.status != edits[e].status || !strstr(p.msg, want))
            fprintf(stderr, "edit %zu: status %d: %s\n", e, p.status, p.msg);
    }
    /* an empty file, and NUL bytes (not a text file) */
    poscar_seen p;
    memset(&p, 0, sizeof p);
    CU_ASSERT_EQUAL(ms_poscar_read_buffer("", 0, "empty", NULL, see, &p), MS_SUCCESS);
    CU_ASSERT_EQUAL(p.status, MS_ERR_PARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(p.msg, "empty:1:"));
    static const char nul[] = "Li\n1.0\n\0";
    CU_ASSERT_EQUAL(ms_poscar_read_buffer(nul, sizeof nul, "nul", NULL, see, &p), MS_ERR_PARSE);
}

/* CRLF line ends, lower-case keywords and "K"(artesian) as VASP accepts them. */
static void test_spellings(void)
{
    FILE *f = fopen(ms_test_local("poscar/LiFePO4_cartesian.POSCAR"), "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char orig[8192];
    size_t n = fread(orig, 1, sizeof orig - 1, f);
    fclose(f);
    char *crlf = malloc(2 * n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(crlf);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (orig[i] == '\n') crlf[o++] = '\r';
        crlf[o++] = orig[i];
    }
    char *mode = strstr(crlf, "cartesian");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mode);
    mode[0] = 'K';
    poscar_seen p;
    memset(&p, 0, sizeof p);
    CU_ASSERT_EQUAL(ms_poscar_read_buffer(crlf, o, "crlf", NULL, see, &p), MS_SUCCESS);
    CU_ASSERT_EQUAL(p.status, MS_SUCCESS);
    CU_ASSERT(ms_test_close(p.volume, 299.60796771125035, RTOL, 0));
    free(crlf);
}

int ms_suite_poscar_reader(void)
{
    CU_pSuite s = CU_add_suite("poscar_reader", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "direct, Cartesian, scales, selective dynamics vs pymatgen",
                test_against_pymatgen);
    CU_add_test(s, "provenance", test_provenance);
    CU_add_test(s, "VASP 4 refused", test_vasp4_refused);
    CU_add_test(s, "truncated file names the line", test_truncated);
    CU_add_test(s, "limits and missing file", test_limits_and_missing);
    CU_add_test(s, "broken edits name the line", test_broken_edits);
    CU_add_test(s, "CRLF and spellings", test_spellings);
    return CU_get_error();
}
