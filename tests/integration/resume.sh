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

# 7. With a model: the manifest's domain counts (in_domain, out_of_domain) and quality.json count
# the results replayed from the journal too, not only the last run's (they were counted as
# results arrived). Killed once the journal holds half the uninterrupted run's bytes, so some
# tasks are done and replayed.
OB=$DATA/labeled/obelix-train
"$MATSCREEN" train -l "$OB/train.csv" -i "$OB/cifs" --id-column ID -t "Ionic conductivity (S cm-1)" \
    --log10 --set magpie -p n_trees=10 --requires none -o "$tmp/reg.model" >"$tmp/train.log" 2>&1
check "train a small surrogate for the domain case" test -s "$tmp/reg.model"
mref="$tmp/mref"
screen "$mref" -m "$tmp/reg.model" --rank-by mean
check_eval "with a model: uninterrupted run completes" 'completed $? "$mref"'
domain_of() { tr -d ' \n' <"$1/manifest.json" | grep -o '"domain":{[^}]*}'; }
check "with a model: the manifest counts records out of the domain" \
    bash -c "tr -d ' \n' <'$mref/manifest.json' | grep -q '\"out_of_domain\":[1-9]'"
half=$(($(stat -c %s "$mref/journal") / 2))
out="$tmp/mkill"
"$MPIEXEC" --oversubscribe -np "$NP" "$MATSCREEN" screen $(args "$out") -m "$tmp/reg.model" \
    --rank-by mean >>"$out.log" 2>&1 &
pid=$!
for i in $(seq 1 20000); do
    [ "$(stat -c %s "$out/journal" 2>/dev/null || echo 0)" -ge "$half" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
wait_gone "$out"
resume_until_done "$out" -m "$tmp/reg.model" --rank-by mean
check_eval "with a model, killed at half the journal: --resume completes" 'completed $? "$out"'
check "with a model: outputs identical" same_outputs "$mref" "$out"
check "with a model: quality.json identical" cmp -s "$mref/quality.json" "$out/quality.json"
check "with a model: the manifest's domain counts equal the uninterrupted run's ($(domain_of "$mref"))" \
    test "$(domain_of "$mref")" = "$(domain_of "$out")"

# 8. A suspect JSON Lines range runs split into parts on resume (farm.c: its ~11,000 records at
# 8 MiB made a serial tail), with the same record keys, indexes and outputs; a poison record in it
# still quarantines its range (the task) and nothing else. MATSCREEN_CHUNK_BYTES makes a 1 MB
# file (240 records) split into 128 KiB ranges; MATSCREEN_TEST_CRASH_ON=FILE@OFFSET aborts on
# that one record.
jin="$tmp/jin"
mkdir -p "$jin"
for k in $(seq 1 40); do cat tests/data/json/mp_records.jsonl; done >"$jin/many.jsonl"
poison_at=$(head -n 150 "$jin/many.jsonl" | wc -c) # the record on line 151
jscreen() { # jscreen OUTDIR [extra args]
    local out=$1
    shift
    MATSCREEN_CHUNK_BYTES=131072 "$MPIEXEC" --oversubscribe -np "$NP" "$MATSCREEN" screen \
        -i "$jin/many.jsonl" -o "$out" --top 10 "$@" >>"$out.log" 2>&1
}
jref="$tmp/jref"
jscreen "$jref"
check_eval "JSON Lines ranges: uninterrupted run completes" 'completed $? "$jref"'
nrec=$(grep -c . "$jin/many.jsonl") # non-blank lines: the records
check "JSON Lines ranges: all $nrec records screened" \
    bash -c "tr -d ' \n' <'$jref/quality.json' | grep -q '\"records\":$nrec,'"
out="$tmp/jsplit"
MATSCREEN_TEST_CRASH_ON=many.jsonl@$poison_at jscreen "$out"
check "JSON Lines: a rank crashing on one record ends the run" test $? -ne 0
wait_gone "$out"
jscreen "$out" --resume
check_eval "JSON Lines: --resume (its suspect ranges split into parts) completes" 'completed $? "$out"'
check "JSON Lines: the resume had a suspect range" grep -q "[1-9][0-9]* suspects\? to run alone" "$out.log"
check "JSON Lines: outputs identical to the uninterrupted run" same_outputs "$jref" "$out"
check "JSON Lines: quality.json identical" cmp -s "$jref/quality.json" "$out/quality.json"
out="$tmp/jpoison"
for k in 1 2; do
    MATSCREEN_TEST_CRASH_ON=many.jsonl@$poison_at jscreen "$out" $([ $k = 2 ] && echo --resume)
    check "JSON Lines poison: run $k dies" test $? -ne 0
    wait_gone "$out"
done
MATSCREEN_TEST_CRASH_ON=many.jsonl@$poison_at jscreen "$out" --resume
# run 3 may collect only the quarantine row (run 2 finished every other task): its status is the
# whole screen's, some records failed (1), not "nothing could be read" (2)
check "JSON Lines poison: run 3 exits 1 (one quarantined range among screened records)" test $? -eq 1
check "JSON Lines poison: run 3 writes the outputs" test -s "$out/manifest.json"
check "JSON Lines poison: exactly one task (the poison's range) is quarantined" \
    test "$(grep -c ',quarantine,' "$out/errors.csv")" -eq 1
qoff=$(grep ',quarantine,' "$out/errors.csv" | sed -n 's/^[^@]*@\([0-9]*\),.*/\1/p')
check "JSON Lines poison: the quarantined range holds the poison record ($qoff <= $poison_at < $qoff + 131072)" \
    test -n "$qoff" -a "${qoff:-0}" -le "$poison_at" -a "$poison_at" -lt "$((${qoff:-0} + 131072))"
members "$jref/ranked.jsonl" | awk -F@ -v q="${qoff:-0}" '{ o = $2 + 0 } o < q || o >= q + 131072' >"$tmp/jref_rows"
members "$out/ranked.jsonl" >"$tmp/jpoison_rows"
check "JSON Lines poison: every record outside that range is screened once" \
    bash -c "test -s '$tmp/jref_rows' && cmp -s '$tmp/jref_rows' '$tmp/jpoison_rows'"

finish
