#!/bin/bash
# Nightly incremental runs (`matscreen run` with its state store) on NP ranks:
#   night 1 computes everything; night 2 over unchanged inputs is an unchanged night (inputs,
#   settings and outputs are night 1's: its outputs are kept, nothing is screened); night 3 finds
#   an output touched, so it replays every stored result and writes the outputs again (what a
#   night costs when something changed but no input did).
# Prints the three times (in matscreen, from incremental.json) and the ratios to night 1.
# tests/integration/nightly.sh checks the behaviour (nothing computed, identical outputs).
# Usage: nightly.sh [NP [N [jsonl|cif]]]
#   without N: the 7,572 perov5 CIFs of ../shared (make bench runs this, with BUILD and
#   MS_SHARED_DATA set); with N: N records made by tests/bench/gen_records from the perov5 CIFs
#   (seed 1), as one JSON Lines file (default) or a CIF directory, under NIGHTLY_DIR (default a
#   temporary directory; a million records need ~0.7 GB as JSON Lines, ~2 GB as CIFs).
# MODELS="reg.msm clf.msm" (paths) adds <descriptors set="default"/> and the two models
# (surrogate, classifier) and ranks by MEI over -3: the configuration of issue #22's million run.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
matscreen=$root/matscreen
data=$(cd "${MS_SHARED_DATA:-../shared/data}" && pwd)
np=${1:-2}
n=${2:-}
fmt=${3:-jsonl}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
if [ ! -d "$data/cif/perov5/cifs" ]; then
    echo "nightly: skipped (no perov5 CIFs under $data)"
    exit 0
fi
if [ -n "${NIGHTLY_DIR:-}" ]; then
    tmp=$NIGHTLY_DIR
    mkdir -p "$tmp"
else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
fi
source_path=$data/cif/perov5/cifs
label="perov5 7,572 CIFs"
if [ -n "$n" ]; then
    gen=${BUILD:-$root/build}/tests/bench/gen_records
    [ -x "$gen" ] || { echo "nightly: $gen missing (make $gen)" >&2; exit 1; }
    if [ "$fmt" = cif ]; then
        source_path=$tmp/cifs
        [ -d "$source_path" ] || "$gen" "$data/cif/perov5/cifs" "$n" 1 "$tmp/g.jsonl" "$source_path" >/dev/null
        rm -f "$tmp/g.jsonl"
    else
        source_path=$tmp/g.jsonl
        [ -s "$source_path" ] || "$gen" "$data/cif/perov5/cifs" "$n" 1 "$source_path" >/dev/null
    fi
    label="$n generated records ($fmt)"
fi
models=""
ranking='<ranking by="density" order="descending"/>'
if [ -n "${MODELS:-}" ]; then
    set -- $MODELS
    models="<descriptors set=\"default\"/><models><model file=\"$(realpath "$1")\" role=\"surrogate\"/><model file=\"$(realpath "$2")\" role=\"classifier\"/></models>"
    ranking='<acquisition function="mei" target="-3"/>'
    label="$label, default descriptors, two models"
fi
cat >"$tmp/nightly.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<workflow name="nightly-bench" version="1" stage="screen" seed="7">
  <sources>
    <source path="$source_path"/>
  </sources>
  $models
  $ranking
  <top-k>20</top-k>
  <output dir="out"/>
</workflow>
XML
rm -rf "$tmp/out"
seconds() { sed -n 's/.*"seconds_total": \([0-9.]*\).*/\1/p' "$1"; }
night() {
    (cd "$tmp" && ${MPIEXEC:-mpiexec} --oversubscribe -n "$np" "$matscreen" run nightly.xml --quiet \
        >/dev/null 2>"$tmp/err") || { cat "$tmp/err" >&2; exit 1; }
    seconds "$tmp/out/incremental.json"
}
s1=$(night)
s2=$(night)
touch "$tmp/out/ranked.csv"
s3=$(night)
awk -v a="$s1" -v b="$s2" -v c="$s3" -v np="$np" -v l="$label" 'BEGIN {
    printf "nightly  %s, %s ranks: night 1 (all computed) %.2f s; night 2 (unchanged: outputs kept) %.3f s = 1/%.0f of night 1; night 3 (an output touched: all replayed, outputs written) %.2f s = 1/%.1f\n", l, np, a, b, a / b, c, a / c }'
