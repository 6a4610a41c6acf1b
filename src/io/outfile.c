/* Output-directory lock, write-beside-and-rename files, name escaping; see outfile.h. */
#include "matscreen/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_INFO_MAX 2048

struct ms_dir_lock {
    int fd;
};

struct ms_atomic_file {
    char *path, *tmp;
    FILE *f;
    int fd;
    int err;    /* errno of the first failed write: stdio forgets it ("No space left on device") */
    int synced;
};

/* The stream's writes (fopencookie): write(2) to the temporary file, keeping the first errno. */
static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
    ms_atomic_file *a = c;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(a->fd, buf + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (!a->err) a->err = w < 0 ? errno : EIO;
            return done ? (ssize_t)done : -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)n;
}

static int cookie_close(void *c)
{
    ms_atomic_file *a = c;
    int rc = close(a->fd);
    a->fd = -1;
    return rc;
}

char *ms_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* The directory part of path ("." when there is none), in a new string. */
static char *dir_of(const char *path)
{
    const char *s = strrchr(path, '/');
    if (!s) return strdup(".");
    if (s == path) return strdup("/");
    return strndup(path, (size_t)(s - path));
}

ms_status ms_output_not_link(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0 || !S_ISLNK(sb.st_mode)) return MS_SUCCESS;
    char target[1024];
    ssize_t k = readlink(path, target, sizeof target - 1);
    target[k > 0 ? k : 0] = '\0';
    return ms_error_set(MS_ERR_IO, "%s is a symbolic link (to %s): matscreen does not write "
                        "outputs through links; remove the link or choose another output "
                        "directory", path, target);
}

/* One line of the holder's description: "pid P on host H since T: COMMAND". */
static void describe_self(int argc, char *const *argv, char *out, size_t n)
{
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    time_t t = time(NULL);
    struct tm tm;
    char when[32];
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    size_t k = (size_t)snprintf(out, n, "pid %ld on host %s since %s:", (long)getpid(), host, when);
    for (int i = 0; i < argc && argv && k < n; i++) {
        char esc[512];
        ms_name_escape(argv[i], esc, sizeof esc);
        k += (size_t)snprintf(out + k, n - k, " %s", esc);
    }
    if (argc <= 0 && k < n) snprintf(out + k, n - k, " (a matscreen library call)");
}

ms_status ms_dir_lock_take(const char *dir, int argc, char *const *argv, ms_dir_lock **out)
{
    MS_CHECK(dir && out, MS_ERR_USAGE, "ms_dir_lock_take: directory required");
    *out = NULL;
    MS_CALL(ms_output_not_link(dir));
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ms_error_set(MS_ERR_IO, "%s: cannot create directory: %s", dir, strerror(errno));
    char *path = ms_path_join(dir, MS_DIR_LOCK_FILE);
    MS_CHECK(path, MS_ERR_NOMEM, "out of memory");
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
        ms_status st = ms_error_set(MS_ERR_IO, "%s: cannot open the output directory's lock: %s",
                                    path, strerror(errno));
        free(path);
        return st;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char who[LOCK_INFO_MAX] = "";
        ssize_t k = pread(fd, who, sizeof who - 1, 0);
        who[k > 0 ? k : 0] = '\0';
        who[strcspn(who, "\n")] = '\0';
        close(fd);
        free(path);
        if (err == EWOULDBLOCK)
            return ms_error_set(MS_ERR_IO, "%s: in use by another matscreen (%s); one run writes "
                                "to an output directory at a time: wait for it to end, or "
                                "choose another output directory", dir,
                                who[0] ? who : "holder unknown");
        return ms_error_set(MS_ERR_IO, "%s: cannot lock: %s", dir, strerror(err));
    }
    free(path);
    char info[LOCK_INFO_MAX];
    describe_self(argc, argv, info, sizeof info - 1);
    size_t len = strlen(info);
    info[len++] = '\n';
    /* The description is for messages only: a failure to write it does not stop the run. */
    if (ftruncate(fd, 0) == 0 && pwrite(fd, info, len, 0) < 0) errno = 0;
    ms_dir_lock *l = malloc(sizeof *l);
    if (!l) {
        close(fd);
        return ms_error_set(MS_ERR_NOMEM, "out of memory");
    }
    l->fd = fd;
    *out = l;
    return MS_SUCCESS;
}

