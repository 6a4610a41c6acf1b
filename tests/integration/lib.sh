# Preamble shared by the integration scripts of this folder; each sources it first, after `set -u`
# (and after its own `cd` if it runs from the checkout):
#     . "$(dirname "$0")/lib.sh" NAME
# It sets
#   MS_ROOT    the checkout (two levels above this file)
#   MATSCREEN  the binary (default MS_ROOT/matscreen); MPIEXEC (default mpiexec);
#   DATA       the shared data (MS_SHARED_DATA, default MS_ROOT/../shared/data)
#   tmp        a new temporary directory, removed at exit unless KEEP_TMP is set (then its path is
#              printed)
#   pass=0 fail=0
# and exports MATSCREEN_SHARE (default MS_ROOT/share/matscreen), OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM)=1,
# OMP_NUM_THREADS=1 and OPENBLAS_NUM_THREADS=1. Functions:
#   check NAME COMMAND...   runs COMMAND; counts a pass, or a failure with "FAIL: NAME" on stderr
#   check_eval NAME CODE    the same for a shell condition given as a string (eval), which may
#                           test the caller's $?
#   contains FILE TEXT      FILE holds the fixed string TEXT
#   completed RC DIR        a screen or run that exited RC finished: RC is 0, or 1 with the failed
#                           records listed in DIR/errors.csv (the exit-status rule: 1 = some
#                           records failed, the rest is done)
#   needs_shared            when the shared data folder is absent (a user's clone), prints one line
#                           "NAME: skipped: ..." and exits 0; call it right after sourcing lib.sh in
#                           a script that needs ../shared
#   finish                  prints the closing line "NAME: N passed, M failed" and returns 1 when
#                           something failed: call it last, so that it gives the exit status.
# Environment read: MATSCREEN, MPIEXEC, MS_SHARED_DATA, MATSCREEN_SHARE, KEEP_TMP.

MS_NAME=$1
MS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MATSCREEN=${MATSCREEN:-$MS_ROOT/matscreen}
MPIEXEC=${MPIEXEC:-mpiexec}
DATA=${MS_SHARED_DATA:-$MS_ROOT/../shared/data}
export MATSCREEN_SHARE=${MATSCREEN_SHARE:-$MS_ROOT/share/matscreen}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
pass=0
fail=0
tmp=$(mktemp -d)
if [ -n "${KEEP_TMP:-}" ]; then echo "$MS_NAME: keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi

check() { # check NAME COMMAND...
    local name=$1
    shift
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name" >&2; fi
}
check_eval() { # check_eval NAME CODE: CODE is evaluated first, so it may test $? of the caller
    if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1" >&2; fi
}
contains() { grep -qF -- "$2" "$1"; }
completed() {
    [ "$1" -eq 0 ] && return 0
    [ "$1" -eq 1 ] && [ -f "$2/errors.csv" ] && [ "$(wc -l <"$2/errors.csv")" -gt 1 ]
}
needs_shared() {
    [ -d "$DATA" ] && return 0
    echo "$MS_NAME: skipped: needs the shared data folder $DATA (MS_SHARED_DATA), which is absent"
    exit 0
}
finish() {
    echo "$MS_NAME: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
