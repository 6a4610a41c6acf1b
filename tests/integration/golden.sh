#!/usr/bin/env bash
# golden.sh: the byte-identity pin. Every output that matters - ranked.csv, ranked.jsonl,
# errors.csv, quality.json, features.csv, quality.csv, the model files and report.html (minus its
# volatile lines: wall time, throughput, ranks) - must be
#   (a) the same bytes for 1, 2, 3 and 4 MPI ranks (and a run without mpirun), and
#   (b) the same bytes as the digests stored in tests/data/golden/*.sha256.
# (b) is what makes a refactoring safe: a change that alters an output fails here even when it
# alters it identically on every rank count.
#
# Part "repo" uses repository data only (examples/structures, tests/data) and runs everywhere.
# Part "shared" (a real OBELiX + perov5 subset) runs when ../shared/data exists and is skipped
# with one line otherwise. Models are trained in the script (forest regressors on structure and on
# composition features, a forest classifier) from tests/data/golden/obelix_labels.csv (OBELiX
# training labels, CC BY 4.0) or, for "shared", from the OBELiX training CIFs.
#
# When an output changes ON PURPOSE, regenerate the digests and say why in the commit message:
#     UPDATE_GOLDEN=1 MATSCREEN=$PWD/matscreen bash tests/integration/golden.sh
# (with ../shared present, so that both digest files are rewritten).
# Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh golden
golden_dir=$MS_ROOT/tests/data/golden
labels=$golden_dir/obelix_labels.csv
RANKS="1 2 3 4"

# Each run works inside $tmp/PART/RUN with relative paths (../in, out/), so that no temporary path
# and no run name reaches an output. report.html: the lines marked data-volatile are wall time,
# throughput and rank count. Model files: the 32-byte header (its checksum covers the creation
# time) is skipped and the creation time blanked.
digest() { # digest DIR: one "sha256  relative/path" line per output file, sorted
    (cd "$1" && find . -type f ! -name '*.log' ! -name manifest.json ! -name journal ! -name 'state.db*' \
        ! -name incremental.json ! -name '.*' | LC_ALL=C sort | while read -r f; do
        case $f in
        */report.html) grep -v 'data-volatile' "$f" | sha256sum | sed "s|-\$|$f|" ;;
        *.model) tail -c +33 "$f" | LC_ALL=C sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z/TIME/g' |
            sha256sum | sed "s|-\$|$f|" ;;
        *) sha256sum "$f" ;;
        esac
    done)
}

