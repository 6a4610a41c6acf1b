/* Helpers shared by the unit tests; see test_util.h. */
#include "test_util.h"

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "matscreen/element.h"

#define SLOTS 8

/* Set by the runner around each test: where ms_test_data jumps when ../shared is absent. */
static jmp_buf *skip_jump;
static char skip_reason[4200];
static const char *skip_suite;

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *root_of(const char *env, const char *fallback)
{
    const char *root = getenv(env);
    return root && *root ? root : fallback;
}

/* A test that asks for a file under an absent shared folder is skipped, not failed: a user's
 * clone has no ../shared. Outside a test (suite setup) the path is returned as it is. */
static void skip_if_absent(const char *env, const char *root)
{
    if (!skip_jump || is_dir(root)) return;
    snprintf(skip_reason, sizeof skip_reason, "needs %s (%s), which is absent", root, env);
    longjmp(*skip_jump, 1);
}

void ms_test_set_skip_jump(jmp_buf *jump) { skip_jump = jump; }

const char *ms_test_skip_reason(void) { return skip_reason; }

int ms_test_suite_needs_shared(const char *suite)
{
    if (is_dir(root_of("MS_SHARED_DATA", "../shared/data"))) return 0;
    skip_suite = suite;
    snprintf(skip_reason, sizeof skip_reason, "needs %s (MS_SHARED_DATA), which is absent",
             root_of("MS_SHARED_DATA", "../shared/data"));
    return 1;
}

const char *ms_test_skipped_suite(void) { return skip_suite; }

static const char *join(const char *env, const char *fallback, const char *relative)
{
    static char buf[SLOTS][4096];
    static int slot;
    const char *root = root_of(env, fallback);
    skip_if_absent(env, root);
    char *out = buf[slot++ % SLOTS];
    snprintf(out, 4096, "%s/%s", root, relative);
    return out;
}

const char *ms_test_data(const char *relative)
{
    return join("MS_SHARED_DATA", "../shared/data", relative);
}

const char *ms_test_reference(const char *relative)
{
    return join("MS_SHARED_REFERENCE", "../shared/reference", relative);
}

const char *ms_test_local(const char *relative) { return join("MS_TEST_DATA", "tests/data", relative); }

size_t ms_test_count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d) return (size_t)-1;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (!strncmp(e->d_name, prefix, strlen(prefix))) n++;
    closedir(d);
    return n;
}

int ms_test_close(double a, double b, double rtol, double atol)
{
    double scale = fmax(fabs(a), fabs(b));
    return fabs(a - b) <= rtol * scale + atol;
}

static ms_element_table *elements;

const struct ms_element_table *ms_test_elements(void)
{
    if (!elements && ms_element_table_load_default(&elements) != MS_SUCCESS) {
        fprintf(stderr, "cannot load the element table: %s\n", ms_error_message());
        exit(2);
    }
    return elements;
}
