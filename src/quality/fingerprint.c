/*
 * Fingerprints (see include/matscreen/fingerprint.h).
 */
#include "matscreen/fingerprint.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "matscreen/hash.h"

#define MAX_TOKENS 64 /* distinct orbit kinds shown in the wyckoff text */

typedef struct {
    char text[24]; /* "Li4a", "La,Li24d" */
    int count;
} token;

long ms_fingerprint_volume_bin(double volume_per_site)
{
    if (!(volume_per_site > 0) || !isfinite(volume_per_site)) return 0;
    return (long)floor(log(volume_per_site) / log1p(MS_FINGERPRINT_BIN_WIDTH));
}

/* Elements of site i sorted by Z, comma-separated, into buf. */
static void site_elements(const ms_structure *s, size_t i, char *buf, size_t n)
{
    int zs[8];
    int m = 0;
    for (size_t k = s->site_species[i]; k < s->site_species[i + 1] && m < 8; k++) {
        int z = s->species[k].z, dup = 0;
        for (int q = 0; q < m; q++) dup |= zs[q] == z;
        if (!dup) zs[m++] = z;
    }
    for (int a = 1; a < m; a++)
        for (int b = a; b > 0 && zs[b - 1] > zs[b]; b--) {
            int t = zs[b];
            zs[b] = zs[b - 1];
            zs[b - 1] = t;
        }
    size_t used = 0;
    buf[0] = '\0';
    for (int q = 0; q < m && used < n; q++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", q ? "," : "", ms_element_symbol(zs[q]));
}

ms_status ms_fingerprint_compute(const ms_structure *s, const ms_symmetry *sym,
                                 const ms_element_table *table, ms_fingerprint *fp)
{
    memset(fp, 0, sizeof *fp);
    MS_CHECK(sym->number > 0 && sym->primitive.n_sites > 0 && sym->n_sites == s->n_sites,
             MS_ERR_USAGE, "fingerprint: symmetry result without a primitive cell");
    const ms_structure *p = &sym->primitive;
    fp->spacegroup = sym->number;
    fp->n_prim = p->n_sites;
    fp->volume_per_site = ms_structure_volume(p) / (double)p->n_sites;
    fp->volume_bin = ms_fingerprint_volume_bin(fp->volume_per_site);
    ms_composition comp;
    ms_structure_composition(p, &comp);
    if (ms_composition_reduced_formula(&comp, table, fp->reduced_formula,
                                       sizeof fp->reduced_formula) != MS_SUCCESS)
        fp->reduced_formula[0] = '\0';
    /* lattice points of the input cell per primitive cell */
    double ratio = (double)s->n_sites / (double)p->n_sites;
    uint64_t orbit_sum = 0;
    token tokens[MAX_TOKENS];
    int n_tokens = 0, cut = 0;
    for (size_t i = 0; i < s->n_sites; i++) {
        if ((size_t)sym->equivalent[i] != i) continue;
        size_t size = 0;
        for (size_t j = i; j < s->n_sites; j++) size += (size_t)sym->equivalent[j] == i;
        long mult = lround((double)size / ratio);
        char el[16], tok[24];
        site_elements(s, i, el, sizeof el);
        int len = snprintf(tok, sizeof tok, "%s:%ld", el, mult);
        orbit_sum += ms_hash_bytes(tok, (size_t)(len > 0 ? len : 0));
        snprintf(tok, sizeof tok, "%s%ld%c", el, mult, sym->wyckoff ? sym->wyckoff[i] : '?');
        int found = 0;
        for (int t = 0; t < n_tokens && !found; t++)
            if (strcmp(tokens[t].text, tok) == 0) {
                tokens[t].count++;
                found = 1;
            }
        if (!found) {
            if (n_tokens < MAX_TOKENS) {
                memcpy(tokens[n_tokens].text, tok, sizeof tok);
                tokens[n_tokens++].count = 1;
            } else {
                cut = 1;
            }
        }
    }
    uint64_t h = ms_hash_bytes(fp->reduced_formula, strlen(fp->reduced_formula));
    h = ms_hash_update(h, &fp->spacegroup, sizeof fp->spacegroup);
    h = ms_hash_update(h, &orbit_sum, sizeof orbit_sum);
    fp->key = h;
    /* wyckoff text, tokens sorted */
    for (int a = 1; a < n_tokens; a++)
        for (int b = a; b > 0 && strcmp(tokens[b - 1].text, tokens[b].text) > 0; b--) {
            token t = tokens[b];
            tokens[b] = tokens[b - 1];
            tokens[b - 1] = t;
        }
    size_t used = 0, cap = sizeof fp->wyckoff - 4;
    for (int t = 0; t < n_tokens && used < cap; t++) {
        int w = tokens[t].count > 1
                    ? snprintf(fp->wyckoff + used, cap - used, "%s%dx%s", t ? " " : "",
                               tokens[t].count, tokens[t].text)
                    : snprintf(fp->wyckoff + used, cap - used, "%s%s", t ? " " : "", tokens[t].text);
        if (w < 0 || (size_t)w >= cap - used) {
            cut = 1;
            fp->wyckoff[used] = '\0';
            break;
        }
        used += (size_t)w;
    }
    if (cut) strcat(fp->wyckoff, "...");
    return MS_SUCCESS;
}

void ms_fingerprint_format(const ms_fingerprint *fp, char *out, size_t n)
{
    char hex[17];
    ms_hash_format(fp->key, hex);
    snprintf(out, n, "%s-%ld", hex, fp->volume_bin);
}
