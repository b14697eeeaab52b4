#!/usr/bin/env bash
# Starts a remote and a local gateway from a built distribution, chained over a link on loopback, for
# ../shared/bench/peers.sh (SUT_CMD): the mixed port of the local is LOCAL_PORT; both processes are this
# script's children, so peers.sh counts both. Stops both on TERM.
#   usage: chain.sh DISTRIBUTION_DIR LOCAL_PORT REMOTE_PORT [tls]
# With "tls" the link runs over TLS 1.3 (the default), the local pinned to the fingerprint the remote's data
# directory holds; "plain" (the default here) turns TLS off on both sides, as benchmarks of the framing need.
# CHAIN_YAML, if set, is added to both sides' configuration (e.g. "limits: {streamWindowMax: 256KiB}").
set -euo pipefail
dist=$1 local_port=$2 remote_port=$3 mode=${4:-plain}
work=$(mktemp -d)
remote_tls=(--link-tls=off) local_tls=(--link-tls=off)
if [ "$mode" = tls ]; then
    fingerprint=$("$dist/bin/gateway" link fingerprint --data-dir="$work/data")
    remote_tls=()
    local_tls=(--remote-fingerprint="$fingerprint")
fi
printf 'passwordIterations: 100000\n%s\n' "${CHAIN_YAML:-}" > "$work/remote.yaml"
printf '%s\n' "${CHAIN_YAML:-}" > "$work/local.yaml"
echo 'bench-password' | "$dist/bin/gateway" user add bench --password-stdin --data-dir="$work/data" \
    --config="$work/remote.yaml" > /dev/null
"$dist/bin/gateway" --role=remote --listen=127.0.0.1:"$remote_port" --console=off --data-dir="$work/data" \
    --config="$work/remote.yaml" --allow-destination=127.0.0.1/32 "${remote_tls[@]}" &
remote=$!
GATEWAY_PASSWORD=bench-password "$dist/bin/gateway" --role=local --listen=127.0.0.1:"$local_port" \
    --console=off --remote=127.0.0.1:"$remote_port" --user=bench --data-dir="$work/local-data" --config="$work/local.yaml" "${local_tls[@]}" &
local=$!
trap 'kill -TERM $local $remote 2>/dev/null; wait; rm -rf "$work"' TERM INT EXIT
wait
