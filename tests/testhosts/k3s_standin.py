# The test puts this file, with a "#!/usr/bin/python3" line and its version filled in, in the airgap directory as k3s.
# A stand-in for the k3s binary on the test hosts (tests/testhosts), because no real k3s can be built or
# downloaded on the CI machine (see docs/k3s.md, "What the tests verify"). It is NOT k3s: it runs no Kubernetes.
# What it does, so that the role is tested for real everywhere else:
#   - accepts the command line and /etc/rancher/k3s/config.yaml (+ config.yaml.d/*.yaml) the way k3s does, and
#     refuses, as k3s does, a key that is not a flag of that subcommand (server keys in an agent's config, typos);
#   - server with cluster-init: writes the server token and the kubeconfig (write-kubeconfig, -mode), listens on
#     https-listen-port (6443) and admits joining servers and agents that present the cluster token;
#   - server with `server:` and agent: join that address with the token and fail when refused or unreachable;
#   - tells systemd it is ready (Type=notify) and stays running; logs every start as one JSON line to
#     /var/log/k3s-standin.log (argv, subcommand, merged config, whether the token was right) for the tests;
#   - with K3S_STANDIN_API (host:port of a real Kubernetes API server, the test bed's) and K3S_STANDIN_KUBECONFIG
#     (an admin kubeconfig for it) in its environment (/etc/default/k3s, /etc/default/k3s-agent): registers its
#     Node there, with the node-label and node-taint flags and its version, as a kubelet would; the server's
#     port 6443 passes TLS through to that API, and the kubeconfig it writes holds that API's credentials.
from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import socket
import ssl
import sys
import tempfile
import threading
import time

VERSION = "@VERSION@"
COMMON = {"config", "debug", "v", "vmodule", "log", "alsologtostderr", "token", "token-file", "server", "data-dir",
          "node-name", "with-node-id", "node-label", "node-taint", "image-credential-provider-bin-dir",
          "image-credential-provider-config", "docker", "container-runtime-endpoint", "default-runtime",
          "image-service-endpoint", "disable-default-registry-endpoint", "nonroot-devices", "pause-image",
          "snapshotter", "private-registry", "system-default-registry", "node-ip", "node-external-ip",
          "node-internal-dns", "node-external-dns", "resolv-conf", "flannel-iface", "flannel-conf",
          "flannel-cni-conf-file", "kubelet-arg", "kube-proxy-arg", "protect-kernel-defaults", "selinux",
          "lb-server-port", "vpn-auth", "vpn-auth-file", "rootless", "prefer-bundled-bin", "enable-pprof",
          "airgap-extra-registry"}
SERVER = COMMON | {"bind-address", "https-listen-port", "supervisor-port", "apiserver-port", "apiserver-bind-address",
                   "advertise-address", "advertise-port", "tls-san", "tls-san-security", "cluster-cidr",
                   "service-cidr", "service-node-port-range", "cluster-dns", "cluster-domain", "flannel-backend",
                   "flannel-ipv6-masq", "flannel-external-ip", "egress-selector-mode", "servicelb-namespace",
                   "write-kubeconfig", "write-kubeconfig-mode", "write-kubeconfig-group", "helm-job-image",
                   "agent-token", "agent-token-file", "cluster-init", "cluster-reset", "cluster-reset-restore-path",
                   "kube-apiserver-arg", "etcd-arg", "kube-controller-manager-arg", "kube-scheduler-arg",
                   "kube-cloud-controller-manager-arg", "datastore-endpoint", "datastore-cafile",
                   "datastore-certfile", "datastore-keyfile", "etcd-expose-metrics", "etcd-disable-snapshots",
                   "etcd-snapshot-name", "etcd-snapshot-schedule-cron", "etcd-snapshot-retention",
                   "etcd-snapshot-dir", "etcd-snapshot-compress", "etcd-s3", "etcd-s3-endpoint",
                   "etcd-s3-bucket", "etcd-s3-region", "etcd-s3-folder", "etcd-s3-access-key",
                   "etcd-s3-secret-key", "default-local-storage-path", "disable", "disable-scheduler",
                   "disable-cloud-controller", "disable-kube-proxy", "disable-network-policy",
                   "disable-helm-controller", "embedded-registry", "supervisor-metrics", "secrets-encryption",
                   "secrets-encryption-provider"}
AGENT = COMMON
LOG = "/var/log/k3s-standin.log"


def fail(message):
    sys.stderr.write("level=fatal msg=%r\n" % message)
    sys.exit(1)


def parse_args(argv):
    """Flags as k3s takes them: --key value, --key=value, repeatable ones collected into lists."""
    flags, rest = {}, list(argv)
    while rest:
        arg = rest.pop(0)
        if not arg.startswith("-"):
            fail("unexpected argument %s" % arg)
        key, eq, value = arg.lstrip("-").partition("=")
        if not eq:
            value = rest.pop(0) if rest and not rest[0].startswith("-") else True
        flags.setdefault(key, []).append(value)
    return {k: v if len(v) > 1 or k in ("node-label", "node-taint", "tls-san", "disable", "kubelet-arg") else v[0]
            for k, v in flags.items()}


