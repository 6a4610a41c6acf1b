/*
 * Shared harness of the fuzz targets (tests/fuzz/fuzz_*.c) and of the regression suite that
 * replays their crashes (tests/unit/test_fuzz_regressions.c).
 *
 * Conventions
 *   - Every entry point takes the raw input bytes (data, n) exactly as libFuzzer hands them over,
 *     copied into a heap buffer of exactly n bytes so that AddressSanitizer sees any read past
 *     the end. Text entry points (formula) get a NUL-terminated copy.
 *   - Record callbacks touch everything a reader produces (every coordinate, species, label,
 *     warning, property; composition, volume, density, formulas), so a reader that hands out a
 *     half-built structure is caught by the sanitizers here and not three stages later.
 *   - The element table is loaded once (fuzz_init) from $MATSCREEN_SHARE, else from the share
 *     directory compiled in as FUZZ_SHARE_DIR (the repository's share/matscreen), else through
 *     ms_share_dir(). Without it the formula targets still run, without formatting.
 *   - The read limits are the defaults except max_atoms, lowered to FUZZ_MAX_ATOMS so that one
 *     input cannot spend seconds in symmetry expansion; the limit check itself is still reached.
 *
 * Adding a target <name>:
 *   1. tests/fuzz/fuzz_<name>.c: `#include "fuzz_common.h"`, the headers it needs, a
 *      `static inline int fuzz_run_<name>(const uint8_t *data, size_t n)` that sets
 *      fuzz_problem = NULL, feeds data to the entry point (a buffer API, or fuzz_memfd_path() for
 *      a loader that takes a path), touches what comes back, frees it; then `FUZZ_TARGET(<name>)`.
 *      (Or put fuzz_run_<name> here when the regression suite should replay it too.)
 *   2. Seeds in tests/fuzz/corpus/<name>/ (and their source in the README there); optionally a
 *      dictionary tests/fuzz/<name>.dict.
 *   3. <name> in FUZZ_TARGETS (tests/fuzz/fuzz.mk), plus the modules it needs in FUZZ_LIB_SRC.
 *   4. A row {"<name>", fuzz_run_<name>} in tests/unit/test_fuzz_regressions.c.
 */
#ifndef MS_FUZZ_COMMON_H
#define MS_FUZZ_COMMON_H

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "matscreen/cif_reader.h"
#include "matscreen/composition.h"
#include "matscreen/element.h"
#include "matscreen/error.h"
#include "matscreen/json_reader.h"
#include "matscreen/poscar_reader.h"
#include "matscreen/reader.h"
#include "matscreen/share.h"
#include "matscreen/structure.h"

#ifndef FUZZ_MAX_ATOMS
#define FUZZ_MAX_ATOMS 4096
#endif

/* The element table of the process, or NULL when none could be loaded. Only fuzz_init writes it
 * (once, before any input), which is why this one static is not a shared mutable global. */
static ms_element_table *fuzz_table;

/* A value the optimiser cannot drop: the checks below feed it so nothing is dead code. */
static volatile double fuzz_sink;

/* What the last input broke besides memory safety ("reduced formula ... holds '-'"), or NULL.
 * fuzz_run_* clear it; the checks set it. Fuzz targets abort on it (FUZZ_TARGET); the regression
 * suite turns it into a test failure. */
static const char *fuzz_problem;
static char fuzz_problem_text[512];

#define FUZZ_EXPECT(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond) && !fuzz_problem) {                                                            \
            snprintf(fuzz_problem_text, sizeof fuzz_problem_text, __VA_ARGS__);                    \
            fuzz_problem = fuzz_problem_text;                                                      \
        }                                                                                          \
    } while (0)

/* Defines the two libFuzzer entry points of a target that calls fuzz_run_<name>. */
#define FUZZ_TARGET(name)                                                                          \
    int LLVMFuzzerInitialize(int *argc, char ***argv);                                             \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                                  \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                                              \
    {                                                                                              \
        (void)argc, (void)argv;                                                                    \
        return fuzz_init();                                                                        \
    }                                                                                              \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        fuzz_run_##name(data, size);                                                               \
        if (fuzz_problem) {                                                                        \
            fprintf(stderr, "fuzz_" #name ": %s\n", fuzz_problem);                                \
            abort();                                                                               \
        }                                                                                          \
        return 0;                                                                                  \
    }

