#!/usr/bin/env bash
# Stops what scripts/object-store/start.sh started in DIR, by the pids it recorded: the proxy first (a PUT it
# accepted while a storage server is gone could miss its listing), then the storage servers, memcached last.
# TERM, KILL after 10 s. Safe to run twice and on a half-started store.
set -uo pipefail

dir=${1:?usage: stop.sh DIR}

# Running: the recorded pid is alive and not a zombie (PID 1 in a container may never reap it). From /proc:
# slim images have no ps.
running() {
  local stat rest
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  rest=${stat##*) }
  [[ ${rest%% *} != Z ]]
}

stop() {
  [ -s "$dir/$1.pid" ] || return 0
  local pid
  pid=$(cat "$dir/$1.pid")
  if running "$pid"; then
    # Swift servers fork workers into their own process group: TERM the group, then the leader.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
      running "$pid" || break
      sleep 0.1
    done
    running "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$dir/$1.pid"
}

for name in swift-proxy-server swift-object-server swift-container-server swift-account-server memcached; do stop "$name"; done
exit 0
