#!/usr/bin/env bash
# A throw-away single-node SLURM cluster with one (fake) GPU GRES, for `make test-slurm`.
#
#   tests/slurm/cluster.sh up   STATE_DIR   install slurm-wlm + munge from apt if missing,
#                                           write /etc/slurm/{slurm.conf,gres.conf}, start
#                                           munged, slurmctld, slurmd; wait until the node
#                                           is idle
#   tests/slurm/cluster.sh down STATE_DIR   stop the daemons this script started, by PID
#
# Reads: nothing but the host (nproc, `slurmd -C`). Writes: /etc/slurm/slurm.conf and
# gres.conf (the compiled-in path: the jobstep plugin strips SLURM_CONF before its inner
# srun, so another path breaks jobs), and under STATE_DIR the controller state, spool,
# daemon logs and pid files. `up` is idempotent (daemons already started from STATE_DIR are
# kept); `down` only stops PIDs recorded in STATE_DIR, and removes /etc/slurm files only if
# this script wrote them. Needs root. Partitions `cpu` and `gpu` (both on this node) match
# those of `--profile slurm` (profiles/slurm/partitions.yaml; `slurm` at the top of the
# checkout links to profiles/slurm). Used by tests/slurm/run.sh; see README, "Running on a
# cluster".
set -euo pipefail

MARKER="# written by xai-repro tests/slurm/cluster.sh"
WAIT_S=${SLURM_TEST_WAIT_S:-60}

log() { echo "[cluster.sh] $*" >&2; }
die() { log "error: $*"; exit 1; }

alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "timed out after ${WAIT_S}s waiting for $what"
        sleep 0.5
    done
}

install_packages() {
    command -v slurmctld >/dev/null && command -v munged >/dev/null && return
    command -v apt-get >/dev/null || die "slurm-wlm is not installed and there is no apt-get"
    log "installing slurm-wlm and munge from apt"
    timeout 600 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
        slurm-wlm munge >/dev/null
}

write_config() {
    local state=$1 host mem
    host=$(hostname -s)
    # 85 % of the memory slurmd sees, so that the node is never drained for low memory.
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    mem=$((mem * 85 / 100))
    if [[ -e /etc/slurm/slurm.conf ]] && ! grep -qF "$MARKER" /etc/slurm/slurm.conf; then
        die "/etc/slurm/slurm.conf exists and was not written by this script; not touching it"
    fi
    mkdir -p /etc/slurm "$state/ctld" "$state/spool"
    cat >/etc/slurm/slurm.conf <<EOF
$MARKER (state: $state)
ClusterName=xairepro-test
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
SlurmUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
GresTypes=gpu
MinJobAge=3600
ReturnToService=2
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
    # A GPU GRES without File= is dropped and the node drained as INVAL.
    printf '%s\nName=gpu File=/dev/null\n' "$MARKER" >/etc/slurm/gres.conf
}

start_munge() {
    local state=$1
    if [[ -S /run/munge/munge.socket.2 ]] && munge -n </dev/null >/dev/null 2>&1; then
        log "munged already answers; using it"
        return
    fi
    [[ -s /etc/munge/munge.key ]] || mungekey -c -k /etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    install -d -o munge -g munge -m 0755 /run/munge
    runuser -u munge -- /usr/sbin/munged
    wait_for "$WAIT_S" munged test -s /run/munge/munged.pid
    cp /run/munge/munged.pid "$state/munged.pid"
    wait_for "$WAIT_S" "munge to answer" bash -c 'munge -n </dev/null | unmunge'
}

node_idle() { sinfo -h -N -o %t | grep -qx idle; }

up() {
    local state=$1
    [[ $EUID -eq 0 ]] || die "needs root (apt, /etc/slurm, daemons)"
    install_packages
    mkdir -p "$state"
    if alive "$state/slurmctld.pid" && alive "$state/slurmd.pid"; then
        log "already up (state $state)"
    else
        if scontrol ping >/dev/null 2>&1; then
            die "a SLURM controller already answers (another cluster); stop it first"
        fi
        write_config "$state"
        start_munge "$state"
        alive "$state/slurmctld.pid" || /usr/sbin/slurmctld
        wait_for "$WAIT_S" slurmctld scontrol ping
        alive "$state/slurmd.pid" || /usr/sbin/slurmd
    fi
    wait_for "$WAIT_S" "the node to be idle" node_idle
    log "up: $(sinfo -h -o '%P %t %G' | tr '\n' ';')"
}

down() {
    local state=$1 name pidfile pid
    # Jobs of a failed run would otherwise outlive their slurmd.
    if alive "$state/slurmctld.pid"; then timeout 30 scancel --full --user=root 2>/dev/null || true; fi
    for name in slurmd slurmctld munged; do
        pidfile=$state/$name.pid
        alive "$pidfile" || continue
        pid=$(cat "$pidfile")
        kill "$pid"
        local deadline=$((SECONDS + 15))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        log "stopped $name (pid $pid)"
    done
    rm -f "$state"/*.pid
    local conf
    for conf in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
        [[ -e $conf ]] && grep -qF "$MARKER" "$conf" && rm -f "$conf"
    done
    return 0
}

[[ $# -eq 2 ]] || die "usage: $0 up|down STATE_DIR"
case $1 in
    up) up "$2" ;;
    down) down "$2" ;;
    *) die "usage: $0 up|down STATE_DIR" ;;
esac
