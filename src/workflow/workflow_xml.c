/*
 * XML workflows: read the file under limits, refuse anything a DTD could do, validate against the
 * XSD, then check what the schema cannot (element symbols, descriptor sets, files, stages).
 *
 * Hostile input (DESIGN.md section 7): libxml2 is never allowed to expand entities or load a DTD
 * (no XML_PARSE_NOENT, no XML_PARSE_DTDLOAD, XML_PARSE_NONET always), and before libxml2 sees the
 * bytes the prolog is scanned here: a DOCTYPE of any kind is an error. Billion laughs, XXE and
 * external DTDs all need a DOCTYPE, so they stop at that scan with a line number; an entity
 * reference in the body is then undefined and libxml2 rejects it without resolving anything.
 * The file is read whole but never beyond MS_WORKFLOW_MAX_BYTES, must be UTF-8, and elements may
 * nest MS_WORKFLOW_MAX_DEPTH deep (libxml2's own limit, 256 without XML_PARSE_HUGE, stops deeper
 * documents while parsing).
 *
 * libxml2's error callbacks are per-thread state inside libxml2 (xmlSetStructuredErrorFunc); they
 * are set for the duration of one load and reset before returning.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "matscreen/acquisition.h"
#include "matscreen/composition.h"
#include "matscreen/cv.h"
#include "matscreen/descriptor.h"
#include "matscreen/element.h"
#include "matscreen/file_read.h"
#include "matscreen/number.h"
#include "matscreen/hash.h"
#include "matscreen/model.h"
#include "matscreen/pipeline.h"
#include "matscreen/share.h"
#include "matscreen/workflow.h"

/* Models the screen of a workflow takes (screen.h MS_SCREEN_MAX_MODELS). */
#define MS_WORKFLOW_SCREEN_MODELS 2

#if LIBXML_VERSION >= 21200
typedef const xmlError *ms_xml_error_ptr;
#else
typedef xmlErrorPtr ms_xml_error_ptr;
#endif

typedef struct {
    const char *file;          /* workflow path as given, for messages */
    ms_workflow_issues *issues;
    ms_status first;           /* status of the first issue */
    /* last schema error, to drop libxml2's second message about the same value */
    int last_line;
    const void *last_node;
    char last_attr[64];
} load_ctx;

static void add_issue(load_ctx *c, ms_status kind, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_issue(load_ctx *c, ms_status kind, int line, const char *fmt, ...)
{
    if (c->first == MS_SUCCESS) c->first = kind;
    if (c->issues->n >= MS_WORKFLOW_MAX_ISSUES) {
        c->issues->dropped++;
        return;
    }
    ms_workflow_issue *is = &c->issues->items[c->issues->n++];
    char text[MS_WORKFLOW_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    is->line = line;
    if (line > 0) snprintf(is->message, sizeof is->message, "%s:%d: %s", c->file, line, text);
    else snprintf(is->message, sizeof is->message, "%s: %s", c->file, text);
}

const char *ms_workflow_stage_name(ms_workflow_stage stage)
{
    switch (stage) {
    case MS_WORKFLOW_SCREEN: return "screen";
    case MS_WORKFLOW_TRAIN: return "train";
    case MS_WORKFLOW_EVALUATE: return "evaluate";
    case MS_WORKFLOW_CAMPAIGN: return "campaign";
    }
    return "?";
}

/* ---- reading the bytes ------------------------------------------------------------------------ */

static int line_of(const unsigned char *buf, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos; i++)
        if (buf[i] == '\n') line++;
    return line;
}

/* Returns the position of the first byte that is not valid UTF-8, or n when all are. Overlong
 * forms, surrogates and code points above U+10FFFF are invalid. */
static size_t utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (b >= 0xC2 && b <= 0xDF) len = 2, cp = b & 0x1Fu;
        else if (b >= 0xE0 && b <= 0xEF) len = 3, cp = b & 0x0Fu;
        else if (b >= 0xF0 && b <= 0xF4) len = 4, cp = b & 0x07u;
        else return i;
        if (i + len > n) return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += len;
    }
    return n;
}

/* Reads path whole into *buf (NUL-terminated) within the size limit. */
static ms_status read_limited(load_ctx *c, const char *path, unsigned char **buf, size_t *n)
{
    *buf = NULL;
    FILE *f;
    ms_status os = ms_open_regular(path, 0, &f, NULL);
    if (os != MS_SUCCESS) { /* the message starts with the path, which the issue adds again */
        const char *m = ms_error_message();
        size_t pl = strlen(path);
        if (!strncmp(m, path, pl) && !strncmp(m + pl, ": ", 2)) m += pl + 2;
        add_issue(c, os, 0, "%s", m);
        return os;
    }
    unsigned char *b = malloc(MS_WORKFLOW_MAX_BYTES + 2);
    if (!b) {
        fclose(f);
        add_issue(c, MS_ERR_NOMEM, 0, "out of memory reading the workflow");
        return MS_ERR_NOMEM;
    }
    size_t got = fread(b, 1, MS_WORKFLOW_MAX_BYTES + 1, f);
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(b);
        add_issue(c, MS_ERR_IO, 0, "read error");
        return MS_ERR_IO;
    }
    if (got > MS_WORKFLOW_MAX_BYTES) {
        free(b);
        add_issue(c, MS_ERR_LIMIT, 0,
                  "the workflow is larger than %d bytes (1 MiB); a workflow describes a run, it "
                  "does not hold data - list large inputs in a file and name it as a source",
                  MS_WORKFLOW_MAX_BYTES);
        return MS_ERR_LIMIT;
    }
    b[got] = 0;
    *buf = b;
    *n = got;
    return MS_SUCCESS;
}

/* Case-insensitive prefix compare. */
static int starts_ci(const unsigned char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    if (n < k) return 0;
    for (size_t i = 0; i < k; i++)
        if (tolower(s[i]) != tolower((unsigned char)lit[i])) return 0;
    return 1;
}

