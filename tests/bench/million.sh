#!/bin/bash
# The million-record screen of issue #22, run by hand (not in CI, not in make bench: an hour or
# more on 2 cores). Generated records (gen_records: perov5 structures strained and shifted, JSON
# Lines), the default descriptor set and two models (a forest classifier and a forest surrogate
# trained on the OBELiX training split), screened by `matscreen run` (workflow with its state
# store) on NP ranks:
#   1. 100k records (the first 100k of the million), uninterrupted: the RSS baseline;
#   2. the million, uninterrupted: the reference outputs;
#   3. the million again in a fresh directory, SIGKILLed (mpirun) once half its tasks are done,
#      then `run --resume` until it completes: outputs must equal run 2's byte for byte.
# MILLION_STEPS picks the steps (default "small big killed-big"; "killed-small" is step 3 on the
# 100k records, compared with step 1's outputs). Each run's files stay in WORKDIR (out-NAME,
# NAME.log, NAME.rank.R), so steps can be run one at a time.
# Prints per run: wall seconds, each rank's peak RSS and CPU (GNU time), journal, state store and
# output sizes; then the RSS ratio 1M/100k and the comparison. Exit 1 when outputs differ or a run
# fails. Results go to docs/scale.md by hand.
#
# usage: tests/bench/million.sh WORKDIR [N]    (N default 1000000; WORKDIR outside the repo)
# env:   MATSCREEN (binary, default ./matscreen), BUILD (default build), MS_SHARED_DATA
#        (default ../shared/data), MPIEXEC (default mpiexec), NP (default 2),
#        MILLION_NICE (default 10), MATSCREEN_SHARE (default share/matscreen of the checkout).
# The binary is copied into WORKDIR first, so rebuilding the checkout during the run is safe.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:?usage: million.sh WORKDIR [N]}
n=${2:-1000000}
n_small=$((n / 10))
np=${NP:-2}
nice_n=${MILLION_NICE:-10}
build=${BUILD:-$here/build}
data=$(cd "${MS_SHARED_DATA:-$here/../shared/data}" && pwd)
mpiexec=${MPIEXEC:-mpiexec}
export MATSCREEN_SHARE=${MATSCREEN_SHARE:-$here/share/matscreen} # the copied binary's share/
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
mkdir -p "$work"
work=$(cd "$work" && pwd)
ms="$work/matscreen"
# a new file, never written over a binary that another step may be running
cp "${MATSCREEN:-$here/matscreen}" "$ms.$$" && mv -f "$ms.$$" "$ms" || exit 1
steps=" ${MILLION_STEPS:-small big killed-big} "
log() { echo "million: $(date -u +%H:%M:%S) $*"; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# --- data and models ---------------------------------------------------------------------------
big="$work/g$n.jsonl"
small="$work/g$n_small.jsonl"
if [ ! -s "$big" ]; then
    log "generating $n records"
    nice -n "$nice_n" "$build/tests/bench/gen_records" "$data/cif/perov5/cifs" "$n" 1 "$big.tmp" &&
        mv "$big.tmp" "$big" || exit 1
fi
[ -s "$small" ] || head -n "$n_small" "$big" >"$small" || exit 1
ob="$data/labeled/obelix-train"
for m in clf reg; do
    [ -s "$work/$m.msm" ] && continue
    extra="--log10"
    [ $m = clf ] && extra="--threshold 1e-4"
    log "training $m"
    nice -n "$nice_n" "$ms" train -l "$ob/train.csv" -i "$ob/cifs" --id-column ID \
        -t "Ionic conductivity (S cm-1)" $extra --set default -p n_trees=50 \
        -o "$work/$m.msm" >"$work/train_$m.log" 2>&1 || { cat "$work/train_$m.log"; exit 1; }
done

workflow() { # workflow INPUT NAME: writes WORKDIR/NAME.xml
    cat >"$work/$2.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<workflow name="million-$2" version="1" stage="screen" seed="7">
  <sources>
    <source path="$1" database="other"/>
  </sources>
  <descriptors set="default"/>
  <models>
    <model file="$work/clf.msm" role="classifier"/>
    <model file="$work/reg.msm" role="surrogate"/>
  </models>
  <acquisition function="ucb" kappa="2"/>
  <top-k>20</top-k>
  <output dir="$work/out-$2"/>
</workflow>
XML
}

# GNU time on every rank: "rank R maxrss_kb K user_s U sys_s S" in OUT.rank.R.
run_ranks() { # run_ranks NAME [run args]: mpirun in the background, pid in $run_pid
    local name=$1
    shift
    nice -n "$nice_n" "$mpiexec" --oversubscribe -np "$np" sh -c \
        'exec /usr/bin/time -o "$0.rank.$OMPI_COMM_WORLD_RANK" -f "rank $OMPI_COMM_WORLD_RANK maxrss_kb %M user_s %U sys_s %S" "$@"' \
        "$work/$name" "$ms" run "$work/$name.xml" "$@" >>"$work/$name.log" 2>&1 &
    run_pid=$!
}

wait_gone() { # ranks that outlive a killed mpirun exit by themselves
    local i
    for i in $(seq 1 600); do
        pgrep -f -- "$work/$1.xml" >/dev/null || return 0
        sleep 1
    done
    return 1
}

report() { # report NAME SECONDS [LABEL]
    local name=$1 out="$work/out-$1"
    echo "== ${3:-$name}: wall $2 s"
    cat "$work/$name".rank.* 2>/dev/null
    for f in journal state.db ranked.csv ranked.jsonl errors.csv quality.json; do
        [ -e "$out/$f" ] && printf '   %-14s %14s bytes\n' "$f" "$(stat -c %s "$out/$f")"
    done
    sed -n 's/.*"records": \([0-9]*\),$/   records \1/p; s/.*"unique_candidates": \([0-9]*\),$/   unique \1/p' \
        "$out/quality.json" | head -2
}

full_run() { # full_run NAME INPUT
    workflow "$2" "$1"
    rm -rf "$work/out-$1" "$work/$1".rank.* "$work/$1.log"
    log "run $1 ($2)"
    local t0=$(date +%s.%N)
    run_ranks "$1" -q
    wait "$run_pid" || { log "run $1 failed"; tail "$work/$1.log"; exit 1; }
    report "$1" "$(since "$t0")"
}

case "$steps" in *" small "*) full_run small "$small" ;; esac
case "$steps" in *" big "*) full_run big "$big" ;; esac

