#!/usr/bin/env bash
# Stop what bringup.sh started, newest first, by PID.
STATE=${STATE:-/tmp/deepclust-slurm}
# the machine's own SLURM config back (bringup.sh kept it): none, if it had none
restore_config() {
    for conf in slurm.conf gres.conf; do
        if [ -e "$STATE/etc/$conf" ]; then mv -f "$STATE/etc/$conf" "/etc/slurm/$conf"
        elif [ -e "$STATE/etc/$conf.absent" ]; then rm -f "/etc/slurm/$conf" "$STATE/etc/$conf.absent"; fi
    done
}
[ -f "$STATE/pids" ] || { restore_config; exit 0; }
tac "$STATE/pids" | while read -r name pid; do
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stopped $name $pid"
done
rm -f "$STATE/pids" /run/slurmctld.pid /run/slurmd.pid   # stale pid files break a later apt purge
restore_config
