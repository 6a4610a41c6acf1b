#!/usr/bin/env bash
# Integration test of the screen with models: `matscreen train` a forest surrogate (log10 ionic
# conductivity, OBELiX) and a forest classifier (conductivity >= 1e-4 S/cm), then screen OBELiX
# CIFs + a perov5 subset + JSON examples + a CIF/JSON pair of the same structure + broken files
# with both models, ranked by EI, as one process and under mpirun with 1, 2 and 4 ranks.
# Checks: byte-identical ranked.csv / ranked.jsonl / errors.csv; class_prob, surrogate_mean and
# surrogate_sigma present and numeric on every row; rows in acquisition order; the CIF and the
# JSON of Li4Fe3Mn1(PO4)4 merged into one row listing both sources; broken files in errors.csv;
# manifest with model hashes and the descriptor set. Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh screen_models
needs_shared

OB=$DATA/labeled/obelix-train
"$MATSCREEN" train -l "$OB/train.csv" -i "$OB/cifs" --id-column ID -t "Ionic conductivity (S cm-1)" \
    --log10 -p n_trees=50 -o "$tmp/reg.model" >"$tmp/train_reg.log" 2>&1
check "train the surrogate (log10 conductivity)" test -s "$tmp/reg.model"
"$MATSCREEN" train -l "$OB/train.csv" -i "$OB/cifs" --id-column ID -t "Ionic conductivity (S cm-1)" \
    --threshold 1e-4 -p n_trees=50 -o "$tmp/clf.model" >"$tmp/train_clf.log" 2>&1
check "train the classifier (>= 1e-4 S/cm)" test -s "$tmp/clf.model"