/* Checks encoding and the prolog: UTF-8 only, no DOCTYPE. */
static ms_status check_bytes(load_ctx *c, const unsigned char *b, size_t n)
{
    if (n == 0) {
        add_issue(c, MS_ERR_PARSE, 0, "the file is empty");
        return MS_ERR_PARSE;
    }
    if (n >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))) {
        add_issue(c, MS_ERR_PARSE, 1, "the file is UTF-16; save it as UTF-8");
        return MS_ERR_PARSE;
    }
    size_t bad = utf8_invalid_at(b, n);
    if (bad < n) {
        add_issue(c, MS_ERR_PARSE, line_of(b, bad),
                  "byte 0x%02X is not UTF-8 text; workflows must be saved as UTF-8", b[bad]);
        return MS_ERR_PARSE;
    }
    if (memchr(b, 0, n)) {
        add_issue(c, MS_ERR_PARSE, line_of(b, (size_t)((const unsigned char *)memchr(b, 0, n) - b)),
                  "the file contains a NUL byte; it is not a text file");
        return MS_ERR_PARSE;
    }
    size_t i = 0;
    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) i = 3; /* UTF-8 byte order mark */
    /* The XML declaration: only UTF-8 (or its subset ASCII) may be declared. */
    if (starts_ci(b + i, n - i, "<?xml")) {
        const unsigned char *end = (const unsigned char *)strstr((const char *)b + i, "?>");
        size_t decl_end = end ? (size_t)(end - b) : n;
        const char *enc = strstr((const char *)b + i, "encoding");
        if (enc && (size_t)((const unsigned char *)enc - b) < decl_end) {
            const char *q = strpbrk(enc, "\"'");
            if (q && (size_t)((const unsigned char *)q - b) < decl_end) {
                char name[32] = "";
                size_t k = 0;
                for (const char *p = q + 1; *p && *p != *q && k + 1 < sizeof name; p++)
                    name[k++] = (char)tolower((unsigned char)*p);
                name[k] = 0;
                if (strcmp(name, "utf-8") != 0 && strcmp(name, "utf8") != 0 &&
                    strcmp(name, "us-ascii") != 0 && strcmp(name, "ascii") != 0) {
                    add_issue(c, MS_ERR_PARSE, line_of(b, (size_t)((const unsigned char *)q - b)),
                              "encoding \"%s\" is not accepted; save the workflow as UTF-8 and "
                              "declare encoding=\"UTF-8\"", name);
                    return MS_ERR_PARSE;
                }
            }
        }
    }
    /* Prolog scan: XML declaration, processing instructions, comments and white space may come
     * before the root element; "<!" that opens anything but a comment is a DOCTYPE. */
    while (i < n) {
        if (isspace(b[i])) {
            i++;
        } else if (b[i] == '<' && i + 1 < n && b[i + 1] == '?') {
            const char *e = strstr((const char *)b + i + 2, "?>");
            if (!e) break; /* libxml2 reports the unterminated declaration */
            i = (size_t)((const unsigned char *)e - b) + 2;
        } else if (b[i] == '<' && n - i >= 4 && memcmp(b + i, "<!--", 4) == 0) {
            const char *e = strstr((const char *)b + i + 4, "-->");
            if (!e) break;
            i = (size_t)((const unsigned char *)e - b) + 3;
        } else if (b[i] == '<' && i + 1 < n && b[i + 1] == '!') {
            add_issue(c, MS_ERR_PARSE, line_of(b, i),
                      "a DOCTYPE is not allowed in a workflow (DTDs and entities are refused: they "
                      "are how entity bombs and external-entity attacks work); remove it");
            return MS_ERR_PARSE;
        } else {
            break;
        }
    }
    return MS_SUCCESS;
}

/* ---- libxml2 errors ------------------------------------------------------------------------- */

/* Friendly description of a schema type named in a libxml2 message. */
static const char *type_words(const char *type)
{
    static const struct { const char *type, *words; } t[] = {
        {"xs:double", "a number"},
        {"positiveDecimal", "a number greater than 0"},
        {"xs:positiveInteger", "a whole number of 1 or more"},
        {"xs:nonNegativeInteger", "a whole number of 0 or more"},
        {"trustType", "a whole number from 1 to 100"},
        {"foldsType", "a whole number from 2 to 100"},
        {"nameType", "a name of letters, digits, '_', '.' and '-' (at most 64 characters)"},
        {"xs:NCName", "a single name without spaces"},
        {"pathType", "a path of 1 to 4000 characters"},
        {"elementListType", "a list of element symbols"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].type, type) == 0) return t[i].words;
    return NULL;
}

/* Copies the text between the first quote pair after key in s into out. */
static int quoted_after(const char *s, const char *key, char *out, size_t n)
{
    const char *p = strstr(s, key);
    if (!p) return 0;
    p = strchr(p + strlen(key), '\'');
    if (!p) return 0;
    const char *e = strchr(p + 1, '\'');
    if (!e) return 0;
    size_t len = (size_t)(e - p - 1);
    if (len >= n) len = n - 1;
    memcpy(out, p + 1, len);
    out[len] = 0;
    return 1;
}

/* libxml2's "Expected is ( a, b )" in from: the names inside its brackets, "a, b", into list
 * (cap bytes; "" when there is none). The brackets are looked for after "Expected is", never
 * before: "Missing child element(s)." has brackets of its own. */
static void expected_list(const char *from, char *list, size_t cap)
{
    const char *exp = strstr(from, "Expected is");
    const char *open = exp ? strchr(exp, '(') : NULL;
    size_t k = 0;
    if (open)
        for (const char *q = open + 1; *q && *q != ')' && k + 1 < cap; q++)
            if (!(*q == ' ' && (q[1] == ')' || q[-1] == '('))) list[k++] = *q;
    list[k] = 0;
}

