/*
 * Compositions and formulas; see composition.h.
 *
 * The formula parser is a small recursive descent over groups. The output formats reproduce
 * pymatgen 2022.11 (Composition.formula, reduce_formula, formula_double_format) so that records
 * can be compared with pymatgen-made references and users see the names they know.
 */
#include "matscreen/composition.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUP_DEPTH 16
#define MAX_AMOUNT 1e9 /* larger amounts are not a chemical formula (and would overflow casts) */
#define FORMULA_BUF 256

void ms_composition_clear(ms_composition *c)
{
    /* A full memset (about 1.4 kB) so that clear also initialises an uninitialised value. */
    memset(c, 0, sizeof *c);
}

void ms_composition_add(ms_composition *c, int z, double amount)
{
    if (z < 1 || z > MS_MAX_Z) return;
    int present = 0;
    for (int i = 0; i < c->n; i++)
        if (c->z[i] == z) {
            present = 1;
            break;
        }
    if (!present) c->z[c->n++] = z;
    c->amount[z] += amount;
}

double ms_composition_total(const ms_composition *c)
{
    double t = 0;
    for (int i = 0; i < c->n; i++) t += c->amount[c->z[i]];
    return t;
}

/* ---- parsing ---------------------------------------------------------------------------------- */

typedef struct {
    const char *text; /* whole formula, for messages */
    const char *p;    /* cursor */
    int depth;
} parser;

static ms_status parse_fail(const parser *ps, ms_status code, const char *what)
{
    return ms_error_set(code, "formula \"%s\": %s at position %d", ps->text, what,
                        (int)(ps->p - ps->text) + 1);
}

static void skip_space(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '_' || *ps->p == '\'') ps->p++;
}

/* Reads an unsigned decimal number; returns 1 and sets *v when one is there. */
static int read_number(parser *ps, double *v)
{
    const char *p = ps->p;
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1]))) return 0;
    char *end;
    *v = strtod(p, &end);
    ps->p = end;
    return 1;
}

/* Middle dot (U+00B7), bullet (U+2022), '*', and '.' not inside a number separate hydrate parts. */
static int hydrate_separator(const char *p)
{
    if ((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xB7) return 2;
    if ((unsigned char)p[0] == 0xE2 && (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0xA2)
        return 3;
    if (p[0] == '*' || p[0] == '.') return 1;
    return 0;
}

/* "O4.5H2O": a '.' after a count is a decimal point, unless what follows is an integer and then
 * water ("CuSO4.5H2O"), which is by far the common hydrate written with a full stop. */
static int dot_starts_hydrate(const char *dot)
{
    const char *q = dot + 1;
    if (!isdigit((unsigned char)*q)) return 1;
    while (isdigit((unsigned char)*q)) q++;
    return strncmp(q, "H2O", 3) == 0 || strncmp(q, "D2O", 3) == 0;
}

static ms_status parse_sequence(parser *ps, ms_composition *out, char close);

/* One unit: an element with optional count and charge label, or a bracketed group with count. */
static ms_status parse_unit(parser *ps, ms_composition *out)
{
    static const char closers[] = ")]}";
    static const char openers[] = "([{";
    const char *open = strchr(openers, *ps->p);
    if (*ps->p && open) {
        MS_CHECK(++ps->depth <= MAX_GROUP_DEPTH, MS_ERR_LIMIT, "formula \"%s\": nested too deeply",
                 ps->text);
        ps->p++;
        ms_composition group;
        ms_composition_clear(&group);
        MS_CALL(parse_sequence(ps, &group, closers[open - openers]));
        ps->depth--;
        double count = 1;
        read_number(ps, &count);
        for (int i = 0; i < group.n; i++)
            ms_composition_add(out, group.z[i], group.amount[group.z[i]] * count);
        return MS_SUCCESS;
    }
    if (!isupper((unsigned char)*ps->p)) return parse_fail(ps, MS_ERR_PARSE, "expected an element");
    const char *sym = ps->p++;
    if (islower((unsigned char)*ps->p)) ps->p++;
    int z = ms_element_z(sym, (size_t)(ps->p - sym), NULL);
    if (z == 0) {
        ps->p = sym;
        return ms_error_set(MS_ERR_UNKNOWN_ELEMENT, "formula \"%s\": unknown element \"%.*s\"",
                            ps->text, islower((unsigned char)sym[1]) ? 2 : 1, sym);
    }
    double count = 1;
    const char *before = ps->p;
    int has_count = read_number(ps, &count);
    if (*ps->p == '+' || *ps->p == '-') { /* "O2-", "Li+": a charge label, not a count */
        ps->p++;
        count = 1;
    } else if (has_count && ps->p[-1] == '.') {
        /* "O4." then hydrate: give the dot back to the hydrate parser. */
        ps->p--;
        count = strtod(before, NULL);
    } else if (has_count) {
        const char *dot = memchr(before, '.', (size_t)(ps->p - before));
        if (dot && dot_starts_hydrate(dot)) {
            ps->p = dot;
            count = (double)strtoll(before, NULL, 10); /* the integer part before the dot */
        }
    }
    MS_CHECK(isfinite(count) && count >= 0, MS_ERR_PARSE, "formula \"%s\": bad count", ps->text);
    ms_composition_add(out, z, count);
    return MS_SUCCESS;
}

static ms_status parse_sequence(parser *ps, ms_composition *out, char close)
{
    for (;;) {
        skip_space(ps);
        if (*ps->p == '\0') {
            if (close) return parse_fail(ps, MS_ERR_PARSE, "unclosed bracket");
            return MS_SUCCESS;
        }
        if (close && *ps->p == close) {
            ps->p++;
            return MS_SUCCESS;
        }
        int sep = hydrate_separator(ps->p);
        if (sep) {
            /* The rest, up to the closing bracket, is "n H2O" (or another adduct) times n. Each
             * separator recurses, so it counts against the depth limit like a bracket. */
            MS_CHECK(++ps->depth <= MAX_GROUP_DEPTH, MS_ERR_LIMIT, "formula \"%s\": nested too deeply",
                     ps->text);
            ps->p += sep;
            skip_space(ps);
            double count = 1;
            read_number(ps, &count);
            ms_composition part;
            ms_composition_clear(&part);
            MS_CALL(parse_sequence(ps, &part, close));
            ps->depth--;
            for (int i = 0; i < part.n; i++)
                ms_composition_add(out, part.z[i], part.amount[part.z[i]] * count);
            return MS_SUCCESS;
        }
        MS_CALL(parse_unit(ps, out));
    }
}

ms_status ms_composition_parse(const char *formula, ms_composition *c)
{
    ms_composition_clear(c);
    parser ps = {formula, formula, 0};
    ms_status s = parse_sequence(&ps, c, '\0');
    if (s != MS_SUCCESS) return s;
    MS_CHECK(c->n > 0, MS_ERR_PARSE, "formula \"%s\" names no element", formula);
    /* Also catches inf and NaN from huge group and hydrate counts ("(H1e308)1e308"). */
    for (int i = 0; i < c->n; i++)
        MS_CHECK(c->amount[c->z[i]] <= MAX_AMOUNT, MS_ERR_LIMIT, "formula \"%s\": amount of %s above %g",
                 formula, ms_element_symbol(c->z[i]), MAX_AMOUNT);
    return MS_SUCCESS;
}

double ms_composition_weight(const ms_composition *c, const ms_element_table *table)
{
    double w = 0;
    for (int i = 0; i < c->n; i++) w += c->amount[c->z[i]] * ms_element_get(table, c->z[i])->mass;
    return w;
}

/* ---- pymatgen-compatible formatting ----------------------------------------------------------- */

/* Python's str(x): the shortest repr that reads back as the same double. */
static void python_repr(double x, char *out, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, x);
        if (strtod(out, NULL) == x) break;
    }
    /* Python writes floats with a decimal point ("3.0"); %g drops it. */
    if (!strchr(out, '.') && !strchr(out, 'e') && !strchr(out, 'n') && !strchr(out, 'i'))
        strncat(out, ".0", n - strlen(out) - 1);
}

