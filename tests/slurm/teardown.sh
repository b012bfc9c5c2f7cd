#!/usr/bin/env bash
# Stop what bringup.sh started, newest first, by PID.
STATE=${STATE:-/tmp/deepclust-slurm}
[ -f "$STATE/pids" ] || exit 0
tac "$STATE/pids" | while read -r name pid; do
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stopped $name $pid"
done
rm -f "$STATE/pids" /run/slurmctld.pid /run/slurmd.pid   # stale pid files break a later apt purge