/* Rewrites libxml2's schema message msg about element elem (attribute attr, may be "") into out. */
static void rephrase_schema(const char *msg, const char *elem, const char *attr, char *out, size_t n)
{
    char where[160];
    if (attr[0]) snprintf(where, sizeof where, "<%s %s=\"...\">", elem, attr);
    else snprintf(where, sizeof where, "<%s>", elem);
    char value[256], type[128];
    const char *p;
    if ((p = strstr(msg, "[facet 'enumeration'] The value '"))) {
        quoted_after(p, "The value", value, sizeof value);
        const char *set = strchr(p, '{');
        char list[400] = "";
        size_t k = 0;
        if (set) {
            for (const char *q = set + 1; *q && *q != '}' && k + 1 < sizeof list; q++)
                if (*q != '\'') list[k++] = *q;
            list[k] = 0;
        }
        snprintf(out, n, "%s: '%s' is not one of: %s", where, value, list);
    } else if ((p = strstr(msg, "[facet 'minExclusive'] The value '"))) {
        quoted_after(p, "The value", value, sizeof value);
        quoted_after(p, "greater than", type, sizeof type);
        snprintf(out, n, "%s: %s must be greater than %s", where, value, type);
    } else if ((p = strstr(msg, "[facet 'maxInclusive'] The value '"))) {
        quoted_after(p, "The value", value, sizeof value);
        quoted_after(p, "less than or equal to", type, sizeof type);
        snprintf(out, n, "%s: %s must be at most %s", where, value, type);
    } else if ((p = strstr(msg, "[facet 'minInclusive'] The value '"))) {
        quoted_after(p, "The value", value, sizeof value);
        quoted_after(p, "greater than or equal to", type, sizeof type);
        snprintf(out, n, "%s: %s must be at least %s", where, value, type);
    } else if (strstr(msg, "[facet 'pattern']") || strstr(msg, "[facet 'minLength']") ||
               strstr(msg, "[facet 'maxLength']")) {
        quoted_after(msg, "The value", value, sizeof value);
        snprintf(out, n, "%s: '%s' is not a valid value here", where, value);
    } else if (strstr(msg, "is not a valid value of the")) {
        value[0] = type[0] = 0;
        quoted_after(msg, ": ", value, sizeof value);
        quoted_after(msg, "type", type, sizeof type);
        const char *words = type_words(type);
        if (words) snprintf(out, n, "%s: '%s' is not %s", where, value, words);
        else snprintf(out, n, "%s: '%s' is not a valid value", where, value);
    } else if (strstr(msg, "This element is not expected")) {
        const char *exp = strstr(msg, "Expected is");
        if (exp) {
            char list[400];
            expected_list(exp, list, sizeof list);
            snprintf(out, n, "<%s> is not allowed here; expected %s%s (elements must come in the "
                             "order of docs/workflows.md)", elem, strchr(list, ',') ? "one of: " : "",
                     list);
        } else {
            snprintf(out, n, "<%s> is not allowed here (nothing more is expected inside its parent)",
                     elem);
        }
    } else if ((p = strstr(msg, "Missing child element(s). Expected is"))) {
        char list[400];
        expected_list(p, list, sizeof list);
        snprintf(out, n, "<%s> is missing a required element: %s", elem, list);
    } else if (strstr(msg, "is not allowed.") && attr[0]) {
        snprintf(out, n, "<%s>: unknown attribute %s=", elem, attr);
    } else if (strstr(msg, "is required but missing")) {
        char a[64] = "";
        quoted_after(msg, "The attribute", a, sizeof a);
        snprintf(out, n, "<%s>: attribute %s= is required", elem, a);
    } else if (strstr(msg, "No matching global declaration")) {
        snprintf(out, n, "<%s>: the root element of a workflow must be <workflow>", elem);
    } else if (strstr(msg, "Character content other than whitespace")) {
        snprintf(out, n, "<%s>: text is not allowed here, only elements", elem);
    } else if (strstr(msg, "Element content is not allowed")) {
        snprintf(out, n, "<%s>: elements are not allowed inside, only a value", elem);
    } else {
        size_t len = strlen(msg);
        while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' ')) len--;
        snprintf(out, n, "%s: %.*s", where, (int)len, msg);
    }
}

static void on_xml_error(void *user, ms_xml_error_ptr e)
{
    load_ctx *c = user;
    if (!e || e->level == XML_ERR_WARNING) return;
    const char *msg = e->message ? e->message : "error";
    if (e->domain == XML_FROM_SCHEMASV) {
        const xmlNode *node = e->node;
        char elem[64] = "?", attr[64] = "";
        if (node && node->name) snprintf(elem, sizeof elem, "%s", (const char *)node->name);
        const char *a = strstr(msg, "attribute '");
        if (a && a < strchr(msg, ':')) quoted_after(msg, "attribute", attr, sizeof attr);
        int line = e->line;
        if (node && node->type == XML_ELEMENT_NODE) line = (int)xmlGetLineNo(node);
        /* libxml2 reports a bad value twice (facet, then type): keep the first. */
        if (line == c->last_line && node == c->last_node && strcmp(attr, c->last_attr) == 0) return;
        c->last_line = line;
        c->last_node = node;
        snprintf(c->last_attr, sizeof c->last_attr, "%s", attr);
        char text[MS_WORKFLOW_MESSAGE_MAX];
        rephrase_schema(msg, elem, attr, text, sizeof text);
        add_issue(c, MS_ERR_INVALID, line, "%s", text);
        return;
    }
    if (e->domain == XML_FROM_SCHEMASP) {
        add_issue(c, MS_ERR_INTERNAL, e->line, "the schema file is broken: %s", msg);
        return;
    }
    /* Parser errors: keep the first only (libxml2 cascades after one syntax error). */
    if (c->issues->n > 0 && c->first == MS_ERR_PARSE) return;
    size_t len = strcspn(msg, "\n");
    while (len && (msg[len - 1] == ' ' || msg[len - 1] == ':')) len--;
    if (e->code == XML_ERR_HYPHEN_IN_COMMENT)
        add_issue(c, MS_ERR_PARSE, e->line, "'--' is not allowed inside an XML comment <!-- ... -->");
    else if (e->code == XML_ERR_UNDECLARED_ENTITY || e->code == XML_WAR_UNDECLARED_ENTITY)
        add_issue(c, MS_ERR_PARSE, e->line,
                  "entity references are not allowed (%.*s); write the character itself or use "
                  "&amp; &lt; &gt; &quot; &apos;", (int)len, msg);
    else if (strstr(msg, "Excessive depth") || e->code == XML_ERR_INTERNAL_ERROR)
        add_issue(c, MS_ERR_LIMIT, e->line, "elements are nested too deeply (more than 256 levels; "
                  "a workflow needs 4)");
    else add_issue(c, MS_ERR_PARSE, e->line, "not well-formed XML: %.*s", (int)len, msg);
}

/* ---- semantic checks ---------------------------------------------------------------------- */

static int node_line(const xmlNode *n) { return (int)xmlGetLineNo(n); }

static int is_elem(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Attribute value into out (n bytes); returns 1 when present. */
static int attr(const xmlNode *node, const char *name, char *out, size_t n)
{
    xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
    if (!v) {
        if (n) out[0] = 0;
        return 0;
    }
    snprintf(out, n, "%s", (const char *)v);
    xmlFree(v);
    return 1;
}

/* Text content, trimmed. */
static void text_of(const xmlNode *node, char *out, size_t n)
{
    xmlChar *v = xmlNodeGetContent(node);
    const char *s = v ? (const char *)v : "";
    while (isspace((unsigned char)*s)) s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1])) len--;
    if (len >= n) len = n - 1;
    memcpy(out, s, len);
    out[len] = 0;
    if (v) xmlFree(v);
}

static int has_glob_chars(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* Lexical clean-up of a path: drops "." components and resolves "x/.." when x is a real directory
 * (not a symbolic link, whose ".." would lead elsewhere). */
static void clean_path(char *p)
{
    char out[MS_WORKFLOW_PATH_MAX];
    size_t on = 0;
    int absolute = p[0] == '/';
    const char *s = p;
    if (absolute) out[on++] = '/';
    while (*s) {
        while (*s == '/') s++;
        if (!*s) break;
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 1 && s[0] == '.') {
            /* skip */
        } else if (len == 2 && s[0] == '.' && s[1] == '.' && on > (size_t)absolute) {
            /* last component of out */
            size_t start = on;
            while (start > (size_t)absolute && out[start - 1] != '/') start--;
            size_t clen = on - start;
            int last_is_dotdot = clen == 2 && out[start] == '.' && out[start + 1] == '.';
            struct stat sb;
            out[on] = 0;
            if (!last_is_dotdot && lstat(out, &sb) == 0 && S_ISDIR(sb.st_mode) &&
                !S_ISLNK(sb.st_mode)) {
                on = start;
                if (on > (size_t)absolute) on--; /* the slash before it */
            } else {
                if (on > (size_t)absolute && on + 1 < sizeof out) out[on++] = '/';
                if (on + 2 < sizeof out) out[on++] = '.', out[on++] = '.';
            }
        } else {
            if (on > (size_t)absolute && on + 1 < sizeof out) out[on++] = '/';
            if (on + len < sizeof out) {
                memcpy(out + on, s, len);
                on += len;
            }
        }
        s += len;
    }
    if (on == 0) out[on++] = '.';
    out[on] = 0;
    snprintf(p, MS_WORKFLOW_PATH_MAX, "%s", out);
}

