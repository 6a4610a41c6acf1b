#!/usr/bin/python3
"""Does a distance-aware recalibration of sigma beat today's (scale, floor) on new chemical
systems? A prototype outside matscreen (numpy only), judged by the procedure of
tests/bench/calibration_choice.py: calibration CV on the training part (80%) of each outer split,
pooled over splits; the outer 20% is printed beside it as the report and never used to choose.

Usage: tests/bench/calibration_domain.py OUT_DIR KIND REPS FEATURES.csv [CRITERION]
  OUT_DIR       the directory of tests/bench/grouped_cv.sh (oof_KIND_REP.csv,
                heldout_KIND_oob_REP.csv, train_REP.csv, test_REP.csv)
  FEATURES.csv  `matscreen featurize -i OBELIX/cifs -s magpie -o FEATURES.csv` (the rows' raw
                features; joined on the CIF name = the labels' ID)
  CRITERION     likelihood (default) or coverage: the fit of every variant

Variants of sigma' from the learner's own sigma s and the domain score d of the row:
  base     sqrt((k s)^2 + s0^2)                 (today's, calibration.c)
  add      sqrt((k s)^2 + s0^2 + (c d)^2)       (a distance term)
  floor    sqrt((k s)^2 + (s0 (1 + c d))^2)     (the floor grows with distance)
The domain score is matscreen's (src/ml/domain.c), replicated here: the model's row preparation
(median imputation, constant columns dropped, z-score with the population sd) fitted on the
training rows, then the mean Euclidean distance to the k = 5 nearest training rows, divided by the
median over training rows of their leave-one-group-out distance (5 nearest rows of OTHER chemical
systems). For an out-of-fold row of inner fold f, "training rows" are the other inner folds' rows
(the fold model's domain); for an outer held-out row they are the whole 80%.
"""
import csv
import math
import sys

import numpy as np

P1, P2 = 0.6826894921370859, 0.9544997361036416
K_NN = 5


def read(path, cols, strcols=()):
    rows = list(csv.DictReader(open(path)))
    return [np.array([float(x[c]) for x in rows]) for c in cols] + \
        [np.array([x[c] for x in rows]) for c in strcols]


def features(path):
    rows = list(csv.reader(open(path)))
    out = {}
    for r in rows[1:]:
        key = r[0].rsplit("/", 1)[-1].rsplit(".", 1)[0]
        out[key] = np.array([float(v) if v not in ("", "nan", "NaN") else math.nan for v in r[6:]])
    return out


def prepare_fit(x):
    """model.c: medians of finite values, impute, drop constant columns (variance <= 0),
    z-score (population sd, 1 when 0). Returns a function mapping raw rows to z rows."""
    med = np.array([np.median(c[np.isfinite(c)]) if np.isfinite(c).any() else 0.0 for c in x.T])
    imp = np.where(np.isfinite(x), x, med)
    keep = imp.var(axis=0) > 0
    mu = imp[:, keep].mean(axis=0)
    sd = imp[:, keep].std(axis=0)
    sd[~(sd > 0)] = 1

    def apply(rows):
        r = np.where(np.isfinite(rows), rows, med)
        return (r[:, keep] - mu) / sd
    return apply


def knn_mean(z_query, z_train, mask=None):
    d = np.sqrt(np.maximum(((z_query[:, None, :] - z_train[None, :, :]) ** 2).sum(-1), 0))
    if mask is not None:
        d = np.where(mask, np.inf, d)
    k = min(K_NN, z_train.shape[0])
    part = np.sort(d, axis=1)[:, :k]
    return np.array([r[np.isfinite(r)].mean() if np.isfinite(r).any() else math.nan for r in part])


def domain(x_train, groups, x_query):
    """Domain scores of x_query against the domain built on x_train (groups: chemsys)."""
    prep = prepare_fit(x_train)
    zt, zq = prep(x_train), prep(x_query)
    same = groups[:, None] == groups[None, :]
    logo = knn_mean(zt, zt, same)
    scale = np.median(logo)
    return knn_mean(zq, zt) / scale, np.quantile(logo / scale, 0.95)


def sigma_of(var, s, d, p):
    k, s0, c = math.exp(p[0]), math.exp(p[1]), math.exp(p[2]) if len(p) > 2 else 0.0
    if var.endswith("_clip"):
        d, var = d[1], var[:-5]
    elif var != "base":
        d = d[0]
    if var == "base":
        v = (k * s) ** 2 + s0 ** 2
    elif var == "add":
        v = (k * s) ** 2 + s0 ** 2 + (c * d) ** 2
    else:
        v = (k * s) ** 2 + (s0 * (1 + c * d)) ** 2
    return np.sqrt(v)


