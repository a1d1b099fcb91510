#!/usr/bin/env bash
# L7: HTTP/1.1 keep-alive requests (1 KiB answers from an nginx origin)
# through one and two remora-proxy hops (the sidecar pair: client -> outbound
# sidecar -> inbound sidecar -> app), against nginx and HAProxy configured
# the same way and direct, in the same run, one worker each. Uses the peer
# harness (../shared/bench) with bench/start-ours.sh as the proxy under test.
#   bench/http.sh [REPS] [OUTDIR]
# Env: SCENARIOS, MODES (sat c1 paced burst), DURATION, LAYOUT (server|split),
#      REMORA_PROXY (the binary; default build/release).
# Writes OUTDIR/http.tsv, OUTDIR/summary.md, OUTDIR/env.txt, OUTDIR/idle_rss.txt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
REPS=${1:-3}
OUT=${2:-/tmp/remora-bench/l7}
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
mkdir -p "$OUT"
: > "$OUT/http.tsv"
export PROXY_UNDER_TEST="$HERE/start-ours.sh {dir} {listen} {upstream}"
: "${SCENARIOS:=direct nginx1 haproxy1 ours1 nginx2 haproxy2 ours2}"
export SCENARIOS

steal() { awk '/^cpu / {print $2+$3+$4+$5+$6+$7+$8, $9}' /proc/stat; }
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) online cores"
  echo "nginx: $(nginx -v 2>&1); haproxy: $(haproxy -v 2>&1 | head -1)"
  echo "remora-proxy: ${REMORA_PROXY:-$ROOT/build/release/apps/remora-proxy/remora-proxy}"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "reps: $REPS scenarios: $SCENARIOS modes: ${MODES:-sat c1 paced burst} duration: ${DURATION:-10}s"
} > "$OUT/env.txt"
read -r tot0 st0 <<<"$(steal)"
for r in $(seq 1 "$REPS"); do
  LAYOUT=${LAYOUT:-server} "$SHARED/http_bench.sh" "$r" "$OUT/http.tsv"
done
read -r tot1 st1 <<<"$(steal)"
{
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  awk -v a=$((tot1 - tot0)) -v b=$((st1 - st0)) \
    'BEGIN {printf "hypervisor steal during the run: %.2f%% of CPU time\n", (a + b) ? 100 * b / (a + b) : 0}'
} >> "$OUT/env.txt"
"$SHARED/summarize.sh" "$OUT" > "$OUT/summary.md"

# Idle RSS of the HTTP configuration, once serving.
tmp=$(mktemp -d)
"$HERE/start-ours.sh" "$tmp" 18097 18096 &
pid=$!
for _ in $(seq 1 50); do
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = remora-proxy ] && ss -Hltn "sport = :18097" | grep -q . && break
  sleep 0.1
done
sleep 0.5
awk '/^VmRSS:/ {print "remora-proxy (HTTP, 1 worker) idle RSS: " $2 " kB"}' "/proc/$pid/status" | tee "$OUT/idle_rss.txt"
kill "$pid"; wait "$pid" 2>/dev/null || true
rm -rf "$tmp"
cat "$OUT/env.txt" "$OUT/summary.md"