/* Resolves given against the workflow's directory into out (MS_WORKFLOW_PATH_MAX bytes). */
static void resolve_path(const char *wf_dir, const char *given, char *out)
{
    if (given[0] == '/' || strcmp(wf_dir, ".") == 0)
        snprintf(out, MS_WORKFLOW_PATH_MAX, "%s", given);
    else snprintf(out, MS_WORKFLOW_PATH_MAX, "%s/%s", wf_dir, given);
    clean_path(out);
    /* An absolute path under the current directory is written relative to it. */
    char cwd[MS_WORKFLOW_PATH_MAX];
    if (out[0] == '/' && getcwd(cwd, sizeof cwd)) {
        size_t k = strlen(cwd);
        if (k > 1 && strncmp(out, cwd, k) == 0 && out[k] == '/')
            memmove(out, out + k + 1, strlen(out + k + 1) + 1);
    }
}

static int path_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static ms_format format_from_name(const char *s)
{
    if (strcmp(s, "cif") == 0) return MS_FORMAT_CIF;
    if (strcmp(s, "json") == 0) return MS_FORMAT_JSON;
    if (strcmp(s, "jsonl") == 0) return MS_FORMAT_JSONL;
    if (strcmp(s, "poscar") == 0) return MS_FORMAT_POSCAR;
    return MS_FORMAT_AUTO;
}

static ms_source_db db_from_name(const char *s)
{
    if (strcmp(s, "ICSD") == 0) return MS_DB_ICSD;
    if (strcmp(s, "COD") == 0) return MS_DB_COD;
    if (strcmp(s, "MP") == 0) return MS_DB_MP;
    if (strcmp(s, "other") == 0) return MS_DB_OTHER;
    return MS_DB_UNKNOWN;
}

/* Copies text without its surrounding white space (XML element text keeps it) into buf. */
static const char *trimmed(const char *text, char *buf, size_t n)
{
    while (isspace((unsigned char)*text))
        text++;
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len >= n) len = n - 1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return buf;
}

/* An issue at line for a number refused by the one numeric parser (number.h); 1 when st is
 * MS_SUCCESS. */
static int wf_number(load_ctx *c, int line, ms_status st)
{
    if (st == MS_SUCCESS) return 1;
    add_issue(c, MS_ERR_INVALID, line, "%s", ms_error_message());
    return 0;
}

/* A number of the workflow in [lo, hi]; what names it in the message ("<top-k>"). */
static int wf_double(load_ctx *c, int line, const char *what, const char *text, double lo,
                     double hi, double *out)
{
    char buf[256];
    return wf_number(c, line, ms_parse_double(what, trimmed(text, buf, sizeof buf), lo, hi, out));
}

static int wf_count(load_ctx *c, int line, const char *what, const char *text, uint64_t lo,
                    uint64_t hi, uint64_t *out)
{
    char buf[256];
    return wf_number(c, line, ms_parse_u64(what, trimmed(text, buf, sizeof buf), lo, hi, out));
}

static void check_source(load_ctx *c, const char *wf_dir, const xmlNode *n, const char *elem,
                         ms_workflow_source *s)
{
    char path[MS_WORKFLOW_PATH_MAX], pattern[MS_WORKFLOW_PATH_MAX], v[64];
    int has_path = attr(n, "path", path, sizeof path);
    int has_glob = attr(n, "glob", pattern, sizeof pattern);
    int line = node_line(n);
    memset(s, 0, sizeof *s);
    s->line = line;
    if (has_path == has_glob) {
        add_issue(c, MS_ERR_INVALID, line, "<%s>: give either path= or glob=, %s", elem,
                  has_path ? "not both" : "one of them is required");
        return;
    }
    attr(n, "format", v, sizeof v);
    s->format = format_from_name(v);
    attr(n, "database", v, sizeof v);
    s->db = db_from_name(v);
    uint64_t trust;
    if (attr(n, "trust", v, sizeof v) && wf_count(c, line, "<source trust>", v, 1, 100, &trust))
        s->trust = (int)trust;
    if (has_path) {
        resolve_path(wf_dir, path, s->spec);
        if (!path_exists(s->spec))
            add_issue(c, MS_ERR_INVALID, line, "<%s path=\"%s\">: %s does not exist%s", elem, path,
                      s->spec, path[0] == '/' ? "" : " (relative paths start at the workflow's "
                                                     "directory)");
        return;
    }
    s->is_glob = 1;
    resolve_path(wf_dir, pattern, s->spec);
    if (!has_glob_chars(pattern)) {
        add_issue(c, MS_ERR_INVALID, line,
                  "<%s glob=\"%s\">: the pattern has no wildcard (*, ? or [...]); use path= for a "
                  "plain file or directory", elem, pattern);
        return;
    }
    glob_t g;
    int rc = glob(s->spec, GLOB_NOSORT, NULL, &g);
    if (rc == 0) globfree(&g);
    else
        add_issue(c, MS_ERR_INVALID, line, "<%s glob=\"%s\">: %s matches no file", elem, pattern,
                  s->spec);
}

/* Parses a list of element symbols ("Li, Na K") into set (record_filter.h: the screen's parser). */
static void parse_elements(load_ctx *c, const xmlNode *n, unsigned char *set)
{
    char text[1024];
    text_of(n, text, sizeof text);
    if (ms_record_filter_parse_elements(text, set) != MS_SUCCESS)
        add_issue(c, MS_ERR_INVALID, node_line(n), "<%s>: %s", (const char *)n->name,
                  ms_error_message());
}

/* <acquisition>: the function and its settings, each the workflow twin of a screen option
 * (target = --best, xi = --xi, kappa = --kappa). A setting the function does not use is refused,
 * so that nothing written in the file is silently ignored. */
