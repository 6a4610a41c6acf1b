#!/usr/bin/python3
"""Which recalibration criterion (train --calibration-fit) to make the default, chosen on the
training parts only. A check, not part of matscreen (numpy only).

Usage: tests/bench/calibration_choice.py OUT_DIR KIND [REPS]
  OUT_DIR  the directory of tests/bench/grouped_cv.sh (oof_KIND_REP.csv, heldout_KIND_oob_REP.csv)

For each outer split's 80% (OBELiX training split, held-out chemical systems as in grouped_cv.sh),
the grouped out-of-fold rows (gmean, gsigma: the learner's own sigma; gfold: the inner grouped
fold) are the rows train's recalibration is fitted on. Calibration CV on them: for each inner fold
f, (scale, floor) is fitted with each criterion on the other folds' rows and the coverage of
sigma' = sqrt((scale s)^2 + floor^2) is counted on fold f's rows (whole chemical systems the fit
did not see). Pooled over splits, the criterion with the smallest binomially weighted miss
(w1 - 0.683)^2 / (0.683 * 0.317) + (w2 - 0.954)^2 / (0.954 * 0.046) is the choice. The outer 20%
(the model trained on the whole 80%, recalibrated on all its out-of-fold rows) is printed beside
it as the report, never used to choose.

The fit replicates src/ml/calibration.c fit_floor: the same criteria, the same log-space grid
(step 0.25; scale 0.01..100, floor 1e-4..10 x rms residual) and compass search with halving steps.
"""
import csv
import math
import sys

import numpy as np

P1, P2 = 0.6826894921370859, 0.9544997361036416


def normal_quantile(p):
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if 0.5 * math.erfc(-mid / math.sqrt(2)) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


Q = np.array([normal_quantile(0.5 + k / 200.0) for k in range(100)] + [np.inf])


def cost(r, s, lk, ls, crit):
    v = math.exp(2 * lk) * s * s + math.exp(2 * ls)
    if crit == "likelihood":
        return float(np.sum(np.log(v) + r * r / v))
    az = r / np.sqrt(v)
    if crit == "coverage":
        return (np.mean(az <= 1) - P1) ** 2 + (np.mean(az <= 2) - P2) ** 2
    az = np.sort(az)  # area
    d = np.abs(np.searchsorted(az, Q, side="right") / len(az) - np.arange(101) / 100.0)
    return float(np.sum(0.005 * (d[1:] + d[:-1])))


def fit(r, s, crit):
    rms = math.sqrt(np.mean(r * r))
    ls_lo = math.log(rms) + math.log(1e-4)
    ls_hi = ls_lo + math.log(1e5)
    lk_lo, lk_hi, step = math.log(0.01), math.log(100), 0.25
    nk, ns = int((lk_hi - lk_lo) / step + 0.5), int((ls_hi - ls_lo) / step + 0.5)
    best, bk, bs = math.inf, 0.0, ls_hi
    for a in range(nk + 1):
        for c in range(ns + 1):
            v = cost(r, s, lk_lo + step * a, ls_lo + step * c, crit)
            if v < best:
                best, bk, bs = v, lk_lo + step * a, ls_lo + step * c
    h = step / 2
    while h > 1e-6:
        moved = True
        while moved:
            moved = False
            for dk, ds in ((h, 0), (-h, 0), (0, h), (0, -h)):
                lk, ls = bk + dk, bs + ds
                if lk < lk_lo or lk > lk_hi or ls < ls_lo or ls > ls_hi:
                    continue
                v = cost(r, s, lk, ls, crit)
                if v < best:
                    best, bk, bs, moved = v, lk, ls, True
        h /= 2
    return math.exp(bk), math.exp(bs)


def read(path, cols):
    rows = list(csv.DictReader(open(path)))
    return [np.array([float(x[c]) for x in rows]) for c in cols]


def main():
    out, kind = sys.argv[1], sys.argv[2]
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    crits = ("likelihood", "coverage", "area")
    cv = {c: np.zeros(3) for c in crits}
    ho = {c: np.zeros(3) for c in crits}
    for rep in range(reps):
        y, mu, s, gf = read(f"{out}/oof_{kind}_{rep}.csv", ("y", "gmean", "gsigma", "gfold"))
        yh, mh, sh = read(f"{out}/heldout_{kind}_oob_{rep}.csv", ("y", "mean", "sigma"))
        ok = np.isfinite(s) & (s >= 0)
        y, mu, s, gf = y[ok], mu[ok], s[ok], gf[ok]
        for c in crits:
            for f in np.unique(gf):
                tr, te = gf != f, gf == f
                k, s0 = fit(np.abs(y[tr] - mu[tr]), s[tr], c)
                z = np.abs(y[te] - mu[te]) / np.hypot(k * s[te], s0)
                cv[c] += (np.sum(z <= 1), np.sum(z <= 2), len(z))
            k, s0 = fit(np.abs(y - mu), s, c)
            z = np.abs(yh - mh) / np.hypot(k * sh, s0)
            ho[c] += (np.sum(z <= 1), np.sum(z <= 2), len(z))
    print(f"{kind}, {reps} splits: criterion | calibration CV on the 80% (within 1 / 2 sigma, "
          "weighted miss) | outer 20% (report only)")
    best = None
    for c in crits:
        w1, w2 = cv[c][0] / cv[c][2], cv[c][1] / cv[c][2]
        miss = (w1 - P1) ** 2 / (P1 * (1 - P1)) + (w2 - P2) ** 2 / (P2 * (1 - P2))
        h1, h2 = ho[c][0] / ho[c][2], ho[c][1] / ho[c][2]
        print(f"  {c:10s} | {w1:.3f} / {w2:.3f}, {miss:.4f} ({int(cv[c][2])} rows) | "
              f"{h1:.3f} / {h2:.3f} ({int(ho[c][2])} rows)")
        if best is None or miss < best[0]:
            best = (miss, c)
    print(f"  chosen on the 80%: {best[1]}")


if __name__ == "__main__":
    main()
