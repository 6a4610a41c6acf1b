/*
 * Lazy enumeration of screening inputs (see source.h): a stack of frames, each a cursor into one
 * level of the walk (the spec list, an "@" list file, a glob result, a directory listing, or the
 * chunks of a large JSON Lines file). ms_source_next advances the top frame until a task falls out.
 */
#include "matscreen/source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matscreen/file_read.h"
#include "matscreen/sysio.h"

typedef enum { FRAME_SPECS, FRAME_LIST, FRAME_GLOB, FRAME_DIR, FRAME_CHUNKS } frame_kind;

typedef struct frame {
    frame_kind kind;
    size_t i, n;
    FILE *list;              /* FRAME_LIST */
    glob_t gl;               /* FRAME_GLOB */
    struct dirent **names;   /* FRAME_DIR */
    char *path;              /* FRAME_DIR directory, FRAME_CHUNKS file, FRAME_LIST file */
    long long size, next;    /* FRAME_CHUNKS */
    int64_t mtime_ns;        /* FRAME_CHUNKS: the file's, for every range */
    dev_t dev;               /* FRAME_DIR, FRAME_LIST: identity, for cycles */
    ino_t ino;
} frame;

/* (device, inode) of a directory or list file already walked: each is walked once per run, so
 * symbolic links cannot make the walk cyclic or exponential. */
typedef struct {
    dev_t dev;
    ino_t ino;
    int used;
} seen_key;

struct ms_source {
    ms_source_options opt;      /* opt.spec_format points at our copy, spec_format */
    ms_format *spec_format;     /* NULL or n_specs entries */
    char **specs;
    size_t n_specs;
    frame stack[MS_SOURCE_MAX_DEPTH];
    size_t depth;
    uint32_t input;
    uint64_t seq;
    char *line;
    size_t line_cap;
    seen_key *seen; /* open addressing, cap_seen a power of two */
    size_t n_seen, cap_seen;
    int have_exclude; /* opt.exclude_dir exists: its identity */
    dev_t ex_dev;
    ino_t ex_ino;
    char *excluded; /* path under which it was met, once met */
    uint64_t repeats;
    FILE *tape;     /* ms_source_record: the tasks yielded, for ms_source_replay */
    int replaying;  /* tasks come from the tape */
    int tape_bad;   /* a write to the tape failed */
    uint64_t recorded; /* tasks written to the tape */
    int dir_fd;        /* O_PATH descriptor of dir_path, -1 none (stat_path) */
    char *dir_path;
};

void ms_source_options_default(ms_source_options *opt)
{
    opt->format = MS_FORMAT_AUTO;
    opt->spec_format = NULL;
    opt->chunk_bytes = 8LL << 20;
    opt->exclude_dir = NULL;
}

static size_t seen_slot(const seen_key *tab, size_t cap, dev_t dev, ino_t ino)
{
    uint64_t h = ((uint64_t)dev * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)ino * 0xC2B2AE3D27D4EB4FULL);
    size_t i = (size_t)(h ^ (h >> 29)) & (cap - 1);
    while (tab[i].used && !(tab[i].dev == dev && tab[i].ino == ino))
        i = (i + 1) & (cap - 1);
    return i;
}

/* 1 when (dev, ino) was seen before; else records it and returns 0 (-1: out of memory). */
static int seen_add(ms_source *src, dev_t dev, ino_t ino)
{
    if (2 * (src->n_seen + 1) > src->cap_seen) {
        size_t cap = src->cap_seen ? 2 * src->cap_seen : 64;
        seen_key *tab = calloc(cap, sizeof *tab);
        if (!tab) return -1;
        for (size_t i = 0; i < src->cap_seen; i++)
            if (src->seen[i].used)
                tab[seen_slot(tab, cap, src->seen[i].dev, src->seen[i].ino)] = src->seen[i];
        free(src->seen);
        src->seen = tab;
        src->cap_seen = cap;
    }
    size_t i = seen_slot(src->seen, src->cap_seen, dev, ino);
    if (src->seen[i].used) return 1;
    src->seen[i] = (seen_key){dev, ino, 1};
    src->n_seen++;
    return 0;
}

