/* Tests of the lazy source enumeration: directories in sorted order, globs, @lists, missing
 * inputs as error tasks, JSON Lines byte-range chunks covering the file exactly. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matscreen/source.h"
#include "suites.h"
#include "test_util.h"

static char root[256];

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int setup(void)
{
    snprintf(root, sizeof root, "/tmp/ms_test_source_XXXXXX");
    if (!mkdtemp(root)) return 1;
    char path[512];
    snprintf(path, sizeof path, "%s/d", root);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/d/sub", root);
    mkdir(path, 0777);
    write_file("d/b.cif", "data_b\n");
    write_file("d/a.cif", "data_a\n");
    write_file("d/.hidden.cif", "data_h\n");
    write_file("d/LICENSE", "not a structure\n");
    write_file("d/sub/c.json", "{}\n");
    write_file("d/Z.vasp", "x\n");
    return 0;
}

static int teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : 1;
}

/* Collects the tasks of specs as "path|status" lines relative to root. */
static size_t collect(const char *const *specs, size_t n, const ms_source_options *opt,
                      ms_task *out, size_t cap)
{
    ms_source *src = NULL;
    if (ms_source_create(specs, n, opt, &src) != MS_SUCCESS) return 0;
    size_t k = 0;
    ms_task t;
    while (k < cap && ms_source_next(src, &t)) out[k++] = t;
    CU_ASSERT_EQUAL(ms_source_count(src), k);
    ms_source_free(src);
    return k;
}

static const char *rel(const ms_task *t) { return t->path + strlen(root) + 1; }

static void test_directory_sorted_recursive(void)
{
    char d[300];
    snprintf(d, sizeof d, "%s/d", root);
    const char *specs[] = {d};
    static ms_task t[16];
    size_t n = collect(specs, 1, NULL, t, 16);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    /* alphasort order; hidden files and files of unknown format skipped */
    CU_ASSERT_STRING_EQUAL(rel(&t[0]), "d/Z.vasp");
    CU_ASSERT_STRING_EQUAL(rel(&t[1]), "d/a.cif");
    CU_ASSERT_STRING_EQUAL(rel(&t[2]), "d/b.cif");
    CU_ASSERT_STRING_EQUAL(rel(&t[3]), "d/sub/c.json");
    CU_ASSERT_EQUAL(t[1].format, MS_FORMAT_CIF);
    CU_ASSERT_EQUAL(t[3].format, MS_FORMAT_JSON);
    CU_ASSERT_EQUAL(t[1].size, 7);
    CU_ASSERT_EQUAL(t[1].length, -1);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(t[i].seq, i);
        CU_ASSERT_EQUAL(t[i].status, MS_SUCCESS);
    }
}

static void test_glob_list_and_missing(void)
{
    char g[300], list[300], listspec[310], missing[300], nomatch[300];
    snprintf(g, sizeof g, "%s/d/*.cif", root);
    snprintf(list, sizeof list, "%s/list.txt", root);
    snprintf(listspec, sizeof listspec, "@%s", list);
    snprintf(missing, sizeof missing, "%s/nope.cif", root);
    snprintf(nomatch, sizeof nomatch, "%s/d/*.xyz", root);
    FILE *f = fopen(list, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "# comment\n\n  %s/d/sub/c.json  \n%s/d/LICENSE\n", root, root);
    fclose(f);
    const char *specs[] = {g, listspec, missing, nomatch};
    static ms_task t[16];
    size_t n = collect(specs, 4, NULL, t, 16);
    CU_ASSERT_EQUAL_FATAL(n, 6);
    CU_ASSERT_STRING_EQUAL(rel(&t[0]), "d/a.cif");
    CU_ASSERT_STRING_EQUAL(rel(&t[1]), "d/b.cif");
    CU_ASSERT_EQUAL(t[0].input, 0);
    CU_ASSERT_STRING_EQUAL(rel(&t[2]), "d/sub/c.json");
    CU_ASSERT_EQUAL(t[2].input, 1);
    /* a file named explicitly is a task even when its format is unknown: the reader reports it */
    CU_ASSERT_STRING_EQUAL(rel(&t[3]), "d/LICENSE");
    CU_ASSERT_EQUAL(t[3].format, MS_FORMAT_AUTO);
    CU_ASSERT_EQUAL(t[4].status, MS_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(t[4].reason, "nope.cif"));
    CU_ASSERT_EQUAL(t[4].input, 2);
    CU_ASSERT_EQUAL(t[5].status, MS_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(t[5].reason, "matches no file"));
    const char *bad_list[] = {"@/nonexistent/list.txt"};
    n = collect(bad_list, 1, NULL, t, 16);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(t[0].status, MS_ERR_IO);
}

