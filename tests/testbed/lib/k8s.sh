# The Kubernetes control plane of the test bed: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
# the kwok controller, in the test bed's network namespace (the API server on the node's address, the others on the
# namespace's loopback), with one PKI and one admin kubeconfig. Sourced by ../testbed.
# shellcheck shell=bash

PKI=$TESTBED_STATE/pki
KUBECONFIG_ADMIN=$TESTBED_STATE/kubeconfig
API_URL=https://$NODE_IP:$TB_APISERVER_PORT
# bump when the certificates or kubeconfigs below change: a state made by an older version gets a new PKI
PKI_VERSION=4

# kubeconfig NAME FILE: a kubeconfig for the client certificate $PKI/NAME.crt
write_kubeconfig() {
  local b64="base64 -w0"
  (umask 077; cat > "$2" <<EOK
apiVersion: v1
kind: Config
clusters:
  - name: nebari-testbed
    cluster:
      server: $API_URL
      certificate-authority-data: $($b64 < "$PKI/ca.crt")
users:
  - name: $1
    user:
      client-certificate-data: $($b64 < "$PKI/$1.crt")
      client-key-data: $($b64 < "$PKI/$1.key")
contexts:
  - name: nebari-testbed
    context: {cluster: nebari-testbed, user: $1}
current-context: nebari-testbed
EOK
  )
}

