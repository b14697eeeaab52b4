#!/usr/bin/env bash
# Compares two builds of the reverse tunnel in one run, so that a shared, noisy machine affects both alike: starts
# a pair (remote + local, benchmarks/scripts/reverse.sh) from each distribution at once, then alternates downloads
# through them and prints, per build, the median throughput and the median CPU the two gateways spent per GiB.
#   usage: reverse-ab.sh OLD_DISTRIBUTION NEW_DISTRIBUTION [ROUNDS [bulk|par16]]
# The origin: nginx on 127.0.0.1:18080 serving DATA_DIR/www (peers.sh's files: 1024m.bin, 256m.bin), started here if
# nothing listens there. JAVA_HOME_B runs the second build on another JDK.
set -euo pipefail
old=$1 new=$2 rounds=${3:-8} test=${4:-bulk}
here=$(cd "$(dirname "$0")" && pwd)
data=${DATA_DIR:-${TMPDIR:-/tmp}/proxybench-data}
work=$(mktemp -d)
pids=()         # nginx, if started here, and the two pairs' scripts, each the leader of its own session
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

if ! (exec 3<>/dev/tcp/127.0.0.1/18080) 2>/dev/null; then
    [ -f "$data/www/1024m.bin" ] || { echo "no origin files in $data/www (run peers.sh once)" >&2; exit 1; }
    printf 'worker_processes 2;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log error;\nevents { worker_connections 4096; }\nhttp { access_log off; sendfile on; tcp_nopush on; keepalive_timeout 0; default_type application/octet-stream;\n  server { listen 127.0.0.1:18080; root %s/www; } }\n' \
        "$work" "$work" "$data" > "$work/nginx.conf"
    nginx -e "$work/error.log" -p "$work" -c "$work/nginx.conf" & pids+=($!)
fi
setsid "$here/reverse.sh" "$old" 18200 18210 > "$work/a.log" 2>&1 < /dev/null & pids+=($!)
JAVA_HOME=${JAVA_HOME_B:-${JAVA_HOME:-}} setsid "$here/reverse.sh" "$new" 18220 18230 > "$work/b.log" 2>&1 < /dev/null &
pids+=($!)
for log in "$work/a.log" "$work/b.log"; do
    for _ in $(seq 1 150); do grep -q "exposed origin" "$log" && break; sleep 0.2; done
    grep -q "exposed origin" "$log" || { cat "$log" >&2; exit 1; }
done

gateways() {    # PORT -> the JVMs started with it on their command line (a pair: remote and local)
    local p
    for p in $(pgrep -f relaygate.home); do
        if grep -q -- "$1" "/proc/$p/cmdline"; then echo "$p"; fi
    done
}
cpu_ticks() { local sum=0 p; for p in $1; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $sum; }
fetch() {       # PORT -> bytes fetched
    if [ "$test" = par16 ]; then
        local list=() i
        for i in $(seq 1 16); do curl -s --max-time 120 -o /dev/null "http://127.0.0.1:$1/256m.bin" & list+=($!); done
        wait "${list[@]}"; echo $((16 * 256 * 1048576))
    else
        curl -s --max-time 120 -o /dev/null "http://127.0.0.1:$1/1024m.bin"; echo $((1024 * 1048576))
    fi
}
a=$(gateways 18210 | tr '\n' ' ') b=$(gateways 18230 | tr '\n' ' ')
for _ in 1 2; do fetch 18200 > /dev/null; fetch 18220 > /dev/null; done       # warm both JITs
tick=$(getconf CLK_TCK)
for round in $(seq 1 "$rounds"); do
    for side in A B; do
        port=18200 procs=$a; [ $side = B ] && port=18220 procs=$b
        c0=$(cpu_ticks "$procs") t0=$(date +%s%N)
        bytes=$(fetch $port)
        t1=$(date +%s%N) c1=$(cpu_ticks "$procs")
        awk -v s=$side -v b="$bytes" -v t=$((t1 - t0)) -v c=$((c1 - c0)) -v k="$tick" \
            'BEGIN { printf "%s %.0f %.2f\n", s, b / (t / 1e9) / 1e6, c / k / (b / 1073741824) }'
    done
done | tee "$work/results" | awk '{ printf "round %s: %s MB/s, %s s/GiB\n", $1, $2, $3 }' >&2
for side in A B; do
    grep "^$side " "$work/results" | awk -v s=$side '{ t[NR] = $2; c[NR] = $3 } END {
        n = asort(t); asort(c); m = int((n + 1) / 2)
        printf "%s (%s): median %s MB/s, %s s/GiB of the two gateways\n", s, (s == "A" ? "old" : "new"), t[m], c[m] }' \
        | sed "s|(old)|($old)|; s|(new)|($new)|"
done
