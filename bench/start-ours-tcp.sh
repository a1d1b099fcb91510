#!/usr/bin/env bash
# Starts remora-proxy as an L4 forwarder (tcp_proxy) for the peer harness:
#   start-ours-tcp.sh DIR LISTEN_PORT UPSTREAM_PORT
# One worker, loopback only, like the nginx and HAProxy peers.
exec "$(cd "$(dirname "$0")" && pwd)/start-ours.sh" "$1" "$2" "$3" tcp
