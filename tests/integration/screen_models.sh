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
        --rank-by ei --best -3 --top 5 --ignore-model-requirements >"$out.log" 2>&1
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
check "rows in acquisition order (within the in-domain rows, then the out-of-domain rows)" awk -F, \
    'NR > 2 && $24 == tier && $19 > prev { bad = 1 } NR > 1 { prev = $19; tier = $24 } END { exit bad }' "$s/ranked.csv"
check "acquisition is the score" awk -F, 'NR > 1 && $19 != $20 { bad = 1 } END { exit bad }' "$s/ranked.csv"
rows=$(($(wc -l <"$s/ranked.csv") - 1))
check "ranked.csv has rows ($rows > 100)" test "$rows" -gt 100
pair=$(grep 'Li4Fe3Mn1(PO4)4.cif' "$s/ranked.csv" | grep 'Li4Fe3Mn1(PO4)4.json')
check "CIF and JSON of Li4Fe3Mn1(PO4)4 merged into one row listing both" test -n "$pair"
check "that row counts one duplicate" bash -c "echo '$pair' | awk -F, '{ exit !(\$21 >= 1) }'"
check "quality.json counts the merge" grep -q '"duplicates_merged": [1-9]' "$s/quality.json"
for f in truncated empty; do
    check "errors.csv names $f.cif with stage read" grep -q "/broken/$f.cif#[0-9]*,.*,read,[^,]*,." "$s/errors.csv"
done
check "manifest lists both models with hashes" \
    bash -c "grep -q '\"role\": \"classifier\"' '$s/manifest.json' && grep -q '\"role\": \"surrogate\"' '$s/manifest.json'"
check "manifest names the descriptor set" grep -q '"descriptor_set": {' "$s/manifest.json"
check "quality.json has the six criteria" bash -c "for c in accuracy consistency validity completeness timeliness uniqueness; do grep -q \"\\\"\$c\\\"\" '$s/quality.json' || exit 1; done"
check "5 top CIFs" test "$(ls "$s/top" | wc -l)" -eq 5

# EI without --best uses the best training label the model stores (y_best), and says so; a model
# file from before y_best (format 1, tests/data/models) still loads, and EI then asks for --best.
"$MATSCREEN" screen -m "$tmp/reg.model" -i "$in/pair" -o "$tmp/ybest" >/dev/null 2>"$tmp/ybest.err"
check "default acquisition without --best exits 0" test $? -eq 0
ybest=$("$MATSCREEN" model info "$tmp/reg.model" | sed -n 's/^best training label (y_best): \([^ ]*\) largest.*/\1/p')
check "model info shows y_best ($ybest)" test -n "$ybest"
check "the summary names the model's y_best" contains "$tmp/ybest.err" "best label so far $ybest, from the model's largest training label (y_best)"
check "the manifest records it" contains "$tmp/ybest/manifest.json" '"source": "the model'"'"'s largest training label (y_best)"'
"$MATSCREEN" screen -q -m tests/data/models/forest_v1_ehull.msm -i "$in/pair" -o "$tmp/nobest" --rank-by ei >/dev/null 2>"$tmp/nobest.err"
check "a model from before y_best: ei without --best is a usage error" bash -c "test $? -eq 2 && grep -q -- 'give --best VALUE' '$tmp/nobest.err'"
"$MATSCREEN" screen -q -m tests/data/models/forest_v1_ehull.msm -i "$in/pair" -o "$tmp/oldbest" --rank-by ei --best 0 >/dev/null 2>&1
check "a model from before y_best: ei with --best exits 0" test $? -eq 0
"$MATSCREEN" screen -q -m "$tmp/reg.model" -i "$in/obelix" -o "$tmp/ucb" --rank-by ucb >/dev/null 2>&1
check_eval "ucb with a surrogate only completes" 'completed $? "$tmp/ucb"'
check "ucb: acquisition = mean + 2 sigma" awk -F, \
    'NR > 1 { d = $19 - ($17 + 2 * $18); if (d > 1e-6 || d < -1e-6) bad = 1 } END { exit bad }' "$tmp/ucb/ranked.csv"
# The goal stored at train time (--goal min) is the screen's default direction; --descending and
# --ascending override it. Column 17 is surrogate_mean, 19 the acquisition.
"$MATSCREEN" train -l "$OB/train.csv" -i "$OB/cifs" --id-column ID -t "Ionic conductivity (S cm-1)" \
    --log10 -p n_trees=20 --calibrate oob --goal min -o "$tmp/min.model" >"$tmp/train_min.log" 2>&1
