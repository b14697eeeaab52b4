#!/usr/bin/env bash
# Starts a remote and a local gateway from a built distribution, chained over a link on loopback, for
# ../shared/bench/peers.sh (SUT_CMD): the mixed port of the local is LOCAL_PORT; both processes are this
# script's children, so peers.sh counts both. Stops both on TERM.
#   usage: chain.sh DISTRIBUTION_DIR LOCAL_PORT REMOTE_PORT
set -euo pipefail
dist=$1 local_port=$2 remote_port=$3
work=$(mktemp -d)
printf 'passwordIterations: 100000\n' > "$work/remote.yaml"
echo 'bench-password' | "$dist/bin/gateway" user add bench --password-stdin --data-dir="$work/data" \
    --config="$work/remote.yaml" > /dev/null
"$dist/bin/gateway" --role=remote --listen=127.0.0.1:"$remote_port" --console=off --data-dir="$work/data" \
    --config="$work/remote.yaml" --allow-destination=127.0.0.1/32 &
remote=$!
GATEWAY_PASSWORD=bench-password "$dist/bin/gateway" --role=local --listen=127.0.0.1:"$local_port" \
    --console=off --remote=127.0.0.1:"$remote_port" --user=bench --data-dir="$work/local-data" &
local=$!
trap 'kill -TERM $local $remote 2>/dev/null; wait; rm -rf "$work"' TERM INT EXIT
wait