/* A formatted formula is element symbols, digits, '.', brackets and, for Python's exponent form
 * ("1e+20", "9.7e-07", as pymatgen prints amounts below 1e-4), 'e' with a sign; never another
 * '-' (a negative or wrapped-around count), "inf" or "nan". */
static inline int fuzz_formula_sane(const char *f)
{
    for (const char *p = f; *p; p++) {
        if (*p == '-' && (p == f || p[-1] != 'e' || !isdigit((unsigned char)p[1]))) return 0;
        if (!(isalnum((unsigned char)*p) || strchr(" .()+-", *p))) return 0;
    }
    return !strstr(f, "inf") && !strstr(f, "nan");
}

/* Loads the element table once. Returns 0; a missing table is reported on stderr, not fatal. */
static inline int fuzz_init(void)
{
    if (fuzz_table) return 0;
    const char *env = getenv("MATSCREEN_SHARE");
    if (env && ms_element_table_load(env, &fuzz_table) == MS_SUCCESS) return 0;
#ifdef FUZZ_SHARE_DIR
    if (ms_element_table_load(FUZZ_SHARE_DIR, &fuzz_table) == MS_SUCCESS) return 0;
#endif
    if (ms_element_table_load_default(&fuzz_table) == MS_SUCCESS) return 0;
    fprintf(stderr, "fuzz: no element table (%s); formulas are not formatted\n",
            ms_error_message());
    fuzz_table = NULL;
    return 0;
}

/* Formats c with the table into a large and a deliberately small buffer (the small one must fail
 * cleanly with MS_ERR_LIMIT, never overflow), and checks the weight and proportionality. */
static inline void fuzz_touch_composition(const ms_composition *c)
{
    double acc = ms_composition_total(c);
    FUZZ_EXPECT(c->n >= 0 && c->n <= MS_MAX_Z, "composition holds %d elements", c->n);
    if (fuzz_problem) return;
    for (int i = 0; i < c->n; i++) {
        FUZZ_EXPECT(c->z[i] >= 1 && c->z[i] <= MS_MAX_Z, "composition holds Z = %d", c->z[i]);
        if (fuzz_problem) return;
        acc += c->amount[c->z[i]];
    }
    acc += ms_composition_proportional(c, c, 1e-6);
    if (fuzz_table) {
        char big[1024], small[8];
        acc += ms_composition_weight(c, fuzz_table);
        if (ms_composition_formula(c, fuzz_table, big, sizeof big) == MS_SUCCESS)
            FUZZ_EXPECT(fuzz_formula_sane(big), "formula \"%.200s\" is not a formula", big);
        if (ms_composition_reduced_formula(c, fuzz_table, big, sizeof big) == MS_SUCCESS)
            FUZZ_EXPECT(fuzz_formula_sane(big), "reduced formula \"%.200s\" is not a formula", big);
        if (ms_composition_reduced_formula(c, fuzz_table, small, sizeof small) == MS_SUCCESS)
            FUZZ_EXPECT(fuzz_formula_sane(small), "reduced formula \"%.200s\" is not a formula", small);
        if (ms_composition_formula(c, fuzz_table, small, sizeof small) == MS_SUCCESS)
            FUZZ_EXPECT(fuzz_formula_sane(small), "formula \"%.200s\" is not a formula", small);
    }
    fuzz_sink = acc;
}

