#!/bin/bash
# Integration test of feature selection (select.h) and matscreen compare: train --select with filters and the wrapper
# on Matbench expt_is_metal (first 300 rows, small forests: seconds), the path and the chosen
# columns in `model info`, the one-standard-error rule checked on the printed path, evaluate
# --select (selection again inside every training fold), and bad specs refused by name.
# Env: MATSCREEN (binary), MS_SHARED_DATA (see lib.sh). Closing line: "select: N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh" select
needs_shared
MB=$DATA/labeled/matbench/matbench_expt_is_metal.json
"$MATSCREEN" train --matbench "$MB" --max-rows 300 -p n_trees=20 --select variance:0.001,f:30,mi:25,rfe:3:0.3 \
    -o "$tmp/s.msm" 2>"$tmp/train.err"
check "train --select exits 0" test $? -eq 0
"$MATSCREEN" model info "$tmp/s.msm" >"$tmp/info.txt" 2>&1
check "model info shows the spec" grep -q '^selection: variance:0.001,f:30,mi:25,rfe:3:0.3$' "$tmp/info.txt"
check "f keeps 30 columns" grep -q '^  f: [0-9]* -> 30 columns$' "$tmp/info.txt"
check "mi keeps 25 of them" grep -q '^  mi: 30 -> 25 columns$' "$tmp/info.txt"
check "rfe runs on grouped folds" grep -q '^  rfe: 25 -> [0-9]* columns (grouped folds)$' "$tmp/info.txt"
chosen=$(awk '/^  \* +[0-9]+ /{print $2}' "$tmp/info.txt")
kept=$(sed -n 's/^features: [0-9]* (\([0-9]*\) kept after filters)$/\1/p' "$tmp/info.txt")
check "one step is chosen" test -n "$chosen"
check "the model keeps the chosen columns ($kept = $chosen)" test "$kept" = "$chosen"
# the rule: fewest columns whose score is within one standard error of the best score
rule=$(awk '/^  [ *] +[0-9]+ +[0-9.]+ +[0-9.]+$/{n[NR]=$(NF-2); s[NR]=$(NF-1); e[NR]=$NF; if (!(b in s) || $(NF-1) < s[b]) b=NR}
    END {bar = s[b] + e[b]; p = b; for (i in s) if (s[i] <= bar && n[i] < n[p]) p = i; print n[p], length(s)}' "$tmp/info.txt")
check "path of 25 down to 1 columns, chosen by the 1-SE rule ($rule)" test "$rule" = "$chosen 10"
"$MATSCREEN" evaluate --matbench "$MB" --max-rows 300 -p n_trees=20 --cv 3 --group none \
    --select f:20,rfe:2:0.5 >"$tmp/eval.txt" 2>&1
check "evaluate --select (selection inside each fold) exits 0" test $? -eq 0
check "evaluate prints its scores" grep -q roc_auc "$tmp/eval.txt"
"$MATSCREEN" select --matbench "$MB" --max-rows 300 -p n_trees=20 --select f:20,rfe:3:0.3 \
    >"$tmp/sel.txt" 2>&1
check "matscreen select exits 0" test $? -eq 0
n=$(sed -n 's/^chosen columns (\([0-9]*\)):.*/\1/p' "$tmp/sel.txt")
listed=$(sed -n 's/^chosen columns ([0-9]*)://p' "$tmp/sel.txt" | grep -o 'MagpieData' | wc -l)
check "select lists the chosen columns ($n named, $listed listed)" test -n "$n" -a "$n" = "$listed"
check "select prints the path with one chosen step" test "$(grep -c '^  \* ' "$tmp/sel.txt")" -eq 1
"$MATSCREEN" select --matbench "$MB" --max-rows 50 >/dev/null 2>"$tmp/nosel.err"
check "select without --select is exit 2 naming the option" \
    sh -c "test $? -eq 2 && grep -q -- '--select SPEC is required' '$tmp/nosel.err'"
# compare: 2 kinds x 2 selections on the same 3 grouped folds, one table, the best by its rule
"$MATSCREEN" compare --matbench "$MB" --max-rows 300 --kinds forest,logistic --selects "none;f:20" \
    --cv 3 >"$tmp/cmp.txt" 2>&1
check "compare exits 0" test $? -eq 0
check "compare prints 4 rows" test "$(grep -cE '^(forest|logistic) +magpie' "$tmp/cmp.txt")" -eq 4
best=$(awk '/^(forest|logistic) +magpie/ { if ($5 > m) { m = $5; b = $1 " / " $2 " / " $3 } } END { print b }' "$tmp/cmp.txt")
check "compare's best is the highest ROC-AUC row ($best)" grep -q "^best (rule: highest mean out-of-fold ROC-AUC over the same 3 folds): $best\$" "$tmp/cmp.txt"
check "f:20 rows keep 20 columns" test "$(awk '$3 == "f:20" && $4 == 20' "$tmp/cmp.txt" | wc -l)" -eq 2
"$MATSCREEN" compare --matbench "$MB" --max-rows 50 -p n_trees=5 >/dev/null 2>"$tmp/cmp.err"
check "compare refuses -p (each kind runs with its defaults)" \
    sh -c "test $? -eq 2 && grep -q 'not options of compare' '$tmp/cmp.err'"
# one road for fold models: compare's within-1-sigma column is evaluate's on the same grouped
# folds and seed (fold models recalibrated on grouped CV of their training rows, as train stores
# the model); before, compare scored plain fits (the learner's own sigma, --calibrate oob)
EG=$DATA/labeled/matbench/matbench_expt_gap.json
"$MATSCREEN" compare --matbench "$EG" --max-rows 200 --kinds forest --cv 3 -s 3 >"$tmp/cmpr.txt" 2>&1
check "compare on a regression exits 0" test $? -eq 0
"$MATSCREEN" evaluate --matbench "$EG" --max-rows 200 --cv 3 -s 3 >"$tmp/evr.txt" 2>&1
check "evaluate on the same rows exits 0" test $? -eq 0
cw=$(awk '$1 == "forest" && $2 == "magpie" { print $7 }' "$tmp/cmpr.txt")
ew=$(awk '/^within1 / { n++; if (n == 2) print $(NF - 1) }' "$tmp/evr.txt") # the grouped run's mean
check "compare's within1 ($cw) is evaluate's grouped within1 ($ew)" \
    awk -v c="$cw" -v e="$ew" 'BEGIN { d = c - e; exit !(c != "" && e != "" && d < 0.0006 && d > -0.0006) }'
check "compare says which sigma within1 measures" grep -q '^within1: each fold.s model recalibrated' "$tmp/cmpr.txt"
"$MATSCREEN" compare --matbench "$EG" --max-rows 200 --kinds forest --cv 3 -s 3 --calibrate oob \
    >"$tmp/cmpo.txt" 2>&1
co=$(awk '$1 == "forest" && $2 == "magpie" { print $7 }' "$tmp/cmpo.txt")
check "compare --calibrate oob scores the learner's own sigma ($co, not $cw)" \
    sh -c "test -n '$co' && test '$co' != '$cw' && grep -q '^within1: the learner.s own sigma' '$tmp/cmpo.txt'"
for bad in "foo:3" "f:0" "rfe:1" "f:abc" "rfe:5:1.5" ""; do
    "$MATSCREEN" train --matbench "$MB" --max-rows 50 --select "$bad" -o "$tmp/bad.msm" 2>"$tmp/bad.err"
    code=$?
    check "--select '$bad' is refused with exit 2 and a message naming it" \
        sh -c "test $code -eq 2 && grep -q -- '--select' '$tmp/bad.err' && test ! -e '$tmp/bad.msm'"
done
finish
