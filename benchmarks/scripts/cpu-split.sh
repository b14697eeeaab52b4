#!/usr/bin/env bash
# Where the CPU of a download through a port forward goes: runs 16 parallel 256 MiB downloads (peers.sh's par16)
# through PORT and prints the throughput, the CPU the forwarder's processes (PIDS) spent per GiB, and the CPU the rest
# of the machine spent per GiB (the 16 curls, nginx, interrupts; anything else running counts there too).
#   usage: cpu-split.sh PORT PID...
# The origin: nginx on 127.0.0.1:18080 serving 256m.bin (as reverse-ab.sh starts it). For ssh -R, PIDS are the ssh
# client and the sshd session child (not the listening sshd).
set -euo pipefail
port=$1; shift
pids="$*"
tick=$(getconf CLK_TCK)
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }   # user nice system irq softirq steal
forwarder() { local sum=0 p; for p in $pids; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $sum; }
b0=$(busy) f0=$(forwarder) t0=$(date +%s%N)
list=()
for _ in $(seq 1 16); do curl -s --max-time 120 -o /dev/null "http://127.0.0.1:$port/256m.bin" & list+=($!); done
wait "${list[@]}"
t1=$(date +%s%N) b1=$(busy) f1=$(forwarder)
awk -v b=$((b1 - b0)) -v f=$((f1 - f0)) -v t=$((t1 - t0)) -v k="$tick" -v n="$(nproc)" 'BEGIN { gib = 4
    printf "%.0f MB/s, forwarder %.2f s/GiB, rest of the machine %.2f s/GiB, idle %.0f %%\n",
        gib * 1073741824 / (t / 1e9) / 1e6, f / k / gib, (b - f) / k / gib, 100 - b / k / (t / 1e9) / n * 100 }'
