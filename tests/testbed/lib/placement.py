"""The test bed's placement webhook: which pods really run and which ones kwok simulates, decided by their images.

A mutating admission webhook on Pod creation (outside kube-system), served in the test bed's network namespace:

- every image of the pod is one the test bed built (tests/testbed/images) and the real node satisfies the pod's
  nodeSelector and tolerations: the pod is pinned to the real node (nodeSelector testbed.nebari.dev/real=true) and
  its CPU and memory requests are made small, since one two-core machine runs what a cluster would;
- the same, where the real node stands in for another node group (the inventory's testbed_stands_in_for): a pod
  whose nodeSelector asks for that group's labels runs on the real node, those labels replaced by the real node's
  (a JupyterLab server of the user node group, say, which the one real node could not run otherwise);
- an image is missing and a DaemonSet placed the pod on the real node: its containers run the pause image instead,
  without probes or mounts (the DaemonSet is complete, and nothing pretends to serve);
- an image is missing otherwise: the pod goes to a kwok node (nodeSelector type=kwok), where kwok reports it
  Running without running it.

Each mutated pod is annotated testbed.nebari.dev/placement: real | simulated, with the reason.

usage: placement.py HOST PORT CERT KEY IMAGES_INDEX REAL_NODE_JSON    (runs until stopped)
"""

from __future__ import annotations

import base64
import http.server
import json
import ssl
import sys

REAL_LABEL = "testbed.nebari.dev/real"
BASIC_RESOURCES = ("cpu", "memory", "ephemeral-storage")
ANNOTATION = "testbed.nebari.dev/placement"
SMALL_REQUESTS = {"cpu": "10m", "memory": "32Mi"}


def normalize(image):
    """An image reference as containerd names it: docker.io/library/ for bare names, :latest when untagged."""
    name = image.split("@", 1)[0]
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = "docker.io/library/" + name
    elif "." not in first and ":" not in first and first != "localhost":
        name = "docker.io/" + name
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


def escape(key):
    return key.replace("~", "~0").replace("/", "~1")


def tolerates(tolerations, taint):
    for toleration in tolerations or []:
        if toleration.get("effect") not in (None, "", taint.get("effect")):
            continue
        if toleration.get("operator") == "Exists" and toleration.get("key") in (None, "", taint["key"]):
            return True
        if toleration.get("key") == taint["key"] and toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def log(message, *args):
    sys.stdout.write("[placement] " + (message % args) + "\n")
    sys.stdout.flush()


def fits_real_node(spec, real):
    """None when the real node cannot take the pod; else the labels of the node group it takes the pod as (its own:
    an empty dict; a group it stands in for: that group's labels, which the pod's nodeSelector then loses)."""
    if fits_node(spec, real["name"], real["labels"], real["taints"]):
        return {}
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {})
    if affinity.get("requiredDuringSchedulingIgnoredDuringExecution"):
        return None  # the scheduler would match it against the real node's own labels
    for group in real.get("stands_in_for") or []:
        labels = dict(real["labels"], **group["labels"])
        if fits_node(spec, real["name"], labels, real["taints"] + group["taints"]):
            return group["labels"]
    return None


def fits_node(spec, name, labels, taints):
    if spec.get("nodeName") and spec["nodeName"] != name:
        return False
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        resources = container.get("resources") or {}
        wanted = set(resources.get("requests") or {}) | set(resources.get("limits") or {})
        if wanted - set(BASIC_RESOURCES):  # nvidia.com/gpu and the like: the real node has none
            return False
    if any(labels.get(key) != value for key, value in (spec.get("nodeSelector") or {}).items()):
        return False
    if not all(tolerates(spec.get("tolerations"), taint) for taint in taints
               if taint.get("effect") in ("NoSchedule", "NoExecute")):
        return False
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {})
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = required.get("nodeSelectorTerms") or []
    return not terms or any(term_matches(term, {"name": name, "labels": labels}) for term in terms)


def term_matches(term, real):
    for expression in term.get("matchExpressions") or []:
        value = real["labels"].get(expression["key"])
        operator, values = expression["operator"], expression.get("values") or []
        if ((operator == "In" and value not in values) or (operator == "NotIn" and value in values)
                or (operator == "Exists" and value is None) or (operator == "DoesNotExist" and value is not None)):
            return False
    for field in term.get("matchFields") or []:
        if field["key"] == "metadata.name" and (
                (field["operator"] == "In" and real["name"] not in field.get("values", []))
                or (field["operator"] == "NotIn" and real["name"] in field.get("values", []))):
            return False
    return True


