#!/usr/bin/env bash
# Integration test of `matscreen screen`: real data (254 OBELiX CIFs, 400 perov5 CIFs, the MP JSON
# Lines and JSON examples) plus the broken files of tests/data/broken is screened as one process and
# under mpirun with 1, 2 and 4 ranks; ranked.csv, ranked.jsonl, errors.csv and top/ must be byte-
# identical across all runs, the broken files must be in errors.csv with stage and reason, and
# the top CIFs must read back. Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh screen
needs_shared

# Inputs: a copy, so that paths (part of the stable key) are the same in every run.
in="$tmp/in"
mkdir -p "$in/obelix" "$in/perov5" "$in/broken" "$in/json"
cp "$DATA"/labeled/obelix-train/cifs/*.cif "$in/obelix/"
ls "$DATA"/cif/perov5/cifs | sort | head -400 | sed "s|^|$DATA/cif/perov5/cifs/|" | xargs cp -t "$in/perov5/"
cp tests/data/broken/*.cif "$in/broken/"
cp tests/data/json/mp_records.jsonl examples/structures/*.json "$in/json/"
printf 'data_x\n_cell_length_a 0\n' >"$in/broken/zero_cell.cif"
head -c 3000 /dev/urandom >"$in/broken/binary.cif"
echo "$in/json/mp_records.jsonl" >"$tmp/list.txt"

run() { # run OUTDIR [launcher...]
    local out=$1
    shift
    "$@" "$MATSCREEN" screen -q -i "$in/obelix" "$in/perov5/*.cif" "$in/broken" "@$tmp/list.txt" \
        "$in/json/Li3GaPCO7.json" -o "$out" --top 10 >"$out.log" 2>&1
}

run "$tmp/serial"
check_eval "serial run completes (0, or 1 with errors.csv)" 'completed $? "$tmp/serial"'
for n in 1 2 4; do
    run "$tmp/np$n" "$MPIEXEC" --oversubscribe -np "$n"
    check_eval "mpirun -np $n completes" 'completed $? "$tmp/np$n"'
done
for f in ranked.csv ranked.jsonl errors.csv; do
    for n in 1 2 4; do
        check "$f identical: serial vs $n ranks" cmp -s "$tmp/serial/$f" "$tmp/np$n/$f"
    done
done
for n in 1 2 4; do
    check "top/ identical: serial vs $n ranks" diff -r -q "$tmp/serial/top" "$tmp/np$n/top"
done

s="$tmp/serial"
nrec=$((254 + 400))
rows=$(($(wc -l <"$s/ranked.csv") - 1))
# Structural de-duplication merges records and validation refuses some: every record of the good
# inputs is a row, a duplicate counted in its row's "duplicates" column, or a non-read failure.
dups=$(awk -F, 'NR > 1 { d += $21 } END { print d + 0 }' "$s/ranked.csv")
nonread=$(awk -F, 'NR > 1 && $8 != "read"' "$s/errors.csv" | grep -vc '/broken/')
check "every good record accounted for ($rows rows + $dups duplicates + $nonread refused >= $nrec)" test $((rows + dups + nonread)) -ge "$nrec"
check "ranked.csv header" grep -q '^rank,key,file,block,source_db,source_id,sources,formula,spacegroup,n_sites,n_atoms,volume,density,volume_per_atom,li_fraction,class_prob,surrogate_mean,surrogate_sigma,acquisition,score,duplicates,flags,domain_score,in_domain,domain_reason$' "$s/ranked.csv"
check "ranked.jsonl has as many lines as ranked.csv rows" test "$(wc -l <"$s/ranked.jsonl")" -eq "$rows"
check "scores are non-increasing" awk -F, 'NR > 2 && $20 > prev { bad = 1 } NR > 1 { prev = $20 } END { exit bad }' "$s/ranked.csv"
check "MP JSONL records screened with their ids" grep -q ',MP,mp-' "$s/ranked.csv"
for f in empty truncated gzipped nan_coordinates zero_cell binary; do
    check "errors.csv names $f.cif with stage read" grep -q "/broken/$f.cif#[0-9]*,.*,read,[^,]*,." "$s/errors.csv"
done
check "errors.csv header" grep -q '^key,file,block,index,offset,source_db,source_id,stage,status,reason$' "$s/errors.csv"
check "10 top CIFs" test "$(ls "$s/top" | wc -l)" -eq 10
"$MATSCREEN" inspect "$s/top" >"$tmp/top.jsonl" 2>/dev/null
check "top CIFs read back with our reader" test $? -eq 0
first=$(sed -n 2p "$s/ranked.csv" | cut -d, -f8)
check "top 1 CIF has the formula of rank 1 ($first)" grep -q "\"reduced_formula\":\"$first\"" "$tmp/top.jsonl"
nerr=$(($(wc -l <"$s/errors.csv") - 1))
check "quality.json counts the $nerr failures of errors.csv" grep -q "\"failed\": $nerr," "$s/quality.json"
check "manifest names ranks and seed" grep -q '"ranks": 4' "$tmp/np4/manifest.json"
check "manifest has input hashes" grep -q '"hash": "[0-9a-f]\{16\}"' "$s/manifest.json"
check "journal kept, no spill file" bash -c "test -s '$s/journal' && test ! -e '$s/.spill'"

# Ascending order and another quantity; unknown names and -m are usage errors.
"$MATSCREEN" screen -q -i "$in/obelix" -o "$tmp/asc" --rank-by volume_per_atom --ascending --top 0 >/dev/null 2>&1
check_eval "ascending run completes" 'completed $? "$tmp/asc"'
check "ascending: smallest volume per atom first" awk -F, 'NR > 2 && $14 < prev { bad = 1 } NR > 1 { prev = $14 } END { exit bad }' "$tmp/asc/ranked.csv"
"$MATSCREEN" screen -i "$in/obelix" -o "$tmp/x" --rank-by bogus >/dev/null 2>"$tmp/bogus.err"
check "unknown --rank-by is a usage error listing valid names" bash -c "test $? -eq 2 && grep -q li_fraction '$tmp/bogus.err'"
"$MATSCREEN" screen -i "$in/obelix" -o "$tmp/x" -m "$tmp/no-such.model" >/dev/null 2>"$tmp/model.err"
check "-m with a missing model file is a usage error naming it" bash -c "test $? -eq 2 && grep -q 'no-such.model' '$tmp/model.err'"
"$MATSCREEN" screen --help | grep -q "usage: matscreen screen"
check "screen --help" test $? -eq 0
"$MATSCREEN" screen -o "$tmp/x" >/dev/null 2>&1
check "screen without inputs is a usage error" test $? -eq 2

finish
