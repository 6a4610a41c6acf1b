#!/usr/bin/env bash
# Integration test of `matscreen run`: workflows/examples.xml is run as one process and under
# mpirun -np 2; both must write report.html and ranked.csv, and ranked.csv, errors.csv and
# report.html (without its data-volatile lines: rank count, timings) must be identical. A second
# run into the same directory must reuse the first's results from the state store and report the
# changes; with --no-state it keeps the first as previous/. The train and campaign workflows run
# for real.
# --validate-only is checked on every workflow in workflows/ and on the invalid files of
# tests/data/workflows (one error each, with the line). Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh workflow

# 1. quickstart, serial and 2 ranks
"$MATSCREEN" run workflows/examples.xml -o "$tmp/serial" >"$tmp/serial.out" 2>"$tmp/serial.err"
check "examples serial exits 0" test $? -eq 0
"$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" run workflows/examples.xml -o "$tmp/np2" \
    >"$tmp/np2.out" 2>"$tmp/np2.err"
check "examples mpirun -np 2 exits 0" test $? -eq 0
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
    test "$(tail -n +2 "$tmp/serial/ranked.csv" | awk -F, '{ n = split($22, f, "|"); ok = 0
        for (i = 1; i <= n; i++) if (f[i] == "li") ok = 1; if (!ok) print }' | wc -l)" -eq 0
check "top-k from the workflow (5 CIFs)" test "$(ls "$tmp/serial/top" | wc -l)" -eq 5
# a plain report: no scripts, no remote resources
check "report has no <script>" test "$(grep -c '<script' "$tmp/serial/report.html")" -eq 0
for id in plot-topk plot-scores plot-quality; do
    check "report has $id" contains "$tmp/serial/report.html" "<svg id=\"$id\""
done

# 2. the night after: a second run into the same directory compares with the first
sed 's|<top-k>5</top-k>|<top-k>3</top-k>|; s|Pb Cd Hg Tl|Pb Cd Hg Tl Ge|' workflows/examples.xml \
    >workflows/.examples-night2.$$.xml
"$MATSCREEN" run -q workflows/.examples-night2.$$.xml -o "$tmp/serial" >/dev/null 2>&1
check "second night exits 0" test $? -eq 0
check "state store kept the first night" test -s "$tmp/serial/state.db"
check "report lists what left the top-K" contains "$tmp/serial/report.html" "Left the top-K"
check "report counts changes" contains "$tmp/serial/report.html" "left the top 3"
check "second night: inputs reused from the store" contains "$tmp/serial/report.html" "<b>10</b> inputs reused"
# without the store, the previous outputs move to DIR/previous/ and the report compares with them
"$MATSCREEN" run -q --no-state workflows/.examples-night2.$$.xml -o "$tmp/serial" >/dev/null 2>&1
check "--no-state night exits 0" test $? -eq 0
rm -f workflows/.examples-night2.$$.xml
check "previous night kept (--no-state)" test -s "$tmp/serial/previous/ranked.csv"
check "report compares with previous/ (--no-state)" contains "$tmp/serial/report.html" "<b>0</b> left the top 3"

# 3. --validate-only on every ready workflow
"$MATSCREEN" run --validate-only workflows/examples.xml >"$tmp/v.out" 2>&1
check "examples.xml validates" test $? -eq 0
check "examples.xml: says valid" contains "$tmp/v.out" "valid: workflow 'examples'"
"$MATSCREEN" run --validate-only workflows/nightly-screen.xml >"$tmp/v.out" 2>&1
check "nightly-screen.xml unedited: exit 2" test $? -eq 2
check "nightly-screen.xml unedited: says which path is missing" \
    contains "$tmp/v.out" "nightly-screen.xml:29: <source path=\"/data/exports/icsd\">: /data/exports/icsd does not exist"
