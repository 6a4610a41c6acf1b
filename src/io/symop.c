/*
 * Symmetry operators: the "x,y,z" parser and the symbol lookup in spglib's database (symop.h).
 *
 * The lookup scans spglib's 530 Hall settings each time (about 30 µs); it runs only for data
 * blocks that give a symbol but no operators, so a cache (mutable state) is not worth its cost.
 */
#include "matscreen/symop.h"

#include <ctype.h>
#include <math.h>
#include <spglib.h>
#include <stdio.h>
#include <string.h>

#define HALL_COUNT 530
#define NORM_MAX 64

/* Copies s into out lowercased, without spaces and underscores (keep_spaces: spaces collapsed to
 * one and trimmed instead). Returns 0 when it does not fit. */
static int normalise(const char *s, size_t len, char *out, size_t n, int keep_spaces)
{
    size_t k = 0;
    int pending_space = 0;
    for (size_t i = 0; i < len && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '_' && !keep_spaces) continue;
        if (isspace(c)) {
            pending_space = keep_spaces && k > 0;
            continue;
        }
        if (pending_space) {
            if (k + 1 >= n) return 0;
            out[k++] = ' ';
            pending_space = 0;
        }
        if (k + 1 >= n) return 0;
        out[k++] = (char)tolower(c);
    }
    out[k] = '\0';
    return 1;
}

/* Parses an unsigned decimal number (digits with an optional point) at s[*i..len). */
static int parse_number(const char *s, size_t len, size_t *i, double *value)
{
    double v = 0, scale = 1;
    int digits = 0, point = 0;
    while (*i < len) {
        char c = s[*i];
        if (c >= '0' && c <= '9') {
            if (digits < 30) {
                if (point) {
                    scale /= 10;
                    v += (c - '0') * scale;
                } else {
                    v = v * 10 + (c - '0');
                }
            }
            digits++;
        } else if (c == '.' && !point) {
            point = 1;
        } else {
            break;
        }
        (*i)++;
    }
    *value = v;
    return digits > 0;
}

static void skip_spaces(const char *s, size_t len, size_t *i)
{
    while (*i < len && isspace((unsigned char)s[*i])) (*i)++;
}

static int axis_of(char c)
{
    switch (c) {
    case 'x': case 'X': return 0;
    case 'y': case 'Y': return 1;
    case 'z': case 'Z': return 2;
    default: return -1;
    }
}

/* Parses one component ("-x+1/2") of s[begin..end) into row and *trans. */
static int parse_component(const char *s, size_t begin, size_t end, int row[3], double *trans)
{
    size_t i = begin;
    int terms = 0;
    row[0] = row[1] = row[2] = 0;
    *trans = 0;
    skip_spaces(s, end, &i);
    while (i < end) {
        int sign = 1;
        if (s[i] == '+' || s[i] == '-') {
            sign = s[i] == '-' ? -1 : 1;
            i++;
            skip_spaces(s, end, &i);
        } else if (terms > 0) {
            return 0; /* two terms without an operator between them */
        }
        if (i >= end) return 0;
        int axis = axis_of(s[i]);
        if (axis >= 0) {
            row[axis] += sign;
            i++;
        } else {
            double num, den = 1;
            if (!parse_number(s, end, &i, &num)) return 0;
            skip_spaces(s, end, &i);
            if (i < end && s[i] == '/') {
                i++;
                skip_spaces(s, end, &i);
                if (!parse_number(s, end, &i, &den) || den == 0) return 0;
                skip_spaces(s, end, &i);
            }
            if (i < end && s[i] == '*') {
                i++;
                skip_spaces(s, end, &i);
            }
            axis = i < end ? axis_of(s[i]) : -1;
            if (axis >= 0) {
                /* A coefficient ("2x") must be an integer: rotations are integer matrices. */
                double c = num / den;
                if (c != floor(c) || c > 6) return 0;
                row[axis] += sign * (int)c;
                i++;
            } else {
                *trans += sign * num / den;
            }
        }
        terms++;
        skip_spaces(s, end, &i);
    }
    return terms > 0;
}

ms_status ms_symop_parse(const char *text, size_t len, ms_symop *op)
{
    size_t comma[2], nc = 0;
    for (size_t i = 0; i < len && text[i]; i++) {
        if (text[i] == ',') {
            if (nc < 2) comma[nc] = i;
            nc++;
        }
    }
    size_t end = strnlen(text, len);
    int shown = end > 60 ? 60 : (int)end;
    MS_CHECK(nc == 2, MS_ERR_PARSE, "symmetry operator '%.*s' does not have three components",
             shown, text);
    size_t bounds[4] = {0, comma[0] + 1, comma[1] + 1, end + 1};
    for (int r = 0; r < 3; r++) {
        MS_CHECK(parse_component(text, bounds[r], bounds[r + 1] - 1, op->rot[r], &op->trans[r]),
                 MS_ERR_PARSE, "symmetry operator '%.*s': cannot read component %d", shown, text,
                 r + 1);
    }
    /* A rotation of a crystallographic operator has determinant +1 or -1. */
    int(*m)[3] = op->rot;
    int det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
              m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
              m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    MS_CHECK(det == 1 || det == -1, MS_ERR_PARSE,
             "symmetry operator '%.*s' is not a rotation (determinant %d)", shown, text, det);
    return MS_SUCCESS;
}