static void test_jsonl_chunks_cover_file(void)
{
    const char *path = ms_test_local("json/mp_records.jsonl");
    struct stat sb;
    CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
    ms_source_options opt;
    ms_source_options_default(&opt);
    CU_ASSERT_EQUAL(opt.chunk_bytes, 8LL << 20);
    opt.chunk_bytes = 3917; /* not a line boundary on purpose */
    const char *specs[] = {path};
    static ms_task t[64];
    size_t n = collect(specs, 1, &opt, t, 64);
    CU_ASSERT_EQUAL(n, (size_t)((sb.st_size + opt.chunk_bytes - 1) / opt.chunk_bytes));
    long long next = 0;
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(t[i].format, MS_FORMAT_JSONL);
        CU_ASSERT_EQUAL(t[i].offset, next);
        CU_ASSERT(t[i].length > 0 && t[i].length <= opt.chunk_bytes);
        CU_ASSERT_EQUAL(t[i].size, t[i].length);
        next += t[i].length;
    }
    CU_ASSERT_EQUAL(next, (long long)sb.st_size);
    /* without splitting: one whole-file task */
    opt.chunk_bytes = 0;
    n = collect(specs, 1, &opt, t, 64);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(t[0].length, -1);
}

/* Issue #18 items 7, 8, 10, 17: links back into the walk are error tasks, not 40 rereads; two
 * links to "." and a list naming itself stay linear; a FIFO is an error task, never opened; the
 * excluded directory is skipped and reported. */
