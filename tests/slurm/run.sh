#!/usr/bin/env bash
# `make test-slurm`: bring up a single-node SLURM cluster (tests/slurm/cluster.sh), run the
# SLURM tests (pytest -m slurm tests/slurm: the demo chain through `snakemake --profile
# slurm`, typed so from the repository root) against it, and always tear it down (trap).
# Reads: the checkout and .venv. Writes: /etc/slurm/*.conf (removed again) and a state dir
# under $TMPDIR (kept, with the daemon logs, when a test fails). Needs root; outside CI a
# non-root user gets a clear SKIPPED message, in CI (CI=true) that is an error.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ $EUID -ne 0 ]]; then
    if [[ ${CI:-} == true ]]; then
        echo "test-slurm: error: needs root (apt, /etc/slurm, daemons) and CI=true" >&2
        exit 1
    fi
    echo "test-slurm: SKIPPED: needs root to install and start SLURM (run as root or in CI)" >&2
    exit 0
fi

state=$(mktemp -d "${TMPDIR:-/tmp}/xairepro-slurm.XXXXXX")
status=1
tests_pid=
# On any exit: SIGKILL the test session's whole process group first (the SLURM executor
# plugin ignores SIGTERM), then stop the cluster.
stop_tests() { if [[ -n $tests_pid ]]; then kill -KILL -- "-$tests_pid" 2>/dev/null || true; fi; }
trap 'stop_tests; tests/slurm/cluster.sh down "$state"; ((status != 0)) || rm -rf "$state"' EXIT
trap 'exit 143' TERM INT HUP

tests/slurm/cluster.sh up "$state"
XAIREPRO_SLURM_STATE=$state setsid .venv/bin/python -m pytest -m slurm --durations=0 tests/slurm "$@" &
tests_pid=$!
wait "$tests_pid" && status=0 || status=$?
tests_pid=
if ((status != 0)); then
    echo "test-slurm: failed; daemon logs: $state/slurmctld.log $state/slurmd.log" >&2
    tail -n 20 "$state/slurmctld.log" "$state/slurmd.log" >&2 || true
fi
exit "$status"
