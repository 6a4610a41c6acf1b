#!/bin/bash
# Integration test of train / evaluate / model info on real data, under mpirun with 1, 2 and 4
# ranks; predictions must be byte-identical for every rank count.
# Env: MATSCREEN (binary), MPIEXEC (default mpiexec), MS_SHARED_DATA (see lib.sh).
# Closing line: "models: N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh" models
needs_shared
MB=$DATA/labeled/matbench
OB=$DATA/labeled/obelix-train
for np in 1 2 4; do
    $MPIEXEC --oversubscribe -np $np "$MATSCREEN" train --matbench "$MB/matbench_glass.json" \
        --max-rows 1500 -p n_trees=40 -o "$tmp/glass_$np.msm" 2>"$tmp/train_$np.err"
    check "train writes the model ($np ranks)" test -s "$tmp/glass_$np.msm"
    $MPIEXEC --oversubscribe -np $np "$MATSCREEN" evaluate -m "$tmp/glass_$np.msm" \
        --matbench "$MB/matbench_glass.json" --max-rows 2000 --predictions "$tmp/pred_$np.csv" >"$tmp/eval_$np.out" 2>&1
    check "evaluate -m prints roc_auc ($np ranks)" grep -q roc_auc "$tmp/eval_$np.out"
    $MPIEXEC --oversubscribe -np $np "$MATSCREEN" evaluate -l "$OB/train.csv" -i "$OB/cifs" --id-column ID \
        -t "Ionic conductivity (S cm-1)" --log10 -p n_trees=30 --class-threshold 1e-4 \
        --predictions "$tmp/obx_$np.csv" >"$tmp/obx_$np.out" 2>&1
    check "evaluate --log10 prints within1 ($np ranks)" grep -q "within1" "$tmp/obx_$np.out"
done
for np in 2 4; do
    check "glass predictions identical for 1 and $np ranks" cmp -s "$tmp/pred_1.csv" "$tmp/pred_$np.csv"
    check "OBELiX predictions identical for 1 and $np ranks" cmp -s "$tmp/obx_1.csv" "$tmp/obx_$np.csv"
done
# Regression with more rows than the OOB recalibration sample (stride > 1): the OOB pass is split
# into one row block per rank, and 3 ranks give uneven blocks. The OOB figures (model info) and
# the recalibrated sigmas of held-out predictions must be byte-identical for every rank count.
# The 5 folds of the grouped sigma calibration are spread over the ranks (a fold per rank, the
# rest together): the whole model file must be the same bytes too (creation time pinned).
CN=$DATA/labeled/crabnet/mp_e_hull
for np in 1 2 3 4; do
    SOURCE_DATE_EPOCH=1 $MPIEXEC --oversubscribe -np $np "$MATSCREEN" train -l "$CN/train.csv" --formula-column formula -t target \
        --max-rows 6000 -p n_trees=24 -o "$tmp/ehull_$np.msm" 2>"$tmp/ehull_train_$np.err"
    check "e_hull train writes the model ($np ranks)" test -s "$tmp/ehull_$np.msm"
    "$MATSCREEN" model info "$tmp/ehull_$np.msm" 2>&1 | grep -E "oob|scale" >"$tmp/ehull_info_$np.txt"
    "$MATSCREEN" evaluate -m "$tmp/ehull_$np.msm" -l "$CN/val.csv" --formula-column formula -t target \
        --max-rows 1500 --predictions "$tmp/ehull_pred_$np.csv" >/dev/null 2>&1
    check "e_hull evaluate -m writes predictions ($np ranks)" test -s "$tmp/ehull_pred_$np.csv"
done
check "model info shows the OOB sigma scale" grep -q "oob_sigma_scale" "$tmp/ehull_info_1.txt"
check "evaluate sets grouped CV beside random" grep -q "grouped by chemsys" "$tmp/obx_1.out"
check "evaluate prints the grouped/random time ratio" grep -q "ratio grouped/random" "$tmp/obx_1.out"
"$MATSCREEN" model info "$tmp/ehull_1.msm" >"$tmp/ehull_cal.txt" 2>&1
check "train recalibrates sigma on grouped CV by default" grep -q "sigma calibration: grouped CV (chemsys, 5 folds" "$tmp/ehull_cal.txt"
# Too few rows to fit a recalibration on (calibration.h MS_CALIBRATION_MIN_ROWS = 30): train warns
# and keeps the learner's own sigma; at 30 rows it recalibrates.
SAMPLE=$(cd "$(dirname "$0")/../data/labeled" && pwd)/crabnet_ehull_sample.csv
"$MATSCREEN" train -l "$SAMPLE" --formula-column formula -t target --max-rows 20 -p n_trees=10 \
    --conformal 0.1 -o "$tmp/few.msm" >/dev/null 2>"$tmp/few.err"
check "20 rows: train still writes the model" test -s "$tmp/few.msm"
check "20 rows: train warns that they are too few to recalibrate, and what it does" contains "$tmp/few.err" \
    "20 rows are too few to recalibrate sigma on grouped CV (at least 30): the model keeps the learner's own sigma and stores no conformal interval"
check "20 rows: the model carries the learner's own sigma" bash -c \
    "'$MATSCREEN' model info '$tmp/few.msm' | grep -q \"sigma calibration: the learner's own\""
