/* The recursion of treeshap.c for one row, vectorised over the quadrature nodes instead of rows
 * (screen --explain explains one record at a time). Included once plain and once for AVX2
 * (SHAP_ATTR); private to treeshap.c.
 *
 * Same arithmetic as treeshap_visit.h with one row: P, G and acc of a level are qpad doubles
 * (4 quadrature nodes a vector; the padding nodes have weight 0 and are never summed), and a
 * row's share sum_k of an edge is summed over k = 0, 1, ... in order after the vector products,
 * so the result has the same bits as the batch variants. */
#ifndef SHAP_ROW
#error "define SHAP_ATTR, SHAP_WEIGHTS and SHAP_ROW before including treeshap_row.h"
#endif

SHAP_ATTR static void SHAP_ROW(const shap_call *c, int32_t j, size_t lvl, v4d *g)
{
    const ms_shap_tree *t = c->t;
    ms_shap_ws *ws = c->ws;
    size_t q = c->q, nv = (q + 3) / 4, lv = ws->qmax * SHAP_BATCH;
    v4d *p = (v4d *)(ws->p + lvl * lv);
    const v4d *tk = (const v4d *)c->tk, *sk = (const v4d *)c->sk, *wk = (const v4d *)c->wk;
    int32_t d = FIELD(t, feature, j);
    if (d < 0) {
        double v = VALUE(t, j);
        for (size_t i = 0; i < nv; i++) g[i] = v * p[i];
        return;
    }
    int32_t kid[2] = {FIELD(t, left, j), FIELD(t, right, j)};
    double left = c->x[0][d] <= VALUE(t, j), *of = ws->of + (size_t)d * SHAP_BATCH, oo = *of;
    double zo = ws->zf[d], *prev = ws->cur[d], rj = (double)t->cover[j];
    v4d *pc = (v4d *)(ws->p + (lvl + 1) * lv), *gc = (v4d *)(ws->g + (lvl + 1) * lv);
    v4d *acc = (v4d *)(ws->acc + lvl * lv), *term = (v4d *)ws->term; /* not live across calls */
    if (prev) { /* P / f_old overwrites P: j's P is done */
        SHAP_WEIGHTS(c, 1 / zo, c->rsk, zo, 1, oo != 0, ws->w0, ws->w1);
        const v4d *w0 = (const v4d *)ws->w0, *w1 = oo != 0 ? (const v4d *)ws->w1 : w0;
        for (size_t i = 0; i < nv; i++) p[i] *= oo * w1[i] + (1 - oo) * w0[i];
    }
    for (size_t i = 0; i < nv; i++) g[i] = (v4d){0};
    for (int side = 0; side < 2; side++) {
        int32_t ch = kid[side];
        double zn = zo * (double)t->cover[ch] / rj, on = (side ? 1 - left : left) * oo, sum = 0;
        if (FIELD(t, feature, ch) < 0) {
            double val = VALUE(t, ch);
            for (size_t i = 0; i < nv; i++) {
                term[i] = wk[i] * p[i];
                g[i] += val * p[i] * (zn * sk[i] + on * tk[i]);
            }
            for (size_t k = 0; k < q; k++) sum += term[k / 4][k % 4];
            c->phi[0][d] += c->scale * (on - zn) * val * sum;
            continue;
        }
        for (size_t i = 0; i < nv; i++) {
            pc[i] = p[i] * (zn * sk[i] + on * tk[i]);
            acc[i] = (v4d){0};
        }
        ws->zf[d] = zn;
        *of = on;
        ws->cur[d] = (double *)acc;
        SHAP_ROW(c, ch, lvl + 1, gc);
        SHAP_WEIGHTS(c, 1 / zn, c->wsk, zn, 0, on != 0, ws->w0, ws->w1);
        const v4d *w0 = (const v4d *)ws->w0, *w1 = on != 0 ? (const v4d *)ws->w1 : w0;
        for (size_t i = 0; i < nv; i++) {
            term[i] = (gc[i] - acc[i]) * (on * w1[i] + (1 - on) * w0[i]);
            g[i] += gc[i];
        }
        for (size_t k = 0; k < q; k++) sum += term[k / 4][k % 4];
        c->phi[0][d] += c->scale * (on - zn) * sum;
    }
    ws->zf[d] = zo;
    *of = oo;
    ws->cur[d] = prev;
    if (prev)
        for (size_t i = 0; i < nv; i++) ((v4d *)prev)[i] += g[i];
}
