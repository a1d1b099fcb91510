#!/usr/bin/env bash
# The README's first command: the seed article's walk through an Istio mesh,
# live, on Remora. It installs and builds what it needs (scripts/setup.sh), brings
# up the seed's Bookinfo in a lab (pods = network namespaces, each with
# remora-init's NAT rules and a remora-proxy sidecar configured by remora-pilot),
# sends traffic, and walks through the article step by step with remoractl:
# interception, the virtual listener, the inbound handler, the outbound handler
# (listener, route, endpoints), then a VirtualService and a DestinationRule.
# Every step checks what it shows; the script exits 0 only if all of them did.
#
#   scripts/demo.sh [--interactive]   # the walk-through; removes the mesh at the end
#   scripts/demo.sh up                # bring Bookinfo up, send traffic, leave it running
#   scripts/demo.sh down              # remove it, leaving nothing behind
#
# Options: --interactive (-i) pauses before each step; --name LAB runs the lab
# under another name (default remora, the name remoractl uses by default).
# REMORA_BUILD_DIR=DIR uses the binaries already built in DIR (a CMake build
# tree) instead of running scripts/setup.sh: for developers, not for CI.
# Needs root (namespaces, iptables), like the lab itself.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START_TIME=$(date +%s)

MODE=walk
INTERACTIVE=0
LAB=remora
usage() {
  sed -n '2,/^set -Eeuo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}
while (($#)); do
  case $1 in
    up | down | walk) MODE=$1 ;;
    -i | --interactive) INTERACTIVE=1 ;;
    --name)
      (($# >= 2)) || { usage >&2; exit 2; }
      LAB=$2
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    *) echo "demo: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# ---------------------------------------------------------------------------
# What the demo runs: the seed's Bookinfo (examples/bookinfo/lab/bookinfo.yaml;
# names, labels and ports as in the seed) and Istio's rules.
LAB_FILE=examples/bookinfo/lab/bookinfo.yaml
VS_V1=examples/bookinfo/rules/virtual-service-reviews-v1.yaml
DR_REVIEWS=examples/bookinfo/rules/destination-rule-reviews.yaml
PRODUCTPAGE=productpage-v1-6b746f74dc-9stvs
REVIEWS_V1=reviews-v1-76474f6fb7-pmglr
REVIEWS_V2=reviews-v2-65c4dc6fdc-sm4w7
REVIEWS_V3=reviews-v3-6dc9897554-z8fxd
RATINGS=ratings-v1-8558d4458d-ns6lk
DETAILS=details-v1-5974b67c8-wclnd
ALL_PODS=("$DETAILS" "$PRODUCTPAGE" "$RATINGS" "$REVIEWS_V1" "$REVIEWS_V2" "$REVIEWS_V3")
REVIEWS_FQDN=reviews.default.svc.cluster.local
RATINGS_FQDN=ratings.default.svc.cluster.local
STATE_ROOT=/run/remora-lab
CONVERGE_S=20   # how long a change may take to reach the proxies

# The lab's name goes on the command lines only when it is not the default, so
# that what the reader sees is what they would type.
LAB_OPT=()  # for remoractl lab ...
CTL_OPT=()  # for proxy-config, explain, apply, proxy-status ...
if [[ $LAB != remora ]]; then
  LAB_OPT=(--name "$LAB")
  CTL_OPT=(--lab "$LAB")
fi

# ---------------------------------------------------------------------------
# Output: a step header, the narration, each command as the reader would type
# it, its output (trimmed where long), and one line per check.
if [[ -t 1 ]]; then
  BOLD=$'\e[1m' DIM=$'\e[2m' GREEN=$'\e[32m' RED=$'\e[31m' CYAN=$'\e[36m' RESET=$'\e[0m'
else
  BOLD='' DIM='' GREEN='' RED='' CYAN='' RESET=''
fi
STEP_NO=0
STEP_TITLE="start"
WORK=$(mktemp -d /tmp/remora-demo.XXXXXX)
OUT=""
LAB_TOUCHED=0   # set once this run has called `lab up`: the mesh is ours to remove
KEEP_LAB=0      # `up` leaves the mesh running once everything worked

say() { fold -s -w 100 <<<"$*"; }

pause() {
  ((INTERACTIVE)) || return 0
  local _
  printf '\n%s(press Enter for the next step)%s ' "$DIM" "$RESET"
  read -r _ </dev/tty || true
}

# step TITLE SENTENCE...: a numbered header and what the reader is about to see.
step() {
  ((STEP_NO == 0)) || pause
  STEP_NO=$((STEP_NO + 1))
  STEP_TITLE=$1
  shift
  printf '\n%s== %d. %s%s\n' "$BOLD" "$STEP_NO" "$STEP_TITLE" "$RESET"
  local s
  for s in "$@"; do say "$s"; done
}

# In a command substitution too: the marker stops the caller from reporting
# the same failure again.
fail() {
  : >"$WORK/failed"
  printf '\n%sdemo: FAILED at step %d (%s): %s%s\n' "$RED" "$STEP_NO" "$STEP_TITLE" "$*" "$RESET" >&2
  exit 1
}

ok() { printf '%s  [ok] %s%s\n' "$GREEN" "$*" "$RESET"; }

# A command line as the reader would type it: our binaries by their names,
# arguments with shell characters in single quotes.
display() {
  local out="" a
  if [[ ${1:-} == rlab ]]; then
    shift
    set -- remoractl lab "${LAB_OPT[@]}" "$@"
  fi
  for a in "$@"; do
    if [[ -z $a || $a == *[^A-Za-z0-9_./:=@%+,-]* ]]; then
      a="'${a//\'/\'\\\'\'}'"
    fi
    out+="${out:+ }$a"
  done
  printf '%s' "$out"
}

# trim N: the first N lines of stdin, then how many were left out.
trim() {
  awk -v max="$1" 'NR <= max { print } END { if (NR > max) printf "    ... (%d more lines)\n", NR - max }'
}

# show MAX CMD...: print the command, run it, keep its output in OUT, print at
# most MAX lines of it; a non-zero exit status fails the step.
# SHOW_AS=TEXT: print TEXT as the command line instead.
# SHOW_BLOCK=TEXT: print only the JSON object holding the line with TEXT.
# SHOW_FILTER=FUNCTION: print the output through FUNCTION.
SHOW_AS=""
SHOW_BLOCK=""
SHOW_FILTER=""
show() {
  local max=$1 rc=0 as=$SHOW_AS block=$SHOW_BLOCK filter=$SHOW_FILTER
  shift
  SHOW_AS=""
  SHOW_BLOCK=""
  SHOW_FILTER=""
  [[ -n $as ]] || as=$(display "$@")
  printf '\n%s$ %s%s\n' "$CYAN" "$as" "$RESET"
  "$@" >"$WORK/out" 2>&1 || rc=$?
  OUT=$(<"$WORK/out")
  if [[ -n $filter ]]; then
    "$filter" <"$WORK/out" | trim "$max"
  elif [[ -n $block ]]; then
    json_block "$block" <"$WORK/out" | trim "$max"
  else
    trim "$max" <"$WORK/out"
  fi
  ((rc == 0)) || fail "\`$as\` exited with status $rc"
}

# json_block TEXT: of pretty-printed JSON, the object whose member line holds
# TEXT (from its opening brace to the brace that closes it), between elisions.
json_block() {
  awk -v key="$1" '
    { line[NR] = $0 }
    END {
      for (i = 2; i <= NR; i++) if (index(line[i], key)) break
      if (i > NR) { print "    (no \"" key "\" in the output)"; exit }
      start = i - 1
      match(line[start], /^ */)
      indent = RLENGTH
      for (end = start + 1; end <= NR; end++) {
        match(line[end], /^ */)
        if (RLENGTH == indent && substr(line[end], indent + 1, 1) == "}") break
      }
      if (start > 1) printf "%" indent "s...\n", ""
      for (j = start; j <= end && j <= NR; j++) print line[j]
      if (end < NR) printf "%" indent "s...\n", ""
    }'
}

# expect ERE WHY / expect_fixed TEXT WHY / expect_not ERE WHY: check OUT.
expect() {
  grep -Eq -- "$1" <<<"$OUT" || fail "expected $2, but no line of the output matches /$1/"
  ok "$2"
}
expect_fixed() {
  grep -Fq -- "$1" <<<"$OUT" || fail "expected $2, but the output has no \"$1\""
  ok "$2"
}
expect_not() {
  if grep -Eq -- "$1" <<<"$OUT"; then fail "expected $2, but a line matches /$1/"; fi
  ok "$2"
}

# until_ok SECONDS WHAT CMD...: run CMD (quietly) until it succeeds.
until_ok() {
  local limit=$1 what=$2 deadline
  shift 2
  deadline=$(($(date +%s) + limit))
  until "$@" >"$WORK/poll" 2>&1; do
    if (($(date +%s) >= deadline)); then
      if [[ -s $WORK/poll ]]; then
        echo "the last try said:"
        trim 10 <"$WORK/poll"
      fi
      fail "$what did not happen within ${limit}s"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------
# Tools. `remoractl` is a function so that the commands shown read as typed.
RCTL_BIN=""
remoractl() { "$RCTL_BIN" "$@"; }
rlab() { remoractl lab "${LAB_OPT[@]}" "$@"; }
pod_ip() {
  local ip
  ip=$(rlab exec "$1" -- printenv POD_IP) || ip=""
  [[ -n $ip ]] || fail "cannot read the IP of pod $1"
  printf '%s\n' "$ip"
}

# The lab's namespaces: its hub and one per pod of the lab file.
lab_netns() {
  local p
  printf '%s\n' "$LAB"
  for p in "${ALL_PODS[@]}"; do printf '%s\n' "$LAB-$p"; done
}

lab_exists() {
  [[ -e $STATE_ROOT/$LAB ]] && return 0
  local have
  have=$(ip netns list 2>/dev/null | awk '{print $1}')
  grep -Fxq -f <(lab_netns) <<<"$have"
}

# What the lab leaves behind if `down` missed something: its namespaces, its
# /etc/netns entries, its state directory.
leftovers() {
  local left=() have ns
  [[ -e $STATE_ROOT/$LAB ]] && left+=("$STATE_ROOT/$LAB")
  have=$(ip netns list 2>/dev/null | awk '{print $1}')
  while read -r ns; do
    grep -Fxq -- "$ns" <<<"$have" && left+=("netns $ns")
    [[ -e /etc/netns/$ns ]] && left+=("/etc/netns/$ns")
  done < <(lab_netns)
  ((${#left[@]} == 0)) || printf '%s\n' "${left[@]}"
}

lab_down() {
  local rc=0
  lab_exists || return 0
  rlab down -q || rc=$?
  local left
  left=$(leftovers)
  if [[ -n $left ]]; then
    echo "demo: after \`remoractl lab down\` these remain:" >&2
    printf '  %s\n' "$left" >&2
    return 1
  fi
  return "$rc"
}

on_exit() {
  local rc=$?
  trap - EXIT INT TERM HUP ERR
  if ((LAB_TOUCHED && !KEEP_LAB)); then
    if ((rc != 0)); then
      ((rc < 128)) || printf '\ndemo: interrupted at step %d (%s)\n' "$STEP_NO" "$STEP_TITLE" >&2
      echo "demo: removing the lab ($(display remoractl lab "${LAB_OPT[@]}" down))" >&2
      if ((rc < 128)) && [[ -d $STATE_ROOT/$LAB/_pilot ]]; then
        echo "demo: the end of pilot's log:" >&2
        tail -n 5 "$STATE_ROOT/$LAB/_pilot/pilot.log" 2>/dev/null | sed 's/^/  /' >&2 || true
      fi
    fi
    lab_down >/dev/null 2>"$WORK/down.err" || {
      cat "$WORK/down.err" >&2
      ((rc != 0)) || rc=1
    }
  fi
  rm -rf "$WORK"
  exit "$rc"
}
# A command that fails outside show/expect (a bug here, or a tool that broke)
# still names the step.
on_err() {
  local rc=$1 cmd=$2
  ((BASHPID == $$)) || exit "$rc"
  [[ ! -e $WORK/failed ]] || exit 1
  fail "\`$cmd\` exited with status $rc (line ${BASH_LINENO[0]})"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
trap 'on_err $? "$BASH_COMMAND"' ERR

# ---------------------------------------------------------------------------
# Steps.

need_root() {
  [[ $(id -u) -eq 0 ]] || fail "run as root: the lab makes network namespaces and iptables rules"
}

build() {
  step "Set up and build" \
    "Installs the Debian packages Remora needs and builds it (scripts/setup.sh; both are skipped when already done)."
  if [[ -n ${REMORA_BUILD_DIR:-} ]]; then
    say "REMORA_BUILD_DIR=$REMORA_BUILD_DIR: using the binaries built there."
    BUILD_DIR=$REMORA_BUILD_DIR
  else
    BUILD_DIR=build/release
    printf '%s$ scripts/setup.sh release%s  (the first build takes a while)\n' "$CYAN" "$RESET"
    if ! scripts/setup.sh release >"$WORK/setup.log" 2>&1; then
      tail -n 30 "$WORK/setup.log" >&2
      fail "scripts/setup.sh release failed (the end of its log is above)"
    fi
  fi
  local b
  for b in remoractl remora-proxy remora-init remora-pilot remora-app; do
    [[ -x $BUILD_DIR/apps/$b/$b ]] || fail "$BUILD_DIR/apps/$b/$b was not built"
  done
  RCTL_BIN=$ROOT/$BUILD_DIR/apps/remoractl/remoractl
  [[ $BUILD_DIR == /* ]] && RCTL_BIN=$BUILD_DIR/apps/remoractl/remoractl
  ok "remoractl, remora-proxy, remora-init, remora-pilot and remora-app are in $BUILD_DIR/apps"
}

bring_up() {
  step "Bookinfo in a lab, configured by pilot" \
    "Each pod of the seed's Bookinfo (productpage, details, reviews v1/v2/v3, ratings) becomes a network namespace on a bridge with remora-init's NAT rules, a remora-proxy sidecar (UID 1337) and its app. No sidecar has a config of its own: remora-pilot runs beside them and sends every listener, route, cluster and endpoint over ADS."
  if lab_exists; then
    fail "a lab named $LAB is already up (or half up); remove it first with: scripts/demo.sh down${LAB_OPT[*]:+ ${LAB_OPT[*]}}"
  fi
  LAB_TOUCHED=1
  show 60 rlab up -q "$LAB_FILE"
  expect_fixed "pilot" "pilot runs in the lab"
  local p
  for p in "${ALL_PODS[@]}"; do
    grep -Eq "^${p}[[:space:]].*ready" <<<"$OUT" || fail "pod $p is not listed as ready by \`lab up\`"
  done
  ok "all six pods are up, their sidecars ready"

  say "Pilot's view: every proxy connected over ADS and in sync for each xDS type (istioctl proxy-status)."
  until_ok "$CONVERGE_S" "every proxy SYNCED" all_synced
  show 20 remoractl proxy-status "${CTL_OPT[@]}"
  local n
  n=$(grep -Ec '(SYNCED.*){4}' <<<"$OUT" || true)
  ((n == ${#ALL_PODS[@]})) || fail "expected ${#ALL_PODS[@]} proxies SYNCED for CDS, LDS, EDS and RDS, found $n"
  ok "$n proxies, CDS/LDS/EDS/RDS all SYNCED"
}

all_synced() {
  local out
  out=$(remoractl proxy-status "${CTL_OPT[@]}" 2>&1) || { printf '%s\n' "$out"; return 1; }
  (($(grep -Ec '(SYNCED.*){4}' <<<"$out") == ${#ALL_PODS[@]})) || { printf '%s\n' "$out"; return 1; }
}

# The version of reviews behind each answer of productpage, one per line.
reviews_versions() {
  grep -o '"pod":"reviews-v[0-9]' | sed 's/.*reviews-//'
}

productpage_pretty() {
  rlab exec "$PRODUCTPAGE" -- curl -s -m 10 http://productpage:9080/productpage | /usr/bin/python3 -m json.tool
}

# Each answer of productpage as the pods that served it, in call order:
# productpage, details, reviews (and ratings, which reviews v2/v3 call).
call_chains() {
  local line pods
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    pods=$(grep -o '"pod":"[^"]*"' <<<"$line" | sed 's/"pod":"//; s/"$//; s/-[0-9a-z]*-[0-9a-z]*$//' | tr '\n' ' ') || true
    awk '{ s = "  " $1 " -> " $2 ", " $3; if (NF > 3) s = s " -> " $4; print s }' <<<"$pods"
  done
}

# shellcheck disable=SC2016 # expanded inside the pod
GET12='for i in $(seq 12); do curl -s http://productpage:9080/productpage; echo; done'

# get_productpage N: N requests to productpage from inside its pod, one answer a line.
get_productpage() {
  rlab exec "$PRODUCTPAGE" -- sh -c \
    "for i in \$(seq $1); do curl -s -m 10 http://productpage:9080/productpage; echo; done"
}

traffic() {
  step "Traffic: productpage -> details, reviews -> ratings" \
    "From inside the productpage pod, curl calls productpage by its Service name, as a browser behind the mesh would. The app calls details and reviews; reviews v2 and v3 call ratings. Every hop leaves through the caller's sidecar and enters through the callee's. Each app answers with its pod and version, and nests the answers of its calls."
  SHOW_AS="$(display rlab exec "$PRODUCTPAGE" -- curl -s http://productpage:9080/productpage) | python3 -m json.tool" \
    show 40 productpage_pretty
  expect_fixed "\"pod\": \"$PRODUCTPAGE\"" "productpage answered"
  expect '"pod": "details-v1-' "details answered productpage's call"
  expect '"pod": "reviews-v[123]-' "reviews answered productpage's call"
  expect_not '"status": [^2]' "every call answered 2xx"
  expect '"peer": "127\.0\.0\.1:' "each app saw its caller as 127.0.0.1: the request came through its sidecar"
  say "Twelve more, each answer summed up as the chain of pods that served it (round robin over the three reviews pods):"
  SHOW_AS="$(display rlab exec "$PRODUCTPAGE" -- sh -c "$GET12")" \
    SHOW_FILTER=call_chains show 14 get_productpage 12
  local seen
  seen=$(reviews_versions <<<"$OUT" | sort | uniq -c | awk '{printf "%s %s\n", $2, $1}')
  printf '%s\n' "$seen" | sed 's/^/    reviews /; s/ \([0-9]*\)$/: \1 answers/'
  for v in v1 v2 v3; do
    grep -q "^$v " <<<"$seen" || fail "no answer came from reviews $v in 12 requests"
  done
  ok "reviews v1, v2 and v3 all answered"
  expect '"url":"http://ratings:9080/ratings/0","status":200' "ratings answered reviews v2/v3"
}

# Packets counted so far by the last rule of REMORA_OUTPUT in reviews-v2 (the
# app's outbound connections that go to the proxy) and by its UID 1337 RETURN.
outbound_counters() {
  rlab exec "$REVIEWS_V2" -- iptables -t nat -L REMORA_OUTPUT -v -n -x |
    awk '$3 == "REMORA_REDIRECT" && $7 == "*" { r = $1 } /owner UID match 1337/ { u = $1 }
         END { print r + 0, u + 0 }'
}

interception() {
  step "Interception: the NAT rules in the reviews pod" \
    "remora-init wrote the seed's chains in reviews-v2 (named REMORA_ instead of ISTIO_). Inbound TCP: PREROUTING -> REMORA_INBOUND -> REMORA_IN_REDIRECT -> REDIRECT to 15001. The app's outbound TCP: OUTPUT -> REMORA_OUTPUT -> REMORA_REDIRECT -> REDIRECT to 15001, except the proxy's own (UID/GID 1337) and localhost. The pkts column counts connections (NAT sees each connection's first packet)."
  local before after
  before=$(outbound_counters) || fail "cannot read REMORA_OUTPUT in $REVIEWS_V2"
  show 60 rlab exec "$REVIEWS_V2" -- iptables -t nat -L -v
  expect '^Chain REMORA_INBOUND' "chain REMORA_INBOUND"
  expect 'REMORA_INBOUND +tcp' "PREROUTING sends TCP to REMORA_INBOUND"
  expect 'REMORA_IN_REDIRECT +tcp' "REMORA_INBOUND sends the pod's ports to REMORA_IN_REDIRECT"
  expect 'REMORA_OUTPUT +tcp' "OUTPUT sends TCP to REMORA_OUTPUT"
  expect 'REDIRECT .*redir ports 15001' "REDIRECT to port 15001 (the seed's single-port layout)"
  expect 'REMORA_REDIRECT .* lo +anywhere +!localhost' "the seed's first REMORA_OUTPUT rule: over lo, not to localhost"
  expect 'RETURN .*owner UID match 1337' "the proxy's own traffic (UID 1337) is spared"
  expect 'RETURN .*anywhere +localhost *$' "traffic to localhost is spared"
  say "Twelve more requests through productpage; about a third reach reviews-v2, whose app calls ratings on a new connection each time (captured: the last REMORA_OUTPUT rule), and whose proxy opens a new connection to the app each time (spared: UID 1337). The inbound REDIRECT moves less: productpage's sidecar keeps its connections to reviews open and reuses them."
  local tries=0
  after=$before
  while [[ ${after%% *} == "${before%% *}" ]] && ((tries++ < 3)); do
    get_productpage 12 >/dev/null
    after=$(outbound_counters) || fail "cannot read REMORA_OUTPUT in $REVIEWS_V2"
  done
  show 20 rlab exec "$REVIEWS_V2" -- iptables -t nat -L REMORA_OUTPUT -v
  local r0=${before%% *} u0=${before##* } r1=${after%% *} u1=${after##* }
  ((r1 > r0)) || fail "the captured-outbound counter (last REMORA_OUTPUT rule) did not move: $r0 before, $r1 after"
  ok "the app's captured outbound connections: $r0 -> $r1"
  ((u1 > u0)) || fail "the UID 1337 RETURN counter did not move: $u0 before, $u1 after"
  ok "the proxy's own connections (UID 1337, spared): $u0 -> $u1"
}

virtual_listener() {
  REVIEWS_V1_IP=$(pod_ip "$REVIEWS_V1")
  step "The virtual listener" \
    "reviews-v1's proxy, as remoractl reads it from the proxy's own /config_dump (istioctl proxy-config). 0.0.0.0:15001 receives everything iptables captured; ${REVIEWS_V1_IP}:9080 is where productpage's request for this pod is handed; 0.0.0.0:9080 serves the app's own outbound HTTP calls on port 9080."
  show 40 remoractl proxy-config listeners "$REVIEWS_V1" "${CTL_OPT[@]}"
  expect '^0\.0\.0\.0 +15001 ' "the virtual listener on 0.0.0.0:15001"
  expect "^${REVIEWS_V1_IP//./\\.} +9080 " "the inbound listener on the pod's IP, ${REVIEWS_V1_IP}:9080"
  expect '^0\.0\.0\.0 +9080 ' "the outbound HTTP listener 0.0.0.0:9080"

  say "The 15001 listener as JSON: useOriginalDst hands each connection to the listener that owns its original destination (SO_ORIGINAL_DST); what no listener owns stays here and goes to PassthroughCluster (or BlackHoleCluster, for a connection to 15001 itself)."
  show 80 remoractl proxy-config listeners "$REVIEWS_V1" --port 15001 -o json "${CTL_OPT[@]}"
  expect '"name": "virtual"' "it is named \"virtual\""
  expect '"useOriginalDst": true' "useOriginalDst: true"
  expect '"portValue": 15001' "port 15001"
  expect 'BlackHoleCluster|PassthroughCluster' "its own chains end in BlackHoleCluster / PassthroughCluster"
}

inbound_handler() {
  step "The inbound handler: ${REVIEWS_V1_IP}_9080" \
    "productpage's request arrives for ${REVIEWS_V1_IP}:9080. The virtual listener hands it to the listener of that exact address, which binds no port of its own (bindToPort: false). Its filter chain for plain text (transportProtocol raw_buffer) runs the HTTP connection manager, which routes every domain (*) to cluster inbound|9080||${REVIEWS_FQDN}."
  show 70 remoractl proxy-config listeners "$REVIEWS_V1" --address "$REVIEWS_V1_IP" --port 9080 -o json "${CTL_OPT[@]}"
  expect "\"name\": \"${REVIEWS_V1_IP//./\\.}_9080\"" "the listener is named ${REVIEWS_V1_IP}_9080"
  expect '"bindToPort": false' "bindToPort: false"
  expect '"transportProtocol": "raw_buffer"' "a filter chain matched on transportProtocol raw_buffer"
  expect '"domains": \[' "an inline route configuration"
  expect_fixed "\"cluster\": \"inbound|9080||${REVIEWS_FQDN}\"" "routed to cluster inbound|9080||${REVIEWS_FQDN}"

  say "That cluster's only endpoint is the app itself, on localhost: the proxy's connection to 127.0.0.1 is spared by iptables and reaches the app."
  show 40 remoractl proxy-config clusters "$REVIEWS_V1" --fqdn "$REVIEWS_FQDN" --direction inbound -o json "${CTL_OPT[@]}"
  expect_fixed "\"name\": \"inbound|9080||${REVIEWS_FQDN}\"" "cluster inbound|9080||${REVIEWS_FQDN}"
  expect '"address": "127\.0\.0\.1"' "endpoint address 127.0.0.1"
  expect '"portValue": 9080' "endpoint port 9080"
}

outbound_handler() {
  step "The outbound handler: listener 0.0.0.0_9080 and route 9080" \
    "reviews calls http://ratings.default.svc.cluster.local:9080/. iptables redirects the call to 15001, the virtual listener finds no listener for the ratings ClusterIP and hands it to 0.0.0.0_9080, whose HTTP connection manager takes its routes from RDS: route configuration \"9080\", over ADS."
  show 60 remoractl proxy-config listeners "$REVIEWS_V1" --address 0.0.0.0 --port 9080 -o json "${CTL_OPT[@]}"
  expect '"name": "0\.0\.0\.0_9080"' "the listener is named 0.0.0.0_9080"
  expect '"routeConfigName": "9080"' "routes from RDS, route_config_name \"9080\""
  expect '"ads": \{' "config source: ADS"

  say "Route 9080 has one virtual host per HTTP service on port 9080; the Host header picks it. ratings' lists every name a caller may use: short, namespaced, FQDN, the ClusterIP, each with and without :9080. Its one route sends / to outbound|9080||${RATINGS_FQDN}."
  show 20 remoractl proxy-config routes "$REVIEWS_V1" --name 9080 "${CTL_OPT[@]}"
  expect '^9080 +ratings, ' "a virtual host for ratings in route 9080"
  SHOW_BLOCK="\"name\": \"${RATINGS_FQDN}:9080\"" show 40 \
    remoractl proxy-config routes "$REVIEWS_V1" --name 9080 -o json "${CTL_OPT[@]}"
  local ratings_ip
  ratings_ip=$(rlab exec "$REVIEWS_V1" -- getent hosts "$RATINGS_FQDN" | awk '{print $1}')
  local d
  for d in "$RATINGS_FQDN" "${RATINGS_FQDN}:9080" ratings "ratings:9080" ratings.default "ratings.default:9080" \
    ratings.default.svc "$ratings_ip" "${ratings_ip}:9080"; do
    grep -Fq "\"$d\"" <<<"$OUT" || fail "domain \"$d\" is not in route 9080"
  done
  ok "domains include ratings, ratings:9080, ratings.default, ratings.default.svc, the FQDN and the ClusterIP $ratings_ip (with :9080)"
  expect_fixed "\"cluster\": \"outbound|9080||${RATINGS_FQDN}\"" "/ goes to cluster outbound|9080||${RATINGS_FQDN}"
  expect '"prefix": "/"' "the route matches prefix /"
}

endpoints() {
  step "Endpoints of outbound|9080||${RATINGS_FQDN}" \
    "The cluster is EDS: pilot sends its endpoints, the ratings pods' IPs on port 9080. The proxy's own /clusters shows them with their health; pilot's /debug/edsz (asked from inside the reviews pod, as the seed does) shows what it sent, with each endpoint's istio.uid."
  show 10 remoractl proxy-config endpoints "$REVIEWS_V1" --cluster "outbound|9080||${RATINGS_FQDN}" "${CTL_OPT[@]}"
  local ratings_pod_ip
  ratings_pod_ip=$(pod_ip "$RATINGS")
  expect "^${ratings_pod_ip//./\\.}:9080 +HEALTHY" "the ratings pod, ${ratings_pod_ip}:9080, HEALTHY"
  local pilot_http
  pilot_http=$(pilot_http_address) || fail "the lab's state records no pilot HTTP address"
  SHOW_BLOCK="\"clusterName\": \"outbound|9080||${RATINGS_FQDN}\"" show 40 rlab exec "$REVIEWS_V1" -- curl -s -m 5 \
    "http://${pilot_http}/debug/edsz?proxyID=${REVIEWS_V1}.default"
  expect_fixed "outbound|9080||${RATINGS_FQDN}" "pilot sent this cluster's endpoints"
  expect_fixed "kubernetes://${RATINGS}.default" "with istio.uid kubernetes://${RATINGS}.default"
}

# Pilot's HTTP address from the lab's state (docs/lab.md: state.yaml records it).
pilot_http_address() {
  local a
  a=$(awk '/^pilot:/ { p = 1; next } p && /^[^ ]/ { p = 0 } p && /http_address:/ { print $2; exit }' \
    "$STATE_ROOT/$LAB/state.yaml" | tr -d '"')
  [[ -n $a ]] && printf '%s\n' "$a"
}

explain_step() {
  step "One request, explained" \
    "remoractl explain follows one request the way the article does by hand, from the proxy's real config and the pod's real NAT rules: the rule that captures it, the listener it is handed to, the filter chain, route configuration, virtual host, route, cluster and endpoints."
  show 40 remoractl explain "$REVIEWS_V2" "http://ratings:9080/ratings/0" "${CTL_OPT[@]}"
  expect 'MATCH +.*REMORA_REDIRECT' "captured by REMORA_OUTPUT -> REMORA_REDIRECT"
  expect 'handed to "0\.0\.0\.0_9080"' "handed to 0.0.0.0_9080"
  expect "virtual host \"${RATINGS_FQDN//./\\.}:9080\"" "virtual host ${RATINGS_FQDN}:9080"
  expect_fixed "outbound|9080||${RATINGS_FQDN}" "cluster outbound|9080||${RATINGS_FQDN}"
  expect '^result +forwarded to' "forwarded to a ratings endpoint"
}

# Does productpage's route 9080 send reviews to subset v1?
route_has_v1() {
  remoractl proxy-config routes "$PRODUCTPAGE" --name 9080 -o json "${CTL_OPT[@]}" |
    grep -Fq "\"cluster\": \"outbound|9080|v1|${REVIEWS_FQDN}\""
}
has_v1_cluster() {
  remoractl proxy-config clusters "$PRODUCTPAGE" --fqdn "$REVIEWS_FQDN" --subset v1 "${CTL_OPT[@]}" |
    grep -q "$REVIEWS_FQDN"
}
reviews_answer_200() { [[ $(status_of_reviews) == 200 ]]; }
v1_endpoints_healthy() {
  remoractl proxy-config endpoints "$PRODUCTPAGE" --cluster "outbound|9080|v1|${REVIEWS_FQDN}" \
    "${CTL_OPT[@]}" | grep -q HEALTHY
}
status_of_reviews() {
  rlab exec "$PRODUCTPAGE" -- curl -s -o /dev/null -w '%{http_code}\n' -m 10 http://reviews:9080/reviews/0
}

virtual_service() {
  step "A VirtualService: every call to reviews goes to subset v1" \
    "The seed's routing rule, Istio's own YAML, applied through pilot's config API (istioctl create -f / kubectl apply -f). Pilot pushes a new route 9080 to every sidecar: the route to reviews now names cluster outbound|9080|v1|${REVIEWS_FQDN}."
  show 30 cat "$VS_V1"
  show 10 remoractl apply -f "$VS_V1" "${CTL_OPT[@]}"
  expect 'reviews' "pilot accepted VirtualService reviews"
  until_ok "$CONVERGE_S" "productpage's route 9080 naming subset v1" route_has_v1
  show 20 remoractl proxy-config routes "$PRODUCTPAGE" --name 9080 "${CTL_OPT[@]}"
  expect '^9080 +reviews,.* reviews\.default *$' "the reviews virtual host now comes from VirtualService reviews.default"
  SHOW_BLOCK="\"name\": \"${REVIEWS_FQDN}:9080\"" show 50 \
    remoractl proxy-config routes "$PRODUCTPAGE" --name 9080 -o json "${CTL_OPT[@]}"
  expect_fixed "\"cluster\": \"outbound|9080|v1|${REVIEWS_FQDN}\"" "the route's cluster is outbound|9080|v1|${REVIEWS_FQDN}"

  say "But no DestinationRule defines subset v1 yet, so that cluster does not exist (the seed: \"you will not find a SUBSET=v1 cluster\"). productpage's sidecar answers 503 itself, with response flag NC (no cluster)."
  show 10 remoractl proxy-config clusters "$PRODUCTPAGE" --fqdn "$REVIEWS_FQDN" "${CTL_OPT[@]}"
  expect_not "${REVIEWS_FQDN//./\\.} +9080 +v1 " "no cluster for subset v1"
  SHOW_AS="$(display rlab exec "$PRODUCTPAGE" -- curl -s -o /dev/null -w '%{http_code}\n' http://reviews:9080/reviews/0)" \
    show 5 status_of_reviews
  expect '^503$' "a call to reviews from productpage gets 503"
  show 10 rlab exec "$PRODUCTPAGE" -- curl -s "localhost:15000/stats?filter=no_cluster"
  expect 'no_cluster: [1-9]' "productpage's sidecar counted it as no_cluster (NC)"
  show 40 remoractl explain "$PRODUCTPAGE" "http://reviews:9080/reviews/0" "${CTL_OPT[@]}"
  expect '^result .*503 NC' "explain: cluster not found, 503 NC"
  SHOW_AS="$(display rlab exec "$PRODUCTPAGE" -- curl -s http://productpage:9080/productpage) | python3 -m json.tool" \
    SHOW_BLOCK='"url": "http://reviews:9080/reviews/0"' show 10 productpage_pretty
  expect '"status": 503' "productpage's call to reviews got 503"
}

destination_rule() {
  step "A DestinationRule: subsets v1, v2, v3 of reviews" \
    "A DestinationRule maps to clusters: one per subset, outbound|9080|<subset>|${REVIEWS_FQDN}, whose endpoints are exactly the pods with that subset's labels (version=v1...). The route's cluster now exists."
  show 30 cat "$DR_REVIEWS"
  show 10 remoractl apply -f "$DR_REVIEWS" "${CTL_OPT[@]}"
  expect 'reviews' "pilot accepted DestinationRule reviews"
  until_ok "$CONVERGE_S" "cluster outbound|9080|v1|${REVIEWS_FQDN} in productpage's proxy" has_v1_cluster
  show 10 remoractl proxy-config clusters "$PRODUCTPAGE" --fqdn "$REVIEWS_FQDN" "${CTL_OPT[@]}"
  expect "${REVIEWS_FQDN//./\\.} +9080 +v1 " "a cluster for subset v1"
  show 40 remoractl proxy-config clusters "$PRODUCTPAGE" --fqdn "$REVIEWS_FQDN" --subset v1 -o json "${CTL_OPT[@]}"
  expect_fixed "\"name\": \"outbound|9080|v1|${REVIEWS_FQDN}\"" "cluster outbound|9080|v1|${REVIEWS_FQDN}"
  expect '"type": "EDS"' "of type EDS"
  local v1_ip
  v1_ip=$(pod_ip "$REVIEWS_V1")
  until_ok "$CONVERGE_S" "endpoints of subset v1 in productpage's proxy" v1_endpoints_healthy
  show 10 remoractl proxy-config endpoints "$PRODUCTPAGE" --cluster "outbound|9080|v1|${REVIEWS_FQDN}" "${CTL_OPT[@]}"
  expect "^${v1_ip//./\\.}:9080 +HEALTHY" "its endpoint is reviews-v1, ${v1_ip}:9080"
  local n
  n=$(grep -Ec '^[0-9.]+:[0-9]+ ' <<<"$OUT" || true)
  ((n == 1)) || fail "subset v1 should have exactly one endpoint (the pod labelled version=v1), it has $n"
  ok "and only that one"

  say "Every answer now comes from reviews v1:"
  until_ok "$CONVERGE_S" "a call to reviews answering 200" reviews_answer_200
  SHOW_AS="$(display rlab exec "$PRODUCTPAGE" -- sh -c "$GET12")" \
    SHOW_FILTER=call_chains show 14 get_productpage 12
  local versions
  versions=$(reviews_versions <<<"$OUT" | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')
  [[ $versions == "v1:12 " ]] || fail "expected 12 answers from reviews v1, got: ${versions:-none}"
  ok "12 of 12 answers from reviews v1"
}

tear_down() {
  step "Tear down" \
    "remoractl lab down stops pilot, the proxies and the apps and deletes the namespaces, their links and rules, the /etc/netns entries and the lab's state."
  show 5 rlab down -q
  local left
  left=$(leftovers)
  [[ -z $left ]] || fail "left behind: $(tr '\n' ' ' <<<"$left")"
  ok "nothing of lab $LAB is left"
  LAB_TOUCHED=0
}

print_usage_hints() {
  local c="remoractl"
  local b
  b=$(dirname "$RCTL_BIN")
  cat <<EOF

The mesh is up (lab $LAB). Use it as the seed does (as root; remoractl is $b/remoractl):

  export PATH=$b:\$PATH
  $c lab ${LAB_OPT[*]:+${LAB_OPT[*]} }status
  $c lab ${LAB_OPT[*]:+${LAB_OPT[*]} }exec $PRODUCTPAGE -- curl -s http://productpage:9080/productpage
  $c lab ${LAB_OPT[*]:+${LAB_OPT[*]} }exec $REVIEWS_V1 -- iptables -t nat -L -v
  $c proxy-status${CTL_OPT[*]:+ ${CTL_OPT[*]}}
  $c proxy-config listeners $REVIEWS_V1${CTL_OPT[*]:+ ${CTL_OPT[*]}}
  $c proxy-config routes $REVIEWS_V1 --name 9080 -o json${CTL_OPT[*]:+ ${CTL_OPT[*]}}
  $c explain $REVIEWS_V2 http://ratings:9080/ratings/0${CTL_OPT[*]:+ ${CTL_OPT[*]}}
  $c apply -f $VS_V1${CTL_OPT[*]:+ ${CTL_OPT[*]}}
  $c apply -f $DR_REVIEWS${CTL_OPT[*]:+ ${CTL_OPT[*]}}

Remove it with: scripts/demo.sh down${LAB_OPT[*]:+ ${LAB_OPT[*]}}
EOF
}

finish() {
  local took=$(($(date +%s) - START_TIME))
  printf '\n%sdemo: OK: all %d steps showed what they should (%dm%02ds)%s\n' \
    "$GREEN" "$STEP_NO" $((took / 60)) $((took % 60)) "$RESET"
}

# ---------------------------------------------------------------------------
need_root
case $MODE in
  walk)
    build
    bring_up
    traffic
    interception
    virtual_listener
    inbound_handler
    outbound_handler
    endpoints
    explain_step
    virtual_service
    destination_rule
    tear_down
    finish
    ;;
  up)
    build
    bring_up
    traffic
    KEEP_LAB=1
    finish
    print_usage_hints
    ;;
  down)
    if [[ -n ${REMORA_BUILD_DIR:-} ]]; then
      BUILD_DIR=$REMORA_BUILD_DIR
    else
      BUILD_DIR=build/release
      [[ -x $BUILD_DIR/apps/remoractl/remoractl ]] || build
    fi
    RCTL_BIN=$BUILD_DIR/apps/remoractl/remoractl
    [[ $BUILD_DIR == /* ]] || RCTL_BIN=$ROOT/$RCTL_BIN
    if ! lab_exists; then
      echo "demo: no lab named $LAB is up; nothing to remove"
      exit 0
    fi
    LAB_TOUCHED=1
    tear_down
    ;;
esac
