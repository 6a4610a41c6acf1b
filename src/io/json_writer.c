/* JSON text straight into a buffer, in jansson's compact form (see json_writer.h). */
#include "matscreen/json_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/outfile.h"

void ms_json_writer_init(ms_json_writer *w, int precision)
{
    memset(w, 0, sizeof *w);
    w->precision = precision < 1 ? 1 : precision > 17 ? 17 : precision;
}

void ms_json_writer_reset(ms_json_writer *w)
{
    w->n = 0;
    if (w->data) w->data[0] = '\0';
    w->failed = 0;
    w->depth = 0;
    w->after_key = 0;
    w->has_item = w->is_object = 0;
}

void ms_json_writer_free(ms_json_writer *w)
{
    free(w->data);
    int p = w->precision;
    ms_json_writer_init(w, p);
}

/* Makes room for n more bytes and the NUL; 0 when the writer has failed. */
static int reserve(ms_json_writer *w, size_t n)
{
    if (w->failed) return 0;
    if (w->n + n + 1 <= w->cap) return 1;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->n + n + 1) cap *= 2;
    char *d = realloc(w->data, cap);
    if (!d) {
        w->failed = 1;
        return 0;
    }
    w->data = d;
    w->cap = cap;
    return 1;
}

static void put(ms_json_writer *w, const char *s, size_t n)
{
    if (!reserve(w, n)) return;
    memcpy(w->data + w->n, s, n);
    w->n += n;
    w->data[w->n] = '\0';
}

static void put_char(ms_json_writer *w, char c)
{
    if (!reserve(w, 1)) return;
    w->data[w->n++] = c;
    w->data[w->n] = '\0';
}

/* Before a value: the comma between array items, nothing after a key. */
static void value_start(ms_json_writer *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth == 0) return;
    uint32_t bit = 1u << (w->depth - 1);
    if (w->is_object & bit) { /* a value in an object needs its key first */
        w->failed = 1;
        return;
    }
    if (w->has_item & bit) put_char(w, ',');
    w->has_item |= bit;
}

static void open_container(ms_json_writer *w, char c, int object)
{
    value_start(w);
    if (w->depth >= MS_JSON_MAX_DEPTH) {
        w->failed = 1;
        return;
    }
    uint32_t bit = 1u << w->depth;
    w->has_item &= ~bit;
    if (object) w->is_object |= bit;
    else w->is_object &= ~bit;
    w->depth++;
    put_char(w, c);
}

static void close_container(ms_json_writer *w, char c)
{
    if (w->depth == 0 || w->after_key) {
        w->failed = 1;
        return;
    }
    w->depth--;
    put_char(w, c);
}

void ms_json_object_begin(ms_json_writer *w) { open_container(w, '{', 1); }
void ms_json_object_end(ms_json_writer *w) { close_container(w, '}'); }
void ms_json_array_begin(ms_json_writer *w) { open_container(w, '[', 0); }
void ms_json_array_end(ms_json_writer *w) { close_container(w, ']'); }

/* s (len bytes) between quotes with jansson's escapes, checking UTF-8 on the way (one pass: the
 * output rows are mostly ASCII paths). Returns 0 when s is not valid UTF-8; the writer is then
 * left as it was. */
static int put_quoted(ms_json_writer *w, const char *s, size_t len)
{
    if (!reserve(w, 6 * len + 2)) return 1; /* worst case: every byte \u00XX */
    size_t start = w->n;
    char *o = w->data + w->n;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    *o++ = '"';
    while (p < end) {
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t k = ms_utf8_len(p); /* p[0] >= 0x80 here: 2-4, or 0 */
            if (!k || (size_t)(end - p) < k) {
                w->n = start;
                w->data[start] = '\0';
                return 0;
            }
            memcpy(o, p, k);
            o += k;
            p += k;
            continue;
        }
        p++;
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default: {
            static const char hex[] = "0123456789ABCDEF";
            memcpy(o, "u00", 3);
            o[3] = hex[c >> 4];
            o[4] = hex[c & 15];
            o += 5;
        }
        }
    }
    *o++ = '"';
    w->n = (size_t)(o - w->data);
    w->data[w->n] = '\0';
    return 1;
}

