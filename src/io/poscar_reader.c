/*
 * VASP 5 POSCAR / CONTCAR reader; see poscar_reader.h.
 *
 * Layout (VASP wiki, "POSCAR"): comment; scale (one value, negative = target cell volume in Å^3,
 * or three per-Cartesian-axis factors); three lattice rows; element symbols; counts; optional
 * "Selective dynamics"; "Direct" or "Cartesian" (only the first letter counts, C and K mean
 * Cartesian); one line per atom. What follows the positions in a CONTCAR (velocities, predictor
 * data) is ignored, as are tokens after the three coordinates (selective-dynamics flags, the
 * species names pymatgen appends).
 *
 * Symbols carry POTCAR suffixes ("Li_sv", "Fe_pv", "O/5a7b..."): the leading element letters
 * are taken. Scaling follows VASP and pymatgen: a single factor scales the lattice and Cartesian
 * positions; three factors scale the x, y and z components of both.
 */
#include "matscreen/poscar_reader.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "matscreen/file_read.h"
#include "matscreen/element.h"
#include "matscreen/hash.h"
#include "matscreen/structure.h"

#define MAX_TYPES 64 /* element columns on the symbols line */
#define MAX_TOKENS 8 /* tokens looked at on one line */

typedef struct line_cursor {
    const char *p, *end;
    const char *name;
    long line; /* number of the line last returned */
} line_cursor;

/* The next line as [*start, *start + *len) without its end-of-line; 0 at end of data. */
static int next_line(line_cursor *cur, const char **start, size_t *len)
{
    if (cur->p >= cur->end) return 0;
    const char *nl = memchr(cur->p, '\n', (size_t)(cur->end - cur->p));
    const char *stop = nl ? nl : cur->end;
    *start = cur->p;
    *len = (size_t)(stop - cur->p);
    if (*len > 0 && (*start)[*len - 1] == '\r') (*len)--;
    cur->p = nl ? nl + 1 : cur->end;
    cur->line++;
    return 1;
}

/* Splits a line into whitespace-separated tokens (at most max); returns how many. */
static int split(const char *p, size_t len, const char *tok[], size_t tlen[], int max)
{
    int n = 0;
    size_t i = 0;
    while (i < len && n < max) {
        while (i < len && isspace((unsigned char)p[i]))
            i++;
        if (i >= len) break;
        size_t j = i;
        while (j < len && !isspace((unsigned char)p[j]))
            j++;
        tok[n] = p + i;
        tlen[n] = j - i;
        n++;
        i = j;
    }
    return n;
}

/* Parses a whole token as a finite number. */
static int token_number(const char *t, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, t, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double x = strtod(buf, &end);
    if (end != buf + n || errno == ERANGE || !isfinite(x)) return 0;
    *out = x;
    return 1;
}

/* Reads the next line, which must exist; what names what was expected. */
static ms_status need_line(line_cursor *cur, const char *what, const char **p, size_t *len)
{
    MS_CHECK(next_line(cur, p, len), MS_ERR_PARSE, "%s:%ld: file ends where %s was expected",
             cur->name, cur->line + 1, what);
    return MS_SUCCESS;
}

/* Reads a line of at least count numbers into v. */
static ms_status need_numbers(line_cursor *cur, const char *what, int count, double *v)
{
    const char *p, *tok[MAX_TOKENS];
    size_t len, tlen[MAX_TOKENS];
    MS_CALL(need_line(cur, what, &p, &len));
    int n = split(p, len, tok, tlen, MAX_TOKENS);
    MS_CHECK(n >= count, MS_ERR_PARSE, "%s:%ld: %s needs %d numbers, found %d tokens", cur->name,
             cur->line, what, count, n);
    for (int k = 0; k < count; k++)
        MS_CHECK(token_number(tok[k], tlen[k], &v[k]), MS_ERR_PARSE,
                 "%s:%ld: %s: \"%.*s\" is not a finite number", cur->name, cur->line, what,
                 (int)(tlen[k] > 32 ? 32 : tlen[k]), tok[k]);
    return MS_SUCCESS;
}

/* Element of a POTCAR-style symbol: "Li_sv" -> Li, "Fe_pv" -> Fe, "O/5a7b" -> O. */
static int symbol_z(const char *t, size_t n)
{
    size_t len = 0;
    if (n >= 1 && t[0] >= 'A' && t[0] <= 'Z') {
        len = 1;
        if (n >= 2 && t[1] >= 'a' && t[1] <= 'z') len = 2;
    }
    if (len == 0 || (len < n && isalpha((unsigned char)t[len]))) return 0;
    return ms_element_z(t, len, NULL);
}

