#!/bin/bash
# matscreen campaign and suggest on real data (OBELiX training split, log10 conductivity):
# a short campaign (5 seeds), its files, determinism across 1 and 2 ranks, and suggest on a
# labelled half + pool half, identical for 1 and 4 ranks.
# Usage: MATSCREEN=path/to/matscreen MS_SHARED_DATA=../shared/data MPIEXEC=mpirun \
#        bash tests/integration/campaign.sh
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
M=${MATSCREEN:-$here/matscreen}
DATA=${MS_SHARED_DATA:-$here/../shared/data}
MPIEXEC=${MPIEXEC:-mpiexec}
export MATSCREEN_SHARE=${MATSCREEN_SHARE:-$here/share/matscreen} OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }

OB="$DATA/labeled/obelix-train/train.csv"
if [ ! -f "$OB" ]; then
    echo "campaign: OBELiX data not found at $OB: skipped"
    echo "campaign: 0 passed, 0 failed"
    exit 0
fi
args=(-l "$OB" --formula-column "Reduced Composition" -t "Ionic conductivity (S cm-1)" --log10
      --seeds 5 --acq ei,pi,random --n0 10)

"$M" campaign "${args[@]}" -o "$tmp/c1" >"$tmp/c1.out" 2>"$tmp/c1.log"
rc=$?
check "campaign exits 0" '[ $rc -eq 0 ]'
check "campaign.csv: header + 3 acquisitions x 5 seeds" '[ $(wc -l < "$tmp/c1/campaign.csv") -eq 16 ]'
check "every campaign found the best" \
    '[ $(awk -F, "NR > 1 && \$4 == 1" "$tmp/c1/campaign.csv" | wc -l) -eq 15 ]'
check "summary.csv has ei, pi, random" \
    '[ $(cut -d, -f1 "$tmp/c1/summary.csv" | grep -c -x -E "ei|pi|random") -eq 3 ]'
check "campaign.svg is an SVG with curves" \
    'grep -q "<svg" "$tmp/c1/campaign.svg" && grep -q "<polyline" "$tmp/c1/campaign.svg"'
check "table printed" 'grep -q "^| ei |" "$tmp/c1.out"'
# paired: the same initial set (best_initial) for every acquisition function of a seed
check "same initial sets across acquisition functions" \
    '[ $(awk -F, "NR > 1 { print \$2, \$12 }" "$tmp/c1/campaign.csv" | sort -u | wc -l) -eq 5 ]'
# EI beats random on average on these 5 seeds (it does by ~3x on 50; see docs/active-learning.md)
ei=$(awk -F, '$1 == "ei" { print $3 }' "$tmp/c1/summary.csv")
rnd=$(awk -F, '$1 == "random" { print $3 }' "$tmp/c1/summary.csv")
check "EI needs fewer acquisitions than random ($ei vs $rnd)" \
    'awk -v a="$ei" -v b="$rnd" "BEGIN { exit !(a < b) }"'

# rank independence: 2 ranks give the same campaign.csv
$MPIEXEC --oversubscribe -np 2 "$M" campaign "${args[@]}" -o "$tmp/c2" >/dev/null 2>"$tmp/c2.log"
rc=$?
check "campaign under mpirun -np 2 exits 0" '[ $rc -eq 0 ]'
check "campaign.csv identical for 1 and 2 ranks" 'cmp -s "$tmp/c1/campaign.csv" "$tmp/c2/campaign.csv"'

# usage errors
"$M" campaign -l "$OB" -t x -o "$tmp/c3" >/dev/null 2>"$tmp/e.log"
check "missing --formula-column: exit 2" '[ $? -eq 2 ] && grep -q "formula-column" "$tmp/e.log"'
"$M" campaign "${args[@]}" --acq ei,thompson -o "$tmp/c3" >/dev/null 2>"$tmp/e.log"
check "unknown acquisition: exit 2" '[ $? -eq 2 ]'

# suggest: labels = first 300 rows, pool = the rest
head -301 "$OB" > "$tmp/lab.csv"
{ head -1 "$OB"; tail -n +302 "$OB"; } > "$tmp/pool.csv"
sargs=(-l "$tmp/lab.csv" --formula-column "Reduced Composition" -t "Ionic conductivity (S cm-1)"
       --log10 -i "$tmp/pool.csv" -n 6 --acq ei -s 3)
"$M" suggest "${sargs[@]}" -o "$tmp/s1.csv" 2>"$tmp/s1.log"
rc=$?
check "suggest exits 0" '[ $rc -eq 0 ]'
check "suggest writes header + 6 rows" '[ $(wc -l < "$tmp/s1.csv") -eq 7 ]'
check "suggestions carry reasons" 'grep -q "ei .*predicted .* vs best" "$tmp/s1.csv"'
check "no formula suggested twice" \
    '[ $(tail -n +2 "$tmp/s1.csv" | cut -d, -f2 | sort -u | wc -l) -eq 6 ]'
$MPIEXEC --oversubscribe -np 4 "$M" suggest "${sargs[@]}" -o "$tmp/s4.csv" 2>/dev/null
check "suggest identical for 1 and 4 ranks" 'cmp -s "$tmp/s1.csv" "$tmp/s4.csv"'
"$M" suggest "${sargs[@]}" -o "$tmp/s1b.csv" 2>/dev/null
check "suggest reproducible with the seed" 'cmp -s "$tmp/s1.csv" "$tmp/s1b.csv"'
"$M" suggest "${sargs[@]}" --pareto-target "Ionic conductivity (S cm-1)" --minimize2 \
    -o "$tmp/sp.csv" 2>/dev/null
check "suggest --pareto-target writes Pareto columns" \
    'head -1 "$tmp/sp.csv" | grep -q "pareto_rank,crowding" && [ $(wc -l < "$tmp/sp.csv") -eq 7 ]'
"$M" suggest -l "$tmp/lab.csv" -i "$tmp/pool.csv" >/dev/null 2>"$tmp/e.log"
check "suggest -l without columns: exit 2" '[ $? -eq 2 ]'

echo "campaign: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
