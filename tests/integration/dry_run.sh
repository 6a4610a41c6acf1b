#!/usr/bin/env bash
# Integration test of `matscreen screen --dry-run` (the master-capacity measurement, docs/scale.md):
# no file is opened (a list naming files that do not parse still gives one screened row per
# task), the master's outputs are written, they are the same bytes for 1 and 2 ranks, and options
# that would compute something are refused. Repo data only; seconds. Exit 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh dry_run

# The bundled candidates, listed twice (a repeated path is another task), plus broken files,
# which a real screen fails at "read": here they are tasks like the others.
find examples/candidates -type f -name '*.cif' | sort >"$tmp/list"
cat "$tmp/list" "$tmp/list" >"$tmp/list2"
ls tests/data/broken/*.cif >>"$tmp/list2"
n=$(wc -l <"$tmp/list2")
"$MATSCREEN" screen --dry-run -q -i "@$tmp/list2" -o "$tmp/one" 2>"$tmp/one.err"
check "dry run exits 0" test $? -eq 0
check "one row per task ($n)" test "$(($(wc -l <"$tmp/one/ranked.csv") - 1))" -eq "$n"
check "no failed record (no file is read)" test "$(wc -l <"$tmp/one/errors.csv")" -eq 1
check "journal written" test -s "$tmp/one/journal"
check "no top CIFs" test -z "$(ls -A "$tmp/one/top" 2>/dev/null)"
"$MPIEXEC" --oversubscribe -np 2 "$MATSCREEN" screen --dry-run -q -i "@$tmp/list2" -o "$tmp/two" \
    2>"$tmp/two.err"
check "2 ranks exit 0" test $? -eq 0
for f in ranked.csv ranked.jsonl errors.csv quality.json; do
    check "$f identical for 1 and 2 ranks" cmp -s "$tmp/one/$f" "$tmp/two/$f"
done
# A dry run's journal is not a real screen's: --resume as a real screen is refused.
"$MATSCREEN" screen -q --resume -i "@$tmp/list2" -o "$tmp/one" 2>"$tmp/resume.err"
check "real --resume of a dry-run journal refused (exit 2)" test $? -eq 2
"$MATSCREEN" screen --dry-run -q -m x.model -i "@$tmp/list2" -o "$tmp/bad" 2>"$tmp/bad.err"
check "--dry-run with a model refused (exit 2)" test $? -eq 2
check "refusal says why" grep -q "dry-run computes nothing" "$tmp/bad.err"
finish
