#!/bin/bash
# Exact GP and PCA on ScaLAPACK with 1, 2 and 4 ranks: each run is checked against the serial
# LAPACK path by the driver (tests/integration/gp_mpi.c), and the runs are compared with each
# other here to a relative 1e-10. Closing line: "gp_mpi: N passed, M failed".
#
# Environment: MPIEXEC (default mpiexec), BUILD (the build directory holding libmatscreen.a,
# default build), MS_SHARED_DATA (default ../shared/data).
set -u
. "$(dirname "$0")/lib.sh" gp_mpi
needs_shared
build=${BUILD:-$MS_ROOT/build}
case "$build" in /*) ;; *) build=$MS_ROOT/$build ;; esac

# The Makefile builds the driver with the flags of the rest of the build (sanitizers included).
driver="$build/tests/integration/gp_mpi"
if [ ! -x "$driver" ]; then
    echo "gp_mpi: $driver missing (make check-integration builds it)"
    echo "gp_mpi: 0 passed, 1 failed"
    exit 1
fi

for np in 1 2 4; do
    if $MPIEXEC --oversubscribe -n $np "$driver" "$DATA" "$tmp/out$np.txt" >"$tmp/log$np.txt" 2>&1; then
        pass=$((pass + 1))
        echo "ok   $np ranks: driver checks"
    else
        fail=$((fail + 1))
        echo "FAIL $np ranks: driver checks"
    fi
    sed 's/^/    /' "$tmp/log$np.txt"
done

# Cross-rank comparison: every value of the 2- and 4-rank runs against the 1-rank run.
compare() {
    # $1 $2: files, $3: tag pattern, $4: relative tolerance
    awk -v pat="$3" -v tol="$4" '
        NR == FNR { if ($1 ~ pat) ref[$1 " " $2] = $3; next }
        $1 ~ pat {
            k = $1 " " $2; if (!(k in ref)) { miss++; next }
            a = ref[k] + 0; b = $3 + 0; e = a - b; if (e < 0) e = -e
            s = (a < 0 ? -a : a); if (s < 1e-10) s = 1e-10
            if (e / s > worst) worst = e / s
            n++
        }
        END { printf "%d %g %d\n", n, worst + 0, miss + 0 }' "$1" "$2"
}
for np in 2 4; do
    for spec in "^(mean|var|lml)[01]$:1e-10:exact GP fixed hyperparameters" \
                "^(theta|optmean|optvar)$:1e-8:exact GP optimised hyperparameters" \
                "^pcavar$:1e-10:PCA explained variance" \
                "^pcacomp$:1e-8:PCA components"; do
        pat=${spec%%:*}; rest=${spec#*:}; tol=${rest%%:*}; what=${rest#*:}
        if [ -f "$tmp/out1.txt" ] && [ -f "$tmp/out$np.txt" ]; then
            read -r n worst miss < <(compare "$tmp/out1.txt" "$tmp/out$np.txt" "$pat" "$tol")
            ok=$(awk -v w="$worst" -v t="$tol" -v n="$n" -v m="$miss" 'BEGIN { print (n > 0 && m == 0 && w <= t) }')
        else
            n=0; worst=nan; ok=0
        fi
        if [ "$ok" = 1 ]; then
            pass=$((pass + 1)); echo "ok   $np vs 1 ranks: $what ($n values, max rel. diff $worst <= $tol)"
        else
            fail=$((fail + 1)); echo "FAIL $np vs 1 ranks: $what ($n values, max rel. diff $worst > $tol)"
        fi
    done
done
finish
