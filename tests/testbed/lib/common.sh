# Shared settings of the test bed scripts: paths, ports, logging. Sourced, never run.
# shellcheck shell=bash
TESTBED_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$TESTBED_SRC/../.." && pwd)
# shellcheck source=../versions.env
. "$TESTBED_SRC/versions.env"

# Build products and downloads, keyed by version: shared by every checkout on this machine.
NEBARI_CACHE=${NEBARI_CACHE:-$HOME/.cache/nebari-platform}
# Run-time state of this checkout's test bed (PKI, etcd data, logs, pids): git-ignored.
TESTBED_STATE=${TESTBED_STATE:-$REPO_ROOT/.testbed}

# The network namespace of the control plane and the real node, joined to the host by one veth pair and routed
# nowhere else: the host reaches the API server, Services, pods and LoadBalancer addresses through it, and no
# packet from inside can leave the machine. Every address is under $TB_NET (a /16), so that two test beds with
# their own TB_NETNS, TB_VETH and TB_NET never share one: .0.0/24 the node (.0.1) and its pods, .1.0/24 the
# LoadBalancer pool, .2.0/30 the host link, .64.0/18 kwok's pods, .128.0/17 the Services.
TB_NETNS=${TB_NETNS:-nebari-testbed}
TB_VETH=${TB_VETH:-nbtb0}
TB_NET=${TB_NET:-10.250}
NODE_IP=$TB_NET.0.1
POD_CIDR=$TB_NET.0.0/24
LB_POOL=$TB_NET.1.0/24
LINK_HOST=$TB_NET.2.1
LINK_NS=$TB_NET.2.2
KWOK_POD_CIDR=$TB_NET.64.0/18
SERVICE_CIDR=$TB_NET.128.0/17
KUBERNETES_SERVICE_IP=$TB_NET.128.1
DNS_IP=$TB_NET.128.10
# where images are named as if mirrored (nebari_image_registry of the sandbox): nothing resolves it, nothing is pulled
TB_REGISTRY=testbed.invalid

# innet CMD...: run CMD in the test bed's network namespace (nsenter, not `ip netns exec`: that also makes a mount
# namespace, and runc then misses the kubelet's volume mounts)
innet() { nsenter --net="/run/netns/$TB_NETNS" "$@"; }

# Ports. Keycloak and conda-store listen on the host's 127.0.0.1; the others inside the namespace. Not the usual
# ones, so the sandbox does not collide with a real k3s or Keycloak.
TB_ETCD_PORT=${TB_ETCD_PORT:-23790}
TB_ETCD_PEER_PORT=${TB_ETCD_PEER_PORT:-23800}
TB_APISERVER_PORT=${TB_APISERVER_PORT:-16443}
TB_KCM_PORT=${TB_KCM_PORT:-20257}
TB_SCHEDULER_PORT=${TB_SCHEDULER_PORT:-20259}
TB_PLACEMENT_PORT=${TB_PLACEMENT_PORT:-20443}
TB_KEYCLOAK_PORT=${TB_KEYCLOAK_PORT:-18080}
TB_CONDA_STORE_PORT=${TB_CONDA_STORE_PORT:-18181}
TB_CONDA_CHANNEL_PORT=${TB_CONDA_CHANNEL_PORT:-18182}

export GOMODCACHE=$NEBARI_CACHE/go/mod GOCACHE=$NEBARI_CACHE/go/build GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
export CGO_ENABLED=0

log() { printf '[testbed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# elapsed since a `date +%s.%N` stamp, in seconds with one decimal
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# hash of files, for cache keys that change when a build input changes
files_hash() { cat "$@" | sha256sum | cut -c1-12; }
# pip_venv VENV REQUIREMENTS PYTHON: create VENV afresh with PYTHON and install the pinned set into it
pip_venv() { rm -rf "$1"; "$3" -m venv "$1"; "$1/bin/pip" install -q --disable-pip-version-check -r "$2"; }

# waitfor DESCRIPTION TIMEOUT_S LOGFILE CMD...: poll CMD until it succeeds; on timeout show the log tail
waitfor() {
  local desc=$1 timeout=$2 logfile=$3; shift 3
  local end=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$end" ]; then
      log "timed out after ${timeout}s waiting for $desc; last lines of $logfile:"
      tail -n 30 "$logfile" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
