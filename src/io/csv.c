/* CSV line splitting; see csv.h. */
#include "matscreen/csv.h"

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

void ms_csv_write_field(FILE *f, const char *s)
{
    if (!s) s = "";
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
