#!/usr/bin/env bash
# Fault test of the checkpoint journal and `matscreen screen --resume` (issue 5, docs/engine.md).
# Real data (254 OBELiX CIFs, 1,500 perov5 CIFs, the MP JSON Lines example and the broken files)
# is screened once without interruption under mpirun. Then, several times, the same run is killed
# with SIGKILL to mpirun at a random moment (one kill during start-up, one as soon as the journal
# says FINISHED, the others at random fractions of the uninterrupted wall time), and
# `--resume` is run until it exits 0; ranked.csv, ranked.jsonl, errors.csv and top/ must match
# the uninterrupted run byte for byte. Also: a run killed twice, resumed; outputs deleted after a
# finished run, resumed; --resume with changed inputs or options is refused with a message naming
# the change; a poison file (test hook MATSCREEN_TEST_CRASH_ON=<file name>: the rank that runs it
# calls abort()) is quarantined after two deaths and reported in errors.csv with stage
# "quarantine", and the run completes. Exit status 0 when everything passed.
# Environment: MATSCREEN (binary), MPIEXEC, RESUME_NP (ranks, default 2), RESUME_KILLS (random
# kills, default 4), RESUME_SEED (for $RANDOM, default: the pid), RESUME_KEEP=1 keeps the files.
set -u
cd "$(dirname "$0")/../.."
KEEP_TMP=${RESUME_KEEP:-${KEEP_TMP:-}}
. tests/integration/lib.sh resume
needs_shared
NP=${RESUME_NP:-2}
KILLS=${RESUME_KILLS:-4}
RANDOM=${RESUME_SEED:-$$}
unset MATSCREEN_TEST_CRASH_ON

