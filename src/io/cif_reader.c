/*
 * CIF reader on the IUCr CIF API (libcif); see cif_reader.h and reader.h.
 *
 * How the parse runs
 *   libcif only reports data items to handler callbacks when it parses into a managed CIF (with a
 *   NULL target it checks syntax and calls nothing), and a managed CIF is an SQLite database whose
 *   creation costs about 0.6 ms. So one cif_tp is created per thread and reused: every handler
 *   returns CIF_TRAVERSE_SKIP_CURRENT so that no item, packet or loop is stored, and the (empty)
 *   blocks left behind are destroyed after each file. The callbacks copy what the structure needs
 *   into a per-thread state (raw atom sites, operators, cell, symbols) and build the structure when
 *   the block ends, so a file is read in a single pass. libcif cannot check for duplicate data
 *   names when nothing is stored; the data-name callback does that instead (a set of 64-bit name
 *   hashes per block or save frame).
 *
 * Syntax errors
 *   The error callback records the first error of the file and of the current block and lets
 *   libcif's error recovery continue, so that the blocks before and after a damaged one are still
 *   read; after 100 errors the parse is abandoned. A block that saw an error other than the
 *   cosmetic ones (long lines, characters outside the CIF 1.1 set, bad encoding) is reported as
 *   MS_ERR_PARSE with file, line and column. A file with no data block at all fails as a whole.
 *
 * Symmetry and merging
 *   Operators come from _symmetry_equiv_pos_as_xyz / _space_group_symop_operation_xyz (and their
 *   DDLm forms with a '.'), else the Hall symbol, else the Hermann-Mauguin symbol, else the
 *   International Tables number (each through spglib's database), else P1 with a warning. Every
 *   operator is applied to every atom site and the image wrapped into [0, 1). An image within
 *   opt->merge_tol Å (periodic, Cartesian distance) of an earlier position is not a new site:
 *     - an image of the same atom site is dropped (special positions);
 *     - a position of another atom site becomes the same site holding both species (substitutional
 *       disorder, e.g. Li 0.5 + La 0.5), as pymatgen does; species of the same element and charge
 *       on one site are summed. When the summed occupancy would exceed 1 + 1e-3 the sites are kept
 *       apart with a warning (two atoms that close cannot both be there; the quality stage sees it).
 *   The check first rejects on fractional differences (per-axis bound tol / interplanar spacing)
 *   and buckets positions along c, so it costs a few flops per nearby pair. Occupancies are kept as
 *   read, never rounded or rescaled; sums slightly above 1 are warned about.
 *
 * Not collective. Thread-safe: each thread has its own libcif object and scratch state.
 */
#include "matscreen/cif_reader.h"

#include <ctype.h>
#include <libcif/cif.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "matscreen/file_read.h"
#include "matscreen/hash.h"
#include "matscreen/symop.h"

#define NAME_LEN 80        /* longest data name we look at (ours are < 40 characters) */
#define VALUE_LEN 256      /* longest value we look at (symbols, numbers, operators) */
#define MAX_ERRORS 100     /* syntax errors after which a file is abandoned */
#define OCCU_SLACK 1e-3    /* occupancy sum above 1 that ms_structure_finish accepts */
#define MAX_BUCKETS 4096
#define MAX_COMP 6         /* elements in one Pauling File mixed type symbol */
#define TYPE_LEN 96        /* type symbol; six mixed components with uncertainties fit */

/* The data names the reader uses, after lowercasing and mapping DDLm '.' to '_'. */
typedef enum field {
    F_CELL_A, F_CELL_B, F_CELL_C, F_CELL_ALPHA, F_CELL_BETA, F_CELL_GAMMA,
    F_SYMOP_1, /* _symmetry_equiv_pos_as_xyz */
    F_SYMOP_2, /* _space_group_symop_operation_xyz */
    F_HALL, F_HM, F_ITNUM, F_ICSD, F_COD, F_FORMULA,
    F_LABEL, F_TYPE, F_X, F_Y, F_Z, F_OCCU, F_CARTN, F_CALC_FLAG, F_SUPERSPACE
} field;

static const struct {
    const char *name;
    field f;
} fields[] = {
    {"_cell_length_a", F_CELL_A},
    {"_cell_length_b", F_CELL_B},
    {"_cell_length_c", F_CELL_C},
    {"_cell_angle_alpha", F_CELL_ALPHA},
    {"_cell_angle_beta", F_CELL_BETA},
    {"_cell_angle_gamma", F_CELL_GAMMA},
    {"_atom_site_label", F_LABEL},
    {"_atom_site_type_symbol", F_TYPE},
    {"_atom_site_fract_x", F_X},
    {"_atom_site_fract_y", F_Y},
    {"_atom_site_fract_z", F_Z},
    {"_atom_site_occupancy", F_OCCU},
    {"_atom_site_cartn_x", F_CARTN},
    {"_atom_site_cartn_y", F_CARTN},
    {"_atom_site_cartn_z", F_CARTN},
    {"_atom_site_calc_flag", F_CALC_FLAG},
    {"_cell_modulation_dimension", F_SUPERSPACE},
    {"_space_group_ssg_name", F_SUPERSPACE},
    {"_space_group_symop_ssg_operation_algebraic", F_SUPERSPACE},
    {"_symmetry_ssg_name", F_SUPERSPACE},
    {"_symmetry_equiv_pos_as_xyz", F_SYMOP_1},
    {"_space_group_symop_operation_xyz", F_SYMOP_2},
    {"_symmetry_space_group_name_hall", F_HALL},
    {"_space_group_name_hall", F_HALL},
    {"_symmetry_space_group_name_h-m", F_HM},
    {"_space_group_name_h-m_alt", F_HM},
    {"_symmetry_int_tables_number", F_ITNUM},
    {"_space_group_it_number", F_ITNUM},
    {"_database_code_icsd", F_ICSD},
    {"_cod_database_code", F_COD},
    {"_chemical_formula_sum", F_FORMULA},
};

enum { HAVE_LABEL = 1, HAVE_TYPE = 2, HAVE_X = 4, HAVE_Y = 8, HAVE_Z = 16, HAVE_CARTN = 32,
       IS_DUMMY = 64 };

/* An atom site as the CIF states it, before symmetry. */
typedef struct raw_site {
    char label[MS_LABEL_MAX];
    char type[TYPE_LEN];
    double frac[3];
    double occu;
    unsigned have;
    int z;          /* element, resolved when the block ends */
    int has_oxi;
    double oxi;
    int n_comp;     /* Pauling File mixed sites ("0.75Si + 0.25Al"): elements and fractions */
    int zc[MAX_COMP];
    double fc[MAX_COMP];
} raw_site;

/* One species assignment of an expanded site: the raw site it comes from, and the next one. */
typedef struct assignment {
    size_t raw, next;
} assignment;

