#!/usr/bin/env bash
# One exit-status rule for every command (0 all fine, 1 some records failed, 2 usage error, a
# missing input path, or nothing could be read), stated in every --help; progress without a
# terminal (a start line and an end line on stderr, as in a Slurm log); one closing summary line
# whose throughput is the manifest's (the report's) figure. Repository data only.
# Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh cli

good=examples/structures
mkdir -p "$tmp/mixed"
cp examples/structures/obelix-122.cif examples/structures/LiFePO4.cif tests/data/broken/truncated.cif "$tmp/mixed/"
mkdir -p "$tmp/bad"
cp tests/data/broken/truncated.cif tests/data/broken/empty.cif "$tmp/bad/"

status() { # status EXPECTED NAME COMMAND...: runs COMMAND (stdout/stderr to $tmp/NAME.*)
    local want=$1 name=$2
    shift 2
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null
    local got=$?
    check "$name: exit $want (got $got)" test "$got" -eq "$want"
}

# every command states the rule in --help
for c in run screen train evaluate featurize bvse quality suggest campaign inspect; do
    "$MATSCREEN" "$c" --help >"$tmp/help" 2>&1
    check "$c --help states the exit-status rule" contains "$tmp/help" "Exit status: 0 every record was processed; 1 some records failed"
done
"$MATSCREEN" model --help >"$tmp/help" 2>&1
check "model --help states the exit-status rule" contains "$tmp/help" "Exit status: 0 every record was processed; 1 some records failed"

# model info: each model file is a record (a real model trained on the bundled OBELiX split)
"$MATSCREEN" train -l examples/obelix-train/train.csv --formula-column "Reduced Composition" \
    -t "Ionic conductivity (S cm-1)" --threshold 1e-4 --set magpie -p n_trees=20 -o "$tmp/m.model" >/dev/null 2>&1
printf 'not a model' >"$tmp/junk.model"
status 0 model-info-good "$MATSCREEN" model info "$tmp/m.model"
status 1 model-info-one-damaged "$MATSCREEN" model info "$tmp/m.model" "$tmp/junk.model"
check "model info: the damaged file is named" contains "$tmp/model-info-one-damaged.err" "$tmp/junk.model"
check "model info: the good one is still shown" contains "$tmp/model-info-one-damaged.out" "file: $tmp/m.model"
status 2 model-info-nothing-read "$MATSCREEN" model info "$tmp/junk.model"

# evaluate --repeats R: each repeat's table, then the pooled mean and spread of the fold means
"$MATSCREEN" evaluate -l examples/obelix-train/train.csv --formula-column "Reduced Composition" \
    -t "Ionic conductivity (S cm-1)" --log10 --set magpie -p n_trees=20 --cv 5 --repeats 2 \
    --group none >"$tmp/rep.out" 2>&1
check "evaluate --repeats 2: exit 0" test $? -eq 0
check "evaluate --repeats 2: a pooled table" contains "$tmp/rep.out" "over 2 repeats (mean +- std of each repeat's fold mean):"
check_eval "evaluate --repeats 2: pooled mae = mean of the two repeats' mae, std = |a - b| / sqrt 2" \
    "awk '\$1 == \"mae\" && NF == 8 { m[n++] = \$7 } \$1 == \"mae\" && \$3 == \"+-\" { pm = \$2; ps = \$4 }
         END { a = (m[0] + m[1]) / 2; d = (m[0] - m[1]) / sqrt(2); if (d < 0) d = -d;
               exit !(n == 2 && pm - a < 1e-4 && a - pm < 1e-4 && ps - d < 2e-4 && d - ps < 2e-4) }' '$tmp/rep.out'"

# screen
status 0 screen-good "$MATSCREEN" screen -i "$good" -o "$tmp/s0"
status 1 screen-some-failed "$MATSCREEN" screen -i "$tmp/mixed" -o "$tmp/s1"
status 2 screen-nothing-read "$MATSCREEN" screen -i "$tmp/bad" -o "$tmp/s2"
status 2 screen-missing-path "$MATSCREEN" screen -i "$good-typo" -o "$tmp/s3"
check "screen: a missing path is named" contains "$tmp/screen-missing-path.err" "$good-typo: No such file or directory"
check "screen: a missing path writes no outputs" test ! -e "$tmp/s3/ranked.csv"
status 2 screen-missing-list "$MATSCREEN" screen -i "@$tmp/no-such-list" -o "$tmp/s4"
status 2 screen-usage "$MATSCREEN" screen -o "$tmp/s5"
# progress without a terminal: a start line and an end line; a summary with the manifest's rate
check "screen: start line without a terminal" contains "$tmp/screen-good.err" "screen: started on 1 rank"
check "screen: end line" contains "$tmp/screen-good.err" "screen: done:"
rate=$(sed -n 's/.*"records_per_second": *\([0-9.e+-]*\).*/\1/p' "$tmp/s0/manifest.json")
line=$(grep "^matscreen screen: " "$tmp/screen-good.err")
check "screen: one summary line" test "$(grep -c '^matscreen screen: ' "$tmp/screen-good.err")" -eq 1
check "screen: summary throughput = manifest's ($rate)" \
    awk -v l="$line" -v r="$rate" 'BEGIN { n = split(l, w, " "); for (i = 1; i < n; i++)
        if (w[i+1] ~ /^records\/s/) { x = w[i] + 0; exit !(x == sprintf("%.4g", r) + 0) } exit 1 }'
