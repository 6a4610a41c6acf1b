#!/usr/bin/env bash
# Integration test of `matscreen run`: workflows/quickstart.xml is run as one process and under
# mpirun -np 2; both must write report.html and ranked.csv, and ranked.csv, errors.csv and
# report.html (without its data-volatile lines: rank count, timings) must be identical. A second
# run into the same directory must keep the first as previous/ and report the changes.
# --validate-only is checked on every workflow in workflows/ and on the invalid files of
# tests/data/workflows (one error each, with the line). Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
MATSCREEN=${MATSCREEN:-./matscreen}
MPIEXEC=${MPIEXEC:-mpiexec}
export MATSCREEN_SHARE=${MATSCREEN_SHARE:-$PWD/share/matscreen}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # check NAME COMMAND...
    local name=$1
    shift
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name" >&2; fi
}
contains() { grep -qF -- "$2" "$1"; }

# 1. quickstart, serial and 2 ranks
"$MATSCREEN" run workflows/quickstart.xml -o "$tmp/serial" >"$tmp/serial.out" 2>"$tmp/serial.err"
check "quickstart serial exits 0" test $? -eq 0
"$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" run workflows/quickstart.xml -o "$tmp/np2" \
    >"$tmp/np2.out" 2>"$tmp/np2.err"
check "quickstart mpirun -np 2 exits 0" test $? -eq 0
for d in serial np2; do
    check "$d: report.html written" test -s "$tmp/$d/report.html"
    check "$d: ranked.csv written" test -s "$tmp/$d/ranked.csv"
    check "$d: prints where the report is" contains "$tmp/$d.out" "report: $tmp/$d/report.html"
done
check "ranked.csv identical serial vs 2 ranks" cmp -s "$tmp/serial/ranked.csv" "$tmp/np2/ranked.csv"
check "errors.csv identical serial vs 2 ranks" cmp -s "$tmp/serial/errors.csv" "$tmp/np2/errors.csv"
grep -v data-volatile "$tmp/serial/report.html" | sed "s|$tmp/serial|DIR|g" >"$tmp/r1"
grep -v data-volatile "$tmp/np2/report.html" | sed "s|$tmp/np2|DIR|g" >"$tmp/r2"
check "report.html identical serial vs 2 ranks (volatile lines aside)" cmp -s "$tmp/r1" "$tmp/r2"
# filters: the quickstart requires Li, so every ranked row has the li flag
check "filters applied (every row has li)" \
    test "$(tail -n +2 "$tmp/serial/ranked.csv" | grep -vc '|li\|,li$')" -eq 0
check "top-k from the workflow (5 CIFs)" test "$(ls "$tmp/serial/top" | wc -l)" -eq 5
# a plain report: no scripts, no remote resources
check "report has no <script>" test "$(grep -c '<script' "$tmp/serial/report.html")" -eq 0
for id in plot-topk plot-scores plot-quality; do
    check "report has $id" contains "$tmp/serial/report.html" "<svg id=\"$id\""
done

# 2. the night after: a second run into the same directory compares with the first
sed 's|<top-k>5</top-k>|<top-k>3</top-k>|; s|Pb Cd Hg Tl|Pb Cd Hg Tl Ge|' workflows/quickstart.xml \
    >workflows/.quickstart-night2.$$.xml
"$MATSCREEN" run -q workflows/.quickstart-night2.$$.xml -o "$tmp/serial" >/dev/null 2>&1
check "second night exits 0" test $? -eq 0
rm -f workflows/.quickstart-night2.$$.xml
check "previous night kept" test -s "$tmp/serial/previous/ranked.csv"
check "report lists what left the top-K" contains "$tmp/serial/report.html" "Left the top-K"
check "report counts changes" contains "$tmp/serial/report.html" "left the top 3"

# 3. --validate-only on every ready workflow
"$MATSCREEN" run --validate-only workflows/quickstart.xml >"$tmp/v.out" 2>&1
check "quickstart.xml validates" test $? -eq 0
check "quickstart.xml: says valid" contains "$tmp/v.out" "valid: workflow 'quickstart'"
"$MATSCREEN" run --validate-only workflows/nightly-screen.xml >"$tmp/v.out" 2>&1
check "nightly-screen.xml unedited: exit 2" test $? -eq 2
check "nightly-screen.xml unedited: says which path is missing" \
    contains "$tmp/v.out" "nightly-screen.xml:29: <source path=\"/data/exports/icsd\">: /data/exports/icsd does not exist"
mkdir -p "$tmp/exports/icsd" "$tmp/exports/mp"
cp examples/structures/*.cif "$tmp/exports/icsd/"
cp examples/structures/*.json "$tmp/exports/mp/"
sed "s|/data/exports|$tmp/exports|; s|/scratch/matscreen/nightly|$tmp/nightly|" \
    workflows/nightly-screen.xml >"$tmp/nightly-screen.xml"
"$MATSCREEN" run --validate-only "$tmp/nightly-screen.xml" >"$tmp/v.out" 2>&1
check "nightly-screen.xml edited as its header says: validates" test $? -eq 0
"$MATSCREEN" run -q "$tmp/nightly-screen.xml" >"$tmp/v.out" 2>&1
check "nightly-screen.xml edited: runs" test -s "$tmp/nightly/report.html"
for wf in train-conductivity:train active-learning:campaign; do
    f=${wf%%:*}
    stage=${wf##*:}
    "$MATSCREEN" run --validate-only "workflows/$f.xml" >"$tmp/v.out" 2>&1
    rc=$?
    if grep -q "stage '$stage' is not available in this build yet" "$tmp/v.out"; then
        check "$f.xml: stage not available, said clearly, exit 2" test $rc -eq 2
        check "$f.xml: only that problem" test "$(grep -c '^workflows/' "$tmp/v.out")" -eq 1
    else
        check "$f.xml validates" test $rc -eq 0
    fi
done

# 4. invalid workflows: one error each, with the line
while read -r file line text; do
    "$MATSCREEN" run --validate-only "tests/data/workflows/$file" >"$tmp/v.out" 2>&1
    rc=$?
    check "$file: exit 2" test $rc -eq 2
    check "$file: one error at line $line" test "$(grep -c "^tests/data/workflows/$file:" "$tmp/v.out")" -eq 1
    check "$file: message" contains "$tmp/v.out" "tests/data/workflows/$file:$line: $text"
done <<'LIST'
bad_element.xml 9 <exclude-elements>: 'Xx' is not an element symbol
bad_number.xml 10 <max-atoms>: '25O' is not a number
unknown_descriptor_set.xml 14 <descriptors set="magpi">: unknown descriptor set
missing_file.xml 4 <source path="../../../examples/no-such-dir">
unknown_stage.xml 2 <workflow stage="...">: 'scren' is not one of
schema_violation.xml 14 <descriptor> is not allowed here
billion_laughs.xml 2 a DOCTYPE is not allowed
xxe.xml 3 a DOCTYPE is not allowed
external_dtd.xml 2 a DOCTYPE is not allowed
deep_nesting.xml 4 elements are nested too deeply
non_utf8.xml 3 byte 0xF6 is not UTF-8
LIST
# nothing ran for an invalid workflow
check "invalid workflow writes nothing" test ! -e tests/data/workflows/out

# 5. usage
"$MATSCREEN" run >/dev/null 2>&1
check "no workflow: exit 2" test $? -eq 2
"$MATSCREEN" run --help | grep -q validate-only
check "--help mentions --validate-only" test $? -eq 0

echo "workflow: $pass passed, $fail failed"
test "$fail" -eq 0
