#!/bin/bash
# Nightly incremental runs over all 7,572 perov5 CIFs on 2 ranks (`matscreen run` with its state
# store): night 1 computes everything, night 2 over unchanged inputs reuses everything. Prints the
# two times and their ratio; tests/integration/nightly.sh checks that night 2 computes nothing and
# gives identical outputs. make bench runs it with BUILD and MS_SHARED_DATA set.
set -eu
matscreen=$(cd "$(dirname "$0")/../.." && pwd)/matscreen
data=$(cd "${MS_SHARED_DATA:-../shared/data}" && pwd)
np=${1:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
if [ ! -d "$data/cif/perov5/cifs" ]; then
    echo "nightly: skipped (no perov5 CIFs under $data)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/nightly.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<workflow name="nightly-bench" version="1" stage="screen" seed="7">
  <sources>
    <source path="$data/cif/perov5/cifs"/>
  </sources>
  <ranking by="density" order="descending"/>
  <top-k>20</top-k>
  <output dir="out"/>
</workflow>
XML
seconds() { sed -n 's/.*"seconds_total": \([0-9.]*\).*/\1/p' "$1"; }
night() {
    (cd "$tmp" && ${MPIEXEC:-mpiexec} --oversubscribe -n "$np" "$matscreen" run nightly.xml --quiet \
        >/dev/null 2>"$tmp/err") || { cat "$tmp/err" >&2; exit 1; }
    seconds "$tmp/out/incremental.json"
}
s1=$(night)
s2=$(night)
awk -v a="$s1" -v b="$s2" -v np="$np" 'BEGIN {
    printf "nightly  perov5 7,572 CIFs, %s ranks: night 1 (all computed) %.2f s, night 2 (unchanged, all reused) %.2f s = %.1f%% of night 1\n", np, a, b, 100 * b / a }'