def cost(r, sig, crit):
    if crit == "likelihood":
        return float(np.sum(2 * np.log(sig) + (r / sig) ** 2))
    az = r / sig
    return (np.mean(az <= 1) - P1) ** 2 + (np.mean(az <= 2) - P2) ** 2


def fit(r, s, d, var, crit):
    """calibration.c's search (grid step 0.25 in log space, then compass with halving steps),
    with a third coordinate log c (1e-4 .. 10 x rms residual) for the distance variants."""
    rms = math.sqrt(np.mean(r * r))
    lo = [math.log(0.01), math.log(rms) + math.log(1e-4)]
    hi = [math.log(100), lo[1] + math.log(1e5)]
    if var.startswith("add"):
        lo.append(math.log(rms) + math.log(1e-4))
        hi.append(lo[2] + math.log(1e5))
    elif var.startswith("floor"):
        lo.append(math.log(1e-3))
        hi.append(math.log(1e2))
    step = 0.25
    axes = [np.arange(a, b + 1e-9, step) for a, b in zip(lo, hi)]
    # coarse grid (step 0.5 for the third axis to bound the cost), then compass at 0.125 and down
    if len(axes) == 3:
        axes[2] = np.arange(lo[2], hi[2] + 1e-9, 0.5)
    # the grid, evaluated in one broadcast per value of the third coordinate
    best, bp = math.inf, None
    # c = 0 (today's sigma) is a point of the grid, so a distance term is kept only when it helps
    third = [-math.inf] + list(axes[2]) if len(axes) == 3 else [None]
    dd = None if var == "base" else d[1] if var.endswith("_clip") else d[0]
    form = "floor" if var.startswith("floor") else "add"
    K, S0 = np.meshgrid(np.exp(axes[0]), np.exp(axes[1]), indexing="ij")
    K, S0 = K[..., None], S0[..., None]
    for lc in third:
        c = 0.0 if lc is None else math.exp(lc)
        if dd is None:
            v = (K * s) ** 2 + S0 ** 2
        elif form == "floor":
            v = (K * s) ** 2 + (S0 * (1 + c * dd)) ** 2
        else:
            v = (K * s) ** 2 + S0 ** 2 + (c * dd) ** 2
        if crit == "likelihood":
            g = np.sum(np.log(v) + r * r / v, axis=-1)
        else:
            az = r / np.sqrt(v)
            g = (np.mean(az <= 1, axis=-1) - P1) ** 2 + (np.mean(az <= 2, axis=-1) - P2) ** 2
        a, b = np.unravel_index(np.argmin(g), g.shape)  # first minimum in row order, as the C loop
        if g[a, b] < best:
            best = float(g[a, b])
            bp = np.array([axes[0][a], axes[1][b]] + ([] if lc is None else [lc]))
    h = step / 2
    while h > 1e-6:
        moved = True
        while moved:
            moved = False
            for ax in range(len(bp)):
                for sgn in (1, -1):
                    p = bp.copy()
                    p[ax] += sgn * h
                    if not lo[ax] <= p[ax] <= hi[ax]:  # c = 0 (log -inf) stays 0
                        continue
                    v = cost(r, sigma_of(var, s, d, p), crit)
                    if v < best:
                        best, bp, moved = v, p, True
        h /= 2
    return bp


