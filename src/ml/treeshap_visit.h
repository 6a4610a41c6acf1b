/* The recursion of treeshap.c for a batch of SHAP_NV x SHAP_VW rows, included once per variant
 * (like GSL's templates_on.h): SHAP_VT is a GCC vector of SHAP_VW doubles (one lane a row), so a
 * row loop is SHAP_NV vector operations. SHAP_ATTR is empty or a target attribute (the AVX2
 * copy; it does the same IEEE operations in the same order as the plain copy, so both give the
 * same bits). Private to treeshap.c; not a header to include elsewhere.
 *
 * Node j at level lvl, its P at ws->p + lvl qmax SHAP_BATCH (layout [k * NV + v]: quadrature
 * node k, row vector v); writes the G of the edge into j at g. The child's P is r f_new with r =
 * P / f_old (f_old = 1 when d is new on the path), and the share of the edge sum_k w_k (G - acc)
 * / f_new. Whatever does not depend on the row (cover ratios, zero fractions, path, quadrature
 * weights over f) is computed once per node for all rows (SHAP_WEIGHTS); a row's one fraction o
 * is 0 or 1, so its weights are o W1 + (1 - o) W0 with both tables shared (exact: no rounding
 * from the blend). */
#ifndef SHAP_VT
#error "define SHAP_VT, SHAP_VW, SHAP_NV, SHAP_ATTR, SHAP_WEIGHTS, SHAP_SUMS, SHAP_VISIT first"
#endif

/* A node's quadrature weights over f = z (1 - t) + o t, the same for every row: w0[k] = base[k]
 * inv (o = 0; base is w_k / (1 - t_k) or 1 / (1 - t_k), inv = 1 / z) and, when some row has o =
 * 1, w1[k] = num_k / (z (1 - t_k) + t_k) (num: 1 when one, else w_k). Four quadrature nodes per
 * vector operation: the tables are padded to a multiple of 4 (treeshap.c). */
SHAP_ATTR static void SHAP_WEIGHTS(const shap_call *c, double inv, const double *base, double z,
                                   int one, int any, double *w0, double *w1)
{
    for (size_t k = 0; k < c->q; k += 4) {
        *(v4d *)(w0 + k) = *(const v4d *)(base + k) * inv;
        if (any) {
            v4d num = one ? (v4d){1, 1, 1, 1} : *(const v4d *)(c->wk + k);
            *(v4d *)(w1 + k) = num / (z * *(const v4d *)(c->sk + k) + *(const v4d *)(c->tk + k));
        }
    }
}

/* An edge's shares after its subtree: e = G - acc (G when acc is 0) at each quadrature node,
 * s0 += e W0, s1 += e W1 (when some row has o = 1), and g += G when g already holds a sibling's
 * terms. Inlined with constant flags, so each case is a loop without branches. */
SHAP_ATTR static inline __attribute__((always_inline)) void
SHAP_SUMS(size_t q, const SHAP_VT *gk, const SHAP_VT *acc, const double *w0, const double *w1,
          SHAP_VT *g, SHAP_VT *s0, SHAP_VT *s1, int has_acc, int any, int add_g)
{
    for (size_t k = 0; k < q; k++)
        SHAP_UNROLL
        for (int v = 0; v < SHAP_NV; v++) {
            size_t i = k * SHAP_NV + v;
            SHAP_VT e = has_acc ? gk[i] - acc[i] : gk[i];
            s0[v] += e * w0[k];
            if (any) s1[v] += e * w1[k];
            if (add_g) g[i] += gk[i];
        }
}