"$MATSCREEN" train -l "$SAMPLE" --formula-column formula -t target --max-rows 30 -p n_trees=10 \
    -o "$tmp/enough.msm" >/dev/null 2>"$tmp/enough.err"
check "30 rows: no warning, sigma recalibrated on grouped CV" bash -c \
    "! grep -q 'too few' '$tmp/enough.err' && '$MATSCREEN' model info '$tmp/enough.msm' | grep -q 'sigma calibration: grouped CV'"
"$MATSCREEN" model info "$(cd "$(dirname "$0")/../data/models" && pwd)/forest_v1_ehull.msm" >"$tmp/v1_info.txt" 2>&1
check "a version-1 model carries the learner's own sigma" grep -q "sigma calibration: the learner's own" "$tmp/v1_info.txt"
check "model info shows the OOB noise floor" grep -q "oob_noise_sd" "$tmp/ehull_info_1.txt"
for np in 2 3 4; do
    check "e_hull OOB figures identical for 1 and $np ranks" cmp -s "$tmp/ehull_info_1.txt" "$tmp/ehull_info_$np.txt"
    check "e_hull predictions identical for 1 and $np ranks" cmp -s "$tmp/ehull_pred_1.csv" "$tmp/ehull_pred_$np.csv"
    check "e_hull model file identical for 1 and $np ranks" cmp -s "$tmp/ehull_1.msm" "$tmp/ehull_$np.msm"
done
# A model file of format version 1 (written before the forest's noise floor, by the matscreen of
# commit 511055c; tests/data/models/README.md) loads and predicts the same bytes as then.
V1=$(cd "$(dirname "$0")/../data/models" && pwd)
"$MATSCREEN" evaluate -m "$V1/forest_v1_ehull.msm" -l "$CN/val.csv" --formula-column formula -t target \
    --max-rows 300 --predictions "$tmp/v1_pred.csv" >/dev/null 2>&1
check "format version 1 model predicts the same bytes as then" cmp -s "$V1/forest_v1_ehull_val.csv" "$tmp/v1_pred.csv"
# A model file of format version 3 (grouped-CV calibration without the distance term, by the
# matscreen of commit f204a6a) loads with no distance term and predicts the same bytes as then.
"$MATSCREEN" evaluate -m "$V1/forest_v3_ehull.msm" -l "$CN/val.csv" --formula-column formula -t target \
    --max-rows 300 --predictions "$tmp/v3_pred.csv" >/dev/null 2>&1
check "format version 3 model predicts the same bytes as then" cmp -s "$V1/forest_v3_ehull_val.csv" "$tmp/v3_pred.csv"
check "a version-3 model's calibration has no distance term" bash -c \
    "'$MATSCREEN' model info '$V1/forest_v3_ehull.msm' | grep 'sigma calibration: grouped CV' | grep -vq distance"
"$MATSCREEN" model info "$tmp/glass_1.msm" >"$tmp/info.out"
check "model info: kind" grep -q "kind: forest" "$tmp/info.out"
check "model info: descriptor set" grep -q "descriptor set: magpie v1" "$tmp/info.out"
# damaged, truncated and foreign files give one clear line, never a crash
cp "$tmp/glass_1.msm" "$tmp/bad.msm"
printf '\x55' | dd of="$tmp/bad.msm" bs=1 seek=200 conv=notrunc 2>/dev/null
"$MATSCREEN" model info "$tmp/bad.msm" 2>"$tmp/bad.err"; check "damaged file: exit 2 (nothing read)" test $? -eq 2
check "damaged file: message" grep -q "checksum mismatch: file is damaged" "$tmp/bad.err"
head -c 1000 "$tmp/glass_1.msm" >"$tmp/short.msm"
"$MATSCREEN" model info "$tmp/short.msm" 2>"$tmp/short.err"; check "truncated file: exit 2 (nothing read)" test $? -eq 2
check "truncated file: message" grep -q "truncated" "$tmp/short.err"
"$MATSCREEN" model info "$OB/train.csv" 2>"$tmp/foreign.err"; check "foreign file: exit 2 (nothing read)" test $? -eq 2
check "foreign file: message" grep -q "not a matscreen model" "$tmp/foreign.err"
# Rank 0 reads the labels and model and broadcasts them: a bad one ends every rank with one
# message from rank 0 (exit 2; a rank left waiting would show as timeout's 124).
timeout 120 $MPIEXEC --oversubscribe -np 2 "$MATSCREEN" train -l "$tmp/no-such.csv" --formula-column formula -t target \
    -o "$tmp/none.msm" 2>"$tmp/nolabels.err"
check "2 ranks, missing labels: exit 2" test $? -eq 2
check "2 ranks, missing labels: said once, by rank 0" test "$(grep -c "no-such.csv" "$tmp/nolabels.err")" -eq 1
timeout 120 $MPIEXEC --oversubscribe -np 2 "$MATSCREEN" evaluate -m "$tmp/short.msm" \
    --matbench "$MB/matbench_glass.json" --max-rows 100 2>"$tmp/evshort.err"
check "2 ranks, truncated model: exit 2" test $? -eq 2
check "2 ranks, truncated model: said once" test "$(grep -c "truncated" "$tmp/evshort.err")" -eq 1
finish
