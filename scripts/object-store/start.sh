#!/usr/bin/env bash
# Brings up a private one-replica OpenStack Swift with the S3 API (s3api + tempauth) on 127.0.0.1 for tests:
# its own rings, configs, data, logs and free ports, all inside one directory, so it never touches a system
# Swift and two runs never collide. Objects persist on disk. Installs Debian's swift packages and memcached
# when missing (apt-get, root).
#
#   scripts/object-store/start.sh DIR     start in DIR (created); writes DIR/env (source it: AWS_ENDPOINT_URL=...);
#                                         again after stop.sh: the same server, ports and data
#   scripts/object-store/stop.sh DIR      stop what this started, by the pids in DIR/*.pid
#
# S3 credentials: access key `test:tester`, secret `testing`, region us-east-1, path-style addressing.
# Exits non-zero, with the daemons stopped, if the proxy does not answer within OBJECT_STORE_START_TIMEOUT
# seconds (default 30).
set -euo pipefail

dir=${1:?usage: start.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
timeout_s=${OBJECT_STORE_START_TIMEOUT:-30}

log() { printf 'object-store-start: %s\n' "$*" >&2; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/etc" "$dir/node/d1" "$dir/log" "$dir/run"

# apt-get only when a daemon is missing; the lock keeps concurrent installs on this machine from colliding.
if ! command -v swift-proxy-server >/dev/null || ! command -v swift-object-server >/dev/null || ! command -v memcached >/dev/null; then
  log "installing swift and memcached with apt-get (log: $dir/log/apt.log)"
  if ! flock /tmp/apt.lock sh -c 'export DEBIAN_FRONTEND=noninteractive
      apt-get update -q && apt-get install -y -q --no-install-recommends swift swift-proxy swift-object swift-container swift-account memcached' \
      >"$dir/log/apt.log" 2>&1; then
    tail -n 30 "$dir/log/apt.log" >&2; log "apt-get failed"; exit 1
  fi
fi

# From here on a failure stops whatever was already started.
trap 'status=$?; [ $status -ne 0 ] && "$here/stop.sh" "$dir"; exit $status' EXIT

# Free ports for memcached, the proxy and the three storage servers. A restart in the same DIR (after stop.sh)
# reuses them, so DIR/env and every client configured from it stay valid; the rings are then kept too.
restart=false
if [ -s "$dir/ports" ]; then
  read -r mc proxy object container account <"$dir/ports"
  restart=true
else
  read -r mc proxy object container account < <(/usr/bin/python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
  echo "$mc $proxy $object $container $account" >"$dir/ports"
fi
user=$(id -un)

cat >"$dir/etc/swift.conf" <<CONF
[swift-hash]
swift_hash_path_suffix = slabchunk-tests
swift_hash_path_prefix = slabchunk-tests
[storage-policy:0]
name = gold
default = yes
CONF

# Every daemon runs as this user (else the updaters drop to user swift and cannot touch the data files), logs
# to a file of its own through stderr, and finds the rings and devices in DIR.
common() {
  cat <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
user = $user
swift_dir = $dir/etc
devices = $dir/node
mount_check = false
workers = 1
log_name = $2
log_facility = LOG_LOCAL0
log_address = $dir/run/nolog
CONF
}

# A storage server's config: KIND (object, container, account) on PORT, with EXTRA [DEFAULT] lines.
storage() {
  local kind=$1 port=$2 extra=${3:-}
  { common "$port" "$kind-server"; [ -z "$extra" ] || printf '%s\n' "$extra"; cat <<CONF
[pipeline:main]
pipeline = $kind-server
[app:$kind-server]
use = egg:swift#$kind
CONF
  } >"$dir/etc/$kind-server.conf"
}
# A PUT accepted while the container server is slow must still reach its listing.
storage object "$object" 'container_update_timeout = 30'
storage container "$container"
storage account "$account"

{ common "$proxy" proxy-server; cat <<CONF
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$mc
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
CONF
} >"$dir/etc/proxy-server.conf"

# One replica, one device, one partition power small enough to build instantly.
for ring in object:$object container:$container account:$account; do
  name=${ring%%:*} port=${ring##*:}
  $restart && [ -s "$dir/etc/$name.ring.gz" ] && continue
  (cd "$dir/etc" && swift-ring-builder "$name.builder" create 6 1 1 >/dev/null \
    && swift-ring-builder "$name.builder" add "r1z1-127.0.0.1:$port/d1" 1 >/dev/null \
    && swift-ring-builder "$name.builder" rebalance >/dev/null) || { log "could not build the $name ring"; exit 1; }
done

start() {
  local name=$1; shift
  "$@" >"$dir/log/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}
start memcached memcached -u "$user" -l 127.0.0.1 -p "$mc" -U 0
for server in object container account; do start "swift-$server-server" "swift-$server-server" "$dir/etc/$server-server.conf"; done
start swift-proxy-server swift-proxy-server "$dir/etc/proxy-server.conf"

for _ in $(seq 1 $((timeout_s * 10))); do
  if [ "$(curl -s "http://127.0.0.1:$proxy/healthcheck" 2>/dev/null)" = OK ]; then
    cat >"$dir/env" <<ENV
export AWS_ENDPOINT_URL=http://127.0.0.1:$proxy
export AWS_ACCESS_KEY_ID=test:tester
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
ENV
    log "swift with s3api on http://127.0.0.1:$proxy ($dir)"
    exit 0
  fi
  sleep 0.1
done
log "the proxy did not answer within ${timeout_s} s; logs in $dir/log"
tail -n 20 "$dir/log/"*.log >&2
exit 1
