#!/usr/bin/env bash
# The quickstart on the bundled data only (no ../shared): examples/quickstart.sh is run in a copy
# of the checkout's examples/, workflows/ and share/, under mpirun -np 2. It must train the
# classifier and the surrogate, screen the candidates with both (every ranked row has a class
# probability and a positive sigma), suggest 5, write report.html and say where things are.
# Then the <acquisition> settings of the workflow: kappa= and target= are honoured (the scores
# equal the formula / the CLI's --best), and a setting the function does not use, a non-finite
# value or an unknown attribute is refused at validation with the line.
# Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh quickstart

MATSCREEN=$(cd "$(dirname "$MATSCREEN")" && pwd)/$(basename "$MATSCREEN")
co=$tmp/co
mkdir -p "$co"
cp -R examples workflows share "$co/"
(cd "$co" && MATSCREEN="$MATSCREEN" MPIEXEC="$MPIEXEC" MATSCREEN_SHARE="$co/share/matscreen" \
    bash examples/quickstart.sh >"$tmp/qs.out" 2>"$tmp/qs.err")
check "quickstart exits 0" test $? -eq 0
out=$co/runs/quickstart
for f in ranked.csv report.html suggested.csv models/classifier.msm models/surrogate.msm; do
    check "quickstart wrote $f" test -s "$out/$f"
done
check "says where the ranked list is" contains "$tmp/qs.out" "ranked candidates:  runs/quickstart/ranked.csv"
check "says where the report is" contains "$tmp/qs.out" "the report:         runs/quickstart/report.html"
check "says what to do next" contains "$tmp/qs.out" "What next:"
col() { # col FILE NAME: the column number of NAME in FILE's header
    head -1 "$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1
}
rk=$out/ranked.csv
cp_=$(col "$rk" class_prob) cm=$(col "$rk" surrogate_mean) cs=$(col "$rk" surrogate_sigma)
check "ranked.csv has candidates (> 100 Li compounds)" test "$(tail -n +2 "$rk" | wc -l)" -gt 100
check "every candidate has a class probability in [0,1] and a sigma > 0" \
    test "$(tail -n +2 "$rk" | awk -F, -v p="$cp_" -v s="$cs" \
        '!($p != "" && $p >= 0 && $p <= 1 && $s != "" && $s > 0)' | wc -l)" -eq 0
check "suggested.csv: 5 suggestions" test "$(tail -n +2 "$out/suggested.csv" | wc -l)" -eq 5
# suggest follows the screen's domain of applicability: no out-of-domain structure (gemdat's
# latp.cif had been one) while in-domain candidates remain, and it says how many it left out
check "suggested.csv: none out of the model's domain" test "$(grep -c "out of the model's domain" "$out/suggested.csv")" -eq 0
check "suggest says how many candidates it left out as out of the domain" \
    grep -q "domain of applicability (the screen's): [0-9]* eligible candidates out of the model's domain" "$tmp/qs.err"

# <acquisition> settings, on the two trained models and the GEMDAT candidates (fast)
wf() { # wf NAME ACQUISITION-ELEMENT: a screen-stage copy of quickstart.xml with the trained models
    sed -e 's|stage="train"|stage="screen"|' -e 's|../examples/candidates"|../examples/candidates/gemdat"|' \
        -e '/<training /,/<\/training>/c\    <model file="../runs/quickstart/models/surrogate.msm"/>' \
        -e "s|<acquisition [^>]*/>|$2|" -e "s|../runs/quickstart\"|../runs/$1\"|" \
        "$co/workflows/quickstart.xml" >"$co/workflows/$1.xml"
}
wf ucb1 '<acquisition function="ucb" kappa="1"/>'
(cd "$co" && "$MATSCREEN" run -q workflows/ucb1.xml >/dev/null 2>"$tmp/ucb1.err")
check "ucb kappa=1 runs (1: a GEMDAT file may fail validation)" test $? -le 1
r=$co/runs/ucb1/ranked.csv
a=$(col "$r" acquisition)
check "ucb kappa=1: acquisition = mean + 1 sigma on every row" \
    test "$(tail -n +2 "$r" | awk -F, -v m="$cm" -v s="$cs" -v a="$a" \
        'function abs(x) { return x < 0 ? -x : x } abs($a - ($m + $s)) > 1e-6 * (1 + abs($a))' | wc -l)" -eq 0
