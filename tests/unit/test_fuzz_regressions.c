/*
 * Replays every input that fuzzing ever broke (tests/data/fuzz-regressions/<target>/) through the
 * same entry points as the fuzz targets (tests/fuzz/fuzz_common.h), under the normal test build,
 * so that a crash found once stays fixed.
 *
 * Each input runs in a child process: a crash or a stack overflow is then one failed assertion
 * naming the file, not the end of the test run. An input fails when the child dies by a signal,
 * when the harness's checks report a problem (a formula that is not a formula, a structure with
 * zero volume ...), and, in a build with AddressSanitizer, when LeakSanitizer finds a leak.
 * The folder of a target is named as the target (cif, json, jsonl, poscar, formula, workflow,
 * model, journal); a README or a file starting with '.' is skipped, and so is the folder
 * "pending" (inputs of bugs whose fix is waiting in a file another engineer owns).
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../fuzz/fuzz_loaders.h"
#include "suites.h"
#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define FUZZ_LEAK_CHECK() __lsan_do_recoverable_leak_check()
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#define FUZZ_LEAK_CHECK() __lsan_do_recoverable_leak_check()
#endif
#endif
#ifndef FUZZ_LEAK_CHECK
#define FUZZ_LEAK_CHECK() 0
#endif

/* Until the lead registers the suite in tests/unit/suites.h. */
int ms_suite_fuzz_regressions(void);

typedef int (*fuzz_entry)(const uint8_t *data, size_t n);

static const struct {
    const char *name;
    fuzz_entry run;
} targets[] = {
    {"cif", fuzz_run_cif},         {"json", fuzz_run_json},       {"jsonl", fuzz_run_jsonl},
    {"poscar", fuzz_run_poscar},   {"formula", fuzz_run_formula}, {"workflow", fuzz_run_workflow},
    {"model", fuzz_run_model},     {"journal", fuzz_run_journal}, {"source", fuzz_run_source},
};

static int by_name(const void *a, const void *b)
{
    const char *const *p = a, *const *q = b;
    if (!*p || !*q) return !*p - !*q;
    return strcmp(*p, *q);
}

/* Reads the whole file; NULL on failure. */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0) {
        fclose(f);
        return NULL;
    }
    *n = (size_t)sb.st_size;
    uint8_t *buf = malloc(*n + 1);
    if (buf && fread(buf, 1, *n, f) != *n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* Runs one input in a child. Returns 0 when it passed, else writes why into why. */
static int replay(fuzz_entry run, const char *path, char *why, size_t nwhy)
{
    size_t n = 0;
    uint8_t *data = slurp(path, &n);
    if (!data) {
        snprintf(why, nwhy, "cannot read: %s", strerror(errno));
        return 1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        free(data);
        snprintf(why, nwhy, "fork failed: %s", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        run(data, n);
        free(data);
        if (fuzz_problem) {
            fprintf(stderr, "%s: %s\n", path, fuzz_problem);
            _exit(3);
        }
        _exit(FUZZ_LEAK_CHECK() ? 4 : 0);
    }
    free(data);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
        snprintf(why, nwhy, "killed by signal %d (crash)", WTERMSIG(status));
        return 1;
    }
    switch (WIFEXITED(status) ? WEXITSTATUS(status) : -1) {
    case 0: return 0;
    case 3: snprintf(why, nwhy, "the harness's checks failed (message above)"); return 1;
    case 4: snprintf(why, nwhy, "memory leaked (LeakSanitizer report above)"); return 1;
    default: snprintf(why, nwhy, "exit status %d (sanitizer report above)", WEXITSTATUS(status));
    }
    return 1;
}

/* The regular files of dir, sorted, as one malloc'd array of malloc'd paths; NULL when the
 * folder does not exist. The folder is closed before any input runs, so that a child process
 * holds no directory stream (LeakSanitizer would count it). */
static char **list_inputs(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **paths = NULL;
    size_t cap = 0;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **grown = realloc(paths, cap * sizeof *paths);
            if (!grown) break;
            paths = grown;
        }
        paths[(*n)++] = strdup(path);
    }
    closedir(d);
    qsort(paths, *n, sizeof *paths, by_name);
    return paths;
}

static void test_replay_all(void)
{
    fuzz_init();
    size_t total = 0, failed = 0;
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        char rel[256];
        snprintf(rel, sizeof rel, "fuzz-regressions/%s", targets[t].name);
        size_t n = 0;
        char **paths = list_inputs(ms_test_local(rel), &n);
        for (size_t i = 0; i < n; i++) {
            char why[256];
            if (!paths[i]) continue;
            total++;
            if (replay(targets[t].run, paths[i], why, sizeof why)) {
                failed++;
                fprintf(stderr, "fuzz regression %s: %s\n", paths[i], why);
            }
            free(paths[i]);
        }
        free(paths);
    }
    CU_ASSERT(total > 0); /* the folder is there: the suite must have something to replay */
    CU_ASSERT_EQUAL(failed, 0);
}

int ms_suite_fuzz_regressions(void)
{
    CU_pSuite s = CU_add_suite("fuzz_regressions", NULL, NULL);
    if (!s) return CU_get_error();
    CU_add_test(s, "every input in tests/data/fuzz-regressions is handled", test_replay_all);
    return CU_get_error();
}