static void check_acquisition(load_ctx *c, const xmlNode *n, ms_workflow *w)
{
    static const struct {
        const char *name;
        const char *used_by; /* functions that read it, space separated */
        const char *meaning;
    } settings[] = {{"target", "mei mli", "the best label so far (like screen --best)"},
                    {"xi", "mei mli", "the EI / PI margin (like screen --xi)"},
                    {"kappa", "ucb", "the UCB weight of sigma (like screen --kappa)"}};
    double *dst[] = {&w->acq_target, &w->acq_xi, &w->acq_kappa};
    const double lo[] = {-MS_NUM_MAX, 0, 0}; /* the ranges of screen --best, --xi, --kappa */
    int line = node_line(n);
    char v[128], pad[32];
    attr(n, "function", w->acquisition, sizeof w->acquisition);
    snprintf(pad, sizeof pad, " %s ", w->acquisition);
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (!attr(n, settings[i].name, v, sizeof v)) continue;
        char uses[32];
        snprintf(uses, sizeof uses, " %s ", settings[i].used_by);
        double x;
        char what[64];
        snprintf(what, sizeof what, "<acquisition %s>", settings[i].name);
        if (!wf_double(c, line, what, v, lo[i], MS_NUM_MAX, &x))
            continue;
        if (!strstr(uses, pad))
            add_issue(c, MS_ERR_INVALID, line,
                      "<acquisition function=\"%s\" %s=\"%s\">: %s= is %s, used by %s only; "
                      "remove it or change the function", w->acquisition, settings[i].name, v,
                      settings[i].name, settings[i].meaning, settings[i].used_by);
        else if (i == 0 && w->stage == MS_WORKFLOW_CAMPAIGN)
            add_issue(c, MS_ERR_INVALID, line,
                      "<acquisition target=\"%s\">: stage campaign takes the best label found so "
                      "far; target= is for screening", v);
        else
            *dst[i] = x;
    }
}

static void list_rank_names(char *out, size_t n)
{
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < MS_RANK_COUNT && k < n; i++)
        k += (size_t)snprintf(out + k, n - k, "%s%s", i ? ", " : "", ms_rank_by_name((ms_rank_by)i));
}

static void check_filters(load_ctx *c, const xmlNode *f, ms_workflow *w)
{
    for (const xmlNode *n = f->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        int line = node_line(n);
        char v[256];
        ms_record_filter *flt = &w->filter;
        if (is_elem(n, "require-elements")) {
            parse_elements(c, n, flt->require);
        } else if (is_elem(n, "exclude-elements")) {
            parse_elements(c, n, flt->exclude);
        } else if (is_elem(n, "max-atoms")) {
            text_of(n, v, sizeof v);
            double x; /* at most what the readers accept */
            if (wf_double(c, line, "<max-atoms>", v, 0, 1e6, &x)) flt->max_atoms = x;
        } else if (is_elem(n, "validity-severity")) {
            text_of(n, v, sizeof v);
            flt->reject_warnings = strcmp(v, "warning") == 0;
        } else if (is_elem(n, "range")) {
            char q[64];
            attr(n, "descriptor", q, sizeof q);
            double lo = -INFINITY, hi = INFINITY;
            int has_min = attr(n, "min", v, sizeof v);
            if (has_min && !wf_double(c, line, "<range min>", v, -MS_NUM_MAX, MS_NUM_MAX, &lo))
                continue;
            int has_max = attr(n, "max", v, sizeof v);
            if (has_max && !wf_double(c, line, "<range max>", v, -MS_NUM_MAX, MS_NUM_MAX, &hi))
                continue;
            if (ms_record_filter_add_range(flt, q, lo, hi) != MS_SUCCESS)
                add_issue(c, MS_ERR_INVALID, line, "<range descriptor=\"%s\">: %s", q,
                          ms_error_message());
        }
    }
    for (int z = 1; z <= MS_MAX_Z; z++)
        if (w->filter.require[z] && w->filter.exclude[z])
            add_issue(c, MS_ERR_INVALID, node_line(f),
                      "<filters>: %s is both required and excluded; no candidate can pass",
                      ms_element_symbol(z));
}

static void check_models(load_ctx *c, const char *wf_dir, const xmlNode *m, ms_workflow *w)
{
    char ev[64];
    uint64_t ek; /* the range of screen --explain */
    if (attr(m, "explain", ev, sizeof ev) && wf_count(c, node_line(m), "<models explain>", ev, 1, 20, &ek))
        w->explain_k = (size_t)ek;
    for (const xmlNode *n = m->children; n; n = n->next) {
        char given[MS_WORKFLOW_PATH_MAX];
        if (is_elem(n, "model")) {
            attr(n, "file", given, sizeof given);
            if (w->n_models >= MS_WORKFLOW_MAX_MODELS) continue;
            char *dst = w->models[w->n_models++];
            resolve_path(wf_dir, given, dst);
            if (!path_exists(dst))
                add_issue(c, MS_ERR_INVALID, node_line(n), "<model file=\"%s\">: %s does not exist",
                          given, dst);
        } else if (is_elem(n, "training")) {
            ms_workflow_training *t = &w->training;
            t->present = 1;
            t->line = node_line(n);
            char v[64];
            attr(n, "kind", t->kind, sizeof t->kind);
            uint64_t folds = 0; /* the schema's range, and its default */
            if (!attr(n, "folds", v, sizeof v))
                folds = 5;
            else
                wf_count(c, t->line, "<training folds>", v, 2, 100, &folds);
            t->folds = (int)folds;
            attr(n, "output", given, sizeof given);
            resolve_path(wf_dir, given, t->output);
            t->threshold = NAN;
            for (const xmlNode *k = n->children; k; k = k->next) {
                if (is_elem(k, "labels")) {
                    attr(k, "file", given, sizeof given);
                    resolve_path(wf_dir, given, t->labels);
                    if (!path_exists(t->labels))
                        add_issue(c, MS_ERR_INVALID, node_line(k),
                                  "<labels file=\"%s\">: %s does not exist", given, t->labels);
                    attr(k, "id-column", t->id_column, sizeof t->id_column);
                    attr(k, "formula-column", t->formula_column, sizeof t->formula_column);
                    attr(k, "target", t->target, sizeof t->target);
                    attr(k, "transform", t->transform, sizeof t->transform);
                    if (attr(k, "threshold", v, sizeof v))
                        wf_double(c, node_line(k), "<labels threshold>", v, -MS_NUM_MAX, MS_NUM_MAX,
                                  &t->threshold);
                } else if (is_elem(k, "structures")) {
                    if (t->n_structures < sizeof t->structures / sizeof t->structures[0])
                        check_source(c, wf_dir, k, "structures", &t->structures[t->n_structures++]);
                }
            }
        }
    }
}

/* Reads a whole-number attribute of <campaign>: 1 .. 10^8, else an issue (and dflt). */
static size_t campaign_count(load_ctx *c, const xmlNode *n, const char *name, size_t dflt)
{
    char v[64], what[64];
    uint64_t x = dflt;
    if (!n || !attr(n, name, v, sizeof v)) return dflt;
    snprintf(what, sizeof what, "<campaign %s>", name);
    return wf_count(c, node_line(n), what, v, 1, 100000000ULL, &x) ? (size_t)x : dflt;
}

