#!/bin/bash
# matscreen featurize on examples/structures: header, one row per structure, a known value.
# Usage: MATSCREEN=path/to/matscreen bash tests/integration/featurize.sh
set -u
. "$(dirname "$0")/lib.sh" featurize
here=$MS_ROOT

"$MATSCREEN" featurize -i "$here/examples/structures" -o "$tmp/f.csv" -e "$tmp/err.csv" 2>"$tmp/log"
rc=$?
check_eval "exit status 0 (every example gives a row)" '[ $rc -eq 0 ]'
n_inputs=$(ls "$here"/examples/structures/*.cif "$here"/examples/structures/*.json | wc -l)
check_eval "one row per structure ($n_inputs)" '[ $(($(wc -l < "$tmp/f.csv") - 1)) -eq $n_inputs ]'
check_eval "header starts with the source columns" \
    'head -1 "$tmp/f.csv" | grep -q "^file,block,index,source_db,source_id,reduced_formula,MagpieData minimum Number"'
check_eval "header has the structure and Li-transport features" \
    'head -1 "$tmp/f.csv" | grep -q "density,vpa,packing fraction,spacegroup_num.*LLB Li-Li bonds per Li"'
check_eval "errors file has only its header" '[ $(wc -l < "$tmp/err.csv") -eq 1 ]'
# LGPS (pymatgen file): P4_2/nmc = 137, Li fraction 20.2 / 50.2
col() { head -1 "$tmp/f.csv" | tr ',' '\n' | grep -n -x "$1" | cut -d: -f1; }
sg=$(grep "Li10GeP2S12.cif" "$tmp/f.csv" | cut -d, -f"$(col spacegroup_num)")
check_eval "Li10GeP2S12 space group 137 (got $sg)" '[ "$sg" = 137 ]'
lf=$(grep "Li10GeP2S12.cif" "$tmp/f.csv" | cut -d, -f"$(col "Li fraction")")
check_eval "Li10GeP2S12 Li fraction 20.2/50.2 (got $lf)" \
    'awk -v x="$lf" "BEGIN { exit !(x - 20.2 / 50.2 < 1e-12 && 20.2 / 50.2 - x < 1e-12) }"'
# a set by name, and an unknown set
"$MATSCREEN" featurize -i "$here/examples/structures/obelix-joc.cif" -o "$tmp/li.csv" --set li-transport 2>/dev/null
check_eval "--set li-transport gives 6 + 7 + 6 (bvse) columns" '[ "$(head -1 "$tmp/li.csv" | tr "," "\n" | wc -l)" -eq 19 ]'
"$MATSCREEN" featurize -i "$here/examples/structures" -o "$tmp/x.csv" --set nosuch 2>"$tmp/log"
rc=$?
check_eval "unknown set: exit 2 listing the sets" '[ $rc -eq 2 ] && grep -q "valid sets" "$tmp/log"'
# a broken record is reported, not dropped
printf 'data_broken\n_cell_length_a 5\n' > "$tmp/broken.cif"
"$MATSCREEN" featurize -i "$tmp/broken.cif" "$here/examples/structures/LiFePO4.cif" -o "$tmp/b.csv" -e "$tmp/berr.csv" 2>/dev/null
rc=$?
check_eval "a failed record: exit 1, one row, one error line" \
    '[ $rc -eq 1 ] && [ $(wc -l < "$tmp/b.csv") -eq 2 ] && [ $(wc -l < "$tmp/berr.csv") -eq 2 ]'
finish
