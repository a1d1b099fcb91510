#!/usr/bin/env bash
# Starts remora-proxy as an L4 forwarder (tcp_proxy) for the peer harness:
#   start-ours-tcp.sh DIR LISTEN_PORT UPSTREAM_PORT
# One worker, loopback only, like the nginx and HAProxy peers.
set -euo pipefail
dir=$1 listen=$2 upstream=$3
here=$(cd "$(dirname "$0")" && pwd)
bin=${REMORA_PROXY:-$here/../build/release/apps/remora-proxy/remora-proxy}
cat > "$dir/remora.yaml" <<YAML
static_resources:
  listeners:
  - name: l4
    address: { socket_address: { address: 127.0.0.1, port_value: $listen } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: bench
          cluster: next
  clusters:
  - name: next
    type: STATIC
    load_assignment:
      cluster_name: next
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $upstream } } }
YAML
exec "$bin" -c "$dir/remora.yaml" --concurrency 1 -l warning
