#!/usr/bin/env bash
# Starts remora-proxy for the peer harness, forwarding 127.0.0.1:LISTEN to
# 127.0.0.1:UPSTREAM with one worker, configured like the nginx and HAProxy
# peers (keep-alive both sides, upstream connections reused, no access log):
#   start-ours.sh DIR LISTEN_PORT UPSTREAM_PORT [http|tcp]
# http (default): http_connection_manager + router; tcp: tcp_proxy.
set -euo pipefail
dir=$1 listen=$2 upstream=$3 mode=${4:-http}
here=$(cd "$(dirname "$0")" && pwd)
bin=${REMORA_PROXY:-$here/../build/release/apps/remora-proxy/remora-proxy}
if [ "$mode" = tcp ]; then
  filter='      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: bench
          cluster: next'
else
  filter='      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          route_config:
            name: bench
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: next }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router'
fi
cat > "$dir/remora.yaml" <<YAML
static_resources:
  listeners:
  - name: $mode
    address: { socket_address: { address: 127.0.0.1, port_value: $listen } }
    filter_chains:
    - filters:
$filter
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
