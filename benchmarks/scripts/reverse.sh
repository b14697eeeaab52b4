#!/usr/bin/env bash
# Starts a remote and a local gateway from a built distribution for ../shared/bench/peers.sh's reverse-tunnel path:
# the local exposes TARGET (the harness's origin, 127.0.0.1:18080 by default) on public port PUBLIC_PORT of the
# remote, over a TLS 1.3 link on LINK_PORT. Both processes are this script's children; TERM stops both.
#   usage: reverse.sh DISTRIBUTION_DIR PUBLIC_PORT LINK_PORT [TARGET]
# then: peers.sh ... gw-reverse=tcp://127.0.0.1:PUBLIC_PORT
set -euo pipefail
dist=$1 public_port=$2 link_port=$3 target=${4:-127.0.0.1:18080}
work=$(mktemp -d)
fingerprint=$("$dist/bin/gateway" link fingerprint --data-dir="$work/data")
printf 'role: remote\npasswordIterations: 100000\nreverse:\n  bind: 127.0.0.1\n  ports: %s\n' "$public_port" \
    > "$work/remote.yaml"
echo 'bench-password' | "$dist/bin/gateway" user add bench --password-stdin --expose-ports=1 \
    --data-dir="$work/data" --config="$work/remote.yaml" > /dev/null
"$dist/bin/gateway" --role=remote --listen=127.0.0.1:"$link_port" --console=off --data-dir="$work/data" \
    --config="$work/remote.yaml" &
remote=$!
GATEWAY_PASSWORD=bench-password "$dist/bin/gateway" --role=local --listen=127.0.0.1:0 --console=off \
    --remote=127.0.0.1:"$link_port" --user=bench --data-dir="$work/local-data" \
    --remote-fingerprint="$fingerprint" --expose=origin="$target@$public_port" &
local=$!
trap 'kill -TERM $local $remote 2>/dev/null; wait; rm -rf "$work"' TERM INT EXIT
wait
