#!/usr/bin/env bash
# suggest on a screen's output gives the screen's own predictions (issue #17). A forest on
# structure features (--set default) is trained on OBELiX CIFs and screens them; then
#   - `suggest --from DIR` must report, for every suggested candidate, the mean and sigma that
#     the screen wrote for the same structure (ranked.csv, compared at suggest's %.6g);
#   - `suggest -m MODEL -i DIR/ranked.csv` (a formula pool) must refuse, exit 2, saying why.
# Part "repo" uses the five OBELiX CIFs of examples/structures; part "shared" 80 OBELiX training
# CIFs from ../shared (skipped with one line when absent). Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh suggest_screen

# same_predictions SCREEN-DIR SUGGEST-CSV: every suggestion's (mean, sigma) equals the screen's
# (surrogate_mean, surrogate_sigma) of the row with the same key, both printed with %.6g.
same_predictions() {
    awk -F, 'NR == FNR { if (FNR > 1) { m[$2] = sprintf("%.6g", $17); s[$2] = sprintf("%.6g", $18) }; next }
        FNR > 1 { n++; if (!($3 in m) || m[$3] != sprintf("%.6g", $4) || s[$3] != sprintf("%.6g", $5)) {
            print "differs: " $3 " suggest " $4 " +- " $5 " screen " m[$3] " +- " s[$3] > "/dev/stderr"; bad = 1 } }
        END { exit bad || n == 0 }' "$1/ranked.csv" "$2"
}

# same_as_evaluate SCREEN-DIR PREDICTIONS-CSV: every labelled structure's (mean, sigma) from
# `evaluate -m --predictions` (id,target,y,mean,sigma,fold; id names ID.cif) equals the screen's.
same_as_evaluate() {
    awk -F, 'NR == FNR { if (FNR > 1) { k = $3; sub(/.*\//, "", k); sub(/\.cif$/, "", k)
            m[k] = sprintf("%.6g", $17); s[k] = sprintf("%.6g", $18) }; next }
        FNR > 1 { n++; if (!($1 in m) || m[$1] != sprintf("%.6g", $4) || s[$1] != sprintf("%.6g", $5)) {
            print "differs: " $1 " evaluate " $4 " +- " $5 " screen " m[$1] " +- " s[$1] > "/dev/stderr"; bad = 1 } }
        END { exit bad || n == 0 }' "$1/ranked.csv" "$2"
}
# calibrated_part NAME LABELS CIF-DIR ID-COLUMN TARGET: a model with the default grouped-CV sigma
# calibration gives the same mean and sigma in the screen (the allocation-free prediction path)
# and in `evaluate -m` (the matrix path), structure by structure.
calibrated_part() {
    local part=$1 labels=$2 cifs=$3 idcol=$4 target=$5 d=$tmp/$1-cal
    mkdir -p "$d"
    "$MATSCREEN" train -l "$labels" -i "$cifs" --id-column "$idcol" -t "$target" --log10 --set magpie \
        -p n_trees=30 -o "$d/comp.model" >"$d/train.log" 2>&1
    check "$part: train a model with grouped-CV sigma calibration" \
        bash -c "'$MATSCREEN' model info '$d/comp.model' | grep -q 'sigma calibration: grouped CV'"
    "$MATSCREEN" screen -q -m "$d/comp.model" -i "$cifs" -o "$d/screen" --rank-by ucb --top 0 \
        --ignore-model-requirements >"$d/screen.log" 2>&1
    check "$part: screen with it" test $? -eq 0
    "$MATSCREEN" evaluate -m "$d/comp.model" -l "$labels" -i "$cifs" --id-column "$idcol" -t "$target" \
        --log10 --predictions "$d/pred.csv" >"$d/evaluate.log" 2>&1
    check "$part: evaluate -m --predictions exits 0" test $? -eq 0
    check "$part: calibrated sigma: the screen and evaluate agree, structure by structure" \
        same_as_evaluate "$d/screen" "$d/pred.csv"
    # -m on a formula pool: the model's own domain verdict on each formula, as the screen's on a
    # structure; --domain rank (default): out-of-domain candidates after every in-domain one
    printf 'formula\nLi10GeP2S12\nLi3PS4\nLi7La3Zr2O12\nLi3InCl6\nLiPuO3\nLi2XeF8\nLiAuTe2\n' >"$d/pool.csv"
    "$MATSCREEN" suggest -m "$d/comp.model" -i "$d/pool.csv" -a ucb -n 7 --radius 0 -o "$d/dom.csv" 2>"$d/dom.err"
    check "$part: suggest -m on formulas exits 0" test $? -eq 0
    check "$part: suggest -m: out-of-domain formulas after the in-domain ones; Pu, Xe, Au unseen" \
        awk -F, 'NR > 1 { o = $NF ~ /out of the model.s domain/; if (o) seen = 1; else if (seen) bad = 1
            if ($2 ~ /^Li(PuO3|2XeF8|AuTe2)$/ && $NF !~ /elements not in training/) bad = 1 }
            END { exit bad || !seen || NR != 8 }' "$d/dom.csv"
    check "$part: suggest -m says how many it left out" \
        grep -q "domain of applicability (the model's): [3-7] eligible candidates out of the model's domain ([3-7] with elements not in training" "$d/dom.err"
}
run_part() { # run_part NAME LABELS CIF-DIR ID-COLUMN TARGET
    local part=$1 labels=$2 cifs=$3 idcol=$4 target=$5 d=$tmp/$1
    mkdir -p "$d"
    "$MATSCREEN" train -l "$labels" -i "$cifs" --id-column "$idcol" -t "$target" --log10 --set default \
        -p n_trees=30 -o "$d/struct.model" >"$d/train.log" 2>&1
    check "$part: train a structure-feature model" test $? -eq 0
    "$MATSCREEN" screen -q -m "$d/struct.model" -i "$cifs" -o "$d/screen" --rank-by ucb --top 0 >"$d/screen.log" 2>&1
    check "$part: screen with it" test $? -eq 0
    local rows=$(($(wc -l <"$d/screen/ranked.csv") - 1))
    "$MATSCREEN" suggest --from "$d/screen" -a ucb -n "$rows" --radius 0 -o "$d/s.csv" >"$d/s.log" 2>&1
    check "$part: suggest --from exits 0" test $? -eq 0
    check "$part: suggest --from lists all $rows candidates" test "$(($(wc -l <"$d/s.csv") - 1))" -eq "$rows"
    check "$part: suggest's mean and sigma are the screen's, candidate by candidate" same_predictions "$d/screen" "$d/s.csv"
    "$MATSCREEN" suggest --from "$d/screen" -a ei --best -3 -n 3 -o "$d/ei.csv" >/dev/null 2>&1
    check "$part: suggest --from with ei and --best" same_predictions "$d/screen" "$d/ei.csv"
    "$MATSCREEN" suggest -m "$d/struct.model" -i "$d/screen/ranked.csv" -a ucb -n 3 >/dev/null 2>"$d/refuse.err"
    check "$part: a formula pool with a structure-feature model: exit 2" test $? -eq 2
    check "$part: ... saying why and what to do" \
        bash -c "grep -q 'structure features' '$d/refuse.err' && grep -q -- '--from' '$d/refuse.err'"
}

