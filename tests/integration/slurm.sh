#!/usr/bin/env bash
# The Slurm example: syntax (bash -n), shellcheck when installed (Debian: apt-get install
# shellcheck), no empty-array expansion that breaks `set -u` on bash < 4.4, and a real run of the
# batch script with a stand-in srun (a first run, then a requeued one with SLURM_RESTART_COUNT=1,
# which takes the --resume path under set -u): the state store lands on the persistent STATE path
# and the script exits with matscreen's status. Repository data only.
# Exit status: 0 all passed, 1 otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh slurm

sb=examples/slurm/nightly-screen.sbatch
check "bash -n $sb" bash -n "$sb"
check "bash -n examples/quickstart.sh" bash -n examples/quickstart.sh
if command -v shellcheck >/dev/null; then
    check "shellcheck $sb and examples/quickstart.sh" shellcheck "$sb" examples/quickstart.sh
else
    echo "slurm: shellcheck skipped: not installed (apt-get install shellcheck)"
fi
check "no \"\${array[@]}\" expansion (unbound under set -u before bash 4.4)" \
    test "$(grep -c '\[@\]' "$sb")" -eq 0
check "the state store is not on scratch by default" test "$(grep -c 'STATE=.*scratch' "$sb")" -eq 0

# a stand-in srun: runs the command once (one rank), dropping srun's own options
mkdir -p "$tmp/bin" "$tmp/home"
cat >"$tmp/bin/srun" <<'SRUN'
#!/bin/bash
while [ "${1#--}" != "$1" ]; do shift; done
exec "$@"
SRUN
chmod +x "$tmp/bin/srun"
sed "s|../examples/structures|$MS_ROOT/examples/structures|; s|../runs/examples|$tmp/out|" \
    workflows/examples.xml >"$tmp/nightly.xml"
run_job() { # run_job RESTART_COUNT LOG
    PATH="$tmp/bin:$PATH" HOME="$tmp/home" WORKFLOW="$tmp/nightly.xml" MATSCREEN="$MATSCREEN" \
        SLURM_RESTART_COUNT=$1 SLURM_JOB_ID=42 bash "$sb" >"$2" 2>&1
}
run_job 0 "$tmp/night1.log"
check "night 1: exit 0" test $? -eq 0
check "night 1: state store on the persistent path" test -s "$tmp/home/matscreen-state/nightly.db"
check "night 1: report written" test -s "$tmp/out/report.html"
check "night 1: the log has the summary line" grep -q "^matscreen run: 10 records, 0 failed" "$tmp/night1.log"
run_job 1 "$tmp/night2.log"
check "requeued run (set -u, --resume path): exit 0" test $? -eq 0
check "requeued run: says it resumes" contains "$tmp/night2.log" "requeued (restart 1): resuming"
check "requeued run: the report is there" test -s "$tmp/out/report.html"
finish
