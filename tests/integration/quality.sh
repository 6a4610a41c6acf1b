#!/usr/bin/env bash
# Integration test of `matscreen quality` on real data: the same structure from a CIF and from its
# pymatgen JSON is one duplicate group; the OBELiX training CIFs without Li are flagged with
# --expect-li; the edited files of tests/data/quality provoke their checks; outputs are complete
# and deterministic. Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh quality
needs_shared

# column N (1-based) of the CSV rows whose file matches PATTERN, CSV quoting respected
csv_col() { # csv_col FILE PATTERN COLUMN-NAME
    python3 - "$1" "$2" "$3" <<'PY'
import csv, sys, re
for r in csv.DictReader(open(sys.argv[1])):
    if re.search(sys.argv[2], r["file"]):
        print(r[sys.argv[3]])
PY
}

# 1. CIF and pymatgen JSON of Li4Fe3Mn1(PO4)4, plus LiFePO4: two groups, the pair together.
mkdir -p "$tmp/pair"
cp "$DATA/cif/pymatgen/tests/files/Li4Fe3Mn1(PO4)4.cif" "$DATA/json/tests/files/Li4Fe3Mn1(PO4)4.json" \
    examples/structures/LiFePO4.cif "$tmp/pair/"
"$MATSCREEN" quality -i "$tmp/pair" -o "$tmp/out1" >"$tmp/out1.txt" 2>&1
check "quality exits 0 on the pair" test $? -eq 0
check "quality.json written" test -s "$tmp/out1/quality.json"
check "quality.csv has a header and 3 rows" test "$(wc -l <"$tmp/out1/quality.csv")" -eq 4
g_cif=$(csv_col "$tmp/out1/quality.csv" 'Li4Fe3Mn1.*\.cif$' duplicate_group)
g_json=$(csv_col "$tmp/out1/quality.csv" 'Li4Fe3Mn1.*\.json$' duplicate_group)
g_lfp=$(csv_col "$tmp/out1/quality.csv" 'LiFePO4' duplicate_group)
check "CIF and JSON in one group ($g_cif, $g_json)" test -n "$g_cif" -a "$g_cif" = "$g_json"
check "LiFePO4 in another group" test -n "$g_lfp" -a "$g_lfp" != "$g_cif"
check "one duplicate merged" grep -q '"duplicates_merged": 1' "$tmp/out1/quality.json"
check "summary printed" grep -q "uniqueness: 2 unique structures, 1 duplicates merged" "$tmp/out1.txt"
for c in validity accuracy consistency completeness timeliness uniqueness; do
    check "criterion $c reported" grep -q "\"$c\"" "$tmp/out1/quality.json"
done

# 2. OBELiX training CIFs with --expect-li: the 7 without a Li site are flagged li_missing.
"$MATSCREEN" quality --expect-li -i "$DATA/labeled/obelix-train/cifs" -o "$tmp/obx" >"$tmp/obx.txt" 2>&1
check "OBELiX run exits 1: the 7 refused records failed, the rest is done" test $? -eq 1
n_li=$(csv_col "$tmp/obx/quality.csv" . checks_failed | grep -c li_missing)
check "7 OBELiX CIFs without Li flagged (got $n_li)" test "$n_li" -eq 7
for id in 5tl b4c cy2 hta s3h u2y u8r; do
    check "OBELiX $id flagged li_missing" bash -c "[[ '$(csv_col "$tmp/obx/quality.csv" "/$id.cif" checks_failed)' == *li_missing* ]]"
done
check "li_missing counted in quality.json" \
    python3 -c "import json,sys; d=json.load(open('$tmp/obx/quality.json')); sys.exit(d['checks']['li_missing']['failed']!=7)"
check "254 OBELiX records" grep -q '"records": 254' "$tmp/obx/quality.json"

# 3. Edited real files provoke their checks; broken files become "read"/"finite" rows.
"$MATSCREEN" quality -i tests/data/quality tests/data/broken/truncated.cif tests/data/broken/nan_coordinates.cif \
    -o "$tmp/edit" >/dev/null 2>&1
check "edited files run (exit 1: some records are refused)" test $? -eq 1
for pair in joc_overfull:occupancy joc_unknown_element:unknown_element joc_close_atoms:close_atoms \
    joc_formula:formula nan_coordinates:finite truncated:read; do
    f=${pair%%:*}
    c=${pair##*:}
    check "$f.cif fails $c" bash -c "[[ '$(csv_col "$tmp/edit/quality.csv" "$f.cif" checks_failed)' == *$c* ]]"
done

# 4. Deterministic: a second run writes the same CSV.
"$MATSCREEN" quality -i "$tmp/pair" -o "$tmp/out2" >/dev/null 2>&1
check "same CSV twice" cmp -s "$tmp/out1/quality.csv" "$tmp/out2/quality.csv"

# 5. Usage.
"$MATSCREEN" quality -o "$tmp/x" >/dev/null 2>&1
check "no input is a usage error" test $? -eq 2
"$MATSCREEN" quality -i "$tmp/pair" -o "$tmp/x" --trust ICSD,XYZ >/dev/null 2>&1
check "bad trust order is a usage error" test $? -eq 2
"$MATSCREEN" quality --help | grep -q "usage: matscreen quality"
check "quality --help" test $? -eq 0

finish
