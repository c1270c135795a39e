# The real node of the test bed and its network: a network namespace holding the control plane, containerd, the
# kubelet and kube-proxy; the host joined to it by one veth pair; images imported, never pulled; cluster DNS; the
# LoadBalancer and volume stand-ins (controllers.py). Sourced by ../testbed.
# shellcheck shell=bash

NODE_STATE=$TESTBED_STATE/node
NODE_RUN=/run/$TB_NETNS-containerd        # containerd's state (sockets, task dirs, pod network namespaces)
CTR_ADDRESS=$NODE_RUN/containerd.sock
# this checkout's images (NAME REFERENCE ARCHIVE per line); the archives are shared by every checkout in the cache
IMAGE_INDEX=$TESTBED_STATE/images.txt
# what the kubelet changes machine-wide at start; `down` puts the values found before back
KUBELET_SYSCTLS="vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes"
NODE_IMAGES="pause coredns base hub chp singleuser network-tools postgresql busybox keycloak conda-store"
# the kubelet's cgroup root: the pods of this test bed, and nothing else, live below it
CGROUP_ROOT=/$TB_NETNS

node_packages() { # Debian packages of the real node, installed when missing (needs root)
  local missing=() bin package
  for bin in containerd:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins \
             iptables:iptables conntrack:conntrack debootstrap:debootstrap; do
    package=${bin#*:}; bin=${bin%%:*}
    command -v "$bin" >/dev/null 2>&1 || [ -x "$bin" ] || missing+=("$package")
  done
  [ ${#missing[@]} = 0 ] && return 0
  log "installing ${missing[*]} (Debian packages of the real node)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
  # Debian starts the packaged containerd: the test bed runs its own, in its namespace
  if [ -d /run/systemd/system ]; then systemctl disable --now containerd >/dev/null 2>&1 || true
  else pkill -x containerd 2>/dev/null || true; fi
}

image_jdk() { # a JDK of Java 21 or newer with jlink, for the Keycloak image's runtime (Keycloak 26 needs 21)
  local jdk major
  for jdk in "${KEYCLOAK_JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [ -n "$jdk" ] && [ -x "$jdk/bin/jlink" ] && [ -f "$jdk/release" ] || continue
    major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$jdk/release")
    [ "${major:-0}" -ge 21 ] && { echo "$jdk"; return; }
  done
  die "the Keycloak image needs a JDK of Java 21 or newer with jlink (KEYCLOAK_JAVA_HOME, or under /usr/lib/jvm)"
}

build_images() { # the real node's images, each built once from tests/testbed/images/<name>.yml
  local t0; t0=$(date +%s.%N)
  mkdir -p "$TESTBED_STATE"
  PAUSE_BIN=$PAUSE_DIR/pause COREDNS_BIN=$COREDNS_DIR/coredns KEYCLOAK_ZIP=$KEYCLOAK_IMAGE_ZIP \
  KEYCLOAK_IMAGE_VERSION=$KEYCLOAK_IMAGE_VERSION IMAGE_JDK=$(image_jdk) \
    "$PYTHON" "$TESTBED_SRC/lib/images.py" build $NODE_IMAGES \
    > "$IMAGE_INDEX.part" || die "building the images failed"
  mv "$IMAGE_INDEX.part" "$IMAGE_INDEX"
  log "images ready in $(since "$t0") s"
}

image_ref() { awk -v n="$1" '$1 == n { print $2 }' "$IMAGE_INDEX"; }

real_node_settings() { # REAL_NODE, REAL_LABELS, REAL_TAINTS from the inventory (tests/testbed/lib/nodes.py)
  eval "$("$PYTHON" "$TESTBED_SRC/lib/nodes.py" "$TESTBED_INVENTORY" real)"
}

netns_up() {
  [ -e "/run/netns/$TB_NETNS" ] && return 0
  local taken; taken=$(ip -4 route show to match "$NODE_IP" | grep -v '^default' | head -n1 || true)
  [ -z "$taken" ] || die "the host already routes $NODE_IP ($taken): move the test bed with TB_NET=10.x"
  ip netns add "$TB_NETNS"
  ip link add "$TB_VETH" type veth peer name uplink netns "$TB_NETNS"
  ip addr add "$LINK_HOST/30" dev "$TB_VETH"
  ip link set "$TB_VETH" up
  innet sh -euc "
    ip link set lo up
    ip addr add $LINK_NS/30 dev uplink; ip link set uplink up
    ip link add cni0 type bridge; ip addr add $NODE_IP/24 dev cni0; ip link set cni0 up
    # Services: to the bridge, where kube-proxy's rules turn them into pods (locally made packets need a route
    # before NAT); an address no Service has gets no answer there. kwok's pods do not exist: unreachable at once.
    ip route add $SERVICE_CIDR dev cni0
    ip route add unreachable $KWOK_POD_CIDR
    ip route add unreachable default
    sysctl -qw net.ipv4.ip_forward=1
    sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true
  "
  # the host reaches the node, its pods, Services and LoadBalancer addresses through the namespace only
  local cidr
  for cidr in "$POD_CIDR" "$LB_POOL" "$SERVICE_CIDR" "$KWOK_POD_CIDR"; do ip route add "$cidr" via "$LINK_NS" dev "$TB_VETH"; done
  log "network namespace $TB_NETNS: node $NODE_IP, LoadBalancer pool $LB_POOL, host link $TB_VETH $LINK_HOST"
}

netns_down() {
  [ -e "/run/netns/$TB_NETNS" ] || return 0
  ip link del "$TB_VETH" 2>/dev/null || true   # its routes go with it
  ip netns del "$TB_NETNS"
  # iproute2 makes /run/netns a mount of its own; leave the machine as it was when nothing else uses it
  if [ -z "$(ls -A /run/netns 2>/dev/null)" ] && grep -q " /run/netns " /proc/mounts; then
    umount /run/netns 2>/dev/null && rmdir /run/netns 2>/dev/null || true
  fi
}

# render TEMPLATE OUT: the node's configuration files with their @PLACEHOLDERS@ filled in
render() {
  sed -e "s|@STATE@|$NODE_STATE|g" -e "s|@RUN@|$NODE_RUN|g" -e "s|@PKI@|$PKI|g" -e "s|@NODE_IP@|$NODE_IP|g" \
      -e "s|@POD_CIDR@|$POD_CIDR|g" -e "s|@POD_FIRST@|${NODE_IP%.1}.10|g" -e "s|@BRIDGE@|cni0|g" \
      -e "s|@DNS_IP@|$DNS_IP|g" -e "s|@NODE_NAME@|$REAL_NODE|g" -e "s|@CNI_CONF@|$NODE_STATE/cni|g" \
      -e "s|@PAUSE@|$(image_ref pause)|g" -e "s|@COREDNS_IMAGE@|$(image_ref coredns)|g" \
      -e "s|@REAL_LABEL@|testbed.nebari.dev/real|g" -e "s|@TAINTS@|$REAL_TAINTS|g" \
      -e "s|@PLACEMENT_PORT@|$TB_PLACEMENT_PORT|g" -e "s|@CGROUP_ROOT@|$CGROUP_ROOT|g" -e "s|@CA_BUNDLE@|$(base64 -w0 < "$PKI/ca.crt")|g" "$1" > "$2.new"
  # only a changed file is replaced: kube-proxy exits when its configuration file is written to
  if cmp -s "$2.new" "$2"; then rm -f "$2.new"; else mv "$2.new" "$2"; fi
}

node_configure() {
  mkdir -p "$NODE_STATE/cni" "$NODE_STATE/kubelet" "$NODE_STATE/pod-logs"
  render "$TESTBED_SRC/node/containerd.toml" "$NODE_STATE/containerd.toml"
  render "$TESTBED_SRC/node/cni.conflist" "$NODE_STATE/cni/10-nebari-testbed.conflist"
  render "$TESTBED_SRC/node/kubelet.yaml.in" "$NODE_STATE/kubelet.yaml"
  render "$TESTBED_SRC/node/kube-proxy.yaml.in" "$NODE_STATE/kube-proxy.yaml"
  render "$TESTBED_SRC/node/coredns.yaml.in" "$NODE_STATE/coredns.yaml"
  render "$TESTBED_SRC/node/placement-webhook.yaml.in" "$NODE_STATE/placement-webhook.yaml"
  printf '%s\n' "$REAL_JSON" > "$NODE_STATE/real.json"
}

ctr() { innet /usr/bin/ctr --address "$CTR_ADDRESS" -n k8s.io "$@"; }

import_images() { # import each image whose archive (its cache key) this containerd has not imported yet
  local name ref archive t0 n=0; t0=$(date +%s.%N)
  touch "$NODE_STATE/imported"
  while read -r name ref archive; do
    grep -qxF "$archive" "$NODE_STATE/imported" && ctr images ls -q "name==$ref" | grep -q . && continue
    ctr images import "$archive" >/dev/null || die "importing $archive into containerd failed"
    echo "$archive" >> "$NODE_STATE/imported"; n=$((n + 1))
  done < "$IMAGE_INDEX"
  [ "$n" = 0 ] || log "imported $n images in $(since "$t0") s"
}

cgroups_up() { # the kubelet needs its cgroup root in every hierarchy (cgroup v1 here); cpuset ones need CPUs
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/; do
    [ -e "$hierarchy/cgroup.procs" ] || continue
    mkdir -p "$hierarchy${CGROUP_ROOT#/}"
    if [ -e "$hierarchy/cpuset.cpus" ]; then
      cat "$hierarchy/cpuset.cpus" > "$hierarchy${CGROUP_ROOT#/}/cpuset.cpus"
      cat "$hierarchy/cpuset.mems" > "$hierarchy${CGROUP_ROOT#/}/cpuset.mems"
    fi
  done
}

cgroups_down() { # every process left below the cgroup root (a container whose shim died), then the cgroups
  local hierarchy pids
  for hierarchy in /sys/fs/cgroup/*/; do
    [ -d "$hierarchy${CGROUP_ROOT#/}" ] || continue
    pids=$(find "$hierarchy${CGROUP_ROOT#/}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  done
  sleep 0.2
  for hierarchy in /sys/fs/cgroup/*/; do
    [ -d "$hierarchy${CGROUP_ROOT#/}" ] && find "$hierarchy${CGROUP_ROOT#/}" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return 0
}

save_sysctls() {
  [ -f "$TESTBED_STATE/run/sysctls-before" ] && return 0
  local key
  for key in $KUBELET_SYSCTLS; do echo "$key $(sysctl -n "$key")"; done > "$TESTBED_STATE/run/sysctls-before"
}

restore_sysctls() {
  [ -f "$TESTBED_STATE/run/sysctls-before" ] || return 0
  local key value
  while read -r key value; do
    [ "$(sysctl -n "$key")" = "$value" ] || sysctl -qw "$key=$value"
  done < "$TESTBED_STATE/run/sysctls-before"
  rm -f "$TESTBED_STATE/run/sysctls-before"
}

placement_ready() { [ "$(curl -sk -o /dev/null -w '%{http_code}' "https://$NODE_IP:$TB_PLACEMENT_PORT/")" = 501 ]; }
real_node_ready() { kubectl wait --for=condition=Ready "node/$REAL_NODE" --timeout=5s; }
dns_ready() { [ "$(kubectl get deploy coredns -n kube-system -o jsonpath='{.status.readyReplicas}')" = 1 ]; }

node_up() {
  local t0; t0=$(date +%s.%N)
  node_configure
  start_in_net containerd /usr/bin/containerd --config "$NODE_STATE/containerd.toml"
  waitfor containerd 30 "$TESTBED_STATE/logs/containerd.log" ctr version
  import_images
  save_sysctls
  cgroups_up
  # a real node of another name (the inventory changed) is gone; a Node of this name that kwok played would stay
  # kwok's
  local stale; stale=$(kubectl get nodes -l testbed.nebari.dev/real=true -o name | grep -vx "node/$REAL_NODE" || true)
  [ -z "$stale" ] || kubectl delete $stale >/dev/null
  if [ -n "$(kubectl get node "$REAL_NODE" -o jsonpath='{.metadata.annotations.kwok\.x-k8s\.io/node}' 2>/dev/null)" ]; then
    kubectl delete node "$REAL_NODE" >/dev/null
  fi
  start_in_net kubelet "$KUBE_BIN_DIR/kubelet" --config="$NODE_STATE/kubelet.yaml" \
    --kubeconfig="$PKI/kubelet.kubeconfig" --root-dir="$NODE_STATE/kubelet" --hostname-override="$REAL_NODE" \
    --node-ip="$NODE_IP" --node-labels="$REAL_LABELS"
  start_in_net kube-proxy "$KUBE_BIN_DIR/kube-proxy" --config="$NODE_STATE/kube-proxy.yaml"
  start controllers "$PYTHON" "$TESTBED_SRC/lib/controllers.py" "$KUBECONFIG_ADMIN" "$TESTBED_STATE" "$LB_POOL"
  start_in_net placement "$PYTHON" "$TESTBED_SRC/lib/placement.py" "$NODE_IP" "$TB_PLACEMENT_PORT" \
    "$PKI/placement.crt" "$PKI/placement.key" "$IMAGE_INDEX" "$NODE_STATE/real.json"
  waitfor "real node $REAL_NODE Ready" 120 "$TESTBED_STATE/logs/kubelet.log" real_node_ready
  waitfor "placement webhook" 30 "$TESTBED_STATE/logs/placement.log" placement_ready
  kubectl apply -f "$NODE_STATE/coredns.yaml" -f "$TESTBED_SRC/node/storage-class.yaml" \
    -f "$NODE_STATE/placement-webhook.yaml" >/dev/null
  waitfor "cluster DNS" 120 "$TESTBED_STATE/logs/kubelet.log" dns_ready
  log "real node $REAL_NODE ready in $(since "$t0") s"
}

node_down() { # the node's processes, then what they leave: containers, mounts, cgroups, sysctls
  local pid
  stop_services kube-proxy kubelet controllers placement
  if pid_alive "$TESTBED_STATE/run/containerd.pid"; then
    local task
    for task in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true; done
    sleep 0.5
    for task in $(ctr tasks ls -q 2>/dev/null); do ctr tasks delete -f "$task" >/dev/null 2>&1 || true; done
    ctr containers ls -q 2>/dev/null | xargs -r /usr/bin/ctr --address "$CTR_ADDRESS" -n k8s.io containers delete \
      >/dev/null 2>&1 || true
  fi
  stop_services containerd
  # shims outlive containerd by design; ours name our socket on their command line
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*$NODE_RUN/containerd.sock" || true); do kill -KILL "$pid" 2>/dev/null || true; done
  awk '{ print $2 }' /proc/mounts | grep -E "^($NODE_STATE|$NODE_RUN)/" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$NODE_RUN" "$NODE_STATE/cni-ipam"
  cgroups_down
  restore_sysctls
}