/* Adds acquisition kind k to the campaign list; 0 when it is already there or the list is full. */
static int campaign_add_acq(ms_workflow_campaign *cp, ms_acq_kind k)
{
    for (size_t i = 0; i < cp->n_acq; i++)
        if (cp->acq[i] == (int)k) return 0;
    if (cp->n_acq >= MS_WORKFLOW_MAX_ACQ) return 0;
    cp->acq[cp->n_acq++] = (int)k;
    return 1;
}

/* <campaign group= pool-fraction=>: the grouped mode of `matscreen campaign --group`. */
static void check_campaign_group(load_ctx *c, const xmlNode *n, ms_workflow_campaign *cp)
{
    char v[256];
    cp->group[0] = 0;
    cp->pool_frac = 0.2;
    if (n && attr(n, "group", v, sizeof v)) {
        ms_group_spec g;
        if (ms_group_spec_parse(v, &g) != MS_SUCCESS || g.kind == MS_GROUP_COLUMN ||
            strlen(v) >= sizeof cp->group)
            add_issue(c, MS_ERR_INVALID, node_line(n),
                      "<campaign group=\"%.60s\">: give chemsys, formula, kmeans:K or none", v);
        else if (g.kind != MS_GROUP_NONE)
            ms_group_spec_format(&g, cp->group, sizeof cp->group);
    }
    if (n && attr(n, "pool-fraction", v, sizeof v))
        wf_double(c, node_line(n), "<campaign pool-fraction>", v, 1e-9, 1 - 1e-9, &cp->pool_frac);
}

/* Settings of stage campaign: <campaign> (may be NULL) and the <acquisition> function. */
static void check_campaign(load_ctx *c, const xmlNode *n, ms_workflow *w)
{
    ms_workflow_campaign *cp = &w->campaign;
    cp->line = n ? node_line(n) : 0;
    cp->n0 = campaign_count(c, n, "initial", 10);
    cp->batch = campaign_count(c, n, "batch", 1);
    cp->budget = campaign_count(c, n, "iterations", 50);
    cp->seeds = campaign_count(c, n, "repeats", 10);
    cp->n_acq = 0;
    int line = cp->line ? cp->line : 0;
    check_campaign_group(c, n, cp);
    if (cp->n0 < 2)
        add_issue(c, MS_ERR_INVALID, line,
                  "<campaign initial=\"%zu\">: a campaign starts from at least 2 labels", cp->n0);
    if (cp->seeds > 100000)
        add_issue(c, MS_ERR_INVALID, line,
                  "<campaign repeats=\"%zu\">: at most 100000 repeats", cp->seeds);
    char list[256];
    if (n && attr(n, "acquisitions", list, sizeof list)) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", list);
        int bad = 0;
        for (char *tok = strtok(buf, ", \t\n"); tok && !bad; tok = strtok(NULL, ", \t\n")) {
            ms_acq_kind k;
            if (ms_acq_lookup(tok, &k) != MS_SUCCESS) {
                add_issue(c, MS_ERR_INVALID, line,
                          "<campaign acquisitions=\"%s\">: '%.40s' is not an acquisition "
                          "function; valid: ei (or mei), pi (or mli), mu, ucb, mean, random",
                          list, tok);
                bad = 1;
            } else if (!campaign_add_acq(cp, k)) {
                add_issue(c, MS_ERR_INVALID, line,
                          "<campaign acquisitions=\"%s\">: '%.40s' is given twice", list, tok);
                bad = 1;
            }
        }
        if (!bad && cp->n_acq == 0)
            add_issue(c, MS_ERR_INVALID, line,
                      "<campaign acquisitions=\"%s\">: no acquisition function given", list);
        return;
    }
    /* default: the <acquisition> function against random picking */
    ms_acq_kind k = MS_ACQ_EI;
    const char *f = w->acquisition;
    if (!strcmp(f, "mli") || !strcmp(f, "probability")) k = MS_ACQ_PI;
    else if (f[0] && ms_acq_lookup(f, &k) != MS_SUCCESS) k = MS_ACQ_EI;
    campaign_add_acq(cp, k);
    campaign_add_acq(cp, MS_ACQ_RANDOM);
}

static void check_descriptors(load_ctx *c, const xmlNode *n, int line, ms_workflow *w)
{
    attr(n, "set", w->descriptor_set, sizeof w->descriptor_set);
    const ms_descriptor_set *set;
    if (ms_descriptor_set_lookup(w->descriptor_set, &set) != MS_SUCCESS) {
        char names[256] = "";
        size_t k = 0;
        for (size_t i = 0; i < ms_descriptor_set_count() && k < sizeof names; i++)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "",
                                  ms_descriptor_set_get(i)->name);
        add_issue(c, MS_ERR_INVALID, line,
                  "<descriptors set=\"%s\">: unknown descriptor set; this build has: %s",
                  w->descriptor_set, names);
    }
}

/* The screen merges duplicates by database (ms_dedup_trust_from_inputs): sources of one
 * database must agree on its trust rank. */
static void check_trust_order(load_ctx *c, const ms_workflow *w)
{
    for (size_t i = 0; i < w->n_sources; i++)
        for (size_t j = i + 1; j < w->n_sources; j++) {
            const ms_workflow_source *a = &w->sources[i], *b = &w->sources[j];
            if (a->trust && b->trust && a->db == b->db && a->trust != b->trust) {
                add_issue(c, MS_ERR_INVALID, b->line,
                          "<source trust=\"%d\">: %s has trust %d at line %d; duplicates are "
                          "merged by database, so give the sources of one database one trust",
                          b->trust, ms_source_db_name(b->db), a->trust, a->line);
                return;
            }
        }
}

/* <models explain="K">: explanations come from the screen's model (the surrogate, else the
 * classifier), so there must be a screen and a model; a <training> learner that cannot explain
 * is refused here (a model file's kind is checked when the screen loads it). */
static void check_explain(load_ctx *c, const xmlNode *models, const ms_workflow *w)
{
    if (!w->explain_k) return;
    int line = node_line(models);
    if (w->stage == MS_WORKFLOW_CAMPAIGN) {
        add_issue(c, MS_ERR_INVALID, line, "<models explain>: stage campaign screens nothing, so "
                                           "there is nothing to explain; remove explain=");
        return;
    }
    int trained = w->stage == MS_WORKFLOW_TRAIN && w->training.present;
    if (w->n_models == 0 && !trained) {
        add_issue(c, MS_ERR_INVALID, line, "<models explain>: explanations need a <model> (or a "
                                           "<training> in stage train) to explain");
        return;
    }
    const ms_model_type *type = NULL;
    if (trained && w->n_models == 0 &&
        ms_model_type_lookup(ms_workflow_learner_name(w->training.kind), &type) == MS_SUCCESS &&
        !type->explain)
        add_issue(c, MS_ERR_UNSUPPORTED, line, "<models explain>: learner '%s' cannot explain its "
                  "predictions; use kind forest or gbm, or drop explain=", w->training.kind);
}

