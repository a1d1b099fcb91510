#!/usr/bin/env bash
# Installs every Debian package that Remora's build, tests, benchmarks and demo use,
# then configures and builds the given CMake preset (default: release).
# Safe to run again: packages already present are not fetched twice.
#
#   scripts/setup.sh [PRESET]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build
  build-essential g++ cmake ninja-build pkg-config ccache clang clang-format libclang-rt-14-dev
  # libraries
  protobuf-compiler libprotobuf-dev libgrpc++-dev protobuf-compiler-grpc libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libnghttp2-dev libre2-dev libfmt-dev
  libspdlog-dev libcli11-dev
  # tests, lab and demo: interception, namespaces, clients
  iptables iproute2 procps util-linux curl socat python3-grpcio python3-yaml
  # benchmark peers and load tools
  nginx libnginx-mod-stream haproxy wrk iperf3 nghttp2-client hyperfine valgrind
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PRESET=${1:-release}
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET"