/* pymatgen.util.string.formula_double_format(afloat, ignore_ones, tol=1e-8). */
static void formula_double_format(double x, int ignore_ones, char *out, size_t n)
{
    if (ignore_ones && x == 1.0) {
        out[0] = '\0';
    } else if (fabs(x) < 1e15 && fabs(x - trunc(x)) < 1e-8) { /* the cast below must fit */
        snprintf(out, n, "%lld", (long long)trunc(x));
    } else {
        /* round(x, 8): pymatgen prints at most 8 decimals. */
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%.8f", x);
        python_repr(strtod(tmp, NULL), out, n);
    }
}

typedef struct {
    int z;
    double x;     /* electronegativity, +inf when unknown so such elements sort last */
    int pos;      /* insertion order, to keep Python's stable sort */
} sort_key;

static int by_x_then_pos(const void *a, const void *b)
{
    const sort_key *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return p->pos - q->pos;
}

static int by_x_then_symbol(const void *a, const void *b)
{
    const sort_key *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return strcmp(ms_element_symbol(p->z), ms_element_symbol(q->z));
}

static int sorted_keys(const ms_composition *c, const ms_element_table *table, sort_key *keys,
                       int (*cmp)(const void *, const void *))
{
    int n = 0;
    for (int i = 0; i < c->n; i++) {
        double x = ms_element_get(table, c->z[i])->x;
        keys[n].z = c->z[i];
        keys[n].x = isnan(x) ? INFINITY : x;
        keys[n].pos = i;
        n++;
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp);
    return n;
}

/* Appends text to out[0..n) at *used; MS_ERR_LIMIT if it does not fit. */
static ms_status append(char *out, size_t n, size_t *used, const char *text)
{
    size_t len = strlen(text);
    MS_CHECK(*used + len < n, MS_ERR_LIMIT, "formula longer than %zu characters", n - 1);
    memcpy(out + *used, text, len + 1);
    *used += len;
    return MS_SUCCESS;
}

