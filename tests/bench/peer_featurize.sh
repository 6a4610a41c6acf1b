#!/bin/bash
# Featurization side by side with the peer (../shared/bench/peer_pipeline.py: pymatgen parse,
# SpacegroupAnalyzer, matminer magpie + stoichiometry + valence orbital + density + global symmetry),
# in the same run, on the same files, one process each, alternating so that both see the same load:
# these machines are shared and noisy, so only the ratio means something.
#
# usage: peer_featurize.sh [BENCH_FEATURIZE] [DATA_DIR] [N_PEROV5] [ROUNDS]
# make bench runs it with BUILD and MS_SHARED_DATA set. Ours: bench_featurize's "peer" set (the same
# features, CIF file to feature row). Peer: the sum of its per-structure stages (parse .. global
# symmetry), which leaves out its start-up and its model training, as ours leaves out start-up.
# Skipped (with a line saying so) where Debian's python3-pymatgen / python3-sklearn are missing.
set -eu
bin=${1:-${BUILD:-build}/tests/bench/bench_featurize}
data=${2:-${MS_SHARED_DATA:-../shared/data}}
n_perov=${3:-1000}
rounds=${4:-2}
peer="$data/../bench/peer_pipeline.py"
py=/usr/bin/python3
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

if [ ! -f "$peer" ] || ! "$py" -c 'import pymatgen.core, sklearn, pandas' 2>/dev/null; then
    echo "peer_featurize: skipped (needs $peer and Debian's python3-pymatgen python3-sklearn python3-pandas)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ms per structure of the peer's per-structure stages, from its stage table.
peer_ms() {
    awk '$1 ~ /^(parse|symmetry|magpie|stoichiometry|valence_orbital|density|global_symmetry)$/ \
         { s += $2 } END { printf "%.3f", s }' "$1"
}
# ms per structure of our "peer" set for a corpus (perov5 or OBELiX) from bench_featurize.
ours_ms() {
    awk -v c="$2" '$1 == c && $2 == "peer" { for (i = 3; i <= NF; i++) if ($i == "ms/structure") \
         { print $(i - 1); exit } }' "$1"
}

perov="$data/cif/perov5/cifs"
obelix="$data/labeled/obelix-train/cifs"
n_obelix=$(find "$obelix" -maxdepth 1 -name '*.cif' | wc -l)
printf 'peer_featurize: ms per structure, CIF file to feature row, same files, one process each\n'
printf '%-6s %-7s %7s %10s %10s %7s\n' round corpus files ours peer ratio
for r in $(seq 1 "$rounds"); do
    "$bin" "$data" "$n_perov" > "$tmp/ours" 2>&1
    "$py" "$peer" "$perov" --limit "$n_perov" --train-labels "$data/cif/perov5/labels.csv" \
        --target heat_ref --ascending --n-train 300 --n-jobs 1 --out "$tmp/top.csv" > "$tmp/peer_p" 2>&1
    "$py" "$peer" "$obelix" --train-labels "$data/cif/perov5/labels.csv" --n-train 300 --n-jobs 1 \
        --out "$tmp/top.csv" > "$tmp/peer_o" 2>&1
    for c in perov5 OBELiX; do
        if [ $c = perov5 ]; then f=$tmp/peer_p; n=$n_perov; else f=$tmp/peer_o; n=$n_obelix; fi
        o=$(ours_ms "$tmp/ours" $c)
        p=$(peer_ms "$f")
        printf '%-6s %-7s %7s %10s %10s %6.1fx\n' "$r" $c "$n" "$o" "$p" \
            "$(awk -v a="$p" -v b="$o" 'BEGIN { print (b > 0 ? a / b : 0) }')"
    done
done
