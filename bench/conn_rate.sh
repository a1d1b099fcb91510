#!/usr/bin/env bash
# New-connection rate through one L4 forwarder: wrk sends one small HTTP
# request per TCP connection ("Connection: close") to an nginx origin through
# HAProxy (mode tcp), nginx (stream) and remora-proxy (tcp_proxy), and direct.
#   conn_rate.sh REP OUT.tsv
# Appends: layout rep scenario conns_per_s p50_us p99_us proxy_cpu_ticks proxy_rss_kb clk_tck duration
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED_BENCH:-$HERE/../../shared/bench}
. "$SHARED/lib.sh"
. "$SHARED/configs.sh"
REP=${1:?rep}; OUT=${2:?out.tsv}
: "${CONN_SCENARIOS:=direct haproxy1 nginx1 ours1}"
need nginx haproxy wrk taskset ss
CLK=$(getconf CLK_TCK)
mk_workdir
chmod 0755 "$WORKDIR"
trap 'stop_all; rm -rf "$WORKDIR"' EXIT
trap 'exit 130' INT TERM

start_nginx origin "$BACKEND_CPU" "$(write_nginx_backend origin "$P_BACKEND" 64)"
wait_port "$P_BACKEND" || exit 1
for scen in $CONN_SCENARIOS; do
  procs=""
  case $scen in
    direct)   port=$P_BACKEND ;;
    haproxy1) start_haproxy chA "$BACKEND_CPU" "$(write_haproxy_tcp chA "$P_A" "$P_BACKEND" 0)"; procs=chA ;;
    nginx1)   start_nginx cnA "$BACKEND_CPU" "$(write_nginx_stream cnA "$P_A" "$P_BACKEND")"; procs=cnA ;;
    ours1)    start_ours coA "$BACKEND_CPU" "$P_A" "$P_BACKEND" "$HERE/start-ours-tcp.sh {dir} {listen} {upstream}"; procs=coA ;;
    *) echo "unknown scenario $scen" >&2; continue ;;
  esac
  [ -n "$procs" ] && port=$P_A
  wait_port "$port" || { for p in $procs; do stop_one "$p"; done; continue; }
  pids=""
  for p in $procs; do pids="$pids $(pids_tree "$(pid_of "$p")")"; done
  f="$WORKDIR/conn.$scen.txt"
  # shellcheck disable=SC2086
  t0=$(cpu_ticks $pids)
  taskset -c "$CLIENT_CPU" wrk -t1 -c16 -d"${DURATION}s" --latency -H "Connection: close" \
    "http://127.0.0.1:$port/" > "$f" 2>&1
  # shellcheck disable=SC2086
  t1=$(cpu_ticks $pids)
  # shellcheck disable=SC2086
  rss=$(rss_kb $pids)
  read -r rps p50 _ p99 _ _ <<< "$(parse_wrk "$f")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$LAYOUT" "$REP" "$scen" "$rps" "$p50" "$p99" \
    "$((t1 - t0))" "$rss" "$CLK" "$DURATION" >> "$OUT"
  printf '[rep%s] conn %-9s %10s conn/s p50=%sus p99=%sus cpu=%s ticks\n' "$REP" "$scen" "$rps" "$p50" "$p99" "$((t1 - t0))" >&2
  for p in $procs; do stop_one "$p"; done
done