static void check_document(load_ctx *c, const xmlNode *root, const char *wf_dir, ms_workflow *w)
{
    char v[MS_WORKFLOW_PATH_MAX];
    int root_line = node_line(root);
    attr(root, "name", w->name, sizeof w->name);
    if (attr(root, "stage", v, sizeof v)) {
        if (strcmp(v, "train") == 0) w->stage = MS_WORKFLOW_TRAIN;
        else if (strcmp(v, "evaluate") == 0) w->stage = MS_WORKFLOW_EVALUATE;
        else if (strcmp(v, "campaign") == 0) w->stage = MS_WORKFLOW_CAMPAIGN;
        else w->stage = MS_WORKFLOW_SCREEN;
    }
    if (attr(root, "seed", v, sizeof v)) {
        uint64_t s;
        if (wf_count(c, root_line, "<workflow seed>", v, 0, UINT64_MAX, &s)) w->seed = s;
    }
    ms_record_filter_init(&w->filter);
    w->top_k = 20;
    w->rank_by = MS_RANK_LI_FRACTION;
    w->ascending = -1; /* <ranking order=> not given */
    w->acq_target = NAN;
    w->acq_kappa = NAN; /* not given: each stage's own default (workflow_run.c, stages.c) */
    snprintf(w->descriptor_set, sizeof w->descriptor_set, "default");
    const xmlNode *models = NULL, *acquisition = NULL, *campaign = NULL;
    for (const xmlNode *n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        int line = node_line(n);
        if (is_elem(n, "sources")) {
            for (const xmlNode *s = n->children; s; s = s->next)
                if (is_elem(s, "source") && w->n_sources < MS_WORKFLOW_MAX_SOURCES)
                    check_source(c, wf_dir, s, "source", &w->sources[w->n_sources++]);
        } else if (is_elem(n, "filters")) {
            check_filters(c, n, w);
        } else if (is_elem(n, "descriptors")) {
            check_descriptors(c, n, line, w);
        } else if (is_elem(n, "models")) {
            models = n;
            check_models(c, wf_dir, n, w);
        } else if (is_elem(n, "ranking")) {
            attr(n, "by", v, sizeof v);
            int q = ms_rank_by_from_name(v);
            if (q < 0) {
                char names[256];
                list_rank_names(names, sizeof names);
                add_issue(c, MS_ERR_INVALID, line, "<ranking by=\"%s\">: unknown quantity; valid: %s",
                          v, names);
            } else {
                w->rank_by = q;
            }
            /* no order=: the surrogate's stored goal decides, as `screen` without
             * --ascending / --descending (screen.h) */
            if (attr(n, "order", v, sizeof v)) w->ascending = strcmp(v, "ascending") == 0;
        } else if (is_elem(n, "acquisition")) {
            acquisition = n;
            check_acquisition(c, n, w);
        } else if (is_elem(n, "campaign")) {
            campaign = n;
        } else if (is_elem(n, "top-k")) {
            text_of(n, v, sizeof v);
            uint64_t k; /* the top-K are written as CIF files: at most 100000 */
            if (wf_count(c, line, "<top-k>", v, 0, 100000, &k)) w->top_k = (size_t)k;
        } else if (is_elem(n, "output")) {
            char given[MS_WORKFLOW_PATH_MAX];
            attr(n, "dir", given, sizeof given);
            resolve_path(wf_dir, given, w->output_dir);
        }
    }
    /* Consistency between parts. */
    if (acquisition && !(w->n_models > 0 || w->training.present))
        add_issue(c, MS_ERR_INVALID, node_line(acquisition),
                  "<acquisition function=\"%s\">: an acquisition function needs a model; add "
                  "<models> or use <ranking> alone", w->acquisition);
    if (campaign && w->stage != MS_WORKFLOW_CAMPAIGN)
        add_issue(c, MS_ERR_INVALID, node_line(campaign),
                  "<campaign>: campaign settings are only used by stage=\"campaign\" (this "
                  "workflow's stage is '%s')", ms_workflow_stage_name(w->stage));
    if ((w->stage == MS_WORKFLOW_TRAIN || w->stage == MS_WORKFLOW_CAMPAIGN) && !w->training.present)
        add_issue(c, MS_ERR_INVALID, root_line,
                  "<workflow stage=\"%s\">: this stage needs <models><training> with the labels",
                  ms_workflow_stage_name(w->stage));
    if (w->stage == MS_WORKFLOW_EVALUATE && w->n_models == 0 && !w->training.present)
        add_issue(c, MS_ERR_INVALID, root_line,
                  "<workflow stage=\"evaluate\">: this stage needs a <model> or <training>");
    check_trust_order(c, w);
    check_explain(c, models, w);
    /* Models: learners of the registry; at most MS_WORKFLOW_SCREEN_MODELS models reach the
     * screen (the trained one counts). */
    if (w->training.present) {
        const ms_model_type *type = NULL;
        const char *learner = ms_workflow_learner_name(w->training.kind);
        if (ms_model_type_lookup(learner, &type) != MS_SUCCESS) {
            char names[256] = "";
            size_t k = 0;
            for (size_t i = 0; ms_model_type_get(i) && k < sizeof names; i++)
                k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "",
                                      ms_model_type_get(i)->name);
            add_issue(c, MS_ERR_UNSUPPORTED, w->training.line,
                      "<training kind=\"%s\">: this build has no such learner; it has: %s",
                      w->training.kind, names);
        }
        if ((w->stage == MS_WORKFLOW_TRAIN || w->stage == MS_WORKFLOW_EVALUATE) &&
            w->training.n_structures == 0)
            add_issue(c, MS_ERR_INVALID, w->training.line,
                      "<training>: stage '%s' needs <structures path=\"DIR\"/> naming the "
                      "directory of the labelled structures (ID.cif for each row)",
                      ms_workflow_stage_name(w->stage));
        else if (w->training.n_structures > 1)
            add_issue(c, MS_ERR_UNSUPPORTED, w->training.structures[1].line,
                      "<structures>: one directory of labelled structures is supported");
    }
    if (w->n_models + (w->stage == MS_WORKFLOW_TRAIN) > MS_WORKFLOW_SCREEN_MODELS)
        add_issue(c, MS_ERR_UNSUPPORTED, models ? node_line(models) : root_line,
                  "<models>: the screen takes at most %d models (a classifier and a surrogate; "
                  "the model trained by this workflow counts)", MS_WORKFLOW_SCREEN_MODELS);
    /* Stage campaign: its settings, and a surrogate campaign.h provides. */
    if (w->stage == MS_WORKFLOW_CAMPAIGN) {
        check_campaign(c, campaign, w);
        const char *kind = ms_workflow_learner_name(w->training.kind);
        if (w->training.present && strcmp(kind, "forest") != 0 && strcmp(kind, "gp") != 0)
            add_issue(c, MS_ERR_UNSUPPORTED, w->training.line,
                      "<training kind=\"%s\">: stage campaign needs a surrogate with an "
                      "uncertainty: forest or gp", w->training.kind);
    }
}