static void frame_release(frame *f)
{
    if (f->kind == FRAME_LIST && f->list) fclose(f->list);
    if (f->kind == FRAME_GLOB) globfree(&f->gl);
    if (f->kind == FRAME_DIR) {
        for (size_t k = f->i; k < f->n; k++) free(f->names[k]);
        free(f->names);
    }
    free(f->path);
    memset(f, 0, sizeof *f);
}

void ms_source_free(ms_source *src)
{
    if (!src) return;
    while (src->depth > 0) frame_release(&src->stack[--src->depth]);
    for (size_t i = 0; i < src->n_specs; i++) free(src->specs[i]);
    free(src->specs);
    free(src->spec_format);
    free(src->line);
    free(src->seen);
    free(src->excluded);
    if (src->tape) fclose(src->tape);
    if (src->dir_fd >= 0) close(src->dir_fd);
    free(src->dir_path);
    free(src);
}

ms_status ms_source_create(const char *const *specs, size_t n_specs, const ms_source_options *opt,
                           ms_source **out)
{
    MS_CHECK(out && (specs || n_specs == 0), MS_ERR_USAGE, "ms_source_create: bad arguments");
    *out = NULL;
    ms_source *src = calloc(1, sizeof *src);
    MS_CHECK(src, MS_ERR_NOMEM, "cannot allocate a source enumerator");
    src->dir_fd = -1;
    if (opt) src->opt = *opt;
    else ms_source_options_default(&src->opt);
    /* Tests make small JSON Lines files split (and their ranges split again on resume, farm.c). */
    const char *cb = getenv("MATSCREEN_CHUNK_BYTES");
    if (cb && *cb && src->opt.chunk_bytes > 0) {
        char *end;
        errno = 0;
        long long v = strtoll(cb, &end, 10);
        if (errno || *end || v <= 0) {
            ms_source_free(src);
            return ms_error_set(MS_ERR_USAGE, "MATSCREEN_CHUNK_BYTES=%s: not a positive number of "
                                "bytes", cb);
        }
        src->opt.chunk_bytes = v;
    }
    src->specs = calloc(n_specs ? n_specs : 1, sizeof *src->specs);
    if (!src->specs) {
        ms_source_free(src);
        return ms_error_set(MS_ERR_NOMEM, "cannot allocate a source enumerator");
    }
    src->n_specs = n_specs;
    for (size_t i = 0; i < n_specs; i++) {
        if (!(src->specs[i] = strdup(specs[i]))) {
            ms_source_free(src);
            return ms_error_set(MS_ERR_NOMEM, "cannot copy input names");
        }
    }
    if (src->opt.spec_format) {
        if (!(src->spec_format = malloc((n_specs ? n_specs : 1) * sizeof *src->spec_format))) {
            ms_source_free(src);
            return ms_error_set(MS_ERR_NOMEM, "cannot copy input formats");
        }
        if (n_specs)
            memcpy(src->spec_format, src->opt.spec_format, n_specs * sizeof *src->spec_format);
        src->opt.spec_format = src->spec_format;
    }
    struct stat xb;
    if (src->opt.exclude_dir && stat(src->opt.exclude_dir, &xb) == 0 && S_ISDIR(xb.st_mode)) {
        src->have_exclude = 1;
        src->ex_dev = xb.st_dev;
        src->ex_ino = xb.st_ino;
    }
    src->opt.exclude_dir = NULL; /* not copied: only its identity is kept */
    src->stack[0].kind = FRAME_SPECS;
    src->stack[0].n = n_specs;
    src->depth = 1;
    *out = src;
    return MS_SUCCESS;
}

uint64_t ms_source_count(const ms_source *src) { return src ? src->seq : 0; }

const char *ms_source_excluded(const ms_source *src) { return src ? src->excluded : NULL; }

uint64_t ms_source_repeats(const ms_source *src) { return src ? src->repeats : 0; }

const char *ms_source_spec(const ms_source *src, size_t input)
{
    return (src && input < src->n_specs) ? src->specs[input] : "";
}

/* The format forced on the files of the current spec (its own, else the global one), or
 * MS_FORMAT_AUTO: detect per file. */
static ms_format forced_format(const ms_source *src)
{
    ms_format own = src->spec_format && src->input < src->n_specs ? src->spec_format[src->input]
                                                                 : MS_FORMAT_AUTO;
    if (own != MS_FORMAT_AUTO) return own;
    return src->opt.format;
}