# --- killed at ~50% of the tasks, then resumed, compared with the uninterrupted run REF ----------
killed_run() { # killed_run REF INPUT
    local ref=$1 name=killed-$1 line d t t0 t_kill k ok=1 same=0 f
    workflow "$2" "$name"
    rm -rf "$work/out-$name" "$work/$name".rank.* "$work/$name.log"
    log "run $name: SIGKILL to mpirun at half the tasks"
    t0=$(date +%s.%N)
    run_ranks "$name" # not quiet: the progress line "screen: D/T tasks" (every 30 s) says when
    while kill -0 "$run_pid" 2>/dev/null; do
        sleep 5
        line=$(grep -o 'screen: [0-9]*/[0-9]* tasks' "$work/$name.log" | tail -1)
        d=$(echo "$line" | sed -n 's|screen: \([0-9]*\)/\([0-9]*\) tasks|\1|p')
        t=$(echo "$line" | sed -n 's|screen: \([0-9]*\)/\([0-9]*\) tasks|\2|p')
        if [ -n "$d" ] && [ -n "$t" ] && [ $((2 * d)) -ge "$t" ]; then
            kill -9 "$run_pid"
            log "killed at $line"
            break
        fi
    done
    wait "$run_pid" 2>/dev/null
    t_kill=$(since "$t0")
    wait_gone "$name" || { log "ranks of the killed run still alive"; return 1; }
    echo "== $name: killed after $t_kill s; journal $(stat -c %s "$work/out-$name/journal") bytes"
    rm -f "$work/$name".rank.*
    for k in 1 2 3; do
        log "resume $k"
        t0=$(date +%s.%N)
        run_ranks "$name" --resume
        if wait "$run_pid"; then
            report "$name" "$(since "$t0")" "$name (resumed)"
            grep -h 'resuming after' "$work/$name.log" | tail -1
            ok=0
            break
        fi
        wait_gone "$name"
    done
    [ $ok = 0 ] || { log "resume did not complete"; return 1; }
    for f in ranked.csv ranked.jsonl errors.csv quality.json; do
        if cmp -s "$work/out-$ref/$f" "$work/out-$name/$f"; then echo "identical to $ref: $f"
        else echo "DIFFERENT from $ref: $f"; same=1; fi
    done
    if diff -r -q "$work/out-$ref/top" "$work/out-$name/top" >/dev/null; then echo "identical to $ref: top/"
    else echo "DIFFERENT from $ref: top/"; same=1; fi
    return $same
}
status=0
case "$steps" in *" killed-small "*) killed_run small "$small" || status=1 ;; esac
case "$steps" in *" killed-big "*) killed_run big "$big" || status=1 ;; esac

# --- peak RSS per rank, the million against the 100k ---------------------------------------------
if [ -s "$work/small.rank.0" ] && [ -s "$work/big.rank.0" ]; then
    for r in $(seq 0 $((np - 1))); do
        awk -v r=$r -v s="$(awk '{print $4}' "$work/small.rank.$r")" \
            -v b="$(awk '{print $4}' "$work/big.rank.$r")" -v ns=$n_small -v nb=$n \
            'BEGIN { printf "rank %d peak RSS: %d KB at %d records, %d KB at %d: ratio %.3f\n", r, s, ns, b, nb, b / s }'
    done
fi
exit $status
