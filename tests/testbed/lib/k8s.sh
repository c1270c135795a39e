# The Kubernetes control plane of the test bed: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
# the kwok controller, all on 127.0.0.1, with one PKI and one admin kubeconfig. Sourced by ../testbed.
# shellcheck shell=bash

PKI=$TESTBED_STATE/pki
KUBECONFIG_ADMIN=$TESTBED_STATE/kubeconfig
API_URL=https://127.0.0.1:$TB_APISERVER_PORT

gen_pki() {
  [ -f "$KUBECONFIG_ADMIN" ] && return 0
  log "generating the PKI and admin kubeconfig in $PKI"
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
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1"
    # one admin client certificate (system:masters) serves kcm, scheduler, kwok, helm and Ansible
    leaf admin "/O=system:masters/CN=nebari-testbed-admin" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    chmod 600 ./*.key
  )
  local b64="base64 -w0"
  umask 077
  cat > "$KUBECONFIG_ADMIN" <<EOK
apiVersion: v1
kind: Config
clusters:
  - name: nebari-testbed
    cluster:
      server: $API_URL
      certificate-authority-data: $($b64 < "$PKI/ca.crt")
users:
  - name: nebari-testbed-admin
    user:
      client-certificate-data: $($b64 < "$PKI/admin.crt")
      client-key-data: $($b64 < "$PKI/admin.key")
contexts:
  - name: nebari-testbed
    context: {cluster: nebari-testbed, user: nebari-testbed-admin}
current-context: nebari-testbed
EOK
}

# start NAME CMD...: run CMD in its own session (so `down` can stop it and all its children), log and pid in state
start() {
  local name=$1; shift
  pid_alive "$TESTBED_STATE/run/$name.pid" && return 0
  mkdir -p "$TESTBED_STATE/run" "$TESTBED_STATE/logs"
  setsid "$@" > "$TESTBED_STATE/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$TESTBED_STATE/run/$name.pid"
}

k8s_start_etcd() {
  mkdir -p "$TESTBED_STATE/data"
  start etcd "$ETCD_BIN_DIR/etcd" --name=testbed --data-dir="$TESTBED_STATE/data/etcd" \
    --listen-client-urls="http://127.0.0.1:$TB_ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$TB_ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$TB_ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$TB_ETCD_PEER_PORT" \
    --initial-cluster="testbed=http://127.0.0.1:$TB_ETCD_PEER_PORT" --initial-cluster-state=new \
    --unsafe-no-fsync --logger=zap --log-level=warn
}

k8s_start_apiserver() {
  # --endpoint-reconciler-type=none: the loopback advertise address is otherwise refused in a loop
  start kube-apiserver "$KUBE_BIN_DIR/kube-apiserver" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$TB_APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$TB_ETCD_PORT" --service-cluster-ip-range=10.96.0.0/16 \
    --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --authorization-mode=Node,RBAC --allow-privileged=true --endpoint-reconciler-type=none
}

k8s_start_controllers() {
  # kcm and the scheduler get only --kubeconfig: the requestheader flags loop on a missing CA bundle here
  start kube-controller-manager "$KUBE_BIN_DIR/kube-controller-manager" --kubeconfig="$KUBECONFIG_ADMIN" \
    --bind-address=127.0.0.1 --secure-port="$TB_KCM_PORT" --leader-elect=false \
    --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --use-service-account-credentials=false
  start kube-scheduler "$KUBE_BIN_DIR/kube-scheduler" --kubeconfig="$KUBECONFIG_ADMIN" \
    --bind-address=127.0.0.1 --secure-port="$TB_SCHEDULER_PORT" --leader-elect=false
  # leases held by a previous kwok would delay the new one by up to the lease duration
  pid_alive "$TESTBED_STATE/run/kwok.pid" || kubectl delete lease -n kube-node-lease --all >/dev/null 2>&1 || true
  start kwok "$KWOK_DIR/kwok" --kubeconfig="$KUBECONFIG_ADMIN" --config="$KWOK_DIR/stages.yaml" \
    --manage-all-nodes=true --node-lease-duration-seconds=40 --cidr=10.244.0.0/16
}

kubectl() { "$KUBE_BIN_DIR/kubectl" --kubeconfig="$KUBECONFIG_ADMIN" "$@"; }

api_ready() { curl -sf --cacert "$PKI/ca.crt" "$API_URL/readyz" | grep -qx ok; }
healthz() { curl -sfk "https://127.0.0.1:$1/healthz" | grep -qx ok; }
not_ready_taints_gone() { ! kubectl get nodes -o jsonpath='{.items[*].spec.taints[*].key}' | grep -q not-ready; }

k8s_up() {
  local t0; t0=$(date +%s.%N)
  gen_pki
  k8s_start_etcd
  waitfor etcd 30 "$TESTBED_STATE/logs/etcd.log" sh -c "curl -sf http://127.0.0.1:$TB_ETCD_PORT/health | grep -q '\"health\":\"true\"'"
  k8s_start_apiserver
  waitfor kube-apiserver 120 "$TESTBED_STATE/logs/kube-apiserver.log" api_ready
  k8s_start_controllers
  waitfor kube-controller-manager 60 "$TESTBED_STATE/logs/kube-controller-manager.log" healthz "$TB_KCM_PORT"
  waitfor kube-scheduler 60 "$TESTBED_STATE/logs/kube-scheduler.log" healthz "$TB_SCHEDULER_PORT"
  "$PYTHON" "$TESTBED_SRC/lib/nodes.py" "$TESTBED_INVENTORY" | kubectl apply -f - >/dev/null
  kubectl apply -f "$KWOK_DIR/storage-class.yaml" >/dev/null
  waitfor "nodes Ready" 120 "$TESTBED_STATE/logs/kwok.log" kubectl wait --for=condition=Ready node --all --timeout=5s
  waitfor "node.kubernetes.io/not-ready taints removed" 60 "$TESTBED_STATE/logs/kube-controller-manager.log" not_ready_taints_gone
  waitfor "default service account" 60 "$TESTBED_STATE/logs/kube-controller-manager.log" kubectl get sa default -n default
  log "kubernetes ready in $(since "$t0") s"
}
