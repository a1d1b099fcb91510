#!/usr/bin/env bash
# Starts remora-proxy as an HTTP/1.1 reverse proxy (http_connection_manager +
# router) for the peer harness:
#   start-ours.sh DIR LISTEN_PORT UPSTREAM_PORT
# One worker, loopback only, no access log: configured like the nginx and
# HAProxy peers (keep-alive both sides, upstream connections reused).
set -euo pipefail
dir=$1 listen=$2 upstream=$3
here=$(cd "$(dirname "$0")" && pwd)
bin=${REMORA_PROXY:-$here/../build/release/apps/remora-proxy/remora-proxy}
cat > "$dir/remora.yaml" <<YAML
static_resources:
  listeners:
  - name: http
    address: { socket_address: { address: 127.0.0.1, port_value: $listen } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
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
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
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