/* Record callback: reads every byte of what the reader hands out. Always goes on (returns 0). */
static inline int fuzz_record(const ms_structure *s, ms_status status, const char *message, void *user)
{
    size_t *count = user;
    double acc = 0;
    (*count)++;
    acc += (double)strlen(message ? message : "");
    acc += (double)strnlen(s->prov.source_id, MS_SOURCE_ID_MAX);
    acc += (double)strnlen(s->prov.block, MS_BLOCK_MAX);
    acc += (double)strnlen(s->formula_stated, MS_FORMULA_MAX);
    acc += (double)strnlen(s->warnings, MS_WARNINGS_MAX);
    if (s->prov.file) acc += (double)strlen(s->prov.file);
    if (status != MS_SUCCESS) {
        fuzz_sink = acc;
        return 0;
    }
    for (size_t i = 0; i < s->n_props; i++) acc += s->props[i].value + (double)strlen(s->props[i].name);
    FUZZ_EXPECT(s->n_sites > 0 && s->site_species, "a structure read with no site");
    if (fuzz_problem) return 0;
    for (size_t i = 0; i < s->n_sites; i++) {
        for (int k = 0; k < 3; k++) acc += s->frac[i][k] + s->cart[i][k];
        acc += (double)strnlen(s->label[i], MS_LABEL_MAX);
        FUZZ_EXPECT(s->site_species[i] < s->site_species[i + 1] &&
                        s->site_species[i + 1] <= s->n_species,
                    "site %zu: species offsets %zu..%zu of %zu", i, s->site_species[i],
                    s->site_species[i + 1], s->n_species);
        if (fuzz_problem) return 0;
        for (size_t j = s->site_species[i]; j < s->site_species[i + 1]; j++) {
            const ms_species *sp = &s->species[j];
            FUZZ_EXPECT(sp->z >= 1 && sp->z <= MS_MAX_Z, "site %zu holds Z = %d", i, sp->z);
            FUZZ_EXPECT(sp->occu > 0 && isfinite(sp->occu), "site %zu: occupancy %g", i, sp->occu);
            acc += sp->occu + (sp->has_oxi ? sp->oxi : 0);
        }
    }
    double abc[3], ang[3];
    ms_structure_lattice_parameters(s, abc, ang);
    acc += abc[0] + abc[1] + abc[2] + ang[0] + ang[1] + ang[2];
    double vol = ms_structure_volume(s);
    FUZZ_EXPECT(vol > 0 && isfinite(vol), "a structure read with volume %g", vol);
    acc += vol + ms_structure_is_ordered(s);
    if (fuzz_table) acc += ms_structure_density(s, fuzz_table);
    ms_composition c;
    ms_structure_composition(s, &c);
    fuzz_touch_composition(&c);
    fuzz_sink = acc;
    return 0;
}

/* Options of every reader target. */
static inline void fuzz_options(ms_read_options *opt)
{
    ms_read_options_default(opt);
    opt->max_atoms = FUZZ_MAX_ATOMS;
}

/* A heap copy of exactly n bytes (one byte when n is 0, so malloc never returns NULL legally). */
static inline char *fuzz_copy(const uint8_t *data, size_t n, int nul)
{
    char *buf = malloc(n + (size_t)(nul || n == 0));
    if (!buf) abort();
    if (n) memcpy(buf, data, n);
    if (nul) buf[n] = '\0';
    return buf;
}

/* For loaders that take only a path (workflow XML, journal): puts data in an anonymous in-memory
 * file and writes its name ("/proc/self/fd/N") into path. Returns the descriptor, which the
 * caller closes, or -1. Nothing touches the disk, so two fuzzers never share a file. */
static inline int fuzz_memfd_path(const uint8_t *data, size_t n, char *path, size_t npath)
{
    int fd = memfd_create("fuzz-input", 0);
    if (fd < 0) return -1;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    snprintf(path, npath, "/proc/self/fd/%d", fd);
    return fd;
}

static inline int fuzz_run_cif(const uint8_t *data, size_t n)
{
    fuzz_problem = NULL;
    ms_read_options opt;
    size_t count = 0;
    fuzz_options(&opt);
    char *buf = fuzz_copy(data, n, 0);
    (void)ms_cif_read_buffer(buf, n, "fuzz.cif", &opt, fuzz_record, &count);
    free(buf);
    return 0;
}

static inline int fuzz_run_json_mode(const uint8_t *data, size_t n, int lines)
{
    fuzz_problem = NULL;
    ms_read_options opt;
    size_t count = 0;
    fuzz_options(&opt);
    char *buf = fuzz_copy(data, n, 0);
    (void)ms_json_read_buffer(buf, n, lines ? "fuzz.jsonl" : "fuzz.json", lines, &opt, fuzz_record,
                              &count);
    free(buf);
    return 0;
}

static inline int fuzz_run_json(const uint8_t *data, size_t n) { return fuzz_run_json_mode(data, n, 0); }

