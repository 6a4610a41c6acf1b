#!/bin/bash
# Integration test of train / evaluate / model info on real data, under mpirun with 1, 2 and 4
# ranks; predictions must be byte-identical for every rank count.
# Env: MATSCREEN (binary), MPIEXEC (default mpiexec), MS_SHARED_DATA (see lib.sh).
# Closing line: "models: N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh" models
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
"$MATSCREEN" model info "$tmp/glass_1.msm" >"$tmp/info.out"
check "model info: kind" grep -q "kind: forest" "$tmp/info.out"
check "model info: descriptor set" grep -q "descriptor set: magpie v1" "$tmp/info.out"
# damaged, truncated and foreign files give one clear line, never a crash
cp "$tmp/glass_1.msm" "$tmp/bad.msm"
printf '\x55' | dd of="$tmp/bad.msm" bs=1 seek=200 conv=notrunc 2>/dev/null
"$MATSCREEN" model info "$tmp/bad.msm" 2>"$tmp/bad.err"; check "damaged file: exit 1" test $? -eq 1
check "damaged file: message" grep -q "checksum mismatch: file is damaged" "$tmp/bad.err"
head -c 1000 "$tmp/glass_1.msm" >"$tmp/short.msm"
"$MATSCREEN" model info "$tmp/short.msm" 2>"$tmp/short.err"; check "truncated file: exit 1" test $? -eq 1
check "truncated file: message" grep -q "truncated" "$tmp/short.err"
"$MATSCREEN" model info "$OB/train.csv" 2>"$tmp/foreign.err"; check "foreign file: exit 1" test $? -eq 1
check "foreign file: message" grep -q "not a matscreen model" "$tmp/foreign.err"
finish