def load_config(path):
    import yaml
    config = {}
    files = [path] + sorted(glob.glob(path + ".d/*.yaml")) if os.path.exists(path) else []
    for name in files:
        with open(name) as f:
            data = yaml.safe_load(f) or {}
        if not isinstance(data, dict):
            fail("%s: not a mapping" % name)
        for key, value in data.items():
            append = key.endswith("+")
            key = key.rstrip("+")
            if append and isinstance(config.get(key), list):
                config[key] = config[key] + (value if isinstance(value, list) else [value])
            else:
                config[key] = value
    return config, files


def read_token(config):
    token = config.get("token")
    if not token and config.get("token-file"):
        try:
            with open(config["token-file"]) as f:
                token = f.read().strip()
        except OSError as exc:
            fail("token-file: %s" % exc)
    return token


def secure_token(token, data_dir):
    if token.startswith("K10"):
        return token
    return "K10%s::server:%s" % (hashlib.sha256(("ca-of-" + data_dir).encode()).hexdigest(), token)


def plain(token):
    return token.split("::server:", 1)[-1] if token else token


def join(server, token, role, name):
    url = server.split("://", 1)[-1].rstrip("/")
    host, dummy, port = url.rpartition(":")
    for attempt in range(30):
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=3) as conn:
                conn.sendall(("JOIN %s %s %s\n" % (role, name, plain(token))).encode())
                answer = conn.makefile().readline().strip()
            if answer != "OK":
                fail("failed to join %s: %s (wrong token?)" % (server, answer or "no answer"))
            return
        except OSError as exc:
            error = exc
            time.sleep(1)
    fail("failed to join %s: %s" % (server, error))


def backing_api():
    """(host, port, kubeconfig dict) of the real API server the test lent, or None."""
    api, path = os.environ.get("K3S_STANDIN_API"), os.environ.get("K3S_STANDIN_KUBECONFIG")
    if not api or not path:
        return None
    import yaml
    with open(path) as f:
        config = yaml.safe_load(f)
    host, dummy, port = api.rpartition(":")
    return host, int(port), config


def pipe(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for conn in (source, target):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def passthrough(conn, api):
    """Hand a TLS connection to the backing API server, byte for byte."""
    try:
        upstream = socket.create_connection(api[:2], timeout=5)
    except OSError:
        conn.close()
        return
    upstream.settimeout(None)
    threading.Thread(target=pipe, args=(conn, upstream), daemon=True).start()
    pipe(upstream, conn)


def serve(port, bind, token, members, api=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((bind, port))
    sock.listen(16)

    def handle(conn):
        if api and conn.recv(1, socket.MSG_PEEK) == b"\x16":  # a TLS client hello: a Kubernetes client
            passthrough(conn, api)
            return
        with conn:
            try:
                words = conn.makefile().readline().split()
            except OSError:
                return
            if len(words) == 4 and words[0] == "JOIN":
                ok = words[3] == plain(token)
                conn.sendall(b"OK\n" if ok else b"DENIED\n")
                if ok:
                    with open(members, "a") as f:
                        f.write("%s %s\n" % (words[1], words[2]))

    def loop():
        while True:
            conn, dummy = sock.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def notify_ready():
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(path)
        sock.sendall(b"READY=1")


def api_request(api, method, path, body):
    """One request to the backing API server with the kubeconfig's client certificate."""
    import http.client
    host, port, config = api
    cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
    context = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    with tempfile.NamedTemporaryFile("wb") as cert, tempfile.NamedTemporaryFile("wb") as key:
        cert.write(base64.b64decode(user["client-certificate-data"]))
        key.write(base64.b64decode(user["client-key-data"]))
        cert.flush()
        key.flush()
        context.load_cert_chain(cert.name, key.name)
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=10)
    conn.sock = context.wrap_socket(socket.create_connection((host, port), timeout=10),
                                    server_hostname=cluster.get("tls-server-name", host))
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    conn.request(method, path, None if body is None else json.dumps(body), {"Content-Type": content_type})
    response = conn.getresponse()
    return response.status, response.read()


def register_node(api, name, command, config):
    """Create this machine's Node (labels and taints as k3s registers them) and report its version."""
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "node.kubernetes.io/instance-type": "k3s"}
    if command == "server":
        labels["node-role.kubernetes.io/control-plane"] = "true"
    for item in config.get("node-label") or []:
        key, dummy, value = item.partition("=")
        labels[key] = value
    taints = []
    for item in config.get("node-taint") or []:
        key_value, dummy, effect = item.rpartition(":")
        key, dummy, value = key_value.partition("=")
        taints.append(dict({"key": key, "effect": effect}, **({"value": value} if value else {})))
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels, "annotations": {"kwok.x-k8s.io/node": "fake"}},
            "spec": {"taints": taints} if taints else {}}
    status, body = api_request(api, "POST", "/api/v1/nodes", node)
    if status not in (201, 409):  # 409: registered before, kept as it is (as a kubelet does)
        fail("registering node %s: HTTP %s %s" % (name, status, body[:200]))
    # kwok initialises a new Node's status (its own version where none is set) until the Node is Ready; a version
    # reported before that can be overwritten by kwok's write of the status it read earlier. Report it once kwok
    # is done, and check it held.
    deadline = time.time() + 60
    while True:
        status, body = api_request(api, "GET", "/api/v1/nodes/%s" % name, None)
        conditions = (json.loads(body).get("status") or {}).get("conditions") or [] if status == 200 else []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions) or time.time() > deadline:
            break
        time.sleep(0.5)
    for dummy in range(10):
        status, body = api_request(api, "PATCH", "/api/v1/nodes/%s/status" % name,
                                   {"status": {"nodeInfo": {"kubeletVersion": VERSION, "kubeProxyVersion": VERSION}}})
        if status != 200:
            fail("reporting the version of node %s: HTTP %s %s" % (name, status, body[:200]))
        time.sleep(0.5)
        check, current = api_request(api, "GET", "/api/v1/nodes/%s" % name, None)
        if check == 200 and ((json.loads(current).get("status") or {}).get("nodeInfo") or {}).get(
                "kubeletVersion") == VERSION:
            break
    return bool((json.loads(body).get("spec") or {}).get("unschedulable"))