def node_selector_patch(spec, key, value):
    if spec.get("nodeSelector"):
        return [{"op": "add", "path": "/spec/nodeSelector/" + escape(key), "value": value}]
    return [{"op": "add", "path": "/spec/nodeSelector", "value": {key: value}}]


def annotate(pod, value):
    if (pod.get("metadata") or {}).get("annotations"):
        return [{"op": "add", "path": "/metadata/annotations/" + escape(ANNOTATION), "value": value}]
    return [{"op": "add", "path": "/metadata/annotations", "value": {ANNOTATION: value}}]


def decide(pod, images, real, pause):
    """The JSON patch for a pod (a list of operations, empty when the pod is left alone)."""
    spec = pod.get("spec") or {}
    containers = [("containers", i, c) for i, c in enumerate(spec.get("containers") or [])]
    containers += [("initContainers", i, c) for i, c in enumerate(spec.get("initContainers") or [])]
    missing = sorted({c.get("image", "") for dummy, dummy, c in containers if normalize(c.get("image", "")) not in images})
    played = fits_real_node(spec, real)
    fits = played is not None
    owners = [o.get("kind") for o in (pod.get("metadata") or {}).get("ownerReferences") or []]
    if not missing and fits:
        patch = node_selector_patch(spec, REAL_LABEL, "true")
        # the group's labels the real node does not carry leave the selector (the affinity is left as it is)
        patch += [{"op": "remove", "path": "/spec/nodeSelector/" + escape(key)} for key in played
                  if key in (spec.get("nodeSelector") or {}) and real["labels"].get(key) != played[key]]
        patch += annotate(pod, "real: %s stands in for %s" % (real["name"], ",".join(
            "%s=%s" % item for item in sorted(played.items()))) if played else "real")
        for field, index, container in containers:
            requests = dict((container.get("resources") or {}).get("requests") or {})
            limits = (container.get("resources") or {}).get("limits") or {}
            for resource, small in SMALL_REQUESTS.items():
                if resource in requests or resource in limits:
                    requests[resource] = small
            if requests:
                base = "/spec/%s/%d/resources" % (field, index)
                if container.get("resources"):
                    patch.append({"op": "add", "path": base + "/requests", "value": requests})
                else:
                    patch.append({"op": "add", "path": base, "value": {"requests": requests}})
        return patch
    if missing and "DaemonSet" in owners and fits:
        patch = annotate(pod, "simulated: no image %s; the pause image stands in" % ", ".join(missing))
        if spec.get("initContainers"):
            patch.append({"op": "remove", "path": "/spec/initContainers"})
        for dummy, index, container in [c for c in containers if c[0] == "containers"]:
            base = "/spec/containers/%d" % index
            patch.append({"op": "replace", "path": base + "/image", "value": pause})
            patch.append({"op": "add", "path": base + "/command", "value": ["/pause"]})
            # (nor its mounts: a host path mounted with propagation needs a shared root, which the node has not)
            for field in ("args", "livenessProbe", "readinessProbe", "startupProbe", "volumeMounts"):
                if field in container:
                    patch.append({"op": "remove", "path": "%s/%s" % (base, field)})
        return patch
    if missing:
        return node_selector_patch(spec, "type", "kwok") + annotate(
            pod, "simulated: no image %s" % ", ".join(missing))
    return []


class Handler(http.server.BaseHTTPRequestHandler):
    images, real, pause = set(), {}, ""

    def do_POST(self):  # noqa: N802 (http.server's name)
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        request = review["request"]
        try:
            patch = decide(request["object"], self.images, self.real, self.pause)
        except Exception as exc:  # pylint: disable=broad-except  # never block a pod: leave it as it is
            log("pod %s/%s left alone: %r", request.get("namespace"), request.get("name"), exc)
            patch = []
        response = {"uid": request["uid"], "allowed": True}
        if patch:
            response.update(patchType="JSONPatch", patch=base64.b64encode(json.dumps(patch).encode()).decode())
            meta = request["object"].get("metadata") or {}
            log("%s/%s: %s", request.get("namespace"), meta.get("name") or meta.get("generateName"),
                next(op["value"] for op in patch if "annotations" in op["path"]))
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                           "response": response}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin  # quiet: one line per decision
        pass


def main(argv):
    if len(argv) != 6:
        sys.exit(__doc__)
    host, port, cert, key, index, real_file = argv
    with open(index) as f:
        Handler.images = {normalize(line.split()[1]) for line in f if line.strip()}
    with open(real_file) as f:
        Handler.real = json.load(f)
    Handler.pause = next(image for image in Handler.images if "/pause:" in image)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    log("serving on %s:%s; images: %s", host, port, ", ".join(sorted(Handler.images)))
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
