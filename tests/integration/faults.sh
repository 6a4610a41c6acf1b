#!/usr/bin/env bash
# Fault injection from outside the process (issue 9; docs/reliability.md, "Failure modes").
#
# A small real screen (30 OBELiX CIFs and the broken CIFs of tests/data/broken, 2 ranks under
# mpirun) runs once without interruption: the reference. Then:
#   1. Kill points: strace's syscall tampering (-e inject=pwrite64:signal=KILL:when=N, filtered
#      with -P to DIR/journal and DIR/journal.tmp, which only rank 0 writes) SIGKILLs rank 0
#      exactly at its N-th journal write, before the write happens, for N = 1, 2, ... up to the
#      number of journal writes of the reference run; and at each fdatasync of the journal (the
#      write before it has landed). mpirun then ends the job. Each is followed by `--resume`
#      (under mpirun, at most 3 times) until it exits 0, and ranked.csv, ranked.jsonl, errors.csv
#      and top/ must equal the reference byte for byte.
#   2. Output writes that fail: ENOSPC injected at the first write(2) of each output file, and at
#      a journal write; and `ulimit -f` on the ranks (SIGXFSZ ignored, so write(2) fails with
#      EFBIG) so that first the journal, then ranked.jsonl hits the limit. The run must exit non-zero with a message naming the file (and, for the journal,
#      the errno text); then `--resume` with space available completes and matches.
#   3. A worker rank that dies: the engine's test hook MATSCREEN_TEST_CRASH_ON=<file> (abort()),
#      and a real SIGKILL of rank 1 from outside (strace on rank 1 only, killing it when it opens
#      its second input file). mpirun must end non-zero naming the signal; `--resume` completes and the
#      outputs match (the task in flight is retried).
# Closing line: "faults: N passed, M failed"; exit status 0 when nothing failed.
# Environment: MATSCREEN (binary), MPIEXEC, MS_SHARED_DATA, FAULTS_NP (ranks, default 2),
# FAULTS_STRIDE (test every k-th kill point, default 1), FAULTS_KEEP=1 keeps the files.
# Needs strace (Debian package strace); without it, or when ptrace is not permitted, the test
# says so and is skipped (exit 0, "faults: 0 passed, 0 failed (skipped: ...)").
set -u
cd "$(dirname "$0")/../.."
KEEP_TMP=${FAULTS_KEEP:-${KEEP_TMP:-}}
. tests/integration/lib.sh faults
# LeakSanitizer cannot run inside a process under ptrace (strace) and aborts it at exit: the
# sanitizer pass of CI checks leaks in the other tests; here it checks memory errors only.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
needs_shared
case $MATSCREEN in /*) ;; *) MATSCREEN=$PWD/$MATSCREEN ;; esac
NP=${FAULTS_NP:-2}
STRIDE=${FAULTS_STRIDE:-1}
unset MATSCREEN_TEST_CRASH_ON

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

if ! command -v strace >/dev/null; then
    echo "faults: 0 passed, 0 failed (skipped: strace is not installed; apt-get install strace)"
    exit 0
fi
if ! strace -qq -o /dev/null -e trace=write -e inject=write:error=ENOSPC:when=1 true 2>/dev/null; then
    echo "faults: 0 passed, 0 failed (skipped: strace cannot trace here: ptrace not permitted)"
    exit 0
fi

in="$tmp/in"
mkdir -p "$in/obelix" "$in/broken"
ls "$DATA"/labeled/obelix-train/cifs/*.cif | sort | head -30 | xargs cp -t "$in/obelix/"
cp tests/data/broken/*.cif "$in/broken/"
TOP=5

mpi() { "$MPIEXEC" --oversubscribe -np "$NP" "$@"; }
# run OUTDIR [PREFIX...]: one screen under mpirun, each rank started through PREFIX (strace ...).
run() {
    local out=$1
    shift
    mpi "$@" "$MATSCREEN" screen -q -i "$in" -o "$out" --top $TOP >>"$out.log" 2>&1
}
# Resumes until it completes (0, or 1 with errors.csv; at most 3 times). Returns the last exit status.
resume() {
    local out=$1 k rc=1
    for k in 1 2 3; do
        mpi "$MATSCREEN" screen -q -i "$in" -o "$out" --top $TOP --resume >>"$out.log" 2>&1
        rc=$?
        completed $rc "$out" && return 0
    done
    return $rc
}
same() { # same OUTDIR: the outputs equal the reference
    local f
    for f in ranked.csv ranked.jsonl errors.csv; do cmp -s "$tmp/ref/$f" "$1/$f" || return 1; done
    diff -r "$tmp/ref/top" "$1/top" >/dev/null
}

# ---- the reference, and how many times rank 0 writes and syncs the journal --------------------
run "$tmp/ref"
check_eval "reference run" 'completed $? "$tmp/ref"'
run "$tmp/count" strace -f -qq -o "$tmp/count.trace" -e trace=pwrite64,fdatasync \
    -P "$tmp/count/journal" -P "$tmp/count/journal.tmp"
check "traced run" same "$tmp/count"
writes=$(grep -c 'pwrite64(' "$tmp/count.trace")
syncs=$(grep -c 'fdatasync(' "$tmp/count.trace")
check "journal writes counted ($writes writes, $syncs syncs)" test "$writes" -gt 5

# ---- 1. SIGKILL of rank 0 at every journal write, then --resume ----------------------------------
killed=0 identical=0 late=0
kill_at() { # kill_at SYSCALL N
    local sc=$1 n=$2 out="$tmp/kill_$1_$2"
    run "$out" strace -f -qq -o /dev/null -e trace="$sc" -e inject="$sc":signal=KILL:when="$n" \
        -P "$out/journal" -P "$out/journal.tmp"
    local rc=$?
    if completed $rc "$out"; then
        late=$((late + 1)) # this run wrote fewer times (timing): nothing was killed
    else
        killed=$((killed + 1))
        grep -q "signal 9" "$out.log" || bad "kill at $sc #$n: mpirun did not name signal 9"
    fi
    if resume "$out" && same "$out"; then
        identical=$((identical + 1))
        ok
    else
        bad "kill at $sc #$n: --resume did not complete with the reference outputs (log: $out.log)"
        return
    fi
    [ -n "${FAULTS_KEEP:-}" ] || rm -rf "$out" "$out.log"
}
for ((n = 1; n <= writes; n += STRIDE)); do kill_at pwrite64 $n; done
for ((n = 1; n <= syncs; n++)); do kill_at fdatasync $n; done
echo "faults: $killed kill points hit ($writes journal writes / $STRIDE + $syncs syncs), $late not reached, $identical resumed identical"

# ---- 2. output writes that fail ---------------------------------------------------------------
# enospc NAME FILE [SYSCALL]: ENOSPC at the first write to FILE (relative to the output dir).
# Outputs are written beside their final name (DIR/.tmp-NAME; a top CIF in the new top/,
# DIR/.tmp-top/.tmp-NAME) and renamed into place: the write goes to that name.
enospc() {
    local name=$1 file=$2 sc=${3:-write} out="$tmp/nospc_$1" at
    case $file in
    journal) at="$out/journal" ;;
    top/*) at="$out/.tmp-top/.tmp-${file#top/}" ;;
    *) at="$out/.tmp-$file" ;;
    esac
    run "$out" strace -f -qq -o /dev/null -e trace="$sc" -e inject="$sc":error=ENOSPC:when=1 \
        -P "$at"
    local rc=$?
    if [ $rc -ne 0 ]; then ok
    elif [ "${file%%/*}" = top ]; then echo "faults: note: ENOSPC on $file: exit status 0 (a failed top CIF is only reported; see docs/reliability.md)"
    else bad "ENOSPC on $file: exit status 0"
    fi
    check "ENOSPC on $file: the message names the file" grep -q "${file##*/}" "$out.log"
    if grep -q "No space left on device" "$out.log"; then ok
    elif [ "$sc" = pwrite64 ]; then bad "ENOSPC on $file: no errno text in the message"
    else echo "faults: note: ENOSPC on $file: the message does not give the errno text (see docs/reliability.md)"
    fi
    check "ENOSPC on $file: --resume completes with the reference outputs" eval 'resume "$out" && same "$out"'
}
enospc journal journal pwrite64
for f in ranked.csv ranked.jsonl errors.csv quality.json manifest.json; do enospc "${f%%.*}" "$f"; done
first_top=$(cd "$tmp/ref/top" && ls | head -1)
enospc top "top/$first_top"

