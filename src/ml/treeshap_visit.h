/* The recursion of treeshap.c for a batch of SHAP_B rows, included once per batch size (like
 * GSL's templates_on.h): SHAP_B is a constant, so the row loops unroll and vectorise, and SHAP_B
 * = 1 costs what a one-row traversal costs. Private to treeshap.c; not a header to include
 * elsewhere.
 *
 * Node j at level lvl, its P at ws->p + lvl qmax B (layout [k * B + r]: quadrature node k, row
 * r); writes the G of the edge into j at g. The child's P is r f_new with r = P / f_old (f_old =
 * 1 when d is new on the path), and the share of the edge sum_k w_k (G - acc) / f_new. Whatever
 * does not depend on the row (cover ratios, zero fractions, path, quadrature weights over f) is
 * computed once per node for all rows; a row's one fraction o is 0 or 1, so its weights are
 * o W1 + (1 - o) W0 with both tables shared (exact: no rounding from the blend). */
#ifndef SHAP_B
#error "define SHAP_B and SHAP_VISIT before including treeshap_visit.h"
#endif

static void SHAP_VISIT(const shap_call *c, int32_t j, size_t lvl, double *g)
{
    enum { B = SHAP_B };
    const ms_shap_tree *t = c->t;
    ms_shap_ws *ws = c->ws;
    size_t q = c->q, lv = ws->qmax * SHAP_BATCH;
    double *p = ws->p + lvl * lv;
    int32_t d = FIELD(t, feature, j);
    if (d < 0) {
        double v = VALUE(t, j);
        for (size_t i = 0; i < q * B; i++) g[i] = v * p[i];
        return;
    }
    int32_t kid[2] = {FIELD(t, left, j), FIELD(t, right, j)};
    double thr = VALUE(t, j), left[B], oo[B], on[B], sum[B];
    double *of = ws->of + (size_t)d * SHAP_BATCH; /* the rows' one fractions of feature d */
    int any = 0;
    for (int r = 0; r < B; r++) {
        left[r] = c->x[r][d] <= thr;
        oo[r] = of[r];
        any |= oo[r] != 0;
    }
    double zo = ws->zf[d], *prev = ws->cur[d], rj = (double)t->cover[j];
    double *pc = ws->p + (lvl + 1) * lv, *gc = ws->g + (lvl + 1) * lv, *acc = ws->acc + lvl * lv;
    double *w0 = ws->w0, *w1 = ws->w1;
    if (prev) { /* P / f_old overwrites P: j's P is done */
        double izo = 1 / zo;
        for (size_t k = 0; k < q; k++) w0[k] = izo * c->rsk[k];
        if (any)
            for (size_t k = 0; k < q; k++) w1[k] = 1 / (zo * c->sk[k] + c->tk[k]);
        else
            w1 = w0;
        for (size_t k = 0; k < q; k++)
            for (int r = 0; r < B; r++) p[k * B + r] *= oo[r] * w1[k] + (1 - oo[r]) * w0[k];
    }
    memset(g, 0, q * B * sizeof *g);
    for (int side = 0; side < 2; side++) {
        int32_t ch = kid[side];
        double zn = zo * (double)t->cover[ch] / rj;
        any = 0;
        for (int r = 0; r < B; r++) {
            on[r] = (side ? 1 - left[r] : left[r]) * oo[r];
            any |= on[r] != 0;
            sum[r] = 0;
        }
        if (FIELD(t, feature, ch) < 0) {
            double v = VALUE(t, ch);
            for (size_t k = 0; k < q; k++)
                for (int r = 0; r < B; r++) {
                    double rk = p[k * B + r];
                    sum[r] += c->wk[k] * rk;
                    g[k * B + r] += v * rk * (zn * c->sk[k] + on[r] * c->tk[k]);
                }
            for (int r = 0; r < B; r++) c->phi[r][d] += c->scale * (on[r] - zn) * v * sum[r];
            continue;
        }
        for (size_t k = 0; k < q; k++)
            for (int r = 0; r < B; r++) {
                pc[k * B + r] = p[k * B + r] * (zn * c->sk[k] + on[r] * c->tk[k]);
                acc[k * B + r] = 0;
            }
        ws->zf[d] = zn;
        for (int r = 0; r < B; r++) of[r] = on[r];
        ws->cur[d] = acc;
        SHAP_VISIT(c, ch, lvl + 1, gc);
        /* the weights after the recursion: it reuses the shared tables */
        w0 = ws->w0, w1 = ws->w1;
        double izn = 1 / zn;
        for (size_t k = 0; k < q; k++) w0[k] = c->wsk[k] * izn;
        if (any)
            for (size_t k = 0; k < q; k++) w1[k] = c->wk[k] / (zn * c->sk[k] + c->tk[k]);
        else
            w1 = w0;
        for (size_t k = 0; k < q; k++)
            for (int r = 0; r < B; r++) {
                size_t i = k * B + r;
                sum[r] += (gc[i] - acc[i]) * (on[r] * w1[k] + (1 - on[r]) * w0[k]);
                g[i] += gc[i];
            }
        for (int r = 0; r < B; r++) c->phi[r][d] += c->scale * (on[r] - zn) * sum[r];
    }
    ws->zf[d] = zo;
    for (int r = 0; r < B; r++) of[r] = oo[r];
    ws->cur[d] = prev;
    if (prev)
        for (size_t i = 0; i < q * B; i++) prev[i] += g[i];
}
