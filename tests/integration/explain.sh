#!/bin/bash
# Integration test of screen --explain K: each candidate's K largest feature contributions in a
# last ranked.csv column and in ranked.jsonl, for a forest (exact TreeSHAP) and a gbm (XGBoost
# contributions); the same bytes for 1 and 2 ranks; the records of one task, explained in batches,
# get what each gets alone; outputs without --explain have no trace of it.
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
# Records of one task are explained together (up to 16 a call): 40 Materials Project entries in
# one JSON Lines file, with a broken line (read fails) and a record whose sites coincide
# (validate fails) among them, give every record the explanation it gets alone (each line its
# own file, one record per task), on 1 and 2 ranks.
/usr/bin/python3 - "$DATA/json/tests/files/correction_calculator/calc_compounds_norm.json" \
    "$tmp/mp.jsonl" "$tmp/alone" <<'PY'
import json, os, sys
vals = list(json.load(open(sys.argv[1])).values())[:40]
bad = json.loads(json.dumps(vals[5]))
for s in bad["structure"]["sites"]:
    s["abc"] = [0.1, 0.1, 0.1]
    s.pop("xyz", None)
lines = [json.dumps(v) for v in vals]
lines.insert(10, '{"structure": not json')
lines.insert(20, json.dumps(bad))
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
os.mkdir(sys.argv[3])
for i, l in enumerate(lines):
    open("%s/r%02d.jsonl" % (sys.argv[3], i), "w").write(l + "\n")
PY
for np in 1 2; do
    $MPIEXEC --oversubscribe -np $np "$MATSCREEN" screen -i "$tmp/mp.jsonl" -o "$tmp/mp_$np" \
        -m "$tmp/f.msm" --best 0 -q --explain 4 2>"$tmp/mp_$np.err"
    check_eval "one JSON Lines task: screen --explain 4 completes ($np ranks)" 'completed $? "$tmp/mp_$np"'
done
"$MATSCREEN" screen -i "$tmp/alone" -o "$tmp/alone_out" -m "$tmp/f.msm" --best 0 -q --explain 4 \
    2>"$tmp/alone.err"
check_eval "one record per task: screen --explain 4 completes" 'completed $? "$tmp/alone_out"'
check "one JSON Lines task: ranked.csv identical for 1 and 2 ranks" \
    cmp -s "$tmp/mp_1/ranked.csv" "$tmp/mp_2/ranked.csv"
/usr/bin/python3 - "$tmp/mp_1" "$tmp/alone_out" >"$tmp/mp_py.txt" 2>&1 <<'PY'
import csv, sys
def load(d):
    return {r["source_id"]: r["explain"] for r in csv.DictReader(open(d + "/ranked.csv"))}
together, alone = load(sys.argv[1]), load(sys.argv[2])
errors = list(csv.DictReader(open(sys.argv[1] + "/errors.csv")))
assert sorted(e["stage"] for e in errors) == ["read", "validate"], errors
assert len(together) == 38 and together == alone  # 2 of the 40 merge as duplicates, (len(together), len(alone))
assert all(e.count("; ") == 3 for e in together.values())
print("ok", len(together))
PY
check "one JSON Lines task: 38 candidates explained as each alone, 2 failures beside them" \
    grep -q "^ok 38" "$tmp/mp_py.txt"
"$MATSCREEN" screen -i "$S" -o "$tmp/plain" -m "$tmp/f.msm" --best 0 -q
check "without --explain: no explain column" sh -c "! head -1 '$tmp/plain/ranked.csv' | grep -q explain"
check "without --explain: no explain in ranked.jsonl" sh -c "! grep -q '\"explain\"' '$tmp/plain/ranked.jsonl'"
"$MATSCREEN" screen -i "$S" -o "$tmp/bad" --explain 3 -q 2>"$tmp/bad.err"
check_eval "--explain without a model: exit 2" '[ $? -eq 2 ]'
check "--explain without a model: says why" contains "$tmp/bad.err" "--explain needs a model"
"$MATSCREEN" screen -i "$S" -o "$tmp/bad2" --explain 0 -q 2>"$tmp/bad2.err"
check_eval "--explain 0: exit 2" '[ $? -eq 2 ]'
finish
