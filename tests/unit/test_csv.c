/* Tests of CSV line splitting on real lines of the shared reference and label files. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "matscreen/csv.h"
#include "suites.h"
#include "test_util.h"

/* Finds the first line of a real file that contains needle, into buf. */
static int find_line(const char *path, const char *needle, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int found = 0;
    while (!found && fgets(buf, (int)n, f)) found = strstr(buf, needle) != NULL;
    fclose(f);
    return found;
}

static void test_quoted_fields_of_reference(void)
{
    /* Row of 2000000.cif: its warning field is quoted and holds commas and brackets. */
    char line[65536], *f[32];
    CU_ASSERT_FATAL(find_line(ms_test_reference("structures.csv"), "inputs/2000000.cif", line, sizeof line));
    int n = ms_csv_split(line, f, 32);
    CU_ASSERT_EQUAL(n, 21); /* the header's 21 columns, commas inside quotes do not split */
    CU_ASSERT_STRING_EQUAL(f[1], "0");
    CU_ASSERT_STRING_EQUAL(f[2], "ValueError: Invalid cif file with no structures!");
    CU_ASSERT(strncmp(f[3], "Some fractional coordinates rounded", 35) == 0);
    CU_ASSERT_STRING_EQUAL(f[20], ""); /* the line's "\n" is not part of the last field */
}

static void test_header_columns(void)
{
    char line[65536], *f[64];
    CU_ASSERT_FATAL(find_line(ms_test_data("labeled/obelix-train/train.csv"), "ID,", line, sizeof line));
    int n = ms_csv_split(line, f, 64);
    CU_ASSERT_EQUAL(ms_csv_column(f, n, "ID"), 0);
    CU_ASSERT(ms_csv_column(f, n, "Ionic conductivity (S cm-1)") > 0);
    CU_ASSERT_EQUAL(ms_csv_column(f, n, "no such column"), -1);
}

static void test_edge_cases(void)
{
    char a[] = "\"say \"\"hi\"\"\",,x\r\n", b[] = "", c[] = "a,b,c,d", *f[3];
    CU_ASSERT_EQUAL(ms_csv_split(a, f, 3), 3);
    CU_ASSERT_STRING_EQUAL(f[0], "say \"hi\"");
    CU_ASSERT_STRING_EQUAL(f[1], "");
    CU_ASSERT_STRING_EQUAL(f[2], "x");
    CU_ASSERT_EQUAL(ms_csv_split(b, f, 3), 1);
    CU_ASSERT_STRING_EQUAL(f[0], "");
    CU_ASSERT_EQUAL(ms_csv_split(c, f, 3), 3); /* at most max fields */
}

/* The field writer quotes exactly the fields that need it, and ms_csv_split reads them back. */
static void test_write_field_round_trip(void)
{
    const char *in[] = {"plain", "a,b", "say \"hi\"", "cr\rhere", "", "Li3PS4 (#1)"};
    const char *want = "plain,\"a,b\",\"say \"\"hi\"\"\",\"cr\rhere\",,Li3PS4 (#1)\n";
    char buf[256] = {0}, *f[8];
    FILE *m = fmemopen(buf, sizeof buf - 1, "w");
    CU_ASSERT_FATAL(m != NULL);
    for (int i = 0; i < 6; i++) {
        if (i) fputc(',', m);
        ms_csv_write_field(m, in[i]);
    }
    fputc('\n', m);
    fclose(m);
    CU_ASSERT_STRING_EQUAL(buf, want);
    /* a carriage return inside a quoted field survives the split; "\r\n" at the end would not */
    CU_ASSERT_EQUAL(ms_csv_split(buf, f, 8), 6);
    for (int i = 0; i < 6; i++) CU_ASSERT_STRING_EQUAL(f[i], in[i]);
}

/* Fields a spreadsheet would run as formulas are quoted with a leading ' (OWASP); numbers are not. */
static void test_write_field_formula_injection(void)
{
    const char *in[] = {"=1+2", "@SUM(A1)", "+cmd", "-2+3", "\tx", "-0.5", "+1e3", "a=b"};
    const char *want = "\"'=1+2\",\"'@SUM(A1)\",\"'+cmd\",\"'-2+3\",\"'\tx\",-0.5,+1e3,a=b\n";
    char buf[256] = {0};
    FILE *m = fmemopen(buf, sizeof buf - 1, "w");
    CU_ASSERT_FATAL(m != NULL);
    for (int i = 0; i < 8; i++) {
        if (i) fputc(',', m);
        ms_csv_write_field(m, in[i]);
    }
    fputc('\n', m);
    fclose(m);
    CU_ASSERT_STRING_EQUAL(buf, want);
}

int ms_suite_csv(void)
{
    CU_pSuite s = CU_add_suite("csv", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "quoted fields of the reference table", test_quoted_fields_of_reference);
    CU_add_test(s, "header columns of a label file", test_header_columns);
    CU_add_test(s, "edge cases", test_edge_cases);
    CU_add_test(s, "field writer quotes what needs it", test_write_field_round_trip);
    CU_add_test(s, "field writer defuses formulas", test_write_field_formula_injection);
    return CU_get_error();
}