void ms_symop_apply(const ms_symop *op, const double in[3], double out[3])
{
    double x = in[0], y = in[1], z = in[2];
    for (int r = 0; r < 3; r++)
        out[r] = op->rot[r][0] * x + op->rot[r][1] * y + op->rot[r][2] * z + op->trans[r];
}

int ms_symop_hall_from_hall_symbol(const char *symbol)
{
    char want[NORM_MAX], have[NORM_MAX];
    if (!symbol || !normalise(symbol, strlen(symbol), want, sizeof want, 1) || !want[0]) return 0;
    for (int h = 1; h <= HALL_COUNT; h++) {
        SpglibSpacegroupType t = spg_get_spacegroup_type(h);
        if (normalise(t.hall_symbol, sizeof t.hall_symbol, have, sizeof have, 1) &&
            strcmp(want, have) == 0)
            return h;
    }
    return 0;
}

/* Whether normalised symbol want equals one of the international symbols of t. The full symbol
 * of a monoclinic setting ("P 1 2_1/n 1") is also tried without its "1" axes ("P 2_1/n"), which is
 * how CIFs usually write a non-standard cell choice. */
static int hm_matches(const SpglibSpacegroupType *t, const char *want)
{
    char have[NORM_MAX];
    if (normalise(t->international_short, sizeof t->international_short, have, sizeof have, 0) &&
        strcmp(want, have) == 0)
        return 1;
    if (normalise(t->international_full, sizeof t->international_full, have, sizeof have, 0) &&
        strcmp(want, have) == 0)
        return 1;
    /* "P 2_1/c = P 1 2_1/n 1": every part separated by " = ". */
    const char *p = t->international;
    const char *stop = t->international + strnlen(t->international, sizeof t->international);
    while (p < stop) {
        const char *q = strstr(p, " = ");
        size_t len = q ? (size_t)(q - p) : (size_t)(stop - p);
        if (normalise(p, len, have, sizeof have, 0) && strcmp(want, have) == 0) return 1;
        p += len + (q ? 3 : 0);
    }
    const char *tok[4];
    size_t toklen[4], nt = 0;
    const char *f = t->international_full;
    const char *fend = f + strnlen(f, sizeof t->international_full);
    while (f < fend && nt < 4) {
        while (f < fend && *f == ' ') f++;
        if (f >= fend) break;
        tok[nt] = f;
        while (f < fend && *f != ' ') f++;
        toklen[nt] = (size_t)(f - tok[nt]);
        nt++;
    }
    if (nt == 4 && f >= fend) {
        char reduced[NORM_MAX];
        size_t k = 0;
        for (size_t i = 0; i < nt; i++) {
            if (i > 0 && toklen[i] == 1 && tok[i][0] == '1') continue;
            if (k + toklen[i] + 2 >= sizeof reduced) return 0;
            memcpy(reduced + k, tok[i], toklen[i]);
            k += toklen[i];
            reduced[k++] = ' ';
        }
        reduced[k] = '\0';
        if (normalise(reduced, k, have, sizeof have, 0) && strcmp(want, have) == 0) return 1;
    }
    return 0;
}

static int hall_from_normalised_hm(const char *want, const char *choice)
{
    for (int h = 1; h <= HALL_COUNT; h++) {
        SpglibSpacegroupType t = spg_get_spacegroup_type(h);
        if (!hm_matches(&t, want)) continue;
        if (!choice[0]) return h;
        char have[8];
        if (normalise(t.choice, sizeof t.choice, have, sizeof have, 0) && strcmp(have, choice) == 0)
            return h;
    }
    return 0;
}