mkdir -p "$tmp/exports/icsd" "$tmp/exports/mp"
cp examples/structures/*.cif "$tmp/exports/icsd/"
cp examples/structures/*.json "$tmp/exports/mp/"
sed "s|/data/exports|$tmp/exports|; s|/project/matscreen/nightly|$tmp/nightly|" \
    workflows/nightly-screen.xml >"$tmp/nightly-screen.xml"
"$MATSCREEN" run --validate-only "$tmp/nightly-screen.xml" >"$tmp/v.out" 2>&1
check "nightly-screen.xml edited as its header says: validates" test $? -eq 0
"$MATSCREEN" run -q "$tmp/nightly-screen.xml" >"$tmp/v.out" 2>&1
check "nightly-screen.xml edited: runs" test -s "$tmp/nightly/report.html"
"$MATSCREEN" run --validate-only workflows/active-learning.xml >"$tmp/v.out" 2>&1
check "active-learning.xml validates" test $? -eq 0
check "active-learning.xml: stage campaign" contains "$tmp/v.out" "stage campaign"
"$MATSCREEN" run --validate-only workflows/train-conductivity.xml >"$tmp/v.out" 2>&1
check "train-conductivity.xml validates" test $? -eq 0

# 3b. the train workflow runs for real (OBELiX, 2 ranks): model, evaluation.csv with the
# cross-validated predictions, parity and calibration plots, then a screen scored by that model
if [ -d ../shared/data/labeled/obelix-train/cifs ]; then
    sed "s|output=\"../runs/train-conductivity/conductivity.msm\"|output=\"$tmp/train/conductivity.msm\"|" \
        workflows/train-conductivity.xml >workflows/.train-test.xml
    "$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" run workflows/.train-test.xml -o "$tmp/train" \
        >"$tmp/train.out" 2>"$tmp/train.err"
    check "train-conductivity.xml runs (2 ranks), exit 0" test $? -eq 0
    rm -f workflows/.train-test.xml
    check "train: model written" test -s "$tmp/train/conductivity.msm"
    check "train: evaluation.csv header (random and grouped CV)" test "$(head -1 "$tmp/train/evaluation.csv")" = "id,observed,predicted,sigma,chemsys,grouped_predicted,grouped_sigma"
    check "train: train.json has the grouped CV" contains "$tmp/train/train.json" '"grouped": {"by": "chemsys"'
    check "train: report sets grouped beside random CV" contains "$tmp/train/report.html" 'id="cv-grouped"'
    # grouped folds hold whole chemical systems out: their MAE is the larger one on OBELiX
    g_above=$(awk -F, 'NR > 1 { d = $2 - $3; r += d < 0 ? -d : d; e = $2 - $6; g += e < 0 ? -e : e }
                       END { print (g > r) ? 1 : 0 }' "$tmp/train/evaluation.csv")
    check "train: grouped MAE above random MAE" test "$g_above" = 1
    check "train: evaluation.csv has the CV rows" test "$(wc -l <"$tmp/train/evaluation.csv")" -gt 100
    check "train: train.json with CV metrics" contains "$tmp/train/train.json" '"folds": 5'
    check "train: parity plot" contains "$tmp/train/report.html" 'id="plot-parity"'
    check "train: calibration plot" contains "$tmp/train/report.html" 'id="plot-calibration"'
    check "train: the screen used the trained model (surrogate mean filled)" \
        test -n "$(sed -n 2p "$tmp/train/ranked.csv" | cut -d, -f17)"
    check "train: summary printed" contains "$tmp/train.err" "5-fold CV"
    # one road for fold models: the stage's out-of-fold mean and sigma (random and grouped folds,
    # every fold's model recalibrated on grouped CV of its training rows, as train stores the
    # model) are `matscreen evaluate`'s on the same rows, folds and seed, row by row (2 ranks
    # there, 1 here); before, the stage scored plain fits (the learner's own sigma)
    "$MATSCREEN" evaluate -l examples/obelix-train/train.csv -i examples/obelix-train/cifs --id-column ID \
        -t "Ionic conductivity (S cm-1)" --log10 --set default -s 1234 --cv 5 \
        --predictions "$tmp/train-eval.csv" >"$tmp/train-eval.out" 2>&1
    check "evaluate on the train workflow's labels exits 0" test $? -eq 0
    check "train: out-of-fold mean and sigma are evaluate's, row by row (random and grouped folds)" \
        awk -F, 'function off(a, b) { d = a - b; if (d < 0) d = -d; return a == "" || d > 1e-8 * (1 + (b < 0 ? -b : b)) }
            NR == FNR { if (FNR > 1) { m[$1] = $4; s[$1] = $5; gm[$1] = $8; gs[$1] = $9 }; next }
            FNR > 1 { n++; if (!($1 in m) || off($3, m[$1]) || off($4, s[$1]) || off($6, gm[$1]) || off($7, gs[$1])) {
                if (bad++ < 3) print "differs: " $0 " evaluate " m[$1] " " s[$1] " " gm[$1] " " gs[$1] > "/dev/stderr" } }
            END { exit bad || n < 100 }' "$tmp/train-eval.csv" "$tmp/train/evaluation.csv"
    # evaluate: the trained model's held-out predictions on the same labels (serial)
    # (with <models explain="2">: each candidate's two largest contributions reach the report)
    sed "s|stage=\"train\"|stage=\"evaluate\"|; s|<models>|<models explain=\"2\"><model file=\"$tmp/train/conductivity.msm\"/>|; s|output=\"../runs/train-conductivity/conductivity.msm\"|output=\"$tmp/eval/unused.msm\"|" \
        workflows/train-conductivity.xml >workflows/.eval-test.xml
    "$MATSCREEN" run -q workflows/.eval-test.xml -o "$tmp/eval" >"$tmp/eval.out" 2>"$tmp/eval.err"
    check "evaluate workflow runs, exit 0" test $? -eq 0
    rm -f workflows/.eval-test.xml
    check "evaluate: evaluation.csv written" test "$(wc -l <"$tmp/eval/evaluation.csv")" -gt 100
    check "evaluate: held out (folds 0)" contains "$tmp/eval/evaluate.json" '"folds": 0'
    check "evaluate: no model written" test ! -e "$tmp/eval/unused.msm"
    check "evaluate: parity plot" contains "$tmp/eval/report.html" 'id="plot-parity"'
    check "explain: ranked.csv ends with the explain column" \
        test "$(head -1 "$tmp/eval/ranked.csv" | awk -F, '{print $NF}')" = explain
    sed -n '/id="topk-why"/,/<\/table>/p' "$tmp/eval/report.html" >"$tmp/eval/why.html"
    n_rows=$(($(wc -l <"$tmp/eval/ranked.csv") - 1)) n_top=$(grep -c '^<tr><td>[0-9]' "$tmp/eval/why.html")
    check "explain: the report has the table of why the top candidates rank there" \
        contains "$tmp/eval/why.html" '<th>largest contributions: feature = value</th>'
    check "explain: two contributions in each of the $n_top rows" \
        test "$(grep -o '<span class="\(up\|down\)">[-+][0-9]' "$tmp/eval/why.html" | wc -l)" -eq $((2 * n_top))
    # the first row's largest contribution in the report is ranked.csv's (name, value, sign)
    first=$(sed -n 2p "$tmp/eval/ranked.csv" | awk -F, '{print $NF}' | cut -d';' -f1 | tr -d '"')
    name=${first%%=*} value=${first#*=} value=${value%%:*}
    check "explain: the best candidate's first contribution ($name) is in the report" \
        contains "$tmp/eval/why.html" "</span> $name = $value</div>"
    check "explain: the table shows candidates ($n_top of $n_rows)" test "$n_top" -gt 0 -a "$n_rows" -ge "$n_top"
fi

# 3d. the ranking direction: without <ranking order=> the surrogate's stored goal decides (train
# --goal min: smaller first), as in `matscreen screen`; an explicit order= wins; the run says
# where the direction came from
"$MATSCREEN" train -l examples/obelix-train/train.csv -i examples/obelix-train/cifs --id-column ID \
    -t "Ionic conductivity (S cm-1)" --log10 --set default -p n_trees=20 --calibrate oob --goal min \
    -o "$tmp/min.msm" >"$tmp/min.out" 2>&1
check "train --goal min (a surrogate whose smaller values are better)" test $? -eq 0
goal_run() { # goal_run NAME RANKING-ELEMENT: examples.xml with that model, ranked by its mean
    sed -e "s|<descriptors set=\"default\"/>|<descriptors set=\"default\"/><models><model file=\"$tmp/min.msm\"/></models>|" \
        -e "s|<ranking [^>]*/>|$2<acquisition function=\"mean\"/>|" workflows/examples.xml >workflows/.goal-$1.xml
    "$MATSCREEN" run workflows/.goal-$1.xml -o "$tmp/$1" >/dev/null 2>"$tmp/$1.err"
    local rc=$?
    rm -f workflows/.goal-$1.xml
    return $rc
}
mean_order() { # mean_order DIR: "ascending" / "descending" / "unordered" by surrogate_mean, over
    # the rows in the model's domain (out-of-domain rows rank after them, by default)
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "surrogate_mean") c = i; if ($i == "in_domain") d = i }; next }
        $d == "1" { v[++n] = $c } END { up = dn = 1; for (i = 2; i <= n; i++) { if (v[i] < v[i - 1]) up = 0; if (v[i] > v[i - 1]) dn = 0 }
            print n < 3 ? "too few" : up ? "ascending" : dn ? "descending" : "unordered" }' "$1/ranked.csv"
}
goal_run goalmin ""
check "no <ranking order=>: runs" test $? -eq 0
check "no <ranking order=>: smaller mean first (the model's goal)" test "$(mean_order "$tmp/goalmin")" = ascending
check "no <ranking order=>: the run says the direction came from the model's goal" \
    contains "$tmp/goalmin.err" "matscreen run: smaller (minimise) first, from the model's goal (train --goal min)"