check "train a surrogate with --goal min" test -s "$tmp/min.model"
"$MATSCREEN" screen -m "$tmp/min.model" -i "$in/obelix" -o "$tmp/gmin" --rank-by mean \
    --domain off >/dev/null 2>"$tmp/gmin.err"
check_eval "goal min: screen completes" 'completed $? "$tmp/gmin"'
check "goal min: rows in increasing mean" awk -F, \
    'NR > 2 && $17 < prev - 1e-12 { bad = 1 } NR > 1 { prev = $17 } END { exit bad || NR < 20 }' "$tmp/gmin/ranked.csv"
check "goal min: the summary says where the direction came from" contains "$tmp/gmin.err" \
    "smaller (minimise) first, from the model's goal (train --goal min)"
"$MATSCREEN" screen -m "$tmp/min.model" -i "$in/obelix" -o "$tmp/gminei" --domain off >/dev/null 2>"$tmp/gminei.err"
ymin=$("$MATSCREEN" model info "$tmp/min.model" | sed -n 's/^best training label (y_best): [^ ]* largest, \([^ ]*\) smallest.*/\1/p')
check "goal min: ei uses the smallest training label ($ymin)" contains "$tmp/gminei.err" \
    "best label so far $ymin, from the model's smallest training label (y_best)"
"$MATSCREEN" screen -q -m "$tmp/min.model" -i "$in/obelix" -o "$tmp/gmax" --rank-by mean --domain off --descending >/dev/null 2>&1
check "goal min with --descending: rows in decreasing mean" awk -F, \
    'NR > 2 && $17 > prev + 1e-12 { bad = 1 } NR > 1 { prev = $17 } END { exit bad || NR < 20 }' "$tmp/gmax/ranked.csv"
"$MATSCREEN" screen -q -m "$tmp/min.model" -i "$in/obelix" -o "$tmp/gboth" --ascending --descending >/dev/null 2>"$tmp/gboth.err"
check "--ascending with --descending is a usage error" bash -c "test $? -eq 2 && grep -q 'not both' '$tmp/gboth.err'"
"$MATSCREEN" screen -q -m "$tmp/clf.model" -i "$in/obelix" -o "$tmp/prob" >/dev/null 2>&1
check "classifier only ranks by probability (within a domain tier)" awk -F, \
    'NR > 2 && $24 == tier && $16 > prev { bad = 1 } NR > 1 { prev = $16; tier = $24 } END { exit bad || NR < 2 }' "$tmp/prob/ranked.csv"
"$MATSCREEN" screen -q -m "$tmp/reg.model" -m "$tmp/reg.model" -i "$in/pair" -o "$tmp/two" >/dev/null 2>&1
check "two surrogates are refused" test $? -eq 2

# Domain of applicability (domain.h): every row of the multi-rank runs above (default --domain
# rank) has a score and a 0/1 in_domain (columns 23, 24; 25 says why not), and no in-domain row
# follows an out-of-domain one; every out-of-domain row says why.
check "every row has a numeric domain_score and in_domain 0/1" awk -F, -v re="$num" \
    'NR > 1 && ($23 !~ re || ($24 != "0" && $24 != "1")) { bad = 1 } END { exit bad }' "$s/ranked.csv"
check "out-of-domain rows rank after in-domain rows" awk -F, \
    'NR > 1 && $24 == "0" { out = 1 } NR > 1 && $24 == "1" && out { bad = 1 } END { exit bad }' "$s/ranked.csv"
nout=$(awk -F, 'NR > 1 && $24 == "0"' "$s/ranked.csv" | wc -l)
check "some of the mixed rows are out of the domain ($nout)" test "$nout" -ge 5
check "every out-of-domain row says why" awk -F, \
    'NR > 1 && $24 == "0" && $25 !~ /^(elements not in training|far from the training rows)/ { bad = 1 } END { exit bad }' "$s/ranked.csv"
mout=$(sed -n 's/.*"out_of_domain": \([0-9]*\).*/\1/p' "$s/manifest.json")
check "the manifest counts them (records, before de-duplication: $mout >= $nout)" test "${mout:-0}" -ge "$nout"
"$MATSCREEN" screen -q -m "$tmp/clf.model" -m "$tmp/reg.model" -i "$in" -o "$tmp/doff" --rank-by ei --best -3 \
    --top 5 --ignore-model-requirements --domain off >/dev/null 2>&1
