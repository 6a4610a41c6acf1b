#!/usr/bin/env bash
# Integration test of `matscreen featurize` under mpirun: the feature table and the errors file
# are the same bytes for no mpirun and 1, 2, 3, 4 ranks (rows in input order), on the repo's
# structures plus broken files (errors listed in order); with ../shared also on 120 perov5 CIFs
# and 60 OBELiX training CIFs at 2 and 4 ranks (skipped with one line without it). The 10k perov5
# comparison of docs/scale.md is the same command on a bigger list.
# Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh featurize_mpi

# run_all NAME "RANKS" INPUT...: serial, then each rank count; compares each with the serial run.
run_all() {
    local name=$1 ranks=$2
    shift 2
    "$MATSCREEN" featurize -i "$@" -o "$tmp/$name.serial.csv" -e "$tmp/$name.serial.err" \
        2>"$tmp/$name.serial.log"
    local rc=$?
    check "$name: serial run completed (exit $rc)" test "$rc" -le 1
    check "$name: rows written" test "$(wc -l <"$tmp/$name.serial.csv")" -gt 2
    for np in $ranks; do
        "$MPIEXEC" --oversubscribe -np "$np" "$MATSCREEN" featurize -i "$@" \
            -o "$tmp/$name.$np.csv" -e "$tmp/$name.$np.err" 2>"$tmp/$name.$np.log"
        check "$name: $np ranks exit $rc like the serial run" test $? -eq "$rc"
        check "$name: $np ranks: table identical" cmp -s "$tmp/$name.serial.csv" "$tmp/$name.$np.csv"
        check "$name: $np ranks: errors identical" cmp -s "$tmp/$name.serial.err" "$tmp/$name.$np.err"
    done
}

run_all repo "1 2 3 4" examples/candidates examples/structures tests/data/broken
check "repo: broken files listed in the errors file" test "$(wc -l <"$tmp/repo.serial.err")" -ge 5
check "repo: summary counts every record" grep -q "^matscreen featurize: .* records, 4 failed" \
    "$tmp/repo.4.log"

needs_shared
{ ls "$DATA"/cif/perov5/cifs/*.cif | sort | head -120
  ls "$DATA"/labeled/obelix-train/cifs/*.cif | sort | head -60; } >"$tmp/shared.txt"
run_all shared "2 4" "@$tmp/shared.txt"
finish
