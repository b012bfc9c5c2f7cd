#!/usr/bin/env bash
# A real single-node SLURM for the workflow's SLURM test (Debian 12, root, no systemd):
# munge, slurmctld and slurmd on localhost, no accounting, with $NGPU fake GPUs (character
# devices cloned from /dev/null, declared as gres/gpu) so that `--gpus=1` sets
# CUDA_VISIBLE_DEVICES. PIDs go to $STATE/pids; teardown.sh stops them.
set -euo pipefail
STATE=${STATE:-/tmp/deepclust-slurm}
NGPU=${NGPU:-2}
mkdir -p "$STATE"
: > "$STATE/pids"
# another SLURM on this machine holds the ports and /run pid files: never take it over
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
    echo "a slurmctld or slurmd is already running here (pids: $(pgrep -d ' ' -x 'slurmctld|slurmd')); stop it first" >&2
    exit 3
fi

export DEBIAN_FRONTEND=noninteractive
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

# munge: Debian's postinst creates the key; daemons need their runtime folders
[ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
chmod 0755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do [ -S /run/munge/munge.socket.2 ] && break; sleep 0.1; done
    echo "munged $(cat /run/munge/munged.pid)" >> "$STATE/pids"
fi
munge -n | unmunge >/dev/null

# a fresh controller state: a node drained by an earlier attempt would stay drained
rm -rf /var/spool/slurmctld/* /var/spool/slurmd/*
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
chown slurm:slurm /var/spool/slurmctld /var/log/slurm
# the machine's own SLURM config, put back by teardown.sh: a config left behind whose controller
# is gone makes every scontrol (and so every snakemake start) wait ~9 s for it
mkdir -p "$STATE/etc"
for conf in slurm.conf gres.conf; do
    [ -e "$STATE/etc/$conf" ] || [ -e "$STATE/etc/$conf.absent" ] && continue  # an earlier bring-up's
    if [ -e "/etc/slurm/$conf" ]; then cp -p "/etc/slurm/$conf" "$STATE/etc/$conf"; else : > "$STATE/etc/$conf.absent"; fi
done
: > /etc/slurm/gres.conf
GRES_TYPES=""
GRES_NODE=""
if [ "$NGPU" -gt 0 ]; then
    # gres/gpu drops GPUs without File=, and File= must be a device node
    for i in $(seq 0 $((NGPU - 1))); do
        [ -c "$STATE/fakegpu$i" ] || { rm -f "$STATE/fakegpu$i"; mknod -m 666 "$STATE/fakegpu$i" c 1 3; }
    done
    echo "NodeName=localhost Name=gpu File=$STATE/fakegpu[0-$((NGPU - 1))]" > /etc/slurm/gres.conf
    GRES_TYPES="GresTypes=gpu"
    GRES_NODE="Gres=gpu:$NGPU"
fi
# MinJobAge >= 3x the executor's first status check (squeue mode); DefMemPerCPU so that a job
# without --mem does not take the whole node
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=deepclust-test
SlurmctldHost=localhost
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
MinJobAge=600
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
$GRES_TYPES
NodeName=localhost CPUs=$(nproc) RealMemory=16000 $GRES_NODE State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
echo "slurmctld $(cat /run/slurmctld.pid)" >> "$STATE/pids"
slurmd -N localhost   # the node is "localhost", whatever the machine's hostname
for _ in $(seq 100); do [ -s /run/slurmd.pid ] && break; sleep 0.1; done
echo "slurmd $(cat /run/slurmd.pid)" >> "$STATE/pids"
state=""
for _ in $(seq 300); do
    state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    case "$state" in drain*|drng*) scontrol update nodename=localhost state=resume 2>/dev/null || true ;; esac
    sleep 0.1
done
[ "$state" = idle ] || { scontrol show node localhost; exit 1; }
echo "slurm up: node localhost idle, $NGPU fake GPU(s)"
