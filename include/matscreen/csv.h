/*
 * CSV lines (RFC 4180 quoting) for label files and reference tables.
 *
 * One record per line: a quoted field may hold commas and doubled quotes ("") but not line
 * breaks, which no label file of the field uses; a line with an unclosed quote ends its last
 * field at the end of the line.
 */
#ifndef MATSCREEN_CSV_H
#define MATSCREEN_CSV_H

#include <stdio.h>

/* Splits line in place into at most max fields (pointers into line), removing the quotes and a
 * trailing "\n" or "\r\n". Returns the number of fields (at least 1). Not collective. */
int ms_csv_split(char *line, char **fields, int max);

/* Index of the field equal to name among n header fields, or -1. */
int ms_csv_column(char *const *fields, int n, const char *name);

/* Writes s (NULL: empty) as one CSV field, without separator: as is, or quoted (RFC 4180,
 * quotes doubled) when it holds a comma, a quote or a line break. The one field writer of every
 * CSV output (ranked.csv, errors.csv, features.csv, quality.csv, suggestions), so that a rule
 * about field contents is made here once: a field starting with = + - @ tab or CR that is not a
 * plain number is quoted and prefixed with a single quote ("'=1+2"), as the OWASP advice on CSV
 * injection says, so that a spreadsheet never runs it as a formula. Write errors show in
 * ferror(f). */
void ms_csv_write_field(FILE *f, const char *s);

#endif /* MATSCREEN_CSV_H */
