/* Filters on screened records, shared by the screen's options and the workflow; see
 * record_filter.h. */
#include "matscreen/record_filter.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matscreen/composition.h"

void ms_record_filter_init(ms_record_filter *f)
{
    memset(f, 0, sizeof *f);
    f->max_atoms = INFINITY;
}

static int any_element(const ms_record_filter *f)
{
    for (int z = 1; z <= MS_MAX_Z; z++)
        if (f->require[z] || f->exclude[z]) return 1;
    return 0;
}

int ms_record_filter_active(const ms_record_filter *f)
{
    return f && (f->reject_warnings || isfinite(f->max_atoms) || f->n_ranges || any_element(f));
}

int ms_record_filter_accepts(const ms_record_filter *f, const char *formula, double n_atoms,
                             unsigned flags, const double *values)
{
    if (!f) return 1;
    if (f->reject_warnings && (flags & MS_FLAG_WARNINGS)) return 0;
    if (isfinite(f->max_atoms) && !(n_atoms <= f->max_atoms)) return 0;
    for (size_t i = 0; i < f->n_ranges; i++) {
        double v = values ? values[f->ranges[i].rank_by] : NAN;
        if (!(v >= f->ranges[i].min && v <= f->ranges[i].max)) return 0;
    }
    if (!any_element(f)) return 1;
    ms_composition comp;
    if (!formula || ms_composition_parse(formula, &comp) != MS_SUCCESS) return 0;
    for (int z = 1; z <= MS_MAX_Z; z++) {
        int present = comp.amount[z] > MS_COMPOSITION_TOL;
        if (f->require[z] && !present) return 0;
        if (f->exclude[z] && present) return 0;
    }
    return 1;
}

int ms_record_filter_accepts_result(const ms_record_filter *f, const ms_result *r)
{
    double values[MS_RANK_COUNT];
    for (int i = 0; i < MS_RANK_COUNT; i++) values[i] = ms_result_quantity(r, (ms_rank_by)i);
    return ms_record_filter_accepts(f, r->formula, r->n_atoms, r->flags, values);
}

ms_status ms_record_filter_parse_elements(const char *text, unsigned char *set)
{
    const char *p = text;
    int count = 0;
    while (*p) {
        while (*p && (isspace((unsigned char)*p) || *p == ',')) p++;
        if (!*p) break;
        const char *e = p;
        while (*e && !isspace((unsigned char)*e) && *e != ',') e++;
        size_t len = (size_t)(e - p);
        int iso = 0;
        int z = len <= 3 ? ms_element_z(p, len, &iso) : 0;
        MS_CHECK(z > 0 && !iso, MS_ERR_USAGE, "'%.*s' is not an element symbol%s",
                 (int)(len > 40 ? 40 : len), p,
                 iso ? " (write H for hydrogen isotopes)"
                     : " (symbols are case-sensitive: Li, not LI)");
        set[z] = 1;
        count++;
        p = e;
    }
    MS_CHECK(count > 0, MS_ERR_USAGE, "no element symbols given");
    return MS_SUCCESS;
}

ms_status ms_record_filter_add_range(ms_record_filter *f, const char *name, double min, double max)
{
    int q = ms_rank_by_from_name(name);
    if (q < 0) {
        char names[256] = "";
        size_t k = 0;
        for (int i = 0; i < MS_RANK_COUNT && k < sizeof names; i++)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "",
                                  ms_rank_by_name((ms_rank_by)i));
        return ms_error_set(MS_ERR_USAGE, "ranges can filter on %s; '%s' is not one of them",
                            names, name);
    }
    MS_CHECK(!isnan(min) && !isnan(max), MS_ERR_USAGE, "range on %s: a bound is not a number",
             name);
    MS_CHECK(isfinite(min) || isfinite(max), MS_ERR_USAGE, "range on %s: give a minimum, a "
             "maximum or both", name);
    MS_CHECK(min <= max, MS_ERR_USAGE, "range on %s: min %.10g is larger than max %.10g", name,
             min, max);
    MS_CHECK(f->n_ranges < MS_RECORD_FILTER_MAX_RANGES, MS_ERR_USAGE, "more than %d ranges",
             MS_RECORD_FILTER_MAX_RANGES);
    ms_record_range *r = &f->ranges[f->n_ranges++];
    snprintf(r->quantity, sizeof r->quantity, "%s", name);
    r->rank_by = q;
    r->min = min;
    r->max = max;
    return MS_SUCCESS;
}

/* A bound of NAME:MIN:MAX: empty is open (dflt); otherwise a finite number. */
static ms_status parse_bound(const char *s, size_t len, double dflt, const char *spec, double *out)
{
    char buf[64];
    *out = dflt;
    if (len == 0) return MS_SUCCESS;
    MS_CHECK(len < sizeof buf, MS_ERR_USAGE, "--range %s: bound too long", spec);
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    MS_CHECK(end != buf && !*end && errno == 0 && isfinite(v), MS_ERR_USAGE,
             "--range %s: '%s' is not a finite number", spec, buf);
    *out = v;
    return MS_SUCCESS;
}

ms_status ms_record_filter_parse_range(ms_record_filter *f, const char *spec)
{
    const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    MS_CHECK(c1 && c2 && !strchr(c2 + 1, ':'), MS_ERR_USAGE,
             "--range '%s': write NAME:MIN:MAX (e.g. density:2:5, n_atoms::200)", spec);
    char name[64];
    size_t nl = (size_t)(c1 - spec);
    MS_CHECK(nl > 0 && nl < sizeof name, MS_ERR_USAGE, "--range '%s': no quantity name", spec);
    memcpy(name, spec, nl);
    name[nl] = 0;
    double lo, hi;
    MS_CALL(parse_bound(c1 + 1, (size_t)(c2 - c1 - 1), -INFINITY, spec, &lo));
    MS_CALL(parse_bound(c2 + 1, strlen(c2 + 1), INFINITY, spec, &hi));
    ms_status st = ms_record_filter_add_range(f, name, lo, hi);
    if (st != MS_SUCCESS) ms_error_prefix("--range %s", spec);
    return st;
}

void ms_record_filter_describe(const ms_record_filter *f, char *out, size_t n)
{
    size_t k = 0;
    out[0] = 0;
#define ADD(...) (k < n ? (k += (size_t)snprintf(out + k, n - k, __VA_ARGS__)) : 0)
    int first = 1;
    for (int z = 1; z <= MS_MAX_Z; z++)
        if (f->require[z]) ADD("%s%s", first ? "requires " : " ", ms_element_symbol(z)), first = 0;
    if (!first) ADD("; ");
    first = 1;
    for (int z = 1; z <= MS_MAX_Z; z++)
        if (f->exclude[z]) ADD("%s%s", first ? "excludes " : " ", ms_element_symbol(z)), first = 0;
    if (!first) ADD("; ");
    if (isfinite(f->max_atoms)) ADD("at most %.10g atoms per cell; ", f->max_atoms);
    if (f->reject_warnings) ADD("records with reader warnings removed; ");
    for (size_t i = 0; i < f->n_ranges; i++) {
        const ms_record_range *r = &f->ranges[i];
        if (isfinite(r->min) && isfinite(r->max))
            ADD("%.10g <= %s <= %.10g; ", r->min, r->quantity, r->max);
        else if (isfinite(r->min)) ADD("%s >= %.10g; ", r->quantity, r->min);
        else ADD("%s <= %.10g; ", r->quantity, r->max);
    }
#undef ADD
    if (k >= 2 && k < n && out[k - 2] == ';') out[k - 2] = 0;
}
