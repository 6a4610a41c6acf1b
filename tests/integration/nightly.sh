#!/usr/bin/env bash
# Integration test of nightly incremental runs (`matscreen run` with its state store DIR/state.db):
#   night 1: a copy of real data (300 perov5 CIFs + 30 OBELiX CIFs) under mpirun -np 2;
#   night 2: unchanged inputs: nothing is computed (incremental.json and the run summary say 0),
#            outputs are byte-identical to night 1 (how much faster it is, is a figure of make
#            bench: tests/bench/nightly.sh; a test asserts behaviour, not speed); inputs, settings
#            and outputs all unchanged: night 1's outputs are kept, not written again;
#            2b-2e: outputs edited by hand, --full-check, an edited workflow: written again, and
#            equal to night 1's; 2f: the workflow run from another directory reuses every input;
#   night 3: 3 files added, 2 changed (a coordinate; an occupancy): exactly those 5 are computed,
#            the report lists exactly those 5 inputs, and the outputs equal a fresh run's;
#   night 4: a file removed: marked removed and listed; night 5: a damaged state store is
#            refused with a clear message (exit 2); --no-state falls back to DIR/previous/.
# Exit status: 0 all passed, 1 otherwise. Closing line "nightly: N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh nightly
needs_shared
MATSCREEN=$(cd "$(dirname "$MATSCREEN")" && pwd)/$(basename "$MATSCREEN") # runs start in $tmp
field() { # field FILE KEY: a number of incremental.json
    sed -n "s/.*\"$2\": \([0-9.]*\).*/\1/p" "$1"
}
now() { date +%s.%N; }
mtime() { stat -c %y "$1"; }

if [ ! -d "$DATA/cif/perov5/cifs" ] || [ ! -d "$DATA/labeled/obelix-train/cifs" ]; then
    echo "nightly: skipped (no shared data in $DATA)"
    exit 0
fi
mkdir -p "$tmp/in/perov5" "$tmp/in/obelix" "$tmp/spare"
ls "$DATA/cif/perov5/cifs" | sort | head -303 >"$tmp/list"
head -300 "$tmp/list" | while read -r f; do cp "$DATA/cif/perov5/cifs/$f" "$tmp/in/perov5/"; done
tail -3 "$tmp/list" | while read -r f; do cp "$DATA/cif/perov5/cifs/$f" "$tmp/spare/"; done
ls "$DATA/labeled/obelix-train/cifs" | sort | head -30 | while read -r f; do
    cp "$DATA/labeled/obelix-train/cifs/$f" "$tmp/in/obelix/"
done
cat >"$tmp/nightly.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<workflow name="nightly-test" version="1" stage="screen" seed="7">
  <sources>
    <source path="in"/>
  </sources>
  <ranking by="density" order="descending"/>
  <top-k>20</top-k>
  <output dir="out"/>
</workflow>
EOF
run_night() { # run_night N [extra args]: runs under mpirun -np 2, keeps a copy of the outputs
    local n=$1
    shift
    local t0 t1
    t0=$(now)
    (cd "$tmp" && "$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" run nightly.xml "$@" \
        >"night$n.out" 2>"night$n.err")
    local rc=$?
    t1=$(now)
    echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}' >"$tmp/night$n.wall"
    rm -rf "$tmp/night$n"
    cp -r "$tmp/out" "$tmp/night$n"
    return $rc
}
strip() { grep -v data-volatile "$1" | sed 's/seconds[^<]*//g'; }

# night 1
run_night 1
check "night 1 exits 0" test $? -eq 0
check "night 1: state store created" test -s "$tmp/out/state.db"
check "night 1: incremental.json" test -s "$tmp/out/incremental.json"
n1=$(field "$tmp/night1/incremental.json" computed)
check "night 1: every input computed (330)" test "$n1" = 330
check "night 1: report says first run" contains "$tmp/night1/report.html" "No previous run in the state store"

# night 2: unchanged
mtime1=$(mtime "$tmp/out/ranked.csv")
run_night 2
check "night 2 exits 0" test $? -eq 0
check "night 2: 0 computed (incremental.json)" test "$(field "$tmp/night2/incremental.json" computed)" = 0
check "night 2: 330 reused" test "$(field "$tmp/night2/incremental.json" reused)" = 330
check "night 2: 0 files read to hash" test "$(field "$tmp/night2/incremental.json" hashed)" = 0
check "night 2: run summary says 0 tasks computed" contains "$tmp/night2.err" "0 tasks computed"
for f in ranked.csv ranked.jsonl errors.csv quality.json; do
    check "night 2: $f identical to night 1" cmp -s "$tmp/night1/$f" "$tmp/night2/$f"
