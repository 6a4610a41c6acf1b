/*
 * The screen's top/ directory: the CIFs of the top-K candidates, read again from their inputs
 * after the ranked pass (each input file once for all its candidates) and written as P1 CIFs
 * (io/cif_writer.c) into a new directory that results.c swaps into place with the other outputs.
 */
#include "top_cifs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matscreen/array.h"
#include "matscreen/cif_writer.h"
#include "matscreen/json_reader.h"
#include "matscreen/outfile.h"
#include "matscreen/reader.h"
#include "matscreen/source.h"

void top_list_free(top_list *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->items[i].file);
    free(t->items);
    if (t->dir) {
        ms_atomic_remove_stale(t->dir); /* what is left of an aborted new top/ */
        DIR *d = opendir(t->dir);
        if (d) {
            for (struct dirent *e; (e = readdir(d));) {
                if (e->d_name[0] == '.') continue;
                char *p = ms_path_join(t->dir, e->d_name);
                if (p) unlink(p);
                free(p);
            }
            closedir(d);
        }
        rmdir(t->dir);
        free(t->dir);
    }
    memset(t, 0, sizeof *t);
}

/* The new top/ is written as DIR/.tmp-top (the directory is locked: one writer) and swapped in
 * by commit_outputs. A DIR/.tmp-top a killed run left is removed when the journal is opened. */
ms_status top_dir_create(const char *out_dir, top_list *t)
{
    char *top = ms_path_join(out_dir, "top");
    MS_CHECK(top, MS_ERR_NOMEM, "out of memory");
    ms_status st = ms_output_not_link(top); /* refused now, before the work */
    free(top);
    MS_CALL(st);
    char name[64];
    snprintf(name, sizeof name, MS_ATOMIC_TMP_PREFIX "top");
    t->dir = ms_path_join(out_dir, name);
    MS_CHECK(t->dir, MS_ERR_NOMEM, "out of memory");
    if (mkdir(t->dir, 0777) != 0) {
        st = ms_error_set(MS_ERR_IO, "%s: cannot create directory: %s", t->dir, strerror(errno));
        free(t->dir);
        t->dir = NULL;
    }
    return st;
}

ms_status top_list_add(top_list *t, const ms_result *r, size_t rank)
{
    MS_CALL(ms_array_reserve(&t->items, &t->cap, t->n + 1, sizeof *t->items, 16));
    top_item *it = &t->items[t->n];
    memset(it, 0, sizeof *it);
    it->file = strdup(r->file);
    MS_CHECK(it->file, MS_ERR_NOMEM, "out of memory");
    it->rank = rank;
    it->format = r->format;
    it->offset = r->offset;
    it->length = r->length;
    it->index = r->index;
    it->content_hash = r->content_hash;
    snprintf(it->formula, sizeof it->formula, "%s", r->formula);
    t->n++;
    return MS_SUCCESS;
}

