#!/usr/bin/python3
"""scikit-learn side of the forest benchmark (docs/models.md, "Benchmark").

usage: skl_bench.py CSV ROWS N_JOBS TREES
CSV is the matrix bench_forest writes (132 feature columns, then y; no header). Times
RandomForestRegressor(n_estimators=TREES, max_features=1.0, min_samples_leaf=1, bootstrap=True,
oob_score=False, n_jobs=N_JOBS, random_state=0).fit on the first ROWS rows: wall seconds
(time.perf_counter) and CPU seconds (getrusage of this process and its children, user + system).
"""
import resource
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestRegressor


def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main():
    path, rows, jobs, trees = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    data = np.loadtxt(path, delimiter=",", max_rows=rows)
    x, y = data[:, :-1], data[:, -1]
    rf = RandomForestRegressor(n_estimators=trees, max_features=1.0, min_samples_leaf=1,
                               bootstrap=True, oob_score=False, n_jobs=jobs, random_state=0)
    t0, c0 = time.perf_counter(), cpu()
    rf.fit(x, y)
    wall, secs = time.perf_counter() - t0, cpu() - c0
    nodes = sum(e.tree_.node_count for e in rf.estimators_)
    print(f"scikit-learn fit {x.shape[0]} x {x.shape[1]}, {trees} trees, n_jobs={jobs}: "
          f"{wall:.2f} s wall, {secs:.2f} s CPU ({nodes} nodes)")


if __name__ == "__main__":
    main()