int ms_symop_hall_from_hm(const char *symbol)
{
    char buf[NORM_MAX], want[NORM_MAX], choice[8] = "";
    if (!symbol) return 0;
    size_t len = strlen(symbol);
    if (len >= sizeof buf) return 0;
    memcpy(buf, symbol, len + 1);
    char *colon = strchr(buf, ':');
    if (colon) {
        *colon = '\0';
        if (!normalise(colon + 1, strlen(colon + 1), choice, sizeof choice, 0)) return 0;
    } else {
        /* ICSD style: a trailing "H"/"R" (hexagonal or rhombohedral axes), "S" (origin choice 1)
         * or "Z" (origin choice 2) as a separate word; glide letters are never upper case H/R/S/Z
         * at the end of a symbol, so this cannot eat part of the symbol. */
        size_t n = strlen(buf);
        while (n > 0 && isspace((unsigned char)buf[n - 1])) buf[--n] = '\0';
        if (n > 2 && isspace((unsigned char)buf[n - 2])) {
            char c = (char)toupper((unsigned char)buf[n - 1]);
            const char *map = c == 'H' ? "h" : c == 'R' ? "r" : c == 'S' ? "1" : c == 'Z' ? "2" : NULL;
            if (map) {
                strcpy(choice, map);
                buf[n - 1] = '\0';
            }
        }
    }
    if (!normalise(buf, strlen(buf), want, sizeof want, 0) || !want[0]) return 0;
    int h = hall_from_normalised_hm(want, choice);
    if (h) return h;
    /* Older cubic notation without the bar ("Fm3m", "Ia3d"): a '3' after a glide or mirror
     * letter is -3 in the current symbols. */
    char bar[NORM_MAX];
    size_t k = 0;
    int changed = 0;
    for (size_t i = 0; want[i]; i++) {
        if (want[i] == '3' && i > 1 && isalpha((unsigned char)want[i - 1])) {
            if (k + 1 >= sizeof bar) return 0;
            bar[k++] = '-';
            changed = 1;
        }
        if (k + 1 >= sizeof bar) return 0;
        bar[k++] = want[i];
    }
    bar[k] = '\0';
    return changed ? hall_from_normalised_hm(bar, choice) : 0;
}

int ms_symop_hall_from_number(int number)
{
    if (number < 1 || number > 230) return 0;
    for (int h = 1; h <= HALL_COUNT; h++)
        if (spg_get_spacegroup_type(h).number == number) return h;
    return 0;
}

ms_status ms_symop_from_hall_number(int hall, ms_symop ops[MS_SYMOP_MAX], size_t *n)
{
    int rot[MS_SYMOP_MAX][3][3];
    double trans[MS_SYMOP_MAX][3];
    MS_CHECK(hall >= 1 && hall <= HALL_COUNT, MS_ERR_SYMMETRY, "Hall number %d is not in 1..530",
             hall);
    int count = spg_get_symmetry_from_database(rot, trans, hall);
    MS_CHECK(count > 0 && count <= MS_SYMOP_MAX, MS_ERR_SYMMETRY,
             "spglib has no operators for Hall number %d", hall);
    for (int k = 0; k < count; k++) {
        memcpy(ops[k].rot, rot[k], sizeof rot[k]);
        memcpy(ops[k].trans, trans[k], sizeof trans[k]);
    }
    *n = (size_t)count;
    return MS_SUCCESS;
}

ms_status ms_symop_from_centred_hm(const char *symbol, ms_symop ops[MS_SYMOP_MAX], size_t *n)
{
    static const double centring[][4][3] = {
        /* A */ {{0, 0, 0}, {0, 0.5, 0.5}},
        /* B */ {{0, 0, 0}, {0.5, 0, 0.5}},
        /* C */ {{0, 0, 0}, {0.5, 0.5, 0}},
        /* I */ {{0, 0, 0}, {0.5, 0.5, 0.5}},
        /* F */ {{0, 0, 0}, {0, 0.5, 0.5}, {0.5, 0, 0.5}, {0.5, 0.5, 0}}};
    static const char letters[] = "ABCIF";
    char buf[NORM_MAX];
    *n = 0;
    while (symbol && isspace((unsigned char)*symbol)) symbol++;
    const char *at = symbol && *symbol ? strchr(letters, toupper((unsigned char)*symbol)) : NULL;
    MS_CHECK(at && strlen(symbol) < sizeof buf, MS_ERR_NOT_FOUND,
             "space group '%s': no centring letter to build from", symbol ? symbol : "");
    snprintf(buf, sizeof buf, "P%s", symbol + 1);
    int hall = ms_symop_hall_from_hm(buf);
    MS_CHECK(hall, MS_ERR_NOT_FOUND, "space group '%s': '%s' is unknown too", symbol, buf);
    ms_symop base[MS_SYMOP_MAX];
    size_t nb;
    MS_CALL(ms_symop_from_hall_number(hall, base, &nb));
    size_t letter = (size_t)(at - letters), nc = letter == 4 ? 4 : 2;
    MS_CHECK(nb * nc <= MS_SYMOP_MAX, MS_ERR_LIMIT, "space group '%s': too many operators", symbol);
    for (size_t c = 0; c < nc; c++)
        for (size_t k = 0; k < nb; k++) {
            ms_symop *o = &ops[c * nb + k];
            *o = base[k];
            for (int a = 0; a < 3; a++) {
                double t = o->trans[a] + centring[letter][c][a];
                o->trans[a] = t - floor(t);
            }
        }
    *n = nb * nc;
    return MS_SUCCESS;
}