check "ucb kappa=1: rows ranked" test "$(tail -n +2 "$r" | wc -l)" -ge 3
wf mei2 '<acquisition function="mei" target="-2"/>'
(cd "$co" && "$MATSCREEN" run -q workflows/mei2.xml >/dev/null 2>"$tmp/mei2.err")
check "mei target=-2 runs (no --best needed)" test $? -le 1
r=$co/runs/mei2/ranked.csv
(cd "$co" && "$MATSCREEN" screen -q -i examples/candidates/gemdat -o runs/mei2-cli \
    -m runs/quickstart/models/classifier.msm -m runs/quickstart/models/surrogate.msm \
    --rank-by ei --best -2 >/dev/null 2>&1)
check "mei target=-2 ranks as screen --best -2 (same keys, order and scores)" \
    test "$(cut -d, -f2,"$a" "$r")" = "$(cut -d, -f2,"$a" "$co/runs/mei2-cli/ranked.csv")"
wf mei3 '<acquisition function="mei" target="-3"/>'
(cd "$co" && "$MATSCREEN" run -q workflows/mei3.xml >/dev/null 2>&1)
check "target= changes the scores (-2 vs -3)" \
    test "$(cut -d, -f"$a" "$r" | md5sum)" != "$(cut -d, -f"$a" "$co/runs/mei3/ranked.csv" | md5sum)"

# the report: candidates first, the models named with their CV metrics, criteria as tables
rep=$out/report.html
check "report: candidates before the changes" \
    test "$(grep -n 'id="topk"' "$rep" | cut -d: -f1)" -lt "$(grep -n 'id="changes"' "$rep" | cut -d: -f1)"
check "report: names the surrogate and the classifier" \
    grep -q "surrogate.msm.*forest regressor.*226.*mae" "$rep"
check "report: the classifier's threshold and CV" grep -q "classifier.msm.*forest classifier.*&gt;= 0.0001.*roc_auc" "$rep"
check "report: the 326 new inputs are folded under their count" \
    grep -q "<details><summary>326 inputs new, changed, recomputed or removed" "$rep"
check "report: the domain section is HTML, not escaped text" sh -c "! grep -q '&lt;tr&gt;' '$rep'"
sed -n '/<section id="domain">/,/<\/section>/p' "$rep" >"$tmp/domain-section"
check "report: the domain section is one closed table" \
    test "$(grep -c '<table' "$tmp/domain-section")/$(grep -c '</table>' "$tmp/domain-section")" = 1/1
check "report: the domain section counts records" contains "$tmp/domain-section" "records out of it"
check "report: criteria as a table, not JSON" test "$(sed -n '/id="criteria"/,/<\/table>/p' "$rep" | grep -c '{')" -eq 0
# negative scores (rank by the mean of log10 sigma): the best candidate has the longest bar
wf mean '<acquisition function="mean"/>'
(cd "$co" && "$MATSCREEN" run -q workflows/mean.xml >/dev/null 2>&1)
w=$(grep -o '<rect x="0" y="3" width="[0-9.]*"' "$co/runs/mean/report.html" | sed 's/.*width="//; s/"//')
check "mean ranking: scores are negative" test "$(sed -n 2p "$co/runs/mean/ranked.csv" | cut -d, -f"$a" | cut -c1)" = "-"
check "negative scores: bars shrink down the ranking (best longest)" \
    test "$(echo "$w" | tr ' ' '\n')" = "$(echo "$w" | tr ' ' '\n' | sort -gr)"
check "negative scores: the best bar is not the shortest" \
    test "$(echo "$w" | head -1 | cut -d. -f1)" -gt "$(echo "$w" | tail -1 | cut -d. -f1)"

refused() { # refused NAME ELEMENT TEXT: validation exits 2 naming the line and TEXT
    wf "$1" "$2"
    local line
    line=$(grep -n '<acquisition' "$co/workflows/$1.xml" | cut -d: -f1)
    (cd "$co" && "$MATSCREEN" run --validate-only "workflows/$1.xml" >"$tmp/$1.out" 2>&1)
    check "$1: refused (exit 2)" test $? -eq 2
    check "$1: names the line and says why" contains "$tmp/$1.out" "$1.xml:$line: $3"
}
refused ucb-target '<acquisition function="ucb" target="-3"/>' \
    '<acquisition function="ucb" target="-3">: target= is the best label so far'
refused mei-kappa '<acquisition function="mei" kappa="1"/>' '<acquisition function="mei" kappa="1">: kappa= is'
refused mean-xi '<acquisition function="mean" xi="0.1"/>' '<acquisition function="mean" xi="0.1">: xi= is'
refused mei-inf '<acquisition function="mei" target="INF"/>' '<acquisition target>: '"'INF'"' is not a finite number'
refused ucb-neg '<acquisition function="ucb" kappa="-1"/>' '<acquisition kappa>: -1 is out of range'
refused mei-foo '<acquisition function="mei" best="-3"/>' '<acquisition>: unknown attribute best='
finish