/* Fills the common fields of a task and numbers it. */
static int emit(ms_source *src, ms_task *t, const char *path, ms_format format, long long offset,
                long long length, long long size)
{
    memset(t, 0, offsetof(ms_task, reason));
    t->mtime_ns = -1;
    t->seq = src->seq++;
    t->input = src->input;
    t->format = format;
    t->offset = offset;
    t->length = length;
    t->size = size;
    t->status = MS_SUCCESS;
    t->reason[0] = '\0';
    snprintf(t->path, sizeof t->path, "%s", path);
    return 1;
}

static int emit_error(ms_source *src, ms_task *t, const char *path, ms_status status,
                      const char *fmt, const char *detail)
{
    emit(src, t, path, MS_FORMAT_AUTO, 0, -1, 0);
    t->status = status;
    snprintf(t->reason, sizeof t->reason, fmt, path, detail ? detail : "");
    return 1;
}

static frame *push(ms_source *src, frame_kind kind)
{
    if (src->depth >= MS_SOURCE_MAX_DEPTH) return NULL;
    frame *f = &src->stack[src->depth++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    return f;
}

static int next_chunk(ms_source *src, frame *f, ms_task *t)
{
    long long len = src->opt.chunk_bytes;
    if (len > f->size - f->next) len = f->size - f->next;
    emit(src, t, f->path, MS_FORMAT_JSONL, f->next, len, len);
    t->mtime_ns = f->mtime_ns;
    f->next += len;
    return 1;
}

static int64_t mtime_of(const struct stat *sb)
{
    return (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

/* A file (sb: its stat): one task, or a chunk frame for a large JSON Lines file. */
static int handle_file(ms_source *src, const char *path, const struct stat *sb, ms_task *t)
{
    long long size = (long long)sb->st_size;
    ms_format format = forced_format(src);
    if (format == MS_FORMAT_AUTO) format = ms_format_detect(path);
    if (format == MS_FORMAT_JSONL && src->opt.chunk_bytes > 0 && size > src->opt.chunk_bytes) {
        frame *f = push(src, FRAME_CHUNKS);
        if (!f || !(f->path = strdup(path))) {
            if (f) src->depth--;
            return emit_error(src, t, path, MS_ERR_LIMIT, "%s: cannot split%s", " (nesting or memory)");
        }
        f->size = size;
        f->mtime_ns = mtime_of(sb);
        return next_chunk(src, f, t);
    }
    emit(src, t, path, format, 0, -1, size);
    t->mtime_ns = mtime_of(sb);
    return 1;
}

static int skip_hidden(const struct dirent *e) { return e->d_name[0] != '.'; }

/* The frame on the walk stack (a directory or list being walked) that is (dev, ino), or NULL. */
static const frame *ancestor(const ms_source *src, dev_t dev, ino_t ino)
{
    for (size_t k = src->depth; k-- > 0;) {
        const frame *f = &src->stack[k];
        if ((f->kind == FRAME_DIR || f->kind == FRAME_LIST) && f->dev == dev && f->ino == ino)
            return f;
    }
    return NULL;
}

/* Whether the directory or list (dev, ino) at path is walked: 0 yes; 1 with *t an error task
 * (a cycle back into a directory or list being walked); 2 skip quietly (walked already, or the
 * run's own output directory). */
static int check_walk(ms_source *src, const char *path, dev_t dev, ino_t ino, ms_task *t)
{
    if (src->have_exclude && dev == src->ex_dev && ino == src->ex_ino) {
        if (!src->excluded) src->excluded = strdup(path);
        return 2;
    }
    const frame *up = ancestor(src, dev, ino);
    if (up) {
        emit_error(src, t, path, MS_ERR_INVALID,
                   "%s: a cycle: this is %s again (a symbolic link "
                   "or list that leads back to itself): not walked again",
                   up->path);
        return 1;
    }
    int r = seen_add(src, dev, ino);
    if (r < 0) {
        emit_error(src, t, path, MS_ERR_NOMEM, "%s: out of memory%s", NULL);
        return 1;
    }
    if (r) src->repeats++;
    return r ? 2 : 0;
}

/* stat(path) (0, or -1 with errno), resolving the directory part once for a run of paths in one
 * directory (a directory's entries, a list of files in one place): the kernel then looks up the
 * last name only, where a full path lookup of every file was most of the enumeration's time.
 * Same answer as stat: links in the last name are followed, a missing directory fails alike. */
static int stat_path(ms_source *src, const char *path, struct stat *sb)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path || !slash[1]) return stat(path, sb);
    size_t dl = (size_t)(slash - path);
    if (src->dir_fd < 0 || strncmp(src->dir_path, path, dl) != 0 || src->dir_path[dl] != '\0') {
        if (src->dir_fd >= 0) close(src->dir_fd);
        free(src->dir_path);
        src->dir_path = strndup(path, dl);
        src->dir_fd = src->dir_path ? open(src->dir_path, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
        if (src->dir_fd < 0) {
            free(src->dir_path);
            src->dir_path = NULL;
            return stat(path, sb);
        }
    }
    return fstatat(src->dir_fd, slash + 1, sb, 0);
}

/* A path named explicitly (spec, list line, glob match): file, directory or error. */
static int handle_path(ms_source *src, const char *path, ms_task *t)
{
    struct stat sb;
    if (stat_path(src, path, &sb) != 0)
        return emit_error(src, t, path, errno == ENOENT ? MS_ERR_NOT_FOUND : MS_ERR_IO, "%s: %s",
                          errno == ENOENT ? "no such file or directory" : strerror(errno));
    if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode))
        return emit_error(src, t, path, MS_ERR_IO, "%s: not a regular file (%s): not read",
                          ms_file_type_name(sb.st_mode));
    if (!S_ISDIR(sb.st_mode)) return handle_file(src, path, &sb, t);
    int w = check_walk(src, path, sb.st_dev, sb.st_ino, t);
    if (w) return w == 1;
    frame *f = push(src, FRAME_DIR);
    if (!f) return emit_error(src, t, path, MS_ERR_LIMIT, "%s: directories nested too deep%s", NULL);
    int n = scandir(path, &f->names, skip_hidden, alphasort);
    f->path = strdup(path);
    if (n < 0 || !f->path) {
        if (n >= 0) {
            for (int k = 0; k < n; k++) free(f->names[k]);
        }
        f->n = 0;
        frame_release(f);
        src->depth--;
        return emit_error(src, t, path, MS_ERR_IO, "%s: cannot list directory%s", NULL);
    }
    f->n = (size_t)n;
    f->dev = sb.st_dev;
    f->ino = sb.st_ino;
    return 0;
}