static ms_status parse_poscar(ms_structure *s, line_cursor *cur, const ms_read_options *opt)
{
    const char *p, *tok[MAX_TYPES];
    size_t len, tlen[MAX_TYPES];
    double scale[3], lat[3][3];
    MS_CALL(need_line(cur, "the comment line", &p, &len));

    /* scale: one value or three */
    MS_CALL(need_line(cur, "the scale factor", &p, &len));
    int ns = split(p, len, tok, tlen, 3);
    MS_CHECK(ns >= 1, MS_ERR_PARSE, "%s:%ld: the scale factor line is empty", cur->name, cur->line);
    int three = ns == 3 && token_number(tok[1], tlen[1], &scale[1]) &&
                token_number(tok[2], tlen[2], &scale[2]);
    MS_CHECK(token_number(tok[0], tlen[0], &scale[0]), MS_ERR_PARSE,
             "%s:%ld: scale factor \"%.*s\" is not a finite number", cur->name, cur->line,
             (int)(tlen[0] > 32 ? 32 : tlen[0]), tok[0]);
    if (three) {
        MS_CHECK(scale[0] > 0 && scale[1] > 0 && scale[2] > 0, MS_ERR_INVALID,
                 "%s:%ld: three scale factors must all be positive (%g %g %g)", cur->name,
                 cur->line, scale[0], scale[1], scale[2]);
    } else {
        MS_CHECK(scale[0] != 0, MS_ERR_INVALID, "%s:%ld: scale factor is zero", cur->name,
                 cur->line);
    }
    long scale_line = cur->line;

    static const char *const row_names[3] = {"lattice vector a", "lattice vector b",
                                             "lattice vector c"};
    for (int i = 0; i < 3; i++)
        MS_CALL(need_numbers(cur, row_names[i], 3, lat[i]));
    double det = ms_lattice_det((const double(*)[3])lat), lmax = 0;
    for (int i = 0; i < 3; i++)
        lmax =
            fmax(lmax, sqrt(lat[i][0] * lat[i][0] + lat[i][1] * lat[i][1] + lat[i][2] * lat[i][2]));
    /* relative, as ms_structure_finish: a cell flatter than 1e-8 of its cube is degenerate */
    MS_CHECK(isfinite(det) && fabs(det) > 1e-8 * lmax * lmax * lmax && fabs(det) > 0,
             MS_ERR_INVALID, "%s:%ld-%ld: lattice vectors are linearly dependent (zero volume)",
             cur->name, scale_line + 1, scale_line + 3);
    double f[3] = {1, 1, 1};
    if (three) {
        for (int j = 0; j < 3; j++)
            f[j] = scale[j];
    } else if (scale[0] < 0) {
        /* negative: the target volume; the factor makes |det| equal to it */
        double k = cbrt(-scale[0] / fabs(det));
        f[0] = f[1] = f[2] = k;
    } else {
        f[0] = f[1] = f[2] = scale[0];
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            s->lattice[i][j] = lat[i][j] * f[j];
    det = ms_lattice_det((const double(*)[3])s->lattice);
    MS_CHECK(isfinite(det) && fabs(det) > 0, MS_ERR_INVALID,
             "%s:%ld: scaled lattice has no finite, non-zero volume", cur->name, scale_line);

    /* symbols (VASP 5); a line of numbers here is VASP 4's counts line */
    MS_CALL(need_line(cur, "the element symbols line", &p, &len));
    int nt = split(p, len, tok, tlen, MAX_TYPES);
    double dummy;
    MS_CHECK(nt > 0, MS_ERR_PARSE, "%s:%ld: the element symbols line is empty", cur->name,
             cur->line);
    MS_CHECK(!token_number(tok[0], tlen[0], &dummy), MS_ERR_UNSUPPORTED,
             "%s:%ld: VASP 4 POSCAR (counts without an element symbols line): the elements "
             "cannot be known; add a line of symbols (VASP 5 format) above the counts",
             cur->name, cur->line);
    int z[MAX_TYPES];
    for (int t = 0; t < nt; t++) {
        z[t] = symbol_z(tok[t], tlen[t]);
        MS_CHECK(z[t] > 0, MS_ERR_UNKNOWN_ELEMENT, "%s:%ld: \"%.*s\" is not an element symbol",
                 cur->name, cur->line, (int)(tlen[t] > 32 ? 32 : tlen[t]), tok[t]);
    }
    long symbols_line = cur->line;

    /* counts */
    const char *ctok[MAX_TYPES];
    size_t ctlen[MAX_TYPES];
    MS_CALL(need_line(cur, "the atom counts line", &p, &len));
    int nc = split(p, len, ctok, ctlen, MAX_TYPES);
    MS_CHECK(nc == nt, MS_ERR_PARSE, "%s:%ld: %d atom counts for %d element symbols (line %ld)",
             cur->name, cur->line, nc, nt, symbols_line);
    size_t count[MAX_TYPES], total = 0;
    for (int t = 0; t < nc; t++) {
        double x;
        MS_CHECK(token_number(ctok[t], ctlen[t], &x) && x >= 0 && x == floor(x) && x <= 1e9,
                 MS_ERR_PARSE, "%s:%ld: atom count \"%.*s\" is not a non-negative integer",
                 cur->name, cur->line, (int)(ctlen[t] > 32 ? 32 : ctlen[t]), ctok[t]);
        count[t] = (size_t)x;
        total += count[t];
    }
    MS_CHECK(total > 0, MS_ERR_NO_STRUCTURE, "%s:%ld: the atom counts add up to zero", cur->name,
             cur->line);
    MS_CHECK(total <= opt->max_atoms, MS_ERR_LIMIT, "%s:%ld: %zu atoms exceed the limit of %zu",
             cur->name, cur->line, total, opt->max_atoms);

    /* optional "Selective dynamics", then the coordinate mode */
    MS_CALL(need_line(cur, "\"Direct\" or \"Cartesian\"", &p, &len));
    int nm = split(p, len, tok, tlen, 1);
    if (nm > 0 && (tok[0][0] == 'S' || tok[0][0] == 's')) {
        MS_CALL(need_line(cur, "\"Direct\" or \"Cartesian\"", &p, &len));
        nm = split(p, len, tok, tlen, 1);
    }
    MS_CHECK(nm > 0, MS_ERR_PARSE,
             "%s:%ld: expected \"Direct\" or \"Cartesian\", found an empty "
             "line",
             cur->name, cur->line);
    char mode = (char)tolower((unsigned char)tok[0][0]);
    MS_CHECK(mode == 'd' || mode == 'c' || mode == 'k', MS_ERR_PARSE,
             "%s:%ld: expected \"Direct\" or \"Cartesian\", found \"%.*s\"", cur->name, cur->line,
             (int)(tlen[0] > 32 ? 32 : tlen[0]), tok[0]);
    int cartesian = mode != 'd';
    double inv[3][3];
    if (cartesian) MS_CALL(ms_lattice_inverse((const double(*)[3])s->lattice, inv));

    char what[64];
    for (int t = 0; t < nt; t++) {
        for (size_t a = 0; a < count[t]; a++) {
            double v[3], frac[3];
            snprintf(what, sizeof what, "position of atom %zu (%s)", s->n_sites + 1,
                     ms_element_symbol(z[t]));
            MS_CALL(need_numbers(cur, what, 3, v));
            if (cartesian) {
                double c[3] = {v[0] * f[0], v[1] * f[1], v[2] * f[2]};
                ms_lattice_cart_to_frac((const double(*)[3])inv, c, frac);
            } else {
                memcpy(frac, v, sizeof frac);
            }
            MS_CALL(ms_structure_add_site(s, frac, ms_element_symbol(z[t])));
            MS_CALL(ms_structure_add_species(s, z[t], 1.0, 0.0, 0));
        }
    }
    ms_status st = ms_structure_finish(s);
    if (st != MS_SUCCESS) ms_error_prefix("%s", cur->name);
    return st;
}

ms_status ms_poscar_read_buffer(const char *data, size_t n, const char *name,
                                const ms_read_options *opt, ms_record_fn fn, void *user)
{
    MS_CHECK((data || n == 0) && fn, MS_ERR_USAGE,
             "ms_poscar_read_buffer: data and callback are required");
    ms_read_options o;
    if (opt) {
        o = *opt;
    } else {
        ms_read_options_default(&o);
    }
    if (!name) name = "(buffer)";
    MS_CHECK(n <= o.max_file_bytes, MS_ERR_LIMIT, "%s: %zu bytes exceed the limit of %zu", name, n,
             o.max_file_bytes);
    MS_CHECK(memchr(data ? data : "", '\0', n) == NULL, MS_ERR_PARSE,
             "%s: holds NUL bytes: not a POSCAR text file", name);
    ms_structure s;
    ms_structure_init(&s);
    const char *slash = strrchr(name, '/');
    s.prov.db = o.default_db;
    snprintf(s.prov.source_id, MS_SOURCE_ID_MAX, "%s", slash ? slash + 1 : name);
    s.prov.file = name;
    s.prov.index = 0;
    s.prov.content_hash = ms_hash_bytes(data ? data : "", n);
    line_cursor cur = {data ? data : "", (data ? data : "") + n, name, 0};
    ms_status st = parse_poscar(&s, &cur, &o);
    fn(&s, st, st == MS_SUCCESS ? "" : ms_error_message(), user);
    ms_structure_destroy(&s);
    return MS_SUCCESS;
}

ms_status ms_poscar_read_file(const char *path, const ms_read_options *opt, ms_record_fn fn,
                              void *user)
{
    MS_CHECK(path && fn, MS_ERR_USAGE, "ms_poscar_read_file: path and callback are required");
    ms_read_options o;
    if (opt) {
        o = *opt;
    } else {
        ms_read_options_default(&o);
    }
    char *buf;
    size_t size;
    MS_CALL(ms_read_whole_file(path, o.max_file_bytes, &buf, &size));
    ms_status st = ms_poscar_read_buffer(buf, size, path, &o, fn, user);
    free(buf);
    return st;
}
