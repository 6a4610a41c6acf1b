#!/usr/bin/env bash
# Integration test of the domain of applicability and the model's requirements (issue #19, the
# prediction side; docs/models.md "Domain of applicability"): a forest trained on the OBELiX
# training split (log10 ionic conductivity) screens ALL of ../shared/data/cif (COD tools, CIF
# conformance, gemdat, perov5, PyCifRW and pymatgen test files: ~9,300 CIFs, mixed sources) on
# 2 ranks with the default acquisition (EI from the model's y_best).
# Checks: by default the top 50 hold no out-of-domain and no Li-free record (the model requires Li;
# --domain rank puts out-of-domain records last); the summary and the manifest count the filtered
# and out-of-domain records, and why; with --domain off --ignore-model-requirements the old
# ranking comes back: every screened record, in acquisition order, the domain only reported.
# Needs ../shared (skipped without it). Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh domain
needs_shared

OB=$DATA/labeled/obelix-train
"$MATSCREEN" train -l "$OB/train.csv" -i "$OB/cifs" --id-column ID -t "Ionic conductivity (S cm-1)" \
    --log10 --goal max -o "$tmp/reg.model" >"$tmp/train.log" 2>&1
check "train the OBELiX conductivity surrogate" test -s "$tmp/reg.model"
check "it requires Li" bash -c "'$MATSCREEN' model info '$tmp/reg.model' | grep -qx 'requires elements: Li'"

# ranked.csv with the commas inside quoted fields (CIF block names such as "1,2-bis(...)") made
# ';' and the quotes dropped, so that awk -F, sees the real columns (mawk has no CSV mode)
plain() { awk '{ o = ""; q = 0; for (i = 1; i <= length($0); i++) { c = substr($0, i, 1)
    if (c == "\"") { q = !q; continue } if (c == "," && q) c = ";"; o = o c } print o }' "$1"; }

screen() { # screen NAME OPTION...
    local name=$1
    shift
    "$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" screen -m "$tmp/reg.model" -i "$DATA/cif" \
        -o "$tmp/$name" --top 50 "$@" >/dev/null 2>"$tmp/$name.err"
}
screen def
check_eval "default screen of all of ../shared/data/cif completes" 'completed $? "$tmp/def"'
plain "$tmp/def/ranked.csv" >"$tmp/def.csv"
d=$tmp/def.csv
# columns: 8 formula, 19 acquisition, 20 score, 23 domain_score, 24 in_domain, 25 domain_reason
check "top 50: every row in the model's domain" awk -F, 'NR > 1 && NR <= 51 && $24 != "1" { bad = 1 } END { exit bad || NR < 51 }' "$d"
check "top 50: every row holds Li" awk -F, 'NR > 1 && NR <= 51 && $8 !~ /Li([^a-z]|$)/ { bad = 1 } END { exit bad }' "$d"
check "no Li-free row at all (the model's requirement)" awk -F, 'NR > 1 && $8 !~ /Li([^a-z]|$)/ { bad = 1 } END { exit bad }' "$d"
check "the summary says the filter and its count" grep -q 'records filtered out: requires Li' "$tmp/def.err"
check "the summary says how many are out of the domain and why" \
    grep -q 'domain of applicability: [0-9]* records in, [1-9][0-9]* out ([0-9]* with elements not in training, [0-9]* far' "$tmp/def.err"
check "the summary says where EI's best label came from" grep -q "from the model's largest training label (y_best)" "$tmp/def.err"
nout=$(awk -F, 'NR > 1 && $24 == "0"' "$d" | wc -l)
mout=$(sed -n 's/.*"out_of_domain": \([0-9]*\).*/\1/p' "$tmp/def/manifest.json")
check "the manifest counts the out-of-domain records ($mout, before de-duplication; $nout rows)" \
    test "${mout:-0}" -ge "$nout" -a "$nout" -ge 1
grep 'domain of applicability\|filtered out' "$tmp/def.err" | sed 's/^/domain: /'

