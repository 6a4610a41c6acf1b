/* Numeric options and attributes; see number.h. */
#include "matscreen/number.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

ms_status ms_parse_double(const char *name, const char *text, double lo, double hi, double *out)
{
    const char *t = text ? text : "";
    char *end;
    errno = 0;
    double v = strtod(t, &end);
    if (!*t || isspace((unsigned char)*t) || *end)
        return ms_error_set(MS_ERR_USAGE, "%s: '%s' is not a number (give a number in [%g, %g])",
                            name, t, lo, hi);
    if (!isfinite(v) || errno == ERANGE)
        return ms_error_set(MS_ERR_USAGE,
                            "%s: '%s' is not a finite number (give a number in [%g, %g])", name, t,
                            lo, hi);
    if (v < lo || v > hi)
        return ms_error_set(MS_ERR_USAGE, "%s: %s is out of range (give a number in [%g, %g])",
                            name, t, lo, hi);
    *out = v;
    return MS_SUCCESS;
}

ms_status ms_parse_u64(const char *name, const char *text, uint64_t lo, uint64_t hi, uint64_t *out)
{
    const char *t = text ? text : "";
    char *end;
    errno = 0;
    unsigned long long v = isdigit((unsigned char)*t) ? strtoull(t, &end, 10) : 0;
    if (!isdigit((unsigned char)*t) || *end)
        return ms_error_set(MS_ERR_USAGE,
                            "%s: '%s' is not a whole number (give one in [%llu, %llu])", name, t,
                            (unsigned long long)lo, (unsigned long long)hi);
    if (errno == ERANGE || v < lo || v > hi)
        return ms_error_set(MS_ERR_USAGE,
                            "%s: %s is out of range (give a whole number in [%llu, "
                            "%llu])",
                            name, t, (unsigned long long)lo, (unsigned long long)hi);
    *out = (uint64_t)v;
    return MS_SUCCESS;
}

ms_status ms_parse_size(const char *name, const char *text, uint64_t lo, uint64_t hi, size_t *out)
{
    uint64_t v;
    if (hi > SIZE_MAX) hi = SIZE_MAX;
    MS_CALL(ms_parse_u64(name, text, lo, hi, &v));
    *out = (size_t)v;
    return MS_SUCCESS;
}

ms_status ms_parse_int(const char *name, const char *text, int lo, int hi, int *out)
{
    uint64_t v;
    MS_CALL(ms_parse_u64(name, text, lo < 0 ? 0 : (uint64_t)lo, hi < 0 ? 0 : (uint64_t)hi, &v));
    *out = (int)v;
    return MS_SUCCESS;
}
