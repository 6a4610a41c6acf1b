#!/bin/bash
# Integration test of train / evaluate / model info on real data, under mpirun with 1, 2 and 4
# ranks; predictions must be byte-identical for every rank count.
# Env: MATSCREEN (binary), MPIEXEC (default mpirun). Closing line: "models: N passed, M failed".
set -u
BIN=${MATSCREEN:-./matscreen}
MPI=${MPIEXEC:-mpirun}
DATA=${MS_SHARED_DATA:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/data}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export MATSCREEN_SHARE=${MATSCREEN_SHARE:-$(cd "$(dirname "$0")/../.." && pwd)/share/matscreen}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
check() { if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $*"; fi; }
MB=$DATA/labeled/matbench
OB=$DATA/labeled/obelix-train
for np in 1 2 4; do
    $MPI --oversubscribe -np $np "$BIN" train --matbench "$MB/matbench_glass.json" --max-rows 1500 \
        -p n_trees=40 -o "$T/glass_$np.msm" 2>"$T/train_$np.err"
    check test -s "$T/glass_$np.msm"
    $MPI --oversubscribe -np $np "$BIN" evaluate -m "$T/glass_$np.msm" --matbench "$MB/matbench_glass.json" \
        --max-rows 2000 --predictions "$T/pred_$np.csv" >"$T/eval_$np.out" 2>&1
    check grep -q roc_auc "$T/eval_$np.out"
    $MPI --oversubscribe -np $np "$BIN" evaluate -l "$OB/train.csv" -i "$OB/cifs" --id-column ID \
        -t "Ionic conductivity (S cm-1)" --log10 -p n_trees=30 --class-threshold 1e-4 \
        --predictions "$T/obx_$np.csv" >"$T/obx_$np.out" 2>&1
    check grep -q "within1" "$T/obx_$np.out"
done
for np in 2 4; do
    check cmp -s "$T/pred_1.csv" "$T/pred_$np.csv"
    check cmp -s "$T/obx_1.csv" "$T/obx_$np.csv"
done
# Regression with more rows than the OOB recalibration sample (stride > 1): the OOB pass is split
# into one row block per rank, and 3 ranks give uneven blocks. The OOB figures (model info) and
# the recalibrated sigmas of held-out predictions must be byte-identical for every rank count.
CN=$DATA/labeled/crabnet/mp_e_hull
for np in 1 2 3 4; do
    $MPI --oversubscribe -np $np "$BIN" train -l "$CN/train.csv" --formula-column formula -t target \
        --max-rows 6000 -p n_trees=24 -o "$T/ehull_$np.msm" 2>"$T/ehull_train_$np.err"
    check test -s "$T/ehull_$np.msm"
    "$BIN" model info "$T/ehull_$np.msm" 2>&1 | grep -E "oob|scale" >"$T/ehull_info_$np.txt"
    "$BIN" evaluate -m "$T/ehull_$np.msm" -l "$CN/val.csv" --formula-column formula -t target \
        --max-rows 1500 --predictions "$T/ehull_pred_$np.csv" >/dev/null 2>&1
    check test -s "$T/ehull_pred_$np.csv"
done
check grep -q "oob_sigma_scale" "$T/ehull_info_1.txt"
for np in 2 3 4; do
    check cmp -s "$T/ehull_info_1.txt" "$T/ehull_info_$np.txt"
    check cmp -s "$T/ehull_pred_1.csv" "$T/ehull_pred_$np.csv"
done
# A model file of format version 1 (written before the forest's noise floor, by the matscreen of
# commit 511055c; tests/data/models/README.md) loads and predicts the same bytes as then.
V1=$(cd "$(dirname "$0")/../data/models" && pwd)
"$BIN" evaluate -m "$V1/forest_v1_ehull.msm" -l "$CN/val.csv" --formula-column formula -t target \
    --max-rows 300 --predictions "$T/v1_pred.csv" >/dev/null 2>&1
check cmp -s "$V1/forest_v1_ehull_val.csv" "$T/v1_pred.csv"
"$BIN" model info "$T/glass_1.msm" >"$T/info.out"
check grep -q "kind: forest" "$T/info.out"
check grep -q "descriptor set: magpie v1" "$T/info.out"
# damaged, truncated and foreign files give one clear line, never a crash
cp "$T/glass_1.msm" "$T/bad.msm"
printf '\x55' | dd of="$T/bad.msm" bs=1 seek=200 conv=notrunc 2>/dev/null
"$BIN" model info "$T/bad.msm" 2>"$T/bad.err"; check test $? -eq 1
check grep -q "checksum mismatch: file is damaged" "$T/bad.err"
head -c 1000 "$T/glass_1.msm" >"$T/short.msm"
"$BIN" model info "$T/short.msm" 2>"$T/short.err"; check test $? -eq 1
check grep -q "truncated" "$T/short.err"
"$BIN" model info "$OB/train.csv" 2>"$T/foreign.err"; check test $? -eq 1
check grep -q "not a matscreen model" "$T/foreign.err"
echo "models: $pass passed, $fail failed"
test $fail -eq 0
