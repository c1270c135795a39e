# Builds the test bed's binaries from the Go module proxy and fetches Keycloak from Maven Central, once per
# version, into $NEBARI_CACHE. Sourced by ../testbed; every function is a no-op when its product is cached.
# shellcheck shell=bash

KUBE_BIN_DIR=$NEBARI_CACHE/bin/kube-$KUBE_VERSION-$(files_hash "$TESTBED_SRC"/build/kube/{go.mod,go.sum,main.go})
ETCD_BIN_DIR=$NEBARI_CACHE/bin/etcd-$ETCD_VERSION-$(files_hash "$TESTBED_SRC"/build/etcd/{go.mod,go.sum,tools.go})
COREDNS_DIR=$NEBARI_CACHE/bin/coredns-$COREDNS_VERSION-$(files_hash "$TESTBED_SRC"/build/coredns/{go.mod,go.sum,main.go})
PAUSE_DIR=$NEBARI_CACHE/bin/pause-$(files_hash "$TESTBED_SRC"/build/pause/{go.mod,main.go})
KWOK_DIR=$NEBARI_CACHE/bin/kwok-$KWOK_VERSION
HELM_DIR=$NEBARI_CACHE/bin/helm-$HELM_VERSION
KEYCLOAK_HOME=$NEBARI_CACHE/keycloak/keycloak-$KEYCLOAK_VERSION

BUILT_WITH_GO=0

timed() { # NAME CMD...: run CMD, report wall and CPU seconds
  local name=$1 t0; shift; t0=$(date +%s.%N)
  local tf; tf=$(mktemp)
  /usr/bin/time -f '%U %S' -o "$tf" "$@" || { rm -f "$tf"; die "$name failed"; }
  log "built $name in $(since "$t0") s wall, $(awk '{ printf "%.0f", $1 + $2 }' "$tf") CPU-s"; rm -f "$tf"
}

build_kube() {
  [ -x "$KUBE_BIN_DIR/kube" ] && return 0
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kubelet, kube-proxy $KUBE_VERSION (cold: ~20 CPU-min)"
  local ld="-s -w" p minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ld="$ld -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$KUBE_BIN_DIR.tmp"; BUILT_WITH_GO=1
  (cd "$TESTBED_SRC/build/kube" && timed kube go build -trimpath -ldflags "$ld" -o "$KUBE_BIN_DIR.tmp/kube" .)
  for p in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy; do
    ln -sf kube "$KUBE_BIN_DIR.tmp/$p"
  done
  rm -rf "$KUBE_BIN_DIR"; mv "$KUBE_BIN_DIR.tmp" "$KUBE_BIN_DIR"
}

