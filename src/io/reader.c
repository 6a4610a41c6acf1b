/* Format detection and dispatch to the format readers; see reader.h. */
#include "matscreen/file_read.h"
#include "matscreen/reader.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "matscreen/cif_reader.h"
#include "matscreen/json_reader.h"
#include "matscreen/poscar_reader.h"

void ms_read_options_default(ms_read_options *opt)
{
    opt->max_atoms = 100000;
    opt->max_file_bytes = (size_t)1 << 30;
    opt->merge_tol = 0.01;
    opt->default_db = MS_DB_UNKNOWN;
    opt->max_symops = MS_READ_DEFAULT_MAX_SYMOPS;
    opt->max_value_bytes = MS_READ_DEFAULT_MAX_VALUE_BYTES;
}

const char *ms_format_name(ms_format format)
{
    switch (format) {
    case MS_FORMAT_CIF: return "cif";
    case MS_FORMAT_JSON: return "json";
    case MS_FORMAT_JSONL: return "jsonl";
    case MS_FORMAT_POSCAR: return "poscar";
    default: return "auto";
    }
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Sniffs the first non-blank bytes: '{' or '[' is JSON (JSON Lines when a second line also
 * starts with '{'), "data_" or "#\#CIF" is CIF. */
static ms_format sniff(const char *path)
{
    FILE *f;
    if (ms_open_regular(path, 0, &f, NULL) != MS_SUCCESS) return MS_FORMAT_AUTO;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = buf;
    while (*p && isspace((unsigned char)*p)) p++;
    if (*p == '[') return MS_FORMAT_JSON;
    if (*p == '{') {
        const char *nl = strchr(p, '\n');
        while (nl && isspace((unsigned char)*nl)) nl++;
        return (nl && *nl == '{') ? MS_FORMAT_JSONL : MS_FORMAT_JSON;
    }
    if (strncmp(p, "#\\#CIF", 6) == 0 || strstr(buf, "\ndata_") || strncmp(p, "data_", 5) == 0)
        return MS_FORMAT_CIF;
    return MS_FORMAT_AUTO;
}

ms_format ms_format_detect(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (ends_with(base, ".cif") || ends_with(base, ".mcif")) return MS_FORMAT_CIF;
    if (ends_with(base, ".jsonl") || ends_with(base, ".ndjson")) return MS_FORMAT_JSONL;
    if (ends_with(base, ".json")) {
        ms_format f = sniff(path);
        return f == MS_FORMAT_JSONL ? MS_FORMAT_JSONL : MS_FORMAT_JSON;
    }
    /* As pymatgen: "POSCAR", "CONTCAR", "Li2O.POSCAR", "POSCAR.relax2", "*.vasp". */
    if (ends_with(base, ".vasp") || strcasestr(base, "POSCAR") || strcasestr(base, "CONTCAR"))
        return MS_FORMAT_POSCAR;
    return sniff(path);
}

ms_status ms_read_file(const char *path, ms_format format, const ms_read_options *opt,
                       ms_record_fn fn, void *user)
{
    ms_read_options defaults;
    if (!opt) {
        ms_read_options_default(&defaults);
        opt = &defaults;
    }
    if (format == MS_FORMAT_AUTO) format = ms_format_detect(path);
    switch (format) {
    case MS_FORMAT_CIF: return ms_cif_read_file(path, opt, fn, user);
    case MS_FORMAT_JSON: return ms_json_read_file(path, opt, fn, user);
    case MS_FORMAT_JSONL: return ms_jsonl_read_file(path, opt, fn, user);
    case MS_FORMAT_POSCAR: return ms_poscar_read_file(path, opt, fn, user);
    default:
        return ms_error_set(MS_ERR_UNSUPPORTED,
                            "%s: unknown format (expected .cif, .json, .jsonl, POSCAR/CONTCAR/.vasp)",
                            path);
    }
}