/* Reading order: by file, then record index (each file is read once for all its candidates). */
static int cmp_top_file(const void *pa, const void *pb)
{
    const top_item *a = pa, *b = pb;
    int c = strcmp(a->file, b->file);
    if (c) return c;
    if (a->index != b->index) return a->index < b->index ? -1 : 1;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

typedef struct top_ctx {
    const char *dir;
    top_item *items; /* one file's candidates, by index */
    size_t n, left;
    const ms_element_table *elements;
    size_t *written, *failed;
} top_ctx;

static void top_item_key(const top_item *it, char *out, size_t n)
{
    if (it->format == MS_FORMAT_JSONL && it->offset >= 0)
        snprintf(out, n, "%s@%lld", it->file, (long long)it->offset);
    else
        snprintf(out, n, "%s#%llu", it->file, (unsigned long long)it->index);
}

static void top_failed(top_ctx *c, top_item *it, const char *why)
{
    it->done = 1;
    (*c->failed)++;
    char key[MS_TASK_PATH_MAX + 32], esc[2 * MS_TASK_PATH_MAX + 64];
    top_item_key(it, key, sizeof key);
    ms_name_escape(key, esc, sizeof esc);
    fprintf(stderr, "matscreen screen: top CIF %zu: %s: %s\n", it->rank, esc, why);
}

/* Writes the CIF of candidate it from s, the structure read now, when it is the structure that
 * was screened (same content hash); a changed input fails the candidate, never writes other
 * content under its rank. */
static void top_write_one(top_ctx *c, top_item *it, const ms_structure *s)
{
    if (s->prov.content_hash != it->content_hash) {
        top_failed(c, it, "the input changed after it was screened (content hash differs); "
                          "run the screen again");
        return;
    }
    char name[64 + MS_RESULT_FORMULA_MAX], block[32 + MS_RESULT_FORMULA_MAX];
    char safe[MS_RESULT_FORMULA_MAX], key[MS_TASK_PATH_MAX + 32], comment[MS_TASK_PATH_MAX + 64];
    size_t j = 0;
    for (const char *p = it->formula; *p && j + 1 < sizeof safe; p++)
        safe[j++] = (strchr("()[]. ", *p) || (unsigned char)*p < 32 || *p == '/') ? '_' : *p;
    safe[j] = '\0';
    snprintf(name, sizeof name, "%04zu_%s.cif", it->rank, safe);
    snprintf(block, sizeof block, "matscreen_%04zu_%s", it->rank, safe);
    top_item_key(it, key, sizeof key);
    snprintf(comment, sizeof comment, "rank %zu, source %s", it->rank, key);
    char *path = ms_path_join(c->dir, name);
    ms_status st = path ? ms_cif_write_p1(s, block, comment, c->elements, path)
                        : ms_error_set(MS_ERR_NOMEM, "out of memory");
    free(path);
    if (st != MS_SUCCESS) {
        top_failed(c, it, ms_error_message());
        return;
    }
    it->done = 1;
    (*c->written)++;
}

static int on_top_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    top_ctx *c = user;
    (void)message;
    if (status != MS_SUCCESS) return 0;
    for (size_t i = 0; i < c->n; i++) {
        top_item *it = &c->items[i];
        if (it->done || (it->format != MS_FORMAT_JSONL && s->prov.index != it->index)) continue;
        top_write_one(c, it, s);
        c->left--;
        /* A record listed twice in the inputs can rank twice: it gets a CIF under each rank.
         * A JSON Lines item is read alone (its byte range), so it matches once. */
        if (it->format == MS_FORMAT_JSONL) break;
    }
    return c->left == 0; /* every candidate of this file written: stop reading it */
}

/* Writes the CIFs of the top-K list into its new directory: each input file is read once for all
 * its candidates (a JSON Lines record alone, by its byte range). */
void write_top_cifs(top_list *t, const ms_element_table *elements, size_t *written,
                    size_t *failed)
{
    if (t->n == 0) return; /* nothing ranked: items may be NULL, which qsort must not get */
    qsort(t->items, t->n, sizeof *t->items, cmp_top_file);
    ms_read_options opt;
    ms_read_options_default(&opt);
    for (size_t a = 0, b; a < t->n; a = b) {
        top_item *it = &t->items[a];
        int one = it->format == MS_FORMAT_JSONL && it->offset >= 0 && it->length > 0;
        for (b = a + 1; !one && b < t->n && !strcmp(t->items[b].file, it->file); b++) continue;
        if (one) b = a + 1;
        top_ctx c = {t->dir, it, b - a, b - a, elements, written, failed};
        ms_status st = one ? ms_jsonl_read_record(it->file, it->offset, it->length, &opt,
                                                  on_top_record, &c)
                           : ms_read_file(it->file, (ms_format)it->format, &opt, on_top_record, &c);
        for (size_t k = a; k < b; k++)
            if (!t->items[k].done)
                top_failed(&c, &t->items[k], st != MS_SUCCESS ? ms_error_message()
                                                              : "record no longer found");
    }
}