void ms_dir_lock_release(ms_dir_lock **lock)
{
    if (!lock || !*lock) return;
    close((*lock)->fd); /* drops the flock; the file stays, so it is never replaced */
    free(*lock);
    *lock = NULL;
}

ms_status ms_atomic_open(const char *path, ms_atomic_file **out)
{
    MS_CHECK(path && out, MS_ERR_USAGE, "ms_atomic_open: path required");
    *out = NULL;
    MS_CALL(ms_output_not_link(path));
    ms_atomic_file *a = calloc(1, sizeof *a);
    if (a) a->fd = -1;
    char *dir = dir_of(path);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char name[320];
    snprintf(name, sizeof name, MS_ATOMIC_TMP_PREFIX "%.250s", base);
    if (a && dir) {
        a->path = strdup(path);
        a->tmp = ms_path_join(dir, name);
    }
    free(dir);
    if (!a || !a->path || !a->tmp) {
        ms_atomic_abort(&a);
        return ms_error_set(MS_ERR_NOMEM, "out of memory");
    }
    /* A fixed name beside the output, locked while it is written: a second writer of the same
     * output is refused, and what a killed writer left (unlocked) is simply written over. */
    int fd = open(a->tmp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    ms_status st = MS_SUCCESS;
    if (fd < 0)
        st = ms_error_set(MS_ERR_IO, "%s: cannot create %s beside it: %s", path, a->tmp,
                          strerror(errno));
    else if (flock(fd, LOCK_EX | LOCK_NB) != 0)
        st = ms_error_set(MS_ERR_IO, "%s: being written by another process (%s is locked); wait "
                          "for it to end", path, a->tmp);
    else if (ftruncate(fd, 0) != 0)
        st = ms_error_set(MS_ERR_IO, "%s: cannot write %s: %s", path, a->tmp, strerror(errno));
    if (st == MS_SUCCESS) {
        a->fd = fd;
        cookie_io_functions_t io = {NULL, cookie_write, NULL, cookie_close};
        a->f = fopencookie(a, "w", io);
        if (!a->f) st = ms_error_set(MS_ERR_NOMEM, "%s: cannot open a stream", path);
    }
    if (st != MS_SUCCESS) {
        if (fd >= 0 && !a->f) close(fd);
        free(a->tmp); /* never removed here: it may be another writer's */
        a->tmp = NULL;
        ms_atomic_abort(&a);
        return st;
    }
    *out = a;
    return MS_SUCCESS;
}

FILE *ms_atomic_stream(ms_atomic_file *f) { return f ? f->f : NULL; }

const char *ms_atomic_path(const ms_atomic_file *f) { return f ? f->path : NULL; }

void ms_atomic_abort(ms_atomic_file **f)
{
    if (!f || !*f) return;
    ms_atomic_file *a = *f;
    if (a->tmp) unlink(a->tmp); /* while the lock is held */
    if (a->f) fclose(a->f);
    free(a->tmp);
    free(a->path);
    free(a);
    *f = NULL;
}

/* fsync of the directory holding path, so that a rename in it survives a crash. */
static void sync_dir_of(const char *path)
{
    char *dir = dir_of(path);
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        fsync(fd); /* some file systems refuse fsync on a directory; the rename is done anyway */
        close(fd);
    }
    free(dir);
}

ms_status ms_atomic_sync(ms_atomic_file *a)
{
    MS_CHECK(a && a->f, MS_ERR_USAGE, "ms_atomic_sync: no open file");
    if (a->synced) return MS_SUCCESS;
    errno = 0;
    int err = 0;
    if (fflush(a->f) != 0 || ferror(a->f) || a->err) err = a->err ? a->err : errno ? errno : EIO;
    if (!err && fsync(a->fd) != 0 && errno != EINVAL) err = errno;
    MS_CHECK(!err, MS_ERR_IO, "%s: write failed: %s", a->path, strerror(err));
    a->synced = 1;
    return MS_SUCCESS;
}

ms_status ms_atomic_commit(ms_atomic_file **f)
{
    if (!f || !*f) return MS_SUCCESS;
    ms_atomic_file *a = *f;
    ms_status st = ms_atomic_sync(a);
    /* Checked again at the last moment: a link made while we wrote is not written through. */
    if (st == MS_SUCCESS) st = ms_output_not_link(a->path);
    if (st == MS_SUCCESS && rename(a->tmp, a->path) != 0)
        st = ms_error_set(MS_ERR_IO, "%s: cannot rename %s into place: %s", a->path, a->tmp,
                          strerror(errno));
    if (st == MS_SUCCESS) {
        free(a->tmp);
        a->tmp = NULL;
        sync_dir_of(a->path);
    }
    fclose(a->f); /* the data is synced (or the commit failed): closing only drops the lock */
    a->f = NULL;
    ms_atomic_abort(f);
    return st;
}

