/* Whole-buffer positioned reads and writes (sysio.h). */
#include "matscreen/sysio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

size_t ms_pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const unsigned char *b = p;
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fd, b + done, n - done, (off_t)(off + done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = 0;
            break;
        }
        done += (size_t)w;
    }
    return done;
}

size_t ms_pread_all(int fd, void *p, size_t n, uint64_t off)
{
    unsigned char *b = p;
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, b + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = 0;
            break;
        }
        done += (size_t)r;
    }
    return done;
}

const char *ms_tmp_dir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

int ms_unnamed_tmpfile(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/matscreen-tmp.XXXXXX", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0) unlink(path);
    return fd;
}