gen_pki() {
  local stamp="$PKI_VERSION $REAL_NODE $TB_NET"
  [ -f "$KUBECONFIG_ADMIN" ] && [ "$(cat "$PKI/version" 2>/dev/null)" = "$stamp" ] && return 0
  log "generating the PKI and kubeconfigs in $PKI"
  # what etcd holds was made for another PKI or network (tokens, Service IPs): start from an empty cluster
  rm -rf "$PKI" "$KUBECONFIG_ADMIN" "$TESTBED_STATE/data/etcd"
  mkdir -p "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -keyout ca.key -out ca.crt -subj "/CN=nebari-testbed-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    leaf() { # name subject extensions
      openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      printf '%s\n' "$3" > "$1.ext"
      openssl x509 -req -sha256 -days 3650 -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" \
        -extfile "$1.ext" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    leaf apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP"
    leaf kubelet-serving "/CN=$REAL_NODE" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$REAL_NODE,IP:$NODE_IP"
    leaf placement "/CN=testbed-placement" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:$NODE_IP"
    client="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    # one admin client certificate (system:masters) serves kcm, scheduler, kwok, helm and Ansible; the API server
    # calls kubelets with another; the real node's kubelet and kube-proxy have their own identities
    leaf admin "/O=system:masters/CN=nebari-testbed-admin" "$client"
    leaf apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
    leaf kubelet "/O=system:nodes/CN=system:node:$REAL_NODE" "$client"
    leaf kube-proxy "/CN=system:kube-proxy" "$client"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    chmod 600 ./*.key
  )
  write_kubeconfig kubelet "$PKI/kubelet.kubeconfig"
  write_kubeconfig kube-proxy "$PKI/kube-proxy.kubeconfig"
  write_kubeconfig admin "$KUBECONFIG_ADMIN"
  echo "$stamp" > "$PKI/version"
}

# start NAME CMD...: run CMD in its own session (so `down` can stop it and all its children), log and pid in state
start() {
  local name=$1; shift
  pid_alive "$TESTBED_STATE/run/$name.pid" && return 0
  mkdir -p "$TESTBED_STATE/run" "$TESTBED_STATE/logs"
  setsid "$@" > "$TESTBED_STATE/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$TESTBED_STATE/run/$name.pid"
}
# stop_services NAME...: TERM the services' process groups at once, KILL what is left after 20 s
stop_services() {
  local name pid pids=() i
  for name in "$@"; do
    pid_alive "$TESTBED_STATE/run/$name.pid" && pid=$(cat "$TESTBED_STATE/run/$name.pid") &&
      kill -TERM -- "-$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$TESTBED_STATE/run/$name.pid"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  any_alive() { for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && return 0; done; return 1; }
  for i in $(seq 1 100); do any_alive || return 0; sleep 0.2; done
  for pid in "${pids[@]}"; do
    kill -0 -- "-$pid" 2>/dev/null || continue
    log "process group $pid still running after 20 s: killing"
    kill -KILL -- "-$pid" 2>/dev/null || true   # it may end between the two calls
  done
}
# start_in_net NAME CMD...: the same, inside the test bed's network namespace
start_in_net() { local name=$1; shift; start "$name" nsenter --net="/run/netns/$TB_NETNS" "$@"; }

k8s_start_etcd() {
  mkdir -p "$TESTBED_STATE/data"
  start_in_net etcd "$ETCD_BIN_DIR/etcd" --name=testbed --data-dir="$TESTBED_STATE/data/etcd" \
    --listen-client-urls="http://127.0.0.1:$TB_ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$TB_ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$TB_ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$TB_ETCD_PEER_PORT" \
    --initial-cluster="testbed=http://127.0.0.1:$TB_ETCD_PEER_PORT" --initial-cluster-state=new \
    --unsafe-no-fsync --logger=zap --log-level=warn
}

k8s_start_apiserver() {
  # on the node's address, which the `kubernetes` Service of real pods leads to (a loopback one would not work)
  start_in_net kube-apiserver "$KUBE_BIN_DIR/kube-apiserver" \
    --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port="$TB_APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$TB_ETCD_PORT" --service-cluster-ip-range="$SERVICE_CIDR" \
    --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --authorization-mode=Node,RBAC --allow-privileged=true --enable-admission-plugins=NodeRestriction \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" --kubelet-certificate-authority="$PKI/ca.crt" \
    --kubelet-preferred-address-types=InternalIP
}

k8s_start_controllers() {
  # kcm and the scheduler get only --kubeconfig: the requestheader flags loop on a missing CA bundle here
  start_in_net kube-controller-manager "$KUBE_BIN_DIR/kube-controller-manager" --kubeconfig="$KUBECONFIG_ADMIN" \
    --bind-address="$NODE_IP" --secure-port="$TB_KCM_PORT" --leader-elect=false \
    --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --use-service-account-credentials=false
  start_in_net kube-scheduler "$KUBE_BIN_DIR/kube-scheduler" --kubeconfig="$KUBECONFIG_ADMIN" \
    --bind-address="$NODE_IP" --secure-port="$TB_SCHEDULER_PORT" --leader-elect=false
  # leases held by a previous kwok would delay the new one by up to the lease duration
  pid_alive "$TESTBED_STATE/run/kwok.pid" || kubectl delete lease -n kube-node-lease --all >/dev/null 2>&1 || true
  # kwok plays the nodes annotated as its own (the real node is the kubelet's)
  start_in_net kwok "$KWOK_DIR/kwok" --kubeconfig="$KUBECONFIG_ADMIN" --config="$KWOK_DIR/stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds=40 --cidr="$KWOK_POD_CIDR"
}

kubectl() { "$KUBE_BIN_DIR/kubectl" --kubeconfig="$KUBECONFIG_ADMIN" "$@"; }

etcd_ready() { innet curl -sf "http://127.0.0.1:$TB_ETCD_PORT/health" | grep -q '"health":"true"'; }
api_ready() { curl -sf --cacert "$PKI/ca.crt" "$API_URL/readyz" | grep -qx ok; }
healthz() { curl -sfk "https://$NODE_IP:$1/healthz" | grep -qx ok; }
not_ready_taints_gone() { ! kubectl get nodes -l type=kwok -o jsonpath='{.items[*].spec.taints[*].key}' | grep -q not-ready; }

k8s_up() {
  local t0; t0=$(date +%s.%N)
  gen_pki
  k8s_start_etcd
  waitfor etcd 30 "$TESTBED_STATE/logs/etcd.log" etcd_ready
  k8s_start_apiserver
  waitfor kube-apiserver 120 "$TESTBED_STATE/logs/kube-apiserver.log" api_ready
  k8s_start_controllers
  waitfor kube-controller-manager 60 "$TESTBED_STATE/logs/kube-controller-manager.log" healthz "$TB_KCM_PORT"
  waitfor kube-scheduler 60 "$TESTBED_STATE/logs/kube-scheduler.log" healthz "$TB_SCHEDULER_PORT"
  "$PYTHON" "$TESTBED_SRC/lib/nodes.py" "$TESTBED_INVENTORY" | kubectl apply -f - >/dev/null
  # kwok binds claims of its own class; the default class is the real node's (node/storage-class.yaml)
  sed 's/is-default-class: "true"/is-default-class: "false"/' "$KWOK_DIR/storage-class.yaml" | kubectl apply -f - >/dev/null
  waitfor "nodes Ready" 120 "$TESTBED_STATE/logs/kwok.log" kubectl wait --for=condition=Ready node -l type=kwok --timeout=5s
  waitfor "node.kubernetes.io/not-ready taints removed" 60 "$TESTBED_STATE/logs/kube-controller-manager.log" not_ready_taints_gone
  waitfor "default service account" 60 "$TESTBED_STATE/logs/kube-controller-manager.log" kubectl get sa default -n default
  log "kubernetes ready in $(since "$t0") s"
}