/* Everything a parse needs, reused across blocks and files of one thread. */
typedef struct cif_state {
    cif_tp *cif;
    struct cif_parse_opts_s *popts;
    cif_handler_tp handler;
    int busy;

    /* the current file */
    const char *name;
    const ms_read_options *opt;
    ms_record_fn fn;
    void *user;
    uint64_t hash;
    int stop;
    size_t n_blocks;
    int frame_depth;
    int n_errors, first_code;
    size_t first_line, first_col;
    int n_serious, serious_code; /* errors that are not cosmetic */
    size_t serious_line, serious_col;

    /* the current block */
    int in_block;
    char block[MS_BLOCK_MAX];
    size_t block_line;
    int block_err_code;
    size_t block_err_line, block_err_col;
    int block_cosmetic; /* count of cosmetic syntax errors */
    int block_warn_code; /* first recovered error away from the structure's data */
    size_t block_warn_line, block_warn_col;
    int block_warn_count;
    int struct_name; /* the last data name scanned is one the structure is built from */
    double cell[6];
    int bad_cell;            /* 1 + index (a b c alpha beta gamma) of the first cell value that
                                is not a number, 0 none */
    char bad_cell_text[32];  /* that value, cut */
    unsigned have_cell;
    char hall[64], hm[64];
    int itnum;
    char icsd[48], cod[48];
    char formula[MS_FORMULA_MAX];
    int have_formula;
    ms_status status;
    char message[512];
    int in_loop;
    long pkt_site, scalar_site;
    int symop_family;
    int superspace;         /* a modulated structure (superspace group) */
    int symop_bad;          /* an operator of the list could not be read */
    char symop_msg[256];
    raw_site *sites;
    size_t n_sites, cap_sites;
    ms_symop *ops;
    size_t n_ops, cap_ops;

    /* duplicate data-name detection: open addressing on name hashes */
    uint64_t *names;
    size_t cap_names, n_names;
    uint64_t *frame_names;
    size_t cap_frame_names, n_frame_names;

    /* symmetry expansion scratch */
    double (*pos)[3];
    size_t *owner, *assign_head, *next_in_bucket;
    size_t cap_pos;
    assignment *assign;
    size_t cap_assign, n_assign;
    size_t bucket[MAX_BUCKETS];

    char *text; /* the input with line ends made LF */
    size_t cap_text;

    ms_structure s;
} cif_state;

#define NONE ((size_t)-1)

/* ---------------------------------------------------------------------------------------------
 * Small helpers
 */

/* Grows *p (of element size elem) to hold at least need elements. */
static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 1;
    size_t n = *cap ? *cap : 16;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return 0;
    *p = q;
    *cap = n;
    return 1;
}

static void copy_str(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    if (len >= n) len = n - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* A data name as lowercase ASCII with DDLm '.' mapped to '_'; 0 when too long or not ASCII. */
static int name_key(const UChar *u, char out[NAME_LEN])
{
    size_t i = 0;
    for (; u[i]; i++) {
        if (i + 1 >= NAME_LEN || u[i] >= 128) return 0;
        char c = (char)u[i];
        out[i] = c == '.' ? '_' : (char)tolower((unsigned char)c);
    }
    out[i] = '\0';
    return 1;
}

/* Copies a UTF-16 string into ASCII (other characters become '?'), truncating to n - 1. */
static void ustr_ascii(const UChar *u, char *out, size_t n)
{
    size_t k = 0;
    for (; u && u[k] && k + 1 < n; k++) out[k] = u[k] < 128 ? (char)u[k] : '?';
    out[k] = '\0';
}

/* Parses a CIF number, dropping a standard uncertainty in parentheses: "5.4307(2)" gives 5.4307.
 * Returns 0 for "?", "." and anything that is not a number. */
static int cif_number(const char *s, double *out)
{
    while (*s == ' ' || *s == '\t') s++;
    if (!(isdigit((unsigned char)*s) || *s == '-' || *s == '+' || *s == '.')) return 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s) return 0;
    if (*end == '(') {
        end++;
        while (isdigit((unsigned char)*end)) end++;
        if (*end != ')') return 0;
        end++;
    }
    while (*end == ' ' || *end == '\t') end++;
    if (*end) return 0;
    *out = v;
    return 1;
}

static void block_fail(cif_state *st, ms_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Records the first failure of the block; the block is reported as failed when it ends. */
static void block_fail(cif_state *st, ms_status code, const char *fmt, ...)
{
    if (st->status != MS_SUCCESS) return;
    st->status = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->message, sizeof st->message, fmt, ap);
    va_end(ap);
}

static const char *syntax_error_text(int code)
{
    switch (code) {
    case CIF_DUP_BLOCKCODE: return "duplicate data block code";
    case CIF_INVALID_BLOCKCODE: return "invalid data block code";
    case CIF_DUP_FRAMECODE: return "duplicate save frame code";
    case CIF_INVALID_FRAMECODE: return "invalid save frame code";
    case CIF_DUP_ITEMNAME: return "duplicate data name";
    case CIF_INVALID_ITEMNAME: return "invalid data name";
    case CIF_NULL_LOOP: return "loop with no data names";
    case CIF_EMPTY_LOOP: return "loop with no values";
    case CIF_PARTIAL_PACKET: return "loop values are not a multiple of its data names";
    case CIF_INVALID_CHAR: return "invalid character";
    case CIF_UNMAPPED_CHAR: return "byte sequence not valid in the file's encoding";
    case CIF_DISALLOWED_CHAR: return "character not allowed in CIF";
    case CIF_MISSING_SPACE: return "missing whitespace between tokens";
    case CIF_MISSING_ENDQUOTE: return "unterminated quoted string";
    case CIF_UNCLOSED_TEXT: return "unterminated text field (missing closing ';')";
    case CIF_OVERLENGTH_LINE: return "line longer than 2048 characters";
    case CIF_DISALLOWED_INITIAL_CHAR: return "unquoted value starts with a reserved character";
    case CIF_INVALID_BARE_VALUE: return "unquoted value holds a reserved character";
    case CIF_WRONG_ENCODING: return "wrong character encoding";
    case CIF_NO_BLOCK_HEADER: return "data before the first data_ block header";
    case CIF_FRAME_NOT_ALLOWED: return "save frame not allowed here";
    case CIF_NO_FRAME_TERM: return "save frame not terminated";
    case CIF_UNEXPECTED_TERM: return "unexpected save_ terminator";
    case CIF_EOF_IN_FRAME: return "end of file inside a save frame";
    case CIF_RESERVED_WORD: return "reserved word used as a value";
    case CIF_MISSING_VALUE: return "data name without a value";
    case CIF_UNEXPECTED_VALUE: return "value without a data name";
    case CIF_UNEXPECTED_DELIM: return "unexpected list or table delimiter";
    case CIF_MISSING_DELIM: return "missing list or table delimiter";
    case CIF_MISSING_KEY: return "table entry without a key";
    case CIF_UNQUOTED_KEY: return "unquoted table key";
    case CIF_MISQUOTED_KEY: return "misquoted table key";
    case CIF_NULL_KEY: return "empty table key";
    default: return "syntax error";  /* other codes are not syntax errors of the input */
    }
}

/* Errors that leave every value readable: the block is still read, with a warning. */
static int is_cosmetic(int code)
{
    return code == CIF_OVERLENGTH_LINE || code == CIF_INVALID_CHAR || code == CIF_UNMAPPED_CHAR ||
           code == CIF_DISALLOWED_CHAR || code == CIF_WRONG_ENCODING ||
           code == CIF_DISALLOWED_INITIAL_CHAR || code == CIF_INVALID_BARE_VALUE;
}

/* ---------------------------------------------------------------------------------------------
 * Duplicate data names
 */

static uint64_t name_hash(const UChar *u, size_t len)
{
    uint64_t h = MS_HASH_INIT;
    for (size_t i = 0; i < len; i++) {
        UChar c = u[i];
        if (c < 128) c = (UChar)tolower(c);
        h = ms_hash_update(h, &c, sizeof c);
    }
    return h ? h : 1; /* 0 marks an empty slot */
}

/* Inserts h; returns 1 when it was new, 0 when present, -1 when out of memory. */
static int name_set_insert(uint64_t **set, size_t *cap, size_t *n, uint64_t h)
{
    if (2 * (*n + 1) > *cap) {
        size_t ncap = *cap ? 2 * *cap : 128;
        uint64_t *nset = calloc(ncap, sizeof *nset);
        if (!nset) return -1;
        for (size_t i = 0; i < *cap; i++) {
            if (!(*set)[i]) continue;
            size_t j = (*set)[i] & (ncap - 1);
            while (nset[j]) j = (j + 1) & (ncap - 1);
            nset[j] = (*set)[i];
        }
        free(*set);
        *set = nset;
        *cap = ncap;
    }
    size_t j = h & (*cap - 1);
    while ((*set)[j]) {
        if ((*set)[j] == h) return 0;
        j = (j + 1) & (*cap - 1);
    }
    (*set)[j] = h;
    (*n)++;
    return 1;
}

