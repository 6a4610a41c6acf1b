/* Tests of the output helpers (outfile.h): name escaping, UTF-8 check, write-beside-and-rename,
 * the output-directory lock and the refusal of links. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matscreen/outfile.h"
#include "suites.h"

static void slurp(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t k = fread(buf, 1, n - 1, f);
    buf[k] = '\0';
    fclose(f);
}

static void test_escape(void)
{
    char out[128];
    CU_ASSERT_EQUAL(ms_name_escape("Li3PS4_ICSD-180319.cif", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "Li3PS4_ICSD-180319.cif");
    CU_ASSERT_EQUAL(ms_name_escape("x\ndata_evil\\y", out, sizeof out), 1);
    CU_ASSERT_STRING_EQUAL(out, "x\\x0Adata_evil\\\\y");
    CU_ASSERT_EQUAL(ms_name_escape("bad\xff.cif", out, sizeof out), 1);
    CU_ASSERT_STRING_EQUAL(out, "bad\\xFF.cif");
    ms_name_escape("Li\xc3\xa9.cif", out, sizeof out); /* é stays as it is */
    CU_ASSERT_STRING_EQUAL(out, "Li\xc3\xa9.cif");
    ms_name_escape("abc\xff", out, 6); /* cut before an escape that does not fit */
    CU_ASSERT_STRING_EQUAL(out, "abc");
    CU_ASSERT(ms_utf8_valid("Li\xc3\xa9"));
    CU_ASSERT(!ms_utf8_valid("\xc0\xaf"));     /* overlong '/' */
    CU_ASSERT(!ms_utf8_valid("\xed\xa0\x80")); /* surrogate */
    CU_ASSERT(!ms_utf8_valid("\xe2\x82"));     /* cut */
}

static void test_atomic_and_lock(void)
{
    char dir[] = "/tmp/ms_outfile_XXXXXX", path[256], buf[256], link[256];
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/ranked.csv", dir);
    FILE *f = fopen(path, "w");
    fputs("previous\n", f);
    fclose(f);
    ms_atomic_file *a = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_atomic_open(path, &a), MS_SUCCESS);
    fputs("new, half", ms_atomic_stream(a));
    ms_atomic_abort(&a); /* a failed run: the previous file stays whole */
    CU_ASSERT_PTR_NULL(a);
    slurp(path, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "previous\n");
    CU_ASSERT_EQUAL_FATAL(ms_atomic_open(path, &a), MS_SUCCESS);
    ms_atomic_file *b = NULL; /* a second writer of the same output is refused */
    CU_ASSERT_EQUAL(ms_atomic_open(path, &b), MS_ERR_IO);
    CU_ASSERT(strstr(ms_error_message(), "being written by another process") != NULL);
    fputs("new\n", ms_atomic_stream(a));
    slurp(path, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "previous\n"); /* not yet renamed */
    CU_ASSERT_EQUAL(ms_atomic_commit(&a), MS_SUCCESS);
    slurp(path, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "new\n");
    snprintf(buf, sizeof buf, "%s/.tmp-ranked.csv", dir);
    CU_ASSERT(access(buf, F_OK) != 0); /* nothing left beside */

    /* a link as output is refused, its target untouched */
    snprintf(link, sizeof link, "%s/errors.csv", dir);
    CU_ASSERT_EQUAL_FATAL(symlink("ranked.csv", link), 0);
    CU_ASSERT_EQUAL(ms_atomic_open(link, &a), MS_ERR_IO);
    CU_ASSERT(strstr(ms_error_message(), "is a symbolic link (to ranked.csv)") != NULL);
    slurp(path, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "new\n");

    /* the directory lock: taken once, refused a second time (naming the holder), free again */
    char *argv[] = {"matscreen", "screen", "-o", dir};
    ms_dir_lock *l1 = NULL, *l2 = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_dir_lock_take(dir, 4, argv, &l1), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_dir_lock_take(dir, 0, NULL, &l2), MS_ERR_IO);
    snprintf(buf, sizeof buf, "in use by another matscreen (pid %ld on host", (long)getpid());
    CU_ASSERT(strstr(ms_error_message(), buf) != NULL);
    CU_ASSERT(strstr(ms_error_message(), "matscreen screen -o") != NULL);
    ms_dir_lock_release(&l1);
    CU_ASSERT_PTR_NULL(l1);
    CU_ASSERT_EQUAL(ms_dir_lock_take(dir, 0, NULL, &l2), MS_SUCCESS);
    ms_dir_lock_release(&l2);
    snprintf(buf, sizeof buf, "%s/" MS_DIR_LOCK_FILE, dir);
    CU_ASSERT(access(buf, F_OK) == 0); /* the lock file is never removed */

    unlink(buf);
    unlink(link);
    unlink(path);
    rmdir(dir);
}

/* mkdir -p and the parents of an output path: made when missing, fine when there, and a file in
 * the way is named. */
static void test_mkdir_p(void)
{
    char dir[] = "/tmp/ms_mkdir_XXXXXX", path[256], buf[256];
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    CU_ASSERT_EQUAL(ms_mkdir_p(path), MS_SUCCESS);
    struct stat sb;
    CU_ASSERT(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
    CU_ASSERT_EQUAL(ms_mkdir_p(path), MS_SUCCESS); /* there already */
    snprintf(path, sizeof path, "%s/p/q/model.json", dir);
    CU_ASSERT_EQUAL(ms_mkdir_parents(path), MS_SUCCESS);
    snprintf(buf, sizeof buf, "%s/p/q", dir);
    CU_ASSERT(stat(buf, &sb) == 0 && S_ISDIR(sb.st_mode));
    CU_ASSERT(stat(path, &sb) != 0); /* the file itself is not made */
    snprintf(path, sizeof path, "%s/file", dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    snprintf(buf, sizeof buf, "%s/file/sub", dir);
    CU_ASSERT_EQUAL(ms_mkdir_p(buf), MS_ERR_IO);
    CU_ASSERT(strstr(ms_error_message(), path) != NULL);
    CU_ASSERT_EQUAL(ms_mkdir_parents("model.json"), MS_SUCCESS); /* the current directory */
    unlink(path);
    const char *const made[] = {"a/b/c", "a/b", "a", "p/q", "p"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(buf, sizeof buf, "%s/%s", dir, made[i]);
        rmdir(buf);
    }
    rmdir(dir);
}

int ms_suite_outfile(void)
{
    CU_pSuite s = CU_add_suite("outfile", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "names escaped, UTF-8 checked", test_escape);
    CU_add_test(s, "write beside and rename; one writer; links refused; directory lock",
                test_atomic_and_lock);
    CU_add_test(s, "mkdir -p and an output's parents", test_mkdir_p);
    return CU_get_error();
}