def main():
    out, kind, reps, fpath = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    crit = sys.argv[5] if len(sys.argv) > 5 else "likelihood"
    feat = features(fpath)
    variants = ("base", "add", "floor", "add_clip", "floor_clip")
    cv = {v: np.zeros(4) for v in variants}  # within1, within2, rows, nll sum
    ho = {v: np.zeros(4) for v in variants}
    per_split = {v: [] for v in variants}
    inner_split = {v: [] for v in variants}  # per split: inner within1, within2, mean NLL
    params = {v: [] for v in variants}
    dstat = []
    for rep in range(reps):
        y, mu, s, gf, ids, sys_ = read(f"{out}/oof_{kind}_{rep}.csv",
                                       ("y", "gmean", "gsigma", "gfold"), ("id", "chemsys"))
        yh, mh, sh, idh = read(f"{out}/heldout_{kind}_oob_{rep}.csv", ("y", "mean", "sigma"),
                               ("id",))
        X = np.array([feat[i] for i in ids])
        Xh = np.array([feat[i] for i in idh])
        ok = np.isfinite(s) & (s >= 0)
        # out-of-fold domain score: against the other inner folds' rows
        # d: the score; dc: the score clipped at the domain's threshold (95th percentile of the
        # training rows' leave-one-group-out scores: beyond it a record is out of the domain)
        d = np.full(len(y), math.nan)
        dc = np.full(len(y), math.nan)
        for f in np.unique(gf):
            tr, te = gf != f, gf == f
            d[te], t = domain(X[tr], sys_[tr], X[te])
            dc[te] = np.minimum(d[te], t)
        dh, t = domain(X, sys_, Xh)
        dh = np.stack([dh, np.minimum(dh, t)])
        d = np.stack([d, dc])
        dstat.append((np.median(d[0]), np.median(dh[0])))
        y, mu, s, gf, d = y[ok], mu[ok], s[ok], gf[ok], d[:, ok]
        for v in variants:
            before = cv[v].copy()
            for f in np.unique(gf):
                tr, te = gf != f, gf == f
                p = fit(np.abs(y[tr] - mu[tr]), s[tr], d[:, tr], v, crit)
                sig = sigma_of(v, s[te], d[:, te], p)
                z = np.abs(y[te] - mu[te]) / sig
                cv[v] += (np.sum(z <= 1), np.sum(z <= 2), len(z),
                          np.sum(0.5 * np.log(2 * math.pi * sig ** 2) + 0.5 * z ** 2))
            t = cv[v] - before
            inner_split[v].append((t[0] / t[2], t[1] / t[2], t[3] / t[2]))
            p = fit(np.abs(y - mu), s, d, v, crit)
            params[v].append(p)
            sig = sigma_of(v, sh, dh, p)
            z = np.abs(yh - mh) / sig
            ho[v] += (np.sum(z <= 1), np.sum(z <= 2), len(z),
                      np.sum(0.5 * np.log(2 * math.pi * sig ** 2) + 0.5 * z ** 2))
            per_split[v].append(np.mean(z <= 2))
    print(f"{kind}, {reps} splits, fit {crit}: median domain score out-of-fold / outer held-out "
          f"(mean over splits): {np.mean([a for a, _ in dstat]):.3f} / "
          f"{np.mean([b for _, b in dstat]):.3f}")
    print("  variant | calibration CV on the 80%: within 1 / 2 sigma, weighted miss, mean NLL | "
          "outer 20% (report only): within 1 / 2 sigma, mean NLL")
    best = None
    for v in variants:
        w1, w2 = cv[v][0] / cv[v][2], cv[v][1] / cv[v][2]
        miss = (w1 - P1) ** 2 / (P1 * (1 - P1)) + (w2 - P2) ** 2 / (P2 * (1 - P2))
        h1, h2 = ho[v][0] / ho[v][2], ho[v][1] / ho[v][2]
        print(f"  {v:6s} | {w1:.3f} / {w2:.3f}, {miss:.4f}, {cv[v][3] / cv[v][2]:.3f} "
              f"({int(cv[v][2])} rows) | {h1:.3f} / {h2:.3f}, {ho[v][3] / ho[v][2]:.3f} "
              f"({int(ho[v][2])} rows)")
        if best is None or miss < best[0]:
            best = (miss, v)
    for v in variants:
        pm = np.exp(np.array(params[v]))
        print(f"  {v:6s} parameters on the whole 80% (k, s0[, c]): median "
              + ", ".join(f"{x:.3g}" for x in np.median(pm, axis=0))
              + "; outer 2-sigma per split: " + " ".join(f"{x:.3f}" for x in per_split[v]))
    def wmiss(w1, w2):
        return (w1 - P1) ** 2 / (P1 * (1 - P1)) + (w2 - P2) ** 2 / (P2 * (1 - P2))
    for v in variants[1:]:
        a = np.array(inner_split[v])
        b = np.array(inner_split["base"])
        wins = int(np.sum(wmiss(a[:, 0], a[:, 1]) < wmiss(b[:, 0], b[:, 1])))
        nll = int(np.sum(a[:, 2] < b[:, 2]))
        print(f"  {v:6s} against base, split by split on the 80%: smaller weighted miss in {wins} "
              f"of {reps}, smaller NLL in {nll} of {reps}")
    print(f"  chosen on the 80% (weighted miss): {best[1]}")


if __name__ == "__main__":
    main()
