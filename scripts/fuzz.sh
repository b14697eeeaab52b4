#!/usr/bin/env bash
# Runs every Jazzer fuzz target for its maxExecutions (1,000,000 inputs) or until a finding, one target per Maven run
# (Jazzer fuzzes a single @FuzzTest per run). A finding is written to the target's inputs directory under
# src/test/resources/, where `mvn verify` replays it from then on. Usage: scripts/fuzz.sh [module#Class#method ...]
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(
        gateway-core#WireFuzzTest#frames
        gateway-core#WireFuzzTest#datagramRecords
        gateway-core#WireFuzzTest#destinations
        gateway-core#ProxyPreambleFuzzTest#headers
        plugins/socks5#Socks5FuzzTest#handshake
        plugins/socks5#Socks5FuzzTest#udpHeader
        plugins/http-connect#HttpFuzzTest#requestHead
        plugins/http-connect#HttpFuzzTest#forwardTarget
        plugins/http-connect#HttpFuzzTest#chunked
        console-web#ConsoleJsonFuzzTest#bodies
    )
fi

mvn -B -q install -DskipTests
mkdir -p target
for target in "${targets[@]}"; do
    module=${target%%#*}
    test=${target#*#}
    log="target/fuzz-${test//#/-}.log"
    echo "fuzzing ${test} (${module}) ..."
    if (cd "$module" && JAZZER_FUZZ=1 mvn -B test -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false) > "$log" 2>&1; then
        grep -E '^Done [0-9]+ runs' "$log" | tail -1 | sed "s/^/  ${test}: /"
    else
        echo "  ${test}: FAILED, see $log (a finding is in ${module}/src/test/resources/)"
        exit 1
    fi
done