build_etcd() {
  [ -x "$ETCD_BIN_DIR/etcd" ] && return 0
  log "building etcd $ETCD_VERSION"
  mkdir -p "$ETCD_BIN_DIR.tmp"; BUILT_WITH_GO=1
  (cd "$TESTBED_SRC/build/etcd" && timed etcd go build -trimpath -ldflags "-s -w" -o "$ETCD_BIN_DIR.tmp/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$ETCD_BIN_DIR"; mv "$ETCD_BIN_DIR.tmp" "$ETCD_BIN_DIR"
}

build_coredns() { # the cluster DNS of the real node, with only the plugins its Corefile uses
  [ -x "$COREDNS_DIR/coredns" ] && return 0
  log "building coredns $COREDNS_VERSION"
  mkdir -p "$COREDNS_DIR.tmp"; BUILT_WITH_GO=1
  (cd "$TESTBED_SRC/build/coredns" && timed coredns go build -trimpath -ldflags "-s -w" -o "$COREDNS_DIR.tmp/coredns" .)
  rm -rf "$COREDNS_DIR"; mv "$COREDNS_DIR.tmp" "$COREDNS_DIR"
}

build_pause() { # the pod sandbox process of the real node
  [ -x "$PAUSE_DIR/pause" ] && return 0
  mkdir -p "$PAUSE_DIR.tmp"; BUILT_WITH_GO=1
  (cd "$TESTBED_SRC/build/pause" && timed pause go build -trimpath -ldflags "-s -w" -o "$PAUSE_DIR.tmp/pause" .)
  rm -rf "$PAUSE_DIR"; mv "$PAUSE_DIR.tmp" "$PAUSE_DIR"
}

build_kwok() {
  [ -x "$KWOK_DIR/kwok" ] && [ -f "$KWOK_DIR/stages.yaml" ] && return 0
  log "building kwok $KWOK_VERSION"
  mkdir -p "$KWOK_DIR.tmp"; BUILT_WITH_GO=1
  GOBIN=$KWOK_DIR.tmp timed kwok go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok will not start without stages: take the ones kwokctl uses by default, plus the fast volume stages,
  # from the module it was built from.
  local s=$GOMODCACHE/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage f
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml \
           volume/fast/pvc-provision.yaml volume/fast/pv-bind.yaml volume/fast/pv-delete.yaml volume/fast/pvc-delete.yaml; do
    [ -f "$s/$f" ] || die "kwok stage $f missing from $s"
    printf -- '---\n'; cat "$s/$f"
  done > "$KWOK_DIR.tmp/stages.yaml"
  cp "$s/volume/fast/storage-class.yaml" "$KWOK_DIR.tmp/storage-class.yaml"
  rm -rf "$KWOK_DIR"; mv "$KWOK_DIR.tmp" "$KWOK_DIR"
}

build_helm() {
  [ -x "$HELM_DIR/helm" ] && return 0
  log "building helm $HELM_VERSION"
  mkdir -p "$HELM_DIR.tmp"; BUILT_WITH_GO=1
  GOBIN=$HELM_DIR.tmp timed helm go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  rm -rf "$HELM_DIR"; mv "$HELM_DIR.tmp" "$HELM_DIR"
}

fetch_keycloak() {
  [ -x "$KEYCLOAK_HOME/bin/kc.sh" ] && return 0
  log "fetching Keycloak $KEYCLOAK_VERSION from Maven Central"
  local dl=$NEBARI_CACHE/keycloak/download
  mkdir -p "$dl"
  timed keycloak-download mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$NEBARI_CACHE/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
    "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" -DoutputDirectory="$dl"
  rm -rf "$KEYCLOAK_HOME"
  unzip -q "$dl/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$NEBARI_CACHE/keycloak"
  rm -f "$dl/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
  rm -rf "$NEBARI_CACHE/m2/org/keycloak/keycloak-quarkus-dist"   # the unzipped copy is what is kept
}

# the zip of the Keycloak that the real node's image runs (the chart's version), kept for the image build
KEYCLOAK_IMAGE_ZIP=$NEBARI_CACHE/keycloak/dist/keycloak-quarkus-dist-$KEYCLOAK_IMAGE_VERSION.zip
fetch_keycloak_image_dist() {
  [ -f "$KEYCLOAK_IMAGE_ZIP" ] && return 0
  log "fetching Keycloak $KEYCLOAK_IMAGE_VERSION (the image's) from Maven Central"
  timed keycloak-image-download mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$NEBARI_CACHE/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
    "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_IMAGE_VERSION:zip" -DoutputDirectory="${KEYCLOAK_IMAGE_ZIP%/*}"
  rm -rf "$NEBARI_CACHE/m2/org/keycloak/keycloak-quarkus-dist"
}

build_all() {
  local t0; t0=$(date +%s.%N)
  build_etcd; build_kube; build_coredns; build_pause; build_kwok; build_helm; fetch_keycloak; fetch_keycloak_image_dist
  # The binaries are cached by version; Go's build cache (about 8 GB) only speeds up a rebuild after a version
  # change. Keep it with NEBARI_KEEP_GO_BUILD_CACHE=1; the module cache (about 1 GB) is always kept.
  if [ "$BUILT_WITH_GO" = 1 ] && [ "${NEBARI_KEEP_GO_BUILD_CACHE:-0}" != 1 ]; then
    go clean -cache && log "Go build cache emptied ($GOCACHE)"
  fi
  log "binaries ready in $(since "$t0") s"
}