static void name_set_clear(uint64_t *set, size_t cap, size_t *n)
{
    if (*n) memset(set, 0, cap * sizeof *set);
    *n = 0;
}

static void record_syntax_error(cif_state *st, int code, size_t line, size_t col)
{
    st->n_errors++;
    if (!is_cosmetic(code) && !st->n_serious++) {
        st->serious_code = code;
        st->serious_line = line;
        st->serious_col = col;
    }
    if (!st->first_code) {
        st->first_code = code;
        st->first_line = line;
        st->first_col = col;
    }
    if (!st->in_block) return;
    if (is_cosmetic(code)) {
        st->block_cosmetic++;
    } else if (st->struct_name) {
        /* Near the cell, atom sites or operators: recovered values could be misplaced. */
        if (!st->block_err_code) {
            st->block_err_code = code;
            st->block_err_line = line;
            st->block_err_col = col;
        }
    } else {
        if (!st->block_warn_count++) {
            st->block_warn_code = code;
            st->block_warn_line = line;
            st->block_warn_col = col;
        }
    }
}

/* Whether a data name is one the structure is built from (cell, atom sites, operators). */
static int is_structure_name(const UChar *u, size_t len)
{
    char key[NAME_LEN];
    if (len + 1 > NAME_LEN) return 0;
    for (size_t i = 0; i < len; i++) {
        if (u[i] >= 128) return 0;
        key[i] = u[i] == '.' ? '_' : (char)tolower((unsigned char)u[i]);
    }
    key[len] = '\0';
    if (strncmp(key, "_atom_site_", 11) == 0) return strncmp(key + 11, "aniso", 5) != 0;
    return strncmp(key, "_cell_length_", 13) == 0 || strncmp(key, "_cell_angle_", 12) == 0 ||
           strstr(key, "pos_as_xyz") != NULL || strstr(key, "operation_xyz") != NULL;
}

static void on_dataname(size_t line, size_t column, const UChar *token, size_t length, void *data)
{
    cif_state *st = data;
    st->struct_name = is_structure_name(token, length);
    if (st->in_block && !st->block_line) st->block_line = line;
    uint64_t h = name_hash(token, length);
    int r = st->frame_depth > 0
                ? name_set_insert(&st->frame_names, &st->cap_frame_names, &st->n_frame_names, h)
                : name_set_insert(&st->names, &st->cap_names, &st->n_names, h);
    if (r == 0) record_syntax_error(st, CIF_DUP_ITEMNAME, line, column);
}

