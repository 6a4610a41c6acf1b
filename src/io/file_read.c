/* Whole-file reading with a size limit; see file_read.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "matscreen/file_read.h"

ms_status ms_read_whole_file(const char *path, size_t max_bytes, char **buf, size_t *n)
{
    *buf = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    MS_CHECK(f != NULL, MS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return ms_error_set(MS_ERR_IO, "%s: not a regular file", path);
    }
    if ((unsigned long long)sb.st_size > (unsigned long long)max_bytes) {
        fclose(f);
        return ms_error_set(MS_ERR_LIMIT, "%s: %lld bytes exceed the limit of %zu", path,
                            (long long)sb.st_size, max_bytes);
    }
    size_t size = (size_t)sb.st_size;
    char *data = malloc(size + 1);
    if (!data) {
        fclose(f);
        return ms_error_set(MS_ERR_NOMEM, "%s: cannot hold %zu bytes", path, size);
    }
    size_t got = fread(data, 1, size, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != size) {
        free(data);
        return ms_error_set(MS_ERR_IO, "%s: read error", path);
    }
    data[size] = '\0';
    *buf = data;
    *n = size;
    return MS_SUCCESS;
}
