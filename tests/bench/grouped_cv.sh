#!/bin/bash
# Does cross-validation on the training data predict the error on chemical systems it has never
# seen, and does sigma cover those errors? Reproduces the OBELiX tables of docs/models.md
# ("Grouped cross-validation and recalibration").
#
# Usage: tests/bench/grouped_cv.sh [OUT_DIR] [REPS] [KINDS]
#   OUT_DIR  scratch and result directory (default /tmp/grouped_cv)
#   REPS     outer splits (default 5)
#   KINDS    learners (default "forest gp")
# Env: MATSCREEN (binary, default ./matscreen), MS_SHARED_DATA (default ../shared/data).
#
# Only OBELiX's training split is used (never its test split). For each repetition r the
# chemical systems of the 226 usable rows are ordered by a hash of (r, system) and the first ones
# are held out until they hold >= 20% of the rows (an 80/20 split BY CHEMICAL SYSTEM). On the 80%:
# random and grouped 5-fold CV (matscreen evaluate), and models trained with each calibration
# (--calibrate oob = the forest's out-of-bag recalibration as before; --calibrate grouped with
# each --calibration-fit); each model is scored on the held-out 20% (evaluate -m). Lines of
# OUT_DIR/results.csv: rep,kind,what,mae,within1,within2 (what = cv_random, cv_grouped, or the
# calibration); a summary table is printed at the end. The cv rows' sigma is that of the model
# train makes (evaluate recalibrates every fold's model on grouped CV of its training rows).
# OUT_DIR/oof_KIND_REP.csv (grouped out-of-fold rows of the 80%, the learner's own sigma) and
# heldout_KIND_oob_REP.csv feed tests/bench/calibration_choice.py, which chooses the criterion on
# the 80% only and reports the outer 20% beside it.
set -eu
OUT=${1:-/tmp/grouped_cv}
REPS=${2:-5}
KINDS=${3:-forest gp}
MS=${MATSCREEN:-./matscreen}
DATA=${MS_SHARED_DATA:-../shared/data}
OB=$DATA/labeled/obelix-train
T="Ionic conductivity (S cm-1)"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
mkdir -p "$OUT"
COMMON=(-i "$OB/cifs" --id-column ID -t "$T" --log10)

# id -> chemical system of every usable row (the loader's keys, written by --predictions)
"$MS" evaluate -l "$OB/train.csv" "${COMMON[@]}" --cv 2 -p n_trees=4 --predictions "$OUT/keys.csv" >/dev/null
awk -F, 'NR > 1 { print $1 "," $7 }' "$OUT/keys.csv" >"$OUT/id_chemsys.csv"

