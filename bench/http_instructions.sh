#!/usr/bin/env bash
# User-space instructions per request of one HTTP proxy hop, counted by
# callgrind (valgrind): a figure that does not move with the machine's load,
# for comparing code changes and for comparing with HAProxy. An nginx origin
# answers 1 KiB; the proxy (ours with one worker, or HAProxy with one thread,
# both configured as in bench/http.sh) runs under callgrind; counters are
# zeroed after a warm-up request and dumped after N keep-alive requests sent
# over 4 connections.
#   bench/http_instructions.sh [ours|haproxy] [N]     (default: ours 20000)
# Env: REMORA_PROXY (the binary; default build/release), KEEP=FILE to keep
# the callgrind output (callgrind_annotate FILE shows where the time goes).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED_BENCH:-$HERE/../../shared/bench}
KIND=${1:-ours}
N=${2:-20000}
# shellcheck source=/dev/null
. "$SHARED/lib.sh"
# shellcheck source=/dev/null
. "$SHARED/configs.sh"
need nginx haproxy valgrind callgrind_control callgrind_annotate
mk_workdir
chmod 755 "$WORKDIR"
trap 'stop_all; rm -rf "$WORKDIR"' EXIT

start_nginx backend 0 "$(write_nginx_backend backend "$P_BACKEND" 1024)"
wait_port "$P_BACKEND"
case $KIND in
  ours)
    bin=${REMORA_PROXY:-$HERE/../build/release/apps/remora-proxy/remora-proxy}
    mkdir -p "$WORKDIR/ours"
    # Writes the configuration only (the proxy it would start is /bin/true).
    REMORA_PROXY=/bin/true "$HERE/start-ours.sh" "$WORKDIR/ours" "$P_A" "$P_BACKEND" >/dev/null 2>&1
    cmd=("$bin" -c "$WORKDIR/ours/remora.yaml" --concurrency 1 -l warning)
    ;;
  haproxy)
    cmd=(haproxy -f "$(write_haproxy_http hap "$P_A" "$P_BACKEND")" -db)
    ;;
  *)
    echo "usage: $0 [ours|haproxy] [N]" >&2
    exit 2
    ;;
esac
valgrind --tool=callgrind --callgrind-out-file="$WORKDIR/cg.out" "${cmd[@]}" >"$WORKDIR/valgrind.log" 2>&1 &
vg=$!
wait_port "$P_A" 60
curl -s -o /dev/null "http://127.0.0.1:$P_A/"
callgrind_control -z "$vg" >/dev/null 2>&1
/usr/bin/python3 - "$N" "$P_A" <<'PY'
import socket, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
req = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: wrk\r\n\r\n"
done = 0
while done < n:
    for c in conns:
        c.sendall(req)
    for c in conns:
        buf = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                sys.exit("the proxy closed the connection")
            buf += chunk
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                continue
            head = buf[:end].lower()
            length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
            if len(buf) >= end + 4 + length:
                break
    done += len(conns)
PY
callgrind_control -d "$vg" >/dev/null 2>&1
sleep 1
kill "$vg"
wait "$vg" 2>/dev/null || true
out=$(ls "$WORKDIR"/cg.out.* | head -1)
[ -n "${KEEP:-}" ] && cp "$out" "$KEEP"
total=$(sed -n 's/^summary: //p' "$out")
echo "$KIND: $((total / N)) instructions per request (user space, one hop, $N requests)"