static int on_syntax_error(int code, size_t line, size_t column, const UChar *text, size_t length,
                           void *data)
{
    (void)text;
    (void)length;
    cif_state *st = data;
    record_syntax_error(st, code, line, column);
    /* libcif recovers from every syntax error. Never abort the parse: libcif 0.4.2 leaks the
     * pending loop of an aborted parse. Errors past MAX_ERRORS are only counted. */
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Collecting a block
 */

static void block_begin(cif_state *st, const char *code)
{
    st->in_block = 1;
    copy_str(st->block, sizeof st->block, code);
    st->block_line = 0;
    st->block_err_code = 0;
    st->block_cosmetic = 0;
    st->block_warn_code = st->block_warn_count = 0;
    st->struct_name = 0;
    st->have_cell = 0;
    st->bad_cell = 0;
    st->hall[0] = st->hm[0] = st->icsd[0] = st->cod[0] = st->formula[0] = '\0';
    st->have_formula = 0;
    st->itnum = 0;
    st->status = MS_SUCCESS;
    st->message[0] = '\0';
    st->in_loop = 0;
    st->pkt_site = st->scalar_site = -1;
    st->symop_family = 0;
    st->symop_bad = 0;
    st->superspace = 0;
    st->n_sites = st->n_ops = 0;
    st->frame_depth = 0;
    name_set_clear(st->names, st->cap_names, &st->n_names);
}

static int on_block_start(cif_container_tp *block, void *ctx)
{
    cif_state *st = ctx;
    UChar *code = NULL;
    char name[MS_BLOCK_MAX] = "";
    if (cif_container_get_code(block, &code) == CIF_OK) ustr_ascii(code, name, sizeof name);
    free(code);
    block_begin(st, name);
    return st->stop ? CIF_TRAVERSE_SKIP_CURRENT : CIF_TRAVERSE_CONTINUE;
}

static int on_frame_start(cif_container_tp *frame, void *ctx)
{
    (void)frame;
    cif_state *st = ctx;
    st->frame_depth++;
    name_set_clear(st->frame_names, st->cap_frame_names, &st->n_frame_names);
    return CIF_TRAVERSE_CONTINUE;
}

static int on_frame_end(cif_container_tp *frame, void *ctx)
{
    (void)frame;
    cif_state *st = ctx;
    if (st->frame_depth > 0) st->frame_depth--;
    return CIF_TRAVERSE_SKIP_CURRENT;
}

static int on_loop_start(cif_loop_tp *loop, void *ctx)
{
    (void)loop;
    ((cif_state *)ctx)->in_loop = 1;
    return CIF_TRAVERSE_CONTINUE;
}

static int on_loop_end(cif_loop_tp *loop, void *ctx)
{
    (void)loop;
    ((cif_state *)ctx)->in_loop = 0;
    return CIF_TRAVERSE_SKIP_CURRENT;
}

static int on_packet_start(cif_packet_tp *packet, void *ctx)
{
    (void)packet;
    ((cif_state *)ctx)->pkt_site = -1;
    return CIF_TRAVERSE_CONTINUE;
}

static int on_packet_end(cif_packet_tp *packet, void *ctx)
{
    (void)packet;
    ((cif_state *)ctx)->pkt_site = -1;
    return CIF_TRAVERSE_SKIP_CURRENT;
}

/* The raw site the current atom-site item belongs to (one per loop packet). */
static raw_site *current_site(cif_state *st)
{
    long *slot = st->in_loop ? &st->pkt_site : &st->scalar_site;
    if (*slot < 0) {
        /* Refused as the rows are read, not after all of them are collected: a loop of 10^6
         * rows stops costing memory and time here. */
        if (st->n_sites >= st->opt->max_atoms) {
            block_fail(st, MS_ERR_LIMIT, "more than %zu atom sites (the limit of atoms per structure)",
                       st->opt->max_atoms);
            return NULL;
        }
        if (!grow((void **)&st->sites, &st->cap_sites, st->n_sites + 1, sizeof *st->sites)) {
            block_fail(st, MS_ERR_NOMEM, "out of memory for atom sites");
            return NULL;
        }
        raw_site *r = &st->sites[st->n_sites];
        memset(r, 0, sizeof *r);
        r->occu = 1;
        *slot = (long)st->n_sites++;
    }
    return &st->sites[*slot];
}

static void take_symop(cif_state *st, int family, const char *text)
{
    /* A CIF that lists the operators under both names lists them twice: use the first family. */
    if (st->symop_family && st->symop_family != family) return;
    st->symop_family = family;
    size_t max_ops = st->opt->max_symops ? st->opt->max_symops : MS_READ_DEFAULT_MAX_SYMOPS;
    if (st->n_ops >= max_ops) { /* expansion costs operators x sites */
        block_fail(st, MS_ERR_LIMIT,
                   "more than %zu symmetry operators listed (a space group has at most %d)",
                   max_ops, MS_SYMOP_MAX);
        return;
    }
    if (!grow((void **)&st->ops, &st->cap_ops, st->n_ops + 1, sizeof *st->ops)) {
        block_fail(st, MS_ERR_NOMEM, "out of memory for symmetry operators");
        return;
    }
    if (ms_symop_parse(text, strlen(text), &st->ops[st->n_ops]) != MS_SUCCESS) {
        /* Decided when the block ends: a space-group symbol may stand in for the list. */
        if (!st->symop_bad++) copy_str(st->symop_msg, sizeof st->symop_msg, ms_error_message());
        return;
    }
    st->n_ops++;
}

static int on_item(UChar *name, cif_value_tp *value, void *ctx)
{
    cif_state *st = ctx;
    char key[NAME_LEN];
    if (!name || !st->in_block || st->frame_depth > 0 || st->stop || !name_key(name, key))
        return CIF_TRAVERSE_SKIP_CURRENT;
    /* Every name we use starts with one of these; most items of a CIF are rejected here. */
    if (strncmp(key, "_atom_site_", 11) != 0 && strncmp(key, "_cell_", 6) != 0 &&
        strncmp(key, "_s", 2) != 0 && strncmp(key, "_database", 9) != 0 &&
        strncmp(key, "_cod_", 5) != 0 && strncmp(key, "_chemical_", 10) != 0)
        return CIF_TRAVERSE_SKIP_CURRENT;
    int f = -1;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (strcmp(key, fields[i].name) == 0) {
            f = (int)fields[i].f;
            break;
        }
    }
    if (f < 0) return CIF_TRAVERSE_SKIP_CURRENT;

    char text[VALUE_LEN];
    switch (cif_value_kind(value)) {
    case CIF_CHAR_KIND:
    case CIF_NUMB_KIND: {
        UChar *u = NULL;
        if (cif_value_get_text(value, &u) != CIF_OK) {
            block_fail(st, MS_ERR_NOMEM, "cannot read the value of %s", key);
            return CIF_TRAVERSE_SKIP_CURRENT;
        }
        size_t len = 0, max_len = st->opt->max_value_bytes ? st->opt->max_value_bytes
                                                           : MS_READ_DEFAULT_MAX_VALUE_BYTES;
        while (u && u[len] && len <= max_len) len++;
        if (len > max_len) {
            free(u);
            block_fail(st, MS_ERR_LIMIT, "a value of %s is longer than the limit of %zu characters",
                       key, max_len);
            return CIF_TRAVERSE_SKIP_CURRENT;
        }
        ustr_ascii(u, text, sizeof text);
        free(u);
        break;
    }
    case CIF_NA_KIND: strcpy(text, "."); break;
    case CIF_UNK_KIND: strcpy(text, "?"); break;
    default: strcpy(text, "?"); break; /* CIF 2.0 list or table where a scalar belongs */
    }

    double v;
    raw_site *r;
    switch ((field)f) {
    case F_CELL_A: case F_CELL_B: case F_CELL_C:
    case F_CELL_ALPHA: case F_CELL_BETA: case F_CELL_GAMMA:
        if (cif_number(text, &v)) {
            st->cell[f - F_CELL_A] = v;
            st->have_cell |= 1u << (f - F_CELL_A);
        } else if (!st->bad_cell && strcmp(text, "?") && strcmp(text, ".")) {
            st->bad_cell = 1 + (int)(f - F_CELL_A); /* named in build_structure's message */
            copy_str(st->bad_cell_text, sizeof st->bad_cell_text, text);
        }
        break;
    case F_SYMOP_1: take_symop(st, 1, text); break;
    case F_SYMOP_2: take_symop(st, 2, text); break;
    case F_HALL:
        if (!st->hall[0] && strcmp(text, "?") && strcmp(text, ".")) copy_str(st->hall, sizeof st->hall, text);
        break;
    case F_HM:
        if (!st->hm[0] && strcmp(text, "?") && strcmp(text, ".")) copy_str(st->hm, sizeof st->hm, text);
        break;
    case F_ITNUM:
        if (cif_number(text, &v) && v >= 1 && v <= 230 && v == floor(v)) st->itnum = (int)v;
        break;
    case F_ICSD: if (strcmp(text, "?") && strcmp(text, ".")) copy_str(st->icsd, sizeof st->icsd, text); break;
    case F_COD: if (strcmp(text, "?") && strcmp(text, ".")) copy_str(st->cod, sizeof st->cod, text); break;
    case F_FORMULA:
        if (strcmp(text, "?") && strcmp(text, ".")) {
            copy_str(st->formula, sizeof st->formula, text);
            st->have_formula = 1;
        }
        break;
    case F_LABEL:
        if ((r = current_site(st))) {
            copy_str(r->label, sizeof r->label, text);
            r->have |= HAVE_LABEL;
        }
        break;
    case F_TYPE:
        if ((r = current_site(st))) {
            /* A cut type symbol would silently drop elements ("0.5Ga + 0.26Zn + 0.24Mn" lost its
             * Mn at 16 bytes): refuse it instead. */
            if (strlen(text) >= sizeof r->type)
                block_fail(st, MS_ERR_LIMIT, "atom site %s: type symbol longer than %zu characters",
                           r->label, sizeof r->type - 1);
            copy_str(r->type, sizeof r->type, text);
            r->have |= HAVE_TYPE;
        }
        break;
    case F_X: case F_Y: case F_Z:
        if ((r = current_site(st))) {
            if (cif_number(text, &v) && !(fabs(v) <= MS_FRAC_COORD_MAX)) {
                /* checked before the images are wrapped into [0, 1), which would hide it */
                block_fail(st, MS_ERR_INVALID,
                           "atom site %s: %s %s is beyond +-%g cells: not a "
                           "fractional coordinate (a typo, or Cartesian values?)",
                           r->label[0] ? r->label : "?", key, text, MS_FRAC_COORD_MAX);
            } else if (cif_number(text, &v) || strcmp(text, ".") == 0) {
                /* ICSD exports write a zero coordinate as "." (inapplicable); pymatgen reads 0. */
                r->frac[f - F_X] = strcmp(text, ".") == 0 ? 0.0 : v;
                r->have |= (unsigned)HAVE_X << (f - F_X);
            } else if (strcmp(text, "?")) {
                block_fail(st, MS_ERR_INVALID, "atom site %s: %s '%s' is not a number",
                           r->label[0] ? r->label : "?", key, text);
            }
        }
        break;
    case F_OCCU:
        if ((r = current_site(st))) {
            if (cif_number(text, &v)) {
                r->occu = v;
            } else if (strcmp(text, "?") && strcmp(text, ".")) {
                block_fail(st, MS_ERR_INVALID, "atom site %s: occupancy '%s' is not a number",
                           r->label[0] ? r->label : "?", text);
            }
        }
        break;
    case F_CARTN:
        if ((r = current_site(st))) r->have |= HAVE_CARTN;
        break;
    case F_SUPERSPACE:
        if (strcmp(text, "0") != 0) st->superspace = 1;
        break;
    case F_CALC_FLAG:
        /* "dum": a dummy atom (ring centroid and the like), not an atom of the structure. */
        if ((r = current_site(st)) && strcmp(text, "dum") == 0) r->have |= IS_DUMMY;
        break;
    }
    return CIF_TRAVERSE_SKIP_CURRENT;
}

/* ---------------------------------------------------------------------------------------------
 * Building the structure of a block
 */

/* The element of a type symbol or label, pymatgen-like: the leading letters ("Li1" -> Li,
 * "O2-" -> O, "FE" -> Fe), two letters when they make an element, else one. A type symbol may
 * carry a charge ("Fe3+", "O2-", "Li+"), read when parse_charge is set. Returns Z or 0. */