check "--domain off: rows in acquisition order again" awk -F, \
    'NR > 2 && $19 > prev { bad = 1 } NR > 1 { prev = $19 } END { exit bad }' "$tmp/doff/ranked.csv"
check "--domain off: the same rows" cmp -s <(cut -d, -f2 "$s/ranked.csv" | sort) <(cut -d, -f2 "$tmp/doff/ranked.csv" | sort)
"$MATSCREEN" screen -q -m "$tmp/reg.model" -i "$in" -o "$tmp/gate" --ignore-model-requirements --domain gate >/dev/null 2>&1
check "--domain gate: score = acquisition x weight in [0, 1]" awk -F, \
    'NR > 1 && ($20 > $19 + 1e-12 || $20 < 0 || ($24 == "0" && $25 ~ /^elements/ && $20 != 0)) { bad = 1 } END { exit bad || NR < 20 }' "$tmp/gate/ranked.csv"
"$MATSCREEN" screen -q -m "$tmp/reg.model" -i "$in/pair" -o "$tmp/gateucb" --rank-by ucb --domain gate >/dev/null 2>"$tmp/gateucb.err"
check "--domain gate with ucb is refused, with the way out" bash -c "test $? -eq 2 && grep -q 'use --domain rank' '$tmp/gateucb.err'"

# Filters (record_filter.h, shared with the workflow): the model's own requirement (OBELiX rows
# hold Li: the model requires Li) applies by default and is counted; the options filter too.
check "model info: the surrogate requires Li" bash -c "'$MATSCREEN' model info '$tmp/reg.model' | grep -qx 'requires elements: Li'"
"$MATSCREEN" screen -m "$tmp/reg.model" -i "$in" -o "$tmp/req" --rank-by mean >/dev/null 2>"$tmp/req.err"
check_eval "screen applying the model's requirement completes" 'completed $? "$tmp/req"'
check "no row without Li" awk -F, 'NR > 1 && $8 !~ /Li([^a-z]|$)/ { bad = 1 } END { exit bad || NR < 20 }' "$tmp/req/ranked.csv"
nfilt=$(sed -n 's/.* \([0-9]*\) records filtered out: requires Li (required elements include the model.*/\1/p' "$tmp/req.err")
check "the summary counts the records filtered by the requirement ($nfilt)" test "${nfilt:-0}" -ge 50
check "the manifest counts them" contains "$tmp/req/manifest.json" "\"filtered\": $nfilt"
"$MATSCREEN" screen -q -m "$tmp/reg.model" -i "$in" -o "$tmp/noreq" --rank-by mean --ignore-model-requirements >/dev/null 2>&1
check "--ignore-model-requirements keeps them" test "$(($(wc -l <"$tmp/noreq/ranked.csv") - $(wc -l <"$tmp/req/ranked.csv")))" -ge 40
"$MATSCREEN" screen -q -m "$tmp/reg.model" -i "$in" -o "$tmp/opt" --rank-by mean --exclude-elements S,Cl \
    --max-atoms 100 --range density:2.5: --range volume_per_atom::30 >/dev/null 2>&1
check_eval "screen with element, atom and range filters completes" 'completed $? "$tmp/opt"'
check "filters hold on every row" awk -F, 'NR > 1 && ($8 ~ /(S|Cl)([^a-z]|$)/ || $8 !~ /Li/ || $11 > 100 || $13 < 2.5 || $14 > 30) { bad = 1 }
    END { exit bad || NR < 5 }' "$tmp/opt/ranked.csv"
"$MATSCREEN" screen -q -i "$in/pair" -o "$tmp/badrange" --range density:5:1 >/dev/null 2>"$tmp/badrange.err"
check "--range with min > max is a usage error that says so" bash -c "test $? -eq 2 && grep -q 'min 5 is larger than max 1' '$tmp/badrange.err'"
"$MATSCREEN" screen -q -i "$in/pair" -o "$tmp/badel" --require-elements Li,Qq >/dev/null 2>"$tmp/badel.err"
check "--require-elements with a bad symbol names it" bash -c "test $? -eq 2 && grep -q \"'Qq' is not an element symbol\" '$tmp/badel.err'"

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