static inline int fuzz_run_jsonl(const uint8_t *data, size_t n) { return fuzz_run_json_mode(data, n, 1); }

static inline int fuzz_run_poscar(const uint8_t *data, size_t n)
{
    fuzz_problem = NULL;
    ms_read_options opt;
    size_t count = 0;
    fuzz_options(&opt);
    char *buf = fuzz_copy(data, n, 0);
    (void)ms_poscar_read_buffer(buf, n, "POSCAR", &opt, fuzz_record, &count);
    free(buf);
    return 0;
}

/* The formula parser, then the formatters on what it parsed. The input is cut at its first NUL,
 * as a C string would be. */
static inline int fuzz_run_formula(const uint8_t *data, size_t n)
{
    fuzz_problem = NULL;
    char *text = fuzz_copy(data, n, 1);
    ms_composition c;
    if (ms_composition_parse(text, &c) == MS_SUCCESS) fuzz_touch_composition(&c);
    free(text);
    return 0;
}


/* ---------------------------------------------------------------------------------------------
 * Source enumeration (issue #18): the input is a little script that builds a directory tree in
 * a fresh temporary directory, then the tree is enumerated with ms_source_next. One command a
 * line, at most FUZZ_SOURCE_OPS of them, arguments split at the first space:
 *     d NAME           mkdir            f NAME TEXT   a file holding TEXT ('|' starts a new line)
 *     l NAME TARGET    symbolic link    p NAME        a FIFO
 *     s SPEC           an input spec (a path, a glob or "@LIST")
 * Everything stays inside the temporary directory: NAME, SPEC and every line of TEXT (which may
 * be read as a list) are relative, without "..", and are made absolute under the root (a list
 * line keeps its leading '@'); a link TARGET is "../" at most as many times as the link's
 * directory lies below the root, then such a name. Checks: the walk ends (the enumeration is
 * capped far above what the tree allows), it is linear - at most entries + list lines + specs
 * x (entries + 1) tasks, which links to "." made exponential before -, every task names a path
 * under the root, and every error task says why. */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>

#include "matscreen/source.h"

#define FUZZ_SOURCE_OPS 64
#define FUZZ_SOURCE_NAME 96

static int fuzz_rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(p); /* what cannot be removed stays in /tmp; the walk goes on */
    return 0;
}

/* A relative name without "..", a leading '/', or characters that glob would expand in a
 * created name. Returns its length, or 0 when it is refused. */
static inline size_t fuzz_source_name_ok(const char *name, int allow_glob)
{
    size_t len = strlen(name);
    if (len == 0 || len >= FUZZ_SOURCE_NAME || name[0] == '/' || strstr(name, "..")) return 0;
    if (!allow_glob && strpbrk(name, "*?[")) return 0;
    return len;
}

/* Depth below root of the real directory holding NAME (-1 when it does not exist). */
static inline int fuzz_source_depth(const char *root, const char *name)
{
    char path[512], real[PATH_MAX], rroot[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", root, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    if (!realpath(path, real) || !realpath(root, rroot)) return -1;
    size_t rl = strlen(rroot);
    if (strncmp(real, rroot, rl) != 0 || (real[rl] != '\0' && real[rl] != '/')) return -1;
    int depth = 0;
    for (const char *q = real + rl; *q; q++) depth += *q == '/';
    return depth;
}

/* Writes TEXT to path: '|' separates lines; each non-blank, non-comment line is made absolute
 * under root (keeping a leading '@', without the leading blanks the list reader skips); a line
 * that would leave the root is dropped. Returns the number of lines. */
static inline size_t fuzz_source_write(const char *root, const char *path, const char *text)
{
    /* O_NONBLOCK: NAME may already be a FIFO ("p NAME"), whose open for writing would wait for
     * a reader forever; without one it fails (ENXIO) and the command is skipped */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        return 0;
    }
    size_t lines = 0;
    while (text) {
        const char *bar = strchr(text, '|');
        char line[FUZZ_SOURCE_NAME * 2];
        size_t len = bar ? (size_t)(bar - text) : strlen(text);
        if (len >= sizeof line) len = sizeof line - 1;
        memcpy(line, text, len);
        line[len] = '\0';
        text = bar ? bar + 1 : NULL;
        lines++;
        /* the list reader skips leading blanks (source.c): an indented name is still a name */
        const char *lead = line + strspn(line, " \t");
        const char *body = lead[0] == '@' ? lead + 1 : lead;
        if (!lead[0] || lead[0] == '#') fprintf(f, "%s\n", line);
        else if (fuzz_source_name_ok(body, 1)) fprintf(f, "%s%s/%s\n", lead[0] == '@' ? "@" : "", root, body);
    }
    fclose(f);
    return lines;
}