run_part repo tests/data/golden/obelix_labels.csv examples/structures id conductivity

"$MATSCREEN" suggest --from "$tmp/repo/screen" -n 3 >/dev/null 2>"$tmp/nobest.err"
check "ei with --from and no --best: usage error" bash -c "test $? -eq 2 && grep -q -- '--best' '$tmp/nobest.err'"
"$MATSCREEN" screen -q -i examples/structures -o "$tmp/nomodel" --top 0 >/dev/null 2>&1
"$MATSCREEN" suggest --from "$tmp/nomodel" -a ucb -n 3 >/dev/null 2>"$tmp/nomodel.err"
check "--from a screen without a model: refused, naming -m" \
    bash -c "test $? -eq 2 && grep -q 'screen with -m MODEL' '$tmp/nomodel.err'"
"$MATSCREEN" suggest --from "$tmp/repo/screen" -i x.csv -a ucb >/dev/null 2>&1
check "--from with -i: usage error" test $? -eq 2

OB=$DATA/labeled/obelix-train
if [ ! -d "$OB/cifs" ]; then
    echo "suggest_screen: part shared skipped: $OB (../shared/data) is absent"
else
    mkdir -p "$tmp/obx"
    ls "$OB/cifs" | LC_ALL=C sort | head -80 | sed "s|^|$OB/cifs/|" | xargs cp -t "$tmp/obx/"
    run_part shared "$OB/train.csv" "$tmp/obx" ID "Ionic conductivity (S cm-1)"
    calibrated_part shared "$OB/train.csv" "$tmp/obx" ID "Ionic conductivity (S cm-1)"
fi

finish
