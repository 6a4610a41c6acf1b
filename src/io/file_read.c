/* Whole-file reading with a size limit; see file_read.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matscreen/file_read.h"

const char *ms_file_type_name(unsigned mode)
{
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

ms_status ms_open_regular(const char *path, size_t max_bytes, FILE **out, long long *size)
{
    *out = NULL;
    if (size) *size = 0;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever; the
     * type is checked on the open descriptor (no race with a rename) before anything is read. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    MS_CHECK(fd >= 0, MS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return ms_error_set(MS_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        int is_dir = S_ISDIR(sb.st_mode);
        const char *kind = ms_file_type_name(sb.st_mode);
        close(fd);
        return ms_error_set(MS_ERR_IO, "%s: not a regular file (%s)%s", path, kind,
                            is_dir ? "" : ": give the path of a file holding the data");
    }
    if (max_bytes && (unsigned long long)sb.st_size > (unsigned long long)max_bytes) {
        close(fd);
        return ms_error_set(MS_ERR_LIMIT, "%s: %lld bytes exceed the limit of %zu", path,
                            (long long)sb.st_size, max_bytes);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        return ms_error_set(MS_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    *out = f;
    if (size) *size = (long long)sb.st_size;
    return MS_SUCCESS;
}

ms_status ms_refuse_binary(const char *path, const char *what, const char *data, size_t n,
                           long long base)
{
    const char *z = data ? memchr(data, '\0', n) : NULL;
    if (!z) return MS_SUCCESS;
    return ms_error_set(MS_ERR_PARSE,
                        "%s: a NUL byte at byte offset %lld: binary data, not a %s "
                        "text file",
                        path, base + (long long)(z - data), what);
}

ms_status ms_refuse_binary_head(FILE *f, const char *path, const char *what)
{
    char head[MS_BINARY_SNIFF_BYTES];
    ssize_t got = pread(fileno(f), head, sizeof head, 0);
    if (got <= 0) return MS_SUCCESS; /* an empty file or a read error shows up when read */
    return ms_refuse_binary(path, what, head, (size_t)got, 0);
}

/* Reads the open file f of size bytes into a new buffer; what != NULL refuses a NUL byte as the
 * chunk holding it arrives, so binary data costs one chunk, not the whole file. */
static ms_status read_all(FILE *f, const char *path, size_t size, const char *what, char **buf)
{
    enum { CHUNK = 1 << 20 };
    char *data = malloc(size + 1);
    MS_CHECK(data, MS_ERR_NOMEM, "%s: cannot hold %zu bytes", path, size);
    size_t done = 0;
    ms_status st = MS_SUCCESS;
    while (st == MS_SUCCESS && done < size) {
        size_t want = size - done < CHUNK ? size - done : CHUNK;
        size_t got = fread(data + done, 1, want, f);
        if (got != want)
            st = ms_error_set(MS_ERR_IO, "%s: read error", path);
        else if (what)
            st = ms_refuse_binary(path, what, data + done, got, (long long)done);
        done += got;
    }
    if (st != MS_SUCCESS) {
        free(data);
        return st;
    }
    data[size] = '\0';
    *buf = data;
    return MS_SUCCESS;
}

static ms_status read_file(const char *path, size_t max_bytes, const char *what, char **buf,
                           size_t *n)
{
    *buf = NULL;
    *n = 0;
    FILE *f;
    long long size;
    MS_CALL(ms_open_regular(path, max_bytes, &f, &size));
    ms_status st = read_all(f, path, (size_t)size, what, buf);
    fclose(f);
    if (st == MS_SUCCESS) *n = (size_t)size;
    return st;
}

ms_status ms_read_whole_file(const char *path, size_t max_bytes, char **buf, size_t *n)
{
    return read_file(path, max_bytes, NULL, buf, n);
}

ms_status ms_read_text_file(const char *path, size_t max_bytes, const char *what, char **buf,
                            size_t *n)
{
    return read_file(path, max_bytes, what ? what : "", buf, n);
}