goal_run goaldesc '<ranking by="li_fraction" order="descending"/>'
check "order=\"descending\": runs" test $? -eq 0
check "order=\"descending\": larger mean first (the workflow's order wins)" test "$(mean_order "$tmp/goaldesc")" = descending
check "order=\"descending\": the run says so" \
    contains "$tmp/goaldesc.err" 'matscreen run: larger (maximise) first, from <ranking order="descending">'

# 3c. the campaign workflow runs for real (OBELiX compositions, 2 ranks): campaign.csv with one row
# per (acquisition, seed), summary.csv with one row per acquisition function
if [ -f ../shared/data/labeled/obelix-train/train.csv ]; then
    "$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" run workflows/active-learning.xml -o "$tmp/camp" \
        >"$tmp/camp.out" 2>"$tmp/camp.err"
    check "active-learning.xml runs (2 ranks), exit 0" test $? -eq 0
    check "campaign: campaign.csv written" test -s "$tmp/camp/campaign.csv"
    check "campaign: summary.csv written" test -s "$tmp/camp/summary.csv"
    check "campaign: campaign.csv header" \
        test "$(head -1 "$tmp/camp/campaign.csv" | cut -d, -f1-3)" = "acquisition,seed_index,to_best"
    check "campaign: 5 ucb rows (the workflow's acquisition)" test "$(grep -c '^ucb,' "$tmp/camp/campaign.csv")" -eq 5
    check "campaign: 5 random rows" test "$(grep -c '^random,' "$tmp/camp/campaign.csv")" -eq 5
    check "campaign: summary rows ucb and random" \
        test "$(tail -n +2 "$tmp/camp/summary.csv" | cut -d, -f1 | tr '\n' ' ')" = "ucb random "
    check "campaign: ucb within the budget of 60" \
        test -z "$(awk -F, '$1 == "ucb" && $7 > 60' "$tmp/camp/campaign.csv")"
    check "campaign: random always finds the best" \
        test -z "$(awk -F, '$1 == "random" && $4 != 1' "$tmp/camp/campaign.csv")"
    check "campaign: prints its files" contains "$tmp/camp.out" "$tmp/camp/summary.csv"
    # the same results serially (campaigns are seeded per campaign, not per rank)
    "$MATSCREEN" run -q workflows/active-learning.xml -o "$tmp/camp1" >/dev/null 2>"$tmp/camp1.err"
    check "campaign serial exits 0" test $? -eq 0
    check "campaign.csv identical serial vs 2 ranks" cmp -s "$tmp/camp/campaign.csv" "$tmp/camp1/campaign.csv"
    # grouped mode (<campaign group="chemsys">): the pool is whole chemical systems never seen in
    # training; the same campaigns as `matscreen campaign --group chemsys` with the same settings,
    # neither giving a kappa: both take the grouped mode's default (ms_campaign_default_kappa)
    sed 's|<campaign initial="10"|<campaign group="chemsys" pool-fraction="0.2" initial="10"|' \
        workflows/active-learning.xml >workflows/.grouped-test.xml
    "$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" run -q workflows/.grouped-test.xml -o "$tmp/campg" \
        >/dev/null 2>"$tmp/campg.err"
    check "grouped campaign workflow (2 ranks), exit 0" test $? -eq 0
    rm -f workflows/.grouped-test.xml
    OBT=../shared/data/labeled/obelix-train/train.csv
    "$MATSCREEN" campaign -l "$OBT" --formula-column "Reduced Composition" \
        -t "Ionic conductivity (S cm-1)" --log10 --group chemsys --pool-frac 0.2 --acq ucb,random \
        --seeds 5 --budget 60 -s 2017 -o "$tmp/campgc" >"$tmp/campgc.out" 2>&1
    check "grouped campaign workflow: the same campaign.csv as matscreen campaign --group chemsys" \
        cmp -s "$tmp/campg/campaign.csv" "$tmp/campgc/campaign.csv"
    grows=$(grep -o "^pool [0-9]*" "$tmp/campgc.out" | awk '{ print $2 }')
    check "grouped campaign workflow: pools of 20-35% of the ${grows:-?} rows" test "$(awk -F, -v n="${grows:-0}" \
        'NR > 1 && $9 >= 0.2 * n && $9 < 0.35 * n' "$tmp/campg/campaign.csv" | wc -l)" -eq 10
    sed 's|<campaign initial="10"|<campaign group="column:Family" initial="10"|' \
        workflows/active-learning.xml >workflows/.grouped-bad.xml
    "$MATSCREEN" run -q workflows/.grouped-bad.xml -o "$tmp/campbad" >/dev/null 2>"$tmp/campbad.err"
    check "campaign group=column:Family is refused with the valid forms" bash -c \
        "test $? -eq 2 && grep -q 'give chemsys, formula, kmeans:K or none' '$tmp/campbad.err'"
    rm -f workflows/.grouped-bad.xml
