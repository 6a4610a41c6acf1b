/*
 * Crash records (crash.h): a fatal-signal handler that appends the running task's number to a
 * per-rank file. Only async-signal-safe calls inside the handler: write(2) of a number formatted
 * by hand into a static buffer, and sigaction(2) to put the previous handler back.
 */
#include "matscreen/crash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matscreen/array.h"
#include "matscreen/outfile.h"

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define N_FATAL (sizeof fatal_signals / sizeof fatal_signals[0])

static int crash_fd = -1;
static char *crash_path;
static struct sigaction previous[N_FATAL];
static volatile sig_atomic_t running; /* 1 while a task runs */
static volatile uint64_t current;      /* that task (written before running is set) */

static void on_fatal(int sig)
{
    if (running && crash_fd >= 0) {
        char buf[24];
        size_t k = sizeof buf;
        buf[--k] = '\n';
        uint64_t v = current;
        do {
            buf[--k] = (char)('0' + v % 10);
            v /= 10;
        } while (v && k > 0);
        ssize_t w = write(crash_fd, buf + k, sizeof buf - k);
        (void)w; /* nothing more can be done in a dying process */
    }
    /* the previous disposition (default, a debugger's or a sanitizer's) handles the signal:
     * re-raised now, delivered when this handler returns (a fault re-executes and faults again) */
    for (size_t i = 0; i < N_FATAL; i++)
        if (fatal_signals[i] == sig) sigaction(sig, &previous[i], NULL);
    raise(sig);
}

void ms_crash_watch(const char *dir, int rank)
{
    if (crash_fd >= 0 || !dir) return;
    char name[48];
    snprintf(name, sizeof name, MS_CRASH_PREFIX "%d", rank);
    crash_path = ms_path_join(dir, name);
    if (!crash_path) return;
    crash_fd = open(crash_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (crash_fd < 0) {
        free(crash_path);
        crash_path = NULL;
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_FATAL; i++) sigaction(fatal_signals[i], &sa, &previous[i]);
}

void ms_crash_task(uint64_t seq)
{
    running = 0;
    current = seq;
    running = 1;
}

void ms_crash_task_done(void)
{
    running = 0;
}

void ms_crash_unwatch(void)
{
    if (crash_fd < 0) return;
    for (size_t i = 0; i < N_FATAL; i++) sigaction(fatal_signals[i], &previous[i], NULL);
    struct stat sb;
    int empty = fstat(crash_fd, &sb) == 0 && sb.st_size == 0;
    close(crash_fd);
    crash_fd = -1;
    running = 0;
    if (empty) unlink(crash_path);
    free(crash_path);
    crash_path = NULL;
}

/* Calls fn(path, user) for every DIR/.crash-* regular file. */
static ms_status for_crash_files(const char *dir, ms_status (*fn)(const char *, void *), void *user)
{
    DIR *d = opendir(dir);
    if (!d) return MS_SUCCESS; /* no directory yet: nothing recorded */
    ms_status st = MS_SUCCESS;
    for (struct dirent *e; st == MS_SUCCESS && (e = readdir(d));) {
        if (strncmp(e->d_name, MS_CRASH_PREFIX, strlen(MS_CRASH_PREFIX)) != 0) continue;
        char *p = ms_path_join(dir, e->d_name);
        st = p ? fn(p, user) : ms_error_set(MS_ERR_NOMEM, "out of memory");
        free(p);
    }
    closedir(d);
    return st;
}

typedef struct {
    uint64_t *seqs;
    size_t n, cap;
} seq_list;

static ms_status read_one(const char *path, void *user)
{
    seq_list *l = user;
    struct stat sb;
    if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return MS_SUCCESS;
    FILE *f = fopen(path, "r");
    if (!f) return MS_SUCCESS;
    ms_status st = MS_SUCCESS;
    char line[64];
    while (st == MS_SUCCESS && fgets(line, sizeof line, f)) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(line, &end, 10);
        if (end == line || *end != '\n' || errno) continue; /* torn or foreign: skipped */
        st = ms_array_reserve(&l->seqs, &l->cap, l->n + 1, sizeof *l->seqs, 8);
        if (st == MS_SUCCESS) l->seqs[l->n++] = (uint64_t)v;
    }
    fclose(f);
    return st;
}

ms_status ms_crash_collect(const char *dir, uint64_t **seqs, size_t *n)
{
    seq_list l = {NULL, 0, 0};
    ms_status st = for_crash_files(dir, read_one, &l);
    if (st != MS_SUCCESS) {
        free(l.seqs);
        l.seqs = NULL;
        l.n = 0;
    }
    *seqs = l.seqs;
    *n = l.n;
    return st;
}

static ms_status remove_one(const char *path, void *user)
{
    (void)user;
    unlink(path);
    return MS_SUCCESS;
}

void ms_crash_clear(const char *dir)
{
    for_crash_files(dir, remove_one, NULL);
}