static int species_of(const char *text, int parse_charge, int *isotope, int *water, double *oxi,
                      int *has_oxi)
{
    const char *p = text;
    while (*p == ' ') p++;
    if (!isalpha((unsigned char)p[0])) return 0;
    /* Water oxygen in mineral CIFs ("Wat1"); pymatgen reads it as O too, not as tungsten. */
    if ((p[0] == 'W' || p[0] == 'w') && (p[1] == 'a' || p[1] == 'A') && (p[2] == 't' || p[2] == 'T')) {
        *water = 1;
        return 8;
    }
    int z = 0;
    size_t used = 0;
    if (isalpha((unsigned char)p[1])) {
        char two[2] = {(char)toupper((unsigned char)p[0]), (char)tolower((unsigned char)p[1])};
        z = ms_element_z(two, 2, isotope);
        used = 2;
    }
    if (!z) {
        char one = (char)toupper((unsigned char)p[0]);
        z = ms_element_z(&one, 1, isotope);
        used = 1;
    }
    if (!z || !parse_charge) return z;
    /* A charge follows the letters directly: digits then a sign, or a sign alone. */
    const char *q = p + used;
    if (isalpha((unsigned char)*q)) return z;
    int mag = 0, digits = 0;
    while (isdigit((unsigned char)*q) && digits < 3) {
        mag = mag * 10 + (*q - '0');
        q++;
        digits++;
    }
    if ((*q == '+' || *q == '-') && q[1] == '\0') {
        *oxi = (digits ? mag : 1) * (*q == '-' ? -1 : 1);
        *has_oxi = 1;
    }
    return z;
}

/* Reads a Pauling File mixed type symbol ("0.75Si + 0.25Al", with standard uncertainties as in
 * "0.648(4)Mn + 0.352(4)Fe") into the components of r; returns 0 when the type symbol is not of
 * that form. */
static int mixed_type(raw_site *r)
{
    if (!strchr(r->type, '+') || (!isdigit((unsigned char)r->type[0]) && r->type[0] != '.')) return 0;
    const char *p = r->type;
    int n = 0;
    while (*p) {
        char *end;
        double f = strtod(p, &end);
        if (end == p || n == MAX_COMP || !(f > 0)) return 0;
        p = end;
        if (*p == '(') { /* standard uncertainty of the fraction */
            while (isdigit((unsigned char)*++p)) {}
            if (*p++ != ')') return 0;
        }
        int iso = 0, water = 0, has_oxi = 0;
        double oxi = 0;
        char sym[4] = {0};
        size_t k = 0;
        while (isalpha((unsigned char)*p) && k < 3) sym[k++] = *p++;
        int z = species_of(sym, 0, &iso, &water, &oxi, &has_oxi);
        if (!z) return 0;
        r->zc[n] = z;
        r->fc[n] = f;
        n++;
        while (*p == ' ') p++;
        if (*p == '+') p++;
        else if (*p) return 0;
        while (*p == ' ') p++;
    }
    r->n_comp = n;
    return n > 1;
}

/* Interplanar spacings: the height of the cell over each pair of the other two vectors. */
static void heights(const double L[3][3], double h[3])
{
    for (int i = 0; i < 3; i++) {
        const double *u = L[(i + 1) % 3], *w = L[(i + 2) % 3];
        double c[3] = {u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]};
        double area = sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
        double vol = fabs(L[i][0] * c[0] + L[i][1] * c[1] + L[i][2] * c[2]);
        h[i] = area > 0 ? vol / area : 0;
    }
}

static int same_place(const double L[3][3], const double a[3], const double b[3], const double tf[3],
                      double tol2)
{
    double d[3];
    for (int i = 0; i < 3; i++) {
        d[i] = a[i] - b[i];
        d[i] -= nearbyint(d[i]);
        if (fabs(d[i]) > tf[i]) return 0;
    }
    double c[3];
    for (int j = 0; j < 3; j++) c[j] = d[0] * L[0][j] + d[1] * L[1][j] + d[2] * L[2][j];
    return c[0] * c[0] + c[1] * c[1] + c[2] * c[2] <= tol2;
}

/* The symmetry operators of the block: its operator list, else the Hall or H-M symbol or the
 * International Tables number (spglib's database, into db_ops), else P1 with a warning. */
