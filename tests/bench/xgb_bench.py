#!/usr/bin/python3
"""python3-xgboost side of the gbm benchmark (docs/models.md, "gbm benchmark").

usage: xgb_bench.py CSV ROWS ROUNDS NTHREAD
CSV is the matrix bench_gbm writes (132 feature columns, then y; no header). Times
xgboost.train with matscreen's gbm defaults for one member (tree_method hist, eta 0.05,
max_depth 8, min_child_weight 1, subsample 0.8, colsample_bytree 0.5, lambda 1, max_bin 256,
seed 0; the regression default loss=2: reg:pseudohubererror with huber_slope 0.1 x the target's
sd, starting at the target's median, as model_gbm.c sets them) for ROUNDS rounds and NTHREAD
threads, DMatrix construction included: wall seconds (time.perf_counter) and CPU seconds
(getrusage, user + system).
"""
import resource
import sys
import time

import numpy as np
import xgboost as xgb


def cpu():
    s = resource.getrusage(resource.RUSAGE_SELF)
    return s.ru_utime + s.ru_stime


def main():
    path, rows, rounds, nthread = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    data = np.loadtxt(path, delimiter=",", max_rows=rows)
    x, y = data[:, :-1].astype(np.float32), data[:, -1]
    params = {"objective": "reg:pseudohubererror", "huber_slope": 0.1 * float(np.std(y)),
              "base_score": float(np.median(y.astype(np.float32))), "tree_method": "hist",
              "eta": 0.05, "max_depth": 8, "min_child_weight": 1, "subsample": 0.8,
              "colsample_bytree": 0.5, "lambda": 1, "max_bin": 256, "seed": 0,
              "nthread": nthread, "verbosity": 0}
    t0, c0 = time.perf_counter(), cpu()
    d = xgb.DMatrix(x, label=y, nthread=nthread)
    xgb.train(params, d, rounds)
    wall, secs = time.perf_counter() - t0, cpu() - c0
    print(f"python3-xgboost {xgb.__version__} fit {x.shape[0]} x {x.shape[1]}, {rounds} rounds, "
          f"nthread={nthread}: {wall:.2f} s wall, {secs:.2f} s CPU")


if __name__ == "__main__":
    main()