# ulimit -f on the ranks only (mpirun's own PMIx files must stay writable; Open MPI's shared
# memory then falls back with a warning): with SIGXFSZ ignored, write(2) fails with EFBIG.
cat >"$tmp/fsize.sh" <<'EOF'
#!/bin/bash
trap '' XFSZ
ulimit -f "$FAULTS_FSIZE"
exec "$@"
EOF
chmod +x "$tmp/fsize.sh"
fsize() { # fsize KIB WHAT: WHAT is the file that must hit the limit first
    local out="$tmp/fsize_$1"
    FAULTS_FSIZE=$1 run "$out" -x FAULTS_FSIZE "$tmp/fsize.sh"
    local rc=$?
    check "ulimit -f $1 ($2): non-zero exit" test $rc -ne 0
    check "ulimit -f $1 ($2): the message names $2" grep -q "$2: .*\(write failed\|cannot write\)" "$out.log"
    if grep "File too large" "$out.log" | grep -q "$2"; then ok
    elif [ "$2" = journal ]; then bad "ulimit -f $1: no errno text for the journal"
    else echo "faults: note: ulimit -f $1: the message on $2 does not give the errno text (see docs/reliability.md)"
    fi
    check "ulimit -f $1 ($2): --resume completes with the reference outputs" eval 'resume "$out" && same "$out"'
}
jkib=$(( $(stat -c %s "$tmp/ref/journal") / 1024 + 1 ))
fsize $((jkib / 2)) journal # the journal hits the limit
if [ $(( $(stat -c %s "$tmp/ref/ranked.jsonl") / 1024 )) -gt "$jkib" ]; then
    fsize "$jkib" ranked.jsonl # the journal fits, ranked.jsonl does not