in="$tmp/in"
mkdir -p "$in/obelix" "$in/perov5" "$in/broken" "$in/json"
cp "$DATA"/labeled/obelix-train/cifs/*.cif "$in/obelix/"
ls "$DATA"/cif/perov5/cifs | sort | head -1500 | sed "s|^|$DATA/cif/perov5/cifs/|" | xargs cp -t "$in/perov5/"
cp tests/data/broken/*.cif "$in/broken/"
cp tests/data/json/mp_records.jsonl "$in/json/"

args() { echo "-q -i $in -o $1 --top 10"; }

# Waits until no process still has OUTDIR on its command line (ranks that outlive a killed
# mpirun notice it and exit by themselves, usually within a second).
wait_gone() {
    local i
    for i in $(seq 1 300); do
        pgrep -f -- "-o $1 " >/dev/null || return 0
        sleep 0.1
    done
    return 1
}

screen() { # screen OUTDIR [extra args]: runs to the end, returns the exit status
    local out=$1
    shift
    "$MPIEXEC" --oversubscribe -np "$NP" "$MATSCREEN" screen $(args "$out") "$@" >>"$out.log" 2>&1
}

# Starts a run and SIGKILLs mpirun after SECONDS (or, with "finished", as soon as the journal ends
# with a FINISHED record: 16-byte frame, type 6, no payload).
killed_run() { # killed_run OUTDIR SECONDS|finished [extra args]
    local out=$1 when=$2
    shift 2
    "$MPIEXEC" --oversubscribe -np "$NP" "$MATSCREEN" screen $(args "$out") "$@" >>"$out.log" 2>&1 &
    local pid=$!
    if [ "$when" = finished ]; then
        local i
        for i in $(seq 1 20000); do
            if [ -f "$out/journal" ] && [ "$(tail -c 16 "$out/journal" | od -An -tu4 -N8 | tr -s ' ')" = " 0 6" ]; then
                break
            fi
            kill -0 "$pid" 2>/dev/null || break
        done
    else
        sleep "$when"
    fi
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    wait_gone "$out"
}

resume_until_done() { # resume_until_done OUTDIR [extra args]: at most 5 attempts
    local out=$1 k
    shift
    local rc=1
    for k in 1 2 3 4 5; do
        screen "$out" --resume "$@"
        rc=$?
        completed $rc "$out" && return $rc
        wait_gone "$out"
    done
    return $rc
}

same_outputs() { # same_outputs A B
    cmp -s "$1/ranked.csv" "$2/ranked.csv" && cmp -s "$1/ranked.jsonl" "$2/ranked.jsonl" &&
        cmp -s "$1/errors.csv" "$2/errors.csv" && diff -r -q "$1/top" "$2/top" >/dev/null
}

# 1. The reference: uninterrupted.
ref="$tmp/ref"
t0=$(date +%s%N)
screen "$ref"
check_eval "uninterrupted run completes" 'completed $? "$ref"'
t_ms=$((($(date +%s%N) - t0) / 1000000))
echo "resume: uninterrupted run ${t_ms} ms, $NP ranks"
check "uninterrupted run has results" test -s "$ref/ranked.csv"

# 2. Kills: during start-up, after FINISHED, and at random moments; then --resume to the end.
moments="0.05 finished"
for i in $(seq 1 "$KILLS"); do
    moments="$moments $(awk -v r=$RANDOM -v t=$t_ms 'BEGIN { printf "%.3f", (0.1 + 0.85 * r / 32767) * t / 1000 }')"
done
i=0
for when in $moments; do
    i=$((i + 1))
    out="$tmp/kill$i"
    killed_run "$out" "$when"
    state="no journal"
    [ -f "$out/journal" ] && state="journal $(stat -c %s "$out/journal") bytes"
    resume_until_done "$out"
    check_eval "kill $i at $when s ($state): --resume completes" 'completed $? "$out"'
    check "kill $i at $when s: outputs identical to the uninterrupted run" same_outputs "$ref" "$out"
done

# 3. Two kills in a row, then resume.
out="$tmp/twice"
killed_run "$out" "$(awk -v t=$t_ms 'BEGIN { printf "%.3f", 0.3 * t / 1000 }')"
killed_run "$out" "$(awk -v t=$t_ms 'BEGIN { printf "%.3f", 0.4 * t / 1000 }')" --resume
resume_until_done "$out"
check_eval "killed twice: --resume completes" 'completed $? "$out"'
check "killed twice: outputs identical" same_outputs "$ref" "$out"

# 4. A finished run whose outputs were lost: --resume rewrites them from the journal.
out="$tmp/lost"
cp -r "$ref" "$out"
rm -f "$out/ranked.csv" "$out/errors.csv" "$out"/top/*
: >"$out/ranked.jsonl"
screen "$out" --resume
check "resume after FINISHED rewrites the outputs" same_outputs "$ref" "$out"

# 5. Refusals: changed options, changed inputs, a foreign journal.
out="$tmp/changed"
cp -r "$ref" "$out"
: >"$out.log"
screen "$out" --resume --seed 7
check "--resume with another --seed is refused (exit 2)" test $? -eq 2
check "the refusal names --seed" grep -q -- "--seed was 0, now 7" "$out.log"
: >"$out.log"
screen "$out" --resume --rank-by density
check "--resume with another --rank-by is refused naming it" grep -q -- "--rank-by was li_fraction, now density" "$out.log"
cp "$in/obelix/$(ls "$in/obelix" | head -1)" "$in/perov5/zz_extra.cif"
: >"$out.log"
screen "$out" --resume
check "--resume with an added input file is refused (exit 2)" test $? -eq 2
check "the refusal says the input set changed" grep -q "input set changed" "$out.log"
rm -f "$in/perov5/zz_extra.cif"
touch -d '2001-01-01' "$in/obelix/$(ls "$in/obelix" | head -1)"
: >"$out.log"
screen "$out" --resume
check "--resume with a modified input file is refused naming it" grep -q "input files changed" "$out.log"
out="$tmp/foreign"
mkdir -p "$out"
head -c 5000 /dev/urandom >"$out/journal"
screen "$out" --resume
check "--resume on a foreign journal is refused (exit 2)" test $? -eq 2
check "the refusal says it is not a journal" grep -q "not a matscreen journal" "$out.log"

# 6. A poison file: the rank running it aborts. Two crashes (recorded by the rank's fatal-signal
# handler in DIR/.crash-RANK, crash.h), then it is quarantined; kills from outside alone would
# need three deaths (unit suite journal).
poison=$(ls "$in/perov5" | sort | sed -n 700p)
out="$tmp/poison"
MATSCREEN_TEST_CRASH_ON=$poison screen "$out"
check "poison run 1 dies" test $? -ne 0
wait_gone "$out"
MATSCREEN_TEST_CRASH_ON=$poison screen "$out" --resume
check "poison run 2 (resume) dies again" test $? -ne 0
wait_gone "$out"
MATSCREEN_TEST_CRASH_ON=$poison screen "$out" --resume
check_eval "poison run 3 (resume) completes" 'completed $? "$out"'
check "errors.csv reports the poison file with stage quarantine" \
    grep -q "/$poison#0,.*,quarantine,internal" "$out/errors.csv"
check "only the poison file is quarantined" test "$(grep -c ',quarantine,' "$out/errors.csv")" -eq 1
check "the rank's crash records were read into the journal and removed" \
    test "$(ls -A "$out" | grep -c '^\.crash-')" -eq 0
# Structural de-duplication: a record is a row or a member of one; ranked.jsonl lists every
# group's members (record keys), so compare the member sets.
members() { grep -o '"members":\[[^]]*\]' "$1" | sed 's/^"members":\[//; s/\]$//' | tr ',' '\n' | sort; }
members "$ref/ranked.jsonl" | grep -v "/$poison#" >"$tmp/ref_rows"
members "$out/ranked.jsonl" >"$tmp/poison_rows"
check "every other record is screened once (ranked members = reference minus the poison file)" \
    bash -c "test -s '$tmp/ref_rows' && cmp -s '$tmp/ref_rows' '$tmp/poison_rows'"

finish
