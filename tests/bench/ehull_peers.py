#!/usr/bin/python3
"""Peers of the gbm on CrabNet mp_e_hull (docs/models.md, "gbm on CrabNet mp_e_hull").

usage: ehull_peers.py CSV N_TRAIN N_VAL NTHREAD
CSV is the matrix bench_gbm writes (Magpie features of the train formulas, then the val
formulas, in file order; NaN features written as 0; last column e_hull). Fits on the first
N_TRAIN rows, scores MAE on the next N_VAL (the validation split; nothing is tuned on it):
python3-xgboost XGBRegressor() and scikit-learn HistGradientBoostingRegressor() with default
settings, and python3-xgboost with matscreen's gbm defaults for one member. Prints MAE, fit and
predict wall seconds.
"""
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.ensemble import HistGradientBoostingRegressor


def run(name, model, xt, yt, xv, yv):
    t0 = time.perf_counter()
    model.fit(xt, yt)
    t1 = time.perf_counter()
    p = model.predict(xv)
    t2 = time.perf_counter()
    print(f"{name}: MAE {np.mean(np.abs(p - yv)):.4f}, fit {t1 - t0:.2f} s, predict {t2 - t1:.3f} s")


def main():
    path, ntr, nva, nthread = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    data = np.loadtxt(path, delimiter=",", max_rows=ntr + nva)
    x, y = data[:, :-1], data[:, -1]
    xt, yt, xv, yv = x[:ntr], y[:ntr], x[ntr:], y[ntr:]
    print(f"train {len(yt)} rows, val {len(yv)} rows, {x.shape[1]} features; "
          f"val MAE of the training mean {np.mean(np.abs(yv - yt.mean())):.4f}")
    run(f"python3-xgboost {xgb.__version__} XGBRegressor() defaults",
        xgb.XGBRegressor(n_jobs=nthread), xt, yt, xv, yv)
    run("scikit-learn HistGradientBoostingRegressor() defaults",
        HistGradientBoostingRegressor(), xt, yt, xv, yv)
    run("python3-xgboost, matscreen gbm member defaults (600 rounds)",
        xgb.XGBRegressor(n_estimators=600, learning_rate=0.05, max_depth=8, subsample=0.8,
                         colsample_bytree=0.5, tree_method="hist", n_jobs=nthread), xt, yt, xv, yv)


if __name__ == "__main__":
    main()