def write_kubeconfig(path, mode, port, api=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if api:
        import yaml
        config = api[2]
        config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:%d" % port
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        os.chmod(path, int(str(mode), 8))
        return
    fake = "c3RhbmQtaW4="  # "stand-in"
    text = ("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: %s\n"
            "    server: https://127.0.0.1:%d\n  name: default\ncontexts:\n- context:\n    cluster: default\n"
            "    user: default\n  name: default\ncurrent-context: default\nusers:\n- name: default\n  user:\n"
            "    client-certificate-data: %s\n    client-key-data: %s\n" % (fake, port, fake, fake))
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, int(str(mode), 8))


def main(argv):
    if not argv or argv[0] in ("-v", "--version", "version"):
        print("k3s version %s (standin)\ngo version go1.24.0" % VERSION)
        return
    command, flags = argv[0], parse_args(argv[1:])
    if command not in ("server", "agent"):
        fail("the k3s stand-in only runs server and agent, not %s" % command)
    config, files = load_config(flags.get("config", "/etc/rancher/k3s/config.yaml"))
    config.update(flags)
    allowed = SERVER if command == "server" else AGENT
    unknown = sorted(set(config) - allowed)
    entry = {"time": time.time(), "version": VERSION, "argv": argv, "command": command, "config_files": files,
             "config": {k: v for k, v in config.items() if k != "token"}, "unknown": unknown}
    try:
        if unknown:
            fail("flag provided but not defined: -%s" % unknown[0])
        data_dir = config.get("data-dir", "/var/lib/rancher/k3s")
        api = backing_api()
        token = read_token(config)
        name = config.get("node-name") or socket.gethostname()
        if not token and (command == "agent" or config.get("server")):
            fail("--token is required to join a cluster")
        if command == "server":
            server_dir = os.path.join(data_dir, "server")
            os.makedirs(server_dir, exist_ok=True)
            token_path = os.path.join(server_dir, "token")
            if not token:
                token = open(token_path).read().strip() if os.path.exists(token_path) else "generated-by-standin"
            if config.get("server"):
                join(config["server"], token, "server", name)
            with open(token_path, "w") as f:
                f.write(secure_token(token, data_dir) + "\n")
            os.chmod(token_path, 0o600)
            with open(os.path.join(server_dir, "node-token"), "w") as f:
                f.write(secure_token(token, data_dir) + "\n")
            port = int(config.get("https-listen-port", 6443))
            serve(port, config.get("bind-address", "0.0.0.0"), token, os.path.join(server_dir, "standin-members"),
                  api)
            write_kubeconfig(config.get("write-kubeconfig", "/etc/rancher/k3s/k3s.yaml"),
                             config.get("write-kubeconfig-mode", "0600"), port, api)
        else:
            if not config.get("server"):
                fail("--server is required")
            join(config["server"], token, "agent", name)
        if api:
            entry["cordoned"] = register_node(api, name, command, config)
            entry["registered"] = True
        entry["started"] = True
    finally:
        with open(LOG, "a") as f:
            f.write(json.dumps(entry, default=str) + "\n")
    notify_ready()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv[1:])
