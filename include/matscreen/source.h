/*
 * Lazy enumeration of screening inputs into tasks.
 *
 * Conventions
 *   - An input spec is one of: a file; a directory (walked recursively, entries in alphasort
 *     order, hidden entries skipped, only files whose format ms_format_detect() recognises); a
 *     glob(3) pattern (matches in glob's sorted order, each match a file or directory); or
 *     "@LIST" where LIST is a text file with one spec per line (blank lines and lines starting
 *     with '#' skipped; lists may not nest deeper than MS_SOURCE_MAX_DEPTH).
 *   - Specs are enumerated in the order given. The sequence of tasks is therefore a pure function
 *     of the specs and the file system, the same on every run and for any number of MPI ranks;
 *     task->seq numbers it from 0 and is the stable ordering key of everything the task yields.
 *   - A task names a whole file, or for JSON Lines files larger than chunk_bytes a byte range
 *     [offset, offset + length) of it: the task owns the records whose first byte lies in the
 *     range (a worker skips the partial line at the start and finishes the line that crosses the
 *     end). The master never opens structure files except to stat them.
 *   - Memory: one scandir listing per directory level on the walk stack, one open list file per
 *     "@" level; never the structures. Only rank 0 enumerates (Not collective).
 *   - Each directory and list file, by (device, inode), is walked once per enumeration: a
 *     symbolic link or "@" line leading back into a directory or list being walked is an error
 *     task naming both ("a cycle"); one met again elsewhere is skipped (ms_source_repeats). So
 *     links cannot make the walk cyclic or exponential. Files are not deduplicated here.
 *   - A FIFO, device or socket is an error task ("not a regular file"), never opened; inside a
 *     directory only when its name looks like a structure file.
 *   - A spec that does not exist or cannot be listed yields an error task (status != MS_SUCCESS,
 *     reason set) so the failure reaches errors.csv instead of stopping the run.
 */
#ifndef MATSCREEN_SOURCE_H
#define MATSCREEN_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/error.h"
#include "matscreen/reader.h"

#define MS_SOURCE_MAX_DEPTH 64 /* directory + list nesting limit (cycles through symlinks stop) */
#define MS_TASK_PATH_MAX 4096  /* path length including NUL */
#define MS_TASK_REASON_MAX 256 /* error text of an error task */

typedef struct ms_task {
    uint64_t seq;                 /* position in the enumeration, from 0: the stable key */
    uint32_t input;               /* index of the command-line spec this task came from */
    ms_format format;             /* format of the file (never MS_FORMAT_AUTO for a good task) */
    long long offset;             /* first byte of a JSONL range; 0 for a whole file */
    long long length;             /* bytes of the range; -1 for the whole file */
    long long size;               /* bytes of work (range length or file size): largest first */
    long long range_skip;         /* 0, or for a part of a split JSON Lines range (farm.c: a
                                     suspect range on resume) the bytes from the range's start
                                     to the part's: its records are numbered from the range's
                                     start, as the whole range numbers them */
    ms_status status;             /* MS_SUCCESS, or why the spec could not be enumerated */
    int64_t mtime_ns;             /* the file's modification time from the enumerator's stat
                                     (-1: not known); for the journal's run identity, which
                                     would otherwise stat every file again. Not sent to workers */
    char reason[MS_TASK_REASON_MAX]; /* message when status != MS_SUCCESS */
    char path[MS_TASK_PATH_MAX];  /* the file */
} ms_task;

typedef struct ms_source_options {
    ms_format format;           /* force a format; MS_FORMAT_AUTO detects per file */
    const ms_format *spec_format; /* NULL, or one entry per spec: a format forced for the files
                                     of that spec only (MS_FORMAT_AUTO there: format applies).
                                     Copied by ms_source_create. */
    long long chunk_bytes;      /* JSONL files larger than this are split; <= 0: never split */
    const char *exclude_dir;    /* NULL, or a directory never walked (the run's own output
                                   directory when it lies inside an input); its identity is
                                   taken by ms_source_create, the string is not kept */
} ms_source_options;

typedef struct ms_source ms_source;

/* Defaults: MS_FORMAT_AUTO, no per-spec formats, chunk_bytes 8 MiB. */
void ms_source_options_default(ms_source_options *opt);

/* Creates an enumerator over specs[0 .. n_specs). The specs are copied. opt may be NULL. On
 * success *out is allocated; the caller frees it with ms_source_free. Not collective. */
ms_status ms_source_create(const char *const *specs, size_t n_specs, const ms_source_options *opt,
                           ms_source **out);

/* Writes the next task into *task and returns 1, or returns 0 when the enumeration is over.
 * Never fails: problems become error tasks (task->status != MS_SUCCESS). Not collective. */
int ms_source_next(ms_source *src, ms_task *task);

/* The path under which opt.exclude_dir was met and skipped, or NULL (not met, or no such
 * directory). */
const char *ms_source_excluded(const ms_source *src);

/* Directories and list files met again, not at a cycle (walked once; their files are not
 * repeated): e.g. "-i d -i d/sub", or two links to one directory. */
uint64_t ms_source_repeats(const ms_source *src);

/* Number of tasks yielded so far. */
uint64_t ms_source_count(const ms_source *src);

/* One enumeration per run (one stat per file): from now on every task ms_source_next returns is
 * also written to a tape, an unnamed temporary file in $TMPDIR (default /tmp; about 100 bytes
 * per task, gone when src is freed or the process dies). ms_source_replay then gives the same
 * tasks again without touching the inputs: the screen enumerates once for the journal's run
 * identity and replays for the farm. Fails when no temporary file can be made (the caller can
 * then enumerate twice). Not collective. */
ms_status ms_source_record(ms_source *src);

/* After ms_source_next returned 0 on a recording source: rewinds it to replay the recorded tasks
 * (same tasks, same order; ms_source_count counts again from 0; the notes of
 * ms_source_excluded and ms_source_repeats stay). Fails on a source that is not recording or
 * not exhausted, or when the tape could not be written or read back (the caller can enumerate
 * again). Not collective. */
ms_status ms_source_replay(ms_source *src);

/* Releases src; NULL is a no-op. */
void ms_source_free(ms_source *src);

/* Name of the spec at index input (as given), or "" when out of range. */
const char *ms_source_spec(const ms_source *src, size_t input);

#endif /* MATSCREEN_SOURCE_H */
