#!/bin/bash
# Integration test of --kind gbm (XGBoost ensemble) under mpirun with 1, 2 and 3 ranks: members
# are trained on different ranks and gathered, so the model file must be byte-identical for every
# rank count (SOURCE_DATE_EPOCH pins the creation stamp); a damaged file is refused; bad
# parameters are refused with the valid list.
# Env: MATSCREEN (binary), MPIEXEC (default mpiexec), MS_SHARED_DATA (see lib.sh).
# Closing line: "gbm: N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh" gbm
needs_shared
CN=$DATA/labeled/crabnet/mp_e_hull
export SOURCE_DATE_EPOCH=1700000000
for np in 1 2 3; do
    $MPIEXEC --oversubscribe -np $np "$MATSCREEN" train -l "$CN/train.csv" --formula-column formula \
        -t target --max-rows 2000 -k gbm -p n_estimators=30 -p ensemble=4 \
        -o "$tmp/g_$np.msm" 2>"$tmp/train_$np.err"
    check "gbm train writes the model ($np ranks)" test -s "$tmp/g_$np.msm"
done
for np in 2 3; do
    check "gbm model byte-identical for 1 and $np ranks" cmp -s "$tmp/g_1.msm" "$tmp/g_$np.msm"
done
"$MATSCREEN" model info "$tmp/g_1.msm" >"$tmp/info.txt" 2>&1
check "model info names the kind" contains "$tmp/info.txt" "kind: gbm"
check "model info shows 4 members" contains "$tmp/info.txt" "members: 4"
check "model info shows the OOB recalibration" contains "$tmp/info.txt" "noise floor"
check "model info of a regressor: the loss by name" contains "$tmp/info.txt" "loss: 2 (reg:pseudohubererror)"
check "model info of a regressor: the slope of its pseudo-Huber loss" contains "$tmp/info.txt" "huber_slope: "
# a classifier is fitted with binary:logistic: loss, its slope and the sigma recalibration do not apply
"$MATSCREEN" train -l "$CN/train.csv" --formula-column formula -t target --max-rows 400 -k gbm \
    -p n_estimators=10 -p ensemble=2 --threshold 0.1 -o "$tmp/c.msm" 2>"$tmp/c.err"
"$MATSCREEN" model info "$tmp/c.msm" >"$tmp/cinfo.txt" 2>&1
check "model info of a gbm classifier: exit 0" test $? -eq 0
check "model info of a gbm classifier: its objective" contains "$tmp/cinfo.txt" "objective: binary:logistic"
check "model info of a gbm classifier: no loss, huber_slope or recalibrate" \
    sh -c "! grep -E '^ +(loss|huber_slope|recalibrate):' '$tmp/cinfo.txt'"
$MPIEXEC --oversubscribe -np 2 "$MATSCREEN" evaluate -m "$tmp/g_1.msm" -l "$CN/val.csv" \
    --formula-column formula -t target --max-rows 500 --predictions "$tmp/pred.csv" >"$tmp/eval.txt" 2>&1
check "evaluate prints MAE and calibration" grep -q "within1" "$tmp/eval.txt"
check "evaluate writes predictions" test -s "$tmp/pred.csv"
# a flipped byte in the middle of the file (inside a member's XGBoost bytes)
cp "$tmp/g_1.msm" "$tmp/bad.msm"
size=$(stat -c %s "$tmp/bad.msm")
printf '\x7f' | dd of="$tmp/bad.msm" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
"$MATSCREEN" model info "$tmp/bad.msm" >"$tmp/bad.txt" 2>&1
check_eval "damaged gbm model: refused (non-zero exit)" '[ $? -ne 0 ]'
check "damaged gbm model: says checksum mismatch" contains "$tmp/bad.txt" "checksum mismatch"
"$MATSCREEN" train -l "$CN/train.csv" --formula-column formula -t target --max-rows 100 -k gbm \
    -p eta=0.1 -o "$tmp/x.msm" >"$tmp/eta.txt" 2>&1
check_eval "unknown gbm parameter: exit 2" '[ $? -eq 2 ]'
check "unknown gbm parameter: lists learning_rate" contains "$tmp/eta.txt" "learning_rate"
finish
