#!/usr/bin/env bash
# Remora's benchmarks against nginx and HAProxy, in one run, on loopback.
#   bench/run.sh [REPS] [OUTDIR]
# Builds the release binaries (scripts/setup.sh installs the peers), then:
#  - L4 throughput (iperf3, one stream): direct, HAProxy (copy and splice) one/two hops, ours one/two hops
#  - L4 connection rate (wrk, one request per connection): direct, HAProxy, nginx, ours
#  - idle RSS of one remora-proxy worker
#  - L7 HTTP/1.1 keep-alive, one and two hops (bench/http.sh)
# Results: OUTDIR/summary.md (the peer harness's table), OUTDIR/conn.tsv, OUTDIR/idle_rss.txt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
REPS=${1:-3}
OUT=${2:-/tmp/remora-bench}
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
mkdir -p "$OUT"
# BENCH_NO_BUILD=1 measures the binaries already in build/release as they are.
[ "${BENCH_NO_BUILD:-0}" = 1 ] || "$ROOT/scripts/setup.sh" release >/dev/null

echo "== L4 throughput (iperf3)"
: > "$OUT/tcp.tsv"
for r in $(seq 1 "$REPS"); do
  PROXY_UNDER_TEST_TCP="$HERE/start-ours-tcp.sh {dir} {listen} {upstream}" LAYOUT=server \
  TCP_SCENARIOS="${TCP_SCENARIOS:-direct haproxy1 splice1 ours1 haproxy2 splice2 ours2}" \
    "$SHARED/tcp_bench.sh" "$r" "$OUT/tcp.tsv"
done
"$SHARED/summarize.sh" "$OUT" > "$OUT/summary.md" 2>/dev/null || true
cat "$OUT/summary.md"

echo "== L4 connection rate (wrk, Connection: close)"
: > "$OUT/conn.tsv"
for r in $(seq 1 "$REPS"); do
  SHARED_BENCH="$SHARED" "$HERE/conn_rate.sh" "$r" "$OUT/conn.tsv"
done
awk -F'\t' '{n[$3]++; c[$3]+=$4; cpu[$3]+=$7/$9; req[$3]+=$4*$10}
  END {printf "| scenario | conn/s (mean) | proxy CPU us per connection |\n|---|---|---|\n";
       for (s in n) printf "| %s | %.0f | %.1f |\n", s, c[s]/n[s], (req[s] > 0 ? cpu[s]/req[s]*1e6 : 0)}' \
  "$OUT/conn.tsv" | tee "$OUT/conn.md"

echo "== idle RSS"
tmp=$(mktemp -d)
"$HERE/start-ours-tcp.sh" "$tmp" 18099 18098 &
pid=$!
sleep 1
awk '/^VmRSS:/ {print "remora-proxy idle RSS: " $2 " kB"}' "/proc/$pid/status" | tee "$OUT/idle_rss.txt"
kill "$pid"; wait "$pid" 2>/dev/null || true
rm -rf "$tmp"
echo "== L7 HTTP/1.1 keep-alive (bench/http.sh)"
"$HERE/http.sh" "$REPS" "$OUT/l7"
echo "results in $OUT"
