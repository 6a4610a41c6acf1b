/* CSV line splitting; see csv.h. */
#include "matscreen/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ms_csv_split(char *line, char **fields, int max)
{
    int n = 0;
    char *r = line, *w = line; /* read and write cursors: unquoting shrinks the field in place */
    while (n < max) {
        fields[n++] = w;
        int quoted = 0;
        for (;;) {
            if (*r == '"' && quoted && r[1] == '"') {
                *w++ = '"';
                r += 2;
            } else if (*r == '"') {
                quoted = !quoted;
                r++;
            } else if (*r == '\0' || (!quoted && (*r == ',' || *r == '\n' || *r == '\r'))) {
                break;
            } else {
                *w++ = *r++;
            }
        }
        int end = (*r != ',');
        *w++ = '\0';
        if (end) break;
        r++;
    }
    return n;
}

int ms_csv_column(char *const *fields, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(fields[i], name) == 0) return i;
    return -1;
}

/* 1 when a spreadsheet would take s as a formula: it starts with = + - @ tab or CR and is not a
 * plain number ("-0.5" stays a number). */
static int formula_like(const char *s)
{
    if (!s[0] || !strchr("=+-@\t\r", s[0])) return 0;
    char *end;
    errno = 0;
    (void)strtod(s, &end);
    return !(end != s && *end == '\0' && s[0] != '\t' && s[0] != '\r');
}

/* The one field rule (csv.h), written through put: to a stream or to a row in memory. */
static void put_field(const char *s, void (*put)(void *u, const char *p, size_t n), void *u)
{
    if (!s) s = "";
    /* OWASP CSV injection advice: a field that could run as a formula is quoted and starts with
     * a single quote ("'=1+2"), so it reads as text. */
    int formula = formula_like(s);
    if (!formula && !strpbrk(s, ",\"\r\n")) {
        put(u, s, strlen(s));
        return;
    }
    put(u, formula ? "\"'" : "\"", formula ? 2 : 1);
    for (const char *q; (q = strchr(s, '"')) != NULL; s = q + 1) {
        put(u, s, (size_t)(q - s) + 1);
        put(u, "\"", 1); /* a quote is doubled */
    }
    put(u, s, strlen(s));
    put(u, "\"", 1);
}

static void put_stream(void *u, const char *p, size_t n) { fwrite(p, 1, n, (FILE *)u); }

void ms_csv_write_field(FILE *f, const char *s) { put_field(s, put_stream, f); }

void ms_csv_row_put(ms_csv_row *r, const char *p, size_t n)
{
    if (r->failed) return;
    if (r->n + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 512;
        while (cap < r->n + n + 1) cap *= 2;
        char *g = realloc(r->data, cap);
        if (!g) {
            r->failed = 1;
            return;
        }
        r->data = g;
        r->cap = cap;
    }
    memcpy(r->data + r->n, p, n);
    r->n += n;
}

static void put_row(void *u, const char *p, size_t n) { ms_csv_row_put(u, p, n); }

void ms_csv_row_field(ms_csv_row *r, const char *s) { put_field(s, put_row, r); }

void ms_csv_row_free(ms_csv_row *r)
{
    free(r->data);
    memset(r, 0, sizeof *r);
}