static ms_status block_operators(cif_state *st, ms_symop *db_ops, const ms_symop **ops_out,
                                 size_t *n_out)
{
    ms_structure *s = &st->s;
    const char *file = st->name;
    const char *blk = st->block;
    const ms_symop *ops = st->ops;
    size_t n_ops = st->n_ops;
    if (st->symop_bad) {
        if (!(st->hall[0] && ms_symop_hall_from_hall_symbol(st->hall)) &&
            !(st->hm[0] && ms_symop_hall_from_hm(st->hm)))
            return ms_error_set(MS_ERR_SYMMETRY, "%s: data_%s: %s", file, blk, st->symop_msg);
        ms_structure_warn(s, "%s: used the space-group symbol instead of the operator list",
                          st->symop_msg);
        n_ops = 0;
    }
    if (n_ops == 0) {
        int hall = 0;
        const char *how = NULL;
        if (st->hall[0] && (hall = ms_symop_hall_from_hall_symbol(st->hall))) how = "Hall symbol";
        if (!hall && st->hm[0] && (hall = ms_symop_hall_from_hm(st->hm))) how = "H-M symbol";
        if (!hall && st->itnum && (hall = ms_symop_hall_from_number(st->itnum))) {
            ms_structure_warn(s, "symmetry from the International Tables number %d only", st->itnum);
            how = "number";
        }
        if (!hall && !st->hall[0] && st->hm[0] &&
            ms_symop_from_centred_hm(st->hm, db_ops, &n_ops) == MS_SUCCESS) {
            /* a non-standard centring (COD's "A -1"): P operators times the centring */
            ms_structure_warn(s, "space group '%s' built from its P form and the centring "
                                 "translations (not in the settings table)", st->hm);
            ops = db_ops;
            how = "centred H-M symbol";
        } else if (!hall && (st->hall[0] || st->hm[0]))
            return ms_error_set(MS_ERR_SYMMETRY,
                                "%s: data_%s: no symmetry operators and unknown space group '%s'",
                                file, blk, st->hall[0] ? st->hall : st->hm);
        if (hall) {
            MS_CALL(ms_symop_from_hall_number(hall, db_ops, &n_ops));
            ops = db_ops;
            (void)how;
        } else if (!how) {
            ms_structure_warn(s, "no symmetry given: read as P1");
            db_ops[0] = (ms_symop){{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, {0, 0, 0}};
            ops = db_ops;
            n_ops = 1;
        }
    }

    *ops_out = ops;
    *n_out = n_ops;
    return MS_SUCCESS;
}

/* Element, oxidation state and occupancy of every raw atom site, with the checks that name the
 * site (Cartesian-only or missing coordinates, unknown element, bad occupancy). */
static ms_status read_raw_sites(cif_state *st)
{
    ms_structure *s = &st->s;
    const char *file = st->name;
    const char *blk = st->block;
    size_t n_raw = st->n_sites;
    for (size_t r = 0; r < n_raw; r++) {
        raw_site *rs = &st->sites[r];
        const char *lab = rs->label[0] ? rs->label : "?";
        if (rs->have & IS_DUMMY) {
            ms_structure_warn(s, "dummy atom %s skipped", lab);
            continue;
        }
        if (rs->have & HAVE_CARTN && (rs->have & (HAVE_X | HAVE_Y | HAVE_Z)) != (HAVE_X | HAVE_Y | HAVE_Z))
            return ms_error_set(MS_ERR_UNSUPPORTED,
                                "%s: data_%s: atom site %s has Cartesian coordinates only "
                                "(_atom_site_Cartn_*), which are not supported", file, blk, lab);
        if ((rs->have & (HAVE_X | HAVE_Y | HAVE_Z)) != (HAVE_X | HAVE_Y | HAVE_Z))
            return ms_error_set(MS_ERR_INVALID, "%s: data_%s: atom site %s lacks a fractional "
                                "coordinate", file, blk, lab);
        /* Before expansion: an infinite coordinate would reach an integer bucket index. */
        if (!isfinite(rs->frac[0]) || !isfinite(rs->frac[1]) || !isfinite(rs->frac[2]))
            return ms_error_set(MS_ERR_INVALID, "%s: data_%s: atom site %s has a non-finite "
                                "fractional coordinate", file, blk, lab);
        int isotope = 0, water = 0, has_oxi = 0, z = 0;
        double oxi = 0;
        rs->n_comp = 1;
        rs->fc[0] = 1;
        if (rs->have & HAVE_TYPE && mixed_type(rs)) {
            rs->z = rs->zc[0];
            rs->has_oxi = 0;
            continue;
        }
        if (rs->have & HAVE_TYPE && strcmp(rs->type, "?") && strcmp(rs->type, "."))
            z = species_of(rs->type, 1, &isotope, &water, &oxi, &has_oxi);
        if (!z && rs->have & HAVE_LABEL) z = species_of(rs->label, 0, &isotope, &water, &oxi, &has_oxi);
        if (!z)
            return ms_error_set(MS_ERR_UNKNOWN_ELEMENT,
                                "%s: data_%s: atom site %s: unknown element symbol '%s'", file, blk,
                                lab, rs->have & HAVE_TYPE ? rs->type : rs->label);
        if (water) ms_structure_warn(s, "site %s read as water oxygen (O)", lab);
        if (isotope) ms_structure_warn(s, "site %s: %s read as hydrogen", lab, rs->have & HAVE_TYPE ? rs->type : rs->label);
        if (!isfinite(rs->occu) || rs->occu < 0)
            return ms_error_set(MS_ERR_INVALID, "%s: data_%s: atom site %s has occupancy %g", file,
                                blk, lab, rs->occu);
        if (rs->occu > 1 + 1e-8) ms_structure_warn(s, "site %s: occupancy %.6g > 1", lab, rs->occu);
        rs->z = rs->zc[0] = z;
        rs->oxi = oxi;
        rs->has_oxi = has_oxi;
    }

    return MS_SUCCESS;
}

/* Applies every operator to every raw site and merges images closer than merge_tol (bucketed
 * by z); *n_pos gets the number of distinct positions, st->assign which raw sites sit on each. */
static ms_status expand_sites(cif_state *st, const ms_symop *ops, size_t n_ops, size_t *n_pos_out)
{
    ms_structure *s = &st->s;
    const char *file = st->name;
    const char *blk = st->block;
    size_t n_raw = st->n_sites;
    const double(*L)[3] = (const double(*)[3])s->lattice;
    double h[3], tf[3];
    heights(L, h);
    double tol = st->opt->merge_tol > 0 ? st->opt->merge_tol : 0;
    double tol2 = tol * tol;
    for (int i = 0; i < 3; i++) tf[i] = h[i] > 0 ? tol / h[i] : 1;
    size_t nb = tf[2] > 0 ? (size_t)fmin(floor(1.0 / tf[2]), MAX_BUCKETS) : MAX_BUCKETS;
    if (nb < 3) nb = 1;
    for (size_t b = 0; b < nb; b++) st->bucket[b] = NONE;
    size_t n_pos = 0;
    st->n_assign = 0;
    size_t max_atoms = st->opt->max_atoms;
    int warned_close = 0;

    for (size_t r = 0; r < n_raw; r++) {
        const raw_site *rs = &st->sites[r];
        if (rs->have & IS_DUMMY) continue;
        if (rs->occu == 0) {
            ms_structure_warn(s, "site %s has occupancy 0: skipped", rs->label);
            continue;
        }
        for (size_t k = 0; k < n_ops; k++) {
            double p[3];
            ms_symop_apply(&ops[k], rs->frac, p);
            for (int i = 0; i < 3; i++) {
                p[i] -= floor(p[i]);
                if (p[i] >= 1.0) p[i] = 0.0; /* -1e-17 wraps to 1.0 in floating point */
            }
            size_t b = nb > 1 ? (size_t)(p[2] * (double)nb) % nb : 0;
            size_t found = NONE;
            int same_raw = 0;
            for (int db = -1; db <= 1 && found == NONE; db++) {
                if (nb == 1 && db != 0) continue;
                size_t bb = (b + nb + (size_t)(long)db) % nb;
                for (size_t e = st->bucket[bb]; e != NONE; e = st->next_in_bucket[e]) {
                    if (!same_place(L, p, st->pos[e], tf, tol2)) continue;
                    for (size_t a = st->assign_head[e]; a != NONE; a = st->assign[a].next)
                        if (st->assign[a].raw == r) same_raw = 1;
                    found = e;
                    break;
                }
            }
            if (found != NONE && same_raw) continue;
            if (found != NONE) {
                double sum = rs->occu;
                for (size_t a = st->assign_head[found]; a != NONE; a = st->assign[a].next)
                    sum += st->sites[st->assign[a].raw].occu;
                if (sum > 1 + OCCU_SLACK) {
                    if (!warned_close++)
                        ms_structure_warn(s, "sites %s and %s are closer than %g A but their "
                                          "occupancies sum to %.4g: kept apart", rs->label,
                                          st->sites[st->owner[found]].label, tol, sum);
                    found = NONE;
                }
            }
            if (found == NONE) {
                if (n_pos + 1 > max_atoms)
                    return ms_error_set(MS_ERR_LIMIT, "%s: data_%s: more than %zu sites after "
                                        "symmetry expansion", file, blk, max_atoms);
                if (n_pos + 1 > st->cap_pos) {
                    size_t cap = st->cap_pos;
                    size_t c1 = cap, c2 = cap, c3 = cap, c4 = cap;
                    if (!grow((void **)&st->pos, &c1, n_pos + 1, sizeof *st->pos) ||
                        !grow((void **)&st->owner, &c2, n_pos + 1, sizeof *st->owner) ||
                        !grow((void **)&st->assign_head, &c3, n_pos + 1, sizeof *st->assign_head) ||
                        !grow((void **)&st->next_in_bucket, &c4, n_pos + 1, sizeof *st->next_in_bucket))
                        return ms_error_set(MS_ERR_NOMEM, "%s: data_%s: out of memory", file, blk);
                    st->cap_pos = c1;
                }
                found = n_pos++;
                memcpy(st->pos[found], p, sizeof p);
                st->owner[found] = r;
                st->assign_head[found] = NONE;
                st->next_in_bucket[found] = st->bucket[b];
                st->bucket[b] = found;
            }
            if (!grow((void **)&st->assign, &st->cap_assign, st->n_assign + 1, sizeof *st->assign))
                return ms_error_set(MS_ERR_NOMEM, "%s: data_%s: out of memory", file, blk);
            size_t a = st->n_assign++;
            st->assign[a].raw = r;
            /* Append at the tail so species keep the order of the atom-site loop. */
            st->assign[a].next = NONE;
            if (st->assign_head[found] == NONE) {
                st->assign_head[found] = a;
            } else {
                size_t t = st->assign_head[found];
                while (st->assign[t].next != NONE) t = st->assign[t].next;
                st->assign[t].next = a;
            }
        }
    }

    *n_pos_out = n_pos;
    return MS_SUCCESS;
}

/* Emits the merged positions as sites; same element and charge on one site are one species. */
static ms_status emit_sites(cif_state *st, size_t n_pos)
{
    ms_structure *s = &st->s;
    for (size_t e = 0; e < n_pos; e++) {
        MS_CALL(ms_structure_add_site(s, st->pos[e], st->sites[st->owner[e]].label));
        double sum = 0;
        int merged = 0;
        for (size_t a = st->assign_head[e]; a != NONE; a = st->assign[a].next) {
            const raw_site *y = &st->sites[st->assign[a].raw];
            sum += y->occu;
            merged += a != st->assign_head[e];
            for (int c = 0; c < y->n_comp; c++) {
                double occu = y->occu * y->fc[c];
                size_t k = s->site_species[s->n_sites - 1];
                for (; k < s->n_species; k++) {
                    const ms_species *sp = &s->species[k];
                    if (sp->z == y->zc[c] && sp->has_oxi == y->has_oxi &&
                        (!sp->has_oxi || sp->oxi == y->oxi))
                        break;
                }
                if (k < s->n_species) s->species[k].occu += occu;
                else MS_CALL(ms_structure_add_species(s, y->zc[c], occu, y->oxi, y->has_oxi));
            }
        }
        if (sum > 1 + 1e-8 && merged)
            ms_structure_warn(s, "site %s: occupancies of the merged atom sites sum to %.6g",
                              st->sites[st->owner[e]].label, sum);
    }
    return MS_SUCCESS;
}

/* Runs once per block end: from raw sites and operators to the expanded, merged structure. */
static ms_status build_structure(cif_state *st)
{
    ms_structure *s = &st->s;
    const char *file = st->name;
    const char *blk = st->block;

    if (st->have_cell != 0x3f) {
        if (st->n_sites == 0)
            return ms_error_set(MS_ERR_NO_STRUCTURE,
                                "%s: data_%s: no cell and no atom sites (not a crystal structure)",
                                file, blk);
        static const char *const cell_names[6] = {"_cell_length_a", "_cell_length_b",
            "_cell_length_c", "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma"};
        if (st->bad_cell)
            return ms_error_set(MS_ERR_INVALID, "%s: data_%s: %s '%s' is not a number (give the "
                                "cell %s as a finite number, e.g. 5.4321 or 5.4321(3))", file, blk,
                                cell_names[st->bad_cell - 1], st->bad_cell_text,
                                st->bad_cell <= 3 ? "length in Å" : "angle in degrees");
        return ms_error_set(MS_ERR_NO_STRUCTURE, "%s: data_%s: no cell (_cell_length_a/b/c and "
                            "_cell_angle_alpha/beta/gamma are needed)", file, blk);
    }
    if (st->n_sites == 0)
        return ms_error_set(MS_ERR_NO_STRUCTURE, "%s: data_%s: no atom sites", file, blk);
    if (st->superspace)
        return ms_error_set(MS_ERR_UNSUPPORTED, "%s: data_%s: modulated structure (superspace "
                            "group): only its average structure could be read, which is not done",
                            file, blk);
    ms_status rc = ms_structure_set_lattice_parameters(s, st->cell[0], st->cell[1], st->cell[2],
                                                       st->cell[3], st->cell[4], st->cell[5]);
    if (rc != MS_SUCCESS) {
        ms_error_prefix("%s: data_%s", file, blk);
        return rc;
    }

    ms_symop db_ops[MS_SYMOP_MAX];
    const ms_symop *ops = NULL;
    size_t n_ops = 0, n_pos = 0;
    MS_CALL(block_operators(st, db_ops, &ops, &n_ops));
    MS_CALL(read_raw_sites(st));
    MS_CALL(expand_sites(st, ops, n_ops, &n_pos));
    MS_CALL(emit_sites(st, n_pos));
    rc = ms_structure_finish(s);
    if (rc != MS_SUCCESS) ms_error_prefix("%s: data_%s", file, blk);
    return rc;
}

/* Fills the provenance of the current block. */
static void fill_provenance(cif_state *st)
{
    ms_provenance *p = &st->s.prov;
    p->file = st->name;
    copy_str(p->block, sizeof p->block, st->block);
    p->index = st->n_blocks;
    p->offset = -1;
    p->length = -1;
    p->content_hash = st->hash;
    if (st->icsd[0]) {
        p->db = MS_DB_ICSD;
        snprintf(p->source_id, sizeof p->source_id, "ICSD %s", st->icsd);
    } else if (st->cod[0]) {
        p->db = MS_DB_COD;
        snprintf(p->source_id, sizeof p->source_id, "COD %s", st->cod);
    } else {
        p->db = st->opt->default_db;
        copy_str(p->source_id, sizeof p->source_id, st->block);
    }
}

static int on_block_end(cif_container_tp *block, void *ctx)
{
    (void)block;
    cif_state *st = ctx;
    if (!st->in_block) return CIF_TRAVERSE_SKIP_CURRENT;
    st->in_block = 0;
    if (st->stop) return CIF_TRAVERSE_SKIP_CURRENT;

    ms_structure *s = &st->s;
    ms_structure_reset(s);
    fill_provenance(st);
    if (st->have_formula) copy_str(s->formula_stated, sizeof s->formula_stated, st->formula);

    ms_status rc;
    if (st->block_err_code) {
        rc = ms_error_set(MS_ERR_PARSE, "%s:%zu:%zu: data_%s: %s", st->name, st->block_err_line,
                          st->block_err_col, st->block, syntax_error_text(st->block_err_code));
    } else if (st->status != MS_SUCCESS) {
        rc = ms_error_set(st->status, "%s: data_%s: %s", st->name, st->block, st->message);
    } else {
        rc = build_structure(st);
        if (rc != MS_SUCCESS && st->block_warn_code)
            ms_error_prefix("%s:%zu:%zu: %s (recovered)", st->name, st->block_warn_line,
                            st->block_warn_col, syntax_error_text(st->block_warn_code));
        if (rc == MS_SUCCESS && st->block_warn_code)
            ms_structure_warn(s, "%d CIF syntax error(s) away from the structure data, first at "
                              "line %zu:%zu (%s)", st->block_warn_count, st->block_warn_line,
                              st->block_warn_col, syntax_error_text(st->block_warn_code));
        if (rc == MS_SUCCESS && st->block_cosmetic)
            ms_structure_warn(s, "%d CIF syntax problem(s) that do not affect values",
                              st->block_cosmetic);
    }
    if (rc != MS_SUCCESS) {
        /* The structure of a failed record carries its provenance only. */
        ms_provenance keep = s->prov;
        ms_structure_reset(s);
        s->prov = keep;
    }
    int stop = st->fn ? st->fn(s, rc, rc == MS_SUCCESS ? "" : ms_error_message(), st->user) : 0;
    if (stop) st->stop = 1;
    st->n_blocks++;
    return CIF_TRAVERSE_SKIP_CURRENT;
}

/* ---------------------------------------------------------------------------------------------
 * State lifetime and the parse driver
 */

/* Destroys a managed CIF; a failure there leaves nothing the reader could do. */
static void destroy_cif(cif_tp *cif)
{
    if (cif_destroy(cif) != CIF_OK) return;
}

static void state_free(cif_state *st)
{
    if (!st) return;
    if (st->cif) destroy_cif(st->cif);
    free(st->popts);
    free(st->sites);
    free(st->ops);
    free(st->names);
    free(st->frame_names);
    free(st->pos);
    free(st->owner);
    free(st->assign_head);
    free(st->next_in_bucket);
    free(st->assign);
    free(st->text);
    ms_structure_destroy(&st->s);
    free(st);
}

static ms_status state_create(cif_state **out)
{
    cif_state *st = calloc(1, sizeof *st);
    MS_CHECK(st, MS_ERR_NOMEM, "out of memory for the CIF reader");
    ms_structure_init(&st->s);
    if (cif_create(&st->cif) != CIF_OK || cif_parse_options_create(&st->popts) != CIF_OK) {
        state_free(st);
        return ms_error_set(MS_ERR_INTERNAL, "libcif could not create its in-memory CIF");
    }
    st->handler.handle_block_start = on_block_start;
    st->handler.handle_block_end = on_block_end;
    st->handler.handle_frame_start = on_frame_start;
    st->handler.handle_frame_end = on_frame_end;
    st->handler.handle_loop_start = on_loop_start;
    st->handler.handle_loop_end = on_loop_end;
    st->handler.handle_packet_start = on_packet_start;
    st->handler.handle_packet_end = on_packet_end;
    st->handler.handle_item = on_item;
    st->popts->handler = &st->handler;
    st->popts->error_callback = on_syntax_error;
    st->popts->dataname_callback = on_dataname;
    /* CIF 2.0 is UTF-8 and so are nearly all CIF 1.1 files; naming it makes the parse independent
     * of the locale (ICU's default would follow LANG). */
    st->popts->default_encoding_name = "UTF-8";
    st->popts->user_data = st;
    *out = st;
    return MS_SUCCESS;
}

/* One reader state per thread, kept between calls: creating libcif's CIF costs more than parsing
 * a small file. It is the only mutable static data of the reader; the main thread's state is freed
 * at exit. */
static _Thread_local cif_state *thread_state;
static _Thread_local int thread_state_registered;

static void free_thread_state(void)
{
    state_free(thread_state);
    thread_state = NULL;
}

/* Empties the CIF after a parse: blocks were kept (empty) by libcif. A failure leaves an unknown
 * state, so the CIF is then rebuilt. */
static void clear_cif(cif_state *st)
{
    cif_block_tp **blocks = NULL;
    int ok = cif_get_all_blocks(st->cif, &blocks) == CIF_OK;
    for (size_t i = 0; ok && blocks && blocks[i]; i++) {
        if (cif_container_destroy(blocks[i]) != CIF_OK) {
            ok = 0;
            for (size_t j = i + 1; blocks[j]; j++) cif_container_free(blocks[j]);
        }
    }
    free(blocks);
    if (!ok) {
        destroy_cif(st->cif);
        st->cif = NULL;
        if (cif_create(&st->cif) != CIF_OK) st->cif = NULL;
    }
}

static ms_status parse_buffer(cif_state *st, const char *data, size_t n, const char *name,
                              const ms_read_options *opt, ms_record_fn fn, void *user)
{
    st->name = name;
    st->opt = opt;
    st->fn = fn;
    st->user = user;
    st->hash = ms_hash_bytes(data, n);
    st->stop = 0;
    st->n_blocks = 0;
    st->frame_depth = 0;
    st->n_errors = st->first_code = 0;
    st->n_serious = st->serious_code = 0;
    st->first_line = st->first_col = 0;
    st->in_block = 0;
    st->struct_name = 0;
    if (!st->cif && cif_create(&st->cif) != CIF_OK)
        return ms_error_set(MS_ERR_INTERNAL, "libcif could not create its in-memory CIF");

    /* fmemopen cannot open an empty buffer in every libc; an empty file holds no block anyway. */
    if (n == 0) return ms_error_set(MS_ERR_NO_STRUCTURE, "%s: empty file", name);
    /* libcif 0.4.2 mishandles carriage returns: a file that starts with "\r\n" reads as empty
     * without an error, and "\r\n" near the end of the input can repeat or invent values. CIF
     * treats CR, LF and CRLF alike as line ends, so they are made LF here (line numbers keep). */
    if (memchr(data, '\r', n)) {
        if (!grow((void **)&st->text, &st->cap_text, n, 1))
            return ms_error_set(MS_ERR_NOMEM, "%s: out of memory for %zu bytes", name, n);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (data[i] != '\r') {
                st->text[k++] = data[i];
            } else {
                st->text[k++] = '\n';
                if (i + 1 < n && data[i + 1] == '\n') i++;
            }
        }
        data = st->text;
        n = k;
    }
    FILE *f = fmemopen((void *)data, n, "rb");
    MS_CHECK(f, MS_ERR_IO, "%s: cannot open the buffer for parsing", name);
    cif_tp *target = st->cif;
    int rc = cif_parse(f, st->popts, &target);
    fclose(f);
    if (target != st->cif) { /* not expected: libcif keeps the CIF it was given */
        destroy_cif(target);
    }
    clear_cif(st);

    if (st->n_blocks == 0 && !st->stop) {
        if (st->first_code)
            return ms_error_set(MS_ERR_PARSE, "%s:%zu:%zu: %s (no data block could be read)", name,
                                st->first_line, st->first_col, syntax_error_text(st->first_code));
        if (rc != CIF_OK)
            return ms_error_set(MS_ERR_PARSE, "%s: libcif failed with code %d", name, rc);
        return ms_error_set(MS_ERR_NO_STRUCTURE, "%s: no data block", name);
    }
    if (st->n_errors > MAX_ERRORS && !st->stop)
        return ms_error_set(MS_ERR_PARSE, "%s:%zu:%zu: %s; more than %d syntax errors", name,
                            st->first_line, st->first_col, syntax_error_text(st->first_code),
                            MAX_ERRORS);
    return MS_SUCCESS;
}

