#!/usr/bin/env bash
# Runs the libFuzzer targets built by `make fuzz`, each for SECONDS.
#
#   tests/fuzz/run.sh SECONDS [TARGET...]      (default: every target of tests/fuzz/build/)
#
# Environment: FUZZ_BUILD (default tests/fuzz/build), FUZZ_JOBS (targets run at once, default 1),
# FUZZ_NICE (nice level, default 10), FUZZ_EXTRA (more libFuzzer flags).
#
# Each target starts from its committed seeds (tests/fuzz/corpus/<target>/) plus the regression
# inputs (tests/data/fuzz-regressions/<target>/); what it learns goes to the working corpus
# $FUZZ_BUILD/corpus/<target>/, never into the repository. Per target one line gives the
# executions per second and the coverage of libFuzzer's last status line (cov: edges, ft:
# features, corp: inputs). A crash, leak, timeout (10 s) or out-of-memory (2 GB) input is copied
# to tests/data/fuzz-regressions/<target>/ and the script exits 1 at the end; replay it with
#   $FUZZ_BUILD/fuzz_<target> FILE     or     build/tests/unit/run_tests fuzz_regressions
# With FUZZ_EXTRA="-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1" a target keeps
# going after a crash for the whole time and collects every crashing input.
#
# The whole script is one function, read before it runs, so editing it during a run is safe.
main() {
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}
shift
build=${FUZZ_BUILD:-tests/fuzz/build}
jobs=${FUZZ_JOBS:-1}
nicelevel=${FUZZ_NICE:-10}
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for b in "$build"/fuzz_*; do [ -x "$b" ] && targets+=("${b##*/fuzz_}"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "run.sh: no fuzz targets in $build (run make fuzz)" >&2; exit 2; }

# Longest input each target is fed: a few real files, not the 1 GiB limit.
max_len() {
    case $1 in
        formula) echo 4096 ;;
        poscar) echo 8192 ;;
        *) echo 16384 ;;
    esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Our own suppressions, whatever the caller exported (.ci/run exports those of the integration
# tests): a known third-party leak (see the file). FUZZ_LSAN_SUPP= (empty) turns it off.
export LSAN_OPTIONS=suppressions=${FUZZ_LSAN_SUPP-$PWD/tests/fuzz/lsan.supp}
export MATSCREEN_SHARE=${MATSCREEN_SHARE:-$PWD/share/matscreen}

run_one() {
    local t=$1 bin="$build/fuzz_$1" work="$build/corpus/$1" art="$build/artifacts/$1/"
    local log="$build/logs/$1.log" seeds=tests/fuzz/corpus/$1 regs=tests/data/fuzz-regressions/$1
    local dict=tests/fuzz/$1.dict
    case $t in json|jsonl) dict=tests/fuzz/json.dict ;; esac
    mkdir -p "$work" "$art" "$build/logs"
    rm -f "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*
    local args=(-max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10
                -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art")
    [ -f "$dict" ] && args+=(-dict="$dict")
    local dirs=("$work")
    [ -d "$seeds" ] && dirs+=("$seeds")
    [ -d "$regs" ] && dirs+=("$regs")
    # shellcheck disable=SC2086
    nice -n "$nicelevel" "$bin" "${args[@]}" ${FUZZ_EXTRA:-} "${dirs[@]}" >"$log" 2>&1
    local rc=$?
    local status=ok found=()
    for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
        [ -e "$f" ] || continue
        mkdir -p "$regs"
        local known="" g
        for g in "$regs"/*; do # an input already kept (a known bug not fixed yet): no copy
            if [ -f "$g" ] && cmp -s "$f" "$g"; then known=$g; break; fi
        done
        if [ -n "$known" ]; then
            found+=("$known (already kept)")
        else
            cp "$f" "$regs/"
            found+=("$regs/${f##*/}")
        fi
    done
    if [ $rc -ne 0 ] || [ ${#found[@]} -gt 0 ]; then status=FAILED; fi
    local last execs
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(sed -n "s/^stat::average_exec_per_sec: *//p" "$log" | tail -n 1)
    # Fork mode (FUZZ_EXTRA=-fork=1) prints no final stats; its status lines say "exec/s N".
    if [ -z "$execs" ] || [ "$execs" = 0 ]; then
        execs=$(sed -n 's/.* exec\/s:\{0,1\} \([0-9]*\).*/\1/p' <<<"$last")
    fi
    printf '%-8s %-6s %4ss  exec/s %-7s cov %-6s ft %-6s corp %s\n' "$t" "$status" "$seconds" \
        "${execs:-?}" "$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")" \
        "$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")" \
        "$(sed -n 's/.* corp: \([0-9/a-zA-Z]*\).*/\1/p' <<<"$last")"
    if [ "$status" = FAILED ]; then
        echo "  log: $log (exit $rc)"
        grep -m 3 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log" | sed 's/^/  /'
        local k
        for ((k = 0; k < ${#found[@]} && k < 5; k++)); do echo "  reproducer: ${found[k]}"; done
        [ ${#found[@]} -le 5 ] || echo "  ... ${#found[@]} inputs in all in $regs/"
        return 1
    fi
    return 0
}

failed=0
pids=()
for t in "${targets[@]}"; do
    if [ ! -x "$build/fuzz_$t" ]; then
        echo "run.sh: $build/fuzz_$t is missing (run make fuzz)" >&2
        failed=1
        continue
    fi
    if [ "$jobs" -le 1 ]; then
        run_one "$t" || failed=1
    else
        run_one "$t" &
        pids+=($!)
        if [ ${#pids[@]} -ge "$jobs" ]; then
            wait "${pids[0]}" || failed=1
            pids=("${pids[@]:1}")
        fi
    fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
}
main "$@"
