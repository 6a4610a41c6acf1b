#!/usr/bin/env bash
# Integration test of `matscreen inspect`: the bundled examples are all read, each structure gives
# one JSON line with the fields users rely on, and broken files give error lines naming the file
# while the others are still read. Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh inspect

# Every bundled example is read: exit 0, no error line, one line per structure.
"$MATSCREEN" inspect examples/structures >"$tmp/ok.jsonl" 2>"$tmp/ok.err"
check "examples read with exit 0" test $? -eq 0
check "no error lines for examples" bash -c "! grep -q '\"error\"' '$tmp/ok.jsonl'"
n=$(find examples/structures -name '*.cif' -o -name '*.json' | wc -l)
lines=$(wc -l <"$tmp/ok.jsonl")
check "one line or more per example file ($lines lines, $n files)" test "$lines" -ge "$n"
check "argyrodite formula" grep -q '"reduced_formula":"Li6PS5Cl"' "$tmp/ok.jsonl"
check "garnet formula" grep -q '"reduced_formula":"Li7La3Zr2O12"' "$tmp/ok.jsonl"
check "LiFePO4 formula" grep -q '"reduced_formula":"LiFePO4"' "$tmp/ok.jsonl"
check "COD provenance" grep -q '"source":"COD","id":"COD 8103382"' "$tmp/ok.jsonl"
check "summary on stderr" grep -Eq "^matscreen inspect: [0-9]+ records, 0 failed, .* structures read" "$tmp/ok.err"

# Broken files are reported by name and do not stop the good ones.
"$MATSCREEN" inspect tests/data/broken/*.cif examples/structures/obelix-122.cif >"$tmp/bad.jsonl" 2>/dev/null
check "broken inputs give exit 1" test $? -eq 1
for f in empty truncated gzipped nan_coordinates; do
    check "error line names $f.cif" grep -q "\"file\":\"tests/data/broken/$f.cif\".*\"error\"" "$tmp/bad.jsonl"
done
check "good file after broken ones still read" grep -q '"reduced_formula":"Li6PS5Cl"' "$tmp/bad.jsonl"

# Usage errors.
"$MATSCREEN" inspect >/dev/null 2>&1
check "inspect without files is a usage error" test $? -eq 2
"$MATSCREEN" frobnicate >/dev/null 2>&1
check "unknown command is a usage error" test $? -eq 2
"$MATSCREEN" inspect --help | grep -q "usage: matscreen inspect"
check "inspect --help" test $? -eq 0
# A missing input path is exit 2 (the one exit rule, README): nothing is run, stderr names the path.
"$MATSCREEN" inspect examples/structures/obelix-122.cif /nonexistent.cif >"$tmp/missing.jsonl" 2>"$tmp/missing.err"
check "missing file: exit 2" test $? -eq 2
check "missing file: stderr names the path and the fix" grep -q "/nonexistent.cif: No such file or directory (check the path" "$tmp/missing.err"
check "missing file: nothing was run" test ! -s "$tmp/missing.jsonl"

finish