in="$tmp/in"
mkdir -p "$in/obelix" "$in/perov5" "$in/json" "$in/pair" "$in/broken"
ls "$OB/cifs" | sort | head -60 | sed "s|^|$OB/cifs/|" | xargs cp -t "$in/obelix/"
ls "$DATA"/cif/perov5/cifs | sort | head -60 | sed "s|^|$DATA/cif/perov5/cifs/|" | xargs cp -t "$in/perov5/"
cp examples/structures/*.json "$in/json/"
cp "$DATA/cif/pymatgen/tests/files/Li4Fe3Mn1(PO4)4.cif" "$DATA/json/tests/files/Li4Fe3Mn1(PO4)4.json" "$in/pair/"
cp tests/data/broken/truncated.cif tests/data/broken/empty.cif "$in/broken/"

run() { # run OUTDIR [launcher...]
    local out=$1
    shift
    "$@" "$MATSCREEN" screen -q -m "$tmp/clf.model" -m "$tmp/reg.model" -i "$in" -o "$out" \
        --rank-by ei --best -3 --top 5 >"$out.log" 2>&1
}
run "$tmp/serial"
check_eval "serial screen with models completes" 'completed $? "$tmp/serial"'
for n in 1 2 4; do
    run "$tmp/np$n" "$MPIEXEC" --oversubscribe -np "$n"
    check_eval "mpirun -np $n completes" 'completed $? "$tmp/np$n"'
done
for f in ranked.csv ranked.jsonl errors.csv; do
    for n in 1 2 4; do
        check "$f identical: serial vs $n ranks" cmp -s "$tmp/serial/$f" "$tmp/np$n/$f"
    done
done
s="$tmp/serial"
# columns: 16 class_prob, 17 surrogate_mean, 18 surrogate_sigma, 19 acquisition, 20 score
num='^-?[0-9.]+([eE][-+]?[0-9]+)?$'
check "every row has numeric class_prob, mean, sigma, acquisition" awk -F, -v re="$num" \
    'NR > 1 && ($16 !~ re || $17 !~ re || $18 !~ re || $19 !~ re) { bad = 1 } END { exit bad }' "$s/ranked.csv"
check "probabilities in [0, 1], sigma >= 0" awk -F, \
    'NR > 1 && ($16 < 0 || $16 > 1 || $18 < 0) { bad = 1 } END { exit bad }' "$s/ranked.csv"
check "rows in acquisition order" awk -F, \
    'NR > 2 && $19 > prev { bad = 1 } NR > 1 { prev = $19 } END { exit bad }' "$s/ranked.csv"
check "acquisition is the score" awk -F, 'NR > 1 && $19 != $20 { bad = 1 } END { exit bad }' "$s/ranked.csv"
rows=$(($(wc -l <"$s/ranked.csv") - 1))
check "ranked.csv has rows ($rows > 100)" test "$rows" -gt 100
pair=$(grep 'Li4Fe3Mn1(PO4)4.cif' "$s/ranked.csv" | grep 'Li4Fe3Mn1(PO4)4.json')
check "CIF and JSON of Li4Fe3Mn1(PO4)4 merged into one row listing both" test -n "$pair"
check "that row counts one duplicate" bash -c "echo '$pair' | awk -F, '{ exit !(\$(NF - 1) >= 1) }'"
check "quality.json counts the merge" grep -q '"duplicates_merged": [1-9]' "$s/quality.json"
for f in truncated empty; do
    check "errors.csv names $f.cif with stage read" grep -q "/broken/$f.cif#[0-9]*,.*,read,[^,]*,." "$s/errors.csv"
done
check "manifest lists both models with hashes" \
    bash -c "grep -q '\"role\": \"classifier\"' '$s/manifest.json' && grep -q '\"role\": \"surrogate\"' '$s/manifest.json'"
check "manifest names the descriptor set" grep -q '"descriptor_set": {' "$s/manifest.json"
check "quality.json has the six criteria" bash -c "for c in accuracy consistency validity completeness timeliness uniqueness; do grep -q \"\\\"\$c\\\"\" '$s/quality.json' || exit 1; done"
check "5 top CIFs" test "$(ls "$s/top" | wc -l)" -eq 5

# EI without --best (the model stores no best label) is a usage error; UCB needs none.
"$MATSCREEN" screen -q -m "$tmp/reg.model" -i "$in/pair" -o "$tmp/nobest" --rank-by ei >/dev/null 2>"$tmp/nobest.err"
check "ei without --best is a usage error" bash -c "test $? -eq 2 && grep -q -- '--best' '$tmp/nobest.err'"
"$MATSCREEN" screen -q -m "$tmp/reg.model" -i "$in/obelix" -o "$tmp/ucb" --rank-by ucb >/dev/null 2>&1
check_eval "ucb with a surrogate only completes" 'completed $? "$tmp/ucb"'
check "ucb: acquisition = mean + 2 sigma" awk -F, \
    'NR > 1 { d = $19 - ($17 + 2 * $18); if (d > 1e-6 || d < -1e-6) bad = 1 } END { exit bad }' "$tmp/ucb/ranked.csv"
"$MATSCREEN" screen -q -m "$tmp/clf.model" -i "$in/obelix" -o "$tmp/prob" >/dev/null 2>&1
check "classifier only ranks by probability" awk -F, \
    'NR > 2 && $16 > prev { bad = 1 } NR > 1 { prev = $16 } END { exit bad || NR < 2 }' "$tmp/prob/ranked.csv"
"$MATSCREEN" screen -q -m "$tmp/reg.model" -m "$tmp/reg.model" -i "$in/pair" -o "$tmp/two" >/dev/null 2>&1
check "two surrogates are refused" test $? -eq 2

# Models are read by rank 0 and broadcast: a missing, a damaged and a refused model end the run on
# every rank with rank 0's message (exit 2, no rank left waiting: timeout would give 124).
bad() { # bad NAME MODEL...: screen with those models under mpirun -np 2
    local name=$1 args=()
    shift
    for m in "$@"; do args+=(-m "$m"); done
    timeout 120 "$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" screen -q "${args[@]}" -i "$in/pair" \
        -o "$tmp/$name" >/dev/null 2>"$tmp/$name.err"
}
bad missing "$tmp/no-such.model"
check "2 ranks, missing model: exit 2" test $? -eq 2
check "2 ranks, missing model: the path is named" contains "$tmp/missing.err" "$tmp/no-such.model: cannot open"
head -c 5000 "$tmp/reg.model" >"$tmp/cut.model"
bad cut "$tmp/cut.model"
check "2 ranks, truncated model: exit 2" test $? -eq 2
check "2 ranks, truncated model: the path is named" contains "$tmp/cut.err" "$tmp/cut.model"
bad two "$tmp/reg.model" "$tmp/reg.model"
check "2 ranks, two surrogates: exit 2" test $? -eq 2
check "2 ranks, two surrogates: says why" contains "$tmp/two.err" "a second surrogate"

finish
