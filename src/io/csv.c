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

void ms_csv_write_field(FILE *f, const char *s)
{
    if (!s) s = "";
    /* OWASP CSV injection advice: a field that could run as a formula is quoted and starts with
     * a single quote ("'=1+2"), so it reads as text. */
    int formula = formula_like(s);
    if (!formula && !strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    if (formula) fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
