#!/usr/bin/env bash
# Exact duplicates (docs/engine.md "Exact duplicates"): a screen with a structure-feature
# surrogate and classifier ("default" set: symmetry, neighbours, Li transport) over 40 perov5
# and 20 OBELiX CIFs, byte-identical copies of 30 of them under other names (labels renamed in
# 10 of those: labels are not part of the key), and a copy whose one coordinate differs in its
# last digit (another structure: computed, not reused). The memo (on by default) must not change
# a byte: outputs with it equal outputs with --reuse-cache 0, serially and on 2 ranks, with
# --explain showing feature values in every row. The manifest counts 30 reused records serially
# (each copy after its original or the other way round) and 0 without the memo, and a
# model-free screen's summary says 30 too; --reuse-cache refuses a bad size. Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh exact_dups
needs_shared

OB=$DATA/labeled/obelix-train
for kind in reg clf; do
    if [ $kind = reg ]; then target=(--log10); else target=(--threshold 1e-4); fi
    "$MATSCREEN" train -l "$OB/train.csv" -i "$OB/cifs" --id-column ID \
        -t "Ionic conductivity (S cm-1)" "${target[@]}" --set default -p n_trees=30 \
        -o "$tmp/$kind.model" >"$tmp/train_$kind.log" 2>&1
    check "train the $kind model on the default set" test -s "$tmp/$kind.model"
done

in="$tmp/in"
mkdir -p "$in"
ls "$DATA"/cif/perov5/cifs | sort | head -40 | sed "s|^|$DATA/cif/perov5/cifs/|" | xargs cp -t "$in/"
ls "$OB/cifs" | sort | head -20 | sed "s|^|$OB/cifs/|" | xargs cp -t "$in/"
n=0
for f in $(ls "$in" | grep '^perov5' | sort | awk 'NR % 2 == 1'); do # 20 of the 40
    if [ $n -lt 10 ]; then # the same cell and sites with other site labels
        sed 's/^\(  *[A-Z][a-z]*  *[A-Z][a-z]*\)\([0-9]\)/\1x\2/' "$in/$f" >"$in/copy-$f"
    else
        cp "$in/$f" "$in/copy-$f"
    fi
    n=$((n + 1))
done
for f in $(ls "$in" | grep -v -e '^perov5' -e '^copy-' | sort | awk 'NR % 2 == 1'); do # 10 of 20
    cp "$in/$f" "$in/copy-$f"
done
check "labels renamed in the first copies" bash -c "! cmp -s '$in/perov5-1.cif' '$in/copy-perov5-1.cif'"
sed 's/^\(  Ti  Ti0  1  0.2138210\)4/\15/' "$in/perov5-1.cif" >"$in/near-perov5-1.cif"
check "the near copy differs in one digit" test "$(cmp -l "$in/perov5-1.cif" "$in/near-perov5-1.cif" | wc -l)" -eq 1

run() { # run OUTDIR REUSE_MIB [launcher...]
    local out=$1 mib=$2
    shift 2
    "$@" "$MATSCREEN" screen -q -m "$tmp/clf.model" -m "$tmp/reg.model" -i "$in" -o "$out" \
        --rank-by ei --best -3 --top 5 --explain 3 --ignore-model-requirements \
        --reuse-cache "$mib" >"$out.log" 2>&1
}
run "$tmp/on" 16
check_eval "screen with the memo completes" 'completed $? "$tmp/on"'
run "$tmp/off" 0
check_eval "screen without the memo completes" 'completed $? "$tmp/off"'
run "$tmp/np2" 16 "$MPIEXEC" --oversubscribe -np 2
check_eval "2 ranks with the memo complete" 'completed $? "$tmp/np2"'
for f in ranked.csv ranked.jsonl errors.csv quality.json; do
    check "$f: memo on = memo off" cmp -s "$tmp/on/$f" "$tmp/off/$f"
    check "$f: 2 ranks with the memo = memo off" cmp -s "$tmp/np2/$f" "$tmp/off/$f"
done
for d in on off; do
    check "$d: top CIFs identical" diff -r -q "$tmp/on/top" "$tmp/$d/top"
done
check "every row explains 3 features (row values are in the outputs)" awk -F, \
    'NR > 1 && $NF == "" { bad = 1 } END { exit bad }' "$tmp/on/ranked.csv"
check "manifest: 30 reused records with the memo" contains "$tmp/on/manifest.json" '"reused_records": 30'
check "manifest: 0 without" contains "$tmp/off/manifest.json" '"reused_records": 0'
check "the 30 copies and the near copy merge with their originals" \
    contains "$tmp/on/quality.json" '"duplicates_merged": 31'
"$MATSCREEN" screen -i "$in" -o "$tmp/plain" >"$tmp/plain.log" 2>&1
check_eval "a model-free screen (symmetry and fingerprint reused) completes" 'completed $? "$tmp/plain"'
check "its summary counts the 30 reused records" contains "$tmp/plain.log" "30 records had the cell and sites"
"$MATSCREEN" screen -q -i "$in" -o "$tmp/bad" --reuse-cache lots >"$tmp/bad.log" 2>&1
check "--reuse-cache lots is refused (exit 2)" test $? -eq 2
check "and the message names the option" contains "$tmp/bad.log" "--reuse-cache"
finish