ms_status ms_composition_formula(const ms_composition *c, const ms_element_table *table, char *out,
                                 size_t n)
{
    sort_key keys[MS_MAX_Z];
    int k = sorted_keys(c, table, keys, by_x_then_pos);
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < k; i++) {
        char num[64];
        formula_double_format(c->amount[keys[i].z], 0, num, sizeof num);
        if (i > 0) MS_CALL(append(out, n, &used, " "));
        MS_CALL(append(out, n, &used, ms_element_symbol(keys[i].z)));
        MS_CALL(append(out, n, &used, num));
    }
    return MS_SUCCESS;
}

static long long gcd_ll(long long a, long long b)
{
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* pymatgen.core.composition.reduce_formula for integer-valued amounts amt[z]. */
static ms_status reduce_formula(const ms_composition *c, const double *amt,
                                const ms_element_table *table, char *out, size_t n, double *factor_out)
{
    sort_key keys[MS_MAX_Z];
    int k = sorted_keys(c, table, keys, by_x_then_symbol);
    int kept = 0;
    for (int i = 0; i < k; i++)
        if (fabs(amt[keys[i].z]) > MS_COMPOSITION_TOL) keys[kept++] = keys[i];
    double factor = 1;
    int all_int = 1;
    long long g = 0;
    for (int i = 0; i < c->n; i++) {
        double v = amt[c->z[i]];
        if (trunc(v) != v || !(fabs(v) < 1e15)) all_int = 0;
        else g = gcd_ll(g, (long long)v);
    }
    if (all_int && g != 0) factor = (double)g;
    char poly[FORMULA_BUF] = "";
    const ms_element *last = kept >= 1 ? ms_element_get(table, keys[kept - 1].z) : NULL;
    const ms_element *second = kept >= 2 ? ms_element_get(table, keys[kept - 2].z) : NULL;
    if (kept >= 3 && last->x - second->x < 1.65) {
        ms_composition pair;
        ms_composition_clear(&pair);
        ms_composition_add(&pair, keys[kept - 2].z, amt[keys[kept - 2].z] / factor);
        ms_composition_add(&pair, keys[kept - 1].z, amt[keys[kept - 1].z] / factor);
        char pform[FORMULA_BUF];
        double pfactor;
        MS_CALL(reduce_formula(&pair, pair.amount, table, pform, sizeof pform, &pfactor));
        if (pfactor != 1) snprintf(poly, sizeof poly, "(%s)%d", pform, (int)pfactor);
    }
    int upto = poly[0] ? kept - 2 : kept;
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < upto; i++) {
        char num[64];
        formula_double_format(amt[keys[i].z] / factor, 1, num, sizeof num);
        MS_CALL(append(out, n, &used, ms_element_symbol(keys[i].z)));
        MS_CALL(append(out, n, &used, num));
    }
    MS_CALL(append(out, n, &used, poly));
    *factor_out = factor;
    return MS_SUCCESS;
}

ms_status ms_composition_reduced_formula(const ms_composition *c, const ms_element_table *table,
                                         char *out, size_t n)
{
    static const char *const special[][2] = {
        {"LiO", "LiO2"}, {"NaO", "NaO2"}, {"KO", "KO2"},   {"HO", "H2O2"},
        {"CsO", "CsO2"}, {"RbO", "RbO2"}, {"O", "O2"},     {"N", "N2"},
        {"F", "F2"},     {"Cl", "Cl2"},   {"H", "H2"}};
    for (int i = 0; i < c->n; i++) {
        double v = c->amount[c->z[i]];
        if (fabs(v - round(v)) >= MS_COMPOSITION_TOL) {
            /* Non-integer amounts: pymatgen returns Composition.formula without spaces. */
            char spaced[FORMULA_BUF * 2];
            MS_CALL(ms_composition_formula(c, table, spaced, sizeof spaced));
            size_t j = 0;
            for (const char *p = spaced; *p; p++)
                if (*p != ' ') {
                    MS_CHECK(j + 1 < n, MS_ERR_LIMIT, "formula longer than %zu characters", n - 1);
                    out[j++] = *p;
                }
            out[j] = '\0';
            return MS_SUCCESS;
        }
    }
    double rounded[MS_MAX_Z + 1];
    for (int i = 0; i < c->n; i++) rounded[c->z[i]] = round(c->amount[c->z[i]]);
    double factor;
    MS_CALL(reduce_formula(c, rounded, table, out, n, &factor));
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (strcmp(out, special[i][0]) == 0) {
            MS_CHECK(strlen(special[i][1]) < n, MS_ERR_LIMIT, "formula buffer too small");
            strcpy(out, special[i][1]);
            break;
        }
    return MS_SUCCESS;
}

int ms_composition_proportional(const ms_composition *a, const ms_composition *b, double rtol)
{
    double ta = ms_composition_total(a), tb = ms_composition_total(b);
    if (ta <= 0 || tb <= 0) return 0;
    for (int z = 1; z <= MS_MAX_Z; z++) {
        double fa = a->amount[z] / ta, fb = b->amount[z] / tb;
        if (fabs(fa - fb) > rtol * fmax(fabs(fa), fabs(fb)) + MS_COMPOSITION_TOL) return 0;
    }
    return 1;
}