fi

# 3d. per-source settings: three sources of real perov5 CIFs, two holding the same 12 files
# (none states a database, so each source's database= applies), one with 4 others named .txt
# that only its format="cif" makes readable. Duplicates merge to the ICSD copy although the COD
# source comes first; changing one source's database the next night recomputes that source only.
if [ -d "$DATA/cif/perov5/cifs" ]; then
    ps=$tmp/per-source
    mkdir -p "$ps/A" "$ps/B" "$ps/C"
    ls "$DATA/cif/perov5/cifs" | sort | head -16 >"$ps/list"
    head -12 "$ps/list" | while read -r f; do
        cp "$DATA/cif/perov5/cifs/$f" "$ps/A/"
        cp "$DATA/cif/perov5/cifs/$f" "$ps/B/"
    done
    tail -4 "$ps/list" | while read -r f; do cp "$DATA/cif/perov5/cifs/$f" "$ps/C/${f%.cif}.txt"; done
    per_source() { # per_source DATABASE_OF_C [TRUST_OF_A TRUST_OF_B]
        local ta=${2:+ trust=\"$2\"} tb=${3:+ trust=\"$3\"}
        cat >"$ps/wf.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<workflow name="per-source" version="1" stage="screen" seed="3">
  <sources>
    <source path="A" database="COD"$ta/>
    <source path="B" database="ICSD"$tb/>
    <source path="C" format="cif" database="$1"/>
  </sources>
  <ranking by="density" order="descending"/>
  <top-k>5</top-k>
  <output dir="out"/>
</workflow>
EOF
        "$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" run "$ps/wf.xml" >"$ps/out.txt" 2>"$ps/err.txt"
    }
    per_source MP
    check "per-source workflow validates and runs (2 ranks), exit 0" test $? -eq 0
    rk=$ps/out/ranked.csv
    col() { head -1 "$rk" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
    cf=$(col file) cd=$(col source_db)
    check "per-source: 12 merged + 4 = 16 ranked" test "$(tail -n +2 "$rk" | wc -l)" -eq 16
    check "per-source: the 12 duplicates are represented by the ICSD source (B/)" \
        test "$(tail -n +2 "$rk" | cut -d, -f"$cf,$cd" | grep -c '/B/[^/,]*,ICSD$')" -eq 12
    check "per-source: each merged row lists both sources" \
        test "$(grep -c 'ICSD:[^,;]*;COD:' "$rk")" -eq 12
    check "per-source: the 4 .txt files read as CIF, database MP" \
        test "$(tail -n +2 "$rk" | cut -d, -f"$cf,$cd" | grep -c '/C/[^/,]*\.txt,MP$')" -eq 4
    check "per-source: no errors" test "$(wc -l <"$ps/out/errors.csv")" -eq 1
    per_source other
    check "per-source, C's database changed: exit 0" test $? -eq 0
    check "per-source, C's database changed: only C's 4 files computed" \
        contains "$ps/err.txt" "24 tasks reused, 4 computed"
    check "per-source, C's database changed: its rows say other" \
        test "$(tail -n +2 "$rk" | cut -d, -f"$cf,$cd" | grep -c '/C/[^/,]*\.txt,other$')" -eq 4
    # trust= ranks COD above ICSD: the same 12 groups are now represented by the COD copies
    per_source other 1 2
    check "per-source, COD trusted first: exit 0" test $? -eq 0
    check "per-source, COD trusted first: the 12 duplicates are represented by A/ (COD)" \
        test "$(tail -n +2 "$rk" | cut -d, -f"$cf,$cd" | grep -c '/A/[^/,]*,COD$')" -eq 12
    check "per-source, COD trusted first: each merged row lists COD first" \
        test "$(grep -c 'COD:[^,;]*;ICSD:' "$rk")" -eq 12
    tr -d ' \n' <"$ps/out/manifest.json" >"$ps/manifest.flat"
    check "per-source, COD trusted first: the manifest states the order" \
        contains "$ps/manifest.flat" '"trust_order":["COD","ICSD","MP","other","unknown"]'
else
    echo "workflow: per-source checks skipped: needs the shared data folder $DATA (MS_SHARED_DATA), which is absent"
fi

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
empty_sources.xml 3 <sources> is missing a required element: source
billion_laughs.xml 2 a DOCTYPE is not allowed
xxe.xml 3 a DOCTYPE is not allowed
external_dtd.xml 2 a DOCTYPE is not allowed
deep_nesting.xml 4 elements are nested too deeply
non_utf8.xml 3 byte 0xF6 is not UTF-8
bad_acquisition.xml 12 <campaign acquisitions="mei, thompson, random">: 'thompson' is not an acquisition function
campaign_learner.xml 8 <training kind="logistic">: stage campaign needs a surrogate
unknown_learner.xml 16 <training kind="sparse-gp">: this build has no such learner
missing_structures.xml 16 <training>: stage 'train' needs <structures
trust_conflict.xml 6 <source trust="3">: COD has trust 1 at line 4
explain_no_model.xml 6 <models explain>: explanations need a <model>
explain_learner.xml 15 <models explain>: learner 'gp' cannot explain its predictions
LIST
# nothing ran for an invalid workflow
check "invalid workflow writes nothing" test ! -e tests/data/workflows/out

# 5. usage
"$MATSCREEN" run >/dev/null 2>&1
check "no workflow: exit 2" test $? -eq 2
"$MATSCREEN" run --help | grep -q validate-only
check "--help mentions --validate-only" test $? -eq 0

finish