done
check "night 2: report lists no input changes" test "$(grep -c 'class="input-change"' "$tmp/night2/report.html")" -eq 0
check "night 2: nothing new in the top-K" contains "$tmp/night2/report.html" "<b>0</b> new in the top 20"
check "night 2: an unchanged night keeps night 1's outputs (unchanged_since 1)" \
    test "$(field "$tmp/night2/incremental.json" unchanged_since)" = 1
check "night 2: ranked.csv not written again" test "$(mtime "$tmp/out/ranked.csv")" = "$mtime1"

# night 2b: outputs edited by hand (a ranked.csv line, a top/ CIF deleted): the night is not
# taken for unchanged; the stored results are replayed and the outputs are written again
echo "garbage" >>"$tmp/out/ranked.csv"
rm "$tmp/out/top/$(ls "$tmp/out/top" | head -1)"
run_night 2b
check "night 2b exits 0" test $? -eq 0
check "night 2b: edited outputs: written again (unchanged_since 0)" \
    test "$(field "$tmp/night2b/incremental.json" unchanged_since)" = 0
check "night 2b: 0 computed, 330 reused" \
    test "$(field "$tmp/night2b/incremental.json" computed)/$(field "$tmp/night2b/incremental.json" reused)" = 0/330
for f in ranked.csv ranked.jsonl errors.csv quality.json; do
    check "night 2b: $f identical to night 1" cmp -s "$tmp/night1/$f" "$tmp/night2b/$f"
done
check "night 2b: top/ as in night 1" diff -r "$tmp/night1/top" "$tmp/night2b/top"
run_night 2c
check "night 2c: unchanged again (unchanged_since 3)" \
    test "$(field "$tmp/night2c/incremental.json" unchanged_since)" = 3
run_night 2d --full-check
check "night 2d: --full-check hashes every input and writes the outputs" \
    test "$(field "$tmp/night2d/incremental.json" hashed)/$(field "$tmp/night2d/incremental.json" unchanged_since)" = 330/0
cp "$tmp/nightly.xml" "$tmp/nightly.xml.orig"
echo "<!-- edited -->" >>"$tmp/nightly.xml"
run_night 2e
check "night 2e: an edited workflow is not an unchanged night" \
    test "$(field "$tmp/night2e/incremental.json" unchanged_since)" = 0
mv "$tmp/nightly.xml.orig" "$tmp/nightly.xml"
for f in ranked.csv ranked.jsonl errors.csv quality.json; do
    check "night 2e: $f identical to night 1" cmp -s "$tmp/night1/$f" "$tmp/night2e/$f"
done
# night 2f: the same workflow started from another directory: its paths then resolve absolute,
# not relative to the working directory, so the outputs name the inputs otherwise (not an
# unchanged night), but every input is the same record: reused, nothing new, nothing removed
(cd / && "$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" run "$tmp/nightly.xml" >"$tmp/night2f.out" 2>"$tmp/night2f.err")
check "night 2f: from another directory exits 0" test $? -eq 0
check "night 2f: from another directory: 330 reused, nothing new, nothing removed" \
    test "$(field "$tmp/out/incremental.json" reused)/$(field "$tmp/out/incremental.json" new)/$(field "$tmp/out/incremental.json" removed)" = 330/0/0
check "night 2f: ranked.csv is night 1's with absolute paths" \
    cmp -s "$tmp/night1/ranked.csv" <(sed "s|$tmp/||g" "$tmp/out/ranked.csv")
check "night 2f: top/ CIFs written" test "$(ls "$tmp/out/top" | wc -l)" = "$(ls "$tmp/night1/top" | wc -l)"
(cd "$tmp" && "$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" run -q nightly.xml >>"$tmp/night2f.out" 2>>"$tmp/night2f.err")
check "night 2f: back in the first directory: ranked.csv as night 1's" cmp -s "$tmp/night1/ranked.csv" "$tmp/out/ranked.csv"

