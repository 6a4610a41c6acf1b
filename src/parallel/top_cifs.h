/* Private to parallel/: the top-K CIF list of results.c (see top_cifs.c). */
#ifndef MATSCREEN_TOP_CIFS_H
#define MATSCREEN_TOP_CIFS_H

#include <stddef.h>
#include <stdint.h>

#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/pipeline.h"

/* A top-K candidate whose CIF is written after the ranked pass: where its record is, and what
 * its content hash was when it was screened. */
typedef struct top_item {
    size_t rank;
    char *file;
    int32_t format;
    int64_t offset, length;
    uint64_t index, content_hash;
    char formula[MS_RESULT_FORMULA_MAX];
    int done;
} top_item;

typedef struct top_list {
    top_item *items;
    size_t n, cap;
    char *dir; /* the new top/ being written: DIR/.tmp-top */
} top_list;

/* Creates the new top/ as OUT_DIR/.tmp-top (refused when OUT_DIR/top is a link). */
ms_status top_dir_create(const char *out_dir, top_list *t);

/* Adds the candidate of rank rank (1-based) whose result is r. */
ms_status top_list_add(top_list *t, const ms_result *r, size_t rank);

/* Writes every candidate's CIF into t->dir; counts those written and those that failed (each
 * failure named on stderr: the input changed or can no longer be read). */
void write_top_cifs(top_list *t, const ms_element_table *elements, size_t *written,
                    size_t *failed);

/* Frees t and removes its directory when it is still there (an aborted new top/). */
void top_list_free(top_list *t);

#endif /* MATSCREEN_TOP_CIFS_H */