ms_status ms_cif_read_buffer(const char *data, size_t n, const char *name,
                             const ms_read_options *opt, ms_record_fn fn, void *user)
{
    ms_read_options defaults;
    if (!opt) {
        ms_read_options_default(&defaults);
        opt = &defaults;
    }
    if (!name) name = "(buffer)";
    MS_CHECK(data || n == 0, MS_ERR_USAGE, "%s: no data", name);
    MS_CHECK(n <= opt->max_file_bytes, MS_ERR_LIMIT, "%s: %zu bytes is more than the limit of %zu",
             name, n, opt->max_file_bytes);
    /* libcif would report every NUL as a syntax error, after parsing the whole buffer */
    MS_CALL(ms_refuse_binary(name, "CIF", data, n, 0));

    cif_state *st = thread_state;
    int temporary = 0;
    if (!st || st->busy) {
        /* First use on this thread, or a record callback that reads another CIF. */
        MS_CALL(state_create(&st));
        if (!thread_state) {
            thread_state = st;
            if (!thread_state_registered) {
                thread_state_registered = 1;
                atexit(free_thread_state);
            }
        } else {
            temporary = 1;
        }
    }
    st->busy = 1;
    ms_status rc = parse_buffer(st, data, n, name, opt, fn, user);
    st->busy = 0;
    if (temporary) state_free(st);
    return rc;
}