# mpirun: the same rule
status 1 screen-np2-some-failed "$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" screen -i "$tmp/mixed" -o "$tmp/s6"
status 2 screen-np2-missing "$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" screen -i "$good-typo" -o "$tmp/s7"

# featurize, inspect, bvse, quality
status 0 featurize-good "$MATSCREEN" featurize -i "$good" -o "$tmp/f0.csv"
status 1 featurize-some-failed "$MATSCREEN" featurize -i "$tmp/mixed" -o "$tmp/f1.csv"
status 2 featurize-nothing-read "$MATSCREEN" featurize -i "$tmp/bad" -o "$tmp/f2.csv"
status 2 featurize-missing "$MATSCREEN" featurize -i "$good-typo" -o "$tmp/f3.csv"
status 0 inspect-good "$MATSCREEN" inspect "$good"
status 1 inspect-some-failed "$MATSCREEN" inspect "$tmp/mixed"
status 2 inspect-nothing-read "$MATSCREEN" inspect "$tmp/bad"
status 2 inspect-missing "$MATSCREEN" inspect "$good-typo"
# bvse: a NaN row (no Li) is processed; a record that cannot be read failed
status 0 bvse-good "$MATSCREEN" bvse -i examples/structures/LiFePO4.cif -o "$tmp/b0.csv"
status 1 bvse-some-failed "$MATSCREEN" bvse -i "$tmp/mixed" -o "$tmp/b1.csv"
status 2 bvse-nothing-read "$MATSCREEN" bvse -i "$tmp/bad" -o "$tmp/b2.csv"
status 2 bvse-missing "$MATSCREEN" bvse -i "$good-typo" -o "$tmp/b3.csv"
check "bvse: a missing path writes no CSV" test ! -e "$tmp/b3.csv"
status 1 quality-some-failed "$MATSCREEN" quality -i "$tmp/mixed" -o "$tmp/q1"
status 2 quality-missing "$MATSCREEN" quality -i "$good-typo" -o "$tmp/q2"
for n in featurize-some-failed inspect-some-failed quality-some-failed; do
    check "$n: summary line" grep -q "^matscreen ${n%%-*}: [0-9]* records, [0-9]* failed, .* records/s" "$tmp/$n.err"
done

# run: a source path that does not exist is invalid (2); failed records give 1
sed "s|../examples/structures|$tmp/mixed|; s|../runs/examples|$tmp/r1|" workflows/examples.xml >"$tmp/mixed.xml"
status 1 run-some-failed "$MATSCREEN" run "$tmp/mixed.xml"
check "run: summary line" grep -q "^matscreen run: [0-9]* records, 1 failed" "$tmp/run-some-failed.err"
sed "s|../examples/structures|$tmp/nowhere|" workflows/examples.xml >"$tmp/missing.xml"
status 2 run-missing-source "$MATSCREEN" run "$tmp/missing.xml"

# train: dropped rows are counted by reason; --cv prints its metrics
ob=examples/obelix-train
status 0 train-cv "$MATSCREEN" train -l $ob/train.csv -i $ob/cifs --id-column ID \
    -t "Ionic conductivity (S cm-1)" --log10 --set magpie --cv 3 -o "$tmp/m.msm"
check "train: drops by reason" contains "$tmp/train-cv.err" "252 rows dropped: 29 target empty or not a number, 223 structure file missing or unreadable"
check "train --cv 3: prints the CV metrics" grep -q "3-fold CV (out-of-fold.*): mae [0-9.]* rmse [0-9.]* r2" "$tmp/train-cv.err"
status 2 train-missing-labels "$MATSCREEN" train -l $ob/no-such.csv -i $ob/cifs --id-column ID -t x -o "$tmp/m2.msm"

# an option a command does not take: getopt names it, and the next line says where the options are
status 2 train-unknown-option "$MATSCREEN" train --predictions x
check "train: an unknown option points to --help" contains "$tmp/train-unknown-option.err" "matscreen train: 'matscreen train --help' lists its options"
status 2 compare-missing-value "$MATSCREEN" compare --cv
check "compare: a missing value is not blamed on compare's refused options" \
    sh -c "grep -q 'matscreen compare: .matscreen compare --help. lists its options' '$tmp/compare-missing-value.err' && ! grep -q 'not options of compare' '$tmp/compare-missing-value.err'"
status 2 compare-kind "$MATSCREEN" compare --kind=gp
check "compare --kind=gp: says why compare refuses it" contains "$tmp/compare-kind.err" "not options of compare"
finish