/* s as a JSON string: as it is when valid UTF-8, else escaped by ms_name_escape first (whose
 * output is valid UTF-8). */
static void put_string(ms_json_writer *w, const char *s)
{
    size_t len = strlen(s);
    if (put_quoted(w, s, len)) return;
    size_t n = 4 * len + 1;
    char small[1024], *e = n <= sizeof small ? small : malloc(n);
    if (!e) {
        w->failed = 1;
        return;
    }
    ms_name_escape(s, e, n);
    put_quoted(w, e, strlen(e));
    if (e != small) free(e);
}

void ms_json_key(ms_json_writer *w, const char *key)
{
    uint32_t bit = w->depth ? 1u << (w->depth - 1) : 0;
    if (!bit || !(w->is_object & bit) || w->after_key) {
        w->failed = 1;
        return;
    }
    size_t len = strlen(key);
    if (!reserve(w, len + 4)) return;
    char *o = w->data + w->n;
    if (w->has_item & bit) *o++ = ',';
    w->has_item |= bit;
    w->after_key = 1;
    size_t i = 0; /* a plain ASCII name (every key of the outputs): copied as it is */
    while (i < len && (unsigned char)key[i] >= 0x20 && (unsigned char)key[i] < 0x80 &&
           key[i] != '"' && key[i] != '\\')
        i++;
    if (i == len) {
        *o++ = '"';
        memcpy(o, key, len);
        o += len;
        *o++ = '"';
        *o++ = ':';
        w->n = (size_t)(o - w->data);
        w->data[w->n] = '\0';
        return;
    }
    w->n = (size_t)(o - w->data);
    put_string(w, key);
    put_char(w, ':');
}

void ms_json_string(ms_json_writer *w, const char *s)
{
    if (!s) {
        ms_json_null(w);
        return;
    }
    value_start(w);
    put_string(w, s);
}

/* jansson's touch-up of a "%.Ng" text (strconv.c, jsonp_dtostr): ".0" when it would read back
 * as an integer, and the exponent without '+' and leading zeros. */
static size_t fix_g(const char *g, char *out)
{
    size_t n = strlen(g);
    if (n > 39) n = 39;
    memcpy(out, g, n);
    out[n] = '\0';
    if (!memchr(out, '.', n) && !memchr(out, 'e', n)) {
        memcpy(out + n, ".0", 3);
        return n + 2;
    }
    char *e = memchr(out, 'e', n);
    if (!e) return n;
    char *start = e + 1, *end = start + 1;
    if (*start == '-') start++;
    while (*end == '0') end++;
    if (end != start) {
        memmove(start, end, (size_t)(out + n - end) + 1);
        n -= (size_t)(end - start);
    }
    return n;
}

size_t ms_format_u64(unsigned long long v, char *out)
{
    char t[24];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) out[i] = t[n - 1 - i];
    out[n] = '\0';
    return n;
}

size_t ms_format_i64(long long v, char *out)
{
    if (v >= 0) return ms_format_u64((unsigned long long)v, out);
    out[0] = '-';
    return 1 + ms_format_u64(0ULL - (unsigned long long)v, out + 1);
}

/* 10^k for 0 <= k <= 27, exact in long double (5^27 < 2^64). */
static long double pow10l_exact(int k)
{
    long double p = 1.0L;
    for (int i = 0; i < k; i++) p *= 10.0L;
    return p;
}

/* The P significant digits of a > 0 (finite) rounded to nearest: *m in [10^(P-1), 10^P) and
 * the decimal exponent *e of the first digit. Returns 0 when the long double rounding could
 * differ from the exact one (near a tie) or a is out of the exact range: printf decides. */