s1=$(field "$tmp/night1/incremental.json" seconds_total)
s2=$(field "$tmp/night2/incremental.json" seconds_total)
echo "nightly: night 1: ${s1} s in matscreen ($(cat "$tmp/night1.wall") s wall with mpirun start-up);" \
     "night 2: ${s2} s ($(cat "$tmp/night2.wall") s wall)"

# night 3: 3 added, 2 changed (a coordinate; an occupancy), same sizes for the first
cp "$tmp/spare/"*.cif "$tmp/in/perov5/"
c1=$(head -1 "$tmp/list")
c2=$(sed -n 2p "$tmp/list")
sleep 0.01
sed -i '0,/0\.50000000/s//0.51000000/' "$tmp/in/perov5/$c1"
sed -i '$ s/  1$/  0.5/' "$tmp/in/perov5/$c2"
check "night 3: edits took effect" test "$(cat "$tmp/in/perov5/$c1" "$tmp/in/perov5/$c2" | md5sum)" != \
    "$(cat "$DATA/cif/perov5/cifs/$c1" "$DATA/cif/perov5/cifs/$c2" | md5sum)"
run_night 3
check "night 3 exits 0" test $? -eq 0
check "night 3: exactly 5 computed" test "$(field "$tmp/night3/incremental.json" computed)" = 5
check "night 3: 3 new" test "$(field "$tmp/night3/incremental.json" new)" = 3
check "night 3: 2 changed" test "$(field "$tmp/night3/incremental.json" changed)" = 2
check "night 3: not an unchanged night" test "$(field "$tmp/night3/incremental.json" unchanged_since)" = 0
check "night 3: 330 reused" test "$(field "$tmp/night3/incremental.json" reused)" = 328
grep -o '<tr class="input-change"><td>[a-z]*</td><td>[^<]*' "$tmp/night3/report.html" |
    sed 's/<tr class="input-change"><td>//; s|</td><td>| |' | sort >"$tmp/listed"
{
    tail -3 "$tmp/list" | sed 's|^|new in/perov5/|'
    printf 'changed in/perov5/%s\nchanged in/perov5/%s\n' "$c1" "$c2"
} | sort >"$tmp/expected"
check "night 3: the report lists exactly the 5 inputs" cmp -s "$tmp/listed" "$tmp/expected"
check "night 3: counts in the report" contains "$tmp/night3/report.html" "<b>3</b> new inputs"
# the same inputs screened from scratch give the same outputs
(cd "$tmp" && "$MATSCREEN" run nightly.xml -q -o fresh --no-state >/dev/null 2>&1)
for f in ranked.csv ranked.jsonl errors.csv; do
    check "night 3: $f identical to a fresh run" cmp -s "$tmp/fresh/$f" "$tmp/night3/$f"
done

# night 4: a file removed
rm "$tmp/in/obelix/$(ls "$tmp/in/obelix" | head -1)"
run_night 4
check "night 4 exits 0" test $? -eq 0
check "night 4: 1 removed" test "$(field "$tmp/night4/incremental.json" removed)" = 1
check "night 4: 0 computed" test "$(field "$tmp/night4/incremental.json" computed)" = 0
check "night 4: a removed input is not an unchanged night" \
    test "$(field "$tmp/night4/incremental.json" unchanged_since)" = 0
check "night 4: the removed input is listed" contains "$tmp/night4/report.html" "<tr class=\"input-change\"><td>removed</td>"

# night 5: a damaged store is refused, clearly, and nothing is overwritten
printf 'not a database at all, just text that overwrote the header of state.db' |
    dd of="$tmp/out/state.db" conv=notrunc 2>/dev/null
rm -f "$tmp/out/state.db-wal" "$tmp/out/state.db-shm"
run_night 5
check "night 5: damaged store: exit 2" test $? -eq 2
check "night 5: message names the file" contains "$tmp/night5.err" "state.db"
check "night 5: message says damaged" contains "$tmp/night5.err" "damaged or not a matscreen state store"

# --no-state: the previous outputs move to DIR/previous/ and the report compares with them
(cd "$tmp" && "$MATSCREEN" run nightly.xml -q -o fresh --no-state >/dev/null 2>&1)
check "--no-state: previous/ kept" test -s "$tmp/fresh/previous/ranked.csv"
check "--no-state: no state store" test ! -e "$tmp/fresh/state.db"

finish
