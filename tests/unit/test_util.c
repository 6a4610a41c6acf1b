/* Helpers shared by the unit tests; see test_util.h. */
#include "test_util.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/element.h"

#define SLOTS 8

static const char *join(const char *env, const char *fallback, const char *relative)
{
    static char buf[SLOTS][4096];
    static int slot;
    const char *root = getenv(env);
    if (!root || !*root) root = fallback;
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