/* Depth of the element tree (bounded by libxml2's own parse limit). */
static int tree_depth(const xmlNode *n, int d)
{
    int best = d;
    for (const xmlNode *k = n->children; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE) {
            int kd = tree_depth(k, d + 1);
            if (kd > best) best = kd;
        }
    return best;
}

static const xmlNode *deepest_line_node(const xmlNode *n, int d, int limit)
{
    if (d > limit) return n;
    for (const xmlNode *k = n->children; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE) {
            const xmlNode *r = deepest_line_node(k, d + 1, limit);
            if (r) return r;
        }
    return NULL;
}

/* ---- load ------------------------------------------------------------------------------------ */

static ms_status load_schema(load_ctx *c, const char *schema_path, xmlSchemaPtr *out)
{
    char path[MS_WORKFLOW_PATH_MAX];
    *out = NULL;
    if (schema_path) {
        snprintf(path, sizeof path, "%s", schema_path);
    } else {
        char dir[MS_WORKFLOW_PATH_MAX - 32];
        if (ms_share_dir(dir, sizeof dir) != MS_SUCCESS) {
            add_issue(c, MS_ERR_NOT_FOUND, 0, "cannot find the workflow schema: %s",
                      ms_error_message());
            return MS_ERR_NOT_FOUND;
        }
        snprintf(path, sizeof path, "%s/workflow.xsd", dir);
    }
    /* Read it ourselves so that libxml2 never resolves a URL for it. */
    char *buf = NULL;
    size_t n = 0;
    ms_status rs = ms_read_whole_file(path, MS_WORKFLOW_MAX_BYTES, &buf, &n);
    if (rs != MS_SUCCESS || n == 0) {
        if (rs == MS_SUCCESS) ms_error_set(rs = MS_ERR_IO, "%s: empty file", path);
        add_issue(c, rs, 0, "cannot read the workflow schema: %s", ms_error_message());
        free(buf);
        return rs;
    }
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewMemParserCtxt(buf, (int)n);
    if (pc) xmlSchemaSetParserStructuredErrors(pc, on_xml_error, c);
    *out = pc ? xmlSchemaParse(pc) : NULL;
    xmlSchemaFreeParserCtxt(pc);
    free(buf);
    if (!*out) {
        if (c->issues->n == 0) add_issue(c, MS_ERR_INTERNAL, 0, "the schema %s is broken", path);
        return MS_ERR_INTERNAL;
    }
    return MS_SUCCESS;
}

ms_status ms_workflow_load(const char *path, const char *schema_path, ms_workflow **out,
                           ms_workflow_issues *issues)
{
    if (out) *out = NULL;
    if (!issues) return ms_error_set(MS_ERR_USAGE, "ms_workflow_load: issues is required");
    memset(issues, 0, sizeof *issues);
    if (!path || !out) return ms_error_set(MS_ERR_USAGE, "ms_workflow_load: path and out are required");
    load_ctx c = {path, issues, MS_SUCCESS, -1, NULL, ""};
    unsigned char *buf = NULL;
    size_t n = 0;
    xmlDocPtr doc = NULL;
    xmlSchemaPtr schema = NULL;
    ms_workflow *w = NULL;
    xmlParserCtxtPtr pctx = NULL;

    if (read_limited(&c, path, &buf, &n) != MS_SUCCESS) goto done;
    if (check_bytes(&c, buf, n) != MS_SUCCESS) goto done;

    xmlSetStructuredErrorFunc(&c, on_xml_error);
    pctx = xmlNewParserCtxt();
    if (!pctx) {
        add_issue(&c, MS_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    /* No NOENT (entities stay unexpanded), no DTDLOAD/DTDATTR/DTDVALID, no HUGE (keeps libxml2's
     * depth and size limits), no network. */
    doc = xmlCtxtReadMemory(pctx, (const char *)buf, (int)n, NULL, "UTF-8",
                            XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOWARNING);
    if (!doc || c.issues->n > 0) {
        if (c.issues->n == 0) add_issue(&c, MS_ERR_PARSE, 0, "not well-formed XML");
        goto done;
    }
    if (doc->intSubset || doc->extSubset) { /* cannot happen after the prolog scan; belt and braces */
        add_issue(&c, MS_ERR_PARSE, 1, "a DOCTYPE is not allowed in a workflow");
        goto done;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!root) {
        add_issue(&c, MS_ERR_PARSE, 0, "the document has no root element");
        goto done;
    }
    if (tree_depth(root, 1) > MS_WORKFLOW_MAX_DEPTH) {
        const xmlNode *deep = deepest_line_node(root, 1, MS_WORKFLOW_MAX_DEPTH);
        add_issue(&c, MS_ERR_LIMIT, deep ? node_line(deep) : 0,
                  "elements are nested more than %d deep; a workflow needs 4", MS_WORKFLOW_MAX_DEPTH);
        goto done;
    }
    if (load_schema(&c, schema_path, &schema) != MS_SUCCESS) goto done;
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    if (!vc) {
        add_issue(&c, MS_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    xmlSchemaSetValidStructuredErrors(vc, on_xml_error, &c);
    int rc = xmlSchemaValidateDoc(vc, doc);
    xmlSchemaFreeValidCtxt(vc);
    if (rc != 0) {
        if (c.issues->n == 0) add_issue(&c, MS_ERR_INVALID, 0, "the workflow does not match the schema");
        goto done;
    }
    w = calloc(1, sizeof *w);
    if (!w) {
        add_issue(&c, MS_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    snprintf(w->file, sizeof w->file, "%s", path);
    w->hash = ms_hash_bytes(buf, n);
    char wf_dir[MS_WORKFLOW_PATH_MAX];
    snprintf(wf_dir, sizeof wf_dir, "%s", path);
    char *slash = strrchr(wf_dir, '/');
    if (!slash) snprintf(wf_dir, sizeof wf_dir, ".");
    else if (slash == wf_dir) wf_dir[1] = 0;
    else *slash = 0;
    check_document(&c, root, wf_dir, w);

done:
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (schema) xmlSchemaFree(schema);
    if (doc) xmlFreeDoc(doc);
    if (pctx) xmlFreeParserCtxt(pctx);
    free(buf);
    if (issues->n > 0) {
        free(w);
        ms_status st = c.first == MS_SUCCESS ? MS_ERR_INVALID : c.first;
        return ms_error_set(st, "%s", issues->items[0].message);
    }
    *out = w;
    return MS_SUCCESS;
}

void ms_workflow_free(ms_workflow *w) { free(w); }

int ms_workflow_accepts(const ms_workflow *w, const char *formula, double n_atoms, unsigned flags,
                        const double *values)
{
    return !w || ms_record_filter_accepts(&w->filter, formula, n_atoms, flags, values);
}
