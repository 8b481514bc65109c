#!/usr/bin/env bash
# Stops the cluster scripts/cluster/start.sh started in DIR: cancels its jobs (a job step outlives slurmd
# otherwise), then TERMs the daemons by the pids it recorded, KILL after 10 s. Safe to run twice and on a
# half-started cluster.
set -uo pipefail

dir=${1:?usage: stop.sh DIR}

# Running: the recorded pid is still that daemon (not reused by another program) and not a zombie
# (PID 1 in a container may never reap it). Read from /proc: slim images have no ps.
running() {
  local stat comm rest
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  comm=${stat#*(}; comm=${comm%)*}
  rest=${stat##*) }
  [[ $comm == "$2" && ${rest%% *} != Z ]]
}
alive() { [ -s "$dir/$1.pid" ] && running "$(cat "$dir/$1.pid")" "$1"; }

# Every job of this private cluster is ours; wait for their processes to go before stopping slurmd.
if alive slurmctld && [ -f "$dir/slurm.conf" ]; then
  export SLURM_CONF=$dir/slurm.conf
  if [ -n "$(squeue -h -o %i 2>/dev/null)" ]; then
    scancel --quiet --full --user=root 2>/dev/null
    for _ in $(seq 1 100); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
fi

# One at a time, munged last: the SLURM daemons talk to it while shutting down.
stop() {
  alive "$1" || { rm -f "$dir/$1.pid"; return; }
  local pid
  pid=$(cat "$dir/$1.pid")
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 100); do
    running "$pid" "$1" || break
    sleep 0.1
  done
  running "$pid" "$1" && kill -KILL "$pid" 2>/dev/null
  rm -f "$dir/$1.pid"
}
stop slurmd
stop slurmctld
stop munged
exit 0