/* Removes a directory of plain files (what ms_dir_replace swaps out). */
static void remove_flat_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        for (struct dirent *e; (e = readdir(d));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *p = ms_path_join(path, e->d_name);
            if (p) unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(path);
}

ms_status ms_dir_replace(const char *fresh, const char *path)
{
    MS_CALL(ms_output_not_link(path));
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno != ENOENT)
            return ms_error_set(MS_ERR_IO, "%s: %s", path, strerror(errno));
        if (rename(fresh, path) != 0)
            return ms_error_set(MS_ERR_IO, "%s: cannot rename %s into place: %s", path, fresh,
                                strerror(errno));
        sync_dir_of(path);
        return MS_SUCCESS;
    }
    MS_CHECK(S_ISDIR(sb.st_mode), MS_ERR_IO, "%s exists and is not a directory: move it away",
             path);
    if (renameat2(AT_FDCWD, fresh, AT_FDCWD, path, RENAME_EXCHANGE) != 0)
        return ms_error_set(MS_ERR_IO, "%s: cannot exchange it with %s: %s", path, fresh,
                            strerror(errno));
    sync_dir_of(path);
    remove_flat_dir(fresh); /* now the old one */
    return MS_SUCCESS;
}

void ms_atomic_remove_stale(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    size_t plen = strlen(MS_ATOMIC_TMP_PREFIX);
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, MS_ATOMIC_TMP_PREFIX, plen) != 0) continue;
        char *p = ms_path_join(dir, e->d_name);
        struct stat sb;
        if (p && lstat(p, &sb) == 0) {
            if (S_ISDIR(sb.st_mode)) remove_flat_dir(p);
            else unlink(p);
        }
        free(p);
    }
    closedir(d);
}

size_t ms_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf) n = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) n = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, min = 0x10000;
    else return 0;
    unsigned v = c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    return n;
}

int ms_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t k = ms_utf8_len(p);
        if (!k) return 0;
        p += k;
    }
    return 1;
}

int ms_name_escape(const char *name, char *out, size_t n)
{
    if (!n) return 0;
    const unsigned char *p = (const unsigned char *)name;
    size_t k = 0;
    int escaped = 0;
    while (*p) {
        size_t len = ms_utf8_len(p);
        char piece[8];
        size_t plen;
        if (*p == '\\') {
            memcpy(piece, "\\\\", 2);
            plen = 2;
            len = 1;
            escaped = 1;
        } else if (len == 0 || *p < 0x20 || *p == 0x7f) {
            snprintf(piece, sizeof piece, "\\x%02X", *p);
            plen = 4;
            len = 1;
            escaped = 1;
        } else {
            memcpy(piece, p, len);
            plen = len;
        }
        if (k + plen >= n) break;
        memcpy(out + k, piece, plen);
        k += plen;
        p += len;
    }
    out[k] = '\0';
    return escaped;
}

/* Each prefix of the path in turn, as `mkdir -p` does; upto is the length to create. */
static ms_status mkdir_prefixes(const char *path, size_t upto)
{
    char *p = strndup(path, upto);
    MS_CHECK(p, MS_ERR_NOMEM, "out of memory");
    ms_status st = MS_SUCCESS;
    for (char *s = p + 1; st == MS_SUCCESS; s++) {
        int end = *s == '\0';
        if (!end && *s != '/') continue;
        *s = '\0';
        struct stat sb;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            st = ms_error_set(MS_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
        else if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))
            st = ms_error_set(MS_ERR_IO, "%s: exists and is not a directory", p);
        if (end) break;
        *s = '/';
    }
    free(p);
    return st;
}

ms_status ms_mkdir_p(const char *dir)
{
    MS_CHECK(dir && dir[0], MS_ERR_USAGE, "ms_mkdir_p: directory required");
    return mkdir_prefixes(dir, strlen(dir));
}

ms_status ms_mkdir_parents(const char *path)
{
    MS_CHECK(path && path[0], MS_ERR_USAGE, "ms_mkdir_parents: path required");
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return MS_SUCCESS; /* in the current or the root directory */
    return mkdir_prefixes(path, (size_t)(slash - path));
}