static int digits_of(double a, int P, unsigned long long *m, int *e)
{
    int x = (int)floor(log10(a));
    const long double lo = pow10l_exact(P - 1), hi = pow10l_exact(P);
    for (int tries = 0; tries < 3; tries++) {
        int k = P - 1 - x; /* scale a by 10^k */
        if (k > 27 || k < -27) return 0;
        long double s = k >= 0 ? (long double)a * pow10l_exact(k) : (long double)a / pow10l_exact(-k);
        if (s < lo) {
            x--;
            continue;
        }
        if (s >= hi) {
            x++;
            continue;
        }
        long double f = floorl(s), frac = s - f;
        /* s is a * 10^k rounded once (relative error at most 2^-64 < 1e-19): a fraction this
         * close to one half could round either way exactly; printf decides those */
        if (fabsl(frac - 0.5L) < hi * 1e-17L) return 0;
        unsigned long long d = (unsigned long long)f + (frac > 0.5L ? 1 : 0);
        if ((long double)d >= hi) { /* 9.99..95 rounds up to 10.0..0 */
            d /= 10;
            x++;
        }
        *m = d;
        *e = x;
        return 1;
    }
    return 0;
}

size_t ms_format_g(double v, int precision, char *out)
{
    int P = precision < 1 ? 1 : precision;
    unsigned long long m;
    int x;
    if (!isfinite(v) || P > 15 || v == 0.0 || !digits_of(fabs(v), P, &m, &x))
        return (size_t)snprintf(out, 40, "%.*g", P, v);
    char dg[24];
    ms_format_u64(m, dg); /* exactly P digits */
    int nd = P;
    while (nd > 1 && dg[nd - 1] == '0') nd--; /* %g drops trailing zeros */
    size_t n = 0;
    if (v < 0) out[n++] = '-';
    if (x < P && x >= -4) { /* fixed notation */
        if (x >= 0) {
            for (int i = 0; i <= x; i++) out[n++] = i < nd ? dg[i] : '0';
            if (nd > x + 1) {
                out[n++] = '.';
                for (int i = x + 1; i < nd; i++) out[n++] = dg[i];
            }
        } else {
            out[n++] = '0';
            out[n++] = '.';
            for (int i = 0; i < -x - 1; i++) out[n++] = '0';
            for (int i = 0; i < nd; i++) out[n++] = dg[i];
        }
    } else { /* d.ddd e+XX */
        out[n++] = dg[0];
        if (nd > 1) {
            out[n++] = '.';
            for (int i = 1; i < nd; i++) out[n++] = dg[i];
        }
        out[n++] = 'e';
        out[n++] = x < 0 ? '-' : '+';
        int ax = x < 0 ? -x : x;
        if (ax < 10) out[n++] = '0';
        n += ms_format_u64((unsigned long long)ax, out + n);
    }
    out[n] = '\0';
    return n;
}

size_t ms_json_format_real(double v, int precision, char *out)
{
    char g[40];
    ms_format_g(v, precision, g);
    return fix_g(g, out);
}

void ms_json_real_g(ms_json_writer *w, const char *g)
{
    value_start(w);
    char t[40];
    size_t n = fix_g(g, t);
    put(w, t, n);
}

void ms_json_real(ms_json_writer *w, double v)
{
    if (!isfinite(v)) {
        ms_json_null(w);
        return;
    }
    value_start(w);
    char t[40];
    size_t n = ms_json_format_real(v, w->precision, t);
    put(w, t, n);
}

void ms_json_integer(ms_json_writer *w, long long v)
{
    value_start(w);
    char t[24];
    put(w, t, ms_format_i64(v, t));
}

void ms_json_bool(ms_json_writer *w, int v)
{
    value_start(w);
    if (v) put(w, "true", 4);
    else put(w, "false", 5);
}

void ms_json_null(ms_json_writer *w)
{
    value_start(w);
    put(w, "null", 4);
}

void ms_json_raw(ms_json_writer *w, const char *text, size_t n)
{
    value_start(w);
    put(w, text, n);
}