static int handle_spec(ms_source *src, const char *spec, ms_task *t)
{
    if (spec[0] == '@') {
        FILE *list;
        if (ms_open_regular(spec + 1, 0, &list, NULL) != MS_SUCCESS) {
            const char *m = ms_error_message(); /* "<path>: why": the path is said once */
            size_t pl = strlen(spec + 1);
            if (!strncmp(m, spec + 1, pl) && !strncmp(m + pl, ": ", 2)) m += pl + 2;
            return emit_error(src, t, spec + 1, MS_ERR_IO, "%s: cannot read the list file: %s", m);
        }
        struct stat lb;
        int w =
            fstat(fileno(list), &lb) == 0 ? check_walk(src, spec + 1, lb.st_dev, lb.st_ino, t) : 0;
        if (w) {
            fclose(list);
            return w == 1;
        }
        frame *f = push(src, FRAME_LIST);
        if (!f) {
            fclose(list);
            return emit_error(src, t, spec + 1, MS_ERR_LIMIT, "%s: lists nested too deep%s", NULL);
        }
        f->list = list;
        f->dev = lb.st_dev;
        f->ino = lb.st_ino;
        if (!(f->path = strdup(spec + 1))) {
            frame_release(f);
            src->depth--;
            return emit_error(src, t, spec + 1, MS_ERR_NOMEM, "%s: out of memory%s", NULL);
        }
        return 0;
    }
    struct stat sb;
    if (strpbrk(spec, "*?[") && stat(spec, &sb) != 0) {
        frame *f = push(src, FRAME_GLOB);
        if (!f) return emit_error(src, t, spec, MS_ERR_LIMIT, "%s: nested too deep%s", NULL);
        int rc = glob(spec, 0, NULL, &f->gl);
        if (rc != 0) {
            if (rc != GLOB_NOMATCH) globfree(&f->gl);
            memset(f, 0, sizeof *f);
            src->depth--;
            return emit_error(src, t, spec, MS_ERR_NOT_FOUND, "%s: %s", rc == GLOB_NOMATCH ?
                              "pattern matches no file" : "pattern cannot be expanded");
        }
        f->n = f->gl.gl_pathc;
        return 0;
    }
    return handle_path(src, spec, t);
}