# suggest --from follows the screen's domain (--domain rank by default, as the screen's
# acquisition): out-of-domain candidates are suggested only once no in-domain one is left, and it
# says how many it left out; --domain off gives the old choice, where UCB takes out-of-domain
# candidates (their sigma is large) first. Picks are joined with ranked.csv by key.
ood_picks() { # ood_picks SUGGESTED.csv: how many picks the screen put out of the domain
    plain "$1" | awk -F, 'NR == FNR { if (FNR > 1 && $24 == "0") o[$2] = 1; next } FNR > 1 && ($3 in o) { n++ }
        END { print n + 0 }' "$d" -
}
"$MATSCREEN" suggest --from "$tmp/def" -a ucb -n 10 -o "$tmp/sug.csv" 2>"$tmp/sug.err"
check "suggest --from (default --domain rank) exits 0" test $? -eq 0
check "suggest: 10 suggestions" test "$(tail -n +2 "$tmp/sug.csv" | wc -l)" -eq 10
check "suggest: none of them out of the domain" test "$(ood_picks "$tmp/sug.csv")" -eq 0
check "suggest: says how many candidates it left out as out of the domain ($nout)" \
    grep -q "domain of applicability (the screen's): $nout eligible candidates out of the model's domain ([0-9]* with elements not in training, [0-9]* far from the training rows); left out while in-domain candidates remain (--domain rank); 0 of them suggested" "$tmp/sug.err"
"$MATSCREEN" suggest --from "$tmp/def" -a ucb -n 10 --domain off -o "$tmp/sugoff.csv" 2>/dev/null
off_picks=$(ood_picks "$tmp/sugoff.csv")
check "suggest --domain off: out-of-domain candidates are suggested again ($off_picks of 10)" test "$off_picks" -ge 1
grep 'domain of applicability' "$tmp/sug.err" | sed 's/^/domain: /'
echo "domain: suggest -a ucb -n 10 --domain off picks $off_picks out-of-domain candidates"
"$MATSCREEN" suggest --from "$tmp/def" -a mu -n 10 --domain gate -o "$tmp/suggate.csv" 2>/dev/null
check "suggest --domain gate: no candidate with elements not in training" \
    sh -c "test \$(tail -n +2 '$tmp/suggate.csv' | wc -l) -eq 10 && ! grep -q 'elements not in training' '$tmp/suggate.csv'"
"$MATSCREEN" suggest --from "$tmp/def" -a ucb -n 3 --domain gate >/dev/null 2>"$tmp/sugbad.err"
check "suggest --domain gate with ucb (may be negative): exit 2, naming the fix" \
    sh -c "test $? -eq 2 && grep -q 'use --domain rank' '$tmp/sugbad.err'"

screen off --domain off --ignore-model-requirements
check_eval "--domain off --ignore-model-requirements completes" 'completed $? "$tmp/off"'
plain "$tmp/off/ranked.csv" >"$tmp/off.csv"
o=$tmp/off.csv
check "off: rows in acquisition order (the old ranking)" awk -F, \
    'NR > 2 && $19 > prev { bad = 1 } NR > 1 { prev = $19 } END { exit bad }' "$o"
check "off: the score is the acquisition" awk -F, 'NR > 1 && $19 != $20 { bad = 1 } END { exit bad }' "$o"
check "off: Li-free records are ranked again" awk -F, 'NR > 1 && $8 !~ /Li([^a-z]|$)/ { n++ } END { exit !(n > 1000) }' "$o"
check "off: the domain is still reported" awk -F, 'NR > 1 && ($24 != "0" && $24 != "1") { bad = 1 } END { exit bad }' "$o"
check "off: every Li row of the default run is there, with the same acquisition" bash -c \
    "join -t, <(awk -F, 'NR > 1 { print \$2 \",\" \$19 }' '$d' | sort) <(awk -F, 'NR > 1 { print \$2 \",\" \$19 }' '$o' | sort) | wc -l | grep -qx $(($(wc -l <"$d") - 1))"
top_off=$(awk -F, 'NR > 1 && NR <= 51 && ($24 == "0" || $8 !~ /Li([^a-z]|$)/)' "$o" | wc -l)
echo "domain: with --domain off --ignore-model-requirements, $top_off of the top 50 are out of the domain or Li-free"
finish