SHAP_ATTR static void SHAP_VISIT(const shap_call *c, int32_t j, size_t lvl, SHAP_VT *g)
{
    enum { NV = SHAP_NV, VW = SHAP_VW };
    typedef SHAP_VT vt;
    typedef long long vti __attribute__((vector_size(sizeof(vt))));
    const ms_shap_tree *t = c->t;
    ms_shap_ws *ws = c->ws;
    size_t q = c->q, lv = ws->qmax * SHAP_BATCH, nq = q * NV;
    vt *p = (vt *)(ws->p + lvl * lv);
    int32_t d = FIELD(t, feature, j);
    if (d < 0) {
        double v = VALUE(t, j);
        for (size_t i = 0; i < nq; i++) g[i] = v * p[i];
        return;
    }
    int32_t kid[2] = {FIELD(t, left, j), FIELD(t, right, j)};
    double thr = VALUE(t, j);
    vt left[NV], oo[NV], on[NV], sum[NV];
    vt *of = (vt *)(ws->of + (size_t)d * SHAP_BATCH); /* the rows' one fractions of feature d */
    vt *phi_d = (vt *)(ws->phit + (size_t)d * SHAP_BATCH); /* the rows' phi_d (treeshap.c) */
    int any = 0;
    SHAP_UNROLL
    for (int v = 0; v < NV; v++) {
        for (int l = 0; l < VW; l++) {
            left[v][l] = c->x[v * VW + l][d] <= thr;
            any |= of[v][l] != 0;
        }
        oo[v] = of[v];
    }
    double zo = ws->zf[d], *prev = ws->cur[d], rj = (double)t->cover[j];
    unsigned char *prev_set = ws->cur_set[d], *acc_set = ws->acc_set + lvl;
    vt *pc = (vt *)(ws->p + (lvl + 1) * lv), *gc = (vt *)(ws->g + (lvl + 1) * lv);
    vt *acc = (vt *)(ws->acc + lvl * lv);
    double *w0 = ws->w0, *w1 = ws->w1;
    if (prev) { /* P / f_old overwrites P: j's P is done */
        SHAP_WEIGHTS(c, 1 / zo, c->rsk, zo, 1, any, w0, w1);
        const double *u1 = any ? w1 : w0;
        for (size_t k = 0; k < q; k++)
            SHAP_UNROLL
            for (int v = 0; v < NV; v++) p[k * NV + v] *= oo[v] * u1[k] + (1 - oo[v]) * w0[k];
    }
    /* g, acc and the sums start with their first term instead of 0 + it (the same value), which
     * saves a pass of zeroing per edge */
    int g_set = 0;
    for (int side = 0; side < 2; side++) {
        int32_t ch = kid[side];
        double zn = zo * (double)t->cover[ch] / rj;
        any = 0;
        SHAP_UNROLL
        for (int v = 0; v < NV; v++) {
            on[v] = (side ? 1 - left[v] : left[v]) * oo[v];
            for (int l = 0; l < VW; l++) any |= on[v][l] != 0;
            sum[v] = (vt){0};
        }
        if (FIELD(t, feature, ch) < 0) {
            double val = VALUE(t, ch);
            for (size_t k = 0; k < q; k++) {
                double wk = c->wk[k], a = zn * c->sk[k], tk = c->tk[k];
                SHAP_UNROLL
                for (int v = 0; v < NV; v++) {
                    vt rk = p[k * NV + v], gl = val * rk * (a + on[v] * tk);
                    sum[v] += wk * rk;
                    g[k * NV + v] = g_set ? g[k * NV + v] + gl : gl;
                }
            }
            g_set = 1;
            SHAP_UNROLL
            for (int v = 0; v < NV; v++) phi_d[v] += c->scale * (on[v] - zn) * val * sum[v];
            continue;
        }
        for (size_t k = 0; k < q; k++) {
            double a = zn * c->sk[k], tk = c->tk[k];
            SHAP_UNROLL
            for (int v = 0; v < NV; v++) pc[k * NV + v] = p[k * NV + v] * (a + on[v] * tk);
        }
        ws->zf[d] = zn;
        SHAP_UNROLL
        for (int v = 0; v < NV; v++) of[v] = on[v];
        ws->cur[d] = (double *)acc;
        ws->cur_set[d] = acc_set;
        *acc_set = 0; /* acc = 0 until a deeper split on d adds to it */
        vt *gk = g_set ? gc : g; /* the first child's G goes straight into g */
        SHAP_VISIT(c, ch, lvl + 1, gk);
        /* the weights after the recursion: it reuses the shared tables. With o = 0 or 1 a row's
         * weight is W1 or W0 exactly, so both sums are taken and each row keeps its own. */
        w0 = ws->w0, w1 = ws->w1;
        SHAP_WEIGHTS(c, 1 / zn, c->wsk, zn, 0, any, w0, w1);
        vt s1[NV];
        SHAP_UNROLL
        for (int v = 0; v < NV; v++) s1[v] = (vt){0};
        if (*acc_set) /* rare: a deeper split on d; one generic loop */
            SHAP_SUMS(q, gk, acc, w0, w1, g, sum, s1, 1, any, g_set);
        else if (any && g_set)
            SHAP_SUMS(q, gk, acc, w0, w1, g, sum, s1, 0, 1, 1);
        else if (any)
            SHAP_SUMS(q, gk, acc, w0, w1, g, sum, s1, 0, 1, 0);
        else if (g_set)
            SHAP_SUMS(q, gk, acc, w0, w1, g, sum, s1, 0, 0, 1);
        else
            SHAP_SUMS(q, gk, acc, w0, w1, g, sum, s1, 0, 0, 0);
        g_set = 1;
        SHAP_UNROLL
        for (int v = 0; v < NV; v++) { /* s1 for the rows with o = 1, s0 for the others */
            vti m = on[v] != 0;
            vt pick = (vt)(((vti)s1[v] & m) | ((vti)sum[v] & ~m));
            phi_d[v] += c->scale * (on[v] - zn) * pick;
        }
    }
    ws->zf[d] = zo;
    SHAP_UNROLL
    for (int v = 0; v < NV; v++) of[v] = oo[v];
    ws->cur[d] = prev;
    ws->cur_set[d] = prev_set;
    if (prev) {
        vt *pv = (vt *)prev;
        if (*prev_set)
            for (size_t i = 0; i < nq; i++) pv[i] += g[i];
        else
            for (size_t i = 0; i < nq; i++) pv[i] = g[i];
        *prev_set = 1;
    }
}