static int next_walk(ms_source *src, ms_task *t)
{
    while (src->depth > 0) {
        frame *f = &src->stack[src->depth - 1];
        switch (f->kind) {
        case FRAME_SPECS:
            if (f->i >= f->n) {
                src->depth--;
                break;
            }
            src->input = (uint32_t)f->i;
            if (handle_spec(src, src->specs[f->i++], t)) return 1;
            break;
        case FRAME_LIST: {
            ssize_t len = getline(&src->line, &src->line_cap, f->list);
            if (len < 0) {
                frame_release(f);
                src->depth--;
                break;
            }
            while (len > 0 && (src->line[len - 1] == '\n' || src->line[len - 1] == '\r' ||
                               src->line[len - 1] == ' ' || src->line[len - 1] == '\t'))
                src->line[--len] = '\0';
            char *p = src->line;
            while (*p == ' ' || *p == '\t') p++;
            if (*p == '\0' || *p == '#') break;
            if (handle_spec(src, p, t)) return 1;
            break;
        }
        case FRAME_GLOB:
            if (f->i >= f->n) {
                frame_release(f);
                src->depth--;
                break;
            }
        {
            const char *m = f->gl.gl_pathv[f->i++], *base = strrchr(m, '/');
            base = base ? base + 1 : m;
            /* glob(3) lets `dir/.*` match `dir/.` and `dir/..`: walking them would screen the
             * directory again and its parent (bash 5.2 skips them too) */
            if (!strcmp(base, ".") || !strcmp(base, "..")) break;
            if (handle_path(src, m, t)) return 1;
            break;
        }
        case FRAME_DIR: {
            if (f->i >= f->n) {
                frame_release(f);
                src->depth--;
                break;
            }
            struct dirent *e = f->names[f->i];
            f->names[f->i++] = NULL;
            char child[MS_TASK_PATH_MAX];
            int w = snprintf(child, sizeof child, "%s/%s", f->path, e->d_name);
            free(e);
            if (w < 0 || (size_t)w >= sizeof child) {
                child[0] = '\0';
                return emit_error(src, t, f->path, MS_ERR_LIMIT, "%s: an entry's path is too long%s",
                                  NULL);
            }
            struct stat sb;
            int bad = stat_path(src, child, &sb) != 0 ? errno : 0;
            if (!bad && S_ISDIR(sb.st_mode)) {
                if (handle_path(src, child, t)) return 1;
                break;
            }
            /* Inside directories only files that look like structures (licences stay quiet).
             * Sniffing opens without blocking (ms_open_regular), so a FIFO is never read; a
             * broken or looping link with a structure's name is an error row, not silence. */
            ms_format format = forced_format(src);
            if (format == MS_FORMAT_AUTO) format = ms_format_detect(child);
            if (bad == ELOOP || (bad && format != MS_FORMAT_AUTO))
                return emit_error(src, t, child, MS_ERR_IO, "%s: %s", strerror(bad));
            if (bad || format == MS_FORMAT_AUTO) break;
            if (!S_ISREG(sb.st_mode))
                return emit_error(src, t, child, MS_ERR_IO, "%s: not a regular file (%s): not read",
                                  ms_file_type_name(sb.st_mode));
            if (handle_file(src, child, &sb, t)) return 1;
            break;
        }
        case FRAME_CHUNKS:
            if (f->next >= f->size) {
                frame_release(f);
                src->depth--;
                break;
            }
            return next_chunk(src, f, t);
        }
    }
    return 0;
}

/* ---- tape: one enumeration per run --------------------------------------------------------- */

