#!/usr/bin/env bash
# Plain HTTP forwarding and SOCKS5 UDP against their peers, in one run on loopback (issue 13's aims):
#   requests/s with keep-alive through each HTTP proxy (ab -k -X, 1 KiB responses, concurrency 1 and 16):
#     the gateway vs squid and tinyproxy;
#   one 512 MiB download through the forward path (curl -x) vs a haproxy 'mode tcp' port forward;
#   datagrams/s relayed by SOCKS5 UDP ASSOCIATE (64 B and 1,400 B, UdpRelayLoad in its own process): the gateway
#     vs Dante's danted.
# usage: benchmarks/scripts/forward-udp.sh DIST [ROUNDS]   (DIST: an unpacked distribution; ROUNDS default 3)
# Prints one table; medians of ROUNDS, paths in rotating order per round. Needs nginx, squid, tinyproxy, haproxy,
# danted, ab (apache2-utils), curl.
set -euo pipefail
DIST=$(cd "$1" && pwd)
ROUNDS=${2:-3}
JAR=$(cd "$(dirname "$0")/.." && pwd)/target/benchmarks.jar
W=$(mktemp -d /tmp/forward-udp.XXXXXX)
BASE=${PORT_BASE:-18300}
ORIGIN=$BASE; GW=$((BASE + 1)); SQUID=$((BASE + 2)); TINY=$((BASE + 3)); HAP=$((BASE + 4)); DANTE=$((BASE + 5))
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() { for _ in $(seq 150); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.2; done; echo "port $1 never opened" >&2; exit 1; }

mkdir -p "$W/www"
head -c 1024 /dev/urandom > "$W/www/1k.bin"
head -c $((512 << 20)) /dev/urandom > "$W/www/512m.bin"
cat > "$W/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $W/nginx.pid; error_log $W/nginx.err error;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_timeout 65; keepalive_requests 1000000;
  default_type application/octet-stream;
  server { listen 127.0.0.1:$ORIGIN backlog=4096; root $W/www; } }
CONF
nginx -p "$W" -c "$W/nginx.conf" & PIDS+=($!)
(cd "$W" && "$DIST/bin/gateway" --role=local --listen=127.0.0.1:$GW --console=off --data-dir="$W/gw" \
    > "$W/gateway.log" 2>&1) & PIDS+=($!)
cat > "$W/squid.conf" <<CONF
http_port 127.0.0.1:$SQUID
acl lo src 127.0.0.0/8
http_access allow lo
http_access deny all
cache deny all
cache_mem 8 MB
access_log none
cache_store_log none
cache_log $W/squid-cache.log
pid_filename $W/squid.pid
coredump_dir $W
via off
forwarded_for delete
CONF
chmod 777 "$W"
squid -N -f "$W/squid.conf" & PIDS+=($!)
printf 'Port %s\nListen 127.0.0.1\nTimeout 120\nMaxClients 1024\nAllow 127.0.0.1\nLogLevel Error\nLogFile "%s"\nDisableViaHeader Yes\n%s' \
    "$TINY" "$W/tinyproxy.log" "$([ "$(id -u)" = 0 ] && printf 'User nobody\nGroup nogroup\n')" > "$W/tinyproxy.conf"
tinyproxy -d -c "$W/tinyproxy.conf" & PIDS+=($!)
printf 'global\n  maxconn 4096\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nlisten fwd\n  bind 127.0.0.1:%s\n  server origin 127.0.0.1:%s\n' \
    "$HAP" "$ORIGIN" > "$W/haproxy.cfg"
haproxy -f "$W/haproxy.cfg" & PIDS+=($!)
cat > "$W/danted.conf" <<CONF
logoutput: $W/danted.log
internal: 127.0.0.1 port = $DANTE
external: 127.0.0.1
socksmethod: none
clientmethod: none
user.privileged: $(id -un)
user.unprivileged: $( [ "$(id -u)" = 0 ] && echo nobody || id -un )
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: error }
socks pass {
  from: 127.0.0.0/8 to: 127.0.0.0/8
  command: connect udpassociate udpreply
  log: error
}
CONF
danted -f "$W/danted.conf" -p "$W/danted.pid" & PIDS+=($!)
for port in $ORIGIN $GW $SQUID $TINY $HAP $DANTE; do wait_port "$port"; done
cat "$W/www/512m.bin" > /dev/null

# warm-up: the JIT compiles the gateway's paths before anything is timed
ab -q -k -n 20000 -c 16 -X 127.0.0.1:$GW "http://127.0.0.1:$ORIGIN/1k.bin" > /dev/null
curl -s -o /dev/null -x "http://127.0.0.1:$GW" "http://127.0.0.1:$ORIGIN/512m.bin"
java -cp "$JAR" io.relaygate.benchmarks.UdpRelayLoad "127.0.0.1:$GW" 64 3 > /dev/null

declare -A R
rps() { ab -q -k -n "$3" -c "$2" -X "127.0.0.1:$1" "http://127.0.0.1:$ORIGIN/1k.bin" 2>/dev/null \
    | awk '/Requests per second/ {print $4}'; }
bulk() { curl -s -o /dev/null --max-time 120 -w '%{speed_download}' $1 "http://127.0.0.1:$2/512m.bin" \
    | awk '{printf "%.0f", $1 / 1048576}'; }
udp() { java -cp "$JAR" io.relaygate.benchmarks.UdpRelayLoad "127.0.0.1:$1" "$2" 8 | awk '{print $1}'; }

for round in $(seq "$ROUNDS"); do
    order=(gateway squid tinyproxy); [ $((round % 2)) = 0 ] && order=(tinyproxy squid gateway)
    for p in "${order[@]}"; do
        case $p in gateway) port=$GW ;; squid) port=$SQUID ;; tinyproxy) port=$TINY ;; esac
        R[$p,c1]+="$(rps $port 1 20000) "
        R[$p,c16]+="$(rps $port 16 100000) "
        R[$p,bulk]+="$(bulk "-x http://127.0.0.1:$port" "$ORIGIN") "
    done
    R[haproxy,bulk]+="$(bulk "" "$HAP") "
    for size in 64 1400; do
        R[gateway,udp$size]+="$(udp $GW $size) "
        R[dante,udp$size]+="$(udp $DANTE $size) "
    done
done

median() { tr ' ' '\n' | { grep -v '^$' || true; } | sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR + 1) / 2)] : "-")}'; }
echo "| path | keep-alive req/s, c=1 | keep-alive req/s, c=16 | 512 MiB download MB/s | UDP echoes/s, 64 B | UDP echoes/s, 1,400 B |"
echo "| --- | --- | --- | --- | --- | --- |"
for p in gateway squid tinyproxy haproxy dante; do
    row="| $p"
    for k in c1 c16 bulk udp64 udp1400; do
        row+=" | $(echo "${R[$p,$k]:-}" | median)"
    done
    echo "$row |"
done
echo
echo "rounds: $ROUNDS (medians); all of ${R[gateway,c16]:-} / ${R[squid,c16]:-} / ${R[tinyproxy,c16]:-} (c=16)"
