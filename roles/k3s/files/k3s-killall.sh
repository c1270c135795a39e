#!/bin/sh
# Stop what a stopped k3s leaves behind: container shims and their processes, mounts under k3s' and kubelet's
# directories, CNI interfaces and k3s' iptables rules. Prints "changed" when it did anything.
# usage: k3s-killall.sh DATA_DIR
set -u
DATA_DIR=${1:-/var/lib/rancher/k3s}
changed=""

for pid in $(pgrep -f "$DATA_DIR/data/[^/]+/bin/containerd-shim" 2>/dev/null); do
  # the shim and every process below it
  for child in $(pgrep -P "$pid" 2>/dev/null) "$pid"; do kill -9 "$child" 2>/dev/null && changed=1; done
done

for dir in /run/k3s /var/lib/kubelet/pods /var/lib/kubelet/plugins /run/netns/cni- "$DATA_DIR"; do
  awk -v d="$dir" '$2 ~ "^"d { print $2 }' /proc/self/mounts | sort -r | while read -r mnt; do
    umount -f "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  done
done
awk '$2 ~ "^(/run/k3s|/var/lib/kubelet/pods|/run/netns/cni-)" { found=1 } END { exit !found }' /proc/self/mounts \
  && echo "mounts remain under /run/k3s or /var/lib/kubelet/pods" >&2

for link in cni0 flannel.1 flannel-v6.1 flannel-wg flannel-wg-v6 kube-ipvs0; do
  if ip link show "$link" >/dev/null 2>&1; then ip link delete "$link" && changed=1; fi
done

if command -v iptables-save >/dev/null 2>&1 && iptables-save 2>/dev/null | grep -qE 'KUBE-|CNI-|flannel'; then
  iptables-save | grep -vE 'KUBE-|CNI-|flannel' | iptables-restore && changed=1
fi

[ -n "$changed" ] && echo changed
exit 0