echo "rep,kind,what,mae,within1,within2" >"$OUT/results.csv"
for rep in $(seq 0 $((REPS - 1))); do
    # held-out systems: order by a string hash of (rep, system), take until >= 20% of rows
    awk -F, -v rep="$rep" '
        function h(s,   i, x) { x = 5381 + 7919 * rep; for (i = 1; i <= length(s); i++)
                                 x = (x * 33 + index(C, substr(s, i, 1))) % 2147483647; return x }
        BEGIN { C = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-0123456789" }
        { n[$2]++; tot++ }
        END { for (s in n) print h(s) "," s "," n[s] }' "$OUT/id_chemsys.csv" |
        sort -t, -k1,1n | awk -F, -v tot="$(wc -l <"$OUT/id_chemsys.csv")" \
            'acc < 0.2 * tot { print $2; acc += $3 }' >"$OUT/heldout_$rep.txt"
    awk -F, -v H="$OUT/heldout_$rep.txt" -v K="$OUT/id_chemsys.csv" -v TR="$OUT/train_$rep.csv" \
        -v TE="$OUT/test_$rep.csv" '
        BEGIN { while ((getline l < H) > 0) held[l] = 1
                while ((getline l < K) > 0) { split(l, a, ","); sys[a[1]] = a[2] } }
        NR == 1 { print > TR; print > TE; next }
        ($1 in sys) { if (sys[$1] in held) print > TE; else print > TR }' "$OB/train.csv"
    for kind in $KINDS; do
        "$MS" evaluate -k "$kind" -l "$OUT/train_$rep.csv" "${COMMON[@]}" -s "$rep" >"$OUT/cv_${kind}_$rep.txt"
        # the learner's own sigma of the grouped out-of-fold rows of the 80% (the rows train's
        # recalibration is fitted on), for the choice of criterion (calibration_choice.py)
        "$MS" evaluate -k "$kind" -l "$OUT/train_$rep.csv" "${COMMON[@]}" -s "$rep" --calibrate oob \
            --predictions "$OUT/oof_${kind}_$rep.csv" >/dev/null
        awk -v rep="$rep" -v kind="$kind" '
            /^forest|^gp|^[a-z_]+ on / { which = /grouped/ ? "cv_grouped" : "cv_random" }
            /^pooled:/ { printf "%s,%s,%s,%s,%s,%s\n", rep, kind, which, $3, $12, $14 }' \
            "$OUT/cv_${kind}_$rep.txt" >>"$OUT/results.csv"
        for cal in oob area coverage likelihood; do
            opt=(--calibrate grouped --calibration-fit "$cal")
            [ "$cal" = oob ] && opt=(--calibrate oob)
            "$MS" train -k "$kind" -l "$OUT/train_$rep.csv" "${COMMON[@]}" -s "$rep" "${opt[@]}" \
                --conformal 0.1 -o "$OUT/m_${kind}_${cal}_$rep.msm" 2>/dev/null
            "$MS" evaluate -m "$OUT/m_${kind}_${cal}_$rep.msm" -l "$OUT/test_$rep.csv" "${COMMON[@]}" \
                --predictions "$OUT/heldout_${kind}_${cal}_$rep.csv" >"$OUT/test_${kind}_${cal}_$rep.txt"
            awk -v rep="$rep" -v kind="$kind" -v cal="$cal" '
                /^mae / { mae = $2 } /^calibration:/ { w1 = $3; w2 = $5 }
                /^conformal interval/ { conf = $(NF - 5) }
                END { printf "%s,%s,test_%s,%s,%s,%s\n", rep, kind, cal, mae, w1, w2 }' \
                "$OUT/test_${kind}_${cal}_$rep.txt" >>"$OUT/results.csv"
        done
    done
done
# Summary: per kind and row, the mean over reps; for CV rows the mean relative miss of the
# held-out MAE (test_oob's MAE: the model's mean does not depend on the calibration).
awk -F, 'NR > 1 { k = $2 "," $3; mae[k] += $4; w1[k] += $5; w2[k] += $6; n[k]++
                  if ($3 == "test_oob") test[$1 "," $2] = $4; else if ($3 ~ /^cv_/) cv[$1 "," $2 "," $3] = $4 }
         END {
           for (x in cv) { split(x, a, ","); t = test[a[1] "," a[2]]; d = (cv[x] - t) / t
                           miss[a[2] "," a[3]] += d; amiss[a[2] "," a[3]] += d < 0 ? -d : d }
           printf "%-8s %-16s %8s %8s %8s %12s %12s\n", "kind", "what", "MAE", "within1", "within2", "miss(mean)", "|miss|(mean)"
           for (k in n) printf "%-8s %-16s %8.4f %8.3f %8.3f %12s %12s\n", substr(k, 1, index(k, ",") - 1),
               substr(k, index(k, ",") + 1), mae[k] / n[k], w1[k] / n[k], w2[k] / n[k],
               (k in miss) ? sprintf("%+.3f", miss[k] / n[k]) : "", (k in amiss) ? sprintf("%.3f", amiss[k] / n[k]) : ""
         }' "$OUT/results.csv" | sort
