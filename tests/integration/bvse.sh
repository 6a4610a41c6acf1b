#!/bin/bash
# matscreen bvse and the bvse family on examples/structures (repository data only): the command's
# table, a known barrier, usage errors, the family in featurize, and the family under an MPI
# screen (a model on the li-transport set, whose workers compute the landscape).
# Usage: MATSCREEN=path/to/matscreen MPIEXEC=mpiexec bash tests/integration/bvse.sh
set -u
. "$(dirname "$0")/lib.sh" bvse
here=$MS_ROOT
ex=$here/examples/structures

"$MATSCREEN" bvse -i "$ex" -o "$tmp/b.csv" 2>"$tmp/log"
rc=$?
check_eval "exit status 0" '[ $rc -eq 0 ]'
n_inputs=$(ls "$ex"/*.cif "$ex"/*.json | wc -l)
check_eval "one row per structure ($n_inputs), all with barriers" \
    '[ "$(grep -c ",ok," "$tmp/b.csv")" -eq "$n_inputs" ]'
check_eval "header names the columns" \
    'head -1 "$tmp/b.csv" | grep -q "^file,block,formula,oxidation_states,oxidation_source,grid,E_1D_eV,E_2D_eV,E_3D_eV"'
check_eval "no temporary file left" '[ ! -e "$tmp/b.csv.tmp" ]'
line=$(grep "LiFePO4.cif" "$tmp/b.csv")
e1=$(echo "$line" | cut -d, -f7)
e2=$(echo "$line" | cut -d, -f8)
check_eval "LiFePO4 1-D conductor: E_1D $e1 near 0.44, E_2D $e2 above 3 eV" \
    'awk -v a="$e1" -v b="$e2" "BEGIN { exit !(a > 0.40 && a < 0.48 && b > 3) }"'
check "LiFePO4 states guessed and shown" contains "$tmp/b.csv" "Fe+2 Li+1 O-2 P+5,guessed"

"$MATSCREEN" bvse -i "$ex/LiFePO4.cif" --spacing 0 >/dev/null 2>"$tmp/log"
check_eval "--spacing 0 is a usage error (exit 2)" '[ $? -eq 2 ]'
check "--spacing 0 says the range" contains "$tmp/log" "[0.05, 2]"
"$MATSCREEN" bvse -i "$ex/LiFePO4.cif" --grid coarse >/dev/null 2>"$tmp/log"
check_eval "--grid coarse is a usage error (exit 2)" '[ $? -eq 2 ]'

"$MATSCREEN" featurize -i "$ex" -o "$tmp/f.csv" --set bvse 2>/dev/null
check_eval "featurize --set bvse gives 6 + 6 columns" \
    '[ "$(head -1 "$tmp/f.csv" | tr "," "\n" | wc -l)" -eq 12 ]'
fe1=$(grep "LiFePO4.cif" "$tmp/f.csv" | cut -d, -f7)
check_eval "featurize and the command agree on LiFePO4 ($fe1 vs $e1)" \
    'awk -v a="$fe1" -v b="$e1" "BEGIN { d = a - b; exit !(d < 5e-5 && d > -5e-5) }"'

# under the screen: the workers featurize with the li-transport set (bvse included)
"$MATSCREEN" train -l "$here/tests/data/golden/obelix_labels.csv" -i "$ex" --id-column id \
    -t conductivity --log10 --set li-transport -p n_trees=10 -o "$tmp/m.model" >/dev/null 2>&1
check_eval "train on the li-transport set" '[ $? -eq 0 ]'
$MPIEXEC --oversubscribe -np 3 "$MATSCREEN" screen -m "$tmp/m.model" -i "$ex" -o "$tmp/out" \
    --best -3 --quiet >/dev/null 2>"$tmp/screen.log"
check_eval "screen with 3 ranks" '[ $? -eq 0 ]'
check_eval "every structure ranked, none failed" \
    '[ $(($(wc -l < "$tmp/out/ranked.csv") - 1)) -eq "$n_inputs" ] && [ "$(wc -l < "$tmp/out/errors.csv")" -eq 1 ]'
finish
