#!/usr/bin/python3
"""Grouped CV of gbm settings on the CrabNet mp_e_hull TRAINING split (docs/models.md, "gbm defaults").

usage: gbm_tune.py CSV TRAIN_CSV [CONFIG...]
CSV is the matrix bench_gbm writes (Magpie features of the train formulas first, last column
e_hull); TRAIN_CSV is ../shared/data/labeled/crabnet/mp_e_hull/train.csv (its formulas give the
groups: chemical systems). Only the 39,663 training rows are read: the validation split chooses
nothing. One python3-xgboost booster per fold with matscreen's member parameters, 3-fold
GroupKFold; prints the mean out-of-fold MAE and the per-fold MAEs of each configuration.
"""
import csv
import re
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.model_selection import GroupKFold

N = 39663
BASE = dict(tree_method='hist', max_depth=8, eta=0.05, subsample=0.8, colsample_bytree=0.5,
            min_child_weight=1, nthread=1, seed=0)
CONFIGS = {
    'sq': ({}, 600),
    'huber.05': ({'objective': 'reg:pseudohubererror', 'huber_slope': 0.05}, 600),
    'huber.02': ({'objective': 'reg:pseudohubererror', 'huber_slope': 0.02}, 600),
    'l1_eta.1': ({'objective': 'reg:absoluteerror', 'eta': 0.1}, 600),
    'huber.05_d10': ({'objective': 'reg:pseudohubererror', 'huber_slope': 0.05, 'max_depth': 10}, 800),
    'huber.05_r1200': ({'objective': 'reg:pseudohubererror', 'huber_slope': 0.05}, 1200),
    'huber.05_cs.3': ({'objective': 'reg:pseudohubererror', 'huber_slope': 0.05,
                       'colsample_bytree': 0.3}, 600),
    'huber.05_d12_mcw3': ({'objective': 'reg:pseudohubererror', 'huber_slope': 0.05, 'max_depth': 12,
                           'min_child_weight': 3}, 800),
    'huber.03_d10_cs.3': ({'objective': 'reg:pseudohubererror', 'huber_slope': 0.03, 'max_depth': 10,
                           'colsample_bytree': 0.3}, 1000),
}


def main():
    data = np.loadtxt(sys.argv[1], delimiter=',', max_rows=N)
    x, y = data[:, :-1], data[:, -1]
    forms = [r['formula'] for r in csv.DictReader(open(sys.argv[2]))][:N]
    groups = np.array(['-'.join(sorted(set(re.findall(r'[A-Z][a-z]?', f)))) for f in forms])
    for name in sys.argv[3:] or list(CONFIGS):
        over, rounds = CONFIGS[name]
        maes, t0 = [], time.process_time()
        for tr, te in GroupKFold(3).split(x, y, groups):
            p = dict(BASE, **over)
            if over.get('objective', 'reg:squarederror') != 'reg:squarederror':
                p['base_score'] = float(np.median(y[tr]))  # as matscreen: start at the median
            b = xgb.train(p, xgb.DMatrix(x[tr], y[tr]), rounds)
            maes.append(np.mean(np.abs(b.predict(xgb.DMatrix(x[te])) - y[te])))
        print(name, 'cv MAE %.4f' % np.mean(maes), ' '.join('%.4f' % m for m in maes),
              'cpu %.0f s' % (time.process_time() - t0), flush=True)


if __name__ == '__main__':
    main()