static inline int fuzz_run_source(const uint8_t *data, size_t n)
{
    fuzz_problem = NULL;
    char root[64] = "/tmp/ms_fuzz_source_XXXXXX";
    if (!mkdtemp(root)) return 0;
    char *text = fuzz_copy(data, n, 1);
    char *specs[FUZZ_SOURCE_OPS];
    size_t n_specs = 0, entries = 0, list_lines = 0;
    char *save = NULL;
    int ops = 0;
    for (char *ln = text ? strtok_r(text, "\n", &save) : NULL; ln && ops < FUZZ_SOURCE_OPS;
         ln = strtok_r(NULL, "\n", &save), ops++) {
        if (strlen(ln) < 3 || ln[1] != ' ') continue;
        char *name = ln + 2, *arg = strchr(name, ' ');
        if (arg) *arg++ = '\0';
        int is_spec = ln[0] == 's';
        const char *body = is_spec && name[0] == '@' ? name + 1 : name;
        if (!fuzz_source_name_ok(body, is_spec)) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", root, body);
        switch (ln[0]) {
        case 'd': entries += mkdir(path, 0777) == 0; break;
        case 'p': entries += mkfifo(path, 0666) == 0; break;
        case 'f': entries++; list_lines += fuzz_source_write(root, path, arg ? arg : ""); break;
        case 'l': {
            int depth = fuzz_source_depth(root, body), up = 0;
            const char *t = arg ? arg : "";
            while (strncmp(t, "../", 3) == 0 || strcmp(t, "..") == 0) {
                up++;
                t += t[2] ? 3 : 2;
            }
            if (depth < 0 || up > depth || (*t && !fuzz_source_name_ok(t, 0))) break;
            entries += symlink(arg ? arg : ".", path) == 0;
            break;
        }
        case 's':
            if (n_specs < FUZZ_SOURCE_OPS) {
                char spec[520];
                snprintf(spec, sizeof spec, "%s%s", name[0] == '@' ? "@" : "", path);
                specs[n_specs++] = strdup(spec);
            }
            break;
        default: break;
        }
    }
    ms_source_options opt;
    ms_source_options_default(&opt);
    opt.chunk_bytes = 64; /* small files still make JSON Lines chunks */
    ms_source *src = NULL;
    size_t tasks = 0;
    const size_t bound = entries + list_lines + n_specs * (entries + 1);
    if (ms_source_create((const char *const *)specs, n_specs, &opt, &src) == MS_SUCCESS) {
        ms_task *t = malloc(sizeof *t);
        size_t rl = strlen(root);
        while (t && !fuzz_problem && ms_source_next(src, t)) {
            tasks++;
            /* A line of a list file names any path (a relative one from the working directory,
             * as on the command line): a missing one is an error task naming it, never a read
             * outside the tree. */
            FUZZ_EXPECT(strncmp(t->path, root, rl) == 0 || t->status != MS_SUCCESS,
                        "task %zu left the tree: %s", tasks, t->path);
            FUZZ_EXPECT(t->status == MS_SUCCESS || t->reason[0], "error task %zu without a reason", tasks);
            /* a file of the input's size makes at most 1 + n / 64 chunks */
            FUZZ_EXPECT(tasks <= (bound + 1) * (1 + n / 64), "%zu tasks from %zu entries, %zu list lines, "
                        "%zu specs: the walk is not linear", tasks, entries, list_lines, n_specs);
        }
        free(t);
        ms_source_free(src);
    }
    for (size_t i = 0; i < n_specs; i++) free(specs[i]);
    free(text);
    nftw(root, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    fuzz_sink = (double)tasks;
    return 0;
}

#endif /* MS_FUZZ_COMMON_H */