# run_part NAME: the commands of one part, without mpirun and for each rank count; the caller
# sets inputs, train_struct, train_comp, train_clf (arrays, paths relative to a run directory).
run_part() {
    local part=$1 run n
    local -a launcher
    for run in serial $RANKS; do
        mkdir -p "$tmp/$part/$run/out/models" "$tmp/$part/$run/out/featurize"
        cd "$tmp/$part/$run" || return 1
        launcher=()
        [ "$run" = serial ] || launcher=("$MPIEXEC" --oversubscribe -np "$run")
        "${launcher[@]}" "$MATSCREEN" train "${train_struct[@]}" -o out/models/struct.model >train_s.log 2>&1
        check "$part: train structure model ($run)" test $? -eq 0
        "${launcher[@]}" "$MATSCREEN" train "${train_clf[@]}" -o out/models/clf.model >train_k.log 2>&1
        check "$part: train structure classifier ($run)" test $? -eq 0
        if [ ${#train_comp[@]} -gt 0 ]; then
            "${launcher[@]}" "$MATSCREEN" train "${train_comp[@]}" -o out/models/comp.model >train_c.log 2>&1
            check "$part: train composition model ($run)" test $? -eq 0
        fi
        # The screens use the serial run's models, so that a difference is the screen's own.
        "${launcher[@]}" "$MATSCREEN" screen -q -m ../serial/out/models/struct.model \
            -m ../serial/out/models/clf.model -i "${inputs[@]}" -o out/screen_struct --rank-by ucb \
            --top 5 >screen_s.log 2>&1
        check_eval "$part: screen with structure model + classifier ($run)" 'completed $? out/screen_struct'
        if [ ${#train_comp[@]} -gt 0 ]; then
            "${launcher[@]}" "$MATSCREEN" screen -q -m ../serial/out/models/comp.model -i "${inputs[@]}" \
                -o out/screen_comp --rank-by ei --best -3 --top 5 >screen_c.log 2>&1
            check_eval "$part: screen with composition model ($run)" 'completed $? out/screen_comp'
        fi
        "${launcher[@]}" "$MATSCREEN" run ../workflow.xml -q -o out/workflow >workflow.log 2>&1
        check_eval "$part: workflow run (screen without models, report) ($run)" 'completed $? out/workflow'
        # featurize shares its files among the ranks (#22); quality runs as one process: without
        # mpirun and with one rank only
        "${launcher[@]}" "$MATSCREEN" featurize -i "${inputs[@]}" -o out/featurize/features.csv \
            -e out/featurize/errors.csv >featurize.log 2>&1
        check "$part: featurize runs ($run)" test $? -le 1
        if [ "$run" = serial ] || [ "$run" = 1 ]; then
            "${launcher[@]}" "$MATSCREEN" quality -i "${inputs[@]}" -o out/quality >quality.log 2>&1
            check "$part: quality runs ($run)" test $? -le 1
        fi
        digest out >../$run.sha256
    done
    cd "$tmp/$part" || return 1
    for run in $RANKS; do
        # quality/ exists only in the serial and 1-rank runs
        check "$part: outputs of $run ranks identical to the run without mpirun" \
            diff <(grep -v -e ' ./quality/' serial.sha256) <(grep -v -e ' ./quality/' "$run.sha256")
    done
    check "$part: featurize and quality identical with one rank" diff serial.sha256 1.sha256
    check "$part: screen ranked rows" test "$(wc -l <serial/out/screen_struct/ranked.csv)" -gt 3
    check "$part: every output is digested ($(wc -l <serial.sha256) files)" test "$(wc -l <serial.sha256)" -ge 20
    if [ -n "${UPDATE_GOLDEN:-}" ]; then
        cp serial.sha256 "$golden_dir/$part.sha256"
        echo "golden: rewrote tests/data/golden/$part.sha256"
    fi
    check "$part: outputs match tests/data/golden/$part.sha256" diff "$golden_dir/$part.sha256" serial.sha256
    cd "$MS_ROOT" || return 1
}

workflow_xml() { # workflow_xml SOURCE-DIR...: a screen workflow with a report
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<workflow name="golden" version="1" stage="screen" seed="7">'
    echo '  <sources>'
    for s in "$@"; do echo "    <source path=\"$s\"/>"; done
    echo '  </sources>'
    echo '  <filters><require-elements>Li</require-elements><max-atoms>500</max-atoms></filters>'
    echo '  <descriptors set="default"/>'
    echo '  <ranking by="li_fraction" order="descending"/>'
    echo '  <top-k>3</top-k>'
    echo '  <output dir="out"/>'
    echo '</workflow>'
}

# ---- part "repo": repository data only ------------------------------------------------------
p=$tmp/repo
mkdir -p "$p/in/examples" "$p/in/poscar" "$p/in/json" "$p/in/quality" "$p/in/broken"
cp examples/structures/*.cif examples/structures/*.json "$p/in/examples/"
cp tests/data/poscar/*.POSCAR "$p/in/poscar/"
cp tests/data/json/mp_records.jsonl "$p/in/json/"
cp tests/data/quality/*.cif "$p/in/quality/"
cp tests/data/broken/*.cif "$p/in/broken/"
inputs=(../in)
train_struct=(-l "$labels" -i ../in/examples --id-column id -t conductivity --log10 --set default -p n_trees=20)
train_clf=(-l "$labels" -i ../in/examples --id-column id -t conductivity --threshold 1e-4 --set default -p n_trees=20)
train_comp=(-l "$labels" --formula-column formula -t conductivity --log10 -p n_trees=20)
workflow_xml in/examples in/json in/poscar >"$p/workflow.xml"
run_part repo

# ---- part "shared": a real OBELiX + perov5 subset ----------------------------------------------
if [ ! -d "$DATA/labeled/obelix-train/cifs" ] || [ ! -d "$DATA/cif/perov5/cifs" ]; then
    echo "golden: part shared skipped: $DATA (../shared/data) is absent"
else
    p=$tmp/shared
    OB=$DATA/labeled/obelix-train
    mkdir -p "$p/in/obelix" "$p/in/perov5" "$p/train"
    ls "$OB/cifs" | LC_ALL=C sort | head -80 | sed "s|^|$OB/cifs/|" | xargs cp -t "$p/in/obelix/"
    ls "$DATA/cif/perov5/cifs" | LC_ALL=C sort | head -60 | sed "s|^|$DATA/cif/perov5/cifs/|" | xargs cp -t "$p/in/perov5/"
    cp "$OB/train.csv" "$p/train/"
    ln -s "$OB/cifs" "$p/train/cifs"
    inputs=(../in)
    t=(-t "Ionic conductivity (S cm-1)")
    # the composition model is the repo part's concern; here the structure models on real CIFs
    train_struct=(-l ../train/train.csv -i ../train/cifs --id-column ID "${t[@]}" --log10 --set default -p n_trees=30)
    train_clf=(-l ../train/train.csv -i ../train/cifs --id-column ID "${t[@]}" --threshold 1e-4 --set default -p n_trees=30)
    train_comp=()
    workflow_xml in/obelix in/perov5 >"$p/workflow.xml"
    run_part shared
fi

finish
