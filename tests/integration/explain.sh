#!/bin/bash
# Integration test of screen --explain K: each candidate's K largest feature contributions in a
# last ranked.csv column and in ranked.jsonl, for a forest (exact TreeSHAP) and a gbm (XGBoost
# contributions); the same bytes for 1 and 2 ranks; outputs without --explain have no trace of it.
# Env: MATSCREEN (binary), MPIEXEC (default mpiexec), MS_SHARED_DATA (see lib.sh).
# Closing line: "explain: N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh" explain
needs_shared
CN=$DATA/labeled/crabnet/mp_e_hull
S=$MS_ROOT/examples/structures
"$MATSCREEN" train -l "$CN/train.csv" --formula-column formula -t target --max-rows 1500 \
    -p n_trees=30 -o "$tmp/f.msm" 2>/dev/null
"$MATSCREEN" train -l "$CN/train.csv" --formula-column formula -t target --max-rows 1500 \
    -k gbm -p n_estimators=40 -p ensemble=3 -o "$tmp/g.msm" 2>/dev/null
for kind in f g; do
    for np in 1 2; do
        $MPIEXEC --oversubscribe -np $np "$MATSCREEN" screen -i "$S" -o "$tmp/${kind}_$np" \
            -m "$tmp/$kind.msm" --best 0 -q --explain 3 2>"$tmp/${kind}_$np.err"
        check "$kind: screen --explain 3 exits 0 ($np ranks)" test $? -eq 0
    done
    check "$kind: ranked.csv identical for 1 and 2 ranks" cmp -s "$tmp/${kind}_1/ranked.csv" "$tmp/${kind}_2/ranked.csv"
    check "$kind: ranked.jsonl identical for 1 and 2 ranks" cmp -s "$tmp/${kind}_1/ranked.jsonl" "$tmp/${kind}_2/ranked.jsonl"
    check "$kind: explain is the last ranked.csv column" \
        test "$(head -1 "$tmp/${kind}_1/ranked.csv" | awk -F, '{print $NF}')" = explain
    /usr/bin/python3 - "$tmp/${kind}_1" >"$tmp/${kind}_py.txt" 2>&1 <<'PY'
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/ranked.csv")))
js = [json.loads(l) for l in open(d + "/ranked.jsonl")]
assert rows and len(rows) == len(js)
for r, j in zip(rows, js):
    e = j["explain"]
    assert len(e) == 3, e
    c = [abs(x["contribution"]) for x in e]
    assert c == sorted(c, reverse=True), c   # largest first
    assert all(x["feature"].startswith("Magpie") for x in e)
    assert r["explain"].count("; ") == 2 and r["explain"].startswith(e[0]["feature"] + "=")
print("ok", len(rows))
PY
    check "$kind: every row has 3 contributions, largest first, in both files" grep -q "^ok" "$tmp/${kind}_py.txt"
done
"$MATSCREEN" screen -i "$S" -o "$tmp/plain" -m "$tmp/f.msm" --best 0 -q
check "without --explain: no explain column" sh -c "! head -1 '$tmp/plain/ranked.csv' | grep -q explain"
check "without --explain: no explain in ranked.jsonl" sh -c "! grep -q '\"explain\"' '$tmp/plain/ranked.jsonl'"
"$MATSCREEN" screen -i "$S" -o "$tmp/bad" --explain 3 -q 2>"$tmp/bad.err"
check_eval "--explain without a model: exit 2" '[ $? -eq 2 ]'
check "--explain without a model: says why" contains "$tmp/bad.err" "--explain needs a model"
"$MATSCREEN" screen -i "$S" -o "$tmp/bad2" --explain 0 -q 2>"$tmp/bad2.err"
check_eval "--explain 0: exit 2" '[ $? -eq 2 ]'
finish