fi

# ---- 3. a worker rank that dies ------------------------------------------------------------------
poison=$(ls "$in/obelix" | sed -n 7p)
out="$tmp/abort"
MATSCREEN_TEST_CRASH_ON=$poison run "$out"
check "worker abort(): non-zero exit" test $? -ne 0
check "worker abort(): mpirun names the signal" grep -q "signal 6\|Aborted" "$out.log"
check "worker abort(): --resume completes with the reference outputs" eval 'resume "$out" && same "$out"'

# A real SIGKILL of rank 1 from outside: strace on rank 1 only, killing it when it opens its
# second input CIF (whichever the farm gives it).
out="$tmp/sigkill"
paths=()
for f in "$in"/obelix/*.cif; do paths+=(-P "$f"); done
{
    echo '#!/bin/bash'
    echo 'if [ "${OMPI_COMM_WORLD_RANK:-0}" = 1 ]; then'
    printf '    exec strace -f -qq -o /dev/null -e trace=openat -e inject=openat:signal=KILL:when=2'
    printf ' %q' "${paths[@]}"
    echo ' "$@"'
    echo 'fi'
    echo 'exec "$@"'
} >"$tmp/rank1_kill.sh"
chmod +x "$tmp/rank1_kill.sh"
run "$out" "$tmp/rank1_kill.sh"
rc=$?
if grep -q "signal 9" "$out.log"; then
    check "worker SIGKILL: non-zero exit" test $rc -ne 0
    ok
else
    # rank 0 ran that file itself (the farm's order depends on timing): nothing was killed
    echo "faults: note: rank 1 opened fewer than 2 input files in this run"
fi
check "worker SIGKILL: --resume completes with the reference outputs" eval 'resume "$out" && same "$out"'

finish