/* A task on the tape: this header, then reason_len and path_len bytes. */
typedef struct tape_head {
    uint64_t seq;
    int64_t offset, length, size, mtime_ns;
    uint32_t input;
    int32_t format, status;
    uint16_t reason_len, path_len;
} tape_head;

static void tape_write(ms_source *src, const ms_task *t)
{
    tape_head h;
    memset(&h, 0, sizeof h);
    h.seq = t->seq;
    h.offset = t->offset;
    h.length = t->length;
    h.size = t->size;
    h.mtime_ns = t->mtime_ns;
    h.input = t->input;
    h.format = (int32_t)t->format;
    h.status = (int32_t)t->status;
    h.reason_len = (uint16_t)strnlen(t->reason, sizeof t->reason - 1);
    h.path_len = (uint16_t)strnlen(t->path, sizeof t->path - 1);
    if (fwrite(&h, sizeof h, 1, src->tape) != 1 ||
        fwrite(t->reason, 1, h.reason_len, src->tape) != h.reason_len ||
        fwrite(t->path, 1, h.path_len, src->tape) != h.path_len)
        src->tape_bad = 1;
}

/* The tape could not be read back before its end: one error task says so (the rest of the
 * inputs are not screened, and the run's output shows it), then the enumeration ends. */
static int tape_lost(ms_source *src, ms_task *t)
{
    src->replaying = 2;
    src->tape_bad = 1;
    char detail[64];
    snprintf(detail, sizeof detail, " (%llu of %llu tasks not screened; run again)",
             (unsigned long long)(src->recorded - src->seq), (unsigned long long)src->recorded);
    return emit_error(src, t, "temporary task list", MS_ERR_IO, "%s: cannot be read back%s",
                      detail);
}

/* The next task from the tape: 1, or 0 at its end. */
static int tape_read(ms_source *src, ms_task *t)
{
    if (src->replaying == 2 || src->seq >= src->recorded) return 0;
    tape_head h;
    if (fread(&h, sizeof h, 1, src->tape) != 1 || h.reason_len >= sizeof t->reason ||
        h.path_len >= sizeof t->path || h.seq != src->seq ||
        fread(t->reason, 1, h.reason_len, src->tape) != h.reason_len ||
        fread(t->path, 1, h.path_len, src->tape) != h.path_len)
        return tape_lost(src, t);
    t->reason[h.reason_len] = '\0';
    t->path[h.path_len] = '\0';
    t->seq = h.seq;
    t->offset = h.offset;
    t->length = h.length;
    t->size = h.size;
    t->range_skip = 0;
    t->mtime_ns = h.mtime_ns;
    t->input = h.input;
    t->format = (ms_format)h.format;
    t->status = (ms_status)h.status;
    src->input = h.input;
    src->seq = h.seq + 1;
    return 1;
}

int ms_source_next(ms_source *src, ms_task *t)
{
    if (!src) return 0;
    if (src->replaying) return tape_read(src, t);
    int got = next_walk(src, t);
    if (got && src->tape) {
        tape_write(src, t);
        src->recorded++;
    }
    return got;
}

ms_status ms_source_record(ms_source *src)
{
    MS_CHECK(src && !src->tape && src->seq == 0, MS_ERR_USAGE,
             "ms_source_record: a new source is required");
    const char *dir = ms_tmp_dir();
    int fd = ms_unnamed_tmpfile(dir); /* unnamed: nothing to clean up */
    FILE *f = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    if (!f && fd >= 0) close(fd);
    MS_CHECK(f, MS_ERR_IO, "%s: cannot create the temporary task list: %s", dir, strerror(errno));
    src->tape = f;
    return MS_SUCCESS;
}

ms_status ms_source_replay(ms_source *src)
{
    MS_CHECK(src && src->tape && !src->replaying && src->depth == 0, MS_ERR_USAGE,
             "ms_source_replay: an exhausted recording source is required");
    MS_CHECK(!src->tape_bad && fflush(src->tape) == 0 && !ferror(src->tape), MS_ERR_IO,
             "cannot write the temporary task list: %s", strerror(errno ? errno : EIO));
    MS_CHECK(fseeko(src->tape, 0, SEEK_SET) == 0, MS_ERR_IO,
             "cannot read back the temporary task list: %s", strerror(errno));
    src->replaying = 1;
    src->seq = 0;
    return MS_SUCCESS;
}