ms_status ms_cif_read_file(const char *path, const ms_read_options *opt, ms_record_fn fn,
                           void *user)
{
    ms_read_options defaults;
    if (!opt) {
        ms_read_options_default(&defaults);
        opt = &defaults;
    }
    MS_CHECK(path, MS_ERR_USAGE, "no CIF path given");
    char *buf;
    size_t size;
    MS_CALL(ms_read_text_file(path, opt->max_file_bytes, "CIF", &buf, &size));
    ms_status rc = ms_cif_read_buffer(buf, size, path, opt, fn, user);
    free(buf);
    return rc;
}

/* Syntax check for the conformance tests and `matscreen inspect`: it is not in cif_reader.h (owned
 * by the lead), so the prototype is here; see the report. Reads the CIF at path without making
 * records and returns MS_SUCCESS when libcif saw no syntax error that can change values (the
 * cosmetic ones the reader accepts with a warning are not counted), else MS_ERR_PARSE with the
 * first such error's line and column and *n_errors set. */
ms_status ms_cif_check_syntax(const char *path, int *n_errors)
{
    *n_errors = 0;
    ms_status rc = ms_cif_read_file(path, NULL, NULL, NULL);
    cif_state *st = thread_state;
    if (rc == MS_ERR_NO_STRUCTURE && st && st->first_code == 0) rc = MS_SUCCESS; /* no block */
    if (rc != MS_SUCCESS && rc != MS_ERR_PARSE) return rc;
    if (!st || st->n_serious == 0) return MS_SUCCESS;
    *n_errors = st->n_serious;
    return ms_error_set(MS_ERR_PARSE, "%s:%zu:%zu: %s", path, st->serious_line, st->serious_col,
                        syntax_error_text(st->serious_code));
}