static void test_cycles_fifos_exclude(void)
{
    char w[300], p[400], list[400], listspec[410];
    snprintf(w, sizeof w, "%s/w", root);
    mkdir(w, 0777);
    write_file("w/x.cif", "data_x\n");
    mkdir(strcat(strcpy(p, w), "/out"), 0777);
    write_file("w/out/top.cif", "data_t\n");
    CU_ASSERT_EQUAL(symlink(".", strcat(strcpy(p, w), "/loop")), 0);
    CU_ASSERT_EQUAL(symlink(".", strcat(strcpy(p, w), "/loop2")), 0);
    CU_ASSERT_EQUAL(mkfifo(strcat(strcpy(p, w), "/pipe.cif"), 0666), 0);
    CU_ASSERT_EQUAL(mkfifo(strcat(strcpy(p, w), "/pipe_unknown"), 0666), 0);
    snprintf(list, sizeof list, "%s/self.txt", w);
    snprintf(listspec, sizeof listspec, "@%s", list);
    FILE *f = fopen(list, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "%s\n%s\n%s/x.cif\n", listspec, listspec, w);
    fclose(f);

    ms_source_options opt;
    ms_source_options_default(&opt);
    char out[400];
    snprintf(out, sizeof out, "%s/out", w);
    opt.exclude_dir = out;
    const char *specs[] = {w, w};
    static ms_task t[16];
    ms_source *src = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_source_create(specs, 2, &opt, &src), MS_SUCCESS);
    size_t n = 0;
    while (n < 16 && ms_source_next(src, &t[n]))
        n++;
    /* loop, loop2: cycle rows; out: skipped; pipe.cif: error; pipe_unknown: quiet; x.cif once;
     * the second spec names the same directory: walked once, counted */
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_STRING_EQUAL(rel(&t[0]), "w/loop");
    CU_ASSERT_EQUAL(t[0].status, MS_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(t[0].reason, "a cycle"));
    CU_ASSERT_STRING_EQUAL(rel(&t[1]), "w/loop2");
    CU_ASSERT_EQUAL(t[1].status, MS_ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(rel(&t[2]), "w/pipe.cif");
    CU_ASSERT_EQUAL(t[2].status, MS_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(t[2].reason, "not a regular file (a FIFO"));
    CU_ASSERT_STRING_EQUAL(rel(&t[3]), "w/x.cif");
    CU_ASSERT_EQUAL(t[3].status, MS_SUCCESS);
    CU_ASSERT_PTR_NOT_NULL(ms_source_excluded(src));
    CU_ASSERT_EQUAL(ms_source_repeats(src), 1);
    ms_source_free(src);

    const char *lspecs[] = {listspec};
    n = collect(lspecs, 1, NULL, t, 16);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_EQUAL(t[0].status, MS_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(t[0].reason, "self.txt: a cycle"));
    CU_ASSERT_EQUAL(t[1].status, MS_ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(rel(&t[2]), "w/x.cif");
    const char *fspecs[] = {p}; /* the FIFO named explicitly: an error task, no hang */
    n = collect(fspecs, 1, NULL, t, 16);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(t[0].status, MS_ERR_IO);
}

/* One enumeration per run: a recording source replays exactly the tasks it yielded (error
 * tasks, JSON Lines ranges, modification times included) after the inputs are gone. */
static void test_record_replay(void)
{
    char d[300], missing[300], extra[300];
    snprintf(d, sizeof d, "%s/d", root);
    snprintf(missing, sizeof missing, "%s/nope.cif", root);
    const char *jsonl = ms_test_local("json/mp_records.jsonl");
    const char *specs[] = {d, missing, jsonl};
    ms_source_options opt;
    ms_source_options_default(&opt);
    opt.chunk_bytes = 3917;
    static ms_task first[64], again[64];
    ms_source *src = NULL;
    CU_ASSERT_EQUAL_FATAL(ms_source_create(specs, 3, &opt, &src), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_source_replay(src), MS_ERR_USAGE); /* not recording */
    CU_ASSERT_EQUAL_FATAL(ms_source_record(src), MS_SUCCESS);
    size_t n = 0;
    while (n < 64 && ms_source_next(src, &first[n])) n++;
    CU_ASSERT_FATAL(n > 6);
    CU_ASSERT(first[0].mtime_ns > 0);
    CU_ASSERT_EQUAL(first[4].status, MS_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(first[4].mtime_ns, -1);
    /* the walk is not repeated: a file added now is not seen, nor is a removed one missed */
    snprintf(extra, sizeof extra, "%s/d/aa.cif", root);
    write_file("d/aa.cif", "data_aa\n");
    CU_ASSERT_EQUAL_FATAL(ms_source_replay(src), MS_SUCCESS);
    CU_ASSERT_EQUAL(ms_source_count(src), 0);
    size_t m = 0;
    while (m < 64 && ms_source_next(src, &again[m])) m++;
    CU_ASSERT_EQUAL_FATAL(m, n);
    CU_ASSERT_EQUAL(ms_source_count(src), n);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(again[i].seq, first[i].seq);
        CU_ASSERT_EQUAL(again[i].input, first[i].input);
        CU_ASSERT_EQUAL(again[i].format, first[i].format);
        CU_ASSERT_EQUAL(again[i].offset, first[i].offset);
        CU_ASSERT_EQUAL(again[i].length, first[i].length);
        CU_ASSERT_EQUAL(again[i].size, first[i].size);
        CU_ASSERT_EQUAL(again[i].mtime_ns, first[i].mtime_ns);
        CU_ASSERT_EQUAL(again[i].status, first[i].status);
        CU_ASSERT_STRING_EQUAL(again[i].path, first[i].path);
        CU_ASSERT_STRING_EQUAL(again[i].reason, first[i].reason);
    }
    CU_ASSERT_EQUAL(ms_source_next(src, &again[0]), 0);
    CU_ASSERT_EQUAL(ms_source_replay(src), MS_ERR_USAGE); /* once */
    ms_source_free(src);
    unlink(extra);
}

static void test_usage_errors(void)
{
    ms_source *src = (ms_source *)0x1;
    CU_ASSERT_EQUAL(ms_source_create(NULL, 2, NULL, &src), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_source_create(NULL, 0, NULL, NULL), MS_ERR_USAGE);
    CU_ASSERT_EQUAL(ms_source_create(NULL, 0, NULL, &src), MS_SUCCESS);
    ms_task t;
    CU_ASSERT_EQUAL(ms_source_next(src, &t), 0);
    CU_ASSERT_STRING_EQUAL(ms_source_spec(src, 3), "");
    ms_source_free(src);
    ms_source_free(NULL);
}

int ms_suite_source(void); /* declared in suites.h once registered */
int ms_suite_source(void)
{
    CU_pSuite s = CU_add_suite("source", setup, teardown);
    if (!s) return CU_get_error();
    CU_add_test(s, "directory walk is sorted, recursive, filtered", test_directory_sorted_recursive);
    CU_add_test(s, "globs, @lists, missing inputs as error tasks", test_glob_list_and_missing);
    CU_add_test(s, "JSONL byte-range chunks cover the file", test_jsonl_chunks_cover_file);
    CU_add_test(s, "cycles, FIFOs, self lists, the output directory", test_cycles_fifos_exclude);
    CU_add_test(s, "recorded tasks replay without a second walk", test_record_replay);
    CU_add_test(s, "usage errors", test_usage_errors);
    return CU_get_error();
}
